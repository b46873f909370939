"""``linear`` (PyTorch's nn.Linear, Keras' Dense) maps the channels at every position; ``fc``
flattens its input first. A bare ``fc`` or ``linear`` is refused, as a bare ``conv`` is.

Measured with torch 2.14.1 (scratch venv, not a dependency of cnncalc)::

    lin = torch.nn.Linear(3, 10)
    lin(torch.randn(1, 8, 8, 3)).shape                    # (1, 8, 8, 10)
    sum(p.numel() for p in lin.parameters())              # 40
    FlopCounterMode: lin(torch.randn(1, 8, 8, 3))         # 3,840 FLOPs = 2 x 1,920 MACs
    torch.nn.Linear(3, 10)(torch.randn(1, 3, 8, 8))       # RuntimeError: mat1 and mat2 shapes
                                                          # cannot be multiplied (24x8 and 3x10)
    torch.nn.Linear(8, 10)(torch.randn(1, 3, 8, 8)).shape # (1, 3, 8, 10): the last dim is W
    Conv2d(3, 10, 1) with the same weights, on the NCHW permute: allclose to lin's output
    flatten + nn.Linear(8*8*3, 1): 193 parameters (what a bare fc used to give)
"""

from __future__ import annotations

import json
import shlex

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

import cnncalc
from cnncalc.cli import main
from cnncalc.core.errors import TraceError
from cnncalc.core.shapes import Shape
from cnncalc.formats.spec import load_spec
from cnncalc.kinds import FC, Conv, Linear, RFStep, layer_class


def run(command: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, shlex.split(command))


# --- linear: the measured figures ---------------------------------------------------------------


def test_linear_on_a_channels_last_map_is_what_torch_measures():
    out = Linear(10).apply(Shape((8, 8), 3))
    assert out.shape == Shape((8, 8), 10)  # torch: (1, 8, 8, 10)
    assert out.params == 40  # torch: 3*10 + 10
    assert out.macs == 1_920  # FlopCounterMode: 3,840 FLOPs
    assert out.rf == (RFStep(), RFStep())  # per position: the receptive field unchanged


def test_linear_counts_as_a_1x1_convolution_and_fc_as_flatten_then_linear():
    x = Shape((7, 7), 512)
    linear, conv = Linear(10).apply(x), Conv(10, f=1).apply(x)
    assert (linear.shape, linear.params, linear.macs) == (conv.shape, conv.params, conv.macs)
    fc = FC(10).apply(x)
    assert (fc.shape, fc.params, fc.macs) == (Shape((), 10), 7 * 7 * 512 * 10 + 10, 250_880)
    assert (linear.params, linear.macs) == (512 * 10 + 10, 7 * 7 * 512 * 10)


@given(
    spatial=st.lists(st.integers(1, 9), max_size=3).map(tuple),
    c=st.integers(1, 64),
    out=st.integers(1, 64),
    bias=st.booleans(),
)
def test_linear_maps_channels_at_every_position(spatial, c, out, bias):
    """Any rank: shape (spatial..., out), C*out (+ out) parameters, positions*C*out MACs; on a
    flat input the same as fc."""
    x = Shape(spatial, c)
    got = Linear(out, bias).apply(x)
    positions = 1
    for n in spatial:
        positions *= n
    assert got.shape == Shape(spatial, out)
    assert got.params == c * out + (out if bias else 0)
    assert got.macs == positions * c * out
    if not spatial:
        flat = FC(out, bias).apply(x)
        assert (flat.shape, flat.params, flat.macs) == (got.shape, got.params, got.macs)


def test_linear_explains_its_counts():
    x = Shape((8, 8), 3)
    layer = Linear(10)
    worked = layer.worked(x, layer.apply(x))
    assert worked.params == (40, " = 3*10 weights", " + ", 10, " biases")
    assert worked.macs == (1_920, " = 8*8 input positions x ", 30, " weights")


def test_dense_is_linear_and_fully_connected_is_fc():
    assert layer_class("dense") is layer_class("linear") is Linear
    assert layer_class("Dense") is Linear
    assert layer_class("fully_connected") is FC


# --- the meaning of linear changed: on a spatial map it no longer flattens --------------------


def test_linear_in_a_network_keeps_the_spatial_sizes_where_fc_flattens():
    linear = cnncalc.trace("8x8x3 | linear 10")
    fc = cnncalc.trace("8x8x3 | fc 10")
    assert linear["output"] == [8, 8, 10] and linear["totals"]["params"] == 40
    assert fc["output"] == [10] and fc["totals"]["params"] == 8 * 8 * 3 * 10 + 10
    assert linear["layers"][0]["kind"] == "linear"
    assert linear["totals"]["macs"] == fc["totals"]["macs"] == 1_920


def test_after_flatten_linear_and_fc_give_the_same_numbers():
    a = cnncalc.trace("8x8x3 | flatten | linear 10")
    b = cnncalc.trace("8x8x3 | flatten | fc 10")
    assert a["output"] == b["output"] == [10]
    assert a["totals"] == b["totals"]


