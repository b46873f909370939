"""Caffe ``.prototxt`` files: the text-format reader, the layer types, and the commands.

The fixtures in tests/data/caffe/ were written for these tests; every expected number is
worked out by hand in the comments (shapes CxHxW, as Caffe writes them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.analysis.tracer import trace
from cnncalc.api import load
from cnncalc.cli import main
from cnncalc.core.errors import SpecError
from cnncalc.core.shapes import Shape
from cnncalc.formats.prototext import Message, parse
from cnncalc.kinds import Add, Concat

DATA = Path(__file__).parent / "data" / "caffe"
SMALL, FCN, V1 = (str(DATA / f"{name}.prototxt") for name in ("small", "fcn", "v1"))


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# --- the reader -------------------------------------------------------------------------


def test_reader_keeps_fields_in_order_with_positions():
    m = parse("a: 1\nb { c: \"x\\ty\" c: 'z' }\nd: [1, -2.5e3]  # comment\ne < f: WORD >\n")
    assert [f.name for f in m.fields] == ["a", "b", "d", "d", "e"]
    b = m.first("b").value
    assert isinstance(b, Message)
    assert [f.value.text for f in b.all("c")] == ["x\ty", "z"]
    assert [f.value.text for f in m.all("d")] == ["1", "-2.5e3"]
    assert m.first("e").value.first("f").value.kind == "word"
    assert m.first("d").pos == (3, 1) and b.first("c").value.pos == (2, 8)


@pytest.mark.parametrize(
    "text, pos, message",
    [
        ("a {\n  b: 1\n", (1, 3), "this { is never closed"),
        ('a: "abc\n', (1, 4), "unterminated string"),
        ("a: 3x\n", (1, 4), "'3x' is not a number"),
        ("a: 1\n}\n", (2, 1), "'}' closes nothing"),
        ("a 1\n", (1, 3), "expected ':' or '{' after 'a'"),
        ("a: [1 2]\n", (1, 7), "expected ',' or ']'"),
        ('a: "\\q"\n', (1, 5), "unknown escape"),
        ("a:\n", (2, 1), "ends in the middle of a field"),
        ("a: 1 @\n", (1, 6), "unexpected character '@'"),
        ("a {" * 101, (1, 300), "nested deeper than 100"),  # the root is a level
    ],
)
def test_reader_locates_syntax_errors(text, pos, message):
    with pytest.raises(SpecError) as e:
        parse(text, "f.prototxt")
    (problem,) = e.value.problems
    assert problem.pos == pos and message in problem.message


# --- the layer types, by hand -------------------------------------------------------------


def test_small_every_layer_type():
    t = trace(load(SMALL))
    assert t.ok, t.errors
    rows = {r.name: r for r in t.rows}
    # Input, the TRAIN-only layers, the data, loss and accuracy layers are not rows
    assert "data" not in rows and "train_only" not in rows and "loss" not in rows
    assert list(rows)[:5] == ["conv1", "relu1", "bn1", "sc1", "pool1"]
    # conv1: 8 filters 3x3 over 3 channels, pad 1: 8*3*9 + 8 = 224; 32*32*8*27 = 221,184 MACs
    assert (rows["conv1"].params, rows["conv1"].macs) == (224, 221_184)
    # BatchNorm: nothing learnt, mean and variance per channel and one factor: 2*8 + 1 = 17
    assert (rows["bn1"].kind, rows["bn1"].params, rows["bn1"].buffers) == ("bnstats", 0, 17)
    assert rows["sc1"].params == 16  # Scale with bias_term: 8 + 8
    # Caffe rounds up: ceil((32 - 3)/2) + 1 = 16 (floor would give 15)
    assert rows["pool1"].output == Shape((16, 16), 8)
    # 1x3 kernel, pad 0/1, 2 groups, no bias: 4 * 8/2 * 3 = 48, 16*16*48 = 12,288 MACs
    assert (rows["conva"].params, rows["conva"].macs) == (48, 12_288)
    assert rows["prelu"].params == 4  # one slope per channel
    # dilation 2, pad 2: (16 + 4 - 5) + 1 = 16; 4*8*9 + 4 = 292
    assert (rows["convb"].output, rows["convb"].params) == (Shape((16, 16), 4), 292)
    # in place: the prelu's output is conva's, so the concat reads prelu and sig
    assert rows["cat"].inputs == ("prelu", "sig") and rows["cat"].output.channels == 8
    assert [rows[n].kind for n in ("sum", "prod", "mx")] == ["add", "prod", "max"]
    assert rows["sum"].inputs == ("cat", "split1")
    # AVE k2 s2 p1 on 16: ceil(16/2) + 1 = 9; MAX k2 s2 p1 on 9: ceil(9/2) + 1 = 6, but
    # window 6 would start at 10 >= 9 + 1, in the padding, so it is dropped: 5
    assert rows["pool2"].output == Shape((9, 9), 8) and rows["pool3"].output == Shape((5, 5), 8)
    assert rows["gpool"].output == Shape((1, 1), 8)
    assert rows["fc"].params == 90  # 8*10 + 10
    totals = t.totals()
    assert (totals.params, totals.buffers) == (674, 17)  # 224+16+48+4+292+90
    assert totals.macs == 221_184 + 12_288 + 73_728 + 80
    assert t.output == Shape((), 10)


def test_fcn_deconvolution_and_crop_to_the_input():
    t = trace(load(FCN))
    assert t.ok, t.errors
    rows = {r.name: r for r in t.rows}
    assert rows["conv1"].output == Shape((14, 14), 4)  # (20 + 10 - 3)//2 + 1 = 14
    assert rows["relu1"].kind == "leakyrelu"  # negative_slope 0.1
    # (14 - 1)*2 + 4 = 30; 2 groups, no bias: 2 * 2/2 * 16 = 32; 14*14*32 = 6,272 MACs
    assert (rows["up"].output, rows["up"].params, rows["up"].macs) == (
        Shape((30, 30), 2),
        32,
        6_272,
    )
    assert rows["crop"].output == Shape((20, 20), 2)  # to data's 20x20, from offset 5
    assert (t.totals().params, t.totals().macs) == (154, 29_008)


def test_old_format_with_enum_types():
    net = load(V1)
    assert net.name == "lenet" and net.input == Shape((28, 28), 1)
    t = trace(net)
    # 20*25 + 20 = 520; 24 -> 12 by pooling; 20*12*12*10 + 10 = 28,810; the loss is left out
    assert [r.name for r in t.rows] == ["conv1", "pool1", "ip1"]
    assert t.totals().params == 520 + 28_810


def test_several_unread_blobs_are_the_outputs(tmp_path):
    spec = tmp_path / "two.prototxt"
    spec.write_text(
        'input: "x" input_dim: 1 input_dim: 2 input_dim: 4 input_dim: 4\n'
        'layer { name: "a" type: "Convolution" bottom: "x" top: "a"\n'
        "  convolution_param { num_output: 3 kernel_size: 1 } }\n"
        'layer { name: "b" type: "Pooling" bottom: "x" top: "b"\n'
        "  pooling_param { kernel_size: 2 stride: 2 } }\n"
    )
    t = trace(load(spec))
    assert t.outputs == {"a": Shape((4, 4), 3), "b": Shape((2, 2), 2)}
    result = run("check", str(spec), "--expect-output", "a=3x4x4", "--expect-output", "b=2x2x2")
    assert result.exit_code == 0, result.output


# --- the commands -------------------------------------------------------------------------


def test_trace_names_rows_by_the_layer_names():
    result = run("trace", SMALL, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [layer["name"] for layer in data["layers"]][:3] == ["conv1", "relu1", "bn1"]
    assert data["totals"]["params"] == 674 and data["totals"]["non_trainable_params"] == 17


def test_check_with_expectations_on_the_command_line():
    ok = run("check", FCN, "--expect-params", "154", "--expect-macs", "29008")
    assert ok.exit_code == 0, ok.output
    ok = run("check", FCN, "--expect-output", "2x20x20")  # CxHxW, as Caffe writes it
    assert ok.exit_code == 0, ok.output
    bad = run("check", FCN, "--expect-params", "155", "--expect-output", "2x21x21")
    assert bad.exit_code == 1
    assert "expected 155 parameters, got 154" in bad.output
    assert "expected output 2x21x21, got 2x20x20" in bad.output


def test_input_override_is_channels_first():
    # 3x40x40: conv1 (40 + 10 - 3)//2 + 1 = 24, up (24 - 1)*2 + 4 = 50, crop to 40x40
    result = run("trace", FCN, "--input", "3x40x40", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"][-1]["output"] == [2, 40, 40]


def test_from_caffe_reads_any_file_name(tmp_path):
    spec = tmp_path / "net.txt"
    spec.write_text(Path(FCN).read_text())
    assert run("check", str(spec), "--from", "caffe", "--expect-params", "154").exit_code == 0
    assert run("diagram", str(spec), "--from", "caffe").exit_code == 0


def test_public_numbers_of_a_hand_written_resnet_block(tmp_path):
    """He et al.'s pattern: BatchNorm + Scale in place, a bias on conv1 only."""
    spec = tmp_path / "res.prototxt"
    spec.write_text(
        'input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n'
        'layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"\n'
        "  convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }\n"
        'layer { name: "bn" type: "BatchNorm" bottom: "conv1" top: "conv1" }\n'
        'layer { name: "sc" type: "Scale" bottom: "conv1" top: "conv1"'
        " scale_param { bias_term: true } }\n"
        'layer { name: "c2" type: "Convolution" bottom: "conv1" top: "c2"\n'
        "  convolution_param { num_output: 4 kernel_size: 1 bias_term: false } }\n"
        'layer { name: "sum" type: "Eltwise" bottom: "conv1" bottom: "c2" top: "sum" }\n'
    )
    # conv1 4*27 + 4 = 112, scale 8, c2 16: 136 trainable; bn 2*4 + 1 = 9 stored
    t = trace(load(spec))
    assert (t.totals().params, t.totals().buffers) == (136, 9)


