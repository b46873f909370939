"""Darknet ``.cfg`` files: traced with Darknet's own rules, layers named by Darknet's index,
Darknet's BFLOPs in the totals, and every problem of a file located at once.

The fixtures in tests/data/darknet are written for these tests; the numbers they should give
are worked out by hand in their comments. YOLOv3 and YOLOv3-tiny are built here from their
published structure and held to their published figures.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_fuzz import mutations

import cnncalc
from cnncalc.api import check, load
from cnncalc.cli import main
from cnncalc.core.errors import GeometryError, SpecError
from cnncalc.core.shapes import Shape
from cnncalc.formats.darknet import HEADS
from cnncalc.kinds import Reorg

DATA = Path(__file__).parent / "data" / "darknet"
DETECTOR, CLASSIFIER, YOLOV1 = (
    str(DATA / name) for name in ("detector.cfg", "classifier.cfg", "yolov1-like.cfg")
)


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


def data(*args: str) -> dict:
    result = run("trace", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def rows(trace: dict) -> dict[str, tuple]:
    return {
        layer["name"]: (layer["kind"], "x".join(map(str, layer["output"])), layer["params"])
        for layer in trace["layers"]
    }


# --- the fixtures, to the numbers in their comments -------------------------------------------


def test_detector_numbers_are_those_worked_out_by_hand():
    trace = data(DETECTOR, "--depth", "1")
    totals = trace["totals"]
    assert (totals["params"], totals["non_trainable_params"], totals["macs"]) == (
        4062,
        32,
        214_016,
    )
    assert totals["bflops"] == pytest.approx(2 * 214_016 / 1e9)
    assert trace["outputs"] == {"12": [4, 4, 18], "17": [8, 8, 12]}
    assert rows(trace) == {
        "0": ("conv", "16x16x8", 232),
        "1": ("maxpool", "8x8x8", 0),
        "2": ("conv", "8x8x8", 296),
        "3": ("chunk", "8x8x4", 0),
        "4": ("conv", "8x8x8", 48),
        "5": ("shortcutadd", "8x8x8", 0),
        "6": ("maxpool", "8x8x8", 0),
        "7": ("route", "8x8x8", 0),
        "8": ("maxpool", "8x8x8", 0),
        "9": ("concat", "8x8x24", 0),
        "10": ("reorg", "4x4x96", 0),
        "11": ("conv", "4x4x18", 1746),
        "12": ("yolo", "4x4x18", 0),
        "13": ("concat", "8x8x8", 0),
        "14": ("upsample", "16x16x8", 0),
        "15": ("concat", "16x16x16", 0),
        "16": ("conv", "8x8x12", 1740),
        "17": ("region", "8x8x12", 0),
    }
    joins = {layer["name"]: layer["inputs"] for layer in trace["layers"] if layer["inputs"]}
    assert joins == {"9": ["8", "6", "5"], "15": ["14", "0"]}  # 5 folded


def test_each_darknet_layer_is_its_nodes_unfolded():
    names = [(layer["name"], layer["kind"]) for layer in data(DETECTOR)["layers"]]
    assert names[:4] == [
        ("0.conv", "conv"),
        ("0.bn", "batchnorm"),
        ("0.act", "leakyrelu"),
        ("1", "maxpool"),
    ]
    assert ("2.act", "mish") in names and ("4.act", "silu") in names
    assert ("16.act", "sigmoid") in names  # no activation key: Darknet's logistic
    assert [n for n, _ in names if n.startswith("13")] == ["13.chunk0", "13.chunk1", "13.concat"]
    assert ("5.shortcutadd", "shortcutadd") in names and ("5.act", "leakyrelu") in names
    inputs = {layer["name"]: layer["inputs"] for layer in data(DETECTOR)["layers"]}
    assert inputs["5.shortcutadd"] == ["4", "2"] and inputs["13.concat"] == ["4", "2"]


def test_classifier_numbers_are_those_worked_out_by_hand():
    result = run("trace", CLASSIFIER, "--format", "json", "--depth", "1")
    assert result.exit_code == 0
    assert "input column 18 (of 18) never covered" in result.stderr
    trace = json.loads(result.stdout)
    totals = trace["totals"]
    assert (totals["params"], totals["non_trainable_params"], totals["macs"]) == (362, 30, 19245)
    assert trace["output"] == [3] and "outputs" not in trace
    shapes = {name: shape for name, (_, shape, _) in rows(trace).items()}
    assert shapes == {
        "0": "18x18x3",
        "1": "16x8x4",
        "2": "16x8x4",
        "3": "16x8x4",
        "4": "8x4x4",
        "5": "8x4x4",
        "6": "8x4x4",
        "7": "8x4x4",
        "8": "8x4x4",
        "9": "8x4x6",
        "10": "4x2x6",
        "11": "1x1x6",
        "12": "5",
        "13": "3",
        "14": "3",
        "15": "3",
    }
    kinds = {name: kind for name, (kind, _, _) in rows(trace).items()}
    assert [kinds[n] for n in ("0", "3", "7", "8", "10", "11", "12", "14", "15")] == [
        "crop",
        "tanh",
        "lrn",
        "dropout",
        "avgpool",
        "gavgpool",
        "fc",
        "softmax",
        "cost",
    ]
    unfolded = {layer["name"]: layer["kind"] for layer in data(CLASSIFIER)["layers"]}
    assert unfolded["9.act"] == "elu"  # no kind of its own: an identity labelled elu
    assert run("trace", CLASSIFIER, "--strict").exit_code == 1


def test_a_detection_head_reads_a_flat_input():
    trace = data(YOLOV1)
    assert trace["outputs"] == {"2": [28]}
    totals = trace["totals"]
    assert (totals["params"], totals["non_trainable_params"], totals["macs"]) == (946, 4, 1184)


# --- the published networks, built from their published structure ----------------------------


def _conv(filters: int, size: int, stride: int = 1, bn: bool = True, act: str = "leaky") -> str:
    normalize = "batch_normalize=1\n" if bn else ""
    return (
        f"[convolutional]\n{normalize}filters={filters}\nsize={size}\nstride={stride}\npad=1\n"
        f"activation={act}\n"
    )


def _yolo(mask: str, num: int) -> str:
    return f"[yolo]\nmask={mask}\nclasses=80\nnum={num}\nanchors=10,13, 16,30\njitter=.3\n"


def yolov3() -> str:
    """YOLOv3 (Redmon & Farhadi 2018): Darknet-53, then heads at strides 32, 16 and 8."""
    parts = ["[net]\nwidth=416\nheight=416\nchannels=3\n", _conv(32, 3)]
    for filters, blocks in ((64, 1), (128, 2), (256, 8), (512, 8), (1024, 4)):
        parts.append(_conv(filters, 3, 2))
        for _ in range(blocks):
            parts += [_conv(filters // 2, 1), _conv(filters, 3), "[shortcut]\nfrom=-3\n"]
    for filters, skip, mask in ((512, None, "6,7,8"), (256, 61, "3,4,5"), (128, 36, "0,1,2")):
        if skip is not None:
            parts += ["[route]\nlayers=-4\n", _conv(filters, 1), "[upsample]\nstride=2\n"]
            parts.append(f"[route]\nlayers=-1,{skip}\n")
        for _ in range(3):
            parts += [_conv(filters, 1), _conv(filters * 2, 3)]
        parts += [_conv(255, 1, bn=False, act="linear"), _yolo(mask, 9)]
    return "\n".join(parts)


def yolov3_tiny() -> str:
    parts = ["[net]\nwidth=416\nheight=416\nchannels=3\n"]
    for i, filters in enumerate((16, 32, 64, 128, 256, 512)):
        parts += [_conv(filters, 3), f"[maxpool]\nsize=2\nstride={1 if i == 5 else 2}\n"]
    head = _conv(255, 1, bn=False, act="linear")
    parts += [_conv(1024, 3), _conv(256, 1), _conv(512, 3), head]
    parts += [_yolo("3,4,5", 6), "[route]\nlayers=-4\n", _conv(128, 1), "[upsample]\nstride=2\n"]
    parts += ["[route]\nlayers=-1,8\n", _conv(256, 3), head]
    return "\n".join(parts + [_yolo("0,1,2", 6)])


def test_yolov3_at_416_has_its_published_figures(tmp_path):
    path = tmp_path / "yolov3.cfg"
    path.write_text(yolov3())
    trace = data(str(path))
    assert trace["totals"]["params"] == 61_949_149
    assert f"{trace['totals']['bflops']:.3f}" == "65.864"
    assert trace["outputs"] == {"82": [13, 13, 255], "94": [26, 26, 255], "106": [52, 52, 255]}
    table = run("trace", str(path), "--depth", "1").stdout
    assert "Darknet: 65.864 BFLOPs" in table
    assert re.search(r"│ 86 +│ concat ← 85, 61 +│ 26x26x768 ", table)
    assert re.search(r"│ 83 +│ route +│ 13x13x512 ", table)


def test_yolov3_tiny_at_416_has_its_published_figures(tmp_path):
    path = tmp_path / "yolov3-tiny.cfg"
    path.write_text(yolov3_tiny())
    trace = data(str(path))
    assert trace["totals"]["params"] == 8_852_366
    assert f"{trace['totals']['bflops']:.3f}" == "5.565"
    assert trace["outputs"] == {"16": [13, 13, 255], "23": [26, 26, 255]}
    assert rows(data(str(path), "--depth", "1"))["11"][1] == "13x13x512"  # the stride-1 pool


# --- the commands and the API -----------------------------------------------------------------


def test_check_with_expectations_on_the_command_line():
    ok = run(
        "check",
        DETECTOR,
        "--expect-params",
        "4062",
        "--expect-macs",
        "214016",
        "--expect-output",
        "12=4x4x18",
        "--expect-output",
        "17=8x8x12",
    )
    assert ok.exit_code == 0, ok.output
    assert "ok — 4,062 params" in ok.output
    wrong = run("check", DETECTOR, "--expect-params", "4000", "--expect-output", "12=4x4x17")
    assert wrong.exit_code == 1
    assert "expected 4,000 parameters, got 4,062" in wrong.output
    assert "expected output 12 to be 4x4x17, got 4x4x18" in wrong.output


def test_input_override_retraces_at_another_size():
    trace = data(DETECTOR, "--input", "32x32x3")
    assert trace["input"] == [32, 32, 3]
    assert trace["outputs"] == {"12": [8, 8, 18], "17": [16, 16, 12]}
    assert trace["totals"]["params"] == 4062
    odd = run("trace", DETECTOR, "--input", "18x18x3")  # pooled to 9x9: no 2x2 blocks
    assert odd.exit_code == 1 and "reorg: stride 2 does not divide the 9 rows" in odd.stderr


def test_a_file_of_any_name_is_read_as_darknet_by_its_content_or_with_from(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("# a detector\n\n" + (DATA / "detector.cfg").read_text())
    assert data(str(path), "--from", "darknet")["totals"]["params"] == 4062
    assert load(str(path), format="darknet").read_from == "darknet"
    assert load(str(path)).read_from == "darknet"  # no suffix says, and it starts with [net]
    assert run("trace", str(path), "--from", "yaml").exit_code != 0  # not a cnncalc spec


def test_diagram_draws_darknet_layers():
    mermaid = run("diagram", DETECTOR, "--depth", "1")
    assert mermaid.exit_code == 0
    assert '["12<br/>yolo"]' in mermaid.stdout and '{{"9<br/>concat"}}' in mermaid.stdout
    unfolded = run("diagram", DETECTOR).stdout
    assert 'subgraph g1 ["0 (conv)"]' in unfolded


def test_the_api_gives_bflops_only_for_darknet():
    assert cnncalc.trace(DETECTOR)["totals"]["bflops"] == pytest.approx(0.000428032)
    assert "bflops" not in cnncalc.trace("8x8x3 | conv 4 f3")["totals"]
    assert check(DETECTOR, expect={"outputs": {"17": "8x8x12"}}).problems == []


def test_markdown_shows_darknet_bflops():
    result = run("trace", YOLOV1, "--format", "markdown")
    assert "Darknet: 0.000 BFLOPs" in result.stdout


@pytest.mark.parametrize("path", [DETECTOR, CLASSIFIER, YOLOV1])
def test_convert_writes_a_spec_that_traces_the_same(path):
    """The same shapes, counts and outputs row for row; rows Darknet labels (a head, ``elu``,
    a one-layer route) are identities in cnncalc's language."""
    from cnncalc.api import to_spec
    from cnncalc.kinds import REGISTRY

    def kind(row: dict) -> str:  # a head's row is labelled by its section; it converts to head
        kind = "head" if row["kind"] in HEADS else row["kind"]
        return kind if kind in REGISTRY else "identity"

    def comparable(trace: dict) -> list[tuple]:
        return [
            (
                kind(row),
                row["output"],
                row["params"],
                row["buffers"],
                row["macs"],
            )
            for row in trace["layers"]
        ]

    before = cnncalc.trace(path)
    after = cnncalc.trace(to_spec(load(path)))
    assert comparable(after) == comparable(before)
    assert list(after.get("outputs", {}).values()) == list(before.get("outputs", {}).values())


