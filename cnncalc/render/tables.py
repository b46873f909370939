"""Tables in rich's look, written here: of rich only its character widths (rich.cells) are
imported, inside the table functions, so that the other formats start as fast as click.
Cells are folded to fit a terminal's width, and never cut: every number and name is whole.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from itertools import starmap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


def table(
    title: str,
    header: list[str] | None,
    rows: Iterable[tuple[str, ...]],
    width: int | None = None,
) -> str:
    """A boxed table that looks as rich's ``Table`` prints it (its HEAVY_HEAD box, or SQUARE
    without a header, a bold header and an italic title on a terminal), written directly:
    rich's measuring and wrapping cost three times a trace's whole JSON run, and more per row
    the longer the table. Piped, it is as wide as its cells; at a given or terminal width too
    narrow for them, the widest columns narrow first and cells fold between words (at spaces,
    and a dotted name after a dot), never inside a token: a column is never narrower than its
    widest token, so a number, a shape or a name part is always whole, and a table whose
    tokens cannot fit is wider than asked. Only the
    cells that overflow their column are folded, so a long table costs time in its rows.
    """
    from rich.cells import cell_len

    columns = header or ["", ""]
    rows = list(rows)
    texts = ["".join(column) for column in zip(columns, *rows)]
    if not all(map(str.isprintable, texts)):  # rare: several lines in a cell, a control character
        rows = [tuple(map(_printable, row)) for row in rows]
        texts = ["".join(column) for column in zip(columns, *rows)]
    title = _printable(title)
    terminal = _on_terminal()
    styled = terminal and not os.environ.get("NO_COLOR") and not _dumb()
    cells = [[*((name,) if header else ()), *column] for name, column in zip(columns, zip(*rows))]
    cells = cells or [[name] for name in columns]  # a header over no rows
    simple = [_one_cell_each(text) for text in texts]  # then a cell's width is its length
    natural = [
        max(map(len if plain else _text_width, column)) + 2 for plain, column in zip(simple, cells)
    ]
    if width is None:  # piped or redirected: as wide as it needs, else the terminal's width
        width = (
            _terminal_width() if terminal else max(sum(natural) + len(natural) + 1, cell_len(title))
        )
    available = width - len(natural) - 1
    if sum(natural) > available:  # only then are the words measured
        least = [
            wide if not ({" ", "\n", "."} & set(text)) else _longest_word(column) + 2
            for wide, text, column in zip(natural, texts, cells)
        ]
        widths = _fit(natural, least, available)
    else:
        widths = natural
    top, heads, rule, bodies, bottom = _box(header is not None)
    bold, italic, reset = ("\x1b[1m", "\x1b[3m", "\x1b[0m") if styled else ("", "", "")
    table_width = sum(widths) + len(widths) + 1
    lines = [f"{italic}{line}{reset}".rstrip() for line in _fold(title, table_width)]
    lines.append(top[0] + top[2].join(top[1] * w for w in widths) + top[3])
    if header is not None:
        lines += _row(header, widths, heads, bold, reset, bottom_up=True)
        lines.append(rule[0] + rule[2].join(rule[1] * w for w in widths) + rule[3])
    inner = [w - 2 for w in widths]
    one_line = bodies[0] + bodies[1].join(f" {{:<{w}}} " for w in inner) + bodies[2]
    if widths == natural and all(simple):  # nothing to fold: piped, or a wide enough terminal
        lines += starmap(one_line.format, rows)
    elif all(simple):  # a row whose every cell fits is one format; only the others fold
        for row in rows:
            if all(map(int.__ge__, inner, map(len, row))):
                lines.append(one_line.format(*row))
                continue
            folded = [_fold(text, w) if len(text) > w else (text,) for text, w in zip(row, inner)]
            for i in range(max(map(len, folded))):
                lines.append(one_line.format(*[f[i] if i < len(f) else "" for f in folded]))
    else:  # wide characters or several lines in a cell: measured cell by cell
        for row in rows:
            if all(map(_fits, row, inner)):
                lines.append(_padded(row, widths, bodies))
            else:
                lines += _row(row, widths, bodies, "", "")
    lines.append(bottom[0] + bottom[2].join(bottom[1] * w for w in widths) + bottom[3])
    return "\n".join(lines)  # every line but the title's ends in a border


def _fits(text: str, inner: int) -> bool:
    """Whether a cell fits its column's inner width on one line."""
    return "\n" not in text and _text_width(text) <= inner


