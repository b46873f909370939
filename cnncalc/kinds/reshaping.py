"""Kinds that move values around without learning anything: padding, cropping,
space-to-depth, flattening, channel shuffles and splits."""

from __future__ import annotations

from collections.abc import Callable

from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.shapes import Dims, PadSpec, Shape, dimension_names, resolve_padding

from .base import Layer, Made, Outcome, RFStep, depth, divides, one_of, register, unbound
from .pointwise import Identity


@register()
class Flatten(Layer):
    kind = "flatten"
    summary = "flatten H x W x C into H*W*C features"

    def apply(self, x: Shape) -> Outcome:
        return Outcome(Shape((), x.size), rf=tuple(RFStep(n, n) for n in x.spatial))


@register("channelshuffle", "channel_shuffle")
class Shuffle(Identity):
    """ShuffleNet's channel shuffle: the channels reordered across groups, nothing learnt."""

    kind = "shuffle"
    primary = "groups"
    summary = "channel shuffle: groups (dividing C); shape unchanged, no parameters"
    groups: int = 2

    def apply(self, x: Shape) -> Outcome:
        divides(self.kind, "groups", self.groups, depth(self.kind, x))
        return self._identity(x)


@register()
class Chunk(Identity):
    """One of ``parts`` equal channel groups, as ``x.chunk(parts, dim=1)[index]``
    (ShuffleNetV2's channel split)."""

    kind = "chunk"
    primary = "parts"
    summary = "channel split: the index-th (from 0) of parts equal channel groups"
    parts: int = 2
    index: int = 0

    def apply(self, x: Shape) -> Outcome:
        c = depth(self.kind, x)
        divides(self.kind, "parts", self.parts, c)
        if not 0 <= self.index < self.parts:
            raise UsageError(
                f"{self.kind}: index must be from 0 to {self.parts - 1}, not {self.index}"
            )
        return self._identity(x)._replace(shape=Shape(x.spatial, c // self.parts))


@register("pad", "zeropad2d")
class ZeroPad(Layer):
    spatial = True
    kind = "zeropad"
    primary = "pad"
    summary = "zero padding: pad (number, per dimension, or before:after)"
    pad: PadSpec = 1

    def apply(self, x: Shape) -> Outcome:
        ones = tuple(1 for _ in x.spatial)
        pads = resolve_padding(self.pad, x.spatial, ones, ones, ones)
        out = tuple(n + b + a for n, (b, a) in zip(x.spatial, pads))
        # output j is input j - before: a window of 1 starting at -before
        rf = tuple(RFStep(pad=b) for b, _ in pads)
        return Outcome(Shape(out, x.channels), padding=pads, rf=rf)


@register()
class Crop(Layer):
    """Centre crop to ``size``, or by ``border`` on each side (U-Net's crop-and-concat)."""

    spatial = True
    kind = "crop"
    primary = "size"
    summary = (
        "centre crop: size (output size), border (removed per side) or to (a named layer); "
        "offset: start there"
    )
    size: Dims | None = None
    border: Dims | None = None
    to: str | None = None
    references = ("to",)
    offset: Dims | None = None
    """Where the crop starts in each dimension (Caffe's crop ``offset``); None: centred."""

    def bind(self, shape_of: Callable[[str], Shape], made: Made | None = None) -> Layer:
        if self.to is None or self.size is not None or self.border is not None:
            return self  # apply refuses more than one of them
        return self.replace(size=shape_of(self.to).spatial, to=None)

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        one_of(self.kind, {"size": self.size, "border": self.border, "to": self.to})
        unbound(self.kind, self.to)
        if self.size is not None:
            sizes = self.dims("size", nd)
        elif self.border is not None:
            borders = self.dims("border", nd)
            sizes = tuple(n - 2 * b for n, b in zip(x.spatial, borders))
        else:
            raise UsageError("crop needs a size, a border or a layer to match (to)")
        for n, m in zip(x.spatial, sizes):
            if not 0 < m <= n:
                raise GeometryError(f"cannot crop {x} to {'x'.join(map(str, sizes))}")
        starts = tuple((n - m) // 2 for n, m in zip(x.spatial, sizes))  # centred
        if self.offset is not None:
            starts = self.dims("offset", nd)
            if self.border is not None:
                raise UsageError("crop: offset goes with size or to, not border")
            for n, m, o in zip(x.spatial, sizes, self.dims("offset", nd)):
                if m + o > n:
                    raise GeometryError(
                        f"cannot crop {x} to {'x'.join(map(str, sizes))} at offset {o}: "
                        f"{m} + {o} = {m + o} is more than {n}"
                    )
        # output j is input j + start: where the crop starts moves what its units see
        return Outcome(Shape(sizes, x.channels), rf=tuple(RFStep(pad=-o) for o in starts))


@register("space_to_depth")
class Reorg(Layer):
    """Darknet's reorg (YOLOv2's passthrough), TensorFlow's ``space_to_depth`` and PyTorch's
    ``PixelUnshuffle``: each ``stride x stride`` block of positions becomes channels, so
    H x W x C gives H/s x W/s x C*s*s; sizes that do not divide are refused."""

    spatial = True
    kind = "reorg"
    primary = "stride"
    summary = "space to depth: stride s; H/s x W/s x C*s^2 (H and W divisible by s)"
    stride: int = 2

    def apply(self, x: Shape) -> Outcome:
        c, s = depth(self.kind, x), self.stride
        for name, n in zip(dimension_names(len(x.spatial)), x.spatial):
            if n % s:
                raise GeometryError(f"{self.kind}: stride {s} does not divide the {n} {name}")
        return Outcome(
            Shape(tuple(n // s for n in x.spatial), c * s ** len(x.spatial)),
            rf=tuple(RFStep(s, s) for _ in x.spatial),
        )
