"""Receptive fields as a gradient check measures them: whole pixels, exact strides.

Per dimension, a unit's receptive field is the first to the last input pixel its gradient is
nonzero on, on an input large enough that no border clips it; a value's is the widest over its
units (:mod:`cnncalc.analysis.receptive`).

How the PyTorch figures were measured (torch 2.x, CPU, in a scratch venv; the tests never
import torch): each network built of ``Conv1d``/``Conv2d``, ``ConvTranspose1d/2d``,
``nn.Upsample(scale_factor=k, mode=..., align_corners=False)`` or ``F.interpolate(size=...)``
and ``MaxPool``/``AvgPool``, 1 channel, float64, weights uniform in [0.5, 1.5) (never 0), no
bias, no activation; for every output unit along one row, ``torch.autograd.grad(y[..., j], x)``, the
first and last input position with a nonzero gradient, units whose span touches the input's
border left out; the RF is the widest span, the stride ``(lo(j + P) - lo(j)) / P`` for the
map's smallest period ``P``. Where the whole output is one period (a resize to the input's
size) that period cannot be seen inside the border, and the stride is the sizes' ratio.
"""

from __future__ import annotations

import json
import time
from fractions import Fraction

import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given
from hypothesis import strategies as st

from cnncalc.analysis.tracer import trace
from cnncalc.api import load
from cnncalc.cli import main
from cnncalc.core import formulas as fm
from cnncalc.formats.inline import load_inline


def run(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args))


def rf_of(spec: str) -> tuple[int, Fraction | int]:
    """The widest receptive field of the last layer, and its stride."""
    t = trace(load_inline(spec))
    assert t.ok, t.errors
    sizes, jumps = t.receptive_field()
    return max(sizes), max(jumps)


# --- the cases ------------------------------------------------------------------------


def test_after_upsampling_a_conv_sees_whole_pixels_and_a_fractional_stride():
    result = run("trace", "16x16x3 | upsample 2 | conv 8 f2")
    assert result.exit_code == 0, result.stderr
    assert "receptive field: 2 px, stride 1/2" in result.stdout  # it said 1.5 px, stride 0.5
    assert "│ 2/(1/2) │" in result.stdout  # the RF cell: 2 px, stride 1/2


def test_upsampling_by_3_between_convolutions():
    result = run("trace", "16x16x3 | conv 8 f3 s2 p1 | upsample 3 | conv 8 f3 p1")
    assert "receptive field: 5 px, stride 2/3" in result.stdout  # it said 4.33333 px


def test_deeplab_resized_to_500_has_a_whole_field_and_an_exact_stride():
    result = run("trace", "deeplabv3_resnet50", "--input", "500x500x3", "--format", "json")
    rf = json.loads(result.stdout)["totals"]["rf"]
    # 500 -> 63 at stride 8, resized back to 500: 8 * 63/500 input pixels per unit
    assert rf["stride"] == "126/125"
    assert isinstance(rf["size"], int)


def test_json_gives_a_fraction_as_a_string_and_a_whole_stride_as_an_integer():
    result = run("trace", "16x16x3 | upsample 2 | conv 8 f2 | conv 8 f3 s4", "--format", "json")
    data = json.loads(result.stdout)
    assert [layer["rf"] for layer in data["layers"]] == [
        {"size": 1, "stride": "1/2"},
        {"size": 2, "stride": "1/2"},
        {"size": 2, "stride": 2},  # 4 neighbours of a 1/2 stride: 2 pixels' copies
    ]
    csv = run("trace", "16x16x3 | upsample 2", "--format", "csv").stdout.splitlines()
    assert csv[1].split(",")[-4:-2] == ["1", "1/2"]


# --- measured with PyTorch gradients (see the module's docstring for how) ---------------------

