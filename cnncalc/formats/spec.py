"""Text to graph: YAML spec files and the inline form, with a source position on every node.

Every problem found while reading a spec is collected, each with its line,
column and layer path, and raised together as one :class:`SpecError`. The
language is described in docs/spec.md; in short::

    name: tiny
    input: 32x32x3
    blocks:
      unit: {args: {c: 16}, layers: ["conv c f3 p1", bn, relu]}
    layers:
      - unit: {c: 32}
      - repeat: 2
        layers: [unit c=64]
      - add: [[conv 64 f3 p1, bn], identity]
      - gavgpool
      - fc 10
    expect: {output: 10, params: 120000}
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import yaml

from cnncalc.core.errors import ParameterError, SpecError, UsageError
from cnncalc.core.notation import (
    channels_first_hint,
    parse_ints,
    parse_padding,
    shape_from_sizes,
    shape_sizes,
)
from cnncalc.core.numbers import MAX_NUMBER, bounded, parse_whole
from cnncalc.core.positions import Pos, Problem
from cnncalc.core.shapes import Shape
from cnncalc.graph import (
    MERGES,
    TASKS,
    Expectations,
    LayerNode,
    Merge,
    Network,
    Node,
    Ref,
    Repeat,
    Sequence,
    without_gc_pauses,
)
from cnncalc.kinds import ALIASES, FRAMEWORKS, REGISTRY, Layer, layer_class

MAX_REPEAT = 100_000
"""A single repeat count above this is a typo, not a network."""
MAX_LAYERS = 200_000
"""Expanded size above which a spec is refused rather than traced for seconds (tracing takes
about 10 µs a layer); counted while the spec is read, a repeat of an unchanging body
``count`` times, so that reading stops as soon as it is exceeded. Real networks have at most a
few thousand layers."""
MAX_COPIES = 20_000
"""Items read again, beyond the first reading of each item written (block bodies called with
other arguments, repeat bodies that depend on their index), above which reading stops: each
copy costs time, unlike a repeated body that is built once."""
MAX_DEPTH = 64
"""Levels of nesting: YAML lists and mappings within each other, and blocks, merges and
repeats within each other. Real networks use about ten; the readers and the tracer recurse."""
MAX_PROBLEMS = 100
"""Problems after which reading stops: a spec this broken is fixed from its first problems,
and listing every one of thousands would take long."""
MAX_ALIASED = 100_000
"""Values that YAML aliases (``*name``) may add to those written: refuses alias bombs."""

CONVENTIONS: dict[str, dict[str, dict[str, Any]]] = {
    name: {kind: cls.conventions[name] for kind, cls in REGISTRY.items() if name in cls.conventions}
    for name in FRAMEWORKS
}
"""Defaults each convention changes, by kind, as each kind declares them."""

PRIMARY = {kind: cls.primary for kind, cls in REGISTRY.items() if cls.primary}
"""The parameter a bare value sets, as each kind declares it: ``conv 64``, ``fc 10``."""

SHORT = {"f": "f", "s": "stride", "p": "pad", "d": "dilation", "g": "groups"}
"""Inline shorthands in the course notation: ``f3 s2 p1``."""

WORDS: dict[str, tuple[str, Any]] = {
    word: setting for cls in REGISTRY.values() for word, setting in cls.words.items()
}
"""Every kind's bare words of the inline form and the parameter each one sets."""

NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_-]*$"
"""A layer's name, as the reader and the JSON Schema both check it."""
_NAME = re.compile(NAME_PATTERN)

TOP_KEYS = (
    "name",
    "description",
    "input",
    "layout",
    "convention",
    "blocks",
    "layers",
    "outputs",
    "expect",
    "task",
    "origin",
)
ITEM_KEYS = ("name", "if")
EXPECT_KEYS = ("output", "params", "macs", "shapes")


class _Invalid(Exception):
    """Abandons one item after its problem was recorded."""


class _Stop(Exception):
    """Abandons the whole spec after its problem was recorded: it is too big or too deep."""


# --- safe arithmetic --------------------------------------------------------------------------

MAX_EXPRESSION = 1000
"""Characters in one expression: far more than any real one needs."""
MAX_NESTING = 20
"""Brackets within brackets, or signs in a row, counted before Python's parser sees the text
(the parser itself overflows on deep nesting)."""
MAX_OPERATIONS = 50
"""Operations within operations, once parsed (``1+1+...`` is as deep as it has terms): keeps
the evaluator's recursion far from Python's limit."""

BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
"""YAML 1.1's booleans, which PyYAML reads in a mapping (``flag: no``): booleans in any case and
in every form, inline (``flag=no``), quoted, as a default or in an expression."""

_BINARY: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.floordiv),  # whole numbers that divide; else a true division
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
    ast.Pow: ("**", operator.pow),
}
_COMPARE: dict[type, tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}
Number = int | float

_FUNCTIONS: dict[str, tuple[int, int, Callable[..., Number]]] = {
    "min": (1, MAX_NESTING, min),
    "max": (1, MAX_NESTING, max),
    "round": (1, 1, round),  # half to even, as Python and torch.round
    "floor": (1, 1, math.floor),
    "ceil": (1, 1, math.ceil),
    "int": (1, 1, int),  # towards zero, as torchvision's _make_divisible writes it
    "log": (1, 2, math.log),
}
"""The functions an expression may call: the fewest and most arguments, and the function.
RegNet's widths and MobileNet's divisible channels are computed with these."""
_WORD = re.compile(r"[A-Za-z_][\w-]*")
"""A name, or a word such as same-lower or up-1 (unless a name in it is in scope: c-1)."""
_PATH = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w-]+)+")
"""A dotted layer name such as up1.upconv or layer1.0.conv1: never arithmetic."""
_INTEGER = re.compile(r"[+-]?\d+")
_SIGNS = re.compile(rf"(?:(?:[-+~]|\bnot\b)\s*){{{MAX_NESTING + 1},}}")


class ExpressionError(UsageError):
    """A problem in an expression, ``offset`` characters into its text; ``whole`` if the
    message already quotes the text."""

    def __init__(self, message: str, offset: int = 0, whole: bool = False):
        super().__init__(message)
        self.offset = offset
        self.whole = whole


class UnknownName(ExpressionError):
    def __init__(self, name: str, known: list[str], offset: int = 0):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(f"unknown name {name!r}{hint}", offset)
        self.name = name


