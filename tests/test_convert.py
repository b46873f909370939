"""``cnncalc convert``: any network written back as a spec that traces the same.

The round trip is held for every spec in SPECS (the zoo, the examples; the importers'
fixtures join the list): the converted spec, read back, traces to the same shapes,
parameters and MACs, node for node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc import zoo
from cnncalc.api import load, to_spec
from cnncalc.cli import main
from cnncalc.core.errors import SpecError, UsageError
from cnncalc.kinds import REGISTRY

ROOT = Path(__file__).parents[1]
SPECS = [
    *zoo.names(),
    *sorted(str(p) for p in (ROOT / "examples").glob("*.yaml")),
    *sorted(str(p) for p in (ROOT / "tests" / "data").glob("*/*.prototxt")),
]
"""Every network the round trip is held for: add a fixture's path here."""


def comparable(data: dict[str, Any], skip: int = 0, memory: bool = True) -> dict[str, Any]:
    """Trace data without what may differ: names (inside repeats), a join's branch labels, a
    leading identity that names the input (``skip``) and where warnings are."""
    rows = [
        {k: v for k, v in row.items() if k not in ("name", "inputs")}
        for row in data["layers"][skip:]
    ]
    return {
        "input": data["input"],
        "output": data["output"],
        "outputs": list(data.get("outputs", {}).values()),
        "layers": rows,
        "totals": {
            k: v for k, v in data["totals"].items() if memory or not k.startswith("activation_")
        },
        "warnings": [w["message"] for w in data["warnings"]],
    }


@pytest.mark.parametrize("spec", SPECS)
def test_converted_spec_traces_the_same(spec):
    net = load(spec)
    text = to_spec(net)
    back = cnncalc.load(text)
    # a layer that reads the network's input needs it named: one identity row more
    named = "# the network's input, named" in text
    data, memory = comparable(cnncalc.trace(back), skip=named, memory=not named), not named
    assert data == comparable(cnncalc.trace(net), memory=memory)
    # the edges too: each row reads the rows at the same places
    before, after = net.graph, back.graph
    assert len(before.nodes) + named == len(after.nodes)
    assert cnncalc.api.check(text).problems == []  # its own expect: holds


