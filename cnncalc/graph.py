"""The network as data: sequences, parallel branches with a merge, repetition, references.

Nodes carry a local name and the source position they came from; full
hierarchical names (``layer3.12.conv2``) are built by the tracer as it walks.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from .layers import REGISTRY, Layer, Shape


class Pos(NamedTuple):
    """A 1-based line and column in a source (a spec file or an inline string)."""

    line: int
    column: int


NOWHERE = Pos(0, 0)


class Problem(NamedTuple):
    """An error or warning with its place in the source and the layer path it concerns."""

    pos: Pos
    path: str
    message: str


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
    from .layers import REGISTRY

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
    )