@lru_cache(maxsize=2048)
def _parse_expression(text: str) -> ast.expr | None:
    """The syntax tree of ``text``, or None if it is not Python syntax; refused by size and
    nesting before Python's parser sees it, and by depth before anything recurses over it."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(
            f"an expression has at most {MAX_EXPRESSION:,} characters (this one {len(text):,})"
        )
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch in "([{") - (ch in ")]}")
        if depth > MAX_NESTING:
            raise ExpressionError(f"brackets nest at most {MAX_NESTING} deep", i)
    signs = _SIGNS.search(text)
    if signs:
        raise ExpressionError(f"at most {MAX_NESTING} signs in a row", signs.start())
    try:
        with warnings.catch_warnings():  # Python's own "invalid decimal literal" on stderr
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):  # ValueError: a NUL character (Python 3.11)
        return None
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if level > MAX_OPERATIONS:
            raise ExpressionError(
                f"an expression nests at most {MAX_OPERATIONS} operations deep", _offset(text, node)
            )
        children = ast.iter_child_nodes(node)
        stack.extend((c, level + 1) for c in children if isinstance(c, ast.expr))
    return tree


def _offset(text: str, node: ast.AST) -> int:
    """Characters from the start of ``text`` to ``node``, which Python's parser placed in
    UTF-8 bytes on a line of the stripped text."""
    lines = text.strip().split("\n")
    row = min(getattr(node, "lineno", 1), len(lines)) - 1
    column = len(lines[row].encode()[: getattr(node, "col_offset", 0)].decode(errors="ignore"))
    return len(text) - len(text.lstrip()) + sum(len(line) + 1 for line in lines[:row]) + column


def evaluate(text: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate simple arithmetic on block arguments, never with ``eval``.

    Whole and real numbers, each within MAX_NUMBER (a power is refused from the sizes of its
    operands before it is computed), + - * / // % **, comparisons of like values, and/or/not,
    ``a if cond else b``, min, max, round, floor, ceil, int and log, true/false/yes/no/on/off.
    Whole numbers stay whole (``/`` too when it divides). Every problem is an ExpressionError
    at its place in ``text``.

    >>> evaluate("c * 4", {"c": 64}), evaluate("c // 2 if big else 1", {"c": 9, "big": True})
    (256, 4)
    >>> evaluate("int(c * 0.25 + 8 / 2) // 8 * 8", {"c": 96}), evaluate("round(log(8, 2))", {})
    (24, 3)
    >>> evaluate("2 if 1 < c else x", {"c": 3})
    Traceback (most recent call last):
    ...
    cnncalc.formats.spec.UnknownName: unknown name 'x'
    """
    if _INTEGER.fullmatch(text.strip()):  # the common case, and its digits counted first
        try:
            return parse_whole(text, _elided(text.strip(), 20))
        except UsageError as e:
            raise ExpressionError(str(e), len(text) - len(text.lstrip())) from None
    tree = _parse_expression(text)
    if tree is None:
        raise ExpressionError(f"{_quoted(text.strip())} is not an expression", whole=True)
    return _Evaluation(text, scope).run(tree)


@lru_cache(maxsize=2048)
def _names(tree: ast.expr) -> tuple[tuple[ast.Name, bool], ...]:
    """The names in an expression in the order they are written, each with whether it is
    called as a function: found once for each text, however often it is evaluated."""
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name)]
    return tuple(
        (node, id(node) in functions)
        for node in sorted(names, key=lambda n: (n.lineno, n.col_offset))
    )


class _Evaluation:
    """One expression evaluated over a scope, each problem located in its text."""

    def __init__(self, text: str, scope: Mapping[str, Any]):
        self.text = text
        self.scope = scope

    def fault(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, _offset(self.text, node))

    def run(self, tree: ast.expr) -> Any:
        """Every name checked before anything is computed, so that a misspelt name is an error
        even in the branch of an ``if else`` that is not taken."""
        for node, called in _names(tree):
            if called:
                if node.id not in _FUNCTIONS:
                    functions = ", ".join(_FUNCTIONS)
                    message = f"{node.id}() is not a function here ({functions} are)"
                    raise self.fault(node, message)
            elif node.id not in self.scope and node.id.lower() not in BOOLEANS:
                known = [*self.scope, "true", "false"]
                raise UnknownName(node.id, known, _offset(self.text, node))
        return self.value(tree)

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
            if isinstance(node.value, int) and not isinstance(node.value, bool):
                return self.bounded(node.value, node, lambda: _elided(str(node.value), 20))
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.scope:
                return self.scope[node.id]
            return BOOLEANS[node.id.lower()]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self.arithmetic(node)
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Invert):
            if isinstance(node.op, ast.Not):
                return not self.truth(node.operand)
            number = self.number(node.operand)
            return -number if isinstance(node.op, ast.USub) else number
        if isinstance(node, ast.BoolOp):
            values = [self.truth(v) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            return self.value(node.body if self.truth(node.test) else node.orelse)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node, node.func.id)
        if isinstance(node, (ast.List, ast.Tuple)):
            return tuple(self.value(e) for e in node.elts)
        written = self.written(node) or type(node).__name__
        raise self.fault(
            node,
            f"{_quoted(written)} is not allowed in an expression (+ - * / // % **, "
            f"comparisons, and/or/not, a if c else b, {', '.join(_FUNCTIONS)} are)",
        )

    def number(self, node: ast.expr) -> Number:
        """A number within MAX_NUMBER (a block argument read from YAML may not be)."""
        value = self.value(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fault(node, f"arithmetic is on numbers, not {_shown(value)}")
        return self.bounded(value, node, lambda: _elided(self.written(node), 20))

    def call(self, node: ast.Call, name: str) -> Number:
        fewest, most, function = _FUNCTIONS[name]
        if node.keywords or not fewest <= len(node.args) <= most:
            count = f"{fewest} to {most} numbers" if most > fewest else "one number"
            raise self.fault(node, f"{name}() takes {count}")
        args = [self.number(a) for a in node.args]
        if name == "log" and (args[0] <= 0 or len(args) == 2 and (args[1] <= 0 or args[1] == 1)):
            shown = ", ".join(map(_shown, args))
            raise self.fault(node, f"log({shown}) is not defined (log of a positive number)")
        return self.bounded(function(*args), node, lambda: _elided(self.written(node), 20))

    def truth(self, node: ast.expr) -> bool:
        """A condition: true or false, or a whole number by its truth as in Python."""
        value = self.value(node)
        if not isinstance(value, int):
            raise self.fault(node, f"{_shown(value)} is not true or false")
        return bool(value)

    def written(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text.strip(), node) or ""

    def bounded(self, value: Number, node: ast.AST, what: Callable[[], str]) -> Number:
        """``value`` within MAX_NUMBER; ``what`` it is, said only when it is not."""
        if -MAX_NUMBER <= value <= MAX_NUMBER:
            return value
        try:
            if isinstance(value, float):
                raise UsageError(f"{what()} is too large (at most 10**18)")
            return bounded(value, what())
        except UsageError as e:
            raise self.fault(node, str(e)) from None

    def arithmetic(self, node: ast.BinOp) -> Number:
        """Whole numbers stay whole (``/`` too when it divides); a fraction anywhere makes the
        result a real number, which a parameter that counts refuses where it is used."""
        symbol, op = _BINARY[type(node.op)]
        a, b = self.number(node.left), self.number(node.right)
        shown = f"{_operand(a)} {symbol} {_operand(b)}"
        if b == 0 and symbol in ("/", "//", "%") or a == 0 and b < 0 and symbol == "**":
            raise self.fault(node.right, f"{shown} divides by zero")
        if symbol == "/" and (isinstance(a, float) or isinstance(b, float) or a % b):
            return self.bounded(a / b, node, lambda: shown)
        if symbol == "**":
            if isinstance(a, int) and isinstance(b, int) and b >= 0:
                # |a| >= 2**(bits - 1), so |a|**b >= 2**60 > MAX_NUMBER: refused uncomputed
                if abs(a) > 1 and (abs(a).bit_length() - 1) * b >= 60:
                    raise self.fault(node, f"{shown} is too large (at most 10**18)")
                return self.bounded(a**b, node, lambda: shown)
            try:
                power = math.pow(a, b)
            except OverflowError:
                raise self.fault(node, f"{shown} is too large (at most 10**18)") from None
            except ValueError:  # a negative number to a fractional power
                raise self.fault(node, f"{shown} is not a real number") from None
            return self.bounded(power, node, lambda: shown)
        # operands are at most 10**18, so even a product is small before it is bounded
        return self.bounded(op(a, b), node, lambda: shown)

    def compare(self, node: ast.Compare) -> bool:
        """Numbers in any order; two booleans, words or sizes only equal or not."""
        left, result = self.value(node.left), True
        for cmp, right_node in zip(node.ops, node.comparators):
            if type(cmp) not in _COMPARE:
                raise self.fault(node, "only == != < <= > >= compare")
            symbol, compare = _COMPARE[type(cmp)]
            right = self.value(right_node)
            numbers = all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right)
            )
            alike = type(left) is type(right) and symbol in ("==", "!=")
            if not (numbers or alike):
                message = f"cannot compare {_shown(left)} {symbol} {_shown(right)}"
                raise self.fault(right_node, message)
            result = compare(left, right) and result
            left = right
        return result


