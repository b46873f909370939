"""Places in a source (a spec file, an inline string, a Darknet or Caffe file) and the
problems found there, so that every error can say file:line:col."""

from __future__ import annotations

from typing import NamedTuple


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