# --- the reorg kind ---------------------------------------------------------------------------


def test_reorg_moves_blocks_into_channels_and_refuses_what_does_not_divide():
    out = Reorg(2).apply(Shape((8, 6), 3))
    assert out.shape == Shape((4, 3), 12) and out.params == 0
    assert Reorg(3).apply(Shape((9,), 2)).shape == Shape((3,), 6)
    with pytest.raises(GeometryError, match="stride 2 does not divide the 7 columns"):
        Reorg(2).apply(Shape((8, 7), 3))
    assert cnncalc.trace("8x8x3 | reorg 2")["output"] == [4, 4, 12]


# --- Darknet's maxpool rule, against its formula ----------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    size=st.integers(1, 9),
    stride=st.integers(1, 4),
    padding=st.one_of(st.none(), st.integers(0, 12)),
)
@example(n=13, size=2, stride=1, padding=None)  # YOLOv3-tiny's stride-1 pool keeps 13
@example(n=13, size=13, stride=1, padding=None)  # SPP's widest
def test_maxpool_follows_darknets_output_rule(n, size, stride, padding):
    pad_line = "" if padding is None else f"padding={padding}\n"
    text = f"[net]\nwidth={n}\nheight={n}\nchannels=1\n[maxpool]\nsize={size}\nstride={stride}\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pool.cfg"
        path.write_text(text + pad_line)
        result = run("trace", str(path), "--format", "json")
    total = size - 1 if padding is None else padding
    darknet = (n + total - size) // stride + 1
    half = total // 2, total - total // 2
    if n + total >= size and max(half) * 2 <= size:
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["output"] == [darknet, darknet, 1]
    else:  # no window fits, or padding a window could lie in entirely: refused, not guessed
        assert result.exit_code == 1


