"""The plain-data formats: compact JSON, Markdown and LaTeX (booktabs) tables."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cnncalc.core.errors import UsageError

if TYPE_CHECKING:
    pass


def known_format(fmt: str, formats: tuple[str, ...]) -> None:
    """An unknown format is an error, never a table by default."""
    if fmt not in formats:
        raise UsageError(f"unknown format {fmt!r:.40} (use {', '.join(formats)})")


_SHOWN = "[\x00-\x1f\x7f-\x9f\ud800-\udfff]"
"""What no output may carry as it is: C0 and C1 control characters (an escape sequence can
retitle a terminal, move its cursor or hide text) and surrogates that pair with nothing."""

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    return _NAMED.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def shown(text: str) -> str:
    r"""Text from the input (a name, a kind, a quoted line of a file) as every output shows
    it: control characters and lone surrogates written as Python writes them in a string,
    ``\x1b``, ``\t``; printable text of any script kept as it is.

    >>> print(shown("conv\x1b]0;pwned\x07 ✓ 卷积"))
    conv\x1b]0;pwned\x07 ✓ 卷积
    >>> print(shown("a\tb\nc\x9b\ud800"))
    a\tb\nc\x9b\ud800
    """
    if text.isprintable():  # the usual text: no character to look at one by one
        return text
    return re.sub(_SHOWN, _escaped, text)  # compiled when first needed, then cached by re


_JSON_ESCAPES = {
    **{i: f"\\u{i:04x}" for i in range(32)},
    **{
        ord(c): e
        for c, e in zip('"\\\n\r\t\b\f', ['\\"', "\\\\", "\\n", "\\r", "\\t", "\\b", "\\f"])
    },
}


def small_json(value: Any) -> str:
    """JSON of one layer's plain data, as ``json.dumps`` writes it, without importing json.

    A single-layer command answers in about the time Python takes to import click; the json
    package alone (four modules, regexes compiled at import) costs it 3%. Big documents
    (traces) still go through json, whose C encoder is faster there.

    >>> small_json({"op": "conv", "output": [32, 32], "params": None, "warnings": ['a "b"']})
    '{"op": "conv", "output": [32, 32], "params": null, "warnings": ["a \\\\"b\\\\""]}'
    """
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.translate(_JSON_ESCAPES) + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{small_json(k)}: {small_json(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(small_json(v) for v in value) + "]"


def json_text(data: Any, indent: int | None = None) -> str:
    import json

    # our data never refers to itself; skipping the cycle check saves a fifth of a big trace's time
    return json.dumps(data, indent=indent, ensure_ascii=False, check_circular=False)


def markdown(header: list[str], rows: Iterable[tuple[str, ...]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join(
        "| " + " | ".join("<br>".join(map(shown, cell.split("\n"))) for cell in cells) + " |"
        for cells in lines
    )


_LATEX_SPECIAL = str.maketrans(
    {
        **{ch: "\\" + ch for ch in "_%&#${}"},
        "\\": r"\textbackslash{}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
        # Typeset as other glyphs, or not at all, by pdflatex's default fonts:
        "<": r"\textless{}",
        ">": r"\textgreater{}",
        "|": r"\textbar{}",
        "←": r"\ensuremath{\leftarrow}",
        "✗": r"\ensuremath{\times}",
        "Σ": r"\ensuremath{\Sigma}",
    }
)


def latex_escape(text: str) -> str:
    r"""Text that LaTeX prints as written.

    >>> print(latex_escape("layer_1: 5% of {a & b} ← #2"))
    layer\_1: 5\% of \{a \& b\} \ensuremath{\leftarrow} \#2
    """
    return text.translate(_LATEX_SPECIAL)


def _latex_cell(text: str) -> str:
    """One cell; a cell of several lines as a one-column tabular, LaTeX's line break in a cell."""
    lines = [latex_escape(shown(line)) for line in text.split("\n")]
    if len(lines) == 1:
        return lines[0]
    return r"\begin{tabular}[t]{@{}l@{}}" + r" \\ ".join(lines) + r"\end{tabular}"


def latex(header: list[str], rows: Iterable[tuple[str, ...]]) -> str:
    """A booktabs tabular, numbers right-aligned; ``\\usepackage{booktabs}`` typesets it."""
    rows = list(rows)
    columns = list(zip(*rows)) or [()] * len(header)
    align = "".join(
        "r" if column and all(cell[:1].isdigit() for cell in column) else "l" for column in columns
    )
    lines = [" & ".join(map(_latex_cell, cells)) + r" \\" for cells in [header, *rows]]
    return "\n".join(
        [f"\\begin{{tabular}}{{{align}}}", r"\toprule", lines[0], r"\midrule"]
        + lines[1:]
        + [r"\bottomrule", r"\end{tabular}"]
    )


TEXT_TABLES = {"markdown": markdown, "latex": latex}
"""The formats that write the same rows as text: for a README, or for a paper."""

VERBATIM = {"markdown": ("```text", "```"), "latex": (r"\begin{verbatim}", r"\end{verbatim}")}
"""How each of them sets a ``--draw`` drawing apart, character for character."""


def cell(value: Any) -> str:
    """A JSON value as a table cell: shapes as 32x32x3, padding as 2:2 2:2, a list as lines."""
    if value is None:
        return "unknown"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        return value
    if value and isinstance(value[0], list):
        return " ".join(f"{b}:{a}" for b, a in value)
    if value and isinstance(value[0], str):
        return "\n".join(value)
    return "x".join(map(str, value)) or "none"


FORMATS = ("table", "json", "markdown", "latex")
"""The formats of one layer's result and of the zoo's list."""


def plural(count: int, word: str) -> str:
    """``1 warning``, ``3 warnings``.

    >>> plural(1, "warning"), plural(16, "size")
    ('1 warning', '16 sizes')
    """
    return f"{count} {word}{'' if count == 1 else 's'}"
