"""Several outputs: a network's heads named in ``outputs``, checked by ``expect.output``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from cnncalc.analysis.tracer import trace
from cnncalc.api import load
from cnncalc.cli import main

HEADS = """\
input: 64x64x3
layers:
  - conv 16 f3 s2 p1 name=c1
  - conv 32 f3 s2 p1 name=c2
  - conv 8 f1 name=small
  - from c1
  - conv 8 f1 name=large
outputs: [large, small]
expect:
  output: {small: 16x16x8, large: 32x32x8}
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_each_named_output_has_its_shape():
    t = trace(load(HEADS))
    # (64 + 2 - 3)//2 + 1 = 32, then 16; a 1x1 conv keeps the size
    assert t.outputs == {"large": t.shapes["large"], "small": t.shapes["small"]}
    assert [str(t.outputs[name]) for name in ("large", "small")] == ["32x32x8", "16x16x8"]


def test_check_passes_when_every_output_is_as_expected(tmp_path):
    spec = tmp_path / "heads.yaml"
    spec.write_text(HEADS, encoding="utf-8")
    result = run("check", str(spec))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("change", "line", "column", "words"),
    [
        (("[large, small]", "[large, smal]"), 8, 18, "smal: outputs: no layer named 'smal'"),
        (("small: 16x16x8", "small: 8x8x8"), 10, 12, "small: expected output small to be 8x8x8"),
        (("{small:", "{tiny:"), 10, 12, "tiny: expected an output named 'tiny'; the outputs are"),
        (("[large, small]", "[large, large]"), 8, 18, "output 'large' is listed twice"),
    ],
)
def test_a_wrong_output_is_one_located_line(tmp_path, change, line, column, words):
    spec = tmp_path / "heads.yaml"
    spec.write_text(HEADS.replace(*change), encoding="utf-8")
    result = run("check", str(spec))
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [text for text in result.stdout.splitlines() if ": error: " in text]
    assert errors[0].startswith(f"{spec}:{line}:{column}: error: {words}"), errors


def test_the_outputs_are_in_the_json_and_marked_in_the_table(tmp_path):
    import json

    spec = tmp_path / "heads.yaml"
    spec.write_text(HEADS, encoding="utf-8")
    data = json.loads(run("trace", str(spec), "--format", "json").stdout)
    assert data["outputs"] == {"large": [32, 32, 8], "small": [16, 16, 8]}
    assert data["output"] == [32, 32, 8]  # the last layer's, as for any network
    assert [layer["name"] for layer in data["layers"] if layer.get("is_output")] == [
        "small",
        "large",
    ]
    table = run("trace", str(spec)).stdout
    assert "│ small ⇒ │" in table and "│ c1      │" in table
    assert table.rstrip().endswith("outputs (⇒): large 32x32x8, small 16x16x8")
    assert "outputs" not in json.loads(run("trace", "lenet5", "--format", "json").stdout)