def test_linear_then_a_conv_is_a_spatial_map_and_fc_then_a_conv_is_refused():
    assert cnncalc.trace("8x8x3 | dense 16 | conv 4 f3")["output"] == [6, 6, 4]
    with pytest.raises(TraceError, match="conv needs rows and columns"):
        cnncalc.trace("8x8x3 | fc 16 | conv 4 f3")


def test_a_spec_file_reads_linear_with_its_words():
    net = load_spec("input: 4x4x8\nlayers:\n  - linear 16 nobias\n  - dense: 2\n")
    first, second = (node.layer for node in net.graph.nodes)
    assert first == Linear(16, bias=False) and second == Linear(2)


def test_convert_writes_linear_back_as_linear():
    text = cnncalc.to_spec("8x8x3 | linear 10 nobias | fc 4")
    assert "- linear 10 nobias" in text and "- fc 4" in text
    assert (
        cnncalc.trace(text)["totals"] == cnncalc.trace("8x8x3 | linear 10 nobias | fc 4")["totals"]
    )


def test_the_schema_describes_linear():
    from cnncalc.formats.schema import spec_schema

    kind = spec_schema()["definitions"]["kind-linear"]
    assert "nn.Linear" in kind["description"] and "Dense" in kind["description"]


def test_cnncalc_kinds_says_which_is_which():
    listed = run("kinds").stdout
    fc = next(line for line in listed.splitlines() if line.startswith("fc "))
    linear = next(line for line in listed.splitlines() if line.startswith("linear "))
    assert "flattened first" in fc and "also: fully_connected" in fc
    assert "nn.Linear" in linear and "Keras Dense" in linear and "also: dense" in linear


# --- a bare fc, or a bare linear, is refused as a bare conv is ---------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("8x8x3 | conv", "conv: how many filters? (e.g. conv 64)"),
        ("8x8x3 | fc", "fc: how many output features? (e.g. fc 64)"),
        ("8x8x3 | linear", "linear: how many output features? (e.g. linear 64)"),
        ("8x8x3 | flatten | dense", "linear: how many output features? (e.g. linear 64)"),
    ],
)
def test_a_bare_layer_without_a_width_is_refused_inline(spec, message):
    result = run(f'trace "{spec}"')
    assert result.exit_code == 1
    assert message in result.stderr
    with pytest.raises(TraceError) as raised:
        cnncalc.trace(spec)
    assert str(raised.value) == message


@pytest.mark.parametrize("kind", ["fc", "linear"])
def test_a_bare_layer_without_a_width_is_refused_in_a_spec_file(tmp_path, kind):
    path = tmp_path / "net.yaml"
    path.write_text(f"input: 8x8x3\nlayers:\n  - conv 4 f3\n  - {kind}\n", encoding="utf-8")
    result = run(f"check {path}")
    assert result.exit_code == 1
    assert f"{path}:4:5: error" in result.output
    assert f"{kind}: how many output features? (e.g. {kind} 64)" in result.output


@pytest.mark.parametrize("command", ["fc", "linear"])
def test_the_single_layer_command_needs_out(command):
    result = run(f"{command} --n 8x8x3")
    assert result.exit_code == 2
    assert "--out" in result.stderr


def test_fc_by_itself_leaves_its_output_unknown_as_a_bare_conv_does():
    """A layer alone may leave counts unknown (cnncalc conv --n 32x32x3 --f 5); a network
    may not, so the Python API's trace refuses (above)."""
    out = FC().apply(Shape((8, 8), 3))
    assert out.shape == Shape((), None) and out.params is None and out.macs is None


@pytest.mark.parametrize(
    "path",
    [
        "tests/data/darknet/classifier.cfg",
        "tests/data/darknet/yolov1-like.cfg",
        "tests/data/caffe/small.prototxt",
        "tests/data/caffe/v1.prototxt",
    ],
)
def test_darknet_connected_and_caffe_innerproduct_state_their_output_count(path):
    fcs = [node.layer for node in cnncalc.load(path).graph.nodes if node.layer.kind == "fc"]
    assert fcs and all(layer.out is not None for layer in fcs)
    cnncalc.trace(path)  # traces: no fc is left without its width


# --- the single-layer command -------------------------------------------------------------------


def test_linear_command_on_a_spatial_map():
    result = run("linear --n 56x56x96 --out 384 --format json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # ConvNeXt-T's first pwconv1: nn.Linear(96, 384) at 56*56 positions
    assert data["output"] == [56, 56, 384]
    assert data["params"] == 96 * 384 + 384
    assert data["macs"] == 56 * 56 * 96 * 384


def test_linear_command_on_a_feature_count_and_its_table():
    result = run("linear --n 768 --out 1000 --no-bias")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("linear: 768 -> 1000")
    assert "768,000 = 768*1000 weights (no bias)" in result.stdout


def test_linear_command_has_help_naming_both_frameworks():
    result = run("linear --help")
    assert result.exit_code == 0
    assert "nn.Linear" in result.stdout and "Dense" in result.stdout
