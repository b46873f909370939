"""Exact output-size formulas for one spatial dimension.

Every function works on plain integers for a single dimension; layers apply
them per dimension, which is how non-square and 1D/2D/3D inputs are handled.
Nothing here knows about channels, files or printing.

Sources cited below:
  [DV16] Dumoulin & Visin, "A guide to convolution arithmetic for deep
         learning", arXiv:1603.07285 (relationship numbers as in the paper).
  [PT]   PyTorch documentation of torch.nn.Conv2d / ConvTranspose2d /
         MaxPool2d / MaxUnpool2d (shape sections).
  [TF]   TensorFlow / ONNX "SAME" padding (auto_pad = SAME_UPPER / SAME_LOWER).
  [ADS19] Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
         Neural Networks", Distill 2019.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from .errors import GeometryError, UsageError
from .numbers import bounded

Pad = tuple[int, int]
"""Padding of one dimension as (before, after)."""


def _check_size(n: int) -> None:
    """An input dimension must hold at least one position (PyTorch rejects empty ones too)."""
    if n < 1:
        raise UsageError(f"input size must be at least 1, not {n}")


def effective_kernel(f: int, d: int = 1) -> int:
    """Extent of a dilated kernel: ``D*(F-1) + 1`` [DV16, relationship 15].

    >>> effective_kernel(3, 2)
    5
    """
    return d * (f - 1) + 1


def conv_span(n: int, f: int, pad: Pad = (0, 0), d: int = 1) -> int:
    """Room the kernel can slide over: ``N + P_before + P_after - D*(F-1) - 1``.

    Raises when the (dilated) kernel is larger than the padded input.

    >>> conv_span(32, 5, (2, 2))
    31
    """
    _check_size(n)
    span = n + pad[0] + pad[1] - effective_kernel(f, d)
    if span < 0:
        raise GeometryError(
            f"kernel extent {effective_kernel(f, d)} is larger than the padded input "
            f"{n + pad[0] + pad[1]}"
        )
    return span


def conv_output(n: int, f: int, s: int = 1, pad: Pad = (0, 0), d: int = 1) -> int:
    """Convolution output size, floored as PyTorch does [DV16, rel. 6 and 15; PT].

    ``out = floor((N + P_before + P_after - D*(F-1) - 1) / S) + 1``

    >>> conv_output(32, 5, 1, (2, 2))          # 32x32 input, 5x5 filter, pad 2
    32
    >>> conv_output(5, 3, 2, (1, 1))           # [DV16] relationship 6: i=5, k=3, s=2, p=1
    3
    """
    return conv_span(n, f, pad, d) // s + 1


def uncovered(n: int, f: int, s: int = 1, pad: Pad = (0, 0), d: int = 1) -> int:
    """Trailing positions of the padded input that no window reaches.

    Non-zero exactly when ``(N + 2P - D*(F-1) - 1)`` is not divisible by S, i.e.
    when the course formula ``(N - F + 2P)/S + 1`` is not an integer [DV16, rel. 6].

    >>> uncovered(7, 2, 2)     # windows cover 0-1, 2-3, 4-5; position 6 is left over
    1
    """
    return conv_span(n, f, pad, d) % s


def unreached(n: int, f: int, s: int = 1, pad: Pad = (0, 0), d: int = 1) -> int:
    """Trailing positions of the input itself that no window reaches, beyond the gaps the
    stride leaves between all windows anyway.

    The uncovered tail of the padded input [DV16, rel. 6], less the padding after the input
    (a remainder of padding loses no pixel) and less the ``S - D*(F-1) - 1`` positions a
    stride wider than the kernel skips after every window (a 1x1 stride-2 convolution reads
    every other row; its last row skipped is no different).

    >>> unreached(7, 2, 2), unreached(224, 7, 2, (3, 3)), unreached(56, 1, 2), unreached(8, 3, 3)
    (1, 0, 0, 2)
    """
    gap = max(s - effective_kernel(f, d), 0)
    return max(uncovered(n, f, s, pad, d) - pad[1] - gap, 0)


def same_padding(n: int, f: int, s: int = 1, d: int = 1, lower: bool = False) -> Pad:
    """Padding that makes the output ``ceil(N/S)`` [TF: SAME_UPPER / SAME_LOWER].

    Total ``max((out-1)*S + D*(F-1) + 1 - N, 0)``; the odd pixel goes at the end
    (TensorFlow, ONNX SAME_UPPER) or, with ``lower``, at the start.

    >>> same_padding(224, 3, 2)
    (0, 1)
    >>> same_padding(224, 3, 2, lower=True)
    (1, 0)
    >>> same_padding(32, 5)
    (2, 2)
    """
    out = -(-n // s)
    total = max((out - 1) * s + effective_kernel(f, d) - n, 0)
    small, large = total // 2, total - total // 2
    return (large, small) if lower else (small, large)


def full_padding(f: int, d: int = 1) -> Pad:
    """Full padding: every partial overlap counts, ``P = D*(F-1)`` [DV16, rel. 4].

    With stride 1 the output is ``N + F - 1``.

    >>> full_padding(3)
    (2, 2)
    >>> conv_output(5, 3, 1, full_padding(3))
    7
    """
    p = d * (f - 1)
    return (p, p)


def tconv_output(
    n: int, f: int, s: int = 1, pad: Pad = (0, 0), d: int = 1, output_padding: int = 0
) -> int:
    """Transposed-convolution output size [PT ConvTranspose; DV16, rel. 14].

    ``out = (N-1)*S - P_before - P_after + D*(F-1) + output_padding + 1``;
    output_padding must be below ``max(S, D)``.

    >>> tconv_output(3, 3, 2, (1, 1), output_padding=1)   # undoes 6 -> 3 (k=3, s=2, p=1)
    6
    >>> tconv_output(2, 3)                                 # [DV16] rel. 8: i'=2, k'=3 -> 4
    4
    """
    _check_size(n)
    if not 0 <= output_padding < max(s, d):
        raise GeometryError(
            f"output padding {output_padding} must be at least 0 and below "
            f"max(stride, dilation) = {max(s, d)}"
        )
    out = (n - 1) * s - pad[0] - pad[1] + d * (f - 1) + output_padding + 1
    if out <= 0:
        raise GeometryError(f"padding {pad[0] + pad[1]} leaves no output (size {out})")
    return out


def tconv_output_padding(
    target: int, n: int, f: int, s: int = 1, pad: Pad = (0, 0), d: int = 1
) -> int | None:
    """Output padding that makes a transposed conv undo a conv whose input was ``target``.

    ``a = (M + P_before + P_after - D*(F-1) - 1) mod S`` [DV16, rel. 14:
    ``o' = s(i'-1) + a + k - 2p``]; None when no output padding reaches ``target``.

    >>> tconv_output_padding(6, 3, 3, 2, (1, 1))
    1
    >>> tconv_output_padding(9, 3, 3, 2, (1, 1)) is None   # a conv of 9 gives 5, not 3
    True
    """
    base = (n - 1) * s - pad[0] - pad[1] + d * (f - 1) + 1
    a = target - base
    if 0 <= a < max(s, d):
        return a
    return None


def pool_output(n: int, f: int, s: int, pad: Pad = (0, 0), d: int = 1, ceil: bool = False) -> int:
    """Pooling output size, floor or ceil mode [PT MaxPool2d / AvgPool2d].

    Ceil mode follows PyTorch: a last window that would start in the right
    padding is dropped (``if (out-1)*S >= N + P_before: out -= 1``), and the one
    window may overhang the end by less than a stride.

    >>> pool_output(8, 2, 2)
    4
    >>> pool_output(7, 2, 2), pool_output(7, 2, 2, ceil=True)
    (3, 4)
    >>> pool_output(5, 2, 2, (1, 1), ceil=True)   # a 4th window would start in the padding
    3
    >>> pool_output(2, 3, 2, ceil=True)           # the only window overhangs by 1 < S
    1
    """
    if not ceil:
        return conv_span(n, f, pad, d) // s + 1
    _check_size(n)
    span = n + pad[0] + pad[1] - effective_kernel(f, d)
    out = -(-span // s) + 1
    if (out - 1) * s >= n + pad[0]:
        out -= 1
    if out < 1:
        conv_span(n, f, pad, d)  # raises: the kernel overhangs by a whole stride or more
    return out


def caffe_pool_output(n: int, f: int, s: int, p: int = 0, ceil: bool = True) -> int | None:
    """Caffe's pooling output size, or None where Caffe refuses the layer [Caffe
    pooling_layer.cpp Reshape]: ``ceil((N + 2P - F)/S) + 1`` (floor with ``round_mode:
    FLOOR``); with padding, a last window that would start in the padding is dropped; a last
    window that still starts at or past ``N + P`` fails Caffe's check (``CHECK_LT``).

    >>> caffe_pool_output(8, 2, 3), caffe_pool_output(8, 1, 3), caffe_pool_output(5, 2, 2, 1)
    (3, None, 3)
    """
    span = n + 2 * p - f
    if span < 0:
        return None
    out = (-(-span // s) if ceil else span // s) + 1
    if p and (out - 1) * s >= n + p:
        out -= 1
    return out if (out - 1) * s < n + p else None


def max_unpool_output(n: int, f: int, s: int | None = None, p: int = 0) -> int:
    """Max-unpooling output, the inverse of a pool: ``(N-1)*S - 2P + F`` [PT MaxUnpool2d].

    >>> max_unpool_output(4, 2, 2)
    8
    """
    _check_size(n)
    s = f if s is None else s
    out = (n - 1) * s - 2 * p + f
    if out <= 0:
        raise GeometryError(f"padding {p} leaves no output (size {out})")
    return out


def upsample_output(n: int, factor: int) -> int:
    """Bed-of-nails or nearest-neighbour unpooling by an integer factor: ``N * factor``.

    >>> upsample_output(4, 2)
    8
    """
    _check_size(n)
    return n * factor


def receptive_field(rf: int, jump: int, f: int, s: int = 1, d: int = 1) -> tuple[int, int]:
    """One layer's step of receptive-field size and jump [ADS19, eq. 1-2].

    ``r_out = r_in + D*(F-1)*j_in``, ``j_out = j_in * S``.

    >>> receptive_field(1, 1, 3)          # one 3x3 conv
    (3, 1)
    >>> receptive_field(3, 1, 2, 2)       # then a 2x2/2 pool
    (4, 2)
    """
    return rf + d * (f - 1) * jump, jump * s


_F = TypeVar("_F", bound=Callable[..., Any])
_FLAGS = ("lower", "ceil")
_MAY_BE_ZERO = ("p", "output_padding")


def checked(function: _F) -> _F:
    """``function`` with its arguments checked, for callers outside cnncalc: sizes, kernels,
    strides and dilations are whole numbers of at least 1, paddings at least 0 (``pad`` a
    (before, after) pair), flags True or False, and every number at most 10**18. Anything
    else is a UsageError naming the argument, never a TypeError or a number made of nonsense.

    >>> checked(conv_output)(32, 5, 0)
    Traceback (most recent call last):
    ...
    cnncalc.core.errors.UsageError: conv_output: s must be a whole number of at least 1, not 0
    """
    code = function.__code__
    names = code.co_varnames[: code.co_argcount]
    defaults = dict(zip(reversed(names), reversed(function.__defaults__ or ())))

    @wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        where = function.__name__
        if len(args) > len(names):
            raise UsageError(f"{where} takes at most {len(names)} values ({', '.join(names)})")
        given = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names or name in given:
                raise UsageError(f"{where}: unexpected or repeated argument {name!r}")
            given[name] = value
        for name in names:
            if name not in given and name not in defaults:
                raise UsageError(f"{where}: {name} is missing")
        for name, value in given.items():
            if name in _FLAGS:
                if not isinstance(value, bool):
                    raise UsageError(f"{where}: {name} must be True or False, not {value!r:.40}")
            elif name == "pad":
                pair = tuple(value) if isinstance(value, (tuple, list)) else (value,)
                if len(pair) != 2:
                    raise UsageError(
                        f"{where}: pad must be a (before, after) pair, not {value!r:.40}"
                    )
                for v in pair:
                    _at_least(v, where, name, 0)
                given[name] = pair
            elif not (value is None and defaults.get(name, 0) is None):
                _at_least(value, where, name, 0 if name in _MAY_BE_ZERO else 1)
        return function(**given)

    return cast(_F, call)


def _at_least(value: Any, where: str, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(
            f"{where}: {name} must be a whole number of at least {minimum}, not {value!r:.40}"
        )
    bounded(value, f"{where}: {name}")
