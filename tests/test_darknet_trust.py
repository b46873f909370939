"""Darknet files read as Darknet computes them, or refused with a located reason: issue 16's
third round. Every cfg is written here, small, or generated from a published structure."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from cnncalc.analysis.tracer import trace
from cnncalc.api import load
from cnncalc.cli import main
from cnncalc.core.errors import SpecError
from cnncalc.core.shapes import Shape


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def conv(filters: int, size: int, stride: int = 1, groups: int = 1, bn: bool = True) -> str:
    lines = ["[convolutional]", f"filters={filters}", f"size={size}", f"stride={stride}", "pad=1"]
    lines += [f"groups={groups}"] if groups > 1 else []
    lines += ["batch_normalize=1", "activation=leaky"] if bn else ["activation=linear"]
    return "\n".join(lines) + "\n"


# --- 2. [shortcut] between different channel counts or sizes ------------------------------

STAGES = ((64, 256, 3, 1), (128, 512, 4, 2), (256, 1024, 6, 2), (512, 2048, 3, 2))
"""pjreddie's resnet50.cfg: (middle filters, block output, blocks, first stride) per stage,
each block 1x1, 3x3, 1x1 and a [shortcut] from=-4 with no projection; resnext50.cfg doubles
the middle filters and groups the 3x3 by 32."""


def resnet_cfg(widen: int, groups: int, pool_first: bool) -> str:
    parts = [
        "[net]\nheight=256\nwidth=256\nchannels=3\n",
        conv(64, 7, 2),
        "[maxpool]\nsize=2\nstride=2\n",
    ]
    for mid, out, blocks, stride in STAGES:
        for b in range(blocks):
            parts += [conv(mid * widen, 1), conv(mid * widen, 3, stride if b == 0 else 1, groups)]
            parts += [conv(out, 1), "[shortcut]\nfrom=-4\nactivation=leaky\n"]
    head = [conv(1000, 1, bn=False), "[avgpool]\n"]
    parts += head[::-1] if pool_first else head
    return "\n".join([*parts, "[softmax]\ngroups=1\n"])


def darknet_params(widen: int, groups: int) -> int:
    """Darknet's layer arithmetic: a normalised conv has size*size*c/groups*n weights and n
    biases and n scales (its rolling mean and variance are not trained); shortcuts none."""
    total, c = 7 * 7 * 3 * 64 + 2 * 64, 64
    for mid, out, blocks, _ in STAGES:
        m = mid * widen
        for _ in range(blocks):
            total += c * m + 2 * m + 9 * m * m // groups + 2 * m + m * out + 2 * out
            c = out
    return total + 2048 * 1000 + 1000


@pytest.mark.parametrize(
    "name, widen, groups, pool_first", [("resnet50", 1, 1, False), ("resnext50", 2, 32, True)]
)
def test_pjreddies_resnets_are_read_as_darknet_computes_them(
    tmp_path, name, widen, groups, pool_first
):
    path = tmp_path / f"{name}.cfg"
    path.write_text(resnet_cfg(widen, groups, pool_first))
    result = trace(load(str(path)))
    assert not result.errors
    assert result.output == Shape((), 1000) or result.output.channels == 1000
    assert sum(row.params for row in result.rows) == darknet_params(widen, groups)
    # the first block of each stage adds a 64- (or 256-, 512-, 1024-) channel input onto a
    # wider output: a warning on that row, and the row keeps the previous layer's shape
    warned = [w for w in result.warnings if "as Darknet does" in w.message]
    assert len(warned) == 4


def test_resnet50_figure():
    assert darknet_params(1, 1) == 22_780_456  # worked out from the cfg's layer list


CONV = "[convolutional]\nsize=1\n"


@pytest.mark.parametrize(
    "first, second, note",
    [
        (CONV + "filters=8", CONV + "filters=4\nstride=2", "the larger input strided by 2"),
        (CONV + "filters=8\nstride=2", "[upsample]\nstride=2", "the output sampled by 2"),
        (CONV + "filters=16", CONV + "filters=8", "the 8 channels they share"),
    ],
)
def test_a_shortcut_keeps_the_previous_layers_shape_with_a_note(tmp_path, first, second, note):
    path = tmp_path / "s.cfg"
    path.write_text(
        f"[net]\nheight=8\nwidth=8\nchannels=3\n{first}\n{second}\n[shortcut]\nfrom=-2\n"
    )
    result = run("trace", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    previous = next(row["output"] for row in data["layers"] if row["name"] in ("1", "1.conv"))
    assert data["output"] == previous
    assert any(note in w["message"] for w in data["warnings"]), data["warnings"]


def test_a_shortcut_whose_ratio_differs_across_rows_and_columns_is_refused(tmp_path):
    path = tmp_path / "s.cfg"
    path.write_text(
        "[net]\nheight=8\nwidth=8\nchannels=3\n[convolutional]\nfilters=4\nsize=1\n"
        "[convolutional]\nfilters=4\nsize=1\nstride_x=2\nstride_y=1\n[shortcut]\nfrom=-2\n"
    )
    result = run("trace", str(path))
    assert result.exit_code == 1
    assert "same size ratio across rows and columns" in result.output


# --- 6. a file saved with another format's suffix is read by its content -----------------

CFG = "[net]\nheight=8\nwidth=8\nchannels=3\n[convolutional]\nfilters=4\nsize=3\n"
PROTOTXT = (
    'layer { name: "data" type: "Input" top: "data" '
    "input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n"
    'layer { name: "c" type: "Convolution" bottom: "data" top: "c" '
    "convolution_param { num_output: 4 kernel_size: 3 } }\n"
)


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json", ".prototxt", ".txt"])
def test_a_cfg_saved_with_another_suffix_is_read_as_darknet(tmp_path, suffix):
    path = tmp_path / f"net{suffix}"
    path.write_text(CFG)
    result = run("trace", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"] == [6, 6, 4]


@pytest.mark.parametrize("suffix", [".yaml", ".cfg", ".txt"])
def test_a_prototxt_saved_with_another_suffix_is_read_as_caffe(tmp_path, suffix):
    path = tmp_path / f"net{suffix}"
    path.write_text(PROTOTXT)
    result = run("trace", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"] == [4, 6, 6]


# --- 7. thousands of leading zeros are no digits -----------------------------------------

ZEROS = "0" * 5000


@pytest.mark.parametrize(
    "name, text, args",
    [
        (
            "z.cfg",
            f"[net]\nheight=8\nwidth=8\nchannels=3\n[maxpool]\nsize=2\nstride={ZEROS}2\n",
            (),
        ),
        (
            "z.prototxt",
            'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 '
            'dim: 3 dim: 8 dim: 8 } } }\nlayer { name: "p" type: "Pooling" bottom: "data" '
            f'top: "p" pooling_param {{ pool: {ZEROS}1 kernel_size: 2 }} }}\n',
            (),
        ),
    ],
)
def test_leading_zeros_in_a_file_are_read_as_the_number(tmp_path, name, text, args):
    path = tmp_path / name
    path.write_text(text)
    result = run("trace", str(path), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"] == [4, 4, 3] if name.endswith("cfg") else [3, 4, 4]


def test_leading_zeros_inline_and_in_a_command():
    inline = run("trace", f"8x8x3 | conv {ZEROS}4 f3", "--format", "json")
    assert inline.exit_code == 0, inline.output
    assert json.loads(inline.stdout)["output"] == [6, 6, 4]
    many = run("conv", "--n", "32", "--f", f"{ZEROS}3", "--format", "json")
    assert many.exit_code == 0, many.output


# --- 8. caps ---------------------------------------------------------------------------------


def test_too_many_sections_is_one_clear_problem(tmp_path):
    from cnncalc.formats.kit import MAX_LAYERS

    path = tmp_path / "many.cfg"
    path.write_text("[net]\nheight=8\nwidth=8\nchannels=3\n" + "[activation]\n" * (MAX_LAYERS + 1))
    result = run("trace", str(path))
    assert result.exit_code == 1
    assert f"{MAX_LAYERS + 1:,} sections after [net]: cnncalc reads at most" in result.output


def test_a_cfg_of_repeated_keys_over_the_size_cap_is_refused(tmp_path):
    path = tmp_path / "keys.cfg"
    path.write_text(
        "[net]\nheight=8\nwidth=8\nchannels=3\n[convolutional]\n" + "filters=4\n" * 200_000
    )
    result = run("trace", str(path))
    assert result.exit_code == 2
    assert "bytes: cnncalc reads files of this format up to" in result.output


def test_a_cfg_of_repeated_keys_under_the_cap_stops_at_the_problem_cap(tmp_path):
    from cnncalc.formats.kit import MAX_PROBLEMS

    path = tmp_path / "keys.cfg"
    path.write_text(
        "[net]\nheight=8\nwidth=8\nchannels=3\n[convolutional]\n" + "filters=4\n" * 90_000
    )
    with pytest.raises(SpecError) as e:
        load(str(path))
    assert len(e.value.problems) == MAX_PROBLEMS


def test_convert_of_many_alike_sections_is_one_repeat(tmp_path):
    path = tmp_path / "alike.cfg"
    path.write_text(
        "[net]\nheight=8\nwidth=8\nchannels=3\n" + "[convolutional]\nfilters=4\nsize=1\n" * 1500
    )
    result = run("convert", str(path))
    assert result.exit_code == 0, result.output
    assert "repeat" in result.stdout and len(result.stdout.splitlines()) < 40
