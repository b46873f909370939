"""Mutated specs, inline specs and flag values: every one answered or refused, never a crash.

The mutations are those of a person editing a spec: lines deleted, duplicated or swapped,
numbers changed, indentation slipped, a stray character typed. Whatever comes out, cnncalc
must exit 0, 1 or 2 without a traceback, locate every spec error on a line and column that
exist, and answer quickly (a hang fails the test through an alarm, not a timer on speed).
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cnncalc.cli import main

ROOT = Path(__file__).parents[1]
SPECS = {
    path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
    for path in sorted(
        [
            *ROOT.glob("cnncalc/zoo/*.yaml"),
            *ROOT.glob("examples/*.yaml"),
            # shared (shares:) and frozen (frozen:) weights, on layers, block calls, repeats
            ROOT / "tests/data/siamese.yaml",
            ROOT / "tests/data/retinanet_resnet50_fpn.yaml",
        ]
    )
}
STRAY = list("{}[]:-|&*!%\"'#,?>=()\t ") + ["\x00", "\x07", "é", "\u2028", "\ufeff", "0x", "1e9"]
STRAY += ["!foo ", "!!int ", "!!bool ", "<<: ", "&a ", "*a", "2001-02-30", "~", "[1]: ", "- "]
STRAY += [" shares=a", " shares=conv1", " frozen=true", " frozen=maybe", "shares: ", "frozen: "]
NUMBERS = ["0", "-1", "1", "7", "65536", "10**100", "9" * 30, "1.5", "(2**64)", "1e999"]
LIMIT_SECONDS = 10
"""Far above the second every case takes, so only a hang (not a slow machine) trips it."""


@contextmanager
def hang_alarm(seconds: int = LIMIT_SECONDS) -> Iterator[None]:
    def interrupt(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def invoke(args: list[str]) -> Result:
    with hang_alarm():
        return CliRunner().invoke(main, args)


def assert_answered(result: Result) -> None:
    """Exit 0, 1 or 2 through click, no traceback, no Python exception escaping."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{type(result.exception).__name__}: {result.exception}")
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output


LOCATED = re.compile(r"^(?P<source>.+?):(?P<line>\d+):(?P<column>\d+): (?:error|warning): ", re.M)


def assert_located_in(result: Result, source: str, text: str) -> None:
    """Every ``source:line:column`` a message gives points into ``text``."""
    lines = text.splitlines() or [""]
    for match in LOCATED.finditer(result.stdout + result.stderr):
        if match["source"] != source:
            continue
        line, column = int(match["line"]), int(match["column"])
        assert 1 <= line <= len(lines), f"line {line} of {len(lines)}: {match.group()}"
        assert 1 <= column <= len(lines[line - 1]) + 1, f"column {column}: {match.group()}"


# --- mutated spec files -----------------------------------------------------------------------


@st.composite
def mutations(
    draw: st.DrawFn,
    sources: dict[str, str],
    stray: list[str],
    numbers: list[str],
    indent: bool = True,
) -> tuple[str, str]:
    """One of ``sources`` (name: text) with one to four lines deleted, duplicated, swapped,
    given another number, shifted (``indent``) or a stray character: what a slip does."""
    name = draw(st.sampled_from(sorted(sources)))
    lines = sources[name].split("\n")
    actions = ["delete", "duplicate", "swap", "number", "insert"] + ["indent"] * indent
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(actions))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "number":
            found = list(re.finditer(r"\d+", lines[i]))
            if found:
                m = draw(st.sampled_from(found))
                lines[i] = (
                    lines[i][: m.start()] + draw(st.sampled_from(numbers)) + lines[i][m.end() :]
                )
        elif action == "indent":
            shift = draw(st.integers(-3, 3))
            lines[i] = " " * max(shift, 0) + lines[i][max(-shift, 0) :]
        else:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(stray)) + lines[i][at:]
    return name, "\n".join(lines)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(SPECS, STRAY, NUMBERS))
def test_a_mutated_spec_is_answered_or_refused_where_it_is_wrong(case):
    name, text = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(name).name
        path.write_text(text, encoding="utf-8")
        for args in (["check", str(path)], ["trace", str(path), "--format", "json"]):
            result = invoke(args)
            assert_answered(result)
            assert_located_in(result, str(path), text)


# --- inline specs and flags -------------------------------------------------------------------

KINDS = ["conv", "dwconv", "tconv", "maxpool", "avgpool", "adaptivepool", "fc", "relu", "bn"]
KINDS += ["upsample", "unpool", "crop", "zeropad", "gap", "flatten", "dropout", "softmax", "x"]
KINDS += ["chunk", "groupnorm", "layernorm", "shuffle", "layerscale", "droppath", "mul", "gelu"]
KINDS += ["linear", "dense"]
TOKENS = ["64", "f3", "s2", "p1", "d2", "g4", "same", "ceil", "nobias", "pad=0:1", "f=3x5"]
TOKENS += ["filters=8", "multiplier=2", "to=conv1", "size=7", "mode=max", "=", "(", "(1+)"]
TOKENS += ["(10**64)", "(2**62)", "9" * 25, "p-1", "s0", "name=a", "name=1", "f3x3x3", "(c)"]
TOKENS += ["size=3x5", "index=1", "parts=3", "groups=5", "(7 / 2)", "(log(0))", "0.5", "to=a"]
TOKENS += ["shares=a", "shares=conv1", "shares=relu1", "shares=a.b", "shares=", "frozen=true"]
TOKENS += ["frozen=false", "frozen=1", "frozen=(1 + 1)", "frozen=no"]


