"""The network as data: a flat graph of nodes that name their inputs (:class:`Dag`), and the
tree the YAML and inline front ends build (sequences, parallel branches with a merge,
repetition, references), which :func:`lower` turns into that graph.

Tree nodes carry a local name and the source position they came from; lowering gives every
graph node its full hierarchical name (``layer3.12.conv2``) and resolves references by name.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, NoReturn

from cnncalc.core.positions import Pos, Problem
from cnncalc.core.shapes import Shape
from cnncalc.kinds import REGISTRY, Layer


class LayerNode(NamedTuple):
    name: str
    pos: Pos
    layer: Layer


class Sequence(NamedTuple):
    """Items applied one after another; ``kind`` is the block name for a block call."""

    name: str
    pos: Pos
    items: list[Node]
    kind: str = "sequence"


MERGES = tuple(kind for kind, cls in REGISTRY.items() if cls.joins)
"""The kinds that join the branches of a merge (concat, add, mul, ...)."""


class Merge(NamedTuple):
    """Parallel branches from the same input, joined by the kind ``op`` (one of MERGES)."""

    name: str
    pos: Pos
    op: str
    branches: list[Sequence]


class Repeat(NamedTuple):
    """``times`` copies of a body; a body that does not depend on the iteration is stored once."""

    name: str
    pos: Pos
    times: int
    bodies: list[Sequence]

    def body(self, i: int) -> Sequence:
        return self.bodies[0] if len(self.bodies) == 1 else self.bodies[i]


class Ref(NamedTuple):
    """Continue from the output of an earlier named node (a skip connection)."""

    name: str
    pos: Pos
    target: str


Node = LayerNode | Sequence | Merge | Repeat | Ref
"""Every node has a local name and the source position it was written at.

Nodes are named tuples, not dataclasses: a zoo network's trace starts in ~120 ms, and
generating dataclass methods for these classes alone took 4 ms of it."""


class Expectations:
    """What ``cnncalc check`` verifies after tracing; each with the position it was written at."""

    __slots__ = ("output", "params", "macs", "shapes", "outputs")

    def __init__(
        self,
        output: tuple[Shape, Pos] | None = None,
        params: tuple[int, Pos] | None = None,
        macs: tuple[int, Pos] | None = None,
        shapes: dict[str, tuple[Shape, Pos]] | None = None,
        outputs: dict[str, tuple[Shape, Pos]] | None = None,
    ) -> None:
        self.output = output
        self.params = params
        self.macs = macs
        self.shapes = shapes or {}
        self.outputs = outputs or {}
        """The shape of each named output (``expect: {output: {NAME: SHAPE}}``)."""


INPUT = ""
"""The name of the network's input among a graph node's inputs."""


class DagNode(NamedTuple):
    """One operation of the traced graph, reading the outputs of the nodes it names.

    A single-input kind reads ``inputs[0]``; a joining kind (concat, add, ...) combines all
    its inputs. A name in ``inputs`` or ``refs`` is a node's or an alias's full name, or
    :data:`INPUT`."""

    name: str
    pos: Pos
    layer: Layer
    inputs: tuple[str, ...]
    refs: tuple[tuple[str, str], ...] = ()
    """For parameters naming a layer (``crop to=up1``): each name as written, and the full
    name it resolved to, whose shape the layer is bound to."""
    labels: tuple[str, ...] = ()
    """A join's inputs as its row shows them (a merge's branches); default: ``inputs``."""
    entry: str | None = None
    """The value a merge was entered with, which a failing join's row shows; default:
    its first input."""
    failure: str | None = None
    """Why the front end could not build this node (an unknown reference): tracing stops
    here with this message, on a row of this node's kind showing ``inputs[0]``."""
    kind: str = ""
    """The row's kind, when not the layer's (``ref`` for a failed ``from``, ``yolo`` for a
    Darknet head, whose layer is a ``head``)."""