def _padded(row: tuple[str, ...], widths: list[int], verticals: str) -> str:
    """A row whose every cell fits on one line, its cells padded by their widths on screen."""
    cells = [f" {_pad(text, w - 2)} " for text, w in zip(row, widths)]
    return verticals[0] + verticals[1].join(cells) + verticals[2]


def _pad(text: str, width: int) -> str:
    """``text`` filled with spaces to ``width`` cells on a terminal."""
    return text + " " * (width - _text_width(text))


_PARTS = r"[^\s.]+\.?"
"""The parts of every word in ASCII text, a dotted name's after each dot (and a number's)."""
_WHOLE = r"(?<!\S)[^\sA-Za-z_]\S*"
"""The words that are not names: numbers, shapes, fractions, each one token."""


def _longest_word(column: list[str]) -> int:
    """Cells of the widest token (:func:`_tokens`) of a column: what it is never narrower
    than. In ASCII text, found by two regular expressions over the whole column."""
    text = "\n".join(column)
    if text.isascii():
        return max(map(len, [*re.findall(_PARTS, text), *re.findall(_WHOLE, text), ""]))
    words = text.split()
    return max((_text_width(token) for word in words for token in _tokens(word)), default=0)


def _tokens(word: str) -> list[str]:
    """The pieces a word may be folded into: a dotted name (a letter or _ first, as names
    are) after each dot, which ends its line; any other word (a number such as 1,234 or
    2.36M, a shape, a receptive field 619/24 or 1/2) is one piece.

    >>> _tokens("layer1.0.conv1"), _tokens("2.36M"), _tokens("619/24")
    (['layer1.', '0.', 'conv1'], ['2.36M'], ['619/24'])
    """
    if "." not in word or not (word[0].isalpha() or word[0] == "_"):
        return [word]
    parts = word.split(".")
    return [part + "." for part in parts[:-1]] + [parts[-1]] if parts[-1] else [word]


def _one_cell_each(text: str) -> bool:
    """Whether every character of ``text`` is printable and one cell wide (no CJK, no accent
    written as a combining character), so that its length is its width on a terminal."""
    from rich.cells import cell_len

    return text.isprintable() and (
        text.isascii() or all(cell_len(ch) == 1 for ch in set(text) if not ch.isascii())
    )


_BOXES = {  # rich's boxes as corners and lines: top, header verticals, header rule, body, bottom
    "heavy head": ("┏━┳┓", "┃┃┃", "┡━╇┩", "│││", "└─┴┘"),
    "square": ("┌─┬┐", "│││", "├─┼┤", "│││", "└─┴┘"),
    "ascii": ("+--+", "|||", "|-+|", "|||", "+--+"),
}


def _box(headed: bool) -> tuple[str, ...]:
    """HEAVY_HEAD over a header, SQUARE without; ASCII (``+-|``) where the output cannot
    encode them, and for plain output: NO_COLOR set (not empty) or a dumb terminal."""
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower()
    if not encoding.startswith("utf") or os.environ.get("NO_COLOR") or _dumb():
        return _BOXES["ascii"]
    return _BOXES["heavy head" if headed else "square"]


