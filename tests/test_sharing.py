"""Shared and frozen weights (issue 16): ``shares: NAME`` applies an earlier layer's weights
again (parameters counted once, MACs every time), ``frozen: true`` marks parameters that are
not trained; both on a layer, a block call, a repeat or a merge, through the one graph."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

import cnncalc
from cnncalc.analysis.tracer import fold, trace
from cnncalc.api import check
from cnncalc.cli import main
from cnncalc.core.errors import SpecError
from cnncalc.formats.compiled import network_data, network_from_data
from cnncalc.formats.schema import spec_schema
from cnncalc.formats.spec import load_spec

DATA = Path(__file__).parent / "data"
RETINANET = DATA / "retinanet_resnet50_fpn.yaml"
SIAMESE = DATA / "siamese.yaml"


def traced(text: str):
    return trace(load_spec(text))


def only_error(text: str):
    t = traced(text)
    assert len(t.errors) == 1, t.errors
    return t.errors[0]


# --- counting: parameters once, MACs every time -------------------------------------------------


def test_the_siamese_toy_counts_its_twin_once_and_runs_it_twice():
    t = traced(SIAMESE.read_text())
    assert t.ok, t.errors
    rows = {r.name: r for r in t.rows}
    # by hand (tests/data/siamese.yaml): c1 112 params, 6,912 MACs; c2 148, 9,216
    assert (rows["pair.0.left.c1"].params, rows["pair.0.left.c1"].macs) == (112, 6912)
    assert (rows["pair.0.left.c2"].params, rows["pair.0.left.c2"].macs) == (148, 9216)
    assert (rows["pair.1.right.c1"].params, rows["pair.1.right.c1"].macs) == (0, 6912)
    assert (rows["pair.1.right.c2"].params, rows["pair.1.right.c2"].macs) == (0, 9216)
    assert rows["pair.1.right.c2"].shares == "pair.0.left.c2"
    totals = t.totals()
    assert (totals.params, totals.macs) == (260, 32_256)
    assert totals.params == sum(r.params for r in t.rows)
    assert totals.macs == sum(r.macs for r in t.rows)


def test_without_sharing_the_twin_counts_twice():
    t = traced(SIAMESE.read_text().replace(", shares: pair.0.left", ""))
    assert (t.totals().params, t.totals().macs) == (520, 32_256)


def test_a_layer_shares_by_name_inline_and_as_a_key():
    t = traced(
        """
input: 8x8x4
layers:
  - conv 4 f3 p1 name=a
  - conv 4 f3 p1 shares=a
  - {conv: {filters: 4, f: 3, pad: 1}, shares: a}
"""
    )
    assert t.ok, t.errors
    # 4 x (3x3x4 + 1) = 148 params once; 8x8 x 4 x 36 = 9,216 MACs three times
    assert [(r.params, r.macs, r.shares) for r in t.rows] == [
        (148, 9216, ""),
        (0, 9216, "a"),
        (0, 9216, "a"),
    ]


def test_a_chain_of_sharing_points_at_the_first_owner():
    t = traced(
        "input: 8x8x4\nlayers: [conv 4 f1 name=a, conv 4 f1 shares=a name=b, conv 4 f1 shares=b]"
    )
    assert [r.shares for r in t.rows] == ["", "a", "a"]
    assert t.totals().params == 20


def test_sharing_inside_a_repeat_and_a_repeat_sharing_a_repeat():
    t = traced(
        """
input: 8x8x4
layers:
  - conv 4 f3 p1 name=c0
  - repeat: 3
    name: r
    layers: [conv 4 f3 p1 shares=c0, relu]
  - repeat: 2
    name: s
    layers: [conv 4 f1, conv 4 f1]
  - repeat: 2
    name: t
    shares: s
    layers: [conv 4 f1, conv 4 f1]
