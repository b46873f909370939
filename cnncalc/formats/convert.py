"""Any network back to cnncalc's own language: a spec that traces to the same graph.

Works on the lowered graph (:class:`~cnncalc.graph.Dag`), so a Darknet cfg, a Caffe prototxt
and a spec full of blocks are written the same way: one item per node, in the graph's order,
``from NAME`` where a node does not read the item before it, a join as
``concat: [from a, from b]``, and a ``repeat`` over each run of nodes that are the same up
to their names (YOLO's residual units, ResNet's blocks). Names are kept, made valid spec
names where they are not (``layer1.0.conv1`` is ``layer1_0_conv1``, Darknet's ``12`` is
``_12``). The written spec is read back and compared node by node before it is returned: a
layer or value the language cannot say is an error, never dropped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, NamedTuple

from cnncalc.core.errors import SpecError, UsageError
from cnncalc.core.notation import format_shape
from cnncalc.core.positions import NOWHERE
from cnncalc.formats.expressions import PATH, WORD
from cnncalc.formats.language import (
    KEYWORDS,
    NAME,
    NOT_TEXT,
    SHORT,
    SHORTHAND,
    auto_name,
    auto_named,
    words,
)
from cnncalc.graph import INPUT, Dag, Expectations, Network, is_merge
from cnncalc.kinds import ALIASES, REGISTRY, Layer

TARGETS = ("yaml",)
"""The languages ``convert`` writes."""

MAX_PERIOD = 200
"""The most nodes in one repeated unit that are looked for (a ResNet block has about 12)."""
MIN_SAVED = 4
"""A repeat is written only when it saves at least this many items (its header costs 3)."""

_PLAIN = re.compile(r"[A-Za-z_][\w .,()/+-]*")
_SHORT = {name: short for short, name in SHORT.items()}
"""The inline shorthand of each parameter that has one: ``s`` for stride."""


def convert(net: Network, expect: Expectations, to: str = "yaml") -> str:
    """The network as spec text in the language ``to`` (one of TARGETS), with ``expect``, what
    tracing it gives (:func:`cnncalc.api.to_spec` traces it first).

    Refuses a layer or value the spec language cannot say (UsageError naming the node).

    >>> from cnncalc.api import load, traced_expectations
    >>> net = load("8x8x3 | conv 4 f3 p1 | relu")
    >>> print(convert(net, traced_expectations(net)), end="")
    # Written by cnncalc convert from <inline>.
    name: inline
    input: 8x8x3
    layers:
      - conv 4 f3 p1
      - relu
    expect:
      output: 8x8x4
      params: 112
      macs: 6912
    """
    if to not in TARGETS:
        raise UsageError(f"convert: cannot write {to!r:.40} (only {', '.join(TARGETS)})")
    flat = _Flat(net.graph)
    writer = _Writer(net, flat, _kept(net.expect, expect))
    text = writer.text()
    _verify(flat, text, net, writer.written)
    return text


def _kept(written: Expectations, traced: Expectations) -> Expectations:
    """The expectations to write: those the source states, as it states them (a spec's
    ``expect:``, its ``shapes`` too), and what tracing gives for the others."""
    outputs = {n: written.outputs.get(n, s) for n, s in traced.outputs.items()}
    return Expectations(
        written.output or traced.output,
        written.params or traced.params,
        written.macs or traced.macs,
        written.shapes,
        outputs,
    )


class _Flat:
    """The graph as positions: each node's inputs and referenced layers by position, the
    network's input as -1 (or a leading identity, when a node other than the first reads it)."""

    def __init__(self, dag: Dag) -> None:
        nodes = dag.nodes
        self.names: list[str | None] = [n.name for n in nodes]
        self.layers: list[Layer] = [n.layer for n in nodes]
        self.inputs: list[tuple[int, ...]] = []
        self.refs: list[dict[str, int]] = []
        self.shares: list[int | None] = []
        """The position of the node whose weights each applies again, if any."""
        self.frozen: list[bool] = [n.frozen for n in nodes]
        known: dict[str, int] = {INPUT: -1}
        aliases = iter(dag.aliases)
        ready, name, target = next(aliases, (-1, "", ""))
        for i, node in enumerate(nodes):
            while ready == i:  # as the tracer defines them
                known[name] = known[target]
                ready, name, target = next(aliases, (-1, "", ""))
            full = dict(node.refs)
            self.inputs.append(tuple(known[x] for x in node.inputs))
            self.refs.append(
                {
                    p: known[full[getattr(node.layer, p)]]
                    for p in node.layer.references
                    if getattr(node.layer, p) is not None
                }
            )
            self.shares.append(known[node.shares] if node.shares else None)
            known[node.name] = i
        while ready >= 0:
            known[name] = known[target]
            ready, name, target = next(aliases, (-1, "", ""))
        self.known = known
        """The position of every name the original defines, aliases included."""
        self.output = known[dag.output]
        self.outputs = [known[full] for _, _, full, _ in dag.outputs if full is not None]
        # Only the first item can read the input without a name for it; else name it.
        if any(-1 in r.values() for r in self.refs) or any(
            -1 in ins and (i > 0 or self.layers[i].joins) for i, ins in enumerate(self.inputs)
        ):
            self.names.insert(0, None)
            self.layers.insert(0, REGISTRY["identity"]())
            self.inputs = [(-1,)] + [tuple(x + 1 for x in ins) for ins in self.inputs]
            self.refs = [{}] + [{p: q + 1 for p, q in r.items()} for r in self.refs]
            self.shares = [None, *(None if q is None else q + 1 for q in self.shares)]
            self.frozen.insert(0, False)
            self.output += 1
            self.outputs = [q + 1 for q in self.outputs]
            self.known = {name: q + 1 for name, q in known.items()}
        self.shift = len(self.names) - len(nodes)
        """1 when a leading identity names the input, else 0."""
        self.groups = [(start + self.shift, path, kind) for start, path, kind in dag.groups]
        """The original's blocks, repeats and merges: (first position, name, kind)."""

    def __len__(self) -> int:
        return len(self.layers)

    def marks(self, p: int) -> tuple[Any, ...]:
        """Node ``p``'s ``frozen`` and ``shares``: a node that shares weights is written as
        itself, never as part of a block or repeat (so its position is part of its marks)."""
        owner = self.shares[p]
        frozen = ("frozen",) if self.frozen[p] else ()
        return frozen if owner is None else (*frozen, "shares", p, p - owner)

    def signature(self, p: int) -> tuple[Any, ...]:
        """What must be equal for two nodes to be written alike: the layer (references left
        out) and its marks, and where its inputs are, relative to it."""
        layer = self.layers[p]
        blank = {r: None for r in layer.references if getattr(layer, r) is not None}
        marks = self.marks(p)
        return (
            (layer.replace(**blank) if blank else layer, *marks),
            tuple(p - q for q in self.inputs[p]),
            tuple((r, p - q) for r, q in self.refs[p].items()),
        )

    def reach(self, p: int) -> int:
        """The earliest position node ``p`` reads."""
        return min([*self.inputs[p], *self.refs[p].values()])

    def implicit(self, p: int) -> bool:
        """Whether node ``p`` reads only the item before it, so needs no name for it."""
        return not self.layers[p].joins and self.inputs[p] == (p - 1,) and not self.refs[p]


