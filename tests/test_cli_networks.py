"""The network commands (trace, check, zoo, kinds, schema, diagram) through click's test runner.

Expected numbers are worked by hand in the comments beside them, or taken from the issue
(torchvision's table for ResNet-50 and VGG-16), never copied from the program's output.
The snapshots in tests/snapshots/ pin what people see; ``pytest --update-snapshots``
rewrites them, and the diff is reviewed like code.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cnncalc import zoo
from cnncalc.cli import main
from cnncalc.graph import TASKS
from cnncalc.kinds import REGISTRY

INLINE = "32x32x3 | conv 10 f5 p2 | relu | pool f2 s2 | fc 10 | softmax"
INLINE_NAMES = ["conv1", "relu1", "pool1", "fc1", "softmax1"]

# The inline network as a file, with expectations that hold.
SMALL = """\
name: small
input: 32x32x3
layers:
  - conv 10 f5 p2
  - relu
  - pool f2 s2
  - fc 10
  - softmax
expect:
  output: 10
  params: 26370
  macs: 793600
  shapes: {pool1: 16x16x10}
"""

# A residual add whose branch doubles the channels without a projection: fails at line 6.
BROKEN = """\
name: broken-residual
input: 32x32x16
layers:
  - conv 16 f3 p1
  - relu
  - add:
      - [conv 32 f3 p1, relu]
      - identity
  - gavgpool
  - fc 10
"""
BROKEN_ROWS = ["conv1", "relu1", "add1.0.conv1", "add1.0.relu1", "add1.1.identity1", "add1"]
BROKEN_MESSAGE = "add: shapes 32x32x32 and 32x32x16 differ in channels"

# (7 - 2)/2 + 1 = 3.5: the last row and column are never covered.
ODD = """\
input: 7x7x3
layers:
  - conv 4 f2 s2
"""

TYPOS = """\
input: 32x32x3
layers:
  - conv 16 f3 p1
  - rleu
  - conv: {filters: 8, f: 3, strid: 2}
  - maxpool f2 colour=red
"""
BAD_YAML = """\
input: 32x32x3
layers:
  - conv: 16: 3
  - relu
"""
RECURSIVE = """\
input: 32x32x3
blocks:
  a:
    layers: [b]
  b:
    layers: [a]
layers:
  - a