class Dag:
    """A network as a graph: nodes in an order where each comes after its inputs.

    ``aliases`` are the other names an output goes by (a block call, a repeat, a merge
    branch, a ``from``), each defined once ``ready`` nodes have been traced, for names and
    shapes as the user wrote them; ``groups`` the kind of each container (block name,
    ``repeat``, the join kind), entered before ``start`` nodes, for folded rows and diagrams;
    ``outputs`` the network's named outputs with the full name each resolved to, or None and
    why not; ``output`` the name of its output (default: the last node's)."""

    __slots__ = ("nodes", "aliases", "groups", "outputs", "output")

    def __init__(
        self,
        nodes: list[DagNode],
        aliases: list[tuple[int, str, str]] | None = None,
        groups: list[tuple[int, str, str]] | None = None,
        outputs: list[tuple[str, Pos, str | None, str]] | None = None,
        output: str | None = None,
    ) -> None:
        self.nodes = nodes
        self.output = output if output is not None else nodes[-1].name if nodes else INPUT
        self.aliases = aliases or []
        """(ready, name, the name whose output it is), in the order they are defined."""
        self.groups = groups or []
        """(start, path, kind), in the order the containers are entered."""
        self.outputs = outputs or []
        """(name, position, full name or None, message when None)."""


TASKS = ("classification", "segmentation", "detection")
"""The tasks a spec's ``task`` can name, in the order ``zoo list`` groups them."""


class Network(NamedTuple):
    name: str
    input: Shape
    body: Sequence
    layout: str = "hwc"
    expect: Expectations = Expectations()
    source: str = "<spec>"
    """Where the spec came from, for messages: a file name, a zoo name or ``<inline>``."""
    text: str = ""
    """The spec's text, so an error can quote the offending line."""
    description: str = ""
    input_hint: Problem | None = None
    """A warning that the input, read in the default layout, looks like the other one."""
    outputs: tuple[tuple[str, Pos], ...] = ()
    """The named layers whose outputs are the network's (detection heads), when it has
    several; none means the last layer's output is the one."""
    graph: Dag | None = None
    """The graph, when a front end built it directly; None: it is lowered from ``body``."""
    task: str = ""
    """What the network does, one of TASKS, or nothing said; ``zoo list`` groups by it."""
    origin: str = ""
    """Where the architecture comes from, in a few words: ``torchvision``, ``BVLC Caffe``."""
    read_from: str = ""
    """The format the network was read from when not cnncalc's own (``darknet``), for
    figures that format's tools print (Darknet's BFLOPs)."""