def _elided(text: str, room: int = 40) -> str:
    """A user's text, cut to ``room`` characters."""
    return text if len(text) <= room else f"{text[: room - 1]}…"


def _operand(value: Number) -> str:
    """A number as one operand of an operator: ``(-8) ** 0.5``, not ``-8 ** 0.5``."""
    return f"({_shown(value)})" if value < 0 else _shown(value)


def _quoted(text: str) -> str:
    return f"'{_elided(text)}'"


def _shown(value: Any) -> str:
    """A value as a user writes it (true, 3x5, 'same', 0.5), never a Python repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "x".join(map(_shown, value)) or "nothing"
    if isinstance(value, list):
        return f"[{', '.join(map(_shown, value))}]"
    if isinstance(value, str):
        return _quoted(value)
    if value is None:
        return "nothing"
    if isinstance(value, int) and not -MAX_NUMBER <= value <= MAX_NUMBER:
        return "a number over 10**18"
    return str(value)


# --- YAML with positions ----------------------------------------------------------------------


def _loader() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _text_pos(node: yaml.Node) -> Pos:
    """Where a scalar's text begins: after the opening quote of a quoted one."""
    pos = _pos(node)
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    return Pos(pos.line, pos.column + 1) if quoted else pos


def _existing(lines: list[str], line: int, column: int) -> Pos:
    """A 1-based position moved onto a line and a column that exist in a text's ``lines``."""
    lines = lines or [""]
    line = min(max(line, 1), len(lines))
    return Pos(line, min(max(column, 1), max(len(lines[line - 1]), 1)))


_NOTATION = re.compile(r"(?=.*[x:])\d+(?::\d+)?(?:x\d+(?::\d+)?)*", re.IGNORECASE)
"""Sizes or paddings per dimension (``1x7``, ``0x3``, ``1:0``). Python reads ``0x3`` as
hexadecimal 3 and YAML 1.1 reads ``1:0`` as sexagesimal 60; both are notation here."""


_CONSTRUCTOR = yaml.constructor.SafeConstructor()
"""Builds scalar values with PyYAML's own rules (ints like 1_000, yes/no, ~)."""


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
    if node.tag in _AS_TEXT or _NOTATION.fullmatch(text):
        return text  # notation stays text: YAML would read 0x3 as 3, 1:0 as 60
    if node.tag not in _SCALARS:
        raise UsageError(f"the tag {_tag(node.tag)} is not supported (write plain values)")
    plain = text.replace("_", "").lstrip("+-")
    if node.tag == _YAML + "int" and plain.isdigit() and plain[:1] != "0":
        return parse_whole(text.replace("_", ""), "")
    try:
        value = _CONSTRUCTOR.construct_object(node, deep=True)
    except (ValueError, KeyError, yaml.YAMLError):
        raise UsageError(f"{text!r} is not {_SCALARS[node.tag]}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{text!r} is not a finite number")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        bounded(int(value), "")
    return value


def _value(node: yaml.Node) -> Any:
    """A node as Python data; the node was checked by :func:`_inspect` first."""
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_value(n) for n in node.value]
    return {_value(k): _value(v) for k, v in node.value}


def _word(node: yaml.Node) -> str:
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
            yield Problem(_pos(node), "", str(e))
        return
    if node.tag != _COLLECTIONS[type(node)]:
        yield Problem(_pos(node), "", f"the tag {_tag(node.tag)} is not supported")
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[Any, Pos] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            what = "list" if isinstance(key, yaml.SequenceNode) else "mapping"
            yield Problem(_pos(key), "", f"a key is a word or a number, not a {what}")
        elif key.tag == _MERGE_TAG:
            yield Problem(_pos(key), "", "merge keys (<<) are not supported: write the keys out")
        else:
            try:
                value = _scalar(key)
            except UsageError:
                continue  # reported when the key itself is inspected
            if value in seen:
                first = seen[value]
                yield Problem(
                    _pos(key), "", f"duplicate key {key.value!r} (first at {first[0]}:{first[1]})"
                )
            seen.setdefault(value, _pos(key))


def _inspect(root: yaml.Node) -> list[Problem]:
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
            return [Problem(_pos(node), "", "an alias refers to the list or mapping it is in")]
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
        problems.append(Problem(_pos(nodes[shared]), "", message))
    if height[id(root)] > MAX_DEPTH:
        node = root
        for _ in range(MAX_DEPTH):
            node = max(_children(node), key=lambda k: height.get(id(k), 1))
        problems.append(Problem(_pos(node), "", f"nesting deeper than {MAX_DEPTH} levels"))
    return sorted(problems, key=lambda p: p.pos)


