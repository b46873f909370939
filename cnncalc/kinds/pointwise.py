"""Kinds that act on each value alone and keep the shape: identity, activations, dropout."""

from __future__ import annotations

from cnncalc.core.errors import UsageError
from cnncalc.core.shapes import Shape

from .base import Layer, Outcome, register


@register()
class Identity(Layer):
    kind = "identity"
    summary = "passes its input on unchanged"

    def apply(self, x: Shape) -> Outcome:
        return self._identity(x)


@register()
class Dropout(Identity):
    kind = "dropout"
    primary = "p"
    summary = "dropout: p (no parameters)"
    p: float = 0.5

    def apply(self, x: Shape) -> Outcome:
        if not 0 <= self.p <= 1:
            raise UsageError(f"{self.kind}: p is a probability from 0 to 1, not {self.p}")
        return self._identity(x)


@register("stochasticdepth", "stochastic_depth", "drop_path")
class DropPath(Dropout):
    """Stochastic depth: a residual branch dropped whole, with probability p (torchvision's
    ``StochasticDepth(p, "row")``); no parameters, shape unchanged."""

    kind = "droppath"
    summary = "stochastic depth: p (no parameters)"


def _activation(name: str, what: str, *aliases: str) -> type[Layer]:
    """A parameter-free, shape-preserving activation kind."""
    cls = type(name, (Identity,), {"kind": name.lower(), "summary": what, "__doc__": what})
    return register(*aliases)(cls)


ReLU = _activation("ReLU", "activation max(0, x)")
ReLU6 = _activation("ReLU6", "activation min(max(0, x), 6)")
Sigmoid = _activation("Sigmoid", "activation 1/(1+e^-x)")
Tanh = _activation("Tanh", "activation tanh(x)")
Hardswish = _activation("Hardswish", "activation x*relu6(x+3)/6", "hswish")
Softmax = _activation("Softmax", "softmax over the features")
GELU = _activation("GELU", "activation x*Phi(x), Phi the normal distribution")
SiLU = _activation("SiLU", "activation x*sigmoid(x)", "swish")
Mish = _activation("Mish", "activation x*tanh(softplus(x))")
Hardsigmoid = _activation("Hardsigmoid", "activation relu6(x+3)/6", "hsigmoid")
Softplus = _activation("Softplus", "activation log(1+e^x)")


@register("leaky_relu", "lrelu")
class LeakyReLU(Identity):
    kind = "leakyrelu"
    primary = "slope"
    summary = "activation max(slope*x, x): slope"
    slope: float = 0.01


@register()
class PReLU(Identity):
    kind = "prelu"
    words = {"perchannel": ("per_channel", True)}
    summary = "activation with a learnt slope: one per channel, or one in all"
    per_channel: bool = False

    def apply(self, x: Shape) -> Outcome:
        if self.per_channel and x.channels is None:
            raise UsageError("a per-channel PReLU needs the input depth")
        slopes = x.channels if self.per_channel and x.channels is not None else 1
        return self._identity(x)._replace(params=slopes)
