"""The command line: thin click commands over the layer library.

Each single-layer command only turns its options into one layer; reading the
input shape, applying the layer, rendering and reporting errors are shared. A
domain error becomes one ``Error: ...`` line, exit status 1 for impossible
geometry and 2 for a malformed value.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from . import __version__, render
from .errors import GeometryError, UsageError
from .layers import (
    FC,
    UNPOOL_MODES,
    AvgPool,
    Conv,
    GlobalAvgPool,
    GlobalMaxPool,
    Layer,
    MaxPool,
    Shape,
    TConv,
    Unpool,
)
from .notation import channels_first_hint, parse_ints, parse_padding
from .options import read_input, resolve_groups, spatial_rank

# --- option values -------------------------------------------------------------------------


class OptionError(click.BadParameter):
    """A malformed option value, reported as one line that names its flag."""

    def show(self, file: Any = None) -> None:
        flag = self.param.opts[0] if self.param is not None else "option"
        click.echo(f"Error: {flag}: {self.message}", err=True)


class Notation(click.ParamType):
    """A value in the course notation (``32x32x3``, ``3x5``, ``0:1``), checked at its flag."""

    def __init__(
        self, name: str, parse: Callable[[str], Any], expected: str, minimum: int = 1
    ) -> None:
        self.name, self.parse, self.expected, self.minimum = name, parse, expected, minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            parsed = self.parse(value)
        except (UsageError, ValueError):
            self.fail(f"{value!r} is not {self.expected}", param, ctx)
        for number in _numbers(parsed):
            if number < self.minimum:
                self.fail(f"{value!r}: each number must be at least {self.minimum}", param)
        return parsed

    def fail(
        self, message: str, param: click.Parameter | None = None, ctx: click.Context | None = None
    ) -> NoReturn:
        raise OptionError(message, ctx, param)


def _numbers(value: Any) -> Iterator[int]:
    if isinstance(value, int):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _numbers(item)


def _ints(text: str) -> tuple[int, ...]:
    return parse_ints(text, "value")


def _groups(text: str) -> int | str:
    return text.lower() if text.lower() == "depthwise" else int(text)


SIZES = Notation("N", _ints, "a size like 32, 32x32 or 32x32x3")
DIMS = Notation("DIMS", _ints, "a number, or one per dimension like 3x5")
OFFSETS = Notation("DIMS", _ints, "a number, or one per dimension like 0x1", minimum=0)
PADDING = Notation(
    "PAD",
    parse_padding,
    "a number, before:after (0:1), one per dimension (1x2, 0:1x1:0) "
    "or valid, same, same-lower, full",
    minimum=0,
)
COUNT = Notation("INT", int, "a whole number")
NATURAL = Notation("INT", int, "a whole number", minimum=0)
GROUPS = Notation("G", _groups, "a number or depthwise")
WIDTH = Notation("COLUMNS", int, "a whole number", minimum=40)


# --- the shared path of every single-layer command ----------------------------------------


class Failure(click.ClickException):
    """A domain error as one ``Error:`` line; exit status 1, for impossible geometry."""

    exit_code = 1


class UsageFailure(Failure):
    """A malformed or conflicting value, as one ``Error:`` line and exit status 2."""

    exit_code = 2


@contextmanager
def reported() -> Iterator[None]:
    """Turn domain errors into one-line failures: geometry exits 1, usage exits 2."""
    try:
        yield
    except GeometryError as error:
        raise Failure(str(error)) from None
    except UsageError as error:
        raise UsageFailure(str(error)) from None


def lazy_command(
    *options: Callable[[Any], Any], epilog: str | Callable[[], str]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command whose click options are made only when it runs (see LazyGroup);
    an epilog that needs a module's constants can be a function, called then too."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        def build() -> click.Command:
            text = epilog() if callable(epilog) else epilog
            return click.command(epilog=text)(_stack(*options)(function))

        LAZY_COMMANDS[function.__name__] = build
        return function

    return register


def solve_module() -> Any:
    """cnncalc.solve, imported when ``solve`` runs rather than at every start."""
    from . import solve

    return solve


def layer_command(
    *options: Callable[[Any], Any], epilog: str, flat: bool = False
) -> Callable[[Callable[..., Layer]], Any]:
    """Register a single-layer command whose function only builds the layer from its options."""

    def decorate(build: Callable[..., Layer]) -> Any:
        @functools.wraps(build)
        def command(
            n: tuple[int, ...],
            depth: int | None,
            dims: int | None,
            layout: str | None,
            output_format: str,
            strict: bool,
            draw: bool = False,
            **options: Any,
        ) -> None:
            if draw and output_format == "json":
                raise UsageFailure(
                    "--draw: a drawing is text; use --format table, markdown or latex"
                )
            hint = None if layout else channels_first_hint(n, "hwc")
            if hint:
                click.echo(
                    f"warning: --n {hint}; if it is CxHxW, add --layout chw "
                    "(--layout hwc says it is not)",
                    err=True,
                )
            layout = layout or "hwc"
            with reported():
                x = read_input(n, spatial_rank(options.get("f"), dims), depth, layout, flat)
                layer = build(x, **options)
                outcome = layer.apply(x)
                if strict and outcome.warnings:
                    raise GeometryError("; ".join(outcome.warnings) + " (--strict)")
                click.echo(render.layer_report(layer, x, outcome, output_format, layout, draw))
            for warning in outcome.warnings:
                click.echo(f"warning: {warning}", err=True)

        return lazy_command(INPUT_OPTIONS, *options, epilog=epilog)(command)

    return decorate


def _stack(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several click decorators as one, listed in the order they show in --help."""

    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(render.FORMATS),
    default="table",
    help="A table with the formulas worked out, or the plain data as JSON, Markdown or "
    "LaTeX (booktabs).",
)
INPUT_OPTIONS = _stack(
    click.option(
        "--n",
        type=SIZES,
        required=True,
        help="Input: N (square), HxW or HxWxC; one size per spatial dimension plus the depth.",
    ),
    click.option("--depth", type=COUNT, help="Input depth C, when --n gives only spatial sizes."),
    click.option(
        "--dims",
        type=click.IntRange(1, 3),
        help="Spatial dimensions (1, 2 or 3) when --f does not give one value per dimension."
        "  [default: 2]",
    ),
    click.option(
        "--layout",
        type=click.Choice(["hwc", "chw"]),
        help="Order of --n and of printed shapes: spatial first (hwc) or channels first (chw)."
        "  [default: hwc]",
    ),
    FORMAT,
    click.option(
        "--strict",
        is_flag=True,
        help="Treat input left out by a size that does not divide as an error.",
    ),
)


