"""cnncalc: exact shape and arithmetic calculator for convolutional networks.

The formulas work on one spatial dimension at a time; ``trace`` returns the data
``cnncalc trace --format json`` prints::

    >>> import cnncalc
    >>> cnncalc.conv_output(32, 5, 1, (2, 2))
    32
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from cnncalc.core.shapes import Shape
    from cnncalc.graph import Network

__version__ = "0.1.0"

FORMULAS = (
    "conv_output",
    "effective_kernel",
    "full_padding",
    "max_unpool_output",
    "pool_output",
    "receptive_field",
    "same_padding",
    "tconv_output",
    "tconv_output_padding",
    "uncovered",
    "unreached",
    "upsample_output",
)
"""The formulas of :mod:`cnncalc.core.formulas` this package offers with their arguments
checked: a bad one is a UsageError, never a TypeError. Each is made when first used, so that
the command line, which imports this package, does not pay for them."""


def __getattr__(name: str) -> Any:
    if name not in FORMULAS:
        raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
    from cnncalc.core import formulas

    checked = globals()[name] = formulas.checked(getattr(formulas, name))
    return checked


__all__ = [*FORMULAS, "load", "to_spec", "trace"]


def load(spec: str | Path | Network, format: str | None = None, **options: Any) -> Network:
    """A network from a spec file, a zoo name, an inline spec or YAML text (or a loaded one),
    or a Darknet .cfg, Caffe .prototxt or Ultralytics model YAML; ``format`` (a name in
    ``cnncalc.formats.registry.FORMATS``) says how to read a file whose suffix and content
    do not, ``options`` are its format's own (``load("yolov8.yaml", scale="s")``)."""
    from cnncalc.api import network

    return network(spec, format, **options)


def trace(
    spec: str | Path | Network,
    input: str | Sequence[int] | Shape | None = None,
    dtype: str = "float32",
    format: str | None = None,
) -> dict[str, Any]:
    """Trace a spec; the same data as ``cnncalc trace --format json`` (see cnncalc.api).

    ``input`` is another input size, in the network's layout: ``"160x160x3"`` or
    ``(160, 160, 3)``; ``dtype`` one of float32, float16, bfloat16, int8, float64;
    ``format`` as for :func:`load`. A network that does not trace raises
    ``cnncalc.core.errors.TraceError``, whose ``report`` is this data up to the failing layer.
    """
    from cnncalc.api import network, trace

    return trace(network(spec, format), input, dtype)


def to_spec(spec: str | Path | Network, format: str | None = None) -> str:
    """A network (a Darknet or Caffe file, a zoo name, any spec) written as a cnncalc spec
    that traces to the same shapes, parameters and MACs: what ``cnncalc convert`` prints.

    >>> print(to_spec("8x8x3 | conv 4 f3 p1").splitlines()[4])
      - conv 4 f3 p1
    """
    from cnncalc.api import to_spec as write

    return write(spec, format)
