"""A traced network for people: its table of rows, totals and warnings (from the data of
``report``), and the lists of ``zoo list`` and ``kinds``."""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from cnncalc import report
from cnncalc.render.tables import table
from cnncalc.render.text import (
    FORMATS,
    TEXT_TABLES,
    json_text,
    known_format,
    latex,
    markdown,
    plural,
    shown,
)

if TYPE_CHECKING:
    pass

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


def _plain(value: int | str) -> str:
    """A receptive-field size or stride: a whole one with every digit (``%g`` would round
    1234567 to 1.23457e+06), a stride below one (or between two whole ones) as the exact
    fraction the report gives.

    >>> _plain(1234567), _plain("1/2")
    ('1234567', '1/2')
    """
    return str(value)


def _trace_cells(layers: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Each layer's cells. Big networks repeat a few kinds of layer with the same numbers, so
    the shape and count cells are formatted once for each distinct set of numbers (the
    receptive field grows with depth, so it is formatted for each row)."""
    formatted: dict[tuple[Any, ...], tuple[str, ...]] = {}
    cells = []
    for layer in layers:
        output = layer["output"]
        folded = "folded" in layer
        numbers = (layer["params"], layer["macs"], layer["activation_bytes"], folded)
        marks = (layer.get("shares", ""), layer.get("frozen_params", 0))
        key = (*numbers, *output, *marks)
        counts = formatted.get(key)
        if counts is None:
            params, macs, memory, _ = numbers
            counts = formatted[key] = (
                "x".join(map(str, output)),
                _params_cell(params, *marks),
                human(macs),
                SUM * folded + human(memory, "B"),
            )
        rf = layer["rf"]
        kind = shown(layer["kind"])
        if layer["inputs"]:
            prefix = layer["name"] + "."
            kind += " ← " + ", ".join(shown(i.removeprefix(prefix)) for i in layer["inputs"])
        name = shown(layer["name"])
        if "error" in layer:
            name = "✗ " + name
        if "is_output" in layer:
            name += " ⇒"
        if "shares" in layer:
            name += " ↺"
        stride = _plain(rf["stride"])
        if "/" in stride:  # 2/(1/2): a fraction's slash is not the cell's
            stride = f"({stride})"
        cells.append((name, kind, *counts, f"{_plain(rf['size'])}/{stride}"))
    return cells


def _params_cell(params: int, shares: str, frozen: int) -> str:
    """A row's parameters: ``shared: OWNER`` for weights counted on another row (↺), the
    frozen ones said (all, or how many)."""
    if shares:
        return f"shared: {shown(shares)}"
    if frozen:
        return f"{params:,} frozen" if frozen == params else f"{params:,} ({frozen:,} frozen)"
    return f"{params:,}"


def _params_line(totals: dict[str, Any]) -> str:
    """The totals' parameters; split into trainable and frozen when some are frozen, and
    the layers that apply weights counted elsewhere said when there are any."""
    shared = totals.get("shared_layers", 0)
    reused = f"; {shared:,} layers reuse weights counted once (↺)" if shared else ""
    if not totals.get("frozen_params"):
        return (
            f"params: {totals['params']:,} trainable, "
            f"{totals['buffers']:,} non-trainable (running statistics){reused}"
        )
    return (
        f"params: {totals['params']:,}: {totals['trainable_params']:,} trainable, "
        f"{totals['frozen_params']:,} frozen; {totals['buffers']:,} buffers "
        f"(running statistics){reused}"
    )


SUM = "Σ "
"""Marks the memory of a row folded at ``--depth``: a block's outputs summed, not one tensor."""


def _trace_summary(data: dict[str, Any]) -> list[str]:
    totals = data["totals"]
    rf = totals["rf"]
    lines = [
        _params_line(totals),
        f"MACs: {totals['macs']:,} ({human(totals['macs'])}), FLOPs: {human(totals['flops'])}"
        + (f", Darknet: {totals['bflops']:.3f} BFLOPs" if "bflops" in totals else ""),
        f"memory ({data['dtype']}, {plural(data['bytes_per_element'], 'byte')} per element): "
        f"activations {human(totals['activation_bytes'], 'B')}, "
        f"parameters {human(totals['param_bytes'], 'B')}",
        "activations: every layer's output (the memory column), the input not counted",
        f"receptive field: {_plain(rf['size'])} px, stride {_plain(rf['stride'])}",
    ]
    if any("folded" in layer for layer in data["layers"]):
        lines.insert(4, f"{SUM}memory: a block's row, its layers' outputs summed")
    outputs = data.get("outputs")
    if outputs:
        shapes = (f"{shown(name)} {'x'.join(map(str, shape))}" for name, shape in outputs.items())
        lines.append(f"outputs (⇒): {', '.join(shapes)}")
    return lines


def trace_report(data: dict[str, Any], fmt: str, width: int | None = None) -> str:
    """A trace's data (:func:`cnncalc.report.trace_data`) in one of :data:`TRACE_FORMATS`;
    failures are in the data too."""
    from cnncalc.graph import without_gc_pauses

    known_format(fmt, TRACE_FORMATS)
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
    title = f"{shown(data['name'])}: input {input_shape}"
    if fmt == "markdown":
        head = f"**{shown(data['name'])}**: input {input_shape}\n\n"
        return head + markdown(TRACE_COLUMNS, cells) + "".join(f"\n\n{s}" for s in summary)
    if fmt == "latex":  # the title and totals as comments, so the tabular can be \input as is
        notes = [f"% {line}" for line in [title, *summary]]
        return "\n".join([notes[0], latex(TRACE_COLUMNS, cells), *notes[1:]])
    return table(title, TRACE_COLUMNS, cells, width) + "".join(f"\n{s}" for s in summary)


def _csv(data: dict[str, Any]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["name", "kind", "output", "params", "buffers", "macs"]
    header += ["activation_elements", "activation_bytes"]
    writer.writerow([*header, "rf_size", "rf_stride", "inputs", "error"])
    for layer in data["layers"]:  # name, kind, inputs and error hold the input's text
        writer.writerow(
            [shown(layer["name"]), shown(layer["kind"]), "x".join(map(str, layer["output"]))]
            + [layer[k] for k in header[3:]]
            + [layer["rf"]["size"], layer["rf"]["stride"], shown(" ".join(layer["inputs"]))]
            + [shown(layer.get("error", ""))]
        )
    return out.getvalue().rstrip("\n")


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
    problem = shown(f"{first.path}: {first.message}")
    return f"warning: {problem} ({others or '--strict makes it an error'})"


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
    return f"{shown(source)}: ok — {totals.params:,} params, {gmacs} GMACs{warned}"


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
    known_format(fmt, FORMATS)
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
    if fmt in TEXT_TABLES:
        return TEXT_TABLES[fmt](header, cells)
    return table("cnncalc zoo", header, cells)


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