def f_option(**kwargs: Any) -> Callable[[Any], Any]:
    kwargs.setdefault(
        "help", "Kernel size F, or one per dimension (3x5; 3x3x3 makes the input 3D)."
    )
    return click.option("--f", type=DIMS, **kwargs)


def stride_option(**kwargs: Any) -> Callable[[Any], Any]:
    kwargs.setdefault("help", "Stride S, or one per dimension.")
    return click.option("--stride", type=DIMS, **kwargs)


DILATION = click.option(
    "--dilation", type=DIMS, default="1", help="Dilation D, or one per dimension."
)
PADDING_OPTION = click.option(
    "--pad",
    type=PADDING,
    default="0",
    help="Padding P: a number, before:after (0:1), per dimension (1x2, 0:1x1:0), "
    "or valid, same, same-lower, full.",
)
DRAW = click.option(
    "--draw",
    is_flag=True,
    help=f"Draw the padded input and the first windows (up to {render.DRAW_LIMIT} a side).",
)
WEIGHTS = _stack(
    click.option("--filters", type=COUNT, help="Number of filters K (output depth)."),
    click.option(
        "--groups", type=GROUPS, default="1", help="Groups G, or depthwise (G = C; K = C)."
    ),
    click.option("--bias/--no-bias", default=True, help="Count one bias per filter."),
)


# --- commands ------------------------------------------------------------------------------


