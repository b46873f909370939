"""Kinds that slide a window over the spatial dimensions, or undo one: convolution,
transposed convolution, pooling (windowed, global, adaptive), unpooling and upsampling."""

from __future__ import annotations

from collections.abc import Callable
from math import gcd, prod

from cnncalc.core import formulas as fm
from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.shapes import PAD_MODES, Dims, PadSpec, Shape, dimension_names, resolve_padding

from .base import (
    Layer,
    Line,
    Made,
    Outcome,
    RFMap,
    RFStep,
    Worked,
    one_of,
    register,
    resize_step,
    unbound,
    weights_worked,
)

PAD_WORDS = {mode: ("pad", mode) for mode in PAD_MODES}
"""The padding modes as bare words: ``conv 64 f3 same``."""


def _leftover_warnings(
    op: str,
    ns: tuple[int, ...],
    fs: tuple[int, ...],
    ss: tuple[int, ...],
    pads: tuple[fm.Pad, ...],
    ds: tuple[int, ...],
) -> tuple[str, ...]:
    """One warning per distinct case where input rows or columns are never reached by a
    window (a remainder that leaves out only padding loses nothing, so is not one);
    dimensions with the same numbers (a square input) share one warning."""
    cases: dict[tuple[int, int, int, fm.Pad, int], list[str]] = {}
    for name, n, f, s, pad, d in zip(dimension_names(len(ns)), ns, fs, ss, pads, ds):
        if fm.unreached(n, f, s, pad, d):
            cases.setdefault((n, f, s, pad, d), []).append(name)
    warnings = []
    for (n, f, s, pad, d), names in cases.items():
        extent = fm.effective_kernel(f, d)
        span = n + pad[0] + pad[1] - extent
        missed = fm.unreached(n, f, s, pad, d)
        if missed > 1:
            where = f"{' and '.join(names)} {n - missed + 1}-{n}"
        else:
            where = f"{' and '.join(name[:-1] for name in names)} {n}"
        warnings.append(
            f"{op}: {' and '.join(names)}: ({n} + {pad[0] + pad[1]} - {extent})/{s} + 1 = "
            f"{_div(span + s, s)} is not an integer; floored to {span // s + 1}, "
            f"input {where} (of {n}) never covered by a window"
        )
    return tuple(warnings)


