"""The network commands: trace, check, convert, zoo, kinds, schema and diagram.

They are loaded only when one of them runs (see ``LAZY_COMMANDS`` in ``cli/__init__.py``), so
that a single-layer command does not pay for building their options at start-up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from cnncalc import report
from cnncalc.analysis.tracer import DTYPE_BYTES
from cnncalc.cli.options import COUNT, EXPECTED, WIDTH, Failure, UsageFailure, reported, stack
from cnncalc.core.errors import SpecError, UsageError
from cnncalc.core.notation import channels_first_hint, shape_sizes
from cnncalc.core.positions import NOWHERE, Problem
from cnncalc.formats import registry
from cnncalc.render.network import (
    TRACE_FORMATS,
    check_line,
    kinds_report,
    trace_report,
    warning_summary,
    zoo_report,
)
from cnncalc.render.problems import github_annotations, problem_report
from cnncalc.render.text import json_text

if TYPE_CHECKING:
    from cnncalc.core.shapes import Shape
    from cnncalc.graph import Network


def load_network(
    spec: str, input_shape: str | None = None, source_format: str | None = None
) -> tuple[Network, Shape | None]:
    """A network named on the command line; a faulty spec ends the command with its problems."""
    from cnncalc.api import load, parse_input

    try:
        net = load(spec, source_format, **reader_options())
    except SpecError as error:
        click.echo(problem_report(error.source, error.text, error.problems), err=True)
        raise SystemExit(1) from None
    except UsageError as error:
        raise UsageFailure(str(error)) from None
    if input_shape is not None and not input_shape.strip():
        raise UsageFailure("--input is empty: give a shape like 224x224x3, or leave it out")
    try:
        shape = parse_input(input_shape, net.input, net.layout) if input_shape else None
    except UsageError as error:
        raise UsageFailure(f"--input: {error}") from None
    looks = shape and channels_first_hint(tuple(shape_sizes(shape, net.layout)), net.layout)
    if looks:
        sizes = shape_sizes(shape, net.layout)  # type: ignore[arg-type]
        remedy = (
            f"write it {'x'.join(map(str, sizes[-1:] + sizes[:-1]))}"
            if net.layout == "chw"
            else "the network's layout is HxWxC"
        )
        click.echo(f"warning: --input {looks}; {remedy}", err=True)
    return net, shape


def complete_zoo(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """The zoo networks whose names start with what is typed."""
    from click.shell_completion import CompletionItem

    from cnncalc import zoo as bundled

    return [CompletionItem(n) for n in bundled.names() if n.startswith(incomplete.lower())]


def complete_spec(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Zoo networks and files. Told to complete files, bash drops every other candidate, so
    beside matching zoo names the matching files are listed here; else the shell completes
    files itself (directories, ~, quoting)."""
    from click.shell_completion import CompletionItem

    names = complete_zoo(ctx, param, incomplete)
    if not names:
        return [CompletionItem(incomplete, type="file")]
    return names + [CompletionItem(path) for path in _paths(incomplete)]


def _paths(incomplete: str) -> list[str]:
    """Files and directories (with a slash) starting with ``incomplete``, hidden ones only
    when asked for."""
    folder, start = os.path.split(incomplete)
    try:
        with os.scandir(folder or ".") as entries:
            return sorted(
                os.path.join(folder, e.name) + ("/" if e.is_dir() else "")
                for e in entries
                if e.name.startswith(start) and (start or not e.name.startswith("."))
            )
    except OSError:
        return []


SPEC_ARGUMENT = click.argument("spec", metavar="SPEC", shell_complete=complete_spec)
INPUT_SHAPE = click.option(
    "--input", "input_shape", metavar="SHAPE", help="Trace at another input size, e.g. 299x299x3."
)


