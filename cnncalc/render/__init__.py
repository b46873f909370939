"""Formatting for people: one layer's result, or the answers of ``solve``.

The table shows every formula with the numbers put in, so a student can check
their own working line by line; JSON, Markdown and LaTeX carry the same plain data.
Tables are written here in rich's look; of rich only its character widths (rich.cells)
are imported, inside the table functions, and json where it is used, so the other
formats start as fast as click itself. The data of a trace comes from ``report``.
"""

from __future__ import annotations

import os
import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import starmap
from typing import TYPE_CHECKING, Any, NamedTuple

from cnncalc import report
from cnncalc.core import formulas as fm
from cnncalc.core.errors import UsageError
from cnncalc.core.notation import format_shape
from cnncalc.core.shapes import Shape, dimension_names
from cnncalc.kinds import FC, Layer, Outcome, TConv, Unpool

if TYPE_CHECKING:
    from cnncalc.analysis.solve import Solution

FORMATS = ("table", "json", "markdown", "latex")
DRAW_LIMIT = 16
"""Largest padded side ``--draw`` draws; beyond it the grid no longer fits a terminal."""

Rows = list[tuple[str, str]]


class Worked(NamedTuple):
    """What a layer kind adds to the table: its formulas, and how its counts arise."""

    lines: Rows
    params: str = ""
    macs: str = ""


def layer_report(
    layer: Layer, x: Shape, outcome: Outcome, fmt: str, layout: str = "hwc", draw: bool = False
) -> str:
    """The result of applying ``layer`` to ``x``, in one of :data:`FORMATS`."""
    _known(fmt, FORMATS)
    data = report.layer_data(layer, x, outcome, layout)
    if fmt == "json":
        return small_json(data)
    if fmt in _TEXT_TABLES:
        rows = [(key, _cell(v)) for key, v in data.items()]
        begin, end = _VERBATIM[fmt]
        text = _TEXT_TABLES[fmt](["quantity", "value"], rows)
        return text + (f"\n\n{begin}\n{drawing(layer, x, outcome)}\n{end}" if draw else "")
    title = f"{layer.kind}: {format_shape(x, layout)} -> {format_shape(outcome.shape, layout)}"
    text = _table(title, None, _layer_rows(layer, x, outcome, layout))
    return text + (f"\n\n{drawing(layer, x, outcome)}" if draw else "")


def solutions_report(n: int, out: int, solutions: list[Solution], fmt: str) -> str:
    """The answers of ``solve``, exact ones first, each with its worked formula."""
    _known(fmt, FORMATS)
    if fmt == "json":
        return small_json(report.solutions_data(n, out, solutions))
    header = ["F", "S", "P", "D", "remainder"]
    rows = [(str(s.f), str(s.s), str(s.p), str(s.d), str(s.remainder)) for s in solutions]
    if fmt in _TEXT_TABLES:
        return _TEXT_TABLES[fmt](header, rows)
    worked = [
        (*row[:4], window_formula(n, s.f, s.s, (s.p, s.p), s.d, out), _remainder(s.remainder))
        for row, s in zip(rows, solutions)
    ]
    return _table(f"{n} -> {out}", ["F", "S", "P", "D", "worked", "division"], worked)


def _known(fmt: str, formats: tuple[str, ...]) -> None:
    """An unknown format is an error, never a table by default."""
    if fmt not in formats:
        raise UsageError(f"unknown format {fmt!r:.40} (use {', '.join(formats)})")


def _remainder(left: int) -> str:
    return "exact" if not left else f"floored, {left} position{'s' * (left > 1)} unused"


# --- the worked formulas --------------------------------------------------------------------


