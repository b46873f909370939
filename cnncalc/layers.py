"""Layer kinds: each one a small frozen value class that knows its own arithmetic.

A layer's ``apply`` takes an input :class:`Shape` and returns an
:class:`Outcome`: output shape, trainable parameters, non-trainable buffers,
multiply-accumulates, the padding it actually used, its receptive-field step and
any warnings. Everything is computed per spatial dimension with the formulas of
:mod:`cnncalc.formulas`, so 1D, 2D and 3D inputs share one code path.

Counting conventions (those of torchvision's model table): MACs count the
multiply-accumulates of convolution and fully connected weights only; bias,
batch norm, activations and pooling cost 0. Transposed convolutions count per
input position.
"""

from __future__ import annotations

from collections.abc import Callable
from math import isfinite, prod
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from . import formulas as fm
from .errors import GeometryError, ParameterError, UsageError

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**kwargs):
        return lambda cls: cls


Dims = int | tuple[int, ...]
"""One value for every spatial dimension, or one per dimension."""

PadSpec = int | str | tuple[int | fm.Pad, ...]
"""Padding: a number, a mode (valid, same, same-lower, full), or per dimension a
number or a (before, after) pair."""

PAD_MODES = ("valid", "same", "same-lower", "full")
PAD_WORDS = {mode: ("pad", mode) for mode in PAD_MODES}
"""The padding modes as bare words: ``conv 64 f3 same``."""
FRAMEWORKS = ("pytorch", "tensorflow", "caffe")
"""Frameworks whose defaults a spec can ask for (``convention: caffe``)."""


class Shape(NamedTuple):
    """A tensor without its batch: spatial sizes plus channels (None when unknown)."""

    spatial: tuple[int, ...]
    channels: int | None

    def __str__(self) -> str:
        sizes = [*self.spatial, *([] if self.channels is None else [self.channels])]
        return "x".join(map(str, sizes))

    @property
    def size(self) -> int | None:
        """Number of elements, or None when the channels are unknown."""
        return None if self.channels is None else prod(self.spatial) * self.channels


class RFStep(NamedTuple):
    """Receptive-field step of one dimension [ADS19]: ``r += growth * j``, ``j *= down / up``."""

    growth: int = 0
    down: int = 1
    up: int = 1


class Outcome(NamedTuple):
    """What one layer does to one input."""

    shape: Shape
    params: int | None = 0
    buffers: int = 0
    macs: int | None = 0
    padding: tuple[fm.Pad, ...] = ()
    rf: tuple[RFStep, ...] = ()
    warnings: tuple[str, ...] = ()


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


def _leftover_warnings(
    op: str,
    ns: tuple[int, ...],
    fs: tuple[int, ...],
    ss: tuple[int, ...],
    pads: tuple[fm.Pad, ...],
    ds: tuple[int, ...],
) -> tuple[str, ...]:
    """One warning per distinct case where input rows or columns are never reached by a
    window (a remainder that leaves out only padding loses nothing, so is not one);
    dimensions with the same numbers (a square input) share one warning."""
    cases: dict[tuple[int, int, int, fm.Pad, int], list[str]] = {}
    for name, n, f, s, pad, d in zip(dimension_names(len(ns)), ns, fs, ss, pads, ds):
        if fm.unreached(n, f, s, pad, d):
            cases.setdefault((n, f, s, pad, d), []).append(name)
    warnings = []
    for (n, f, s, pad, d), names in cases.items():
        extent = fm.effective_kernel(f, d)
        span = n + pad[0] + pad[1] - extent
        missed = fm.unreached(n, f, s, pad, d)
        if missed > 1:
            where = f"{' and '.join(names)} {n - missed + 1}-{n}"
        else:
            where = f"{' and '.join(name[:-1] for name in names)} {n}"
        warnings.append(
            f"{op}: {' and '.join(names)}: ({n} + {pad[0] + pad[1]} - {extent})/{s} + 1 = "
            f"{_div(span + s, s)} is not an integer; floored to {span // s + 1}, "
            f"input {where} (of {n}) never covered by a window"
        )
    return tuple(warnings)


def _div(a: int, b: int) -> str:
    """``a/b`` exactly: a decimal when it ends (``112.5``), else the reduced fraction (``8/3``).

    >>> _div(1000001, 2), _div(8, 3), _div(15, 6), _div(-7, 4)
    ('500000.5', '8/3', '2.5', '-1.75')
    """
    from math import gcd

    g = gcd(a, b)
    a, b = a // g, b // g
    twos, fives = (b & -b).bit_length() - 1, 0
    while b % 5 ** (fives + 1) == 0:
        fives += 1
    if b != 2**twos * 5**fives:
        return f"{a}/{b}"
    places = max(twos, fives)
    digits = str(abs(a) * 10**places // b).rjust(places + 1, "0")
    sign = "-" if a < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}" if places else f"{sign}{digits}"


def _check_groups(groups: int, cin: int | None, cout: int | None) -> None:
    """Groups (at least 1, checked when the layer was made) that divide both channel counts."""
    for what, c in (("input channels", cin), ("filters", cout)):
        if c is not None and c % groups:
            raise GeometryError(f"groups {groups} does not divide the {c} {what}")


def _frozen(value: Any) -> Any:
    """Lists as tuples, two levels deep (a padding per dimension: ``[[0, 1], [1, 0]]``), so
    that a layer written from Python is a hashable value like one read from a spec."""
    if isinstance(value, (list, tuple)):
        return tuple(tuple(v) if isinstance(v, (list, tuple)) else v for v in value)
    return value


