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


MAX_HINTS = 20
"""The most "did you mean" hints looked for in one source (see :meth:`Problems.hint`)."""
MAX_HINT_NAMES = 300
"""The most names one "did you mean" compares (those starting with the same character, the
nearest in length): each comparison costs a difflib ratio, and a file can name thousands."""


MAX_SOURCE_BYTES = 1 << 20
"""The largest Darknet or Caffe file read (1 MiB): the largest published ones (DenseNet-264's
deploy prototxt, YOLOv4's cfg) are a few hundred KB, and reading stays under a second."""
MAX_LAYERS = 5_000
"""The most layers (Darknet sections, Caffe layers) a file may have: published ones have at
most about 1,200 (DenseNet-264's deploy prototxt; ResNet-152's has about 670, YOLOv4's cfg
162 sections), a pre-activation ResNet-1001 written out in Caffe about 4,000; a file at the
cap is read and traced in well under a second, converted in about one."""


def source_text(data: bytes | str, source: str, limit: int | None = None) -> str:
    """A text format's source as text, without a byte-order mark (every reader reads one).
    Bytes that are not text are a UsageError, one line, exit status 2, in every reader: a
    NUL byte (a binary file), or a byte that is not UTF-8 (named with its line and column).
    A source longer than ``limit`` bytes is refused before it is read."""
    if limit is not None and len(data) > limit:
        size = len(data.encode() if isinstance(data, str) else data)
        if size > limit:
            raise UsageError(
                f"{source!r} is {size:,} bytes: cnncalc reads files of this format up to "
                f"{limit:,} bytes (1 MiB), far above any published network's"
            )
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if b"\0" in data:
        raise UsageError(f"{source!r} is a binary file, not a spec")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        start = data.rfind(b"\n", 0, e.start) + 1
        column = len(data[start : e.start].decode()) + 1
        raise UsageError(
            f"{source}:{line}:{column}: byte {data[e.start]:#04x} is not UTF-8 text: it is "
            "not a text file, or not saved as UTF-8"
        ) from None


def too_many_layers(count: int, what: str) -> str | None:
    """The problem with a file of ``count`` layers (``what``: their name), if it has too many."""
    if count <= MAX_LAYERS:
        return None
    return (
        f"{count:,} {what}: cnncalc reads at most {MAX_LAYERS:,}, far above any published network's"
    )


class Invalid(Exception):
    """Abandons one item after its problem was recorded."""


class Problems:
    """Every problem found in one source, each at its position with the layer path it
    concerns, raised together as one SpecError in the order of the source."""

    def __init__(self, source: str, text: str) -> None:
        self.source, self.text = source, text
        self.found: list[Problem] = []
        self.hints = 0

    def __len__(self) -> int:
        return len(self.found)

    def hint(self, name: str, known: Collection[str]) -> str:
        """:func:`did_you_mean` for the first MAX_HINTS names of a source: each costs a
        comparison with every name known, and a broken file can have thousands."""
        self.hints += 1
        return did_you_mean(name, known) if self.hints <= MAX_HINTS else ""

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
    word = name.lower() if fold else name
    if len(names) > MAX_HINT_NAMES:  # keep the hint cheap: those starting alike, nearest in length
        alike = [n for n in names if n[:1] == word[:1]] or list(names)
        alike.sort(key=lambda n: abs(len(n) - len(word)))
        names = {n: names[n] for n in alike[:MAX_HINT_NAMES]}
    close = difflib.get_close_matches(word, names, n=1)
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
