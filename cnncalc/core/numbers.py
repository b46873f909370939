"""Bounds on the numbers a user may write: every size, count and expression value is checked
here before Python turns it into an integer, so nothing huge is ever built or printed."""

from __future__ import annotations

from typing import Any

from .errors import UsageError

MAX_NUMBER = 10**18
"""The largest number a user may write anywhere (sizes, counts, expectations, expression
values): far above any real network, and small enough that every product and every message
stays cheap. Python refuses to print integers of over 4,300 digits."""


def bounded(value: int, what: str) -> int:
    """``value`` if its magnitude is at most MAX_NUMBER; else a UsageError that names ``what``.

    >>> bounded(224, "input")
    224
    >>> bounded(10**400, "input")
    Traceback (most recent call last):
    ...
    cnncalc.core.errors.UsageError: input: a number of 401 digits is too large (at most 10**18)
    """
    if -MAX_NUMBER <= value <= MAX_NUMBER:
        return value
    return _too_large(len(str(abs(value))) if value.bit_length() < 4000 else None, what)


def _too_large(digits: int | None, what: str) -> Any:
    count = f"{digits:,}" if digits is not None else "over 1,200"
    prefix = f"{what}: " if what else ""
    raise UsageError(f"{prefix}a number of {count} digits is too large (at most 10**18)")


def parse_whole(text: str, what: str) -> int:
    """A whole number written in ``text``, bounded before Python converts it; leading zeros,
    however many, are no digits (Python refuses to convert over 4,300 digits).

    >>> parse_whole("-" + "0" * 5000 + "42", "stride")
    -42
    """
    written = text.strip()
    sign = "-" if written.startswith("-") else ""
    unsigned = written[1:] if written[:1] in ("+", "-") else written
    digits = unsigned.lstrip("0")
    if (digits.isascii() and digits.isdigit()) or (unsigned and not digits):
        if len(digits) > 19:
            _too_large(len(digits), what)
        return bounded(int(sign + (digits or "0")), what)
    return bounded(int(text), what)
