"""One layer's result, or the answers of ``solve``, for people.

The table shows every formula with the numbers put in, so a student can check their own
working line by line; JSON, Markdown and LaTeX carry the same plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from cnncalc import report
from cnncalc.core import formulas as fm
from cnncalc.core.errors import UsageError
from cnncalc.core.notation import format_shape
from cnncalc.core.shapes import Shape, dimension_names
from cnncalc.kinds import FC, Layer, Outcome, TConv, Unpool
from cnncalc.render.text import (
    FORMATS,
    TEXT_TABLES,
    VERBATIM,
    cell,
    known_format,
    small_json,
)

if TYPE_CHECKING:
    from cnncalc.analysis.solve import Solution


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
    known_format(fmt, FORMATS)
    data = report.layer_data(layer, x, outcome, layout)
    if fmt == "json":
        return small_json(data)
    if fmt in TEXT_TABLES:
        rows = [(key, cell(v)) for key, v in data.items()]
        begin, end = VERBATIM[fmt]
        text = TEXT_TABLES[fmt](["quantity", "value"], rows)
        return text + (f"\n\n{begin}\n{drawing(layer, x, outcome)}\n{end}" if draw else "")
    title = f"{layer.kind}: {format_shape(x, layout)} -> {format_shape(outcome.shape, layout)}"
    from cnncalc.render.tables import table  # not for the plain formats: they start sooner

    text = table(title, None, _layer_rows(layer, x, outcome, layout))
    return text + (f"\n\n{drawing(layer, x, outcome)}" if draw else "")


def solutions_report(n: int, out: int, solutions: list[Solution], fmt: str) -> str:
    """The answers of ``solve``, exact ones first, each with its worked formula."""
    known_format(fmt, FORMATS)
    if fmt == "json":
        return small_json(report.solutions_data(n, out, solutions))
    header = ["F", "S", "P", "D", "remainder"]
    rows = [(str(s.f), str(s.s), str(s.p), str(s.d), str(s.remainder)) for s in solutions]
    if fmt in TEXT_TABLES:
        return TEXT_TABLES[fmt](header, rows)
    worked = [
        (*row[:4], window_formula(n, s.f, s.s, (s.p, s.p), s.d, out), _remainder(s.remainder))
        for row, s in zip(rows, solutions)
    ]
    from cnncalc.render.tables import table

    return table(f"{n} -> {out}", ["F", "S", "P", "D", "worked", "division"], worked)


def _remainder(left: int) -> str:
    return "exact" if not left else f"floored, {left} position{'s' * (left > 1)} unused"


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
