"""The library's front door: a spec named by a path, a zoo name, inline text or YAML text.

``load`` turns any of them into a network; ``trace`` returns the same data that
``cnncalc trace --format json`` prints.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Any, NamedTuple

from cnncalc import zoo
from cnncalc.core.errors import SpecError, TraceError, UsageError
from cnncalc.core.notation import format_shape, parse_ints, shape_from_sizes
from cnncalc.core.numbers import bounded
from cnncalc.core.positions import NOWHERE, Problem
from cnncalc.core.shapes import Shape
from cnncalc.formats import registry
from cnncalc.graph import Expectations, Network

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from cnncalc.analysis.tracer import Trace


def load(spec: str | Path, format: str | None = None, **options: Any) -> Network:
    """A network from a spec file, a zoo name (``resnet50``), an inline spec or YAML text,
    or from a file in another format: a Darknet ``.cfg``, a Caffe ``.prototxt``, any format
    in ``cnncalc.formats.registry``.

    ``format`` (a registered format's name) says how to read a file; by default a file is
    read as its name's suffix says, else as its first bytes look, else as a spec.

    A file is read when nothing else can be meant: a ``Path``, a name ending in a format's
    suffix, one written as a path (``./resnet50``, ``models/net``), one given with a format
    that only files are written in, or an existing file that is not also a zoo name, an
    inline spec or YAML text; a file that is one of those too is refused as ambiguous rather
    than silently read or ignored.

    ``options`` are the format's own (an Ultralytics file's ``scale="s"``, ``nc=20``); a
    file format that does not read one, or a spec that is not a file, refuses it.

    Raises SpecError (with every problem and its position) for a faulty spec and
    UsageError when ``spec`` names nothing.
    """
    text = os.fspath(spec)
    options = {k: v for k, v in options.items() if v is not None}
    chosen = registry.named(format) if format is not None else None
    other = _reading(text)
    if (
        not isinstance(spec, str)
        or registry.claimed(text)
        or (chosen is not None and chosen.name != registry.DEFAULT)
        or _path_like(text, other)
    ):
        return _load_file(text, chosen, options)
    if options:
        raise UsageError(f"{', '.join(options)}: read only with a file in a format that takes it")
    if other is not None and "\n" not in text and os.path.isfile(text):
        raise UsageError(
            f"{text!r} is both a file here and {other}: write ./{text} for the file"
            + (" (or rename it)" if other == "a zoo network" else "")
        )
    if other == "YAML text":
        return registry.named(registry.DEFAULT).load(text, "<spec>")
    if other == "an inline spec":
        from cnncalc.formats.inline import load_inline

        return load_inline(text)
    bundled = zoo.path(text)
    if bundled is not None:
        return load_zoo(text.lower(), bundled)
    if os.path.lexists(text):
        return _load_file(text, chosen, options)
    raise UsageError(
        f"{text!r} is not a spec file, a zoo network{zoo.suggestion(text)} or an inline spec like "
        f"'32x32x3 | conv 16 f3 | relu'"
    )


def _load_file(
    path: str, chosen: registry.Format | None, options: dict[str, Any] | None = None
) -> Network:
    """A file in the format ``chosen``, else in the one its name or its content says."""
    data = _read(path)
    return (chosen or registry.of_file(path, data)).load(data, path, options)


def _reading(text: str) -> str | None:
    """What ``text`` means if it is not a file name: YAML text, an inline spec, a zoo name."""
    if "\n" in text or text.lstrip().startswith("{"):
        return "YAML text"
    if "|" in text:
        return "an inline spec"
    return "a zoo network" if zoo.path(text) is not None else None


def _path_like(text: str, other: str | None) -> bool:
    """``./x``, ``../x``, ``/x`` and, unless it reads as something else, ``dir/x``."""
    separators = ("/", os.sep)
    written = text.startswith(tuple(f"{d}{s}" for d in ("", ".", "..") for s in separators))
    return written or (other is None and any(s in text for s in separators))


def load_zoo(name: str, path: str) -> Network:
    """A zoo network from its compiled form when there is one (no YAML parser to start)."""
    import json

    from cnncalc.formats.compiled import network_from_data

    compiled = zoo.compiled_path(name)
    if os.path.isfile(compiled):
        return network_from_data(json.loads(_read(compiled)), _read(path).decode())
    return registry.named(registry.DEFAULT).load(_read(path), name)


class Checked(NamedTuple):
    """The verdict of ``cnncalc check`` on one spec."""

    source: str
    text: str
    problems: list[Problem]
    """Why the spec fails: spec errors, a shape that does not fit, unmet expectations."""
    warnings: list[Problem]
    trace: Trace | None = None


def network(spec: str | Path | Network, format: str | None = None, **options: Any) -> Network:
    """``spec`` itself when it is a loaded network, else :func:`load` of it: what every public
    function that takes a spec accepts.

    >>> net = network("resnet18"); network(net) is net
    True
    """
    if isinstance(spec, Network):
        return spec
    if not isinstance(spec, (str, os.PathLike)) or not isinstance(os.fspath(spec), str):
        raise UsageError(
            f"a spec is a file path, a zoo name, an inline spec or YAML text (a str), "
            f"not {type(spec).__name__}"
        )
    return load(spec, format, **options)


def check(
    spec: str | Path | Network,
    strict: bool = False,
    format: str | None = None,
    expect: dict[str, Any] | None = None,
    input: str | Sequence[int] | Shape | None = None,
    options: dict[str, Any] | None = None,
) -> Checked:
    """Read and trace a spec and check its expectations; ``strict`` fails sizes that do not divide.

    ``expect`` adds expectations to the spec's own, as ``cnncalc check --expect-...`` does for
    files that cannot hold them (Darknet, Caffe): ``params`` and ``macs`` (whole numbers),
    ``output`` (a shape written in the network's layout, like ``13x13x255``) and ``outputs``
    (a shape for each named output). ``input`` traces at another input size, as ``trace``;
    ``options`` are the format's own, as for :func:`load`.

    >>> check("32x32x3 | conv 10 f5 p2").problems
    []
    >>> check("32x32x3 | conv 10 f5 p2", expect={"params": 761}).problems[0].message
    'expected 761 parameters, got 760'
    """
    from cnncalc.analysis.tracer import expectation_problems
    from cnncalc.analysis.tracer import trace as run

    try:
        net = network(spec, format, **(options or {}))
    except SpecError as error:
        return Checked(error.source, error.text, error.problems, [])
    if expect:
        net = net._replace(expect=_expectations(net, expect))
    t = run(net, None if input is None else parse_input(input, net.input, net.layout))
    problems = t.errors + expectation_problems(t) + (t.warnings if strict else [])
    return Checked(net.source, net.text, problems, [] if strict else t.warnings, t)


def _expectations(net: Network, given: dict[str, Any]) -> Expectations:
    """The network's expectations with those ``given`` put over them, each at no position."""
    unknown = set(given) - {"params", "trainable", "macs", "output", "outputs"}
    if unknown:
        raise UsageError(f"expect: no expectation {sorted(unknown)[0]!r}")
    counts = {
        what: (bounded(_whole(given[what], what), what), NOWHERE)
        for what in ("params", "trainable", "macs")
        if given.get(what) is not None
    }
    old = net.expect

    def shape(value: object, what: str) -> Shape:
        if not isinstance(value, str):
            raise UsageError(f"{what}: a shape is written like 13x13x255, not {value!r:.40}")
        return shape_from_sizes(parse_ints(value, what), net.layout)

    output = given.get("output")
    outputs = {
        name: (shape(value, f"output {name}"), NOWHERE)
        for name, value in (given.get("outputs") or {}).items()
    }
    return Expectations(
        (shape(output, "output"), NOWHERE) if output is not None else old.output,
        counts.get("params", old.params),
        counts.get("macs", old.macs),
        old.shapes,
        {**old.outputs, **outputs},
        counts.get("trainable", old.trainable),
    )


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what}: expected a whole number, not {value!r:.40}")
    return value


