"""The command line: thin click commands over the library.

``main`` is the group; its commands live in ``layers`` (one layer, with the working shown)
and ``networks`` (trace, check, convert, zoo, kinds, schema, diagram), each module imported
only when one of its commands is named, so that a command pays only for its own options.
"""

from __future__ import annotations

import gc
import os
from importlib import import_module
from typing import Any

import click

from cnncalc import __version__

LAYER_COMMANDS = ("conv", "pool", "gpool", "tconv", "unpool", "fc", "linear", "solve")
NETWORK_COMMANDS = ("trace", "check", "convert", "zoo", "kinds", "schema", "diagram")


class LazyGroup(click.Group):
    """A group whose commands are built only when used (or listed in --help).

    Building every command's options at start-up cost a single-layer command a tenth of its
    time; here a command is the module that defines it until it is needed. A module defines a
    command as a click command of that name, or in ``COMMANDS`` as a factory of one.
    """

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        source = self.lazy.pop(name, None)
        if source is not None:
            module = import_module(source)
            factories = getattr(module, "COMMANDS", {})
            command = factories[name]() if name in factories else getattr(module, name)
            self.add_command(command, name)
        return super().get_command(ctx, name)


LAZY_COMMANDS = {
    **dict.fromkeys(LAYER_COMMANDS, "cnncalc.cli.layers"),
    **dict.fromkeys(NETWORK_COMMANDS, "cnncalc.cli.networks"),
}
"""Command name -> the module defining it."""


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
    context_settings={"show_default": True},
    epilog="""\b
Shell completion: eval "$(_CNNCALC_COMPLETE=bash_source cnncalc)" in ~/.bashrc
(zsh_source, fish_source for the other shells). NO_COLOR=1 (or TERM=dumb) prints
plain tables: no colour, and borders in ASCII (+-|) rather than box drawing.

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


def run() -> None:
    """The ``cnncalc`` program: ``main`` with the cycle collector off, for a process that
    lasts seconds at most and builds acyclic data, where the collector's passes over a big
    network (its graph between reading and tracing, say) would only cost time."""
    gc.disable()
    main()
