"""Walk a network's graph from its input shape into rows of numbers, plus totals.

The graph (:class:`cnncalc.graph.Dag`) is a flat list of nodes naming their inputs; blocks,
repeats and references are the front ends' business, lowered away before tracing. A row
per node, each with its hierarchical name, output shape, counts and receptive field. The
tracer never formats anything: rendering is :mod:`cnncalc.render`'s job. When a node fails,
tracing stops and the rows so far are kept, with the failing one marked.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import NamedTuple, cast

from cnncalc.core.errors import CnnCalcError, GeometryError, UsageError
from cnncalc.core.positions import Pos, Problem
from cnncalc.core.shapes import Shape
from cnncalc.graph import INPUT, Dag, DagNode, Network, without_gc_pauses
from cnncalc.kinds import Join, Layer, Outcome, RFStep
from cnncalc.kinds.base import Made, how_many

from .receptive import MAX_PERIOD, PIXEL, Footprint, Number, compose, union, widened

WORK = 300_000
"""Units of periods (longer than 1) one trace goes over exactly, well within a second; the
layers after give a bound (:func:`cnncalc.analysis.receptive.compose`)."""

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}


class Tensor(NamedTuple):
    """A traced value: its shape and, per input dimension, what its units depend on."""

    shape: Shape
    footprint: tuple[Footprint, ...]
    source: str = ""
    """The row that produced this value ("" for the network's input)."""
    rf: tuple[int, ...] = ()
    """Per dimension, the footprint's receptive field and jump, as the rows show them: made
    once for a value, whatever number of rows pass it on."""
    jump: tuple[Number, ...] = ()


class Row(NamedTuple):
    name: str
    """Hierarchical name, e.g. ``layer3.12.conv2``; its dots give the nesting depth."""
    kind: str
    output: Shape
    params: int
    buffers: int
    macs: int
    rf: tuple[int, ...]
    """Per input dimension, the most input pixels one output unit depends on
    (:mod:`cnncalc.analysis.receptive`)."""
    jump: tuple[Number, ...]
    """Per input dimension, the input pixels the output units advance per unit."""
    pos: Pos
    inputs: tuple[str, ...] = ()
    """For merges: the names of the branches that feed it."""
    sources: tuple[str, ...] = ()
    """The rows whose outputs this row consumes ("" for the network's input): the graph's edges."""
    activations: int = 0
    """Elements this row keeps in memory: its output, or the sum over a folded block."""
    warnings: tuple[str, ...] = ()
    error: str | None = None
    shares: str = ""
    """The row whose weights this one applies again; its own ``params`` and ``buffers``
    are then 0: they are counted once, on that row (its MACs are this row's own)."""
    frozen: int = 0
    """Of ``params``, those not trained (a layer or block marked ``frozen``)."""


class Totals(NamedTuple):
    params: int
    """Every parameter, trainable or frozen, weights applied at several places counted once."""
    buffers: int
    macs: int
    activations: int
    """Elements of every layer output, summed (memory needed to keep them all)."""
    frozen: int = 0
    """Of ``params``, those not trained."""

    @property
    def trainable(self) -> int:
        return self.params - self.frozen


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
        params = buffers = macs = activations = frozen = 0
        for r in self.rows:
            params += r.params
            buffers += r.buffers
            macs += r.macs
            activations += r.activations
            frozen += r.frozen
        return Totals(params, buffers, macs, activations, frozen)

    def receptive_field(self) -> tuple[tuple[int, ...], tuple[Number, ...]]:
        last = self.rows[-1] if self.rows else None
        ones = tuple(1 for _ in self.network.input.spatial)
        return (last.rf, last.jump) if last else (ones, ones)


class _Failed(Exception):
    """Stops the walk after a layer failed; the row and the problem are already recorded."""


@lru_cache(maxsize=4096)
def _apply(layer: Layer, x: Shape) -> Outcome:
    """Layers are frozen values, so a repeated layer on a repeated shape is computed once.
    Every kind's ``apply`` refuses a flat input to a spatial kind, for the tracer and the
    Python API alike; a network also needs every depth (a bare ``conv`` or ``fc`` is refused)."""
    out = layer.apply(x)
    if out.shape.channels is None and x.channels is not None:
        raise GeometryError(how_many(layer))
    return out


_new = tuple.__new__
"""Builds a named tuple from all its fields at once, without its generated ``__new__``."""
_UNCHANGED = [tuple(RFStep() for _ in range(n)) for n in range(8)]


def _step(t: Tensor, out: Outcome, source: str, exact: bool = True) -> Tensor:
    """The value a layer produces, with what its units depend on (:mod:`.receptive`): a bound
    unless ``exact``."""
    if len(out.rf) != len(t.footprint) or out.rf == _UNCHANGED[len(t.footprint)]:
        # no spatial dims left, or a pointwise layer
        return _new(Tensor, (out.shape, t.footprint, source, t.rf, t.jump))
    if exact:
        fps = tuple(map(compose, t.footprint, out.rf))
    else:
        fps = tuple(compose(fp, step, False) for fp, step in zip(t.footprint, out.rf))
    return _tensor(out.shape, fps, source)


def _tensor(shape: Shape, footprint: tuple[Footprint, ...], source: str) -> Tensor:
    rf = tuple([fp[4] for fp in footprint])  # Footprint.rf
    jump = tuple([fp[5] for fp in footprint])  # Footprint.jump
    return _new(Tensor, (shape, footprint, source, rf, jump))


class _Walker:
    """Traces a graph's nodes in order, keeping every output by name (aliases included)."""

    def __init__(self, result: Trace, x: Tensor):
        self.result = result
        self.out: dict[str, Tensor] = {INPUT: x}
        self.dag = Dag([])
        self.budget = WORK
        """Units of periods longer than 1 the trace may still go over exactly."""

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
        self.dag = dag
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
                    layer = layer.bind(shapes.__getitem__, self.made(dict(node.refs)))
            except KeyError as e:  # a graph built by hand may name what is not there (yet)
                x = out[dag.nodes[i - 1].name] if i else out[INPUT]
                message = f"no layer named {e.args[0]!r} is defined before here"
                raise self.fail(node, message, x) from None
            except CnnCalcError as e:  # a layer named whose shape it cannot use (crop to= flat)
                raise self.fail(node, str(e), x) from None
            try:
                o = _apply(layer, x.shape)
            except CnnCalcError as e:
                raise self.fail(node, str(e), x) from None
            shares = node.shares
            if shares:
                o, shares = self.weights(node, x, o)
            y = out[node.name] = _step(x, o, node.name, self.budget > 0)
            if o.warnings:
                warnings.extend(Problem(node.pos, node.name, w) for w in o.warnings)
            if y.footprint is not x.footprint:  # composed, not passed on
                for fp, step in zip(y.footprint, o.rf):
                    if fp.period != 1:  # the work of going over a period: 8 times a window's
                        self.budget -= fp.period * (1 if step.map == "window" else 8)
                        if not fp.period:  # a bound, not exact
                            self.bounded(node, x, y)
                            break
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
                        shares,
                        o.params or 0 if node.frozen else 0,
                    ),
                )
            )
        while ready >= 0:
            out[name] = out[target]
            ready, name, target = next(aliases, (-1, "", ""))

    def weights(self, node: DagNode, x: Tensor, o: Outcome) -> tuple[Outcome, str]:
        """The outcome of a node that applies another's weights, its parameters and buffers
        counted there, once the weights are seen to fit its input, and the row it shares
        them with: none when the owner holds nothing (the ReLU of a shared block)."""
        owner = self.nodes[node.shares]
        if owner.layer.kind != node.layer.kind:  # a reader that does not check it (Caffe)
            message = f"shares the weights of {owner.name}, a {owner.layer.kind}"
            raise self.fail(node, message, x)
        had = self.out[owner.inputs[0]].shape
        if had.channels != x.shape.channels:
            message = (
                f"shares {owner.name}'s weights, made for {had.channels} input channels, "
                f"but its input has {x.shape.channels}"
            )
            raise self.fail(node, message, x)
        held = _apply(owner.layer, had)
        mine, theirs = o.params or 0, held.params or 0
        if mine != theirs:
            message = (
                f"shares {owner.name}'s {theirs:,} parameters, but as written it has "
                f"{mine:,}: its settings differ"
            )
            raise self.fail(node, message, x)
        if not theirs and not held.buffers:
            return o, ""
        return o._replace(params=0, buffers=0), owner.name

    def made(self, full: dict[str, str]) -> Made:
        """The layer that gave each name written (``full`` gives its node), and what it read."""

        def made(written: str) -> tuple[Layer, Shape]:
            node = self.nodes[self.out[full[written]].source]
            return node.layer, self.out[node.inputs[0]].shape

        return made

    @cached_property
    def nodes(self) -> dict[str, DagNode]:
        """The graph's nodes by name, indexed when a layer first names one or shares its
        weights."""
        return {node.name: node for node in self.dag.nodes}

    def bounded(self, node: DagNode, x: Tensor, y: Tensor) -> None:
        """Say so where a receptive field becomes a bound rather than exact."""
        if all(fp.exact for fp in y.footprint) or not all(fp.exact for fp in x.footprint):
            return
        why = (
            f"its period is longer than {MAX_PERIOD} units"
            if self.budget > 0
            else f"the layers before went over {WORK:,} units of periods"
        )
        message = f"the receptive field from here on is an upper bound: {why}, too long to go over"
        self.result.warnings.append(Problem(node.pos, node.name, message))

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
        y = _tensor(shape, _merged(ins, shape), path)
        if any(fp.exact for t in ins for fp in t.footprint):
            self.bounded(node, first, y)
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


