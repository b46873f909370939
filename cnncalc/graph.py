"""The network as data: a flat graph of nodes that name their inputs (:class:`Dag`), built by
every front end with a :class:`DagBuilder`, and the :class:`Network` that carries it with its
names and expectations."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from cnncalc.core.positions import Pos, Problem
from cnncalc.core.shapes import Shape
from cnncalc.kinds import ALIASES, REGISTRY, Layer


def is_merge(kind: str) -> bool:
    """Whether ``kind`` (or an alias) joins the branches of a merge (concat, add, mul, ...):
    read from the registry each time, so a kind registered after import is one too."""
    cls = REGISTRY.get(ALIASES.get(kind, kind))
    return cls is not None and cls.joins


class Expectations:
    """What ``cnncalc check`` verifies after tracing; each with the position it was written at."""

    __slots__ = ("output", "params", "macs", "shapes", "outputs", "trainable")

    def __init__(
        self,
        output: tuple[Shape, Pos] | None = None,
        params: tuple[int, Pos] | None = None,
        macs: tuple[int, Pos] | None = None,
        shapes: dict[str, tuple[Shape, Pos]] | None = None,
        outputs: dict[str, tuple[Shape, Pos]] | None = None,
        trainable: tuple[int, Pos] | None = None,
    ) -> None:
        self.output = output
        self.params = params
        self.macs = macs
        self.shapes = shapes or {}
        self.outputs = outputs or {}
        """The shape of each named output (``expect: {output: {NAME: SHAPE}}``)."""
        self.trainable = trainable
        """The parameters not frozen; ``params`` is every parameter."""


INPUT = ""
"""The name of the network's input among a graph node's inputs."""


class DagNode(NamedTuple):
    """One operation of the traced graph, reading the outputs of the nodes it names.

    A single-input kind reads ``inputs[0]``; a joining kind (concat, add, ...) combines all
    its inputs. A name in ``inputs`` or ``refs`` is a node's or an alias's full name, or
    :data:`INPUT`."""

    name: str
    pos: Pos
    layer: Layer
    inputs: tuple[str, ...]
    refs: tuple[tuple[str, str], ...] = ()
    """For parameters naming a layer (``crop to=up1``): each name as written, and the full
    name it resolved to, whose shape the layer is bound to."""
    labels: tuple[str, ...] = ()
    """A join's inputs as its row shows them (a merge's branches); default: ``inputs``."""
    entry: str | None = None
    """The value a merge was entered with, which a failing join's row shows; default:
    its first input."""
    failure: str | None = None
    """Why the front end could not build this node (an unknown reference): tracing stops
    here with this message, on a row of this node's kind showing ``inputs[0]``."""
    kind: str = ""
    """The row's kind, when not the layer's (``ref`` for a failed ``from``, ``yolo`` for a
    Darknet head, whose layer is a ``head``)."""
    shares: str = ""
    """The full name of the node whose weights this one applies again (a head run on every
    pyramid level, a Siamese twin): its parameters are counted there, its MACs here. Always
    the first owner, never a node that itself shares."""
    frozen: bool = False
    """Whether this node's parameters are not trained (a pretrained backbone, a fixed conv):
    still parameters, counted apart from the trainable ones."""


class Dag:
    """A network as a graph: nodes in an order where each comes after its inputs.

    ``aliases`` are the other names an output goes by (a block call, a repeat, a merge
    branch, a ``from``), each defined once ``ready`` nodes have been traced, for names and
    shapes as the user wrote them; ``groups`` the kind of each container (block name,
    ``repeat``, the join kind), entered before ``start`` nodes, for folded rows and diagrams;
    ``outputs`` the network's named outputs with the full name each resolved to, or None and
    why not; ``output`` the name of its output (default: the last node's)."""

    __slots__ = ("nodes", "aliases", "groups", "outputs", "output")

    def __init__(
        self,
        nodes: list[DagNode],
        aliases: list[tuple[int, str, str]] | None = None,
        groups: list[tuple[int, str, str]] | None = None,
        outputs: list[tuple[str, Pos, str | None, str]] | None = None,
        output: str | None = None,
    ) -> None:
        self.nodes = nodes
        self.output = output if output is not None else nodes[-1].name if nodes else INPUT
        self.aliases = aliases or []
        """(ready, name, the name whose output it is), in the order they are defined."""
        self.groups = groups or []
        """(start, path, kind), in the order the containers are entered."""
        self.outputs = outputs or []
        """(name, position, full name or None, message when None)."""