@st.composite
def inline_specs(draw: st.DrawFn) -> str:
    sizes = draw(st.lists(st.sampled_from(["1", "3", "7", "32", "224", "0", "x", ""]), max_size=5))
    layers = [
        " ".join(
            [draw(st.sampled_from(KINDS)), *draw(st.lists(st.sampled_from(TOKENS), max_size=4))]
        )
        for _ in range(draw(st.integers(0, 6)))
    ]
    return " | ".join(["x".join(sizes), *layers])


@settings(max_examples=200)
@given(inline_specs())
@example("2x2x2x2x2x2x2x2x3 | relu")
@example("224x224x3 | adaptivepool 100000000")
@example("8x8x3 | conv 4 f1 name=a | conv 4 f1 shares=a")  # weights for 3 channels, given 4
@example("8x8x4 | conv 4 f1 name=a | bn shares=a | relu shares=nope | fc 2 frozen=maybe")
@example("8x8x4 | relu name=a | relu shares=a frozen=true | conv 4 shares=a.b")
def test_an_inline_spec_is_answered_or_refused(spec):
    result = invoke(["trace", spec])
    assert_answered(result)
    assert_located_in(result, "<inline>", spec)


FLAG_VALUES = ["0", "1", "3", "-2", "3x3", "3x3x3", "1:0", "same", "full", "x", "", "1e3"]
FLAG_VALUES += ["9" * 25, "1000000", "depthwise", "0x3", "  5 ", "2:"]
COMMANDS = {
    "conv": ["--n", "--f", "--stride", "--pad", "--dilation", "--filters", "--groups", "--depth"],
    "pool": ["--n", "--f", "--stride", "--pad", "--dilation"],
    "tconv": ["--n", "--f", "--stride", "--pad", "--output-padding", "--target", "--filters"],
    "unpool": ["--n", "--factor", "--f", "--stride", "--pad"],
    "gpool": ["--n"],
    "fc": ["--n", "--out"],
    "linear": ["--n", "--out", "--depth"],
    "solve": ["--n", "--out", "--f", "--stride", "--pad", "--dilation"],
}
for _flags in COMMANDS.values():  # the course's letters, as aliases of the long flags
    _flags += [
        alias
        for flag, alias in (
            ("--f", "-f"),
            ("--stride", "-s"),
            ("--stride", "--s"),
            ("--pad", "-p"),
            ("--pad", "--p"),
        )
        if flag in _flags
    ]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(COMMANDS)))
    flags = draw(st.lists(st.sampled_from(COMMANDS[command]), unique=True, max_size=5))
    args = [command]
    for flag in flags:
        args += [flag, draw(st.sampled_from(FLAG_VALUES))]
    return args + draw(st.sampled_from([[], ["--format", "json"], ["--strict"], ["--draw"]]))


@settings(max_examples=200)
@given(command_lines())
@example(["solve", "--n", "224", "--out", "112", "--f", "1000000"])
@example(["conv", "--n", "1000000000000000000", "--f", "3", "--stride", "2", "--filters", "8"])
def test_a_single_layer_command_is_answered_or_refused(args):
    assert_answered(invoke(args))


# --- explicit cases ---------------------------------------------------------------------------

BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{c}: &{c} [{', '.join(['*' + p] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    + ["input: 8", "layers: *i"]
)
DOUBLING_BLOCKS = (
    "input: 8x8x3\nblocks:\n"
    + "".join(f"  b{i}: {{layers: [b{i - 1}, b{i - 1}]}}\n" for i in range(1, 41)).replace(
        "b0, b0", "relu, relu"
    )
    + "layers: [b40]\n"
)
CASES = {
    "alias-bomb": BOMB,
    "doubling-blocks": DOUBLING_BLOCKS,
    "nested-repeats": "input: 8\nlayers:\n"
    + "".join("  " * i + "  - repeat: 100000\n" + "  " * i + "    layers:\n" for i in range(4))
    + "  " * 4
    + "  - relu\n",
    "huge-repeat": "input: 8\nlayers:\n  - repeat: 10**100\n    layers: [relu]\n",
    "huge-exponent": "input: 8x8x3\nlayers:\n  - conv ((((10**64)**64)**64)**64)\n",
    "huge-size": "input: " + "1" + "0" * 100 + "x8x3\nlayers: [relu]\n",
    "huge-literal": "input: 8x8x3\nlayers:\n  - conv " + "9" * 5000 + "\n",
    "recursive-blocks": "input: 8\nblocks:\n  a: {layers: [b]}\n  b: {layers: [a]}\nlayers: [a]\n",
    "deep-lists": "input: 8\nlayers: " + "[" * 500 + "]" * 500 + "\n",
    "deep-add": "input: 8x8x3\nlayers:\n  - " + "add: [" * 250 + "relu, relu" + "]" * 250 + "\n",
    "long-line": "input: 8x8x3\nlayers: [" + "conv 3 f3 p1, " * 8000 + "wrong]\n",
    "binary": "\x00\x01\x02\x03input: 8\n",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_a_pathological_spec_is_refused_quickly(tmp_path, text):
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    result = invoke(["check", str(path)])
    assert_answered(result)
    assert result.exit_code != 0
    assert len(result.output) < 20_000  # one located line per problem, long lines elided
    assert_located_in(result, str(path), text)


def test_bytes_that_are_not_utf8_are_refused_with_their_place(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("input: 8\nlayers: [relu]  # caf\xe9\n".encode("latin-1"))
    result = invoke(["check", str(path)])
    assert_answered(result)
    assert result.exit_code != 0 and str(path) in result.output


@pytest.mark.parametrize("what", ["directory", "fifo"])
def test_a_spec_that_is_not_a_file_is_refused(tmp_path, what):
    path = tmp_path / "spec.yaml"
    if what == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    result = invoke(["trace", str(path)])
    assert_answered(result)
    assert result.exit_code == 2
