"""The spec language, third round of trust: each input here once gave a confident wrong
answer, or an error at the wrong place, and now gives the right one (issue 16)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner, Result

import cnncalc
from cnncalc.api import to_spec
from cnncalc.cli import main
from cnncalc.core.errors import SpecError, UsageError
from cnncalc.core.positions import Pos
from cnncalc.core.shapes import Shape
from cnncalc.formats import convert
from cnncalc.formats.spec import MAX_LAYERS, load_spec
from cnncalc.graph import INPUT, DagBuilder, Network
from cnncalc.kinds import REGISTRY


def run(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args))


def rows(spec: str) -> dict[str, dict]:
    result = run("trace", spec, "--format", "json")
    assert result.exit_code == 0, result.stderr
    layers = json.loads(result.stdout)["layers"]
    return {row["name"]: {**row, "output": "x".join(map(str, row["output"]))} for row in layers}


def refused(spec: str) -> str:
    """The one error line (file:line:col: error: ...) a spec is refused with."""
    result = run("trace", spec)
    assert result.exit_code == 1, result.stdout
    return result.stderr.splitlines()[0]


# --- 1. a branch dropped by if: ------------------------------------------------------------------

CONCAT = """\
input: 8x8x3
layers:
  - conv 4 f1
  - concat:
      - [conv 2 f1]
      - {conv: {filters: 5, f: 1}, if: %s}
      - [conv 3 f1]
"""


def test_a_dropped_concat_branch_drops_out():
    # before: the dropped branch was the input, 8x8x(2+4+3)
    concat = rows(CONCAT % "false")["concat1"]
    assert concat["output"] == "8x8x5"
    assert rows(CONCAT % "true")["concat1"]["output"] == "8x8x10"


def test_a_dropped_add_branch_stays_the_identity():
    spec = "input: 8x8x3\nlayers:\n  - conv 4 f1\n  - add: [{conv: 4, if: false}, conv 4 f1]\n"
    assert rows(spec)["add1"]["output"] == "8x8x4"


def test_every_branch_of_a_concat_dropped_is_an_error_at_the_concat():
    spec = (
        "input: 8x8x3\nlayers:\n  - conv 4 f1\n"
        "  - concat:\n      - {conv: 5, if: false}\n      - {conv: 5, if: no}\n"
    )
    line = refused(spec)
    assert line.startswith("<spec>:4:5: error: concat1: every branch of this concat is dropped")


def test_a_list_branch_takes_a_condition():
    spec = """\
input: 8x8x3
layers:
  - concat:
      - [conv 2 f1, relu]
      - {layers: [conv 5 f1, relu], if: %s}
"""
    assert rows(spec % "true")["concat1"]["output"] == "8x8x7"
    assert rows(spec % "false")["concat1"]["output"] == "8x8x2"
    assert "concat1.1.conv1" in rows(spec % "true")  # named as a list branch's are


def test_a_list_under_a_condition_outside_a_merge_is_refused_clearly():
    spec = "input: 8x8x3\nlayers:\n  - {if: false, layers: [relu]}\n"
    line = refused(spec)
    assert line.startswith("<spec>:3:17: error: layers: with if: is a branch of a merge")


def test_a_branch_mapping_takes_only_layers_and_if():
    spec = "input: 8x8x3\nlayers:\n  - concat: [relu, {layers: [relu], name: x}]\n"
    assert "has layers: and if:, not 'name'" in refused(spec)


# --- 2. duplicate names --------------------------------------------------------------------------


def test_a_duplicate_inline_name_is_refused_at_the_second():
    # before: accepted, and `from a` read the later one
    line = refused("8x8x3 | conv 4 f1 name=a | conv 5 f1 name=a | from a | relu")
    assert line == "<inline>:1:43: error: duplicate name 'a' (first at 1:24)"


def test_an_inline_name_clashing_with_a_given_one_is_refused():
    line = refused("8x8x3 | conv 4 f1 | conv 5 f1 name=conv1")
    assert line.startswith("<inline>:1:36: error: duplicate name 'conv1'")


@pytest.mark.parametrize(
    "form", ["8x8x3 | conv 4 f1 name=a name=b", "input: 8x8x3\nlayers: [conv 4 f1 name=a name=b]\n"]
)
def test_a_name_given_twice_in_one_item_is_refused(form):
    assert "conv: name given twice" in refused(form)


def test_a_duplicate_name_in_a_spec_is_refused_at_its_name():
    spec = "input: 8x8x3\nlayers:\n  - conv 4 f1 name=a\n  - {conv: 4, name: a}\n"
    assert refused(spec) == "<spec>:4:21: error: duplicate name 'a' (first at 3:20)"


# --- 3. block arguments, from ---------------------------------------------------------------------

UNET = """\
input: 64x64x3
blocks:
  up:
    args: {c: null, skip: null}
    layers:
      - tconv c f2 s2 name=upconv
      - concat: [[from skip, crop to=upconv], identity]
  cropped:
    args: {skip: null}
    layers: [conv 4 f1, crop to=skip]
