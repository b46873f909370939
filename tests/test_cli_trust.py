"""Issue 16, third round: the command line says what it does and does what it says.

``check`` shows its warnings and checks every spec; expected counts are read as cnncalc prints
them; every option of a single-layer command changes its answer or is refused; the course's
-f -s -p; ``solve`` within sensible paddings, and upsampling when the output is larger;
``zoo list`` reads no file. Through click's test runner; numbers worked by hand.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from cnncalc.cli import LAYER_COMMANDS, main

OK = "input: 8x8x3\nlayers: [conv 4 f3 p1]\n"  # 4*3*3*3 + 4 = 112 parameters
WARNS = "input: 7x7x3\nlayers: [conv 4 f2 s2]\n"  # (7 - 2)/2 + 1 = 3.5: row 7 is never read
FAILS = "input: 8x8x3\nlayers: [conv 4 f3 p1]\nexpect: {params: 5}\n"


def run(command: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, shlex.split(command))


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


# 3. Every option of a single-layer command changes its answer, or is refused.

BASE = {
    "conv": "--n 9x9x3 --f 3 --filters 4",
    "pool": "--n 9x9x3",
    "gpool": "--n 9x9x3",
    "tconv": "--n 5x5x3 --f 3 --stride 2 --filters 6",
    "unpool": "--n 4x4x8",
    "fc": "--n 3x3x4 --out 10",
    "linear": "--n 3x3x4 --out 10",
    "solve": "--n 28 --out 14",
}
"""Each command with its required options, to which one option at a time is added."""
OTHER = {
    "n": "--n 10x10x3",
    "depth": "--n 9 --depth 5",
    "dims": "--n 9 --dims 3",
    "layout": "--layout chw",
    "output_format": "--format json",
    "strict": "--strict",  # 9 with f2 s2: (9 - 2)/2 + 1 = 4.5, row 9 is left out
    "f": "--f 2",
    "stride": "--stride 2",
    "pad": "--pad 1",
    "dilation": "--dilation 2",
    "filters": "--filters 6",
    "groups": "--groups 3",
    "bias": "--no-bias",
    "draw": "--draw",
    "kind": "--type avg",
    "ceil": "--ceil",
    "output_padding": "--output-padding 1",
    "target": "--target 10",
    "mode": "--mode max",
    "factor": "--factor 3",
    "out": "--out 7",
    "exact": "--exact",
}
"""A value other than the default for every option any command has; an option missing here
fails the walk, so a new option has to show that it matters."""
OTHERS = {
    ("pool", "f"): "--f 3",
    ("pool", "stride"): "--stride 3",
    ("gpool", "kind"): "--type max",
    ("tconv", "stride"): "--stride 3",
    ("tconv", "filters"): "--filters 9",
}
"""Where the command's default is OTHER's value."""
NEEDS = {("conv", "strict"): "--f 2 --stride 2"}
"""Options whose effect needs another option: both are added, and compared with the other
alone."""


def answer(command: str, args: str) -> tuple[int, str, str]:
    result = run(f"{command} {BASE[command]} {args}")
    return result.exit_code, result.stdout, result.stderr


def options_of(command: str) -> list[click.Option]:
    with click.Context(main) as ctx:
        found = main.get_command(ctx, command)
    assert found is not None
    return [p for p in found.params if isinstance(p, click.Option) and p.name != "help"]


WALK = [(command, option.name) for command in LAYER_COMMANDS for option in options_of(command)]


@pytest.mark.parametrize(("command", "name"), WALK, ids=[f"{c}-{n}" for c, n in WALK])
def test_every_option_changes_the_answer_or_is_refused(command, name):
    assert name in OTHER, f"{command}: no other value for its option {name!r} in OTHER"
    context = NEEDS.get((command, name), "")
    before = answer(command, context)
    after = answer(command, f"{context} {OTHERS.get((command, name), OTHER[name])}")
    if after[0] == 2:  # refused, naming the option: an option ignored here would mislead
        assert after[2].startswith("Error: "), after
        return
    assert after != before, f"cnncalc {command} {OTHER[name]} changes nothing"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("gpool --n 8 --strict", "No such option '--strict'"),
        ("fc --n 10 --out 3 --strict", "No such option '--strict'"),
        ("fc --n 10 --out 3 --dims 3", "No such option '--dims'"),
        ("tconv --n 3 --f 3 --strict", "No such option '--strict'"),
        ("unpool --n 4 --strict", "No such option '--strict'"),
        ("unpool --n 4x4x8 --mode nails --f 3", "--f is not read by --mode nails"),
        ("unpool --n 4x4x8 --mode nearest --stride 3", "--stride is not read by --mode nearest"),
        ("unpool --n 4x4x8 --pad 1", "--pad is not read by --mode nearest"),
        ("unpool --n 4x4x8 --mode max --factor 3", "--factor is not read by --mode max"),
    ],
)
def test_an_option_the_layer_would_ignore_is_refused(command, message):
    result = run(command)
    assert result.exit_code == 2
    assert message in result.stderr


def test_fc_flattens_an_input_of_any_rank():
    # 4*4*4*8 = 512 features in, 512*10 + 10 = 5,130 parameters, with no --dims to say 3D
    data = json.loads(run("fc --n 4x4x4x8 --out 10 --format json").stdout)
    assert (data["input"], data["params"]) == ([4, 4, 4, 8], 5130)
    chw = json.loads(run("fc --n 512x7x7 --layout chw --out 10 --format json").stdout)
    assert chw["params"] == 512 * 7 * 7 * 10 + 10


def test_max_unpooling_still_reads_its_pool():
    # (4 - 1)*2 - 2*1 + 3 = 7
    data = json.loads(
        run("unpool --n 4x4x8 --mode max --f 3 --stride 2 --pad 1 --format json").stdout
    )
    assert data["output"] == [7, 7, 8]


# 4. The course's F, S, P as flags.


@pytest.mark.parametrize(
    ("command", "letters", "words"),
    [
        ("conv --n 9x9x3 --filters 4", "-f 3 -s 2 -p 1", "--f 3 --stride 2 --pad 1"),
        ("conv --n 9x9x3 --filters 4", "--f 3 --s 2 --p same", "--f 3 --stride 2 --pad same"),
        ("pool --n 9x9x3", "-f 3 -s 2 -p 1", "--f 3 --stride 2 --pad 1"),
        ("tconv --n 5x5x3", "-f 3 -s 2 -p 1", "--f 3 --stride 2 --pad 1"),
        ("unpool --n 4x4x8 --mode max", "-f 3 -s 2 -p 1", "--f 3 --stride 2 --pad 1"),
        ("solve --n 28 --out 14", "-f 3 -s 2", "--f 3 --stride 2"),
        ("solve --n 28 --out 14", "--p 1 --s 2", "--pad 1 --stride 2"),
    ],
)
def test_course_letters_are_the_same_options(command, letters, words):
    short, long = run(f"{command} {letters}"), run(f"{command} {words}")
    assert short.exit_code == long.exit_code == 0, short.output
    assert short.stdout == long.stdout


@pytest.mark.parametrize("command", ["conv", "pool", "tconv", "unpool", "solve"])
def test_help_shows_the_course_letters(command):
    help_text = run(f"{command} --help").stdout
    assert "-f, --f " in help_text
    assert "-s, --stride, --s " in help_text
    assert "-p, --pad, --p " in help_text


# 5. solve: no window wholly in the padding; a larger output is a transposed conv.


def solve_data(args: str) -> dict:
    result = run(f"solve {args} --format json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_solve_never_pads_a_whole_window():
    # 28 -> 14 exactly: F=11, P=11 gives (28 + 22 - 11)/3 + 1 = 14, but its first window
    # (padded rows 0-10) lies wholly in the 11 rows of padding: P <= D*(F-1) refuses it
    solutions = solve_data("--n 28 --out 14 --exact")["solutions"]
    assert solutions and all(s["p"] <= s["d"] * (s["f"] - 1) for s in solutions)
    assert not any(s["f"] == 11 and s["p"] == 11 for s in solutions)
    assert {"f": 2, "s": 2, "p": 0, "d": 1, "remainder": 0} in solutions


def test_solve_keeps_the_padding_of_a_dilated_kernel():
    # as DeepLab's ASPP (3x3 at dilation 6, padding 6), a dilated 3x3 keeps its size with
    # P = D > F - 1: (33 + 2*3 - 7)/1 + 1 = 33, and the first window's last tap, padded
    # row 6, is input row 4; P <= D*(F-1) = 6
    solutions = solve_data("--n 33 --out 33 --f 3 --stride 1 --dilation 3")["solutions"]
    assert solutions == [{"f": 3, "s": 1, "p": 3, "d": 3, "remainder": 0}]


def test_solve_refuses_a_fixed_padding_beyond_the_kernel():
    # F=1, P=5: (10 + 10 - 1)/1 + 1 = 20, every output but the middle ten reads only zeros
    result = run("solve --n 10 --out 20 --f 1 --pad 5")
    assert result.exit_code == 1
    assert "P <= D*(F-1)" in result.stderr


def test_solve_a_larger_output_suggests_transposed_convs_and_upsampling():
    found = solve_data("--n 10 --out 20")
    # the usual 2x: (10 - 1)*2 - 2*1 + (4 - 1) + 0 + 1 = 20
    assert {"f": 4, "s": 2, "p": 1, "d": 1, "output_padding": 0} in found["transposed"]
    assert found["upsample"] == 2
    for t in found["transposed"]:
        size = (10 - 1) * t["s"] - 2 * t["p"] + t["d"] * (t["f"] - 1) + t["output_padding"] + 1
        assert size == 20
        assert 0 <= t["p"] <= t["d"] * (t["f"] - 1) and t["output_padding"] < max(t["s"], t["d"])
    text = run("solve --n 10 --out 20 --f 4").stdout
    assert text.startswith("10 -> 20 by transposed convolution (cnncalc tconv)")
    assert "(10 - 1)*2 - 2*1 + 1*(4 - 1) + 0 + 1 = 20" in text


def test_each_suggested_transposed_conv_is_what_tconv_computes():
    for t in solve_data("--n 6 --out 13 --f 3")["transposed"]:
        a = t["output_padding"]
        command = f"tconv --n 6 -f 3 -s {t['s']} -p {t['p']} --dilation {t['d']}"
        result = run(f"{command} --output-padding {a} --format json")
        assert json.loads(result.stdout)["output"] == [13, 13], command


def test_solve_a_smaller_output_has_no_transposed_conv():
    found = solve_data("--n 28 --out 14")
    assert (found["transposed"], found["upsample"]) == ([], None)


# 6. zoo list reads no file of the working directory.


def test_zoo_list_ignores_files_named_like_its_networks(tmp_path, monkeypatch):
    elsewhere = run("zoo list --format json")
    assert elsewhere.exit_code == 0
    names = [entry["name"] for entry in json.loads(elsewhere.stdout)["networks"]]
    for name in names:
        (tmp_path / name).write_text("garbage: [\n")
    monkeypatch.chdir(tmp_path)
    result = run("zoo list --format json")
    assert result.exit_code == 0, result.output
    assert result.stdout == elsewhere.stdout
    assert "is both a file here" in run("trace resnet50").stderr  # a name still refused


def test_solve_titles_each_table_when_it_lists_two_kinds():
    text = run("solve --n 10 --out 20 --format markdown").stdout
    assert text.startswith("10 -> 20 by transposed convolution (cnncalc tconv):\n\n| F |")
    assert "\n10 -> 20 by convolution (padding alone grows it):\n\n| F |" in text
    assert text.rstrip().endswith(
        "upsampling by 2: 10*2 = 20 (cnncalc unpool --mode nearest|nails --factor 2)"
    )
    latex = run("solve --n 10 --out 20 --format latex").stdout
    assert latex.startswith(r"10 -\textgreater{} 20 by transposed convolution")


def test_check_annotates_a_spec_it_cannot_read_on_github(tmp_path):
    folder = specs(tmp_path, ok=OK)
    result = run(f"check --format github {folder / 'missing.yaml'} {folder / 'ok.yaml'}")
    assert result.exit_code == 2
    assert f"::error file={folder / 'missing.yaml'}::no spec file" in result.stdout
    assert "ok.yaml: ok" in result.stdout
