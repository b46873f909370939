"""Kinds with several inputs, the branches of a merge: concat and the element-wise joins."""

from __future__ import annotations

from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.shapes import Shape

from .base import Layer, Outcome, register


class Join(Layer):
    """A kind with several inputs, the branches of a merge (``add: [BRANCH, BRANCH]``): the
    tracer joins the branches' outputs left to right with ``combine``, and their receptive
    fields are the widest of theirs. No parameters, no MACs."""

    joins = True

    def combine(self, a: Shape, b: Shape) -> Shape:
        """The join of two inputs; a GeometryError says why they cannot be joined."""
        raise NotImplementedError

    def apply(self, x: Shape) -> Outcome:
        raise UsageError(f"{self.kind} joins branches: write {self.kind}: [BRANCH, BRANCH, ...]")


def _spatial_mismatch(a: Shape, b: Shape) -> str | None:
    """Why two inputs' spatial sizes differ, or None."""
    if len(a.spatial) != len(b.spatial):
        return "one branch is flat and the other is not"
    names = ("rows", "columns") if len(a.spatial) == 2 else ("size",) * len(a.spatial)
    for name, m, n in zip(names, a.spatial, b.spatial):
        if m != n:
            return f"spatial {name} differ: {m} vs {n}"
    return None


@register()
class Concat(Join):
    kind = "concat"
    summary = "parallel branches from the same input, their channels concatenated"

    def combine(self, a: Shape, b: Shape) -> Shape:
        problem = _spatial_mismatch(a, b)
        if problem:
            raise GeometryError(problem)
        both = None if a.channels is None or b.channels is None else a.channels + b.channels
        return Shape(a.spatial, both)


@register()
class Add(Join):
    kind = "add"
    summary = "parallel branches from the same input, added (a residual connection)"

    def combine(self, a: Shape, b: Shape) -> Shape:
        problem = _spatial_mismatch(a, b)
        if problem:
            raise GeometryError(problem)
        if a.channels != b.channels:
            raise GeometryError(
                f"shapes {a} and {b} differ in channels — the shortcut needs a projection"
            )
        return a


@register()
class Mean(Add):
    kind = "mean"
    summary = "parallel branches from the same input, averaged element-wise (FractalNet's join)"


@register()
class Mul(Join):
    """Element-wise product; a size of 1 is broadcast, as in squeeze-and-excitation's
    ``1x1xC`` scales times its ``HxWxC`` input (PyTorch's broadcasting rules)."""

    kind = "mul"
    summary = "parallel branches multiplied element-wise, a size of 1 broadcast (1x1xC * HxWxC)"

    def combine(self, a: Shape, b: Shape) -> Shape:
        if len(a.spatial) != len(b.spatial) or a.channels is None or b.channels is None:
            raise GeometryError(f"shapes {a} and {b} do not broadcast")
        sizes = [*zip(a.spatial, b.spatial), (a.channels, b.channels)]
        for m, n in sizes:
            if m != n and 1 not in (m, n):
                raise GeometryError(
                    f"shapes {a} and {b} do not broadcast: {m} vs {n} (each size must be "
                    "equal, or 1 in one of them)"
                )
        out = [max(m, n) for m, n in sizes]
        return Shape(tuple(out[:-1]), out[-1])


@register()
class Max(Add):
    """Element-wise maximum of inputs of one shape (Caffe's ``Eltwise`` with ``MAX``)."""

    kind = "max"
    summary = "parallel branches joined by their element-wise maximum (shapes equal)"


@register()
class Prod(Add):
    """Element-wise product of inputs of one shape (Caffe's ``Eltwise`` with ``PROD``, which
    broadcasts nothing, unlike ``mul``)."""

    kind = "prod"
    summary = "parallel branches multiplied element-wise, shapes equal (no broadcasting)"
