"""The bundled zoo: every spec loads, traces cleanly and meets its own expectations, and the
torchvision models reproduce torchvision's published parameter counts and GFLOPS exactly.

The reference numbers below are typed from torchvision's model table (num_params and
GFLOPS, which count multiply-accumulates of conv and fc weights), not from our output.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pytest
import yaml

from cnncalc.analysis.tracer import Trace, trace
from cnncalc.core.errors import SpecError
from cnncalc.core.notation import format_shape
from cnncalc.core.shapes import Shape
from cnncalc.formats.spec import load_spec
from cnncalc.graph import TASKS, Network

ZOO = files("cnncalc.zoo")
NAMES = sorted(p.name.removesuffix(".yaml") for p in ZOO.iterdir() if p.name.endswith(".yaml"))

# model: (params, GMACs rounded to 3 decimals), 224x224x3 input unless the spec says otherwise
TORCHVISION = {
    "alexnet": (61_100_840, 0.714),
    "vgg11": (132_863_336, 7.609),
    "vgg16": (138_357_544, 15.470),
    "vgg19": (143_667_240, 19.632),
    "vgg16_bn": (138_365_992, 15.470),
    "googlenet": (6_624_904, 1.498),
    "inception_v3": (23_834_568, 5.713),
    "resnet18": (11_689_512, 1.814),
    "resnet34": (21_797_672, 3.664),
    "resnet50": (25_557_032, 4.089),
    "resnet101": (44_549_160, 7.801),
    "resnet152": (60_192_808, 11.514),
    "densenet121": (7_978_856, 2.834),
    "squeezenet1_0": (1_248_424, 0.819),
    "squeezenet1_1": (1_235_496, 0.349),
    "mobilenet_v2": (3_504_872, 0.301),
    "resnext50_32x4d": (25_028_904, 4.230),
    "wide_resnet50_2": (68_883_240, 11.398),
    "convnext_tiny": (28_589_128, 4.456),
    "densenet201": (20_013_928, 4.291),
    "vgg13_bn": (133_053_736, 11.308),
    "mobilenet_v3_large": (5_483_032, 0.217),
    "mobilenet_v3_small": (2_542_856, 0.057),
    "efficientnet_b0": (5_288_548, 0.386),
    "shufflenet_v2_x1_0": (2_278_604, 0.145),
    "regnet_y_400mf": (4_344_144, 0.402),
    "regnet_x_400mf": (5_495_976, 0.414),
    "mnasnet1_0": (4_383_312, 0.314),
}

# the networks that are not in torchvision, with the numbers their papers give
PAPERS = {"alexnet_2012", "lenet5", "nin", "unet"}

# the course's own list (issue 11): trainable params, buffers, MACs and output(s), each from
# the named reference (Caffe prototxt rebuilt in PyTorch, torchvision, or counted by hand)
COURSE = {
    "googlenet_2014": (6_998_552, 0, 1_582_671_872, "1000"),
    "segnet": (29_449_355, 0, 106_712_432_640, "360x480x11"),
    "faster_rcnn_rpn": (
        17_102_198,
        0,
        189_583_607_808,
        "rpn_cls_score=38x63x18, rpn_bbox_pred=38x63x36",
    ),
    "mask_rcnn_head": (2_646_107, 0, 532_066_304, "28x28x91"),
    "fractalnet": (33_724_618, 20_608, 845_222_912, "10"),
}


@cache
def text(name: str) -> str:
    return (ZOO / f"{name}.yaml").read_text(encoding="utf-8")


@cache
def traced(name: str) -> tuple[Network, Trace]:
    net = load_spec(text(name), f"{name}.yaml")
    return net, trace(net)


def unmet_expectations(net: Network, t: Trace) -> list[str]:
    """What the spec's ``expect`` says that its trace does not deliver (until a shared
    ``check`` exists, this is the test's own reading of ``expect``)."""
    unmet = []
    expect, totals = net.expect, t.totals()

    def show(shape: Shape | None) -> str:
        return "nothing" if shape is None else format_shape(shape, net.layout)

    if expect.output and expect.output[0] != t.output:
        unmet.append(f"output {show(expect.output[0])}, traced {show(t.output)}")
    for what, want, got in (
        ("params", expect.params, totals.params),
        ("macs", expect.macs, totals.macs),
    ):
        if want and want[0] != got:
            unmet.append(f"{what} {want[0]:,}, traced {got:,}")
    for name, (shape, _) in expect.outputs.items():
        if t.outputs.get(name) != shape:
            unmet.append(f"output {name} {show(shape)}, traced {show(t.outputs.get(name))}")
    for layer, (shape, _) in expect.shapes.items():
        if t.shapes.get(layer) != shape:
            unmet.append(f"{layer} {show(shape)}, traced {show(t.shapes.get(layer))}")
    return unmet


