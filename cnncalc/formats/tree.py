"""The tree the spec file and inline front ends build (sequences, parallel branches with a
merge, repetition, references), and :func:`lower`, which turns it into the network's graph.

Tree nodes carry a local name and the source position they came from; lowering gives every
graph node its full hierarchical name (``layer3.12.conv2``) and resolves references by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, NoReturn

from cnncalc.core.positions import Pos
from cnncalc.formats.kit import did_you_mean
from cnncalc.graph import INPUT, Dag, DagBuilder, DagNode, new_node, without_gc_pauses
from cnncalc.kinds import REGISTRY, Layer


class LayerNode(NamedTuple):
    name: str
    pos: Pos
    layer: Layer
    shares: str = ""
    """The name, as written, of the layer whose weights this one applies again."""
    frozen: bool = False
    passed: tuple[tuple[str, Pos], ...] = ()
    """The references (``crop to=skip``) a block's argument gave, each with where the call
    wrote it: a name that is not there is the call's mistake, not the body's."""


class Sequence(NamedTuple):
    """Items applied one after another; ``kind`` is the block name for a block call."""

    name: str
    pos: Pos
    items: list[Node]
    kind: str = "sequence"
    shares: str = ""
    """The name, as written, of an earlier container of the same layout (a call of the same
    block): each layer inside applies the weights of the layer at the same place in it."""
    frozen: bool = False
    """Every layer inside is frozen."""


class Merge(NamedTuple):
    """Parallel branches from the same input, joined by ``join``: a layer of a joining kind,
    with its parameters (concat's ``axis``)."""

    name: str
    pos: Pos
    join: Layer
    branches: list[Sequence]
    shares: str = ""
    frozen: bool = False


class Repeat(NamedTuple):
    """``times`` copies of a body; a body that does not depend on the iteration is stored once."""

    name: str
    pos: Pos
    times: int
    bodies: list[Sequence]
    shares: str = ""
    frozen: bool = False

    def body(self, i: int) -> Sequence:
        return self.bodies[0] if len(self.bodies) == 1 else self.bodies[i]


class Ref(NamedTuple):
    """Continue from the output of an earlier named node (a skip connection)."""

    name: str
    pos: Pos
    target: str
    passed: Pos | None = None
    """Where a block's call wrote the target, when an argument gave it (``from skip``)."""


Node = LayerNode | Sequence | Merge | Repeat | Ref
"""Every node has a local name and the source position it was written at.

Nodes are named tuples, not dataclasses: a zoo network's trace starts in ~120 ms, and
generating dataclass methods for these classes alone took 4 ms of it."""


class _Lowering(DagBuilder):
    """A tree's nodes in the order the tree runs them, references resolved where written.

    A name is defined once its node or container is complete, so a reference sees exactly
    the names before it, innermost scope first. The first reference that resolves to nothing
    becomes a failing node, and lowering stops there: tracing cannot go past it."""

    def __init__(self) -> None:
        super().__init__()
        self.sharing: list[tuple[str, str]] = []
        """The containers being lowered that share an earlier one's weights: (the full name
        of the container, the full name of the one whose weights it applies), innermost last."""
        self.frozen = 0
        """How many of the containers being lowered are frozen."""
        self.index: dict[str, DagNode] = {}
        """The nodes by name, filled as sharing needs them (see :meth:`node`)."""
        self.indexed = 0
        self.calls: list[str] = []
        """The block calls being lowered, innermost last."""

    def fail(self, name: str, pos: Pos, layer: Layer, x: str, message: str, kind: str) -> NoReturn:
        self.add(name, pos, layer, (x,), failure=message, kind=kind)
        raise _Stop

    def walk_as(self, node: Node, x: str, path: str) -> str:
        """Lower ``node`` under the full name ``path`` from the value named ``x``."""
        if not isinstance(node, (LayerNode, Ref)) and (node.shares or node.frozen):
            return self.marked(node, x, path)
        if isinstance(node, LayerNode):
            y = self.layer(node, x, path)
        elif isinstance(node, Sequence):
            self.group(path, node.kind)
            call = node.kind != "sequence"
            if call:
                self.calls.append(path)
            y = self.items(node.items, x, path)
            if call:
                self.calls.pop()
        elif isinstance(node, Repeat):
            self.group(path, "repeat")
            y = x
            for i in range(node.times):
                # A one-item body is named by the iteration alone: layer3.12, not layer3.12.block
                body = node.body(i).items
                if len(body) == 1:
                    y = self.walk_as(body[0], y, f"{path}.{i}")
                else:
                    y = self.items(body, y, f"{path}.{i}")
        elif isinstance(node, Merge):
            self.group(path, node.join.kind)
            y = self.merge(node, x, path)
        elif isinstance(node, Ref):
            found = self.lookup(node.target, path)
            if found is None:
                at, why = self.missing(node.target, node.pos, node.passed)
                self.fail(path, at, _REF, x, why, "ref")
            y = found
        else:  # pragma: no cover - the tree has no other node types
            raise TypeError(node)
        self.alias(path, y)
        return y

    def marked(self, node: Sequence | Merge | Repeat, x: str, path: str) -> str:
        """A container that shares an earlier one's weights or is frozen, lowered with every
        layer inside marked so."""
        if node.shares:
            target = self.lookup(node.shares, path)
            if target is None:
                self.fail(path, node.pos, _REF, x, f"shares: {self.unknown(node.shares)}", "ref")
            self.sharing.append((path, target))
        self.frozen += node.frozen
        try:
            return self.walk_as(node._replace(shares="", frozen=False), x, path)
        finally:
            self.frozen -= node.frozen
            if node.shares:
                self.sharing.pop()

    def node(self, name: str) -> DagNode | None:
        """The node named ``name`` (a full name), if there is one."""
        index = self.index
        if self.indexed < len(self.nodes):
            index.update((n.name, n) for n in self.nodes[self.indexed :])
            self.indexed = len(self.nodes)
        return index.get(name)

    def owner(self, node: LayerNode, x: str, path: str) -> str:
        """The full name of the node whose weights the layer at ``path`` applies: its own
        ``shares``, else the same place in the container it is inside that shares; "" for
        none. Always a node that owns its weights (a chain is followed to its start)."""
        if node.shares:
            written, target = node.shares, self.lookup(node.shares, path)
            if target is None:
                self.fail(path, node.pos, node.layer, x, f"shares: {self.unknown(written)}", "")
        else:
            for container, other in reversed(self.sharing):
                if path.startswith(container + "."):
                    written = target = other + path[len(container) :]
                    break
            else:
                return ""
        found = self.node(self.defined.get(target, target))  # a name for a layer's output
        if found is None or found.failure is not None:
            message = f"shares: {written!r} is not a layer whose weights can be applied again"
            if not node.shares:
                message = f"shares: {target!r}, its counterpart in the shared one, is no layer"
            self.fail(path, node.pos, node.layer, x, message, "")
        if found.layer.kind != node.layer.kind:
            message = (
                f"shares: {found.name} is a {found.layer.kind}, and a {node.layer.kind} "
                "cannot apply its weights"
            )
            self.fail(path, node.pos, node.layer, x, message, "")
        return found.shares or found.name

    def items(self, items: list[Node], x: str, path: str) -> str:
        prefix = f"{path}." if path else ""
        add, defined = self.nodes.append, self.defined
        plain = not self.sharing and not self.frozen
        for item in items:
            if (
                type(item) is LayerNode
                and plain
                and not item.layer.references
                and not item.shares
                and not item.frozen
            ):
                # the common case, inline: this runs once per layer, 100k times for big specs
                name = prefix + item.name
                node = (name, item.pos, item.layer, (x,), (), (), None, None, "", "", False)
                add(new_node(DagNode, node))
                x = defined[name] = name
            elif type(item) is LayerNode:
                x = self.layer(item, x, prefix + item.name)
            else:
                x = self.walk_as(item, x, prefix + item.name)
        if path:
            self.alias(path, x)
        return x

    def layer(self, node: LayerNode, x: str, path: str) -> str:
        """A layer node, with the names its parameters refer to resolved from here."""
        layer = node.layer
        refs = []
        for ref in layer.references:
            target = getattr(layer, ref)
            if target is None:
                continue
            full = self.lookup(target, path)
            if full is None:
                at, why = self.missing(target, node.pos, dict(node.passed).get(ref))
                self.fail(path, at, layer, x, f"{layer.kind}: {ref}: {why}", layer.kind)
            refs.append((target, full))
        owner = self.owner(node, x, path) if node.shares or self.sharing else ""
        frozen = node.frozen or self.frozen > 0
        return self.add(path, node.pos, layer, (x,), tuple(refs), shares=owner, frozen=frozen)

    def merge(self, node: Merge, x: str, path: str) -> str:
        labels, inputs = [], []
        for i, branch in enumerate(node.branches):
            label = f"{path}.{branch.name or i}"
            labels.append(label)
            inputs.append(self.items(branch.items, x, label))
        return self.add(path, node.pos, node.join, tuple(inputs), labels=tuple(labels), entry=x)

    def lookup(self, name: str, path: str) -> str | None:
        """The full name ``name`` means when written at ``path``: names are lexically scoped,
        so ``input`` inside block call ``layer3.12`` is ``layer3.12.input`` if that exists,
        else ``layer3.input``, else ``input`` (innermost first). None when nothing matches."""
        scope = path.rpartition(".")[0]
        while True:
            full = f"{scope}.{name}" if scope else name
            if full in self.defined:
                return full
            if not scope:
                return None
            scope = scope.rpartition(".")[0]

    def unknown(self, name: str, known: Iterable[str] | None = None) -> str:
        hint = did_you_mean(name, self.defined if known is None else known)
        return f"no layer named {name!r} is defined before here{hint}"

    def missing(self, name: str, pos: Pos, passed: Pos | None) -> tuple[Pos, str]:
        """Where a name that names nothing is blamed, and why: at the call that passed it as a
        block's argument, with the names written there in mind; else where it is written."""
        if passed is None or not self.calls:
            return pos, self.unknown(name)
        return passed, self.unknown(name, self.visible(self.calls[-1].rpartition(".")[0]))

    def visible(self, scope: str) -> set[str]:
        """The names a reference written in ``scope`` can use, as it would write them."""
        names = set(self.defined)
        while scope:
            names.update(f[len(scope) + 1 :] for f in self.defined if f.startswith(scope + "."))
            scope = scope.rpartition(".")[0]
        return names


class _Stop(Exception):
    """Lowering reached a reference to nothing; the failing node is the last one."""


_REF = REGISTRY["identity"]()
"""The layer of a node standing for a failed ``from``: it never runs."""


def lower(body: Sequence, outputs: tuple[tuple[str, Pos], ...] = ()) -> Dag:
    """The graph of a tree, node by node; ``outputs`` are the named layers whose outputs are
    the network's (detection heads), when it has several."""
    lowering = _Lowering()
    output = None
    with without_gc_pauses():
        try:
            output = lowering.items(body.items, INPUT, "")
        except _Stop:
            pass
        else:
            for name, pos in outputs:
                full = lowering.lookup(name, "")
                message = "" if full is not None else f"outputs: {lowering.unknown(name)}"
                lowering.output(name, pos, full, message)
    return lowering.build(output)