def _read(path: str) -> bytes:
    """A spec file's bytes. Anything but a regular file is refused in one line; the type is
    checked before opening, since opening a FIFO would wait for a writer."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{path!r} is a directory, not a spec file")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{path!r} is not a regular file (a pipe or a device?)")
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise UsageError(f"no spec file {path!r}") from None
    except OSError as e:
        raise UsageError(f"cannot read {path!r}: {e.strerror}") from None


def parse_input(value: str | Sequence[int] | Shape, like: Shape, layout: str = "hwc") -> Shape:
    """Another input for a network whose own input is ``like``: as many sizes, in the network's
    layout, written ``"299x299x3"`` or ``(299, 299, 3)``, or a Shape.

    >>> parse_input("299x299x3", Shape((224, 224), 3))
    Shape(spatial=(299, 299), channels=3)
    >>> parse_input([299, 299, 3], Shape((224, 224), 3))
    Shape(spatial=(299, 299), channels=3)
    """
    if isinstance(value, Shape):
        sizes, written = _shape_sizes(value), str(value)
    elif isinstance(value, str):
        sizes, written = parse_ints(value, "input"), value
    elif isinstance(value, (tuple, list)):
        sizes = tuple(_size(v) for v in value)
        written = "x".join(map(str, sizes))
    else:
        raise UsageError(
            f"input: a shape is written '160x160x3', (160, 160, 3) or a Shape, "
            f"not {type(value).__name__}"
        )
    wanted = len(like.spatial) + (like.channels is not None)
    example = format_shape(like, layout)
    if len(sizes) != wanted:
        raise UsageError(
            f"{written!r} has {len(sizes)} sizes; this network takes {wanted}, like {example}"
        )
    if not isinstance(value, Shape):
        return shape_from_sizes(sizes, layout)
    if len(value.spatial) != len(like.spatial) or value.channels is None:
        raise UsageError(
            f"{value!r} does not fit this network's input {like!r} ({example}): "
            f"give as many spatial sizes, and the depth"
        )
    shape_from_sizes(sizes)  # each size checked as a written one is
    return value


def _size(value: object) -> int:
    """One size of a shape given as numbers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"input: sizes must be whole numbers, not {value!r:.40}")
    return bounded(value, "input")


