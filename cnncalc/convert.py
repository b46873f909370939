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
from typing import Any, NamedTuple

from .errors import SpecError, UsageError
from .graph import INPUT, Dag, Network, lower
from .layers import ALIASES, REGISTRY, Layer
from .notation import format_shape

TARGETS = ("yaml",)
"""The languages ``convert`` writes."""

MAX_PERIOD = 200
"""The most nodes in one repeated unit that are looked for (a ResNet block has about 12)."""
MIN_SAVED = 4
"""A repeat is written only when it saves at least this many items (its header costs 3)."""

_VALID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_RESERVED = re.compile(r"from\d+")
"""Names the reader gives ``from`` items: a layer named so would clash with them."""
_WORD = re.compile(r"[A-Za-z_][\w-]*(\.[\w-]+)*")
_PLAIN = re.compile(r"[A-Za-z_][\w .,()/+-]*")
_BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off", "null"}
_SHORT = {"f": "f", "stride": "s", "pad": "p", "dilation": "d", "groups": "g"}


def convert(net: Network, to: str = "yaml") -> str:
    """The network as spec text in the language ``to`` (one of TARGETS).

    Refuses a network that does not trace (SpecError with the located problem), and a layer
    or value the spec language cannot say (UsageError naming the node).

    >>> from cnncalc.api import load
    >>> print(convert(load("8x8x3 | conv 4 f3 p1 | relu")), end="")
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
    from .tracer import trace

    if to not in TARGETS:
        raise UsageError(f"convert: cannot write {to!r:.40} (only {', '.join(TARGETS)})")
    t = trace(net)
    if t.errors:
        raise SpecError(t.errors, net.source, net.text)
    flat = _Flat(lower(net))
    text = _Writer(net, flat, t).text()
    _verify(flat, text)
    return text


class _Flat:
    """The graph as positions: each node's inputs and referenced layers by position, the
    network's input as -1 (or a leading identity, when a node other than the first reads it)."""

    def __init__(self, dag: Dag) -> None:
        nodes = dag.nodes
        self.names: list[str | None] = [n.name for n in nodes]
        self.layers: list[Layer] = [n.layer for n in nodes]
        self.inputs: list[tuple[int, ...]] = []
        self.refs: list[dict[str, int]] = []
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
            known[node.name] = i
        while ready >= 0:
            known[name] = known[target]
            ready, name, target = next(aliases, (-1, "", ""))
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
            self.output += 1
            self.outputs = [q + 1 for q in self.outputs]
        self.shift = len(self.names) - len(nodes)
        """1 when a leading identity names the input, else 0."""

    def __len__(self) -> int:
        return len(self.layers)

    def signature(self, p: int) -> tuple[Any, ...]:
        """What must be equal for two nodes to be written alike: the layer (references left
        out) and where its inputs are, relative to it."""
        layer = self.layers[p]
        blank = {r: None for r in layer.references if getattr(layer, r) is not None}
        return (
            layer.replace(**blank) if blank else layer,
            tuple(p - q for q in self.inputs[p]),
            tuple((r, p - q) for r, q in self.refs[p].items()),
        )

    def reach(self, p: int) -> int:
        """The earliest position node ``p`` reads."""
        return min([*self.inputs[p], *self.refs[p].values()])

    def branches(self, w: int, period: int) -> list[list[int]] | None:
        """The nodes ``w``... as the branches of a merge joined by its last node, when they
        are that: chains, each from the item before ``w``, ending in the join's inputs in
        order (an empty branch for the item before ``w`` itself). Else None."""
        join = w + period - 1
        if not self.layers[join].joins:
            return None
        chains: list[list[int]] = []
        for p in range(w, join):
            if not self.layers[p].joins and not self.refs[p] and self.inputs[p] == (w - 1,):
                chains.append([p])
            elif chains and self.implicit(p):
                chains[-1].append(p)
            else:
                return None
        found, rest = [], iter(chains)
        for q in self.inputs[join]:
            chain = [] if q == w - 1 else next(rest, None)
            if chain is None or chain and chain[-1] != q:
                return None
            found.append(chain)
        return found if next(rest, None) is None else None

    def implicit(self, p: int) -> bool:
        """Whether node ``p`` reads only the item before it, so needs no name for it."""
        return not self.layers[p].joins and self.inputs[p] == (p - 1,) and not self.refs[p]