class _Arg(str):
    """A block argument written where a value goes (``conv c f=f``)."""


class _Expr(str):
    """A default computed from an earlier argument (``f // 2``, ``c * 4``)."""


_HOLE = object()
"""Where a unit's skeleton leaves a whole number open."""

_ARG_NAMES = {"filters": "c", "out": "n", "stride": "s", "pad": "p", "dilation": "d", "groups": "g"}
"""Argument names for the parameters they set: the course's letters, else the key."""


class _Element(NamedTuple):
    """Positions written as one item: a node, or a call of ``block`` with ``args`` (those
    that differ from the defaults), named ``path`` in the original."""

    start: int
    end: int
    block: str | None = None
    args: tuple[tuple[str, Any], ...] = ()
    path: str | None = None


class _Block(NamedTuple):
    """A block written once, from the layers of its first unit, for every unit that is the
    same up to its whole numbers; the numbers that differ between units are its arguments."""

    name: str
    start: int
    end: int
    args: dict[str, Any]
    """Each argument's default: None when required, an ``_Expr`` when derived."""
    slots: dict[tuple[int, str], Any]
    """Each open (offset in the unit, parameter): its ``_Arg``, or the value all units share."""


def _closed(flat: _Flat, start: int, end: int) -> bool:
    """Whether nodes ``start``... read only the item before them and each other, so they can
    be written as a list of their own."""
    return flat.implicit(start) and all(flat.reach(p) >= start for p in range(start + 1, end))


def _units(flat: _Flat) -> list[tuple[int, int, str, str]]:
    """The original's outermost calls (a spec's block calls, Darknet's layers ``12.conv``,
    ``12.bn``, ``12.act``) that can be written as calls: two nodes or more, closed. Each as
    (start, end, name, kind). Repeats follow these, so they begin where the original's do."""
    found: list[tuple[int, int, str, str]] = []
    for start, path, kind in sorted(flat.groups, key=lambda g: g[0]):  # outer ones first
        if kind == "repeat" or is_merge(kind) or found and start < found[-1][1]:
            continue
        end = start
        while end < len(flat) and (flat.names[end] or "").startswith(path + "."):
            end += 1
        if end - start >= 2 and _closed(flat, start, end):
            found.append((start, end, path, kind))
    return found


