"""Ultralytics YOLO model YAMLs (``yolov8.yaml``, ``yolo11.yaml``, ``yolov5.yaml``) read as
networks.

A model file lists ``backbone:`` and ``head:`` rows of ``[from, repeats, module, args]``; the
network is built as Ultralytics' ``parse_model`` builds it (``ultralytics/nn/tasks.py``): a
scale's depth rounds the repeats (``max(round(n * depth), 1)`` when n > 1), its width and
maximum channels size each module's output channels (``make_divisible(min(c2, max) * width,
8)``), and each module is the block of existing kinds its ``__init__`` builds, its nodes named
by the module path Ultralytics gives them (``2.m.0.cv1.conv``) under the layer's index, so
``--depth 1`` shows the rows of the model's own summary. The scale is the one given
(``scale=``, ``--scale``), else the one the file's name says as Ultralytics reads it
(``yolov8n.yaml`` is scale n), else the file's first.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import yaml

from cnncalc.core.errors import SpecError, UsageError
from cnncalc.core.numbers import MAX_NUMBER
from cnncalc.core.positions import Pos
from cnncalc.core.shapes import Shape
from cnncalc.formats.kit import Invalid, Problems, did_you_mean, source_text
from cnncalc.formats.yaml_source import inspect_yaml, node_pos, yaml_loader, yaml_problem
from cnncalc.graph import INPUT, DagBuilder, Network
from cnncalc.kinds import (
    FC,
    Add,
    Attention,
    BatchNorm,
    Chunk,
    Concat,
    Conv,
    Dropout,
    GlobalAvgPool,
    Layer,
    MaxPool,
    SiLU,
    TConv,
    Upsample,
)

SCALES = "nslmx"
"""The scale letters a file's name can carry, as Ultralytics' ``guess_model_scale`` reads."""

SIZE = 640
"""The input size Ultralytics trains and reports at."""

_SCALE_IN_NAME = re.compile(r"yolo(e-)?v?\d+([nslmx])")


def scale_in_name(source: str) -> str:
    """The scale letter a file's name carries, as Ultralytics reads it ('' for none).

    >>> scale_in_name("models/yolov8n.yaml"), scale_in_name("yolo11s-seg.yaml")
    ('n', 's')
    >>> scale_in_name("yolov8.yaml")
    ''
    """
    stem = os.path.splitext(os.path.basename(source))[0]
    match = _SCALE_IN_NAME.search(stem)
    return match.group(2) if match else ""


def make_divisible(x: float, divisor: int = 8) -> int:
    """The least multiple of ``divisor`` not below ``x`` (Ultralytics' ``make_divisible``).

    >>> make_divisible(64 * 0.25), make_divisible(1024 * 0.33)
    (16, 344)
    """
    return math.ceil(x / divisor) * divisor


def autopad(k: int, d: int = 1) -> int:
    """Ultralytics' 'same' padding for a kernel ``k`` dilated by ``d`` (``autopad``).

    >>> autopad(3), autopad(3, d=2), autopad(1)
    (1, 2, 0)
    """
    return (d * (k - 1) + 1) // 2


class _Arg(NamedTuple):
    """One positional argument of a module: its name, what it must be, its default."""

    name: str
    type: str
    """``int`` (at least 1), ``count`` (at least 0), ``bool``, ``real`` (above 0), ``pad``
    (None or a count), ``ints`` (a list of whole numbers), ``word``."""
    default: Any = None


_REQUIRED = object()


class _Ctx:
    """What one layer's module is built with: the graph, the layer's index and position,
    where its problems go, and the scale's settings."""

    def __init__(self, dag: DagBuilder, problems: Problems, index: int, pos: Pos) -> None:
        self.dag, self.problems, self.index, self.pos = dag, problems, index, pos

    def add(self, name: str, layer: Layer, inputs: tuple[str, ...], **extra: Any) -> str:
        return self.dag.add(name, self.pos, layer, inputs, **extra)

    def group(self, path: str, kind: str) -> None:
        self.dag.group(path, kind)

    def conv(
        self,
        path: str,
        x: str,
        c2: int,
        k: int = 1,
        s: int = 1,
        p: int | None = None,
        g: int = 1,
        d: int = 1,
        act: bool = True,
    ) -> str:
        """Ultralytics' ``Conv``: a convolution without bias, batch norm, SiLU."""
        self.group(path, "Conv")
        pad = autopad(k, d) if p is None else p
        y = self.add(
            f"{path}.conv",
            Conv(c2, f=k, stride=s, pad=pad, dilation=d, groups=g, bias=False),
            (x,),
        )
        y = self.add(f"{path}.bn", BatchNorm(), (y,))
        if act:
            y = self.add(f"{path}.act", SiLU(), (y,))
        self.dag.alias(path, y)
        return y

    def conv2d(
        self, path: str, x: str, c2: int, k: int = 1, bias: bool = True, **extra: Any
    ) -> str:
        """A plain ``nn.Conv2d`` (a head's last layer, DFL's)."""
        return self.add(path, Conv(c2, f=k, pad=autopad(k), bias=bias), (x,), **extra)

    def bottleneck(
        self,
        path: str,
        x: str,
        c1: int,
        c2: int,
        shortcut: bool,
        g: int,
        k: tuple[int, int],
        e: float,
    ) -> str:
        self.group(path, "Bottleneck")
        c_ = int(c2 * e)
        y = self.conv(f"{path}.cv1", x, c_, k[0])
        y = self.conv(f"{path}.cv2", y, c2, k[1], g=g)
        if shortcut and c1 == c2:
            y = self.add(f"{path}.add", Add(), (x, y), labels=(x, y))
        self.dag.alias(path, y)
        return y

    def c3(
        self,
        path: str,
        x: str,
        c1: int,
        c2: int,
        n: int,
        shortcut: bool,
        g: int,
        e: float,
        k: int = 0,
    ) -> str:
        """``C3`` (``k`` 0: its bottlenecks 1x1 then 3x3) or ``C3k`` (both k x k)."""
        c_ = int(c2 * e)
        a = self.conv(f"{path}.cv1", x, c_)
        b = self.conv(f"{path}.cv2", x, c_)
        kernels = (k, k) if k else (1, 3)
        for j in range(n):
            a = self.bottleneck(f"{path}.m.{j}", a, c_, c_, shortcut, g, kernels, 1.0)
        y = self.add(f"{path}.cat", Concat(), (a, b))
        return self.conv(f"{path}.cv3", y, c2)

    def attention(self, path: str, x: str, c: int, heads: int) -> str:
        """Ultralytics' ``Attention`` (PSA's): q, k and v from one 1x1 conv; v's positional
        3x3 depthwise conv added to the attention's result, then a 1x1 projection. The
        products ``q^T k`` and ``v attn^T`` are the row ``matmul``, of kind ``attention``;
        v is the second half of qkv's channels (its heads' values, as many as the keys and
        queries together)."""
        head_dim = c // heads
        key_dim = int(head_dim * 0.5)
        if head_dim * heads != c or 2 * key_dim != head_dim:
            raise self.refuse(f"attention over {c} channels in {heads} heads does not split evenly")
        self.group(path, "Attention")
        qkv = self.conv(f"{path}.qkv", x, c + 2 * key_dim * heads, act=False)
        v = self.add(f"{path}.v", Chunk(parts=2, index=1), (qkv,), kind="split")
        attended = self.add(f"{path}.matmul", Attention(heads, key_dim), (qkv,))
        pe = self.conv(f"{path}.pe", v, c, 3, g=c, act=False)
        y = self.add(f"{path}.add", Add(), (attended, pe))
        y = self.conv(f"{path}.proj", y, c, act=False)
        self.dag.alias(path, y)
        return y

    def psa_block(self, path: str, x: str, c: int) -> str:
        """``PSABlock``: attention and a feed-forward pair of 1x1 convs, each added back."""
        self.group(path, "PSABlock")
        a = self.attention(f"{path}.attn", x, c, max(c // 64, 1))
        x = self.add(f"{path}.add1", Add(), (x, a))
        f = self.conv(f"{path}.ffn.0", x, c * 2)
        f = self.conv(f"{path}.ffn.1", f, c, act=False)
        y = self.add(f"{path}.add2", Add(), (x, f))
        self.dag.alias(path, y)
        return y

    def refuse(self, message: str) -> Invalid:
        return self.problems.add(self.pos, str(self.index), message)


class _Layer(NamedTuple):
    """A row of the file, its arguments read: what the module builder needs."""

    path: str
    inputs: tuple[str, ...]
    channels: tuple[int, ...]
    """The channels of each input."""
    n: int
    args: list[Any]
    labels: tuple[str, ...] = ()
    """The inputs as the file names them: layer indices (``input`` for the image)."""


Builder = Callable[[_Ctx, _Layer, "_Model"], tuple[str, int]]


class _Model(NamedTuple):
    """The file's settings at the chosen scale."""

    nc: int
    depth: float
    width: float
    max_channels: float
    scale: str
    reg_max: int
    kpt_shape: tuple[int, int]
    legacy: list[bool]
    """One flag, cleared by the first C3k2: heads of YOLO11 on use depthwise class branches."""

    def channels(self, c2: int) -> int:
        return make_divisible(min(c2, self.max_channels) * self.width, 8)


def _conv(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, k, s, p, g, d, act = m.args
    c2 = model.channels(c2)
    return ctx.conv(m.path, m.inputs[0], c2, k, s, p, g, d, bool(act)), c2


def _dwconv(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, k, s, d, act = m.args
    c2 = model.channels(c2)
    g = math.gcd(m.channels[0], c2)
    return ctx.conv(m.path, m.inputs[0], c2, k, s, None, g, d, bool(act)), c2


def _bottleneck(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, shortcut, g, k, e = m.args
    c2 = model.channels(c2)
    if len(k) != 2:
        raise ctx.refuse(f"Bottleneck's k is two kernel sizes, not {len(k)}")
    return ctx.bottleneck(m.path, m.inputs[0], m.channels[0], c2, shortcut, g, (k[0], k[1]), e), c2


def _c2f(
    ctx: _Ctx, m: _Layer, model: _Model, c3k: bool = False, kind: str = "C2f"
) -> tuple[str, int]:
    """``C2f`` and ``C3k2``: a 1x1 conv split in two halves, ``n`` blocks on the second,
    every block's output concatenated and mixed by a 1x1 conv."""
    _, shortcut, g, e = m.args
    c2 = model.channels(m.args[0])
    c = int(c2 * e)
    path = m.path
    y = ctx.conv(f"{path}.cv1", m.inputs[0], 2 * c)
    parts = [
        ctx.add(f"{path}.split0", Chunk(parts=2, index=0), (y,), kind="split"),
        ctx.add(f"{path}.split1", Chunk(parts=2, index=1), (y,), kind="split"),
    ]
    for j in range(m.n):
        block = f"{path}.m.{j}"
        if c3k:
            ctx.group(block, "C3k")
            x = ctx.c3(block, parts[-1], c, c, 2, shortcut, g, 0.5, k=3)
            ctx.dag.alias(block, x)
        else:
            # C2f's bottlenecks keep their channels; C3k2's halve them inside (e=0.5)
            x = ctx.bottleneck(
                block, parts[-1], c, c, shortcut, g, (3, 3), 0.5 if kind == "C3k2" else 1.0
            )
        parts.append(x)
    y = ctx.add(f"{path}.cat", Concat(), tuple(parts))
    return ctx.conv(f"{path}.cv2", y, c2), c2


def _c2f_args(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, shortcut, g, e = m.args
    return _c2f(ctx, m._replace(args=[c2, shortcut, g, e]), model)


def _c3k2(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, c3k, e, attn, g, shortcut = m.args
    if attn:
        raise ctx.refuse("C3k2 with attn (YOLO26's) is not read")
    model.legacy[0] = False
    c3k = bool(c3k) or model.scale in ("m", "l", "x")
    return _c2f(ctx, m._replace(args=[c2, shortcut, g, e]), model, c3k=c3k, kind="C3k2")


def _c3(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, shortcut, g, e = m.args
    c2 = model.channels(c2)
    return ctx.c3(m.path, m.inputs[0], m.channels[0], c2, m.n, shortcut, g, e), c2


def _sppf(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, k, n, shortcut, written = m.args
    c2 = model.channels(c2)
    c1, path = m.channels[0], m.path
    legacy = written <= 2  # a row of (c2, k) predates YOLO26's SPPF, whose cv1 has no SiLU
    y = ctx.conv(f"{path}.cv1", m.inputs[0], c1 // 2, act=legacy)
    parts = [y]
    pool = MaxPool(f=k, stride=1, pad=k // 2)
    for j in range(n):
        parts.append(ctx.add(f"{path}.m.{j}", pool, (parts[-1],)))
    y = ctx.add(f"{path}.cat", Concat(), tuple(parts))
    y = ctx.conv(f"{path}.cv2", y, c2)
    if shortcut and c1 == c2:
        y = ctx.add(f"{path}.add", Add(), (m.inputs[0], y))
    return y, c2


def _spp(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, ks = m.args
    c2 = model.channels(c2)
    path = m.path
    y = ctx.conv(f"{path}.cv1", m.inputs[0], m.channels[0] // 2)
    parts = [y] + [
        ctx.add(f"{path}.m.{j}", MaxPool(f=k, stride=1, pad=k // 2), (y,)) for j, k in enumerate(ks)
    ]
    y = ctx.add(f"{path}.cat", Concat(), tuple(parts))
    return ctx.conv(f"{path}.cv2", y, c2), c2


def _c2psa(ctx: _Ctx, m: _Layer, model: _Model, blocks: bool = True) -> tuple[str, int]:
    """``C2PSA`` (``n`` PSA blocks on the second half) and ``PSA`` (one attention and
    feed-forward pair)."""
    c1, path = m.channels[0], m.path
    c2 = model.channels(m.args[0])
    if c1 != c2:
        raise ctx.refuse(f"{'C2PSA' if blocks else 'PSA'} keeps its channels: {c1} in, {c2} out")
    c = int(c1 * m.args[-1])
    y = ctx.conv(f"{path}.cv1", m.inputs[0], 2 * c)
    a = ctx.add(f"{path}.split0", Chunk(parts=2, index=0), (y,), kind="split")
    b = ctx.add(f"{path}.split1", Chunk(parts=2, index=1), (y,), kind="split")
    if blocks:
        for j in range(m.n):
            b = ctx.psa_block(f"{path}.m.{j}", b, c)
    else:
        b = ctx.add(
            f"{path}.add1", Add(), (b, ctx.attention(f"{path}.attn", b, c, max(c // 64, 1)))
        )
        f = ctx.conv(f"{path}.ffn.0", b, c * 2)
        f = ctx.conv(f"{path}.ffn.1", f, c, act=False)
        b = ctx.add(f"{path}.add2", Add(), (b, f))
    y = ctx.add(f"{path}.cat", Concat(), (a, b))
    return ctx.conv(f"{path}.cv2", y, c1), c1


def _concat(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    if m.args[0] != 1:
        raise ctx.refuse(f"Concat joins channels (dimension 1), not dimension {m.args[0]}")
    return ctx.add(m.path, Concat(), m.inputs, labels=m.labels), sum(m.channels)


def _upsample(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    size, factor, mode = m.args
    if size is not None:
        raise ctx.refuse("nn.Upsample to a fixed size is not read: give scale_factor")
    if mode not in ("nearest", "bilinear"):
        raise ctx.refuse(f"nn.Upsample mode {mode!r:.20} is not read (nearest, bilinear)")
    return ctx.add(m.path, Upsample(factor, mode=mode), m.inputs[:1]), m.channels[0]


def _classify(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    c2, k, s, p, g = m.args
    y = ctx.conv(f"{m.path}.conv", m.inputs[0], 1280, k, s, p, g)
    y = ctx.add(f"{m.path}.pool", GlobalAvgPool(), (y,))
    y = ctx.add(f"{m.path}.drop", Dropout(0.0), (y,))
    y = ctx.add(f"{m.path}.linear", FC(c2), (y,))
    ctx.dag.output(m.path, ctx.pos, y)
    return y, c2


def _branch(ctx: _Ctx, path: str, x: str, c_mid: int, c_out: int) -> str:
    """A head's branch: two 3x3 Convs and a 1x1 ``nn.Conv2d``."""
    y = ctx.conv(f"{path}.0", x, c_mid, 3)
    y = ctx.conv(f"{path}.1", y, c_mid, 3)
    return ctx.conv2d(f"{path}.2", y, c_out)


def _detect(
    ctx: _Ctx, m: _Layer, model: _Model, extra: tuple[str, int, int] | None = None
) -> tuple[str, int]:
    """``Detect`` and its kin: on each level a box branch (4 x reg_max values) and a class
    branch (nc), and for Segment, Pose and OBB a third (mask coefficients, keypoints, angle),
    concatenated: the level's output, named ``INDEX.LEVEL``. The DFL's fixed 1x1 conv turns
    each coordinate's reg_max bins into one value: a frozen conv on each level's four
    coordinates, its 16 weights counted once (the others share them)."""
    nc, reg_max, path, ch = model.nc, model.reg_max, m.path, m.channels
    c2, c3 = max(16, ch[0] // 4, reg_max * 4), max(ch[0], min(nc, 100))
    legacy = model.legacy[0]
    dfl_owner = ""
    outputs = []
    for j, (x, cx) in enumerate(zip(m.inputs, ch)):
        box = _branch(ctx, f"{path}.cv2.{j}", x, c2, 4 * reg_max)
        if legacy:
            cls = _branch(ctx, f"{path}.cv3.{j}", x, c3, nc)
        else:
            cls = ctx.conv(f"{path}.cv3.{j}.0.0", x, cx, 3, g=cx)
            cls = ctx.conv(f"{path}.cv3.{j}.0.1", cls, c3)
            cls = ctx.conv(f"{path}.cv3.{j}.1.0", cls, c3, 3, g=c3)
            cls = ctx.conv(f"{path}.cv3.{j}.1.1", cls, c3)
            cls = ctx.conv2d(f"{path}.cv3.{j}.2", cls, nc)
        parts = [box, cls]
        if extra is not None:
            name, c4, n4 = extra
            parts.append(_branch(ctx, f"{path}.cv4.{j}", x, c4, n4))
        if reg_max > 1:
            ctx.group(f"{path}.dfl.{j}", "DFL")
            for q in range(4):
                bins = ctx.add(
                    f"{path}.dfl.{j}.{q}.bins", Chunk(parts=4, index=q), (box,), kind="split"
                )
                conv = f"{path}.dfl.{j}.{q}.conv"
                ctx.conv2d(conv, bins, 1, bias=False, shares=dfl_owner, frozen=True)
                dfl_owner = dfl_owner or conv
        level = ctx.add(
            f"{path}.{j}",
            Concat(),
            tuple(parts),
            labels=("box", "cls") + ((extra[0],) if extra else ()),
        )
        outputs.append(level)
        ctx.dag.output(f"{path}.{j}", ctx.pos, level)
    return outputs[-1], 4 * reg_max + nc


def _segment(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    nc, nm, npr = m.args
    npr = model.channels(npr)
    p = f"{m.path}.proto"
    y = ctx.conv(f"{p}.cv1", m.inputs[0], npr, 3)
    y = ctx.add(f"{p}.upsample", TConv(npr, f=2, stride=2, pad=0), (y,))
    y = ctx.conv(f"{p}.cv2", y, npr, 3)
    y = ctx.conv(f"{p}.cv3", y, nm)
    ctx.dag.output(f"{m.path}.proto", ctx.pos, y)
    return _detect(ctx, m, model._replace(nc=nc), ("mask", max(m.channels[0] // 4, nm), nm))


def _pose(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    nc, kpt = m.args
    if len(kpt) != 2 or min(kpt) < 1:
        raise ctx.refuse("kpt_shape is [keypoints, values per keypoint]")
    nk = kpt[0] * kpt[1]
    return _detect(ctx, m, model._replace(nc=nc), ("pose", max(m.channels[0] // 4, nk), nk))


def _obb(ctx: _Ctx, m: _Layer, model: _Model) -> tuple[str, int]:
    nc, ne = m.args
    return _detect(ctx, m, model._replace(nc=nc), ("angle", max(m.channels[0] // 4, ne), ne))


def _head_args(*args: _Arg) -> tuple[_Arg, ...]:
    return (_Arg("nc", "int", _REQUIRED), *args)


MODULES: dict[str, tuple[Builder, tuple[_Arg, ...], bool]] = {
    # name: (builder, its arguments after the input channels, whether it takes repeats)
    "Conv": (
        _conv,
        (
            _Arg("c2", "int", _REQUIRED),
            _Arg("k", "int", 1),
            _Arg("s", "int", 1),
            _Arg("p", "pad", None),
            _Arg("g", "int", 1),
            _Arg("d", "int", 1),
            _Arg("act", "bool", True),
        ),
        False,
    ),
    "DWConv": (
        _dwconv,
        (
            _Arg("c2", "int", _REQUIRED),
            _Arg("k", "int", 1),
            _Arg("s", "int", 1),
            _Arg("d", "int", 1),
            _Arg("act", "bool", True),
        ),
        False,
    ),
    "Bottleneck": (
        _bottleneck,
        (
            _Arg("c2", "int", _REQUIRED),
            _Arg("shortcut", "bool", True),
            _Arg("g", "int", 1),
            _Arg("k", "ints", [3, 3]),
            _Arg("e", "real", 0.5),
        ),
        False,
    ),
    "C2f": (
        _c2f_args,
        (
            _Arg("c2", "int", _REQUIRED),
            _Arg("shortcut", "bool", False),
            _Arg("g", "int", 1),
            _Arg("e", "real", 0.5),
        ),
        True,
    ),
    "C3k2": (
        _c3k2,
        (
            _Arg("c2", "int", _REQUIRED),
            _Arg("c3k", "bool", False),
            _Arg("e", "real", 0.5),
            _Arg("attn", "bool", False),
            _Arg("g", "int", 1),
            _Arg("shortcut", "bool", True),
        ),
        True,
    ),
    "C3": (
        _c3,
        (
            _Arg("c2", "int", _REQUIRED),
            _Arg("shortcut", "bool", True),
            _Arg("g", "int", 1),
            _Arg("e", "real", 0.5),
        ),
        True,
    ),
    "SPPF": (
        _sppf,
        (
            _Arg("c2", "int", _REQUIRED),
            _Arg("k", "int", 5),
            _Arg("n", "int", 3),
            _Arg("shortcut", "bool", False),
        ),
        False,
    ),
    "SPP": (_spp, (_Arg("c2", "int", _REQUIRED), _Arg("k", "ints", [5, 9, 13])), False),
    "C2PSA": (_c2psa, (_Arg("c2", "int", _REQUIRED), _Arg("e", "real", 0.5)), True),
    "PSA": (
        lambda ctx, m, model: _c2psa(ctx, m, model, blocks=False),
        (_Arg("c2", "int", _REQUIRED), _Arg("e", "real", 0.5)),
        False,
    ),
    "Concat": (_concat, (_Arg("dimension", "int", 1),), False),
    "nn.Upsample": (
        _upsample,
        (
            _Arg("size", "pad", None),
            _Arg("scale_factor", "int", 2),
            _Arg("mode", "word", "nearest"),
        ),
        False,
    ),
    "Classify": (
        _classify,
        (
            _Arg("c2", "int", _REQUIRED),
            _Arg("k", "int", 1),
            _Arg("s", "int", 1),
            _Arg("p", "pad", None),
            _Arg("g", "int", 1),
        ),
        False,
    ),
    "Detect": (_detect, _head_args(), False),
    "Segment": (_segment, _head_args(_Arg("nm", "int", 32), _Arg("npr", "int", 256)), False),
    "Pose": (_pose, _head_args(_Arg("kpt_shape", "ints", [17, 3])), False),
    "OBB": (_obb, _head_args(_Arg("ne", "int", 1)), False),
}
"""Every module read: how it is built, its arguments in Ultralytics' order and defaults,
whether the repeats are its own argument (``n`` blocks inside) or copies of it in a row."""

HEADS = ("Detect", "Segment", "Pose", "OBB")
TASKS = {"Detect": "detection", "Segment": "segmentation", "Classify": "classification"}
"""What a network whose last module is this does (Network.task)."""
"""Modules that read several layers and name the network's outputs."""

_TOP_KEYS = {
    "nc",
    "scales",
    "depth_multiple",
    "width_multiple",
    "backbone",
    "head",
    "kpt_shape",
    "reg_max",
    "ch",
    "activation",
    "end2end",
    "scale",
}
_IGNORED_KEYS = {"yaml_file", "task"}


class _Reader:
    """The file's YAML nodes read with their positions; every problem collected."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def fail(self, node: yaml.Node, path: str, message: str) -> Invalid:
        return self.problems.add(node_pos(node), path, message)

    def scalar(self, node: yaml.Node) -> Any:
        from cnncalc.formats.yaml_source import node_value

        return node_value(node)

    def arg(self, node: yaml.Node, spec: _Arg, path: str, names: dict[str, Any]) -> Any:
        value = self.scalar(node)
        if isinstance(value, str) and spec.type != "word":
            if value in names:
                value = names[value]
            elif value in ("None", "True", "False"):
                value = {"None": None, "True": True, "False": False}[value]
        what = f"{spec.name} ({spec.type})"
        t = spec.type
        if t in ("int", "pad") and not (t == "pad" and value is None):
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(
                    node, path, f"{spec.name} must be a whole number, not {value!r:.30}"
                )
            if value < (0 if t == "pad" else 1) or value > MAX_NUMBER:
                least = 0 if t == "pad" else 1
                raise self.fail(
                    node, path, f"{spec.name} must be from {least} to {MAX_NUMBER}, not {value}"
                )
        elif t == "bool":
            if not isinstance(value, bool):
                raise self.fail(node, path, f"{spec.name} must be True or False, not {value!r:.30}")
        elif t == "real":
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 < value <= 16
            ):
                raise self.fail(
                    node, path, f"{spec.name} must be a number above 0, not {value!r:.30}"
                )
        elif t == "ints":
            if (
                not isinstance(value, list)
                or not value
                or not all(
                    isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_NUMBER
                    for v in value
                )
            ):
                raise self.fail(node, path, f"{what}: a list of whole numbers, not {value!r:.30}")
        elif t == "word" and not isinstance(value, str):
            raise self.fail(node, path, f"{spec.name} must be a word, not {value!r:.30}")
        return value


def _number(r: _Reader, node: yaml.Node, what: str, real: bool = False) -> Any:
    value = r.scalar(node)
    ok = isinstance(value, (int, float) if real else int) and not isinstance(value, bool)
    if not ok or not 0 < value <= MAX_NUMBER:
        raise r.fail(
            node,
            "",
            f"{what} must be a {'number' if real else 'whole number'} above 0, not {value!r:.30}",
        )
    return value


def load(
    data: bytes | str,
    source: str = "<ultralytics>",
    scale: str | None = None,
    nc: int | None = None,
) -> Network:
    """The network an Ultralytics model YAML describes at ``scale`` (default: the one its
    name says, else its first), with ``nc`` classes (default: the file's); a SpecError lists
    every problem in it."""
    text = source_text(data, source).removeprefix("\ufeff")
    problems = Problems(source, text)
    try:
        root = yaml.compose(text, Loader=yaml_loader())
    except yaml.YAMLError as e:
        raise SpecError([yaml_problem(e, text)], source, text) from None
    if root is not None:
        for problem in inspect_yaml(root):
            problems.add(problem.pos, problem.path, problem.message)
        problems.check()
    if not isinstance(root, yaml.MappingNode):
        problems.add(
            Pos(1, 1), "", "an Ultralytics model file is a mapping with backbone: and head:"
        )
        problems.check()
        raise AssertionError  # unreachable: check raised
    r = _Reader(problems)
    top: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in root.value:
        key = str(r.scalar(key_node))
        if key in top:
            r.fail(key_node, "", f"{key} is given twice")
        elif key not in _TOP_KEYS | _IGNORED_KEYS:
            r.fail(key_node, "", f"unknown key {key!r:.30}{did_you_mean(key, _TOP_KEYS)}")
        top[key] = (key_node, value_node)
    model = _settings(r, top, source, scale, nc)
    channels_in = 3
    if "ch" in top:
        try:
            channels_in = _number(r, top["ch"][1], "ch")
        except Invalid:
            pass
    lists = True
    for key in ("backbone", "head"):
        if key not in top:
            problems.add(
                node_pos(root), "", f"needs {key}: a list of [from, repeats, module, args]"
            )
            lists = False
        elif not isinstance(top[key][1], yaml.SequenceNode):
            r.fail(top[key][1], "", f"{key} is a list of [from, repeats, module, args]")
            lists = False
    if not lists:
        problems.check()
    rows = [*top["backbone"][1].value, *top["head"][1].value]
    if not rows:
        problems.add(node_pos(root), "", "no layers in backbone: and head:")
        problems.check()
    dag = DagBuilder()
    outputs: list[str] = []
    channels: list[int] = []
    last = INPUT
    last_module = ""
    for i, row in enumerate(rows):
        if isinstance(row, yaml.SequenceNode) and len(row.value) == 4:
            last_module = str(r.scalar(row.value[2]))
        try:
            last, c2 = _layer(r, dag, model, i, row, outputs, channels, channels_in)
        except Invalid:
            last, c2 = outputs[-1] if outputs else INPUT, channels[-1] if channels else channels_in
        outputs.append(last)
        channels.append(c2)
    problems.check()
    name = os.path.splitext(os.path.basename(source))[0] or "ultralytics"
    if model.scale and not scale_in_name(source):
        name += f"-{model.scale}"
    return Network(
        name,
        Shape((SIZE, SIZE), channels_in),
        dag.build(last),
        source=source,
        text=text,
        origin="Ultralytics",
        read_from="ultralytics",
        task=TASKS.get(last_module, ""),
    )


def _settings(
    r: _Reader,
    top: dict[str, tuple[yaml.Node, yaml.Node]],
    source: str,
    scale: str | None,
    nc: int | None,
) -> _Model:
    """The scale's depth, width and maximum channels, the classes and the head's settings."""
    problems = r.problems
    depth = width = 1.0
    max_channels = math.inf
    written = r.scalar(top["scale"][1]) if "scale" in top else ""
    if not isinstance(written, str):
        r.fail(top["scale"][1], "", f"scale is a letter, not {written!r:.20}")
        written = ""
    chosen = scale or scale_in_name(source) or written  # the name's, as Ultralytics overwrites it
    if "scales" in top:
        scales = top["scales"][1]
        known: dict[str, yaml.Node] = {}
        if isinstance(scales, yaml.MappingNode):
            known = {str(r.scalar(k)): v for k, v in scales.value}
        if not known:
            r.fail(scales, "", "scales: maps each scale letter to [depth, width, max_channels]")
        else:
            chosen = chosen or next(iter(known))
            if chosen not in known:
                where = top["scales"][0]
                hint = did_you_mean(chosen, known)
                r.fail(
                    where,
                    "",
                    f"scale {chosen!r:.10} is not one of the file's: {', '.join(known)}{hint}",
                )
            else:
                node = known[chosen]
                if not isinstance(node, yaml.SequenceNode) or len(node.value) != 3:
                    r.fail(node, "", f"scale {chosen}: [depth, width, max_channels]")
                else:
                    try:
                        depth, width = (
                            _number(r, n, w, real=True)
                            for n, w in zip(node.value, ("depth", "width"))
                        )
                        max_channels = _number(r, node.value[2], "max_channels")
                    except Invalid:
                        pass
    else:
        if scale:
            problems.add(Pos(1, 1), "", f"--scale {scale}: the file has no scales:")
        chosen = ""
        for key in ("depth_multiple", "width_multiple"):
            if key in top:
                try:
                    value = _number(r, top[key][1], key, real=True)
                except Invalid:
                    continue
                depth, width = (value, width) if key == "depth_multiple" else (depth, value)
    classes = 80
    if nc is not None:
        classes = nc
    elif "nc" in top:
        try:
            classes = _number(r, top["nc"][1], "nc")
        except Invalid:
            pass
    reg_max = 16
    if "reg_max" in top:
        try:
            reg_max = _number(r, top["reg_max"][1], "reg_max")
        except Invalid:
            pass
    kpt = (17, 3)
    if "kpt_shape" in top:
        value = r.scalar(top["kpt_shape"][1])
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and v > 0 for v in value)
        ):
            kpt = (value[0], value[1])
        else:
            r.fail(top["kpt_shape"][1], "", "kpt_shape is [keypoints, values per keypoint]")
    for key, accepted in (("end2end", (None, False)), ("activation", (None, "nn.SiLU()"))):
        if key in top and r.scalar(top[key][1]) not in accepted:
            r.fail(
                top[key][1],
                "",
                f"{key}: {r.scalar(top[key][1])!r:.30} is not read (only {accepted[1]})",
            )
    return _Model(classes, depth, width, max_channels, chosen, reg_max, kpt, [True])


def _layer(
    r: _Reader,
    dag: DagBuilder,
    model: _Model,
    i: int,
    row: yaml.Node,
    outputs: list[str],
    channels: list[int],
    channels_in: int,
) -> tuple[str, int]:
    """Row ``i``, ``[from, repeats, module, args]``, built onto the graph: its output and its
    channels."""
    path = str(i)
    if not isinstance(row, yaml.SequenceNode) or len(row.value) != 4:
        raise r.fail(row, path, "a layer is [from, repeats, module, args]")
    from_node, n_node, module_node, args_node = row.value
    ctx = _Ctx(dag, r.problems, i, node_pos(row))
    module = r.scalar(module_node)
    if not isinstance(module, str) or module not in MODULES:
        hint = did_you_mean(str(module), MODULES)
        raise r.fail(module_node, path, f"module {module!r:.40} is not read{hint}")
    builder, specs, repeats_inside = MODULES[module]
    # from: one index or a list; negative counts back from this layer (-1: the one before)
    written = r.scalar(from_node)
    many = isinstance(written, list)
    sources = written if many else [written]
    inputs: list[str] = []
    widths: list[int] = []
    for f in sources:
        if isinstance(f, bool) or not isinstance(f, int):
            raise r.fail(from_node, path, f"from names layers by index, not {f!r:.30}")
        target = f if f >= 0 else i + f
        if i == 0 and f == -1:
            inputs.append(INPUT)
            widths.append(channels_in)
        elif 0 <= target < i:
            inputs.append(outputs[target])
            widths.append(channels[target])
        else:
            where = (
                "this layer itself"
                if target == i
                else "a layer ahead"
                if target > i
                else "no layer"
            )
            raise r.fail(from_node, path, f"from {f} names {where}")
    if module in HEADS or module == "Concat":
        if not many and module in HEADS:
            raise r.fail(from_node, path, f"{module} reads a list of layers")
    elif many and len(sources) != 1:
        raise r.fail(from_node, path, f"{module} reads one layer, not {len(sources)}")
    n = r.scalar(n_node)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
        raise r.fail(n_node, path, f"repeats must be a whole number from 1 to 1000, not {n!r:.30}")
    n = max(round(n * model.depth), 1) if n > 1 else n
    if not isinstance(args_node, yaml.SequenceNode):
        raise r.fail(args_node, path, "args is a list")
    if len(args_node.value) > len(specs):
        extra = args_node.value[len(specs)]
        raise r.fail(
            extra,
            path,
            f"{module} takes at most {len(specs)} arguments ({', '.join(a.name for a in specs)})",
        )
    names = {"nc": model.nc, "kpt_shape": list(model.kpt_shape), "reg_max": model.reg_max}
    args: list[Any] = []
    for j, spec in enumerate(specs):
        if j < len(args_node.value):
            args.append(r.arg(args_node.value[j], spec, path, names))
        elif spec.default is _REQUIRED:
            raise r.fail(args_node, path, f"{module} needs {spec.name}")
        else:
            args.append(spec.default)
    if module == "SPPF":
        args.append(len(args_node.value))  # a legacy row (c2, k) activates cv1
    if module == "Pose" and len(args_node.value) < 2:
        args[1] = list(model.kpt_shape)
    labels = tuple(
        "input" if x == INPUT else str(f if f >= 0 else i + f) for x, f in zip(inputs, sources)
    )
    layer = _Layer(path, tuple(inputs), tuple(widths), n if repeats_inside else 1, args, labels)
    dag.group(path, module)
    try:
        if n > 1 and not repeats_inside:
            x, c = inputs[0], widths[0]
            for j in range(n):
                x, c = builder(
                    ctx, layer._replace(path=f"{path}.{j}", inputs=(x,), channels=(c,)), model
                )
        else:
            x, c = builder(ctx, layer, model)
    except UsageError as e:
        raise ctx.refuse(str(e)) from None
    dag.alias(path, x)
    return x, c