class _Run(NamedTuple):
    """``times`` copies of the ``period`` nodes from ``start``, each a list of items or, with
    ``branches`` (positions in the first copy), a merge."""

    start: int
    period: int
    times: int
    branches: list[list[int]] | None = None


def _runs(flat: _Flat) -> list[_Run]:
    """Runs of consecutive units that are written alike, each reading only itself and the
    item before it, found greedily from the start; single nodes are runs of one."""
    sig = [flat.signature(p) for p in range(len(flat))]
    reach = [flat.reach(p) for p in range(len(flat))]
    n, s, runs = len(flat), 0, []

    def closed(w: int, period: int) -> bool:
        return flat.implicit(w) and all(reach[p] >= w for p in range(w + 1, w + period))

    def unit(w: int, period: int) -> bool:
        return closed(w, period) or flat.branches(w, period) is not None

    while s < n:
        best = _Run(s, 1, 1)
        for period in range(1, min(MAX_PERIOD, (n - s) // 2) + 1):
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
                merge = None if closed(s, period) else flat.branches(s, period)
                best = _Run(s, period, times, merge)
        if (best.times - 1) * best.period < MIN_SAVED:
            best = _Run(s, 1, 1)
        runs.append(best)
        s += best.period * best.times
    return runs


def _valid(name: str | None) -> str | None:
    """A spec name for ``name``: dots and other signs become ``_``, a leading digit gets a
    ``_`` before it, and the reader's own ``from1``... get one after."""
    if not name:
        return None
    name = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if not _VALID.fullmatch(name):
        name = "_" + name
    return name + "_" if _RESERVED.fullmatch(name) else name


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
    """One item of a written list: a node, or a repeat of a run of nodes."""

    name: str
    word: str
    """The kind as written (``bn`` for a layer named ``bn1``), ``repeat`` for a repeat."""
    auto: bool
    """Whether the reader gives this name anyway, so it need not be written."""
    position: int
    run: _Run | None = None
    body: list[_Item] = []
    branches: list[list[_Item]] = []


def _items(flat: _Flat, positions: list[int], wanted: list[str | None], runs: Any) -> list[_Item]:
    """Named items for a list: each its wanted name made unique, or the reader's own
    (``conv3``) when none is wanted; ``runs`` gives the repeats (or None) at each place."""
    used: set[str] = set()
    counts: dict[str, int] = {}
    items = []
    for p, want, run in zip(positions, wanted, runs):
        layer = flat.layers[p]
        if run is not None:
            word = "repeat"
        else:
            stem = re.search(r"[A-Za-z]*(?=\d*$)", want or "")
            alias = stem.group() if stem else ""
            word = alias if ALIASES.get(alias) == layer.kind else layer.kind
        counts[word] = counts.get(word, 0) + 1
        auto = f"{word}{counts[word]}"
        name = _unique(want or auto, used)
        items.append(_Item(name, word, name == auto and run is None, p, run))
    return items


class _Writer:
    """The spec's text: header, items, expectations."""

    def __init__(self, net: Network, flat: _Flat, t: Any) -> None:
        self.net, self.flat, self.trace = net, flat, t
        self.full: dict[int, str] = {}
        """Each position's name as a reference from the top level."""
        self.local: dict[int, tuple[_Run, int, str]] = {}
        """Each position inside a repeat: its run, iteration and name within the body."""
        runs = _runs(flat)
        wanted: list[str | None] = []
        for run in runs:
            if run.times == 1:
                wanted.append(_valid(flat.names[run.start]) or "input")
            else:
                covered = flat.names[run.start : run.start + run.period * run.times]
                prefix = _common([n for n in covered if n is not None], suffix=False)
                wanted.append(_valid(prefix) or "repeat")
        self.items = _items(
            flat, [r.start for r in runs], wanted, [r if r.times > 1 else None for r in runs]
        )
        for i, (item, run) in enumerate(zip(self.items, runs)):
            if run.times == 1:
                self.full[run.start] = item.name
                continue
            if run.branches is not None:
                self.merge_names(i, run)
                continue
            body = []
            for j in range(run.period):
                names = [flat.names[run.start + k * run.period + j] for k in range(run.times)]
                body.append(_local(names))
            positions = list(range(run.start, run.start + run.period))
            parts = _items(flat, positions, body, [None] * len(body))
            self.items[i] = item._replace(body=parts)
            for k in range(run.times):
                for j, part in enumerate(parts):
                    p = run.start + k * run.period + j
                    inner = f".{part.name}" if run.period > 1 else ""
                    self.full[p] = f"{item.name}.{k}{inner}"
                    self.local[p] = (run, k, part.name)

    def merge_names(self, i: int, run: _Run) -> None:
        """Names within the branches of a repeated merge, and every copy's full names."""
        flat, item = self.flat, self.items[i]
        assert run.branches is not None
        parts = []
        for chain in run.branches:
            wanted = []
            for p in chain:
                names = [flat.names[p + k * run.period] for k in range(run.times)]
                wanted.append(_local(names))
            parts.append(_items(flat, chain, wanted, [None] * len(chain)))
        self.items[i] = item._replace(branches=parts)
        for k in range(run.times):
            self.full[run.start + k * run.period + run.period - 1] = f"{item.name}.{k}"
            for b, chain_items in enumerate(parts):
                for part in chain_items:
                    self.full[part.position + k * run.period] = f"{item.name}.{k}.{b}.{part.name}"

    def ref(self, q: int, p: int) -> str:
        """How node ``p`` names node ``q``: by its name within the same iteration of a
        repeat, else by its full name."""
        if q in self.local and p in self.local:
            run, k, name = self.local[q]
            if self.local[p][:2] == (run, k):
                return name
        return self.full[q]

    def text(self) -> str:
        net, flat, t = self.net, self.flat, self.trace
        layout = net.layout
        lines = [f"# Written by cnncalc convert from {net.source}."]
        lines.append(f"name: {_scalar(net.name)}")
        if net.description:
            lines.append(f"description: {_scalar(net.description)}")
        lines.append(f"input: {format_shape(net.input, layout)}")
        if layout != "hwc":
            lines.append(f"layout: {layout}")
        lines.append("layers:")
        if flat.shift:
            lines.append("  # the network's input, named for the layers that read it")
        for item in self.items:
            if item.run is None:
                lines += self.node(item, "  ")
                continue
            run = item.run
            names = flat.names
            starts = [names[run.start + k * run.period] for k in range(run.times)]
            last = names[run.start + run.period * run.times - 1]
            shown = [*starts[:2], "...", starts[-1]] if len(starts) > 3 else starts
            lines.append(
                f"  # {run.times} x {run.period} layers: {starts[0]} .. {last} "
                f"(copies from {', '.join(map(str, shown))})"
            )
            lines.append(f"  - repeat: {run.times}")
            lines.append(f"    name: {item.name}")
            lines.append("    layers:")
            if run.branches is None:
                for part in item.body:
                    lines += self.node(part, "      ")
                continue
            join = flat.layers[run.start + run.period - 1]
            lines.append(f"      - {join.kind}:")
            for chain in item.branches:
                if not chain:
                    lines.append("          - []")
                    continue
                lines.append("          -")
                previous = run.start - 1
                for part in chain:
                    lines += self.node(part, "            ", previous)
                    previous = part.position
        if flat.output != len(flat) - 1:
            lines.append(f"  - from {self.full[flat.output]}")
        outputs = list(dict.fromkeys(self.full[q] for q in flat.outputs))
        if outputs:
            lines.append(f"outputs: [{', '.join(outputs)}]")
        lines.append("expect:")
        if outputs:
            shapes = [format_shape(s, layout) for s in t.outputs.values()]
            pairs = ", ".join(f"{n}: {s}" for n, s in zip(outputs, shapes))
            lines.append(f"  output: {{{pairs}}}")
        elif t.output is not None:
            lines.append(f"  output: {format_shape(t.output, layout)}")
        totals = t.totals()
        lines.append(f"  params: {totals.params}")
        lines.append(f"  macs: {totals.macs}")
        return "\n".join(lines) + "\n"

    def node(self, item: _Item, indent: str, previous: int | None = None) -> list[str]:
        """An item's lines; ``previous``: the position it follows, if not the one before."""
        p, flat = item.position, self.flat
        previous = p - 1 if previous is None else previous
        layer = flat.layers[p]
        lines = []
        name = "" if item.auto else item.name
        if layer.joins:
            branches = ", ".join(f"from {self.ref(q, p)}" for q in flat.inputs[p])
            lines.append(f"{indent}- {item.word}: [{branches}]")
            if name:
                lines.append(f"{indent}  name: {name}")
            return lines
        if flat.inputs[p][0] != previous:
            lines.append(f"{indent}- from {self.ref(flat.inputs[p][0], p)}")
        values = {
            key: self.ref(flat.refs[p][key], p) if key in flat.refs[p] else getattr(layer, key)
            for key, parameter in layer.parameters.items()
            if getattr(layer, key) != parameter.default
        }
        inline = _inline(layer, item.word, values)
        if inline is not None:
            lines.append(f"{indent}- {inline}{f' name={name}' if name else ''}")
            return lines
        pairs = ", ".join(f"{key}: {json.dumps(value)}" for key, value in values.items())
        lines.append(f"{indent}- {item.word}: {{{pairs}}}")
        if name:
            lines.append(f"{indent}  name: {name}")
        return lines


def _inline_value(value: Any) -> str | None:
    """A parameter value as the inline form writes it, or None when it cannot."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        ok = _WORD.fullmatch(value) and value.lower() not in _BOOLEAN_WORDS
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
    from .spec import WORDS

    primary = layer.primary
    if "f" in layer.parameters and "f" not in values:
        values = {"f": layer.parameters["f"].default, **values}  # the kernel, always said
    for key, value in values.items():
        written = _inline_value(value)
        if written is None:
            return None
        bare = [w for w, setting in layer.words.items() if setting == (key, value)]
        if bare and WORDS.get(bare[0]) == (key, value):
            tokens.append(bare[0])
        elif key == primary and not isinstance(value, (str, bool)):
            tokens.insert(1, written)
        elif key in _SHORT and written[0].isdigit():
            tokens.append(f"{_SHORT[key]}{written}")
        else:
            tokens.append(f"{key}={written}")
    return " ".join(tokens)


def _scalar(text: str) -> str:
    """A YAML scalar that reads back as this very text."""
    if _PLAIN.fullmatch(text) and text.lower() not in _BOOLEAN_WORDS and text == text.strip():
        return text
    return json.dumps(text)


def _verify(flat: _Flat, text: str) -> None:
    """Read the written spec back; refuse it unless every node is the same layer reading the
    same nodes, with the same outputs."""
    from .spec import load_spec

    try:
        back = _Flat(lower(load_spec(text, "<converted>")))
    except SpecError as e:
        raise UsageError(f"convert: the written spec does not read back: {e}") from None
    for p in range(min(len(flat), len(back))):
        if flat.signature(p) != back.signature(p):
            raise UsageError(
                f"convert: layer {flat.names[p]!r} ({flat.layers[p]!r:.200}) cannot be written "
                f"as a spec (it reads back as {back.layers[p]!r:.200})"
            )
    if len(flat) != len(back) or (flat.output, flat.outputs) != (back.output, back.outputs):
        raise UsageError("convert: the written spec does not read back as the same graph")
