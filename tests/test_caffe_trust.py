"""Caffe files read as Caffe reads them, or refused with a located reason: issue 16's third
round. Every fixture is written here, small, for the construct it tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cnncalc.api import load
from cnncalc.cli import main
from cnncalc.core.errors import SpecError


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def write(tmp_path: Path, text: str, name: str = "net.prototxt") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def net(*layers: str, shape: str = "1 4 4 4") -> str:
    dims = " ".join(f"dim: {d}" for d in shape.split())
    data = (
        f'layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ {dims} }} }} }}'
    )
    return "\n".join(['name: "t"', data, *layers]) + "\n"


# --- 1. a layer left out of the trace never rewires the graph --------------------------------

IP = (
    'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" '
    "inner_product_param { num_output: 3 } }"
)


@pytest.mark.parametrize("kind", ["SoftmaxWithLoss", "Silence", "Accuracy", "EuclideanLoss"])
def test_a_left_out_layer_written_in_place_passes_its_bottom_through(tmp_path, kind):
    path = write(tmp_path, net(IP, f'layer {{ name: "x" type: "{kind}" bottom: "ip" top: "ip" }}'))
    traced = run("trace", path, "--format", "json")
    assert traced.exit_code == 0, traced.output
    assert json.loads(traced.stdout)["output"] == [3]
    converted = run("convert", path)
    assert converted.exit_code == 0, converted.output
    assert "output: 3\n" in converted.stdout


def test_a_left_out_layer_overwriting_a_traced_blob_is_refused(tmp_path):
    text = net(IP, 'layer { name: "acc" type: "Accuracy" bottom: "data" top: "ip" }')
    with pytest.raises(SpecError) as e:
        load(write(tmp_path, text))
    assert "Accuracy (not in a deploy trace): its top 'ip' overwrites the output" in str(e.value)
