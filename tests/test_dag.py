"""The DAG core: every network traces from a flat list of nodes that name their inputs.

The goldens in ``tests/data/traces.json`` were written by the tree-walking tracer before the
DAG core replaced it, so these tests hold every zoo network, example and the error cases
below to the rows, shapes, groups and problems they had then. ``pytest --update-snapshots``
rewrites them (only after checking that a difference is meant).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cnncalc import zoo
from cnncalc.api import load
from cnncalc.spec import load_inline, load_spec
from cnncalc.tracer import Trace, trace

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "data" / "traces.json"

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
    everything = repr(
        (t.rows, t.output, t.output_source, t.errors, t.warnings, t.shapes, t.groups, t.outputs)
    )
    return {
        "rows": [[r.name, r.kind, str(r.output), r.params, r.buffers, r.macs] for r in t.rows],
        "digest": hashlib.sha256(everything.encode()).hexdigest(),
    }


@pytest.mark.parametrize("key", list(networks()))
def test_traces_are_what_the_tree_walker_gave(request, key):
    got = summary(traced(networks()[key]))
    golden = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    if request.config.getoption("--update-snapshots"):
        golden[key] = got
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(golden, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip("golden rewritten")
    assert got["rows"] == golden[key]["rows"]
    assert got["digest"] == golden[key]["digest"]
