"""Walk a network's graph from its input shape into rows of numbers, plus totals.

The graph (:class:`cnncalc.graph.Dag`) is a flat list of nodes naming their inputs; blocks,
repeats and references are the front ends' business, lowered away before tracing. A row
per node, each with its hierarchical name, output shape, counts and receptive field. The
tracer never formats anything: rendering is :mod:`cnncalc.render`'s job. When a node fails,
tracing stops and the rows so far are kept, with the failing one marked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, Union, cast

from cnncalc.core.errors import CnnCalcError, GeometryError, UsageError
from cnncalc.core.positions import Pos, Problem
from cnncalc.core.shapes import Shape
from cnncalc.graph import INPUT, Dag, DagNode, Network, without_gc_pauses
from cnncalc.kinds import Join, Layer, Outcome, RFStep

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
        self.output_sources: dict[str, str] = {}
        """The row each of the named outputs comes from, as ``output_source`` for ``output``."""
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


_new = tuple.__new__
"""Builds a named tuple from all its fields at once, without its generated ``__new__``."""
_UNCHANGED = [tuple(RFStep() for _ in range(n)) for n in range(8)]


def _step(t: Tensor, out: Outcome, source: str) -> Tensor:
    """The value a layer produces, with its receptive field [Araujo et al. 2019, eq. 1-2]."""
    if len(out.rf) != len(t.rf) or out.rf == _UNCHANGED[len(t.rf)]:
        # no spatial dims left, or a pointwise layer
        return _new(Tensor, (out.shape, t.rf, t.jump, source))
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
    return _new(Tensor, (out.shape, tuple(rf), tuple(jump), source))


class _Walker:
    """Traces a graph's nodes in order, keeping every output by name (aliases included)."""

    def __init__(self, result: Trace, x: Tensor):
        self.result = result
        self.out: dict[str, Tensor] = {INPUT: x}

    def fail(
        self, node: DagNode, message: str, x: Tensor, sources: tuple[str, ...] = ()
    ) -> _Failed:
        self.result.rows.append(
            Row(
                node.name,
                node.kind or node.layer.kind,
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
        self.result.errors.append(Problem(node.pos, node.name, message))
        return _Failed()

    def walk(self, dag: Dag) -> None:
        """Trace every node, defining each alias as soon as the nodes before it are traced."""
        out, add_row, warnings = self.out, self.result.rows.append, self.result.warnings
        aliases = iter(dag.aliases)
        ready, name, target = next(aliases, (-1, "", ""))
        for i, node in enumerate(dag.nodes):
            while ready == i:
                out[name] = out[target]
                ready, name, target = next(aliases, (-1, "", ""))
            layer = node.layer
            try:
                x = out[node.inputs[0]]
                if node.failure is not None:
                    raise self.fail(node, node.failure, x)
                if layer.joins:
                    out[node.name] = self.join(node, [out[name] for name in node.inputs])
                    continue
                if node.refs:
                    shapes = {written: out[full].shape for written, full in node.refs}
                    layer = layer.bind(shapes.__getitem__)
            except KeyError as e:  # a graph built by hand may name what is not there (yet)
                x = out[dag.nodes[i - 1].name] if i else out[INPUT]
                message = f"no layer named {e.args[0]!r} is defined before here"
                raise self.fail(node, message, x) from None
            try:
                o = _apply(layer, x.shape)
            except CnnCalcError as e:
                raise self.fail(node, str(e), x) from None
            y = out[node.name] = _step(x, o, node.name)
            if o.warnings:
                warnings.extend(Problem(node.pos, node.name, w) for w in o.warnings)
            add_row(  # all fields at once: this runs once per layer, 100k times for big specs
                _new(
                    Row,
                    (
                        node.name,
                        node.kind or node.layer.kind,
                        o.shape,
                        o.params or 0,
                        o.buffers,
                        o.macs or 0,
                        y.rf,
                        y.jump,
                        node.pos,
                        (),
                        (x.source,),
                        o.shape.size or 0,
                        o.warnings,
                        None,
                    ),
                )
            )
        while ready >= 0:
            out[name] = out[target]
            ready, name, target = next(aliases, (-1, "", ""))

    def join(self, node: DagNode, ins: list[Tensor]) -> Tensor:
        """Combine the inputs left to right with the kind's rule; the widest receptive field."""
        path, kind = node.name, node.layer.kind
        join = cast(Join, node.layer)
        labels = node.labels or node.inputs
        first = ins[0]
        shape = first.shape
        try:
            join.admit(len(ins))  # a graph built by hand was not checked where it was read
        except UsageError as e:
            entry = self.out[node.inputs[0] if node.entry is None else node.entry]
            raise self.fail(node, str(e), entry, tuple(t.source for t in ins)) from None
        for i, other in enumerate(ins[1:], 1):
            try:
                shape = join.combine(shape, other.shape)
            except GeometryError as e:
                left = f"branch {_short(labels[0], path)}" if i == 1 else "the branches before"
                message = (
                    f"{kind}: {e} ({left} gives {shape}, "
                    f"branch {_short(labels[i], path)} gives {other.shape})"
                )
                entry = self.out[node.inputs[0] if node.entry is None else node.entry]
                raise self.fail(node, message, entry, tuple(t.source for t in ins)) from None
        notes = join.notes(tuple(t.shape for t in ins))
        self.result.warnings.extend(Problem(node.pos, path, note) for note in notes)
        rf = tuple(max(t.rf[d] for t in ins) for d in range(len(first.rf)))
        # the step of an input at the output's size (mul broadcasts a 1x1 input over it), or
        # of the first (concatenated along a spatial axis, the output is larger than each)
        jump = next((t.jump for t in ins if t.shape.spatial == shape.spatial), first.jump)
        y = Tensor(shape, rf, jump, path)
        self.result.rows.append(
            Row(
                path,
                kind,
                shape,
                0,
                0,
                0,
                y.rf,
                y.jump,
                node.pos,
                inputs=labels,
                sources=tuple(t.source for t in ins),
                activations=shape.size or 0,
                warnings=notes,
            )
        )
        return y


def _short(branch: str, merge: str) -> str:
    """A branch as the merge's row names it: relative to the merge, the network's input as
    ``input``."""
    if branch == INPUT:
        return "input"
    return branch[len(merge) + 1 :] if branch.startswith(merge + ".") else branch


def trace(net: Network, input: Shape | None = None) -> Trace:
    """Trace ``net`` from ``input`` (default: the spec's own input shape)."""
    if input is None and net.input_needed:
        raise UsageError(net.input_needed)
    x0 = input or net.input
    if input is not None and input != net.input:
        net = net._replace(input=input, input_hint=None)
    result = Trace(net)
    if net.input_hint is not None:
        result.warnings.append(net.input_hint)
    ones = tuple(1 for _ in x0.spatial)
    x = Tensor(x0, ones, ones)
    walker = _Walker(result, x)
    with without_gc_pauses():
        dag = net.graph
        try:
            walker.walk(dag)
            x = walker.out[dag.output]
            result.output, result.output_source = x.shape, x.source
        except _Failed:
            pass
    out = walker.out
    result.shapes = {name: t.shape for name, t in out.items() if name}
    traced = len(result.rows) - len(result.errors)
    result.groups = {path: kind for start, path, kind in dag.groups if start <= traced}
    if result.ok:
        for name, pos, full, message in dag.outputs:
            if full is None:
                result.errors.append(Problem(pos, name, message))
            else:
                result.outputs[name] = out[full].shape
                result.output_sources[name] = out[full].source
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
    from cnncalc.core.notation import format_shape

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