class _Formats(click.Choice):
    """The registered formats, read when ``--from`` is used rather than when it is declared."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(registry.FORMATS)

    @choices.setter
    def choices(self, value: object) -> None:
        """click's constructor sets the choices given; these are the registry's."""


READER_OPTIONS = "cnncalc.reader_options"
"""Where the formats' own options (``--scale``) wait in the command's context."""


def _reader_option(ctx: click.Context, param: click.Parameter, value: object) -> None:
    if value is not None and param.name:
        ctx.meta.setdefault(READER_OPTIONS, {})[param.name] = value


def reader_options() -> dict[str, Any]:
    """The formats' own options given to this command, by the reader's keyword."""
    ctx = click.get_current_context(silent=True)
    return dict(ctx.meta.get(READER_OPTIONS, {})) if ctx is not None else {}


SOURCE_FORMAT = stack(
    click.option(
        "--from",
        "source_format",
        type=_Formats(),
        help="Read files in this format (default: as the suffix says, else as the content looks).",
    ),
    click.option(
        "--scale",
        metavar="LETTER",
        expose_value=False,
        callback=_reader_option,
        help="An Ultralytics model's scale, n s m l x (default: the file name's, yolov8n.yaml).",
    ),
)


@click.command(
    epilog="""\b
SPEC is a spec file, a zoo network (cnncalc zoo list) or an inline spec: an
input shape, then layers separated by |. Inline layers are written as in spec
files: the kind, a bare number for its main value (filters of conv, outputs
of fc), f3 s2 p1 d2 g32 for kernel, stride, padding, dilation and groups,
key=value for anything else (pad=same, ceil, nobias). Write ./NAME for a file
whose name could also be read as a zoo network or an inline spec.

\b
Examples:
  cnncalc trace "32x32x3 | conv 10 f5 p2 | relu | pool f2 s2 | fc 10 | softmax"
  cnncalc trace resnet50 --depth 1
  cnncalc trace model.yaml --format json --dtype float16
  cnncalc trace inception_v3 --input 512x512x3 --format csv
  cnncalc trace lenet5 --format latex > lenet5.tex
  cnncalc trace resnet18 --explain layer2.0.conv1 --format markdown"""
)
@SPEC_ARGUMENT
@INPUT_SHAPE
@SOURCE_FORMAT
@click.option("--depth", type=COUNT, help="Fold blocks deeper than N into a row.")
@click.option(
    "--dtype",
    type=click.Choice(list(DTYPE_BYTES)),
    default="float32",
    help="Element type for the memory columns.",
)
@click.option("--format", "output_format", type=click.Choice(TRACE_FORMATS), default="table")
@click.option("--width", type=WIDTH, help="Table width (default: the terminal).")
@click.option(
    "--strict",
    is_flag=True,
    help="Fail when input rows or columns are left out by a size that does not divide.",
)
@click.option(
    "--explain",
    metavar="NAME",
    help="Show the worked formula of the layer NAME (as the table names it) with its actual "
    "input, rather than the table: --format table, markdown, latex or json.",
)
def trace(
    spec: str,
    input_shape: str | None,
    source_format: str | None,
    depth: int | None,
    dtype: str,
    output_format: str,
    width: int | None,
    strict: bool,
    explain: str | None,
) -> None:
    """Trace a network layer by layer: shapes, parameters, MACs, memory, receptive field."""
    from cnncalc.analysis.tracer import trace as run

    net, shape = load_network(spec, input_shape, source_format)
    with reported():
        t = run(net, shape)
        if explain is not None:
            from cnncalc.analysis.explain import explain as explained
            from cnncalc.formats.kit import did_you_mean
            from cnncalc.render.layer import explain_report

            layer = explained(t, explain, did_you_mean)
            click.echo(explain_report(layer, output_format, net.layout))
        else:
            click.echo(trace_report(report.trace_data(t, dtype, depth), output_format, width))
    if t.errors:
        click.echo(problem_report(net.source, net.text, t.errors), err=True)
    if strict and t.warnings:
        click.echo(problem_report(net.source, net.text, t.warnings), err=True)
    elif t.warnings:
        click.echo(warning_summary(t.warnings), err=True)
    if t.errors or (strict and t.warnings):
        raise SystemExit(1)


@click.command(
    epilog="""\b
Each SPEC is traced and its expectations (expect: output, params, macs,
shapes) are checked, with those given by --expect-... over them (for files
that cannot hold them, such as Darknet's and Caffe's). Counts may be written
as cnncalc prints them (25,557,032). Every SPEC is checked and reported, one
line each, with its warnings or problems below it.

\b
Exit status, the worst over all the specs:
  0  every spec passes (warnings alone do not fail it, unless --strict)
  1  a spec fails: a shape does not fit or an expectation does not hold
  2  a spec cannot be checked (a missing file, say), or an option is malformed