"""

TOP_KEYS = {"name", "input", "output", "dtype", "bytes_per_element", "layers", "totals"}
TOP_KEYS |= {"warnings", "errors"}
LAYER_KEYS = {"name", "kind", "output", "params", "buffers", "macs", "rf", "inputs"}
LAYER_KEYS |= {"activation_elements", "activation_bytes"}
TOTAL_KEYS = {
    "params",
    "trainable_params",
    "frozen_params",
    "buffers",
    "shared_layers",
    "non_trainable_params",
    "macs",
    "flops",
    "activation_elements",
    "activation_bytes",
    "param_bytes",
    "rf",
}
PROBLEM_KEYS = {"line", "column", "path", "message"}

# Not a terminal, no colour whatever the caller's environment says; wide enough not to wrap.
ENV = {
    "COLUMNS": "200",
    "NO_COLOR": None,
    "TERM": "xterm",
    "FORCE_COLOR": None,
    "CLICOLOR_FORCE": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
}
SNAPSHOTS = Path(__file__).parent / "snapshots"


def run(*args: str) -> Result:
    return CliRunner(env=ENV).invoke(main, list(args))


def finished(result: Result, status: int) -> Result:
    """The command ended with ``status`` by design: no exception escaped into click."""
    assert result.exit_code == status, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stderr
    return result


def data(*args: str, status: int = 0) -> dict:
    return json.loads(finished(run("trace", *args, "--format", "json"), status).stdout)


def one_line_error(result: Result, status: int) -> str:
    finished(result, status)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def table_rows(text: str) -> list[list[str]]:
    """The body cells of a rich table (box-drawing borders)."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Specs written under tmp_path and named relative to it, so messages read ``bad.yaml:6:5``."""
    monkeypatch.chdir(tmp_path)
    for name, text in {
        "small.yaml": SMALL,
        "bad.yaml": BROKEN,
        "odd.yaml": ODD,
        "typos.yaml": TYPOS,
        "badyaml.yaml": BAD_YAML,
        "recursive.yaml": RECURSIVE,
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


# --- trace: the JSON contract, worked by hand ------------------------------------------------


def test_trace_inline_json_contract_and_numbers():
    out = data(INLINE)
    assert set(out) == TOP_KEYS
    assert set(out["totals"]) == TOTAL_KEYS
    assert all(set(layer) == LAYER_KEYS for layer in out["layers"])
    assert all(set(layer["rf"]) == {"size", "stride"} for layer in out["layers"])
    assert (out["name"], out["input"], out["output"], out["dtype"]) == (
        "inline",
        [32, 32, 3],
        [10],
        "float32",
    )
    layers = {layer["name"]: layer for layer in out["layers"]}
    assert list(layers) == INLINE_NAMES
    conv, pool, fc = layers["conv1"], layers["pool1"], layers["fc1"]
    assert conv["output"] == [32, 32, 10]  # (32 - 5 + 2*2)/1 + 1 = 32
    assert conv["params"] == 10 * 3 * 5 * 5 + 10 == 760
    assert conv["macs"] == 32 * 32 * 10 * 75 == 768_000
    assert conv["activation_bytes"] == 32 * 32 * 10 * 4  # float32
    assert conv["rf"] == {"size": 5, "stride": 1}
    assert pool["output"] == [16, 16, 10]  # (32 - 2)/2 + 1
    assert (pool["params"], pool["macs"]) == (0, 0)
    assert pool["rf"] == {"size": 5 + 1, "stride": 2}
    assert fc["output"] == [10]
    assert fc["params"] == 16 * 16 * 10 * 10 + 10 == 25_610
    assert fc["macs"] == 2560 * 10
    assert fc["rf"] == {"size": 6 + 15 * 2, "stride": 2 * 16}  # fc sees the whole 16x16
    totals = out["totals"]
    assert totals["params"] == totals["trainable_params"] == 760 + 25_610
    assert totals["non_trainable_params"] == 0
    assert totals["macs"] == 768_000 + 25_600 and totals["flops"] == 2 * 793_600
    assert totals["param_bytes"] == 26_370 * 4
    assert totals["activation_bytes"] == (2 * 10_240 + 2_560 + 10 + 10) * 4
    assert totals["rf"] == {"size": 36, "stride": 32}
    assert out["warnings"] == out["errors"] == []


@pytest.mark.parametrize("source", ["file", "inline", "zoo"])
def test_trace_every_format_shows_the_same_rows(workdir, source):
    spec = {"file": "small.yaml", "inline": INLINE, "zoo": "resnet50"}[source]
    out = data(spec)
    layers = out["layers"]
    if source != "zoo":
        assert [layer["name"] for layer in layers] == INLINE_NAMES

    text = finished(run("trace", spec), 0).stdout
    assert text.startswith(f"{out['name']}: input {'x'.join(map(str, out['input']))}\n")
    rows = table_rows(text)
    assert [r[0] for r in rows] == [layer["name"] for layer in layers]
    assert [r[3] for r in rows] == [f"{layer['params']:,}" for layer in layers]
    assert f"params: {out['totals']['params']:,} trainable" in text

    markdown = finished(run("trace", spec, "--format", "markdown"), 0).stdout.splitlines()
    table = [line for line in markdown if line.startswith("|")]
    assert table[0] == "| layer | kind | output | params | MACs | memory | RF |"
    assert table[1] == "| --- | --- | --- | --- | --- | --- | --- |"
    assert len(table) == 2 + len(layers)
    assert [line.split(" | ")[0].removeprefix("| ") for line in table[2:]] == [
        layer["name"] for layer in layers
    ]

    text = finished(run("trace", spec, "--format", "csv"), 0).stdout
    assert len(text.splitlines()) == 1 + len(layers)
    records = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in records] == [layer["name"] for layer in layers]
    assert [int(r["params"]) for r in records] == [layer["params"] for layer in layers]
    assert [int(r["macs"]) for r in records] == [layer["macs"] for layer in layers]
    assert [r["output"] for r in records] == ["x".join(map(str, x["output"])) for x in layers]
    assert all(r["error"] == "" for r in records)


