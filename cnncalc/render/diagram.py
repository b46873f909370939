"""Diagrams of a traced network: Mermaid flowcharts and Graphviz DOT graphs.

One node per row of the trace, or per block folded at a depth as
:func:`cnncalc.analysis.tracer.fold` folds rows; each edge labelled with the shape flowing
along it; every branch of a merge feeding the merge; a ``from`` reference continuing from the
layer it names; blocks and repeats drawn as nested subgraphs. The drawing is built as data
first (:func:`build_diagram`), then written in either language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from cnncalc.analysis.tracer import Row, Trace, fold
from cnncalc.core.errors import UsageError
from cnncalc.core.notation import format_shape
from cnncalc.core.shapes import Shape
from cnncalc.graph import is_merge
from cnncalc.render.text import shown


class Node(NamedTuple):
    """One box: a row, a block folded at the depth drawn, or the network's input or output."""

    id: str
    name: str
    """The full name (``layer1.0.conv1``), or ``input`` and ``output`` for the two ends."""
    label: str
    """The name within the enclosing subgraph: ``conv1`` inside ``layer1.0``."""
    kind: str
    """Layer kind, block name or merge; empty for the two ends."""
    failed: bool = False


class Edge(NamedTuple):
    """An arrow between two node ids."""

    source: str
    target: str
    shape: Shape
    """The tensor flowing from node ``source`` to node ``target``."""


@dataclass
class Group:
    """A block call, repeat or repeat iteration, drawn around its members."""

    id: str
    name: str
    label: str
    """The name within the enclosing subgraph, as for nodes."""
    kind: str
    members: list[Node | Group] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.label} ({self.kind})" if self.kind else self.label


@dataclass
class Diagram:
    """What both languages draw: nested nodes and groups, then the edges between nodes."""

    title: str
    members: list[Node | Group]
    edges: list[Edge]


_INPUT = ""
"""The network's input as the source of an edge: no row has an empty name."""


class _Nesting:
    """Subgraphs: every container of rows (block call, repeat, iteration) that is not itself
    a node is drawn around its members, except merge branches, which the edges into their
    merge already show. A name is placed in its nearest drawn container."""

    def __init__(self, nodes: dict[str, Row], kinds: dict[str, str]):
        self.nodes = nodes
        self.kinds = kinds
        self.top: list[Node | Group] = []
        self.groups: dict[str, Group] = {}

    def place(self, name: str) -> tuple[list[Node | Group], str]:
        """The members list ``name`` belongs to, and its name there."""
        parts = name.split(".")
        for k in range(len(parts) - 1, 0, -1):
            outer = ".".join(parts[:k])
            if outer not in self.nodes and not is_merge(
                self.kinds.get(".".join(parts[: k - 1]), "")
            ):
                return self.group(outer).members, ".".join(parts[k:])
        return self.top, name

    def group(self, name: str) -> Group:
        if name not in self.groups:
            members, label = self.place(name)
            self.groups[name] = Group(
                f"g{len(self.groups) + 1}", name, label, self.kinds.get(name, "")
            )
            members.append(self.groups[name])
        return self.groups[name]


def build_diagram(trace: Trace, depth: int | None = None) -> Diagram:
    """Nodes, subgraphs and shape-labelled edges of ``trace``; with ``depth``, the rows nested
    deeper than ``depth`` name parts are folded into one node per block, as in ``fold``."""
    if depth is not None and depth < 1:
        raise UsageError(f"depth must be at least 1, not {depth}")

    def shown(name: str) -> str:
        return name if depth is None else ".".join(name.split(".")[:depth])

    rows = trace.rows if depth is None else fold(trace, depth)
    first_rows: dict[str, Row] = {}
    for row in rows:  # a folded merge has two rows: its branches', then its own
        first_rows.setdefault(row.name, row)
    failed = {row.name for row in rows if row.error}

    nesting = _Nesting(first_rows, trace.groups)
    nesting.top.append(Node("n0", "input", "input", ""))
    ids = {_INPUT: "n0"}
    for i, (name, row) in enumerate(first_rows.items(), 1):
        ids[name] = f"n{i}"
        members, label = nesting.place(name)
        members.append(Node(ids[name], name, label, row.kind, name in failed))

    outputs = {row.name: row.output for row in trace.rows}
    outputs[_INPUT] = trace.network.input
    edges = [  # what each row consumes, from its folded node; none inside one folded node
        Edge(ids[shown(source)], ids[shown(row.name)], outputs[source])
        for row in trace.rows
        for source in row.sources
        if shown(source) != shown(row.name)
    ]
    if trace.output is not None:  # the trace did not stop at an error
        output = Node(f"n{len(ids)}", "output", "output", "")
        nesting.top.append(output)
        edges.append(Edge(ids[shown(trace.output_source)], output.id, trace.output))
        for name, source in trace.output_sources.items():  # each head of several
            edges.append(Edge(ids[shown(source)], output.id, trace.outputs[name]))
    return Diagram(trace.network.name, nesting.top, list(dict.fromkeys(edges)))


