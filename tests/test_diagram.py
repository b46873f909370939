"""Diagrams: the drawing as data (nodes, shape-labelled edges, subgraphs), then its Mermaid and
DOT text, the DOT checked by Graphviz itself where it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from collections import Counter
from collections.abc import Iterator
from functools import cache
from importlib.resources import files

import pytest

from cnncalc.analysis.tracer import Trace, trace
from cnncalc.core.errors import UsageError
from cnncalc.core.notation import format_shape
from cnncalc.formats.spec import load_spec
from cnncalc.graph import is_merge
from cnncalc.render.diagram import Diagram, Group, Node, build_diagram, dot, mermaid

ZOO = files("cnncalc.zoo")
ZOO_NAMES = sorted(p.name.removesuffix(".yaml") for p in ZOO.iterdir() if p.name.endswith(".yaml"))

SMALL = """
    name: small
    input: 8x8x3
    blocks:
      unit:
        args: {c: null}
        layers: [conv c f3 p1, bn, relu]
    layers:
      - conv 4 f3 p1 name=stem
      - unit c=4 name=u1
      - add:                              # residual
          - [conv 4 f3 p1, relu]
          - identity
      - concat:                           # 2 + 2 + 4 channels
          - conv 2 f1
          - [maxpool 3 s1 p1, conv 2 f1]
          - []                            # the input itself
      - gavgpool
      - fc 10
