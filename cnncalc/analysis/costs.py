"""Counting conventions: how each figure of a cost counts a layer's MACs, keyed by what the
layer's kind declares they are (``Layer.cost``), never by the kind's name, so that a new kind
is counted by what it does, with no list of kinds to keep.

Memory counts alike whatever a kind is: each layer's output elements, and the parameters and
buffers, at the dtype's size; no trait changes it, so it has no table here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnncalc.analysis.tracer import Trace

FLOPS_PER_MAC: dict[str, dict[str, int]] = {
    "flops": {"weights": 2, "products": 2},
    "darknet": {"weights": 2},
}
"""Each convention's FLOPs per MAC, by what the MACs are. ``flops``: a multiply and an add for
each MAC of learnt weights (torchvision's model table) and of products of activations
(attention's, as thop and Ultralytics count them). ``darknet``: the same (reported in
billions, BFLOPs), summed over its convolutional and connected layers, the kinds whose MACs are
of learnt weights. MACs of a sort a convention has no entry for count nothing there."""


def flops(macs: int, cost: str, convention: str = "flops") -> int:
    """The FLOPs of ``macs`` MACs of a kind whose MACs are ``cost``.

    >>> flops(768_000, "weights"), flops(10, "")
    (1536000, 0)
    """
    return FLOPS_PER_MAC[convention].get(cost, 0) * macs


def trace_flops(t: Trace, convention: str = "flops") -> int:
    """A traced network's FLOPs, each row's counted by what its kind's MACs are: a trace has a
    row for each node of its graph, in the graph's order."""
    per_mac = FLOPS_PER_MAC[convention]
    nodes = t.network.graph.nodes
    return sum(per_mac.get(node.layer.cost, 0) * r.macs for r, node in zip(t.rows, nodes))
