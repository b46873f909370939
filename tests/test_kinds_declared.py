"""Each layer kind is declared once, and everything that lists kinds reads that declaration.

``cnncalc kinds``, the JSON Schema and docs/kinds.md are generated from the registry; the
inline form's bare values and words and the conventions' defaults come from the kinds.
``pytest --update-snapshots`` rewrites docs/kinds.md after a kind changes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc import trace
from cnncalc.cli import main
from cnncalc.core.errors import SpecError, UsageError
from cnncalc.core.shapes import Shape
from cnncalc.formats.inline import load_inline
from cnncalc.formats.schema import spec_schema
from cnncalc.formats.spec import load_spec
from cnncalc.kinds import REGISTRY, Join, Layer, Outcome, register

KINDS_PAGE = Path(__file__).parents[1] / "docs" / "kinds.md"


def test_the_kinds_page_is_what_cnncalc_kinds_prints(golden):
    listed = CliRunner().invoke(main, ["kinds"]).stdout
    text = KINDS_PAGE.read_text(encoding="utf-8")
    head, _, rest = text.partition("```text\n")
    golden(KINDS_PAGE, f"{head}```text\n{listed}```\n")


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_has_a_description_a_schema_and_a_doc_entry(kind):
    cls = REGISTRY[kind]
    assert cls.summary.strip(), f"{kind} has no summary"
    schema = spec_schema()
    if cls.joins:
        assert kind in schema["definitions"]["mapping"]["properties"]
    else:
        assert schema["definitions"][f"kind-{kind}"]["description"] == cls.summary
    assert f"\n{kind} " in KINDS_PAGE.read_text(encoding="utf-8")


def only_layer(network):
    (node,) = network.graph.nodes
    return node.layer


@pytest.mark.parametrize("kind", sorted(k for k, cls in REGISTRY.items() if cls.primary))
def test_a_bare_value_sets_the_parameter_the_kind_declares(kind):
    cls = REGISTRY[kind]
    value = {"f": 3, "size": 2, "factor": 3, "pad": 2, "p": 0.25, "slope": 0.5}
    written = value.get(cls.primary, 4)
    layer = only_layer(load_inline(f"8x8x8 | {kind} {written}"))
    assert getattr(layer, cls.primary) == written


@pytest.mark.parametrize(
    ("kind", "word"),
    sorted((k, w) for k, cls in REGISTRY.items() for w in cls.words),
)
def test_a_bare_word_sets_the_parameter_the_kind_declares(kind, word):
    name, value = REGISTRY[kind].words[word]
    bare = "4 " if REGISTRY[kind].primary else ""
    layer = only_layer(load_inline(f"8x8x8 | {kind} {bare}{word}"))
    assert getattr(layer, name) == value
    mapped = only_layer(load_spec(f"input: 8x8x8\nlayers:\n  - {kind}: {word}\n"))
    assert getattr(mapped, name) == value


@pytest.mark.parametrize(
    ("kind", "convention"),
    sorted((k, c) for k, cls in REGISTRY.items() for c in cls.conventions),
)
def test_a_convention_changes_the_defaults_the_kind_declares(kind, convention):
    layer = only_layer(load_spec(f"input: 8x8x8\nconvention: {convention}\nlayers: [{kind} 4]\n"))
    for name, value in REGISTRY[kind].conventions[convention].items():
        assert getattr(layer, name) == value


def test_every_parameter_type_is_read_checked_and_described_by_one_name():
    """A kind may declare only the parameter types that the core checks, the spec reader
    converts and the schema describes: one set of names, so none can drift from another."""
    from cnncalc.formats.language import CONVERSIONS
    from cnncalc.formats.schema import PARAMETER_SCHEMAS
    from cnncalc.kinds import PARAMETER_TYPES

    assert set(PARAMETER_TYPES) == set(PARAMETER_SCHEMAS) == set(CONVERSIONS)
    declared = {p.base for cls in REGISTRY.values() for p in cls.parameters.values()}
    assert declared <= set(PARAMETER_TYPES)


GIVEN = {"conv": {"filters": 4}, "tconv": {"filters": 4}, "groupnorm": {"groups": 4}}
GIVEN["deformconv"] = {"filters": 4}
GIVEN["crop"] = {"size": 4}
GIVEN["fc"] = GIVEN["linear"] = {"out": 4}
"""Parameters a kind needs on an 8x8x8 input, or shows its counts with."""


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_explains_itself_in_a_single_layer_report(kind):
    """Each kind's working is its own (a default of input, output and counts when it has no
    formula of its own), and the counts it explains are the counts it has. A join has several
    inputs, so there is no single-layer report of one: applying it to one input is refused."""
    from cnncalc.render.layer import layer_report

    layer, x = REGISTRY[kind](**GIVEN.get(kind, {})), Shape((8, 8), 8)
    if REGISTRY[kind].joins:
        with pytest.raises(UsageError, match=rf"^{kind} joins branches: write {kind}: \["):
            layer.apply(x)
        return
    outcome = layer.apply(x)
    worked = layer.worked(x, outcome)
    for formula, count in ((worked.params, outcome.params), (worked.macs, outcome.macs)):
        assert formula is None or formula[0] == count
    table = layer_report(layer, x, outcome, "table")
    assert table.startswith(f"{kind}: 8x8x8 ->")  # the title wraps above a narrow table
    assert re.search(rf"│ parameters +│ {outcome.params:,}\b", table)
    assert re.search(rf"│ MACs +│ {outcome.macs:,}\b", table)
    assert json.loads(layer_report(layer, x, outcome, "json"))["macs"] == outcome.macs


@pytest.mark.parametrize("kind", sorted(k for k, cls in REGISTRY.items() if not cls.joins))
def test_a_kind_with_macs_declares_what_they_are_so_they_are_counted(kind):
    from cnncalc.analysis.costs import FLOPS_PER_MAC

    layer, x = REGISTRY[kind](**GIVEN.get(kind, {})), Shape((8, 8), 8)
    if layer.apply(x).macs:
        assert layer.cost in FLOPS_PER_MAC["flops"]


@pytest.fixture
def registered():
    """Registers kinds for one test, and takes them out again afterwards."""
    added: list[str] = []

    def add(cls: type[Layer]) -> None:
        added.append(cls.kind)
        register()(cls)

    yield add
    for kind in added:
        del REGISTRY[kind]
    register()(REGISTRY["identity"])  # registering anew forgets what was read of those kinds


def test_a_kind_registered_after_import_is_read_live(registered):
    """Words, joins and conventions are read from the registry as it is: kinds registered
    after a spec was read (and all of them looked up) work in the next spec."""
    spec = (
        "input: 8x8x4\nconvention: caffe\nlayers:\n"
        "  - widen twice\n  - stack: [identity, [widen]]\n    gap: 1\n"
    )
    with pytest.raises(SpecError, match="unknown layer kind 'widen'"):
        load_spec(spec)

    class Widen(Layer):
        kind = "widen"
        summary = "the channels times a factor, plus extra"
        words = {"twice": ("times", 2)}
        conventions = {"caffe": {"extra": 1}}
        times: int = 1
        extra: int = 0

        def apply(self, x: Shape) -> Outcome:
            return self._identity(x)._replace(
                shape=Shape(x.spatial, x.channels * self.times + self.extra)
            )

    class Stack(Join):
        kind = "stack"
        summary = "channels stacked, and gap more"
        gap: int = 0

        def combine(self, a: Shape, b: Shape) -> Shape:
            return Shape(a.spatial, a.channels + b.channels + self.gap)

    registered(Widen)
    registered(Stack)
    layers = [node.layer for node in load_spec(spec).graph.nodes]
    assert layers[0] == Widen(times=2, extra=1) and layers[-1] == Stack(gap=1)
    assert trace(spec)["output"] == [8, 8, 9 + 10 + 1]
    assert "stack" in spec_schema()["definitions"]["mapping"]["properties"]


def test_the_registry_holds_every_family_whatever_was_imported_first():
    """A single-layer command imports only its kind's family; whoever then reads the
    registry sees every kind, in the order of the families, never a part of them."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from cnncalc.kinds.windows import Conv\n"
        "assert 'cnncalc.kinds.detection' not in sys.modules\n"
        "from cnncalc import kinds\n"
        "assert 'head' in kinds.REGISTRY and kinds.Head.kind == 'head'\n"
        "print(' '.join(kinds.REGISTRY))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == list(REGISTRY)
    with pytest.raises(ImportError, match="cannot import name 'Nothing'"):
        from cnncalc.kinds import Nothing  # noqa: F401
