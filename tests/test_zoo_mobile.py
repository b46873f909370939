"""The mobile-sized torchvision networks of the zoo, exact to the reference.

Every number below was counted with torch on torchvision 0.29.1's models at 224x224x3
(parameters; buffers without num_batches_tracked; MACs of Conv2d and Linear weights), not
taken from our output; test_zoo.py checks the published (rounded) figures.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from cnncalc import zoo
from cnncalc.analysis.tracer import Trace, trace
from cnncalc.api import load

# model: (trainable parameters, batch-norm running statistics, MACs)
REFERENCE = {
    "mobilenet_v3_large": (5_483_032, 24_400, 216_589_760),
    "mobilenet_v3_small": (2_542_856, 12_112, 56_510_400),
    "efficientnet_b0": (5_288_548, 42_016, 385_814_752),
    "shufflenet_v2_x1_0": (2_278_604, 16_180, 144_907_992),
    "regnet_y_400mf": (4_344_144, 27_152, 401_842_848),
    "regnet_x_400mf": (5_495_976, 37_856, 413_812_608),
    "mnasnet1_0": (4_383_312, 37_920, 314_415_872),
}


@cache
def traced(name: str) -> Trace:
    return trace(load(name))


@pytest.mark.parametrize("name, params, buffers, macs", [(n, *v) for n, v in REFERENCE.items()])
def test_parameters_buffers_and_macs_are_torchvisions(name, params, buffers, macs):
    t = traced(name)
    totals = t.totals()
    assert (totals.params, totals.buffers, totals.macs) == (params, buffers, macs)
    assert str(t.output) == "1000"


def test_mobilenet_v3_squeezes_to_a_multiple_of_8_that_loses_at_most_10_percent():
    t = traced("mobilenet_v3_large")
    # _make_divisible(72 // 4, 8): 16 would lose 11% of 18, so 24
    assert str(t.shapes["bneck4.se.mul1.0.fc1"]) == "1x1x24"
    assert str(t.shapes["bneck13.se.mul1.0.fc1"]) == "1x1x168"
    small = traced("mobilenet_v3_small")
    assert str(small.shapes["bneck1.se.mul1.0.fc1"]) == "1x1x8"  # at least 8


def test_the_mobilenet_v3s_share_their_blocks():
    def blocks(name: str) -> str:
        text = Path(zoo.path(name) or "").read_text(encoding="utf-8")
        return text.split("\nblocks:", 1)[1].split("\nlayers:", 1)[0]

    assert blocks("mobilenet_v3_small") == blocks("mobilenet_v3_large")


def test_efficientnet_squeezes_a_quarter_of_the_blocks_input_and_drops_paths_linearly():
    t = traced("efficientnet_b0")
    assert str(t.shapes["stage6.0.se.mul1.0.fc1"]) == "1x1x28"  # 112 // 4, not 672 // 4
    drops = [r for r in t.rows if r.kind == "droppath"]
    assert [r.name for r in drops][:2] == ["stage2.1.add1.0.droppath1", "stage3.1.add1.0.droppath1"]
    assert len(drops) == 9  # the blocks whose shape is unchanged


def test_shufflenet_splits_units_of_stride_1_and_feeds_both_branches_of_stride_2():
    t = traced("shufflenet_v2_x1_0")
    unit = "stage3.1.concat1"
    assert [str(t.shapes[f"{unit}.{b}.chunk1"]) for b in (0, 1)] == ["14x14x116"] * 2
    down = "stage3.0.concat1"  # both branches read the whole 28x28x116 input
    assert str(t.shapes[f"{down}.1.branch2.conv_bn_relu1"]) == "28x28x116"
    assert str(t.shapes[f"{down}.0.branch1"]) == str(t.shapes[f"{down}.1.branch2"]) == "14x14x116"
    assert [r.kind for r in t.rows].count("shuffle") == 4 + 8 + 4


def test_regnet_y_widths_come_from_the_design_space_as_torchvisions_stages():
    t = traced("regnet_y_400mf")
    blocks = [str(t.shapes[f"trunk_output.{j}"]) for j in range(16)]
    # torchvision's BlockParams: stage depths 1, 3, 6, 6 and widths 48, 104, 208, 440
    assert blocks == ["56x56x48"] + ["28x28x104"] * 3 + ["14x14x208"] * 6 + ["7x7x440"] * 6
    # squeeze-and-excitation to a quarter of the block's input: 48 // 4 first, then 104 // 4
    se = [str(t.shapes[f"trunk_output.{j}.add1.1.se.mul1.0.fc1"]) for j in (1, 2)]
    assert se == ["1x1x12", "1x1x26"]


def test_regnet_x_widths_are_made_multiples_of_the_group_width():
    t = traced("regnet_x_400mf")
    blocks = [str(t.shapes[f"trunk_output.{j}"]) for j in range(22)]
    # quantised 24, 64, 152, 392; _make_divisible to group width 16: 32, 64, 160, 400
    assert blocks == ["56x56x32"] + ["28x28x64"] * 2 + ["14x14x160"] * 7 + ["7x7x400"] * 12
    assert not any(".se." in r.name for r in t.rows)


def test_the_regnets_differ_only_in_their_design_space():
    design = ("depth:", "w_0:", "w_a:", "w_m:", "group_width:", "se_ratio:", "- repeat:")

    def structure(name: str) -> list[str]:
        text = Path(zoo.path(name) or "").read_text(encoding="utf-8")
        lines = text.split("\nblocks:", 1)[1].split("\nexpect:", 1)[0].splitlines()
        return [line for line in lines if not line.lstrip().startswith(design)]

    assert structure("regnet_x_400mf") == structure("regnet_y_400mf")
