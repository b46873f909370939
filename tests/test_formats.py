"""One house for many formats: each is declared once in the registry, chosen by ``format=`` /
``--from``, by its suffix or by its content, and read with the kit every reader shares.

A format declared here, in the test, is known to ``cnncalc.load`` and to the command line at
once: a new format is its reader's module and one declaration, with no edit to either.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.core.errors import SpecError, UsageError
from cnncalc.core.notation import parse_ints, shape_from_sizes
from cnncalc.core.positions import Pos
from cnncalc.formats import registry
from cnncalc.formats.kit import MAX_PROBLEMS, Problems, did_you_mean, source_text, whole
from cnncalc.graph import INPUT, DagBuilder, Network
from cnncalc.kinds import Conv

DATA = Path(__file__).parent / "data"


def load(data: bytes | str, source: str) -> Network:
    """A one-line format: the input, then the filters of each 3x3 convolution, ``8x8x3 > 4``."""
    text = source_text(data, source)
    problems = Problems(source, text)
    first, *widths = text.rstrip("\n").split(">")
    dag, x, offset = DagBuilder(), INPUT, len(first) + 1
    for i, written in enumerate(widths, 1):
        at = Pos(1, offset + len(written) - len(written.lstrip()) + 1)
        offset += len(written) + 1
        try:
            filters = whole(written.strip(), "filters", least=1)
        except UsageError as e:
            problems.add(at, f"conv{i}", str(e))
            continue
        x = dag.add(f"conv{i}", at, Conv(filters, f=3, pad=1), (x,))
    problems.check()
    shape = shape_from_sizes(parse_ints(first, "input"))
    return Network("chain", shape, dag.build(), source=source, text=text)


CHAIN = registry.Format("chain", f"{__name__}.load", (".chain",), lambda head: b">" in head)


@pytest.fixture
def chain(monkeypatch: pytest.MonkeyPatch) -> registry.Format:
    monkeypatch.setitem(registry.FORMATS, CHAIN.name, CHAIN)
    return CHAIN


def params(net: Network) -> int:
    return cnncalc.trace(net)["totals"]["params"]


def test_a_format_registered_anywhere_is_read_by_its_suffix_content_or_name(chain, tmp_path):
    for name in ("net.chain", "net.txt", "net"):
        (tmp_path / name).write_text("8x8x3 > 4 > 8\n")
    assert params(cnncalc.load(tmp_path / "net.chain")) == (27 * 4 + 4) + (36 * 8 + 8)
    assert cnncalc.load(str(tmp_path / "net.txt")).name == "chain"  # its content: no suffix says
    assert cnncalc.load(str(tmp_path / "net"), format="chain").source.endswith("net")


def test_the_command_line_knows_a_format_registered_after_it_was_built(monkeypatch, tmp_path):
    path = tmp_path / "net.txt"
    path.write_text("8x8x3 > 4\n")
    runner = CliRunner()
    known = "|".join(registry.FORMATS)
    assert f"[{known}]" in runner.invoke(main, ["trace", "--help"]).stdout
    monkeypatch.setitem(registry.FORMATS, CHAIN.name, CHAIN)
    assert f"[{known}|chain]" in runner.invoke(main, ["trace", "--help"]).stdout
    result = runner.invoke(main, ["trace", str(path), "--from", "chain", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"] == [8, 8, 4]
    path.write_text("8x8x3 > 4 > four\n")
    failed = runner.invoke(main, ["check", str(path), "--from", "chain"])
    assert failed.exit_code == 1
    assert f"{path}:1:13: error: conv2: filters must be a whole number, not 'four'" in failed.output


def test_an_unregistered_format_is_refused_by_name():
    known = ", ".join(registry.FORMATS)
    with pytest.raises(UsageError, match=f"format: 'chain' is not one of {known}$"):
        cnncalc.load("net.chain", format="chain")
    result = CliRunner().invoke(main, ["trace", "net.chain", "--from", "chain"])
    quoted = ", ".join(f"'{name}'" for name in registry.FORMATS)
    assert result.exit_code == 2 and f"'chain' is not one of {quoted}" in (result.stderr)


@pytest.mark.parametrize(
    "fixture, format",
    [("darknet/detector.cfg", "darknet"), ("caffe/v1.prototxt", "caffe")],
)
def test_a_file_whose_suffix_says_nothing_is_read_as_its_content_looks(tmp_path, fixture, format):
    path = tmp_path / "model.txt"
    path.write_bytes((DATA / fixture).read_bytes())
    assert registry.of_file(str(path), path.read_bytes()).name == format
    assert cnncalc.trace(path)["totals"] == cnncalc.trace(DATA / fixture)["totals"]


def test_a_spec_of_any_name_is_still_a_spec(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("input: 8x8x3\nlayers: [conv 4 f3]  # no [net], no layer {\n")
    assert registry.of_file(str(path), path.read_bytes()).name == registry.DEFAULT
    assert params(cnncalc.load(path)) == 27 * 4 + 4


def test_a_suffix_decides_whatever_the_content(tmp_path):
    path = tmp_path / "net.cfg"
    path.write_text("input: 8x8x3\nlayers: [conv 4 f3]\n")
    with pytest.raises(SpecError, match="a Darknet cfg starts with its \\[net\\] section"):
        cnncalc.load(path)


def test_a_text_format_refuses_bytes_that_are_not_text_where_they_are():
    with pytest.raises(UsageError, match="bad.cfg:2:7: byte 0xff is not UTF-8 text"):
        source_text(b"[net]\nwidth=\xff\n", "bad.cfg")
    with pytest.raises(UsageError, match="'x.cfg' is a binary file, not a spec"):
        source_text(b"[net]\0", "x.cfg")


def test_every_reader_stops_at_the_problem_cap(tmp_path):
    path = tmp_path / "many.cfg"
    path.write_text("[net]\nwidth=8\nheight=8\nchannels=3\n" + "[maxpol]\n" * 500)
    with pytest.raises(SpecError) as raised:
        cnncalc.load(path)
    assert len(raised.value.problems) == MAX_PROBLEMS


def test_problems_are_raised_in_the_order_of_the_source():
    problems = Problems("f", "")
    problems.add(Pos(3, 1), "", "third")
    problems.add(Pos(1, 5), "", "first")
    with pytest.raises(SpecError) as raised:
        problems.check()
    assert [p.message for p in raised.value.problems] == ["first", "third"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("x4", "filters must be a whole number, not 'x4'"),
        ("0", "filters must be at least 1, not 0"),
        ("9" * 400, "filters: a number of 400 digits is too large (at most 10**18)"),
    ],
)
def test_one_bounded_whole_number_parser(text, message):
    with pytest.raises(UsageError) as raised:
        whole(text, "filters", least=1)
    assert str(raised.value) == message


def test_one_did_you_mean_for_every_name():
    assert did_you_mean("reluu", ["relu", "conv"]) == " (did you mean 'relu'?)"
    assert did_you_mean("pooling", ["Pooling", "ReLU"], fold=True) == " (did you mean 'Pooling'?)"
    assert did_you_mean("zzz", ["relu"]) == ""
    sources = Path(cnncalc.__file__).parent.rglob("*.py")
    users = {p.name for p in sources if "get_close_matches" in p.read_text(encoding="utf-8")}
    assert users == {"kit.py"}
