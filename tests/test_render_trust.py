"""Issue 16, the rendering's part: memory keys that name their unit, control characters shown
escaped, cells folded only between words, plain ASCII tables, and worked formulas in
Markdown, LaTeX and a network's ``--explain``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from cnncalc.cli import main

ENV = {
    "COLUMNS": "200",
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "CLICOLOR_FORCE": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
    "TERM": "xterm",
}


def run(*args: str, **env: str | None) -> Result:
    return CliRunner(env={**ENV, **env}).invoke(main, list(args))


def ok(*args: str, **env: str | None) -> str:
    result = run(*args, **env)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def trace_json(*args: str) -> dict:
    return json.loads(ok("trace", *args, "--format", "json"))


# 1. Memory keys name their unit


def test_memory_keys_name_their_unit_and_the_totals_sum_the_rows():
    out = trace_json("vgg16")
    assert out["dtype"] == "float32" and out["bytes_per_element"] == 4
    totals = out["totals"]
    assert "activations" not in totals and all("memory" not in row for row in out["layers"])
    elements = sum(row["activation_elements"] for row in out["layers"])
    assert totals["activation_elements"] == elements
    assert totals["activation_bytes"] == 4 * elements == 114_804_640
    for row in out["layers"]:
        assert row["activation_bytes"] == 4 * row["activation_elements"]
    first = out["layers"][0]  # conv1_1's output: 224x224x64, the input not counted
    assert first["activation_elements"] == 224 * 224 * 64


def test_int8_is_one_byte_per_element():
    out = trace_json("32x32x3 | conv 8 f3", "--dtype", "int8")
    assert out["bytes_per_element"] == 1
    assert out["totals"]["activation_bytes"] == out["totals"]["activation_elements"] == 30 * 30 * 8


def test_folded_rows_say_so_in_json_and_their_memory_is_marked_as_a_sum():
    out = trace_json("resnet18", "--depth", "1")
    folded = {row["name"] for row in out["layers"] if row.get("folded")}
    assert folded == {"layer1", "layer2", "layer3", "layer4"}
    assert not any("folded" in row for row in trace_json("resnet18")["layers"])
    table = ok("trace", "resnet18", "--depth", "1")
    rows = {
        line.split("│")[1].strip(): line.split("│")[6].strip()
        for line in table.split("\n")
        if line.startswith("│")
    }
    assert rows["layer1"].startswith("Σ ") and not rows["conv1"].startswith("Σ")
    assert "Σ memory: a block's row, its layers' outputs summed" in table


def test_the_footer_says_what_memory_counts():
    text = ok("trace", "32x32x3 | conv 8 f3", "--dtype", "float16")
    assert "memory (float16, 2 bytes per element): activations" in text
    assert "activations: every layer's output (the memory column), the input not counted" in text
    assert "Σ" not in text


def test_csv_names_the_units_as_json_does():
    header = ok("trace", "32x32x3 | conv 8 f3", "--format", "csv").split("\n")[0].split(",")
    assert {"activation_elements", "activation_bytes"} <= set(header)
    assert "memory" not in header


# 2. Control characters from the input are shown escaped, never sent to the terminal

ESC_NAME = "c\x1b]0;pwned\x07\x9b2J"
PROTOTXT = (
    'name: "n 卷积"\ninput: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 20\ninput_dim: 20\n'
    f'layer {{ name: "{ESC_NAME}" type: "Convolution" bottom: "data" top: "c" '
    "convolution_param { num_output: 4 kernel_size: 3 } }\n"
)


def controls(text: str) -> set[str]:
    return {ch for ch in text if ch not in "\n" and (ord(ch) < 32 or 127 <= ord(ch) < 160)}


def test_shown_writes_control_characters_out_and_keeps_unicode():
    from cnncalc.render.text import shown

    assert shown("conv1 卷积 ✓ café") == "conv1 卷积 ✓ café"
    assert shown(ESC_NAME) == r"c\x1b]0;pwned\x07\x9b2J"
    assert shown("a\tb\nc\ud800") == r"a\tb\nc\ud800"


@pytest.mark.parametrize(
    "args",
    [
        ["trace"],
        ["trace", "--format", "markdown"],
        ["trace", "--format", "csv"],
        ["trace", "--format", "latex"],
        ["diagram"],
        ["diagram", "--format", "dot"],
    ],
    ids=" ".join,
)
def test_names_with_escapes_are_shown_escaped_in_every_format(tmp_path, args):
    spec = tmp_path / "evil.prototxt"
    spec.write_text(PROTOTXT, encoding="utf-8")
    text = ok(*args, str(spec))
    assert not controls(text), sorted(map(ord, controls(text)))
    assert "x1b]0;pwned" in text and "x9b2J" in text
    if args == ["trace"]:
        assert "n 卷积: input" in text  # valid Unicode kept


def test_an_error_excerpt_quotes_a_line_with_escapes_written_out(tmp_path):
    spec = tmp_path / "evil.yaml"
    spec.write_text("name: n\ninput: 32x32x3\nlayers:\n  - conv 8 f3 \x1b]0;pwned\x07\n")
    result = run("trace", str(spec))
    assert result.exit_code != 0 and not controls(result.stderr)
    lines = result.stderr.splitlines()
    quoted = next(i for i, line in enumerate(lines) if "pwned" in line)
    assert lines[quoted].endswith(r"| - conv 8 f3 \x1b]0;pwned\x07".replace("| -", "|   -"))
    caret = lines[quoted + 1].index("^")
    assert lines[quoted][caret:].startswith(r"\x1b")  # the caret under the escape, written out
    github = run("check", "--format", "github", str(spec))
    assert "::error" in github.stdout and not controls(github.stdout)


def test_a_table_title_with_an_escape_is_written_out():
    from cnncalc.render.tables import table

    text = table("net\x1b[2J", ["a"], [("b\x07, a cell wider than the title",)])
    assert not controls(text) and r"net\x1b[2J" in text and r"b\x07" in text


# 3. Cells fold between words only, and only the cells that overflow


def test_a_narrow_trace_keeps_every_number_shape_and_receptive_field_whole():
    data = trace_json("resnet152")
    text = ok("trace", "resnet152", "--width", "60")
    lines = text.split("\n")
    rows = [line.split("│")[1:-1] for line in lines if line.startswith("│")]
    cells = {cell.strip() for row in rows for cell in row[2:]}  # output to RF: never folded
    for layer in data["layers"][:60]:
        rf = f"{layer['rf']['size']}/{layer['rf']['stride']}"
        assert {"x".join(map(str, layer["output"])), f"{layer['params']:,}", rf} <= cells
    bordered = [line for line in lines if line[:1] and line[0] in "┏┃┡│└"]
    assert len({len(line) for line in bordered}) == 1
    assert len(bordered[0]) < 100  # names fold after a dot, so the table stays narrow


def test_a_fraction_or_a_number_is_one_token_and_a_dotted_name_folds_after_its_dots():
    from cnncalc.render.tables import _fold, _tokens

    assert _tokens("1/2") == ["1/2"] and _tokens("619/24") == ["619/24"]
    assert _tokens("1,234,567") == ["1,234,567"] and _tokens("2.36M") == ["2.36M"]
    assert _fold("619/1/2", 3) == ("619/1/2",)
    assert [line.strip() for line in _fold("layer3.12.conv2", 10)] == ["layer3.12.", "conv2"]


def test_only_the_cells_that_overflow_are_folded(monkeypatch):
    from cnncalc.render import tables

    folded: list[str] = []
    original = tables._fold

    def counting(text: str, width: int) -> tuple[str, ...]:
        folded.append(text)
        return original(text, width)

    monkeypatch.setattr(tables, "_fold", counting)
    rows = [
        (f"conv{i}", "conv", "32x32x16", "2,320", "2.36M", "65.5KB", f"{i}/1") for i in range(2000)
    ]
    rows[7] = ("add7", "add ← one, two, three, four", *rows[7][2:])
    text = tables.table(
        "title", ["layer", "kind", "output", "params", "MACs", "memory", "RF"], rows, 60
    )
    assert folded == ["title", "add ← one, two, three, four"]  # not the 2,000 rows' 14,000 cells
    assert "│ add7 " in text and "conv1999" in text


# 4. Plain output is ASCII

BOX_DRAWING = set("┏┓┌┐└┘╇┼━─┳┬┴┃│┡┩├┤")


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}], ids=str)
@pytest.mark.parametrize(
    "args", [["trace", "32x32x3 | conv 8 f3"], ["conv", "--n", "32x32x3", "--f", "5"]], ids=str
)
def test_plain_output_draws_its_borders_in_ascii(env, args):
    text = ok(*args, **env)
    assert not BOX_DRAWING & set(text) and "+--" in text and "|" in text
    assert BOX_DRAWING & set(ok(*args))  # the control: box drawing otherwise


def test_the_help_says_what_plain_means():
    assert "ASCII (+-|)" in " ".join(ok("--help").split())


# 5. Homework, shown: the worked formula in Markdown and LaTeX, and one layer of a network


CONV = ["conv", "--n", "32x32x3", "--f", "5", "--filters", "10", "--pad", "2"]


def test_markdown_and_latex_keep_the_working():
    markdown = ok(*CONV, "--format", "markdown")
    assert markdown.startswith("**conv**: 32x32x3 -> 32x32x10\n\n| quantity | working |")
    assert r"| output rows, columns | (32 - 5 + 2\*2)/1 + 1 = 32 |" in markdown
    assert r"| parameters | 760 = 10\*3\*5\*5 weights + 10 biases |" in markdown
    latex = ok(*CONV, "--format", "latex")
    assert latex.startswith("% conv: 32x32x3 -> 32x32x10\n\\begin{tabular}")
    assert "output rows, columns & (32 - 5 + 2*2)/1 + 1 = 32 \\\\" in latex
    assert "MACs & 768,000 = 32*32 output positions x 750 weights \\\\" in latex


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex"])
def test_explain_works_one_layer_of_a_network_with_its_actual_input(fmt):
    text = ok("trace", "resnet18", "--explain", "layer2.0.conv1", "--format", fmt)
    assert "layer2.0.conv1 (conv)" in text and "56x56x64 -> 28x28x128" in text
    assert "floor((56 - 3 + 2" in text and "/2) + 1 = floor(55/2) + 1 = 28" in text
    assert "73,728 = 128" in text and "┃" not in text  # one layer's working, not the table


def test_explain_in_json_is_the_single_layer_contract_with_the_name():
    out = json.loads(ok("trace", "resnet18", "--explain", "fc", "--format", "json"))
    assert out["name"] == "fc" and out["op"] == "fc" and out["input"] == [1, 1, 512]
    assert out["params"] == 513_000


def test_explain_a_join_shows_its_branches():
    text = ok("trace", "resnet18", "--explain", "layer2.0.add1")
    assert "input 1" in text and "input 2" in text and "28x28x128" in text


def test_explain_follows_the_input_option():
    text = ok("trace", "resnet18", "--input", "160x160x3", "--explain", "conv1")
    assert "160x160x3 -> 80x80x64" in text


def test_an_unknown_name_is_one_line_with_a_did_you_mean():
    result = run("trace", "resnet18", "--explain", "layer2.0.conv")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --explain: no layer 'layer2.0.conv'")
    assert "did you mean 'layer2.0.conv" in lines[0]
