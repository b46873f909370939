"""The Python API: the obvious Python types in, only cnncalc's own errors out; and the answers
that used to loop over a user's number (adaptive pooling, solve) computed, not searched.

Expected numbers are worked by hand in the comments, or checked against the plain loop the
arithmetic replaced.
"""

from __future__ import annotations

import re
import time
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

import cnncalc
from cnncalc import api
from cnncalc.analysis import solve
from cnncalc.analysis.tracer import DTYPE_BYTES
from cnncalc.analysis.tracer import trace as run_trace
from cnncalc.cli import main
from cnncalc.core import formulas
from cnncalc.core.errors import CnnCalcError, GeometryError, UsageError
from cnncalc.core.numbers import MAX_NUMBER
from cnncalc.core.shapes import Shape
from cnncalc.kinds import AdaptiveAvgPool, Conv, ReLU
from cnncalc.kinds.windows import _leftover_warnings
from cnncalc.render.layer import layer_report, solutions_report
from cnncalc.render.network import human, trace_report, zoo_report
from cnncalc.report import trace_data

RESNET18_PARAMS = 11_689_512  # torchvision's table


def run(*args: str, **env: str) -> object:
    return CliRunner().invoke(main, list(args), env=env or None)


# --- input, dtype and a loaded network ----------------------------------------------------------


@pytest.mark.parametrize(
    "shape", ["160x160x3", (160, 160, 3), [160, 160, 3], Shape((160, 160), 3)], ids=repr
)
def test_trace_takes_an_input_in_every_obvious_form(shape):
    data = cnncalc.trace("resnet18", input=shape)
    assert data["layers"][0]["output"] == [80, 80, 64]  # (160 + 6 - 7)//2 + 1
    assert data["totals"]["params"] == RESNET18_PARAMS  # the input size changes no weight


def test_a_tuple_input_is_read_in_the_networks_layout():
    net = cnncalc.load("input: 3x32x32\nlayout: chw\nlayers: [conv 8 f3]")
    assert cnncalc.trace(net, input=(3, 16, 16))["output"] == [8, 14, 14]


def test_a_wrong_rank_gives_the_command_lines_message():
    with pytest.raises(UsageError) as raised:
        cnncalc.trace("resnet18", input=(160, 160))
    result = run("trace", "resnet18", "--input", "160x160")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: --input: {raised.value}"
    assert str(raised.value) == "'160x160' has 2 sizes; this network takes 3, like 224x224x3"


