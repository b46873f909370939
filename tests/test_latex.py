"""``--format latex``: booktabs tables of the same rows Markdown shows, escaped for LaTeX.

Structure and escaping are checked on the text; where pdflatex is installed, the
tables are also typeset inside a minimal document, which is the check that counts.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.render.text import latex as latex_table
from cnncalc.render.text import latex_escape

LAYER_COMMANDS = [
    "conv --n 32x32x3 --f 5 --filters 10 --pad 2",
    "conv --n 7x7x3 --f 2 --stride 2x3 --filters 2",  # two warnings: a cell of two lines
    "pool --n 5 --f 2 --stride 2 --pad 1 --ceil",
    "gpool --n 7x7x512",
    "tconv --n 3 --f 3 --stride 2 --pad 1 --target 6",
    "unpool --n 4x4x8 --mode nearest --factor 2",
    "fc --n 7x7x512 --out 4096",
    "solve --n 224 --out 112 --f 3",
]
TRACES = [
    "trace lenet5",
    "trace resnet18 --depth 2",  # merges: "add ← 0, 1"
    "trace '8x8x3 | conv 4 f3 name=conv_1 | relu | fc 10 name=fc_out'",
]
DOCUMENT = (
    "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n%s\n\\end{document}\n"
)


def latex(command: str) -> str:
    result = CliRunner().invoke(main, [*shlex.split(command), "--format", "latex"])
    assert result.exit_code == 0, result.output
    return result.stdout


def tabular(text: str) -> list[str]:
    """The lines from ``\\begin{tabular}`` to ``\\end{tabular}``, comments dropped."""
    lines = [line for line in text.splitlines() if not line.startswith("%")]
    return lines[: lines.index("\\end{tabular}") + 1]


def markdown_rows(command: str) -> list[str]:
    result = CliRunner().invoke(main, [*shlex.split(command), "--format", "markdown"])
    return [line for line in result.stdout.splitlines() if line.startswith("| ")]


@pytest.mark.parametrize("command", LAYER_COMMANDS + TRACES)
def test_a_booktabs_tabular_with_one_line_per_row(command):
    lines = tabular(latex(command))
    begin, columns = lines[0].removesuffix("}").split("{tabular}{")
    assert begin == "\\begin"
    assert set(columns) <= {"l", "r"}
    assert lines[1] == "\\toprule" and lines[3] == "\\midrule"
    assert lines[-2:] == ["\\bottomrule", "\\end{tabular}"]
    rows = lines[4:-2]
    assert lines[2].endswith(" \\\\") and all(row.endswith(" \\\\") for row in rows)
    # The same rows as Markdown: its header, separator and one line per row.
    assert len(rows) == len(markdown_rows(command)) - 2
    for row in [lines[2], *rows]:
        outside = row.split("\\begin{tabular}")[0]  # a cell of several lines nests a tabular
        assert outside.count(" & ") == len(columns) - 1, row


def test_header_and_numbers_line_up():
    lines = tabular(latex("trace lenet5"))
    assert lines[0] == "\\begin{tabular}{llrrrrr}"  # names and kinds left, numbers right
    assert lines[2] == "layer & kind & output & params & MACs & memory & RF \\\\"
    assert "C1 & conv & 28x28x6 & 156 & 118K & 18.8KB & 5/1 \\\\" in lines


def test_trace_keeps_its_title_and_totals_as_comments():
    text = latex("trace lenet5").splitlines()
    assert text[0] == "% lenet5: input 32x32x1"
    assert "% params: 61,706 trainable, 0 non-trainable (running statistics)" in text


def test_a_layer_name_with_an_underscore_is_escaped():
    lines = tabular(latex(TRACES[-1]))
    assert any(line.startswith("conv\\_1 & conv & 6x6x4") for line in lines)
    assert any(line.startswith("fc\\_out & fc & 10") for line in lines)


def test_every_special_character_is_escaped():
    assert latex_escape("5% of a_b & c # $d {e} ~ ^ \\") == (
        "5\\% of a\\_b \\& c \\# \\$d \\{e\\} \\textasciitilde{} \\textasciicircum{} "
        "\\textbackslash{}"
    )
    table = latex_table(["name", "share"], [("conv_1", "5%")])
    assert "conv\\_1 & 5\\% \\\\" in table.splitlines()


def test_a_drawing_is_verbatim():
    text = latex("pool --n 4 --f 2 --draw")
    assert "\\begin{verbatim}\no input" in text and text.endswith("\\end{verbatim}\n")


# --- typeset for real, where LaTeX is installed --------------------------------------------

PDFLATEX = shutil.which("pdflatex")


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
def test_tables_compile_with_booktabs(tmp_path):
    tables = [latex(command) for command in LAYER_COMMANDS + TRACES]
    tables.append(latex("pool --n 5 --f 2 --stride 2 --pad 1 --ceil --draw"))
    tables.append(latex(["name", "odd"], [("a_b", "5% & #1 $x$ {y} ~z^ \\w <> |")]))
    (tmp_path / "tables.tex").write_text(DOCUMENT % "\n\n".join(tables), encoding="utf-8")
    result = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "tables.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "tables.pdf").is_file()
    log = (tmp_path / "tables.log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log and "not set up for use with LaTeX" not in log
