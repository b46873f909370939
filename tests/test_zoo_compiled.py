"""The zoo's compiled files are exactly what its YAML specs give.

``cnncalc trace resnet152`` reads ``cnncalc/zoo/compiled/resnet152.json`` instead of parsing
the YAML (start-up time); these tests keep the two from drifting, and
``pytest --update-snapshots`` rewrites the compiled files after a spec changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnncalc import zoo
from cnncalc.analysis.tracer import trace
from cnncalc.api import load
from cnncalc.formats.compiled import network_data
from cnncalc.formats.spec import load_spec


def from_yaml(name: str):
    path = zoo.path(name)
    assert path is not None
    return load_spec(Path(path).read_text(encoding="utf-8"), name)


@pytest.mark.parametrize("name", zoo.names())
def test_compiled_file_is_what_the_spec_gives(golden, name):
    data = network_data(from_yaml(name))
    golden(Path(zoo.compiled_path(name)), json.dumps(data, separators=(",", ":")) + "\n")


@pytest.mark.parametrize("name", ["resnet152", "googlenet", "unet", "inception_v3"])
def test_a_compiled_network_traces_as_its_spec_does(name):
    compiled, parsed = trace(load(name)), trace(from_yaml(name))
    assert compiled.rows == parsed.rows
    assert compiled.output == parsed.output and compiled.warnings == parsed.warnings
    assert compiled.network.text == Path(zoo.path(name) or "").read_text(encoding="utf-8")