def _on_terminal() -> bool:
    """rich's rule: TTY_COMPATIBLE=1 or 0 says so, a FORCE_COLOR that is set and not empty
    makes a terminal, else standard output is one when it is a tty."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):  # no stdout, or a closed one
        return False


def _dumb() -> bool:
    return os.environ.get("TERM", "").lower() in ("dumb", "unknown")


def _terminal_width() -> int:
    """rich's: COLUMNS, else the width of the first of stdin, stdout and stderr that is a
    terminal, else 80 (always 80 on a dumb terminal unless both COLUMNS and LINES are set)."""
    columns, lines = os.environ.get("COLUMNS", ""), os.environ.get("LINES", "")
    if columns.isdecimal() and (lines.isdecimal() or not _dumb()):
        return int(columns)
    if _dumb():
        return 80
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (OSError, ValueError):
            continue
    return 80


def _printable(text: str) -> str:
    """Text as a terminal should show it: a cell's lines kept, tabs expanded to stops of 8 as
    rich does, and every other control character (an escape in a network's name) written
    out by :func:`~cnncalc.render.text.shown` rather than sent to the terminal."""
    if text.isprintable():
        return text
    from cnncalc.render.text import shown

    return "\n".join(shown(line.expandtabs(8)) for line in text.split("\n"))


def _text_width(text: str) -> int:
    """Cells of the widest line (wide characters count two), as rich measures a cell."""
    if "\n" not in text and text.isascii():  # the usual cell: no import statement run
        return len(text)
    from rich.cells import cell_len

    return max(map(cell_len, text.split("\n")))


def _fit(natural: list[int], least: list[int], available: int) -> list[int]:
    """Column widths (padding included) within ``available`` if they can be: the widest
    columns are narrowed together, down to the next widest, then the next, each never below
    ``least`` (its longest word); the space left when that leaves some goes to the narrowed
    columns, leftmost first. If even ``least`` is wider than ``available``, it is the answer.

    >>> _fit([10, 20, 30], [5, 5, 5], 45), _fit([10, 20, 30], [5, 18, 25], 45)
    ([10, 18, 17], [5, 18, 25])
    """
    if sum(least) >= available:
        return least
    low, high = 0, max(natural)  # the largest cap that fits: sum(least) < available, so 0 does
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(lo, min(n, cap)) for n, lo in zip(natural, least)) <= available:
            low = cap
        else:
            high = cap - 1
    widths = [max(lo, min(n, low)) for n, lo in zip(natural, least)]
    left = available - sum(widths)
    for i, (n, w) in enumerate(zip(natural, widths)):
        if left and w < n:
            widths[i], left = w + 1, left - 1
    return widths


def _row(
    cells: Iterable[str],
    widths: list[int],
    verticals: str,
    style: str,
    reset: str,
    bottom_up: bool = False,
) -> list[str]:
    """One table row as lines: each cell folded to its column if it overflows it, padded by a
    space either side, the shorter cells filled with blank lines (above them in the header,
    as rich aligns it)."""
    left, middle, right = verticals[0], verticals[1], verticals[2]
    folded = [_cell_lines(cell, w - 2) for cell, w in zip(cells, widths)]
    height = max(map(len, folded))

    def paint(text: str) -> str:  # as rich writes a styled piece: never an empty one
        return f"{style}{text}{reset}" if style and text else text

    space = paint(" ")
    columns = []
    for lines, w in zip(folded, widths):
        text = [space + paint(line) + space if style else f" {line} " for line in lines]
        blank = [paint(" " * w)] * (height - len(lines))
        columns.append(blank + text if bottom_up else text + blank)
    return [left + middle.join(parts) + right for parts in zip(*columns)]


def _cell_lines(text: str, width: int) -> tuple[str, ...]:
    """A cell padded to ``width``: as it is when it fits on one line, else folded."""
    if "\n" not in text and _text_width(text) <= width:
        return (_pad(text, width),)
    return _fold(text, width)


def _fold(text: str, width: int) -> tuple[str, ...]:
    """A cell's lines in ``width`` cells, each padded to it: its own lines, each broken at
    spaces where the next word would overflow; a word wider than a line is folded between
    its :func:`_tokens` (a dotted name after a dot), and a token never: one wider than
    ``width`` (a title's; a column is as wide as its widest token) has a line of its own.

    >>> _fold("add ← layer1.0, layer1.1", 12)
    ('add ←       ', 'layer1.0,   ', 'layer1.1    ')
    >>> _fold("layer1.0.downsample.conv1", 12), _fold("619/24", 3)
    (('layer1.0.   ', 'downsample. ', 'conv1       '), ('619/24',))
    """
    if " " not in text and "\n" not in text and text.isascii():  # a name: after its dots
        lines, current = [], ""
        for piece in _tokens(text) if len(text) > width else (text,):
            if current and len(current) + len(piece) > width:
                lines.append(current.ljust(width))
                current = piece
            else:
                current += piece
        lines.append(current.ljust(width))
        return tuple(lines)
    lines = []
    for line in text.split("\n"):
        current, used = "", -1  # -1: nothing on the line yet, not even an empty word
        for word in line.split(" "):
            size = _text_width(word)
            if used + 1 + size <= width:  # on this line, after a space
                current, used = (
                    (f"{current} {word}", used + 1 + size) if used >= 0 else (word, size)
                )
                continue
            pieces = _tokens(word) if size > width else [word]
            if used >= 0:
                lines.append(current)
            current, used = pieces[0], _text_width(pieces[0])
            for piece in pieces[1:]:
                size = _text_width(piece)
                if used + size > width:
                    lines.append(current)
                    current, used = piece, size
                else:
                    current, used = current + piece, used + size
        lines.append(current)
    return tuple(_pad(line.rstrip(), width) for line in lines)