def test_the_file_and_the_inline_spec_trace_alike(workdir):
    from_file, inline = data("small.yaml"), data(INLINE)
    assert from_file["layers"] == inline["layers"]
    assert from_file["totals"] == inline["totals"]
    assert from_file["name"] == "small"


def test_resnet50_depth_1_is_one_row_per_stage():
    out = data("resnet50", "--depth", "1")
    names = [layer["name"] for layer in out["layers"]]
    assert not [name for name in names if "." in name]
    stages = {layer["name"]: layer for layer in out["layers"] if layer["name"].startswith("layer")}
    assert list(stages) == ["layer1", "layer2", "layer3", "layer4"]
    assert [stages[s]["output"] for s in stages] == [
        [56, 56, 256],
        [28, 28, 512],
        [14, 14, 1024],
        [7, 7, 2048],
    ]
    # layer1: block 0 = 64*64 + 64*64*9 + 64*256 + 64*256 (downsample) + bn 2*(64+64+256+256)
    #       = 73,728 + 1,280; blocks 1 and 2 = 256*64 + 64*64*9 + 64*256 + 2*(64+64+256) = 70,400
    assert stages["layer1"]["params"] == 75_008 + 2 * 70_400 == 215_808
    assert out["totals"]["params"] == 25_557_032
    assert out["totals"]["non_trainable_params"] == 53_120
    assert out["output"] == [1000]

    text = finished(run("trace", "resnet50", "--depth", "1"), 0).stdout
    rows = {r[0]: r for r in table_rows(text)}
    assert [rows[f"layer{i}"][2] for i in range(1, 5)] == [
        "56x56x256",
        "28x28x512",
        "14x14x1024",
        "7x7x2048",
    ]
    assert rows["layer1"][3] == "215,808"
    assert "params: 25,557,032 trainable, 53,120 non-trainable" in text
    assert "(4.09G)" in text  # torchvision: 4.089 GFLOPS
    assert round(out["totals"]["macs"] / 1e9, 3) == 4.089


TOTALS_CASES = [
    (INLINE, None),
    ("small.yaml", None),
    ("bad.yaml", None),  # a failed trace: the totals of the rows so far
    ("resnet50", None),
    ("resnet50", 1),
    ("resnet50", 2),
    ("googlenet", 1),
    ("densenet121", 2),
    ("unet", 1),
]


@pytest.mark.parametrize(("spec", "depth"), TOTALS_CASES)
def test_totals_are_the_sums_of_the_rows(workdir, spec, depth):
    status = 1 if spec == "bad.yaml" else 0
    out = data(spec, *(["--depth", str(depth)] if depth else []), status=status)
    layers, totals = out["layers"], out["totals"]
    assert totals["params"] == totals["trainable_params"] == sum(x["params"] for x in layers)
    assert totals["non_trainable_params"] == sum(x["buffers"] for x in layers)
    assert totals["macs"] == sum(x["macs"] for x in layers)
    assert totals["flops"] == 2 * totals["macs"]
    assert totals["param_bytes"] == 4 * (totals["params"] + totals["non_trainable_params"])
    assert totals["rf"] == layers[-1]["rf"]
    for key in ("activation_elements", "activation_bytes"):
        assert totals[key] == sum(x[key] for x in layers)


@pytest.mark.parametrize("depth", [1, 2])
def test_folded_memory_sums_to_the_activations(depth):
    out = data("resnet50", "--depth", str(depth))
    for key in ("activation_elements", "activation_bytes"):
        assert out["totals"][key] == sum(x[key] for x in out["layers"])


def test_float16_halves_memory_and_parameter_bytes():
    full, half = data("resnet50"), data("resnet50", "--dtype", "float16")
    assert (full["dtype"], half["dtype"]) == ("float32", "float16")
    assert [x["activation_bytes"] for x in half["layers"]] == [
        x["activation_bytes"] // 2 for x in full["layers"]
    ]
    for key in ("activation_bytes", "param_bytes"):
        assert 2 * half["totals"][key] == full["totals"][key]
    for key in ("params", "non_trainable_params", "macs"):
        assert half["totals"][key] == full["totals"][key]
    assert full["totals"]["param_bytes"] == 4 * (25_557_032 + 53_120)
    text = finished(run("trace", INLINE, "--dtype", "float16"), 0).stdout
    assert (
        "memory (float16, 2 bytes per element): activations 46.1KB, parameters 52.7KB" in text
    )  # 23,050 and 26,370 x 2