def test_the_zoo_holds_every_network_of_the_issue():
    assert set(TORCHVISION) | PAPERS | set(COURSE) <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_spec_traces_cleanly_and_meets_its_own_expectations(name):
    net, t = traced(name)
    assert t.ok, t.errors
    assert net.name == name
    assert text(name).startswith("# "), "a zoo spec starts with a comment citing its paper"
    expect = net.expect
    assert (expect.output or expect.outputs) and expect.params and expect.macs and expect.shapes, (
        "a zoo spec states its output, params, macs and some named shapes"
    )
    assert unmet_expectations(net, t) == []


@pytest.mark.parametrize("name", NAMES)
def test_spec_says_its_task_and_where_it_comes_from(name):
    """``zoo list`` groups by ``task`` and shows ``origin``: every zoo spec declares both."""
    net, _ = traced(name)
    assert net.task in TASKS, f"{name}.yaml needs task: one of {', '.join(TASKS)}"
    assert net.origin, f"{name}.yaml needs origin: torchvision, paper, BVLC Caffe, ..."
    assert len(net.origin) <= 20 and "\n" not in net.origin


@pytest.mark.parametrize("name", NAMES)
def test_spec_has_a_one_line_description(name):
    description = yaml.safe_load(text(name))["description"]
    assert isinstance(description, str) and "\n" not in description
    assert 10 < len(description) <= 90


@pytest.mark.parametrize(
    "name, params, buffers, macs, output", [(n, *v) for n, v in COURSE.items()]
)
def test_the_course_networks_match_their_references(name, params, buffers, macs, output):
    _, t = traced(name)
    totals = t.totals()
    assert (totals.params, totals.buffers, totals.macs) == (params, buffers, macs)
    outputs = t.outputs if t.outputs else {"": t.output}
    assert ", ".join(f"{k}={v}" if k else str(v) for k, v in outputs.items()) == output


@pytest.mark.parametrize("name, params, gmacs", [(n, *v) for n, v in TORCHVISION.items()])
def test_torchvision_parameters_and_gflops(name, params, gmacs):
    _, t = traced(name)
    totals = t.totals()
    assert totals.params == params
    assert round(totals.macs / 1e9, 3) == gmacs


def test_resnet50_stages_buffers_and_torchvision_names():
    _, t = traced("resnet50")
    assert t.totals().buffers == 53_120  # batch norm running mean and variance
    stages = {f"layer{i}": str(t.shapes[f"layer{i}"]) for i in range(1, 5)}
    assert stages == {
        "layer1": "56x56x256",
        "layer2": "28x28x512",
        "layer3": "14x14x1024",
        "layer4": "7x7x2048",
    }
    assert str(t.shapes["layer3.5.conv2"]) == "14x14x256"


def test_resnet152_is_no_longer_than_resnet18():
    _, t = traced("resnet152")
    assert str(t.shapes["layer3.35.conv2"]) == "14x14x256"
    assert len(text("resnet152").splitlines()) <= len(text("resnet18").splitlines())


def test_resnets_of_one_block_differ_only_in_their_repeat_counts():
    def structure(name: str) -> list[str]:
        lines = text(name).split("\nblocks:", 1)[1].split("\nexpect:", 1)[0].splitlines()
        return [line for line in lines if not line.lstrip().startswith("- repeat:")]

    assert structure("resnet18") == structure("resnet34")
    assert structure("resnet50") == structure("resnet101") == structure("resnet152")


