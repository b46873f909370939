"""YAML with a position on every node: PyYAML's composer keeps where each node was written,
and values are built from nodes one by one, so that each problem can say line and column.

Every scalar is checked before it is converted (a tag, a number too large for any network)
and notation like ``1x7`` or ``0:1`` stays text, where YAML would read hexadecimal or
sexagesimal numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import yaml

from cnncalc.core.errors import UsageError
from cnncalc.core.numbers import bounded, parse_whole
from cnncalc.core.positions import Pos, Problem

MAX_DEPTH = 64
"""Levels of nesting: YAML lists and mappings within each other, and blocks, merges and
repeats within each other. Real networks use about ten; the readers and the tracer recurse."""

MAX_ALIASED = 100_000
"""Values that YAML aliases (``*name``) may add to those written: refuses alias bombs."""


def yaml_loader() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def node_pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def text_pos(node: yaml.Node) -> Pos:
    """Where a scalar's text begins: after the opening quote of a quoted one."""
    pos = node_pos(node)
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    return Pos(pos.line, pos.column + 1) if quoted else pos


def existing_pos(lines: list[str], line: int, column: int) -> Pos:
    """A 1-based position moved onto a line and a column that exist in a text's ``lines``."""
    lines = lines or [""]
    line = min(max(line, 1), len(lines))
    return Pos(line, min(max(column, 1), max(len(lines[line - 1]), 1)))


NOTATION = re.compile(r"(?=.*[x:])\d+(?::\d+)?(?:x\d+(?::\d+)?)*", re.IGNORECASE)
"""Sizes or paddings per dimension (``1x7``, ``0x3``, ``1:0``). Python reads ``0x3`` as
hexadecimal 3 and YAML 1.1 reads ``1:0`` as sexagesimal 60; both are notation here."""

_CONSTRUCTOR = yaml.constructor.SafeConstructor()
"""Builds scalar values with PyYAML's own rules (ints like 1_000, yes/no, ~). Only its
per-tag functions are called: ``construct_object`` would remember every node it ever built,
a leak in a process that reads many specs."""

_YAML = "tag:yaml.org,2002:"

_STR_TAG = _YAML + "str"

_NULL_TAG = _YAML + "null"

_MERGE_TAG = _YAML + "merge"

_AS_TEXT = {_STR_TAG, _MERGE_TAG, _YAML + "timestamp", _YAML + "value"}
"""Scalars kept as written: dates and YAML 1.1's ``=`` and ``<<`` are words here."""

_SCALARS = {_YAML + "int": "a whole number", _YAML + "float": "a number"}
_SCALARS.update({_YAML + "bool": "true or false", _NULL_TAG: "null"})

_COLLECTIONS: dict[type, str] = {yaml.SequenceNode: _YAML + "seq", yaml.MappingNode: _YAML + "map"}


def _tag(tag: str) -> str:
    """A tag as it is written: ``!!set`` for YAML's own, ``!foo`` for a local one."""
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


def _scalar(node: yaml.ScalarNode) -> Any:
    """A scalar's value; explicit tags other than YAML's plain types and numbers that no
    network has (over MAX_NUMBER, infinite) are UsageErrors, raised before any conversion."""
    text = node.value
    if node.tag in _AS_TEXT or NOTATION.fullmatch(text):
        return text  # notation stays text: YAML would read 0x3 as 3, 1:0 as 60
    if node.tag not in _SCALARS:
        raise UsageError(f"the tag {_tag(node.tag)} is not supported (write plain values)")
    plain = text.replace("_", "").lstrip("+-")
    if node.tag == _YAML + "int" and plain.isdigit() and plain[:1] != "0":
        return parse_whole(text.replace("_", ""), "")
    try:
        value = _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)
    except (ValueError, KeyError, yaml.YAMLError):
        raise UsageError(f"{text!r} is not {_SCALARS[node.tag]}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{text!r} is not a finite number")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        bounded(int(value), "")
    return value


def node_value(node: yaml.Node) -> Any:
    """A node as Python data; the node was checked by :func:`inspect_yaml` first."""
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [node_value(n) for n in node.value]
    return {node_value(k): node_value(v) for k, v in node.value}


def node_word(node: yaml.Node) -> str:
    """A scalar as written (``yes`` stays ``yes``, never True), empty for a null."""
    if not isinstance(node, yaml.ScalarNode):
        return ""
    return "" if node.tag == _NULL_TAG else node.value


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _node_problems(node: yaml.Node) -> Iterator[Problem]:
    """What is wrong with one node by itself: its tag, its value, its keys."""
    if isinstance(node, yaml.ScalarNode):
        try:
            _scalar(node)
        except UsageError as e:
            yield Problem(node_pos(node), "", str(e))
        return
    if node.tag != _COLLECTIONS[type(node)]:
        yield Problem(node_pos(node), "", f"the tag {_tag(node.tag)} is not supported")
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[Any, Pos] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            what = "list" if isinstance(key, yaml.SequenceNode) else "mapping"
            yield Problem(node_pos(key), "", f"a key is a word or a number, not a {what}")
        elif key.tag == _MERGE_TAG:
            yield Problem(
                node_pos(key), "", "merge keys (<<) are not supported: write the keys out"
            )
        else:
            try:
                value = _scalar(key)
            except UsageError:
                continue  # reported when the key itself is inspected
            if value in seen:
                first = seen[value]
                yield Problem(
                    node_pos(key),
                    "",
                    f"duplicate key {key.value!r} (first at {first[0]}:{first[1]})",
                )
            seen.setdefault(value, node_pos(key))


