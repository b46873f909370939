"""The fully connected layer: its input flattened and mapped to ``out`` features."""

from __future__ import annotations

from cnncalc.core.shapes import Shape

from .base import Layer, Line, Outcome, RFStep, Worked, register, weights_worked


@register("linear", "dense", "fully_connected")
class FC(Layer):
    """Fully connected: the input is flattened (H*W*C) and mapped to ``out`` features."""

    kind = "fc"
    cost = "weights"
    primary = "out"
    words = {"nobias": ("bias", False)}
    summary = "fully connected: out features, bias (input flattened first)"
    out: int = 1
    bias: bool = True

    def apply(self, x: Shape) -> Outcome:
        n_in = x.size
        params = macs = None
        if n_in is not None:
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