def _skeleton(flat: _Flat, start: int, end: int, path: str) -> tuple[Any, dict[Any, int]]:
    """What units must share to be calls of one block: their layers with each whole-number
    parameter left open, their edges and their names within the unit; and the open values."""
    shape, values = [], {}
    for p in range(start, end):
        layer, params = flat.layers[p], []
        for key in layer.parameters:
            value = None if key in layer.references else getattr(layer, key)
            if type(value) is int:
                values[(p - start, key)] = value
                value = _HOLE
            params.append((key, value))
        _, inputs, refs = flat.signature(p)
        local = (flat.names[p] or "")[len(path) + 1 :]
        shape.append((type(layer), tuple(params), inputs, refs, local, flat.marks(p)))
    return tuple(shape), values


def _users(kind: str) -> bool:
    """Whether a group of the original is a call of a block its spec defines (a name that
    is no kind), kept as a block even where it is called once."""
    return kind not in REGISTRY and kind not in ALIASES and kind not in ("sequence", *KEYWORDS)


def _block_name(kind: str, layers: list[Layer], used: set[str]) -> str:
    """The original block's name when it is free, else the initials of its layers (``cbl``
    for Darknet's conv, bn, leaky), else ``block``; made unique."""
    taken = {*REGISTRY, *ALIASES, *KEYWORDS}
    initials = "".join(layer.kind[0] for layer in layers)
    for name in (kind, initials if len(layers) <= 4 else "", "block"):
        if NAME.fullmatch(name) and name not in taken:
            return _unique(name, used)
    raise AssertionError("block is free")  # pragma: no cover


