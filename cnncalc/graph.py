"""The network as data: sequences, parallel branches with a merge, repetition, references.

Nodes carry a local name and the source position they came from; full
hierarchical names (``layer3.12.conv2``) are built by the tracer as it walks.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from .layers import Layer, Shape


class Pos(NamedTuple):
    """A 1-based line and column in a source (a spec file or an inline string)."""

    line: int
    column: int


NOWHERE = Pos(0, 0)


class Problem(NamedTuple):
    """An error or warning with its place in the source and the layer path it concerns."""

    pos: Pos
    path: str
    message: str


@dataclass(eq=False)
class Node:
    name: str
    pos: Pos


@dataclass(eq=False)
class LayerNode(Node):
    layer: Layer


@dataclass(eq=False)
class Sequence(Node):
    """Items applied one after another; ``kind`` is the block name for a block call."""

    items: list[Node] = field(default_factory=list)
    kind: str = "sequence"


MERGES = ("concat", "add")


@dataclass(eq=False)
class Merge(Node):
    """Parallel branches from the same input, joined by concatenating channels or adding."""

    op: str = "concat"
    branches: list[Sequence] = field(default_factory=list)


@dataclass(eq=False)
class Repeat(Node):
    """``count`` copies of a body; a body that does not depend on the iteration is stored once."""

    count: int = 1
    bodies: list[Sequence] = field(default_factory=list)

    def body(self, i: int) -> Sequence:
        return self.bodies[0] if len(self.bodies) == 1 else self.bodies[i]


@dataclass(eq=False)
class Ref(Node):
    """Continue from the output of an earlier named node (a skip connection)."""

    target: str = ""


@dataclass
class Expectations:
    """What ``cnncalc check`` verifies after tracing; each with the position it was written at."""

    output: tuple[Shape, Pos] | None = None
    params: tuple[int, Pos] | None = None
    macs: tuple[int, Pos] | None = None
    shapes: dict[str, tuple[Shape, Pos]] = field(default_factory=dict)


@dataclass
class Network:
    name: str
    input: Shape
    body: Sequence
    layout: str = "hwc"
    expect: Expectations = field(default_factory=Expectations)
    source: str = "<spec>"
    """Where the spec came from, for messages: a file name, a zoo name or ``<inline>``."""
    text: str = ""
    """The spec's text, so an error can quote the offending line."""
    description: str = ""


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
