"""Expressions, names and booleans in specs, through the command line (issue 8).

Every mistake is one error line at the place of the mistake: the column of the unknown name
or of the offending operand within the value, never the start of the item. Every input is
answered within a second, with no Python error escaping. Expected parameter counts are worked
by hand beside them (weights = K * C_in * F^2 + K for a conv with bias).
"""

from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.cli import main
from cnncalc.formats.expressions import ExpressionError, evaluate, parse_expression

ENV = {"COLUMNS": "200", "NO_COLOR": None, "FORCE_COLOR": None, "TERM": "xterm"}
HEAD = re.compile(r"^(?P<source>.+?):(?P<line>\d+):(?P<column>\d+): error: (?P<message>.*)$")


def run(*args: str) -> Result:
    start = time.process_time()
    result = CliRunner(env=ENV).invoke(main, list(args))
    assert time.process_time() - start < 1, f"{args[:2]} took over a second"
    return result


def errors(result: Result, status: int = 1) -> list[tuple[int, int, str]]:
    """(line, column, message) of each error a command reports, after checking that it ended
    by design: the status, no traceback."""
    assert result.exit_code == status, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stdout + result.stderr
    heads = [m for m in map(HEAD.match, (result.stdout + result.stderr).splitlines()) if m]
    return [(int(m["line"]), int(m["column"]), m["message"]) for m in heads]


def error(result: Result, status: int = 1) -> tuple[int, int, str]:
    """The one error a command reports."""
    found = errors(result, status)
    assert len(found) == 1, result.stdout + result.stderr
    return found[0]


def inline_error(layer: str) -> tuple[int, str]:
    """(column, message) of ``8x8x3 | LAYER``; the column counts from the input."""
    line, column, message = error(run("trace", f"8x8x3 | {layer}"))
    assert line == 1
    return column, message


def where(text: str, part: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and column of the ``occurrence``-th ``part`` in ``text``."""
    at = -1
    for _ in range(occurrence):
        at = text.index(part, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def params(*args: str) -> int:
    result = run("trace", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["totals"]["params"]


def rows(*args: str) -> list[str]:
    result = run("trace", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return [layer["name"] for layer in json.loads(result.stdout)["layers"]]


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Writes a spec as ``spec.yaml`` under tmp_path (messages read ``spec.yaml:L:C``)."""
    monkeypatch.chdir(tmp_path)

    def write(text: str) -> str:
        (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
        return "spec.yaml"

    return write


# --- names not in scope -------------------------------------------------------------------------


def test_an_unknown_name_inline_is_an_error_at_the_name():
    column, message = inline_error("conv (c * 2)")
    assert column == len("8x8x3 | conv (") + 1
    assert message == "in '(c * 2)': unknown name 'c'"


def test_an_unknown_name_in_the_branch_not_taken_is_an_error_too():
    column, message = inline_error("conv (4 if 1 else cx)")
    assert column == len("8x8x3 | conv (4 if 1 else ") + 1
    assert "unknown name 'cx'" in message


MISSPELT_IF = """\
input: 8x8x16
blocks:
  unit:
    args: {c: null, project: false}
    layers:
      - conv c f3 p1
      - if: projcet
        conv: {filters: c, f: 1}
layers:
  - unit c=16 project=true
"""


@pytest.mark.parametrize("command", ["trace", "check"])
def test_a_misspelt_name_in_if_is_an_error_with_did_you_mean(spec, command):
    line, column, message = error(run(command, spec(MISSPELT_IF)))
    assert (line, column) == where(MISSPELT_IF, "projcet")
    assert message == "unit1: unknown name 'projcet' (did you mean 'project'?)"


def test_an_unknown_name_in_a_quoted_value_is_located_inside_the_quotes(spec):
    text = 'input: 8x8x3\nblocks:\n  u: {args: {c: 4}, layers: [{conv: {filters: "2 * cc"}}]}\n'
    text += "layers: [u]\n"
    line, column, message = error(run("trace", spec(text)))
    assert (line, column) == where(text, "cc")
    assert "unknown name 'cc' (did you mean 'c'?)" in message


def test_an_unknown_name_in_a_block_argument_is_located_in_the_call(spec):
    text = "input: 8x8x3\nblocks:\n  u: {args: {c: 4}, layers: [conv c]}\nlayers:\n"
    text += "  - repeat: 2\n    as: index\n    layers: [u c=(2 * indx)]\n"
    line, column, message = error(run("trace", spec(text)))
    assert (line, column) == where(text, "indx")
    assert "unknown name 'indx' (did you mean 'index'?)" in message


# --- booleans -----------------------------------------------------------------------------------

# A MobileNet-like block: a squeeze-excitation pair only where se is true.
MOBILE = """\
input: 8x8x16
blocks:
  blk:
    args: {{c: null, se: true}}
    layers:
      - conv c f3 p1
      - if: se
        conv: {{filters: 4, f: 1}}
      - {{if: se, name: excite, conv: {{filters: c, f: 1}}}}
layers:
  - {call}
"""
PLAIN = 16 * 16 * 9 + 16  # the 3x3 conv alone: 2,320
SE = 16 * 4 + 4 + 4 * 16 + 16  # the two 1x1 convs: 148
FALSE_WORDS = ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "fAlSe"]
TRUE_WORDS = ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "yEs"]


