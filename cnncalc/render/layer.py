"""One layer's result, or the answers of ``solve``, for people.

The table shows every formula with the numbers put in, so a student can check their own
working line by line; JSON, Markdown and LaTeX carry the same plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from cnncalc import report
from cnncalc.core.errors import UsageError
from cnncalc.core.notation import format_shape, shape_sizes
from cnncalc.core.shapes import Shape, dimension_names
from cnncalc.kinds import Formula, Layer, Outcome, Worked
from cnncalc.kinds.windows import window_formula
from cnncalc.render.text import (
    FORMATS,
    TEXT_TABLES,
    VERBATIM,
    known_format,
    latex,
    latex_escape,
    markdown,
    shown,
    small_json,
)

if TYPE_CHECKING:
    from cnncalc.analysis.explain import Explained
    from cnncalc.analysis.solve import Solution, Transposed


DRAW_LIMIT = 16
"""Largest padded side ``--draw`` draws; beyond it the grid no longer fits a terminal."""

Rows = list[tuple[str, str]]


def layer_report(
    layer: Layer, x: Shape, outcome: Outcome, fmt: str, layout: str = "hwc", draw: bool = False
) -> str:
    """The result of applying ``layer`` to ``x``, in one of :data:`FORMATS`."""
    known_format(fmt, FORMATS)
    if fmt == "json":
        return small_json(report.layer_data(layer, x, outcome, layout))
    title = f"{layer.kind}: {format_shape(x, layout)} -> {format_shape(outcome.shape, layout)}"
    text = _working(title, _layer_rows(layer, x, outcome, layout, fmt), fmt)
    if not draw:
        return text
    if fmt in VERBATIM:
        begin, end = VERBATIM[fmt]
        return f"{text}\n\n{begin}\n{drawing(layer, x, outcome)}\n{end}"
    return f"{text}\n\n{drawing(layer, x, outcome)}"


WORKING = ["quantity", "working"]
"""The header of a worked formula in Markdown and LaTeX."""


def _working(title: str, rows: Rows, fmt: str) -> str:
    """A worked formula under its title: a table on a terminal; in Markdown a bold title and a
    table, in LaTeX a comment and a tabular, for a student to paste."""
    if fmt == "markdown":  # 10*3*5*5 would be emphasis, a | a new cell
        head, _, tail = title.partition(":")
        escaped = [tuple(c.replace("*", "\\*").replace("|", "\\|") for c in row) for row in rows]
        return f"**{head}**:{tail}\n\n" + markdown(WORKING, escaped)
    if fmt == "latex":
        return f"% {title}\n" + latex(WORKING, rows)
    from cnncalc.render.tables import table  # not for the plain formats: they start sooner

    return table(title, None, rows)


EXPLAIN_FORMATS = ("table", "markdown", "latex", "json")
"""The formats of ``trace --explain``."""


def explain_report(explained: Explained, fmt: str, layout: str = "hwc") -> str:
    """One layer of a traced network worked out with its actual input (``trace --explain``)."""
    known_format(fmt, EXPLAIN_FORMATS)
    name, layer, inputs, outcome, output = explained
    name = shown(name)
    if outcome is None:  # a join: its branches' shapes, and what joining them gives
        if fmt == "json":
            data: dict[str, Any] = {"name": name, "op": layer.kind}
            data["inputs"] = [shape_sizes(x, layout) for x in inputs]
            data["output"] = shape_sizes(output, layout)
            return small_json(data)
        rows = [(f"input {i}", format_shape(x, layout)) for i, x in enumerate(inputs, 1)]
        rows += [("output", format_shape(output, layout)), ("rule", layer.summary)]
        return _working(f"{name} ({layer.kind}): {len(inputs)} inputs", rows, fmt)
    x = inputs[0]
    if fmt == "json":
        return small_json({"name": name, **report.layer_data(layer, x, outcome, layout)})
    shapes = f"{format_shape(x, layout)} -> {format_shape(outcome.shape, layout)}"
    rows = _layer_rows(layer, x, outcome, layout, fmt)
    return _working(f"{name} ({layer.kind}): {shapes}", rows, fmt)


def solutions_report(
    n: int,
    out: int,
    solutions: list[Solution],
    fmt: str,
    transposed: Sequence[Transposed] = (),
    upsample: int | None = None,
) -> str:
    """The answers of ``solve``, exact ones first, each with its worked formula; for a larger
    output, the transposed convolutions first and the upsampling factor last."""
    known_format(fmt, FORMATS)
    if fmt == "json":
        return small_json(report.solutions_data(n, out, solutions, transposed, upsample))
    parts = [_transposed(n, out, transposed, fmt)] if transposed else []
    if solutions:
        parts.append(_convolutions(n, out, solutions, fmt, titled=bool(transposed)))
    if upsample is not None:
        line = (
            f"upsampling by {upsample}: {n}*{upsample} = {out} "
            f"(cnncalc unpool --mode nearest|nails --factor {upsample})"
        )
        parts.append(latex_escape(line) if fmt == "latex" else line)
    return "\n\n".join(parts)


def _convolutions(n: int, out: int, solutions: list[Solution], fmt: str, titled: bool) -> str:
    """Convolutions; beside transposed ones (a larger output), titled as such."""
    header = ["F", "S", "P", "D", "remainder"]
    rows = [(str(s.f), str(s.s), str(s.p), str(s.d), str(s.remainder)) for s in solutions]
    title = f"{n} -> {out}" + (" by convolution (padding alone grows it)" if titled else "")
    if fmt in TEXT_TABLES:
        return (_caption(title, fmt) if titled else "") + TEXT_TABLES[fmt](header, rows)
    worked = [
        (*row[:4], window_formula(n, s.f, s.s, (s.p, s.p), s.d, out), _remainder(s.remainder))
        for row, s in zip(rows, solutions)
    ]
    from cnncalc.render.tables import table

    return table(title, ["F", "S", "P", "D", "worked", "division"], worked)


def _transposed(n: int, out: int, found: Sequence[Transposed], fmt: str) -> str:
    """Transposed convolutions, each with ``(N-1)*S - 2P + D*(F-1) + a + 1`` worked."""
    header = ["F", "S", "P", "D", "output padding"]
    rows = [(str(t.f), str(t.s), str(t.p), str(t.d), str(t.output_padding)) for t in found]
    title = f"{n} -> {out} by transposed convolution (cnncalc tconv)"
    if fmt in TEXT_TABLES:
        return _caption(title, fmt) + TEXT_TABLES[fmt](header, rows)
    worked = [
        (*row, f"({n} - 1)*{t.s} - 2*{t.p} + {t.d}*({t.f} - 1) + {t.output_padding} + 1 = {out}")
        for row, t in zip(rows, found)
    ]
    from cnncalc.render.tables import table

    return table(title, ["F", "S", "P", "D", "a", "worked"], worked)


def _caption(title: str, fmt: str) -> str:
    """A table's title as a paragraph before it, in Markdown or LaTeX."""
    return (latex_escape(title) if fmt == "latex" else title) + ":\n\n"


