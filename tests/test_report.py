"""The report model and the table writer.

``cnncalc.report`` builds the data that ``trace --format json`` prints and ``cnncalc.trace()``
returns, without knowing how it is shown. The tables are written by ``render.tables.table`` without
rich's Console; what rich's ``Table`` printed for the same cells, at the same width and in the
same environment, is the oracle here wherever no cell needs folding: the look on a terminal and in
a pipe must not change. Narrower, cnncalc folds only between words (and a dotted name after a
dot), never inside a number or a shape, where rich split words: there the properties of a whole
table are checked instead.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

import cnncalc
from cnncalc import report
from cnncalc.analysis.tracer import trace
from cnncalc.cli import main
from cnncalc.core.positions import Pos
from cnncalc.core.shapes import Shape
from cnncalc.graph import INPUT, Dag, DagNode, Network
from cnncalc.kinds import Conv
from cnncalc.render.network import TRACE_COLUMNS, trace_report
from cnncalc.render.tables import _text_width, _tokens, table

# --- the data contract ---------------------------------------------------------------------


def test_the_report_knows_no_formatting_library():
    tree = ast.parse(Path(report.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in ("rich", "click", "json")}
    assert not any(name.endswith("render") for name in imported)


def test_the_json_output_is_the_report_data_and_the_api_returns_it():
    result = CliRunner().invoke(main, ["trace", "resnet18", "--format", "json"])
    assert result.exit_code == 0
    data = report.trace_data(trace(cnncalc.load("resnet18")))
    assert json.loads(result.stdout) == data == cnncalc.trace("resnet18")
    assert data["totals"]["params"] == sum(layer["params"] for layer in data["layers"])


def test_a_table_is_rendered_from_the_data_alone():
    data = report.trace_data(trace(cnncalc.load("32x32x3 | conv 10 f5 p2 | relu")))
    text = trace_report(data, "table")
    assert text.splitlines()[0] == "inline: input 32x32x3"
    assert "│ conv1 │ conv │ 32x32x10 │ 760    │ 768K │ 41KB   │ 5/1 │" in text


def test_costs_are_counted_by_what_a_kind_declares_its_macs_are_not_by_its_name():
    """A weighted kind no table names counts in FLOPs and in Darknet's BFLOPs; the same MACs
    declared of no sort count in neither."""

    class Pointwise(Conv):  # a 1x1 convolution by another name, not registered
        kind = "pointwise"

    class Unweighted(Pointwise):
        cost = ""

    def totals(layer):
        node = DagNode("a", Pos(1, 1), layer, (INPUT,))
        net = Network("n", Shape((8, 8), 3), Dag([node]), read_from="darknet")
        return report.trace_data(trace(net))["totals"]

    macs = 8 * 8 * 3 * 4  # 64 positions x 4 filters of 3 weights
    weighted, unweighted = totals(Pointwise(4, f=1)), totals(Unweighted(4, f=1))
    assert weighted["macs"] == unweighted["macs"] == macs
    assert (weighted["flops"], weighted["bflops"]) == (2 * macs, 2 * macs / 1e9)
    assert (unweighted["flops"], unweighted["bflops"]) == (0, 0)


# --- the table writer against rich -----------------------------------------------------------

# Variables that decide on styles and width, cleared so the caller's terminal does not leak in.
CLEAN = ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES")


def rich_table(title, header, rows, width=None):
    """What cnncalc printed with rich's Table and Console before it wrote tables itself."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=header is not None, title_justify="left")
    columns = header or ["", ""]
    for name in columns:
        table.add_column(name, overflow="fold")
    rows = list(rows)
    for row in rows:
        table.add_row(*row)
    plain = bool(os.environ.get("NO_COLOR"))
    console = Console(
        markup=False,
        emoji=False,
        highlight=False,
        width=width,
        color_system=None if plain else "auto",
    )
    if width is None and not console.is_terminal:
        widest = [max(cell_len(c) for c in column) for column in zip(columns, *rows)]
        console.width = max(sum(widest) + 3 * len(widest) + 1, cell_len(title))
    with console.capture() as captured:
        console.print(table)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    if plain or os.environ.get("TERM") == "dumb":  # plain output borders in ASCII (+-|)
        text = text.translate(ASCII)
    return text