@pytest.mark.parametrize("word", FALSE_WORDS)
def test_a_false_word_drops_the_if_layers_inline_and_in_a_mapping(spec, word):
    inline = params(spec(MOBILE.format(call=f"blk c=16 se={word}")))
    mapping = params(spec(MOBILE.format(call=f"blk: {{c: 16, se: {word}}}")))
    quoted = params(spec(MOBILE.format(call=f"blk: {{c: 16, se: '{word}'}}")))
    assert inline == mapping == quoted == PLAIN


@pytest.mark.parametrize("word", TRUE_WORDS)
def test_a_true_word_keeps_the_if_layers_inline_and_in_a_mapping(spec, word):
    inline = params(spec(MOBILE.format(call=f"blk c=16 se={word}")))
    mapping = params(spec(MOBILE.format(call=f"blk: {{c: 16, se: {word}}}")))
    assert inline == mapping == PLAIN + SE


def test_the_mobilenet_block_without_se_has_no_se_rows(spec):
    assert rows(spec(MOBILE.format(call="blk c=16 se=false"))) == ["blk1.conv1"]
    assert rows(spec(MOBILE.format(call="blk c=16"))) == ["blk1.conv1", "blk1.conv2", "blk1.excite"]


@pytest.mark.parametrize("given", ["se=flase", "se=maybe", "se=(0.5)"])
def test_an_if_on_a_word_is_an_error_at_the_if_value(spec, given):
    text = MOBILE.format(call=f"blk c=16 {given}")
    value = given.split("=")[1].strip("()")
    shown = value if value[0].isdigit() else f"'{value}'"
    message = f"blk1: if: se is {shown}, but a condition is true or false"
    assert errors(run("check", spec(text))) == [
        (*where(text, "se\n"), message),
        (*where(text, "se,"), message),
    ]


@pytest.mark.parametrize(
    "condition, value", [("", "is empty"), ("~", "is empty"), ("0.5", "0.5 is not a condition")]
)
def test_an_if_that_is_not_a_condition_is_an_error(spec, condition, value):
    text = "input: 8x8x3\nlayers:\n  - {if: " + (condition or "''") + ", relu: }\n"
    line, column, message = error(run("trace", spec(text)))
    assert line == 3
    assert message.startswith(f"if: {value}") and "a condition is true or false" in message


def test_whole_numbers_in_if_keep_their_truth(spec):
    text = "input: 8x8x3\nlayers:\n  - {if: 0, conv: 4}\n  - {if: 2, conv: 5}\n"
    text += "  - {if: 1 - 1, relu: }\n"
    assert rows(spec(text)) == ["conv1"]  # the one kept, numbered among those kept


