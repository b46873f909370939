"""Receptive fields, exactly: which input pixels each unit of a value depends on.

Per spatial dimension, unit ``j`` of a value depends on a set of the network input's pixels;
its receptive field is the width of that set (last - first + 1), as the nonzero gradient of one
unit measures it, on an input large enough that no border clips it. The value's receptive
field is the widest over its units, and its stride (jump) the input pixels its units advance
per unit, exactly: a whole number, or a fraction after upsampling.

Layers map output positions to input positions periodically (:class:`cnncalc.kinds.RFStep`:
``up`` outputs advance ``down`` inputs), so their composition is periodic too, and one
period of it says everything. A :class:`Footprint` is that period: the first and last input
pixel of each of its units. Composing a layer goes over the new period once; for a
convolution or a pool after a period of 1 this is Araujo et al.'s ``r += (f-1)*j``,
``j *= s`` [ADS19, eq. 1-2]. After ``upsample 2`` a ``conv f2`` reads 2 copies of 1 pixel
(nearest) or 2 pixels' mixes (bilinear), so its receptive field is 2 pixels, not 1.5.

No loop runs over a number a user typed: a period (and the work of going over it) longer than
:data:`MAX_PERIOD` is replaced by an honest bound (:class:`Footprint` with ``period`` 0), whose
receptive field is at least the true one, and the trace says so.

The first pixel of unit 0 (``lo[0]``, the negated effective padding) and the centre of the
units are kept, for the alignment checks of google-research/receptive_field.
"""

from __future__ import annotations

from math import floor, gcd
from typing import TYPE_CHECKING, NamedTuple, Union, cast

from cnncalc.kinds import RFStep

if TYPE_CHECKING:  # imported when first needed: a trace without upsampling never needs it
    from fractions import Fraction

Number = Union[int, "Fraction"]  # noqa: UP007  # Fraction is not imported at run time
"""A receptive-field stride: whole, or a Fraction after upsampling."""

MAX_PERIOD = 4096
"""The longest period gone over exactly (units, and taps times units for a step's window)."""


class Footprint(NamedTuple):
    """What the units of one dimension of a value depend on in the network's input.

    Unit ``j = q*period + r`` depends on input pixels ``lo[r] + q*shift`` to ``hi[r] +
    q*shift`` (None: on none of them, as between a bed of nails' values). With ``period`` 0 it
    is a bound: every unit ``j`` depends on pixels within ``j*jump + low`` to ``j*jump +
    high`` only."""

    period: int
    shift: int
    lo: tuple[int | None, ...]
    hi: tuple[int | None, ...]
    rf: int
    jump: Number
    low: Fraction | None = None
    high: Fraction | None = None

    @property
    def exact(self) -> bool:
        return self.period > 0

    def first(self, k: int) -> int | None:
        q, r = divmod(k, self.period)
        lo = self.lo[r]
        return None if lo is None else lo + q * self.shift

    def last(self, k: int) -> int | None:
        q, r = divmod(k, self.period)
        hi = self.hi[r]
        return None if hi is None else hi + q * self.shift

    def band(self) -> tuple[Fraction, Fraction]:
        """Offsets ``low, high`` with ``j*jump + low <= first(j)`` and ``last(j) <= j*jump +
        high`` for every unit."""
        if self.low is not None and self.high is not None:
            return self.low, self.high
        from fractions import Fraction

        jump = Fraction(self.jump)
        lows = [lo - r * jump for r, lo in enumerate(self.lo) if lo is not None]
        highs = [hi - r * jump for r, hi in enumerate(self.hi) if hi is not None]
        return (min(lows), max(highs)) if lows else (Fraction(0), Fraction(0))


PIXEL = Footprint(1, 1, (0,), (0,), 1, 1)
"""A dimension of the network's input: each unit is one pixel."""


_new = tuple.__new__
"""Builds a named tuple from all its fields at once, without its generated ``__new__``."""


def _made(period: int, shift: int, lo: list[int | None], hi: list[int | None]) -> Footprint:
    """A footprint from one period, at its shortest period (upsampling by 2 then a stride of
    2 is periodic with period 1 again)."""
    for p in range(1, period):
        if period % p or (shift * p) % period:
            continue
        moved = shift * p // period
        if all(
            _plus(lo[r + p], 0) == _plus(lo[r], moved)
            and _plus(hi[r + p], 0) == _plus(hi[r], moved)
            for r in range(period - p)
        ):
            period, shift, lo, hi = p, moved, lo[:p], hi[:p]
            break
    widths = [h - lo_ + 1 for lo_, h in zip(lo, hi) if lo_ is not None and h is not None]
    g = gcd(shift, period)
    if g == period:
        jump: Number = shift // period
    else:
        from fractions import Fraction

        jump = Fraction(shift, period)
    return Footprint(period, shift, tuple(lo), tuple(hi), max(widths, default=1), jump)


def _plus(x: int | None, n: int) -> int | None:
    return None if x is None else x + n