class Parameter:
    """One declared parameter of a layer kind: its annotation (as written), the type it names
    (a key of PARAMETER_TYPES, which every front end and the schema convert by) and default.

    A plain class: a named tuple costs more to define than many of this module's kinds together."""

    __slots__ = ("type", "base", "optional", "default")

    def __init__(self, type: str, default: Any) -> None:
        self.type, self.default = type, default
        self.base = type.removesuffix(" | None")
        self.optional = self.base != type

    def __repr__(self) -> str:
        return f"Parameter({self.type!r}, {self.default!r})"


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dims(value: object) -> bool:
    return _whole(value) or (isinstance(value, tuple) and bool(value) and all(map(_whole, value)))


def _padding(value: object) -> bool:
    pairs = isinstance(value, tuple) and all(
        _whole(v) or (isinstance(v, tuple) and len(v) == 2 and all(map(_whole, v))) for v in value
    )
    return isinstance(value, str) or _whole(value) or pairs


PARAMETER_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "int": (_whole, "a whole number"),
    "bool": (lambda v: isinstance(v, bool), "True or False"),
    "float": (lambda v: _whole(v) or (isinstance(v, float) and isfinite(v)), "a finite number"),
    "str": (lambda v: isinstance(v, str), "a word"),
    "Dims": (_dims, "a whole number, or one per dimension"),
    "PadSpec": (_padding, "a number, a mode, or per dimension a number or (before, after)"),
}
"""What each parameter type admits, and how to say so: the types a kind may declare. The
spec reader's conversions and the schema's JSON types are keyed by the same names (a test
holds all three to one set)."""


LIMITS: dict[str, tuple[str, int]] = {
    "filters": ("filters", 1),
    "f": ("kernel size f", 1),
    "stride": ("stride", 1),
    "pad": ("padding", 0),
    "dilation": ("dilation", 1),
    "output_padding": ("output padding", 0),
    "target": ("target", 1),
    "groups": ("groups", 1),
    "multiplier": ("multiplier", 1),
    "out": ("output features", 1),
    "size": ("size", 1),
    "factor": ("factor", 1),
    "border": ("crop border", 0),
    "parts": ("parts", 1),
    "index": ("index", 0),
    "offset": ("crop offset", 0),
}
"""What a whole-number parameter is called in messages and its least value, the same in
every kind that declares a parameter of that name; checked when a layer is made."""


def _numbers(value: object) -> list[int]:
    """The whole numbers in a parameter value (a number, or one per dimension)."""
    if isinstance(value, tuple):
        return [n for v in value for n in _numbers(v)]
    return [value] if _whole(value) else []  # type: ignore[list-item]


def _check_type(kind: str, name: str, parameter: Parameter, value: object) -> None:
    """A UsageError unless ``value`` is of the type the kind declares for ``name`` and each of
    its numbers at least the parameter's least value (LIMITS)."""
    if value is None and parameter.optional:
        return
    admits, what = PARAMETER_TYPES[parameter.base]
    if not admits(value):
        raise ParameterError(f"{kind}: {name} must be {what}, not {value!r:.40}", name)
    if name not in LIMITS:
        return
    label, least = LIMITS[name]
    for n in _numbers(value):
        if n < least:
            raise ParameterError(f"{kind}: {label} must be at least {least}, not {n}", name)


