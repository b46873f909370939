"""The machinery of layer kinds: a kind is a small frozen value class that knows its own
arithmetic, declared once with everything about it.

A layer's ``apply`` takes an input :class:`Shape` and returns an :class:`Outcome`: output
shape, trainable parameters, non-trainable buffers, multiply-accumulates, the padding it
actually used, its receptive-field step and any warnings. Everything is computed per spatial
dimension with the formulas of :mod:`cnncalc.core.formulas`, so 1D, 2D and 3D inputs share one
code path. Its ``worked`` takes the same input and that outcome, and says how one follows from
the other (:class:`Worked`): the formulas with the numbers put in, as data a report lays out.

Counting conventions (those of torchvision's model table): MACs count the
multiply-accumulates of convolution and fully connected weights only; bias, batch norm,
activations and pooling cost 0. Transposed convolutions count per input position. A kind
declares what its MACs are (``cost``); the conventions that count them (FLOPs, Darknet's
BFLOPs) are keyed by that, never by a kind's name (:mod:`cnncalc.analysis.costs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache, wraps
from importlib import import_module
from math import gcd, isfinite
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Literal,
    NamedTuple,
    NoReturn,
    ParamSpec,
    TypeVar,
    cast,
)

from cnncalc.core.errors import GeometryError, ParameterError, UsageError
from cnncalc.core.formulas import Pad
from cnncalc.core.numbers import MAX_NUMBER, bounded
from cnncalc.core.shapes import Shape, per_dim

if TYPE_CHECKING:
    from fractions import Fraction

    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**kwargs):
        return lambda cls: cls


FRAMEWORKS = ("pytorch", "tensorflow", "caffe")
"""Frameworks whose defaults a spec can ask for (``convention: caffe``)."""


RFMap = Literal[
    "window", "transposed", "nearest", "nearest-exact", "linear", "cubic", "area", "nails"
]
"""How an output position of one dimension picks its inputs (:meth:`RFStep.span`)."""


class RFStep(NamedTuple):
    """Which input positions output position ``j`` of one dimension depends on: the exact form
    of a layer's receptive-field step [ADS19, eq. 1-2]. The map is periodic: ``up`` outputs
    advance ``down`` inputs, so ``span(j + up)`` is ``span(j)`` moved by ``down``.

    A ``window`` (convolution, pooling, a layer over the whole input) has ``up`` 1 and reads
    ``f`` positions ``dilation`` apart from ``j*down - pad``; a ``transposed`` convolution
    (stride ``up``) reads the ``i`` with ``i*up - pad + dilation*t = j``; a resize by
    ``up/down`` reads one position (nearest), two (linear, PyTorch's ``align_corners=False``),
    four (cubic) or its ``area``; ``nails`` sets one position of each block. The analysis
    composes these maps (:mod:`cnncalc.analysis.receptive`)."""

    f: int = 1
    down: int = 1
    up: int = 1
    pad: int = 0
    dilation: int = 1
    map: RFMap = "window"

    def span(self, j: int) -> tuple[int, int, int] | None:
        """First and last input position output ``j`` depends on, and the step between them
        (None: it depends on none, as between a bed of nails' values).

        >>> RFStep(3, 2, pad=1, dilation=2).span(5)          # conv f3 s2 p1 d2: 9, 11, 13
        (9, 13, 2)
        >>> RFStep(4, 1, 2, pad=1, map="transposed").span(3)   # tconv f4 s2 p1: 1*2-1+2, 2*2-1+0
        (1, 2, 1)
        >>> RFStep(1, 1, 3, map="linear").span(1), RFStep(1, 1, 3, map="linear").span(2)
        ((0, 0, 1), (0, 1, 1))
        """
        down, up, kind = self.down, self.up, self.map
        if kind == "window":
            lo = j * down - self.pad
            return lo, lo + self.dilation * (self.f - 1), self.dilation
        if kind == "transposed":
            return _transposed_span(j + self.pad, self.f, up, self.dilation)
        if kind == "nails":
            return (j // up, j // up, 1) if j % up == 0 else None
        if kind == "area":  # adaptive pooling's window [PT AdaptiveAvgPool2d]
            return j * down // up, -(-(j + 1) * down // up) - 1, 1
        if kind == "nearest":  # PyTorch's nearest: floor(j * in/out)
            i = j * down // up
            return i, i, 1
        # the source position x = (j + 1/2) * in/out - 1/2 [PT interpolate, align_corners=False]
        num, den = (2 * j + 1) * down - (up if kind != "nearest-exact" else 0), 2 * up
        i = num // den
        if kind == "nearest-exact" or num % den == 0:
            return i, i, 1  # on a pixel: the other taps weigh 0
        return (i, i + 1, 1) if kind == "linear" else (i - 1, i + 2, 1)

    def bounds(self) -> tuple[Fraction, Fraction]:
        """Offsets ``a, b`` with ``j*down/up + a <= first`` and ``last <= j*down/up + b`` for
        every ``j``: the honest bound the analysis uses when a period is too long to go over.

        >>> RFStep(3, 2, pad=1).bounds()
        (Fraction(-1, 1), Fraction(1, 1))
        """
        from fractions import Fraction

        r, kind = Fraction(self.down, self.up), self.map
        if kind == "window":
            return Fraction(-self.pad), Fraction(self.dilation * (self.f - 1) - self.pad)
        if kind == "transposed":
            return Fraction(self.pad - self.dilation * (self.f - 1), self.up), Fraction(
                self.pad, self.up
            )
        if kind == "nails":
            return Fraction(0), Fraction(0)
        if kind == "area":
            return Fraction(-1), r
        if kind == "nearest":
            return Fraction(-1), Fraction(0)
        if kind == "nearest-exact":
            return r / 2 - 1, r / 2
        x = r / 2 - Fraction(1, 2)
        return (x - 1, x + 1) if kind == "linear" else (x - 2, x + 2)


def _transposed_span(k: int, f: int, s: int, d: int) -> tuple[int, int, int] | None:
    """The ``i = (k - d*t)/s`` whole for some tap ``0 <= t < f``: first, last and step. The taps
    that qualify are ``t = t0 (mod s/g)``, ``g = gcd(d, s)``, so no loop over ``f``.

    >>> _transposed_span(4, 3, 2, 2), _transposed_span(3, 3, 2, 2)    # tconv f3 s2 d2
    ((0, 2, 1), None)
    """
    g = gcd(d, s)
    if k % g:
        return None
    period = s // g
    t0 = (k // g) * pow(d // g, -1, period) % period if period > 1 else 0
    if t0 >= f:
        return None
    t1 = t0 + (f - 1 - t0) // period * period
    return (k - d * t1) // s, (k - d * t0) // s, d // g


def resize_step(n: int, m: int, mode: RFMap) -> RFStep:
    """A resize of one dimension from ``n`` to ``m`` positions: ``m/g`` outputs per ``n/g``
    inputs, ``g = gcd(n, m)``.

    A resize of one position is a broadcast: every output reads it, whatever the mode (PyTorch
    clamps the source position), so they all advance 0 pixels (ASPP's pooling branch).

    >>> resize_step(63, 500, "linear")[1:3], resize_step(4, 8, "nearest")[1:3]
    ((63, 500), (1, 2))
    >>> resize_step(1, 65, "linear")
    RFStep(f=1, down=0, up=1, pad=0, dilation=1, map='window')
    """
    if n == 1:
        return RFStep(1, 0)
    g = gcd(n, m) or 1
    return RFStep(1, n // g, m // g, map=mode)


class Outcome(NamedTuple):
    """What one layer does to one input."""

    shape: Shape
    params: int | None = 0
    buffers: int = 0
    macs: int | None = 0
    padding: tuple[Pad, ...] = ()
    rf: tuple[RFStep, ...] = ()
    warnings: tuple[str, ...] = ()


Formula = str | tuple[str | int, ...]
"""A formula with the numbers put in: its text, or its parts, text as written (symbols, and the
sizes in a size formula) and counts as whole numbers, which render writes for people (25,088)."""


class Line:
    """One row of a kind's working: a quantity and its formula, one per spatial dimension
    (``spatial``; a report shows one row when they agree) or one for the whole layer.

    Plain classes, as Parameter below: every start-up defines them, and a named tuple costs more."""

    __slots__ = ("quantity", "formulas", "spatial")

    def __init__(self, quantity: str, formulas: tuple[Formula, ...], spatial: bool = True) -> None:
        self.quantity, self.formulas, self.spatial = quantity, formulas, spatial


class Worked:
    """How a layer's outcome follows from its input, as data: the formulas that lead to the
    output, how the parameters and the MACs arise (None: the count says all there is), and the
    windows the layer slides (kernels, strides, dilations per dimension), for a drawing."""

    __slots__ = ("lines", "params", "macs", "windows")

    def __init__(
        self,
        lines: tuple[Line, ...] = (),
        params: Formula | None = None,
        macs: Formula | None = None,
        windows: tuple[tuple[int, ...], ...] = (),
    ) -> None:
        self.lines, self.params, self.macs, self.windows = lines, params, macs, windows


def weights_worked(
    outcome: Outcome,
    factors: list[str],
    bias: bool,
    positions: tuple[int, ...] = (),
    where: str = "",
) -> tuple[Formula | None, Formula | None]:
    """The parameters and MACs of a weighted kind as formulas: the weights (the product of
    ``factors``) and a bias per output channel; every weight at each of ``positions`` (its
    ``where`` positions: output or input), or once when there are none. None when unknown.

    >>> conv = Outcome(Shape((32, 32), 10), 760, macs=768_000)   # conv 10 f5 on 32x32x3
    >>> params, macs = weights_worked(conv, ["10", "3", "5", "5"], True, (32, 32), "output")
    >>> params
    (760, ' = 10*3*5*5 weights', ' + ', 10, ' biases')
    >>> macs
    (768000, ' = 32*32 output positions x ', 750, ' weights')
    """
    if outcome.params is None or outcome.macs is None:
        return None, None
    biases = (outcome.shape.channels or 0) if bias else 0
    weights = outcome.params - biases
    product = f" = {'*'.join(factors)} weights"
    params = (
        (outcome.params, product, " + ", biases, " biases")
        if bias
        else (outcome.params, product + " (no bias)")
    )
    if not positions:
        return params, (outcome.macs, " = one per weight")
    at = "*".join(map(str, positions))
    return params, (outcome.macs, f" = {at} {where} positions x ", weights, " weights")


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


def _real(value: object) -> bool:
    return _whole(value) or (isinstance(value, float) and isfinite(value))


Numbers = tuple[float, ...]
"""Several numbers, such as one per input of a join (a weighted add's coefficients)."""

Made = Callable[[str], tuple["Layer", Shape]]
"""The layer that gave a named output, and the shape it read (unpool's ``to`` names a pool)."""

PARAMETER_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "int": (_whole, "a whole number"),
    "bool": (lambda v: isinstance(v, bool), "True or False"),
    "float": (_real, "a finite number"),
    "Numbers": (
        lambda v: isinstance(v, tuple) and bool(v) and all(map(_real, v)),
        "a list of finite numbers",
    ),
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


def _check_type(
    kind: str, name: str, parameter: Parameter, value: object, limits: dict[str, tuple[str, int]]
) -> None:
    """A UsageError unless ``value`` is of the type the kind declares for ``name`` and each of
    its numbers at least the parameter's least value (``limits``)."""
    if value is None and parameter.optional:
        return
    admits, what = PARAMETER_TYPES[parameter.base]
    if not admits(value):
        raise ParameterError(f"{kind}: {name} must be {what}, not {value!r:.40}", name)
    label, least = limits.get(name, (name, -MAX_NUMBER))
    for n in _numbers(value):
        try:
            bounded(n, f"{kind}: {label}")
        except UsageError as error:
            raise ParameterError(str(error), name) from None
        if n < least:
            raise ParameterError(f"{kind}: {label} must be at least {least}, not {n}", name)


def _checked(apply: Callable[[Layer, Shape], Outcome]) -> Callable[[Layer, Shape], Outcome]:
    """A kind's ``apply`` (wrapped when the kind is declared) with what every kind asks of its
    input checked first, so that the Python API and the tracer refuse alike: the input a Shape
    (a plain tuple is refused: ``(32, 32, 3)`` might be HxWxC or CxHxW, or three spatial
    sizes); a spatial kind (kernels, windows) given spatial sizes. A layer alone may leave
    its output depth unknown (``Conv(f=5)``, as ``cnncalc conv --n 32x32x3 --f 5``: the
    sizes without the counts); a network may not (:func:`how_many`)."""

    @wraps(apply)
    def checked(self: Layer, x: Shape) -> Outcome:
        if not isinstance(x, Shape):
            _not_a_shape(self.kind, x)
        if self.spatial and not x.spatial:
            raise GeometryError(
                f"{self.kind} needs rows and columns, but its input {x} is flat "
                "(after fc or flatten)"
            )
        return apply(self, x)

    return checked


def how_many(layer: Layer) -> str:
    """Why ``layer`` may not leave its output depth unknown in a network: a bare ``conv`` is
    refused rather than traced without counts, a bare ``fc`` rather than given one output."""
    what = layer.limits[layer.primary][0] if layer.primary in layer.limits else "channels"
    return f"{layer.kind}: how many {what}? (e.g. {layer.kind} 64)"


def _not_a_shape(kind: str, x: object) -> NoReturn:
    if isinstance(x, (tuple, list)):
        raise UsageError(
            f"{kind}: the input is a Shape, like Shape((32, 32), 3) for 32x32x3; "
            f"{tuple(x)!r:.40} could be HxWxC, CxHxW or sizes alone"
        )
    raise UsageError(
        f"{kind}: the input is a Shape, like Shape((32, 32), 3), not {type(x).__name__}"
    )


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
    cost: ClassVar[str] = ""
    """What the kind's MACs are, which decides how each counting convention counts them
    (:mod:`cnncalc.analysis.costs`): ``"weights"``, multiply-accumulates of learnt weights
    (convolutions, fully connected); ``""``, a kind without MACs."""
    parameters: ClassVar[dict[str, Parameter]] = {}
    """Every parameter in declaration order, base classes first."""
    limits: ClassVar[dict[str, tuple[str, int]]] = LIMITS
    """What each whole-number parameter is called in messages and its least value: LIMITS,
    and those a kind declares for parameters of its own, merged in."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = {
            name: Parameter(str(annotation), cls.__dict__.get(name))
            for name, annotation in cls.__dict__.get("__annotations__", {}).items()
            if not str(annotation).startswith("ClassVar")
        }
        cls.parameters = {**cls.parameters, **own}
        if "apply" in cls.__dict__:
            cls.apply = _checked(cls.__dict__["apply"])  # type: ignore[method-assign, assignment]
        if "limits" in cls.__dict__:
            inherited = next(base.limits for base in cls.__mro__[1:] if issubclass(base, Layer))
            cls.limits = {**inherited, **cls.__dict__["limits"]}

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
            _check_type(self.kind, name, self.parameters[name], value, self.limits)
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
        return per_dim(getattr(self, name) if value is None else value, ndim, self.limits[name][0])

    def replace(self, **changes: Any) -> Layer:
        """A copy with some parameters changed."""
        return type(self)(**{**{n: getattr(self, n) for n in self.parameters}, **changes})

    def bind(self, shape_of: Callable[[str], Shape], made: Made | None = None) -> Layer:
        """This layer with every referenced name replaced by what it needs of that shape;
        ``made``, when given, tells the layer that gave a name and the shape it read."""
        return self

    def apply(self, x: Shape) -> Outcome:
        """Output shape, counts and receptive-field step for input ``x``."""
        raise NotImplementedError

    def worked(self, x: Shape, outcome: Outcome) -> Worked:
        """How ``outcome`` (this layer's on ``x``) follows from ``x``: by default nothing
        beyond the input, the output and the counts themselves."""
        return Worked()

    def _identity(self, x: Shape) -> Outcome:
        return Outcome(x, rf=tuple(RFStep() for _ in x.spatial))


FAMILIES = ("windows", "dense", "normalisation", "pointwise", "reshaping", "joins", "detection")
"""The modules of :mod:`cnncalc.kinds` that declare kinds, one a family."""

_V = TypeVar("_V")


class _Registry(dict[str, _V]):
    """A table of kinds that holds every family's kinds whenever it is read: the families
    are imported at the first read. A single-layer command imports only its kind's family
    (the other five cost it a sixth of its own start-up, by valgrind's count); a reader of
    the registry never sees a part of it."""

    def __getitem__(self, name: str) -> _V:
        _import_families()
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        _import_families()
        return super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        _import_families()
        return super().__iter__()

    def __len__(self) -> int:
        _import_families()
        return super().__len__()

    def get(self, name: str, default: Any = None) -> Any:
        _import_families()
        return super().get(name, default)

    def keys(self) -> Any:
        _import_families()
        return super().keys()

    def values(self) -> Any:
        _import_families()
        return super().values()

    def items(self) -> Any:
        _import_families()
        return super().items()

    def copy(self) -> dict[str, _V]:
        _import_families()
        return dict(super().items())


_imported = False


def _import_families() -> None:
    """Every family's kinds in the registry, in the order of FAMILIES whatever was imported
    first (then any registered from elsewhere), so that what lists them never varies."""
    global _imported
    if _imported:
        return
    _imported = True
    for family in FAMILIES:
        import_module(f"cnncalc.kinds.{family}")
    modules = [f"cnncalc.kinds.{family}" for family in FAMILIES]

    def rank(item: tuple[str, type[Layer]]) -> int:
        module = item[1].__module__
        return modules.index(module) if module in modules else len(modules)

    ordered = sorted(dict.items(REGISTRY), key=rank)
    dict.clear(REGISTRY)
    dict.update(REGISTRY, ordered)


REGISTRY: _Registry[type[Layer]] = _Registry()
"""Every kind by its name."""

ALIASES: _Registry[str] = _Registry()
"""The other names of kinds, each with the kind it names."""

_VIEWS: list[Callable[[], None]] = []
"""How to forget each registry view (see ``registry_view``)."""

_P = ParamSpec("_P")
_T = TypeVar("_T")


def registry_view(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """``function``, a view of the registry (the inline form's words), computed once for
    its arguments and again after the next ``register``: cached, yet never stale."""
    cached = lru_cache(maxsize=4096)(function)
    _VIEWS.append(cached.cache_clear)
    return cast(Callable[_P, _T], cached)


def register(*aliases: str) -> Callable[[type[Layer]], type[Layer]]:
    """Class decorator adding a layer kind (and aliases) to the registry."""

    def add(cls: type[Layer]) -> type[Layer]:
        REGISTRY[cls.kind] = cls
        for alias in aliases:
            ALIASES[alias] = cls.kind
        for forget in _VIEWS:
            forget()
        return cls

    return add


def one_of(kind: str, given: dict[str, object]) -> None:
    """A UsageError unless at most one of the alternative parameters ``given`` is set."""
    set_ = [name for name, value in given.items() if value is not None]
    if len(set_) > 1:
        raise UsageError(f"{kind} takes one of {', '.join(given)}, not both {' and '.join(set_)}")


def unbound(kind: str, to: str | None) -> None:
    """A reference left unbound: the layer was applied outside a traced network."""
    if to is not None:
        raise UsageError(f"{kind}: to={to} names a layer, so needs a traced network")


def depth(kind: str, x: Shape) -> int:
    """The input's channels, which a per-channel kind cannot do without."""
    if x.channels is None:
        raise UsageError(f"{kind} needs the input depth")
    return x.channels


def divides(kind: str, what: str, n: int, c: int) -> None:
    """A GeometryError naming both numbers unless ``n`` divides ``c`` channels."""
    if c % n:
        raise GeometryError(f"{kind}: {what} {n} does not divide the {c} input channels")


def layer_class(kind: str) -> type[Layer]:
    """The class of a layer kind or alias; raises UsageError for an unknown one."""
    name = kind.lower()
    cls = REGISTRY.get(ALIASES.get(name, name))
    if cls is None:
        raise UsageError(f"unknown layer kind {kind!r}")
    return cls