def test_alexnet_2012_has_the_papers_shapes_and_the_hand_counted_parameters():
    _, t = traced("alexnet_2012")
    assert str(t.network.input) == "227x227x3"
    shapes = [str(t.shapes[f"conv{i}"]) for i in range(1, 6)] + [str(t.shapes["pool5"])]
    assert shapes == ["55x55x96", "27x27x256", "13x13x384", "13x13x384", "13x13x256", "6x6x256"]
    # 34,944 + 307,456 + 885,120 + 663,936 + 442,624 + 37,752,832 + 16,781,312 + 4,097,000
    assert t.totals().params == 60_965_224


def test_lenet5_has_the_papers_shapes():
    _, t = traced("lenet5")
    names = ("C1", "S2", "C3", "S4", "C5", "F6", "output")
    assert [str(t.shapes[n]) for n in names] == [
        "28x28x6",
        "14x14x6",
        "10x10x16",
        "5x5x16",
        "1x1x120",
        "84",
        "10",
    ]
    # 156 + 2,416 (C3 fully connected) + 48,120 + 10,164 + 850
    assert t.totals().params == 61_706


def test_nin_has_the_caffe_models_shapes():
    _, t = traced("nin")
    assert [str(t.shapes[n]) for n in ("mlpconv1", "pool1", "pool2", "mlpconv3", "pool3")] == [
        "32x32x96",
        "16x16x96",
        "8x8x192",
        "8x8x10",
        "1x1x10",
    ]


def test_unet_has_the_papers_shapes():
    _, t = traced("unet")
    assert str(t.shapes["enc1.conv1"]) == "570x570x64"
    assert str(t.shapes["enc1"]) == "568x568x64"
    assert str(t.shapes["pool1"]) == "284x284x64"
    assert str(t.shapes["bottom"]) == "28x28x1024"
    assert str(t.shapes["up4.concat1"]) == "56x56x1024"
    assert str(t.output) == "388x388x2"
    assert [r.kind for r in t.rows].count("crop") == 4


def test_task_and_origin_are_read_and_a_task_not_known_is_refused_where_written():
    spec = "input: 8x8x3\ntask: {task}\norigin: my lab\nlayers: [conv 4]\n"
    net = load_spec(spec.format(task="detection"), "net.yaml")
    assert (net.task, net.origin) == ("detection", "my lab")
    assert load_spec("input: 8x8x3\nlayers: [conv 4]\n", "net.yaml").task == ""
    with pytest.raises(SpecError) as refused:
        load_spec(spec.format(task="clasification"), "net.yaml")
    [problem] = refused.value.problems
    assert (problem.pos.line, problem.pos.column) == (2, 7)
    assert problem.message.startswith("task must be one of classification, segmentation, detection")


def test_segnet_unpools_to_each_pools_input_at_any_size():
    """Caffe's ceil pools take 45x60 to 23x30; the unpool restores 45x60, not 46x60."""
    net, t = traced("segnet")
    assert [str(t.shapes[f"upsample{i}"]) for i in (5, 4)] == ["23x30x512", "45x60x512"]
    odd = trace(net, Shape((299, 401), 3))
    assert odd.ok and str(odd.output) == "299x401x11"
    assert str(odd.shapes["pool5"]) == "10x13x512"


def test_fractalnet_blocks_follow_the_expansion_rule():
    """f3 = join(f2(f2(z)), conv(z)): 7 convolutions a block, 4 on the longest path."""
    _, t = traced("fractalnet")
    kinds = [r.kind for r in t.rows]
    assert kinds.count("conv") == 35 and kinds.count("mean") == 15
    block1 = [r.name for r in t.rows if r.kind == "conv" and r.name.startswith("block1.")]
    assert len(block1) == 7
    assert "block2.mean1.0.f21.mean1.0.f11.conv1" in t.shapes  # f3 -> f2 -> f1, by name