def test_a_boolean_parameter_takes_the_same_words():
    bias_free = 8 * 3 * 9  # conv 8 f3 on 3 channels, no bias: 216
    for word in ["off", "No", "FALSE", "false"]:
        assert params(f"8x8x3 | conv 8 f3 bias={word}") == bias_free
    assert params("8x8x3 | conv 8 f3 bias=on") == bias_free + 8
    _, message = inline_error("conv 8 f3 bias=flase")
    assert message == "conv1: conv: bias must be true or false, not 'flase'"


def test_a_word_given_for_a_number_is_refused(spec):
    text = "input: 8x8x3\nblocks:\n  u: {args: {c: 4}, layers: [conv c]}\nlayers: [u c=eight]\n"
    line, column, message = error(run("trace", spec(text)))
    assert (line, column) == where(text, "c]")  # where the block passes it on
    assert message == "u1.conv1: conv: filters must be a whole number, not 'eight'"


# --- defaults -----------------------------------------------------------------------------------

DEFAULTS = """\
input: 8x8x64
blocks:
  squeeze:
    args: {c: null, sq: "c // 4", ex: sq * 2}
    layers: [conv sq f1, conv ex f1]
layers:
  - CALL
"""


@pytest.mark.parametrize("call", ["squeeze c=64", "squeeze: {c: 64}"])
def test_a_default_is_an_expression_over_the_arguments_before_it(spec, call):
    # sq = 16: 64 * 16 + 16 = 1,040; ex = 32: 16 * 32 + 32 = 544
    assert params(spec(DEFAULTS.replace("CALL", call))) == 1040 + 544


def test_a_given_argument_overrides_a_default_expression(spec):
    # sq = 8: 64 * 8 + 8 = 520; ex = 16: 8 * 16 + 16 = 144
    assert params(spec(DEFAULTS.replace("CALL", "squeeze c=64 sq=8"))) == 520 + 144


def test_an_error_in_a_default_is_located_at_the_default(spec):
    text = DEFAULTS.replace('"c // 4"', '"cc // 4"').replace("CALL", "squeeze c=64")
    line, column, message = error(run("trace", spec(text)))
    assert (line, column) == where(text, "cc //")
    assert "unknown name 'cc' (did you mean 'c'?)" in message


# --- bounded work -------------------------------------------------------------------------------

PREFIX = len("8x8x3 | conv ") + 1  # the column of the value


@pytest.mark.parametrize(
    "value, at, words",
    [
        ('(1 / "a")', 5, "arithmetic is on numbers, not 'a'"),
        ('(-"a")', 2, "arithmetic is on numbers, not 'a'"),
        ('("a" < 1)', 7, "cannot compare 'a' < 1"),
        ("(2 < true)", 5, "cannot compare 2 < true"),
        ("(min())", 1, "min() takes 2 to 20 numbers"),
        ("(max(c=1))", 1, "max() takes 2 to 20 numbers"),
        ("(round(1, 2))", 1, "round() takes one number"),
        ("(1e308 ** 2)", 1, "1e308 is too large (at most 10**18)"),
        ("(10.0 ** 30)", 1, "10.0 ** 30 is too large (at most 10**18)"),
        ('("x" * 10**9)', 1, "arithmetic is on numbers, not 'x'"),
        ("((-8) ** 0.5)", 1, "(-8) ** 0.5 is not a real number"),
        ("(log(0))", 1, "log(0) is not defined (log of a positive number)"),
        ("(log(8, 1))", 1, "log(8, 1) is not defined"),
        ("((((10**64)**64)**64)**64)", 4, "10 ** 64 is too large (at most 10**18)"),
        ("(2 ** 60)", 1, "2 ** 60 is too large"),
        ("(0 ** -1)", 6, "0 ** (-1) divides by zero"),
        ("(10**18 * 10)", 1, "1000000000000000000 * 10: a number of 20 digits is too large"),
        ("(7 / 0)", 5, "7 / 0 divides by zero"),
        ("(7 % 0)", 5, "7 % 0 divides by zero"),
        ("(abs(-3))", 1, "abs() is not a function here"),
        ("(c.d)", 1, "unknown name 'c'"),
        ("(~3)", 1, "'~3' is not allowed in an expression"),
        ("(3 in (3, 4))", 1, "only == != < <= > >= compare"),
        ("(" + "-" * 1000 + "1)", 0, "an expression has at most 1,000 characters"),
        ("(" + "-" * 30 + "1)", 1, "at most 20 signs in a row"),
        ("(" * 500 + "1" + ")" * 500, 0, "an expression has at most 1,000 characters"),
        ("(" * 30 + "1" + ")" * 30, 20, "brackets nest at most 20 deep"),
        ("(" + "+".join(["1"] * 985) + ")", 0, "an expression has at most 1,000 characters"),
        ("(" + "+".join(["1"] * 60) + ")", None, "an expression nests at most 50 operations"),
        ("(" + "1+" * 50_000 + "1)", 0, "at most 1,000 characters (this one 100,003)"),
        ("1" * 5000, 0, "a number of 5,000 digits is too large (at most 10**18)"),
        ("(1 + " + "1" * 500 + ")", 5, "a number of 500 digits is too large"),
        ("99999999999999999999", 0, "a number of 20 digits is too large"),
        ("a-" * 600 + "a", 0, "an expression has at most 1,000 characters"),
    ],
)
def test_the_evaluator_refuses_with_one_located_error(value, at, words):
    column, message = inline_error(f"conv {value}")
    assert words in message
    if at is not None:
        assert column == PREFIX + at
    assert len(message) < 200  # a long expression is elided, never echoed whole