MEASURED = [
    # the two cases, in 2-D
    ("16x16x1 | upsample 2 | conv 8 f2", 2, "1/2"),
    ("16x16x1 | conv 8 f3 s2 p1 | upsample 3 | conv 8 f3 p1", 5, "2/3"),
    # upsampling: nearest reads 1 pixel, bilinear 2 (1 where it lands on one), bicubic 4
    ("96x1 | upsample 2", 1, "1/2"),
    ("96x1 | upsample 2 bilinear", 2, "1/2"),
    ("96x1 | upsample 3 bilinear", 2, "1/3"),
    ("96x1 | upsample 4 bilinear | conv 1 f3", 3, "1/4"),
    ("96x1 | upsample 3 bilinear | conv 1 f2", 2, "1/3"),
    ("24x24x1 | upsample 2 bicubic", 4, "1/2"),
    ("96x1 | upsample 3 | conv 1 f4", 2, "1/3"),
    ("96x1 | upsample 2 | upsample 3 | conv 1 f5", 2, "1/6"),
    ("96x1 | conv 1 f3 s2 | upsample 2 bilinear | conv 1 f3", 7, "1"),
    # transposed convolution: output j reads the i with i*s - p + d*t = j
    ("96x1 | tconv 1 f4 s2 p1", 2, "1/2"),
    ("96x1 | tconv 1 f3 s2 p1", 2, "1/2"),
    ("96x1 | tconv 1 f2 s2", 1, "1/2"),
    ("96x1 | tconv 1 f3 s2 d2", 3, "1/2"),
    ("96x1 | tconv 1 f3 s3 d2 p1", 1, "1/3"),
    ("96x1 | tconv 1 f5 s3", 2, "1/3"),
    ("96x1 | tconv 1 f1 s2 | conv 1 f3", 2, "1/2"),  # every other output reads nothing
    ("96x1 | tconv 1 f2 s3 | conv 1 f3 d2", 2, "1/3"),
    ("96x1 | tconv 1 f4 s2 p1 | tconv 1 f4 s2 p1 | conv 1 f3", 3, "1/4"),
    ("96x1 | tconv 1 f3 s2 d3 | conv 1 f3", 5, "1/2"),
    ("24x24x1 | tconv 1 f4 s2 p1", 2, "1/2"),
    # dilation
    ("96x1 | conv 1 f3 d2 | conv 1 f3 d4", 13, "1"),
    ("96x1 | conv 1 f3 s2 | conv 1 f3 d2", 11, "2"),
    # mixes
    ("96x1 | conv 1 f3 s2 | tconv 1 f4 s2 p1 | conv 1 f3 p1", 7, "1"),
    ("96x1 | maxpool 2 | upsample 2 | conv 1 f3", 4, "1"),
    ("96x1 | upsample 2 | conv 1 f3 | upsample 2 bilinear | conv 1 f3 d2", 4, "1/4"),
    ("96x1 | conv 1 f3 s2 | upsample 3 bilinear | conv 1 f3 d3 | tconv 1 f3 s2", 9, "1/3"),
    ("40x40x1 | conv 1 f3 s2 d2 | conv 1 f3 s2 | upsample 4 | conv 1 f3 d2", 13, "1"),
    # random chains, measured the same way (all of 60 agreed; these four kept)
    ("160x1 | upsample 2 mode=nearest-exact | tconv 1 f4 s2 d1", 2, "1/4"),
    ("160x1 | upsample 4 mode=nearest | avgpool f3 s3", 2, "3/4"),
    (
        "160x1 | tconv 1 f3 s1 d2 | tconv 1 f4 s1 d1 | conv 1 f4 s1 p0 d3 | tconv 1 f4 s3 d3",
        20,
        "1/3",
    ),
    ("160x1 | avgpool f2 s2 | conv 1 f3 s3 p0 d2 | avgpool f3 s3 | tconv 1 f4 s3 d3", 76, "6"),
    # resized to a size that is not a multiple (deeplabv3's last upsample): the stride is the
    # ratio of the sizes (the whole output is one period, so not measured)
    ("61x1 | conv 1 f3 s2 p1 | upsample size=61 bilinear", 5, "62/61"),
    (
        "61x1 | conv 1 f3 s2 p1 | conv 1 f3 s2 p1 | upsample size=61 bilinear | conv 1 f3 p1",
        15,
        "64/61",
    ),
    ("61x1 | conv 1 f3 s2 p1 | upsample size=61", 3, "62/61"),
]


@pytest.mark.parametrize(("spec", "size", "stride"), MEASURED, ids=[m[0] for m in MEASURED])
def test_as_pytorch_gradients_measure_it(spec, size, stride):
    assert rf_of(spec) == (size, Fraction(stride))


@pytest.mark.parametrize(
    ("name", "size"),
    [
        # 1-D copies of the zoo's U-Net (input 828 = 572 + 16*16) and SegNet (1080), max pools
        # as average pools, max unpooling as nearest x2 (its worst case): 204 and 404 px
        ("unet", 204),
        ("segnet", 404),
        # torchvision's fcn_resnet50 at 520x64, ReLUs as Identity, max pool as average: rows
        # 35..485 for each of 8 neighbouring output rows (the x8 bilinear upsampling's period)
        ("fcn_resnet50", 451),
        # torchvision's deeplabv3_resnet50 the same way at 1100x64, ASPP's image pooling (which
        # sees the whole input: 939 px at 520) replaced by zeros: rows 35..1061 (43..1069)
        ("deeplabv3_resnet50", 1027),
    ],
)
def test_zoo_networks_with_upsampling_as_pytorch_gradients_measure_them(name, size):
    sizes, jumps = trace(load(name)).receptive_field()
    assert (max(sizes), max(jumps)) == (size, 1)


