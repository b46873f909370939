"""Kinds with several inputs, the branches of a merge: concat and the element-wise joins."""

from __future__ import annotations

from typing import ClassVar

from cnncalc.core.errors import GeometryError, ParameterError, UsageError
from cnncalc.core.shapes import Shape

from .base import Layer, Numbers, Outcome, register


class Join(Layer):
    """A kind with several inputs, the branches of a merge (``add: [BRANCH, BRANCH]``): the
    tracer joins the branches' outputs left to right with ``combine``, and their receptive
    fields are the widest of theirs. No trainable parameters, no MACs; its own parameters
    (concat's ``axis``) are declared as any kind's are."""

    joins = True
    dropped_is_input: ClassVar[bool] = False
    """What a branch dropped by its ``if:`` stands for: the unchanged input (add's projection
    shortcut, absent where it is not needed, leaves the identity), or nothing, the branch
    leaving the join (concat's optional branch, FractalNet's dropped path)."""

    def admit(self, inputs: int) -> None:
        """A ParameterError unless the parameters suit joining ``inputs`` inputs (one
        coefficient each): checked where the branches are read, and again when traced."""

    def combine(self, a: Shape, b: Shape) -> Shape:
        """The join of two inputs; a GeometryError says why they cannot be joined."""
        raise NotImplementedError

    def notes(self, shapes: tuple[Shape, ...]) -> tuple[str, ...]:
        """Warnings for a join of inputs of these shapes that it can combine (none)."""
        return ()

    def apply(self, x: Shape) -> Outcome:
        raise UsageError(f"{self.kind} joins branches: write {self.kind}: [BRANCH, BRANCH, ...]")


def _spatial_mismatch(a: Shape, b: Shape, along: int = -1) -> str | None:
    """Why two inputs' spatial sizes differ other than ``along`` (an index), or None."""
    if len(a.spatial) != len(b.spatial):
        return "one branch is flat and the other is not"
    names = ("rows", "columns") if len(a.spatial) == 2 else ("size",) * len(a.spatial)
    for d, (name, m, n) in enumerate(zip(names, a.spatial, b.spatial)):
        if m != n and d != along:
            return f"spatial {name} differ: {m} vs {n}"
    return None


@register()
class Concat(Join):
    """Inputs concatenated along ``axis``, counted as PyTorch's ``torch.cat(dim=...)`` and
    Caffe's and ONNX's ``axis`` count it: 1 the channels, 2 and on the spatial sizes (2 the
    rows, 3 the columns). 0, the batch, is not traced; an axis counted from the end is
    refused rather than guessed, for Keras' ``axis=-1`` is the channels and PyTorch's
    ``dim=-1`` the columns."""

    kind = "concat"
    summary = "parallel branches from the same input, their channels (or axis) concatenated"
    axis: int = 1

    def admit(self, inputs: int) -> None:
        if self.axis == 0:
            message = "concat: axis 0 is the batch, which cnncalc does not trace (1: the channels)"
            raise ParameterError(message, "axis")
        if self.axis < 0:
            raise ParameterError(
                f"concat: axis {self.axis} counts from the end (the channels in Keras, the "
                "columns in PyTorch): count from 1, the channels, as PyTorch's dim does",
                "axis",
            )

    def combine(self, a: Shape, b: Shape) -> Shape:
        along, n = self.axis - 2, len(a.spatial)
        if along >= n:
            has = f"a {n}D input has axes 1 to {n + 1}" if n else "a flat input has axis 1 only"
            raise GeometryError(f"axis {self.axis}: {has}")
        problem = _spatial_mismatch(a, b, along)
        if problem:
            raise GeometryError(problem)
        if along < 0:
            both = None if a.channels is None or b.channels is None else a.channels + b.channels
            return Shape(a.spatial, both)
        if a.channels != b.channels:
            raise GeometryError(f"channels differ: {a.channels} vs {b.channels}")
        sizes = list(a.spatial)
        sizes[along] += b.spatial[along]
        return Shape(tuple(sizes), a.channels)


class _Elementwise(Join):
    """Inputs of one shape joined element by element."""

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
class Add(_Elementwise):
    """Element-wise sum, each input times its coefficient when ``coeff`` gives them (Caffe's
    ``Eltwise`` SUM with ``coeff``: ``[1, -1]`` subtracts); no MACs, as for the plain sum."""

    kind = "add"
    summary = "parallel branches from the same input, added (a residual connection); coeff: weights"
    coeff: Numbers | None = None
    dropped_is_input = True

    def admit(self, inputs: int) -> None:
        if self.coeff is not None and len(self.coeff) != inputs:
            given = len(self.coeff)
            message = f"add: coeff gives {given} weights for {inputs} branches (one per branch)"
            raise ParameterError(message, "coeff")


@register()
class Mean(_Elementwise):
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
class Max(_Elementwise):
    """Element-wise maximum of inputs of one shape (Caffe's ``Eltwise`` with ``MAX``)."""

    kind = "max"
    summary = "parallel branches joined by their element-wise maximum (shapes equal)"


@register()
class Prod(_Elementwise):
    """Element-wise product of inputs of one shape (Caffe's ``Eltwise`` with ``PROD``, which
    broadcasts nothing, unlike ``mul``)."""

    kind = "prod"
    summary = "parallel branches multiplied element-wise, shapes equal (no broadcasting)"


@register()
class Shortcut(Join):
    """Darknet's ``[shortcut]``: the first input's shape (the previous layer's output), the
    others added over the channels and positions they share (src/shortcut_layer.c keeps
    the previous layer's shape; blas.c ``shortcut_cpu`` adds over the smaller channel
    count, taking every ``w1/w2``-th position of a larger input, or adding onto every
    ``w2/w1``-th position from a smaller one, the same ratio across rows and columns)."""

    kind = "shortcutadd"
    summary = (
        "Darknet's residual add: the first branch's shape, the others added where they "
        "overlap (fewer channels, strided or sampled)"
    )

    def combine(self, a: Shape, b: Shape) -> Shape:
        if len(a.spatial) != len(b.spatial):
            raise GeometryError("one branch is flat and the other is not")
        ratios = {(m // n, n // m) for m, n in zip(b.spatial, a.spatial)}
        if len(ratios) > 1:  # Darknet asserts stride == h1/h2 and sample == h2/h1
            raise GeometryError(
                f"shapes {a} and {b}: Darknet needs the same size ratio across rows and columns"
            )
        return a

    def notes(self, shapes: tuple[Shape, ...]) -> tuple[str, ...]:
        out, notes = shapes[0], []
        for x in shapes[1:]:
            if x == out:
                continue
            parts = []
            if x.channels != out.channels and None not in (x.channels, out.channels):
                parts.append(f"only the {min(x.channels, out.channels)} channels they share")  # type: ignore[type-var]
            m, n = (x.spatial[0], out.spatial[0]) if x.spatial else (1, 1)
            if m // n > 1:
                parts.append(f"the larger input strided by {m // n}")
            elif n // m > 1:
                parts.append(f"the output sampled by {n // m} (every {n // m} positions)")
            elif x.spatial != out.spatial:
                parts.append("the positions they share")
            notes.append(f"{x} added onto {out} over {' and '.join(parts)}, as Darknet does")
        return tuple(notes)