# --- bad input: located, exit 1, no traceback -------------------------------------------------

NET = "[net]\nwidth=8\nheight=8\nchannels=3\n"
CONV = "[convolutional]\nfilters=4\nsize=3\npad=1\n"

BAD = [
    (NET + "[convolutional]\nsize=3\n", 5, 1, "[convolutional] needs filters=N"),
    (NET + CONV + "fliters=3\n", 9, 1, "unknown key 'fliters' (did you mean 'filters'?)"),
    (NET + CONV + "activation=leeky\n", 9, 12, "unknown activation 'leeky'"),
    (
        NET + "[maxpol]\nsize=2\n",
        5,
        1,
        "[maxpol] is not a Darknet section (did you mean [maxpool]?)",
    ),
    (NET + CONV + "[route]\nlayers=-1,3\n", 10, 8, "layers 3 names a layer that lies ahead"),
    (NET + CONV + "[route]\nlayers=1\n", 10, 8, "layers 1 names this layer itself"),
    (NET + CONV + "[shortcut]\nfrom=-5\n", 10, 6, "from -5 names no layer (the first is 0)"),
    (NET + "[route]\n", 5, 1, "needs layers=INDEX"),
    (NET + "[convolutional]\nfilters=x4\nsize=3\n", 6, 9, "filters must be a whole number"),
    (NET + "[convolutional]\nfilters=0\nsize=3\n", 6, 9, "filters must be at least 1, not 0"),
    (NET + "[upsample]\nstride=" + "9" * 19 + "\n", 6, 8, "stride: a number of 19 digits"),
    (NET + "[dropout]\nprobability=often\n", 6, 13, "probability must be a number, not 'often'"),
    (NET + CONV + "filters=8\n", 9, 1, "filters is given twice (first at line 6)"),
    (NET + CONV + "antialiasing=1\n", 9, 14, "antialiasing=1 (a blur pool"),
    (NET + "[conv]\nfilters=4\nsize=3\ndilation=2\n", 5, 1, "dilation is traced only with"),
    (NET + "[maxpool]\nmaxpool_depth=1\n", 6, 15, "pooling over channels"),
    (NET + "[reorg]\nstride=2\nreverse=1\n", 7, 9, "reverse=1 (depth to space)"),
    (NET + "[upsample]\nstride=-2\n", 6, 8, "stride must be at least 1, not -2"),
    (NET + "[lstm]\noutput=4\n", 5, 1, "[lstm] is a recurrent layer, which cnncalc does not trace"),
    (NET + "[route]\nlayers=-1\ngroups=2\ngroup_id=2\n", 5, 1, "group_id must be less than groups"),
    (NET + CONV + "stray\n", 9, 1, "expected key=value or a [section], not 'stray'"),
    (NET + "[convolutional\n", 5, 1, "a section header is written [name]"),
    ("width=8\n[net]\n", 1, 1, "a key before the first section"),
    ("[convolutional]\nfilters=1\n", 1, 1, "a Darknet cfg starts with its [net] section"),
    ("[net]\nwidth=8\nheight=8\n", 1, 1, "needs channels=N (the input size)"),
    ("[net]\ninputs=10\nwidth=4\nheight=2\nchannels=2\n[softmax]\n", 1, 1, "inputs=10 is not"),
    (NET, 1, 1, "no layers after [net]"),
    ("[net]\nwidth=8\nheight=8\nchannels=3\nfoo=1\n[softmax]\n", 5, 1, "unknown key 'foo'"),
]