class LazyGroup(click.Group):
    """A group whose commands are built only when used (or listed in --help).

    Building every command's options at start-up cost a single-layer command a tenth of its
    time; here a command is a factory, or the module that defines it, until it is needed.
    """

    def __init__(
        self, *args: Any, lazy: dict[str, str | Callable[[], click.Command]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        source = self.lazy.pop(name, None)
        if isinstance(source, str):
            import importlib

            self.add_command(getattr(importlib.import_module(source, __package__), name))
        elif source is not None:
            self.add_command(source(), name)
        return super().get_command(ctx, name)


LAZY_COMMANDS: dict[str, str | Callable[[], click.Command]] = dict.fromkeys(
    ["trace", "check", "convert", "zoo", "kinds", "schema", "diagram"], ".cli_networks"
)
"""Command name -> the module defining it (a function or group of that name), or a factory."""


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
    context_settings={"show_default": True},
    epilog="""\b
Shell completion: eval "$(_CNNCALC_COMPLETE=bash_source cnncalc)" in ~/.bashrc
(zsh_source, fish_source for the other shells). NO_COLOR=1 prints plain tables.

\b
Examples:
  cnncalc conv --n 32x32x3 --f 5 --filters 10 --pad 2
  cnncalc pool --n 8x8x10 --f 2 --stride 2
  cnncalc solve --n 224 --out 112 --f 3
  cnncalc trace resnet50 --depth 1""",
)
@click.version_option(__version__, prog_name="cnncalc")
def main() -> None:
    """Exact shapes, parameters and costs of CNN layers, with the formula worked out."""
    if os.environ.get("FORCE_COLOR"):  # force-color.org: keep the table's styles when piped
        click.get_current_context().color = True


@layer_command(
    f_option(required=True),
    stride_option(default="1"),
    PADDING_OPTION,
    DILATION,
    WEIGHTS,
    DRAW,
    epilog="""\b
Examples:
  cnncalc conv --n 32 --f 5 --pad 2
  cnncalc conv --n 32x32x3 --f 5 --filters 10 --stride 1 --pad 2
  cnncalc conv --n 224x224x3 --f 3 --stride 2 --pad same
  cnncalc conv --n 112x112x32 --f 3 --pad 1 --groups depthwise
  cnncalc conv --n 16x16x16x1 --f 3x3x3 --filters 8 --pad 1
  cnncalc conv --n 5 --f 3 --stride 2 --pad 1 --draw""",
)
def conv(x: Shape, groups: int | str, filters: int | None, **options: Any) -> Layer:
    """Convolution: output size (N - F + 2P)/S + 1, parameters and MACs."""
    g, k = resolve_groups(groups, filters, x)
    return Conv(filters=k, groups=g, **options)


@layer_command(
    click.option("--type", "kind", type=click.Choice(["max", "avg"]), default="max"),
    f_option(default="2"),
    stride_option(help="Stride S, or one per dimension.  [default: F]"),
    PADDING_OPTION,
    DILATION,
    click.option("--ceil", is_flag=True, help="Ceil mode (PyTorch): keep a partial last window."),
    DRAW,
    epilog="""\b
Examples:
  cnncalc pool --n 8x8x10 --f 2 --stride 2
  cnncalc pool --n 7x7x64 --f 2 --ceil
  cnncalc pool --n 5 --f 2 --stride 2 --pad 1 --ceil --draw
  cnncalc pool --n 112x112x64 --type avg --f 3 --stride 2 --pad 1""",
)
def pool(x: Shape, kind: str, **options: Any) -> Layer:
    """Max or average pooling: output size, floor or ceil mode."""
    return {"max": MaxPool, "avg": AvgPool}[kind](**options)


@layer_command(
    click.option("--type", "kind", type=click.Choice(["avg", "max"]), default="avg"),
    epilog="""\b
Examples:
  cnncalc gpool --n 100x100x3
  cnncalc gpool --n 7x7x512 --type max""",
)
def gpool(x: Shape, kind: str) -> Layer:
    """Global average or max pooling: H x W x C -> 1 x 1 x C."""
    return {"avg": GlobalAvgPool, "max": GlobalMaxPool}[kind]()


@layer_command(
    f_option(required=True),
    stride_option(default="1"),
    click.option("--pad", type=OFFSETS, default="0", help="Padding P, or one per dimension."),
    DILATION,
    click.option(
        "--output-padding",
        type=OFFSETS,
        help="Output padding a (below max(S, D)), or one per dimension.  [default: 0]",
    ),
    click.option(
        "--target",
        type=DIMS,
        help="Choose the output padding so the output is this size (undoing a conv of it).",
    ),
    WEIGHTS,
    epilog="""\b
Examples:
  cnncalc tconv --n 3 --f 3 --stride 2 --pad 1 --output-padding 1
  cnncalc tconv --n 16x16x64 --f 4 --stride 2 --pad 1 --filters 32
  cnncalc tconv --n 3 --f 3 --stride 2 --pad 1 --target 6""",
)
def tconv(
    x: Shape, groups: int | str, filters: int | None, output_padding: Any, **options: Any
) -> Layer:
    """Transposed convolution: (N-1)*S - 2P + D*(F-1) + a + 1."""
    if options["target"] is not None and output_padding is not None:
        raise UsageError("--target chooses the output padding; give one or the other")
    g, k = resolve_groups(groups, filters, x)
    return TConv(filters=k, groups=g, output_padding=output_padding or 0, **options)


@layer_command(
    click.option("--mode", type=click.Choice(UNPOOL_MODES), default="nearest"),
    click.option("--factor", type=DIMS, default="2", help="Upsampling factor (nails, nearest)."),
    f_option(default="2", help="Kernel size F of the pool being inverted (max)."),
    stride_option(help="Stride of the pool being inverted (max).  [default: F]"),
    click.option(
        "--pad", type=OFFSETS, default="0", help="Padding of the pool being inverted (max)."
    ),
    epilog="""\b
Examples:
  cnncalc unpool --n 4x4x8 --mode nails --factor 2
  cnncalc unpool --n 4x4x8 --mode nearest --factor 2x3
  cnncalc unpool --n 4x4x8 --mode max --f 3 --stride 2 --pad 1""",
)
def unpool(x: Shape, **options: Any) -> Layer:
    """Unpooling: bed of nails or nearest neighbour by a factor, or max unpooling."""
    return Unpool(**options)


@layer_command(
    click.option("--out", type=COUNT, required=True, help="Output features."),
    click.option("--bias/--no-bias", default=True, help="Count one bias per output feature."),
    flat=True,
    epilog="""\b
Examples:
  cnncalc fc --n 7x7x512 --out 4096
  cnncalc fc --n 4096 --out 1000 --no-bias""",
)
def fc(x: Shape, out: int, bias: bool) -> Layer:
    """Fully connected: the input flattened (a bare --n is a feature count)."""
    return FC(out, bias)


@lazy_command(
    click.option("--n", type=COUNT, required=True, help="Input size N of one dimension."),
    click.option("--out", type=COUNT, required=True, help="Wanted output size."),
    click.option("--f", type=COUNT, help="Fix the kernel size F."),
    click.option("--stride", type=COUNT, help="Fix the stride S."),
    click.option("--pad", type=NATURAL, help="Fix the padding P."),
    click.option("--dilation", type=COUNT, help="Fix the dilation D."),
    click.option("--exact", is_flag=True, help="Only solutions where the division is exact."),
    FORMAT,
    epilog=lambda: (
        f"""\b
Search bounds for the free values: {solve_module().BOUNDS}.
Symmetric padding only; exact solutions are listed first, then floored
ones (the division leaves a remainder: the last rows are never reached).

\b
Examples:
  cnncalc solve --n 32 --out 32 --f 5
  cnncalc solve --n 224 --out 112 --f 3
  cnncalc solve --n 28 --out 14 --exact"""
    ),
)
def solve(
    n: int,
    out: int,
    f: int | None,
    stride: int | None,
    pad: int | None,
    dilation: int | None,
    exact: bool,
    output_format: str,
) -> None:
    """Which F, S, P, D give a wanted output size from N: the inverse of conv."""
    solver = solve_module()
    with reported():
        solutions = solver.solve(n, out, f, stride, pad, dilation)
    if exact:
        solutions = [s for s in solutions if not s.remainder]
    if not solutions:
        raise Failure(f"nothing within {solver.BOUNDS} takes {n} to {out}")
    click.echo(render.solutions_report(n, out, solutions, output_format))
