"""Ultralytics YOLO model YAMLs: read as Ultralytics' ``parse_model`` builds them, at a scale
given or named by the file, and held to what Ultralytics itself reports.

The models are described here in a compact form of our own and written out as YAML by the
tests. The figures were measured on the models Ultralytics 8.4 builds from the same
architecture (torch 2.14): ``sum(p.numel() for p in model.parameters())`` and those with
``requires_grad`` (its "gradients"), the output shape of each ``model.model[i]`` and of the
head's levels by forward hooks, and the MACs of every ``nn.Conv2d`` by a forward hook
(output elements x in-channels per group x kernel area) on one forward pass.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from test_fuzz import mutations

import cnncalc
from cnncalc.api import check, load
from cnncalc.cli import main
from cnncalc.core.errors import SpecError, UsageError
from cnncalc.formats import registry

# --- the published architectures, in our own shorthand -----------------------------------


def conv(c: int, k: int = 3, s: int = 2, *more: int) -> list[Any]:
    """A Conv row reading the layer before (by default a 3x3 stride-2 downsampling)."""
    return [-1, 1, "Conv", [c, k, s, *more]]


def block(module: str, n: int, *args: Any) -> list[Any]:
    return [-1, n, module, list(args)]


UP = [-1, 1, "nn.Upsample", [None, 2, "nearest"]]


def cat(other: int) -> list[Any]:
    """The layer before, concatenated with layer ``other``."""
    return [[-1, other], 1, "Concat", [1]]


# YOLOv8: C2f stages (with shortcuts in the backbone), SPPF, a PAN neck; P3-P5 heads at 15, 18, 21
V8_BACKBONE = [
    conv(64),
    conv(128),
    block("C2f", 3, 128, True),
    conv(256),
    block("C2f", 6, 256, True),
    conv(512),
    block("C2f", 6, 512, True),
    conv(1024),
    block("C2f", 3, 1024, True),
]
V8_NECK = [
    block("SPPF", 1, 1024, 5),
    UP,
    cat(6),
    block("C2f", 3, 512),
    UP,
    cat(4),
    block("C2f", 3, 256),
    conv(256),
    cat(12),
    block("C2f", 3, 512),
    conv(512),
    cat(9),
    block("C2f", 3, 1024),
]
V8_SCALES = {"n": [0.33, 0.25, 1024], "s": [0.33, 0.50, 1024], "l": [1.0, 1.0, 512]}
LEVELS = [15, 18, 21]


def v8(head: list[Any], nc: int = 80, **extra: Any) -> dict[str, Any]:
    return {
        "nc": nc,
        **extra,
        "scales": V8_SCALES,
        "backbone": V8_BACKBONE + V8_NECK[:1],
        "head": V8_NECK[1:] + [head],
    }


YOLOV8 = v8([LEVELS, 1, "Detect", ["nc"]])
YOLOV8_SEG = v8([LEVELS, 1, "Segment", ["nc", 32, 256]])
YOLOV8_POSE = v8([LEVELS, 1, "Pose", ["nc", "kpt_shape"]], nc=1, kpt_shape=[17, 3])
YOLOV8_OBB = v8([LEVELS, 1, "OBB", ["nc", 1]])
YOLOV8_CLS = {
    "nc": 1000,
    "scales": {"n": [0.33, 0.25, 1024]},
    "backbone": V8_BACKBONE,
    "head": [[-1, 1, "Classify", ["nc"]]],
}

# YOLO11: C3k2 stages (C3k inside where the flag is set, and at scales m, l, x), SPPF then
# C2PSA at 10; heads at 16, 19, 22, the class branch with depthwise convs
YOLO11 = {
    "nc": 80,
    "scales": {"n": [0.50, 0.25, 1024], "s": [0.50, 0.50, 1024], "m": [0.50, 1.00, 512]},
    "backbone": [
        conv(64),
        conv(128),
        block("C3k2", 2, 256, False, 0.25),
        conv(256),
        block("C3k2", 2, 512, False, 0.25),
        conv(512),
        block("C3k2", 2, 512, True),
        conv(1024),
        block("C3k2", 2, 1024, True),
        block("SPPF", 1, 1024, 5),
        block("C2PSA", 2, 1024),
    ],
    "head": [
        UP,
        cat(6),
        block("C3k2", 2, 512, False),
        UP,
        cat(4),
        block("C3k2", 2, 256, False),
        conv(256),
        cat(13),
        block("C3k2", 2, 512, False),
        conv(512),
        cat(10),
        block("C3k2", 2, 1024, True),
        [[16, 19, 22], 1, "Detect", ["nc"]],
    ],
}

# YOLOv5 (Ultralytics' anchor-free form): a 6x6 stem, C3 stages, SPPF, 1x1 lateral convs
YOLOV5 = {
    "nc": 80,
    "scales": {"n": [0.33, 0.25, 1024]},
    "backbone": [
        conv(64, 6, 2, 2),
        conv(128),
        block("C3", 3, 128),
        conv(256),
        block("C3", 6, 256),
        conv(512),
        block("C3", 9, 512),
        conv(1024),
        block("C3", 3, 1024),
        block("SPPF", 1, 1024, 5),
    ],
    "head": [
        conv(512, 1, 1),
        UP,
        cat(6),
        block("C3", 3, 512, False),
        conv(256, 1, 1),
        UP,
        cat(4),
        block("C3", 3, 256, False),
        conv(256),
        cat(14),
        block("C3", 3, 512, False),
        conv(512),
        cat(10),
        block("C3", 3, 1024, False),
        [[17, 20, 23], 1, "Detect", ["nc"]],
    ],
}


def write(folder: Path, name: str, model: dict[str, Any]) -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def models(tmp_path: Path) -> Path:
    for name, model in {
        "yolov8.yaml": YOLOV8,
        "yolov8n-seg.yaml": YOLOV8_SEG,
        "yolov8n-pose.yaml": YOLOV8_POSE,
        "yolov8n-obb.yaml": YOLOV8_OBB,
        "yolov8n-cls.yaml": YOLOV8_CLS,
        "yolo11.yaml": YOLO11,
        "yolov5n.yaml": YOLOV5,
    }.items():
        write(tmp_path, name, model)
    return tmp_path


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


# --- figures held against Ultralytics ----------------------------------------------------

# (file, scale, params, gradients): Ultralytics' summary line; YOLOv8n, YOLOv8s and YOLO11n
# are the published figures
PARAMS = [
    ("yolov8.yaml", "n", 3_157_200, 3_157_184),
    ("yolov8.yaml", "s", 11_166_560, 11_166_544),
    ("yolov8.yaml", "l", 43_691_520, 43_691_504),
    ("yolo11.yaml", "n", 2_624_080, 2_624_064),
    ("yolo11.yaml", "m", 20_114_688, 20_114_672),
    ("yolov5n.yaml", None, 2_654_816, 2_654_800),
    ("yolov8n-seg.yaml", None, 3_409_968, 3_409_952),
    ("yolov8n-pose.yaml", None, 3_295_470, 3_295_454),
    ("yolov8n-obb.yaml", None, 3_228_867, 3_228_851),
    ("yolov8n-cls.yaml", None, 2_719_288, 2_719_288),
]


@pytest.mark.parametrize(("name", "scale", "params", "gradients"), PARAMS)
def test_parameters_are_ultralytics_own(models, name, scale, params, gradients):
    totals = cnncalc.trace(load(str(models / name), scale=scale))["totals"]
    assert (totals["params"], totals["trainable_params"]) == (params, gradients)


# (file, scale, input, MACs of every nn.Conv2d by a PyTorch hook, the head's outputs)
CONV_MACS = [
    ("yolov8.yaml", "n", "640x640x3", 4_371_993_600, [80, 40, 20], [80, 40, 20], 144),
    ("yolov8.yaml", "n", "384x640x3", 2_623_196_160, [48, 24, 12], [80, 40, 20], 144),
    ("yolov8.yaml", "s", "640x640x3", 14_301_312_000, [80, 40, 20], [80, 40, 20], 144),
    ("yolov8.yaml", "l", "320x640x3", 41_287_129_600, [40, 20, 10], [80, 40, 20], 144),
    ("yolo11.yaml", "n", "640x640x3", 3_240_531_200, [80, 40, 20], [80, 40, 20], 144),
    ("yolo11.yaml", "n", "480x800x3", 3_037_998_000, [60, 30, 15], [100, 50, 25], 144),
    ("yolo11.yaml", "m", "640x640x3", 33_990_784_000, [80, 40, 20], [80, 40, 20], 144),
    ("yolov5n.yaml", None, "320x480x3", 1_448_419_200, [40, 20, 10], [60, 30, 15], 144),
    ("yolov8n-pose.yaml", None, "640x640x3", 4_588_864_800, [80, 40, 20], [80, 40, 20], 116),
    ("yolov8n-obb.yaml", None, "1024x1024x3", 11_506_434_048, [128, 64, 32], [128, 64, 32], 145),
]


@pytest.mark.parametrize(("name", "scale", "size", "macs", "rows", "columns", "values"), CONV_MACS)
def test_shapes_and_conv_macs_are_pytorch_own(
    models, name, scale, size, macs, rows, columns, values
):
    index = {"yolov8.yaml": 22, "yolo11.yaml": 23, "yolov5n.yaml": 24}.get(name, 22)
    traced = cnncalc.trace(load(str(models / name), scale=scale), input=size)
    assert sum(r["macs"] for r in traced["layers"] if r["kind"] == "conv") == macs
    assert traced["outputs"] == {
        f"{index}.{j}": [h, w, values] for j, (h, w) in enumerate(zip(rows, columns))
    }
    products = sum(r["macs"] for r in traced["layers"] if r["kind"] == "attention")
    assert traced["totals"]["macs"] == macs + products  # no other layer counts MACs


# GFLOPs as Ultralytics prints them for the fused model (batch norms folded into the convs):
# thop's count, 2 per MAC of the convs and of attention's products; get_flops(model, imgsz)
FUSED_GFLOPS = [
    ("yolov8.yaml", "n", "640x640x3", 8_743_987_200),
    ("yolov8.yaml", "n", "384x640x3", 5_246_392_320),
    ("yolov8.yaml", "s", "640x640x3", 28_602_624_000),
    ("yolo11.yaml", "n", "640x640x3", 6_542_502_400),
]


@pytest.mark.parametrize(("name", "scale", "size", "flops"), FUSED_GFLOPS)
def test_flops_are_ultralytics_fused_gflops(models, name, scale, size, flops):
    traced = cnncalc.trace(load(str(models / name), scale=scale), input=size)
    assert traced["totals"]["flops"] == flops


def test_attention_products_are_their_own_rows(models):
    traced = cnncalc.trace(load(str(models / "yolo11.yaml"), scale="n"))
    (row,) = [r for r in traced["layers"] if r["kind"] == "attention"][:1]
    # 20x20 positions, 2 heads of 32 key and 64 value channels: 400² x 2 x (32 + 64)
    assert (row["name"], row["output"], row["macs"]) == (
        "10.m.0.attn.matmul",
        [20, 20, 128],
        30_720_000,
    )


# the output of each of YOLOv8n's layers at 384x640, from forward hooks on model.model[i]
V8N_384x640 = [
    (192, 320, 16), (96, 160, 32), (96, 160, 32), (48, 80, 64), (48, 80, 64), (24, 40, 128),
    (24, 40, 128), (12, 20, 256), (12, 20, 256), (12, 20, 256), (24, 40, 256), (24, 40, 384),
    (24, 40, 128), (48, 80, 128), (48, 80, 192), (48, 80, 64), (24, 40, 64), (24, 40, 192),
    (24, 40, 128), (12, 20, 128), (12, 20, 384), (12, 20, 256),
]  # fmt: skip


def test_each_layer_is_a_row_named_by_its_index(models):
    traced = cnncalc.trace(load(str(models / "yolov8.yaml"), scale="n"), input="384x640x3")
    last: dict[str, list[int]] = {}
    for row in traced["layers"]:
        last[row["name"].split(".")[0]] = row["output"]
    assert [tuple(last[str(i)]) for i in range(22)] == V8N_384x640
    names = [row["name"] for row in traced["layers"]]
    assert "2.m.0.cv1.conv" in names and "9.cv2.bn" in names  # Ultralytics' module paths


def test_dfl_is_frozen_and_counted_once(models):
    traced = cnncalc.trace(load(str(models / "yolov8.yaml"), scale="n"))
    dfl = [r for r in traced["layers"] if ".dfl." in r["name"] and r["kind"] == "conv"]
    assert len(dfl) == 12  # 4 coordinates on each of 3 levels
    assert traced["totals"]["frozen_params"] == 16
    assert sum(r["params"] or 0 for r in dfl) == 16


def test_segment_names_its_prototypes(models):
    outputs = cnncalc.trace(str(models / "yolov8n-seg.yaml"), input="320x320x3")["outputs"]
    assert outputs["22.proto"] == [80, 80, 32]
    assert outputs["22.0"] == [40, 40, 176]  # 64 box + 80 classes + 32 mask coefficients


def test_classify_ends_in_the_classes(models):
    net = load(str(models / "yolov8n-cls.yaml"))
    assert net.task == "classification"
    assert cnncalc.trace(net, input="224x224x3")["outputs"] == {"9": [1000]}


def test_yolo11_attention_keeps_its_shape(models):
    traced = cnncalc.trace(load(str(models / "yolo11.yaml"), scale="n"))
    rows = {r["name"]: r for r in traced["layers"]}
    assert rows["10.m.0.attn.matmul"]["output"] == [20, 20, 128]
    assert rows["10.m.0.attn.qkv.conv"]["params"] == 128 * 256
    assert rows["10.m.0.attn.pe.conv"]["params"] == 128 * 9  # depthwise


# --- scale, classes, choice of format --------------------------------------------------


def test_the_scale_comes_from_the_name_as_ultralytics_reads_it(models):
    named = write(models, "yolov8s.yaml", YOLOV8)
    assert cnncalc.trace(named)["totals"]["params"] == 11_166_560
    assert load(named).name == "yolov8s"
    assert load(str(models / "yolov8.yaml"), scale="s").name == "yolov8-s"
    # without a scale, the file's first, as Ultralytics does (with a warning)
    assert cnncalc.trace(str(models / "yolov8.yaml"))["totals"]["params"] == 3_157_200


def test_a_scale_written_in_the_file_is_read(models):
    path = write(models, "model.yaml", {"scale": "s", **YOLOV8})
    assert cnncalc.trace(path)["totals"]["params"] == 11_166_560


def test_nc_and_ch_change_the_head_and_the_stem(models):
    net = load(str(models / "yolov8.yaml"), scale="n", nc=20)
    assert cnncalc.trace(net, input="320x320x3")["outputs"]["22.0"] == [40, 40, 84]
    gray = {**YOLOV8, "ch": 1}
    assert load(write(models, "gray.yaml", gray)).input.channels == 1


def test_scale_on_the_command_line(models):
    path = str(models / "yolov8.yaml")
    result = run("check", path, "--scale", "s", "--expect-params", "11166560",
                 "--expect-output", "22.2=20x20x144")  # fmt: skip
    assert result.exit_code == 0, result.output
    result = run("trace", path, "--scale", "s", "--input", "320x480x3", "--format", "json")
    assert json.loads(result.stdout)["outputs"]["22.0"] == [40, 60, 144]
    result = run("trace", path, "--scale", "q")
    assert result.exit_code == 1 and "scale 'q' is not one of the file's: n, s, l" in result.stderr


def test_scale_is_refused_where_no_format_reads_it(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 8x8x3\nlayers:\n  - conv 4 f3\n")
    result = run("trace", str(spec), "--scale", "n")
    assert result.exit_code == 2 and "yaml files take no such option" in result.stderr
    with pytest.raises(UsageError, match="scale"):
        load("8x8x3 | conv 4 f3", scale="n")


def test_chosen_by_content_or_forced(models):
    path = models / "yolov8.yaml"
    assert registry.of_file(str(path), path.read_bytes()).name == "ultralytics"
    other = models / "model.txt"
    other.write_text(path.read_text())
    result = run("check", str(other), "--from", "ultralytics", "--scale", "n",
                 "--expect-params", "3157200")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_diagram_reads_it(models):
    result = run("diagram", str(models / "yolo11.yaml"), "--depth", "1")
    assert result.exit_code == 0 and "C2PSA" in result.stdout


CONVERTED = [
    ("yolov8.yaml", "n"),
    ("yolo11.yaml", "n"),
    ("yolov8n-seg.yaml", None),
    ("yolov8n-cls.yaml", None),
]


@pytest.mark.parametrize(("name", "scale"), CONVERTED)
def test_convert_writes_a_spec_that_traces_identically(models, name, scale):
    net = load(str(models / name), scale=scale)
    spec = models / "converted.spec.yaml"
    spec.write_text(cnncalc.to_spec(net))
    a = cnncalc.trace(net, input="320x480x3")
    b = cnncalc.trace(str(spec), input="320x480x3")
    assert a["totals"] == b["totals"]
    assert list(a["outputs"].values()) == list(b["outputs"].values())
    keys = ("output", "params", "macs")
    assert [[r[k] for k in keys] for r in a["layers"]] == [
        [r[k] for k in keys] for r in b["layers"]
    ]


# --- located errors, all at once ---------------------------------------------------------

BROKEN = """\
nc: 80
scales:
  n: [0.33, 0.25, 1024]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]
  - [-1, 1, Cnov, [128, 3, 2]]
  - [-1, 3, C2f, [128, True, 1, 0.5, 7]]
  - [5, 1, Conv, [64]]
