"""Values in specs: the course notation must never be read as a number in another base."""

import pytest

from cnncalc.analysis.tracer import trace
from cnncalc.formats.spec import load_spec


def output(layer: str, shape: str = "17x17x3") -> str:
    return str(trace(load_spec(f"input: {shape}\nlayers:\n  - {layer}\n")).output)


@pytest.mark.parametrize(
    "layer, expected",
    [
        # 0x3 is rows 0, columns 3: not hexadecimal 3 (Python's reading, and YAML's)
        ("conv 8 f1x7 p0x3", "17x17x8"),
        ("{conv: {filters: 8, f: 1x7, pad: 0x3}}", "17x17x8"),
        ("{conv: {filters: 8, f: 7x1, pad: 3x0}}", "17x17x8"),
        # 1:0 is one row or column before, none after: not YAML 1.1's sexagesimal 60
        ("{conv: {filters: 8, f: 3, pad: 1:0}}", "16x16x8"),
        ("conv 8 f3 p1:0", "16x16x8"),
        ("{conv: {filters: 8, f: 3, pad: '0:1'}}", "16x16x8"),
        # ordinary YAML integers still work
        ("{conv: {filters: 1_0, f: 3}}", "15x15x10"),
    ],
)
def test_per_dimension_notation_is_not_a_number(layer, expected):
    assert output(layer) == expected


def test_notation_passes_through_block_arguments():
    text = """
input: 17x17x3
blocks:
  unit: {args: {f: 1, pad: 0}, layers: [conv 8 f=f p=pad]}
layers:
  - unit f=1x7 pad=0x3
  - unit: {f: 7x1, pad: 3x0}
"""
    assert str(trace(load_spec(text)).output) == "17x17x8"


def test_reading_specs_keeps_none_of_their_values():
    """A process that reads many specs (an editor's checker, a test suite) must not keep
    each one's YAML nodes: PyYAML's constructor remembers every node it built."""
    from cnncalc.formats import yaml_source

    items = "".join(
        f"  - conv: {{filters: {i + 1}, bias: no}}\n  - leakyrelu: {{slope: 0.1}}\n"
        for i in range(50)
    )
    for _ in range(3):
        load_spec(f"name: t\ninput: 8x8x3\nlayers:\n{items}")
    assert not yaml_source._CONSTRUCTOR.constructed_objects
