"""Caffe's ``.prototxt`` network definitions, read into a graph of cnncalc kinds.

A Caffe net is a list of layers joined by blob names: each reads its ``bottom`` blobs and
writes its ``top`` blobs, and a layer whose top is its bottom (an in-place ReLU) makes that
name mean its own output from then on. The trace is the deploy one (phase TEST): layers a
``include``/``exclude`` rule leaves out of it, and data, loss and accuracy layers, are not
rows. Rows are named by the Caffe layer names; shapes are written CxHxW, as Caffe does.

Every field that decides a shape or a count is read; fields that matter only for training
(``param { lr_mult }``, fillers, engines) are accepted; anything else, and any layer type
cnncalc cannot trace exactly, is a located problem. All of a file's problems are reported
together.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

from cnncalc import kinds as k
from cnncalc.core.errors import CnnCalcError, GeometryError, UsageError
from cnncalc.core.formulas import caffe_pool_output
from cnncalc.core.notation import MAX_SPATIAL, shape_from_sizes
from cnncalc.core.numbers import MAX_NUMBER
from cnncalc.core.positions import Pos
from cnncalc.core.shapes import Shape
from cnncalc.formats.kit import (
    MAX_LAYERS,
    MAX_SOURCE_BYTES,
    Fields,
    Invalid,
    Problems,
    did_you_mean,
    real,
    source_text,
    too_many_layers,
    whole,
)
from cnncalc.formats.prototext import Field, Message, Scalar, parse
from cnncalc.graph import INPUT, Dag, DagBuilder, Network
from cnncalc.kinds import Layer, Outcome, RFStep

LAYOUT = "chw"
"""Shapes of a Caffe net are written channels first (``3x227x227``), as Caffe prints them."""

NET_FIELDS = frozenset(
    ("name", "input", "input_shape", "input_dim", "force_backward", "state", "debug_info")
)
LAYER_FIELDS = frozenset(
    ("name", "type", "bottom", "top", "phase", "loss_weight", "param", "blobs")
    + ("propagate_down", "include", "exclude", "blobs_lr", "weight_decay")
)
"""LayerParameter's fields besides the per-type ``*_param`` messages (V1's ``blobs_lr`` too)."""
REPEATED = frozenset(
    ("bottom", "top", "loss_weight", "param", "blobs", "propagate_down", "include", "exclude")
    + ("blobs_lr", "weight_decay", "input", "input_shape", "input_dim", "dim", "stage")
    + ("not_stage", "shape", "pad", "kernel_size", "stride", "dilation", "coeff", "offset")
    + ("layer", "layers")
)
"""Fields that may be given more than once; any other given twice is an error, as in Caffe."""

LEFT_OUT = frozenset(
    ("Data", "ImageData", "HDF5Data", "WindowData", "MemoryData", "DummyData", "AnnotatedData")
    + ("Accuracy", "Silence", "HDF5Output")
)
"""Layer types not in a deploy trace (besides every ``...Loss``): they feed or judge a net."""

V1_TYPES = {
    "CONVOLUTION": "Convolution",
    "DECONVOLUTION": "Deconvolution",
    "POOLING": "Pooling",
    "INNER_PRODUCT": "InnerProduct",
    "RELU": "ReLU",
    "SIGMOID": "Sigmoid",
    "TANH": "TanH",
    "LRN": "LRN",
    "DROPOUT": "Dropout",
    "SOFTMAX": "Softmax",
    "CONCAT": "Concat",
    "ELTWISE": "Eltwise",
    "FLATTEN": "Flatten",
    "SPLIT": "Split",
    "DATA": "Data",
    "IMAGE_DATA": "ImageData",
    "HDF5_DATA": "HDF5Data",
    "WINDOW_DATA": "WindowData",
    "MEMORY_DATA": "MemoryData",
    "DUMMY_DATA": "DummyData",
    "ACCURACY": "Accuracy",
    "SILENCE": "Silence",
    "HDF5_OUTPUT": "HDF5Output",
    "SOFTMAX_LOSS": "SoftmaxWithLoss",
}
"""The old ``layers { type: CONVOLUTION }`` format's enum types cnncalc reads."""

DENSE_DATA = "DenseImageData"
INPUTS = ("Input", DENSE_DATA)
"""Layer types that define the net's input (caffe-segnet's DenseImageData, an image and its
labels, as SegNet's files feed it)."""

TEST, TRAIN = "TEST", "TRAIN"
ENGINE = "engine"


