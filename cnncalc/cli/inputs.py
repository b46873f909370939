"""How the single-layer commands read their options into an input shape and groups.

Pure rules, apart from click: a bare ``--n`` is a square (or, for ``fc``, a
feature count), the number of spatial dimensions comes from a per-dimension
``--f`` or ``--dims``, and ``--layout chw`` puts the depth first.
"""

from __future__ import annotations

from typing import Any

from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.notation import MAX_SPATIAL, shape_from_sizes
from cnncalc.core.shapes import Shape


def spatial_rank(f: Any, dims: int | None) -> int:
    """Spatial dimensions: from a per-dimension ``--f``, else ``--dims``, else 2.

    >>> spatial_rank((3, 3, 3), None), spatial_rank((3,), 1), spatial_rank(3, None)
    (3, 1, 2)
    """
    if not (isinstance(f, tuple) and len(f) > 1):
        return dims or 2
    if len(f) > MAX_SPATIAL:
        raise UsageError(f"--f has {len(f)} values; an input has at most {MAX_SPATIAL} dimensions")
    if dims is not None and dims != len(f):
        raise UsageError(f"--dims {dims} disagrees with --f, which has {len(f)} values")
    return len(f)


def read_input(
    sizes: tuple[int, ...], nd: int, depth: int | None, layout: str, flat: bool = False
) -> Shape:
    """The input shape from ``--n``: N, the spatial sizes, or the spatial sizes and the depth.

    >>> read_input((32,), 2, None, "hwc")
    Shape(spatial=(32, 32), channels=None)
    >>> read_input((3, 32, 32), 2, None, "chw")
    Shape(spatial=(32, 32), channels=3)
    >>> read_input((4096,), 2, None, "hwc", flat=True)     # fc: a feature count
    Shape(spatial=(), channels=4096)
    >>> read_input((4, 4, 4, 8), 2, None, "hwc", flat=True)  # flattened, of any rank
    Shape(spatial=(4, 4, 4), channels=8)
    """
    if flat:
        if depth is not None:
            return Shape(sizes, depth)
        if len(sizes) == 1:
            return Shape((), sizes[0])
        return shape_from_sizes(sizes, layout)
    channels: int | None = None
    if len(sizes) == 1:
        spatial = sizes * nd
    elif len(sizes) == nd:
        spatial = sizes
    elif len(sizes) == nd + 1:
        channels, spatial = (sizes[0], sizes[1:]) if layout == "chw" else (sizes[-1], sizes[:-1])
    else:
        raise UsageError(
            f"--n: {len(sizes)} sizes do not fit a {nd}D input: give 1, {nd} or {nd + 1} "
            f"(set the dimensions with --dims or a per-dimension --f)"
        )
    if depth is not None and channels is not None:
        raise UsageError("--depth: the depth is already given in --n")
    return Shape(spatial, channels if depth is None else depth)


def resolve_groups(groups: int | str, filters: int | None, x: Shape) -> tuple[int, int | None]:
    """Groups and filters; ``depthwise`` means G = C, and K = C unless ``--filters`` says
    (a multiple of C, as PyTorch's ``Conv2d(C, K, groups=C)``).

    >>> resolve_groups("depthwise", None, Shape((8, 8), 32)), resolve_groups(4, 8, Shape((), 8))
    ((32, 32), (4, 8))
    """
    if groups != "depthwise":
        return int(groups), filters
    if x.channels is None:
        raise UsageError("--groups depthwise needs the input depth (--n HxWxC or --depth)")
    if filters is not None and filters % x.channels:
        raise GeometryError(
            f"--groups depthwise: {filters} filters are not a multiple of the "
            f"{x.channels} input channels"
        )
    return x.channels, filters or x.channels