"""
    )
    assert t.ok, t.errors
    totals = t.totals()
    # c0: 148 params, 9,216 MACs, applied 4 times; s: 4 convs of 4 x (4 + 1) = 20 params,
    # 8x8 x 4 x 4 = 1,024 MACs each; t applies s's four again
    assert totals.params == 148 + 4 * 20
    assert totals.macs == 4 * 9216 + 8 * 1024
    assert {r.name: r.shares for r in t.rows if r.name.startswith("t.")} == {
        "t.0.conv1": "s.0.conv1",
        "t.0.conv2": "s.0.conv2",
        "t.1.conv1": "s.1.conv1",
        "t.1.conv2": "s.1.conv2",
    }


def test_a_block_applied_at_each_level_shares_one_head():
    t = traced(
        """
input: 16x16x8
blocks:
  level_head:
    args: {out: null}
    layers: [conv 8 f3 p1, relu, conv out f1 name=logits]
layers:
  - conv 8 f3 p1 name=p3
  - conv 8 f3 s2 p1 name=p4
  - {from: p3}
  - level_head 5 name=h3
  - {from: p4}
  - level_head 5 name=h4 shares=h3
outputs: [h3, h4]
"""
    )
    assert t.ok, t.errors
    rows = {r.name: r for r in t.rows}
    assert rows["h4.logits"].shares == "h3.logits" and rows["h4.logits"].params == 0
    head = 8 * (72 + 1) + 5 * (8 + 1)  # 584 + 45
    assert t.totals().params == 2 * 584 + head
    # folded, the second call is one row sharing the first
    folded = {r.name: r for r in fold(t, 1)}
    assert folded["h4"].shares == "h3" and folded["h4"].params == 0
    assert folded["h4"].macs == rows["h4.conv1"].macs + rows["h4.logits"].macs


@given(
    channels=st.integers(1, 8),
    kernel=st.sampled_from([1, 3]),
    sharing=st.lists(st.booleans(), min_size=1, max_size=6),
    frozen=st.lists(st.booleans(), min_size=7, max_size=7),
)
@example(channels=3, kernel=3, sharing=[True, False, True], frozen=[True] * 7)
def test_params_once_macs_each_time_and_totals_are_sums_of_rows(channels, kernel, sharing, frozen):
    """A chain of equal convs, some applying the first one's weights, some frozen."""
    pad = kernel // 2
    lines = [f"  - conv {channels} f{kernel} p{pad} name=first frozen={frozen[0]}"]
    for i, shared in enumerate(sharing):
        mark = " shares=first" if shared else ""
        lines.append(f"  - conv {channels} f{kernel} p{pad}{mark} frozen={frozen[i + 1]}")
    t = traced(f"input: 6x6x{channels}\nlayers:\n" + "\n".join(lines) + "\n")
    assert t.ok, t.errors
    weights = channels * (channels * kernel * kernel + 1)  # valid by construction: c in = c out
    macs = 6 * 6 * channels * channels * kernel * kernel
    owners = [True] + [not shared for shared in sharing]
    totals = t.totals()
    assert totals.params == weights * sum(owners)
    assert totals.macs == macs * len(t.rows)
    assert totals.frozen == weights * sum(o and f for o, f in zip(owners, frozen))
    assert totals.params == sum(r.params for r in t.rows)
    assert totals.frozen == sum(r.frozen for r in t.rows)


def test_yolov8s_fixed_dfl_conv_is_frozen():
    """Ultralytics' DFL: nn.Conv2d(16, 1, 1, bias=False).requires_grad_(False) over the box
    logits viewed as (4 sides) x (anchors) x (16 bins): 16 frozen weights, nothing trainable."""
    t = traced("input: 4x8400x16\nlayers: [conv 1 f1 nobias frozen=true name=dfl]\n")
    totals = t.totals()
    assert (totals.params, totals.frozen, totals.trainable) == (16, 16, 0)
    assert totals.macs == 4 * 8400 * 16


# --- errors, located ----------------------------------------------------------------------------


