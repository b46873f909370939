"""Merges are ordinary kinds of the registry: concat, add, mean and mul join branches.

Squeeze-and-excitation (Hu et al. 2018) as torchvision's ``SqueezeExcitation(64, 16)``:
fc1 = Conv2d(64, 16, 1) has 64*16 + 16 = 1,040 parameters, fc2 = Conv2d(16, 64, 1) has
16*64 + 64 = 1,088; 2,128 in all, whatever the input size.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cnncalc.cli import main
from cnncalc.core.errors import GeometryError, ParameterError, TraceError
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


# --- a join's parameters: concat's axis, add's coefficients ----------------------------------


@pytest.mark.parametrize(
    ("join", "a", "b", "out"),
    [
        (Concat(axis=1), Shape((7, 7), 64), Shape((7, 7), 32), Shape((7, 7), 96)),
        (Concat(axis=2), Shape((7, 5), 8), Shape((3, 5), 8), Shape((10, 5), 8)),
        (Concat(axis=3), Shape((7, 5), 8), Shape((7, 2), 8), Shape((7, 7), 8)),
        (Concat(axis=2), Shape((196,), 768), Shape((1,), 768), Shape((197,), 768)),  # ViT token
    ],
)
def test_concat_joins_along_its_axis(join, a, b, out):
    assert join.combine(a, b) == out


@pytest.mark.parametrize(
    ("join", "a", "b", "words"),
    [
        (Concat(axis=2), Shape((7, 5), 8), Shape((7, 4), 8), "spatial columns differ: 5 vs 4"),
        (Concat(axis=2), Shape((7, 5), 8), Shape((7, 5), 4), "channels differ: 8 vs 4"),
        (Concat(axis=4), Shape((7, 5), 8), Shape((7, 5), 8), "a 2D input has axes 1 to 3"),
        (Concat(axis=2), Shape((), 8), Shape((), 8), "a flat input has axis 1 only"),
    ],
)
def test_concat_refuses_what_does_not_join_along_its_axis(join, a, b, words):
    with pytest.raises(GeometryError, match=words):
        join.combine(a, b)


@pytest.mark.parametrize(
    ("join", "inputs", "words"),
    [
        (Concat(axis=0), 2, "axis 0 is the batch"),
        (Concat(axis=-1), 2, "the channels in Keras, the columns in PyTorch"),
        (Add(coeff=(1, -1, 0.5)), 2, "coeff gives 3 weights for 2 branches"),
    ],
)
def test_a_join_refuses_parameters_that_do_not_fit(join, inputs, words):
    with pytest.raises(ParameterError, match=words):
        join.admit(inputs)


def test_weights_change_neither_shape_nor_counts(tmp_path):
    plain = "input: 8x8x4\nlayers:\n  - add: [[conv 4 f3 p1], identity]\n"
    weighted = plain + "    coeff: [1, -0.5]\n"
    rows = [json.loads(run("trace", spec, "--format", "json").stdout) for spec in (plain, weighted)]
    assert rows[0]["layers"] == rows[1]["layers"] and rows[0]["totals"] == rows[1]["totals"]


def test_the_documented_join_parameters_trace():
    docs = (Path(__file__).parents[1] / "docs" / "spec.md").read_text(encoding="utf-8")
    example = docs.split("beside its branches, as `name:` and `if:` are:\n\n")[1].split("\n\n")[0]
    result = run(
        "trace", f"input: 8x8x16\nlayers:\n{textwrap.dedent(example)}\n", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"] == [16, 8, 16]


@pytest.mark.parametrize(
    ("item", "where", "words"),
    [
        ("  - add: [[conv 4 f1], identity]\n    coeff: [1, 2, 3]\n", "4:5", "3 weights for 2"),
        ("  - concat: [identity, identity]\n    axis: -1\n", "4:5", "counts from the end"),
        ("  - concat: [identity, identity]\n    axis: 0\n", "4:5", "axis 0 is the batch"),
        ("  - concat: [identity, identity]\n    axis: 4\n", "3:5", "a 2D input has axes 1 to 3"),
        ("  - concat: [identity, identity]\n    axes: 2\n", "4:5", "did you mean 'axis'?"),
        ("  - concat: [identity, identity]\n    coeff: [1, 1]\n", "4:5", "no parameter 'coeff'"),
        ("  - add: [identity, identity]\n    coeff: 2\n", "4:5", "a list of numbers, not 2"),
        ("  - add: [identity, identity]\n    concat: [identity]\n", "3:5", "one kind"),
    ],
)
def test_a_join_parameter_that_does_not_fit_is_one_located_line(tmp_path, item, where, words):
    path = tmp_path / "bad.yaml"
    path.write_text(f"input: 8x8x4\nlayers:\n{item}", encoding="utf-8")
    result = run("trace", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = {line for line in result.stderr.splitlines() if ": error: " in line}
    assert line.startswith(f"{path}:{where}: error: ") and words in line


def test_a_graph_built_by_hand_is_checked_when_traced():
    from cnncalc import trace
    from cnncalc.core.positions import Pos
    from cnncalc.graph import Dag, DagNode, Network

    nodes = [
        DagNode("a", Pos(1, 1), REGISTRY["identity"](), ("",)),
        DagNode("sum", Pos(2, 1), Add(coeff=(1, 1, 1)), ("a", "")),
    ]
    with pytest.raises(TraceError) as raised:
        trace(Network("n", Shape((4, 4), 2), Dag(nodes)))
    message = "add: coeff gives 3 weights for 2 branches (one per branch)"
    assert str(raised.value) == raised.value.report["errors"][0]["message"] == message
