"""Domain errors: bad geometry or bad input, as opposed to bugs."""

from __future__ import annotations

from typing import Any


class CnnCalcError(Exception):
    """Base of every error cnncalc reports to a user as one clean line."""


class GeometryError(CnnCalcError, ValueError):
    """The numbers are well formed but describe an impossible layer (exit status 1)."""


class UsageError(CnnCalcError, ValueError):
    """A value is malformed or out of its allowed range (exit status 2)."""


class ParameterError(UsageError):
    """A parameter value a layer kind refuses, with the parameter's name (to locate it)."""

    def __init__(self, message: str, name: str):
        super().__init__(message)
        self.name = name


class SpecError(CnnCalcError):
    """Everything wrong with one spec, found in one pass: each problem with its position."""

    def __init__(self, problems: list[Any], source: str = "<spec>", text: str = ""):
        self.problems = problems
        self.source = source
        self.text = text
        super().__init__("; ".join(p.message for p in problems))


class TraceError(SpecError):
    """A network that reads but does not trace (a shape that does not fit, a bare ``conv``):
    its problems, each with its position, and ``report``, what tracing it gave up to the
    failure: the data ``trace`` returns for a network that traces (``report["layers"]``, the
    rows so far with the failing one marked by its ``error``; ``report["totals"]``, their sums;
    ``report["errors"]``, these problems), as ``cnncalc trace --format json`` prints it."""

    def __init__(self, problems: list[Any], source: str, text: str, report: dict[str, Any]) -> None:
        super().__init__(problems, source, text)
        self.report = report
