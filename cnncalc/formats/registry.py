"""Every format a network can be read from, each declared once: its name (``format=NAME``,
``--from NAME``), the suffixes of its files, a sniff of a file's first bytes for a file its
suffix does not decide, and the function that reads it, imported only when a file of that
format is read (start-up time matters).

``cnncalc.load`` and the command line read :data:`FORMATS` each time they run, so a format
is known everywhere once it is registered, and neither names one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from cnncalc.core.errors import UsageError

if TYPE_CHECKING:
    from cnncalc.graph import Network

SNIFFED = 1 << 16
"""How much of a file's start its sniffs see."""


class Format:
    """One format. A plain class: a named tuple's class costs every command its making."""

    __slots__ = ("name", "reader", "suffixes", "sniff", "options")

    def __init__(
        self,
        name: str,
        reader: str,
        suffixes: tuple[str, ...] = (),
        sniff: Callable[[bytes], bool] | None = None,
        options: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.reader = reader
        """The dotted name of the function that reads the format, ``load(data, source) ->
        Network``: ``data`` is a file's bytes (or text given directly), ``source`` its name."""
        self.suffixes = suffixes
        """The endings of its files' names, in lower case."""
        self.sniff = sniff
        """Whether a file's first bytes look like this format."""
        self.options = options
        """The reader's own options (Ultralytics' ``scale``), passed by keyword when given."""

    def load(
        self, data: bytes | str, source: str, options: Mapping[str, Any] | None = None
    ) -> Network:
        """The network ``data`` describes; an option the format does not read is a UsageError."""
        from importlib import import_module

        given = {k: v for k, v in (options or {}).items() if v is not None}
        for key in given:
            if key not in self.options:
                takes = f"only {', '.join(self.options)}" if self.options else "none"
                raise UsageError(f"{key}: {self.name} files take no such option ({takes})")
        module, _, function = self.reader.rpartition(".")
        reader: Callable[..., Network] = getattr(import_module(module), function)
        return reader(data, source, **given)


FORMATS: dict[str, Format] = {}
"""Every format by name, in the order their sniffs are tried."""

DEFAULT = "yaml"
"""cnncalc's own language: a file's format when neither its suffix nor its content says
another, and the only format whose specs also come inline, as YAML text or by a zoo name."""


def register(format: Format) -> Format:
    FORMATS[format.name] = format
    return format


def named(name: str) -> Format:
    """The format called ``name``; a UsageError lists the formats there are."""
    if not isinstance(name, str) or name not in FORMATS:
        raise UsageError(f"format: {name!r:.40} is not one of {', '.join(FORMATS)}")
    return FORMATS[name]


def claimed(path: str) -> list[Format]:
    """The formats whose files' names end as ``path`` does."""
    lower = path.lower()
    return [f for f in FORMATS.values() if lower.endswith(f.suffixes)]


def of_file(path: str, data: bytes) -> Format:
    """A file's format: the first whose sniff its first bytes pass, the formats its name's
    suffix claims tried first (``.yaml`` is cnncalc's or Ultralytics'), then the others (a
    Darknet cfg saved as ``.yaml`` is read as Darknet); else the first its suffix claims,
    else DEFAULT."""
    by_suffix = claimed(path)
    head = data[:SNIFFED]
    others = [f for f in FORMATS.values() if f not in by_suffix]
    for f in by_suffix + others:  # the suffix's formats first
        if f.sniff is not None and f.sniff(head):
            return f
    return by_suffix[0] if by_suffix else FORMATS[DEFAULT]


def _darknet(head: bytes) -> bool:
    """The first thing but comments is the ``[net]`` (or ``[network]``) section."""
    for line in head.removeprefix(b"\xef\xbb\xbf").splitlines():
        body = re.split(rb"[#;]", line, maxsplit=1)[0].strip()
        if body:
            return re.fullmatch(rb"\[\s*net(?:work)?\s*\]", body) is not None
    return False


def _ultralytics(head: bytes) -> bool:
    """Top-level ``backbone:`` and ``head:`` keys: an Ultralytics model YAML."""
    return all(re.search(rb"(?m)^%s[ \t]*:" % key, head) for key in (b"backbone", b"head"))


def _caffe(head: bytes) -> bool:
    """A line opens a ``layer { ... }`` (or the old format's ``layers``) message."""
    return re.search(rb"(?m)^[ \t]*layers?[ \t]*:?[ \t]*[{<]", head) is not None


register(Format(DEFAULT, "cnncalc.formats.spec.load_spec", (".yaml", ".yml", ".json")))
register(Format("darknet", "cnncalc.formats.darknet.load", (".cfg",), _darknet))
register(Format("caffe", "cnncalc.formats.caffe.load", (".prototxt",), _caffe))
register(
    Format(
        "ultralytics",
        "cnncalc.formats.ultralytics.load",
        (".yaml", ".yml"),
        _ultralytics,
        ("scale", "nc"),
    )
)