layers:
  - conv 8 f3 p1 name=enc1
  - maxpool 2
  - conv 16 f3 p1
  - %s
"""


def test_a_misspelt_block_argument_is_blamed_on_the_call():
    # before: at the body's `from skip` (line 7:19), suggesting from every name
    line = refused(UNET % "up c=8 skip=enc2")
    assert line.startswith("<spec>:15:12: error: up1.concat1.0.from1: no layer named 'enc2'")
    assert line.endswith("(did you mean 'enc1'?)")


def test_a_misspelt_reference_argument_is_blamed_on_the_call():
    line = refused(UNET % "cropped skip=enc2")
    assert line.startswith("<spec>:15:13: error: cropped1.crop1: crop: to: no layer named 'enc2'")


def test_a_good_block_argument_still_reads():
    assert rows(UNET % "up c=8 skip=enc1")["up1.concat1"]["output"] == "64x64x16"


def test_from_a_name_like_a_shorthand_is_that_layer():
    # before: `from p5` was read as pad=5, naming the layer '5'
    found = rows("8x8x3 | conv 4 f1 name=p5 | conv 5 f1 | from p5 | relu")
    assert found["relu1"]["output"] == "8x8x4"


# --- 4. errors with a place ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        # before: TypeError: 'int' object is not iterable, from Python's min(1)
        ("8x8x3 | conv (min(1)) f1", "<inline>:1:15: error: in '(min(1))': min() takes 2 to 20"),
        ("8x8x3 | conv max(4) f1", "<inline>:1:14: error: in 'max(4)': max() takes 2 to 20"),
    ],
)
def test_min_or_max_of_one_number_is_a_located_error(spec, line):
    result = run("trace", spec)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(line)


def test_min_of_one_block_argument_is_located_in_the_block():
    spec = 'input: 8x8x3\nblocks:\n  b: {args: {c: 4}, layers: ["conv (min(c)) f1"]}\nlayers: [b]\n'
    assert refused(spec).startswith("<spec>:3:37: error: b1: in '(min(c))': min() takes 2")


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        # before: "Error: crop: ..." with no place
        ("16 | fc 10 name=v | fc 12 | crop to=v", "<inline>:1:29: error: crop1: crop: "),
        ("input: 16\nlayers: [fc 10 name=v, fc 12, crop to=v]\n", "<spec>:2:31: error: crop1: "),
    ],
)
def test_crop_to_a_flat_layer_is_a_located_error(spec, line):
    assert refused(spec).startswith(line)


# --- 5. caps while reading -----------------------------------------------------------------------


@pytest.mark.parametrize("style", ["block", "flow"])
def test_a_flat_spec_over_the_cap_is_refused_while_it_is_read(style):
    # A YAML error after the last item: had the whole text been parsed (as before, then
    # composed, then read), that error would be the answer; the list's size comes first.
    n = MAX_LAYERS + 5
    if style == "block":
        text = "input: 8x8x3\nlayers:\n" + "  - relu\n" * n + "  - [unclosed\n"
        at = (MAX_LAYERS + 3, 5)
    else:
        text = "input: 8x8x3\nlayers: [" + "relu, " * n + "[unclosed\n"
        at = (2, 10 + 6 * MAX_LAYERS)
    with pytest.raises(SpecError) as raised:
        load_spec(text)
    (problem,) = raised.value.problems
    assert (problem.pos.line, problem.pos.column) == at
    assert problem.message.startswith(f"a list of over {MAX_LAYERS:,} items")


def test_a_big_spec_under_the_cap_is_still_read():
    text = "input: 8x8x3\nlayers:\n" + "  - relu  # ---, ---\n" * 40_000
    assert text.count("-") + text.count(",") > MAX_LAYERS  # so it is parsed for its lists
    assert len(load_spec(text).graph.nodes) == 40_000


# --- 6. unpool to= the pool ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "output"),
    [
        # SegNet's mask names the pool: undo it, back to the size the pool read
        (
            "8x8x3 | conv 4 f3 p1 name=c | maxpool 2 name=p | conv 4 f3 p1 | unpool mode=max to=p",
            "8x8x4",
        ),
        ("7x7x3 | maxpool 2 ceil name=p | unpool mode=max to=p", "7x7x3"),  # odd, rounded up
        ("7x7x3 | pool 2 ceil name=p | unpool mode=max to=p", "7x7x3"),  # pool is max pooling
        # the layer that fed the pool, as before
        (
            "8x8x3 | conv 4 f3 p1 name=c | maxpool 2 name=p | conv 4 f3 p1 | unpool mode=max to=c",
            "8x8x4",
        ),
    ],
)
def test_max_unpool_to_its_pool_restores_the_pools_input(spec, output):
    assert list(rows(spec).values())[-1]["output"] == output


def test_unpool_to_an_average_pool_is_its_output_size():
    # an average pool keeps no indices: the name is the size to unpool to, as any layer's
    spec = "8x8x3 | avgpool 2 name=a | conv 3 f1 | maxpool 2 | unpool mode=max to=a"
    assert list(rows(spec).values())[-1]["output"] == "4x4x3"


# --- 7. convert ----------------------------------------------------------------------------------

BREAKS = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]


@pytest.mark.parametrize("brk", BREAKS)
def test_convert_escapes_the_file_name_in_its_header(tmp_path, brk):
    path = tmp_path / f"a{brk}layout: chw{brk}b.yaml"
    try:
        path.write_text("input: 8x8x3\nlayers: [conv 4 f1, relu]\n")
    except (OSError, ValueError):
        pytest.skip("the file system refuses this name")
    result = run("convert", str(path))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert not any(line.startswith("layout") for line in text.splitlines())
    assert text.splitlines()[0].startswith("# Written by cnncalc convert from ")
    back = cnncalc.load(text)
    assert back.layout == "hwc" and back.name == str(path)  # the name, as it was


def test_convert_escapes_layer_names_in_its_comments():
    dag, x = DagBuilder(), INPUT
    for i in range(6):  # six alike: written as a repeat, whose comment names its copies
        x = dag.add(f"r{i}\u2028layout: chw\n#", Pos(1, 1), REGISTRY["relu"](), (x,))
    net = Network("net", Shape((8, 8), 3), dag.build())
    text = to_spec(net)
    assert "# 6 x 1 layers: r0\\u2028layout: chw\\n# .. r5\\u2028layout: chw\\n#" in text
    assert all(not line.startswith("layout") for line in text.splitlines())
    assert len(text.splitlines()) == len(text.split("\n")) - 1  # no other line breaks


def test_convert_reads_back_the_whole_spec(monkeypatch):
    # A writer that loses a name's trailing space: the graph and totals would read back alike
    monkeypatch.setattr(convert, "_scalar", lambda text: text.strip())
    with pytest.raises(UsageError, match="the written spec's name reads back as 'a' for 'a '"):
        to_spec(cnncalc.load("input: 8x8x3\nname: 'a '\nlayers: [relu]\n"))


SHAPES = """\
name: kept
task: classification
origin: paper
input: 16x16x3
blocks:
  unit: {args: {c: null}, layers: ["conv c f3 p1", relu, maxpool 2]}
