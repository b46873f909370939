"""Merges are ordinary kinds of the registry: concat, add, mean and mul join branches.

Squeeze-and-excitation (Hu et al. 2018) as torchvision's ``SqueezeExcitation(64, 16)``:
fc1 = Conv2d(64, 16, 1) has 64*16 + 16 = 1,040 parameters, fc2 = Conv2d(16, 64, 1) has
16*64 + 64 = 1,088; 2,128 in all, whatever the input size.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from cnncalc.cli import main
from cnncalc.core.errors import GeometryError
from cnncalc.core.shapes import Shape
from cnncalc.graph import is_merge
from cnncalc.kinds import REGISTRY, Add, Concat, Join, Mean, Mul

SE = """\
input: {size}x{size}x3
blocks:
  se:
    args: {{c: null, squeeze: "c // 4"}}
    layers:
      - mul:
          - [gavgpool, conv squeeze f1, relu, conv c f1, sigmoid]
          - identity
layers:
  - conv 64 f3 s4 p1 name=stem
  - se c=64
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("size", [224, 256, 320])
def test_squeeze_and_excitation_with_mul_at_any_input_size(tmp_path, size):
    spec = tmp_path / "se.yaml"
    spec.write_text(SE.format(size=size), encoding="utf-8")
    result = run("trace", str(spec), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {row["name"]: row for row in data["layers"]}
    stem = 64 * 3 * 3 * 3 + 64
    assert data["totals"]["params"] == stem + 2_128
    side = (size + 2 - 3) // 4 + 1
    assert rows["se1.mul1"]["output"] == [side, side, 64] == data["output"]
    assert rows["se1.mul1"]["kind"] == "mul"


@pytest.mark.parametrize(
    ("join", "a", "b", "out"),
    [
        (Concat(), Shape((7, 7), 64), Shape((7, 7), 32), Shape((7, 7), 96)),
        (Add(), Shape((7, 7), 64), Shape((7, 7), 64), Shape((7, 7), 64)),
        (Mean(), Shape((7, 7), 64), Shape((7, 7), 64), Shape((7, 7), 64)),
        (Mul(), Shape((1, 1), 64), Shape((56, 56), 64), Shape((56, 56), 64)),
        (Mul(), Shape((56, 56), 64), Shape((1, 1), 64), Shape((56, 56), 64)),
        (Mul(), Shape((56, 56), 1), Shape((56, 56), 64), Shape((56, 56), 64)),  # spatial attention
        (Concat(), Shape((), 10), Shape((), 20), Shape((), 30)),
    ],
)
def test_a_join_combines_two_shapes(join, a, b, out):
    assert join.combine(a, b) == out


@pytest.mark.parametrize(
    ("join", "a", "b", "words"),
    [
        (Concat(), Shape((28, 28), 8), Shape((14, 14), 8), "spatial rows differ: 28 vs 14"),
        (Add(), Shape((7, 7), 64), Shape((7, 7), 32), "the shortcut needs a projection"),
        (Mean(), Shape((7, 7), 64), Shape((7,), 64), "one branch is flat and the other is not"),
        (Mul(), Shape((2, 2), 64), Shape((56, 56), 64), "2x2x64 and 56x56x64 do not broadcast"),
        (Mul(), Shape((1, 1), 32), Shape((56, 56), 64), "32 vs 64"),
    ],
)
def test_a_join_refuses_shapes_it_cannot_join(join, a, b, words):
    with pytest.raises(GeometryError, match=words):
        join.combine(a, b)


def test_the_merges_are_the_registered_joins():
    merges = {kind for kind in REGISTRY if is_merge(kind)}
    assert merges == {kind for kind, cls in REGISTRY.items() if issubclass(cls, Join)}
    assert {"concat", "add", "mean", "mul"} <= merges
    listed = run("kinds").stdout
    for kind in merges:
        assert f"\n{kind:<13} {REGISTRY[kind].summary}" in f"\n{listed}"


@pytest.mark.parametrize(
    ("spec", "column", "words"),
    [
        (
            "input: 56x56x64\nlayers:\n  - mul: [[maxpool f28], identity]\n",
            5,
            "mul1: mul: shapes 2x2x64 and 56x56x64 do not broadcast",
        ),
        (
            "input: 56x56x64\nlayers:\n  - concat: [[maxpool f2], identity]\n",
            5,
            "concat1: concat: spatial rows differ: 28 vs 56",
        ),
    ],
)
def test_a_join_that_does_not_fit_is_one_located_line(tmp_path, spec, column, words):
    path = tmp_path / "bad.yaml"
    path.write_text(spec, encoding="utf-8")
    result = run("trace", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert line.startswith(f"{path}:3:{column}: error: {words}")


def test_a_join_written_inline_says_how_to_write_it():
    result = run("trace", "8x8x3 | mul")
    assert result.exit_code == 1
    assert "mul is written as a mapping in a spec file, not inline" in result.stderr
