"""What every command shares: option values in the course notation, checked at their flag;
the shared options; and domain errors turned into one ``Error:`` line with an exit status
(1 for impossible geometry, 2 for a malformed value)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.notation import parse_ints, parse_padding
from cnncalc.core.numbers import parse_count
from cnncalc.render.layer import DRAW_LIMIT
from cnncalc.render.text import FORMATS, shown


class OptionError(click.BadParameter):
    """A malformed option value, reported as one line that names its flag."""

    def show(self, file: Any = None) -> None:
        flag = self.param.opts[0] if self.param is not None else "option"
        click.echo(f"Error: {flag}: {shown(self.message)}", err=True)


class Notation(click.ParamType):
    """A value in the course notation (``32x32x3``, ``3x5``, ``0:1``), checked at its flag."""

    def __init__(
        self,
        name: str,
        parse: Callable[[str], Any],
        expected: str,
        minimum: int = 1,
        explains: bool = False,
    ) -> None:
        self.name, self.parse, self.expected, self.minimum = name, parse, expected, minimum
        self.explains = explains
        """The parser's own message says what is wrong (say, how digits are grouped)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            parsed = self.parse(value)
        except UsageError as error:
            self.fail(
                str(error) if self.explains else f"{value!r} is not {self.expected}", param, ctx
            )
        except ValueError:
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
EXPECTED = Notation(
    "N",
    lambda text: parse_count(text, ""),
    "a whole number, like 25557032 or 25,557,032",
    minimum=0,
    explains=True,
)
"""An expected count, written plainly or as cnncalc prints it (25,557,032 or 25_557_032)."""
WIDTH = Notation("COLUMNS", int, "a whole number", minimum=40)


class Failure(click.ClickException):
    """A domain error as one ``Error:`` line; exit status 1, for impossible geometry."""

    exit_code = 1

    def format_message(self) -> str:
        return shown(self.message)  # a name from the input, control characters written out


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


def stack(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several click decorators as one, listed in the order they show in --help."""

    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    help="A table with the formulas worked out, or the plain data as JSON, Markdown or "
    "LaTeX (booktabs).",
)
INPUT = click.option(
    "--n",
    type=SIZES,
    required=True,
    help="Input: N (square), HxW or HxWxC; one size per spatial dimension plus the depth.",
)
DEPTH = click.option(
    "--depth", type=COUNT, help="Input depth C, when --n gives only spatial sizes."
)
SPATIAL_DIMS = click.option(
    "--dims",
    type=click.IntRange(1, 3),
    help="Spatial dimensions (1, 2 or 3) of --n, when --f does not give one value per dimension."
    "  [default: 2]",
)
LAYOUT = click.option(
    "--layout",
    type=click.Choice(["hwc", "chw"]),
    help="Order of --n and of printed shapes: spatial first (hwc) or channels first (chw)."
    "  [default: hwc]",
)
STRICT = click.option(
    "--strict",
    is_flag=True,
    help="Treat input left out by a size that does not divide as an error.",
)
"""Only for the kinds whose windows can leave input out (conv, pool): elsewhere it would be
a flag that changes nothing."""


F_FLAGS = ("--f", "-f")
STRIDE_FLAGS = ("--stride", "--s", "-s")
PAD_FLAGS = ("--pad", "--p", "-p")
"""The course writes F, S and P: each has its letter as a flag too (the long name first, as
click names the value after it)."""


def f_option(**kwargs: Any) -> Callable[[Any], Any]:
    kwargs.setdefault(
        "help", "Kernel size F, or one per dimension (3x5; 3x3x3 makes the input 3D)."
    )
    kwargs.setdefault("type", DIMS)
    return click.option(*F_FLAGS, **kwargs)


def stride_option(**kwargs: Any) -> Callable[[Any], Any]:
    kwargs.setdefault("help", "Stride S, or one per dimension.")
    kwargs.setdefault("type", DIMS)
    return click.option(*STRIDE_FLAGS, **kwargs)


def pad_option(**kwargs: Any) -> Callable[[Any], Any]:
    kwargs.setdefault("help", "Padding P, or one per dimension.")
    kwargs.setdefault("type", OFFSETS)
    return click.option(*PAD_FLAGS, **kwargs)


DILATION = click.option(
    "--dilation", type=DIMS, default="1", help="Dilation D, or one per dimension."
)
PADDING_OPTION = pad_option(
    type=PADDING,
    default="0",
    help="Padding P: a number, before:after (0:1), per dimension (1x2, 0:1x1:0), "
    "or valid, same, same-lower, full.",
)
DRAW = click.option(
    "--draw",
    is_flag=True,
    help=f"Draw the padded input and the first windows (up to {DRAW_LIMIT} a side).",
)
WEIGHTS = stack(
    click.option("--filters", type=COUNT, help="Number of filters K (output depth)."),
    click.option(
        "--groups", type=GROUPS, default="1", help="Groups G, or depthwise (G = C; K = C)."
    ),
    click.option("--bias/--no-bias", default=True, help="Count one bias per filter."),
)