def compose(x: Footprint, step: RFStep, exact: bool = True) -> Footprint:
    """The footprint of a layer's output whose input has footprint ``x``; a bound unless
    ``exact`` (the trace has gone over enough periods already)."""
    f, down, _, pad, dilation, kind = step
    if kind == "window" and x.period == 1:
        (first,), (last,) = x.lo, x.hi
        if first is not None and last is not None:
            # Araujo et al.'s recurrence, with the first pixel kept [ADS19, eq. 1-2]
            shift = x.shift
            moved = shift * down
            first -= pad * shift
            last += (dilation * (f - 1) - pad) * shift
            return _new(
                Footprint, (1, moved, (first,), (last,), last - first + 1, moved, None, None)
            )
    if not x.exact or not exact:
        return _bound(x, step)
    if kind == "window" and _monotone(x):
        return _window(x, step)
    # the new period: ``up`` outputs per ``down`` inputs, times what brings those to x's period
    times = x.period // gcd(step.down, x.period)
    period, shift = step.up * times, x.shift * step.down * times // x.period
    # each unit's inputs, every ``every``-th: their residues mod x's period repeat after at
    # most x.period taps, so the first and last that depend on anything are that near
    if period > MAX_PERIOD or period * min(x.period, _taps(step)) > MAX_PERIOD * 16:
        return _bound(x, step)
    lo: list[int | None] = []
    hi: list[int | None] = []
    for j in range(period):
        span = step.span(j)
        if span is None:
            lo.append(None)
            hi.append(None)
            continue
        a, b, every = span
        reach = min((b - a) // every + 1, x.period // gcd(x.period, every))
        firsts = [x.first(a + every * t) for t in range(reach)]
        lasts = [x.last(b - every * t) for t in range(reach)]
        lo.append(min((v for v in firsts if v is not None), default=None))
        hi.append(max((v for v in lasts if v is not None), default=None))
    return _made(period, shift, lo, hi)


def _monotone(x: Footprint) -> bool:
    """Whether every unit depends on some pixel and the first and last pixels never go back
    from a unit to the next (then a window's first and last taps bound what it sees)."""
    lo, hi, shift = x.lo, x.hi, x.shift
    if None in lo or None in hi:
        return False
    return (
        all(a <= b for a, b in zip(lo, lo[1:]))  # type: ignore[operator]
        and all(a <= b for a, b in zip(hi, hi[1:]))  # type: ignore[operator]
        and lo[-1] <= lo[0] + shift  # type: ignore[operator]
        and hi[-1] <= hi[0] + shift  # type: ignore[operator]
    )


def _window(x: Footprint, step: RFStep) -> Footprint:
    """A window over a monotone footprint: its first tap's first pixel to its last tap's last."""
    f, down, _, pad, dilation, _ = step
    p, s = x.period, x.shift
    times = p // gcd(down, p)
    if times > MAX_PERIOD:
        return _bound(x, step)
    lo = cast("tuple[int, ...]", x.lo)
    hi = cast("tuple[int, ...]", x.hi)
    starts = range(-pad, -pad + down * times, down)
    reach = dilation * (f - 1)
    first = [lo[k % p] + k // p * s for k in starts]
    last = [hi[(k + reach) % p] + (k + reach) // p * s for k in starts]
    return _made(times, s * down * times // p, first, last)  # type: ignore[arg-type]


def _taps(step: RFStep) -> int:
    """The most input positions one output of ``step`` reads."""
    if step.map in ("window", "transposed"):
        return step.f
    return step.down // step.up + 2 if step.map == "area" else 4


def _bound(x: Footprint, step: RFStep) -> Footprint:
    """An honest bound when the exact period is too long to go over: unit ``j`` of the step
    reads inputs within ``j*r + a`` to ``j*r + b`` (``r = down/up``), whose units depend on
    pixels within ``k*jump + low`` to ``k*jump + high``."""
    low, high = x.band()
    a, b = step.bounds()
    from fractions import Fraction

    jump = Fraction(x.jump) * step.down / step.up
    low, high = low + a * Fraction(x.jump), high + b * Fraction(x.jump)
    whole: Number = jump.numerator if jump.denominator == 1 else jump
    return Footprint(0, 0, (), (), floor(high - low) + 1, whole, low, high)


def union(fps: list[Footprint]) -> Footprint:
    """The footprint of a merge of values of one size and stride: each unit depends on what
    the units at its position in every input depend on."""
    first = fps[0]
    if len(fps) == 1:
        return first
    if all(fp.period == 1 for fp in fps):  # the usual merge: each input's one span
        los = [fp.lo[0] for fp in fps if fp.lo[0] is not None]
        his = [fp.hi[0] for fp in fps if fp.hi[0] is not None]
        if los and his:
            start, end = min(los), max(his)
            return Footprint(1, first.shift, (start,), (end,), end - start + 1, first.jump)
    period = first.period
    for fp in fps[1:]:
        period = period * fp.period // gcd(period, fp.period) if period and fp.period else 0
    if not period or period > MAX_PERIOD:
        bands = [fp.band() for fp in fps]
        low, high = min(b[0] for b in bands), max(b[1] for b in bands)
        return Footprint(0, 0, (), (), floor(high - low) + 1, first.jump, low, high)
    shift = first.shift * period // first.period
    lo: list[int | None] = []
    hi: list[int | None] = []
    for j in range(period):
        firsts = [v for v in (fp.first(j) for fp in fps) if v is not None]
        lasts = [v for v in (fp.last(j) for fp in fps) if v is not None]
        lo.append(min(firsts, default=None))
        hi.append(max(lasts, default=None))
    return _made(period, shift, lo, hi)


def widened(fp: Footprint, rf: int) -> Footprint:
    """``fp`` with a receptive field of at least ``rf``: a merge with a value of another size
    (a broadcast 1x1 gate, a concatenation along a spatial axis) depends on that value's
    receptive field too, wherever it lies."""
    more = rf - fp.rf
    if more <= 0:
        return fp
    if not fp.exact:
        low, high = fp.band()
        return fp._replace(rf=rf, high=high + more)
    hi = tuple(None if h is None else h + more for h in fp.hi)
    return fp._replace(hi=hi, rf=fp.rf + more)