@dataclass_transform(frozen_default=True)
class Layer:
    """Base of every layer kind: a frozen value whose parameters are its annotated attributes.

    Subclasses declare parameters as annotated class attributes with defaults, as a
    dataclass would; ``__init_subclass__`` collects them into ``parameters``. Kinds
    are defined this way rather than with ``@dataclass`` because generating code for the
    first 27 kinds took ~35 ms of every start-up, a third of a command's time.
    """

    kind: ClassVar[str]
    summary: ClassVar[str]
    references: ClassVar[tuple[str, ...]] = ()
    """Fields that name another layer, whose output shape the tracer supplies."""
    spatial: ClassVar[bool] = False
    """Whether the kind works on spatial dimensions, so a flat input (after fc) is an error."""
    joins: ClassVar[bool] = False
    """Whether the kind joins several inputs, the branches of a merge (see Join)."""
    primary: ClassVar[str | None] = None
    """The parameter a bare value sets in the inline form: ``conv 64`` has 64 filters."""
    words: ClassVar[dict[str, tuple[str, Any]]] = {}
    """Bare words of the inline form and the parameter value each sets: ``ceil``, ``nobias``."""
    conventions: ClassVar[dict[str, dict[str, Any]]] = {}
    """Defaults a framework's convention changes, by convention: TensorFlow pads SAME."""
    worked: ClassVar[str] = ""
    """The formula a single-layer report works through for this kind (``window``,
    ``transposed``, ``unpooled``, ``global``, ``dense``), if any: render writes it out."""
    parameters: ClassVar[dict[str, Parameter]] = {}
    """Every parameter in declaration order, base classes first."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = {
            name: Parameter(str(annotation), cls.__dict__.get(name))
            for name, annotation in cls.__dict__.get("__annotations__", {}).items()
            if not str(annotation).startswith("ClassVar")
        }
        cls.parameters = {**cls.parameters, **own}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = list(self.parameters)
        if len(args) > len(names):
            most = f"at most {len(names)} values ({', '.join(names)})" if names else "no values"
            raise UsageError(f"{self.kind} takes {most}")
        values = {name: p.default for name, p in self.parameters.items()}
        values.update(zip(names, map(_frozen, args)))
        for name, value in kwargs.items():
            if name not in values:
                raise UsageError(
                    f"{self.kind} has no parameter {name!r} (it takes {', '.join(names) or 'none'})"
                )
            values[name] = _frozen(value)
        for name, value in values.items():
            _check_type(self.kind, name, self.parameters[name], value)
        self.__dict__.update(values)
        key = (type(self), tuple(values.values()))
        self.__dict__["_key"] = key
        self.__dict__["_hash"] = hash(key)  # hashable: every admitted type is

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a layer is a value: use replace() to change {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layer) and self.__dict__["_key"] == other.__dict__["_key"]

    def __hash__(self) -> int:
        return self.__dict__["_hash"]

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.parameters)
        return f"{type(self).__name__}({args})"

    def dims(self, name: str, ndim: int, value: Any = None) -> tuple[int, ...]:
        """Parameter ``name`` (or ``value`` in its place) for each of ``ndim`` dimensions; its
        least value was checked when the layer was made."""
        return per_dim(getattr(self, name) if value is None else value, ndim, LIMITS[name][0])

    def replace(self, **changes: Any) -> Layer:
        """A copy with some parameters changed."""
        return type(self)(**{**{n: getattr(self, n) for n in self.parameters}, **changes})

    def bind(self, shape_of: Callable[[str], Shape]) -> Layer:
        """This layer with every referenced name replaced by what it needs of that shape."""
        return self

    def apply(self, x: Shape) -> Outcome:
        """Output shape, counts and receptive-field step for input ``x``."""
        raise NotImplementedError

    def _identity(self, x: Shape) -> Outcome:
        return Outcome(x, rf=tuple(RFStep() for _ in x.spatial))


REGISTRY: dict[str, type[Layer]] = {}
ALIASES: dict[str, str] = {}


def register(*aliases: str) -> Callable[[type[Layer]], type[Layer]]:
    """Class decorator adding a layer kind (and aliases) to the registry."""

    def add(cls: type[Layer]) -> type[Layer]:
        REGISTRY[cls.kind] = cls
        for alias in aliases:
            ALIASES[alias] = cls.kind
        return cls

    return add


@register("conv2d", "convolution")
class Conv(Layer):
    spatial = True
    kind = "conv"
    worked = "window"
    primary = "filters"
    words = {**PAD_WORDS, "nobias": ("bias", False)}
    conventions = {"tensorflow": {"pad": "same"}}
    summary = "convolution: filters (K), f, stride, pad, dilation, groups, bias"
    filters: int | None = None
    f: Dims = 3
    stride: Dims = 1
    pad: PadSpec = 0
    dilation: Dims = 1
    groups: int = 1
    bias: bool = True

    def windows(self, x: Shape) -> tuple[tuple[int, ...], ...]:
        """Kernel, stride, dilation per dimension, validated."""
        nd = len(x.spatial)
        return self.dims("f", nd), self.dims("stride", nd), self.dims("dilation", nd)

    def apply(self, x: Shape) -> Outcome:
        fs, ss, ds = self.windows(x)
        pads = resolve_padding(self.pad, x.spatial, fs, ss, ds)
        out = tuple(
            fm.conv_output(n, f, s, p, d) for n, f, s, p, d in zip(x.spatial, fs, ss, pads, ds)
        )
        cin, cout = x.channels, self.filters
        _check_groups(self.groups, cin, cout)
        params = macs = None
        if cin is not None and cout is not None:
            weights = cout * (cin // self.groups) * prod(fs)
            params = weights + (cout if self.bias else 0)
            macs = prod(out) * weights
        return Outcome(
            Shape(out, cout),
            params,
            macs=macs,
            padding=pads,
            rf=tuple(RFStep(d * (f - 1), s) for f, s, d in zip(fs, ss, ds)),
            warnings=_leftover_warnings(self.kind, x.spatial, fs, ss, pads, ds),
        )


@register("depthwise", "dwconv2d")
class DepthwiseConv(Conv):
    """A convolution with one group per input channel, as PyTorch's ``Conv2d(C, K, groups=C)``
    and Keras' ``DepthwiseConv2D``: K filters, a multiple of C (Keras' depth multiplier K/C)."""

    kind = "dwconv"
    summary = (
        "depthwise convolution: filters (a multiple of the input channels; default C) "
        "or multiplier, f, stride, pad"
    )
    groups: int | None = None  # type: ignore[assignment]  # None: C, whatever C is
    """Always the input channels; given only to be checked."""
    multiplier: int | None = None

    def apply(self, x: Shape) -> Outcome:
        c = x.channels
        if c is None:
            raise UsageError("a depthwise convolution needs the input depth")
        if self.groups is not None and self.groups != c:
            raise GeometryError(
                f"a depthwise convolution has one group per input channel ({c}), not "
                f"{self.groups}; a grouped convolution is conv with groups"
            )
        filters = self.filters
        if self.multiplier is not None:
            if filters is not None and filters != c * self.multiplier:
                raise UsageError(
                    f"filters {filters} disagrees with multiplier {self.multiplier} "
                    f"({c} input channels x {self.multiplier} = {c * self.multiplier})"
                )
            filters = c * self.multiplier
        filters = c if filters is None else filters
        if filters % c:
            raise GeometryError(
                f"a depthwise convolution's {filters} filters are not a multiple of its "
                f"{c} input channels"
            )
        shared = {n: getattr(self, n) for n in Conv.parameters if n not in ("groups", "filters")}
        return Conv(filters, groups=c, **shared).apply(x)


@register("deconv", "convtranspose", "conv_transpose", "transposed")
class TConv(Layer):
    spatial = True
    kind = "tconv"
    worked = "transposed"
    primary = "filters"
    words = {"nobias": ("bias", False)}
    summary = "transposed convolution: filters, f, stride, pad, output_padding, dilation, groups"
    filters: int | None = None
    f: Dims = 3
    stride: Dims = 1
    pad: Dims = 0
    dilation: Dims = 1
    output_padding: Dims = 0
    groups: int = 1
    bias: bool = True
    target: Dims | None = None
    """When set, the output padding is chosen so the output has this size."""

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        fs, ss, ds = self.dims("f", nd), self.dims("stride", nd), self.dims("dilation", nd)
        ps = self.dims("pad", nd)
        pads = tuple((p, p) for p in ps)
        if self.target is None:
            ops = self.dims("output_padding", nd)
        else:
            targets = self.dims("target", nd)
            found = [
                fm.tconv_output_padding(m, n, f, s, p, d)
                for m, n, f, s, p, d in zip(targets, x.spatial, fs, ss, pads, ds)
            ]
            for m, a in zip(targets, found):
                if a is None:
                    raise GeometryError(
                        f"no output padding makes a {x} input reach {m}: "
                        f"no convolution with these settings maps {m} to {x.spatial}"
                    )
            ops = tuple(a for a in found if a is not None)
        out = tuple(
            fm.tconv_output(n, f, s, p, d, a)
            for n, f, s, p, d, a in zip(x.spatial, fs, ss, pads, ds, ops)
        )
        cin, cout = x.channels, self.filters
        _check_groups(self.groups, cin, cout)
        params = macs = None
        if cin is not None and cout is not None:
            weights = cin * (cout // self.groups) * prod(fs)
            params = weights + (cout if self.bias else 0)
            macs = prod(x.spatial) * weights
        return Outcome(
            Shape(out, cout),
            params,
            macs=macs,
            padding=pads,
            rf=tuple(RFStep(d * (f - 1) // s, 1, s) for f, s, d in zip(fs, ss, ds)),
        )


class Pool(Layer):
    """Max or average pooling; the stride defaults to the kernel size."""

    spatial = True
    kind = "pool"
    worked = "window"
    primary = "f"
    words = {**PAD_WORDS, "ceil": ("ceil", True)}
    conventions = {"tensorflow": {"pad": "same"}, "caffe": {"ceil": True}}
    summary = "pooling: f, stride (default f), pad (at most f/2), ceil, dilation"
    f: Dims = 2
    stride: Dims | None = None
    pad: PadSpec = 0
    dilation: Dims = 1
    ceil: bool = False

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        fs = self.dims("f", nd)
        ss = self.dims("stride", nd, fs if self.stride is None else None)
        ds = self.dims("dilation", nd)
        pads = resolve_padding(self.pad, x.spatial, fs, ss, ds)
        for f, (before, after) in zip(fs, pads):
            if max(before, after) * 2 > f:
                raise GeometryError(
                    f"pooling padding {max(before, after)} is more than half the kernel size {f}"
                )
        out = tuple(
            fm.pool_output(n, f, s, p, d, self.ceil)
            for n, f, s, p, d in zip(x.spatial, fs, ss, pads, ds)
        )
        warnings = () if self.ceil else _leftover_warnings(self.kind, x.spatial, fs, ss, pads, ds)
        return Outcome(
            Shape(out, x.channels),
            padding=pads,
            rf=tuple(RFStep(d * (f - 1), s) for f, s, d in zip(fs, ss, ds)),
            warnings=warnings,
        )


@register("pool", "max_pool", "maxpool2d")
class MaxPool(Pool):
    kind = "maxpool"
    summary = "max pooling: f, stride (default f), pad, ceil"


@register("avg_pool", "avgpool2d")
class AvgPool(Pool):
    kind = "avgpool"
    summary = "average pooling: f, stride (default f), pad, ceil"


def _global(x: Shape) -> Outcome:
    return Outcome(
        Shape(tuple(1 for _ in x.spatial), x.channels),
        rf=tuple(RFStep(n - 1, n) for n in x.spatial),
    )


@register("gap", "global_avg_pool", "globalavgpool")
class GlobalAvgPool(Layer):
    spatial = True
    kind = "gavgpool"
    worked = "global"
    summary = "global average pooling: H x W x C -> 1 x 1 x C"

    def apply(self, x: Shape) -> Outcome:
        return _global(x)


@register("gmp", "global_max_pool", "globalmaxpool")
class GlobalMaxPool(Layer):
    spatial = True
    kind = "gmaxpool"
    worked = "global"
    summary = "global max pooling: H x W x C -> 1 x 1 x C"

    def apply(self, x: Shape) -> Outcome:
        return _global(x)


def _adaptive_window(n: int, m: int) -> int:
    """Widest window of adaptive pooling from n to m: window i is
    ``floor(i*n/m) .. ceil((i+1)*n/m)`` [PT AdaptiveAvgPool2d], so may exceed ``ceil(n/m)``.

    With ``n = q*m + r`` window i is ``q + ceil((a + r)/m)`` wide, where ``a = i*r mod m``
    runs over the multiples of ``gcd(r, m)`` below m: the widest is q when r = 0, q + 1 when r
    divides m (then a + r <= m always), else q + 2. Arithmetic, so a size of 10**8 is instant.

    >>> _adaptive_window(8, 4), _adaptive_window(7, 3), _adaptive_window(5, 3)   # q, q+1, q+2
    (2, 3, 3)
    >>> _adaptive_window(3, 4)      # a larger output: windows overlap, as in PyTorch
    2
    """
    q, r = divmod(n, m)
    return q if r == 0 else q + 1 if m % r == 0 else q + 2


@register("adaptiveavgpool", "adaptive_avg_pool")
class AdaptiveAvgPool(Layer):
    spatial = True
    kind = "adaptivepool"
    primary = "size"
    summary = "adaptive average pooling to a fixed output size"
    size: Dims = 1

    def apply(self, x: Shape) -> Outcome:
        sizes = self.dims("size", len(x.spatial))
        return Outcome(
            Shape(sizes, x.channels),
            rf=tuple(
                RFStep(_adaptive_window(n, m) - 1, max(n // m, 1)) for n, m in zip(x.spatial, sizes)
            ),
        )


UNPOOL_MODES = ("nails", "nearest", "max")


def _one_of(kind: str, given: dict[str, object]) -> None:
    """A UsageError unless at most one of the alternative parameters ``given`` is set."""
    set_ = [name for name, value in given.items() if value is not None]
    if len(set_) > 1:
        raise UsageError(f"{kind} takes one of {', '.join(given)}, not both {' and '.join(set_)}")


def _bound(kind: str, to: str | None) -> None:
    """A reference left unbound: the layer was applied outside a traced network."""
    if to is not None:
        raise UsageError(f"{kind}: to={to} names a layer, so needs a traced network")


@register()
class Unpool(Layer):
    """Bed of nails or nearest neighbour by a factor; max-unpool as the inverse of a pool,
    to the size the pool's input had (``size``, or ``to`` a named layer: SegNet's indices)."""

    spatial = True
    kind = "unpool"
    worked = "unpooled"
    primary = "factor"
    words = {mode: ("mode", mode) for mode in UNPOOL_MODES}
    summary = (
        "unpooling: mode nails|nearest (factor) or max (f, stride, pad of the pool; "
        "size or to: the pool's input size, or the layer that fed the pool)"
    )
    mode: str = "nearest"
    factor: Dims = 2
    f: Dims = 2
    stride: Dims | None = None
    pad: Dims = 0
    size: Dims | None = None
    """Max unpooling: the output size, as PyTorch's ``MaxUnpool2d(...)(x, i, output_size)``."""
    to: str | None = None
    references = ("to",)

    def bind(self, shape_of: Callable[[str], Shape]) -> Layer:
        if self.to is None or self.size is not None:
            return self  # apply refuses size and to together
        return self.replace(size=shape_of(self.to).spatial, to=None)

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        if self.mode not in UNPOOL_MODES:
            raise UsageError(
                f"unknown unpooling mode {self.mode!r} (use {', '.join(UNPOOL_MODES)})"
            )
        _one_of(self.kind, {"size": self.size, "to": self.to})
        if self.mode != "max" and (self.size, self.to) != (None, None):
            raise UsageError(
                f"unpool: size and to are for mode=max, not {self.mode} "
                "(upsample size= or to= resizes by interpolation)"
            )
        _bound(self.kind, self.to)
        if self.mode == "max":
            fs = self.dims("f", nd)
            ss = self.dims("stride", nd, fs if self.stride is None else None)
            ps = self.dims("pad", nd)
            if self.size is None:
                out = tuple(
                    fm.max_unpool_output(n, f, s, p) for n, f, s, p in zip(x.spatial, fs, ss, ps)
                )
            else:
                out = self.dims("size", nd)
                _check_unpooled(x, out, fs, ss, ps)
            rf = tuple(RFStep(0, 1, s) for s in ss)
        else:
            factors = self.dims("factor", nd)
            out = tuple(fm.upsample_output(n, k) for n, k in zip(x.spatial, factors))
            rf = tuple(RFStep(0, 1, k) for k in factors)
        return Outcome(Shape(out, x.channels), rf=rf)