class _Reader:
    """Reads one file's layers into graph nodes, collecting every problem."""

    def __init__(self, source: str, text: str) -> None:
        self.source, self.text = source, text
        self.problems = Problems(source, text)
        self.path = ""
        """The layer being read, for problems."""
        self.input_needed = ""
        """Why the trace needs --input: the file does not give its input's size."""

    def bad(self, pos: Pos, message: str) -> Invalid:
        return self.problems.add(pos, self.path, message)

    # --- fields of a message ---------------------------------------------------------------

    def fields(
        self, msg: Message, what: str, known: frozenset[str] | set[str]
    ) -> dict[str, list[Field]]:
        """``msg``'s fields by name; an unknown field or one given twice is a problem."""
        fields = Fields(msg.fields)
        for f, hint in fields.unknown(known):
            self.bad(f.pos, f"{what} has no field {f.name!r}{hint}")
        out: dict[str, list[Field]] = {}
        for name, given in fields.named.items():
            if name not in known:
                continue
            if len(given) > 1 and name not in REPEATED:
                self.bad(given[1].pos, f"{what}: {name} is given twice")
                given = given[:1]
            out[name] = given
        return out

    def message(self, f: Field) -> Message:
        if not isinstance(f.value, Message):
            raise self.bad(f.value.pos, f"{f.name} is a message: write {f.name} {{ ... }}")
        return f.value

    def scalar(self, f: Field) -> Scalar:
        if not isinstance(f.value, Scalar):
            raise self.bad(f.pos, f"{f.name} is a value: write {f.name}: VALUE")
        return f.value

    def whole(self, f: Field, least: int | None = 0) -> int:
        v = self.scalar(f)
        try:
            return whole(_written(v), f.name, least)
        except UsageError as e:
            raise self.bad(v.pos, str(e)) from None

    def number(self, f: Field) -> float:
        v = self.scalar(f)
        try:
            return real(_written(v), f.name)
        except UsageError as e:
            raise self.bad(v.pos, str(e)) from None

    def flag(self, f: Field) -> bool:
        v = self.scalar(f)
        if v.text in ("true", "True", "t", "1"):
            return True
        if v.text in ("false", "False", "f", "0"):
            return False
        raise self.bad(v.pos, f"{f.name}: expected true or false, not {v.text!r:.40}")

    def word(self, f: Field, choices: tuple[str, ...]) -> str:
        """An enum value, by name or by number (its index in ``choices``)."""
        v = self.scalar(f)
        if v.kind == "word" and v.text in choices:
            return v.text
        if v.kind == "number" and v.text.isascii() and v.text.isdigit():
            index = v.text.lstrip("0") or "0"
            if len(index) < 4 and int(index) < len(choices):  # leading zeros are no digits
                return choices[int(index)]
        raise self.bad(v.pos, f"{f.name}: expected one of {', '.join(choices)}, not {v.text!r:.40}")

    def string(self, f: Field) -> str:
        v = self.scalar(f)
        if v.kind != "string":
            raise self.bad(v.pos, f'{f.name}: expected a quoted name, like "{v.text:.40}"')
        return v.text

    # --- the net ---------------------------------------------------------------------------

    def net(self) -> Network:
        root = parse(self.text, self.source)
        top = self.fields(root, "the net", NET_FIELDS | {"layer", "layers"})
        self.state = _State(self, top.get("state"))
        layers = top.get("layer", []) + top.get("layers", [])
        many = too_many_layers(len(layers), "layers")
        if many:
            self.bad(layers[MAX_LAYERS].pos, many)
            self.problems.check()
        if "layer" in top and "layers" in top:
            pos = top["layers"][0].pos
            self.bad(pos, "layer and layers (the old format) in one file: use one of them")
        self.dag = _Blobs(self)
        given = self.top_level_input(top)
        for f in layers:
            try:
                self.layer(f)
            except Invalid:
                # its tops were not written: a later layer reading one is not reported again
                self.dag.broken(_written_tops(f))
        self.path = ""
        if self.dag.input is None and given is None and not self.problems:
            where = self.dag.data_pos or Pos(1, 1)
            self.bad(
                where,
                "no input shape: the file needs an Input layer "
                "(input_param { shape { dim: 1 dim: 3 dim: 224 dim: 224 } }) or input: and "
                "input_shape/input_dim",
            )
        self.problems.check()
        name = top["name"][0] if "name" in top else None
        net_name = self.string(name) if name else os.path.splitext(os.path.basename(self.source))[0]
        input_shape = self.dag.input or given
        assert input_shape is not None
        return Network(
            net_name,
            input_shape,
            self.dag.graph(),
            LAYOUT,
            source=self.source,
            text=self.text,
            input_needed=self.input_needed,
        )

    def top_level_input(self, top: dict[str, list[Field]]) -> Shape | None:
        """The deprecated ``input: "data"`` with ``input_shape { dim ... }`` or 4 ``input_dim``."""
        names = top.get("input", [])
        if not names:
            for other in ("input_shape", "input_dim"):
                if other in top:
                    self.bad(top[other][0].pos, f"{other} without input: (the blob it shapes)")
            return None
        try:
            blobs = [self.string(f) for f in names]
            if len(blobs) > 1:
                raise self.bad(names[1].pos, "several inputs: cnncalc traces a net with one")
            if "input_shape" in top and "input_dim" in top:
                raise self.bad(top["input_dim"][0].pos, "input_shape and input_dim: give one")
            if "input_shape" in top:
                if len(top["input_shape"]) > 1:
                    raise self.bad(top["input_shape"][1].pos, "one input_shape per input")
                shape = self.blob_shape(top["input_shape"][0])
            elif "input_dim" in top:
                dims = top["input_dim"]
                if len(dims) != 4:
                    message = f"input_dim: 4 per input (N, C, H, W), not {len(dims)}"
                    raise self.bad(dims[0].pos, message)
                shape = self.shape_of([self.whole(f, 1) for f in dims], dims[0].pos)
            else:
                raise self.bad(names[0].pos, "input: without input_shape or input_dim")
        except Invalid:
            return None
        self.dag.define_input(blobs[0], names[0].pos, shape)
        return shape

    def blob_shape(self, f: Field) -> Shape:
        got = self.fields(self.message(f), "shape", {"dim"})
        dims = got.get("dim", [])
        return self.shape_of([self.whole(d, 1) for d in dims], f.pos)

    def shape_of(self, dims: list[int], pos: Pos) -> Shape:
        """N, C and the spatial sizes, without N."""
        if not 2 <= len(dims) <= MAX_SPATIAL + 2:
            raise self.bad(
                pos,
                f"an input shape is N, C and at most {MAX_SPATIAL} spatial sizes "
                f"(like 1 3 224 224), not {len(dims)} sizes",
            )
        return shape_from_sizes(tuple(dims[1:]), LAYOUT)

    # --- a layer ---------------------------------------------------------------------------

    def layer(self, f: Field) -> None:
        self.path = ""
        msg = self.message(f)
        kind = self.layer_type(msg, f.name == "layers")
        own = _PARAMS.get(kind, ("", frozenset()))[0]
        known = LAYER_FIELDS | {x.name for x in msg.fields if x.name.endswith("_param")}
        got = self.fields(msg, f.name, known)
        name_field = got.get("name", [None])[0]
        name = self.string(name_field) if name_field else ""
        self.path = name
        pos = name_field.pos if name_field else f.pos
        if not self.state.included(got):
            return
        bottoms = [(self.string(b), b.value.pos) for b in got.get("bottom", [])]
        tops = [(self.string(t), t.value.pos) for t in got.get("top", [])]
        if kind.endswith("Loss") or kind in LEFT_OUT:
            self.dag.leave_out(kind, bottoms, tops, pos)
            return
        if not name:
            raise self.bad(f.pos, "a layer needs a name: its row is named by it")
        params = Message(pos, [])
        if own and own in got:
            params = self.message(got[own][0])
        if kind == "Input":
            self.input_layer(params, tops, pos)
            return
        if kind == DENSE_DATA:
            self.dense_image_data(got, params, tops, pos)
            return
        handler = _HANDLERS[kind]
        p = self.fields(params, own, _PARAMS[kind][1]) if own else {}
        ins = self.dag.inputs(bottoms)
        if ins is None:
            self.dag.broken(tops)
            return
        try:
            built = handler(self, p, _Layer(kind, name, pos, bottoms, tops, ins))
        except Invalid:
            self.dag.broken(tops)
            raise
        blobs, frozen = self.param_marks(got.get("param", []))
        self.dag.add_layer(name, pos, built, ins, tops, blobs, frozen)

    def param_marks(self, params: list[Field]) -> tuple[tuple[str, ...], bool]:
        """A layer's ``param { name: ... lr_mult: ... }``: the names of its weight blobs
        (layers naming the same blobs share them: Caffe's Siamese nets) and whether every
        blob is frozen (``lr_mult: 0``)."""
        names: list[str] = []
        rates: list[float] = []
        for f in params:
            msg = self.message(f)
            names += [self.string(x) for x in msg.all("name")]
            rates += [self.number(x) for x in msg.all("lr_mult")]
        frozen = len(rates) == len(params) > 0 and not any(rates)
        return tuple(names), frozen

    def layer_type(self, msg: Message, v1: bool) -> str:
        f = msg.first("type")
        if f is None:
            raise self.bad(msg.pos, "a layer needs a type")
        v = self.scalar(f)
        if v1:
            if v.kind != "word" or v.text not in V1_TYPES:
                if v.kind == "word" and v.text.endswith("_LOSS"):
                    return "Loss"
                raise self.bad(v.pos, f"layers: type {v.text!r:.40} is not supported")
            return V1_TYPES[v.text]
        kind = self.string(f)
        if kind in _HANDLERS or kind in LEFT_OUT or kind.endswith("Loss") or kind in INPUTS:
            return kind
        raise self.bad(v.pos, _unsupported(kind))

    def input_layer(self, params: Message, tops: list[tuple[str, Pos]], pos: Pos) -> None:
        got = self.fields(params, "input_param", {"shape"})
        shapes = got.get("shape", [])
        if len(tops) != 1:
            raise self.bad(pos, f"Input: cnncalc traces a net with one input, not {len(tops)}")
        if len(shapes) != 1:
            raise self.bad(pos, "Input: input_param needs one shape { dim: N dim: C dim: H ... }")
        shape = self.blob_shape(shapes[0])
        self.dag.define_input(tops[0][0], tops[0][1], shape)

    def dense_image_data(
        self, got: dict[str, list[Field]], params: Message, tops: list[tuple[str, Pos]], pos: Pos
    ) -> None:
        """caffe-segnet's DenseImageData: an image and its label image; the image's size is
        new_height x new_width, or crop_size square, else that of the images it reads, which
        the file does not say (then the trace needs --input). is_color: 3 channels, else 1."""
        p = self.fields(params, "dense_image_data_param", _PARAMS[DENSE_DATA][1])
        if not 1 <= len(tops) <= 2:
            raise self.bad(
                pos, f"{DENSE_DATA} writes the image and its labels, not {len(tops)} tops"
            )
        color = self.flag(p["is_color"][0]) if "is_color" in p else True
        height, width = (
            self.whole(p[key][0]) if key in p else 0 for key in ("new_height", "new_width")
        )
        if (height == 0) != (width == 0):
            raise self.bad(pos, f"{DENSE_DATA}: new_height and new_width are given together")
        transform = got.get("transform_param")
        crop = 0
        if transform:
            t = Fields(self.message(transform[0]).fields).named
            crop = self.whole(t["crop_size"][0]) if "crop_size" in t else 0
        size = (crop, crop) if crop else (height, width)
        if not size[0]:  # the images' size: only how many sizes there are is known
            size = (1, 1)
            self.input_needed = (
                f"{DENSE_DATA} reads its input's size from its images, which "
                f"{os.path.basename(self.source)} does not give: give it with --input "
                f"(like --input {3 if color else 1}x360x480), or write new_height and "
                "new_width in dense_image_data_param (as convert needs)"
            )
        self.dag.define_input(
            tops[0][0], tops[0][1], shape_from_sizes((3 if color else 1, *size), LAYOUT)
        )
        self.dag.leave_out(DENSE_DATA, [], tops[1:], pos)