new_node = tuple.__new__
"""``new_node(DagNode, fields)``: a node from all its fields at once, without NamedTuple's
keyword handling, for loops that add a node per layer (100k for big specs)."""


class DagBuilder:
    """A :class:`Dag` built as a front end reads its source, each node after its inputs, so
    that every format's nodes, aliases, groups and outputs mean the same."""

    def __init__(self) -> None:
        self.nodes: list[DagNode] = []
        self.defined: dict[str, str] = {}
        """Every name so far, a node's or an alias's, with the node whose output it is."""
        self.aliases: list[tuple[int, str, str]] = []
        self.groups: list[tuple[int, str, str]] = []
        self.outputs: list[tuple[str, Pos, str | None, str]] = []

    def add(
        self,
        name: str,
        pos: Pos,
        layer: Layer,
        inputs: tuple[str, ...],
        refs: tuple[tuple[str, str], ...] = (),
        labels: tuple[str, ...] = (),
        entry: str | None = None,
        failure: str | None = None,
        kind: str = "",
        shares: str = "",
        frozen: bool = False,
    ) -> str:
        """A node reading the outputs ``inputs`` name (see :class:`DagNode`); its name."""
        node = (name, pos, layer, inputs, refs, labels, entry, failure, kind, shares, frozen)
        self.nodes.append(new_node(DagNode, node))
        self.defined[name] = name
        return name

    def alias(self, name: str, target: str) -> None:
        """``name`` for the output of ``target`` (a full name), from the next node on."""
        if self.defined.get(name) != target:
            self.defined[name] = target
            self.aliases.append((len(self.nodes), name, target))

    def group(self, path: str, kind: str) -> None:
        """A container of ``kind`` (a block name, ``repeat``, a join) entered here, whose
        nodes ``--depth`` folds into one row."""
        self.groups.append((len(self.nodes), path, kind))

    def output(self, name: str, pos: Pos, full: str | None, message: str = "") -> None:
        """One of the network's named outputs: the full name it resolved to, or None and why."""
        self.outputs.append((name, pos, full, message))

    def build(self, output: str | None = None) -> Dag:
        """The graph; its output is ``output``'s, by default the last node's."""
        return Dag(self.nodes, self.aliases, self.groups, self.outputs, output)


TASKS = ("classification", "segmentation", "detection")
"""The tasks a spec's ``task`` can name, in the order ``zoo list`` groups them."""


class Network(NamedTuple):
    name: str
    input: Shape
    graph: Dag
    layout: str = "hwc"
    expect: Expectations = Expectations()
    source: str = "<spec>"
    """Where the spec came from, for messages: a file name, a zoo name or ``<inline>``."""
    text: str = ""
    """The spec's text, so an error can quote the offending line."""
    description: str = ""
    input_hint: Problem | None = None
    """A warning that the input, read in the default layout, looks like the other one."""
    task: str = ""
    """What the network does, one of TASKS, or nothing said; ``zoo list`` groups by it."""
    origin: str = ""
    """Where the architecture comes from, in a few words: ``torchvision``, ``BVLC Caffe``."""
    read_from: str = ""
    """The format the network was read from when not cnncalc's own (``darknet``), for
    figures that format's tools print (Darknet's BFLOPs)."""
    input_needed: str = ""
    """Why the network cannot be traced without an input shape given to it (the file does
    not say its input's size); its ``input`` then only has the right number of sizes."""


@contextmanager
def without_gc_pauses() -> Iterator[None]:
    """Builds and traces allocate many small acyclic objects; the cycle collector's passes
    over them grow with the heap and made 100k-layer specs superlinear, so pause it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