def _shape_sizes(shape: Shape) -> tuple[int, ...]:
    """A Shape's sizes, spatial first, each checked as a size."""
    spatial, channels = shape
    if not isinstance(spatial, tuple):
        raise UsageError(f"input: a Shape's spatial sizes are a tuple, not {spatial!r:.40}")
    return tuple(_size(v) for v in (*spatial, *(() if channels is None else (channels,))))


def trace(
    spec: str | Path | Network,
    input: str | Sequence[int] | Shape | None = None,
    dtype: str = "float32",
) -> dict[str, Any]:
    """Trace a spec and return the data ``cnncalc trace --format json`` shows.

    Raises TraceError for a network that does not trace, its problems located as ``cnncalc
    trace`` prints them, and the rows up to the failing one, with their totals, in its
    ``report`` (the data this returns for a network that traces).

    >>> data = trace("32x32x3 | conv 10 f5 p2 | relu | maxpool f2 | fc 10")
    >>> data["output"], data["totals"]["params"], data["layers"][0]["macs"]
    ([10], 26370, 768000)
    >>> trace("8x8x3 | conv 4 f3 | fc")
    Traceback (most recent call last):
    ...
    cnncalc.core.errors.TraceError: fc: how many output features? (e.g. fc 64)
    """
    from cnncalc.analysis.tracer import DTYPE_BYTES
    from cnncalc.analysis.tracer import trace as run
    from cnncalc.report import trace_data

    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise UsageError(f"dtype: {dtype!r:.40} is not one of {', '.join(DTYPE_BYTES)}")
    net = network(spec)
    shape = None if input is None else parse_input(input, net.input, net.layout)
    t = run(net, shape)
    data = trace_data(t, dtype)
    if t.errors:
        raise TraceError(t.errors, net.source, net.text, data)
    return data


def traced_expectations(net: Network) -> Expectations:
    """What tracing ``net`` gives, as the expectations a spec states: its output (or named
    outputs), parameters and MACs. Raises SpecError, with the located problem, when it does not
    trace."""
    from cnncalc.analysis.tracer import trace as run

    t = run(net)
    if t.errors:
        raise SpecError(t.errors, net.source, net.text)
    totals = t.totals()
    return Expectations(
        None if t.outputs or t.output is None else (t.output, NOWHERE),
        (totals.params, NOWHERE),
        (totals.macs, NOWHERE),
        outputs={name: (shape, NOWHERE) for name, shape in t.outputs.items()},
    )


def to_spec(spec: str | Path | Network, format: str | None = None, to: str = "yaml") -> str:
    """A network written as a cnncalc spec that traces to the same shapes, parameters and MACs,
    its expectations included: what ``cnncalc convert`` prints. Refuses a network that does not
    trace (SpecError) and a layer or value the spec language cannot say (UsageError)."""
    from cnncalc.formats.convert import convert

    net = network(spec, format)
    return convert(net, traced_expectations(net), to)