def test_input_option_retraces_at_another_size():
    # 299: conv1 floor((299 + 6 - 7)/2) + 1 = 150; maxpool floor((150 + 2 - 3)/2) + 1 = 75;
    # each strided 3x3 (pad 1): floor((n - 1)/2) + 1: 75 -> 38 -> 19 -> 10
    out = data("resnet50", "--depth", "1", "--input", "299x299x3")
    assert out["input"] == [299, 299, 3]
    shapes = {x["name"]: x["output"] for x in out["layers"]}
    assert shapes["conv1"] == [150, 150, 64]
    assert [shapes[f"layer{i}"] for i in range(1, 5)] == [
        [75, 75, 256],
        [38, 38, 512],
        [19, 19, 1024],
        [10, 10, 2048],
    ]
    assert out["output"] == [1000]
    assert out["totals"]["params"] == 25_557_032  # global pooling: the fc does not change
    assert out["layers"][0]["macs"] == 150 * 150 * 64 * 7 * 7 * 3
    # inline at 64x64: the fc sees 32*32*10 features
    fc = data(INLINE, "--input", "64x64x3")["layers"][3]
    assert (fc["name"], fc["params"]) == ("fc1", 32 * 32 * 10 * 10 + 10)


def test_input_of_another_rank_is_a_usage_error():
    assert "input" in one_line_error(run("trace", "resnet50", "--input", "299x299"), 2)


# --- failing traces and faulty specs ---------------------------------------------------------


def check_caret(report: list[str], at: int, source: str, line: int, column: int) -> None:
    """report[at] is ``file:line:col: ...``; then the source line, then a caret under column."""
    echoed, caret = report[at + 1], report[at + 2]
    assert echoed == f"  {line:>4} | {source.splitlines()[line - 1]}"
    assert caret.rstrip() == "       | " + " " * (column - 1) + "^"


def test_failing_residual_add_keeps_the_rows_so_far(workdir):
    result = finished(run("trace", "bad.yaml"), 1)
    rows = table_rows(result.stdout)
    assert [r[0] for r in rows] == BROKEN_ROWS[:-1] + ["✗ add1"]
    assert rows[2][2:4] == ["32x32x32", "4,640"]  # 32*16*3*3 + 32
    assert "params:" not in result.stdout  # no totals for a network that does not trace
    report = result.stderr.splitlines()
    assert report[0].startswith(f"bad.yaml:6:5: error: add1: {BROKEN_MESSAGE}")
    check_caret(report, 0, BROKEN, 6, 5)
    assert len(report) == 3


def test_failing_trace_in_json_and_csv(workdir):
    out = data("bad.yaml", status=1)
    assert out["output"] is None
    assert [x["name"] for x in out["layers"]] == BROKEN_ROWS
    assert [("error" in x) for x in out["layers"]] == [False] * 5 + [True]
    assert out["layers"][-1]["error"].startswith(BROKEN_MESSAGE)
    (error,) = out["errors"]
    assert set(error) == PROBLEM_KEYS
    assert (error["line"], error["column"], error["path"]) == (6, 5, "add1")
    assert error["message"] == out["layers"][-1]["error"]
    records = list(csv.DictReader(io.StringIO(run("trace", "bad.yaml", "--format", "csv").stdout)))
    assert [r["error"].startswith(BROKEN_MESSAGE) for r in records] == [False] * 5 + [True]


SPEC_ERRORS = {
    "typos.yaml": [
        (4, 5, "unknown layer kind 'rleu' (did you mean 'relu'?)"),
        (5, 30, "conv2: conv has no parameter 'strid' (did you mean 'stride'?)"),
        (6, 16, "maxpool1: maxpool has no parameter 'colour'"),
    ],
    "badyaml.yaml": [(3, 13, "bad YAML: mapping values are not allowed")],  # the 2nd colon
    "recursive.yaml": [(6, 14, "block 'a' calls itself (a -> b -> a)")],
}
SPEC_TEXTS = {"typos.yaml": TYPOS, "badyaml.yaml": BAD_YAML, "recursive.yaml": RECURSIVE}


