"""The DAG core: every network traces from a flat list of nodes that name their inputs.

The goldens in ``tests/data/traces.json`` were written by the tree-walking tracer before the
DAG core replaced it, so these tests hold every zoo network, example and the error cases
below to the rows, shapes, groups and problems they had then. ``pytest --update-snapshots``
rewrites them (only after checking that a difference is meant).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from cnncalc import zoo
from cnncalc.analysis.tracer import Row, Trace, trace
from cnncalc.api import load
from cnncalc.core.positions import Pos
from cnncalc.core.shapes import Shape
from cnncalc.formats.inline import load_inline
from cnncalc.formats.spec import load_spec
from cnncalc.graph import INPUT, Dag, DagNode, Network
from cnncalc.kinds import FC, Concat, Conv

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "data" / "traces"
"""One file per network: what each traced to when the tracer walked the tree."""

CASES = {  # small specs with references, repeats, merges, outputs and failures
    "unknown-ref": "input: 8x8x3\nlayers: [conv 4 f3 name=first, from frist, conv 2]\n",
    "unknown-to": "64x64x64 | conv 8 f1 name=head | upsample to=haed | conv 3",
    "upsample-to": "75x75x3 | identity name=image | conv 8 f3 s4 | upsample to=image",
    "unpool-to": "15x15x8 | conv 8 f3 p1 name=c5 | maxpool 2 | unpool mode=max to=c5",
    "unpool-bad": "16x16x8 | conv 8 f3 p1 name=c | maxpool 2 | maxpool 2 | unpool mode=max to=c",
    "merge-bad": """
input: 8x8x16
blocks:
  unit: {layers: [conv 16 f3 p1 name=a, {add: [identity, [conv 16 f3, relu], conv 16 f1]}, conv 4]}
layers:
  - conv 16 f3 p1
  - unit name=u
""",
    "merge-bad-3": """
input: 8x8x16
blocks:
  nothing: {args: {k: 0}, layers: [{if: k > 0, relu: }]}
layers:
  - {concat: [identity, nothing, conv 8 f1, [conv 8 f3]], name: cat}
  - nothing
""",
    "empty-and-refs": """
input: 12x12x8
blocks:
  pair: {layers: [conv 8 f3 p1 name=c1, conv 8 f3 p1]}
  nothing: {args: {k: 0}, layers: [{if: k > 0, relu: }]}
  back: {args: {to: null}, layers: [from to]}
layers:
  - nothing
  - pair name=p
  - {repeat: 3, name: r, layers: [pair]}
  - {repeat: 2, name: s, layers: [conv 8 f1, from p.c1]}
  - back to=r.1 name=fork
  - {mul: [identity, [gavgpool, conv 8 f1, sigmoid]], name: m}
  - back to=fork
  - conv 8 f3 s2
  - upsample to=p
  - crop to=s.0
  - back to=nowhere
  - nothing
""",
    "ends-with-ref": """
input: 8x8x4
blocks:
  back: {args: {to: null}, layers: [conv 4 f1, from to]}
layers:
  - conv 4 f3 name=a
  - conv 4 f3
  - back to=a
""",
    "merge-first": "input: 8x8x4\nlayers: [{add: [identity, conv 4 f3]}, conv 2]\n",
    "merge-first-ok": "input: 8x8x4\nlayers: [{concat: [identity, [], conv 4 f3 p1]}]\n",
    "empty": "input: 8x8x4\nlayers: []\n",
    "repeat-fails": """
input: 16x16x8
layers:
  - {repeat: 5, name: stage, layers: [conv 8 f3 s2, relu]}
  - conv 8
""",
    "outputs": """
input: 32x32x3
outputs: [p3, p4]
layers:
  - conv 8 f3 p1 s2 name=p3
  - conv 8 f3 p1 s2 name=p4
  - conv 8 f3 p1 s2
""",
    "outputs-unknown": """
input: 32x32x3
outputs: [p3, nope]
layers:
  - conv 8 f3 p1 s2 name=p3
  - conv 8 f3 p1 s2
""",
}


def networks() -> dict[str, object]:
    nets: dict[str, object] = {f"zoo:{name}": name for name in zoo.names()}
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        nets[f"examples/{path.name}"] = path
    nets.update({f"case:{k}": v for k, v in CASES.items()})
    return nets


def traced(spec: object) -> Trace:
    if isinstance(spec, Path):
        return trace(load_spec(spec.read_text(encoding="utf-8"), str(spec.name)))
    if isinstance(spec, str) and spec in zoo.names():
        return trace(load(spec))
    assert isinstance(spec, str)
    return trace(load_spec(spec) if "\n" in spec else load_inline(spec))


def summary(t: Trace) -> dict[str, object]:
    """The rows' counts in the clear, and a digest of everything else the trace holds."""
    rows = [_row_repr(r) for r in t.rows]
    everything = repr(
        (rows, t.output, t.output_source, t.errors, t.warnings, t.shapes, t.groups, t.outputs)
    )
    return {
        "rows": [[r.name, r.kind, str(r.output), r.params, r.buffers, r.macs] for r in t.rows],
        "digest": hashlib.sha256(everything.encode()).hexdigest(),
    }