def uncommented(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


@pytest.mark.parametrize("spec", ["resnet50", "densenet121", "unet", str(ROOT / "examples")])
def test_converting_again_is_stable(spec):
    if spec.endswith("examples"):
        spec = sorted(str(p) for p in Path(spec).glob("*.yaml"))[-1]
    once = to_spec(load(spec))
    twice = to_spec(cnncalc.load(once))
    # the comments name the nodes each converted from, so differ
    assert uncommented(twice) == uncommented(once)
    assert to_spec(cnncalc.load(twice)) == twice


def test_repeats_make_a_resnet_short():
    text = to_spec(load("resnet152"))
    assert len(text.splitlines()) <= 80  # 614 nodes, and the zoo spec's task, origin and shapes
    # the bottleneck is a block; the repeat begins where the original's units do
    assert '  bottleneck_2:\n    args: {c: null, c_2: "c * 4"}\n' in text
    assert "  - repeat: 35\n    name: layer3\n    layers:\n      - bottleneck_2 c=256\n" in text
    assert "# 35 x 12 layers: layer3.1.input .. layer3.35.relu3" in text
    assert "  - bottleneck c=256 name=layer3_0\n" in text
    assert comparable(cnncalc.trace(text)) == comparable(cnncalc.trace("resnet152"))


def test_darknet_layers_become_block_calls(tmp_path):
    from test_darknet import yolov3, yolov3_tiny

    path = tmp_path / "yolov3.cfg"
    path.write_text(yolov3())
    text = to_spec(load(str(path)))
    assert len(text.splitlines()) <= 100  # 251 nodes, 107 Darknet layers
    # conv, bn and leaky of one Darknet layer are one call, named by its index
    assert '  cbl:\n    args: {c: null, f: 3, s: 1, p: "f // 2"}\n' in text
    assert "      - conv c f=f s=s p=p nobias name=conv\n" in text
    assert "  - cbl c=64 s=2 name=_1\n" in text
    assert "  - concat: [from _85, from repeat_2.7]\n" in text
    assert numbers(cnncalc.trace(text)) == numbers(cnncalc.trace(str(path)))
    again = to_spec(cnncalc.load(text))
    assert uncommented(again) == uncommented(text)  # the blocks are found again, alike
    path.write_text(yolov3_tiny())
    tiny = to_spec(load(str(path)))
    assert len(tiny.splitlines()) <= 45
    assert numbers(cnncalc.trace(tiny)) == numbers(cnncalc.trace(str(path)))


def numbers(data: dict[str, Any]) -> tuple[Any, ...]:
    """Each row's shape and counts, and the outputs: Darknet labels its rows by section."""
    rows = [(r["output"], r["params"], r["buffers"], r["macs"]) for r in data["layers"]]
    return rows, list(data["outputs"].values()), data["totals"]["params"]


def test_repeated_merges_make_a_densenet_short():
    text = to_spec(load("densenet121"))
    assert len(text.splitlines()) < 100  # 484 nodes
    assert "  - repeat: 24\n    name: denseblock3\n    layers:\n      - concat:\n" in text


def test_names_are_kept_or_made_valid():
    text = to_spec(load("resnet18"))
    assert "fc 1000 name=fc" in text
    # a call keeps the name of the original's unit, the block the names within it
    assert "  - basic_2 128 name=layer2_0\n" in text
    assert "      - conv c f1 s2 nobias name=add1_1_downsample_conv1\n" in text
    assert "      - from input\n" in text
    names = [row["name"] for row in cnncalc.trace(text)["layers"]]
    assert "layer2_0.add1_1_downsample_conv1" in names


def test_several_outputs_and_references():
    spec = """\
input: 32x32x8
layers:
  - conv 16 f3 p1 name=stem
  - maxpool 2 name=down
  - conv 255 f1 name=head-1
  - from down
  - upsample to=stem
  - concat: [from upsample1, from stem]
  - conv 255 f1 name=head2
outputs: [head-1, head2]
"""
    text = to_spec(cnncalc.load(spec))
    assert "upsample f2 to=stem" not in text  # upsample has no kernel
    assert "- upsample to=stem" in text
    assert "- conv 255 f1 name=head2" in text
    assert "outputs: [head-1, head2]" in text
    assert "output: {head-1: 16x16x255, head2: 32x32x255}" in text
    back = cnncalc.load(text)
    assert comparable(cnncalc.trace(back)) == comparable(cnncalc.trace(spec))


def test_a_node_that_reads_the_input_gets_a_named_input():
    from cnncalc.core.positions import Pos
    from cnncalc.core.shapes import Shape
    from cnncalc.graph import Dag, DagNode, Network

    nodes = [  # a residual add of the network's input, as an importer builds it
        DagNode("1", Pos(1, 1), REGISTRY["conv"](4, pad=1), ("",)),
        DagNode("2", Pos(2, 1), REGISTRY["add"](), ("1", "")),
    ]
    net = Network("n", Shape((8, 8), 4), Dag(nodes))
    text = to_spec(net)
    assert "  - identity name=input\n" in text
    # the identity's row keeps the input in memory, so only that total differs
    after = comparable(cnncalc.trace(text), skip=1, memory=False)
    assert after == comparable(cnncalc.trace(net), memory=False)


def test_the_output_need_not_be_the_last_layer():
    spec = "input: 8x8x4\nlayers:\n  - conv 4 f3 p1 name=a\n  - relu\n  - from a\n"
    text = to_spec(cnncalc.load(spec))
    assert text.split("expect:")[0].endswith("  - from a\n")


# Every kind with every parameter set away from its default, in cases that trace on 16x16x8.
KIND_CASES = {
    "conv": [dict(filters=16, f=(3, 5), stride=(2, 1), pad=((0, 1), (2, 2)), dilation=2,
                  groups=2, bias=False), dict(filters=4, pad="same")],
    "dwconv": [dict(filters=16, f=1, stride=2, pad=1, dilation=1, groups=8, bias=False,
                    multiplier=2)],
    "tconv": [dict(filters=4, f=4, stride=2, pad=1, dilation=1, output_padding=1, groups=2,
                   bias=False), dict(filters=4, stride=2, pad=1, target=32)],
    "maxpool": [dict(f=3, stride=2, pad=1, dilation=2, ceil=True)],
    "avgpool": [dict(f=(2, 3), stride=(1, 2), pad=(0, 1), dilation=2, ceil=True)],
    "adaptivepool": [dict(size=(4, 2))],
    "unpool": [dict(mode="nails", factor=(2, 3)), dict(mode="max", f=3, stride=2, pad=1),
               dict(mode="max", size=32), dict(mode="max", f=1, stride=1, to="ref")],
    "upsample": [dict(factor=3, mode="bilinear"), dict(size=(20, 24), mode="nearest-exact"),
                 dict(to="ref")],
    "deformconv": [dict(filters=8, f=3, stride=2, pad=1, dilation=1, groups=2, bias=False,
                        deform_groups=2, modulated=True)],
    "fc": [dict(out=7, bias=False)],
    "linear": [dict(out=7, bias=False)],
    "attention": [dict(heads=2, key=1)],
    "lrn": [dict(size=3)],
    "dropout": [dict(p=0.25)],
    "droppath": [dict(p=1e-05)],
    "groupnorm": [dict(groups=4)],
    "shuffle": [dict(groups=4)],
    "chunk": [dict(parts=4, index=3)],
    "leakyrelu": [dict(slope=0.2)],
    "prelu": [dict(per_channel=True)],
    "zeropad": [dict(pad=((1, 2), 0))],
    "crop": [dict(size=(10, 12)), dict(border=3), dict(to="ref"), dict(size=8, offset=(1, 2))],
    "scale": [dict(bias=True)],
    "head": [dict(values=8)],
    "reorg": [dict(stride=4)],
    "concat": [dict(axis=2), dict(axis=3)],
    "add": [dict(coeff=(1, -0.5))],
}  # fmt: skip


def kind_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(kind, params) for kind in REGISTRY for params in KIND_CASES.get(kind, [{}])]


