"""Inputs that once gave a confident wrong number: each now gives the right one or is refused.

The expected numbers are PyTorch's and Keras' meanings of the same words, worked by hand:
``Conv2d(32, 64, 3, groups=32)`` has 64*1*3*3 weights + 64 biases = 640 parameters.
"""

from __future__ import annotations

import json
import shlex

import pytest
from click.testing import CliRunner, Result

from cnncalc.cli import main
from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.shapes import Shape
from cnncalc.kinds import DepthwiseConv


def run(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args))


def trace_csv_row(spec: str) -> list[str]:
    result = run("trace", spec, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()[1].split(",")


# --- depthwise convolution: K filters, a multiple of C ------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        "112x112x32 | dwconv filters=64 f3 p1",
        "112x112x32 | dwconv 64 f3 p1",
        "112x112x32 | dwconv multiplier=2 f3 p1",  # Keras' depth_multiplier
        "112x112x32 | dwconv 64 multiplier=2 f3 p1",  # both, agreeing
        "112x112x32 | dwconv 64 g32 f3 p1",  # groups given, equal to C
    ],
)
def test_depthwise_filters_are_the_output_channels(spec):
    row = trace_csv_row(spec)
    # output 112x112x64; 64*1*3*3 + 64 = 640 parameters; 112*112 positions x 576 weights
    assert row[2:4] == ["112x112x64", "640"]
    assert row[5] == str(112 * 112 * 576)


def test_depthwise_defaults_to_one_filter_per_channel():
    # MobileNet's 3x3 depthwise: 32*1*3*3 + 32 = 320
    assert trace_csv_row("112x112x32 | dwconv f3 p1")[2:4] == ["112x112x32", "320"]


@pytest.mark.parametrize(
    ("layer", "error", "words"),
    [
        (DepthwiseConv(groups=4, f=3), GeometryError, "one group per input channel (32), not 4"),
        (DepthwiseConv(48, f=3), GeometryError, "48 filters are not a multiple of its 32"),
        (DepthwiseConv(64, f=3, multiplier=3), UsageError, "filters 64 disagrees with multiplier"),
    ],
)
def test_depthwise_and_filter_mistakes_are_refused(layer, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        layer.apply(Shape((112, 112), 32))


def test_depthwise_spec_with_filters_is_traced_not_ignored(tmp_path):
    spec = tmp_path / "dw.yaml"
    spec.write_text(
        "input: 112x112x32\nlayers:\n  - dwconv: {filters: 64, f: 3, pad: 1}\n"
        "expect: {output: 112x112x64, params: 640}\n"
    )
    result = run("check", str(spec))
    assert result.exit_code == 0, result.output


def test_inline_groups_on_dwconv_is_located():
    result = run("trace", "112x112x32 | dwconv f3 g4")
    assert result.exit_code == 1
    assert "<inline>:1:14: error: dwconv1: a depthwise convolution has one group" in result.stderr


def test_command_line_depthwise_takes_a_multiple_of_the_channels():
    result = run(
        *shlex.split("conv --n 112x112x32 --f 3 --groups depthwise --filters 64 --format json")
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["params"] == 640
    result = run(*shlex.split("conv --n 112x112x32 --f 3 --groups depthwise --filters 48"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: --groups depthwise: 48 filters are not a multiple of the 32 input channels"
    )


# --- a missing option is named ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        ("conv --n 32x32x3 --f 5 --pad 2", "needs the number of filters (--filters)"),
        ("conv --n 32 --f 5 --pad 2 --filters 4", "needs the input depth (--n HxWxC or --depth)"),
        (
            "tconv --n 32 --f 2 --stride 2",
            "needs the input depth (--n HxWxC or --depth) and the number of filters (--filters)",
        ),
    ],
)
def test_unknown_counts_name_the_missing_option(command, missing):
    result = run(*shlex.split(command))
    assert result.exit_code == 0
    assert f"unknown: {missing}" in result.stdout
    assert "channel counts are not given" not in result.stdout


# --- remainders: only input that no window reaches is a warning --------------------------------


def test_a_remainder_of_padding_is_a_note_in_the_worked_report_not_a_warning():
    # (6 + 2 - 3)/2 + 1 = 3.5: the fourth window would start on the padding after row 6
    result = run(*shlex.split("conv --n 6 --f 3 --stride 2 --pad 1 --strict"))
    assert result.exit_code == 0 and result.stderr == ""
    assert "floor(5/2) + 1 = 3 (only padding is left out)" in result.stdout


def test_strict_fails_a_single_layer_that_leaves_input_out():
    result = run(*shlex.split("conv --n 7 --f 2 --stride 2 --strict"))
    assert result.exit_code == 1
    assert "input row and column 7 (of 7) never covered by a window (--strict)" in result.stderr


# --- whole output ------------------------------------------------------------------------------


def test_a_piped_table_is_as_wide_as_its_cells():
    result = CliRunner().invoke(main, ["trace", "vgg16"], env={"COLUMNS": "80"})  # not a tty
    assert result.exit_code == 0
    (fc1,) = [line for line in result.stdout.splitlines() if "│ fc1 " in line]
    assert "│ 102,764,544 │" in fc1  # 25088*4096 + 4096
    assert "…" not in result.stdout
    names = [line.split("│")[1].strip() for line in result.stdout.splitlines()[3:-1] if "│" in line]
    assert len(names) == len(set(names))  # every name whole, so every row's name distinct


def test_a_narrow_table_folds_cells_but_never_cuts_them():
    result = CliRunner().invoke(main, ["trace", "vgg16", "--width", "50"])
    assert result.exit_code == 0
    assert "…" not in result.stdout
    lines = result.stdout.splitlines()
    assert len({len(line) for line in lines if line[:1] and line[0] in "┏┃┡│└"}) == 1
    (i,) = [i for i, line in enumerate(lines) if "│ fc1 " in line]
    assert lines[i].split("│")[4].strip() == "102,764,544"  # a number is never split


# --- layout -----------------------------------------------------------------------------------


CHANNELS_FIRST = (
    "warning: --n 3x32x32 looks channels-first (3 channels of 32x32), but is read as "
    "HxWxC (32 channels); if it is CxHxW, add --layout chw (--layout hwc says it is not)"
)


def test_an_input_that_looks_channels_first_is_warned_about():
    result = run(*shlex.split("conv --n 3x32x32 --f 5 --filters 10 --pad 2"))
    assert result.exit_code == 0
    assert result.stdout.startswith("conv: 3x32x32 -> 3x32x10")  # as asked, but not silently
    assert result.stderr.strip() == CHANNELS_FIRST


@pytest.mark.parametrize(
    "command",
    [
        "conv --n 3x32x32 --f 5 --filters 10 --pad 2 --layout hwc",  # said explicitly
        "conv --n 3x32x32 --f 5 --filters 10 --pad 2 --layout chw",
        "conv --n 32x32x3 --f 5 --filters 10 --pad 2",
        "conv --n 4x4x512 --f 3 --filters 10 --pad 1",  # a small map of many channels
        "conv --n 3x32 --f 3 --filters 10",  # two sizes: a 3x32 input, no channels given
    ],
)
def test_no_layout_warning_where_the_layout_is_clear(command):
    result = run(*shlex.split(command))
    assert result.exit_code == 0 and "channels-first" not in result.stderr


def test_a_spec_input_that_looks_channels_first_is_a_located_warning(tmp_path):
    spec = tmp_path / "chw.yaml"
    spec.write_text("input: 3x224x224\nlayers: [conv 8 f3]\n", encoding="utf-8")
    result = run("check", "--strict", str(spec))
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"{spec}:1:8: error: input: 3x224x224 looks channels-first (3 channels of 224x224), but "
        "is read as HxWxC (224 channels); if it is CxHxW, add layout: chw"
    )
    spec.write_text("input: 3x224x224\nlayout: hwc\nlayers: [conv 8 f3]\n", encoding="utf-8")
    assert run("check", "--strict", str(spec)).exit_code == 0  # said explicitly
    spec.write_text("input: 3x224x224\nlayout: chw\nlayers: [conv 8 f3]\n", encoding="utf-8")
    assert run("check", "--strict", str(spec)).exit_code == 0


