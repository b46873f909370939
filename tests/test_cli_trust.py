"""Issue 16, third round: the command line says what it does and does what it says.

``check`` shows its warnings and checks every spec; expected counts are read as cnncalc prints
them; every option of a single-layer command changes its answer or is refused; the course's
-f -s -p; ``solve`` within sensible paddings, and upsampling when the output is larger;
``zoo list`` reads no file. Through click's test runner; numbers worked by hand.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cnncalc.cli import main

OK = "input: 8x8x3\nlayers: [conv 4 f3 p1]\n"  # 4*3*3*3 + 4 = 112 parameters
WARNS = "input: 7x7x3\nlayers: [conv 4 f2 s2]\n"  # (7 - 2)/2 + 1 = 3.5: row 7 is never read
FAILS = "input: 8x8x3\nlayers: [conv 4 f3 p1]\nexpect: {params: 5}\n"


def run(command: str, cwd: Path | None = None) -> Result:
    runner = CliRunner(env={"COLUMNS": "200"})
    if cwd is None:
        return runner.invoke(main, shlex.split(command))
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(main, shlex.split(command))


def specs(tmp_path: Path, **texts: str) -> Path:
    for name, text in texts.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return tmp_path


# 1. check: warnings shown, every spec checked, the worst exit status.


def test_check_shows_the_warning_it_counts(tmp_path):
    folder = specs(tmp_path, warns=WARNS)
    result = run(f"check {folder / 'warns.yaml'}")
    assert result.exit_code == 0, result.output
    assert "1 warning" in result.stdout
    assert "warns.yaml:2:10: warning: conv1: conv: rows and columns" in result.stdout
    assert "input row and column 7 (of 7) never covered by a window" in result.stdout


def test_check_goes_on_past_a_missing_file(tmp_path):
    folder = specs(tmp_path, ok=OK)
    result = run(f"check {folder / 'missing.yaml'} {folder / 'ok.yaml'}")
    assert result.exit_code == 2
    assert "missing.yaml" in result.stderr and result.stderr.startswith("Error: ")
    assert "ok.yaml: ok — 112 params" in result.stdout


@pytest.mark.parametrize(
    ("names", "status"),
    [
        (["ok"], 0),
        (["ok", "warns"], 0),
        (["fails", "ok"], 1),
        (["missing", "fails"], 2),
        (["fails", "missing", "ok"], 2),
    ],
)
def test_check_exits_with_the_worst_status(tmp_path, names, status):
    folder = specs(tmp_path, ok=OK, warns=WARNS, fails=FAILS)
    result = run("check " + " ".join(str(folder / f"{name}.yaml") for name in names))
    assert result.exit_code == status, result.output
    for name in set(names) - {"missing", "fails"}:
        assert f"{name}.yaml: ok" in result.stdout
    if "fails" in names:
        assert "fails.yaml:3:18: error: expected 5 parameters, got 112" in result.stdout


def test_check_help_states_the_exit_statuses():
    help_text = run("check --help").stdout
    assert "0  every spec passes" in help_text
    assert "1  a spec fails" in help_text
    assert "2  a spec cannot be checked" in help_text


# 2. Expected counts as cnncalc prints them.


@pytest.mark.parametrize("written", ["112", "1120", "1,120", "1_120"])
def test_expected_counts_take_thousands_separators(tmp_path, written):
    folder = specs(tmp_path, ok=OK)
    result = run(f"check {folder / 'ok.yaml'} --expect-params {written}")
    want = int(written.replace(",", "").replace("_", ""))
    assert result.exit_code == (0 if want == 112 else 1), result.output
    if want != 112:
        assert "expected 1,120 parameters, got 112" in result.stdout


def test_the_count_cnncalc_prints_is_accepted_back():
    printed = run("check resnet50").stdout  # resnet50: ok — 25,557,032 params, ...
    count = printed.split("ok — ")[1].split(" params")[0]
    assert count == "25,557,032"
    assert run(f"check resnet50 --expect-params {count}").exit_code == 0
    assert run("check resnet50 --expect-params 25_557_032").exit_code == 0
    assert run("check resnet50 --expect-params 25,557,033").exit_code == 1


@pytest.mark.parametrize(
    ("written", "why"),
    [
        (
            "25,55,7032",
            "is grouped wrongly: after the first group of 1 to 3 digits, each group "
            "has 3 (25,557,032)",
        ),
        ("2555,7032", "is grouped wrongly"),
        ("25,557_032", "mixes commas and underscores"),
        ("1,,000", "is not a whole number"),
        ("2_5", "is grouped wrongly"),
    ],
)
def test_badly_grouped_counts_are_refused_with_the_reason(written, why):
    result = run(f"check resnet50 --expect-macs {written}")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --expect-macs: {written!r} ")
    assert why in result.stderr


def test_the_spec_expect_section_takes_separators(tmp_path):
    grouped = OK + "expect:\n  params: 1,120\n"
    folder = specs(tmp_path, grouped=grouped, wrong=grouped.replace("1,120", "11,20"))
    result = run(f"check {folder / 'grouped.yaml'}")
    assert result.exit_code == 1
    assert "grouped.yaml:4:11: error: expected 1,120 parameters, got 112" in result.stdout
    result = run(f"check {folder / 'wrong.yaml'}")
    assert result.exit_code == 1
    assert "wrong.yaml:4:11: error: params: '11,20' is grouped wrongly" in result.stdout
