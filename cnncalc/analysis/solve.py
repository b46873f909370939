"""The inverse question: which kernel, stride, padding and dilation turn N into a wanted size.

A search over small bounds for F, S and D; for each, the paddings are solved from the
inequalities behind :func:`cnncalc.core.formulas.conv_output` (a test checks them against
that formula), so a kernel or stride of any size is answered at once. Exact solutions
come first; floored ones (the course formula is not an integer, so the last
positions of the padded input are never reached) follow, with their remainder.
"""

from __future__ import annotations

from typing import NamedTuple

from cnncalc.core import formulas as fm
from cnncalc.core.errors import UsageError

MAX_F = 11
MAX_S = 4
MAX_D = 3
MAX_SOLUTIONS = 1000
"""More answers than this are refused: the question needs more of its values fixed."""
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
    found: list[Solution] = []
    for fk in _candidates(f, 1, MAX_F):
        for dk in _candidates(d, 1, MAX_D):
            for sk in _candidates(s, 1, MAX_S):
                paddings = _paddings(n, out, fk, sk, dk, p)
                if len(found) + len(paddings) > MAX_SOLUTIONS:
                    raise UsageError(
                        f"more than {MAX_SOLUTIONS:,} settings take {n} to {out}; "
                        f"fix more of them (--f, --stride, --pad, --dilation)"
                    )
                for pk in paddings:
                    pad = (pk, pk)
                    found.append(Solution(fk, sk, pk, dk, fm.uncovered(n, fk, sk, pad, dk)))
    return sorted(found, key=lambda q: (q.remainder > 0, q.d, q.f, q.s, q.p))


def _paddings(n: int, out: int, f: int, s: int, d: int, fixed: int | None) -> range:
    """Every padding P (at most F, or the fixed one) that maps ``n`` to ``out``, solved rather
    than searched, so a kernel or stride of 10**18 costs nothing: ``floor((N + 2P - K)/S) + 1
    = out`` holds exactly when ``(out - 1)*S <= N + 2P - K <= out*S - 1``, K = D*(F-1) + 1.

    >>> _paddings(224, 112, 3, 2, 1, None), _paddings(32, 32, 5, 1, 1, None)
    (range(1, 2), range(2, 3))
    """
    k = fm.effective_kernel(f, d)
    low, high = (0, f) if fixed is None else (fixed, fixed)
    low = max(low, -(-((out - 1) * s - n + k) // 2))
    high = min(high, (out * s - 1 - n + k) // 2)
    return range(low, max(high + 1, low))


def _candidates(fixed: int | None, low: int, high: int) -> range:
    return range(fixed, fixed + 1) if fixed is not None else range(low, high + 1)
