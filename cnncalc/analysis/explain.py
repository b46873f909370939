"""One layer of a traced network explained (``trace --explain NAME``): the layer as it stands
there (its references bound), the shapes it reads and what it gives, for its worked formula."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from cnncalc.core.errors import UsageError
from cnncalc.graph import INPUT

if TYPE_CHECKING:
    from cnncalc.analysis.tracer import Trace
    from cnncalc.core.shapes import Shape
    from cnncalc.kinds import Layer, Outcome


class Explained(NamedTuple):
    name: str
    layer: Layer
    inputs: tuple[Shape, ...]
    """The shapes the layer reads: one, or a join's branches."""
    outcome: Outcome | None
    """What the layer gives on ``inputs[0]``; None for a join, whose rule is its output."""
    output: Shape


def explain(
    t: Trace, name: str, suggest: Callable[[str, Iterable[str]], str] = lambda name, known: ""
) -> Explained:
    """The layer named ``name`` (its full name, as the trace's rows name it) with its input.

    A name that is not a traced layer is a UsageError, with what ``suggest`` says of the rows'
    names (the formats' one "did you mean", which analysis does not import)."""
    node = next((n for n in t.network.graph.nodes if n.name == name), None)
    rows = [row.name for row in t.rows if row.error is None]
    if node is None or name not in t.shapes or name not in rows:
        hint = suggest(name, rows)
        where = "traced before the error" if node is not None else "in this network"
        raise UsageError(f"--explain: no layer {name!r} {where}{hint}")

    def shape(of: str) -> Shape:
        return t.network.input if of == INPUT else t.shapes[of]

    inputs = tuple(map(shape, node.inputs))
    layer = node.layer
    if layer.joins:
        return Explained(name, layer, inputs, None, t.shapes[name])
    if node.refs:
        layer = layer.bind({written: t.shapes[full] for written, full in node.refs}.__getitem__)
    outcome = layer.apply(inputs[0])
    return Explained(name, layer, inputs, outcome, outcome.shape)
