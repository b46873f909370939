"""The spec language's grammar, stated once for its reader and for ``convert``'s writer: the
keys of a spec, the inline form's words and shorthands (``conv 64 f3 s2 p1 nobias``), the
naming rule, and how a value as written becomes each parameter type.

The words, bare values and conventions come from the kinds' own declarations, read from the
registry as it is now: a kind registered after import is known by its words too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from cnncalc.core.errors import UsageError
from cnncalc.core.notation import parse_ints, parse_padding
from cnncalc.core.numbers import bounded, parse_whole
from cnncalc.formats.expressions import BOOLEANS, shown
from cnncalc.kinds import REGISTRY
from cnncalc.kinds.base import registry_view


@registry_view
def conventions(name: str) -> dict[str, dict[str, Any]]:
    """Defaults the convention ``name`` (one of FRAMEWORKS) changes, by kind, as each kind
    declares them."""
    return {
        kind: cls.conventions[name] for kind, cls in REGISTRY.items() if name in cls.conventions
    }


KEYWORDS = ("repeat", "from")
"""The items that are not kinds: a repeat, and a reference to an earlier layer. No block may
be named so, nor a kind."""

SHORT = {"f": "f", "s": "stride", "p": "pad", "d": "dilation", "g": "groups"}
"""Inline shorthands in the course notation: ``f3 s2 p1``."""

SHORTHAND = re.compile(f"({'|'.join(SHORT)})([0-9(].*)")
"""A token that is a shorthand, ``f3`` or ``p0:1``; a name that reads as one (``from f12``)
needs another spelling."""


@registry_view
def words() -> dict[str, tuple[str, Any]]:
    """Every kind's bare words of the inline form and the parameter each one sets."""
    return {word: setting for cls in REGISTRY.values() for word, setting in cls.words.items()}


NOT_TEXT = frozenset({*BOOLEANS, "null"})
"""Words (in any case) that are not read as text when written plainly: the booleans, inline
and in YAML, and YAML's null. The writer quotes them to say them as text."""

NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_-]*$"
"""A layer's name, as the reader and the JSON Schema both check it."""

NAME = re.compile(NAME_PATTERN)


def auto_name(kind: str, counts: dict[str, int]) -> str:
    """The name of an unnamed item: the kind as written, in lower case, numbered within its
    list (``conv1``, ``conv2``, ``bn1``); ``counts`` are the list's numbers so far."""
    kind = kind.lower()
    counts[kind] = counts.get(kind, 0) + 1
    return f"{kind}{counts[kind]}"


def auto_named(name: str, kind: str) -> bool:
    """Whether an unnamed item of ``kind`` may be given ``name`` (``from3``), so that an item
    named so could clash with it."""
    return name.startswith(kind) and name[len(kind) :].isdigit()


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

ITEM_KEYS = ("name", "if", "shares", "frozen")
"""The keys any item may have beside its kind: ``shares`` and ``frozen`` are its marks
(the weights it applies again, parameters not trained; docs/spec.md, "Shared and frozen
weights")."""

EXPECT_KEYS = ("output", "params", "trainable", "macs", "shapes")


@registry_view
def inline_tokens(text: str) -> tuple[tuple[str, Any, int, int], ...]:
    """(parameter, raw value, offset of the token, offset of its value) of each token; the
    first token is the kind itself."""
    tokens = []
    bare = words()
    for i, (token, offset) in enumerate(_tokens(text)):
        key, raw = ("", token) if i == 0 else _split_token(token)
        at = offset + len(token) - len(raw)
        if key == "" and raw in bare and i > 0:
            key, raw = bare[raw]
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


def _split_token(token: str) -> tuple[str, str]:
    """``key=value``, a shorthand like ``f3`` or ``p0:1``, or a bare value (key "")."""
    if "=" in token and not token.startswith("("):
        key, _, value = token.partition("=")
        return key, value
    m = SHORTHAND.fullmatch(token)
    if m:
        return SHORT[m.group(1)], m.group(2)
    return "", token


def as_dims(value: Any, key: str) -> int | tuple[int, ...]:
    if isinstance(value, str):
        return parse_ints(value, key)
    if isinstance(value, tuple):
        return tuple(as_int(v, key) for v in value)
    return as_int(value, key)


def as_padding(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return parse_padding(value)
    if isinstance(value, tuple):
        return tuple(tuple(v) if isinstance(v, tuple) else as_int(v, key) for v in value)
    return as_int(value, key)


def as_int(value: Any, key: str) -> int:
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
        raise UsageError(f"{key} must be a whole number, not {shown(value)}")
    return bounded(value, key)


def as_bool(value: Any, key: str) -> bool:
    """True or false; the words yes/no/on/off were made booleans where they were read."""
    if not isinstance(value, bool):
        raise UsageError(f"{key} must be true or false, not {shown(value)}")
    return value


def as_real(value: Any, key: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{key} must be a number, not {shown(value)}")
    return value


def as_reals(value: Any, key: str) -> tuple[float | int, ...]:
    """A list of numbers: ``coeff: [1, -1]``."""
    if not isinstance(value, tuple) or not value:
        raise UsageError(f"{key} must be a list of numbers, not {shown(value)}")
    return tuple(as_real(v, key) for v in value)


def as_text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a word, not {shown(value)}")
    return value


CONVERSIONS: dict[str, Callable[[Any, str], Any]] = {
    "int": as_int,
    "Dims": as_dims,
    "PadSpec": as_padding,
    "bool": as_bool,
    "float": as_real,
    "Numbers": as_reals,
    "str": as_text,
}
"""How a value as written becomes each of the layers' PARAMETER_TYPES."""