def _check_unpooled(
    x: Shape,
    sizes: tuple[int, ...],
    fs: tuple[int, ...],
    ss: tuple[int, ...],
    ps: tuple[int, ...],
) -> None:
    """A GeometryError unless pooling ``sizes`` with these windows (floor or ceil mode) gives
    the unpool's input: only then can the pool's indices point back into that size."""
    cannot = f"max unpooling of a {x} input cannot give {'x'.join(map(str, sizes))}"
    for name, n, m, f, s, p in zip(dimension_names(len(sizes)), x.spatial, sizes, fs, ss, ps):
        try:
            floor, ceil = (fm.pool_output(m, f, s, (p, p), 1, ceil) for ceil in (False, True))
        except GeometryError as e:
            raise GeometryError(f"{cannot}: pooling {m} {name}: {e}") from None
        if n not in (floor, ceil):
            gives = f"{floor}" if floor == ceil else f"{floor} ({ceil} in ceil mode)"
            raise GeometryError(
                f"{cannot}: pooling {m} {name} with f {f}, stride {s}, pad {p} gives {gives}, "
                f"not {n}"
            )


UPSAMPLE_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
"""torch.nn.functional.interpolate's modes: each gives the same shape."""


@register("upsampling", "interpolate")
class Upsample(Layer):
    """Upsampling by an integer factor, or resizing to a fixed size or to a named layer's
    size (FCN's and DeepLab's ``F.interpolate(x, size=...)``), whatever the input size."""

    spatial = True
    kind = "upsample"
    primary = "factor"
    words = {mode: ("mode", mode) for mode in ("nearest", "bilinear", "bicubic")}
    summary = (
        "upsampling (nearest or bilinear: same shape): factor (default 2), size, "
        "or to (a named layer's size)"
    )
    factor: Dims | None = None
    """None: 2, unless size or to is given."""
    mode: str = "nearest"
    size: Dims | None = None
    to: str | None = None
    references = ("to",)

    def bind(self, shape_of: Callable[[str], Shape]) -> Layer:
        if self.to is None or self.size is not None or self.factor is not None:
            return self  # apply refuses more than one of them
        return self.replace(size=shape_of(self.to).spatial, to=None)

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        if self.mode not in UPSAMPLE_MODES:
            modes = ", ".join(UPSAMPLE_MODES)
            raise UsageError(f"unknown upsampling mode {self.mode!r} (PyTorch's: {modes})")
        _one_of(self.kind, {"factor": self.factor, "size": self.size, "to": self.to})
        _bound(self.kind, self.to)
        if self.size is not None:
            out = self.dims("size", nd)
            # the jump scales by in/out exactly: a Fraction when the scale is not whole
            rf = tuple(RFStep(0, n, m) for n, m in zip(x.spatial, out))
            return Outcome(Shape(out, x.channels), rf=rf)
        factor = 2 if self.factor is None else self.factor
        factors = self.dims("factor", nd, factor)
        out = tuple(fm.upsample_output(n, k) for n, k in zip(x.spatial, factors))
        return Outcome(Shape(out, x.channels), rf=tuple(RFStep(0, 1, k) for k in factors))