def _remainder(left: int) -> str:
    return "exact" if not left else f"floored, {left} position{'s' * (left > 1)} unused"


def _written(formula: Formula) -> str:
    """A kind's formula as text: its counts with thousands separators."""
    if isinstance(formula, str):
        return formula
    return "".join(part if isinstance(part, str) else f"{part:,}" for part in formula)


def _lines(worked: Worked) -> Rows:
    """The rows of a kind's working: a spatial line in one row when its dimensions agree,
    else one row per dimension."""
    rows: Rows = []
    for line in worked.lines:
        texts = [_written(formula) for formula in line.formulas]
        if not line.spatial:
            rows.append((line.quantity, texts[0]))
            continue
        names = dimension_names(len(texts))
        if len(set(texts)) == 1:
            rows.append((f"{line.quantity} {', '.join(names)}", texts[0]))
        else:
            rows += [(f"{line.quantity} {name}", text) for name, text in zip(names, texts)]
    return rows


def _layer_rows(layer: Layer, x: Shape, outcome: Outcome, layout: str, fmt: str = "table") -> Rows:
    """The worked formula's rows; in Markdown and LaTeX the warnings too (on a terminal they
    go to standard error)."""
    worked = layer.worked(x, outcome)
    rows = [("input", format_shape(x, layout)), ("output", format_shape(outcome.shape, layout))]
    rows += _lines(worked)
    if outcome.padding:
        names = dimension_names(len(outcome.padding))
        used = ", ".join(f"{name} {b}:{a}" for name, (b, a) in zip(names, outcome.padding))
        rows.append(("padding", f"{used} (before:after)"))
    unknown = "unknown: " + _missing_counts(x, outcome)
    for quantity, formula, count in (
        ("parameters", worked.params, outcome.params),
        ("MACs", worked.macs, outcome.macs),
    ):
        rows.append((quantity, _count(count, unknown) if formula is None else _written(formula)))
    flops = report.flops(layer, outcome)
    rows.append(("FLOPs", f"{flops:,} = 2 x MACs" if flops else _count(flops, unknown)))
    if fmt in TEXT_TABLES and outcome.warnings:
        rows.append(("warnings", "\n".join(outcome.warnings)))
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


def drawing(layer: Layer, x: Shape, outcome: Outcome) -> str:
    """The padded input as text and where the first windows fall, after Dumoulin & Visin.

    ``o`` input, ``.`` padding, ``#`` a kernel tap on the input, ``+`` one on the padding.
    1D draws every window, one per line; 2D draws the first two along a row, the
    first of the next row and the last.
    """
    nd = len(x.spatial)
    if nd > 2:
        raise UsageError(f"--draw: only 1D and 2D inputs can be drawn, not {nd}D")
    slid = layer.worked(x, outcome).windows
    if not slid:
        raise UsageError(f"--draw: {layer.kind} slides no window to draw")
    fs, ss, ds = slid
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
