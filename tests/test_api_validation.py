"""The Python API refuses impossible questions where they are asked: a Shape is checked when it
is made, a layer takes a Shape (never a plain tuple) and a spatial kind spatial sizes, a
parameter is bounded as a written number is, and ``cnncalc.trace`` raises on a network that
does not trace, its partial report on the exception. Every refusal is a CnnCalcError with one
line, never an AttributeError, a TypeError or a count below zero."""

from __future__ import annotations

import json
import shlex

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

import cnncalc
from cnncalc import api
from cnncalc.cli import main
from cnncalc.core.errors import (
    CnnCalcError,
    GeometryError,
    ParameterError,
    SpecError,
    TraceError,
    UsageError,
)
from cnncalc.core.numbers import MAX_NUMBER
from cnncalc.core.shapes import Shape
from cnncalc.kinds import FC, REGISTRY, Conv, Linear, MaxPool

# --- Shape -----------------------------------------------------------------------------------


class Index:
    """An integer-like value, as a NumPy integer is: ``__index__`` and nothing else."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def test_a_valid_shape_is_the_named_tuple_it_was():
    x = Shape((32, 32), 3)
    assert x == ((32, 32), 3) and x.spatial == (32, 32) and x.channels == 3
    assert Shape(spatial=(7,), channels=None).channels is None
    assert Shape((), 10).size == 10
    assert Shape([4, 4], 2) == Shape((4, 4), 2)  # a list of sizes is a tuple of them
    assert hash(Shape((4, 4), 2)) == hash(Shape((4, 4), 2))


def test_an_integer_like_size_is_taken_as_an_int():
    x = Shape((Index(32), 32), Index(3))
    assert x == Shape((32, 32), 3)
    assert type(x.channels) is int and type(x.spatial[0]) is int


@pytest.mark.parametrize(
    ("spatial", "channels", "message"),
    [
        ((32, 32), -1, "Shape: channels must be at least 1, not -1"),
        ((32, 32), 0, "Shape: channels must be at least 1, not 0"),
        ((32, 0), 3, "Shape: a spatial size must be at least 1, not 0"),
        ((32, 32.5), 3, "Shape: a spatial size must be a whole number, not 32.5"),
        ((32, 32.0), 3, "Shape: a spatial size must be a whole number, not 32.0"),
        ((32, True), 3, "Shape: a spatial size must be a whole number, not True"),
        ((32, "32"), 3, "Shape: a spatial size must be a whole number, not '32'"),
        ((32, None), 3, "Shape: a spatial size must be a whole number, not None"),
        ((32, 32), 3.0, "Shape: channels must be a whole number, not 3.0"),
        ((32, 32), False, "Shape: channels must be a whole number, not False"),
        (
            32,
            3,
            "Shape: the spatial sizes are a tuple, like Shape((32, 32), 3) for 32x32x3, not 32",
        ),
        ("32x32", 3, "Shape: the spatial sizes are a tuple, like Shape((32, 32), 3)"),
    ],
)
def test_an_impossible_shape_is_refused_when_made(spatial, channels, message):
    with pytest.raises(UsageError) as raised:
        Shape(spatial, channels)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_replace_checks_as_making_does():
    with pytest.raises(UsageError, match="channels must be at least 1, not -4"):
        Shape((4, 4), 2)._replace(channels=-4)
    assert Shape((4, 4), 2)._replace(spatial=(8, 8)) == Shape((8, 8), 2)


def test_a_computed_size_past_what_a_user_writes_is_still_a_shape():
    """MAX_NUMBER bounds what users write; a layer may compute more (nine transposed
    convolutions of stride 10**18), so a Shape itself is not bounded."""
    assert Shape((MAX_NUMBER * 8,), 1).spatial == (MAX_NUMBER * 8,)


ANYTHING = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.lists(st.integers(-3, 3), max_size=3),
)


@given(spatial=st.one_of(ANYTHING, st.lists(ANYTHING, max_size=4).map(tuple)), channels=ANYTHING)
@example(spatial=(32, 32), channels=-1)
@example(spatial=(32, 32.5), channels=3)
@example(spatial=(float("nan"),), channels=3)
def test_any_shape_is_made_or_refused_with_a_cnncalc_error(spatial, channels):
    try:
        x = Shape(spatial, channels)
    except CnnCalcError as error:
        assert "\n" not in str(error)
        return
    assert all(type(n) is int and n >= 1 for n in x.spatial)
    assert x.channels is None or (type(x.channels) is int and x.channels >= 1)


# --- layers --------------------------------------------------------------------------------


def test_a_negative_depth_never_gives_negative_counts():
    with pytest.raises(UsageError, match="channels must be at least 1, not -1"):
        Conv(10, f=3).apply(Shape((32, 32), -1))


def test_a_kernel_is_refused_on_a_flat_input_by_the_layer_itself():
    with pytest.raises(GeometryError, match=r"conv needs rows and columns, but its input 100"):
        Conv(10, f=5).apply(Shape((), 100))
    with pytest.raises(GeometryError, match="maxpool needs rows and columns"):
        MaxPool().apply(Shape((), 100))


@pytest.mark.parametrize("x", [(32, 32, 3), [32, 32, 3], ((32, 32), 3)])
def test_a_plain_tuple_is_refused_naming_shape(x):
    with pytest.raises(UsageError) as raised:
        Conv(10, f=3).apply(x)
    message = str(raised.value)
    assert message.startswith("conv: the input is a Shape, like Shape((32, 32), 3) for 32x32x3;")
    assert "could be HxWxC, CxHxW or sizes alone" in message


@pytest.mark.parametrize("x", [None, 32, "32x32x3"])
def test_anything_else_is_refused_naming_shape(x):
    with pytest.raises(
        UsageError, match=r"^linear: the input is a Shape, like Shape\(\(32, 32\), 3\), not"
    ):
        Linear(4).apply(x)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Conv(10**19),
            "conv: filters: a number of 20 digits is too large (at most 10**18)",
        ),
        (lambda: Conv(4, f=(3, 10**30)), "conv: kernel size f: a number of 31 digits is too large"),
        (lambda: FC(-(10**19)), "fc: output features: a number of 20 digits is too large"),
        (lambda: Linear(0), "linear: output features must be at least 1, not 0"),
        (lambda: Linear(4.0), "linear: out must be a whole number, not 4.0"),
    ],
)
def test_a_layer_is_checked_when_made(make, message):
    with pytest.raises(ParameterError) as raised:
        make()
    assert str(raised.value).startswith(message)


LAYERS = {"conv": {"filters": 4}, "tconv": {"filters": 4}, "deformconv": {"filters": 4}}
LAYERS |= {"groupnorm": {"groups": 1}, "crop": {"size": 1}, "fc": {"out": 3}, "linear": {"out": 3}}


@given(
    kind=st.sampled_from(sorted(k for k, cls in REGISTRY.items() if not cls.joins)),
    spatial=st.lists(st.integers(1, 12), max_size=3).map(tuple),
    channels=st.one_of(st.none(), st.integers(1, 16)),
)
def test_every_kind_answers_any_shape_or_refuses_it_with_a_cnncalc_error(kind, spatial, channels):
    layer = REGISTRY[kind](**LAYERS.get(kind, {}))
    try:
        out = layer.apply(Shape(spatial, channels))
    except CnnCalcError:
        return
    assert isinstance(out.shape, Shape)
    assert out.params is None or out.params >= 0
    assert out.macs is None or out.macs >= 0


# --- cnncalc.trace ----------------------------------------------------------------------------

BROKEN = "32x32x3 | conv 16 f3 | fc 10 | conv 8 f3"


def test_trace_raises_on_a_broken_network_with_the_partial_report():
    with pytest.raises(TraceError) as raised:
        cnncalc.trace(BROKEN)
    error = raised.value
    assert isinstance(error, SpecError) and isinstance(error, CnnCalcError)
    assert (
        str(error) == "conv needs rows and columns, but its input 10 is flat (after fc or flatten)"
    )
    report = error.report
    assert [row["name"] for row in report["layers"]] == ["conv1", "fc1", "conv2"]
    assert report["layers"][-1]["error"] == str(error)
    assert report["totals"]["params"] == sum(row["params"] for row in report["layers"])
    assert report["totals"]["params"] == 3 * 3 * 3 * 16 + 16 + 30 * 30 * 16 * 10 + 10
    assert [e["message"] for e in report["errors"]] == [str(error)]
    ((line, column),) = [(p.pos.line, p.pos.column) for p in error.problems]
    assert (line, column) == (1, BROKEN.index("conv 8") + 1)


def test_the_report_on_the_exception_is_what_trace_json_prints():
    with pytest.raises(TraceError) as raised:
        cnncalc.trace(BROKEN)
    result = CliRunner().invoke(main, shlex.split(f'trace "{BROKEN}" --format json'))
    assert result.exit_code == 1
    assert json.loads(result.stdout) == raised.value.report


def test_trace_of_a_network_with_an_unmet_shape_at_another_input_raises():
    with pytest.raises(TraceError, match="kernel extent 7 is larger than the padded input 5"):
        cnncalc.trace("32x32x3 | conv 4 f7", input=(5, 5, 3))


def test_check_still_answers_with_its_problems_rather_than_raising():
    verdict = api.check(BROKEN)
    assert [p.message for p in verdict.problems] == [
        "conv needs rows and columns, but its input 10 is flat (after fc or flatten)"
    ]


def test_a_network_that_traces_is_returned_as_before():
    data = cnncalc.trace("32x32x3 | conv 10 f5 p2 | relu | maxpool f2 | fc 10")
    assert data["errors"] == [] and data["output"] == [10]
