"""The course notation for sizes, shared by the command line and spec files.

``32`` / ``32x32`` / ``32x32x3`` for shapes, ``3x5`` for one value per dimension,
``2``, ``0:1`` or ``1x0:1`` for padding. Pure parsing; errors are UsageError.
"""

from __future__ import annotations

from .errors import UsageError
from .layers import PAD_MODES, PadSpec, Shape


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    """``"3x5"`` -> (3, 5); every part a whole number.

    >>> parse_ints("3x5", "f")
    (3, 5)
    """
    parts = text.strip().lower().split("x")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number or sizes like 3x5") from None


def parse_padding(text: str) -> PadSpec:
    """A padding: a mode, a number, ``before:after``, or one of those per dimension.

    >>> parse_padding("same"), parse_padding("2"), parse_padding("0:1x1")
    ('same', 2, ((0, 1), 1))
    """
    text = text.strip().lower()
    if text in PAD_MODES:
        return text
    items: list[int | tuple[int, int]] = []
    for part in text.split("x"):
        try:
            if ":" in part:
                before, after = part.split(":")
                items.append((int(before), int(after)))
            else:
                items.append(int(part))
        except ValueError:
            raise UsageError(
                f"padding: {text!r} is not a number, before:after (0:1), "
                f"one per dimension (1x2) or one of {', '.join(PAD_MODES)}"
            ) from None
    return items[0] if len(items) == 1 and isinstance(items[0], int) else tuple(items)


def shape_from_sizes(sizes: tuple[int, ...], layout: str = "hwc") -> Shape:
    """Spatial sizes plus channels, in the given layout; one number is a flat feature vector.

    >>> shape_from_sizes((224, 224, 3)), shape_from_sizes((3, 224, 224), "chw")
    (Shape(spatial=(224, 224), channels=3), Shape(spatial=(224, 224), channels=3))
    """
    if not sizes:
        raise UsageError("a shape needs at least one size")
    for n in sizes:
        if n < 1:
            raise UsageError(f"sizes must be positive, not {n}")
    if len(sizes) == 1:
        return Shape((), sizes[0])
    if layout == "chw":
        return Shape(sizes[1:], sizes[0])
    return Shape(sizes[:-1], sizes[-1])


def shape_sizes(shape: Shape, layout: str = "hwc") -> list[int]:
    """The sizes of a shape as displayed: spatial then channels, or channels first with chw."""
    channels = [] if shape.channels is None else [shape.channels]
    spatial = list(shape.spatial)
    return channels + spatial if layout == "chw" else spatial + channels


def format_shape(shape: Shape, layout: str = "hwc") -> str:
    """``56x56x256`` (or ``256x56x56`` with the chw layout).

    >>> format_shape(Shape((56, 56), 256), "chw")
    '256x56x56'
    """
    return "x".join(map(str, shape_sizes(shape, layout)))