@pytest.mark.parametrize("text, line, column, message", BAD)
def test_a_faulty_cfg_is_located_and_refused(tmp_path, text, line, column, message):
    path = tmp_path / "bad.cfg"
    path.write_text(text)
    result = run("trace", str(path))
    assert result.exit_code == 1, result.output
    assert f"{path}:{line}:{column}: error: " in result.stderr
    assert message in result.stderr
    with pytest.raises(SpecError):
        load(str(path))


def test_a_shape_darknet_cannot_join_fails_on_its_row(tmp_path):
    path = tmp_path / "mismatch.cfg"
    path.write_text(NET + CONV + "[maxpool]\nsize=2\nstride=2\n[route]\nlayers=-1,0\n")
    result = run("trace", str(path))
    assert result.exit_code == 1
    assert f"{path}:12:1: error: 2: concat: spatial rows differ: 4 vs 8" in result.stderr


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    path = tmp_path / "many.cfg"
    path.write_text(
        NET + "[convolutional]\nsize=3\nfliters=8\n[maxpol]\n[route]\nlayers=7\n[lstm]\n"
    )
    result = run("check", str(path))
    assert result.exit_code == 1
    located = re.findall(rf"^{re.escape(str(path))}:(\d+):(\d+): error", result.output, re.M)
    assert located == [("5", "1"), ("7", "1"), ("8", "1"), ("10", "8"), ("11", "1")]