def inspect_yaml(root: yaml.Node) -> list[Problem]:
    """Problems of the YAML itself, before its meaning is read: tags, values, keys, aliases
    and nesting. One pass over the distinct lists and mappings with a stack of its own (no
    recursion), measuring each one's size and height with aliases expanded, so that an alias
    bomb or a deep nesting is refused before anything walks it."""
    problems: list[Problem] = []
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    uses: dict[int, int] = {}
    nodes: dict[int, yaml.Node] = {}
    written = 1
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        kids = _children(node)
        if finished:
            total, tallest = 1 + len(kids), 1 if kids else 0
            for k in kids:
                if not isinstance(k, yaml.ScalarNode):
                    total += size[id(k)] - 1
                    tallest = max(tallest, height[id(k)])
            size[key], height[key] = min(total, 2 * MAX_ALIASED), tallest + 1
            ancestors.discard(key)
            continue
        uses[key] = uses.get(key, 0) + 1
        if key in size:
            continue
        if key in ancestors:
            return [Problem(node_pos(node), "", "an alias refers to the list or mapping it is in")]
        ancestors.add(key)
        nodes[key] = node
        written += len(kids)
        problems.extend(_node_problems(node))
        stack.append((node, True))
        for k in kids:
            if not isinstance(k, yaml.ScalarNode):
                stack.append((k, False))
            elif k.tag != _STR_TAG:  # text is always valid
                problems.extend(_node_problems(k))
    if size[id(root)] - written > MAX_ALIASED:
        shared = max(nodes, key=lambda k: size[k] * (uses[k] - 1))
        message = f"aliases expand to more than {MAX_ALIASED:,} values"
        problems.append(Problem(node_pos(nodes[shared]), "", message))
    if height[id(root)] > MAX_DEPTH:
        node = root
        for _ in range(MAX_DEPTH):
            node = max(_children(node), key=lambda k: height.get(id(k), 1))
        problems.append(Problem(node_pos(node), "", f"nesting deeper than {MAX_DEPTH} levels"))
    return sorted(problems, key=lambda p: p.pos)


def long_list(text: str, most: int) -> Problem | None:
    """A list of more than ``most`` items, at the first item beyond them, found while the
    text is parsed, before any of it is composed: a flat spec of a million layers is refused
    after reading ``most`` of them, not after building all of them. Only a text with more
    ``-`` and ``,`` than ``most`` (one of them comes before every item but one of a list) is
    parsed so; a YAML error is left for the composer to report."""
    if text.count("-") + text.count(",") < most:
        return None
    counts: list[int | None] = []
    """The items read so far of each open list (None for a mapping), innermost last."""
    try:
        for event in yaml.parse(text, Loader=yaml_loader()):
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                counts.pop()
                continue
            if counts and counts[-1] is not None:
                counts[-1] += 1
                if counts[-1] > most:
                    message = f"a list of over {most:,} items (a spec has at most {most:,} layers)"
                    at = event.start_mark
                    pos = Pos(at.line + 1, at.column + 1) if at is not None else Pos(1, 1)
                    return Problem(pos, "", message)
            if isinstance(event, yaml.SequenceStartEvent):
                counts.append(0)
            elif isinstance(event, yaml.MappingStartEvent):
                counts.append(None)
    except yaml.YAMLError:
        return None
    return None


def yaml_problem(error: yaml.YAMLError, text: str) -> Problem:
    """A YAML syntax error where the mistake is: an unclosed bracket or quote at its opening,
    anything else where the reader stopped, with the other place as a note."""
    if isinstance(error, yaml.reader.ReaderError):  # a character YAML does not allow
        char = error.character
        index = max(text.find(chr(char) if isinstance(char, int) else char), 0)
        line, column = text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)
        message = f"bad YAML: character {ord(text[index : index + 1] or ' '):#06x}: {error.reason}"
        return Problem(existing_pos(text.splitlines(), line, column), "", message)
    if not isinstance(error, yaml.MarkedYAMLError):
        return Problem(Pos(1, 1), "", f"bad YAML: {error}")
    problem, context = error.problem or "", error.context or ""
    if "nesting depth" in problem:  # libyaml's own limit, at 1000 levels
        problem, context = f"nesting deeper than {MAX_DEPTH} levels", ""
    what = re.sub(r"^while (parsing|scanning) (an? )?", "", context)
    at = error.problem_mark
    where = f"{at.line + 1}:{at.column + 1}" if at else ""
    if at is not None and at.index >= len(text.rstrip()):
        where = "the end of the file"
    opened = error.context_mark
    if opened is not None and what in ("flow mapping", "flow sequence", "quoted scalar"):
        what = "quote" if what == "quoted scalar" else what
        message = f"bad YAML: the {what} opened here is not closed; {problem} at {where}"
        return Problem(
            existing_pos(text.splitlines(), opened.line + 1, opened.column + 1), "", message
        )
    mark = at or opened
    pos = existing_pos(text.splitlines(), mark.line + 1, mark.column + 1) if mark else Pos(1, 1)
    if opened is not None and context:
        problem += f" (in the {what} at {opened.line + 1}:{opened.column + 1})"
    return Problem(pos, "", f"bad YAML: {problem}")
