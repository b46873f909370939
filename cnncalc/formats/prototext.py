"""A small, strict reader of protocol buffers' text format, as Caffe's ``.prototxt`` files use.

It knows the syntax only, not any schema: a message is a list of fields in the order written,
each ``name: value`` (a number, a quoted string or a word such as an enum value or ``true``),
``name [1, 2]``-style lists of values, or ``name { ... }`` (``:`` and ``< >`` allowed) for a
nested message. Every field and value keeps its source position, so that whoever reads the
message can point at what it refuses. ``#`` starts a comment. The first syntax error stops
reading: after an unclosed brace or string nothing later can be trusted.

>>> m = parse('name: "net"  layer { top: "a" top: "b" }  # two tops')
>>> m.first("name").value.text, [f.value.text for f in m.first("layer").value.all("top")]
('net', ['a', 'b'])
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cnncalc.core.errors import SpecError
from cnncalc.core.positions import Pos, Problem


class Scalar(NamedTuple):
    """A value as written: ``kind`` is ``string`` (``text`` decoded), ``number`` or ``word``."""

    text: str
    kind: str
    pos: Pos


class Field(NamedTuple):
    name: str
    pos: Pos
    value: Value


class Message(NamedTuple):
    """The fields of a message, in the order written; ``pos`` is where its brace opened."""

    pos: Pos
    fields: list[Field]

    def all(self, name: str) -> list[Field]:
        return [f for f in self.fields if f.name == name]

    def first(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


Value = Scalar | Message

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+|\n|\#[^\n]*)
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]++|(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?\d++)?+)[fF]?+
               |[-+]?(?:inf|infinity|nan))(?![\w.])
  | (?P<junk>[-+.0-9][\w.+-]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<string>"[^"\\\n]*+"|'[^'\\\n]*+'|["'])
  | (?P<punct>[{}<>\[\]:,;])
    """,
    re.VERBOSE | re.IGNORECASE,
)
"""A number's parts are possessive (``++``): a long run of digits followed by a letter fails
at once instead of being retried at every split of its digits (quadratic: 12,000 digits
took 24 s)."""
MAX_DEPTH = 100
"""The deepest nesting read (Caffe's deepest is 3 or 4): deeper text is refused, not recursed."""
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_CLOSE = {"{": "}", "<": ">"}


class Token(NamedTuple):
    kind: str
    text: str
    pos: Pos


class _Syntax(Exception):
    def __init__(self, pos: Pos, message: str):
        self.pos, self.message = pos, message


def _tokens(text: str) -> list[Token]:
    """The tokens of ``text``, strings decoded, comments and spaces dropped."""
    tokens: list[Token] = []
    add, new, match = tokens.append, tuple.__new__, _TOKEN.match
    i, line, start, end = 0, 1, 0, len(text)
    while i < end:
        m = match(text, i)
        if m is None:
            raise _Syntax(Pos(line, i - start + 1), f"unexpected character {text[i]!r}")
        kind, j = m.lastgroup, m.end()
        if kind == "space":
            if text[i] == "\n":
                line, start = line + 1, j
            i = j
            continue
        pos = new(Pos, (line, i - start + 1))
        if kind == "junk":
            raise _Syntax(pos, f"{m.group()[:40]!r} is not a number")
        if kind == "string":
            if j - i == 1:  # an escape, or no closing quote on the line: read it by hand
                value, j = _string(text, j, text[i], pos)
            else:
                value = text[i + 1 : j - 1]
            add(new(Token, ("string", value, pos)))
        else:
            add(new(Token, (kind, m.group(), pos)))
        i = j
    return tokens


def _string(text: str, i: int, quote: str, pos: Pos) -> tuple[str, int]:
    """The string starting after its ``quote`` at ``i``, decoded, and the index after it."""
    out: list[str] = []
    while True:
        if i >= len(text) or text[i] == "\n":
            raise _Syntax(pos, "unterminated string: the line ends before its closing quote")
        c = text[i]
        if c == quote:
            return "".join(out), i + 1
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = text[i + 1 : i + 2]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e in ("\\", "'", '"', "?"):
            out.append(e)
            i += 2
        elif e in ("x", "X") and re.match(r"[0-9a-fA-F]", text[i + 2 : i + 3]):
            digits = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2 :]).group()  # type: ignore[union-attr]
            out.append(chr(int(digits, 16)))
            i += 2 + len(digits)
        elif e in "01234567" and e:
            digits = re.match(r"[0-7]{1,3}", text[i + 1 :]).group()  # type: ignore[union-attr]
            out.append(chr(int(digits, 8)))
            i += 1 + len(digits)
        else:
            line_start = text.rfind("\n", 0, i) + 1
            where = Pos(pos.line, i - line_start + 1)
            raise _Syntax(where, f"unknown escape \\{e or 'at the end of the text'} in a string")


