"""Layers of learnt weights on features: the fully connected layer, which flattens its input
first (Caffe's InnerProduct, Darknet's [connected], a classifier after ``flatten``), and the
linear layer, which maps the channels at every position and keeps the spatial sizes
(PyTorch's ``nn.Linear`` and Keras' ``Dense`` on a channels-last tensor).

The two agree on a flat input (after ``flatten``, ``gap`` or ``fc``) and differ on a spatial
map: on 7x7x512, ``fc 10`` has 7*7*512*10 + 10 parameters and outputs 10; ``linear 10`` has
512*10 + 10 and outputs 7x7x10."""

from __future__ import annotations

from math import prod

from cnncalc.core.errors import GeometryError
from cnncalc.core.shapes import Shape

from .base import Layer, Line, Outcome, RFStep, Worked, depth, divides, register, weights_worked


@register("fully_connected")
class FC(Layer):
    """Fully connected: the input is flattened (H*W*C) and mapped to ``out`` features; ``out``
    has no default (a bare ``fc`` in a network is refused, as a bare ``conv`` is)."""

    kind = "fc"
    cost = "weights"
    primary = "out"
    words = {"nobias": ("bias", False)}
    summary = "fully connected: out features, bias; the input flattened first (H*W*C -> out)"
    out: int | None = None
    bias: bool = True

    def apply(self, x: Shape) -> Outcome:
        n_in = x.size
        params = macs = None
        if n_in is not None and self.out is not None:
            macs = n_in * self.out
            params = macs + (self.out if self.bias else 0)
        return Outcome(
            Shape((), self.out),
            params,
            macs=macs,
            rf=tuple(RFStep(n, n) for n in x.spatial),
        )

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        if x.size is None:
            return Worked()
        flat = "*".join(map(str, [*x.spatial, x.channels]))
        count = (f"{flat} = ", x.size) if x.spatial else (x.size,)
        features = Line("features in", (count,), spatial=False)
        return Worked(
            (features,), *weights_worked(outcome, [str(x.size), str(self.out)], self.bias)
        )


@register("dense")
class Linear(Layer):
    """Linear on the last dimension, as PyTorch's ``nn.Linear`` and Keras' ``Dense``: the
    channels C of every position mapped to ``out`` features by one shared weight matrix, the
    spatial sizes kept (H x W x C -> H x W x out). cnncalc writes a shape as its spatial sizes
    and then its channels, so the last dimension is the channels: a channels-last tensor, as
    Keras holds it and as ConvNeXt permutes to before its ``nn.Linear``. (On PyTorch's own
    N x C x H x W layout ``nn.Linear`` would map W: permute first, as ConvNeXt does.) The same
    parameters and MACs as a 1x1 convolution; on a flat input the same as ``fc``."""

    kind = "linear"
    cost = "weights"
    primary = "out"
    words = {"nobias": ("bias", False)}
    summary = (
        "linear (PyTorch nn.Linear, Keras Dense): out features, bias; "
        "maps the channels at each position (H x W x C -> H x W x out)"
    )
    out: int | None = None
    bias: bool = True

    def apply(self, x: Shape) -> Outcome:
        params = macs = None
        if x.channels is not None and self.out is not None:
            weights = x.channels * self.out
            params = weights + (self.out if self.bias else 0)
            macs = prod(x.spatial) * weights
        return Outcome(
            Shape(x.spatial, self.out), params, macs=macs, rf=tuple(RFStep() for _ in x.spatial)
        )

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        counts = weights_worked(
            outcome, [str(x.channels), str(self.out)], self.bias, x.spatial, "input"
        )
        return Worked((), *counts)


@register("matmul")
class Attention(Layer):
    """The two matrix products of multi-head self-attention over the positions, weightless:
    from a tensor holding each head's queries, keys (``key`` channels each) and values
    (the rest of the head's channels), ``softmax(q^T k)`` then ``v attn^T``, as the
    ``Attention`` of Ultralytics' PSA blocks computes it after its qkv convolution. With N
    positions, each head does N x N x key MACs for the scores and N x N x value channels for
    the weighted sum; the output is every head's values, the spatial sizes kept. Its counts
    are products of activations, not of learnt weights (FLOPs count them, Darknet's do not).
    Each output depends on every input position, which the receptive field leaves out."""

    kind = "attention"
    cost = "products"
    primary = "heads"
    summary = (
        "attention's products q^T k and v attn^T over all positions: heads, key channels per "
        "head (default a quarter of each head's); qkv channels in, values out"
    )
    limits = {"heads": ("heads", 1), "key": ("key channels", 1)}
    heads: int = 1
    key: int | None = None
    """Query (and key) channels per head; None: a quarter of the head's (Ultralytics'
    attn_ratio 0.5: values twice the keys)."""

    def apply(self, x: Shape) -> Outcome:
        c = depth(self.kind, x)
        divides(self.kind, "heads", self.heads, c)
        per_head = c // self.heads
        key = per_head // 4 if self.key is None else self.key
        value = per_head - 2 * key
        if key < 1 or value < 1:
            raise GeometryError(
                f"{self.kind}: {per_head} channels per head do not hold queries, keys of {key} "
                "and values"
            )
        n = prod(x.spatial)
        macs = n * n * self.heads * (key + value)
        return Outcome(
            Shape(x.spatial, self.heads * value),
            0,
            macs=macs,
            rf=tuple(RFStep() for _ in x.spatial),
        )
