"""Walk a network from its input shape into rows of numbers, plus totals.

A row per layer and per merge, each with its hierarchical name, output shape,
counts and receptive field. The tracer never formats anything: rendering is
:mod:`cnncalc.render`'s job. When a layer fails, tracing stops and the rows so
far are kept, with the failing one marked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, Union, cast

from .errors import CnnCalcError, GeometryError
from .graph import (
    LayerNode,
    Merge,
    Network,
    Node,
    Pos,
    Problem,
    Ref,
    Repeat,
    Sequence,
    without_gc_pauses,
)
from .layers import Join, Layer, Outcome, RFStep, Shape, layer_class

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}

if TYPE_CHECKING:
    from fractions import Fraction

Number = Union[int, "Fraction"]
"""Receptive-field sizes and jumps: whole numbers, a Fraction after upsampling."""


class Tensor(NamedTuple):
    """A traced value: its shape and, per input dimension, receptive field size and jump."""

    shape: Shape
    rf: tuple[Number, ...]
    jump: tuple[Number, ...]
    source: str = ""
    """The row that produced this value ("" for the network's input)."""


class Row(NamedTuple):
    name: str
    """Hierarchical name, e.g. ``layer3.12.conv2``; its dots give the nesting depth."""
    kind: str
    output: Shape
    params: int
    buffers: int
    macs: int
    rf: tuple[Number, ...]
    jump: tuple[Number, ...]
    pos: Pos
    inputs: tuple[str, ...] = ()
    """For merges: the names of the branches that feed it."""
    sources: tuple[str, ...] = ()
    """The rows whose outputs this row consumes ("" for the network's input): the graph's edges."""
    activations: int = 0
    """Elements this row keeps in memory: its output, or the sum over a folded block."""
    warnings: tuple[str, ...] = ()
    error: str | None = None


class Totals(NamedTuple):
    params: int
    buffers: int
    macs: int
    activations: int
    """Elements of every layer output, summed (memory needed to keep them all)."""


class Trace:
    """What tracing a network gives: its rows, and the output or the errors that stopped it.

    A plain class, not a dataclass: a zoo network's whole trace takes ~100 ms, and the
    dataclasses module with its generated methods cost 3% of that."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.rows: list[Row] = []
        self.output: Shape | None = None
        self.output_source = ""
        """The row the output comes from ("" for the network's input)."""
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.shapes: dict[str, Shape] = {}
        """The output shape of every named node, blocks and repeats included."""
        self.outputs: dict[str, Shape] = {}
        """The shape of each of the network's named outputs, when it lists several."""
        self.groups: dict[str, str] = {}
        """The kind of every container (block name, repeat, concat, add), for folded rows."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def totals(self) -> Totals:
        """Sums over the rows (the totals are nothing but that)."""
        params = buffers = macs = activations = 0
        for r in self.rows:
            params += r.params
            buffers += r.buffers
            macs += r.macs
            activations += r.activations
        return Totals(params, buffers, macs, activations)

    def receptive_field(self) -> tuple[tuple[Number, ...], tuple[Number, ...]]:
        last = self.rows[-1] if self.rows else None
        ones = tuple(1 for _ in self.network.input.spatial)
        return (last.rf, last.jump) if last else (ones, ones)


class _Failed(Exception):
    """Stops the walk after a layer failed; the row and the problem are already recorded."""


@lru_cache(maxsize=4096)
def _apply(layer: Layer, x: Shape) -> Outcome:
    """Layers are frozen values, so a repeated layer on a repeated shape is computed once."""
    if layer.spatial and not x.spatial:
        raise GeometryError(
            f"{layer.kind} needs rows and columns, but its input {x} is flat (after fc or flatten)"
        )
    out = layer.apply(x)
    if out.shape.channels is None and x.channels is not None:
        raise GeometryError(f"{layer.kind}: how many filters? (e.g. {layer.kind} 64)")
    return out


_UNCHANGED = [tuple(RFStep() for _ in range(n)) for n in range(8)]


def _step(t: Tensor, out: Outcome, source: str) -> Tensor:
    """The value a layer produces, with its receptive field [Araujo et al. 2019, eq. 1-2]."""
    if len(out.rf) != len(t.rf) or out.rf == _UNCHANGED[len(t.rf)]:
        # no spatial dims left, or a pointwise layer
        return Tensor(out.shape, t.rf, t.jump, source)
    rf: list[Number] = []
    jump: list[Number] = []
    for r, j, step in zip(t.rf, t.jump, out.rf):
        rf.append(r + step.growth * j)
        if step.up == 1:
            jump.append(j * step.down)
        else:
            from fractions import Fraction

            exact = Fraction(j * step.down, step.up)
            jump.append(exact.numerator if exact.denominator == 1 else exact)
    return Tensor(out.shape, tuple(rf), tuple(jump), source)


class _Walker:
    def __init__(self, net: Network, result: Trace):
        self.net = net
        self.result = result
        self.named: dict[str, Tensor] = {}
        self.add_row = result.rows.append

    def fail(
        self, node: Node, path: str, message: str, x: Tensor, sources: tuple[str, ...] = ()
    ) -> _Failed:
        self.result.rows.append(
            Row(
                path,
                _kind(node),
                x.shape,
                0,
                0,
                0,
                x.rf,
                x.jump,
                node.pos,
                sources=sources or (x.source,),
                error=message,
            )
        )
        self.result.errors.append(Problem(node.pos, path, message))
        return _Failed()

    def walk(self, node: Node, x: Tensor, prefix: str) -> Tensor:
        return self.walk_as(node, x, f"{prefix}.{node.name}" if prefix else node.name)

    def walk_as(self, node: Node, x: Tensor, path: str) -> Tensor:
        """Trace ``node`` under the full name ``path``; every output is kept for references."""
        if isinstance(node, LayerNode):
            y = self.layer(node, x, path)
        elif isinstance(node, Sequence):
            self.result.groups[path] = node.kind
            y = self.items(node.items, x, path)
        elif isinstance(node, Repeat):
            self.result.groups[path] = "repeat"
            y = x
            for i in range(node.times):
                # A one-item body is named by the iteration alone: layer3.12, not layer3.12.block
                body = node.body(i).items
                if len(body) == 1:
                    y = self.walk_as(body[0], y, f"{path}.{i}")
                else:
                    y = self.items(body, y, f"{path}.{i}")
        elif isinstance(node, Merge):
            self.result.groups[path] = node.op
            y = self.merge(node, x, path)
        elif isinstance(node, Ref):
            y = self.ref(node, x, path)
        else:  # pragma: no cover - the graph has no other node types
            raise TypeError(node)
        self.named[path] = y
        return y

    def items(self, items: list[Node], x: Tensor, path: str) -> Tensor:
        prefix = f"{path}." if path else ""
        for item in items:
            if type(item) is LayerNode:  # the common case, without walk's dispatch
                name = prefix + item.name
                x = self.named[name] = self.layer(item, x, name)
            else:
                x = self.walk(item, x, path)
        if path:
            self.named[path] = x
        return x

    def layer(self, node: LayerNode, x: Tensor, path: str) -> Tensor:
        layer = node.layer
        if layer.references:
            shapes: dict[str, Shape] = {}
            for ref in layer.references:
                target = getattr(layer, ref)
                if target is None:
                    continue
                full = self.lookup(target, path)
                if full is None:
                    message = f"{layer.kind}: {ref}: {self.unknown(target)}"
                    raise self.fail(node, path, message, x)
                shapes[target] = self.named[full].shape
            layer = layer.bind(shapes.__getitem__)
        try:
            out = _apply(layer, x.shape)
        except CnnCalcError as e:
            raise self.fail(node, path, str(e), x) from None
        y = _step(x, out, path)
        if out.warnings:
            self.result.warnings.extend(Problem(node.pos, path, w) for w in out.warnings)
        self.add_row(  # positional: this runs once per layer, 100k times for big specs
            Row(
                path,
                node.layer.kind,
                out.shape,
                out.params or 0,
                out.buffers,
                out.macs or 0,
                y.rf,
                y.jump,
                node.pos,
                (),
                (x.source,),
                out.shape.size or 0,
                out.warnings,
                None,
            )
        )
        return y

    def merge(self, node: Merge, x: Tensor, path: str) -> Tensor:
        outs: list[tuple[str, Tensor]] = []
        for i, branch in enumerate(node.branches):
            bpath = f"{path}.{branch.name or i}"
            outs.append((bpath, self.items(branch.items, x, bpath)))
        join = cast(Join, layer_class(node.op)())  # a merge's op is one of MERGES
        first_name, first = outs[0]
        shape = first.shape
        for i, (other_name, other) in enumerate(outs[1:], 1):
            try:
                shape = join.combine(shape, other.shape)
            except GeometryError as e:
                left = f"branch {_short(first_name, path)}" if i == 1 else "the branches before"
                message = (
                    f"{node.op}: {e} ({left} gives {shape}, "
                    f"branch {_short(other_name, path)} gives {other.shape})"
                )
                raise self.fail(node, path, message, x, tuple(t.source for _, t in outs)) from None
        rf = tuple(max(t.rf[d] for _, t in outs) for d in range(len(first.rf)))
        # the step of a branch at the output's size (mul broadcasts a 1x1 branch over it)
        jump = next(t.jump for _, t in outs if t.shape.spatial == shape.spatial)
        y = Tensor(shape, rf, jump, path)
        self.result.rows.append(
            Row(
                path,
                node.op,
                shape,
                0,
                0,
                0,
                y.rf,
                y.jump,
                node.pos,
                inputs=tuple(name for name, _ in outs),
                sources=tuple(t.source for _, t in outs),
                activations=shape.size or 0,
            )
        )
        return y

    def ref(self, node: Ref, x: Tensor, path: str) -> Tensor:
        found = self.lookup(node.target, path)
        if found is None:
            raise self.fail(node, path, self.unknown(node.target), x)
        return self.named[found]

    def lookup(self, name: str, path: str) -> str | None:
        """The full name ``name`` means when written at ``path``: names are lexically scoped,
        so ``input`` inside block call ``layer3.12`` is ``layer3.12.input`` if that exists,
        else ``layer3.input``, else ``input`` (innermost first). None when nothing matches."""
        scope = path.rpartition(".")[0]
        while True:
            full = f"{scope}.{name}" if scope else name
            if full in self.named:
                return full
            if not scope:
                return None
            scope = scope.rpartition(".")[0]

    def unknown(self, name: str) -> str:
        import difflib

        close = difflib.get_close_matches(name, list(self.named), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"no layer named {name!r} is defined before here{hint}"


def _kind(node: Node) -> str:
    if isinstance(node, LayerNode):
        return node.layer.kind
    if isinstance(node, Merge):
        return node.op
    if isinstance(node, Sequence):
        return node.kind
    return type(node).__name__.lower()


def _short(branch: str, merge: str) -> str:
    return branch[len(merge) + 1 :] if branch.startswith(merge + ".") else branch


def trace(net: Network, input: Shape | None = None) -> Trace:
    """Trace ``net`` from ``input`` (default: the spec's own input shape)."""
    x0 = input or net.input
    if input is not None and input != net.input:
        net = net._replace(input=input, input_hint=None)
    result = Trace(net)
    if net.input_hint is not None:
        result.warnings.append(net.input_hint)
    ones = tuple(1 for _ in x0.spatial)
    walker = _Walker(net, result)
    x = Tensor(x0, ones, ones)
    try:
        with without_gc_pauses():
            x = walker.items(net.body.items, x, "")
        result.output, result.output_source = x.shape, x.source
    except _Failed:
        pass
    result.shapes = {name: t.shape for name, t in walker.named.items()}
    if result.ok:
        for name, pos in net.outputs:
            found = walker.lookup(name, "")
            if found is None:
                result.errors.append(Problem(pos, name, f"outputs: {walker.unknown(name)}"))
            else:
                result.outputs[name] = walker.named[found].shape
    return result


def fold(trace: Trace, depth: int) -> list[Row]:
    """Rows with at most ``depth`` name parts; deeper rows summed into their ancestor's row.

    As torchinfo's ``depth``: ``fold(t, 1)`` shows each ResNet stage as one row,
    with the stage's output shape, summed counts and final receptive field.
    """
    folded: list[Row] = []
    key = None
    for row in trace.rows:
        parts = row.name.split(".")
        if len(parts) <= depth:
            folded.append(row)
            key = None
            continue
        prefix = ".".join(parts[:depth])
        if prefix != key:
            kind = trace.groups.get(prefix, "block")
            folded.append(row._replace(name=prefix, kind=kind, inputs=()))
            key = prefix
            continue
        last = folded[-1]
        folded[-1] = last._replace(
            output=row.output,
            params=last.params + row.params,
            buffers=last.buffers + row.buffers,
            macs=last.macs + row.macs,
            activations=last.activations + row.activations,
            rf=row.rf,
            jump=row.jump,
            warnings=last.warnings + row.warnings,
            error=row.error or last.error,
        )
    return folded


def expectation_problems(trace: Trace) -> list[Problem]:
    """What the spec's ``expect`` says that the trace does not deliver."""
    from .notation import format_shape

    net, problems = trace.network, []
    layout = net.layout
    expect = net.expect
    if expect.output and trace.output is not None and expect.output[0] != trace.output:
        want, pos = expect.output
        problems.append(
            Problem(
                pos,
                "",
                f"expected output {format_shape(want, layout)}, "
                f"got {format_shape(trace.output, layout)}",
            )
        )
    totals = trace.totals()
    for what, expected, actual in (
        ("parameters", expect.params, totals.params),
        ("MACs", expect.macs, totals.macs),
    ):
        if expected and trace.ok and expected[0] != actual:
            problems.append(
                Problem(expected[1], "", f"expected {expected[0]:,} {what}, got {actual:,}")
            )
    for name, (want, pos) in expect.outputs.items():
        got = trace.outputs.get(name)
        if got is None:
            if trace.ok:
                listed = ", ".join(trace.outputs) or "none: the spec lists no outputs"
                message = f"expected an output named {name!r}; the outputs are {listed}"
                problems.append(Problem(pos, name, message))
        elif got != want:
            message = (
                f"expected output {name} to be {format_shape(want, layout)}, "
                f"got {format_shape(got, layout)}"
            )
            problems.append(Problem(pos, name, message))
    for name, (want, pos) in expect.shapes.items():
        got = trace.shapes.get(name)
        if got is None:
            if trace.ok:
                problems.append(
                    Problem(pos, name, f"expected a layer named {name!r}; there is none")
                )
        elif got != want:
            problems.append(
                Problem(
                    pos,
                    name,
                    f"expected {name} to be {format_shape(want, layout)}, "
                    f"got {format_shape(got, layout)}",
                )
            )
    return problems