head:
  - [[-1, 0], 1, Concat, [2]]
  - [-1, 1, Conv, [0]]
  - [[1, 2], 1, Detect, [nc]]
bakbone: []
"""


def test_every_problem_is_located(tmp_path):
    path = write_text(tmp_path, "broken.yaml", BROKEN)
    with pytest.raises(SpecError) as caught:
        load(path, scale="n")
    found = [(p.pos.line, p.pos.column, p.path, p.message) for p in caught.value.problems]
    assert [f[:3] for f in found] == [
        (6, 13, "1"),
        (7, 38, "2"),
        (8, 6, "3"),
        (10, 5, "4"),
        (11, 20, "5"),
        (13, 1, ""),
    ]
    messages = " | ".join(f[3] for f in found)
    assert "module 'Cnov' is not read (did you mean 'Conv'?)" in messages
    assert "C2f takes at most 4 arguments" in messages
    assert "from 5 names a layer ahead" in messages
    assert "Concat joins channels (dimension 1), not dimension 2" in messages
    assert "c2 must be from 1 to" in messages
    assert "unknown key 'bakbone' (did you mean 'backbone'?)" in messages
    result = run("check", path)
    assert result.exit_code == 1 and f"{path}:6:13: " in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("backbone: []\nhead: []\n", "no layers"),
        ("backbone: 3\nhead: []\n", "backbone is a list"),
        ("head: []\nbackbone:\n  - [-1, 1, C2fAttn, [64]]\n", "module 'C2fAttn' is not read"),
        ("backbone:\n  - [-1, 1, C3k2, [64, False, 0.5, True]]\nhead: []\n", "attn"),
        ("backbone:\n  - [-1, 1, Conv, [64]]\nhead:\n  - [-1, 1, Detect, [3]]\n", "a list"),
        ("backbone:\n  - [-1, 1, Conv, [64]]\nhead: []\nend2end: True\n", "end2end"),
        ("backbone:\n  - [-1, 1, Conv, [64]]\nhead: []\nactivation: nn.ReLU()\n", "only nn.SiLU"),
        ("backbone:\n  - [-1, 1, PSA, [128]]\nhead: []\n", "PSA keeps its channels: 3 in"),
        ("backbone:\n  - [-1, 1, nn.Upsample, [None, 2, bicubic]]\nhead: []\n", "bicubic"),
    ],
)
def test_unsupported_input_is_refused_where_it_is(tmp_path, text, message):
    path = write_text(tmp_path, "model.yaml", text)
    with pytest.raises(SpecError) as caught:
        load(path, format="ultralytics")
    assert message in " ".join(p.message for p in caught.value.problems)


def write_text(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- mutated files: answered or refused, never a crash ------------------------------------

SMALL = """\
nc: 3
scales:
  n: [0.5, 0.25, 256]