class _Layer(NamedTuple):
    """What a type's handler needs of a layer besides its own parameters."""

    kind: str
    name: str
    pos: Pos
    bottoms: list[tuple[str, Pos]]
    tops: list[tuple[str, Pos]]
    ins: list[str]
    """The nodes the bottoms name."""


class _State:
    """The net's state for a deploy trace: phase TEST, with the file's level and stages."""

    def __init__(self, r: _Reader, fields: list[Field] | None) -> None:
        self.r, self.level = r, 0
        self.stages: set[str] = set()
        if fields:
            got = r.fields(r.message(fields[0]), "state", {"phase", "level", "stage"})
            if "level" in got:
                self.level = r.whole(got["level"][0], None)
            self.stages = {r.string(f) for f in got.get("stage", [])}

    def included(self, got: dict[str, list[Field]]) -> bool:
        """Caffe's NetStateRule: included when any include rule holds (none: always), or
        when no exclude rule holds."""
        include, exclude = got.get("include", []), got.get("exclude", [])
        if include and exclude:
            raise self.r.bad(exclude[0].pos, "include and exclude rules: give one kind")
        if include:
            return any(self.meets(f) for f in include)
        return not any(self.meets(f) for f in exclude)

    def meets(self, f: Field) -> bool:
        r = self.r
        known = {"phase", "min_level", "max_level", "stage", "not_stage"}
        got = r.fields(r.message(f), f.name, known)
        if "phase" in got and r.word(got["phase"][0], (TRAIN, TEST)) != TEST:
            return False
        if "min_level" in got and self.level < r.whole(got["min_level"][0], None):
            return False
        if "max_level" in got and self.level > r.whole(got["max_level"][0], None):
            return False
        if any(r.string(s) not in self.stages for s in got.get("stage", [])):
            return False
        return not any(r.string(s) in self.stages for s in got.get("not_stage", []))


