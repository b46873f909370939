"""Safe arithmetic for spec values: ``c * 4``, ``max(8, c // 2)``, ``64 if big else 32``.

Expressions are parsed by Python's ``ast`` and evaluated node by node over a small set of
operators and functions, with their size, nesting and number of operations bounded, so that
no expression can take long or build a huge number.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import warnings
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from cnncalc.core.errors import UsageError
from cnncalc.core.numbers import MAX_NUMBER, bounded, parse_whole
from cnncalc.formats.kit import did_you_mean

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
    "min": (2, MAX_NESTING, min),  # of numbers written out: Python's min(1) wants a list
    "max": (2, MAX_NESTING, max),
    "round": (1, 1, round),  # half to even, as Python and torch.round
    "floor": (1, 1, math.floor),
    "ceil": (1, 1, math.ceil),
    "int": (1, 1, int),  # towards zero, as torchvision's _make_divisible writes it
    "log": (1, 2, math.log),
}
"""The functions an expression may call: the fewest and most arguments, and the function.
RegNet's widths and MobileNet's divisible channels are computed with these."""

WORD = re.compile(r"[A-Za-z_][\w-]*")
"""A name, or a word such as same-lower or up-1 (unless a name in it is in scope: c-1)."""

PATH = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w-]+)+")
"""A dotted layer name such as up1.upconv or layer1.0.conv1: never arithmetic."""

INTEGER = re.compile(r"[+-]?\d+")

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
        super().__init__(f"unknown name {name!r}{did_you_mean(name, known)}", offset)
        self.name = name


@lru_cache(maxsize=2048)
def parse_expression(text: str) -> ast.expr | None:
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
    cnncalc.formats.expressions.UnknownName: unknown name 'x'
    """
    if INTEGER.fullmatch(text.strip()):  # the common case, and its digits counted first
        try:
            return parse_whole(text, elided(text.strip(), 20))
        except UsageError as e:
            raise ExpressionError(str(e), len(text) - len(text.lstrip())) from None
    tree = parse_expression(text)
    if tree is None:
        raise ExpressionError(f"{quoted(text.strip())} is not an expression", whole=True)
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
                return self.bounded(node.value, node, lambda: elided(str(node.value), 20))
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
            f"{quoted(written)} is not allowed in an expression (+ - * / // % **, "
            f"comparisons, and/or/not, a if c else b, {', '.join(_FUNCTIONS)} are)",
        )

    def number(self, node: ast.expr) -> Number:
        """A number within MAX_NUMBER (a block argument read from YAML may not be)."""
        value = self.value(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fault(node, f"arithmetic is on numbers, not {shown(value)}")
        return self.bounded(value, node, lambda: elided(self.written(node), 20))

    def call(self, node: ast.Call, name: str) -> Number:
        fewest, most, function = _FUNCTIONS[name]
        if node.keywords or not fewest <= len(node.args) <= most:
            count = f"{fewest} to {most} numbers" if most > fewest else "one number"
            raise self.fault(node, f"{name}() takes {count}")
        args = [self.number(a) for a in node.args]
        if name == "log" and (args[0] <= 0 or len(args) == 2 and (args[1] <= 0 or args[1] == 1)):
            written = ", ".join(map(shown, args))
            raise self.fault(node, f"log({written}) is not defined (log of a positive number)")
        return self.bounded(function(*args), node, lambda: elided(self.written(node), 20))

    def truth(self, node: ast.expr) -> bool:
        """A condition: true or false, or a whole number by its truth as in Python."""
        value = self.value(node)
        if not isinstance(value, int):
            raise self.fault(node, f"{shown(value)} is not true or false")
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
                message = f"cannot compare {shown(left)} {symbol} {shown(right)}"
                raise self.fault(right_node, message)
            result = compare(left, right) and result
            left = right
        return result


def elided(text: str, room: int = 40) -> str:
    """A user's text, cut to ``room`` characters."""
    return text if len(text) <= room else f"{text[: room - 1]}…"


def _operand(value: Number) -> str:
    """A number as one operand of an operator: ``(-8) ** 0.5``, not ``-8 ** 0.5``."""
    return f"({shown(value)})" if value < 0 else shown(value)


def quoted(text: str) -> str:
    return f"'{elided(text)}'"


def shown(value: Any) -> str:
    """A value as a user writes it (true, 3x5, 'same', 0.5), never a Python repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "x".join(map(shown, value)) or "nothing"
    if isinstance(value, list):
        return f"[{', '.join(map(shown, value))}]"
    if isinstance(value, str):
        return quoted(value)
    if value is None:
        return "nothing"
    if isinstance(value, int) and not -MAX_NUMBER <= value <= MAX_NUMBER:
        return "a number over 10**18"
    return str(value)
