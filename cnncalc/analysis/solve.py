"""The inverse question: which kernel, stride, padding and dilation turn N into a wanted size.

A search over small bounds for F, S and D; for each, the paddings are solved from the
inequalities behind :func:`cnncalc.core.formulas.conv_output` (a test checks them against
that formula), so a kernel or stride of any size is answered at once. Exact solutions
come first; floored ones (the course formula is not an integer, so the last
positions of the padded input are never reached) follow, with their remainder.

The padding is at most ``D*(F-1)``, the "full" padding: one more and the first window's
last tap lands in the padding too, so that window (and the last) sees only zeros and its
output is the bias alone. PyTorch's ``conv2d`` accepts any padding (only pooling limits it,
to half the kernel), so the bound is this module's, for answers worth having: with D = 1
it is P <= F - 1; a dilated kernel may pad more (DeepLab's 3x3 at dilation 6 pads 6).

A larger output is what a transposed convolution gives (:func:`transposed`), or
upsampling by a whole factor (:func:`upsampling`); ``solve`` lists those too when
``out > n``. Their padding obeys the same bound: a transposed convolution with padding P
is a convolution padded ``D*(F-1) - P`` [DV16, rel. 13-14], which must not be negative.
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
BOUNDS = f"F <= {MAX_F}, S <= {MAX_S}, D <= {MAX_D}, P <= D*(F-1)"
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
    """Every padding P (at most K - 1 = D*(F-1), or the fixed one within it) that maps ``n``
    to ``out``, solved rather than searched, so a kernel or stride of 10**18 costs nothing:
    ``floor((N + 2P - K)/S) + 1 = out`` holds exactly when
    ``(out - 1)*S <= N + 2P - K <= out*S - 1``, K = D*(F-1) + 1.

    >>> _paddings(224, 112, 3, 2, 1, None), _paddings(32, 32, 5, 1, 1, None)
    (range(1, 2), range(2, 3))
    >>> _paddings(28, 14, 11, 1, 1, None)      # P = 11 would give 14, with windows of zeros
    range(0, 0)
    """
    k = fm.effective_kernel(f, d)
    low, high = (0, k - 1) if fixed is None else (fixed, min(fixed, k - 1))
    low = max(low, -(-((out - 1) * s - n + k) // 2))
    high = min(high, (out * s - 1 - n + k) // 2)
    return range(low, max(high + 1, low))


def _candidates(fixed: int | None, low: int, high: int) -> range:
    return range(fixed, fixed + 1) if fixed is not None else range(low, high + 1)


class Transposed(NamedTuple):
    """A transposed convolution that takes N to the wanted size."""

    f: int
    s: int
    p: int
    d: int
    output_padding: int
    """Added to one side of the output, below max(S, D) [PT ConvTranspose2d]."""


def transposed(
    n: int,
    out: int,
    f: int | None = None,
    s: int | None = None,
    p: int | None = None,
    d: int | None = None,
) -> list[Transposed]:
    """Every transposed convolution within the bounds, the fixed values held, with padding
    at most ``D*(F-1)`` and output padding below ``max(S, D)``, that maps ``n`` to ``out``:
    ``(N-1)*S - 2P + D*(F-1) + a + 1 = out`` [DV16, rel. 14]. Without output padding first.

    >>> transposed(10, 20, f=4, s=2, d=1)      # the usual 2x: kernel 4, stride 2, pad 1
    [Transposed(f=4, s=2, p=1, d=1, output_padding=0)]
    >>> transposed(3, 6, f=3, s=2, d=1)        # undoes a 6 -> 3 conv (k=3, s=2, p=1)
    [Transposed(f=3, s=2, p=1, d=1, output_padding=1)]
    """
    found: list[Transposed] = []
    for fk in _candidates(f, 1, MAX_F):
        for dk in _candidates(d, 1, MAX_D):
            span = dk * (fk - 1)
            for sk in _candidates(s, 1, MAX_S):
                paddings = _output_paddings(n, out, fk, sk, dk, p)
                if len(found) + len(paddings) > MAX_SOLUTIONS:
                    raise UsageError(
                        f"more than {MAX_SOLUTIONS:,} transposed convolutions take {n} to "
                        f"{out}; fix more of them (--f, --stride, --pad, --dilation)"
                    )
                grown = (n - 1) * sk + span + 1
                found += [Transposed(fk, sk, (grown + a - out) // 2, dk, a) for a in paddings]
    return sorted(found, key=lambda q: (q.output_padding > 0, q.d, q.f, q.s, q.p))


def _output_paddings(n: int, out: int, f: int, s: int, d: int, fixed: int | None) -> range:
    """Every output padding ``a`` (below max(S, D)) whose padding ``P = (grown + a - out)/2``
    is whole and within ``0..D*(F-1)`` (or the fixed one), ``grown = (N-1)*S + D*(F-1) + 1``
    the size before either padding: solved, so huge strides cost nothing.

    >>> _output_paddings(3, 6, 3, 2, 1, None)
    range(1, 2, 2)
    """
    span = d * (f - 1)
    grown = (n - 1) * s + span + 1
    low, high = out - grown, out - grown + 2 * span  # a for P = 0 and for P = span
    if fixed is not None:
        low = high = out - grown + 2 * fixed if 0 <= fixed <= span else -1
    low = max(low, 0)
    low += (grown + low - out) % 2  # 2P is even
    return range(low, min(high, max(s, d) - 1) + 1, 2)


def upsampling(n: int, out: int) -> int | None:
    """The whole factor that nearest or bed-of-nails upsampling takes ``n`` to ``out`` by,
    or None: ``N * factor`` [PT Upsample; cnncalc unpool].

    >>> upsampling(7, 14), upsampling(10, 25)
    (2, None)
    """
    return out // n if out > n and out % n == 0 else None