ASCII = str.maketrans(
    {
        **dict.fromkeys("┏┓┌┐└┘╇┼", "+"),
        **dict.fromkeys("━─┳┬┴", "-"),
        **dict.fromkeys("┃│┡┩├┤", "|"),
    }
)
"""Box drawing as the ASCII box writes it."""


@pytest.fixture
def environment(monkeypatch):
    """Set the terminal environment: ``environment(FORCE_COLOR="1", TERM="xterm")``."""
    for name in CLEAN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")

    def set_to(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_to


TRACE_HEADER = TRACE_COLUMNS
LENET_ROWS = [
    ("C1", "conv", "28x28x6", "156", "118K", "18.8KB", "5/1"),
    ("S2", "avgpool", "14x14x6", "0", "0", "4.7KB", "6/2"),
    ("✗ add1", "add ← 0.conv1, 1.identity1", "32x32x16", "102,764,544", "2.36M", "0B", "3/1"),
]
WIDE_ROWS = [("層1", "conv ← 中文の名前", "8x8", "1", "2", "3B", "1/1"), *LENET_ROWS]
CASES = {  # name: title, header, rows
    "trace": ("lenet5: input 32x32x1", TRACE_HEADER, LENET_ROWS),
    "wide characters": ("ネットワーク: input 8x8x1", TRACE_HEADER, WIDE_ROWS),
    "empty": ("nothing: input 8x8x1", TRACE_HEADER, []),
    "no header": ("conv: 32x32 -> 32x32", None, [("input", "32x32"), ("warnings", "a\nb c")]),
    "long title": ("a title much longer than the table is wide, so it wraps", ["a"], [("b",)]),
}
SETTINGS = {  # name: environment
    "piped": {},
    "terminal": {"FORCE_COLOR": "1"},
    "no colour": {"FORCE_COLOR": "1", "NO_COLOR": "1"},
    "dumb": {"FORCE_COLOR": "1", "TERM": "dumb", "LINES": "25"},  # see the test below
    "tty compatible": {"TTY_COMPATIBLE": "1", "COLUMNS": "50"},
}


def natural_width(header, rows):
    """The width of a table none of whose cells is folded."""
    columns = list(zip(header or ["", ""], *rows))
    widths = [
        max(_text_width(line) for c in column for line in c.split("\n")) for column in columns
    ]
    return sum(widths) + 3 * len(widths) + 1


def asked_width(width):
    """The width a table is asked for: given, else the terminal's as the environment says."""
    if width is not None:
        return width
    if os.environ.get("TTY_COMPATIBLE") == "1" or os.environ.get("FORCE_COLOR"):
        if os.environ.get("TERM") == "dumb" and not os.environ.get("LINES"):
            return 80
        return int(os.environ.get("COLUMNS", "80"))
    return None


def check_table(title, header, rows, width):
    """rich's output where nothing is folded; else every token whole on one line, every
    bordered line as wide as the others, no wider than asked unless a token needs it."""
    text = table(title, header, rows, width)
    asked = asked_width(width)
    longest = max(map(_text_width, title.split()), default=0)  # rich split a title's words too
    if (asked is None or asked >= natural_width(header, rows)) and longest <= natural_width(
        header, rows
    ):
        assert text == rich_table(title, header, rows, width)
        return
    plain = text.replace("\x1b[1m", "").replace("\x1b[3m", "").replace("\x1b[0m", "")
    lines = plain.split("\n")
    start = next(i for i, line in enumerate(lines) if line[:1] in "┏┌+")
    body = lines[start:]
    assert len({_text_width(line) for line in body}) == 1, plain
    cells = [title, *(header or []), *(c for row in rows for c in row)]
    tokens = [t for c in cells for word in c.split() for t in _tokens(word)]
    for token in tokens:
        assert any(token in line for line in lines), (token, plain)
    least = [
        max((_text_width(t) for c in column for w in c.split() for t in _tokens(w)), default=0)
        for column in zip(header or ["", ""], *rows)
    ]
    most = max(asked or 0, natural_width(header, rows) if asked is None else 0)
    assert _text_width(body[0]) <= max(most, sum(least) + 3 * len(least) + 1), plain


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("width", [None, 40, 57, 100])
@pytest.mark.parametrize("case", CASES)
def test_a_table_looks_as_rich_printed_it(environment, case, setting, width):
    environment(**SETTINGS[setting])
    check_table(*CASES[case], width)


def test_a_width_asked_for_is_kept_on_a_dumb_terminal(environment):
    """The one difference from rich, on purpose: without LINES, rich took a dumb terminal as
    80 columns even when told another width."""
    environment(FORCE_COLOR="1", TERM="dumb")
    text = table(*CASES["trace"], 75)
    assert max(map(len, text.splitlines())) == 75 and "\x1b[" not in text
    assert table(*CASES["empty"]) == rich_table(*CASES["empty"])  # 80 wide, as rich


def test_the_oracle_sees_styles_and_folds(environment):
    """The control: the cases above include bold, italic, folded cells and wide characters."""
    text = rich_table(*CASES["wide characters"], width=40)
    assert "\x1b[" not in text and "層1" in text  # not a terminal here
    assert len(text.splitlines()) > len(WIDE_ROWS) + 5  # some rows folded onto further lines
    environment(FORCE_COLOR="1")
    assert "\x1b[1m" in rich_table(*CASES["trace"]) and "\x1b[3m" in rich_table(*CASES["trace"])


def test_a_terminal_table_has_rich_styles(environment):
    environment(FORCE_COLOR="1", COLUMNS="100")
    text = table(*CASES["trace"])
    assert text.startswith("\x1b[3mlenet5: input 32x32x1")  # italic title
    assert "┃\x1b[1m \x1b[0m\x1b[1mlayer \x1b[0m\x1b[1m \x1b[0m┃" in text  # bold header


def test_a_narrow_table_folds_at_spaces_and_keeps_long_words_whole(environment):
    text = table("t", ["name", "kind"], [("a" * 30, "add ← one, two, three")], 24)
    assert "…" not in text and ("a" * 30) in text  # a table wider than asked, the word whole
    kind = [line.split("│")[2].strip() for line in text.splitlines()[4:-1]]
    assert " ".join(kind) == "add ← one, two, three" and len(kind) > 1  # folded at spaces


WORDS = st.sampled_from(
    ["conv", "中文", "←", "✗", "1,234", "x", "a" * 25, "層", "", "-", "e\u0301", "👍"]
)
CELLS = st.lists(WORDS, max_size=5).map(" ".join) | st.lists(WORDS, max_size=3).map("\n".join)


@st.composite
def tables(draw):
    n = draw(st.integers(1, 6))  # a table without a header is a column of names and one of values
    header = draw(st.none() | st.lists(CELLS.filter(bool), min_size=n, max_size=n))
    n = n if header else 2
    rows = draw(st.lists(st.tuples(*[CELLS] * n), min_size=header is None, max_size=5))
    title = draw(st.lists(WORDS, min_size=1, max_size=12).map(" ".join).filter(str.strip))
    return title, header, rows


@given(tables(), st.none() | st.integers(20, 120), st.sampled_from(list(SETTINGS)))
@example(("t", ["a", "b"], [("a" * 70, "b " * 30)]), 40, "terminal")
@example(("t", None, [("中文" * 20, "x")]), 21, "piped")
@example(("t", ["name", "RF"], [("conv33334", "33335/1"), ("b" * 16, "x y")]), 20, "piped")
def test_any_table_looks_as_rich_printed_it(drawn, width, setting):
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in CLEAN:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("TERM", "xterm")
        for name, value in SETTINGS[setting].items():
            monkeypatch.setenv(name, value)
        check_table(*drawn, width)