# --- bad input: one located line each, exit 1, no traceback ----------------------------------

HEAD = 'input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\n'


def _conv(body: str, name: str = "c", bottom: str = "data") -> str:
    return (
        f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}"\n'
        f"  convolution_param {{ {body} }} }}\n"
    )


@pytest.mark.parametrize(
    "text, where, message",
    [
        (HEAD + _conv("num_output: 4 kernel_size: 3", bottom="dta"), "2:47", "did you mean 'data'"),
        (HEAD + _conv("num_output: four kernel_size: 3"), "3:35", "must be a whole number"),
        (HEAD + _conv("kernel_size: 3"), "2:9", "needs num_output"),
        (HEAD + _conv("num_output: 4 kernel_size: 3 colour: 2"), "3:52", "no field 'colour'"),
        (HEAD + _conv("num_output: 4 kernel_size: 3 axis: 2"), "3:58", "axis: only 1"),
        (HEAD + _conv("num_output: 4 kernel_size: 3 num_output: 5"), "3:52", "given twice"),
        (HEAD + 'layer { name: "r" type: "Reshape" bottom: "data" top: "r" }\n', "2:25", "Reshape"),
        (HEAD + 'layer { name: "r" type: "Relu" bottom: "data" top: "r" }\n', "2:25", "'ReLU'"),
        (
            HEAD + 'layer { name: "c" type: "Concat" bottom: "data" top: "c"'
            " concat_param { axis: 0 } }\n",
            "2:79",
            "axis 0 is the batch",
        ),
        (
            HEAD + 'layer { name: "e" type: "Eltwise" bottom: "data" bottom: "data" top: "e"'
            " eltwise_param { operation: MAX coeff: 1 coeff: 2 } }\n",
            "2:105",
            "only SUM",
        ),
        (
            HEAD + 'layer { name: "c" type: "Concat" bottom: "data" top: "c"'
            " concat_param { axis: -1 } }\n",
            "2:79",
            "axis -1 counts from the end",
        ),
        (
            HEAD + 'layer { name: "c" type: "Concat" bottom: "data" top: "c"'
            " concat_param { axis: 1 concat_dim: 1 } }\n",
            "2:81",
            "axis or concat_dim, not both",
        ),
        (HEAD + 'layer { name: "k" type: "Crop" bottom: "data" top: "k" }\n', "2:9", "two bottoms"),
        (
            HEAD + _conv("num_output: 4 kernel_size: 3") + _conv("num_output: 4 kernel_size: 3"),
            "4:9",
            "already defined on line 2",
        ),
        ('layer { name: "c" type: "ReLU" bottom: "x" top: "x" }\n', "1:40", "'x' is not the top"),
        ('name: "empty"\n', "1:1", "no input shape"),
        (
            HEAD
            + 'layer { name: "r" type: "ReLU" bottom: "loss" top: "r" }\n'.replace(
                "layer",
                'layer { name: "l" type: "EuclideanLoss" bottom: "data" top: "loss" }\nlayer',
                1,
            ),
            "3:40",
            "written by a EuclideanLoss layer",
        ),
        ('input: "data"\ninput_dim: 1\ninput_dim: 3\n', "2:1", "4 per input"),
        (
            HEAD + 'layer { name: "n" type: "LRN" bottom: "data" top: "n"'
            " lrn_param { local_size: 4 } }\n",
            "2:79",
            "must be odd",
        ),
        (HEAD + 'layer { name: "c" type: "Convolution"\n', "2:7", "never closed"),
    ],
)
def test_bad_input_is_located(tmp_path, text, where, message):
    spec = tmp_path / "bad.prototxt"
    spec.write_text(text)
    result = run("trace", str(spec))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"bad.prototxt:{where}: error:" in result.stderr, result.stderr
    assert message in result.stderr