def test_an_inline_input_that_looks_channels_first_is_warned_about():
    result = run("trace", "3x32x32 | conv 8 f3")
    assert result.exit_code == 0
    assert result.stderr.startswith(
        "warning: input: 3x32x32 looks channels-first (3 channels of 32x32), but is read as "
        "HxWxC (32 channels); an inline input is HxWxC, like 32x32x3"
    )
    assert "channels-first" not in run("trace", "3x32x32 | conv 8 f3", "--input", "32x32x3").stderr


@pytest.mark.parametrize(
    ("spec", "column", "message"),
    [
        ("8x8x3 | relu | dropout 1e999", 24, "dropout: p must be a finite number, not inf"),
        ("8x8x3 | dropout 5", 9, "dropout: p is a probability from 0 to 1, not 5"),
    ],
)
def test_a_probability_that_is_none_is_refused_where_it_is_written(spec, column, message):
    result = run("trace", spec)
    assert result.exit_code in (1, 2)
    assert f"<inline>:1:{column}: error: dropout1: {message}" in result.stderr


def test_an_input_option_that_looks_channels_first_is_warned_about():
    result = run("trace", "resnet18", "--input", "3x224x224", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: --input 3x224x224 looks channels-first")
    assert run("trace", "resnet18", "--input", "160x160x3").stderr == ""


def test_a_name_is_taken_as_written(tmp_path):
    spec = tmp_path / "names.yaml"
    spec.write_text("input: 8x8x3\nlayers:\n  - name: on\n    relu:\n", encoding="utf-8")
    result = run("trace", str(spec), "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].startswith("on,relu,")  # not "True"
    spec.write_text("input: 8x8x3\nlayers:\n  - name: 123\n    relu:\n", encoding="utf-8")
    assert f"{spec}:3:11: error: name '123'" in run("trace", str(spec)).stderr


def test_messages_show_values_as_written_not_as_python(tmp_path):
    spec = tmp_path / "counts.yaml"
    spec.write_text(
        'input: 8x8x3\nlayers:\n  - repeat: yes\n    layers: [relu]\n  - repeat: "(2, 3)"\n'
        "    layers: [relu]\n  - fc: {out: [1, 2]}\n",
        encoding="utf-8",
    )
    errors = [line for line in run("check", str(spec)).stdout.splitlines() if "error:" in line]
    assert errors[0].endswith("repeat count must be a whole number, not true")
    assert errors[1].endswith("repeat count must be a whole number, not 2x3")
    assert errors[2].endswith("fc: out must be a whole number, not 1x2")