def _yaml_problem(error: yaml.YAMLError, text: str) -> Problem:
    """A YAML syntax error where the mistake is: an unclosed bracket or quote at its opening,
    anything else where the reader stopped, with the other place as a note."""
    if isinstance(error, yaml.reader.ReaderError):  # a character YAML does not allow
        char = error.character
        index = max(text.find(chr(char) if isinstance(char, int) else char), 0)
        line, column = text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)
        message = f"bad YAML: character {ord(text[index : index + 1] or ' '):#06x}: {error.reason}"
        return Problem(_existing(text.splitlines(), line, column), "", message)
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
            _existing(text.splitlines(), opened.line + 1, opened.column + 1), "", message
        )
    mark = at or opened
    pos = _existing(text.splitlines(), mark.line + 1, mark.column + 1) if mark else Pos(1, 1)
    if opened is not None and context:
        problem += f" (in the {what} at {opened.line + 1}:{opened.column + 1})"
    return Problem(pos, "", f"bad YAML: {problem}")


# --- the builder ------------------------------------------------------------------------------


@dataclass
class _Block:
    name: str
    args: dict[str, Any]
    required: list[str]
    layers: yaml.Node
    pos: Pos
    at: dict[str, Pos] = field(default_factory=dict)
    """Where each default is written."""


@dataclass
class _Context:
    """Where an item is being read: its path, the names it can use, the blocks being called."""

    path: str
    scope: dict[str, Any]
    calls: tuple[str, ...] = ()
    used: set[str] = field(default_factory=set)
    """Names looked up through this scope (to tell whether a repeat depends on its index)."""
    depth: int = 0
    """Blocks, merges and repeats this item is inside."""