layers:
  - unit 8 name=u1
  - unit 16 name=u2
  - fc 10
expect:
  params: %s
  shapes:
    u1.conv1: 16x16x8
    u2: 4x4x16
"""


def test_convert_of_a_spec_keeps_its_expectations_and_blocks():
    params = 224 + 1168 + 2570
    text = to_spec(cnncalc.load(SHAPES % params))
    assert "  unit:\n    args: {c: null}\n" in text and "  - unit 8 name=u1\n" in text
    assert "task: classification\norigin: paper\n" in text
    assert "  shapes:\n    u1.conv1: 16x16x8\n    u2: 4x4x16\n" in text
    assert f"  params: {params}\n" in text


def test_convert_keeps_an_expectation_as_the_spec_states_it():
    # the source's own check, kept: its converted spec fails `check` as the source does
    text = to_spec(cnncalc.load(SHAPES % 1234))
    assert "  params: 1234\n" in text
    assert run("check", text).exit_code == 1


def test_convert_of_a_spec_keeps_a_block_called_once():
    # before: flattened to conv, bn, relu; now the block, its values written in
    spec = 'input: 8x8x3\nblocks:\n  stem: {args: {c: 8}, layers: ["conv c f3 p1", bn, relu]}\n'
    text = to_spec(cnncalc.load(spec + "layers: [stem 16, maxpool 2, fc 10]\n"))
    assert "blocks:\n  stem:\n    args: {}\n    layers:\n      - conv 16 f3 p1\n" in text
    assert "layers:\n  - stem\n  - maxpool 2\n" in text


def test_the_schema_knows_a_conditional_branch():
    schema = json.loads(run("schema").stdout)
    spec = {"input": "8x8x3", "layers": [{"concat": ["relu", {"layers": ["relu"], "if": "c"}]}]}
    jsonschema.validate(spec, schema)
    spec["layers"][0]["concat"][1]["name"] = "x"  # a branch has no name: its number is
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(spec, schema)


def test_an_inline_spec_longer_than_a_command_line_argument_is_refused_before_reading():
    """150,000 inline layers took seconds to trace to JSON; no shell passes an argument over
    MAX_ARG_STRLEN, so the inline form stops there and names the spec file instead."""
    from cnncalc.formats.inline import MAX_INLINE

    long = "8x8x3" + " | relu" * 150_000
    result = run("trace", long, "--format", "json")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: an inline spec of {len(long):,} characters: cnncalc reads at most {MAX_INLINE:,}"
    )
    assert "repeat:" in result.stderr
    with pytest.raises(UsageError, match="inline spec"):
        cnncalc.trace(long)
    at_cap = "8x8x3" + " | relu" * ((MAX_INLINE - 5) // 7)
    assert len(at_cap) <= MAX_INLINE
    assert run("trace", at_cap, "--format", "json").exit_code == 0
