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


SEPARATORS = {",": "commas", "_": "underscores"}
"""What may group a count's digits in thousands: cnncalc prints counts with commas
(``25,557,032``), and Python and YAML write them with underscores."""


def parse_count(text: str, what: str) -> int:
    """A count as cnncalc prints it: plain digits, or digits grouped in thousands by commas or
    underscores (one of them throughout), checked before Python converts them.

    >>> parse_count("25,557,032", "params"), parse_count("25_557_032", "params")
    (25557032, 25557032)
    >>> parse_count("25,55,7032", "params")
    Traceback (most recent call last):
    ...
    cnncalc.core.errors.UsageError: params: '25,55,7032' is grouped wrongly: after the first group \
of 1 to 3 digits, each group has 3 (25,557,032)
    """
    used = [sep for sep in SEPARATORS if sep in text]
    if not used:
        return parse_whole(text, what)
    prefix = f"{what}: " if what else ""
    if len(used) > 1:
        raise UsageError(
            f"{prefix}{text!r} mixes {' and '.join(SEPARATORS[s] for s in used)}; "
            "group the digits with one of them"
        )
    groups = text.strip().split(used[0])
    if not all(group.isascii() and group.isdigit() for group in groups):
        raise UsageError(f"{prefix}{text!r} is not a whole number")
    first, rest = groups[0], groups[1:]
    if not 1 <= len(first) <= 3 or first.startswith("0") or any(len(g) != 3 for g in rest):
        digits = "".join(groups).lstrip("0") or "0"
        regrouped = f" ({int(digits):,})".replace(",", used[0]) if len(digits) <= 19 else ""
        raise UsageError(
            f"{prefix}{text!r} is grouped wrongly: after the first group of 1 to 3 digits, "
            f"each group has 3{regrouped}"
        )
    return parse_whole("".join(groups), what)
