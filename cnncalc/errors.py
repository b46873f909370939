"""Domain errors: bad geometry or bad input, as opposed to bugs."""

from __future__ import annotations


class CnnCalcError(Exception):
    """Base of every error cnncalc reports to a user as one clean line."""


class GeometryError(CnnCalcError, ValueError):
    """The numbers are well formed but describe an impossible layer (exit status 1)."""


class UsageError(CnnCalcError, ValueError):
    """A value is malformed or out of its allowed range (exit status 2)."""