@pytest.mark.parametrize("command", ["trace", "diagram"])
@pytest.mark.parametrize("name", list(SPEC_ERRORS))
def test_spec_errors_list_every_problem_with_its_position(workdir, command, name):
    result = finished(run(command, name), 1)
    assert result.stdout == ""
    report = result.stderr.splitlines()
    heads = [i for i, line in enumerate(report) if ": error: " in line]
    assert len(heads) == len(SPEC_ERRORS[name])
    for at, (line, column, words) in zip(heads, SPEC_ERRORS[name]):
        assert report[at].startswith(f"{name}:{line}:{column}: error: ")
        assert words in report[at]
        check_caret(report, at, SPEC_TEXTS[name], line, column)


USAGE_ERRORS = [
    (["trace", "nosuch.yaml"], "no spec file 'nosuch.yaml'"),
    (["trace", "resnt50"], "did you mean 'resnet50'?"),
    (["trace", "resnet50", "--input", "299x"], "'299x'"),
    (["trace", "resnet50", "--input", "0x3x3"], "positive"),
    (["diagram", "nosuch.yaml"], "no spec file 'nosuch.yaml'"),
    (["check", "nosuch.yaml"], "no spec file 'nosuch.yaml'"),
    (["zoo", "show", "nosuch"], "no zoo network 'nosuch'"),
    pytest.param(["trace", "resnet50", "--depth", "0"], "--depth"),
]


@pytest.mark.parametrize(("args", "words"), USAGE_ERRORS)
def test_usage_errors_are_one_line_and_exit_2(workdir, args, words):
    assert words in one_line_error(run(*args), 2)


# --- warnings and --strict ----------------------------------------------------------------------


def test_sizes_that_do_not_divide_warn_in_one_line(workdir):
    result = finished(run("trace", "odd.yaml"), 0)
    assert [r[2] for r in table_rows(result.stdout)] == ["3x3x4"]  # floor(5/2) + 1
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("warning: conv1: conv: ")
    assert "(7 + 0 - 2)/2 + 1 = 3.5" in warning and warning.endswith("(--strict makes it an error)")
    (problem,) = data("odd.yaml")["warnings"]
    assert (problem["line"], problem["column"], problem["path"]) == (3, 5, "conv1")


def test_strict_trace_fails_on_each_size_that_does_not_divide(workdir):
    result = finished(run("trace", "odd.yaml", "--strict"), 1)
    report = result.stderr.splitlines()
    assert report[0].startswith("odd.yaml:3:5: error: conv1: conv: rows and columns: ")
    check_caret(report, 0, ODD, 3, 5)
    # SqueezeNet 1.0: conv1 (224 + 0 - 7)/2 + 1 = 109.5 leaves input row and column 224 out
    result = finished(run("trace", "squeezenet1_0", "--strict"), 1)
    assert len([line for line in result.stderr.splitlines() if ": error: " in line]) == 1
    assert "input row and column 224 (of 224) never covered" in result.stderr
    assert run("trace", "small.yaml", "--strict").exit_code == 0


def test_remainders_of_padding_alone_are_not_warnings():
    # ResNet-18: conv1 (224 + 6 - 7)/2 + 1 = 112.5, maxpool (112 + 2 - 3)/2 + 1 = 56.5, the
    # strided 3x3s (n + 2 - 3)/2 + 1 leave out only padding; the 1x1 stride-2 downsamples
    # ((n - 1)/2 + 1) skip their last row as they skip every other row
    for spec in ("resnet18", "resnet50", "googlenet"):
        result = finished(run("trace", spec, "--strict", "--depth", "1"), 0)
        assert result.stderr == ""
    result = finished(run("check", "--strict", "resnet50", "googlenet", EXAMPLE), 0)
    assert result.stderr == ""


# --- check --------------------------------------------------------------------------------------


EXAMPLE = str(Path(__file__).parents[1] / "examples" / "small-resnet.yaml")