def test_keys_only_training_reads_are_accepted(tmp_path):
    path = tmp_path / "train.cfg"
    path.write_text(
        "[net]\nwidth=8\nheight=8\nchannels=3\nmomentum=0.9\nmosaic=1 # augmentation\n"
        + CONV
        + "stopbackward=1\nlearning_rate=0.5\n; a comment\n"
        + "[convolutional]\nfilters=6\nsize=1\ndilation=3\nactivation=linear\n"
        + "[yolo]\nmask=0\nanchors = 1,1\nclasses=1\niou_loss=ciou\nnms_kind=greedynms\n"
    )
    assert data(str(path))["totals"]["params"] == 112 + 30


HEAD_INPUT = "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters={}\nsize=1\n"


@pytest.mark.parametrize(
    ("head", "values"),
    [
        ("[yolo]\nmask=0,1,2\nnum=9\nclasses=80", 255),  # 3 x (80 + 5), as YOLOv3's heads
        ("[yolo]\nnum=2\nclasses=3", 16),  # no mask: all num anchors
        ("[region]\nnum=5\nclasses=20\ncoords=4", 125),  # YOLOv2 on VOC: 5 x (20 + 5)
        ("[region]", 25),  # defaults: 1 x (20 + 4 + 1)
        ("[Gaussian_yolo]\nmask=0\nclasses=1", 10),  # 1 x (1 + 8 + 1)
    ],
)
def test_a_head_reads_the_channels_darknet_asserts(tmp_path, head, values):
    for filters, code in ((values, 0), (values + 1, 1)):
        path = tmp_path / "head.cfg"
        path.write_text(HEAD_INPUT.format(filters) + head + "\n")
        result = CliRunner().invoke(main, ["check", str(path)])
        assert result.exit_code == code, result.output
        if code:
            assert f"head: reads {values:,} channels, but its input has {values + 1:,}" in (
                result.output
            )


