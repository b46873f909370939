"""The single-layer commands and ``solve``, through click's test runner.

Expected numbers are worked by hand (the comments show how), never copied from
the program's own output.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest
from click.testing import CliRunner, Result

from cnncalc import __version__
from cnncalc.cli import main

COMMANDS = ["conv", "pool", "gpool", "tconv", "unpool", "fc", "linear", "solve"]
KEYS = {"op", "input", "output", "params", "macs", "flops", "padding", "warnings"}


def run(command: str) -> Result:
    """Run ``cnncalc <command>`` on a wide terminal, so table cells do not wrap."""
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, shlex.split(command))


def data(command: str) -> dict:
    result = run(command + " --format json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def table(command: str) -> str:
    result = run(command)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def one_line_error(result: Result, status: int) -> str:
    """The error, checked to be a single ``Error:`` line with the right exit status."""
    assert result.exit_code == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


# --- the worked examples of the issue -------------------------------------------------------


def test_a_bare_n_is_a_square_input_of_unknown_depth():
    out = data("conv --n 32 --f 5 --pad 2")  # (32 - 5 + 4)/1 + 1 = 32
    assert out["output"] == [32, 32]
    assert out["params"] is None and out["macs"] is None and out["flops"] is None
    assert out["padding"] == [[2, 2], [2, 2]]


def test_conv_homework_question():
    out = data("conv --n 32x32x3 --f 5 --filters 10 --stride 1 --pad 2")
    assert set(out) == KEYS
    assert out["op"] == "conv"
    assert (out["input"], out["output"]) == ([32, 32, 3], [32, 32, 10])
    assert out["params"] == 10 * 3 * 5 * 5 + 10 == 760
    assert out["macs"] == 32 * 32 * 750 == 768_000
    assert out["flops"] == 2 * 768_000
    assert out["warnings"] == []


def test_table_works_each_formula_out():
    text = table("conv --n 32x32x3 --f 5 --filters 10 --stride 1 --pad 2")
    assert "(32 - 5 + 2*2)/1 + 1 = 32" in text
    assert "760 = 10*3*5*5 weights + 10 biases" in text
    assert "768,000 = 32*32 output positions x 750 weights" in text
    assert "1,536,000 = 2 x MACs" in text
    assert "rows 2:2, columns 2:2" in text


def test_pool():
    out = data("pool --n 8x8x10 --f 2 --stride 2")  # (8 - 2)/2 + 1 = 4
    assert (out["op"], out["output"], out["params"], out["macs"]) == ("maxpool", [4, 4, 10], 0, 0)
    assert data("pool --n 8x8x10 --type avg")["op"] == "avgpool"
    assert data("pool --n 8x8x10 --f 3")["output"] == [2, 2, 10]  # stride defaults to F=3


def test_global_pool():
    assert data("gpool --n 100x100x3")["output"] == [1, 1, 3]
    assert data("gpool --n 100x100x3 --type max")["op"] == "gmaxpool"
    assert "the whole 100x100 input" in table("gpool --n 100x100x3")


def test_fc_flattens_and_a_bare_number_is_a_feature_count():
    vgg_fc6 = data("fc --n 7x7x512 --out 4096")  # 7*7*512 = 25088 features
    assert vgg_fc6["output"] == [4096]
    assert vgg_fc6["params"] == 25088 * 4096 + 4096 == 102_764_544
    assert vgg_fc6["macs"] == 25088 * 4096
    vgg_fc8 = data("fc --n 4096 --out 1000")
    assert (vgg_fc8["input"], vgg_fc8["params"]) == ([4096], 4096 * 1000 + 1000)
    assert data("fc --n 4096 --out 1000 --no-bias")["params"] == 4096 * 1000
    assert "7*7*512 = 25,088" in table("fc --n 7x7x512 --out 4096")


def test_tconv_formula():
    out = data("tconv --n 3 --f 3 --stride 2 --pad 1 --output-padding 1")
    assert out["output"] == [6, 6]  # (3-1)*2 - 2 + 1*(3-1) + 1 + 1 = 6
    text = table("tconv --n 3 --f 3 --stride 2 --pad 1 --output-padding 1")
    assert "(3 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 6" in text


def test_tconv_counts_per_input_position():
    out = data("tconv --n 4x4x16 --f 3 --filters 8")  # weights 16*8*3*3 = 1152
    assert out["output"] == [6, 6, 8]  # (4-1)*1 + 2 + 1 = 6
    assert (out["params"], out["macs"]) == (1152 + 8, 4 * 4 * 1152)


@pytest.mark.parametrize("m", range(5, 20))
def test_tconv_target_undoes_the_conv(m):
    down = data(f"conv --n {m}x{m + 1} --f 3 --stride 2 --pad 1")["output"]
    n = "x".join(map(str, down))
    up = data(f"tconv --n {n} --f 3 --stride 2 --pad 1 --target {m}x{m + 1}")
    assert up["output"] == [m, m + 1]


def test_tconv_target_shows_the_output_padding_it_found():
    text = table("tconv --n 3 --f 3 --stride 2 --pad 1 --target 6")
    assert "a = 1" in text  # 6 = (3-1)*2 - 2 + 2 + a + 1


def test_tconv_impossible_target():
    # a conv with f=3, s=2, p=1 maps 9 to 5, not 3: no output padding (0 or 1) reaches 9
    error = one_line_error(run("tconv --n 3 --f 3 --stride 2 --pad 1 --target 9"), 1)
    assert "no output padding" in error


@pytest.mark.parametrize(
    ("options", "output", "words"),
    [
        ("--mode nails --factor 2", [8, 8, 8], "bed of nails"),
        ("--mode nearest --factor 2x3", [8, 12, 8], "nearest neighbour"),
        ("--mode max --f 2", [8, 8, 8], "max unpooling"),  # (4-1)*2 + 2 = 8
        ("--mode max --f 3 --stride 2 --pad 1", [7, 7, 8], "(4 - 1)*2 - 2*1 + 3 = 7"),
    ],
)
def test_unpool_modes(options, output, words):
    assert data(f"unpool --n 4x4x8 {options}")["output"] == output
    assert words in table(f"unpool --n 4x4x8 {options}")


def test_depthwise_groups():
    out = data("conv --n 56x56x32 --f 3 --pad 1 --groups depthwise")
    assert out["output"] == [56, 56, 32]  # K = C = 32, one 3x3 filter per channel
    assert out["params"] == 32 * 1 * 9 + 32
    assert out["macs"] == 56 * 56 * 32 * 9
    assert "32*(32/32)*3*3 weights" in table("conv --n 56x56x32 --f 3 --pad 1 --groups depthwise")


def test_groups_divide_the_weights():
    assert data("conv --n 8x8x4 --f 3 --filters 6 --groups 2")["params"] == 6 * 2 * 9 + 6


def test_dilation_shows_the_effective_kernel():
    text = table("conv --n 32 --f 3 --dilation 2")
    assert "2*(3 - 1) + 1 = 5" in text
    assert "(32 - 5 + 2*0)/1 + 1 = 28" in text


# --- warnings and --strict ---------------------------------------------------------------------


def test_a_size_that_does_not_divide_warns_on_stderr():
    result = run("conv --n 7 --f 2 --stride 2 --format json")  # (7 - 2)/2 + 1 = 3.5
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["output"] == [3, 3] and len(out["warnings"]) == 1  # rows and columns alike
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("warning: conv: rows and columns: ")
    assert "floor((7 - 2 + 2*0)/2) + 1 = floor(5/2) + 1 = 3" in table("conv --n 7 --f 2 --stride 2")


def test_strict_turns_warnings_into_an_error():
    assert "--strict" in one_line_error(run("conv --n 7 --f 2 --stride 2 --strict"), 1)
    assert run("conv --n 8 --f 2 --stride 2 --strict").exit_code == 0


# --- layouts, dimensions and padding ----------------------------------------------------------


def test_layout_chw_reads_and_prints_channels_first():
    out = data("conv --n 3x32x32 --layout chw --f 5 --filters 10 --pad 2")
    assert (out["input"], out["output"], out["params"]) == ([3, 32, 32], [10, 32, 32], 760)
    assert "3x32x32 -> 10x32x32" in table(
        "conv --n 3x32x32 --layout chw --f 5 --filters 10 --pad 2"
    )


def test_depth_option():
    assert data("conv --n 32 --depth 3 --f 5 --filters 10 --pad 2")["params"] == 760


def test_1d_with_dims():
    out = data("conv --n 100x4 --dims 1 --f 5 --filters 8")  # (100 - 5)/1 + 1 = 96
    assert (out["output"], out["params"], out["padding"]) == ([96, 8], 8 * 4 * 5 + 8, [[0, 0]])


def test_3d_from_a_per_dimension_kernel():
    out = data("conv --n 16x16x16x2 --f 3x3x3 --filters 4 --pad 1")
    assert out["output"] == [16, 16, 16, 4]
    assert out["params"] == 4 * 2 * 27 + 4
    assert out["padding"] == [[1, 1]] * 3
    assert data("pool --n 8x8x8 --dims 3 --f 2")["output"] == [4, 4, 4]


def test_per_dimension_kernel_gives_one_formula_per_dimension():
    text = table("conv --n 10x20 --f 3x5")
    assert "(10 - 3 + 2*0)/1 + 1 = 8" in text and "(20 - 5 + 2*0)/1 + 1 = 16" in text


@pytest.mark.parametrize(
    ("pad", "output", "padding"),
    [
        ("0:1", [112, 112], [[0, 1], [0, 1]]),  # (224 + 1 - 3)/2 + 1 = 112
        ("same", [112, 112], [[0, 1], [0, 1]]),  # ceil(224/2); the odd pixel after
        ("same-lower", [112, 112], [[1, 0], [1, 0]]),
        ("valid", [111, 111], [[0, 0], [0, 0]]),  # floor(221/2) + 1 = 111
        ("full", [113, 113], [[2, 2], [2, 2]]),  # (224 + 4 - 3)/2 + 1 = 113.5
    ],
)
def test_padding_modes(pad, output, padding):
    out = data(f"conv --n 224 --f 3 --stride 2 --pad {pad}")
    assert (out["output"], out["padding"]) == (output, padding)


def test_padding_per_dimension():
    assert data("conv --n 10 --f 3 --pad 1x2")["output"] == [10, 12]
    out = data("conv --n 10 --f 3 --pad 0:1x1:0")
    assert (out["output"], out["padding"]) == ([9, 9], [[0, 1], [1, 0]])
    assert "(224 - 3 + 0+1)/2 + 1 = 112" in table("conv --n 224 --f 3 --stride 2 --pad 0:1")


def test_ceil_mode():
    assert data("pool --n 7 --f 2")["output"] == [3, 3]  # floor(5/2) + 1
    out = data("pool --n 7 --f 2 --ceil")  # ceil(5/2) + 1 = 4: a window over row 7 alone
    assert (out["output"], out["warnings"]) == ([4, 4], [])


def test_ceil_mode_drops_a_last_window_that_starts_in_the_padding():
    # padded 7: ceil((5 - 2 + 2)/2) + 1 = 4, but window 4 would start at 6, in the padding
    assert data("pool --n 5 --f 2 --stride 2 --pad 1 --ceil")["output"] == [3, 3]
    text = table("pool --n 5 --f 2 --stride 2 --pad 1 --ceil")
    assert "ceil((5 - 2 + 2*1)/2) + 1 = ceil(5/2) + 1 = 4" in text
    assert "dropped: 3" in text


# --- solve --------------------------------------------------------------------------------------


def check_solutions(n: int, out: int, solutions: list[dict]) -> None:
    """Each solution reaches ``out`` by the course formula, within the stated bounds."""
    for s in solutions:
        span = n + 2 * s["p"] - (s["d"] * (s["f"] - 1) + 1)
        assert span // s["s"] + 1 == out and span % s["s"] == s["remainder"]
        assert s["f"] <= 11 and s["s"] <= 4 and s["d"] <= 3
        assert s["p"] <= s["d"] * (s["f"] - 1)  # no window wholly in the padding
    remainders = [s["remainder"] for s in solutions]
    assert remainders == sorted(remainders, key=bool)  # exact ones first


def test_solve_padding_that_keeps_the_size():
    result = run("solve --n 32 --out 32 --f 5 --format json")
    solutions = json.loads(result.stdout)["solutions"]
    assert solutions[0] == {"f": 5, "s": 1, "p": 2, "d": 1, "remainder": 0}
    check_solutions(32, 32, solutions)


def test_solve_halving_224_needs_a_floor():
    # (224 - 3 + 2)/2 + 1 = 112.5: S=2, P=1 floors to 112, one position left over
    solutions = json.loads(run("solve --n 224 --out 112 --f 3 --format json").stdout)["solutions"]
    assert solutions[0] == {"f": 3, "s": 2, "p": 1, "d": 1, "remainder": 1}
    check_solutions(224, 112, solutions)
    text = table("solve --n 224 --out 112 --f 3")
    assert "floor((224 - 3 + 2*1)/2) + 1 = floor(223/2) + 1 = 112" in text
    assert "floored" in text
    assert "nothing within" in one_line_error(run("solve --n 224 --out 112 --f 3 --exact"), 1)


def test_solve_lists_exact_solutions_first():
    solutions = json.loads(run("solve --n 28 --out 14 --format json").stdout)["solutions"]
    check_solutions(28, 14, solutions)
    assert {"f": 2, "s": 2, "p": 0, "d": 1, "remainder": 0} in solutions
    exact = json.loads(run("solve --n 28 --out 14 --exact --format json").stdout)["solutions"]
    assert exact == [s for s in solutions if not s["remainder"]]


def test_solve_with_everything_but_one_fixed():
    # (224 - 2 + 0)/S + 1 = 112 only for S=2
    solutions = data_solutions("solve --n 224 --out 112 --f 2 --pad 0 --dilation 1")
    assert solutions == [{"f": 2, "s": 2, "p": 0, "d": 1, "remainder": 0}]


def data_solutions(command: str) -> list[dict]:
    return json.loads(run(command + " --format json").stdout)["solutions"]


def test_solve_markdown_and_bounds_in_help():
    assert run("solve --n 32 --out 32 --f 5 --format markdown").stdout.startswith("| F | S |")
    assert "F <= 11, S <= 4, D <= 3, P <= D*(F-1)" in run("solve --help").stdout


# --- drawing ------------------------------------------------------------------------------------


def test_draw_2d_marks_the_first_and_last_windows():
    text = table("conv --n 5 --f 3 --stride 2 --pad 1 --draw")
    # padded 7x7; the first window covers padded rows and columns 0-2, the last 4-6
    assert "+ + + . . . ." in text  # output (1, 1): its top row lies in the padding
    assert "+ # # o o o ." in text
    assert ". o o o # # +" in text  # output (3, 3)
    assert ". . . . + + +" in text


def test_draw_1d_every_window():
    text = table("conv --n 6 --dims 1 --f 3 --stride 2 --draw")
    assert "# # # o o o   output (1)" in text
    assert "o o # # # o   output (2)" in text  # the 6th position is never reached


def test_draw_in_markdown_is_fenced():
    assert "```text\n" in table("pool --n 4 --f 2 --draw --format markdown")


@pytest.mark.parametrize(
    "command",
    [
        "conv --n 32 --f 3 --draw",  # too big to draw
        "conv --n 8x8x8x1 --f 3x3x3 --draw",  # 3D
        "conv --n 8 --f 3 --draw --format json",
    ],
)
def test_draw_refuses_clearly(command):
    assert "--draw" in one_line_error(run(command), 2)


# --- every command, every format, help ---------------------------------------------------------

EXAMPLES = {
    "conv": "conv --n 8x8x3 --f 3 --filters 4",
    "pool": "pool --n 8x8x3",
    "gpool": "gpool --n 8x8x3",
    "tconv": "tconv --n 8x8x3 --f 3 --filters 4",
    "unpool": "unpool --n 8x8x3",
    "fc": "fc --n 8x8x3 --out 10",
}


@pytest.mark.parametrize("command", EXAMPLES.values())
def test_every_format(command):
    out = data(command)
    assert set(out) == KEYS
    assert out["input"] == [8, 8, 3]
    assert f"{out['op']}: 8x8x3 -> " in table(command)
    markdown = table(command + " --format markdown").splitlines()
    assert markdown[0].startswith(f"**{out['op']}**: 8x8x3 -> ")  # the working, as the table's
    assert markdown[2] == "| quantity | working |"
    params = next(line for line in markdown if line.startswith("| parameters | "))
    assert params.removeprefix("| parameters | ").startswith(f"{out['params']:,}")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command):
    result = run(f"{command} --help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and f"cnncalc {command} --n" in result.stdout


def test_version():
    assert __version__ in run("--version").stdout


def test_python_dash_m():
    result = subprocess.run(
        [sys.executable, "-m", "cnncalc", "conv", "--n", "4", "--f", "3", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert json.loads(result.stdout)["output"] == [2, 2]


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "status", "words"),
    [
        ("conv --n 32x --f 3", 2, "Error: --n: '32x' is not a size like 32, 32x32 or 32x32x3"),
        ("conv --n 0 --f 3", 2, "--n"),
        ("conv --n -3 --f 3", 2, "--n"),
        ("conv --n 32x0x3 --f 3", 2, "--n"),
        ("conv --n 32 --f 3x", 2, "--f"),
        ("conv --n 32 --f 0", 2, "--f"),
        ("conv --n 32 --f 3 --stride 0", 2, "--stride"),
        ("conv --n 32 --f 3 --dilation 0", 2, "--dilation"),
        ("conv --n 32 --f 3 --pad 1:2:3", 2, "--pad"),
        ("conv --n 32 --f 3 --pad -1", 2, "--pad"),
        ("conv --n 32 --f 3 --pad sideways", 2, "--pad"),
        ("conv --n 32 --f 3 --filters 0", 2, "--filters"),
        ("conv --n 32 --f 3 --groups two", 2, "--groups"),
        ("conv --n 32 --f 3 --groups depthwise", 2, "--groups depthwise"),
        ("conv --n 32x32x3x4 --f 3", 2, "--n: 4 sizes"),
        ("conv --n 32 --dims 3 --f 3x3", 2, "--dims"),
        ("conv --n 32 --f 3 --stride 1x1x1", 2, "stride has 3 values"),
        ("conv --n 8x8x3 --depth 3 --f 3", 2, "--depth"),
        ("tconv --n 3 --f 3 --target 5 --output-padding 0", 2, "--target"),
        ("tconv --n 3 --f 3 --output-padding -1", 2, "--output-padding"),
        ("unpool --n 4 --factor 0", 2, "--factor"),
        ("fc --n 4096 --out 0", 2, "--out"),
        ("solve --n 0 --out 3", 2, "--n"),
        ("conv --n 4 --f 7", 1, "larger than the padded input"),
        ("conv --n 4 --f 3 --dilation 3", 1, "larger than the padded input"),  # 3*(3-1)+1 = 7
        ("pool --n 8 --f 2 --pad 2", 1, "more than half the kernel"),
        ("tconv --n 3 --f 3 --stride 2 --output-padding 2", 1, "output padding 2"),
        ("conv --n 8x8x3 --f 3 --filters 4 --groups 2", 1, "groups 2 does not divide"),
        ("conv --n 8x8x4 --f 3 --filters 3 --groups 2", 1, "groups 2 does not divide"),
        ("solve --n 5 --out 101", 1, "nothing within"),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(command, status, words):
    assert words in one_line_error(run(command), status)


@pytest.mark.parametrize(
    "command", ["conv --f 3", "conv --n 8 --f 3 --format xml", "pool --n 8 --type median"]
)
def test_click_usage_errors_exit_2_without_a_traceback(command):
    result = run(command)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "Error:" in result.stderr