OK_LINE = re.compile(
    r"(?P<file>\S+): ok — (?P<params>[\d,]+) params, (?P<gmacs>\d[\d.]*) GMACs"
    r"(?:, (?P<warnings>\d+) warnings? \(--strict fails on (?:it|them)\))?"
)


def ok_line(line: str) -> tuple[str, int, float, int]:
    """``FILE: ok — 25,557,032 params, 4.09 GMACs[, 8 warnings (...)]``, parsed."""
    match = OK_LINE.fullmatch(line)
    assert match, line
    file, params, gmacs, warnings = match.groups()
    return file, int(params.replace(",", "")), float(gmacs), int(warnings or 0)


def test_check_prints_one_ok_line_per_spec(workdir):
    result = finished(run("check", "small.yaml", "resnet50", "squeezenet1_0"), 0)
    small, resnet50, squeezenet, warning, *quoted = result.stdout.splitlines()
    assert warning.startswith("squeezenet1_0:30:5: warning: conv1: conv: rows and columns")
    assert len(quoted) == 2  # the line, and a caret under it
    assert resnet50 == "resnet50: ok — 25,557,032 params, 4.09 GMACs"  # no input pixel lost
    assert squeezenet.endswith(", 1 warning (--strict fails on it)")  # see the --strict test
    file, params, gmacs, warnings = ok_line(small)
    assert (file, params, warnings) == ("small.yaml", 26_370, 0)
    assert gmacs == pytest.approx(793_600 / 1e9, rel=5e-3)  # three significant digits


@pytest.mark.parametrize(
    ("expectation", "column", "message"),
    [
        ("output: 12", 11, "expected output 12, got 10"),
        ("params: 26000", 11, "expected 26,000 parameters, got 26,370"),
        ("macs: 1000", 9, "expected 1,000 MACs, got 793,600"),
        ("shapes: {pool1: 8x8x10}", 19, "pool1: expected pool1 to be 8x8x10, got 16x16x10"),
        ("shapes: {pool9: 16x16x10}", 19, "pool9: expected a layer named 'pool9'; there is none"),
    ],
)
def test_check_reports_a_failed_expectation_where_it_is_written(
    workdir, expectation, column, message
):
    text = SMALL.split("expect:")[0] + f"expect:\n  {expectation}\n"
    (workdir / "wrong.yaml").write_text(text, encoding="utf-8")
    result = finished(run("check", "wrong.yaml"), 1)
    report = result.stdout.splitlines()
    assert report[0] == f"wrong.yaml:10:{column}: error: {message}"
    check_caret(report, 0, text, 10, column)
    assert len(report) == 3


def test_check_ok_line_of_a_tiny_network_is_plain_decimal(workdir):
    first = finished(run("check", "odd.yaml"), 0).stdout.splitlines()[0]  # then the warning
    _, params, gmacs, warnings = ok_line(first)
    assert (params, warnings) == (52, 1)
    assert gmacs == pytest.approx(3 * 3 * 4 * 12 / 1e9, rel=5e-3)  # positions x filters x weights


def test_check_goes_on_after_a_failing_spec(workdir):
    (workdir / "wrong.yaml").write_text(SMALL.replace("26370", "26000"), encoding="utf-8")
    result = finished(run("check", "small.yaml", "wrong.yaml", "bad.yaml", "odd.yaml"), 1)
    lines = result.stdout.splitlines()
    assert ok_line(lines[0])[:2] == ("small.yaml", 26_370)
    assert lines[1] == "wrong.yaml:11:11: error: expected 26,000 parameters, got 26,370"
    assert lines[4].startswith(f"bad.yaml:6:5: error: add1: {BROKEN_MESSAGE}")
    assert lines[7].startswith("odd.yaml: ok — 52 params, ")  # 4*3*2*2 + 4
    assert lines[7].endswith(", 1 warning (--strict fails on it)")
    assert lines[8].startswith("odd.yaml:") and ": warning: " in lines[8]  # shown, quoted
    assert len(lines) == 11
    assert finished(run("check", "small.yaml", "typos.yaml"), 1).stdout.count(": error: ") == 3