class _Blobs(DagBuilder):
    """The graph so far, its nodes joined by blob names: each name means the output of the
    newest layer writing it."""

    def __init__(self, r: _Reader) -> None:
        super().__init__()
        self.r = r
        self.blobs: dict[str, str | None] = {}
        """Blob name: the node whose output it is (INPUT: the input); None: a layer that
        could not be read, whose consumers are not reported again."""
        self.left_out: dict[str, str] = {}
        self.unread: dict[str, Pos] = {}
        """Blobs written and not read since, in the order written: the net's outputs."""
        self.input: Shape | None = None
        self.data_pos: Pos | None = None
        self.weights: dict[str, str] = {}
        """Each named weight blob (``param { name }``): the layer that owns it."""
        self.masks: dict[str, tuple[str, tuple[Any, Any, Any]]] = {}
        """A pooling mask's blob: the pooling node that wrote it, and its f, stride, pad."""

    def define_input(self, blob: str, pos: Pos, shape: Shape) -> None:
        if self.input is not None or INPUT in self.blobs.values():
            raise self.r.bad(pos, "a second input: cnncalc traces a net with one")
        self.input = shape
        self.blobs[blob] = INPUT

    def leave_out(
        self, kind: str, bottoms: list[tuple[str, Pos]], tops: list[tuple[str, Pos]], pos: Pos
    ) -> None:
        """A layer not in the trace: a top that is one of its bottoms (a loss written in
        place) passes that blob through unchanged; a new top is a blob no traced layer may
        read; a top that would overwrite a traced layer's blob is refused, for the graph
        would lose that layer's output."""
        read = {blob for blob, _ in bottoms}
        for blob, top_pos in tops:
            if blob in read:
                continue
            if self.blobs.get(blob) is not None:
                raise self.r.bad(
                    top_pos,
                    f"{kind} (not in a deploy trace): its top {blob!r} overwrites the output "
                    "of an earlier layer; give it a name of its own",
                )
            self.left_out[blob] = kind
            self.blobs.pop(blob, None)
        if kind in LEFT_OUT and kind != "Accuracy" and self.data_pos is None:
            self.data_pos = pos

    def broken(self, tops: list[tuple[str, Pos]]) -> None:
        for blob, _ in tops:
            self.blobs[blob] = None

    def inputs(self, bottoms: list[tuple[str, Pos]]) -> list[str] | None:
        """The nodes the bottoms name; None when one is a blob of an unreadable layer."""
        out = []
        for blob, pos in bottoms:
            if blob in self.blobs:
                node = self.blobs[blob]
                if node is None:
                    return None
                out.append(node)
            elif blob in self.left_out:
                kind = self.left_out[blob]
                raise self.r.bad(
                    pos, f"bottom {blob!r} is written by a {kind} layer, not in a deploy trace"
                )
            else:
                hint = self.r.problems.hint(blob, self.blobs)
                raise self.r.bad(pos, f"bottom {blob!r} is not the top of an earlier layer{hint}")
        for blob, _ in bottoms:
            self.unread.pop(blob, None)
        return out

    def add_layer(
        self,
        name: str,
        pos: Pos,
        built: tuple[Layer, tuple[tuple[str, str], ...]],
        ins: list[str],
        tops: list[tuple[str, Pos]],
        blobs: tuple[str, ...] = (),
        frozen: bool = False,
    ) -> None:
        """A layer; ``blobs`` the names of its weights (``param { name }``): a layer naming
        blobs an earlier one named applies that one's weights, counted there."""
        if name in self.defined:
            line = next(node.pos.line for node in self.nodes if node.name == name)
            self.broken(tops)
            raise self.r.bad(pos, f"a layer named {name!r} is already defined on line {line}")
        layer, refs = built
        shares = next((self.weights[b] for b in blobs if b in self.weights), "")
        for blob in blobs:
            self.weights.setdefault(blob, shares or name)
        inputs = tuple(ins[: len(ins) if layer.joins else 1])
        self.add(name, pos, layer, inputs, refs, shares=shares, frozen=frozen)
        for blob, top_pos in tops:
            self.blobs[blob] = name
            self.unread.pop(blob, None)
            self.unread[blob] = top_pos

    def graph(self) -> Dag:
        """The graph, whose outputs are the blobs no later layer reads."""
        unread = [(blob, pos) for blob, pos in self.unread.items() if self.blobs.get(blob)]
        # one output per node: a Split's unread tops are one tensor, named by the first
        firsts = {self.blobs[blob]: (blob, pos) for blob, pos in reversed(unread)}
        unread = [(blob, pos) for blob, pos in unread if firsts[self.blobs[blob]][0] == blob]
        if len(unread) > 1:
            for blob, pos in unread:
                self.output(blob, pos, self.blobs[blob])
        return self.build((unread and self.blobs[unread[-1][0]]) or INPUT)