def test_a_detection_head_reads_yolov1s_grid(tmp_path):
    # side 2, num 2, coords 4, classes 3: 2 x 2 x ((1 + 4) x 2 + 3) = 52 features
    path = tmp_path / "v1.cfg"
    head = "[detection]\nside=2\nnum=2\ncoords=4\nclasses=3\n"
    for out, code in ((52, 0), (50, 1)):
        path.write_text(HEAD_INPUT.format(4) + f"[connected]\noutput={out}\n" + head)
        result = CliRunner().invoke(main, ["check", str(path)])
        assert result.exit_code == code, result.output


# --- mutated fixtures: answered or refused, never a crash -------------------------------------

FIXTURES = {path.name: path.read_text() for path in sorted(DATA.glob("*.cfg"))}
STRAY = ["[", "]", "=", "#", ";", ",", "-", "0", "9" * 20, "x", " ", "\t", "é", "\ufeff", "-1"]
NUMBERS = ["0", "1", "-1", "3", "64", "99999", "-20"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(FIXTURES, STRAY, NUMBERS, indent=False))
def test_a_mutated_cfg_is_answered_or_refused_where_it_is_wrong(case):
    name, text = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        result = run("trace", str(path), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    lines = text.splitlines() or [""]
    for line, column in re.findall(rf"^{re.escape(str(path))}:(\d+):(\d+): ", result.stderr, re.M):
        assert 1 <= int(line) <= len(lines)
        assert 1 <= int(column) <= len(lines[int(line) - 1]) + 1
