"""Normalisation kinds: batch, layer and group norm, LRN, and Caffe's split of batch norm
into statistics and a learnt scale."""

from __future__ import annotations

from cnncalc.core.errors import UsageError
from cnncalc.core.shapes import Shape

from .base import Layer, Outcome, depth, divides, register
from .pointwise import Identity


@register("bn", "batchnorm2d")
class BatchNorm(Layer):
    """Batch norm: scale and shift per channel; running mean and variance are buffers."""

    kind = "batchnorm"
    summary = "batch norm: 2C trainable, 2C running statistics (non-trainable)"

    def apply(self, x: Shape) -> Outcome:
        c = x.channels
        if c is None:
            raise UsageError("batch norm needs the input depth")
        return self._identity(x)._replace(params=2 * c, buffers=2 * c)


@register("localresponsenorm")
class LRN(Identity):
    kind = "lrn"
    primary = "size"
    summary = "local response normalisation: size (no parameters)"
    size: int = 5


@register("layer_norm", "layernorm2d")
class LayerNorm(Identity):
    """Layer norm over the channels at each position, as ConvNeXt's ``LayerNorm2d(C)``
    (``nn.LayerNorm(C)`` after fc): a scale and a shift per channel, no running statistics."""

    kind = "layernorm"
    summary = "layer norm over the channels: 2C trainable, no buffers"

    def apply(self, x: Shape) -> Outcome:
        return self._identity(x)._replace(params=2 * depth(self.kind, x))


@register("group_norm")
class GroupNorm(Identity):
    """Group norm, as ``nn.GroupNorm(G, C)``: a scale and a shift per channel, no buffers."""

    kind = "groupnorm"
    primary = "groups"
    summary = "group norm: groups (dividing C); 2C trainable, no buffers"
    groups: int | None = None

    def apply(self, x: Shape) -> Outcome:
        c = depth(self.kind, x)
        if self.groups is None:
            raise UsageError(f"{self.kind} needs groups (e.g. {self.kind} 32)")
        divides(self.kind, "groups", self.groups, c)
        return self._identity(x)._replace(params=2 * c)


@register("layer_scale")
class LayerScale(Identity):
    """A learnt scale per channel, as ConvNeXt's ``layer_scale`` (``dim x 1 x 1``)."""

    kind = "layerscale"
    summary = "a learnt scale per channel: C trainable"

    def apply(self, x: Shape) -> Outcome:
        return self._identity(x)._replace(params=depth(self.kind, x))


@register("caffe_batchnorm")
class StatsNorm(Identity):
    """Caffe's ``BatchNorm`` layer: it normalises by stored statistics alone, and the scale
    and shift a framework's batch norm learns are a separate ``Scale`` layer. Caffe stores
    three blobs, none of them learnt: the mean and the variance per channel, and one
    moving-average factor that both are divided by."""

    kind = "bnstats"
    summary = "Caffe's BatchNorm: 0 trainable; mean, variance, one factor stored: 2C+1"

    def apply(self, x: Shape) -> Outcome:
        return self._identity(x)._replace(buffers=2 * depth(self.kind, x) + 1)


@register()
class Scale(Identity):
    """A learnt scale per channel and, with ``bias``, a learnt shift per channel (Caffe's
    ``Scale`` layer, which follows its ``BatchNorm``)."""

    kind = "scale"
    words = {"bias": ("bias", True)}
    summary = "a learnt scale per channel, and a shift with bias: C (2C with bias) trainable"
    bias: bool = False

    def apply(self, x: Shape) -> Outcome:
        c = depth(self.kind, x)
        return self._identity(x)._replace(params=2 * c if self.bias else c)