class _Parser:
    def __init__(self, tokens: list[Token], end: Pos):
        self.tokens, self.i, self.end = tokens, 0, end
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> Token:
        t = self.peek()
        if t is None:
            raise _Syntax(self.end, "the text ends in the middle of a field")
        self.i += 1
        return t

    def message(self, pos: Pos, close: str | None, opened: Pos) -> Message:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Syntax(opened, f"messages nested deeper than {MAX_DEPTH} levels")
        fields: list[Field] = []
        while True:
            t = self.peek()
            if t is None:
                if close is None:
                    self.depth -= 1
                    return Message(pos, fields)
                raise _Syntax(opened, f"this {'{' if close == '}' else '<'} is never closed")
            if t.kind == "punct" and t.text in (";", ","):
                self.i += 1  # allowed between fields
                continue
            if t.kind == "punct" and t.text == close:
                self.i += 1
                self.depth -= 1
                return Message(pos, fields)
            if t.kind != "word":
                if t.kind == "punct" and t.text in "}>":
                    raise _Syntax(t.pos, f"{t.text!r} closes nothing")
                raise _Syntax(t.pos, f"expected a field name, not {_shown(t)}")
            self.i += 1
            fields.extend(self.field(t))

    def field(self, name: Token) -> list[Field]:
        t = self.next()
        colon = t.kind == "punct" and t.text == ":"
        if colon:
            t = self.next()
        if t.kind == "punct" and t.text in _CLOSE:
            inner = self.message(t.pos, _CLOSE[t.text], t.pos)
            return [Field(name.text, name.pos, inner)]
        if not colon:
            raise _Syntax(t.pos, f"expected ':' or '{{' after {name.text!r}, not {_shown(t)}")
        if t.kind == "punct" and t.text == "[":
            return [Field(name.text, name.pos, v) for v in self.values(t.pos)]
        return [Field(name.text, name.pos, self.scalar(t, name.text))]

    def values(self, opened: Pos) -> list[Value]:
        """The values of a ``[a, b, ...]`` list, after its ``[``."""
        out: list[Value] = []
        while True:
            t = self.peek()
            if t is None:
                raise _Syntax(opened, "this [ is never closed")
            self.i += 1
            if t.kind == "punct" and t.text == "]" and not out:
                return out
            if t.kind == "punct" and t.text in _CLOSE:
                out.append(self.message(t.pos, _CLOSE[t.text], t.pos))
            else:
                out.append(self.scalar(t, "a list"))
            t = self.next()
            if t.kind == "punct" and t.text == "]":
                return out
            if not (t.kind == "punct" and t.text == ","):
                raise _Syntax(t.pos, f"expected ',' or ']' in a list, not {_shown(t)}")

    def scalar(self, t: Token, field: str) -> Scalar:
        if t.kind == "string":
            text = t.text
            while (after := self.peek()) is not None and after.kind == "string":
                text += after.text  # adjacent strings are one, as in C
                self.i += 1
            return Scalar(text, "string", t.pos)
        if t.kind in ("number", "word"):
            return Scalar(t.text, t.kind, t.pos)
        raise _Syntax(t.pos, f"expected a value for {field}, not {_shown(t)}")


def _shown(t: Token) -> str:
    return f"the string {t.text!r:.40}" if t.kind == "string" else repr(t.text[:40])


def parse(text: str, source: str = "<prototxt>") -> Message:
    """The top-level message of ``text``; a SpecError locates the first syntax error."""
    lines = text.split("\n")
    end = Pos(len(lines), len(lines[-1]) + 1)
    try:
        return _Parser(_tokens(text), end).message(Pos(1, 1), None, Pos(1, 1))
    except _Syntax as e:
        raise SpecError([Problem(e.pos, "", e.message)], source, text) from None