def test_check_strict_fails_on_sizes_that_do_not_divide(workdir):
    result = finished(run("check", "--strict", "small.yaml", "odd.yaml"), 1)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("small.yaml: ok")
    assert lines[1].startswith("odd.yaml:3:5: error: conv1: conv: rows and columns: ")
    assert finished(run("check", "--strict", "small.yaml"), 0).stdout.startswith("small.yaml: ok")


def test_check_a_missing_file_is_a_usage_error(workdir):
    result = finished(run("check", "small.yaml", "nosuch.yaml"), 2)
    assert result.stdout.startswith("small.yaml: ok")
    assert result.stderr.strip() == "Error: no spec file 'nosuch.yaml'"


ANNOTATION = re.compile(r"::(error|warning) file=([^,:]+),line=(\d+),col=(\d+)::(.*)")


def test_check_github_annotations(workdir):
    (workdir / "wrong.yaml").write_text(
        SMALL.replace("pool1: 16x16", "pool1: 8x8"), encoding="utf-8"
    )
    names = ["small.yaml", "wrong.yaml", "odd.yaml", "bad.yaml", "typos.yaml"]
    result = finished(run("check", "--format", "github", *names), 1)
    annotations, others = [], []
    for line in result.stdout.splitlines():
        match = ANNOTATION.fullmatch(line)
        if match:
            severity, file, line_no, col, message = match.groups()
            annotations.append((severity, file, int(line_no), int(col), message))
        else:
            others.append(line)
    assert [a[:4] for a in annotations] == [
        ("error", "wrong.yaml", 13, 19),
        ("warning", "odd.yaml", 3, 5),
        ("error", "bad.yaml", 6, 5),
        ("error", "typos.yaml", 4, 5),
        ("error", "typos.yaml", 5, 30),
        ("error", "typos.yaml", 6, 16),
    ]
    assert annotations[0][4] == "pool1: expected pool1 to be 8x8x10, got 16x16x10"
    assert annotations[1][4].startswith("conv1: conv: rows and columns: (7 + 0 - 2)/2 + 1 = 3.5")
    assert [line.split(":")[0] for line in others] == ["small.yaml", "odd.yaml"]
    strict = finished(run("check", "--format", "github", "--strict", "odd.yaml"), 1)
    assert strict.stdout.startswith("::error file=odd.yaml,line=3,col=5::conv1: conv: ")


# --- zoo, kinds, schema -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zoo_lists() -> dict[str, Result]:
    """``zoo list`` traces all twenty networks: run once per format for the whole module."""
    return {fmt: run("zoo", "list", "--format", fmt) for fmt in ("table", "json")}


def test_zoo_list_names_every_network_grouped_by_task(zoo_lists):
    text = finished(zoo_lists["table"], 0).stdout
    rows = {r[1]: r for r in table_rows(text) if r[1]}
    assert sorted(rows) == zoo.names()
    assert rows["resnet50"][2:6] == ["torchvision", "224x224x3", "25,557,032", "4.089"]
    assert rows["vgg16"][2:6] == ["torchvision", "224x224x3", "138,357,544", "15.470"]
    assert rows["unet"][2] == "paper"
    groups = [row[0] for row in rows.values() if row[0]]
    assert groups == [task for task in TASKS if task in groups]  # each task named once, in order
    task, task_of = "", {}
    for name, row in rows.items():  # a group's task is named on its first row only
        task = row[0] or task
        task_of[name] = task
    assert task_of["alexnet"] == "classification" and task_of["unet"] == "segmentation"


def test_zoo_list_json(zoo_lists):
    networks = json.loads(finished(zoo_lists["json"], 0).stdout)["networks"]
    assert sorted(n["name"] for n in networks) == zoo.names()
    keys = {"name", "task", "origin", "input", "params", "macs", "description"}
    assert all(set(n) == keys for n in networks)
    tasks = [n["task"] for n in networks]
    assert tasks == sorted(tasks, key=TASKS.index)  # grouped: classification first
    by_name = {n["name"]: n for n in networks}
    assert by_name["resnet50"]["origin"] == "torchvision"
    assert by_name["unet"]["task"] == "segmentation"
    # torchvision's table: parameters, and GFLOPS that count multiply-accumulates
    assert by_name["resnet50"]["params"] == 25_557_032
    assert round(by_name["resnet50"]["macs"] / 1e9, 3) == 4.089
    assert by_name["vgg16"]["params"] == 138_357_544
    assert round(by_name["vgg16"]["macs"] / 1e9, 3) == 15.470
    assert by_name["inception_v3"]["input"] == [299, 299, 3]