def test_a_crop_that_does_not_fit_stops_at_its_row(tmp_path):
    spec = tmp_path / "crop.prototxt"
    # the 30x30 deconvolution cannot give 20 from offset 11: 20 + 11 > 30
    spec.write_text(Path(FCN).read_text().replace("offset: 5", "offset: 11"))
    result = run("trace", str(spec))
    assert result.exit_code == 1
    assert "20 + 11 = 31 is more than 30" in result.output


def test_every_problem_of_a_file_at_once(tmp_path):
    spec = tmp_path / "many.prototxt"
    spec.write_text(
        HEAD
        + _conv("num_output: x kernel_size: 3", name="a")
        + _conv("num_output: 4 kernel_size: 3 wat: 1", name="b")
        + 'layer { name: "z" type: "Nonsense" bottom: "data" top: "z" }\n'
    )
    with pytest.raises(SpecError) as e:
        load(spec)
    lines = [p.pos.line for p in e.value.problems]
    assert lines == [3, 5, 6], e.value.problems


# --- mutations of the fixtures never crash ----------------------------------------------------

FIXTURES = [Path(p).read_text() for p in (SMALL, FCN, V1)]
PIECES = ["{", "}", '"', ":", "\n", "#", "layer {", 'top: "x"', "-1", "0", "1e9", 'bottom: "a"']


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(FIXTURES),
    st.integers(0, 10**6),
    st.integers(0, 40),
    st.sampled_from(PIECES + [""]),
)
def test_mutated_fixtures_exit_cleanly(tmp_path, text, at, cut, piece):
    at %= len(text)
    mutated = text[:at] + piece + text[at + cut :]
    spec = tmp_path / "m.prototxt"
    spec.write_text(mutated)
    result = run("trace", str(spec))
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


