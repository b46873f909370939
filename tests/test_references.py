"""References (``from``, ``crop to=``): full names, names carried by block arguments, and
lexical lookup so that a block can refer to its own layers."""

import pytest

from cnncalc.analysis.tracer import trace
from cnncalc.formats.spec import load_spec

RESIDUAL = """
input: 8x8x16
blocks:
  unit:
    args: {c: 16, stride: 1}
    layers:
      - identity name=input
      - conv c f3 s=stride p1 name=conv1
      - add:
          - identity
          - [from input, {if: stride != 1, conv: {filters: c, f: 1, stride: stride}}]
layers:
  - {repeat: 2, name: stage1, layers: [unit]}
  - unit c=32 stride=2 name=down
"""


def test_a_block_refers_to_its_own_input_in_every_call():
    t = trace(load_spec(RESIDUAL))
    assert t.ok, t.errors
    assert str(t.output) == "4x4x32"
    assert {str(t.shapes[n]) for n in ("stage1.0.input", "stage1.1.input")} == {"8x8x16"}
    assert [r.name for r in t.rows if r.kind == "conv"] == [
        "stage1.0.conv1",
        "stage1.1.conv1",
        "down.conv1",
        "down.add1.1.conv1",
    ]


UNET = """
input: 40x40x4
blocks:
  down: {args: {c: null}, layers: [conv c f3 name=conv, maxpool 2]}
  up:
    args: {c: null, skip: null}
    layers:
      - tconv c f2 s2 name=upconv
      - concat: [[from skip, crop to=upconv], identity]
layers:
  - down c=8 name=down1                     # conv 38x38x8, then 19x19x8
  - down c=16 name=down2                    # conv 17x17x16, then 8x8x16
  - conv 32 f3                              # 6x6x32
  - up c=16 skip=down2.conv name=up1        # 12x12x16 beside down2.conv cropped to 12x12
  - {up: {c: 8, skip: down1.conv}, name: up2}
"""


def test_a_block_crops_to_its_own_layer_and_takes_the_skip_from_an_argument():
    t = trace(load_spec(UNET))
    assert t.ok, t.errors
    assert str(t.shapes["up1.concat1.0.crop1"]) == "12x12x16"
    assert str(t.shapes["up1"]) == "12x12x32"
    assert str(t.shapes["up2.concat1.0.crop1"]) == "24x24x8"
    assert str(t.output) == "24x24x16"


@pytest.mark.parametrize(
    "item",
    [
        "from block.conv1",
        "from: block.conv1",
        "{from: block.conv1}",
        "crop to=block.conv1",
        "{crop: {to: block.conv1}}",
        "from: block-2.conv1",  # a dash in a name is not a minus
    ],
)
def test_dotted_full_names_are_names_not_arithmetic(item):
    text = f"""
input: 12x12x3
blocks:
  pair: {{layers: [conv 4 f3, conv 4 f3]}}
layers:
  - pair name=block               # 12 -> 10 -> 8: block.conv1 is 10x10x4
  - zeropad 2
  - pair name=block-2             # the same again
  - zeropad 2                     # 12x12x4
  - {item}
"""
    t = trace(load_spec(text))
    assert t.ok, t.errors
    assert t.output is not None and t.output.spatial == (10, 10)


def test_an_unknown_reference_is_reported_with_a_hint():
    t = trace(load_spec("input: 8x8x3\nlayers: [conv 4 f3 name=first, from frist]\n"))
    assert t.errors and "did you mean 'first'" in t.errors[0].message