def _written_tops(f: Field) -> list[tuple[str, Pos]]:
    """The tops a layer names, read without judging it (it was refused)."""
    if not isinstance(f.value, Message):
        return []
    return [
        (t.value.text, t.value.pos)
        for t in f.value.all("top")
        if isinstance(t.value, Scalar) and t.value.kind == "string"
    ]


def _unsupported(kind: str) -> str:
    hint = did_you_mean(kind, [*_HANDLERS, *INPUTS], fold=True)
    return f"layer type {kind!r:.40} is not one cnncalc can trace{hint}"


def _written(v: Scalar) -> str:
    """A scalar as written: a string in its quotes, which no number is."""
    return f'"{v.text}"' if v.kind == "string" else v.text


# --- the layer types -----------------------------------------------------------------------

Built = tuple[Layer, tuple[tuple[str, str], ...]]
Params = dict[str, list[Field]]


def _make(r: _Reader, at: _Layer, cls: type[Layer], **values: Any) -> Built:
    """A layer of kind ``cls``; a value the kind refuses is a problem at the layer."""
    try:
        return cls(**values), ()
    except CnnCalcError as e:
        raise r.bad(at.pos, f"{at.kind}: {e}") from None


def _one_bottom(r: _Reader, at: _Layer, tops: int = 1) -> None:
    kind = at.kind
    if len(at.bottoms) != 1:
        raise r.bad(at.pos, f"{kind} takes one bottom, not {len(at.bottoms)}")
    if not 1 <= len(at.tops) <= tops:
        most = "one top" if tops == 1 else f"1 to {tops} tops"
        raise r.bad(at.pos, f"{kind} writes {most}, not {len(at.tops)}")


def _sizes(r: _Reader, p: Params, name: str, h: str, w: str, default: int, least: int) -> Any:
    """A size given once for every dimension, once per dimension, or as ``name_h`` and
    ``name_w``; None when none is given."""
    if name in p and (h in p or w in p):
        raise r.bad(p[h if h in p else w][0].pos, f"{name} or {h}/{w}: not both")
    if h in p or w in p:
        return (
            r.whole(p[h][0], least) if h in p else default,
            r.whole(p[w][0], least) if w in p else default,
        )
    if name not in p:
        return None
    values = tuple(r.whole(f, least) for f in p[name])
    return values[0] if len(values) == 1 else values


def _check_axis(r: _Reader, p: Params, name: str, allowed: tuple[int, ...], what: str) -> None:
    if name in p and r.whole(p[name][0], None) not in allowed:
        raise r.bad(p[name][0].value.pos, f"{name}: only {allowed[0]} ({what}) is supported")


def _convolution(r: _Reader, p: Params, at: _Layer, transposed: bool = False) -> Built:
    _one_bottom(r, at)
    if "num_output" not in p:
        raise r.bad(at.pos, "convolution_param needs num_output")
    _check_axis(r, p, "axis", (1,), "the channels")
    kernel = _sizes(r, p, "kernel_size", "kernel_h", "kernel_w", 0, 1)
    if kernel is None or (isinstance(kernel, tuple) and 0 in kernel):
        raise r.bad(at.pos, "convolution_param needs kernel_size, or kernel_h and kernel_w")
    values = {
        "filters": r.whole(p["num_output"][0], 1),
        "f": kernel,
        "stride": _sizes(r, p, "stride", "stride_h", "stride_w", 1, 1) or 1,
        "pad": _sizes(r, p, "pad", "pad_h", "pad_w", 0, 0) or 0,
        "dilation": _sizes(r, p, "dilation", "", "", 1, 1) or 1,
        "groups": r.whole(p["group"][0], 1) if "group" in p else 1,
        "bias": r.flag(p["bias_term"][0]) if "bias_term" in p else True,
    }
    return _make(r, at, k.TConv if transposed else k.Conv, **values)


