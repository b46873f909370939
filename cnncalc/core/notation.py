"""The course notation for sizes, shared by the command line and spec files.

``32`` / ``32x32`` / ``32x32x3`` for shapes, ``3x5`` for one value per dimension,
``2``, ``0:1`` or ``1x0:1`` for padding. Pure parsing; errors are UsageError.
"""

from __future__ import annotations

from cnncalc.core.errors import UsageError
from cnncalc.core.numbers import parse_whole
from cnncalc.core.shapes import PAD_MODES, PadSpec, Shape

MAX_SPATIAL = 3
"""The most spatial dimensions an input may have: 1D, 2D and 3D, as PyTorch's Conv1d/2d/3d."""


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    """``"3x5"`` -> (3, 5); every part a whole number.

    >>> parse_ints("3x5", "f")
    (3, 5)
    """
    parts = text.strip().lower().split("x")
    try:
        return tuple(parse_whole(p, what) for p in parts)
    except UsageError:
        raise
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
                items.append((parse_whole(before, "padding"), parse_whole(after, "padding")))
            else:
                items.append(parse_whole(part, "padding"))
        except UsageError:
            raise
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
    if len(sizes) > MAX_SPATIAL + 1:
        raise UsageError(
            f"{len(sizes)} sizes: a shape has at most {MAX_SPATIAL} spatial sizes and the depth "
            f"(1D, 2D or 3D, like 16x16x16x1)"
        )
    for n in sizes:
        if n < 1:
            raise UsageError(f"sizes must be positive, not {n}")
    if len(sizes) == 1:
        return Shape((), sizes[0])
    if layout == "chw":
        return Shape(sizes[1:], sizes[0])
    return Shape(sizes[:-1], sizes[-1])


def looks_channels_first(sizes: tuple[int, ...]) -> bool:
    """Whether sizes read as HxWxC look like CxHxW instead: a first size of 1 to 4 (the
    channels of an image) at most a quarter of every other, and a last one of 16 or more.

    >>> looks_channels_first((3, 32, 32)), looks_channels_first((32, 32, 3))
    (True, False)
    >>> looks_channels_first((4, 4, 512)), looks_channels_first((1, 28, 28))
    (False, True)
    """
    if len(sizes) < 3:
        return False
    first, rest = sizes[0], sizes[1:]
    return first <= 4 and min(rest) >= 4 * first and sizes[-1] >= 16


def channels_first_hint(sizes: tuple[int, ...], layout: str) -> str | None:
    """What to say when an input looks written in the other layout: channels-first where
    HxWxC is read, or channels-last where CxHxW is (a Caffe file's).

    >>> channels_first_hint((224, 224, 3), "chw")
    '224x224x3 looks channels-last (3 channels of 224x224), but is read as CxHxW (224 channels)'
    """
    text = "x".join(map(str, sizes))
    if layout == "chw" and looks_channels_first(sizes[::-1]):
        return (
            f"{text} looks channels-last ({sizes[-1]} channel{'s' * (sizes[-1] > 1)} of "
            f"{'x'.join(map(str, sizes[:-1]))}), but is read as CxHxW ({sizes[0]} channels)"
        )
    if layout != "hwc" or not looks_channels_first(sizes):
        return None
    return (
        f"{text} looks channels-first ({sizes[0]} channel{'s' * (sizes[0] > 1)} of "
        f"{'x'.join(map(str, sizes[1:]))}), but is read as HxWxC ({sizes[-1]} channels)"
    )


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