def test_every_parameter_is_in_a_case():
    for kind, cls in REGISTRY.items():
        given = {name for params in KIND_CASES.get(kind, [{}]) for name in params}
        assert given == set(cls.parameters), kind


@pytest.mark.parametrize(("kind", "params"), kind_cases())
def test_every_kind_and_value_survives(kind, params):
    from cnncalc.core.positions import Pos
    from cnncalc.core.shapes import Shape
    from cnncalc.graph import Dag, DagNode, Network

    layer = REGISTRY[kind](**params)
    refs = (("ref", "ref"),) if "to" in params else ()
    inputs = ("ref", "ref") if layer.joins else ("ref",)  # a join reads the same layer twice
    nodes = [
        DagNode("ref", Pos(1, 1), REGISTRY["identity"](), ("",)),
        DagNode("0 odd.name", Pos(2, 1), layer, inputs, refs),
    ]
    shape = Shape((16, 16), 8)
    net = Network("kinds", shape, Dag(nodes))
    text = to_spec(net)
    back = cnncalc.load(text).graph.nodes
    assert back[-1].layer == layer.replace(to="ref") if "to" in params else layer
    assert back[-1].name == "_0_odd_name"


def test_a_value_that_cannot_be_written_is_an_error():
    from cnncalc.core.positions import Pos
    from cnncalc.core.shapes import Shape
    from cnncalc.graph import Dag, DagNode, Network

    layer = REGISTRY["upsample"](mode="yes")  # read back as a boolean: cannot be said
    node = DagNode("up", Pos(1, 1), layer, ("",))
    net = Network("n", Shape((4, 4), 2), Dag([node]))
    with pytest.raises((UsageError, SpecError)):
        to_spec(net)


# --- the command --------------------------------------------------------------------------


def test_convert_command_writes_a_spec_that_checks(tmp_path):
    result = CliRunner().invoke(main, ["convert", "resnet18"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "resnet18.yaml"
    path.write_text(result.stdout)
    checked = CliRunner().invoke(main, ["check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "11,689,512" in checked.output or "11.7M" in checked.output


def test_convert_command_to_yaml_and_from(tmp_path):
    path = tmp_path / "net.txt"
    path.write_text("input: 8x8x3\nlayers: [conv 4 f3 p1, relu]\n")
    result = CliRunner().invoke(main, ["convert", str(path), "--from", "yaml", "--to", "yaml"])
    assert result.exit_code == 0, result.output
    assert "  - conv 4 f3 p1\n  - relu\n" in result.stdout
    bad = CliRunner().invoke(main, ["convert", str(path), "--to", "onnx"])
    assert bad.exit_code == 2


def test_convert_refuses_a_network_that_does_not_fit():
    result = CliRunner().invoke(main, ["convert", "32x32x3 | conv 8 f5 | fc 10 | conv 4 f3"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "<inline>:1:" in result.stderr and "conv 4 f3" in result.stderr
    assert "Traceback" not in result.output


def test_convert_of_a_missing_file_is_a_usage_error():
    result = CliRunner().invoke(main, ["convert", "no/such.yaml"])
    assert result.exit_code == 2
    assert "no spec file" in result.stderr


def test_darknet_residual_units_become_one_repeated_merge():
    from cnncalc.core.positions import Pos
    from cnncalc.core.shapes import Shape
    from cnncalc.graph import Dag, DagNode, Network

    pos = Pos(1, 1)
    nodes = [DagNode("0", pos, REGISTRY["conv"](64, pad=1), ("",))]
    for _ in range(4):  # [convolutional] 1x1, 3x3, [shortcut] from=-3, as Darknet numbers them
        b = len(nodes)
        nodes += [
            DagNode(str(b), pos, REGISTRY["conv"](32, f=1), (str(b - 1),)),
            DagNode(str(b + 1), pos, REGISTRY["conv"](64, pad=1), (str(b),)),
            DagNode(str(b + 2), pos, REGISTRY["add"](), (str(b + 1), str(b - 1))),
        ]
    net = Network("y", Shape((16, 16), 3), Dag(nodes))
    text = to_spec(net)
    assert "# 4 x 3 layers: 1 .. 12 (copies from 1, 4, ..., 10)\n  - repeat: 4\n" in text
    assert "      - add:\n          -\n            - conv 32 f1\n" in text
    assert "          - []\n" in text
    assert comparable(cnncalc.trace(text)) == comparable(cnncalc.trace(net))
    # a repeated join says its parameters beside its branches, as a single one does
    weighted = [
        n._replace(layer=REGISTRY["add"](coeff=(1, 0.5))) if n.layer.joins else n for n in nodes
    ]
    text = to_spec(net._replace(graph=Dag(weighted)))
    assert "          - []\n        coeff: [1, 0.5]\n" in text
    assert [n.layer for n in cnncalc.load(text).graph.nodes if n.layer.joins] == [
        REGISTRY["add"](coeff=(1, 0.5))
    ] * 4