def window_formula(
    n: int, f: int, s: int, pad: fm.Pad, d: int, out: int, ceil: bool = False
) -> str:
    """``(N - F + 2P)/S + 1`` with the numbers put in; the rounding shown when S does not divide.

    >>> window_formula(32, 5, 1, (2, 2), 1, 32)
    '(32 - 5 + 2*2)/1 + 1 = 32'
    >>> window_formula(224, 3, 2, (0, 1), 1, 112)
    '(224 - 3 + 0+1)/2 + 1 = 112'
    >>> window_formula(7, 2, 2, (0, 0), 1, 3)
    'floor((7 - 2 + 2*0)/2) + 1 = floor(5/2) + 1 = 3'
    """
    before, after = pad
    extent = fm.effective_kernel(f, d)
    added = f"2*{before}" if before == after else f"{before}+{after}"
    fraction = f"({n} - {extent} + {added})/{s}"
    span = n + before + after - extent
    if span % s == 0:
        return f"{fraction} + 1 = {out}"
    rounding = "ceil" if ceil else "floor"
    rounded = (-(-span // s) if ceil else span // s) + 1
    text = f"{rounding}({fraction}) + 1 = {rounding}({span}/{s}) + 1 = {rounded}"
    if not ceil and not fm.unreached(n, f, s, pad, d):
        text += " (only padding is left out)"
    if rounded != out:
        text += f"; the last window would start in the padding, so it is dropped: {out}"
    return text


def _windowed(
    x: Shape, outcome: Outcome, windows: tuple[tuple[int, ...], ...], ceil: bool = False
) -> tuple[Line, ...]:
    """The output size of each dimension, after the dilated kernel when any is dilated."""
    fs, ss, ds = windows
    sizes = zip(x.spatial, fs, ss, outcome.padding, ds, outcome.shape.spatial)
    output = Line(
        "output",
        tuple(window_formula(n, f, s, p, d, out, ceil) for n, f, s, p, d, out in sizes),
    )
    if all(d == 1 for d in ds):
        return (output,)
    extents = tuple(f"{d}*({f} - 1) + 1 = {fm.effective_kernel(f, d)}" for f, d in zip(fs, ds))
    return Line("dilated kernel", extents), output


def _per_group(channels: int | None, groups: int) -> str:
    """The channels one filter sees: ``C``, or ``(C/G)`` when grouped."""
    return f"({channels}/{groups})" if groups > 1 else str(channels)


def _check_groups(groups: int, cin: int | None, cout: int | None) -> None:
    """Groups (at least 1, checked when the layer was made) that divide both channel counts."""
    for what, c in (("input channels", cin), ("filters", cout)):
        if c is not None and c % groups:
            raise GeometryError(f"groups {groups} does not divide the {c} {what}")


@register("conv2d", "convolution")
class Conv(Layer):
    spatial = True
    kind = "conv"
    cost = "weights"
    primary = "filters"
    words = {**PAD_WORDS, "nobias": ("bias", False)}
    conventions = {"tensorflow": {"pad": "same"}}
    summary = "convolution: filters (K), f, stride, pad, dilation, groups, bias"
    filters: int | None = None
    f: Dims = 3
    stride: Dims = 1
    pad: PadSpec = 0
    dilation: Dims = 1
    groups: int = 1
    bias: bool = True

    def windows(self, x: Shape) -> tuple[tuple[int, ...], ...]:
        """Kernel, stride, dilation per dimension, validated."""
        nd = len(x.spatial)
        return self.dims("f", nd), self.dims("stride", nd), self.dims("dilation", nd)

    def apply(self, x: Shape) -> Outcome:
        fs, ss, ds = self.windows(x)
        pads = resolve_padding(self.pad, x.spatial, fs, ss, ds)
        out = tuple(
            fm.conv_output(n, f, s, p, d) for n, f, s, p, d in zip(x.spatial, fs, ss, pads, ds)
        )
        cin, cout = x.channels, self.filters
        _check_groups(self.groups, cin, cout)
        params = macs = None
        if cin is not None and cout is not None:
            weights = cout * (cin // self.groups) * prod(fs)
            params = weights + (cout if self.bias else 0)
            macs = prod(out) * weights
        return Outcome(
            Shape(out, cout),
            params,
            macs=macs,
            padding=pads,
            rf=tuple(RFStep(f, s, 1, p[0], d) for f, s, p, d in zip(fs, ss, pads, ds)),
            warnings=_leftover_warnings(self.kind, x.spatial, fs, ss, pads, ds),
        )

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        windows = self.windows(x)
        factors = [str(self.filters), _per_group(x.channels, self.groups), *map(str, windows[0])]
        counts = weights_worked(outcome, factors, self.bias, outcome.shape.spatial, "output")
        return Worked(_windowed(x, outcome, windows), *counts, windows=windows)


@register("depthwise", "dwconv2d")
class DepthwiseConv(Conv):
    """A convolution with one group per input channel, as PyTorch's ``Conv2d(C, K, groups=C)``
    and Keras' ``DepthwiseConv2D``: K filters, a multiple of C (Keras' depth multiplier K/C)."""

    kind = "dwconv"
    summary = (
        "depthwise convolution: filters (a multiple of the input channels; default C) "
        "or multiplier, f, stride, pad"
    )
    groups: int | None = None  # type: ignore[assignment]  # None: C, whatever C is
    """Always the input channels; given only to be checked."""
    multiplier: int | None = None

    def apply(self, x: Shape) -> Outcome:
        return self._conv(x).apply(x)

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        return self._conv(x).worked(x, outcome)

    def _conv(self, x: Shape) -> Conv:
        """The grouped convolution this is on ``x``: one group per input channel."""
        c = x.channels
        if c is None:
            raise UsageError("a depthwise convolution needs the input depth")
        if self.groups is not None and self.groups != c:
            raise GeometryError(
                f"a depthwise convolution has one group per input channel ({c}), not "
                f"{self.groups}; a grouped convolution is conv with groups"
            )
        filters = self.filters
        if self.multiplier is not None:
            if filters is not None and filters != c * self.multiplier:
                raise UsageError(
                    f"filters {filters} disagrees with multiplier {self.multiplier} "
                    f"({c} input channels x {self.multiplier} = {c * self.multiplier})"
                )
            filters = c * self.multiplier
        filters = c if filters is None else filters
        if filters % c:
            raise GeometryError(
                f"a depthwise convolution's {filters} filters are not a multiple of its "
                f"{c} input channels"
            )
        shared = {n: getattr(self, n) for n in Conv.parameters if n not in ("groups", "filters")}
        return Conv(filters, groups=c, **shared)


@register("deform_conv", "deformconv2d", "dcn")
class DeformConv(Conv):
    """A deformable convolution with the convolution that predicts where it samples, as
    mmcv's ``DeformConv2dPack`` (with ``modulated``, DCNv2's ``ModulatedDeformConv2dPack``):
    the offsets (and masks) come from a convolution of the same window over every input
    channel, with ``2*F*F`` outputs per deformable group (``3*F*F`` modulated) and a bias.
    The output is the convolution's; the receptive field is the whole input, since the
    offsets may point anywhere."""

    kind = "deformconv"
    summary = (
        "deformable convolution with its offset convolution (mmcv's DeformConv2dPack): "
        "conv's parameters, deform_groups, modulated"
    )
    limits = {"deform_groups": ("deformable groups", 1)}
    deform_groups: int = 1
    modulated: bool = False

    def apply(self, x: Shape) -> Outcome:
        offsets = self._offsets(x).apply(x)
        out = super().apply(x)  # as a convolution: warnings under this kind's name
        strides = self.windows(x)[1]
        out = out._replace(rf=tuple(RFStep(n, s, 1, n - 1) for n, s in zip(x.spatial, strides)))
        if out.params is None or out.macs is None or offsets.params is None:
            return out
        return out._replace(params=out.params + offsets.params, macs=out.macs + (offsets.macs or 0))

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        own, offsets = super().apply(x), self._offsets(x)
        predicted = offsets.apply(x)
        working = super().worked(x, own)
        total, ops = outcome.params, outcome.macs
        if total is None or ops is None or own.macs is None or predicted.macs is None:
            return Worked(working.lines, windows=working.windows)  # the input's depth unknown
        k, window = offsets.filters, "*".join(map(str, self.windows(x)[0]))
        params = (
            total, " = ", own.params or 0, " of the convolution + ", predicted.params or 0,
            f" of its offsets ({k}*{x.channels}*{window} weights + {k} biases)",
        )  # fmt: skip
        macs = (ops, " = ", own.macs, " + ", predicted.macs, " of its offsets")
        return Worked(working.lines, params, macs, working.windows)

    def _offsets(self, x: Shape) -> Conv:
        """The convolution that predicts the offsets (and masks) from ``x``."""
        if x.channels is not None and x.channels % self.deform_groups:
            raise GeometryError(
                f"{self.kind}: deformable groups {self.deform_groups} does not divide the "
                f"{x.channels} input channels"
            )
        window = {n: getattr(self, n) for n in ("f", "stride", "pad", "dilation")}
        per_group = (3 if self.modulated else 2) * prod(self.windows(x)[0])
        return Conv(per_group * self.deform_groups, **window)


@register("deconv", "convtranspose", "conv_transpose", "transposed")
class TConv(Layer):
    spatial = True
    kind = "tconv"
    cost = "weights"
    primary = "filters"
    words = {"nobias": ("bias", False)}
    summary = "transposed convolution: filters, f, stride, pad, output_padding, dilation, groups"
    filters: int | None = None
    f: Dims = 3
    stride: Dims = 1
    pad: Dims = 0
    dilation: Dims = 1
    output_padding: Dims = 0
    groups: int = 1
    bias: bool = True
    target: Dims | None = None
    """When set, the output padding is chosen so the output has this size."""

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        fs, ss, ds = self.dims("f", nd), self.dims("stride", nd), self.dims("dilation", nd)
        ps = self.dims("pad", nd)
        pads = tuple((p, p) for p in ps)
        if self.target is None:
            ops = self.dims("output_padding", nd)
        else:
            targets = self.dims("target", nd)
            found = [
                fm.tconv_output_padding(m, n, f, s, p, d)
                for m, n, f, s, p, d in zip(targets, x.spatial, fs, ss, pads, ds)
            ]
            for m, a in zip(targets, found):
                if a is None:
                    raise GeometryError(
                        f"no output padding makes a {x} input reach {m}: "
                        f"no convolution with these settings maps {m} to {x.spatial}"
                    )
            ops = tuple(a for a in found if a is not None)
        out = tuple(
            fm.tconv_output(n, f, s, p, d, a)
            for n, f, s, p, d, a in zip(x.spatial, fs, ss, pads, ds, ops)
        )
        cin, cout = x.channels, self.filters
        _check_groups(self.groups, cin, cout)
        params = macs = None
        if cin is not None and cout is not None:
            weights = cin * (cout // self.groups) * prod(fs)
            params = weights + (cout if self.bias else 0)
            macs = prod(x.spatial) * weights
        return Outcome(
            Shape(out, cout),
            params,
            macs=macs,
            padding=pads,
            rf=tuple(RFStep(f, 1, s, p, d, "transposed") for f, s, p, d in zip(fs, ss, ps, ds)),
        )

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        nd = len(x.spatial)
        fs, ss, ds = self.dims("f", nd), self.dims("stride", nd), self.dims("dilation", nd)
        formulas, chosen = [], []
        for n, f, s, pad, d, out in zip(
            x.spatial, fs, ss, outcome.padding, ds, outcome.shape.spatial
        ):
            a = fm.tconv_output_padding(out, n, f, s, pad, d)
            formulas.append(f"({n} - 1)*{s} - 2*{pad[0]} + {d}*({f} - 1) + {a} + 1 = {out}")
            chosen.append(f"a = {a}, found to reach the target {out}")
        lines = [Line("output", tuple(formulas))]
        if self.target is not None:
            lines.append(Line("output padding", tuple(chosen)))
        factors = [str(x.channels), _per_group(self.filters, self.groups), *map(str, fs)]
        counts = weights_worked(outcome, factors, self.bias, x.spatial, "input")
        return Worked(tuple(lines), *counts)


class Pool(Layer):
    """Max or average pooling; the stride defaults to the kernel size."""

    spatial = True
    kind = "pool"
    primary = "f"
    words = {**PAD_WORDS, "ceil": ("ceil", True)}
    conventions = {"tensorflow": {"pad": "same"}, "caffe": {"ceil": True}}
    summary = "pooling: f, stride (default f), pad (at most f/2), ceil, dilation"
    f: Dims = 2
    stride: Dims | None = None
    pad: PadSpec = 0
    dilation: Dims = 1
    ceil: bool = False

    def windows(self, x: Shape) -> tuple[tuple[int, ...], ...]:
        """Kernel, stride (the kernel's when unset), dilation per dimension, validated."""
        nd = len(x.spatial)
        fs = self.dims("f", nd)
        return (
            fs,
            self.dims("stride", nd, fs if self.stride is None else None),
            self.dims("dilation", nd),
        )

    def apply(self, x: Shape) -> Outcome:
        fs, ss, ds = self.windows(x)
        pads = resolve_padding(self.pad, x.spatial, fs, ss, ds)
        for f, (before, after) in zip(fs, pads):
            if max(before, after) * 2 > f:
                raise GeometryError(
                    f"pooling padding {max(before, after)} is more than half the kernel size {f}"
                )
        out = tuple(
            fm.pool_output(n, f, s, p, d, self.ceil)
            for n, f, s, p, d in zip(x.spatial, fs, ss, pads, ds)
        )
        warnings = () if self.ceil else _leftover_warnings(self.kind, x.spatial, fs, ss, pads, ds)
        return Outcome(
            Shape(out, x.channels),
            padding=pads,
            rf=tuple(RFStep(f, s, 1, p[0], d) for f, s, p, d in zip(fs, ss, pads, ds)),
            warnings=warnings,
        )

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        windows = self.windows(x)
        return Worked(_windowed(x, outcome, windows, self.ceil), windows=windows)


@register("pool", "max_pool", "maxpool2d")
class MaxPool(Pool):
    kind = "maxpool"
    summary = "max pooling: f, stride (default f), pad, ceil"


@register("avg_pool", "avgpool2d")
class AvgPool(Pool):
    kind = "avgpool"
    summary = "average pooling: f, stride (default f), pad, ceil"


class GlobalPool(Layer):
    """Pooling over the whole input: one value per channel."""

    spatial = True

    def apply(self, x: Shape) -> Outcome:
        return Outcome(
            Shape(tuple(1 for _ in x.spatial), x.channels),
            rf=tuple(RFStep(n, n) for n in x.spatial),
        )

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        whole = f"the whole {'x'.join(map(str, x.spatial))} input, one value per channel"
        return Worked((Line("window", (whole,), spatial=False),))


@register("gap", "global_avg_pool", "globalavgpool")
class GlobalAvgPool(GlobalPool):
    kind = "gavgpool"
    summary = "global average pooling: H x W x C -> 1 x 1 x C"


@register("gmp", "global_max_pool", "globalmaxpool")
class GlobalMaxPool(GlobalPool):
    kind = "gmaxpool"
    summary = "global max pooling: H x W x C -> 1 x 1 x C"


@register("adaptiveavgpool", "adaptive_avg_pool")
class AdaptiveAvgPool(Layer):
    spatial = True
    kind = "adaptivepool"
    primary = "size"
    summary = "adaptive average pooling to a fixed output size"
    size: Dims = 1

    def apply(self, x: Shape) -> Outcome:
        sizes = self.dims("size", len(x.spatial))
        return Outcome(
            Shape(sizes, x.channels),
            rf=tuple(resize_step(n, m, "area") for n, m in zip(x.spatial, sizes)),
        )


UNPOOL_MODES = ("nails", "nearest", "max")
_UNPOOLING = {
    "nails": "bed of nails: each value at one corner of its block, zeros elsewhere",
    "nearest": "nearest neighbour: each value copied over its whole block",
    "max": "max unpooling: each value back where the pool found its maximum, zeros elsewhere",
}


@register()
class Unpool(Layer):
    """Bed of nails or nearest neighbour by a factor; max-unpool as the inverse of a pool,
    to the size the pool's input had (``size``, or ``to`` a named layer: the pool itself, whose
    indices SegNet reuses, or the layer that fed it)."""

    spatial = True
    kind = "unpool"
    primary = "factor"
    words = {mode: ("mode", mode) for mode in UNPOOL_MODES}
    summary = (
        "unpooling: mode nails|nearest (factor) or max (f, stride, pad of the pool; "
        "size or to: the pool's input size, the pool itself, or the layer that fed it)"
    )
    mode: str = "nearest"
    factor: Dims = 2
    f: Dims = 2
    stride: Dims | None = None
    pad: Dims = 0
    size: Dims | None = None
    """Max unpooling: the output size, as PyTorch's ``MaxUnpool2d(...)(x, i, output_size)``."""
    to: str | None = None
    references = ("to",)

    def bind(self, shape_of: Callable[[str], Shape], made: Made | None = None) -> Layer:
        if self.to is None or self.size is not None:
            return self  # apply refuses size and to together
        size = shape_of(self.to).spatial
        if self.mode == "max" and made is not None:
            # SegNet's unpool names the pool whose indices it reuses: undo it, to its input
            pool, before = made(self.to)
            if isinstance(pool, Pool) and not isinstance(pool, AvgPool):
                size = before.spatial
        return self.replace(size=size, to=None)

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        if self.mode not in UNPOOL_MODES:
            raise UsageError(
                f"unknown unpooling mode {self.mode!r} (use {', '.join(UNPOOL_MODES)})"
            )
        one_of(self.kind, {"size": self.size, "to": self.to})
        if self.mode != "max" and (self.size, self.to) != (None, None):
            raise UsageError(
                f"unpool: size and to are for mode=max, not {self.mode} "
                "(upsample size= or to= resizes by interpolation)"
            )
        unbound(self.kind, self.to)
        if self.mode == "max":
            fs, ss, ps = self._pool(nd)
            if self.size is None:
                out = tuple(
                    fm.max_unpool_output(n, f, s, p) for n, f, s, p in zip(x.spatial, fs, ss, ps)
                )
            else:
                out = self.dims("size", nd)
                _check_unpooled(x, out, fs, ss, ps)
            rf = tuple(RFStep(f, 1, s, p, 1, "transposed") for f, s, p in zip(fs, ss, ps))
        else:
            factors = self.dims("factor", nd)
            out = tuple(fm.upsample_output(n, k) for n, k in zip(x.spatial, factors))
            mode: RFMap = "nails" if self.mode == "nails" else "nearest"
            rf = tuple(RFStep(1, 1, k, map=mode) for k in factors)
        return Outcome(Shape(out, x.channels), rf=rf)

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        nd = len(x.spatial)
        if self.mode == "max":
            windows = zip(x.spatial, *self._pool(nd), outcome.shape.spatial)
            if self.size is None:
                formulas = [f"({n} - 1)*{s} - 2*{p} + {f} = {out}" for n, f, s, p, out in windows]
            else:  # the size asked for, which pooling maps back to the input
                formulas = [
                    f"{out} as given (a pool with f {f}, stride {s}, pad {p} maps it to {n})"
                    for n, f, s, p, out in windows
                ]
        else:
            factors = zip(x.spatial, self.dims("factor", nd), outcome.shape.spatial)
            formulas = [f"{n}*{k} = {out}" for n, k, out in factors]
        mode = Line("mode", (_UNPOOLING[self.mode],), spatial=False)
        return Worked((mode, Line("output", tuple(formulas))))

    def _pool(self, nd: int) -> tuple[tuple[int, ...], ...]:
        """Kernel, stride (the kernel's when unset) and padding of the pool max unpooling undoes."""
        fs = self.dims("f", nd)
        return (
            fs,
            self.dims("stride", nd, fs if self.stride is None else None),
            self.dims("pad", nd),
        )


def _check_unpooled(
    x: Shape,
    sizes: tuple[int, ...],
    fs: tuple[int, ...],
    ss: tuple[int, ...],
    ps: tuple[int, ...],
) -> None:
    """A GeometryError unless pooling ``sizes`` with these windows (floor or ceil mode) gives
    the unpool's input: only then can the pool's indices point back into that size."""
    cannot = f"max unpooling of a {x} input cannot give {'x'.join(map(str, sizes))}"
    for name, n, m, f, s, p in zip(dimension_names(len(sizes)), x.spatial, sizes, fs, ss, ps):
        try:
            floor, ceil = (fm.pool_output(m, f, s, (p, p), 1, ceil) for ceil in (False, True))
        except GeometryError as e:
            raise GeometryError(f"{cannot}: pooling {m} {name}: {e}") from None
        if n not in (floor, ceil):
            gives = f"{floor}" if floor == ceil else f"{floor} ({ceil} in ceil mode)"
            raise GeometryError(
                f"{cannot}: pooling {m} {name} with f {f}, stride {s}, pad {p} gives {gives}, "
                f"not {n}"
            )


UPSAMPLE_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
"""torch.nn.functional.interpolate's modes: each gives the same shape."""
_UPSAMPLE_MAPS: dict[str, RFMap] = {
    "nearest": "nearest",
    "nearest-exact": "nearest-exact",
    "linear": "linear",
    "bilinear": "linear",
    "trilinear": "linear",
    "bicubic": "cubic",
    "area": "area",
}


@register("upsampling", "interpolate")
class Upsample(Layer):
    """Upsampling by an integer factor, or resizing to a fixed size or to a named layer's
    size (FCN's and DeepLab's ``F.interpolate(x, size=...)``), whatever the input size."""

    spatial = True
    kind = "upsample"
    primary = "factor"
    words = {mode: ("mode", mode) for mode in ("nearest", "bilinear", "bicubic")}
    summary = (
        "upsampling (nearest or bilinear: same shape): factor (default 2), size, "
        "or to (a named layer's size)"
    )
    factor: Dims | None = None
    """None: 2, unless size or to is given."""
    mode: str = "nearest"
    size: Dims | None = None
    to: str | None = None
    references = ("to",)

    def bind(self, shape_of: Callable[[str], Shape], made: Made | None = None) -> Layer:
        if self.to is None or self.size is not None or self.factor is not None:
            return self  # apply refuses more than one of them
        return self.replace(size=shape_of(self.to).spatial, to=None)

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        if self.mode not in UPSAMPLE_MODES:
            modes = ", ".join(UPSAMPLE_MODES)
            raise UsageError(f"unknown upsampling mode {self.mode!r} (PyTorch's: {modes})")
        one_of(self.kind, {"factor": self.factor, "size": self.size, "to": self.to})
        unbound(self.kind, self.to)
        if self.size is not None:
            out = self.dims("size", nd)
            rf = tuple(resize_step(n, m, self._map()) for n, m in zip(x.spatial, out))
            return Outcome(Shape(out, x.channels), rf=rf)
        factor = 2 if self.factor is None else self.factor
        factors = self.dims("factor", nd, factor)
        out = tuple(fm.upsample_output(n, k) for n, k in zip(x.spatial, factors))
        rf = tuple(RFStep(1, 1, k, map=self._map()) for k in factors)
        return Outcome(Shape(out, x.channels), rf=rf)

    def _map(self) -> RFMap:
        """Which inputs an output reads, by mode: one (nearest), 2 per dimension (linear),
        4 (cubic) or those its area overlaps."""
        return _UPSAMPLE_MAPS[self.mode]


def _div(a: int, b: int) -> str:
    """``a/b`` exactly: a decimal when it ends (``112.5``), else the reduced fraction (``8/3``).

    >>> _div(1000001, 2), _div(8, 3), _div(15, 6), _div(-7, 4)
    ('500000.5', '8/3', '2.5', '-1.75')
    """
    g = gcd(a, b)
    a, b = a // g, b // g
    twos, fives = (b & -b).bit_length() - 1, 0
    while b % 5 ** (fives + 1) == 0:
        fives += 1
    if b != 2**twos * 5**fives:
        return f"{a}/{b}"
    places = max(twos, fives)
    digits = str(abs(a) * 10**places // b).rjust(places + 1, "0")
    sign = "-" if a < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}" if places else f"{sign}{digits}"