def _pooling(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at, tops=2)
    method = r.word(p["pool"][0], ("MAX", "AVE", "STOCHASTIC")) if "pool" in p else "MAX"
    if method == "STOCHASTIC":
        raise r.bad(p["pool"][0].value.pos, "pool: STOCHASTIC pooling is not supported")
    if len(at.tops) == 2 and method != "MAX":
        raise r.bad(at.pos, "Pooling: only MAX pooling writes a second top (the mask)")
    kernel = _sizes(r, p, "kernel_size", "kernel_h", "kernel_w", 0, 1)
    stride = _sizes(r, p, "stride", "stride_h", "stride_w", 1, 1)
    pad = _sizes(r, p, "pad", "pad_h", "pad_w", 0, 0)
    if "global_pooling" in p and r.flag(p["global_pooling"][0]):
        if kernel is not None or stride not in (None, 1) or pad not in (None, 0):
            raise r.bad(at.pos, "global_pooling takes no kernel size, stride or padding")
        return _make(r, at, k.GlobalMaxPool if method == "MAX" else k.GlobalAvgPool)
    if kernel is None or (isinstance(kernel, tuple) and 0 in kernel):
        raise r.bad(at.pos, "pooling_param needs kernel_size, or kernel_h and kernel_w")
    ceil = "round_mode" not in p or r.word(p["round_mode"][0], ("CEIL", "FLOOR")) == "CEIL"
    fs, ss, ps = (_pair(v, d) for v, d in ((kernel, 0), (stride, 1), (pad, 0)))
    for f_, p_ in zip(fs, ps):
        if p_ >= f_:
            raise r.bad(at.pos, f"Pooling: pad {p_} must be less than the kernel size {f_}")
    # Caffe's rule is the kind's (PyTorch's ceil mode) wherever the stride is at most the
    # kernel or there is padding, and the padding at most half the kernel: only otherwise is
    # the layer sized by Caffe's own rule (which convert cannot write as a spec)
    dims = range(max(len(fs), len(ss), len(ps)))
    windows = [
        (fs[min(d, len(fs) - 1)], ss[min(d, len(ss) - 1)], ps[min(d, len(ps) - 1)]) for d in dims
    ]
    same = all(2 * p_ <= f_ and (p_ or s_ <= f_) for f_, s_, p_ in windows)
    cls: type[Layer]
    if method == "MAX":
        cls = k.MaxPool if same else _CaffeMaxPool
    else:
        cls = k.AvgPool if same else _CaffeAvgPool
    if len(at.tops) == 2:  # the mask, which caffe-segnet's Upsample reads
        r.dag.masks[at.tops[1][0]] = (at.name, (kernel, stride or 1, pad or 0))
    return _make(r, at, cls, f=kernel, stride=stride or 1, pad=pad or 0, ceil=ceil)