def _merged(ins: list[Tensor], shape: Shape) -> tuple[Footprint, ...]:
    """What a merge's units depend on: what the units at their position in each input depend
    on. An input of another size or stride (mul broadcasts a 1x1 gate over the output; a
    concatenation along a spatial axis is larger than each input) adds its receptive field."""
    first = ins[0]
    same = [t for t in ins if t.shape.spatial == shape.spatial] or [first]
    fps = []
    for d, fp in enumerate(same[0].footprint):
        aligned = [t.footprint[d] for t in same if t.footprint[d].jump == fp.jump]
        merged = union(aligned)
        fps.append(widened(merged, max(t.footprint[d].rf for t in ins)))
    return tuple(fps)


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
    x = _tensor(x0, tuple(PIXEL for _ in x0.spatial), "")
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
    with the stage's output shape, summed counts and final receptive field. A merge folds
    with its branches into one row: the merge's output, the branches' counts.
    """
    folded: list[Row] = []
    key = None
    owner: str | None = ""
    """What the folded row shares: "" nothing yet, None something of its own."""
    for row in trace.rows:
        parts = row.name.split(".")
        if len(parts) <= depth and row.name != key:  # a merge's own row ends its branches'
            folded.append(row)
            key = None
            continue
        prefix = ".".join(parts[:depth])
        if row.shares:
            mine = _folded_owner(row, prefix)
            owner = mine if prefix != key or owner in ("", mine) else None
        elif row.params or row.buffers:
            owner = None
        elif prefix != key:
            owner = ""
        if prefix != key:
            kind = trace.groups.get(prefix, "block")
            folded.append(row._replace(name=prefix, kind=kind, inputs=(), shares=owner or ""))
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
            shares=owner or "",
            frozen=last.frozen + row.frozen,
        )
    return folded


def _folded_owner(row: Row, prefix: str) -> str:
    """What a folded row shares, from its first row: the container at the same place as
    ``prefix`` around that row's owner (``cls3`` for ``cls4.conv1`` sharing ``cls3.conv1``)."""
    if not row.shares:
        return ""
    inside = row.name.count(".") - prefix.count(".")
    return row.shares.rsplit(".", inside)[0] if inside else row.shares


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
        ("trainable parameters", expect.trainable, totals.trainable),
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
