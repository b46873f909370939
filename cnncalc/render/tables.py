"""Tables in rich's look, written here: of rich only its character widths (rich.cells) are
imported, inside the table functions, so that the other formats start as fast as click.
Cells are folded to fit a terminal's width, and never cut: every number and name is whole.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
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
    narrow for them, cells fold at spaces (a word longer than the cell is split), never cut.
    """
    from rich.cells import cell_len

    columns = header or ["", ""]
    rows = list(rows)
    texts = ["".join(column) for column in zip(columns, *rows)]
    if not all(map(str.isprintable, texts)):  # rare: several lines in a cell, a control character
        rows = [tuple(map(_printable, row)) for row in rows]
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
    widths = _fit(natural, width - len(natural) - 1)
    top, heads, rule, bodies, bottom = _box(header is not None)
    bold, italic, reset = ("\x1b[1m", "\x1b[3m", "\x1b[0m") if styled else ("", "", "")
    table_width = sum(widths) + len(widths) + 1
    lines = [f"{italic}{line}{reset}".rstrip() for line in _fold(title, table_width)]
    lines.append(top[0] + top[2].join(top[1] * w for w in widths) + top[3])
    if header is not None:
        lines += _row(header, widths, heads, bold, reset, bottom_up=True)
        lines.append(rule[0] + rule[2].join(rule[1] * w for w in widths) + rule[3])
    inner = [w - 2 for w in widths]
    # A row whose every cell fits on one line is one format; only the others are folded.
    one_line = bodies[0] + bodies[1].join(f" {{:<{w}}} " for w in inner) + bodies[2]
    if not all(simple) or min(inner) < 1:
        one_line = ""
    if one_line and widths == natural:  # nothing to fold: piped, or a wide enough terminal
        lines += starmap(one_line.format, rows)
    else:
        for row in rows:
            if one_line and all(map(int.__ge__, inner, map(len, row))):
                lines.append(one_line.format(*row))
            else:
                lines += _row(row, widths, bodies, "", "")
    lines.append(bottom[0] + bottom[2].join(bottom[1] * w for w in widths) + bottom[3])
    return "\n".join(lines)  # every line but the title's ends in a border


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
    """HEAVY_HEAD over a header, SQUARE without; ASCII where the output cannot encode them."""
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower()
    if not encoding.startswith("utf"):
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
    from rich.cells import cell_len

    if "\n" in text:
        return max(map(cell_len, text.split("\n")))
    return len(text) if text.isascii() else cell_len(text)


def _fit(widths: list[int], available: int) -> list[int]:
    """Column widths (padding included) within ``available``, as rich's ``Table`` finds them:
    the widest columns are narrowed together first, then every column evenly."""
    wanted = [min(w, available) if available >= 1 else 1 for w in widths]
    if sum(wanted) <= available:
        return wanted
    fitted = _collapse(wanted, available)
    if sum(fitted) > available:
        fitted = _reduce(sum(fitted) - available, [1] * len(fitted), fitted, fitted)
    return [0 if w < 1 else w if w <= 2 else min(natural, w) for natural, w in zip(widths, fitted)]


def _collapse(widths: list[int], available: int) -> list[int]:
    """rich's ``Table._collapse_widths``: narrow the widest columns down to the next widest."""
    excess = sum(widths) - available
    while excess > 0:
        widest = max(widths)
        second = max((w for w in widths if w != widest), default=0)
        if widest == second:
            break
        ratios = [int(w == widest) for w in widths]
        widths = _reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        excess = sum(widths) - available
    return widths