class _Repr(str):
    def __repr__(self) -> str:
        return str(self)


_MARKS = ("shares", "frozen")
"""Row fields added with shared and frozen weights (issue 16): left out of the digest when
at their defaults, so that the digests taken before them still hold for every network
that marks nothing."""


def _row_repr(r: Row) -> _Repr:
    fields = [
        f"{f}={v!r}"
        for f, v in zip(Row._fields, r)
        if f not in _MARKS or v != Row._field_defaults[f]
    ]
    return _Repr(f"Row({', '.join(fields)})")


def golden_text(summary: dict) -> str:
    """A trace's summary as JSON with one row a line, so that a change is a readable diff."""
    rows = ",".join(f"\n  {json.dumps(row)}" for row in summary["rows"])
    return f'{{"digest": {json.dumps(summary["digest"])}, "rows": [{rows}\n]}}\n'


@pytest.mark.parametrize("key", list(networks()))
def test_traces_are_what_the_tree_walker_gave(golden, key):
    file_name = re.sub(r"[^\w.-]", "-", key) + ".json"
    golden(GOLDEN / file_name, golden_text(summary(traced(networks()[key]))))


# --- a graph built in Python, as the Darknet and Caffe importers build theirs -----------------


def hand_built(second_input: str = "a") -> Network:
    """input 8x8x3 -> conv a -> conv b; concat(a, b) -> fc 10, with no tree at all."""
    pos = [Pos(line, 1) for line in range(1, 5)]
    dag = Dag(
        [
            DagNode("a", pos[0], Conv(filters=4, f=3, pad=1), (INPUT,)),
            DagNode("b", pos[1], Conv(filters=4, f=3, pad=1), ("a",)),
            DagNode("cat", pos[2], Concat(), ("a", second_input)),
            DagNode("fc", pos[3], FC(out=10), ("cat",)),
        ]
    )
    return Network("hand", Shape((8, 8), 3), dag)


def test_a_graph_built_directly_traces_without_a_tree():
    t = trace(hand_built("b"))
    assert t.ok, t.errors
    got = {r.name: (str(r.output), r.params, r.macs, r.sources, r.rf) for r in t.rows}
    assert got == {
        # 3x3x3 weights per filter and a bias: 4 * 28 = 112; 8*8 positions * 4 * 27 MACs
        "a": ("8x8x4", 112, 6912, ("",), (3, 3)),
        # 3x3x4 per filter: 4 * 37 = 148; 8*8 * 4 * 36 MACs; its field is 3 + 2 = 5
        "b": ("8x8x4", 148, 9216, ("a",), (5, 5)),
        # channels 4 + 4, the wider of its inputs' fields
        "cat": ("8x8x8", 0, 0, ("a", "b"), (5, 5)),
        # 8*8*8 = 512 inputs to 10 outputs, and 10 biases; it sees 5 + 7 rows
        "fc": ("10", 5130, 5120, ("cat",), (12, 12)),
    }
    assert t.totals().params == 112 + 148 + 5130
    assert t.rows[2].inputs == ("a", "b")
    assert str(t.output) == "10" and t.output_source == "fc"
    assert {name: str(shape) for name, shape in t.shapes.items()} == {
        "a": "8x8x4",
        "b": "8x8x4",
        "cat": "8x8x8",
        "fc": "10",
    }


def test_a_join_of_a_graph_built_directly_names_its_inputs_when_they_disagree():
    net = hand_built("b")
    nodes = net.graph.nodes
    nodes[1] = nodes[1]._replace(layer=Conv(filters=4, f=3))  # b is 6x6x4 now
    t = trace(net)
    assert [r.name for r in t.rows] == ["a", "b", "cat"]
    assert t.rows[-1].error == t.errors[0].message
    assert t.errors[0].pos == Pos(3, 1)
    assert "(branch a gives 8x8x4, branch b gives 6x6x4)" in t.errors[0].message


def test_an_input_that_is_not_there_stops_the_trace_with_a_row():
    t = trace(hand_built("nothing"))
    assert [(r.name, r.error) for r in t.rows][-1] == (
        "cat",
        "no layer named 'nothing' is defined before here",
    )
    assert t.output is None and t.errors[0].pos == Pos(3, 1)


def test_the_tree_is_lowered_into_full_names_that_name_their_inputs():
    net = load_spec(CASES["ends-with-ref"])
    dag = net.graph
    assert [(n.name, n.inputs) for n in dag.nodes] == [
        ("a", (INPUT,)),
        ("conv1", ("a",)),
        ("back1.conv1", ("conv1",)),
    ]
    assert dag.nodes[1] == DagNode("conv1", Pos(7, 5), Conv(4), ("a",))
    assert dag.output == "a"
    assert dag.groups == [(2, "back1", "back")]
    assert (3, "back1.from1", "a") in dag.aliases and (3, "back1", "a") in dag.aliases
