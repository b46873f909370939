"""The inverse question: which kernel, stride, padding and dilation turn N into a wanted size.

A search over small bounds with :func:`cnncalc.formulas.conv_output`, so every
answer is checked by the same formula the calculator uses. Exact solutions
come first; floored ones (the course formula is not an integer, so the last
positions of the padded input are never reached) follow, with their remainder.
"""

from __future__ import annotations

from typing import NamedTuple

from . import formulas as fm
from .errors import GeometryError

MAX_F = 11
MAX_S = 4
MAX_D = 3
BOUNDS = f"F <= {MAX_F}, S <= {MAX_S}, D <= {MAX_D}, P <= F"
"""The search bounds of the free values, as the help text states them."""


class Solution(NamedTuple):
    f: int
    s: int
    p: int
    d: int
    remainder: int
    """Positions of the padded input left over after the last window (0: exact)."""


def solve(
    n: int,
    out: int,
    f: int | None = None,
    s: int | None = None,
    p: int | None = None,
    d: int | None = None,
) -> list[Solution]:
    """Every (F, S, P, D) within the bounds, the fixed ones held, that maps ``n`` to ``out``.

    >>> solve(32, 32, f=5, d=1)
    [Solution(f=5, s=1, p=2, d=1, remainder=0)]
    >>> solve(224, 112, f=3, d=1)              # ResNet's stem: the 224th row is never reached
    [Solution(f=3, s=2, p=1, d=1, remainder=1)]
    """
    found = []
    for fk in _candidates(f, 1, MAX_F):
        for dk in _candidates(d, 1, MAX_D):
            for sk in _candidates(s, 1, MAX_S):
                for pk in _candidates(p, 0, fk):
                    pad = (pk, pk)
                    try:
                        reached = fm.conv_output(n, fk, sk, pad, dk)
                    except GeometryError:
                        continue
                    if reached == out:
                        found.append(Solution(fk, sk, pk, dk, fm.uncovered(n, fk, sk, pad, dk)))
    return sorted(found, key=lambda q: (q.remainder > 0, q.d, q.f, q.s, q.p))


def _candidates(fixed: int | None, low: int, high: int) -> range:
    return range(fixed, fixed + 1) if fixed is not None else range(low, high + 1)
