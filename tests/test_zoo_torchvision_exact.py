"""The second wave of torchvision networks in the zoo, exact to the last parameter.

Each row was measured on torchvision 0.29 (``weights=None``; segmentation models with
``aux_loss=False``, ``weights_backbone=None``, 21 classes) in a scratch environment:
``sum(p.numel())`` for parameters, the buffers without ``num_batches_tracked`` (batch norm's
running mean and variance, 2C each), and forward hooks on Conv2d and Linear counting output
elements x in_channels / groups x kernel elements. The published figures agree where
torchvision's table gives them (convnext_tiny 28,589,128 and 4.46 GFLOPS, resnext50_32x4d
25,028,904 and 4.23); the segmentation models' table rows include the auxiliary head.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc.analysis.tracer import trace
from cnncalc.api import load
from cnncalc.cli import main
from cnncalc.core.shapes import Shape

# name: (input, params, buffers, macs, output)
TORCHVISION = {
    "resnext50_32x4d": ("224x224x3", 25_028_904, 68_224, 4_230_479_872, "1000"),
    "wide_resnet50_2": ("224x224x3", 68_883_240, 68_224, 11_398_021_120, "1000"),
    "convnext_tiny": ("224x224x3", 28_589_128, 0, 4_455_531_264, "1000"),
    "densenet201": ("224x224x3", 20_013_928, 229_056, 4_291_365_888, "1000"),
    "vgg13_bn": ("224x224x3", 133_053_736, 5_888, 11_308_466_176, "1000"),
    "fcn_resnet50": ("520x520x3", 32_957_013, 54_144, 142_725_772_800, "520x520x21"),
    "deeplabv3_resnet50": ("520x520x3", 39_638_869, 56_704, 168_731_205_888, "520x520x21"),
}


@pytest.mark.parametrize("name", TORCHVISION)
def test_params_buffers_macs_and_output_are_torchvisions(name):
    shape, params, buffers, macs, output = TORCHVISION[name]
    t = trace(load(name))
    assert t.ok, t.errors
    assert str(t.network.input) == shape
    totals = t.totals()
    assert (totals.params, totals.buffers, totals.macs) == (params, buffers, macs)
    assert str(t.output) == output


# name: MACs at 513x513x3, measured on torchvision as above
SEGMENTATION_513 = {"fcn_resnet50": 142_647_529_152, "deeplabv3_resnet50": 168_652_962_240}


@pytest.mark.parametrize("name", SEGMENTATION_513)
def test_segmentation_gives_513x513x21_for_513x513x3_as_torchvision_does(name):
    result = CliRunner().invoke(main, ["trace", name, "--input", "513x513x3", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["output"] == [513, 513, 21]
    assert out["totals"]["macs"] == SEGMENTATION_513[name]


@pytest.mark.parametrize("name", SEGMENTATION_513)
@pytest.mark.parametrize("size", [(97, 97), (480, 640), (33, 1000)])
def test_segmentation_output_is_the_size_of_any_input(name, size):
    t = trace(load(name), Shape(size, 3))
    assert t.ok, t.errors
    assert t.output == Shape(size, 21)