def test_an_unknown_name_is_located_with_did_you_mean():
    problem = only_error(
        "input: 8x8x4\nlayers:\n  - conv 4 f1 name=stem\n  - conv 4 f1 shares=stme\n"
    )
    assert problem.pos.line == 4
    assert "no layer named 'stme'" in problem.message and "did you mean 'stem'" in problem.message


def test_an_unknown_container_is_located():
    problem = only_error(
        "input: 8x8x4\nblocks:\n  b: {layers: [conv 4 f1]}\nlayers:\n  - b name=one\n"
        "  - {b: , name: two, shares: on}\n"
    )
    assert problem.pos.line == 6 and "did you mean 'one'" in problem.message


def test_weights_for_other_input_channels_are_refused_where_shared():
    problem = only_error(
        "input: 8x8x3\nlayers:\n  - conv 4 f3 p1 name=a\n  - conv 4 f3 p1 shares=a\n"
    )
    assert problem.pos.line == 4
    assert "made for 3 input channels, but its input has 4" in problem.message


def test_another_kind_cannot_apply_the_weights():
    problem = only_error("input: 8x8x4\nlayers:\n  - conv 4 f1 name=a\n  - bn shares=a\n")
    assert problem.pos.line == 4 and "is a conv" in problem.message


def test_other_settings_are_refused():
    problem = only_error("input: 8x8x4\nlayers:\n  - conv 4 f1 name=a\n  - conv 4 f3 p1 shares=a\n")
    assert problem.pos.line == 4 and "settings differ" in problem.message


def test_a_container_whose_layout_differs_is_refused():
    problem = only_error(
        "input: 8x8x4\nlayers:\n  - repeat: 1\n    name: r\n    layers: [conv 4 f1 name=a, relu]\n"
        "  - repeat: 1\n    name: s\n    shares: r\n    layers: [conv 4 f1 name=b, relu]\n"
    )
    assert problem.pos.line == 9 and "'r.0.b', its counterpart" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "input: 8x8x4\nlayers:\n  - conv 4 f1\n  - {from: conv1, shares: conv1}\n",
            4,
            "no weights",
        ),
        ("input: 8x8x4\nlayers:\n  - {conv: 4, frozen: maybe}\n", 3, "not true or false"),
        ("input: 8x8x4\nlayers:\n  - {conv: 4, shares: 3}\n", 3, "not a layer's name"),
        ("input: 8x8x4\nlayers:\n  - conv 4 shares=\n", 3, "not a layer's name"),
        ("input: 8x8x4\nlayers:\n  - conv 4 frozen=maybe\n", 3, "not true or false"),
    ],
)
def test_marks_written_wrong_are_located(text, line, words):
    with pytest.raises(SpecError) as e:
        load_spec(text)
    assert e.value.problems[0].pos.line == line and words in e.value.problems[0].message


# --- frozen -------------------------------------------------------------------------------------


FROZEN = """
input: 8x8x4
blocks:
  unit:
    layers: [conv 4 f3 p1 nobias, bn]
layers:
  - conv 4 f1 name=a frozen=true
  - unit name=b frozen=true
  - repeat: 2
    name: r
    frozen: true
    layers: [conv 4 f1]
  - {conv: 4, name: c}
  - bn name=d
"""


def test_frozen_layers_blocks_and_repeats_split_the_totals():
    t = traced(FROZEN)
    assert t.ok, t.errors
    rows = {r.name: r for r in t.rows}
    # a: 4 x (4 + 1) = 20; b: conv 4 x 36 = 144, bn 2 x 4 = 8 (and 8 buffers); r: 2 x 20;
    # c: conv 4 with 1x1 default kernel? no: a 3x3 default is the kind's, so read it
    frozen = 20 + 144 + 8 + 2 * 20
    assert [rows[n].frozen for n in ("a", "b.conv1", "b.bn1", "r.0", "r.1")] == [20, 144, 8, 20, 20]
    assert rows["c"].frozen == 0 and rows["d"].frozen == 0
    totals = t.totals()
    assert totals.frozen == frozen
    assert totals.trainable == rows["c"].params + rows["d"].params
    assert totals.params == frozen + totals.trainable
    assert totals.buffers == 8 + 8  # running statistics of both bns, frozen or not


