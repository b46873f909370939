"""cnncalc: exact shape and arithmetic calculator for convolutional networks.

The formulas work on one spatial dimension at a time; ``trace`` returns the data
``cnncalc trace --format json`` prints::

    >>> import cnncalc
    >>> cnncalc.conv_output(32, 5, 1, (2, 2))
    32
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .formulas import (
    conv_output,
    effective_kernel,
    full_padding,
    max_unpool_output,
    pool_output,
    receptive_field,
    same_padding,
    tconv_output,
    tconv_output_padding,
    uncovered,
    unreached,
    upsample_output,
)

if TYPE_CHECKING:
    from pathlib import Path

    from .graph import Network
    from .layers import Shape

__version__ = "0.1.0"

__all__ = [
    "conv_output",
    "effective_kernel",
    "full_padding",
    "load",
    "max_unpool_output",
    "pool_output",
    "receptive_field",
    "same_padding",
    "tconv_output",
    "tconv_output_padding",
    "trace",
    "uncovered",
    "unreached",
    "upsample_output",
]


def load(spec: str | Path) -> Network:
    """A network from a spec file, a zoo name, an inline spec or YAML text."""
    from .api import load

    return load(spec)


def trace(
    spec: str | Path, input: str | Shape | None = None, dtype: str = "float32"
) -> dict[str, Any]:
    """Trace a spec; the same data as ``cnncalc trace --format json`` (see cnncalc.api)."""
    from .api import trace

    return trace(spec, input, dtype)