def test_a_crop_keeps_the_branches_aligned():
    # U-Net's crop-and-concat: a centre crop of the skip sees what its centre units see
    spec = """
input: 64x1
layers:
  - conv 1 f3 name=a
  - maxpool 2
  - conv 1 f3
  - tconv 1 f2 s2 name=up
  - concat: [[from a, crop to=up], identity]
"""
    from cnncalc.formats.spec import load_spec

    t = trace(load_spec(spec))
    assert t.ok, t.errors
    assert t.rows[-1].rf == (8,)  # the up path's 8; misaligned, the union would be wider


def test_a_resize_of_one_position_is_a_broadcast():
    t = trace(load_inline("32x32x3 | gap | upsample size=8"))
    assert (t.rows[-1].rf, t.rows[-1].jump) == ((32, 32), (0, 0))


# --- no loop over a number the user typed -----------------------------------------------------


def test_a_long_period_gives_an_honest_bound_quickly():
    start = time.process_time()
    t = trace(load_inline("64x1 | conv 1 f3 s2 | upsample 1000003 bilinear | conv 1 f5"))
    assert time.process_time() - start < 1
    assert t.ok, t.errors
    (size,), (jump,) = t.receptive_field()
    assert jump == Fraction(2, 1000003)
    assert 5 <= size <= 8  # exactly 5 (two mixes of 3 pixels 2 apart); a bound, not less
    assert any("upper bound" in w.message for w in t.warnings)


def test_a_large_transposed_kernel_is_not_gone_over_tap_by_tap():
    start = time.process_time()
    size, jump = rf_of("64x1 | tconv 1 f1000001 s3 d2")
    assert time.process_time() - start < 1
    # i = (j - 2t)/3 for the taps t of one residue mod 3: 2*999999/3 + 1 pixels
    assert (size, jump) == (666667, Fraction(1, 3))


# --- properties -------------------------------------------------------------------------------

windows = st.tuples(st.integers(1, 7), st.integers(1, 4), st.integers(1, 3), st.booleans())


@given(st.lists(windows, min_size=1, max_size=8))
@example([(3, 2, 1, False), (3, 1, 2, True)])
def test_a_chain_of_convolutions_and_pools_has_the_textbook_field(layers):
    """Araujo et al.'s recurrence, r += d*(f-1)*j and j *= s, for any conv or pool chain."""
    items, rf, jump = [], 1, 1
    for f, s, d, pool in layers:
        items.append(f"maxpool f{f} s{s} d{d}" if pool else f"conv 1 f{f} s{s} d{d}")
        rf, jump = fm.receptive_field(rf, jump, f, s, d)
    n = 1
    for f, s, d, _ in reversed(layers):
        n = (n - 1) * s + d * (f - 1) + 1  # the least input that gives one output
    assert rf_of(f"{n}x1 | " + " | ".join(items)) == (rf, jump)


mixed = st.one_of(
    st.builds(
        lambda f, s, p: f"conv 1 f{f} s{s} p{p}",
        st.integers(1, 5),
        st.integers(1, 3),
        st.integers(0, 2),
    ),
    st.builds(
        lambda f, s, d: f"tconv 1 f{f} s{s} d{d}",
        st.integers(1, 5),
        st.integers(1, 3),
        st.integers(1, 3),
    ),
    st.builds(
        lambda k, mode: f"upsample {k} {mode}",
        st.integers(1, 5),
        st.sampled_from(["nearest", "bilinear", "bicubic"]),
    ),
)


@given(st.lists(mixed, min_size=1, max_size=6))
def test_the_field_is_a_positive_whole_number_and_the_stride_exact(items):
    t = trace(load_inline("200x1 | " + " | ".join(items)))
    if not t.ok:
        return  # too small an input for these windows: not a receptive field question
    expected = Fraction(1)
    for row in t.rows:
        assert type(row.rf[0]) is int and row.rf[0] >= 1
    for item in items:
        parts = item.split()
        if parts[0] == "conv":
            expected *= int(parts[3][1:])
        elif parts[0] == "tconv":
            expected /= int(parts[3][1:])
        else:
            expected /= int(parts[1])
    assert t.rows[-1].jump[0] == expected


def test_many_layers_over_a_long_period_give_a_bound_within_a_second():
    # 3999 units a period, then 1000 convolutions: the trace goes over 300,000 units of
    # periods exactly, then bounds the rest
    spec = "4001x1 | conv 1 f3 s2 | upsample size=3999 bilinear" + " | conv 1 f3" * 1000
    start = time.process_time()
    t = trace(load_inline(spec))
    assert time.process_time() - start < 1
    (size,), (jump,) = t.receptive_field()
    assert jump == Fraction(4000, 3999)
    assert size >= 2 * 1000 + 5  # each conv adds at least 2 units of 4000/3999 pixels
    assert any("went over 300,000 units" in w.message for w in t.warnings)
