"""Shapes of tensors without their batch, values given per spatial dimension, and padding
resolved to (before, after) pairs: what every kind's arithmetic starts from."""

from __future__ import annotations

from collections.abc import Iterable
from math import prod
from typing import Any, NamedTuple

from . import formulas as fm
from .errors import UsageError

Dims = int | tuple[int, ...]
"""One value for every spatial dimension, or one per dimension."""

PadSpec = int | str | tuple[int | fm.Pad, ...]
"""Padding: a number, a mode (valid, same, same-lower, full), or per dimension a
number or a (before, after) pair."""

PAD_MODES = ("valid", "same", "same-lower", "full")


class _Sizes(NamedTuple):
    spatial: tuple[int, ...]
    channels: int | None


class Shape(_Sizes):
    """A tensor without its batch: spatial sizes plus channels (None when unknown).

    Checked when made, so that no layer computes with an impossible input: every size a whole
    number of at least 1 (an ``int``, or anything with ``__index__`` such as a NumPy integer,
    never a bool), the spatial sizes a tuple (or a list); otherwise a UsageError. ``_replace``
    and ``_make`` check the same.

    >>> Shape((32, 32), 3)
    Shape(spatial=(32, 32), channels=3)
    >>> Shape((32, 32), -1)
    Traceback (most recent call last):
    ...
    cnncalc.core.errors.UsageError: Shape: channels must be at least 1, not -1
    >>> Shape((32, 32.5), 3)
    Traceback (most recent call last):
    ...
    cnncalc.core.errors.UsageError: Shape: a spatial size must be a whole number, not 32.5
    """

    __slots__ = ()

    def __new__(cls, spatial: Iterable[int], channels: int | None) -> Shape:
        if type(spatial) is not tuple or not all(type(n) is int and n > 0 for n in spatial):
            if not isinstance(spatial, (tuple, list)):
                raise UsageError(
                    f"Shape: the spatial sizes are a tuple, like Shape((32, 32), 3) for 32x32x3, "
                    f"not {spatial!r:.40}"
                )
            spatial = tuple(_size(n, "a spatial size") for n in spatial)
        if channels is not None and (type(channels) is not int or channels < 1):
            channels = _size(channels, "channels")
        return tuple.__new__(cls, (spatial, channels))

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Shape:  # type: ignore[override]
        return cls(*iterable)

    def __str__(self) -> str:
        sizes = [*self.spatial, *([] if self.channels is None else [self.channels])]
        return "x".join(map(str, sizes))

    @property
    def size(self) -> int | None:
        """Number of elements, or None when the channels are unknown."""
        return None if self.channels is None else prod(self.spatial) * self.channels


def _size(value: object, what: str) -> int:
    """One size of a Shape: a whole number of at least 1, as an ``int``. Not bounded by
    MAX_NUMBER, which bounds what a user writes: a layer may compute a larger size (nine
    transposed convolutions of stride 10**18), and its input for the next layer is a Shape."""
    if type(value) is not int:
        index = getattr(type(value), "__index__", None)
        if index is None or isinstance(value, bool):
            raise UsageError(f"Shape: {what} must be a whole number, not {value!r:.40}")
        value = index(value)
    if value < 1:  # type: ignore[operator]
        raise UsageError(f"Shape: {what} must be at least 1, not {value}")
    return value  # type: ignore[return-value]


def per_dim(value: Dims, ndim: int, name: str) -> tuple[int, ...]:
    """Spread one value over ``ndim`` dimensions, or check there is one per dimension."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(values) == 1:
        values = values * ndim
    if len(values) != ndim:
        raise UsageError(f"{name} has {len(values)} values for a {ndim}D input")
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool):
            raise UsageError(f"{name} must be whole numbers, not {v!r}")
    return values


def _pad_pair(p: object) -> fm.Pad:
    """One dimension's padding, a whole number or a (before, after) pair of them."""
    pair = tuple(p) if isinstance(p, (tuple, list)) else (p, p)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in pair):
        raise UsageError(f"padding must be whole numbers or before:after pairs, not {p!r}")
    return pair[0], pair[1]


def resolve_padding(
    pad: PadSpec,
    ns: tuple[int, ...],
    fs: tuple[int, ...],
    ss: tuple[int, ...],
    ds: tuple[int, ...],
) -> tuple[fm.Pad, ...]:
    """The (before, after) padding of every dimension, from a number, a mode or a list."""
    if isinstance(pad, str):
        if pad == "valid":
            return tuple((0, 0) for _ in ns)
        if pad == "full":
            return tuple(fm.full_padding(f, d) for f, d in zip(fs, ds))
        if pad in ("same", "same-lower"):
            lower = pad == "same-lower"
            return tuple(fm.same_padding(n, f, s, d, lower) for n, f, s, d in zip(ns, fs, ss, ds))
        raise UsageError(f"unknown padding mode {pad!r} (use a number or {', '.join(PAD_MODES)})")
    items = tuple(pad) if isinstance(pad, (tuple, list)) else (pad,)
    if len(items) == 1:
        items = items * len(ns)
    if len(items) != len(ns):
        raise UsageError(f"padding has {len(items)} values for a {len(ns)}D input")
    pads = tuple(_pad_pair(p) for p in items)
    for before, after in pads:
        if before < 0 or after < 0:
            raise UsageError(f"padding must not be negative, not {before}:{after}")
    return pads


def dimension_names(ndim: int) -> tuple[str, ...]:
    """What to call the slices of each dimension in messages."""
    return {1: ("positions",), 2: ("rows", "columns"), 3: ("planes", "rows", "columns")}.get(
        ndim, tuple(f"dim{i} positions" for i in range(ndim))
    )
