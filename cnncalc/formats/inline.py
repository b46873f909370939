"""The inline form: ``"32x32x3 | conv 10 f5 p2 | relu | pool f2 s2 | fc 10"``, an input
shape and then layers, each written as an inline item of a spec file is."""

from __future__ import annotations

from cnncalc.core.errors import UsageError
from cnncalc.core.notation import channels_first_hint, shape_sizes
from cnncalc.core.positions import Pos, Problem
from cnncalc.core.shapes import Shape
from cnncalc.formats.kit import Invalid
from cnncalc.formats.spec import Builder, Context, Written, read_shape
from cnncalc.formats.tree import Node, Sequence, lower
from cnncalc.graph import Network

MAX_INLINE = 131_072
"""The longest inline spec, in characters: what one command-line argument can hold on Linux
(MAX_ARG_STRLEN), some 26,000 layers. A longer network is a spec file, where ``repeat:``
writes long runs (tracing 150,000 layers written out took seconds)."""


def load_inline(text: str) -> Network:
    """``"32x32x3 | conv 10 f5 p2 | relu | pool f2 s2 | fc 10"``: an input, then layers."""
    if len(text) > MAX_INLINE:
        raise UsageError(
            f"an inline spec of {len(text):,} characters: cnncalc reads at most "
            f"{MAX_INLINE:,} (one command-line argument); write a spec file, with repeat: "
            "for long runs"
        )
    builder = Builder(text, "<inline>")
    parts, offset = [], 0
    for part in text.split("|"):
        lead = len(part) - len(part.lstrip())
        parts.append((part.strip(), offset + lead + 1))
        offset += len(part) + 1
    (first, col), rest = parts[0], parts[1:]
    input_shape, input_hint = Shape((), 1), None
    try:
        input_shape = read_shape(first, "hwc", "input")
    except UsageError as e:
        builder.problem(
            Pos(1, col), "", f"{e} (an inline spec starts with the input, e.g. 32x32x3)"
        )
    sizes = tuple(shape_sizes(input_shape))
    hint = channels_first_hint(sizes, "hwc")
    if hint:
        hwc = "x".join(map(str, (*sizes[1:], sizes[0])))
        input_hint = Problem(Pos(1, col), "input", f"{hint}; an inline input is HxWxC, like {hwc}")
    ctx = Context("", {})
    counts: dict[str, int] = {}
    body: list[Node] = []
    names: dict[str, Written] = {}
    for part, col in rest:
        try:
            item = builder.inline_item(part, Pos(1, col), ctx, counts)
        except Invalid:
            continue
        if item is not None:
            builder.unique(item, part, names, ctx)
            body.append(item)
    builder.problems.check()
    return Network(
        "inline",
        input_shape,
        lower(Sequence("", Pos(1, 1), body)),
        source="<inline>",
        text=text,
        input_hint=input_hint,
    )