# --- the kinds added for Caffe ----------------------------------------------------------------


def test_the_kinds_caffe_needs():
    from cnncalc.core.errors import GeometryError
    from cnncalc.kinds import Crop, Max, Scale, StatsNorm

    x = Shape((4, 4), 3)
    assert StatsNorm().apply(x)[1:3] == (0, 7)  # 2*3 + 1 stored, nothing learnt
    assert Scale().apply(x).params == 3 and Scale(bias=True).apply(x).params == 6
    assert Max().combine(x, x) == x
    with pytest.raises(GeometryError):
        Max().combine(x, Shape((4, 4), 2))
    assert Crop(size=2, offset=2).apply(x).shape == Shape((2, 2), 3)  # 2 + 2 <= 4
    with pytest.raises(GeometryError, match="2 \\+ 3 = 5 is more than 4"):
        Crop(size=2, offset=3).apply(x)


def test_max_is_a_merge_in_a_yaml_spec():
    spec = "input: 8x8x3\nlayers:\n  - max: [[conv 4 f1], [conv 4 f3 p1]]\n"
    result = run("check", spec, "--expect-output", "8x8x4")
    assert result.exit_code == 0, result.output


def test_an_eltwise_product_needs_equal_shapes_as_caffe_does(tmp_path):
    """Caffe's PROD broadcasts nothing: a 1x1 scale times a map is refused, not traced."""
    path = tmp_path / "prod.prototxt"
    path.write_text(
        'input: "data"\ninput_shape { dim: 1 dim: 4 dim: 8 dim: 8 }\n'
        'layer { name: "g" type: "Pooling" bottom: "data" top: "g" '
        "pooling_param { pool: AVE global_pooling: true } }\n"
        'layer { name: "p" type: "Eltwise" bottom: "g" bottom: "data" top: "p" '
        "eltwise_param { operation: PROD } }\n"
    )
    result = CliRunner().invoke(main, ["trace", str(path)])
    assert result.exit_code == 1
    assert "branch g gives 1x1x4, branch input gives 8x8x4" in result.stderr


def test_eltwise_coefficients_and_a_concat_axis_are_read(tmp_path):
    """Caffe's ``coeff`` weights an add (1, -1: a difference) and ``axis: 2`` concatenates the
    rows (NCHW); neither changes a count."""
    path = tmp_path / "joins.prototxt"
    path.write_text(
        'input: "data"\ninput_shape { dim: 1 dim: 4 dim: 8 dim: 8 }\n'
        'layer { name: "d" type: "Eltwise" bottom: "data" bottom: "data" top: "d" '
        "eltwise_param { coeff: 1 coeff: -1 } }\n"
        'layer { name: "t" type: "Concat" bottom: "d" bottom: "data" top: "t" '
        "concat_param { axis: 2 } }\n"
        'layer { name: "u" type: "Concat" bottom: "t" bottom: "t" top: "u" '
        "concat_param { concat_dim: 1 } }\n"
    )
    net = load(str(path))
    layers = {node.name: node.layer for node in net.graph.nodes}
    assert layers["d"] == Add(coeff=(1, -1)) and layers["t"] == Concat(axis=2)
    assert layers["u"] == Concat()
    t = trace(net)
    assert [row.output for row in t.rows] == [
        Shape((8, 8), 4),
        Shape((16, 8), 4),
        Shape((16, 8), 8),
    ]
    assert (t.totals().params, t.totals().macs) == (0, 0)