@pytest.mark.parametrize(
    "value, shown, python",
    [("(2 > 1)", "true", "True"), ("(not 1)", "false", "False"), ("(1, 2)", "1x2", "(1, 2)")],
)
def test_messages_show_values_as_written_not_as_python_reprs(value, shown, python):
    _, message = inline_error(f"conv {value}")
    assert message.endswith(f"filters must be a whole number, not {shown}")
    assert python not in message


@pytest.mark.parametrize(
    "layer, expected",
    [
        ("conv (2 ** 3) f3", 8 * 3 * 9 + 8),
        ("conv (max(2, 3) * 4 - 10 // 3 % 2) f1", 11 * 3 + 11),  # 12 - (3 % 2) = 11
        ("conv (2 if 3 >= 3 and not 0 else 5) f1", 2 * 3 + 2),
        ("conv 8 f1 | dropout 0.5 | leakyrelu slope=0.25", 8 * 3 + 8),
    ],
)
def test_arithmetic_that_fits_is_computed(layer, expected):
    assert params(f"8x8x3 | {layer}") == expected


EXPRESSIONS_IN_A_FILE = """\
input: 8x8x3
layers:
  - conv: {filters: "((((10**64)**64)**64)**64)", f: 1}
  - repeat: 2 ** 70
    layers: [relu]
  - conv: {filters: 4, stride: '"a" < 1'}
"""


def test_the_same_limits_in_a_file_each_at_its_place(spec):
    found = errors(run("check", spec(EXPRESSIONS_IN_A_FILE)))
    assert [(line, column) for line, column, _ in found] == [
        where(EXPRESSIONS_IN_A_FILE, "10**64)"),
        where(EXPRESSIONS_IN_A_FILE, "2 ** 70"),
        where(EXPRESSIONS_IN_A_FILE, "1'"),
    ]
    assert [message.split(": ")[-1] for _, _, message in found] == [
        "10 ** 64 is too large (at most 10**18)",
        "2 ** 70 is too large (at most 10**18)",
        "cannot compare 'a' < 1",
    ]


def test_a_large_number_from_yaml_is_bounded_where_an_expression_uses_it(spec):
    text = 'input: 8x8x3\nblocks:\n  u: {args: {c: 4}, layers: ["conv (2 * c)"]}\nlayers:\n'
    text += "  - u: {c: 1111111111111111111111111111111111111}\n"
    line, column, message = error(run("trace", spec(text)))
    assert (line, column) == where(text, "1111")  # refused where it is written
    assert message == "a number of 37 digits is too large (at most 10**18)"


# --- the evaluator on its own -------------------------------------------------------------------