@register("linear", "dense", "fully_connected")
class FC(Layer):
    """Fully connected: the input is flattened (H*W*C) and mapped to ``out`` features."""

    kind = "fc"
    worked = "dense"
    primary = "out"
    words = {"nobias": ("bias", False)}
    summary = "fully connected: out features, bias (input flattened first)"
    out: int = 1
    bias: bool = True

    def apply(self, x: Shape) -> Outcome:
        n_in = x.size
        params = macs = None
        if n_in is not None:
            macs = n_in * self.out
            params = macs + (self.out if self.bias else 0)
        return Outcome(
            Shape((), self.out),
            params,
            macs=macs,
            rf=tuple(RFStep(n - 1, n) for n in x.spatial),
        )


@register()
class Flatten(Layer):
    kind = "flatten"
    summary = "flatten H x W x C into H*W*C features"

    def apply(self, x: Shape) -> Outcome:
        return Outcome(Shape((), x.size), rf=tuple(RFStep(n - 1, n) for n in x.spatial))


@register("bn", "batchnorm2d")
class BatchNorm(Layer):
    """Batch norm: scale and shift per channel; running mean and variance are buffers."""

    kind = "batchnorm"
    summary = "batch norm: 2C trainable, 2C running statistics (non-trainable)"

    def apply(self, x: Shape) -> Outcome:
        c = x.channels
        if c is None:
            raise UsageError("batch norm needs the input depth")
        return self._identity(x)._replace(params=2 * c, buffers=2 * c)


