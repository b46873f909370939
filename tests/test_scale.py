"""What big specs are made of: the same inline text many times over.

The reader builds an inline item's layer once per distinct text (``_Builder.inline_layers``)
and the table writer remembers folded cells; neither may give one place's name, position or
value to another. Timings are ``bench/scale.py``'s business, not these tests'.
"""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc import report
from cnncalc.analysis.tracer import trace
from cnncalc.core.errors import SpecError
from cnncalc.core.positions import Pos
from cnncalc.render.network import trace_report

SPEC = """\
input: 8x8x4
blocks:
  unit: {args: {c: 4}, layers: [conv c f3 p1, relu]}
layers:
  - conv 4 f3 p1
  - relu
  - 'conv 4 f3 p1'
  - relu
  - unit
  - unit c=8
  - {repeat: 2, layers: [conv 4 f3 p1]}
  - conv 4 f3 p1
"""


def test_equal_texts_keep_their_own_names_positions_and_scopes():
    lines = SPEC.splitlines()

    def at(line: int, text: str) -> Pos:
        return Pos(line, lines[line - 1].index(text) + 1)

    rows = trace(cnncalc.load(SPEC)).rows
    assert [(r.name, r.pos, r.output.channels) for r in rows] == [
        ("conv1", at(5, "conv"), 4),
        ("relu1", at(6, "relu"), 4),
        ("conv2", at(7, "conv"), 4),  # after the quote
        ("relu2", at(8, "relu"), 4),
        ("unit1.conv1", at(3, "conv"), 4),  # a block's items are where the block writes them
        ("unit1.relu1", at(3, "relu"), 4),
        ("unit2.conv1", at(3, "conv"), 8),  # the same text with another argument in scope
        ("unit2.relu1", at(3, "relu"), 8),
        ("repeat1.0", at(11, "conv"), 4),
        ("repeat1.1", at(11, "conv"), 4),
        ("conv3", at(12, "conv"), 4),
    ]


def test_an_explicit_name_read_again_is_a_duplicate_at_the_second_place():
    spec = "input: 8x8x4\nlayers:\n  - relu name=r\n  - relu\n  - relu name=r\n"
    with pytest.raises(SpecError) as raised:
        cnncalc.load(spec)
    assert [(p.pos, p.message) for p in raised.value.problems] == [
        (Pos(5, 15), "duplicate name 'r' (first at 3:15)")  # at the name, as written
    ]


@pytest.mark.parametrize(
    "later", ["conv 4 f3 p1", "conv 4 f3 p1 bogus=1"], ids=["good-first", "bad-first"]
)
def test_a_bad_text_is_located_each_time_it_is_written(later):
    """Only layers that were built are remembered, so every copy of a bad one is reported."""
    spec = (
        "input: 8x8x4\nlayers:\n"
        f"  - {later}\n  - conv 4 f3 p1 bogus=1\n  - relu\n  - conv 4 f3 p1 bogus=1\n"
    )
    with pytest.raises(SpecError) as raised:
        cnncalc.load(spec)
    lines = [p.pos.line for p in raised.value.problems]
    assert lines == ([3] if "bogus" in later else []) + [4, 6]
    assert all(p.pos.column == 18 for p in raised.value.problems)


def test_a_folded_long_table_shows_every_rows_own_cells():
    """Names and receptive fields differ in every row of a flat spec; in 50 columns they fold."""
    layers = "".join(f"  - {kind}\n" for kind in ["conv 16 f3 p1", "bn", "relu"] * 40)
    data = report.trace_data(trace(cnncalc.load(f"input: 32x32x16\nlayers:\n{layers}")))

    def cells(width: int) -> list[list[str]]:
        """Each body row's cells, with the pieces of a folded cell joined up again."""
        lines = trace_report(data, "table", width).splitlines()
        body = lines[lines.index(next(s for s in lines if s.startswith("┡"))) + 1 :]
        assert len({len(line) for line in body if line[0] in "│└"}) == 1  # whole cells
        rows: list[list[str]] = []
        for line in body:
            if not line.startswith("│"):
                break
            parts = [part.strip() for part in line.strip("│").split("│")]
            if parts[0] and not parts[0][0].isdigit():
                rows.append(parts)
            else:  # a continuation line of the row above
                rows[-1] = [a + b for a, b in zip(rows[-1], parts)]
        return rows

    wide = cells(80)
    assert cells(50) == wide and len(wide) == 120
    assert wide[-3][0] == "conv40" and wide[-3][-1] == "81/1"
