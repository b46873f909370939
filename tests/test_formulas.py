"""Per-dimension formulas, checked against worked examples and by properties.

Worked examples come from Dumoulin & Visin 2016, "A guide to convolution arithmetic
for deep learning" (arXiv:1603.07285; [DV16] below, relationship numbers as in the
paper), the PyTorch shape documentation ([PT]) and classic architectures. Each
expected number was worked out by hand from the source, not taken from our output.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from cnncalc.core import formulas as fm
from cnncalc.core.errors import GeometryError, UsageError

# ---------------------------------------------------------------------------
# Worked examples from the literature
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "d", "expected"),
    [
        pytest.param(4, 3, 1, 0, 1, 2, id="DV16-rel1-no-padding-unit-stride-i4-k3"),
        pytest.param(5, 4, 1, 2, 1, 6, id="DV16-rel2-arbitrary-padding-i5-k4-p2"),
        pytest.param(5, 3, 1, 1, 1, 5, id="DV16-rel3-half-padding-i5-k3-p1"),
        pytest.param(5, 3, 1, 2, 1, 7, id="DV16-rel4-full-padding-i5-k3-p2"),
        pytest.param(5, 3, 2, 0, 1, 2, id="DV16-rel5-stride-i5-k3-s2"),
        pytest.param(5, 3, 2, 1, 1, 3, id="DV16-rel6-padding-stride-i5-k3-s2-p1"),
        pytest.param(6, 3, 2, 1, 1, 3, id="DV16-rel6-odd-i6-k3-s2-p1"),
        pytest.param(7, 3, 1, 0, 2, 3, id="DV16-rel15-dilation-i7-k3-d2"),
        pytest.param(32, 5, 1, 2, 1, 32, id="course-32x32-f5-s1-p2"),
        pytest.param(227, 11, 4, 0, 1, 55, id="AlexNet-conv1-227-f11-s4"),
        pytest.param(12, 3, 2, 1, 1, 6, id="PT-ConvTranspose2d-doc-downsample-12-to-6"),
    ],
)
def test_conv_output_matches_worked_example(n, f, s, p, d, expected):
    assert fm.conv_output(n, f, s, (p, p), d) == expected


@pytest.mark.parametrize(
    ("i", "k", "s", "p", "i_t", "a"),
    [
        pytest.param(4, 3, 1, 0, 2, 0, id="DV16-rel8-no-padding-transposed-i2-to-4"),
        pytest.param(5, 4, 1, 2, 6, 0, id="DV16-rel9-padding-transposed-i6-to-5"),
        pytest.param(5, 3, 1, 1, 5, 0, id="DV16-rel10-half-padding-transposed-i5-to-5"),
        pytest.param(5, 3, 1, 2, 7, 0, id="DV16-rel11-full-padding-transposed-i7-to-5"),
        pytest.param(5, 3, 2, 0, 2, 0, id="DV16-rel12-stride-transposed-i2-to-5"),
        pytest.param(5, 3, 2, 1, 3, 0, id="DV16-rel13-padding-stride-transposed-i3-to-5"),
        pytest.param(6, 3, 2, 1, 3, 1, id="DV16-rel14-odd-transposed-a1-i3-to-6"),
        pytest.param(12, 3, 2, 1, 6, 1, id="PT-ConvTranspose2d-doc-upsample-6-to-12"),
    ],
)
def test_transposed_conv_undoes_the_papers_direct_conv(i, k, s, p, i_t, a):
    """The direct conv maps i to i'; its transpose with ``a`` output padding maps i' back."""
    pad = (p, p)
    assert fm.conv_output(i, k, s, pad) == i_t
    assert fm.tconv_output_padding(i, i_t, k, s, pad) == a
    assert fm.tconv_output(i_t, k, s, pad, output_padding=a) == i


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "ceil", "expected"),
    [
        pytest.param(5, 3, 1, 0, False, 3, id="DV16-rel7-pooling-i5-k3-s1"),
        pytest.param(8, 2, 2, 0, False, 4, id="course-pool-8-f2-s2"),
        pytest.param(7, 2, 2, 0, False, 3, id="floor-drops-the-odd-row"),
        pytest.param(7, 2, 2, 0, True, 4, id="ceil-keeps-the-odd-row"),
        pytest.param(5, 2, 2, 1, True, 3, id="PT-ceil-drops-window-starting-in-right-padding"),
        pytest.param(112, 3, 2, 0, True, 56, id="GoogLeNet-maxpool1-ceil-112-to-56"),
        pytest.param(112, 3, 2, 0, False, 55, id="same-pool-floor-112-to-55"),
        pytest.param(2, 3, 2, 0, True, 1, id="PT-ceil-window-overhangs-small-input"),
    ],
)
def test_pool_output_matches_worked_example(n, f, s, p, ceil, expected):
    assert fm.pool_output(n, f, s, (p, p), ceil=ceil) == expected


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "expected"),
    [
        pytest.param(2, 2, 2, 0, 4, id="PT-MaxUnpool2d-doc-2-to-4"),
        pytest.param(4, 2, 2, 0, 8, id="inverse-of-2x2-pool-4-to-8"),
        pytest.param(3, 3, 2, 1, 5, id="inverse-of-f3-s2-p1-pool-3-to-5"),
        pytest.param(3, 3, None, 0, 9, id="stride-defaults-to-kernel"),
    ],
)
def test_max_unpool_output(n, f, s, p, expected):
    assert fm.max_unpool_output(n, f, s, p) == expected


def test_upsample_multiplies_by_the_factor():
    assert fm.upsample_output(4, 2) == 8
    assert fm.upsample_output(7, 3) == 21


@pytest.mark.parametrize(
    ("f", "d", "expected"),
    [
        pytest.param(3, 1, 3, id="undilated"),
        pytest.param(3, 2, 5, id="DV16-rel15-k3-d2-is-5"),
        pytest.param(3, 4, 9, id="k3-d4-is-9"),
        pytest.param(1, 7, 1, id="1x1-ignores-dilation"),
    ],
)
def test_effective_kernel(f, d, expected):
    assert fm.effective_kernel(f, d) == expected


# ---------------------------------------------------------------------------
# Padding modes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "f", "s", "d", "upper", "lower"),
    [
        pytest.param(5, 3, 1, 1, (1, 1), (1, 1), id="DV16-rel3-half-padding-k3"),
        pytest.param(32, 5, 1, 1, (2, 2), (2, 2), id="course-f5-p2"),
        pytest.param(5, 4, 1, 1, (1, 2), (2, 1), id="even-kernel-odd-pixel"),
        pytest.param(224, 3, 2, 1, (0, 1), (1, 0), id="TF-SAME-224-f3-s2"),
        pytest.param(7, 3, 2, 2, (2, 2), (2, 2), id="dilated-d2-s2"),
        pytest.param(8, 2, 2, 1, (0, 0), (0, 0), id="stride-divides-no-padding"),
        pytest.param(8, 1, 3, 1, (0, 0), (0, 0), id="negative-total-clipped-to-zero"),
    ],
)
def test_same_padding_upper_and_lower(n, f, s, d, upper, lower):
    assert fm.same_padding(n, f, s, d) == upper
    assert fm.same_padding(n, f, s, d, lower=True) == lower


@pytest.mark.parametrize(
    ("f", "d", "expected"),
    [
        pytest.param(3, 1, (2, 2), id="DV16-rel4-k3-p2"),
        pytest.param(1, 1, (0, 0), id="1x1-needs-none"),
        pytest.param(3, 2, (4, 4), id="dilated-d2"),
    ],
)
def test_full_padding(f, d, expected):
    assert fm.full_padding(f, d) == expected


@pytest.mark.parametrize(
    ("n", "f", "s", "pad", "expected"),
    [
        pytest.param(5, 3, 1, (0, 2), 5, id="all-padding-after"),
        pytest.param(5, 3, 1, (2, 0), 5, id="all-padding-before"),
        pytest.param(224, 3, 2, (0, 1), 112, id="TF-SAME-224-s2"),
        pytest.param(6, 4, 2, (1, 0), 2, id="one-side-odd"),
    ],
)
def test_conv_output_with_asymmetric_padding(n, f, s, pad, expected):
    assert fm.conv_output(n, f, s, pad) == expected


# ---------------------------------------------------------------------------
# Leftover positions and receptive fields
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "f", "s", "pad", "expected"),
    [
        pytest.param(7, 2, 2, (0, 0), 1, id="7-f2-s2-misses-one"),
        pytest.param(8, 2, 2, (0, 0), 0, id="8-f2-s2-tiles"),
        pytest.param(8, 3, 3, (0, 0), 2, id="8-f3-s3-misses-two"),
        pytest.param(6, 3, 2, (1, 1), 1, id="DV16-rel6-odd-bottom-row-uncovered"),
        pytest.param(5, 3, 2, (1, 1), 0, id="DV16-rel6-tiles"),
    ],
)
def test_uncovered(n, f, s, pad, expected):
    assert fm.uncovered(n, f, s, pad) == expected


def _receptive_field(layers: list[tuple[int, int, int]]) -> tuple[int, int]:
    rf, jump = 1, 1
    for f, s, d in layers:
        rf, jump = fm.receptive_field(rf, jump, f, s, d)
    return rf, jump


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        pytest.param([(3, 1, 1)] * 2, (5, 1), id="VGG-two-3x3-see-5x5"),
        pytest.param([(3, 1, 1)] * 3, (7, 1), id="VGG-three-3x3-see-7x7"),
        pytest.param([(11, 4, 1), (3, 2, 1)], (19, 8), id="AlexNet-pool1-19"),
        pytest.param([(11, 4, 1), (3, 2, 1), (5, 1, 1)], (51, 8), id="AlexNet-conv2-51"),
        pytest.param([(2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)], (16, 1), id="WaveNet-16"),
    ],
)
def test_receptive_field_of_known_stacks(layers, expected):
    assert _receptive_field(layers) == expected


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda: fm.conv_output(5, 7), GeometryError, "larger than the padded input 5", id="k>i"
        ),
        pytest.param(
            lambda: fm.conv_output(5, 3, d=3),
            GeometryError,
            "kernel extent 7",
            id="dilated-kernel>i",
        ),
        pytest.param(
            lambda: fm.pool_output(2, 5, 2, ceil=True),
            GeometryError,
            "larger than the padded input",
            id="ceil-pool-overhang-of-a-whole-stride",
        ),
        pytest.param(
            lambda: fm.tconv_output(3, 3, 2, output_padding=2),
            GeometryError,
            r"below max\(stride, dilation\) = 2",
            id="output-padding-equal-to-stride",
        ),
        pytest.param(
            lambda: fm.tconv_output(3, 3, 1, output_padding=1),
            GeometryError,
            "output padding 1",
            id="output-padding-with-unit-stride",
        ),
        pytest.param(
            lambda: fm.tconv_output(3, 3, 2, output_padding=-1),
            GeometryError,
            "at least 0",
            id="negative-output-padding",
        ),
        pytest.param(
            lambda: fm.tconv_output(1, 1, 1, (1, 1)),
            GeometryError,
            "leaves no output",
            id="tconv-padding-eats-everything",
        ),
        pytest.param(
            lambda: fm.max_unpool_output(1, 1, 1, 1),
            GeometryError,
            "leaves no output",
            id="unpool-padding-eats-everything",
        ),
        pytest.param(
            lambda: fm.conv_output(0, 1, 1, (1, 1)),
            UsageError,
            "input size must be at least 1, not 0",
            id="empty-input-with-padding",
        ),
        pytest.param(
            lambda: fm.pool_output(-2, 1, 1, ceil=True),
            UsageError,
            "input size must be at least 1",
            id="negative-input-ceil-pool",
        ),
        pytest.param(
            lambda: fm.tconv_output(0, 5), UsageError, "at least 1, not 0", id="empty-tconv-input"
        ),
        pytest.param(
            lambda: fm.max_unpool_output(0, 3, 1), UsageError, "at least 1", id="empty-unpool-input"
        ),
        pytest.param(
            lambda: fm.upsample_output(0, 2), UsageError, "at least 1", id="empty-upsample-input"
        ),
    ],
)
def test_impossible_geometry_raises(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("target", "n", "f", "s", "p"),
    [
        pytest.param(9, 3, 3, 2, 1, id="conv-of-9-gives-5-not-3"),
        pytest.param(4, 3, 3, 2, 1, id="conv-of-4-gives-2-not-3"),
    ],
)
def test_unreachable_output_padding_is_none(target, n, f, s, p):
    assert fm.tconv_output_padding(target, n, f, s, (p, p)) is None


def test_output_padding_may_reach_dilation_when_dilation_exceeds_stride():
    """[PT] output_padding must be smaller than either stride or dilation."""
    assert fm.tconv_output(3, 3, 1, d=2, output_padding=1) == 8


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

sizes = st.integers(1, 300)
kernels = st.integers(1, 11)
strides = st.integers(1, 6)
dilations = st.integers(1, 4)


@given(n=sizes, f=kernels, s=strides, d=dilations)
@example(n=224, f=3, s=2, d=1)
@example(n=1, f=11, s=6, d=4)
def test_same_padding_keeps_ceil_n_over_s(n, f, s, d):
    for lower in (False, True):
        pad = fm.same_padding(n, f, s, d, lower)
        assert fm.conv_output(n, f, s, pad, d) == -(-n // s)


@given(n=sizes, f=kernels, s=strides, d=dilations)
@example(n=5, f=4, s=1, d=1)
def test_same_lower_is_same_upper_swapped(n, f, s, d):
    before, after = fm.same_padding(n, f, s, d)
    assert fm.same_padding(n, f, s, d, lower=True) == (after, before)
    assert 0 <= after - before <= 1


@given(n=sizes, f=kernels, s=strides, d=dilations)
@example(n=8, f=1, s=3, d=1)
def test_same_padding_covers_everything_when_the_kernel_spans_a_stride(n, f, s, d):
    assume(fm.effective_kernel(f, d) >= s)
    assert fm.uncovered(n, f, s, fm.same_padding(n, f, s, d), d) == 0


@given(n=sizes, f=kernels, d=dilations)
def test_full_padding_with_unit_stride_grows_by_the_kernel_extent(n, f, d):
    assert fm.conv_output(n, f, 1, fm.full_padding(f, d), d) == n + d * (f - 1)


@st.composite
def conv_geometry(draw):
    """N, F, S, (P, P), D for which the convolution is valid."""
    f, s, d = draw(kernels), draw(strides), draw(dilations)
    p = draw(st.integers(0, 5))
    n = draw(st.integers(max(1, fm.effective_kernel(f, d) - 2 * p), 300))
    return n, f, s, (p, p), d


@given(conv_geometry())
@example((6, 3, 2, (1, 1), 1))
@example((7, 2, 1, (0, 0), 3))
def test_transposed_conv_with_computed_output_padding_restores_the_size(geometry):
    m, f, s, pad, d = geometry
    n = fm.conv_output(m, f, s, pad, d)
    a = fm.tconv_output_padding(m, n, f, s, pad, d)
    assert a is not None
    assert fm.tconv_output(n, f, s, pad, d, a) == m


@given(conv_geometry())
@example((7, 2, 2, (0, 0), 1))
def test_conv_output_counts_window_positions(geometry):
    n, f, s, pad, d = geometry
    padded = n + pad[0] + pad[1]
    starts = range(0, padded - fm.effective_kernel(f, d) + 1, s)
    assert fm.conv_output(n, f, s, pad, d) == len(starts)


@given(conv_geometry())
@example((7, 2, 2, (0, 0), 1))
@example((6, 3, 2, (1, 1), 1))
def test_uncovered_is_what_lies_past_the_last_window(geometry):
    n, f, s, pad, d = geometry
    out = fm.conv_output(n, f, s, pad, d)
    last_end = (out - 1) * s + fm.effective_kernel(f, d)
    left = fm.uncovered(n, f, s, pad, d)
    assert left == n + pad[0] + pad[1] - last_end
    assert 0 <= left < s
    course_formula = (n + pad[0] + pad[1] - fm.effective_kernel(f, d)) / s + 1
    assert (left == 0) == course_formula.is_integer()


@given(conv_geometry())
def test_conv_output_is_monotone_in_the_input_size(geometry):
    n, f, s, pad, d = geometry
    assert fm.conv_output(n, f, s, pad, d) <= fm.conv_output(n + 1, f, s, pad, d)


@st.composite
def pool_geometry(draw):
    """N, F, S, P with P at most half of F, as PyTorch requires, and a valid pool."""
    f, s = draw(kernels), draw(strides)
    p = draw(st.integers(0, f // 2))
    n = draw(st.integers(max(1, f - 2 * p), 300))
    return n, f, s, p


@given(pool_geometry())
@example((5, 2, 2, 1))
@example((7, 2, 2, 0))
def test_ceil_mode_adds_at_most_one_window(geometry):
    n, f, s, p = geometry
    floor = fm.pool_output(n, f, s, (p, p))
    assert fm.pool_output(n, f, s, (p, p), ceil=True) in (floor, floor + 1)


@given(pool_geometry())
@example((8, 2, 2, 0))
@example((7, 3, 2, 1))
def test_max_unpool_restores_what_the_pool_covered(geometry):
    """Unpooling gives back N exactly when the windows tile it, else N less the leftover."""
    n, f, s, p = geometry
    assume(f > 2 * p)  # otherwise a window may hold padding only
    pooled = fm.pool_output(n, f, s, (p, p))
    restored = fm.max_unpool_output(pooled, f, s, p)
    assert restored == n - fm.uncovered(n, f, s, (p, p))
    assert (restored == n) == ((n + 2 * p - f) % s == 0)