def test_zoo_show_prints_the_file_exactly():
    path = zoo.path("resnet50")
    assert path is not None
    assert finished(run("zoo", "show", "resnet50"), 0).stdout == Path(path).read_text(
        encoding="utf-8"
    )


def test_kinds_lists_every_kind():
    text = finished(run("kinds"), 0).stdout
    listed = {line.split()[0] for line in text.splitlines() if line and not line[0].isspace()}
    assert listed == set(REGISTRY)
    assert "filters=None, f=3, stride=1, pad=0, dilation=1, groups=1, bias=True" in text


def test_schema_is_json_schema():
    schema = json.loads(finished(run("schema"), 0).stdout)
    assert schema["$schema"].startswith("http://json-schema.org/")
    assert {"input", "layers", "expect"} <= set(schema["properties"])


# --- diagram ------------------------------------------------------------------------------------


def test_diagram_mermaid_and_dot_at_depth_1():
    mermaid = finished(run("diagram", "resnet50", "--depth", "1"), 0).stdout
    assert mermaid.startswith("flowchart ")
    assert '["layer1<br/>repeat"]' in mermaid and "layer1.0" not in mermaid
    assert "-->|56x56x256|" in mermaid  # layer1's output feeds layer2
    dot = finished(run("diagram", "resnet50", "--format", "dot", "--depth", "1"), 0).stdout
    assert dot.startswith('digraph "resnet50" {\n') and dot.rstrip().endswith("}")
    assert 'label="layer1\\nrepeat"' in dot and "layer1.0" not in dot
    assert 'label="56x56x256"' in dot


def test_diagram_of_a_failing_trace_exits_1(workdir):
    result = run("diagram", "bad.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"bad.yaml:6:5: error: add1: {BROKEN_MESSAGE}")


# --- help ---------------------------------------------------------------------------------------

NETWORK_COMMANDS = ["trace", "check", "zoo list", "zoo show", "kinds", "schema", "diagram"]


def examples(command: str) -> list[str]:
    """The example lines that end ``cnncalc COMMAND --help``."""
    text = finished(run(*command.split(), "--help"), 0).stdout
    head, _, tail = text.rpartition("Examples:\n")
    assert head, f"no examples in {command} --help"
    lines = [line.strip() for line in tail.splitlines()]
    assert lines and all(
        line.startswith(f"cnncalc {command} ") or line == f"cnncalc {command}" for line in lines
    ), lines
    return lines


@pytest.mark.parametrize("command", NETWORK_COMMANDS)
def test_every_network_command_has_help_ending_with_examples(command):
    assert examples(command)


@pytest.mark.parametrize("command", NETWORK_COMMANDS)
def test_the_examples_that_need_no_file_run(command):
    for example in examples(command):
        words = shlex.split(example, comments=True)[1:]
        words = words[: next((i for i, w in enumerate(words) if w in ("|", ">")), len(words))]
        if any(w.endswith((".yaml", ".cfg", ".prototxt")) for w in words):
            continue  # needs the reader's own spec file
        assert run(*words).exit_code == 0, example


# --- snapshots ----------------------------------------------------------------------------------


def transcript(args: list[str], result: Result) -> str:
    """What a person sees: the command, its exit status, stdout and stderr."""
    return (
        f"$ cnncalc {shlex.join(args)}\n[exit status {result.exit_code}]\n"
        f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    )


@pytest.mark.parametrize(
    ("name", "args", "status"),
    [
        ("trace-inline.txt", ["trace", INLINE], 0),
        ("trace-failing-residual.txt", ["trace", "bad.yaml"], 1),
        ("trace-resnet18-depth1.txt", ["trace", "resnet18", "--depth", "1"], 0),
    ],
)
def test_snapshot(workdir, golden, name, args, status):
    args = [*args, "--width", "100"]
    result = finished(run(*args), status)
    assert not re.search("\x1b\\[", result.stdout + result.stderr)  # no colour codes
    golden(SNAPSHOTS / name, transcript(args, result))