\b
Examples:
  cnncalc check models/*.yaml
  cnncalc check --strict model.yaml
  cnncalc check --format github models/*.yaml   # annotations on a pull request
  cnncalc check yolov3-tiny.cfg --expect-params 8852366"""
)
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...", shell_complete=complete_spec)
@SOURCE_FORMAT
@INPUT_SHAPE
@click.option(
    "--strict", is_flag=True, help="Also fail when a size that does not divide leaves input out."
)
@click.option(
    "--expect-params",
    type=EXPECTED,
    metavar="N",
    help=(
        "Expect N parameters in all: trainable and frozen, shared weights counted once "
        "(25557032, 25,557,032 or 25_557_032)."
    ),
)
@click.option(
    "--expect-trainable",
    type=EXPECTED,
    metavar="N",
    help="Expect N trainable parameters (all but the frozen ones).",
)
@click.option("--expect-macs", type=EXPECTED, metavar="N", help="Expect N MACs in all.")
@click.option(
    "--expect-output",
    multiple=True,
    metavar="[NAME=]SHAPE",
    help="Expect the output, or the named output, to be SHAPE (e.g. 13x13x255); repeatable.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github"]),
    default="text",
    help="Plain lines, or GitHub Actions workflow commands (::error file=...).",
)
def check(
    specs: tuple[str, ...],
    source_format: str | None,
    input_shape: str | None,
    strict: bool,
    expect_params: int | None,
    expect_trainable: int | None,
    expect_macs: int | None,
    expect_output: tuple[str, ...],
    output_format: str,
) -> None:
    """Check specs for CI: every shape fits and every expectation holds."""
    from cnncalc.api import check as verdict

    expect: dict[str, Any] = {
        "params": expect_params,
        "trainable": expect_trainable,
        "macs": expect_macs,
        "outputs": {},
    }
    for given in expect_output:
        name, _, shape = given.rpartition("=")
        if name:
            expect["outputs"][name] = shape
        elif "output" in expect:
            raise UsageFailure("--expect-output: give one unnamed output, or NAME=SHAPE for each")
        else:
            expect["output"] = shape
    worst = 0
    for spec in specs:
        try:
            with reported():
                checked = verdict(
                    spec, strict, source_format, expect, input_shape, reader_options()
                )
        except Failure as failure:  # this spec cannot be checked; the others still are
            click.echo(f"Error: {_naming(spec, failure.message)}", err=True)
            if output_format == "github":
                click.echo(github_annotations(spec, [Problem(NOWHERE, "", failure.message)]))
            worst = max(worst, failure.exit_code)
            continue
        worst = max(worst, 1 if checked.problems else 0)
        if output_format == "github":
            report = github_annotations(checked.source, checked.problems)
            report += "\n" + github_annotations(checked.source, checked.warnings, "warning")
            if report.strip():
                click.echo(report.strip())
        if checked.problems and output_format == "text":
            click.echo(problem_report(checked.source, checked.text, checked.problems))
        elif checked.trace is not None and not checked.problems:
            click.echo(check_line(checked.source, checked.trace))
            if checked.warnings and output_format == "text":
                click.echo(
                    problem_report(checked.source, checked.text, checked.warnings, "warning")
                )
    if worst:
        raise SystemExit(worst)


def _naming(spec: str, message: str) -> str:
    """``message`` about ``spec``, saying which spec unless it already does."""
    return message if spec in message else f"{spec}: {message}"


@click.command(
    epilog="""\b
The spec traces to the same shapes, parameters and MACs as SPEC (it is read
back and compared before it is printed), keeps the layer names (made valid
spec names: layer1.0.conv1 becomes layer1_0_conv1, Darknet's 12 becomes _12),
writes a repeat for each run of identical blocks, and ends with an expect:
of the output, parameters and MACs, so that cnncalc check guards it. A
network whose shapes do not fit is refused with the problem (exit 1).

\b
Examples:
  cnncalc convert yolov3.cfg > yolov3.yaml
  cnncalc convert deploy.prototxt --to yaml > net.yaml
  cnncalc convert resnet50 > resnet50-flat.yaml"""
)
@SPEC_ARGUMENT
@SOURCE_FORMAT
@click.option(
    "--to",
    "target",
    type=click.Choice(["yaml"]),
    default="yaml",
    help="The language to write: a cnncalc spec.",
)
def convert(spec: str, source_format: str | None, target: str) -> None:
    """Write any network (a Darknet cfg, a Caffe prototxt, a spec) as a cnncalc spec."""
    from cnncalc.api import to_spec

    net, _ = load_network(spec, None, source_format)
    try:
        with reported():
            text = to_spec(net, to=target)
    except SpecError as error:
        click.echo(problem_report(error.source, error.text, error.problems), err=True)
        raise SystemExit(1) from None
    click.echo(text, nl=False)


@click.group(
    epilog="""\b
Examples:
  cnncalc zoo list
  cnncalc zoo show resnet50 > my-resnet.yaml
  cnncalc trace resnet50"""
)
def zoo() -> None:
    """The bundled networks: AlexNet, VGG, GoogLeNet, ResNet, DenseNet, U-Net, ..."""


@zoo.command(
    "list",
    epilog="""\b
Examples:
  cnncalc zoo list
  cnncalc zoo list --format markdown""",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "markdown", "json", "latex"]),
    default="table",
)
def zoo_list(output_format: str) -> None:
    """Every zoo network with its input, parameters and GMACs (traced now)."""
    from cnncalc import zoo as bundled
    from cnncalc.analysis.tracer import trace as run
    from cnncalc.api import load_zoo

    # each from the zoo itself: a file here named like a network is no business of the list
    specs = {name: os.path.join(bundled.HERE, f"{name}.yaml") for name in bundled.names()}
    entries = [(name, run(load_zoo(name, spec))) for name, spec in specs.items()]
    click.echo(zoo_report(entries, output_format))


@zoo.command(
    "show",
    epilog="""\b
Examples:
  cnncalc zoo show resnet50 > my-resnet.yaml""",
)
@click.argument("name", shell_complete=complete_zoo)
def zoo_show(name: str) -> None:
    """Print a zoo network's spec, to copy and edit."""
    from cnncalc import zoo as bundled

    path = bundled.path(name)
    if path is None:
        raise UsageFailure(
            f"no zoo network {name!r}{bundled.suggestion(name)} (see cnncalc zoo list)"
        )
    with open(path, encoding="utf-8") as spec:
        click.echo(spec.read(), nl=False)


@click.command(
    epilog="""\b
Examples:
  cnncalc kinds"""
)
def kinds() -> None:
    """The layer kinds a spec can use, with their parameters and defaults."""
    from cnncalc.kinds import ALIASES, REGISTRY

    aliases: dict[str, list[str]] = {}
    for alias, kind in ALIASES.items():
        aliases.setdefault(kind, []).append(alias)
    click.echo(kinds_report(REGISTRY, aliases))


@click.command(
    epilog="""\b
Examples:
  cnncalc schema > cnncalc-spec.schema.json"""
)
def schema() -> None:
    """The JSON Schema of spec files, for editors that complete and validate YAML."""
    from cnncalc.formats.schema import spec_schema

    click.echo(json_text(spec_schema(), indent=2))


@click.command(
    epilog="""\b
Examples:
  cnncalc diagram unet --depth 1 > unet.mmd
  cnncalc diagram resnet18 --format dot --depth 2 | dot -Tsvg > resnet18.svg"""
)
@SPEC_ARGUMENT
@INPUT_SHAPE
@SOURCE_FORMAT
@click.option("--format", "output_format", type=click.Choice(["mermaid", "dot"]), default="mermaid")
@click.option("--depth", type=COUNT, help="Draw blocks deeper than N as one node.")
def diagram(
    spec: str,
    input_shape: str | None,
    source_format: str | None,
    output_format: str,
    depth: int | None,
) -> None:
    """Draw a network as a Mermaid or Graphviz diagram, with shapes on the edges."""
    from cnncalc.analysis.tracer import trace as run
    from cnncalc.render import diagram as draw

    net, shape = load_network(spec, input_shape, source_format)
    with reported():
        t = run(net, shape)
        click.echo(getattr(draw, output_format)(t, depth, net.layout))
    if t.errors:  # drawn up to the failing node, which is marked
        click.echo(problem_report(net.source, net.text, t.errors), err=True)
        raise SystemExit(1)