@register()
class Identity(Layer):
    kind = "identity"
    summary = "passes its input on unchanged"

    def apply(self, x: Shape) -> Outcome:
        return self._identity(x)


@register("localresponsenorm")
class LRN(Identity):
    kind = "lrn"
    primary = "size"
    summary = "local response normalisation: size (no parameters)"
    size: int = 5


@register()
class Dropout(Identity):
    kind = "dropout"
    primary = "p"
    summary = "dropout: p (no parameters)"
    p: float = 0.5

    def apply(self, x: Shape) -> Outcome:
        if not 0 <= self.p <= 1:
            raise UsageError(f"{self.kind}: p is a probability from 0 to 1, not {self.p}")
        return self._identity(x)


@register("stochasticdepth", "stochastic_depth", "drop_path")
class DropPath(Dropout):
    """Stochastic depth: a residual branch dropped whole, with probability p (torchvision's
    ``StochasticDepth(p, "row")``); no parameters, shape unchanged."""

    kind = "droppath"
    summary = "stochastic depth: p (no parameters)"


def _depth(kind: str, x: Shape) -> int:
    """The input's channels, which a per-channel kind cannot do without."""
    if x.channels is None:
        raise UsageError(f"{kind} needs the input depth")
    return x.channels


def _divides(kind: str, what: str, n: int, c: int) -> None:
    """A GeometryError naming both numbers unless ``n`` divides ``c`` channels."""
    if c % n:
        raise GeometryError(f"{kind}: {what} {n} does not divide the {c} input channels")


@register("layer_norm", "layernorm2d")
class LayerNorm(Identity):
    """Layer norm over the channels at each position, as ConvNeXt's ``LayerNorm2d(C)``
    (``nn.LayerNorm(C)`` after fc): a scale and a shift per channel, no running statistics."""

    kind = "layernorm"
    summary = "layer norm over the channels: 2C trainable, no buffers"

    def apply(self, x: Shape) -> Outcome:
        return self._identity(x)._replace(params=2 * _depth(self.kind, x))


@register("group_norm")
class GroupNorm(Identity):
    """Group norm, as ``nn.GroupNorm(G, C)``: a scale and a shift per channel, no buffers."""

    kind = "groupnorm"
    primary = "groups"
    summary = "group norm: groups (dividing C); 2C trainable, no buffers"
    groups: int | None = None

    def apply(self, x: Shape) -> Outcome:
        c = _depth(self.kind, x)
        if self.groups is None:
            raise UsageError(f"{self.kind} needs groups (e.g. {self.kind} 32)")
        _divides(self.kind, "groups", self.groups, c)
        return self._identity(x)._replace(params=2 * c)


@register("layer_scale")
class LayerScale(Identity):
    """A learnt scale per channel, as ConvNeXt's ``layer_scale`` (``dim x 1 x 1``)."""

    kind = "layerscale"
    summary = "a learnt scale per channel: C trainable"

    def apply(self, x: Shape) -> Outcome:
        return self._identity(x)._replace(params=_depth(self.kind, x))


@register("channelshuffle", "channel_shuffle")
class Shuffle(Identity):
    """ShuffleNet's channel shuffle: the channels reordered across groups, nothing learnt."""

    kind = "shuffle"
    primary = "groups"
    summary = "channel shuffle: groups (dividing C); shape unchanged, no parameters"
    groups: int = 2

    def apply(self, x: Shape) -> Outcome:
        _divides(self.kind, "groups", self.groups, _depth(self.kind, x))
        return self._identity(x)


