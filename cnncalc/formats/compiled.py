"""A network as plain JSON-able data and back: its graph with each distinct layer stored once.

The bundled zoo is stored so (``cnncalc/zoo/compiled/NAME.json``), so that ``cnncalc trace
resnet152`` need not import and run a YAML parser; a test keeps the compiled files equal to
what the specs give.
"""

from __future__ import annotations

from typing import Any

from cnncalc.core.positions import Pos
from cnncalc.core.shapes import Shape
from cnncalc.graph import Dag, DagNode, Expectations, Network
from cnncalc.kinds import REGISTRY, Layer


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _shape_data(shape: Shape) -> list[Any]:
    return [list(shape.spatial), shape.channels]


def _shape(data: list[Any]) -> Shape:
    return Shape(tuple(data[0]), data[1])


class _Layers:
    """Each distinct layer once, as its kind and the parameters that differ from the defaults."""

    def __init__(self) -> None:
        self.table: list[list[Any]] = []
        self.index: dict[Layer, int] = {}

    def __call__(self, layer: Layer) -> int:
        if layer not in self.index:
            params = {
                name: _plain(getattr(layer, name))
                for name, p in layer.parameters.items()
                if getattr(layer, name) != p.default
            }
            self.index[layer] = len(self.table)
            self.table.append([layer.kind, params])
        return self.index[layer]


_OPTIONAL = ("refs", "labels", "entry", "failure", "kind", "shares", "frozen")
"""A node's fields after its inputs, stored only when they are not their defaults."""


def _node_data(node: DagNode, layer: int) -> list[Any]:
    extra = {
        field: _plain(getattr(node, field))
        for field in _OPTIONAL
        if getattr(node, field) != DagNode._field_defaults[field]
    }
    return [node.name, *node.pos, layer, list(node.inputs), *([extra] if extra else [])]


def network_data(net: Network) -> dict[str, Any]:
    """A network as JSON-able data, all but its source text."""
    layers = _Layers()
    dag = net.graph
    nodes = [_node_data(node, layers(node.layer)) for node in dag.nodes]
    expect = net.expect
    return {
        "name": net.name,
        "description": net.description,
        "input": _shape_data(net.input),
        "layout": net.layout,
        "source": net.source,
        "layers": layers.table,
        "nodes": nodes,
        "aliases": [list(a) for a in dag.aliases],
        "groups": [list(g) for g in dag.groups],
        "outputs": [[name, *pos, full, message] for name, pos, full, message in dag.outputs],
        "output": dag.output,
        "expect": {
            "output": expect.output and [_shape_data(expect.output[0]), list(expect.output[1])],
            "params": expect.params and [expect.params[0], list(expect.params[1])],
            "macs": expect.macs and [expect.macs[0], list(expect.macs[1])],
            **(
                {"trainable": [expect.trainable[0], list(expect.trainable[1])]}
                if expect.trainable
                else {}
            ),
            "shapes": {k: [_shape_data(s), list(p)] for k, (s, p) in expect.shapes.items()},
            "outputs": {k: [_shape_data(s), list(p)] for k, (s, p) in expect.outputs.items()},
        },
        "task": net.task,
        "origin": net.origin,
    }


def network_from_data(data: dict[str, Any], text: str = "") -> Network:
    """The network :func:`network_data` describes."""
    layers = [
        REGISTRY[kind](**{k: _tuples(v) for k, v in params.items()})
        for kind, params in data["layers"]
    ]
    nodes = []
    for name, line, column, layer, inputs, *extra in data["nodes"]:
        fields = {k: _tuples(v) for k, v in extra[0].items()} if extra else {}
        nodes.append(DagNode(name, Pos(line, column), layers[layer], tuple(inputs), **fields))
    outputs = [
        (name, Pos(line, column), full, message)
        for name, line, column, full, message in data["outputs"]
    ]
    dag = Dag(
        nodes,
        [tuple(a) for a in data["aliases"]],
        [tuple(g) for g in data["groups"]],
        outputs,
        data["output"],
    )
    e = data["expect"]
    expect = Expectations(
        e["output"] and (_shape(e["output"][0]), Pos(*e["output"][1])),
        e["params"] and (e["params"][0], Pos(*e["params"][1])),
        e["macs"] and (e["macs"][0], Pos(*e["macs"][1])),
        {k: (_shape(s), Pos(*p)) for k, (s, p) in e["shapes"].items()},
        {k: (_shape(s), Pos(*p)) for k, (s, p) in e["outputs"].items()},
        (e["trainable"][0], Pos(*e["trainable"][1])) if e.get("trainable") else None,
    )
    return Network(
        data["name"],
        _shape(data["input"]),
        dag,
        data["layout"],
        expect,
        data["source"],
        text,
        data["description"],
        task=data["task"],
        origin=data["origin"],
    )