def window_formula(
    n: int, f: int, s: int, pad: fm.Pad, d: int, out: int, ceil: bool = False
) -> str:
    """``(N - F + 2P)/S + 1`` with the numbers put in; the rounding shown when S does not divide.

    >>> window_formula(32, 5, 1, (2, 2), 1, 32)
    '(32 - 5 + 2*2)/1 + 1 = 32'
    >>> window_formula(224, 3, 2, (0, 1), 1, 112)
    '(224 - 3 + 0+1)/2 + 1 = 112'
    >>> window_formula(7, 2, 2, (0, 0), 1, 3)
    'floor((7 - 2 + 2*0)/2) + 1 = floor(5/2) + 1 = 3'
    """
    before, after = pad
    extent = fm.effective_kernel(f, d)
    added = f"2*{before}" if before == after else f"{before}+{after}"
    fraction = f"({n} - {extent} + {added})/{s}"
    span = n + before + after - extent
    if span % s == 0:
        return f"{fraction} + 1 = {out}"
    rounding = "ceil" if ceil else "floor"
    rounded = (-(-span // s) if ceil else span // s) + 1
    text = f"{rounding}({fraction}) + 1 = {rounding}({span}/{s}) + 1 = {rounded}"
    if not ceil and not fm.unreached(n, f, s, pad, d):
        text += " (only padding is left out)"
    if rounded != out:
        text += f"; the last window would start in the padding, so it is dropped: {out}"
    return text


def _windowed(layer: Any, x: Shape, outcome: Outcome) -> Worked:
    """A convolution's or a pool's output sizes; a convolution's counts from its filters."""
    fs, ss, ds = _windows(layer, len(x.spatial))
    ceil = getattr(layer, "ceil", False)
    sizes = zip(x.spatial, fs, ss, outcome.padding, ds, outcome.shape.spatial)
    lines = _per_dimension(
        "output", [window_formula(n, f, s, p, d, out, ceil) for n, f, s, p, d, out in sizes]
    )
    if any(d > 1 for d in ds):
        extents = [f"{d}*({f} - 1) + 1 = {fm.effective_kernel(f, d)}" for f, d in zip(fs, ds)]
        lines = _per_dimension("dilated kernel", extents) + lines
    if "filters" not in layer.parameters:
        return Worked(lines)
    factors = [str(layer.filters), _per_group(x.channels, layer.groups), *map(str, fs)]
    return _counted(lines, factors, outcome, layer.bias, outcome.shape.spatial, "output")


def _transposed(layer: TConv, x: Shape, outcome: Outcome) -> Worked:
    fs, ss, ds = _windows(layer, len(x.spatial))
    formulas, chosen = [], []
    for n, f, s, pad, d, out in zip(x.spatial, fs, ss, outcome.padding, ds, outcome.shape.spatial):
        a = fm.tconv_output_padding(out, n, f, s, pad, d)
        formulas.append(f"({n} - 1)*{s} - 2*{pad[0]} + {d}*({f} - 1) + {a} + 1 = {out}")
        chosen.append(f"a = {a}, found to reach the target {out}")
    lines = _per_dimension("output", formulas)
    if layer.target is not None:
        lines += _per_dimension("output padding", chosen)
    factors = [str(x.channels), _per_group(layer.filters, layer.groups), *map(str, fs)]
    return _counted(lines, factors, outcome, layer.bias, x.spatial, "input")


_UNPOOLING = {
    "nails": "bed of nails: each value at one corner of its block, zeros elsewhere",
    "nearest": "nearest neighbour: each value copied over its whole block",
    "max": "max unpooling: each value back where the pool found its maximum, zeros elsewhere",
}


def _unpooled(layer: Unpool, x: Shape, outcome: Outcome) -> Worked:
    nd = len(x.spatial)
    if layer.mode == "max":
        fs, ss, _ = _windows(layer, nd)
        ps = layer.dims("pad", nd)
        windows = zip(x.spatial, fs, ss, ps, outcome.shape.spatial)
        if layer.size is None:
            formulas = [f"({n} - 1)*{s} - 2*{p} + {f} = {out}" for n, f, s, p, out in windows]
        else:  # the size asked for, which pooling maps back to the input
            formulas = [
                f"{out} as given (a pool with f {f}, stride {s}, pad {p} maps it to {n})"
                for n, f, s, p, out in windows
            ]
    else:
        factors = zip(x.spatial, layer.dims("factor", nd), outcome.shape.spatial)
        formulas = [f"{n}*{k} = {out}" for n, k, out in factors]
    return Worked([("mode", _UNPOOLING[layer.mode]), *_per_dimension("output", formulas)])


def _global(layer: Layer, x: Shape, outcome: Outcome) -> Worked:
    whole = "x".join(map(str, x.spatial))
    return Worked([("window", f"the whole {whole} input, one value per channel")])


def _dense(layer: FC, x: Shape, outcome: Outcome) -> Worked:
    if x.size is None:
        return Worked([])
    flat = "*".join(map(str, [*x.spatial, x.channels]))
    lines = [("features in", f"{flat} = {x.size:,}" if x.spatial else f"{x.size:,}")]
    return _counted(lines, [str(x.size), str(layer.out)], outcome, layer.bias, (), "")


WORKED: dict[str, Callable[[Any, Shape, Outcome], Worked]] = {
    "window": _windowed,
    "transposed": _transposed,
    "unpooled": _unpooled,
    "global": _global,
    "dense": _dense,
}
"""How each formula a kind declares (``Layer.worked``) is written out for its report."""


def _counted(
    lines: Rows,
    factors: list[str],
    outcome: Outcome,
    bias: bool,
    positions: tuple[int, ...],
    where: str,
) -> Worked:
    """The parameter and MAC rows of a weighted layer: weights + bias, positions x weights."""
    if outcome.params is None or outcome.macs is None:
        return Worked(lines)
    biases = (outcome.shape.channels or 0) if bias else 0
    weights = outcome.params - biases
    params = f"{outcome.params:,} = {'*'.join(factors)} weights"
    params += f" + {biases:,} biases" if bias else " (no bias)"
    if positions:
        at = "*".join(map(str, positions))
        macs = f"{outcome.macs:,} = {at} {where} positions x {weights:,} weights"
    else:
        macs = f"{outcome.macs:,} = one per weight"
    return Worked(lines, params, macs)


def _per_group(channels: int | None, groups: int) -> str:
    """The channels one filter sees: ``C``, or ``(C/G)`` when grouped."""
    return f"({channels}/{groups})" if groups > 1 else str(channels)


def _windows(layer: Any, nd: int) -> tuple[tuple[int, ...], ...]:
    """Kernel, stride (the kernel when unset, as pools do) and dilation per dimension."""
    fs = layer.dims("f", nd)
    ss = layer.dims("stride", nd, fs if layer.stride is None else None)
    return fs, ss, layer.dims("dilation", nd, getattr(layer, "dilation", 1))


def _per_dimension(what: str, texts: list[str]) -> Rows:
    """One row for all dimensions when they agree, else one row per dimension."""
    names = dimension_names(len(texts))
    if len(set(texts)) == 1:
        return [(f"{what} {', '.join(names)}", texts[0])]
    return [(f"{what} {name}", text) for name, text in zip(names, texts)]


def _layer_rows(layer: Layer, x: Shape, outcome: Outcome, layout: str) -> Rows:
    worked = WORKED[layer.worked](layer, x, outcome) if layer.worked else Worked([])
    rows = [("input", format_shape(x, layout)), ("output", format_shape(outcome.shape, layout))]
    rows += worked.lines
    if outcome.padding:
        names = dimension_names(len(outcome.padding))
        used = ", ".join(f"{name} {b}:{a}" for name, (b, a) in zip(names, outcome.padding))
        rows.append(("padding", f"{used} (before:after)"))
    unknown = "unknown: " + _missing_counts(x, outcome)
    rows.append(("parameters", worked.params or _count(outcome.params, unknown)))
    rows.append(("MACs", worked.macs or _count(outcome.macs, unknown)))
    flops = report.flops(outcome)
    rows.append(("FLOPs", f"{flops:,} = 2 x MACs" if flops else _count(flops, unknown)))
    return rows


def _missing_counts(x: Shape, outcome: Outcome) -> str:
    """Which of the command's options would make the counts known."""
    missing = []
    if x.channels is None:
        missing.append("the input depth (--n HxWxC or --depth)")
    if outcome.shape.channels is None:
        missing.append("the number of filters (--filters)")
    return "needs " + " and ".join(missing)


def _count(value: int | None, unknown: str) -> str:
    return unknown if value is None else f"{value:,}"


# --- drawing -------------------------------------------------------------------------------


def drawing(layer: Layer, x: Shape, outcome: Outcome) -> str:
    """The padded input as text and where the first windows fall, after Dumoulin & Visin.

    ``o`` input, ``.`` padding, ``#`` a kernel tap on the input, ``+`` one on the padding.
    1D draws every window, one per line; 2D draws the first two along a row, the
    first of the next row and the last.
    """
    nd = len(x.spatial)
    if nd > 2:
        raise UsageError(f"--draw: only 1D and 2D inputs can be drawn, not {nd}D")
    fs, ss, ds = _windows(layer, nd)
    padded = [n + b + a for n, (b, a) in zip(x.spatial, outcome.padding)]
    if max(padded) > DRAW_LIMIT:
        size = "x".join(map(str, padded))
        raise UsageError(f"--draw: the padded input is {size}, larger than {DRAW_LIMIT} a side")
    if nd == 1:
        rows_of = [(1, (0, 0), 1, 1, 1)]  # one row, no padding: the 1D input as a 2D grid
        windows: Iterable[tuple[int, ...]] = ((0, i) for i in range(outcome.shape.spatial[0]))
    else:
        rows_of = []
        last = tuple(out - 1 for out in outcome.shape.spatial)
        windows = dict.fromkeys([(0, 0), (0, min(1, last[1])), (min(1, last[0]), 0), last])
    grid = [*rows_of, *zip(x.spatial, outcome.padding, fs, ss, ds)]
    panels = [(_label(w, nd), _panel(grid, w)) for w in windows]
    legend = "o input   . padding   # window on the input   + window on the padding"
    if nd == 1:
        return legend + "\n" + "\n".join(f"{panel[0]}   {label}" for label, panel in panels)
    return (
        legend
        + "\n\n"
        + "\n\n".join(_side_by_side(panels[i : i + 2]) for i in range(0, len(panels), 2))
    )


def _label(window: tuple[int, ...], nd: int) -> str:
    where = ", ".join(str(i + 1) for i in window[2 - nd :])
    return f"output ({where})"


def _panel(grid: list[tuple[Any, ...]], window: tuple[int, ...]) -> list[str]:
    """The padded grid with the taps of the window at output position ``window`` marked."""
    (n0, (b0, a0), f0, s0, d0), (n1, (b1, a1), f1, s1, d1) = grid
    taps0 = {window[0] * s0 + k * d0 for k in range(f0)}
    taps1 = {window[1] * s1 + k * d1 for k in range(f1)}
    lines = []
    for i in range(b0 + n0 + a0):
        cells = []
        for j in range(b1 + n1 + a1):
            on_input = b0 <= i < b0 + n0 and b1 <= j < b1 + n1
            tapped = i in taps0 and j in taps1
            cells.append(("#" if on_input else "+") if tapped else ("o" if on_input else "."))
        lines.append(" ".join(cells))
    return lines


def _side_by_side(panels: list[tuple[str, list[str]]]) -> str:
    width = max(max(len(label), len(lines[0])) for label, lines in panels) + 4
    rows = [[label.ljust(width) for label, _ in panels]]
    rows += [[lines[i].ljust(width) for _, lines in panels] for i in range(len(panels[0][1]))]
    return "\n".join("".join(row).rstrip() for row in rows)


# --- output formats ------------------------------------------------------------------------


def _table(
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


_CONTROLS = {
    **dict.fromkeys([7, 8, 11, 12, 13]),  # dropped, as rich drops them
    **{i: "\ufffd" for i in [*range(32), *range(127, 160)] if i not in (7, 8, 9, 10, 11, 12, 13)},
}


def _printable(text: str) -> str:
    """Text as a terminal should show it: tabs expanded to stops of 8 as rich does, the
    control characters rich drops dropped, and the other ones (an escape in a network's
    name) shown as \ufffd rather than sent to the terminal."""
    if text.isprintable():
        return text
    text = text.translate(_CONTROLS)
    return "\n".join(line.expandtabs(8) for line in text.split("\n")) if "\t" in text else text


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


def _markdown(header: list[str], rows: Iterable[tuple[str, ...]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join(
        "| " + " | ".join(cell.replace("\n", "<br>") for cell in cells) + " |" for cells in lines
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
    lines = [latex_escape(line) for line in text.split("\n")]
    if len(lines) == 1:
        return lines[0]
    return r"\begin{tabular}[t]{@{}l@{}}" + r" \\ ".join(lines) + r"\end{tabular}"


def _latex(header: list[str], rows: Iterable[tuple[str, ...]]) -> str:
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


_TEXT_TABLES = {"markdown": _markdown, "latex": _latex}
"""The formats that write the same rows as text: for a README, or for a paper."""
_VERBATIM = {"markdown": ("```text", "```"), "latex": (r"\begin{verbatim}", r"\end{verbatim}")}
"""How each of them sets a ``--draw`` drawing apart, character for character."""


def _cell(value: Any) -> str:
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


# --- networks ------------------------------------------------------------------------------

TRACE_FORMATS = ("table", "markdown", "csv", "json", "latex")
TRACE_COLUMNS = ["layer", "kind", "output", "params", "MACs", "memory", "RF"]


_PREFIXES = ("", "K", "M", "G", "T", "P", "E")
_SIZES = tuple(10 ** (3 * i) for i in range(1, len(_PREFIXES)))
"""Where each prefix after the first begins: 10**3 (K) to 10**18 (E)."""


def human(value: float, unit: str = "") -> str:
    """A count for people: 4.09G, 25.6M, 118K, 760 (SI prefixes, three significant digits);
    from a thousand E on, 1.23e+24: exact integer arithmetic, so any size prints.

    >>> human(4_089_184_256), human(25_557_032), human(760), human(1_536, "B")
    ('4.09G', '25.6M', '760', '1.54KB')
    >>> human(999_999), human(10**18, "B"), human(123 * 10**22), human(10**400)
    ('1M', '1EB', '1.23e+24', '1e+400')
    """
    i = bisect_right(_SIZES, abs(value))  # the prefix: a table of 100,000 rows asks 200,000 times
    if i == 0:
        return f"{value:g}{unit}"
    if abs(value) >= 1000 * _SIZES[-1]:
        return _scientific(int(value)) + unit
    text = f"{value / _SIZES[i - 1]:.3g}"
    if text != "1e+03":
        return text + _PREFIXES[i] + unit
    if i + 1 < len(_PREFIXES):  # rounded up to the next prefix
        return "1" + _PREFIXES[i + 1] + unit
    return _scientific(int(value)) + unit


def _scientific(value: int) -> str:
    """Three significant digits in exponent notation, for an integer of any size."""
    n = abs(value)
    exponent = (n.bit_length() - 1) * 30103 // 100000  # log10(2) ~ 0.30103: within 1
    exponent += (10 ** (exponent + 1) <= n) - (10**exponent > n)
    lead = (n * 100 + 10**exponent // 2) // 10**exponent  # 100 .. 1000, rounded half up
    if lead == 1000:
        lead, exponent = 100, exponent + 1
    return f"{'-' * (value < 0)}{lead / 100:g}e+{exponent}"


def _plain(value: int | float) -> str:
    """A receptive-field size or stride: a whole one with every digit (``%g`` would round
    1234567 to 1.23457e+06), a fraction after upsampling to six digits.

    >>> _plain(1234567), _plain(0.5)
    ('1234567', '0.5')
    """
    return str(value) if isinstance(value, int) else f"{value:g}"


def _trace_cells(layers: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Each layer's cells. Big networks repeat a few kinds of layer with the same numbers, so
    the shape and count cells are formatted once for each distinct set of numbers (the
    receptive field grows with depth, so it is formatted for each row)."""
    formatted: dict[tuple[Any, ...], tuple[str, ...]] = {}
    cells = []
    for layer in layers:
        output = layer["output"]
        numbers = (layer["params"], layer["macs"], layer["memory"])
        key = (*numbers, *output)
        counts = formatted.get(key)
        if counts is None:
            params, macs, memory = numbers
            counts = formatted[key] = (
                "x".join(map(str, output)),
                f"{params:,}",
                human(macs),
                human(memory, "B"),
            )
        rf = layer["rf"]
        kind = layer["kind"]
        if layer["inputs"]:
            prefix = layer["name"] + "."
            kind += " ← " + ", ".join(i.removeprefix(prefix) for i in layer["inputs"])
        name = layer["name"]
        if "error" in layer:
            name = "✗ " + name
        if "is_output" in layer:
            name += " ⇒"
        cells.append((name, kind, *counts, f"{_plain(rf['size'])}/{_plain(rf['stride'])}"))
    return cells


def _trace_summary(data: dict[str, Any]) -> list[str]:
    totals = data["totals"]
    rf = totals["rf"]
    lines = [
        f"params: {totals['params']:,} trainable, "
        f"{totals['non_trainable_params']:,} non-trainable (running statistics)",
        f"MACs: {totals['macs']:,} ({human(totals['macs'])}), FLOPs: {human(totals['flops'])}"
        + (f", Darknet: {totals['bflops']:.3f} BFLOPs" if "bflops" in totals else ""),
        f"memory ({data['dtype']}): activations {human(totals['activations'], 'B')}, "
        f"parameters {human(totals['param_bytes'], 'B')}",
        f"receptive field: {_plain(rf['size'])} px, stride {_plain(rf['stride'])}",
    ]
    outputs = data.get("outputs")
    if outputs:
        shapes = (f"{name} {'x'.join(map(str, shape))}" for name, shape in outputs.items())
        lines.append(f"outputs (⇒): {', '.join(shapes)}")
    return lines


def trace_report(data: dict[str, Any], fmt: str, width: int | None = None) -> str:
    """A trace's data (:func:`cnncalc.report.trace_data`) in one of :data:`TRACE_FORMATS`;
    failures are in the data too."""
    from cnncalc.graph import without_gc_pauses

    _known(fmt, TRACE_FORMATS)
    with without_gc_pauses():  # a row's cells are many small strings: a third of the time
        return _trace_text(data, fmt, width)


def _trace_text(data: dict[str, Any], fmt: str, width: int | None) -> str:
    if fmt == "json":
        return json_text(data)
    if fmt == "csv":
        return _csv(data)
    cells = _trace_cells(data["layers"])
    input_shape = "x".join(map(str, data["input"]))
    summary = [] if data["errors"] else _trace_summary(data)
    title = f"{data['name']}: input {input_shape}"
    if fmt == "markdown":
        head = f"**{data['name']}**: input {input_shape}\n\n"
        return head + _markdown(TRACE_COLUMNS, cells) + "".join(f"\n\n{s}" for s in summary)
    if fmt == "latex":  # the title and totals as comments, so the tabular can be \input as is
        notes = [f"% {line}" for line in [title, *summary]]
        return "\n".join([notes[0], _latex(TRACE_COLUMNS, cells), *notes[1:]])
    return _table(title, TRACE_COLUMNS, cells, width) + "".join(f"\n{s}" for s in summary)


def _csv(data: dict[str, Any]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["name", "kind", "output", "params", "buffers", "macs", "memory"]
    writer.writerow([*header, "rf_size", "rf_stride", "inputs", "error"])
    for layer in data["layers"]:
        writer.writerow(
            [layer[k] if k != "output" else "x".join(map(str, layer[k])) for k in header]
            + [layer["rf"]["size"], layer["rf"]["stride"], " ".join(layer["inputs"])]
            + [layer.get("error", "")]
        )
    return out.getvalue().rstrip("\n")


MAX_PROBLEMS = 50
"""Problems printed in full; the rest are counted. A broken spec can have one per line."""
QUOTED = 120
"""Characters of a source line quoted under a problem; a longer line is elided around it."""


def problem_report(source: str, text: str, problems: Iterable[Any], severity: str = "error") -> str:
    """``file:line:col: error: path: message``, then the offending line and a caret.

    At most MAX_PROBLEMS are printed, and a long line is shown once, cut around the column.
    """
    lines = text.splitlines()
    problems = list(problems)
    out = []
    quoted = set()
    for p in problems[:MAX_PROBLEMS]:
        line, column = p.pos
        where = f"{source}:{line}:{column}" if line else source
        path = f"{p.path}: " if p.path else ""
        out.append(f"{where}: {severity}: {path}{p.message}")
        if 0 < line <= len(lines) and (line not in quoted or len(lines[line - 1]) <= QUOTED):
            quoted.add(line)
            shown, caret = _excerpt(lines[line - 1], column)
            out.append(f"  {line:>4} | {shown}")
            out.append(f"       | {' ' * caret}^")
    if len(problems) > MAX_PROBLEMS:
        out.append(f"... and {plural(len(problems) - MAX_PROBLEMS, severity)} more")
    return "\n".join(out)


def _excerpt(line: str, column: int) -> tuple[str, int]:
    """At most QUOTED characters of ``line`` around ``column`` (1-based), with … where cut,
    and the caret's offset in them.

    >>> _excerpt("abc", 2)
    ('abc', 1)
    >>> shown, caret = _excerpt("x" * 500 + "!" + "y" * 500, 501)
    >>> len(shown) <= 122, shown[caret]
    (True, '!')
    """
    if len(line) <= QUOTED:
        return line, column - 1
    start = min(max(column - 1 - QUOTED // 2, 0), len(line) - QUOTED)
    shown = line[start : start + QUOTED]
    caret = column - 1 - start
    if start > 0:
        shown, caret = "…" + shown, caret + 1
    if start + QUOTED < len(line):
        shown += "…"
    return shown, caret


def github_annotations(source: str, problems: Iterable[Any], severity: str = "error") -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's diff."""

    def escape(text: str, extra: str = "") -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        for ch in extra:
            text = text.replace(ch, {":": "%3A", ",": "%2C"}[ch])
        return text

    out = []
    for p in problems:
        where = f"file={escape(source, ':,')}"
        if p.pos.line:
            where += f",line={p.pos.line},col={p.pos.column}"
        path = f"{p.path}: " if p.path else ""
        out.append(f"::{severity} {where}::{escape(path + p.message)}")
    return "\n".join(out)


def plural(count: int, word: str) -> str:
    """``1 warning``, ``3 warnings``.

    >>> plural(1, "warning"), plural(16, "size")
    ('1 warning', '16 sizes')
    """
    return f"{count} {word}{'' if count == 1 else 's'}"


def _significant(value: float, digits: int = 3) -> str:
    """Three significant digits, never in exponent notation.

    >>> _significant(4.089184256), _significant(11.513), _significant(4.32e-07)
    ('4.09', '11.5', '0.000000432')
    """
    if value == 0:
        return "0"
    from math import floor, log10

    decimals = max(digits - 1 - floor(log10(abs(value))), 0)
    return f"{value:.{decimals}f}"


def warning_summary(warnings: list[Any]) -> str:
    """One line for a trace's warnings: the first in full, and how many more there are."""
    first, more = warnings[0], len(warnings) - 1
    others = f"{plural(more, 'more warning')}; --strict makes them errors" if more else ""
    return f"warning: {first.path}: {first.message} ({others or '--strict makes it an error'})"


def check_line(source: str, t: Any) -> str:
    """One line for a spec that passed its checks."""
    totals = t.totals()
    warned = (
        f", {plural(len(t.warnings), 'warning')} (--strict fails on "
        f"{'it' if len(t.warnings) == 1 else 'them'})"
        if t.warnings
        else ""
    )
    macs = totals.macs  # past a float's range (tconvs with huge strides) in exponent notation
    gmacs = _significant(macs / 1e9) if macs < 10**300 else _scientific(macs // 10**9)
    return f"{source}: ok — {totals.params:,} params, {gmacs} GMACs{warned}"


def _gmacs(macs: int) -> str:
    """Billions to three decimals, as torchvision's table; small networks keep 3 digits.

    >>> _gmacs(4_089_184_256), _gmacs(416_520)
    ('4.089', '0.000417')
    """
    gmacs = macs / 1e9
    return f"{gmacs:.3f}" if gmacs >= 0.01 else f"{gmacs:.3g}"


def zoo_report(entries: list[tuple[str, Any]], fmt: str) -> str:
    """The zoo's networks by task (the task named on its group's first row): name, source,
    input, params, GMACs, description."""
    _known(fmt, FORMATS)
    data = report.zoo_data(entries)
    if fmt == "json":
        return json_text(data)
    rows = data["networks"]
    header = ["task", "name", "source", "input", "params", "GMACs", "description"]
    tasks = [r["task"] for r in rows]
    cells = [
        (task if i == 0 or tasks[i - 1] != task else "", r["name"], r["origin"])
        + ("x".join(map(str, r["input"])), f"{r['params']:,}", _gmacs(r["macs"]))
        + (r["description"],)
        for i, (task, r) in enumerate(zip(tasks, rows))
    ]
    if fmt in _TEXT_TABLES:
        return _TEXT_TABLES[fmt](header, cells)
    return _table("cnncalc zoo", header, cells)


def _written(value: Any) -> str:
    """A parameter value as a spec writes it: ``true``, ``same``, ``3``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def kinds_report(registry: dict[str, Any], aliases: dict[str, list[str]]) -> str:
    """Each layer kind: its summary, parameters with defaults, and aliases."""
    lines = []
    for kind, cls in sorted(registry.items()):
        params = ", ".join(f"{n}={p.default!r}" for n, p in cls.parameters.items())
        also = f"  (also: {', '.join(sorted(aliases[kind]))})" if kind in aliases else ""
        lines.append(f"{kind:<13} {cls.summary}{also}")
        if params:
            lines.append(f"{'':<13}   {params}")
        inline = [f"a bare value sets {cls.primary}"] if cls.primary else []
        inline += [f"bare words {', '.join(cls.words)}"] if cls.words else []
        inline += [
            f"convention {name}: " + ", ".join(f"{k}={_written(v)}" for k, v in changes.items())
            for name, changes in cls.conventions.items()
        ]
        if inline:
            lines.append(f"{'':<13}   {'; '.join(inline)}")
    return "\n".join(lines)
