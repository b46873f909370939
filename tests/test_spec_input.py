"""Bad spec text through the command line: every mistake is one located line, never a traceback,
and answered within a second however the YAML is built (alias bombs, deep nesting, huge repeats).

Each spec is written under tmp_path; ``located`` checks that the reported line and column exist
in the file, since GitHub annotations land there.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cnncalc.cli import main
from cnncalc.core.positions import Pos, Problem
from cnncalc.formats.spec import MAX_DEPTH
from cnncalc.render.problems import problem_report

ENV = {"COLUMNS": "200", "NO_COLOR": None, "FORCE_COLOR": None, "TERM": "xterm"}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner(env=ENV).invoke(main, list(args))


def settled(result: Result, status: int) -> str:
    """Everything the command printed, after checking it ended by design with ``status``."""
    output = result.stdout + result.stderr
    assert result.exit_code == status, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in output
    return output


def located(text: str | bytes, *command: str, name: str = "spec.yaml") -> tuple[int, int, str]:
    """Write a spec, ``check`` it (or run ``command``), and return its first problem's line,
    column and message, checking that the position exists in the file."""
    Path(name).write_bytes(text if isinstance(text, bytes) else text.encode())
    output = settled(run(*(command or ("check",)), name), 1)
    m = re.match(rf"{re.escape(name)}:(\d+):(\d+): error: (.*)", output)
    assert m, output
    line, column = int(m[1]), int(m[2])
    lines = Path(name).read_bytes().decode(errors="replace").splitlines()
    assert 1 <= line <= len(lines) and 1 <= column <= max(len(lines[line - 1]), 1), output
    return line, column, m[3]


def test_an_unclosed_brace_is_reported_where_it_was_opened(here):
    spec = "input: 8x8x3\nlayers:\n  - relu\n  - relu\n  - relu\n  - relu\n  - conv: {filters: 3\n"
    spec += "  - relu\n"
    line, column, message = located(spec)
    assert (line, column) == (7, 11)
    assert "flow mapping opened here is not closed" in message and "8:" not in message
    assert "did not find expected ',' or '}'" in message


def test_a_block_error_is_reported_where_the_reader_stopped_with_its_context(here):
    line, column, message = located("input: 8x8x3\nlayers:\n  - relu\n bad: 1\n")
    assert (line, column) == (4, 2)
    assert "(in the block mapping at 1:1)" in message


def test_an_indentation_slip_is_named_as_such_on_the_slipped_line(here):
    spec = "name: x\ninput: 8x8x3\nlayers:\n  - conv 3 f3\n  - relu\n   - maxpool\n  - fc 10\n"
    line, column, message = located(spec)
    assert (line, column) == (6, 4)
    slip = "'relu - maxpool' reads as one item: is '- maxpool' indented one space too far?"
    assert message == slip


def test_an_inline_layer_may_still_run_on_over_lines(here):
    Path("spec.yaml").write_text("input: 8x8x3\nlayers:\n  - conv 4 f3\n    p1\n")
    assert "ok" in settled(run("check", "spec.yaml"), 0)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("input: 8x8x3\nlayers:\n  - =\n", "unknown layer kind '='"),
        ("input: !foo 3\nlayers: [relu]\n", "the tag !foo is not supported"),
        ("input: !!binary aGk=\nlayers: [relu]\n", "the tag !!binary is not supported"),
        ("input: !!set {a}\nlayers: [relu]\n", "the tag !!set is not supported"),
        ("input: 2001-02-30\nlayers: [relu]\n", "'2001-02-30' is not a number"),
        ("input: 8x8x3\nlayers: [!!int x]\n", "'x' is not a whole number"),
        ("input: 8x8x3\nlayers: [!!bool maybe]\n", "'maybe' is not true or false"),
        ("input: 8x8x3\nlayers: [{[1]: 2}]\n", "a key is a word or a number, not a list"),
        ("input: 8x8x3\nb: &b {f: 3}\nlayers:\n  - <<: *b\n", "merge keys (<<) are not supported"),
        ("input: " + "9" * 5000 + "\nlayers: [relu]\n", "a number of 5,000 digits is too large"),
        ("input: 8x8x3\nlayers:\n  - dropout: 1.0e+999\n", "'1.0e+999' is not a finite number"),
        ("input: 8x8x3\nlayers:\n  - dropout: 1.0e+300\n", "a number of 301 digits is too large"),
        ("input: 8x8x3\nlayers:\n  - ~\n", "empty layer"),
        ("input: 8x8x3\nlayers:\n  - ~: 3\n", "an item's kind is empty (null)"),
        ("input: 8x8x3\nlayers: &a [relu, *a]\n", "an alias refers to the list or mapping"),
    ],
)
def test_yaml_values_that_have_no_meaning_here_are_located_errors(here, spec, message):
    assert message in located(spec)[2]


def test_a_duplicate_key_is_an_error_at_the_second_key(here):
    spec = "input: 8x8x3\nlayers:\n  - conv: {filters: 3,\n      filters: 4}\n"
    assert located(spec) == (4, 7, "duplicate key 'filters' (first at 3:12)")
    assert located("input: 8x8x3\nlayers: [relu]\ninput: 4\n")[:2] == (3, 1)


def test_a_byte_that_is_not_utf8_is_located(here):
    Path("latin.yaml").write_bytes(b"input: 8x8x3\nlayers:\n  - relu \xff\n")
    assert "latin.yaml:3:10: byte 0xff is not UTF-8 text" in one_line("check", "latin.yaml")


def test_a_control_character_is_located(here):
    line, column, message = located("input: 8x8x3\nlayers:\n  - re\x07lu\n")
    assert (line, column) == (3, 7)
    assert "control characters are not allowed" in message


def one_line(*args: str) -> str:
    lines = settled(run(*args), 2).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    return lines[0]


def test_a_binary_file_a_directory_and_a_fifo_are_refused_in_one_line(here):
    Path("model.yaml").write_bytes(bytes(range(256)) * 4)
    assert "binary file" in one_line("check", "model.yaml")
    os.mkdir("models.yaml")
    os.mkdir("models")
    assert "is a directory" in one_line("check", "models.yaml")
    assert "is a directory" in one_line("trace", "models")
    if hasattr(os, "mkfifo"):
        os.mkfifo("pipe.yaml")
        start = time.process_time()
        assert "not a regular file" in one_line("trace", "pipe.yaml")  # and did not wait
        assert time.process_time() - start < 2


def test_a_file_that_reads_as_something_else_too_is_ambiguous(here):
    spec = "input: 8x8x3\nlayers: [relu]\n"
    for name in ("resnet50", "8x8x3 | relu", "{input: 8}"):
        Path(name).write_text(spec)
        assert "write ./" in one_line("trace", name)
        assert "ok" in settled(run("check", f"./{name}"), 0)
    Path("sub").mkdir()
    Path("sub/net").write_text(spec)
    assert "ok" in settled(run("check", "sub/net"), 0)  # a path with a separator is a file
    Path("mine").write_text(spec)
    assert "ok" in settled(run("check", "mine"), 0)  # nothing else it could be


def test_an_empty_input_option_is_an_error():
    assert "--input is empty" in one_line("trace", "8x8x3 | relu", "--input", "")


def quick(text: str) -> str:
    start = time.process_time()
    message = located(text)[2]
    assert time.process_time() - start < 2, message  # each of these used to run for minutes
    return message


def test_an_alias_bomb_is_refused_before_it_is_expanded(here):
    lines = ["input: 8x8x3", 'a0: &a0 ["relu"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    assert "aliases expand to more than" in quick("\n".join([*lines, "layers: *a9"]) + "\n")


def test_anchors_that_double_the_layers_are_refused(here):
    lines = ["input: 8x8x3", "x0: &x0 [relu]"]
    lines += [f"x{i}: &x{i} [{{add: [*x{i - 1}, *x{i - 1}]}}]" for i in range(1, 41)]
    quick("\n".join([*lines, "layers: *x40"]) + "\n")
    assert "aliases expand to more than" in settled(run("check", "spec.yaml"), 1)


def blocks_that_double(levels: int, args: bool) -> str:
    lines = ["input: 8x8x3", "blocks:", "  b0: {args: {k: 0}, layers: [relu]}"]
    for i in range(1, levels + 1):
        calls = f"b{i - 1} k=(k*2), b{i - 1} k=(k*2+1)" if args else f"b{i - 1}, b{i - 1}"
        lines.append(f"  b{i}: {{args: {{k: 0}}, layers: [{calls}]}}")
    return "\n".join([*lines, f"layers: [b{levels}]"]) + "\n"


def test_blocks_that_double_the_layers_are_refused(here):
    assert "expands to over 200,000 layers" in quick(blocks_that_double(40, args=False))
    assert "copies of items" in quick(blocks_that_double(40, args=True))


def test_nested_repeats_are_refused_as_soon_as_they_are_too_big(here):
    spec = "input: 8x8x3\nlayers:\n  - repeat: 3000\n    layers:\n      - repeat: 3000\n"
    message = quick(spec + "        layers: [relu]\n")
    assert message.endswith("expands to over 200,000 layers (the most)")


def nested(levels: int, item: str) -> str:
    text = "relu"
    for _ in range(levels):
        text = item.format(text)
    return f"input: 8x8x3\nlayers: [{text}]\n"


@pytest.mark.parametrize(
    "spec",
    [
        "input: " + "[" * 500 + "]" * 500 + "\nlayers: [relu]\n",
        "input: " + "[" * 10_000 + "]" * 10_000 + "\nlayers: [relu]\n",
        nested(250, "{{add: [[{}], identity]}}"),
        nested(330, "{{repeat: 1, layers: [{}]}}"),
        "input: 8x8x3\nblocks:\n  b0: {layers: [relu]}\n"
        + "".join(f"  b{i}: {{layers: [b{i - 1}]}}\n" for i in range(1, 161))
        + "layers: [b160]\n",
    ],
    ids=["lists", "lists-10k", "add", "repeat", "blocks"],
)
def test_deep_nesting_is_refused_without_recursion_errors(here, spec):
    assert f"nesting deeper than {MAX_DEPTH} levels" in quick(spec)


def test_nesting_at_the_limit_traces_and_draws(here):
    spec = "input: 8x8x3\nblocks:\n  b0: {layers: [{add: [[relu], identity]}]}\n"
    spec += "".join(f"  b{i}: {{layers: [b{i - 1}]}}\n" for i in range(1, MAX_DEPTH - 1))
    Path("deep.yaml").write_text(spec + f"layers: [b{MAX_DEPTH - 2}]\n")
    for command in (["check"], ["trace", "--format", "json"], ["diagram", "--format", "dot"]):
        settled(run(*command, "deep.yaml"), 0)


def test_errors_on_a_long_line_are_printed_briefly(here):
    spec = "input: 8x8x3\nlayers: [" + ", ".join(["rleu"] * 20_000) + "]\n"
    Path("spec.yaml").write_text(spec)
    start = time.process_time()
    output = settled(run("check", "spec.yaml"), 1)
    assert time.process_time() - start < 2
    assert len(output) < 10_000
    assert output.count(" | layers: [rleu, rleu") == 1  # the line is quoted once, elided
    assert re.search(r"\.\.\. and \d+ errors more$", output.strip())


def test_a_long_line_is_elided_around_the_column():
    line = "a" * 1000 + "X" + "b" * 1000
    report = problem_report("f", line, [Problem(Pos(1, 1001), "", "here")])
    quoted, caret = report.splitlines()[1:]
    assert len(quoted) < 140 and quoted.count("…") == 2
    assert quoted[caret.index("^")] == "X"
