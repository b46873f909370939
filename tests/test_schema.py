"""The JSON Schema of specs agrees with the spec reader: what the reader accepts validates, and
the structural mistakes it rejects, the schema rejects too."""

from __future__ import annotations

import re
import textwrap
from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from cnncalc.formats.schema import spec_schema
from cnncalc.formats.spec import SpecError, load_spec
from cnncalc.kinds import ALIASES, REGISTRY

jsonschema = pytest.importorskip("jsonschema")

ZOO = files("cnncalc.zoo")
ZOO_SPECS = sorted(p.name for p in ZOO.iterdir() if p.name.endswith(".yaml"))
DOCS = Path(__file__).parents[1] / "docs" / "spec.md"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = spec_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def problems(validator: jsonschema.Draft7Validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(yaml.safe_load(text))]


def test_schema_names_itself():
    schema = spec_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"] == "https://cnncalc.dev/schema/spec.json"
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize("name", ZOO_SPECS)
def test_every_zoo_spec_validates(validator, name):
    assert problems(validator, (ZOO / name).read_text(encoding="utf-8")) == []


def test_the_documented_example_validates(validator):
    (example,) = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    load_spec(example)
    assert problems(validator, example) == []


VALID = {
    "inline input and layers only": """
        input: 28x28x1
        layers: [conv 8 f3, relu, maxpool 2, flatten, fc 10]
    """,
    "mapping forms: parameters, bare value, bare word, nothing, shorthands, aliases": """
        input: [32, 32, 3]
        convention: tensorflow
        layers:
          - conv2d: {filters: 16, f: 1x7, s: 2, pad: 0x3, bias: false}
          - conv: same
          - zeropad: {pad: [[0, 1], 1]}
          - maxpool: 2
          - relu:
          - dropout: {p: 0.25}
          - {name: head, fc: 10}
    """,
    "blocks, repeat, merges, references and expressions": """
        input: 8x8x4
        layout: hwc
        blocks:
          unit:
            description: a residual unit
            args: {c: null, stride: 1}
            layers:
              - identity name=input
              - conv: {filters: c * 2, f: 3, stride: stride, pad: 1}
              - conv c f1
              - add:
                  - identity
                  - - from input
                    - {if: stride != 1, conv: {filters: c, f: 1, stride: stride}}
          plain: {args: [c], layers: ["conv c f1"]}
        layers:
          - {repeat: 2, as: k, name: stage, layers: [{unit: {c: 4, stride: "2 if k == 0 else 1"}}]}
          - concat: [plain 2, [], {plain: 2}]
          - from: stage.1
          - gap
        expect: {output: 4x4x4, params: 1_234, shapes: {stage: 4x4x4}}
    """,
    "a join's parameters beside its branches": """
        input: 8x8x4
        blocks:
          tall: {args: {a: 2}, layers: [{concat: [identity, identity], axis: a}]}
          axis: {args: [c], layers: ["conv c f1"]}
        layers:
          - add: [[conv 4 f1], identity]
            coeff: [1, -0.5]
            name: difference
          - {concat: [identity, [conv 4 f1]], if: true, axis: 3}
          - tall
          - axis: 3
    """,
}


@pytest.mark.parametrize("text", VALID.values(), ids=VALID.keys())
def test_hand_written_specs_validate(validator, text):
    text = textwrap.dedent(text)
    load_spec(text)
    assert problems(validator, text) == []


REJECTED = [
    pytest.param("input: 8x8x3\nlayers: [relu]\nouptut: 10\n", id="unknown top-level key"),
    pytest.param("input: 8x8x3\nlayers: 3\n", id="layers not a list"),
    pytest.param("input: {a: 1}\nlayers: [relu]\n", id="input not a shape"),
    pytest.param("layers: [relu]\n", id="no input"),
    pytest.param("input: 8x8x3\nlayers:\n  - name: rélu\n    relu:\n", id="a name not ASCII"),
    pytest.param("input: 8x8x3\nlayers: [{conv: 3, relu: null}]\n", id="two kinds in one item"),
    pytest.param("input: 8x8x3\nlayers: [{name: a, if: true}]\n", id="an item of name and if only"),
    pytest.param(
        "input: 8x8x3\nlayers: [{conv: {filters: 3, kernel: 3}}]\n",
        id="unknown parameter of a known kind",
    ),
    pytest.param(
        "input: 8x8x3\nlayers: [{conv: {filters: 3, bias: 1}}]\n",
        id="a parameter of the wrong type",
    ),
    pytest.param("input: 8x8x3\nlayers: [{relu: 3}]\n", id="a bare value for a kind without one"),
    pytest.param("input: 8x8x3\nlayers: [{add: [identity]}]\n", id="a merge with one branch"),
    pytest.param(
        "input: 8x8x3\nlayers: [{concat: [identity, identity], coeff: [1, 1]}]\n",
        id="a parameter of another join",
    ),
    pytest.param(
        "input: 8x8x3\nlayers: [{add: [identity, identity], coeff: 1}]\n",
        id="a join parameter of the wrong type",
    ),
    pytest.param(
        "input: 8x8x3\nlayers: [{add: [identity, identity], mean: [identity, identity]}]\n",
        id="two joins in one item",
    ),
    pytest.param("input: 8x8x3\nlayers: [{relu: null, axis: 2}]\n", id="a join parameter alone"),
    pytest.param("input: 8x8x3\nlayers: [{repeat: 2}]\n", id="a repeat without layers"),
    pytest.param(
        "input: 8x8x3\nlayers: [{repeat: 2, layers: [relu], fc: 3}]\n",
        id="a repeat with a stray key",
    ),
    pytest.param("input: 8x8x3\nlayers: [{name: 2x, relu: null}]\n", id="a bad item name"),
    pytest.param(
        "input: 8x8x3\nblocks: {conv: {layers: [relu]}}\nlayers: [relu]\n",
        id="a block named like a kind",
    ),
    pytest.param(
        "input: 8x8x3\nblocks: {b: {args: {c: 1}}}\nlayers: [relu]\n", id="a block without layers"
    ),
    pytest.param(
        "input: 8x8x3\nlayers: [relu]\nexpect: {outputs: 8x8x3}\n", id="an unknown expectation"
    ),
    pytest.param("input: 8x8x3\nlayout: whc\nlayers: [relu]\n", id="a layout that does not exist"),
]


@pytest.mark.parametrize("text", REJECTED)
def test_schema_and_reader_both_reject(validator, text):
    assert problems(validator, text)
    with pytest.raises(SpecError):
        load_spec(text)


@pytest.mark.parametrize("kind", [*(k for k, c in REGISTRY.items() if not c.joins), *ALIASES])
def test_every_kind_takes_its_parameters_in_both(validator, kind):
    """Each kind and alias, given every parameter at its default, is a valid item for both."""
    cls = REGISTRY[ALIASES.get(kind, kind)]
    params = {k: p.default for k, p in cls.parameters.items() if p.default is not None}
    text = yaml.safe_dump({"input": "8x8x4", "layers": [{kind: params}]})
    load_spec(text)
    assert problems(validator, text) == []
