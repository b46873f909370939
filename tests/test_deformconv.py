"""A deformable convolution with its offset convolution, as mmcv's DeformConv2dPack and
ModulatedDeformConv2dPack build it (mmcv/ops/deform_conv.py, modulated_deform_conv.py): the
offsets come from an ``nn.Conv2d(in_channels, deform_groups * 2 * kh * kw, kernel_size, stride,
padding, dilation, bias=True)`` (``3 * kh * kw`` with masks), the output is the convolution's."""

import pytest
from click.testing import CliRunner

from cnncalc.api import trace
from cnncalc.cli import main
from cnncalc.core.errors import GeometryError
from cnncalc.core.shapes import Shape
from cnncalc.kinds.windows import DeformConv
from cnncalc.render.layer import layer_report

# ResNet-50's 3x3 conv of its second stage with DCN (mmdetection's dcn=dict(type="DCN")), and a
# strided, grouped, modulated one: every count by hand from the module's definition.
CASES = [
    # 256*256*9 weights; offsets 18 = 2*3*3: 18*256*9 weights + 18 biases
    (DeformConv(256, f=3, pad=1, bias=False), Shape((56, 56), 256),
     Shape((56, 56), 256), 589_824 + 41_490, 56 * 56 * (589_824 + 41_472)),
    # 64*(32/2)*9 + 64 biases; masks too, 4 groups: 4*27 = 108 outputs, 108*32*9 + 108
    (DeformConv(64, f=3, stride=2, pad=1, groups=2, deform_groups=4, modulated=True),
     Shape((15, 15), 32), Shape((8, 8), 64), 9_280 + 31_212, 8 * 8 * (9_216 + 31_104)),
]  # fmt: skip


@pytest.mark.parametrize("layer, x, shape, params, macs", CASES)
def test_counts_are_the_convolution_and_its_offsets(layer, x, shape, params, macs):
    out = layer.apply(x)
    assert (out.shape, out.params, out.macs) == (shape, params, macs)


def test_the_working_shows_both_convolutions():
    layer, x = CASES[0][:2]
    text = layer_report(layer, x, layer.apply(x), "table")
    assert "631,314 = 589,824 of the convolution + 41,490 of its offsets" in text
    assert "(18*256*3*3 weights + 18 biases)" in text


def test_its_receptive_field_is_the_whole_input():
    data = trace("20x20x8 | conv 8 f3 p1 | deformconv 8 f3 p1 | conv 8 f3 p1")
    assert [layer["rf"]["size"] for layer in data["layers"]] == [3, 22, 24]


def test_deformable_groups_must_divide_the_channels():
    with pytest.raises(GeometryError, match="deformable groups 3 does not divide the 8 input"):
        DeformConv(8, deform_groups=3).apply(Shape((8, 8), 8))
    result = CliRunner().invoke(main, ["trace", "8x8x8 | deformconv 8 deform_groups=0"])
    assert result.exit_code == 1
    assert "deformable groups must be at least 1, not 0" in result.stderr


def test_a_window_left_over_is_named_as_the_deformable_convolution():
    (warning,) = DeformConv(4, f=2, stride=2).apply(Shape((7, 7), 8)).warnings
    assert warning.startswith("deformconv: rows and columns: (7 + 0 - 2)/2 + 1 = 3.5")