"""


def traced(text: str) -> Trace:
    return trace(load_spec(textwrap.dedent(text), "test.yaml"))


@cache
def zoo(name: str) -> Trace:
    return trace(load_spec((ZOO / f"{name}.yaml").read_text(encoding="utf-8"), name))


def nodes(members: list[Node | Group]) -> Iterator[Node]:
    for member in members:
        if isinstance(member, Group):
            yield from nodes(member.members)
        else:
            yield member


def groups(members: list[Node | Group]) -> Iterator[Group]:
    for member in members:
        if isinstance(member, Group):
            yield member
            yield from groups(member.members)


def named_edges(diagram: Diagram) -> set[tuple[str, str, str]]:
    """(source name, target name, shape) of every edge."""
    name = {n.id: n.name for n in nodes(diagram.members)}
    return {(name[e.source], name[e.target], format_shape(e.shape)) for e in diagram.edges}


def test_one_node_per_row_and_every_edge_with_its_shape():
    d = build_diagram(traced(SMALL))
    assert [(n.name, n.kind) for n in nodes(d.members) if n.kind in ("unit", "conv", "add")] == [
        ("stem", "conv"),
        ("u1.conv1", "conv"),
        ("add1.0.conv1", "conv"),
        ("add1", "add"),
        ("concat1.0.conv1", "conv"),
        ("concat1.1.conv1", "conv"),
    ]
    assert named_edges(d) == {
        ("input", "stem", "8x8x3"),
        ("stem", "u1.conv1", "8x8x4"),
        ("u1.conv1", "u1.bn1", "8x8x4"),
        ("u1.bn1", "u1.relu1", "8x8x4"),
        # the residual: both branches from the block's output, both into the add
        ("u1.relu1", "add1.0.conv1", "8x8x4"),
        ("add1.0.conv1", "add1.0.relu1", "8x8x4"),
        ("add1.0.relu1", "add1", "8x8x4"),
        ("u1.relu1", "add1.1.identity1", "8x8x4"),
        ("add1.1.identity1", "add1", "8x8x4"),
        # the concat: an empty branch feeds from the node before the merge
        ("add1", "concat1.0.conv1", "8x8x4"),
        ("concat1.0.conv1", "concat1", "8x8x2"),
        ("add1", "concat1.1.maxpool1", "8x8x4"),
        ("concat1.1.maxpool1", "concat1.1.conv1", "8x8x4"),
        ("concat1.1.conv1", "concat1", "8x8x2"),
        ("add1", "concat1", "8x8x4"),
        ("concat1", "gavgpool1", "8x8x8"),
        ("gavgpool1", "fc1", "1x1x8"),
        ("fc1", "output", "10"),
    }


def test_blocks_are_subgraphs_with_short_names_inside():
    d = build_diagram(traced(SMALL))
    (unit,) = groups(d.members)
    assert (unit.title, [n.label for n in nodes(unit.members)]) == (
        "u1 (unit)",
        ["conv1", "bn1", "relu1"],
    )


def test_depth_folds_blocks_and_merges_into_one_node_each():
    d = build_diagram(traced(SMALL), depth=1)
    assert list(groups(d.members)) == []
    assert [(n.name, n.kind) for n in nodes(d.members)] == [
        ("input", ""),
        ("stem", "conv"),
        ("u1", "unit"),
        ("add1", "add"),
        ("concat1", "concat"),
        ("gavgpool1", "gavgpool"),
        ("fc1", "fc"),
        ("output", ""),
    ]
    assert named_edges(d) == {
        ("input", "stem", "8x8x3"),
        ("stem", "u1", "8x8x4"),
        ("u1", "add1", "8x8x4"),
        ("add1", "concat1", "8x8x4"),
        ("concat1", "gavgpool1", "8x8x8"),
        ("gavgpool1", "fc1", "1x1x8"),
        ("fc1", "output", "10"),
    }


def test_depth_draws_the_containers_above_it():
    d = build_diagram(zoo("resnet18"), depth=2)
    assert [(g.title, [n.label for n in nodes(g.members)]) for g in groups(d.members)] == [
        (f"layer{i} (repeat)", ["0", "1"]) for i in range(1, 5)
    ]
    with pytest.raises(UsageError):
        build_diagram(zoo("resnet18"), depth=0)


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_every_row_is_fed_and_every_merge_by_each_branch(name):
    """The diagram names the rows the tracer makes: each has an edge in, and every merge one
    edge per branch."""
    t = zoo(name)
    d = build_diagram(t)
    into = Counter(e.target for e in d.edges)
    out_of = Counter(e.source for e in d.edges)
    shown = list(nodes(d.members))
    assert [n.name for n in shown[1:-1]] == [r.name for r in t.rows]
    assert all(into[n.id] for n in shown[1:]) and all(out_of[n.id] for n in shown[:-1])
    branches = {r.name: len(r.inputs) for r in t.rows if is_merge(r.kind)}
    assert {n.name: into[n.id] for n in shown if is_merge(n.kind)} == branches


def test_unet_skip_connections_run_from_the_encoder_into_the_crops():
    edges = named_edges(build_diagram(zoo("unet")))
    for level, shape in ((1, "568x568x64"), (2, "280x280x128"), (3, "136x136x256")):
        assert (f"enc{level}.relu2", f"up{level}.concat1.0.crop1", shape) in edges
    assert ("enc4.relu2", "up4.concat1.0.crop1", "64x64x512") in edges
    assert ("up4.upconv", "up4.concat1.1.identity1", "56x56x512") in edges
    folded = named_edges(build_diagram(zoo("unet"), depth=1))
    assert {("enc4", "up4", "64x64x512"), ("bottom", "up4", "28x28x1024")} <= folded


def test_each_named_output_of_a_detection_network_feeds_the_output():
    edges = named_edges(build_diagram(zoo("faster_rcnn_rpn")))
    assert ("rpn_cls_score", "output", "38x63x18") in edges
    assert ("rpn_bbox_pred", "output", "38x63x36") in edges
    folded = named_edges(build_diagram(zoo("faster_rcnn_rpn"), depth=1))
    assert ("rpn_cls_score", "output", "38x63x18") in folded


FAILING = """
    input: 8x8x4
    layers:
      - add: [[conv 8 f1], identity]
      - relu