backbone:
  - [-1, 1, Conv, [32, 3, 2]]
  - [-1, 2, C3k2, [64, False, 0.25]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [-1, 1, SPPF, [128, 5]]
  - [-1, 1, C2PSA, [128]]
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 1], 1, Concat, [1]]
  - [-1, 1, C2f, [64]]
  - [-1, 1, DWConv, [64, 3, 2]]
  - [[-1, 4], 1, Concat, [1]]
  - [-1, 1, C3, [128, False]]
  - [[7, 10], 1, Detect, [nc]]
"""
FIXTURES = {"yolo-small.yaml": SMALL}
STRAY = ["[", "]", ",", ":", "-", "#", "0", "9" * 20, "x", " ", "'", "nc", "True", "None"]
NUMBERS = ["0", "1", "-1", "-20", "2", "3", "64", "99999", "0.5"]


def test_the_small_fixture_traces(tmp_path):
    path = write_text(tmp_path, "yolo-small.yaml", SMALL)
    assert run("trace", path).exit_code == 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(FIXTURES, STRAY, NUMBERS))
def test_a_mutated_model_is_answered_or_refused_where_it_is_wrong(case):
    name, text = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        result = run("trace", str(path), "--from", "ultralytics", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    lines = text.splitlines() or [""]
    for line, column in re.findall(rf"^{re.escape(str(path))}:(\d+):(\d+): ", result.stderr, re.M):
        assert 1 <= int(line) <= len(lines)
        assert 1 <= int(column) <= len(lines[int(line) - 1]) + 1


def test_check_api_takes_the_options(models):
    verdict = check(
        str(models / "yolov8.yaml"), expect={"params": 11_166_560}, options={"scale": "s"}
    )
    assert verdict.problems == []


def test_other_commands_do_not_import_the_reader():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from cnncalc.cli import main\n"
        "CliRunner().invoke(main, ['trace', '8x8x3 | conv 4 f3'])\n"
        "assert 'cnncalc.formats.ultralytics' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
