"""The data contract: what ``cnncalc trace --format json`` prints and ``cnncalc.trace()``
returns, as plain data (dicts, lists, numbers and strings) built from a trace.

``render`` formats this data for people and files; nothing here formats a number or
knows of rich or click, so the library and every output format share one source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cnncalc.analysis import costs
from cnncalc.core.notation import shape_sizes

if TYPE_CHECKING:
    from cnncalc.analysis.solve import Solution, Transposed
    from cnncalc.analysis.tracer import Row, Trace
    from cnncalc.core.positions import Problem
    from cnncalc.core.shapes import Shape
    from cnncalc.kinds import Layer, Outcome


def _stride(value: Any) -> int | str:
    """A receptive field's stride for JSON: an integer when whole, else the exact fraction
    as a string, ``"1/2"`` after upsampling by 2 (a float would round 126/125 to 1.008)."""
    return value if type(value) is int else str(value)


def _rf(sizes: tuple[int, ...], jumps: tuple[Any, ...]) -> dict[str, int | str]:
    """Largest over the spatial dimensions (they differ only for non-square kernels): the
    size is always whole (input pixels), the stride whole or a fraction."""
    return {
        "size": max(sizes) if sizes else 1,
        "stride": _stride(max(jumps) if jumps else 1),
    }


def _problem(p: Problem) -> dict[str, Any]:
    return {"line": p.pos.line, "column": p.pos.column, "path": p.path, "message": p.message}


def trace_data(t: Trace, dtype: str = "float32", depth: int | None = None) -> dict[str, Any]:
    """The JSON contract of ``trace``: stable keys, shapes as lists in the spec's layout. A
    network that lists several outputs has ``outputs`` too (name: shape), and those rows
    ``is_output``; ``output`` is the last layer's, as for any network.

    Sizes name their unit: a key ending in ``_bytes`` is bytes at ``dtype``
    (``bytes_per_element`` each), one ending in ``_elements`` counts tensor elements, and
    ``params`` (with ``non_trainable_params``) counts parameters. Activations are the output
    of every layer, merges included, the network's input not: a row's own output, or the sum
    over a row ``folded`` at ``depth``; the totals sum the rows."""
    from cnncalc.analysis.tracer import DTYPE_BYTES, fold
    from cnncalc.graph import without_gc_pauses

    net, size = t.network, DTYPE_BYTES[dtype]
    layout = net.layout
    totals = t.totals()
    rows = fold(t, depth) if depth else t.rows
    with without_gc_pauses():
        layers = [_layer_data(r, layout, size) for r in rows]
    for layer in layers:
        if layer["name"] in t.outputs:
            layer["is_output"] = True
    if rows is not t.rows:  # fold keeps a layer's own row, and makes one for each block
        layer_rows = set(map(id, t.rows))
        for layer, row in zip(layers, rows):
            if id(row) not in layer_rows:
                layer["folded"] = True
    final_rf, final_jump = t.receptive_field()
    outputs = {name: shape_sizes(shape, layout) for name, shape in t.outputs.items()}
    return {
        "name": net.name,
        "input": shape_sizes(net.input, layout),
        "output": None if t.output is None else shape_sizes(t.output, layout),
        **({"outputs": outputs} if outputs else {}),
        "dtype": dtype,
        "bytes_per_element": size,
        "layers": layers,
        "totals": {
            "params": totals.params,
            "trainable_params": totals.trainable,
            "frozen_params": totals.frozen,
            "buffers": totals.buffers,
            "non_trainable_params": totals.frozen + totals.buffers,
            "shared_layers": sum(1 for r in t.rows if r.shares),
            "macs": totals.macs,
            "flops": costs.trace_flops(t),
            "activation_elements": totals.activations,
            "activation_bytes": totals.activations * size,
            "param_bytes": (totals.params + totals.buffers) * size,
            "rf": _rf(final_rf, final_jump),
            **_darknet_totals(t),
        },
        "warnings": [_problem(p) for p in t.warnings],
        "errors": [_problem(p) for p in t.errors],
    }


def _darknet_totals(t: Trace) -> dict[str, float]:
    """Darknet's own figure for a network read from a cfg: its FLOPs (``2 x MACs`` of the
    kinds it counts) in billions."""
    if t.network.read_from != "darknet":
        return {}
    return {"bflops": costs.trace_flops(t, "darknet") / 1e9}


def _layer_data(r: Row, layout: str, size: int) -> dict[str, Any]:
    layer = {
        "name": r.name,
        "kind": r.kind,
        "output": shape_sizes(r.output, layout),
        "params": r.params,
        "buffers": r.buffers,
        "macs": r.macs,
        "rf": _rf(r.rf, r.jump),
        "activation_elements": r.activations,
        "activation_bytes": r.activations * size,
        "inputs": list(r.inputs),
    }
    if r.shares:
        layer["shares"] = r.shares  # whose weights it applies: its params are counted there
    if r.frozen:
        layer["frozen_params"] = r.frozen
    if r.error:
        layer["error"] = r.error
    return layer


def flops(layer: Layer, outcome: Outcome) -> int | None:
    """The layer's FLOPs, by what its MACs are; None when they are unknown."""
    return None if outcome.macs is None else costs.flops(outcome.macs, layer.cost)


def layer_data(layer: Layer, x: Shape, outcome: Outcome, layout: str = "hwc") -> dict[str, Any]:
    """The JSON contract of a single-layer command: stable keys, shapes as lists in the
    displayed layout."""
    return {
        "op": layer.kind,
        "input": shape_sizes(x, layout),
        "output": shape_sizes(outcome.shape, layout),
        "params": outcome.params,
        "macs": outcome.macs,
        "flops": flops(layer, outcome),
        "padding": [list(pad) for pad in outcome.padding],
        "warnings": list(outcome.warnings),
    }


def solutions_data(
    n: int,
    out: int,
    solutions: list[Solution],
    transposed: Sequence[Transposed] = (),
    upsample: int | None = None,
) -> dict[str, Any]:
    """The JSON contract of ``solve``: each convolution and what its division leaves over;
    for a larger output, the transposed convolutions and the upsampling factor (else [] and
    null)."""
    return {
        "n": n,
        "out": out,
        "solutions": [s._asdict() for s in solutions],
        "transposed": [t._asdict() for t in transposed],
        "upsample": upsample,
    }


def zoo_data(entries: list[tuple[str, Trace]]) -> dict[str, Any]:
    """The JSON contract of ``zoo list``: each network's task, origin, input, totals and
    description, grouped by task in the order of ``TASKS`` (then as given)."""
    from cnncalc.graph import TASKS

    networks = []
    for name, t in entries:
        totals = t.totals()
        networks.append(
            {
                "name": name,
                "task": t.network.task,
                "origin": t.network.origin,
                "input": shape_sizes(t.network.input, t.network.layout),
                "params": totals.params,
                "macs": totals.macs,
                "description": t.network.description,
            }
        )
    order = {task: i for i, task in enumerate(TASKS)}
    networks.sort(key=lambda n: order.get(str(n["task"]), len(order)))
    return {"networks": networks}