def test_the_json_report_and_the_api_say_it():
    data = cnncalc.trace(load_spec(FROZEN))
    totals = data["totals"]
    assert totals["frozen_params"] == 212
    assert totals["trainable_params"] == totals["params"] - 212
    assert totals["buffers"] == 16
    assert totals["non_trainable_params"] == 212 + 16
    layers = {layer["name"]: layer for layer in data["layers"]}
    assert layers["a"]["frozen_params"] == 20 and "frozen_params" not in layers["c"]
    shared = cnncalc.trace(str(SIAMESE))
    assert shared["totals"]["shared_layers"] == 2  # the convs: the ReLU between holds nothing
    right = {layer["name"]: layer for layer in shared["layers"]}["pair.1.right.c1"]
    assert right["shares"] == "pair.0.left.c1" and right["params"] == 0


# --- RetinaNet against torchvision --------------------------------------------------------------


def test_retinanet_with_shared_heads_is_torchvisions_count():
    t = trace(cnncalc.load(str(RETINANET)))
    assert t.ok, t.errors
    totals = t.totals()
    # Measured in a scratch venv with torch and torchvision (never a dependency):
    #   sum(p.numel() for p in retinanet_resnet50_fpn(weights=None,
    #       weights_backbone=None).parameters())                       -> 34,068,119
    #   the same as for a pretrained backbone (FrozenBatchNorm2d, trainable_layers=3):
    #       sum(p.numel() for p in model.parameters() if p.requires_grad) -> 33,792,599
    #       (its frozen convs: 222,400; FrozenBatchNorm2d's scale and shift are buffers
    #       there, frozen parameters here: 53,120)
    #   Conv2d forward hooks over backbone and head at 1x3x512x512      -> 62,003,326,976
    assert totals.params == 34_068_119
    assert totals.trainable == 33_792_599
    assert totals.frozen == 222_400 + 53_120
    assert totals.buffers == 53_120  # torchvision's 53,173 less one num_batches_tracked per bn
    assert totals.macs == 62_003_326_976


def test_retinanet_written_without_sharing_counts_four_more_heads():
    text = RETINANET.read_text()
    unshared = text.replace(" shares=cls3", "").replace(" shares=reg3", "")
    assert unshared != text
    # four more of each head: 4 x (4,248,115 + 2,443,300)
    assert traced(unshared).totals().params - 34_068_119 == 26_765_660


# --- round trips: convert, the compiled form, the schema, the CLI -------------------------------


@pytest.mark.parametrize("path", [SIAMESE, RETINANET], ids=lambda p: p.stem)
def test_convert_writes_the_marks_and_reads_back_the_same(path):
    net = cnncalc.load(str(path))
    written = cnncalc.to_spec(net)
    back = trace(load_spec(written))
    assert back.ok, back.errors
    before, after = trace(net).totals(), back.totals()
    assert (after.params, after.frozen, after.buffers, after.macs) == (
        before.params,
        before.frozen,
        before.buffers,
        before.macs,
    )


def test_the_compiled_form_keeps_the_marks():
    net = cnncalc.load(str(RETINANET))
    again = network_from_data(json.loads(json.dumps(network_data(net))))
    assert again.graph.nodes == net.graph.nodes
    assert trace(again).totals() == trace(net).totals()


@pytest.mark.parametrize("path", [SIAMESE, RETINANET], ids=lambda p: p.stem)
def test_specs_with_marks_meet_the_schema(path):
    jsonschema.validate(yaml.safe_load(path.read_text()), spec_schema())