def _reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """rich's ``ratio_reduce``: take ``total`` off ``values`` in proportion to ``ratios``."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums)]
    left, weight = total, sum(ratios)
    if not weight:
        return values[:]
    result = []
    for ratio, most, value in zip(ratios, maximums, values):
        if ratio and weight > 0:
            taken = min(most, round(ratio * left / weight))
            result.append(value - taken)
            left -= taken
            weight -= ratio
        else:
            result.append(value)
    return result


def _row(
    cells: Iterable[str],
    widths: list[int],
    verticals: str,
    style: str,
    reset: str,
    bottom_up: bool = False,
) -> list[str]:
    """One table row as lines: each cell folded to its column, padded by a space either side,
    the shorter cells filled with blank lines (above them in the header, as rich aligns it)."""
    left, middle, right = verticals[0], verticals[1], verticals[2]
    if not style and not bottom_up:  # a body row: lines padded by a space, blank ones below
        padded = list(map(_body_cell, cells, widths))
        height = max(map(len, padded))
        if height:
            filled = [
                lines + (" " * w,) * (height - len(lines)) for lines, w in zip(padded, widths)
            ]
            return [left + middle.join(parts) + right for parts in zip(*filled)]
    folded = [_fold(cell, w - 2) for cell, w in zip(cells, widths)]
    height = max(map(len, folded))
    if not height:  # columns too narrow for any text: one unstyled line, as rich fills it
        return [left + middle.join(" " * w for w in widths) + right]

    def paint(text: str) -> str:  # as rich writes a styled piece: never an empty one
        return f"{style}{text}{reset}" if style and text else text

    space = paint(" ")
    columns = []
    for lines, w in zip(folded, widths):
        text = [space + paint(line) + space if style else f" {line} " for line in lines]
        blank = [paint(" " * w)] * (height - len(lines))
        columns.append(blank + text if bottom_up else text + blank)
    return [left + middle.join(parts) + right for parts in zip(*columns)]


@lru_cache(maxsize=4096)
def _body_cell(text: str, width: int) -> tuple[str, ...]:
    """A body cell's lines in a column ``width`` wide: folded, a space either side."""
    return tuple([f" {line} " for line in _fold(text, width - 2)])


_WORD = re.compile(r"\s*\S+\s*")
"""A word and the spaces after it, as rich's wrapping sees words."""


@lru_cache(maxsize=4096)
def _fold(text: str, width: int) -> tuple[str, ...]:
    """rich's wrapping of a cell (``Text.wrap`` with overflow "fold", justified left): lines
    broken at spaces, a word wider than ``width`` split, every line padded to ``width``.
    Remembered, since a long table repeats its shapes and counts in every narrow column."""
    if "\n" not in text and text.isascii() and len(text) <= width:  # the usual cell
        return (text + " " * (width - len(text)),)
    if width < 1:  # no room at all: rich renders nothing
        return ()
    if text.isascii() and text.isprintable() and " " not in text:  # one word: cut every width
        return tuple([text[i : i + width].ljust(width) for i in range(0, len(text), width)])
    from rich.cells import set_cell_size

    lines = []
    for line in text.split("\n"):
        cuts = [0, *_breaks(line, width), len(line)]
        for start, end in zip(cuts, cuts[1:]):
            piece = line[start:end]
            if len(piece) > width:  # trailing spaces beyond the width go (rich's rstrip_end)
                spaces = len(piece) - len(piece.rstrip())
                piece = piece[: len(piece) - min(spaces, len(piece) - width)]
            lines.append(
                piece[:width].ljust(width) if piece.isascii() else set_cell_size(piece, width)
            )
    return tuple(lines)


def _breaks(text: str, width: int) -> list[int]:
    """Where rich's ``divide_line`` breaks ``text`` to fit ``width`` cells, folding long words."""
    from rich.cells import cell_len, chop_cells

    measure = len if text.isascii() else cell_len
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        length = measure(word.rstrip())
        if width - offset >= length:
            offset += measure(word)
        elif length > width:
            pieces = chop_cells(word, width)
            for piece in pieces[:-1]:
                if start:
                    breaks.append(start)
                start += len(piece)
            if start:
                breaks.append(start)
            offset = measure(pieces[-1])
        elif offset and start:
            breaks.append(start)
            offset = measure(word)
    return breaks
