"""Spec files to graph: YAML (or JSON) specs, with a source position on every node.

Every problem found while reading a spec is collected, each with its line,
column and layer path, and raised together as one :class:`SpecError`. The
language is described in docs/spec.md; in short::

    name: tiny
    input: 32x32x3
    blocks:
      unit: {args: {c: 16}, layers: ["conv c f3 p1", bn, relu]}
    layers:
      - unit: {c: 32}
      - repeat: 2
        layers: [unit c=64]
      - add: [[conv 64 f3 p1, bn], identity]
      - gavgpool
      - fc 10
    expect: {output: 10, params: 120000}
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml

from cnncalc.core.errors import ParameterError, SpecError, UsageError
from cnncalc.core.notation import (
    channels_first_hint,
    parse_ints,
    shape_from_sizes,
    shape_sizes,
)
from cnncalc.core.numbers import parse_count
from cnncalc.core.positions import Pos, Problem
from cnncalc.core.shapes import Shape
from cnncalc.formats.expressions import (
    BOOLEANS,
    INTEGER,
    PATH,
    WORD,
    ExpressionError,
    elided,
    evaluate,
    parse_expression,
    quoted,
    shown,
)
from cnncalc.formats.kit import Invalid, Problems, did_you_mean, source_text
from cnncalc.formats.language import (
    CONVERSIONS,
    EXPECT_KEYS,
    KEYWORDS,
    NAME,
    SHORT,
    TOP_KEYS,
    as_int,
    auto_name,
    conventions,
    inline_tokens,
)
from cnncalc.formats.tree import LayerNode, Merge, Node, Ref, Repeat, Sequence, lower
from cnncalc.formats.yaml_source import (
    MAX_DEPTH,
    NOTATION,
    existing_pos,
    inspect_yaml,
    long_list,
    node_pos,
    node_value,
    node_word,
    text_pos,
    yaml_loader,
    yaml_problem,
)
from cnncalc.graph import TASKS, Expectations, Network, is_merge, without_gc_pauses
from cnncalc.kinds import ALIASES, FRAMEWORKS, REGISTRY, Join, Layer, layer_class

MAX_REPEAT = 100_000
"""A single repeat count above this is a typo, not a network."""

MAX_LAYERS = 200_000
"""Expanded size above which a spec is refused rather than traced for seconds (tracing takes
about 10 µs a layer); counted while the spec is read, a repeat of an unchanging body
``count`` times, so that reading stops as soon as it is exceeded. Real networks have at most a
few thousand layers."""

MAX_COPIES = 20_000
"""Items read again, beyond the first reading of each item written (block bodies called with
other arguments, repeat bodies that depend on their index), above which reading stops: each
copy costs time, unlike a repeated body that is built once."""


Written = tuple[yaml.Node | str, Pos]
"""An item as written (a YAML node, or an inline item's text) and where it begins."""


class _Stop(Exception):
    """Abandons the whole spec after its problem was recorded: it is too big or too deep."""


@dataclass
class _Block:
    name: str
    args: dict[str, Any]
    required: list[str]
    layers: yaml.Node
    pos: Pos
    at: dict[str, Pos] = field(default_factory=dict)
    """Where each default is written."""


@dataclass
class Context:
    """Where an item is being read: its path, the names it can use, the blocks being called."""

    path: str
    scope: dict[str, Any]
    calls: tuple[str, ...] = ()
    used: set[str] = field(default_factory=set)
    """Names looked up through this scope (to tell whether a repeat depends on its index)."""
    depth: int = 0
    """Blocks, merges and repeats this item is inside."""
    at: dict[str, Pos] = field(default_factory=dict)
    """Where each block argument in scope was written: at the call, or as the default."""


class _Passed(str):
    """A layer name a block's argument gave, and where the call wrote it (``at``)."""

    at: Pos


class Builder:
    def __init__(self, text: str, source: str, convention: str = "pytorch"):
        self.text = text
        self.source = source
        self.problems = Problems(source, text)
        self.blocks: dict[str, _Block] = {}
        self.defaults = conventions(convention)
        self.layers: dict[Any, Layer] = {}
        """Layers already built, by class and parameters: big specs repeat the same few."""
        self.inline_layers: dict[str, tuple[str, Layer, str | None]] = {}
        """Inline layers already read (kind as written, layer, explicit name), by their text."""
        self.calls: dict[Any, tuple[Sequence, int]] = {}
        """Block calls already built (body, expanded size), by block and arguments: a block's
        layers depend on nothing else, and blocks calling blocks would otherwise multiply."""
        self.expanded = 0
        """Layers the spec expands to so far, as the tracer will count them."""
        self.read: set[int] = set()
        """The YAML items read at least once."""
        self.copies = 0
        """Items read again (see MAX_COPIES)."""

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def problem(self, pos: Pos, path: str, message: str) -> Invalid:
        return self.problems.add(existing_pos(self.lines, *pos), path, message)

    def grow(self, layers: int, pos: Pos, path: str) -> None:
        """Count expanded layers; stop reading as soon as there are too many."""
        self.expanded += layers
        if self.expanded > MAX_LAYERS:
            self.problem(pos, path, f"the spec expands to over {MAX_LAYERS:,} layers (the most)")
            raise _Stop

    # values

    def resolve(self, raw: Any, ctx: Context, pos: Pos) -> Any:
        """A value as written at ``pos``: notation, a word or a layer path as text, a name in
        scope as its value, a boolean word as a boolean, else an expression on the names in
        scope (docs/spec.md, "Values and expressions")."""
        if isinstance(raw, list):
            return tuple(self.resolve(v, ctx, pos) for v in raw)
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        if NOTATION.fullmatch(text) or PATH.fullmatch(text):
            return raw  # "3x5", "0x3", "0:1": not arithmetic (nor hexadecimal); up1.upconv
        try:
            if WORD.fullmatch(text):
                if text in ctx.scope:
                    ctx.used.add(text)
                    return ctx.scope[text]
                if text.lower() in BOOLEANS:
                    return BOOLEANS[text.lower()]
                if "-" not in text or not self.mentions(text, ctx):
                    return raw  # a word such as same, same-lower or up-1
            if not INTEGER.fullmatch(text) and parse_expression(raw) is None:
                return raw  # not arithmetic ("3x3x"): the parameter says what it accepts
            return evaluate(raw, _Recording(ctx))
        except ExpressionError as e:
            raise self.expression_problem(raw, e, ctx, pos) from None

    def mentions(self, text: str, ctx: Context) -> bool:
        """Whether ``c-1`` is arithmetic on a name in scope, rather than a word like up-1."""
        tree = parse_expression(text)
        return tree is not None and any(
            isinstance(n, ast.Name) and n.id in ctx.scope for n in ast.walk(tree)
        )

    def condition(self, node: yaml.Node, ctx: Context) -> bool:
        """An item's ``if:``, true or false (a whole number by its truth, as in Python). A name
        not in scope or a word is an error, never silently true: ``if: projcet``, or a block
        argument given as ``flag=flase``."""
        raw, pos = node_value(node), text_pos(node)
        value = raw
        if raw is None or isinstance(raw, str) and not raw.strip():
            raise self.problem(pos, ctx.path, "if: is empty (a condition is true or false)")
        if isinstance(raw, str):
            try:
                value = evaluate(raw, _Recording(ctx))
            except ExpressionError as e:
                raise self.expression_problem(raw, e, ctx, pos) from None
        if isinstance(value, int):
            return bool(value)
        if isinstance(raw, str):
            said = f"{elided(raw.strip())} is {shown(value)}"
            message = f"if: {said}, but a condition is true or false"
        else:
            message = f"if: {shown(value)} is not a condition (a condition is true or false)"
        raise self.problem(pos, ctx.path, message)

    def expression_problem(
        self, text: str, error: ExpressionError, ctx: Context, pos: Pos
    ) -> Invalid:
        """The problem at the place in the source the error points to, when the source shows
        the text as written (on one line, no escapes); else at the start of the text."""
        at = pos
        if 0 < pos.line <= len(self.lines):
            start, end = pos.column - 1, pos.column + error.offset
            if self.lines[pos.line - 1][start:end] == text[: error.offset + 1]:
                at = Pos(pos.line, pos.column + error.offset)
        plain = error.whole or text.strip().isidentifier() or INTEGER.fullmatch(text.strip())
        where = "" if plain else f"in {quoted(text.strip())}: "
        return self.problem(at, ctx.path, f"{where}{error}")

    def value(self, kind: str, key: str, raw: Any, ctx: Context, pos: Pos) -> Any:
        """A parameter's value: a layer name for a reference (crop's ``to``), else resolved."""
        if kind not in self.blocks and key in _references(kind):
            return self.reference(raw, ctx)
        return self.resolve(raw, ctx, pos)

    def reference(self, raw: Any, ctx: Context) -> str:
        """A layer name as written (``layer1.0.conv1``, ``up-1``: names, not arithmetic), or
        the name a block argument holds."""
        text = str(raw)
        if text in ctx.scope:
            ctx.used.add(text)
            passed = _Passed(ctx.scope[text])
            passed.at = ctx.at.get(text, Pos(1, 1))
            return passed
        return text

    def convert(self, cls: type[Layer], key: str, value: Any, pos: Pos, path: str) -> Any:
        """A parameter value checked against the type the layer declares."""
        try:
            return CONVERSIONS[cls.parameters[key].base](value, key)
        except UsageError as e:
            raise self.problem(pos, path, f"{cls.kind}: {e}") from None

    # items

    def items(self, node: yaml.Node, ctx: Context) -> list[Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.problem(node_pos(node), ctx.path, "layers must be a list")
        if ctx.depth > MAX_DEPTH:
            self.problem(node_pos(node), ctx.path, f"nesting deeper than {MAX_DEPTH} levels")
            raise _Stop
        out: list[Node] = []
        counts: dict[str, int] = {}
        names: dict[str, Written] = {}
        for child in node.value:
            if id(child) in self.read:
                self.copies += 1
                if self.copies > MAX_COPIES:
                    message = f"the spec builds over {MAX_COPIES:,} copies of items (the most)"
                    self.problem(node_pos(child), ctx.path, message)
                    raise _Stop
            self.read.add(id(child))
            try:
                built = self.item(child, ctx, counts)
            except Invalid:
                continue
            if built is None:
                continue
            if isinstance(built, (LayerNode, Merge)):
                self.expanded += 1
                if self.expanded > MAX_LAYERS:
                    self.grow(0, built.pos, ctx.path)
            self.unique(built, child, names, ctx)
            out.append(built)
        return out

    def item(self, node: yaml.Node, ctx: Context, counts: dict[str, int]) -> Node | None:
        """One list entry: an inline string, or a mapping keyed by its kind."""
        if isinstance(node, yaml.ScalarNode):
            if not node.style and node.end_mark.line > node.start_mark.line:
                self.slip(node, ctx)
            return self.inline_item(node_word(node), text_pos(node), ctx, counts)
        pos = node_pos(node)
        if isinstance(node, yaml.SequenceNode):
            raise self.problem(pos, ctx.path, "a list inside layers must be a branch of a merge")
        entries = {node_value(k): (k, v) for k, v in node.value}
        name = None
        if "name" in entries:
            name_node = entries.pop("name")[1]
            name = node_word(name_node)  # as written: a name "on" is not true
            self.check_name(name, node_pos(name_node), ctx)
        if "layers" in entries and "repeat" not in entries:
            message = (
                "layers: with if: is a branch of a merge (add: [{layers: [...], if: c}, "
                "identity]); in a list, give each item its own if:"
            )
            raise self.problem(node_pos(entries["layers"][0]), ctx.path, message)
        if "if" in entries:
            if not self.condition(entries.pop("if")[1], ctx):
                return None
        marks = self.marks(entries, ctx)
        if "repeat" in entries:
            return self.marked(self.repeat(entries, pos, name, ctx, counts), marks, pos, ctx)
        kinds, params = (list(entries), []) if len(entries) == 1 else _beside_join(entries)
        if len(kinds) != 1:
            raise self.problem(
                pos, ctx.path, f"an item has one kind and optional name/if, not {kinds}"
            )
        key_node, value_node = entries[kinds[0]]
        kind, kpos = node_word(key_node), node_pos(key_node)
        if not kind:
            raise self.problem(kpos, ctx.path, "an item's kind is empty (null)")
        name = name or auto_name(kind, counts)
        if is_merge(kind):
            return self.marked(
                self.merge(kind, value_node, kpos, name, ctx, params), marks, pos, ctx
            )
        if kind == "from":
            if marks:
                self.marked(None, marks, kpos, ctx)
            return _ref(name, kpos, self.reference(node_value(value_node), ctx))
        built = self.call(kind, self.mapping_params(kind, value_node, ctx), kpos, name, ctx)
        return self.marked(built, marks, pos, ctx)

    def marks(
        self, entries: dict[Any, tuple[yaml.Node, yaml.Node]], ctx: Context
    ) -> dict[str, Any]:
        """An item's ``shares: NAME`` (the weights it applies again) and ``frozen: true``
        (parameters not trained), taken out of its keys; each value with its position."""
        marks: dict[str, Any] = {}
        if "shares" in entries:
            key, value = entries.pop("shares")
            name = self.shared_name(node_word(value), ctx, text_pos(value))
            marks["shares"] = (name, node_pos(key))
        if "frozen" in entries:
            key, value = entries.pop("frozen")
            marks["frozen"] = (self.flag(node_value(value), ctx, text_pos(value)), node_pos(key))
        return marks

    def shared_name(self, written: str, ctx: Context, pos: Pos) -> str:
        """``shares:``'s value: a layer's name (or a block argument holding one)."""
        text = self.reference(written, ctx)
        if not WORD.fullmatch(text) and not PATH.fullmatch(text):
            raise self.problem(pos, ctx.path, f"shares: {shown(written)} is not a layer's name")
        return text

    def flag(self, raw: Any, ctx: Context, pos: Pos) -> bool:
        """``frozen:``'s value: true or false (or an expression giving one)."""
        value = self.resolve(raw, ctx, pos)
        if not isinstance(value, bool):
            raise self.problem(pos, ctx.path, f"frozen: {shown(value)} is not true or false")
        return value

    def marked(self, node: Node | None, marks: dict[str, Any], pos: Pos, ctx: Context) -> Node:
        """``node`` with its ``shares`` and ``frozen`` marks; a ``from`` takes none."""
        if node is None or isinstance(node, Ref):
            for key, (_, at) in marks.items():
                raise self.problem(at, ctx.path, f"{key}: a 'from' has no weights")
        assert node is not None and not isinstance(node, Ref)
        if not marks:
            return node
        shares = marks["shares"][0] if "shares" in marks else node.shares
        frozen = marks["frozen"][0] if "frozen" in marks else node.frozen
        return node._replace(shares=shares, frozen=frozen)

    def mapping_params(
        self, kind: str, node: yaml.Node, ctx: Context
    ) -> dict[str, tuple[Any, Pos]]:
        if isinstance(node, yaml.MappingNode):
            return self.params(kind, node.value, ctx)
        raw = node_value(node)
        if raw is None:
            return {}
        return {"": (self.resolve(raw, ctx, text_pos(node)), node_pos(node))}

    def params(
        self, kind: str, pairs: list[tuple[yaml.Node, yaml.Node]], ctx: Context
    ) -> dict[str, tuple[Any, Pos]]:
        """Parameters written as keys and values, each value resolved, at its key."""
        return {
            str(node_value(k)): (
                self.value(kind, str(node_value(k)), node_value(v), ctx, text_pos(v)),
                node_pos(k),
            )
            for k, v in pairs
        }

    def inline_item(self, text: str, pos: Pos, ctx: Context, counts: dict[str, int]) -> Node | None:
        known = None if ctx.scope else self.inline_layers.get(text)
        if known is not None:  # the same text read before, with no arguments in scope
            kind, layer, name = known
            return LayerNode(name or auto_name(kind, counts), pos, layer)
        node = self.parse_inline(text, pos, ctx, counts)
        if not ctx.scope and type(node) is LayerNode and not node.shares and not node.frozen:
            explicit = node.name if "name=" in text else None
            self.inline_layers[text] = (text.split(None, 1)[0], node.layer, explicit)
        return node

    def parse_inline(
        self, text: str, pos: Pos, ctx: Context, counts: dict[str, int]
    ) -> Node | None:
        tokens = inline_tokens(text)
        if not tokens:
            raise self.problem(pos, ctx.path, "empty layer")
        (_, kind, _, _), rest = tokens[0], tokens[1:]
        if kind == "from":
            if len(rest) != 1:
                raise self.problem(pos, ctx.path, "write 'from NAME'")
            # the token as written: from p5 names FPN's layer p5, never a padding of 5
            target = text[rest[0][2] :].strip()
            return _ref(auto_name("from", counts), pos, self.reference(target, ctx))
        params: dict[str, tuple[Any, Pos]] = {}
        marks: dict[str, Any] = {}
        name = None
        for key, raw, offset, at in rest:
            tpos = Pos(pos.line, pos.column + offset)
            if key == "name":
                if name is not None:
                    raise self.problem(tpos, ctx.path, f"{kind}: name given twice")
                name = raw
                self.check_name(name, tpos, ctx)
                continue
            if key in ("shares", "frozen") and key not in _block_args(self.blocks.get(kind)):
                vpos = Pos(pos.line, pos.column + at)
                if key == "shares":
                    marks[key] = (self.shared_name(raw, ctx, vpos), tpos)
                else:
                    marks[key] = (self.flag(raw, ctx, vpos), tpos)
                continue
            if key in params:
                if key:
                    raise self.problem(tpos, ctx.path, f"{kind}: {key} given twice")
                first = params[""][0]
                raise self.problem(
                    tpos,
                    ctx.path,
                    f"{kind}: a second bare value {raw!r} (the first is "
                    f"{shown(first)}); name it, like s=2 or pad=1",
                )
            vpos = Pos(pos.line, pos.column + at)
            params[key] = (self.value(kind, key, raw, ctx, vpos), tpos)
        built = self.call(kind, params, pos, name or auto_name(kind, counts), ctx)
        return self.marked(built, marks, pos, ctx)

    def call(
        self, kind: str, params: dict[str, tuple[Any, Pos]], pos: Pos, name: str, ctx: Context
    ) -> Node:
        """A layer of a registered kind, or a call of a block defined in this spec."""
        if kind in self.blocks:
            return self.called(self.blocks[kind], params, pos, name, ctx)
        if is_merge(kind.lower()) or kind.lower() == "repeat":
            message = f"{kind} is written as a mapping in a spec file, not inline (docs/spec.md)"
            raise self.problem(pos, ctx.path, message)
        try:
            cls = layer_class(kind)
        except UsageError:
            known = [*REGISTRY, *ALIASES, *self.blocks, *KEYWORDS]
            hint = did_you_mean(kind.lower(), known)
            raise self.problem(pos, ctx.path, f"unknown layer kind {kind!r}{hint}") from None
        passed = tuple((k, v.at) for k, (v, _) in params.items() if isinstance(v, _Passed))
        if passed:  # the names as plain text, and where the call wrote them beside the layer
            params = {
                k: (str(v) if isinstance(v, _Passed) else v, p) for k, (v, p) in params.items()
            }
        return LayerNode(name, pos, self.layer(cls, params, ctx.path, name, pos), passed=passed)

    def layer(
        self, cls: type[Layer], params: dict[str, tuple[Any, Pos]], at: str, name: str, pos: Pos
    ) -> Layer:
        """A layer named ``name`` in ``at``, built once for each kind and parameters."""
        try:
            key = (cls, tuple((k, v) for k, (v, _) in params.items()) if params else ())
            layer = self.layers.get(key)
        except TypeError:  # an unhashable value: build it, uncached
            key, layer = None, None
        if layer is None:
            layer = self.build(cls, params, f"{at}.{name}" if at else name, pos)
            if key is not None:
                self.layers[key] = layer
        return layer

    def build(
        self, cls: type[Layer], params: dict[str, tuple[Any, Pos]], path: str, pos: Pos
    ) -> Layer:
        """A layer from checked parameters over the convention's defaults."""
        kwargs = dict(self.defaults.get(cls.kind, {}))
        allowed = list(cls.parameters)
        where: dict[str, Pos] = {}
        for key, (value, kpos) in params.items():
            key, value = self.setting(cls, key, value, kpos, path, allowed)
            kwargs[key] = self.convert(cls, key, value, kpos, path)
            where[key] = kpos
        try:
            return cls(**kwargs)
        except ParameterError as e:  # a value the kind refuses (below its least), at the value
            raise self.problem(where.get(e.name, pos), path, str(e)) from None

    def setting(
        self, cls: type[Layer], key: str, value: Any, pos: Pos, path: str, allowed: list[str]
    ) -> tuple[str, Any]:
        """The field a parameter sets and its value: a key and its value, a bare value for the
        kind's primary parameter, or a bare word for what the kind says it means."""
        if key == "":
            if isinstance(value, str) and value in cls.words:
                return cls.words[value]
            if cls.primary is None:
                raise self.problem(pos, path, f"{cls.kind} takes no bare value ({shown(value)})")
            return cls.primary, value
        if key in allowed:
            return key, value
        if SHORT.get(key) in allowed:  # s=2 for stride, unless the kind has its own s
            return SHORT[key], value
        hint = did_you_mean(key, allowed) or f" (it takes {', '.join(allowed)})"
        if not allowed:
            hint = " (it takes none)"
        raise self.problem(pos, path, f"{cls.kind} has no parameter {key!r}{hint}")

    def called(
        self, block: _Block, params: dict[str, tuple[Any, Pos]], pos: Pos, name: str, ctx: Context
    ) -> Node:
        """A block call, built once for each block and arguments (see ``calls``)."""
        try:
            key = (block.name, tuple((k, v) for k, (v, _) in params.items()))
            done = self.calls.get(key)
        except TypeError:  # an unhashable value: build it, uncached
            key, done = None, None
        if done is not None:
            body, size = done
            self.grow(size, pos, ctx.path)
            return Sequence(name, pos, body.items, kind=body.kind)
        problems, expanded = len(self.problems), self.expanded
        node = self.block_call(block, params, pos, name, ctx)
        if key is not None and isinstance(node, Sequence) and len(self.problems) == problems:
            self.calls[key] = (node, self.expanded - expanded)
        return node

    def block_call(
        self, block: _Block, params: dict[str, tuple[Any, Pos]], pos: Pos, name: str, ctx: Context
    ) -> Node:
        path = f"{ctx.path}.{name}" if ctx.path else name
        if block.name in ctx.calls:
            chain = " -> ".join([*ctx.calls, block.name])
            raise self.problem(pos, path, f"block {block.name!r} calls itself ({chain})")
        args: dict[str, Any] = {}
        at: dict[str, Pos] = {}
        for key, (value, kpos) in params.items():
            if key == "" and len(block.args) == 1:
                key = next(iter(block.args))
            if key not in block.args:
                hint = did_you_mean(key, block.args)
                raise self.problem(
                    kpos, path, f"block {block.name!r} has no argument {key!r}{hint}"
                )
            args[key] = value
            at[key] = kpos
        missing = [a for a in block.required if a not in args]
        if missing:
            raise self.problem(pos, path, f"block {block.name!r} needs {', '.join(missing)}")
        for key, default in block.args.items():  # in order, over the arguments set so far
            if key not in args:
                where = Context(path, args, ctx.calls)
                at[key] = block.at.get(key, block.pos)
                args[key] = self.resolve(default, where, at[key])
        inner = Context(path, args, (*ctx.calls, block.name), depth=ctx.depth + 1, at=at)
        return Sequence(name, pos, self.items(block.layers, inner), kind=block.name)

    def merge(
        self,
        op: str,
        node: yaml.Node,
        pos: Pos,
        name: str,
        ctx: Context,
        pairs: list[tuple[yaml.Node, yaml.Node]],
    ) -> Node:
        """Branches joined by a layer of kind ``op``, its parameters the keys ``pairs``
        beside them; the kind checks them against the number of branches."""
        path = f"{ctx.path}.{name}" if ctx.path else name
        if not isinstance(node, yaml.SequenceNode) or len(node.value) < 2:
            raise self.problem(pos, path, f"{op} needs a list of at least two branches")
        cls = layer_class(op)
        assert issubclass(cls, Join)  # is_merge(op)
        branches = []
        for i, branch in enumerate(node.value):
            bctx = Context(f"{path}.{i}", ctx.scope, ctx.calls, ctx.used, ctx.depth + 1, ctx.at)
            items = self.branch(branch, bctx)
            before = len(self.problems)
            body = self.items(items, bctx) if items is not None else []
            if (items is None or items.value and not body) and len(self.problems) == before:
                if not cls.dropped_is_input:
                    continue  # every item dropped by its if: the branch leaves the join
            branches.append(Sequence(str(i), node_pos(branch), body))
        if not branches:
            message = f"every branch of this {op} is dropped by its if: (it joins nothing)"
            raise self.problem(pos, path, message)
        params = self.params(op, pairs, ctx) if pairs else {}
        join = self.layer(cls, params, ctx.path, name, pos)
        assert isinstance(join, Join)
        try:
            join.admit(len(branches))
        except ParameterError as e:
            raise self.problem(
                params[e.name][1] if e.name in params else pos, path, str(e)
            ) from None
        return Merge(name, pos, join=join, branches=branches)

    def branch(self, node: yaml.Node, ctx: Context) -> yaml.SequenceNode | None:
        """A branch's items: a list, one item, or ``{layers: [...], if: COND}``, a list kept
        only where its condition holds (None where it does not)."""
        if isinstance(node, yaml.SequenceNode):
            return node
        keys = [node_word(k) for k, _ in node.value] if isinstance(node, yaml.MappingNode) else []
        if "layers" not in keys:
            return _as_list(node)
        assert isinstance(node, yaml.MappingNode)
        parts = {node_word(k): (k, v) for k, v in node.value}
        for key, (knode, _) in parts.items():
            if key not in ("layers", "if"):
                message = f"a branch written as a mapping has layers: and if:, not {key!r}"
                raise self.problem(node_pos(knode), ctx.path, message)
        if "if" in parts and not self.condition(parts["if"][1], ctx):
            return None
        layers = parts["layers"][1]
        if not isinstance(layers, yaml.SequenceNode):
            raise self.problem(node_pos(layers), ctx.path, "a branch's layers: is a list")
        return layers

    def repeat(
        self,
        entries: dict[Any, tuple[yaml.Node, yaml.Node]],
        pos: Pos,
        name: str | None,
        ctx: Context,
        counts: dict[str, int],
    ) -> Node:
        name = name or auto_name("repeat", counts)
        path = f"{ctx.path}.{name}" if ctx.path else name
        count_node = entries.pop("repeat")[1]
        index = str(node_value(entries.pop("as")[1])) if "as" in entries else "i"
        if "layers" not in entries:
            raise self.problem(pos, path, "repeat needs layers: the list to repeat")
        body_node = entries.pop("layers")[1]
        for extra in entries:
            raise self.problem(node_pos(entries[extra][0]), path, f"repeat has no key {extra!r}")
        count = self.resolve(node_value(count_node), ctx, node_pos(count_node))
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise self.problem(
                node_pos(count_node),
                path,
                f"repeat count must be a whole number, not {shown(count)}",
            )
        if count > MAX_REPEAT:
            raise self.problem(
                node_pos(count_node),
                path,
                f"repeat count {count:,} is absurd (at most {MAX_REPEAT:,})",
            )
        bodies: list[Sequence] = []
        expanded = self.expanded
        for i in range(count):
            scope = {**ctx.scope, index: i}
            inner = Context(f"{path}.{i}", scope, ctx.calls, depth=ctx.depth + 1, at=ctx.at)
            before = len(self.problems)
            bodies.append(Sequence(str(i), pos, self.items(body_node, inner)))
            if index not in inner.used or len(self.problems) > before:
                break  # the body does not depend on the index: one copy serves every iteration
        if len(bodies) == 1:  # counted before any copy is made
            self.grow((count - 1) * (self.expanded - expanded), node_pos(count_node), path)
        return Repeat(name, pos, times=count, bodies=bodies)

    def slip(self, node: yaml.ScalarNode, ctx: Context) -> None:
        """A list item that runs on over lines that start with ``-``: an indentation slip
        made the next items part of its text (``relu - maxpool``)."""
        lines = self.lines
        first = node.start_mark
        for n in range(first.line + 1, min(node.end_mark.line, len(lines) - 1) + 1):
            rest = lines[n].lstrip()
            if rest != "-" and not rest.startswith("- "):
                continue
            column = len(lines[n]) - len(rest)
            far = column - lines[first.line].rfind("-", 0, first.column)
            how = "one space too far" if far == 1 else f"{far} spaces too far"
            message = (
                f"{node.value!r} reads as one item: is {rest!r} indented "
                f"{how if 0 < far <= column else 'too far'}?"
            )
            raise self.problem(Pos(n + 1, column + 1), ctx.path, message)

    def unique(
        self, built: Node, source: yaml.Node | str, names: dict[str, Written], ctx: Context
    ) -> None:
        """Refuse a second item of one name in a list (written as ``source``, a YAML node or
        an inline item's text), at its name: the later one would quietly win where a
        ``from`` names them. Where names are written is found only for a clash."""
        written = (source, built.pos)
        first = names.setdefault(built.name, written)
        if first is not written:
            at, was = named_at(*written), named_at(*first)
            message = f"duplicate name {built.name!r} (first at {was.line}:{was.column})"
            self.problem(at, ctx.path, message)

    def check_name(self, name: str, pos: Pos, ctx: Context) -> None:
        if not NAME.fullmatch(name):
            message = f"name {name!r}: use ASCII letters, digits, _ and -, a letter or _ first"
            raise self.problem(pos, ctx.path, message)


class _Recording(Mapping[str, Any]):
    """A context's scope that notes which names were read."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def __getitem__(self, key: str) -> Any:
        value = self.ctx.scope[key]
        self.ctx.used.add(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self.ctx.scope

    def __iter__(self) -> Iterator[str]:
        return iter(self.ctx.scope)

    def __len__(self) -> int:
        return len(self.ctx.scope)


def _block_args(block: _Block | None) -> dict[str, Any]:
    """The arguments a block takes (none for a layer kind): ``shares=``/``frozen=`` in a
    call are marks, unless the block has an argument of that name."""
    return block.args if block is not None else {}


def _references(kind: str) -> tuple[str, ...]:
    """The parameters of a layer kind that name another layer."""
    try:
        return layer_class(kind).references
    except UsageError:
        return ()


def named_at(node: yaml.Node | str, pos: Pos) -> Pos:
    """Where an item at ``pos`` (a YAML node, or an inline item's text) writes its name:
    the ``name`` key's value, the ``name=`` token, else the item itself."""
    if isinstance(node, yaml.MappingNode):
        return next((text_pos(v) for k, v in node.value if node_word(k) == "name"), pos)
    text = node_word(node) if isinstance(node, yaml.Node) else node
    if "name=" not in text:
        return pos
    offset = next((at for key, _, _, at in inline_tokens(text) if key == "name"), None)
    return pos if offset is None else Pos(pos.line, pos.column + offset)


def _ref(name: str, pos: Pos, target: str) -> Ref:
    """``from TARGET``; where the call wrote it, when a block's argument gave it."""
    if isinstance(target, _Passed):
        return Ref(name, pos, str(target), target.at)
    return Ref(name, pos, target)


def _beside_join(
    entries: dict[Any, tuple[yaml.Node, yaml.Node]],
) -> tuple[list[Any], list[tuple[yaml.Node, yaml.Node]]]:
    """An item's kinds and its join's parameters: the keys beside its one join, if it has one
    (``concat: [...]`` and ``axis: 2``), else every key a kind. A function of its own: its
    comprehensions would make closures of every item's variables."""
    joins = [key for key in entries if is_merge(key)]
    if len(joins) != 1:
        return list(entries), []
    return joins, [pair for key, pair in entries.items() if key != joins[0]]


def _as_list(node: yaml.Node) -> yaml.SequenceNode:
    return yaml.SequenceNode("tag:yaml.org,2002:seq", [node], node.start_mark, node.end_mark)


def read_shape(value: Any, layout: str, what: str) -> Shape:
    if isinstance(value, int) and not isinstance(value, bool):
        sizes: tuple[int, ...] = (value,)
    elif isinstance(value, str):
        sizes = parse_ints(value, what)
    elif isinstance(value, list) and all(isinstance(v, int) for v in value):
        sizes = tuple(value)
    else:
        raise UsageError(f"{what}: {shown(value)} is not a shape like 224x224x3")
    return shape_from_sizes(sizes, layout)


def load_spec(data: bytes | str, source: str = "<spec>") -> Network:
    """Read a YAML (or JSON) spec into a network; raises SpecError listing every problem."""
    with without_gc_pauses():
        return _load_spec(source_text(data, source), source)


def _load_spec(text: str, source: str) -> Network:
    too_long = long_list(text, MAX_LAYERS)
    if too_long is not None:
        raise SpecError([too_long], source, text)
    try:
        root = yaml.compose(text, Loader=yaml_loader())
    except yaml.YAMLError as e:
        raise SpecError([yaml_problem(e, text)], source, text) from None
    except RecursionError:  # PyYAML's own composer recurses (libyaml stops at 1000 levels)
        message = f"nesting deeper than {MAX_DEPTH} levels"
        raise SpecError([Problem(Pos(1, 1), "", message)], source, text) from None
    if not isinstance(root, yaml.MappingNode):
        pos = node_pos(root) if root is not None else Pos(1, 1)
        raise SpecError(
            [
                Problem(
                    existing_pos(text.splitlines(), *pos),
                    "",
                    "a spec is a mapping with input and layers",
                )
            ],
            source,
            text,
        )
    problems = inspect_yaml(root)
    if problems:
        raise SpecError(problems, source, text)
    top = {str(node_value(k)): (k, v) for k, v in root.value}
    probe = Builder(text, source)
    for key, (knode, _) in top.items():
        if key not in TOP_KEYS:
            hint = did_you_mean(key, TOP_KEYS) or f" (keys: {', '.join(TOP_KEYS)})"
            probe.problem(node_pos(knode), "", f"unknown key {key!r}{hint}")

    def scalar(key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        if key not in top:
            return default
        node = top[key][1]
        value = str(node_value(node))
        if choices and value not in choices:
            probe.problem(
                node_pos(node), "", f"{key} must be one of {', '.join(choices)}, not {value!r}"
            )
            return default
        return value

    name = scalar("name", source)
    layout = scalar("layout", "hwc", ("hwc", "chw"))
    convention = scalar("convention", "pytorch", FRAMEWORKS)
    builder = Builder(text, source, convention)
    builder.problems = probe.problems
    input_shape = Shape((), 1)
    input_hint = None
    if "input" not in top:
        builder.problem(Pos(1, 1), "", "the spec has no input shape (input: 224x224x3)")
    else:
        node = top["input"][1]
        try:
            input_shape = read_shape(node_value(node), layout, "input")
        except UsageError as e:
            builder.problem(node_pos(node), "", str(e))
        looks = channels_first_hint(tuple(shape_sizes(input_shape)), "hwc")
        if looks and "layout" not in top:
            remedy = "if it is CxHxW, add layout: chw (layout: hwc says it is not)"
            input_hint = Problem(node_pos(node), "input", f"{looks}; {remedy}")
    if "blocks" in top:
        _read_blocks(builder, top["blocks"][1])
    body: list[Node] = []
    if "layers" not in top:
        builder.problem(Pos(1, 1), "", "the spec has no layers")
    else:
        try:
            body = builder.items(top["layers"][1], Context("", {}))
        except (Invalid, _Stop):
            pass  # recorded: layers is not a list, or the spec is too big or too deep
    expect = _read_expectations(builder, top["expect"][1], layout) if "expect" in top else None
    outputs = _read_outputs(builder, top["outputs"][1]) if "outputs" in top else ()
    description, task, origin = (
        scalar("description", ""),
        scalar("task", "", TASKS),
        scalar("origin", ""),
    )
    builder.problems.check()
    return Network(
        name,
        input_shape,
        lower(Sequence("", Pos(1, 1), body), outputs),
        layout,
        expect or Expectations(),
        source,
        text,
        description,
        input_hint,
        task=task,
        origin=origin,
    )


def _read_blocks(builder: Builder, node: yaml.Node) -> None:
    if not isinstance(node, yaml.MappingNode):
        builder.problem(node_pos(node), "", "blocks must be a mapping of name: {args, layers}")
        return
    for knode, vnode in node.value:
        name = str(node_value(knode))
        pos = node_pos(knode)
        if name in REGISTRY or name in ALIASES or name in KEYWORDS:
            builder.problem(pos, name, f"block name {name!r} is already a layer kind")
            continue
        if not isinstance(vnode, yaml.MappingNode):
            builder.problem(node_pos(vnode), name, "a block is a mapping with args and layers")
            continue
        parts = {str(node_value(k)): (k, v) for k, v in vnode.value}
        for key, (k, _) in parts.items():
            if key not in ("args", "layers", "description"):
                builder.problem(node_pos(k), name, f"a block has args and layers, not {key!r}")
        if "layers" not in parts:
            builder.problem(pos, name, f"block {name!r} has no layers")
            continue
        args: dict[str, Any] = {}
        if "args" in parts:
            raw = node_value(parts["args"][1])
            if isinstance(raw, list) and all(isinstance(a, str) for a in raw):
                raw = dict.fromkeys(raw)
            if not isinstance(raw, dict):
                builder.problem(
                    node_pos(parts["args"][1]), name, "args is a mapping of name: default"
                )
                raw = {}
            args = {str(k): v for k, v in raw.items()}
        required = [a for a, v in args.items() if v is None]
        at = _arg_positions(parts["args"][1]) if "args" in parts else {}
        builder.blocks[name] = _Block(name, args, required, parts["layers"][1], pos, at)


def _arg_positions(node: yaml.Node) -> dict[str, Pos]:
    """Where each default of a block's ``args`` mapping is written."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(node_value(k)): text_pos(v) for k, v in node.value}


def _read_outputs(builder: Builder, node: yaml.Node) -> tuple[tuple[str, Pos], ...]:
    """``outputs: [NAME, ...]`` (or one NAME): the layers whose outputs are the network's."""
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    outputs: dict[str, Pos] = {}
    for item in items:
        name = node_word(item)
        if not name or not isinstance(item, yaml.ScalarNode):
            builder.problem(
                node_pos(item), "", "outputs lists layer names: outputs: [head1, head2]"
            )
        elif name in outputs:
            builder.problem(node_pos(item), "", f"output {name!r} is listed twice")
        else:
            outputs[name] = node_pos(item)
    return tuple(outputs.items())


def _read_expectations(builder: Builder, node: yaml.Node, layout: str) -> Expectations:
    expect = Expectations()
    if not isinstance(node, yaml.MappingNode):
        builder.problem(node_pos(node), "", "expect is a mapping: output, params, macs, shapes")
        return expect
    for knode, vnode in node.value:
        key, pos, raw = str(node_value(knode)), node_pos(vnode), node_value(vnode)
        try:
            if key == "output" and isinstance(vnode, yaml.MappingNode):  # several, by name
                for ok, ov in vnode.value:
                    shape = read_shape(node_value(ov), layout, "expect output")
                    expect.outputs[node_word(ok)] = (shape, node_pos(ok))
            elif key == "output":
                expect.output = (read_shape(raw, layout, "expect output"), pos)
            elif key in ("params", "macs", "trainable"):
                count = parse_count(raw, key) if isinstance(raw, str) else as_int(raw, key)
                setattr(expect, key, (count, pos))  # 25,557,032 as cnncalc prints it
            elif key == "shapes" and isinstance(vnode, yaml.MappingNode):
                for sk, sv in vnode.value:
                    expect.shapes[str(node_value(sk))] = (
                        read_shape(node_value(sv), layout, "shape"),
                        node_pos(sv),
                    )
            else:
                hint = did_you_mean(key, EXPECT_KEYS)
                builder.problem(node_pos(knode), "", f"unknown expectation {key!r}{hint}")
        except UsageError as e:
            builder.problem(pos, "", str(e))
    return expect
