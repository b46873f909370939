"""The single-layer commands: each only turns its options into one layer; reading the input
shape, applying the layer, rendering and reporting errors are shared (``layer_command``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from cnncalc.cli.inputs import read_input, resolve_groups, spatial_rank
from cnncalc.cli.options import (
    COUNT,
    DEPTH,
    DILATION,
    DIMS,
    DRAW,
    FORMAT,
    INPUT,
    LAYOUT,
    NATURAL,
    OFFSETS,
    PADDING_OPTION,
    SPATIAL_DIMS,
    STRICT,
    WEIGHTS,
    Failure,
    UsageFailure,
    f_option,
    pad_option,
    reported,
    stack,
    stride_option,
)
from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.notation import channels_first_hint
from cnncalc.core.shapes import Shape
from cnncalc.kinds.base import Layer
from cnncalc.kinds.dense import FC, Linear
from cnncalc.kinds.windows import (
    UNPOOL_MODES,
    AvgPool,
    Conv,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
    TConv,
    Unpool,
)
from cnncalc.render.layer import layer_report, solutions_report

COMMANDS: dict[str, Callable[[], click.Command]] = {}
"""Command name -> a factory of its click command, called by the group when it is needed."""


def lazy_command(
    *options: Callable[[Any], Any], epilog: str | Callable[[], str]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command whose click options are made only when it runs (see LazyGroup);
    an epilog that needs a module's constants can be a function, called then too."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        def build() -> click.Command:
            text = epilog() if callable(epilog) else epilog
            return click.command(epilog=text)(stack(*options)(function))

        COMMANDS[function.__name__] = build
        return function

    return register


def solve_module() -> Any:
    """cnncalc.solve, imported when ``solve`` runs rather than at every start."""
    from cnncalc.analysis import solve

    return solve


def layer_command(
    *options: Callable[[Any], Any], epilog: str, flat: bool = False, warns: bool = False
) -> Callable[[Callable[..., Layer]], Any]:
    """Register a single-layer command whose function only builds the layer from its options.

    Only options the layer reads are offered: ``--dims`` unless the input is ``flat`` (any
    rank flattens alike), ``--strict`` only when the kind ``warns`` of input left out."""

    def decorate(build: Callable[..., Layer]) -> Any:
        @functools.wraps(build)
        def command(
            n: tuple[int, ...],
            depth: int | None,
            layout: str | None,
            output_format: str,
            dims: int | None = None,
            strict: bool = False,
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
                click.echo(layer_report(layer, x, outcome, output_format, layout, draw))
            for warning in outcome.warnings:
                click.echo(f"warning: {warning}", err=True)

        inputs = (INPUT, DEPTH, *(() if flat else (SPATIAL_DIMS,)), LAYOUT, FORMAT)
        return lazy_command(*inputs, *(STRICT,) * warns, *options, epilog=epilog)(command)

    return decorate


@layer_command(
    f_option(required=True),
    stride_option(default="1"),
    PADDING_OPTION,
    DILATION,
    WEIGHTS,
    DRAW,
    warns=True,
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
    warns=True,
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
    pad_option(default="0"),
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
    click.option("--factor", type=DIMS, help="Upsampling factor (nails, nearest).  [default: 2]"),
    f_option(help="Kernel size F of the pool being inverted (max).  [default: 2]"),
    stride_option(help="Stride of the pool being inverted (max).  [default: F]"),
    pad_option(help="Padding of the pool being inverted (max).  [default: 0]"),
    epilog="""\b
--factor is for nails and nearest; --f, --stride and --pad are for max, and
each is refused with the other modes, which would ignore it.

\b
Examples:
  cnncalc unpool --n 4x4x8 --mode nails --factor 2
  cnncalc unpool --n 4x4x8 --mode nearest --factor 2x3
  cnncalc unpool --n 4x4x8 --mode max --f 3 --stride 2 --pad 1""",
)
def unpool(x: Shape, mode: str, **options: Any) -> Layer:
    """Unpooling: bed of nails or nearest neighbour by a factor, or max unpooling."""
    reads = ("f", "stride", "pad") if mode == "max" else ("factor",)
    uses = "inverts a pool: --f, --stride, --pad" if mode == "max" else "scales by --factor"
    given = {name: value for name, value in options.items() if value is not None}
    unread = [name for name in given if name not in reads]  # the kind would ignore them
    if unread:
        raise UsageError(f"--{unread[0]} is not read by --mode {mode}, which {uses}")
    return Unpool(mode=mode, **given)


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


@layer_command(
    click.option("--out", type=COUNT, required=True, help="Output features."),
    click.option("--bias/--no-bias", default=True, help="Count one bias per output feature."),
    flat=True,
    epilog="""\b
PyTorch's nn.Linear and Keras' Dense: the last dimension (the channels, in
--layout hwc) mapped at every position; fc flattens the input first.

\b
Examples:
  cnncalc linear --n 56x56x96 --out 384
  cnncalc linear --n 768 --out 1000""",
)
def linear(x: Shape, out: int, bias: bool) -> Layer:
    """Linear on the channels at each position (a bare --n is a feature count)."""
    return Linear(out, bias)


@lazy_command(
    click.option("--n", type=COUNT, required=True, help="Input size N of one dimension."),
    click.option("--out", type=COUNT, required=True, help="Wanted output size."),
    f_option(type=COUNT, help="Fix the kernel size F."),
    stride_option(type=COUNT, help="Fix the stride S."),
    pad_option(type=NATURAL, help="Fix the padding P."),
    click.option("--dilation", type=COUNT, help="Fix the dilation D."),
    click.option("--exact", is_flag=True, help="Only solutions where the division is exact."),
    FORMAT,
    epilog=lambda: (
        f"""\b
Search bounds for the free values: {solve_module().BOUNDS}.
Symmetric padding only, at most D*(F-1): more puts a whole window in the
padding. Exact solutions are listed first, then floored ones (the division
leaves a remainder: the last rows are never reached). A larger output lists
transposed convolutions first (output padding a below max(S, D)), and the
factor of upsampling when it divides.

\b
Examples:
  cnncalc solve --n 32 --out 32 --f 5
  cnncalc solve --n 224 --out 112 --f 3
  cnncalc solve --n 28 --out 14 --exact
  cnncalc solve --n 10 --out 20 --f 4"""
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
    """Which F, S, P, D give a wanted output size from N: the inverse of conv (or tconv)."""
    solver = solve_module()
    with reported():
        solutions = solver.solve(n, out, f, stride, pad, dilation)
        grown = solver.transposed(n, out, f, stride, pad, dilation) if out > n else []
    if exact:
        solutions = [s for s in solutions if not s.remainder]
    factor = solver.upsampling(n, out) if (f, stride, pad, dilation) == (None,) * 4 else None
    if not (solutions or grown or factor):
        raise Failure(f"nothing within {solver.BOUNDS} takes {n} to {out}")
    click.echo(solutions_report(n, out, solutions, output_format, grown, factor))