def test_the_schema_refuses_a_shares_that_is_not_a_name():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"input": "8x8x3", "layers": [{"conv": 4, "shares": 3}]}, spec_schema())


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_trace_json_and_check_through_the_cli():
    result = run("trace", str(RETINANET), "--format", "json")
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)["totals"]
    assert (totals["params"], totals["trainable_params"]) == (34_068_119, 33_792_599)
    # --expect-params means every parameter, trainable and frozen, shared ones once
    assert run("check", str(RETINANET), "--expect-params", "34068119").exit_code == 0
    assert run("check", str(RETINANET), "--expect-params", "33792599").exit_code == 1
    # --expect-trainable (and the spec's expect.trainable) is what requires_grad counts
    assert run("check", str(RETINANET), "--expect-trainable", "33792599").exit_code == 0
    failed = run("check", str(RETINANET), "--expect-trainable", "34068119")
    assert failed.exit_code == 1
    assert "expected 34,068,119 trainable parameters, got 33,792,599" in failed.output


def test_expect_trainable_in_a_spec_is_located_when_wrong():
    text = RETINANET.read_text().replace("trainable: 33_792_599", "trainable: 33_792_600")
    result = check(load_spec(text))
    [problem] = result.problems
    assert "expected 33,792,600 trainable parameters" in problem.message
    assert text.splitlines()[problem.pos.line - 1].lstrip().startswith("trainable:")


def test_the_table_marks_shared_and_frozen_rows():
    result = CliRunner(env={"COLUMNS": "160"}).invoke(
        main, ["trace", str(RETINANET), "--depth", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "shared: cls3" in result.stdout and "cls4 ⇒ ↺" in result.stdout
    assert "215,808 frozen" in result.stdout  # layer1
    assert "33,792,599 trainable, 275,520 frozen; 53,120 buffers" in result.stdout


def test_convert_through_the_cli_writes_shares():
    result = run("convert", str(SIAMESE))
    assert result.exit_code == 0, result.output
    assert "shares=" in result.stdout


# --- Caffe: weight blobs shared by name, frozen by lr_mult: 0 ----------------------------------

CAFFE_SIAMESE = """
name: "siamese"
layer { name: "data" type: "Input" top: "data"
        input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        param { name: "conv1_w" lr_mult: 1 } param { name: "conv1_b" lr_mult: 2 }
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "conv1_p" type: "Convolution" bottom: "data" top: "conv1_p"
        param { name: "conv1_w" lr_mult: 1 } param { name: "conv1_b" lr_mult: 2 }
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "fixed" type: "Convolution" bottom: "conv1_p" top: "fixed"
        param { lr_mult: 0 } param { lr_mult: 0 }
        convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "cat" type: "Concat" bottom: "conv1" bottom: "fixed" top: "cat" }
"""


def test_caffe_params_named_alike_share_and_lr_mult_0_freezes(tmp_path):
    path = tmp_path / "siamese.prototxt"
    path.write_text(CAFFE_SIAMESE)
    t = trace(cnncalc.load(str(path)))
    assert t.ok, t.errors
    rows = {r.name: r for r in t.rows}
    assert rows["conv1_p"].shares == "conv1" and rows["conv1_p"].params == 0
    totals = t.totals()
    # conv1: 4 x (27 + 1) = 112, once; fixed: 2 x (4 + 1) = 10, frozen
    assert (totals.params, totals.frozen) == (122, 10)
    # 8x8 x 4 x 27 = 6,912 twice; 8x8 x 2 x 4 = 512
    assert totals.macs == 2 * 6912 + 512


def test_caffe_blobs_shared_by_another_kind_are_refused_at_the_layer(tmp_path):
    path = tmp_path / "bad.prototxt"
    path.write_text(
        CAFFE_SIAMESE.replace(
            'type: "Convolution" bottom: "conv1_p" top: "fixed"\n        param { lr_mult: 0 }',
            'type: "Convolution" bottom: "conv1_p" top: "fixed"\n        param { name: "conv1_b" }',
        )
    )
    t = trace(cnncalc.load(str(path)))
    assert [p.path for p in t.errors] == ["fixed"]
    assert "weights, made for 3 input channels, but its input has 4" in t.errors[0].message
