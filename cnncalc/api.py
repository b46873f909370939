"""The library's front door: a spec named by a path, a zoo name, inline text or YAML text.

``load`` turns any of them into a network; ``trace`` returns the same data that
``cnncalc trace --format json`` prints.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

from . import zoo
from .errors import SpecError, UsageError
from .graph import Network, Problem
from .layers import Shape
from .notation import format_shape, parse_ints, shape_from_sizes

if TYPE_CHECKING:
    from pathlib import Path

    from .tracer import Trace

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def load(spec: str | Path) -> Network:
    """A network from a spec file, a zoo name (``resnet50``), an inline spec or YAML text.

    Raises SpecError (with every problem and its position) for a faulty spec and
    UsageError when ``spec`` names nothing.
    """
    text = os.fspath(spec)
    if not isinstance(spec, str) or text.endswith(SPEC_SUFFIXES):
        if not os.path.isfile(text):
            raise UsageError(f"no spec file {text!r}")
        return _language().load_spec(_read(text), text)
    if "\n" in text or text.lstrip().startswith("{"):
        return _language().load_spec(text, "<spec>")
    if "|" in text:
        return _language().load_inline(text)
    bundled = zoo.path(text)
    if bundled is not None:
        return load_zoo(text.lower(), bundled)
    if os.path.isfile(text):
        return _language().load_spec(_read(text), text)
    raise UsageError(
        f"{text!r} is not a spec file, a zoo network{zoo.suggestion(text)} or an inline spec like "
        f"'32x32x3 | conv 16 f3 | relu'"
    )


def load_zoo(name: str, path: str) -> Network:
    """A zoo network from its compiled form when there is one (no YAML parser to start)."""
    import json

    from .graph import network_from_data

    compiled = zoo.compiled_path(name)
    if os.path.isfile(compiled):
        return network_from_data(json.loads(_read(compiled)), _read(path))
    return _language().load_spec(_read(path), name)


def _language() -> Any:
    """The spec reader, imported only when text must be parsed: PyYAML alone takes ~25 ms."""
    from . import spec

    return spec


class Checked(NamedTuple):
    """The verdict of ``cnncalc check`` on one spec."""

    source: str
    text: str
    problems: list[Problem]
    """Why the spec fails: spec errors, a shape that does not fit, unmet expectations."""
    warnings: list[Problem]
    trace: Trace | None = None


def check(spec: str | Path, strict: bool = False) -> Checked:
    """Read and trace a spec and check its expectations; ``strict`` fails sizes that do not divide.

    >>> check("32x32x3 | conv 10 f5 p2").problems
    []
    """
    from .tracer import expectation_problems
    from .tracer import trace as run

    try:
        net = load(spec)
    except SpecError as error:
        return Checked(error.source, error.text, error.problems, [])
    t = run(net)
    problems = t.errors + expectation_problems(t) + (t.warnings if strict else [])
    return Checked(net.source, net.text, problems, [] if strict else t.warnings, t)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def parse_input(text: str, like: Shape, layout: str = "hwc") -> Shape:
    """Another input for a network whose own input is ``like``: as many sizes, e.g. 299x299x3.

    >>> parse_input("299x299x3", Shape((224, 224), 3))
    Shape(spatial=(299, 299), channels=3)
    """
    sizes = parse_ints(text, "input")
    wanted = len(like.spatial) + (like.channels is not None)
    if len(sizes) != wanted:
        example = format_shape(like, layout)
        raise UsageError(
            f"{text!r} has {len(sizes)} sizes; this network takes {wanted}, like {example}"
        )
    return shape_from_sizes(sizes, layout)


def trace(
    spec: str | Path, input: str | Shape | None = None, dtype: str = "float32"
) -> dict[str, Any]:
    """Trace a spec and return the data ``cnncalc trace --format json`` shows.

    >>> data = trace("32x32x3 | conv 10 f5 p2 | relu | maxpool f2 | fc 10")
    >>> data["output"], data["totals"]["params"], data["layers"][0]["macs"]
    ([10], 26370, 768000)
    """
    from .render import trace_data
    from .tracer import trace as run

    net = load(spec)
    shape = parse_input(input, net.input, net.layout) if isinstance(input, str) else input
    return trace_data(run(net, shape), dtype)
