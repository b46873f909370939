"""The library's front door: a spec named by a path, a zoo name, inline text or YAML text.

``load`` turns any of them into a network; ``trace`` returns the same data that
``cnncalc trace --format json`` prints.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from . import zoo
from .errors import UsageError
from .graph import Network
from .layers import Shape
from .notation import parse_ints, shape_from_sizes


def load(spec: str | Path) -> Network:
    """A network from a spec file, a zoo name (``resnet50``), an inline spec or YAML text.

    Raises SpecError (with every problem and its position) for a faulty spec and
    UsageError when ``spec`` names nothing.
    """
    from .spec import load_inline, load_spec

    text = str(spec)
    if isinstance(spec, Path) or Path(text).suffix in (".yaml", ".yml", ".json"):
        file = Path(text)
        if not file.is_file():
            raise UsageError(f"no spec file {text!r}")
        return load_spec(file.read_text(encoding="utf-8"), text)
    if "\n" in text or text.lstrip().startswith("{"):
        return load_spec(text, "<spec>")
    if "|" in text:
        return load_inline(text)
    bundled = zoo.path(text)
    if bundled is not None:
        return load_spec(bundled.read_text(encoding="utf-8"), bundled.stem)
    if Path(text).is_file():
        return load_spec(Path(text).read_text(encoding="utf-8"), text)
    close = difflib.get_close_matches(text.lower(), zoo.names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UsageError(
        f"{text!r} is not a spec file, a zoo network{hint} or an inline spec like "
        f"'32x32x3 | conv 16 f3 | relu'"
    )


def parse_input(text: str, layout: str = "hwc") -> Shape:
    """An input shape written like ``299x299x3`` (or ``3x299x299`` with the chw layout)."""
    return shape_from_sizes(parse_ints(text, "input"), layout)


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
    shape = parse_input(input, net.layout) if isinstance(input, str) else input
    return trace_data(run(net, shape), dtype)
