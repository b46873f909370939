"""The library's front door: a spec named by a path, a zoo name, inline text or YAML text.

``load`` turns any of them into a network; ``trace`` returns the same data that
``cnncalc trace --format json`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import zoo
from .errors import UsageError
from .graph import Network
from .layers import Shape
from .notation import format_shape, parse_ints, shape_from_sizes


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
    raise UsageError(
        f"{text!r} is not a spec file, a zoo network{zoo.suggestion(text)} or an inline spec like "
        f"'32x32x3 | conv 16 f3 | relu'"
    )


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
