"""What every reader of a format shares, so that each reads its source the same way and
says what is wrong in the same words: a source's bytes as text, the problems found in it
(raised together, in the order of the source), the fields of one record by name, numbers
written as text, and one "did you mean" for every name a reader does not know.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Generic, Protocol, TypeVar

from cnncalc.core.errors import SpecError, UsageError
from cnncalc.core.numbers import parse_whole
from cnncalc.core.positions import Pos, Problem

MAX_PROBLEMS = 100
"""Problems after which reading stops: a source this broken is fixed from its first problems,
and listing every one of thousands would take long."""


def source_text(data: bytes | str, source: str) -> str:
    """A text format's source as text: bytes are read as UTF-8, and a byte that is not is a
    problem at its line and column; a NUL byte means the file is not text at all."""
    if isinstance(data, str):
        return data
    if b"\0" in data:
        raise UsageError(f"{source!r} is a binary file, not a spec")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = data.rfind(b"\n", 0, e.start) + 1
        pos = Pos(data.count(b"\n", 0, e.start) + 1, len(data[start : e.start].decode()) + 1)
        message = f"byte {data[e.start]:#04x} is not UTF-8 text (save the file as UTF-8)"
        text = data.decode("utf-8", errors="replace")
        raise SpecError([Problem(pos, "", message)], source, text) from None


class Invalid(Exception):
    """Abandons one item after its problem was recorded."""


class Problems:
    """Every problem found in one source, each at its position with the layer path it
    concerns, raised together as one SpecError in the order of the source."""

    def __init__(self, source: str, text: str) -> None:
        self.source, self.text = source, text
        self.found: list[Problem] = []

    def __len__(self) -> int:
        return len(self.found)

    def add(self, pos: Pos, path: str, message: str) -> Invalid:
        """Record a problem (at MAX_PROBLEMS, raise them all); raise the exception returned
        to abandon the item it is in."""
        self.found.append(Problem(pos, path, message))
        if len(self.found) >= MAX_PROBLEMS:
            self.check()
        return Invalid()

    def check(self) -> None:
        """Raise the problems found, if there are any."""
        if self.found:
            raise SpecError(sorted(self.found, key=lambda p: p.pos), self.source, self.text)


def did_you_mean(
    name: str, known: Iterable[str], show: Callable[[str], str] = repr, fold: bool = False
) -> str:
    """`` (did you mean 'relu'?)`` when a known name is close to ``name``, else nothing;
    ``fold`` compares them whatever their case, and shows the known name as it is written.

    >>> did_you_mean("reluu", ["relu", "conv"]), did_you_mean("Relu", ["ReLU"], fold=True)
    (" (did you mean 'relu'?)", " (did you mean 'ReLU'?)")
    >>> did_you_mean("maxpol", ["maxpool"], show="[{}]".format), did_you_mean("x", ["conv"])
    (' (did you mean [maxpool]?)', '')
    """
    import difflib

    names = {n.lower(): n for n in known} if fold else {n: n for n in known}
    close = difflib.get_close_matches(name.lower() if fold else name, names, n=1)
    return f" (did you mean {show(names[close[0]])}?)" if close else ""


class _Named(Protocol):
    """A field: its name, and where the name is written."""

    @property
    def name(self) -> str: ...

    @property
    def pos(self) -> Pos: ...


F = TypeVar("F", bound=_Named)


class Fields(Generic[F]):
    """The fields of one record (a Darknet section, a Caffe message) by name, each name's
    in the order written."""

    def __init__(self, fields: Iterable[F]) -> None:
        self.named: dict[str, list[F]] = {}
        for f in fields:
            self.named.setdefault(f.name, []).append(f)

    def unknown(self, known: Collection[str]) -> Iterator[tuple[F, str]]:
        """The first field of each name not in ``known``, with its "did you mean" hint."""
        for name, given in self.named.items():
            if name not in known:
                yield given[0], did_you_mean(name, known)


_WHOLE = re.compile(r"[+-]?\d+")


def whole(text: str, what: str, least: int | None = None) -> int:
    """The whole number written in ``text``, within MAX_NUMBER and at least ``least``.

    >>> whole("+64", "filters", least=1)
    64
    >>> whole("0", "filters", least=1)
    Traceback (most recent call last):
    ...
    cnncalc.core.errors.UsageError: filters must be at least 1, not 0
    """
    if not _WHOLE.fullmatch(text):
        raise UsageError(f"{what} must be a whole number, not {text!r:.40}")
    value = parse_whole(text, what)
    if least is not None and value < least:
        raise UsageError(f"{what} must be at least {least}, not {value}")
    return value


def real(text: str, what: str) -> float:
    """The finite number written in ``text`` (C's ``0.5f`` too).

    >>> real("0.5f", "ratio")
    0.5
    """
    try:
        value = float(text.rstrip("fF"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UsageError(f"{what} must be a number, not {text!r:.40}")
    return value