def _derived(key: str, column: list[int], seen: list[tuple[str, str, list[int]]]) -> Any:
    """An earlier argument of the same parameter (or the kernel, for a padding) that gives
    ``column``: itself, a multiple (``c * 4``) or a part (``f // 2``). Else None."""
    for name, other, values in seen:
        if other == key and values == column:
            return _Arg(name)
    for name, other, values in seen:
        if other != key and (key, other) != ("pad", "f"):
            continue
        a, v = values[0], column[0]
        if (
            a
            and v % a == 0
            and v // a >= 2
            and all(x * (v // a) == y for x, y in zip(values, column))
        ):
            return _Expr(f"{name} * {v // a}")
        for k in range(2, 9):
            if all(x // k == y for x, y in zip(values, column)):
                return _Expr(f"{name} // {k}")
    return None


def _arguments(flat: _Flat, start: int, columns: dict[Any, list[int]]) -> tuple[dict, dict]:
    """A block's arguments and slots from each open value's column over its units: a value
    all share stays written; one that differs is an argument, derived from an earlier one
    where it follows from it, with the most common value as default (a main parameter, such
    as filters, is always given)."""
    args: dict[str, Any] = {}
    slots: dict[Any, Any] = {}
    seen: list[tuple[str, str, list[int]]] = []
    used: set[str] = set()
    for (offset, key), column in columns.items():
        if len(set(column)) == 1:
            slots[(offset, key)] = column[0]
            continue
        found = _derived(key, column, seen)
        if isinstance(found, _Arg):
            slots[(offset, key)] = found
            continue
        name = _unique(_ARG_NAMES.get(key, key), used)
        if found is not None:
            args[name] = found
        else:
            value, count = Counter(column).most_common(1)[0]
            main = key == flat.layers[start + offset].primary
            args[name] = None if main or count < 2 else value
        seen.append((name, key, column))
        slots[(offset, key)] = _Arg(name)
    return args, slots


def _blocks(flat: _Flat) -> tuple[dict[str, _Block], dict[int, _Element]]:
    """Blocks for the units alike up to their numbers (two or more of them), and each such
    unit as a call, by its start."""
    alike: dict[Any, list[tuple[int, int, str, dict[Any, int]]]] = {}
    kinds: dict[Any, str] = {}
    for start, end, path, kind in _units(flat):
        shape, values = _skeleton(flat, start, end, path)
        alike.setdefault(shape, []).append((start, end, path, values))
        kinds.setdefault(shape, kind)
    blocks: dict[str, _Block] = {}
    calls: dict[int, _Element] = {}
    used: set[str] = set()
    for shape, units in alike.items():
        if len(units) < 2 and not _users(kinds[shape]):
            continue
        start, end = units[0][:2]
        name = _block_name(kinds[shape], flat.layers[start:end], used)
        columns = {k: [values[k] for *_, values in units] for k in units[0][3]}
        args, slots = _arguments(flat, start, columns)
        blocks[name] = _Block(name, start, end, args, slots)
        for s, e, path, values in units:
            given: dict[str, int] = {}
            for k, slot in slots.items():
                if isinstance(slot, _Arg) and not isinstance(args[slot], _Expr):
                    given.setdefault(str(slot), values[k])
            written = tuple((a, v) for a, v in given.items() if v != args[a])
            calls[s] = _Element(s, e, name, written, path)
    return blocks, calls


def _elements(n: int, calls: dict[int, _Element]) -> list[_Element]:
    """Positions 0..n as items: the calls, and every other node alone."""
    found, p = [], 0
    while p < n:
        found.append(calls.get(p, _Element(p, p + 1)))
        p = found[-1].end
    return found


class _Run(NamedTuple):
    """``times`` copies of the ``period`` elements from ``start``, each a list of items or,
    with ``branches`` (element indices in the first copy), a merge."""

    start: int
    period: int
    times: int
    branches: list[list[int]] | None = None


def _branches(flat: _Flat, els: list[_Element], w: int, period: int) -> list[list[int]] | None:
    """The elements ``w``... as the branches of a merge joined by its last node, when they
    are that: chains, each from the item before ``w``, ending in the join's inputs in order
    (an empty branch for the item before ``w`` itself). Else None."""
    join = els[w + period - 1]
    if join.block is not None or not flat.layers[join.start].joins:
        return None
    before = els[w].start - 1
    chains: list[list[int]] = []
    for x in range(w, w + period - 1):
        p = els[x].start
        if not flat.layers[p].joins and not flat.refs[p] and flat.inputs[p] == (before,):
            chains.append([x])
        elif chains and flat.implicit(p):
            chains[-1].append(x)
        else:
            return None
    found, rest = [], iter(chains)
    for q in flat.inputs[join.start]:
        chain = [] if q == before else next(rest, None)
        if chain is None or chain and els[chain[-1]].end - 1 != q:
            return None
        found.append(chain)
    return found if next(rest, None) is None else None


def _runs(flat: _Flat, els: list[_Element]) -> list[_Run]:
    """Runs of consecutive units of elements that are written alike, each reading only
    itself and the item before it, found greedily from the start; single elements are runs
    of one."""
    sig = [
        (el.block, el.args, tuple(flat.signature(p) for p in range(el.start, el.end))) for el in els
    ]
    reach = [flat.reach(p) for p in range(len(flat))]
    n, s, runs = len(els), 0, []

    def closed(w: int, period: int) -> bool:
        a = els[w].start
        last = els[w + period - 1].end
        return flat.implicit(a) and all(reach[p] >= a for p in range(a + 1, last))

    def unit(w: int, period: int) -> bool:
        return closed(w, period) or _branches(flat, els, w, period) is not None

    while s < n:
        best = _Run(s, 1, 1)
        for period in range(1, min(MAX_PERIOD, (n - s) // 2) + 1):
            if best.period * best.times == n - s:
                break  # every element left is in the run: no longer period can cover more
            if sig[s] != sig[s + period] or not unit(s, period):
                continue
            times, first = 1, sig[s : s + period]
            while (
                s + (times + 1) * period <= n
                and sig[s + times * period : s + (times + 1) * period] == first
                and unit(s + times * period, period)
            ):
                times += 1
            if times > 1 and times * period > best.period * best.times:
                merge = None if closed(s, period) else _branches(flat, els, s, period)
                best = _Run(s, period, times, merge)
        if (best.times - 1) * best.period < MIN_SAVED:
            best = _Run(s, 1, 1)
        runs.append(best)
        s += best.period * best.times
    return runs


def _valid(name: str | None) -> str | None:
    """A spec name for ``name``: dots and other signs become ``_``, a leading digit gets a
    ``_`` before it, as does a shorthand (``f12``, which ``from f12`` reads as ``f=12``, as a
    block ``f1``'s calls are named), and the names the reader gives ``from`` items
    (``from1``...) get one after."""
    if not name:
        return None
    name = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if not NAME.fullmatch(name) or SHORTHAND.fullmatch(name):
        name = "_" + name
    return name + "_" if auto_named(name, "from") else name


def _unique(name: str, used: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``... whichever is not used yet; now used."""
    found, n = name, 1
    while found in used:
        n += 1
        found = f"{name}_{n}"
    used.add(found)
    return found


def _common(names: list[str], suffix: bool) -> str:
    """The dotted parts all ``names`` end with (or begin with), joined by dots."""
    parts = [n.split(".") for n in names]
    if suffix:
        parts = [p[::-1] for p in parts]
    same = []
    for column in zip(*parts):
        if len(set(column)) != 1:
            break
        same.append(column[0])
    return ".".join(same[::-1] if suffix else same)


def _local(names: list[str | None]) -> str | None:
    """The name of a node within a repeated unit: the last part of the names every copy
    ends with (``conv1`` for ``layer1.1.conv1``, ``layer1.2.conv1``), if they end alike."""
    suffix = _common([n or "" for n in names], suffix=True)
    return _valid(suffix.rpartition(".")[2]) if suffix and None not in names else None


class _Item(NamedTuple):
    """One item of a written list: a node, a block call, or a repeat of a run of elements."""

    name: str
    word: str
    """The kind as written (``bn`` for a layer named ``bn1``), the block, or ``repeat``."""
    auto: bool
    """Whether the reader gives this name anyway, so it need not be written."""
    element: _Element
    run: _Run | None = None
    body: list[_Item] = []
    branches: list[list[_Item]] = []


def _items(
    flat: _Flat, els: list[_Element], wanted: list[str | None], runs: Any = None
) -> list[_Item]:
    """Named items for a list: each its wanted name made unique, or the reader's own
    (``conv3``) when none is wanted; ``runs`` gives the repeats (or None) at each place."""
    used: set[str] = set()
    counts: dict[str, int] = {}
    items = []
    for el, want, run in zip(els, wanted, runs or [None] * len(els)):
        layer = flat.layers[el.start]
        if run is not None:
            word = "repeat"
        elif el.block is not None:
            word = el.block
        else:
            stem = re.search(r"[A-Za-z]*(?=\d*$)", want or "")
            alias = stem.group() if stem else ""
            word = alias if ALIASES.get(alias) == layer.kind else layer.kind
        auto = auto_name(word, counts)
        name = _unique(want or auto, used)
        if _valid(name) != name:  # a block f1's own names f11, f12... read as f=12
            name = _unique(str(_valid(name)), used)
        items.append(_Item(name, word, name == auto and run is None, el, run))
    return items


def _inner_items(flat: _Flat, block: _Block, path: str) -> list[_Item]:
    """A block's items, named as within its first unit ``path`` (``conv1``, ``bn1``)."""
    positions = range(block.start, block.end)
    wanted = [_valid((flat.names[p] or "")[len(path) + 1 :]) for p in positions]
    return _items(flat, [_Element(p, p + 1) for p in positions], wanted)


class _Writer:
    """The spec's text: header, blocks, items, expectations."""

    def __init__(self, net: Network, flat: _Flat, expect: Expectations) -> None:
        self.net, self.flat, self.expect = net, flat, expect
        self.written = Expectations()
        """The expectations written, by the names the written spec gives."""
        self.full: dict[int, str] = {}
        """Each position's full name in the written spec."""
        self.containers: dict[int, list[str]] = {}
        """The calls and iterations each position is the output of, outermost first."""
        self.blocks, calls = _blocks(flat)
        self.inner: dict[str, list[_Item]] = {}
        """Each block's items, named within it."""
        for block in self.blocks.values():
            self.inner[block.name] = _inner_items(flat, block, calls[block.start].path or "")
        els = _elements(len(flat), calls)
        self.els = els
        runs = _runs(flat, els)
        wanted: list[str | None] = []
        for run in runs:
            first = els[run.start]
            if run.times == 1:
                wanted.append(_valid(first.path or flat.names[first.start]) or "input")
            else:
                last = els[run.start + run.period * run.times - 1].end
                covered = flat.names[first.start : last]
                prefix = _common([n for n in covered if n is not None], suffix=False)
                wanted.append(_valid(prefix) or "repeat")
        self.items = _items(
            flat, [els[r.start] for r in runs], wanted, [r if r.times > 1 else None for r in runs]
        )
        for i, (item, run) in enumerate(zip(self.items, runs)):
            if run.times == 1:
                self.place(item.element, item.name, 0)
            elif run.branches is not None:
                self.merge_names(i, run)
            else:
                self.repeat_names(i, run)

    def place(self, el: _Element, path: str, delta: int) -> None:
        """Full names for an element written as ``path``, in the copy ``delta`` nodes on."""
        if el.block is None:
            self.full[el.start + delta] = path
            return
        for p, part in zip(range(el.start, el.end), self.inner[el.block]):
            self.full[p + delta] = f"{path}.{part.name}"
        self.containers.setdefault(el.end - 1 + delta, []).append(path)

    def copies(self, run: _Run) -> list[int]:
        """How many nodes on each copy of a run starts."""
        els = self.els
        return [
            els[run.start + k * run.period].start - els[run.start].start for k in range(run.times)
        ]

    def wanted(self, run: _Run, x: int) -> str | None:
        """The name of element ``x`` (of the first copy) within the repeat's body."""
        els, names = self.els, self.flat.names
        copies = [els[x + k * run.period] for k in range(run.times)]
        return _local([el.path or names[el.start] for el in copies])

    def repeat_names(self, i: int, run: _Run) -> None:
        """Names within a repeated list, and every copy's full names."""
        item, els = self.items[i], self.els
        xs = range(run.start, run.start + run.period)
        parts = _items(self.flat, [els[x] for x in xs], [self.wanted(run, x) for x in xs])
        self.items[i] = item._replace(body=parts)
        for k, delta in enumerate(self.copies(run)):
            path = f"{item.name}.{k}"
            if run.period == 1:
                self.place(parts[0].element, path, delta)
                continue
            self.containers.setdefault(els[xs[-1]].end - 1 + delta, []).append(path)
            for part in parts:
                self.place(part.element, f"{path}.{part.name}", delta)

    def merge_names(self, i: int, run: _Run) -> None:
        """Names within the branches of a repeated merge, and every copy's full names."""
        item, els = self.items[i], self.els
        assert run.branches is not None
        parts = [
            _items(self.flat, [els[x] for x in chain], [self.wanted(run, x) for x in chain])
            for chain in run.branches
        ]
        self.items[i] = item._replace(branches=parts)
        join = els[run.start + run.period - 1].start
        for k, delta in enumerate(self.copies(run)):
            self.full[join + delta] = f"{item.name}.{k}"
            for b, chain_items in enumerate(parts):
                for part in chain_items:
                    self.place(part.element, f"{item.name}.{k}.{b}.{part.name}", delta)

    def ref(self, q: int, p: int | None = None) -> str:
        """How node ``p`` (or the top level) names node ``q``: by the outermost call or
        iteration ``q`` is the output of that does not hold ``p``, else by its full name;
        relative to the innermost scope of ``p`` that holds it, as the reader looks up."""
        scope = "" if p is None else self.full[p].rpartition(".")[0]
        target = self.full[q]
        for outer in self.containers.get(q, []):
            if not f"{scope}.".startswith(f"{outer}."):
                target = outer
                break
        while scope and not target.startswith(f"{scope}."):
            scope = scope.rpartition(".")[0]
        return target[len(scope) + 1 :] if scope else target

    def text(self) -> str:
        net, flat, expect = self.net, self.flat, self.expect
        layout = net.layout
        lines = [_comment(f"Written by cnncalc convert from {net.source}.")]
        lines.append(f"name: {_scalar(net.name)}")
        for key in ("description", "task", "origin"):
            if getattr(net, key):
                lines.append(f"{key}: {_scalar(getattr(net, key))}")
        lines.append(f"input: {format_shape(net.input, layout)}")
        if layout != "hwc":
            lines.append(f"layout: {layout}")
        if self.blocks:
            lines.append("blocks:")
            for block in self.blocks.values():
                lines += self.definition(block)
        lines.append("layers:")
        if flat.shift:
            lines.append("  # the network's input, named for the layers that read it")
        for item in self.items:
            if item.run is None:
                lines += self.element(item, "  ")
            else:
                lines += self.repeat(item, item.run)
        if flat.output != len(flat) - 1:
            lines.append(f"  - from {self.ref(flat.output)}")
        if lines[-1] == "layers:":  # a network that is its input (a Caffe net of an Input)
            lines[-1] = "layers: []"
        outputs = list(dict.fromkeys(self.ref(q) for q in flat.outputs))
        if outputs:
            lines.append(f"outputs: [{', '.join(outputs)}]")
        lines.append("expect:")
        if outputs:
            shapes = [format_shape(s, layout) for s, _ in expect.outputs.values()]
            pairs = ", ".join(f"{n}: {s}" for n, s in zip(outputs, shapes))
            lines.append(f"  output: {{{pairs}}}")
        elif expect.output is not None:
            lines.append(f"  output: {format_shape(expect.output[0], layout)}")
        for what, count in (("params", expect.params), ("macs", expect.macs)):
            if count is not None:
                lines.append(f"  {what}: {count[0]}")
        named = {
            self.ref(flat.known[name]): shape
            for name, (shape, _) in expect.shapes.items()
            if name in flat.known
        }
        if named:
            lines.append("  shapes:")
            lines += [f"    {n}: {format_shape(s, layout)}" for n, s in named.items()]
        self.written = Expectations(
            expect.output,
            expect.params,
            expect.macs,
            {n: (s, NOWHERE) for n, s in named.items()},
            dict(zip(outputs, expect.outputs.values())),
        )
        return "\n".join(lines) + "\n"

    def definition(self, block: _Block) -> list[str]:
        """A block's lines under ``blocks:``: its arguments, then its first unit's layers
        with the arguments in the places they fill."""
        args = ", ".join(
            f"{a}: {'null' if v is None else json.dumps(v) if isinstance(v, str) else v}"
            for a, v in block.args.items()
        )
        lines = [f"  {block.name}:", f"    args: {{{args}}}", "    layers:"]
        for part in self.inner[block.name]:
            offset = part.element.start - block.start
            slots = {key: v for (o, key), v in block.slots.items() if o == offset}
            lines += self.node(part, "      ", slots=slots)
        return lines

    def repeat(self, item: _Item, run: _Run) -> list[str]:
        """A repeat's lines: a comment naming the nodes it covers, its list or merge."""
        flat, els = self.flat, self.els
        names = flat.names
        starts = [names[els[run.start + k * run.period].start] for k in range(run.times)]
        last = names[els[run.start + run.period * run.times - 1].end - 1]
        size = els[run.start + run.period - 1].end - els[run.start].start
        shown = [*starts[:2], "...", starts[-1]] if len(starts) > 3 else starts
        lines = [
            "  "
            + _comment(
                f"{run.times} x {size} layers: {starts[0]} .. {last} "
                f"(copies from {', '.join(map(str, shown))})"
            ),
            f"  - repeat: {run.times}",
            f"    name: {item.name}",
            "    layers:",
        ]
        if run.branches is None:
            for part in item.body:
                lines += self.element(part, "      ")
            return lines
        join = els[run.start + run.period - 1].start
        lines.append(f"      - {flat.layers[join].kind}:")
        for chain in item.branches:
            if not chain:
                lines.append("          - []")
                continue
            lines.append("          -")
            previous = els[run.start].start - 1
            for part in chain:
                lines += self.element(part, "            ", previous)
                previous = part.element.end - 1
        return lines + [f"        {k}: {_mapped(v)}" for k, v in self.values(join).items()]

    def element(self, item: _Item, indent: str, previous: int | None = None) -> list[str]:
        """A node's or a call's lines; ``previous``: the position it follows, if not the one
        before."""
        el = item.element
        if el.block is None:
            return self.node(item, indent, previous)
        block = self.blocks[el.block]
        values = [_inline_value(v) for _, v in el.args]
        if len(block.args) == 1:
            words = [el.block, *values]
        else:
            words = [el.block, *(f"{a}={v}" for (a, _), v in zip(el.args, values))]
        name = "" if item.auto else f" name={item.name}"
        return [f"{indent}- {' '.join(map(str, words))}{name}"]

    def node(
        self,
        item: _Item,
        indent: str,
        previous: int | None = None,
        slots: dict[str, Any] | None = None,
    ) -> list[str]:
        """A node's lines; ``previous``: the position it follows, if not the one before;
        ``slots``: the values a block's definition fills with its arguments."""
        p, flat = item.element.start, self.flat
        previous = p - 1 if previous is None else previous
        layer = flat.layers[p]
        lines = []
        name = "" if item.auto else item.name
        values = self.values(p, slots)
        if layer.joins:  # its parameters beside its branches
            branches = ", ".join(f"from {self.ref(q, p)}" for q in flat.inputs[p])
            lines.append(f"{indent}- {item.word}: [{branches}]")
            lines += [f"{indent}  {key}: {_mapped(value)}" for key, value in values.items()]
            if name:
                lines.append(f"{indent}  name: {name}")
            return lines
        if flat.inputs[p][0] != previous:
            lines.append(f"{indent}- from {self.ref(flat.inputs[p][0], p)}")
        marks = {"frozen": "true"} if flat.frozen[p] else {}
        owner = flat.shares[p]
        if owner is not None:
            marks["shares"] = self.ref(owner, p)
        inline = _inline(layer, item.word, values)
        if inline is not None:
            written = "".join(f" {key}={value}" for key, value in marks.items())
            lines.append(f"{indent}- {inline}{f' name={name}' if name else ''}{written}")
            return lines
        pairs = ", ".join(f"{key}: {_mapped(value)}" for key, value in values.items())
        lines.append(f"{indent}- {item.word}: {{{pairs}}}")
        if name:
            lines.append(f"{indent}  name: {name}")
        lines += [f"{indent}  {key}: {value}" for key, value in marks.items()]
        return lines

    def values(self, p: int, slots: dict[str, Any] | None = None) -> dict[str, Any]:
        """Node ``p``'s parameters to write: those away from their defaults, references by
        name, and the ``slots`` a block's definition fills with its arguments."""
        layer, refs, slots = self.flat.layers[p], self.flat.refs[p], slots or {}
        return {
            key: slots[key]
            if isinstance(slots.get(key), _Arg)
            else self.ref(refs[key], p)
            if key in refs
            else getattr(layer, key)
            for key, parameter in layer.parameters.items()
            if isinstance(slots.get(key), _Arg) or getattr(layer, key) != parameter.default
        }


def _values(expect: Expectations) -> tuple[Any, ...]:
    """Expectations without the places they are written."""
    return (
        *(None if v is None else v[0] for v in (expect.output, expect.params, expect.macs)),
        {n: s for n, (s, _) in expect.shapes.items()},
        {n: s for n, (s, _) in expect.outputs.items()},
    )


def _mapped(value: Any) -> str:
    """A parameter value as a mapping writes it: an argument by its name, else as JSON."""
    return value if isinstance(value, _Arg) else json.dumps(value)


def _inline_value(value: Any) -> str | None:
    """A parameter value as the inline form writes it, or None when it cannot."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        ok = (WORD.fullmatch(value) or PATH.fullmatch(value)) and value.lower() not in NOT_TEXT
        return value if ok else None
    if isinstance(value, tuple) and len(value) > 1 or value and isinstance(value[0], tuple):
        parts = [
            f"{v[0]}:{v[1]}" if isinstance(v, tuple) else str(v) if isinstance(v, int) else None
            for v in value
        ]
        return None if None in parts else "x".join(parts)  # type: ignore[arg-type]
    return None


def _inline(layer: Layer, word: str, values: dict[str, Any]) -> str | None:
    """``conv 64 f3 s2 p1 nobias``: the layer in the inline form, or None when a value
    cannot be written so."""
    tokens = [word]
    primary = layer.primary
    if "f" in layer.parameters and "f" not in values:
        values = {"f": layer.parameters["f"].default, **values}  # the kernel, always said
    for key, value in values.items():
        if isinstance(value, _Arg):
            tokens.insert(1, value) if key == primary else tokens.append(
                f"{_SHORT.get(key, key)}={value}"
            )
            continue
        written = _inline_value(value)
        if written is None:
            return None
        bare = [w for w, setting in layer.words.items() if setting == (key, value)]
        if bare and words().get(bare[0]) == (key, value):
            tokens.append(bare[0])
        elif key == primary and not isinstance(value, (str, bool)):
            tokens.insert(1, written)
        elif key in _SHORT and written[0].isdigit():
            tokens.append(f"{_SHORT[key]}{written}")
        else:
            tokens.append(f"{key}={written}")
    return " ".join(tokens)


def _comment(text: str) -> str:
    """A YAML comment that says ``text`` on its one line: a line break (``\\n``, ``\\r``,
    U+2028...) or any other character that is not printable is written as its escape, so
    that nothing a file's or a layer's name holds can end the comment and begin a key."""
    return "# " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _scalar(text: str) -> str:
    """A YAML scalar that reads back as this very text."""
    if _PLAIN.fullmatch(text) and text.lower() not in NOT_TEXT and text == text.strip():
        return text
    return json.dumps(text)


def _verify(flat: _Flat, text: str, net: Network, expect: Expectations) -> None:
    """Read the written spec back; refuse it unless it is the whole of what was meant: the
    same name, description, input, layout and expectations, and every node the same layer
    reading the same nodes, with the same outputs."""
    from cnncalc.formats.spec import load_spec

    try:
        read = load_spec(text, "<converted>")
    except SpecError as e:
        raise UsageError(f"convert: the written spec does not read back: {e}") from None
    for what in ("name", "description", "task", "origin", "input", "layout"):
        if getattr(read, what) != getattr(net, what):
            said = f"{getattr(read, what)!r:.80} for {getattr(net, what)!r:.80}"
            raise UsageError(f"convert: the written spec's {what} reads back as {said}")
    if _values(read.expect) != _values(expect):
        raise UsageError("convert: the written spec's expectations do not read back the same")
    back = _Flat(read.graph)
    for p in range(min(len(flat), len(back))):
        if flat.signature(p) != back.signature(p):
            raise UsageError(
                f"convert: layer {flat.names[p]!r} ({flat.layers[p]!r:.200}) cannot be written "
                f"as a spec (it reads back as {back.layers[p]!r:.200})"
            )
    if len(flat) != len(back) or (flat.output, flat.outputs) != (back.output, back.outputs):
        raise UsageError("convert: the written spec does not read back as the same graph")