class _CaffePool(k.Pool):
    """A pooling sized by Caffe's rule (core.formulas.caffe_pool_output): the same sizes as
    the kind's wherever Caffe runs, padding up to the kernel size less one as Caffe allows,
    and a GeometryError where Caffe's check would fail (a last window starting past the
    input, which only a stride larger than the kernel, without padding, can give)."""

    def apply(self, x: Shape) -> Outcome:
        fs, ss, ds = self.windows(x)
        ps = self.dims("pad", len(fs)) if not isinstance(self.pad, str) else (0,) * len(fs)
        out = []
        for n, f, s, p in zip(x.spatial, fs, ss, ps):
            size = caffe_pool_output(n, f, s, p, self.ceil)
            if size is None:
                if n + 2 * p < f:
                    raise GeometryError(
                        f"the kernel {f} is larger than the padded input {n + 2 * p}"
                    )
                last = -(-(n + 2 * p - f) // s) * s
                raise GeometryError(
                    f"Caffe's rounding up puts a last window at {last}, past the input "
                    f"({n} + pad {p}), which Caffe refuses (pooling_layer.cpp: CHECK_LT)"
                )
            out.append(size)
        return Outcome(
            Shape(tuple(out), x.channels),
            padding=tuple((p, p) for p in ps),
            rf=tuple(RFStep(f - 1, s) for f, s in zip(fs, ss)),
        )


class _CaffeMaxPool(_CaffePool, k.MaxPool):
    pass


class _CaffeAvgPool(_CaffePool, k.AvgPool):
    pass


def _pair(value: Any, default: int) -> tuple[int, ...]:
    if value is None:
        return (default,)
    return value if isinstance(value, tuple) else (value,)


def _inner_product(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at)
    if "num_output" not in p:
        raise r.bad(at.pos, "inner_product_param needs num_output")
    _check_axis(r, p, "axis", (1,), "all but the batch flattened")
    bias = r.flag(p["bias_term"][0]) if "bias_term" in p else True
    return _make(r, at, k.FC, out=r.whole(p["num_output"][0], 1), bias=bias)


def _relu(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at)
    slope = r.number(p["negative_slope"][0]) if "negative_slope" in p else 0.0
    if slope:
        return _make(r, at, k.LeakyReLU, slope=slope)
    return _make(r, at, k.ReLU)


def _prelu(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at)
    shared = r.flag(p["channel_shared"][0]) if "channel_shared" in p else False
    return _make(r, at, k.PReLU, per_channel=not shared)


def _plain(cls: type[Layer]) -> Callable[[_Reader, Params, _Layer], Built]:
    def handler(r: _Reader, p: Params, at: _Layer) -> Built:
        _one_bottom(r, at)
        return _make(r, at, cls)

    return handler


def _lrn(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at)
    size = r.whole(p["local_size"][0], 1) if "local_size" in p else 5
    if size % 2 == 0:
        raise r.bad(p["local_size"][0].value.pos, f"local_size must be odd, not {size}")
    if "norm_region" in p:
        r.word(p["norm_region"][0], ("ACROSS_CHANNELS", "WITHIN_CHANNEL"))
    return _make(r, at, k.LRN, size=size)


def _dropout(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at)
    ratio = r.number(p["dropout_ratio"][0]) if "dropout_ratio" in p else 0.5
    return _make(r, at, k.Dropout, p=ratio)


def _batch_norm(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at)
    return _make(r, at, k.StatsNorm)


def _scale(r: _Reader, p: Params, at: _Layer) -> Built:
    if len(at.bottoms) == 2:
        raise r.bad(at.pos, "Scale by a second bottom is not supported (only learnt scales)")
    _one_bottom(r, at)
    _check_axis(r, p, "axis", (1,), "the channels")
    _check_axis(r, p, "num_axes", (1,), "one scale per channel")
    bias = r.flag(p["bias_term"][0]) if "bias_term" in p else False
    return _make(r, at, k.Scale, bias=bias)


def _flatten(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at)
    _check_axis(r, p, "axis", (1,), "all but the batch")
    _check_axis(r, p, "end_axis", (-1,), "to the last axis")
    return _make(r, at, k.Flatten)


def _split(r: _Reader, p: Params, at: _Layer) -> Built:
    _one_bottom(r, at, tops=MAX_NUMBER)
    return _make(r, at, k.Identity)


def _crop(r: _Reader, p: Params, at: _Layer) -> Built:
    if len(at.bottoms) != 2 or len(at.tops) != 1:
        raise r.bad(at.pos, "Crop takes two bottoms (the blob and the one to match) and one top")
    _check_axis(r, p, "axis", (2,), "the spatial axes")
    offsets = tuple(r.whole(f) for f in p.get("offset", []))
    offset = None if not offsets else offsets[0] if len(offsets) == 1 else offsets
    reference = at.bottoms[1][0]
    built, _ = _make(r, at, k.Crop, to=reference, offset=offset)
    return built, ((reference, at.ins[1]),)


def _concat(r: _Reader, p: Params, at: _Layer) -> Built:
    if not at.bottoms or len(at.tops) != 1:
        raise r.bad(at.pos, "Concat takes one or more bottoms and one top")
    given = [*p.get("axis", []), *p.get("concat_dim", [])]  # concat_dim: the old name
    if len(given) > 1:
        raise r.bad(given[1].pos, "concat_param: axis or concat_dim, not both")
    concat = k.Concat(axis=r.whole(given[0], -MAX_NUMBER) if given else 1)
    try:
        concat.admit(len(at.bottoms))
    except CnnCalcError as e:
        raise r.bad(given[0].value.pos, str(e)) from None
    return concat, ()


def _eltwise(r: _Reader, p: Params, at: _Layer) -> Built:
    if len(at.bottoms) < 2 or len(at.tops) != 1:
        raise r.bad(at.pos, "Eltwise takes two or more bottoms and one top")
    op = r.word(p["operation"][0], ("PROD", "SUM", "MAX")) if "operation" in p else "SUM"
    coeffs = p.get("coeff", [])
    if coeffs and op != "SUM":
        raise r.bad(coeffs[0].pos, f"coeff: only SUM takes coefficients, not {op}")
    if coeffs and len(coeffs) != len(at.bottoms):
        message = f"coeff: one per bottom ({len(at.bottoms)}), not {len(coeffs)}"
        raise r.bad(coeffs[0].pos, message)
    weights = {"coeff": tuple(r.number(f) for f in coeffs)} if coeffs else {}
    return _make(r, at, {"SUM": k.Add, "PROD": k.Prod, "MAX": k.Max}[op], **weights)


def _bn(r: _Reader, p: Params, at: _Layer) -> Built:
    """caffe-segnet's BN: a scale and a shift per channel, its only blobs (in the inference
    model the statistics are folded into them), so a Scale with a bias: 2C trainable."""
    _one_bottom(r, at)
    if "bn_mode" in p:
        r.word(p["bn_mode"][0], ("LEARN", "INFERENCE"))
    return _make(r, at, k.Scale, bias=True)


def _upsample(r: _Reader, p: Params, at: _Layer) -> Built:
    """caffe-segnet's Upsample: max-unpooling by a pooling layer's mask (its second bottom)
    to upsample_h x upsample_w, else to the input's size times ``scale`` (or scale_h and
    scale_w), as upsample_layer.cpp sizes its top."""
    if len(at.bottoms) != 2 or len(at.tops) != 1:
        raise r.bad(
            at.pos, "Upsample takes two bottoms (the blob and its pooling mask) and one top"
        )
    mask, mask_pos = at.bottoms[1]
    pooled = r.dag.masks.get(mask)
    if pooled is None or r.dag.blobs.get(mask) != pooled[0]:
        raise r.bad(
            mask_pos, f"Upsample: bottom {mask!r} is not the mask (second top) of a Pooling layer"
        )
    for key in ("pad_out_h", "pad_out_w"):
        if key in p and r.whole(p[key][0]):
            raise r.bad(
                p[key][0].value.pos,
                f"{key} (deprecated) is not supported: give upsample_h and upsample_w",
            )
    size = _sizes(r, p, "", "upsample_h", "upsample_w", 0, 2)
    if size is not None and 0 not in size:
        f, s, pad = pooled[1]
        return _make(r, at, k.Unpool, mode="max", f=f, stride=s, pad=pad, size=size)
    if "scale" in p and ("scale_h" in p or "scale_w" in p):
        raise r.bad(p["scale"][0].pos, "scale or scale_h/scale_w: not both")
    scale = _sizes(r, p, "scale", "scale_h", "scale_w", 0, 2)
    if scale is None or (isinstance(scale, tuple) and 0 in scale):
        raise r.bad(at.pos, "upsample_param needs upsample_h and upsample_w, or scale")
    return _make(r, at, k.Unpool, mode="max", f=scale, stride=scale)


_HANDLERS: dict[str, Callable[[_Reader, Params, _Layer], Built]] = {
    "BN": _bn,
    "Upsample": _upsample,
    "Convolution": _convolution,
    "Deconvolution": lambda r, p, at: _convolution(r, p, at, transposed=True),
    "Pooling": _pooling,
    "InnerProduct": _inner_product,
    "ReLU": _relu,
    "PReLU": _prelu,
    "Sigmoid": _plain(k.Sigmoid),
    "TanH": _plain(k.Tanh),
    "LRN": _lrn,
    "Dropout": _dropout,
    "Softmax": _plain(k.Softmax),
    "BatchNorm": _batch_norm,
    "Scale": _scale,
    "Flatten": _flatten,
    "Split": _split,
    "Crop": _crop,
    "Concat": _concat,
    "Eltwise": _eltwise,
}

_CONV = frozenset(
    ("num_output", "bias_term", "pad", "kernel_size", "stride", "dilation", "pad_h", "pad_w")
    + ("kernel_h", "kernel_w", "stride_h", "stride_w", "group", "weight_filler", "bias_filler")
    + (ENGINE, "axis", "force_nd_im2col")
)
_PARAMS: dict[str, tuple[str, frozenset[str]]] = {
    "Convolution": ("convolution_param", _CONV),
    "Deconvolution": ("convolution_param", _CONV),
    "Pooling": (
        "pooling_param",
        frozenset(
            ("pool", "pad", "pad_h", "pad_w", "kernel_size", "kernel_h", "kernel_w", "stride")
            + ("stride_h", "stride_w", ENGINE, "global_pooling", "round_mode")
        ),
    ),
    "InnerProduct": (
        "inner_product_param",
        frozenset(("num_output", "bias_term", "weight_filler", "bias_filler", "axis", "transpose")),
    ),
    "ReLU": ("relu_param", frozenset(("negative_slope", ENGINE))),
    "PReLU": ("prelu_param", frozenset(("filler", "channel_shared"))),
    "Sigmoid": ("sigmoid_param", frozenset((ENGINE,))),
    "TanH": ("tanh_param", frozenset((ENGINE,))),
    "LRN": ("lrn_param", frozenset(("local_size", "alpha", "beta", "norm_region", "k", ENGINE))),
    "Dropout": ("dropout_param", frozenset(("dropout_ratio", "scale_train"))),
    "Softmax": ("softmax_param", frozenset((ENGINE, "axis"))),
    "BatchNorm": (
        "batch_norm_param",
        frozenset(("use_global_stats", "moving_average_fraction", "eps")),
    ),
    "Scale": (
        "scale_param",
        frozenset(("axis", "num_axes", "filler", "bias_term", "bias_filler")),
    ),
    "Flatten": ("flatten_param", frozenset(("axis", "end_axis"))),
    "Crop": ("crop_param", frozenset(("axis", "offset"))),
    "Concat": ("concat_param", frozenset(("axis", "concat_dim"))),
    "Eltwise": ("eltwise_param", frozenset(("operation", "coeff", "stable_prod_grad"))),
    "Input": ("input_param", frozenset(("shape",))),
    "BN": ("bn_param", frozenset(("bn_mode", "scale_filler", "shift_filler", ENGINE))),
    "Upsample": (
        "upsample_param",
        frozenset(("scale", "scale_h", "scale_w", "pad_out_h", "pad_out_w", "upsample_h"))
        | {"upsample_w"},
    ),
    DENSE_DATA: (
        "dense_image_data_param",
        frozenset(("source", "batch_size", "shuffle", "rand_skip", "new_height", "new_width"))
        | {"is_color", "root_folder"},
    ),
}
"""Each type's parameter message and the fields cnncalc reads or knows not to matter."""


def load(data: bytes | str, source: str = "<prototxt>") -> Network:
    """A network from a Caffe ``.prototxt``; raises SpecError listing every problem."""
    return _Reader(source, source_text(data, source, MAX_SOURCE_BYTES)).net()