class _Syntax(NamedTuple):
    """How one language writes the parts of a diagram."""

    node: Callable[[Node], str]
    open_group: Callable[[Group], list[str]]
    close_group: str


def _members(members: list[Node | Group], syntax: _Syntax, level: int = 1) -> Iterator[str]:
    indent = "  " * level
    for member in members:
        if isinstance(member, Group):
            yield from (indent + line for line in syntax.open_group(member))
            yield from _members(member.members, syntax, level + 1)
            yield indent + syntax.close_group
        else:
            yield indent + syntax.node(member)


def _role(node: Node) -> str:
    return "terminal" if not node.kind else "merge" if is_merge(node.kind) else "layer"


def _lines(node: Node) -> list[str]:
    return [node.label, node.kind] if node.kind else [node.label]


_MERMAID_ESCAPES = {c: f"#{ord(c)};" for c in '"#&<>`'}
"""Characters Mermaid would read as syntax or markup, written as its entity codes."""
_MERMAID_SHAPES = {"terminal": ('(["', '"])'), "merge": ('{{"', '"}}'), "layer": ('["', '"]')}


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in shown(text))


def mermaid(trace: Trace, depth: int | None = None, layout: str = "hwc") -> str:
    """A Mermaid flowchart of ``trace`` (for Markdown on GitHub, GitLab, docs sites)."""
    diagram = build_diagram(trace, depth)

    def node(n: Node) -> str:
        opening, closing = _MERMAID_SHAPES[_role(n)]
        text = "<br/>".join(map(_mermaid_text, _lines(n)))
        return f"{n.id}{opening}{text}{closing}{':::failed' if n.failed else ''}"

    def open_group(g: Group) -> list[str]:
        return [f'subgraph {g.id} ["{_mermaid_text(g.title)}"]']

    lines = [
        "flowchart TB",
        "  classDef failed stroke:#c00,stroke-width:3px",
        *_members(diagram.members, _Syntax(node, open_group, "end")),
    ]
    lines += [
        f"  {e.source} -->|{format_shape(e.shape, layout)}| {e.target}" for e in diagram.edges
    ]
    return "\n".join(lines) + "\n"


_DOT_SHAPES = {"terminal": "oval", "merge": "hexagon", "layer": "box"}


def _dot_text(text: str) -> str:
    return shown(text).replace("\\", "\\\\").replace('"', '\\"')


def dot(trace: Trace, depth: int | None = None, layout: str = "hwc") -> str:
    """A Graphviz DOT graph of ``trace`` (``dot -Tsvg``), blocks as clusters."""
    diagram = build_diagram(trace, depth)

    def node(n: Node) -> str:
        label = "\\n".join(map(_dot_text, _lines(n)))
        failed = ", color=red, penwidth=2" if n.failed else ""
        return f'{n.id} [label="{label}", shape={_DOT_SHAPES[_role(n)]}{failed}];'

    def open_group(g: Group) -> list[str]:
        return [f"subgraph cluster_{g.id} {{", f'  label="{_dot_text(g.title)}";']

    lines = [
        f'digraph "{_dot_text(diagram.title)}" {{',
        "  graph [fontname=Helvetica];",
        "  node [fontname=Helvetica];",
        "  edge [fontname=Helvetica, fontsize=10];",
        *_members(diagram.members, _Syntax(node, open_group, "}")),
    ]
    lines += [
        f'  {e.source} -> {e.target} [label="{format_shape(e.shape, layout)}"];'
        for e in diagram.edges
    ]
    return "\n".join([*lines, "}"]) + "\n"