class _Builder:
    def __init__(self, text: str, source: str, convention: str = "pytorch"):
        self.text = text
        self.source = source
        self.problems: list[Problem] = []
        self.blocks: dict[str, _Block] = {}
        self.defaults = CONVENTIONS.get(convention, {})
        self.layers: dict[Any, Layer] = {}
        """Layers already built, by class and parameters: big specs repeat the same few."""
        self.inline_layers: dict[str, tuple[str, Layer, str | None]] = {}
        """Inline layers already read (kind as written, layer, explicit name), by their text."""
        self.calls: dict[Any, tuple[Sequence, int]] = {}
        """Block calls already built (body, expanded size), by block and arguments: a block's
        layers depend on nothing else, and blocks calling blocks would otherwise multiply."""
        self.expanded = 0
        """Layers the spec expands to so far, as the tracer will count them."""
        self.read: set[int] = set()
        """The YAML items read at least once."""
        self.copies = 0
        """Items read again (see MAX_COPIES)."""

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def problem(self, pos: Pos, path: str, message: str) -> _Invalid:
        self.problems.append(Problem(_existing(self.lines, *pos), path, message))
        return _Invalid()

    def grow(self, layers: int, pos: Pos, path: str) -> None:
        """Count expanded layers; stop reading as soon as there are too many."""
        self.expanded += layers
        if self.expanded > MAX_LAYERS:
            self.problem(pos, path, f"the spec expands to over {MAX_LAYERS:,} layers (the most)")
            raise _Stop

    # values

    def resolve(self, raw: Any, ctx: _Context, pos: Pos) -> Any:
        """A value as written at ``pos``: notation, a word or a layer path as text, a name in
        scope as its value, a boolean word as a boolean, else an expression on the names in
        scope (docs/spec.md, "Values and expressions")."""
        if isinstance(raw, list):
            return tuple(self.resolve(v, ctx, pos) for v in raw)
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        if _NOTATION.fullmatch(text) or _PATH.fullmatch(text):
            return raw  # "3x5", "0x3", "0:1": not arithmetic (nor hexadecimal); up1.upconv
        try:
            if _WORD.fullmatch(text):
                if text in ctx.scope:
                    ctx.used.add(text)
                    return ctx.scope[text]
                if text.lower() in BOOLEANS:
                    return BOOLEANS[text.lower()]
                if "-" not in text or not self.mentions(text, ctx):
                    return raw  # a word such as same, same-lower or up-1
            if not _INTEGER.fullmatch(text) and _parse_expression(raw) is None:
                return raw  # not arithmetic ("3x3x"): the parameter says what it accepts
            return evaluate(raw, _Recording(ctx))
        except ExpressionError as e:
            raise self.expression_problem(raw, e, ctx, pos) from None

    def mentions(self, text: str, ctx: _Context) -> bool:
        """Whether ``c-1`` is arithmetic on a name in scope, rather than a word like up-1."""
        tree = _parse_expression(text)
        return tree is not None and any(
            isinstance(n, ast.Name) and n.id in ctx.scope for n in ast.walk(tree)
        )

    def condition(self, node: yaml.Node, ctx: _Context) -> bool:
        """An item's ``if:``, true or false (a whole number by its truth, as in Python). A name
        not in scope or a word is an error, never silently true: ``if: projcet``, or a block
        argument given as ``flag=flase``."""
        raw, pos = _value(node), _text_pos(node)
        value = raw
        if raw is None or isinstance(raw, str) and not raw.strip():
            raise self.problem(pos, ctx.path, "if: is empty (a condition is true or false)")
        if isinstance(raw, str):
            try:
                value = evaluate(raw, _Recording(ctx))
            except ExpressionError as e:
                raise self.expression_problem(raw, e, ctx, pos) from None
        if isinstance(value, int):
            return bool(value)
        if isinstance(raw, str):
            said = f"{_elided(raw.strip())} is {_shown(value)}"
            message = f"if: {said}, but a condition is true or false"
        else:
            message = f"if: {_shown(value)} is not a condition (a condition is true or false)"
        raise self.problem(pos, ctx.path, message)

    def expression_problem(
        self, text: str, error: ExpressionError, ctx: _Context, pos: Pos
    ) -> _Invalid:
        """The problem at the place in the source the error points to, when the source shows
        the text as written (on one line, no escapes); else at the start of the text."""
        at = pos
        if 0 < pos.line <= len(self.lines):
            start, end = pos.column - 1, pos.column + error.offset
            if self.lines[pos.line - 1][start:end] == text[: error.offset + 1]:
                at = Pos(pos.line, pos.column + error.offset)
        plain = error.whole or text.strip().isidentifier() or _INTEGER.fullmatch(text.strip())
        where = "" if plain else f"in {_quoted(text.strip())}: "
        return self.problem(at, ctx.path, f"{where}{error}")

    def value(self, kind: str, key: str, raw: Any, ctx: _Context, pos: Pos) -> Any:
        """A parameter's value: a layer name for a reference (crop's ``to``), else resolved."""
        if kind not in self.blocks and key in _references(kind):
            return self.reference(raw, ctx)
        return self.resolve(raw, ctx, pos)

    def reference(self, raw: Any, ctx: _Context) -> str:
        """A layer name as written (``layer1.0.conv1``, ``up-1``: names, not arithmetic), or
        the name a block argument holds."""
        text = str(raw)
        if text in ctx.scope:
            ctx.used.add(text)
            return str(ctx.scope[text])
        return text

    def convert(self, cls: type[Layer], key: str, value: Any, pos: Pos, path: str) -> Any:
        """A parameter value checked against the type the layer declares."""
        try:
            return _CONVERSIONS[cls.parameters[key].base](value, key)
        except UsageError as e:
            raise self.problem(pos, path, f"{cls.kind}: {e}") from None

    # items

    def items(self, node: yaml.Node, ctx: _Context) -> list[Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.problem(_pos(node), ctx.path, "layers must be a list")
        if ctx.depth > MAX_DEPTH:
            self.problem(_pos(node), ctx.path, f"nesting deeper than {MAX_DEPTH} levels")
            raise _Stop
        out: list[Node] = []
        counts: dict[str, int] = {}
        names: set[str] = set()
        for child in node.value:
            if len(self.problems) >= MAX_PROBLEMS:
                raise _Stop
            if id(child) in self.read:
                self.copies += 1
                if self.copies > MAX_COPIES:
                    message = f"the spec builds over {MAX_COPIES:,} copies of items (the most)"
                    self.problem(_pos(child), ctx.path, message)
                    raise _Stop
            self.read.add(id(child))
            try:
                built = self.item(child, ctx, counts)
            except _Invalid:
                continue
            if built is None:
                continue
            if isinstance(built, (LayerNode, Merge)):
                self.expanded += 1
                if self.expanded > MAX_LAYERS:
                    self.grow(0, built.pos, ctx.path)
            if built.name in names:
                self.problem(built.pos, ctx.path, f"duplicate name {built.name!r}")
            names.add(built.name)
            out.append(built)
        return out

    def item(self, node: yaml.Node, ctx: _Context, counts: dict[str, int]) -> Node | None:
        """One list entry: an inline string, or a mapping keyed by its kind."""
        if isinstance(node, yaml.ScalarNode):
            if not node.style and node.end_mark.line > node.start_mark.line:
                self.slip(node, ctx)
            return self.inline_item(_word(node), _text_pos(node), ctx, counts)
        pos = _pos(node)
        if isinstance(node, yaml.SequenceNode):
            raise self.problem(pos, ctx.path, "a list inside layers must be a branch of a merge")
        entries = {_value(k): (k, v) for k, v in node.value}
        name = None
        if "name" in entries:
            name_node = entries.pop("name")[1]
            name = _word(name_node)  # as written: a name "on" is not true
            self.check_name(name, _pos(name_node), ctx)
        if "if" in entries:
            if not self.condition(entries.pop("if")[1], ctx):
                return None
        if "repeat" in entries:
            return self.repeat(entries, pos, name, ctx, counts)
        kinds = list(entries)
        if len(kinds) != 1:
            raise self.problem(
                pos, ctx.path, f"an item has one kind and optional name/if, not {kinds}"
            )
        key_node, value_node = entries[kinds[0]]
        kind, kpos = _word(key_node), _pos(key_node)
        if not kind:
            raise self.problem(kpos, ctx.path, "an item's kind is empty (null)")
        name = name or self.auto_name(kind, counts)
        if kind in MERGES:
            return self.merge(kind, value_node, kpos, name, ctx)
        if kind == "from":
            return Ref(name, kpos, target=self.reference(_value(value_node), ctx))
        params = self.mapping_params(kind, value_node, ctx)
        return self.call(kind, params, kpos, name, ctx)

    def mapping_params(
        self, kind: str, node: yaml.Node, ctx: _Context
    ) -> dict[str, tuple[Any, Pos]]:
        if isinstance(node, yaml.MappingNode):
            return {
                str(_value(k)): (
                    self.value(kind, str(_value(k)), _value(v), ctx, _text_pos(v)),
                    _pos(k),
                )
                for k, v in node.value
            }
        raw = _value(node)
        if raw is None:
            return {}
        return {"": (self.resolve(raw, ctx, _text_pos(node)), _pos(node))}

    def inline_item(
        self, text: str, pos: Pos, ctx: _Context, counts: dict[str, int]
    ) -> Node | None:
        known = None if ctx.scope else self.inline_layers.get(text)
        if known is not None:  # the same text read before, with no arguments in scope
            kind, layer, name = known
            return LayerNode(name or self.auto_name(kind, counts), pos, layer)
        node = self.parse_inline(text, pos, ctx, counts)
        if not ctx.scope and isinstance(node, LayerNode):
            explicit = node.name if "name=" in text else None
            self.inline_layers[text] = (text.split(None, 1)[0], node.layer, explicit)
        return node

    def parse_inline(
        self, text: str, pos: Pos, ctx: _Context, counts: dict[str, int]
    ) -> Node | None:
        tokens = _inline_tokens(text)
        if not tokens:
            raise self.problem(pos, ctx.path, "empty layer")
        (_, kind, _, _), rest = tokens[0], tokens[1:]
        if kind == "from":
            if len(rest) != 1:
                raise self.problem(pos, ctx.path, "write 'from NAME'")
            return Ref(self.auto_name("from", counts), pos, target=self.reference(rest[0][1], ctx))
        params: dict[str, tuple[Any, Pos]] = {}
        name = None
        for key, raw, offset, at in rest:
            tpos = Pos(pos.line, pos.column + offset)
            if key == "name":
                name = raw
                self.check_name(name, tpos, ctx)
                continue
            if key in params:
                if key:
                    raise self.problem(tpos, ctx.path, f"{kind}: {key} given twice")
                first = params[""][0]
                raise self.problem(
                    tpos,
                    ctx.path,
                    f"{kind}: a second bare value {raw!r} (the first is "
                    f"{_shown(first)}); name it, like s=2 or pad=1",
                )
            vpos = Pos(pos.line, pos.column + at)
            params[key] = (self.value(kind, key, raw, ctx, vpos), tpos)
        return self.call(kind, params, pos, name or self.auto_name(kind, counts), ctx)

    def call(
        self, kind: str, params: dict[str, tuple[Any, Pos]], pos: Pos, name: str, ctx: _Context
    ) -> Node:
        """A layer of a registered kind, or a call of a block defined in this spec."""
        if kind in self.blocks:
            return self.called(self.blocks[kind], params, pos, name, ctx)
        if kind.lower() in (*MERGES, "repeat"):
            message = f"{kind} is written as a mapping in a spec file, not inline (docs/spec.md)"
            raise self.problem(pos, ctx.path, message)
        try:
            cls = layer_class(kind)
        except UsageError:
            known = [*REGISTRY, *ALIASES, *self.blocks, "repeat", "from"]
            close = difflib.get_close_matches(kind.lower(), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.problem(pos, ctx.path, f"unknown layer kind {kind!r}{hint}") from None
        try:
            key = (cls, tuple((k, v) for k, (v, _) in params.items()))
            layer = self.layers.get(key)
        except TypeError:  # an unhashable value: build it, uncached
            key, layer = None, None
        if layer is None:
            layer = self.build(cls, params, f"{ctx.path}.{name}" if ctx.path else name, pos)
            if key is not None:
                self.layers[key] = layer
        return LayerNode(name, pos, layer)

    def build(
        self, cls: type[Layer], params: dict[str, tuple[Any, Pos]], path: str, pos: Pos
    ) -> Layer:
        """A layer from checked parameters over the convention's defaults."""
        kwargs = dict(self.defaults.get(cls.kind, {}))
        allowed = list(cls.parameters)
        where: dict[str, Pos] = {}
        for key, (value, kpos) in params.items():
            key, value = self.setting(cls, key, value, kpos, path, allowed)
            kwargs[key] = self.convert(cls, key, value, kpos, path)
            where[key] = kpos
        try:
            return cls(**kwargs)
        except ParameterError as e:  # a value the kind refuses (below its least), at the value
            raise self.problem(where.get(e.name, pos), path, str(e)) from None

    def setting(
        self, cls: type[Layer], key: str, value: Any, pos: Pos, path: str, allowed: list[str]
    ) -> tuple[str, Any]:
        """The field a parameter sets and its value: a key and its value, a bare value for the
        kind's primary parameter, or a bare word for what the kind says it means."""
        if key == "":
            if isinstance(value, str) and value in cls.words:
                return cls.words[value]
            if cls.primary is None:
                raise self.problem(pos, path, f"{cls.kind} takes no bare value ({_shown(value)})")
            return cls.primary, value
        if key in allowed:
            return key, value
        if SHORT.get(key) in allowed:  # s=2 for stride, unless the kind has its own s
            return SHORT[key], value
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (it takes {', '.join(allowed)})"
        if not allowed:
            hint = " (it takes none)"
        raise self.problem(pos, path, f"{cls.kind} has no parameter {key!r}{hint}")

    def called(
        self, block: _Block, params: dict[str, tuple[Any, Pos]], pos: Pos, name: str, ctx: _Context
    ) -> Node:
        """A block call, built once for each block and arguments (see ``calls``)."""
        try:
            key = (block.name, tuple((k, v) for k, (v, _) in params.items()))
            done = self.calls.get(key)
        except TypeError:  # an unhashable value: build it, uncached
            key, done = None, None
        if done is not None:
            body, size = done
            self.grow(size, pos, ctx.path)
            return Sequence(name, pos, body.items, kind=body.kind)
        problems, expanded = len(self.problems), self.expanded
        node = self.block_call(block, params, pos, name, ctx)
        if key is not None and isinstance(node, Sequence) and len(self.problems) == problems:
            self.calls[key] = (node, self.expanded - expanded)
        return node

    def block_call(
        self, block: _Block, params: dict[str, tuple[Any, Pos]], pos: Pos, name: str, ctx: _Context
    ) -> Node:
        path = f"{ctx.path}.{name}" if ctx.path else name
        if block.name in ctx.calls:
            chain = " -> ".join([*ctx.calls, block.name])
            raise self.problem(pos, path, f"block {block.name!r} calls itself ({chain})")
        args: dict[str, Any] = {}
        for key, (value, kpos) in params.items():
            if key == "" and len(block.args) == 1:
                key = next(iter(block.args))
            if key not in block.args:
                close = difflib.get_close_matches(key, list(block.args), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.problem(
                    kpos, path, f"block {block.name!r} has no argument {key!r}{hint}"
                )
            args[key] = value
        missing = [a for a in block.required if a not in args]
        if missing:
            raise self.problem(pos, path, f"block {block.name!r} needs {', '.join(missing)}")
        for key, default in block.args.items():  # in order, over the arguments set so far
            if key not in args:
                where = _Context(path, args, ctx.calls)
                args[key] = self.resolve(default, where, block.at.get(key, block.pos))
        inner = _Context(path, args, (*ctx.calls, block.name), depth=ctx.depth + 1)
        return Sequence(name, pos, self.items(block.layers, inner), kind=block.name)

    def merge(self, op: str, node: yaml.Node, pos: Pos, name: str, ctx: _Context) -> Node:
        path = f"{ctx.path}.{name}" if ctx.path else name
        if not isinstance(node, yaml.SequenceNode) or len(node.value) < 2:
            raise self.problem(pos, path, f"{op} needs a list of at least two branches")
        branches = []
        for i, branch in enumerate(node.value):
            bctx = _Context(f"{path}.{i}", ctx.scope, ctx.calls, ctx.used, ctx.depth + 1)
            items = branch if isinstance(branch, yaml.SequenceNode) else _as_list(branch)
            branches.append(Sequence(str(i), _pos(branch), self.items(items, bctx)))
        return Merge(name, pos, op=op, branches=branches)

    def repeat(
        self,
        entries: dict[Any, tuple[yaml.Node, yaml.Node]],
        pos: Pos,
        name: str | None,
        ctx: _Context,
        counts: dict[str, int],
    ) -> Node:
        name = name or self.auto_name("repeat", counts)
        path = f"{ctx.path}.{name}" if ctx.path else name
        count_node = entries.pop("repeat")[1]
        index = str(_value(entries.pop("as")[1])) if "as" in entries else "i"
        if "layers" not in entries:
            raise self.problem(pos, path, "repeat needs layers: the list to repeat")
        body_node = entries.pop("layers")[1]
        for extra in entries:
            raise self.problem(_pos(entries[extra][0]), path, f"repeat has no key {extra!r}")
        count = self.resolve(_value(count_node), ctx, _pos(count_node))
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise self.problem(
                _pos(count_node), path, f"repeat count must be a whole number, not {_shown(count)}"
            )
        if count > MAX_REPEAT:
            raise self.problem(
                _pos(count_node), path, f"repeat count {count:,} is absurd (at most {MAX_REPEAT:,})"
            )
        bodies: list[Sequence] = []
        expanded = self.expanded
        for i in range(count):
            scope = {**ctx.scope, index: i}
            inner = _Context(f"{path}.{i}", scope, ctx.calls, depth=ctx.depth + 1)
            before = len(self.problems)
            bodies.append(Sequence(str(i), pos, self.items(body_node, inner)))
            if index not in inner.used or len(self.problems) > before:
                break  # the body does not depend on the index: one copy serves every iteration
        if len(bodies) == 1:  # counted before any copy is made
            self.grow((count - 1) * (self.expanded - expanded), _pos(count_node), path)
        return Repeat(name, pos, times=count, bodies=bodies)

    def slip(self, node: yaml.ScalarNode, ctx: _Context) -> None:
        """A list item that runs on over lines that start with ``-``: an indentation slip
        made the next items part of its text (``relu - maxpool``)."""
        lines = self.lines
        first = node.start_mark
        for n in range(first.line + 1, min(node.end_mark.line, len(lines) - 1) + 1):
            rest = lines[n].lstrip()
            if rest != "-" and not rest.startswith("- "):
                continue
            column = len(lines[n]) - len(rest)
            far = column - lines[first.line].rfind("-", 0, first.column)
            how = "one space too far" if far == 1 else f"{far} spaces too far"
            message = (
                f"{node.value!r} reads as one item: is {rest!r} indented "
                f"{how if 0 < far <= column else 'too far'}?"
            )
            raise self.problem(Pos(n + 1, column + 1), ctx.path, message)

    def auto_name(self, kind: str, counts: dict[str, int]) -> str:
        """``conv1``, ``conv2``, ``bn1``...: the kind as written, numbered within its list."""
        kind = kind.lower()
        counts[kind] = counts.get(kind, 0) + 1
        return f"{kind}{counts[kind]}"

    def check_name(self, name: str, pos: Pos, ctx: _Context) -> None:
        if not _NAME.fullmatch(name):
            message = f"name {name!r}: use ASCII letters, digits, _ and -, a letter or _ first"
            raise self.problem(pos, ctx.path, message)


class _Recording(Mapping[str, Any]):
    """A context's scope that notes which names were read."""

    def __init__(self, ctx: _Context):
        self.ctx = ctx

    def __getitem__(self, key: str) -> Any:
        value = self.ctx.scope[key]
        self.ctx.used.add(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self.ctx.scope

    def __iter__(self) -> Iterator[str]:
        return iter(self.ctx.scope)

    def __len__(self) -> int:
        return len(self.ctx.scope)


def _references(kind: str) -> tuple[str, ...]:
    """The parameters of a layer kind that name another layer."""
    try:
        return layer_class(kind).references
    except UsageError:
        return ()


def _as_list(node: yaml.Node) -> yaml.SequenceNode:
    return yaml.SequenceNode("tag:yaml.org,2002:seq", [node], node.start_mark, node.end_mark)


@lru_cache(maxsize=4096)
def _inline_tokens(text: str) -> tuple[tuple[str, Any, int, int], ...]:
    """(parameter, raw value, offset of the token, offset of its value) of each token; the
    first token is the kind itself."""
    tokens = []
    for i, (token, offset) in enumerate(_tokens(text)):
        key, raw = ("", token) if i == 0 else _split_token(token)
        at = offset + len(token) - len(raw)
        if key == "" and raw in WORDS and i > 0:
            key, raw = WORDS[raw]
        tokens.append((key, raw, offset, at))
    return tuple(tokens)


def _tokens(text: str) -> Iterator[tuple[str, int]]:
    """Whitespace-separated tokens with their offsets; brackets keep an expression together."""
    depth, start = 0, None
    for i, ch in enumerate(text + " "):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch.isspace() and depth <= 0:
            if start is not None:
                yield text[start:i], start
                start = None
        elif start is None:
            start = i
    if start is not None:  # an unclosed bracket: the rest is one token, reported as a bad value
        yield text[start:], start


_SHORT_TOKEN = re.compile(r"(f|s|p|d|g)([0-9(].*)")


def _split_token(token: str) -> tuple[str, str]:
    """``key=value``, a shorthand like ``f3`` or ``p0:1``, or a bare value (key "")."""
    if "=" in token and not token.startswith("("):
        key, _, value = token.partition("=")
        return key, value
    m = _SHORT_TOKEN.fullmatch(token)
    if m:
        return SHORT[m.group(1)], m.group(2)
    return "", token


def _dims(value: Any, key: str) -> int | tuple[int, ...]:
    if isinstance(value, str):
        return parse_ints(value, key)
    if isinstance(value, tuple):
        return tuple(_int(v, key) for v in value)
    return _int(value, key)


def _padding(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return parse_padding(value)
    if isinstance(value, tuple):
        return tuple(tuple(v) if isinstance(v, tuple) else _int(v, key) for v in value)
    return _int(value, key)


def _int(value: Any, key: str) -> int:
    """A whole number within MAX_NUMBER; digits are counted before Python converts them."""
    if isinstance(value, str):
        try:
            return parse_whole(value, key)
        except UsageError:
            raise
        except ValueError:
            pass
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an expression's 64 / 2, or round(...) of a real number
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{key} must be a whole number, not {_shown(value)}")
    return bounded(value, key)


def _bool(value: Any, key: str) -> bool:
    """True or false; the words yes/no/on/off were made booleans where they were read."""
    if not isinstance(value, bool):
        raise UsageError(f"{key} must be true or false, not {_shown(value)}")
    return value


def _real(value: Any, key: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{key} must be a number, not {_shown(value)}")
    return value


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a word, not {_shown(value)}")
    return value


_CONVERSIONS: dict[str, Callable[[Any, str], Any]] = {
    "int": _int,
    "Dims": _dims,
    "PadSpec": _padding,
    "bool": _bool,
    "float": _real,
    "str": _text,
}
"""How a value as written becomes each of the layers' PARAMETER_TYPES."""


# --- whole specs ------------------------------------------------------------------------------


def _shape(value: Any, layout: str, what: str) -> Shape:
    if isinstance(value, int) and not isinstance(value, bool):
        sizes: tuple[int, ...] = (value,)
    elif isinstance(value, str):
        sizes = parse_ints(value, what)
    elif isinstance(value, list) and all(isinstance(v, int) for v in value):
        sizes = tuple(value)
    else:
        raise UsageError(f"{what}: {_shown(value)} is not a shape like 224x224x3")
    return shape_from_sizes(sizes, layout)


def load_spec(text: str, source: str = "<spec>") -> Network:
    """Read a YAML (or JSON) spec into a network; raises SpecError listing every problem."""
    with without_gc_pauses():
        return _load_spec(text, source)


def _load_spec(text: str, source: str) -> Network:
    try:
        root = yaml.compose(text, Loader=_loader())
    except yaml.YAMLError as e:
        raise SpecError([_yaml_problem(e, text)], source, text) from None
    except RecursionError:  # PyYAML's own composer recurses (libyaml stops at 1000 levels)
        message = f"nesting deeper than {MAX_DEPTH} levels"
        raise SpecError([Problem(Pos(1, 1), "", message)], source, text) from None
    if not isinstance(root, yaml.MappingNode):
        pos = _pos(root) if root is not None else Pos(1, 1)
        raise SpecError(
            [
                Problem(
                    _existing(text.splitlines(), *pos),
                    "",
                    "a spec is a mapping with input and layers",
                )
            ],
            source,
            text,
        )
    problems = _inspect(root)
    if problems:
        raise SpecError(problems, source, text)
    top = {str(_value(k)): (k, v) for k, v in root.value}
    probe = _Builder(text, source)
    for key, (knode, _) in top.items():
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(key, TOP_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (keys: {', '.join(TOP_KEYS)})"
            probe.problem(_pos(knode), "", f"unknown key {key!r}{hint}")

    def scalar(key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        if key not in top:
            return default
        node = top[key][1]
        value = str(_value(node))
        if choices and value not in choices:
            probe.problem(
                _pos(node), "", f"{key} must be one of {', '.join(choices)}, not {value!r}"
            )
            return default
        return value

    name = scalar("name", source)
    layout = scalar("layout", "hwc", ("hwc", "chw"))
    convention = scalar("convention", "pytorch", tuple(CONVENTIONS))
    builder = _Builder(text, source, convention)
    builder.problems = probe.problems
    input_shape = Shape((), 1)
    input_hint = None
    if "input" not in top:
        builder.problem(Pos(1, 1), "", "the spec has no input shape (input: 224x224x3)")
    else:
        node = top["input"][1]
        try:
            input_shape = _shape(_value(node), layout, "input")
        except UsageError as e:
            builder.problem(_pos(node), "", str(e))
        looks = channels_first_hint(tuple(shape_sizes(input_shape)), "hwc")
        if looks and "layout" not in top:
            remedy = "if it is CxHxW, add layout: chw (layout: hwc says it is not)"
            input_hint = Problem(_pos(node), "input", f"{looks}; {remedy}")
    if "blocks" in top:
        _read_blocks(builder, top["blocks"][1])
    body: list[Node] = []
    if "layers" not in top:
        builder.problem(Pos(1, 1), "", "the spec has no layers")
    else:
        try:
            body = builder.items(top["layers"][1], _Context("", {}))
        except (_Invalid, _Stop):
            pass  # recorded: layers is not a list, or the spec is too big or too deep
    expect = _read_expectations(builder, top["expect"][1], layout) if "expect" in top else None
    outputs = _read_outputs(builder, top["outputs"][1]) if "outputs" in top else ()
    network = Network(
        name,
        input_shape,
        Sequence("", Pos(1, 1), body),
        layout,
        expect or Expectations(),
        source,
        text,
        scalar("description", ""),
        input_hint,
        outputs,
        task=scalar("task", "", TASKS),
        origin=scalar("origin", ""),
    )
    if builder.problems:
        raise SpecError(builder.problems, source, text)
    return network


def _read_blocks(builder: _Builder, node: yaml.Node) -> None:
    if not isinstance(node, yaml.MappingNode):
        builder.problem(_pos(node), "", "blocks must be a mapping of name: {args, layers}")
        return
    for knode, vnode in node.value:
        name = str(_value(knode))
        pos = _pos(knode)
        if name in REGISTRY or name in ALIASES or name in ("repeat", "from"):
            builder.problem(pos, name, f"block name {name!r} is already a layer kind")
            continue
        if not isinstance(vnode, yaml.MappingNode):
            builder.problem(_pos(vnode), name, "a block is a mapping with args and layers")
            continue
        parts = {str(_value(k)): (k, v) for k, v in vnode.value}
        for key, (k, _) in parts.items():
            if key not in ("args", "layers", "description"):
                builder.problem(_pos(k), name, f"a block has args and layers, not {key!r}")
        if "layers" not in parts:
            builder.problem(pos, name, f"block {name!r} has no layers")
            continue
        args: dict[str, Any] = {}
        if "args" in parts:
            raw = _value(parts["args"][1])
            if isinstance(raw, list) and all(isinstance(a, str) for a in raw):
                raw = dict.fromkeys(raw)
            if not isinstance(raw, dict):
                builder.problem(_pos(parts["args"][1]), name, "args is a mapping of name: default")
                raw = {}
            args = {str(k): v for k, v in raw.items()}
        required = [a for a, v in args.items() if v is None]
        at = _arg_positions(parts["args"][1]) if "args" in parts else {}
        builder.blocks[name] = _Block(name, args, required, parts["layers"][1], pos, at)


def _arg_positions(node: yaml.Node) -> dict[str, Pos]:
    """Where each default of a block's ``args`` mapping is written."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(_value(k)): _text_pos(v) for k, v in node.value}


def _read_outputs(builder: _Builder, node: yaml.Node) -> tuple[tuple[str, Pos], ...]:
    """``outputs: [NAME, ...]`` (or one NAME): the layers whose outputs are the network's."""
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    outputs: dict[str, Pos] = {}
    for item in items:
        name = _word(item)
        if not name or not isinstance(item, yaml.ScalarNode):
            builder.problem(_pos(item), "", "outputs lists layer names: outputs: [head1, head2]")
        elif name in outputs:
            builder.problem(_pos(item), "", f"output {name!r} is listed twice")
        else:
            outputs[name] = _pos(item)
    return tuple(outputs.items())


def _read_expectations(builder: _Builder, node: yaml.Node, layout: str) -> Expectations:
    expect = Expectations()
    if not isinstance(node, yaml.MappingNode):
        builder.problem(_pos(node), "", "expect is a mapping: output, params, macs, shapes")
        return expect
    for knode, vnode in node.value:
        key, pos, raw = str(_value(knode)), _pos(vnode), _value(vnode)
        try:
            if key == "output" and isinstance(vnode, yaml.MappingNode):  # several, by name
                for ok, ov in vnode.value:
                    shape = _shape(_value(ov), layout, "expect output")
                    expect.outputs[_word(ok)] = (shape, _pos(ok))
            elif key == "output":
                expect.output = (_shape(raw, layout, "expect output"), pos)
            elif key in ("params", "macs"):
                setattr(expect, key, (_int(raw, key), pos))
            elif key == "shapes" and isinstance(vnode, yaml.MappingNode):
                for sk, sv in vnode.value:
                    expect.shapes[str(_value(sk))] = (_shape(_value(sv), layout, "shape"), _pos(sv))
            else:
                close = difflib.get_close_matches(key, EXPECT_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                builder.problem(_pos(knode), "", f"unknown expectation {key!r}{hint}")
        except UsageError as e:
            builder.problem(pos, "", str(e))
    return expect


def load_inline(text: str) -> Network:
    """``"32x32x3 | conv 10 f5 p2 | relu | pool f2 s2 | fc 10"``: an input, then layers."""
    builder = _Builder(text, "<inline>")
    parts, offset = [], 0
    for part in text.split("|"):
        lead = len(part) - len(part.lstrip())
        parts.append((part.strip(), offset + lead + 1))
        offset += len(part) + 1
    (first, col), rest = parts[0], parts[1:]
    input_shape, input_hint = Shape((), 1), None
    try:
        input_shape = _shape(first, "hwc", "input")
    except UsageError as e:
        builder.problem(
            Pos(1, col), "", f"{e} (an inline spec starts with the input, e.g. 32x32x3)"
        )
    sizes = tuple(shape_sizes(input_shape))
    hint = channels_first_hint(sizes, "hwc")
    if hint:
        hwc = "x".join(map(str, (*sizes[1:], sizes[0])))
        input_hint = Problem(Pos(1, col), "input", f"{hint}; an inline input is HxWxC, like {hwc}")
    ctx = _Context("", {})
    counts: dict[str, int] = {}
    body: list[Node] = []
    for part, col in rest:
        try:
            item = builder.inline_item(part, Pos(1, col), ctx, counts)
        except _Invalid:
            continue
        if item is not None:
            body.append(item)
    if builder.problems:
        raise SpecError(builder.problems, "<inline>", text)
    return Network(
        "inline",
        input_shape,
        Sequence("", Pos(1, 1), body),
        source="<inline>",
        text=text,
        input_hint=input_hint,
    )