@register()
class Chunk(Identity):
    """One of ``parts`` equal channel groups, as ``x.chunk(parts, dim=1)[index]``
    (ShuffleNetV2's channel split)."""

    kind = "chunk"
    primary = "parts"
    summary = "channel split: the index-th (from 0) of parts equal channel groups"
    parts: int = 2
    index: int = 0

    def apply(self, x: Shape) -> Outcome:
        c = _depth(self.kind, x)
        _divides(self.kind, "parts", self.parts, c)
        if not 0 <= self.index < self.parts:
            raise UsageError(
                f"{self.kind}: index must be from 0 to {self.parts - 1}, not {self.index}"
            )
        return self._identity(x)._replace(shape=Shape(x.spatial, c // self.parts))


def _activation(name: str, what: str, *aliases: str) -> type[Layer]:
    """A parameter-free, shape-preserving activation kind."""
    cls = type(name, (Identity,), {"kind": name.lower(), "summary": what, "__doc__": what})
    return register(*aliases)(cls)


ReLU = _activation("ReLU", "activation max(0, x)")
ReLU6 = _activation("ReLU6", "activation min(max(0, x), 6)")
Sigmoid = _activation("Sigmoid", "activation 1/(1+e^-x)")
Tanh = _activation("Tanh", "activation tanh(x)")
Hardswish = _activation("Hardswish", "activation x*relu6(x+3)/6", "hswish")
Softmax = _activation("Softmax", "softmax over the features")
GELU = _activation("GELU", "activation x*Phi(x), Phi the normal distribution")
SiLU = _activation("SiLU", "activation x*sigmoid(x)", "swish")
Mish = _activation("Mish", "activation x*tanh(softplus(x))")
Hardsigmoid = _activation("Hardsigmoid", "activation relu6(x+3)/6", "hsigmoid")


@register("leaky_relu", "lrelu")
class LeakyReLU(Identity):
    kind = "leakyrelu"
    primary = "slope"
    summary = "activation max(slope*x, x): slope"
    slope: float = 0.01


@register()
class PReLU(Identity):
    kind = "prelu"
    words = {"perchannel": ("per_channel", True)}
    summary = "activation with a learnt slope: one per channel, or one in all"
    per_channel: bool = False

    def apply(self, x: Shape) -> Outcome:
        if self.per_channel and x.channels is None:
            raise UsageError("a per-channel PReLU needs the input depth")
        slopes = x.channels if self.per_channel and x.channels is not None else 1
        return self._identity(x)._replace(params=slopes)


@register("pad", "zeropad2d")
class ZeroPad(Layer):
    spatial = True
    kind = "zeropad"
    primary = "pad"
    summary = "zero padding: pad (number, per dimension, or before:after)"
    pad: PadSpec = 1

    def apply(self, x: Shape) -> Outcome:
        ones = tuple(1 for _ in x.spatial)
        pads = resolve_padding(self.pad, x.spatial, ones, ones, ones)
        out = tuple(n + b + a for n, (b, a) in zip(x.spatial, pads))
        return Outcome(Shape(out, x.channels), padding=pads, rf=tuple(RFStep() for _ in out))


@register()
class Crop(Layer):
    """Centre crop to ``size``, or by ``border`` on each side (U-Net's crop-and-concat)."""

    spatial = True
    kind = "crop"
    primary = "size"
    summary = (
        "centre crop: size (output size), border (removed per side) or to (a named layer); "
        "offset: start there"
    )
    size: Dims | None = None
    border: Dims | None = None
    to: str | None = None
    references = ("to",)
    offset: Dims | None = None
    """Where the crop starts in each dimension (Caffe's crop ``offset``); None: centred."""

    def bind(self, shape_of: Callable[[str], Shape]) -> Layer:
        if self.to is None or self.size is not None or self.border is not None:
            return self  # apply refuses more than one of them
        return self.replace(size=shape_of(self.to).spatial, to=None)

    def apply(self, x: Shape) -> Outcome:
        nd = len(x.spatial)
        _one_of(self.kind, {"size": self.size, "border": self.border, "to": self.to})
        _bound(self.kind, self.to)
        if self.size is not None:
            sizes = self.dims("size", nd)
        elif self.border is not None:
            borders = self.dims("border", nd)
            sizes = tuple(n - 2 * b for n, b in zip(x.spatial, borders))
        else:
            raise UsageError("crop needs a size, a border or a layer to match (to)")
        for n, m in zip(x.spatial, sizes):
            if not 0 < m <= n:
                raise GeometryError(f"cannot crop {x} to {'x'.join(map(str, sizes))}")
        if self.offset is not None:
            if self.border is not None:
                raise UsageError("crop: offset goes with size or to, not border")
            for n, m, o in zip(x.spatial, sizes, self.dims("offset", nd)):
                if m + o > n:
                    raise GeometryError(
                        f"cannot crop {x} to {'x'.join(map(str, sizes))} at offset {o}: "
                        f"{m} + {o} = {m + o} is more than {n}"
                    )
        return Outcome(Shape(sizes, x.channels), rf=tuple(RFStep() for _ in sizes))


class Join(Layer):
    """A kind with several inputs, the branches of a merge (``add: [BRANCH, BRANCH]``): the
    tracer joins the branches' outputs left to right with ``combine``, and their receptive
    fields are the widest of theirs. No parameters, no MACs."""

    joins = True

    def combine(self, a: Shape, b: Shape) -> Shape:
        """The join of two inputs; a GeometryError says why they cannot be joined."""
        raise NotImplementedError

    def apply(self, x: Shape) -> Outcome:
        raise UsageError(f"{self.kind} joins branches: write {self.kind}: [BRANCH, BRANCH, ...]")


def _spatial_mismatch(a: Shape, b: Shape) -> str | None:
    """Why two inputs' spatial sizes differ, or None."""
    if len(a.spatial) != len(b.spatial):
        return "one branch is flat and the other is not"
    names = ("rows", "columns") if len(a.spatial) == 2 else ("size",) * len(a.spatial)
    for name, m, n in zip(names, a.spatial, b.spatial):
        if m != n:
            return f"spatial {name} differ: {m} vs {n}"
    return None


@register()
class Concat(Join):
    kind = "concat"
    summary = "parallel branches from the same input, their channels concatenated"

    def combine(self, a: Shape, b: Shape) -> Shape:
        problem = _spatial_mismatch(a, b)
        if problem:
            raise GeometryError(problem)
        both = None if a.channels is None or b.channels is None else a.channels + b.channels
        return Shape(a.spatial, both)


@register()
class Add(Join):
    kind = "add"
    summary = "parallel branches from the same input, added (a residual connection)"

    def combine(self, a: Shape, b: Shape) -> Shape:
        problem = _spatial_mismatch(a, b)
        if problem:
            raise GeometryError(problem)
        if a.channels != b.channels:
            raise GeometryError(
                f"shapes {a} and {b} differ in channels — the shortcut needs a projection"
            )
        return a


@register()
class Mean(Add):
    kind = "mean"
    summary = "parallel branches from the same input, averaged element-wise (FractalNet's join)"


@register()
class Mul(Join):
    """Element-wise product; a size of 1 is broadcast, as in squeeze-and-excitation's
    ``1x1xC`` scales times its ``HxWxC`` input (PyTorch's broadcasting rules)."""

    kind = "mul"
    summary = "parallel branches multiplied element-wise, a size of 1 broadcast (1x1xC * HxWxC)"

    def combine(self, a: Shape, b: Shape) -> Shape:
        if len(a.spatial) != len(b.spatial) or a.channels is None or b.channels is None:
            raise GeometryError(f"shapes {a} and {b} do not broadcast")
        sizes = [*zip(a.spatial, b.spatial), (a.channels, b.channels)]
        for m, n in sizes:
            if m != n and 1 not in (m, n):
                raise GeometryError(
                    f"shapes {a} and {b} do not broadcast: {m} vs {n} (each size must be "
                    "equal, or 1 in one of them)"
                )
        out = [max(m, n) for m, n in sizes]
        return Shape(tuple(out[:-1]), out[-1])


@register()
class Max(Add):
    """Element-wise maximum of inputs of one shape (Caffe's ``Eltwise`` with ``MAX``)."""

    kind = "max"
    summary = "parallel branches joined by their element-wise maximum (shapes equal)"


@register()
class Prod(Add):
    """Element-wise product of inputs of one shape (Caffe's ``Eltwise`` with ``PROD``, which
    broadcasts nothing, unlike ``mul``)."""

    kind = "prod"
    summary = "parallel branches multiplied element-wise, shapes equal (no broadcasting)"


@register("caffe_batchnorm")
class StatsNorm(Identity):
    """Caffe's ``BatchNorm`` layer: it normalises by stored statistics alone, and the scale
    and shift a framework's batch norm learns are a separate ``Scale`` layer. Caffe stores
    three blobs, none of them learnt: the mean and the variance per channel, and one
    moving-average factor that both are divided by."""

    kind = "bnstats"
    summary = "Caffe's BatchNorm: 0 trainable; mean, variance, one factor stored: 2C+1"

    def apply(self, x: Shape) -> Outcome:
        return self._identity(x)._replace(buffers=2 * _depth(self.kind, x) + 1)


@register()
class Scale(Identity):
    """A learnt scale per channel and, with ``bias``, a learnt shift per channel (Caffe's
    ``Scale`` layer, which follows its ``BatchNorm``)."""

    kind = "scale"
    words = {"bias": ("bias", True)}
    summary = "a learnt scale per channel, and a shift with bias: C (2C with bias) trainable"
    bias: bool = False

    def apply(self, x: Shape) -> Outcome:
        c = _depth(self.kind, x)
        return self._identity(x)._replace(params=2 * c if self.bias else c)


@register("space_to_depth")
class Reorg(Layer):
    """Darknet's reorg (YOLOv2's passthrough), TensorFlow's ``space_to_depth`` and PyTorch's
    ``PixelUnshuffle``: each ``stride x stride`` block of positions becomes channels, so
    H x W x C gives H/s x W/s x C*s*s; sizes that do not divide are refused."""

    spatial = True
    kind = "reorg"
    primary = "stride"
    summary = "space to depth: stride s; H/s x W/s x C*s^2 (H and W divisible by s)"
    stride: int = 2

    def apply(self, x: Shape) -> Outcome:
        c, s = _depth(self.kind, x), self.stride
        for name, n in zip(dimension_names(len(x.spatial)), x.spatial):
            if n % s:
                raise GeometryError(f"{self.kind}: stride {s} does not divide the {n} {name}")
        return Outcome(
            Shape(tuple(n // s for n in x.spatial), c * s ** len(x.spatial)),
            rf=tuple(RFStep(s - 1, s) for _ in x.spatial),
        )


@register("detection_head")
class Head(Identity):
    """A detection head (Darknet's ``[yolo]``, ``[region]``, ``[detection]``): it passes its
    input on as one of the network's outputs, and reads ``values`` numbers at each position
    (boxes, objectness and class scores per anchor), so an input with another number of
    channels is refused, as Darknet refuses it."""

    kind = "head"
    primary = "values"
    summary = "a detection head: passes on its input, which must have `values` channels"
    values: int | None = None

    def apply(self, x: Shape) -> Outcome:
        if self.values is not None and x.channels is not None and x.channels != self.values:
            where = "features" if not x.spatial else "channels"
            raise GeometryError(
                f"{self.kind}: reads {self.values:,} {where}, but its input has {x.channels:,}"
            )
        return self._identity(x)


def layer_class(kind: str) -> type[Layer]:
    """The class of a layer kind or alias; raises UsageError for an unknown one."""
    name = kind.lower()
    cls = REGISTRY.get(ALIASES.get(name, name))
    if cls is None:
        raise UsageError(f"unknown layer kind {kind!r}")
    return cls