@pytest.mark.parametrize(
    "shape, message",
    [
        ((160, 160.5, 3), "whole numbers, not 160.5"),
        ((160, True, 3), "whole numbers, not True"),
        ((0, 160, 3), "sizes must be positive, not 0"),
        ((10**19, 160, 3), "too large"),
        (160, "a shape is written '160x160x3', (160, 160, 3) or a Shape, not int"),
        (Shape((160, 160, 160), None), "give as many spatial sizes, and the depth"),
        ("", "is not a number or sizes like 3x5"),
    ],
)
def test_a_bad_input_is_a_usage_error(shape, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        cnncalc.trace("resnet18", input=shape)


def test_an_unknown_dtype_lists_the_valid_ones_from_the_command_lines_list():
    with pytest.raises(UsageError) as raised:
        cnncalc.trace("resnet18", dtype="fp16")
    assert str(raised.value) == "dtype: 'fp16' is not one of " + ", ".join(DTYPE_BYTES)
    assert "float16" in str(raised.value)
    half = cnncalc.trace("32x32x3 | conv 8 f3", dtype="float16")
    assert half["layers"][0]["activation_bytes"] == 30 * 30 * 8 * 2


def test_a_loaded_network_is_accepted_wherever_a_spec_is():
    net = cnncalc.load("resnet18")
    assert cnncalc.load(net) is net
    assert cnncalc.trace(net)["totals"]["params"] == RESNET18_PARAMS
    assert api.check(net).problems == []


@pytest.mark.parametrize("spec", [None, 3, b"resnet18", ["resnet18"]], ids=repr)
def test_a_spec_of_another_type_is_a_usage_error(spec):
    with pytest.raises(UsageError, match="a spec is a file path, a zoo name"):
        cnncalc.trace(spec)
    with pytest.raises(UsageError):
        api.check(spec)


@pytest.mark.parametrize("report", ["trace", "layer", "solutions", "zoo"])
def test_an_unknown_format_is_an_error_never_a_table(report):
    t = run_trace(cnncalc.load("32x32x3 | conv 8 f3"))
    layer = Conv(8)
    x = Shape((32, 32), 3)
    call = {
        "trace": lambda: trace_report(trace_data(t), "yaml"),
        "layer": lambda: layer_report(layer, x, layer.apply(x), "yaml"),
        "solutions": lambda: solutions_report(32, 32, solve.solve(32, 32, f=3), "yaml"),
        "zoo": lambda: zoo_report([("net", t)], "yaml"),
    }[report]
    with pytest.raises(UsageError, match="unknown format 'yaml'"):
        call()


# --- layers written in Python -------------------------------------------------------------------


def test_lists_are_taken_as_tuples_per_dimension():
    assert Conv(8, f=[3, 5]) == Conv(8, f=(3, 5))
    out = Conv(8, f=[3, 5]).apply(Shape((32, 32), 3))
    assert out.shape == Shape((30, 28), 8)
    assert out.params == 8 * 3 * 3 * 5 + 8
    padded = Conv(8, f=2, pad=[[0, 1], [1, 0]])
    assert padded.pad == ((0, 1), (1, 0))
    assert padded.apply(Shape((4, 4), 1)).shape == Shape((4, 4), 8)  # 4 + 1 - 2 + 1
    assert hash(padded) == hash(Conv(8, f=2, pad=((0, 1), (1, 0))))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Conv(8, fliters=3), "conv has no parameter 'fliters' (it takes filters, f,"),
        (lambda: Conv(*range(8)), "conv takes at most 7 values (filters, f,"),
        (lambda: ReLU(1), "relu takes no values"),
        (lambda: Conv(8, f={3: 3}), "conv: f must be a whole number, or one per dimension"),
        (lambda: Conv(8, pad=[[[0, 1]]]), "per dimension a number or (before, after), not (([0"),
    ],
)
def test_a_wrong_layer_construction_is_a_usage_error(make, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        make()


def test_more_than_three_spatial_dimensions_are_refused_at_the_input():
    result = run("trace", "2x2x2x2x2x2x2x2x3 | relu")
    assert result.exit_code == 1
    assert "<inline>:1:1: error: 9 sizes: a shape has at most 3 spatial sizes" in result.stderr
    assert "Traceback" not in result.output
    result = run("conv", "--n", "5x5x5x5x3", "--f", "3x3x3x3")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: --f has 4 values; an input has at most 3 dimensions"
    assert run("trace", "8x8x8x2 | conv 4 f3").exit_code == 0  # 3D stays


# --- every public function, bad arguments -------------------------------------------------------

BAD = [None, "x", "3", -1, 0, 1.5, True, 10**400, [], (1,), (1, 2, 3), {"a": 1}, object()]
GOOD = {  # arguments that work, one of them replaced at a time by each bad one
    "load": ("resnet18", "yaml"),
    "trace": ("lenet5", "32x32x1", "float32", "yaml"),
    "to_spec": ("lenet5", "yaml"),
    "conv_output": (7, 3, 1, (1, 1), 1),
    "effective_kernel": (3, 2),
    "full_padding": (3, 1),
    "max_unpool_output": (4, 2, 2, 0),
    "pool_output": (7, 2, 2, (0, 0), 1, False),
    "receptive_field": (1, 1, 3, 1, 1),
    "same_padding": (224, 3, 2, 1, False),
    "tconv_output": (3, 3, 2, (1, 1), 1, 1),
    "tconv_output_padding": (6, 3, 3, 2, (1, 1), 1),
    "uncovered": (7, 3, 2, (0, 0), 1),
    "unreached": (7, 3, 3, (0, 0), 1),
    "upsample_output": (4, 2),
}


def test_every_public_function_has_good_arguments_here():
    assert sorted(GOOD) == sorted(cnncalc.__all__)


@pytest.mark.parametrize("name", cnncalc.__all__)
def test_every_public_function_raises_only_cnncalc_errors(name):
    function, good = getattr(cnncalc, name), GOOD[name]
    function(*good)
    for i in range(len(good)):
        for bad in BAD:
            args = good[:i] + (bad,) + good[i + 1 :]
            try:
                function(*args)
            except CnnCalcError:
                pass
            except Exception as error:  # the test's failure, with what was called
                pytest.fail(f"cnncalc.{name}{args!r:.80} raised {type(error).__name__}: {error}")


def test_the_checked_formulas_answer_as_the_plain_ones():
    assert cnncalc.conv_output(32, 5, 1, [2, 2]) == formulas.conv_output(32, 5, 1, (2, 2)) == 32
    assert cnncalc.same_padding(224, 3, 2, lower=True) == (1, 0)
    assert cnncalc.max_unpool_output(4, 2) == 8  # the stride defaults to F
    assert cnncalc.tconv_output(3, 3, 2, (1, 1), output_padding=1) == 6
    with pytest.raises(UsageError, match=r"conv_output takes at most 5 values \(n, f, s, pad, d\)"):
        cnncalc.conv_output(1, 2, 3, 4, 5, 6)
    with pytest.raises(UsageError, match="conv_output: f is missing"):
        cnncalc.conv_output(32)
    with pytest.raises(UsageError, match="conv_output: unexpected or repeated argument 'x'"):
        cnncalc.conv_output(32, 3, x=1)
    with pytest.raises(UsageError, match="conv_output: s must be a whole number of at least 1"):
        cnncalc.conv_output(32, 5, 0)  # a ZeroDivisionError before
    with pytest.raises(UsageError, match="conv_output: f must be a whole number"):
        cnncalc.conv_output(32, -3)  # a negative size before
    with pytest.raises(GeometryError):
        cnncalc.conv_output(3, 5)
    assert issubclass(UsageError, ValueError) and issubclass(GeometryError, ValueError)


# --- adaptive pooling: the widest window, over one period of its windows ------------------------


def widest_window_by_loop(n: int, m: int) -> int:
    """Every window: window i spans floor(i*n/m) .. ceil((i+1)*n/m)."""
    return max(-(-(i + 1) * n // m) - i * n // m for i in range(m))


@given(n=st.integers(1, 300), m=st.integers(1, 300))
@example(n=7, m=3)  # r = 1 divides 3: q + 1
@example(n=5, m=3)  # r = 2 does not divide 3: q + 2
@example(n=3, m=4)  # a larger output than input
def test_the_widest_adaptive_window_is_the_loops(n, m):
    (step,) = AdaptiveAvgPool(m).apply(Shape((n,), 1)).rf  # its windows, one period of them
    assert max(b - a + 1 for a, b, _ in map(step.span, range(step.up))) == widest_window_by_loop(
        n, m
    )


def test_a_huge_adaptive_pool_answers_at_once():
    start = time.process_time()
    result = run("trace", "32x32x3 | adaptivepool 100000000", "--format", "json")
    assert result.exit_code == 0, result.output
    assert time.process_time() - start < 1
    assert '"output": [100000000, 100000000, 3]' in result.stdout


def test_an_adaptive_pool_larger_than_its_input_overlaps_windows_as_pytorch_does():
    # PyTorch's AdaptiveAvgPool1d(4) on 3 positions: windows 0-1, 0-2, 1-3, 2-3 (ends exclusive)
    out = AdaptiveAvgPool(4).apply(Shape((3,), 1))
    assert out.shape == Shape((4,), 1)
    # the widest window covers 2 positions
    assert max(b - a + 1 for a, b, _ in map(out.rf[0].span, range(4))) == 2


# --- solve: paddings solved, not searched -------------------------------------------------------


def solve_by_search(n, out, f=None, s=None, p=None, d=None):
    """The search solve() used to run: every P up to D*(F-1) tried with conv_output (no
    window wholly in the padding)."""
    found = []
    for fk in range(f, f + 1) if f else range(1, solve.MAX_F + 1):
        for dk in range(d, d + 1) if d else range(1, solve.MAX_D + 1):
            for sk in range(s, s + 1) if s else range(1, solve.MAX_S + 1):
                for pk in range(p, p + 1) if p is not None else range(0, dk * (fk - 1) + 1):
                    if pk > dk * (fk - 1):
                        continue
                    try:
                        reached = formulas.conv_output(n, fk, sk, (pk, pk), dk)
                    except GeometryError:
                        continue
                    if reached == out:
                        left = formulas.uncovered(n, fk, sk, (pk, pk), dk)
                        found.append(solve.Solution(fk, sk, pk, dk, left))
    return sorted(found, key=lambda q: (q.remainder > 0, q.d, q.f, q.s, q.p))


fixed = st.none() | st.integers(1, 12)


@given(
    n=st.integers(1, 60),
    out=st.integers(1, 60),
    f=fixed,
    s=fixed,
    p=st.none() | st.integers(0, 12),
    d=st.none() | st.integers(1, 4),
)
@example(n=224, out=112, f=3, s=None, p=None, d=1)
@example(n=7, out=4, f=7, s=1, p=3, d=1)
def test_solve_finds_what_the_search_found(n, out, f, s, p, d):
    assert solve.solve(n, out, f, s, p, d) == solve_by_search(n, out, f, s, p, d)


@pytest.mark.parametrize(
    "args",
    [
        ["--n", "224", "--out", "112", "--f", "1000000"],
        ["--n", "224", "--out", "112", "--stride", "1000000"],
        ["--n", str(MAX_NUMBER), "--out", "112", "--f", str(MAX_NUMBER)],
        ["--n", "224", "--out", str(MAX_NUMBER), "--dilation", str(MAX_NUMBER)],
        ["--n", "10", "--out", "1", "--f", str(MAX_NUMBER), "--stride", str(MAX_NUMBER)],
    ],
)
def test_solve_answers_huge_values_within_a_second(args):
    start = time.process_time()
    result = run("solve", *args)
    assert time.process_time() - start < 1
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output


def test_solve_answers_a_huge_kernel_exactly():
    # F = 10**6, S = 2: (224 - 10**6 + 2P)/2 + 1 = 112 exactly when P = 499999
    assert solve.Solution(1000000, 2, 499999, 1, 0) in solve.solve(224, 112, f=1000000)


def test_solve_refuses_too_many_answers_with_a_clear_error():
    result = run("solve", "--n", "10", "--out", "1", "--f", "1000000", "--stride", "1000000")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: more than 1,000 settings take 10 to 1; fix more of them "
        "(--f, --stride, --pad, --dilation)"
    )


# --- numbers as big as a user may write ---------------------------------------------------------


def test_a_huge_conv_renders_its_warning_exactly():
    result = run("conv", "--n", str(MAX_NUMBER), "--f", "3", "--stride", "2")
    assert result.exit_code == 0, result.output
    # (10**18 - 3)/2 + 1 = (10**18 - 1)/2 = 499999999999999999.5, not %g's 5e+17
    assert "= 499999999999999999.5 is not an integer; floored to 499999999999999999" in (
        result.stderr
    )


@pytest.mark.parametrize(
    "n, f, s, shown",
    [
        (1000000, 3, 2, "= 499999.5 is not"),  # (1000000 - 3)/2 + 1: %g said 500000
        (8, 3, 3, "= 8/3 is not"),  # (8 - 3)/3 + 1 = 8/3 has no end as a decimal
        (7, 2, 2, "= 3.5 is not"),
        (10, 3, 4, "= 2.75 is not"),  # 7/4 + 1 = 11/4 ends as a decimal
    ],
)
def test_the_remainder_warning_shows_the_exact_quotient(n, f, s, shown):
    (warning,) = _leftover_warnings("conv", (n,), (f,), (s,), ((0, 0),), (1,))
    assert shown in warning
    left, right = warning.split(" = ")[1].split(" is not")[0], Fraction(n - f + s, s)
    assert Fraction(left) == right


def test_a_trace_with_huge_numbers_renders_its_totals():
    result = run("trace", f"{MAX_NUMBER} | fc {MAX_NUMBER}")
    assert result.exit_code == 0, result.output
    # 10**36 MACs: past the E prefix, written in exponent notation
    assert "MACs: 1,000,000,000,000,000,000,000,000,000,000,000,000 (1e+36)" in result.stdout
    assert "memory (float32, 4 bytes per element): activations 4EB" in result.stdout


def test_check_reports_macs_past_a_floats_range():
    # nine transposed convs of stride 10**18 make 8 * 10**162 a side; then a 1x1 conv
    spec = "8x8x1" + " | tconv 1 f1 s1000000000000000000" * 9 + " | conv 1 f1"
    result = run("check", spec)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<inline>: ok — 20 params, 4.9e+316 GMACs")


@pytest.mark.parametrize(
    "value, text",
    [
        (760, "760"),
        (999_499, "999K"),
        (999_500, "1M"),  # rounded up to the next prefix, not 1e+03K
        (1_500 * 10**12, "1.5P"),
        (MAX_NUMBER, "1E"),
        (999_999 * 10**12, "1E"),
        (999_999 * 10**15, "1e+21"),
        (123_456 * 10**20, "1.23e+25"),
        (10**400, "1e+400"),  # too large for a float
        (-(10**400), "-1e+400"),
    ],
)
def test_human_writes_any_number(value, text):
    assert human(value) == text


def test_a_receptive_field_keeps_every_digit():
    result = run("trace", "1000000x3 | conv 8 f999999")
    assert result.exit_code == 0, result.output
    assert "receptive field: 999999 px, stride 1" in result.stdout


# --- shell completion -----------------------------------------------------------------------------


def complete(words: str, cwd: Path | None = None, monkeypatch=None) -> list[str]:
    """What bash is offered for ``words`` (the last one being completed, "" after a space)."""
    if cwd is not None and monkeypatch is not None:
        monkeypatch.chdir(cwd)
    env = {
        "_CNNCALC_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (not words.endswith(" "))),
    }
    result = CliRunner().invoke(main, [], prog_name="cnncalc", env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_a_spec_completes_to_zoo_networks_and_files(tmp_path, monkeypatch):
    (tmp_path / "resnet-mine.yaml").write_text("input: 8\nlayers: [fc 2]\n")
    (tmp_path / "other.yaml").write_text("")
    offered = complete("cnncalc trace resnet", tmp_path, monkeypatch)
    assert offered == [
        *(f"plain,{n}" for n in ["resnet101", "resnet152", "resnet18", "resnet34", "resnet50"]),
        "plain,resnet-mine.yaml",
    ]


def test_a_spec_that_names_no_zoo_network_is_left_to_the_shells_file_completion(
    tmp_path, monkeypatch
):
    assert complete("cnncalc check --strict mod", tmp_path, monkeypatch) == ["file,mod"]
    assert complete("cnncalc diagram models/", tmp_path, monkeypatch) == ["file,models/"]


def test_check_completes_files_for_every_spec(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    (tmp_path / ".hidden.yaml").write_text("")
    offered = complete("cnncalc check small.yaml ", tmp_path, monkeypatch)
    assert "plain,models/" in offered and "plain,resnet50" in offered
    assert "plain,.hidden.yaml" not in offered


def test_zoo_show_completes_zoo_names():
    assert complete("cnncalc zoo show vgg1") == [
        "plain,vgg11",
        "plain,vgg13_bn",
        "plain,vgg16",
        "plain,vgg16_bn",
        "plain,vgg19",
    ]


def test_darknet_and_caffe_files_work_through_the_api():
    data_dir = Path(__file__).parent / "data"
    darknet = cnncalc.trace(str(data_dir / "darknet" / "detector.cfg"))
    assert darknet["totals"]["params"] == 4062
    caffe = data_dir / "caffe" / "v1.prototxt"
    text = cnncalc.to_spec(caffe)
    assert cnncalc.trace(text)["totals"] == cnncalc.trace(caffe)["totals"]
    with pytest.raises(cnncalc.api.SpecError):
        cnncalc.load(caffe, format="darknet")  # a prototxt is no cfg