class _Lowering:
    """A tree's nodes in the order the tree runs them, references resolved where written.

    A name is defined once its node or container is complete, so a reference sees exactly
    the names before it, innermost scope first. The first reference that resolves to nothing
    becomes a failing node, and lowering stops there: tracing cannot go past it."""

    def __init__(self) -> None:
        self.nodes: list[DagNode] = []
        self.defined: dict[str, str] = {}
        """Every name defined so far, in order, with the name whose output it is."""
        self.aliases: list[tuple[int, str, str]] = []
        self.groups: list[tuple[int, str, str]] = []

    def alias(self, name: str, target: str) -> None:
        if self.defined.get(name) != target:
            self.defined[name] = target
            self.aliases.append((len(self.nodes), name, target))

    def fail(self, name: str, pos: Pos, layer: Layer, x: str, message: str, kind: str) -> NoReturn:
        self.nodes.append(DagNode(name, pos, layer, (x,), failure=message, kind=kind))
        raise _Stop

    def walk_as(self, node: Node, x: str, path: str) -> str:
        """Lower ``node`` under the full name ``path`` from the value named ``x``."""
        if isinstance(node, LayerNode):
            y = self.layer(node, x, path)
        elif isinstance(node, Sequence):
            self.groups.append((len(self.nodes), path, node.kind))
            y = self.items(node.items, x, path)
        elif isinstance(node, Repeat):
            self.groups.append((len(self.nodes), path, "repeat"))
            y = x
            for i in range(node.times):
                # A one-item body is named by the iteration alone: layer3.12, not layer3.12.block
                body = node.body(i).items
                if len(body) == 1:
                    y = self.walk_as(body[0], y, f"{path}.{i}")
                else:
                    y = self.items(body, y, f"{path}.{i}")
        elif isinstance(node, Merge):
            self.groups.append((len(self.nodes), path, node.op))
            y = self.merge(node, x, path)
        elif isinstance(node, Ref):
            found = self.lookup(node.target, path)
            if found is None:
                self.fail(path, node.pos, _REF, x, self.unknown(node.target), "ref")
            y = found
        else:  # pragma: no cover - the tree has no other node types
            raise TypeError(node)
        self.alias(path, y)
        return y

    def items(self, items: list[Node], x: str, path: str) -> str:
        prefix = f"{path}." if path else ""
        add, defined = self.nodes.append, self.defined
        for item in items:
            if type(item) is LayerNode and not item.layer.references:
                # the common case, inline: this runs once per layer, 100k times for big specs
                name = prefix + item.name
                add(_new(DagNode, (name, item.pos, item.layer, (x,), (), (), None, None, "")))
                x = defined[name] = name
            elif type(item) is LayerNode:
                x = self.layer(item, x, prefix + item.name)
            else:
                x = self.walk_as(item, x, prefix + item.name)
        if path:
            self.alias(path, x)
        return x

    def layer(self, node: LayerNode, x: str, path: str) -> str:
        """A layer node, with the names its parameters refer to resolved from here."""
        layer = node.layer
        refs = []
        for ref in layer.references:
            target = getattr(layer, ref)
            if target is None:
                continue
            full = self.lookup(target, path)
            if full is None:
                message = f"{layer.kind}: {ref}: {self.unknown(target)}"
                self.fail(path, node.pos, layer, x, message, layer.kind)
            refs.append((target, full))
        self.nodes.append(DagNode(path, node.pos, layer, (x,), tuple(refs)))
        self.defined[path] = path
        return path

    def merge(self, node: Merge, x: str, path: str) -> str:
        labels, inputs = [], []
        for i, branch in enumerate(node.branches):
            label = f"{path}.{branch.name or i}"
            labels.append(label)
            inputs.append(self.items(branch.items, x, label))
        join = _JOINS.get(node.op)
        if join is None:
            join = _JOINS[node.op] = REGISTRY[node.op]()
        self.nodes.append(
            DagNode(path, node.pos, join, tuple(inputs), labels=tuple(labels), entry=x)
        )
        self.defined[path] = path
        return path

    def lookup(self, name: str, path: str) -> str | None:
        """The full name ``name`` means when written at ``path``: names are lexically scoped,
        so ``input`` inside block call ``layer3.12`` is ``layer3.12.input`` if that exists,
        else ``layer3.input``, else ``input`` (innermost first). None when nothing matches."""
        scope = path.rpartition(".")[0]
        while True:
            full = f"{scope}.{name}" if scope else name
            if full in self.defined:
                return full
            if not scope:
                return None
            scope = scope.rpartition(".")[0]

    def unknown(self, name: str) -> str:
        import difflib

        close = difflib.get_close_matches(name, list(self.defined), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"no layer named {name!r} is defined before here{hint}"


_new = tuple.__new__
"""Builds a DagNode from all its fields at once, without NamedTuple's keyword handling."""
_JOINS: dict[str, Layer] = {}
"""One value of each joining kind: they have no parameters."""


class _Stop(Exception):
    """Lowering reached a reference to nothing; the failing node is the last one."""


_REF = REGISTRY["identity"]()
"""The layer of a node standing for a failed ``from``: it never runs."""


def lower(net: Network) -> Dag:
    """The network's graph: the one a front end built, or its tree's, node by node."""
    if net.graph is not None:
        return net.graph
    lowering = _Lowering()
    outputs: list[tuple[str, Pos, str | None, str]] = []
    output = None
    try:
        output = lowering.items(net.body.items, INPUT, "")
    except _Stop:
        pass
    else:
        for name, pos in net.outputs:
            full = lowering.lookup(name, "")
            message = "" if full is not None else f"outputs: {lowering.unknown(name)}"
            outputs.append((name, pos, full, message))
    return Dag(lowering.nodes, lowering.aliases, lowering.groups, outputs, output)


@contextmanager
def without_gc_pauses() -> Iterator[None]:
    """Builds and traces allocate many small acyclic objects; the cycle collector's passes
    over them grow with the heap and made 100k-layer specs superlinear, so pause it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- a network as plain data (the bundled zoo is stored compiled, to skip parsing YAML) ---------


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _shape_data(shape: Shape) -> list[Any]:
    return [list(shape.spatial), shape.channels]


def _shape(data: list[Any]) -> Shape:
    return Shape(tuple(data[0]), data[1])


class _Encoder:
    """Nodes as compact lists, with each distinct layer stored once in a table."""

    def __init__(self) -> None:
        self.layers: list[list[Any]] = []
        self.index: dict[Layer, int] = {}

    def node(self, node: Node) -> list[Any]:
        head = [node.name, *node.pos]
        if isinstance(node, LayerNode):
            return ["layer", *head, self.layer(node.layer)]
        if isinstance(node, Sequence):
            return ["sequence", *head, node.kind, [self.node(n) for n in node.items]]
        if isinstance(node, Merge):
            return ["merge", *head, node.op, [self.node(b) for b in node.branches]]
        if isinstance(node, Repeat):
            return ["repeat", *head, node.times, [self.node(b) for b in node.bodies]]
        assert isinstance(node, Ref)
        return ["ref", *head, node.target]

    def layer(self, layer: Layer) -> int:
        if layer not in self.index:
            params = {
                name: _plain(getattr(layer, name))
                for name, p in layer.parameters.items()
                if getattr(layer, name) != p.default
            }
            self.index[layer] = len(self.layers)
            self.layers.append([layer.kind, params])
        return self.index[layer]


def _decoder(table: list[list[Any]]) -> Callable[[list[Any]], Node]:
    from cnncalc.kinds import REGISTRY

    layers = [
        REGISTRY[kind](**{k: _tuples(v) for k, v in params.items()}) for kind, params in table
    ]

    def node(data: list[Any]) -> Node:
        tag, name, line, column, value = data[:5]
        pos = Pos(line, column)
        if tag == "layer":
            return LayerNode(name, pos, layers[value])
        if tag == "ref":
            return Ref(name, pos, value)
        children = [node(n) for n in data[5]]
        if tag == "sequence":
            return Sequence(name, pos, children, value)
        if tag == "merge":
            return Merge(name, pos, value, children)  # type: ignore[arg-type]
        return Repeat(name, pos, value, children)  # type: ignore[arg-type]

    return node


def network_data(net: Network) -> dict[str, Any]:
    """A network as JSON-able data, all but its source text."""
    encoder = _Encoder()
    body = encoder.node(net.body)
    expect = net.expect
    return {
        "name": net.name,
        "description": net.description,
        "input": _shape_data(net.input),
        "layout": net.layout,
        "source": net.source,
        "layers": encoder.layers,
        "body": body,
        "expect": {
            "output": expect.output and [_shape_data(expect.output[0]), list(expect.output[1])],
            "params": expect.params and [expect.params[0], list(expect.params[1])],
            "macs": expect.macs and [expect.macs[0], list(expect.macs[1])],
            "shapes": {k: [_shape_data(s), list(p)] for k, (s, p) in expect.shapes.items()},
            "outputs": {k: [_shape_data(s), list(p)] for k, (s, p) in expect.outputs.items()},
        },
        "outputs": [[name, *pos] for name, pos in net.outputs],
        "task": net.task,
        "origin": net.origin,
    }


def network_from_data(data: dict[str, Any], text: str = "") -> Network:
    e = data["expect"]
    expect = Expectations(
        e["output"] and (_shape(e["output"][0]), Pos(*e["output"][1])),
        e["params"] and (e["params"][0], Pos(*e["params"][1])),
        e["macs"] and (e["macs"][0], Pos(*e["macs"][1])),
        {k: (_shape(s), Pos(*p)) for k, (s, p) in e["shapes"].items()},
        {k: (_shape(s), Pos(*p)) for k, (s, p) in e["outputs"].items()},
    )
    body = _decoder(data["layers"])(data["body"])
    assert isinstance(body, Sequence)
    return Network(
        data["name"],
        _shape(data["input"]),
        body,
        data["layout"],
        expect,
        data["source"],
        text,
        data["description"],
        outputs=tuple((name, Pos(line, column)) for name, line, column in data["outputs"]),
        task=data["task"],
        origin=data["origin"],
    )