"""

AWKWARD = """
    name: 'quotes "and" \\ backslashes'
    input: 8x8x4
    blocks:
      'x<"y">#&`': {args: {c: 4}, layers: [conv c f1]}
    layers:
      - x<"y">#&` name=odd
      - identity name=end                 # a Mermaid keyword, as a name
"""


def test_a_failed_layer_is_marked_and_nothing_follows_it():
    t = traced(FAILING)
    d = build_diagram(t)
    assert [(n.name, n.failed) for n in nodes(d.members)] == [
        ("input", False),
        ("add1.0.conv1", False),
        ("add1.1.identity1", False),
        ("add1", True),
    ]
    assert re.search(r'^  n3\{\{"add1<br/>add"\}\}:::failed$', mermaid(t), re.MULTILINE)
    assert re.search(r"^  n3 \[.*color=red", dot(t), re.MULTILINE)


def test_labels_are_escaped_for_each_language():
    t = traced(AWKWARD)
    assert 'subgraph g1 ["odd (x#60;#34;y#34;#62;#35;#38;#96;)"]' in mermaid(t)
    text = dot(t)
    assert 'digraph "quotes \\"and\\" \\\\ backslashes" {' in text
    assert 'label="odd (x<\\"y\\">#&`)";' in text


def test_layout_orders_the_edge_shapes():
    assert "n0 -->|3x8x8| n1" in mermaid(traced(SMALL), layout="chw")


MERMAID_LINE = re.compile(
    r"""(?P<node>(?P<id>n\d+)(\(\["|\{\{"|\[")[^"]*("\]\)|"\}\}|"\])(:::failed)?)
    |(?P<edge>(?P<source>n\d+)\ -->\|[0-9x]+\|\ (?P<target>n\d+))
    |(?P<open>subgraph\ g\d+\ \["[^"]*"\])
    |(?P<end>end)
    |classDef\ failed\ \S+""",
    re.VERBOSE,
)

DIAGRAMS = {
    "small": lambda: traced(SMALL),
    "failing": lambda: traced(FAILING),
    "awkward": lambda: traced(AWKWARD),
    "unet": lambda: zoo("unet"),
    "resnet18": lambda: zoo("resnet18"),
    "googlenet": lambda: zoo("googlenet"),
}
DEPTHS = [None, 1, 2]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("name", DIAGRAMS)
def test_mermaid_is_well_formed(name, depth):
    """Every line is a node, an edge, a subgraph's start or end; subgraphs are balanced and
    every edge joins declared nodes."""
    lines = mermaid(DIAGRAMS[name](), depth).splitlines()
    assert lines[0] == "flowchart TB"
    declared, open_groups = [], 0
    for line in lines[1:]:
        m = MERMAID_LINE.fullmatch(line.strip())
        assert m, line
        if m["node"]:
            declared.append(m["id"])
        elif m["edge"]:
            assert {m["source"], m["target"]} <= set(declared), line
        open_groups += bool(m["open"]) - bool(m["end"])
        assert open_groups >= 0
    assert open_groups == 0 and len(declared) == len(set(declared))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("name", DIAGRAMS)
def test_graphviz_reads_the_dot(name, depth):
    result = subprocess.run(
        ["dot", "-Tsvg"], input=dot(DIAGRAMS[name](), depth), capture_output=True, text=True
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert "<svg" in result.stdout


def test_a_failed_merge_is_fed_by_the_branches_that_disagree():
    assert named_edges(build_diagram(traced(FAILING))) == {
        ("input", "add1.0.conv1", "8x8x4"),
        ("add1.0.conv1", "add1", "8x8x8"),
        ("input", "add1.1.identity1", "8x8x4"),
        ("add1.1.identity1", "add1", "8x8x4"),
    }


def test_the_output_comes_from_the_layer_a_trailing_reference_names():
    d = build_diagram(traced("input: 8x8x3\nlayers: [conv 4 f3 name=a, relu, from a]\n"))
    assert ("a", "output", "6x6x4") in named_edges(d)
    assert ("relu1", "output", "6x6x4") not in named_edges(d)