LEAVES = st.integers(0, 10**6).map(str)
OPERATORS = st.sampled_from(["+", "-", "*", "//", "%"])


@st.composite
def arithmetic(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 6 or draw(st.booleans()):
        return draw(LEAVES)
    a, b = draw(arithmetic(depth + 1)), draw(arithmetic(depth + 1))
    return f"({a} {draw(OPERATORS)} {b})"


@given(arithmetic())
def test_arithmetic_agrees_with_python_or_is_refused(text):
    """Both agree within 10**18; beyond it, or on a division by zero, a located refusal."""
    try:
        expected = eval(text)  # trusted: built from digits and operators above
    except ZeroDivisionError:
        expected = None
    if expected is not None and abs(expected) <= 10**18:
        assert evaluate(text, {}) == expected
    else:
        with pytest.raises(ExpressionError) as refused:
            evaluate(text, {})
        assert 0 <= refused.value.offset < len(text)


SCOPE = {"c": 3, "flag": True, "w": "same", "t": (1, 2), "p": 0.5}


@given(st.text(alphabet="0123456789+-*/%()<>=! cflagwtpnoriesmx,.\"'~[]e", max_size=60))
def test_any_text_is_a_value_or_an_expression_error(text):
    """Nothing but the project's own error escapes the evaluator, whatever it is given."""
    try:
        evaluate(text, SCOPE)
    except ExpressionError as e:
        assert 0 <= e.offset <= len(text)


def test_python_syntax_warnings_do_not_reach_the_user():
    parse_expression.cache_clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert params("8x8x3 | conv (4if 1 else 2) f1") == 4 * 3 + 4  # Python warns of "4if"
    assert [str(w.message) for w in caught] == []


# --- real numbers -------------------------------------------------------------------------------

REGNET = """\
input: 8x8x3
blocks:
  stage:
    # RegNetX-400MF: w0 = 24, wa = 24.48, wm = 2.54; block j's width w0 * wm**round(log(u/w0)
    # / log(wm)) for u = w0 + wa*j, rounded to a multiple of 8 (Radosavovic et al. 2020, eq. 2-3)
    args: {j: null, u: "24 + 24.48 * j", s: "round(log(u / 24) / log(2.54))"}
    layers: ["conv (int(round(24 * 2.54 ** s / 8) * 8)) f1"]
layers:
  - stage j=0
  - stage j=1
  - stage j=6
"""


def test_real_numbers_and_functions_compute_whole_widths(spec):
    result = run("trace", spec(REGNET), "--format", "csv")
    assert result.exit_code == 0, result.output
    widths = [row.split(",")[2].split("x")[-1] for row in result.stdout.splitlines()[1:]]
    # j=0: u = 24, s = 0, w = 24; j=1: u = 48.48, s = round(0.7542) = 1, 24*2.54 = 60.96 -> 64;
    # j=6: u = 170.88, s = round(2.1056) = 2, 24*2.54**2 = 154.84 -> 152
    assert widths == ["24", "64", "152"]


@pytest.mark.parametrize(
    ("layer", "value", "words"),
    [
        ("conv (7 / 2) f1", "(7", "conv1: conv: filters must be a whole number, not 3.5"),
        ("conv (2 ** -1) f1", "(2", "conv1: conv: filters must be a whole number, not 0.5"),
        ("conv 8 f(1.5)", "f(", "conv1: conv: f must be a whole number, not 1.5"),
    ],
)
def test_a_fraction_where_a_count_is_needed_is_refused_where_written(layer, value, words):
    line, column, message = error(run("trace", f"8x8x3 | {layer}"))
    assert (line, column) == (1, len("8x8x3 | ") + 1 + layer.index(value))
    assert message == words


def test_a_division_that_comes_out_whole_is_a_whole_number():
    result = run("trace", "8x8x3 | conv (64 / 2) f1 | conv (floor(2.7) * ceil(1.2)) f1")
    assert result.exit_code == 0, result.output
    assert "8x8x4" in result.stdout  # floor(2.7) * ceil(1.2) = 2 * 2
