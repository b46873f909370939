"""Darknet ``.cfg`` files (pjreddie's and AlexeyAB's) read as networks.

Each section after ``[net]`` is one Darknet layer, mapped onto the kinds whose arithmetic is
exactly Darknet's, and the graph is built directly. A layer becomes one node named by its
Darknet index (``1`` for a maxpool) or a group of nodes under it (``0.conv``, ``0.bn``,
``0.act``) that ``--depth 1`` folds into one row, so a trace reads beside Darknet's own
printout. Keys that only training reads (learning rates, anchors, augmentation) are
accepted and left out; a section or key this reader does not know, or a value whose
shape or count it cannot honour exactly, is an error at its line and column, all of a
file's errors at once.

The rules are Darknet's own (``src/parser.c`` and the ``*_layer.c`` files): defaults as
``option_find_int`` gives them, ``pad=1`` meaning ``size/2``, a maxpool padding ``padding``
in all (``padding//2`` before, the rest after, default ``size-1``), route and shortcut
indices relative when negative, heads whose input is one of the network's outputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from cnncalc.core.errors import UsageError
from cnncalc.core.numbers import MAX_NUMBER
from cnncalc.core.positions import Pos
from cnncalc.core.shapes import Shape
from cnncalc.formats.kit import (
    MAX_LAYERS,
    MAX_SOURCE_BYTES,
    Fields,
    Problems,
    did_you_mean,
    real,
    source_text,
    too_many_layers,
    whole,
)
from cnncalc.graph import INPUT, DagBuilder, Network
from cnncalc.kinds import (
    FC,
    GELU,
    LRN,
    AvgPool,
    BatchNorm,
    Chunk,
    Concat,
    Conv,
    Crop,
    Dropout,
    GlobalAvgPool,
    Head,
    Identity,
    Layer,
    LeakyReLU,
    MaxPool,
    Mish,
    Mul,
    ReLU,
    ReLU6,
    Reorg,
    Shortcut,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    Upsample,
)

ACTIVATIONS: dict[str, Layer | None] = {
    "linear": None,
    "logistic": Sigmoid(),
    "relu": ReLU(),
    "relu6": ReLU6(),
    "leaky": LeakyReLU(slope=0.1),
    "tanh": Tanh(),
    "mish": Mish(),
    "swish": SiLU(),
    "gelu": GELU(),
}
"""Darknet's activations with a kind of their own (``leaky`` is Darknet's slope 0.1)."""
OTHER_ACTIVATIONS = (
    "elu selu loggy relie plse hardtan lhtan ramp stair hard_mish revleaky "
    "normalize_channels normalize_channels_softmax normalize_channels_softmax_maxval"
).split()
"""Darknet's other activations: parameter-free and shape-preserving, so traced as an
identity whose row is labelled with the activation's name."""

HEADS = ("yolo", "region", "detection", "Gaussian_yolo")
"""Detection heads: each one's input is one of the network's outputs."""

_TRAINING = {
    "net": """batch subdivisions max_batches learning_rate learning_rate_min sgdr_cycle
        sgdr_mult momentum decay time_steps track augment_speed sequential_subdivisions
        try_fix_nan weights_reject_freq equidistant_point badlabels_rejection_percentage
        num_sigmas_reject_badlabels ema_alpha use_cuda_graph loss_scale dynamic_minibatch
        optimized_memory workspace_size_limit_MB adam B1 B2 eps max_crop min_crop max_ratio
        min_ratio center flip blur gaussian_noise mixup cutmix mosaic letter_box mosaic_bound
        contrastive contrastive_jit_flip contrastive_color unsupervised label_smooth_eps
        resize_step attention adversarial_lr max_chart_loss angle aspect saturation exposure
        hue power policy burn_in step scale steps scales seq_scales gamma show_receptive_field
        notruth random clip""",
    "convolutional": "binary xnor bin_output flipped dot angle grad_centr reverse "
    "assisted_excitation",
    "connected": "",
    "maxpool": "maxpool_zero_nonmax out_channels",
    "local_avgpool": "",
    "avgpool": "",
    "upsample": "scale",
    "reorg": "",
    "route": "",
    "shortcut": "alpha beta",
    "scale_channels": "",
    "sam": "",
    "dropout": "dropblock dropblock_size_rel dropblock_size_abs",
    "softmax": "groups temperature tree spatial noloss",
    "batchnorm": "",
    "activation": "",
    "normalization": "alpha beta kappa",
    "crop": "flip angle saturation exposure shift noadjust",
    "cost": "type scale ratio noobject_scale thresh",
    "empty": "",
    "yolo": """classes num mask max show_details max_delta counters_per_class
        label_smooth_eps scale_x_y objectness_smooth new_coords iou_normalizer obj_normalizer
        cls_normalizer delta_normalizer iou_loss iou_thresh_kind beta_nms nms_kind jitter
        resize focal_loss ignore_thresh truth_thresh iou_thresh random track_history_size
        sim_thresh dets_for_track dets_for_show track_ciou_norm embedding_layer map anchors""",
    "region": """coords classes num max log sqrt softmax focal_loss jitter resize rescore
        thresh classfix absolute random coord_scale object_scale noobject_scale mask_scale
        class_scale bias_match tree map anchors""",
    "detection": """coords classes rescore num side softmax sqrt max coord_scale forced
        object_scale noobject_scale class_scale jitter resize random reorg""",
}
TRAINING_KEYS = {section: frozenset(keys.split()) for section, keys in _TRAINING.items()} | {
    "Gaussian_yolo": frozenset(_TRAINING["yolo"].split() + ["uc_normalizer", "yolo_point"])
}
"""Keys each section accepts that change no shape or count: training, loss, augmentation."""
COMMON_KEYS = frozenset(
    "clip onlyforward dont_update burnin_update stopbackward train_only_bn dontload "
    "dontloadscales learning_rate stream wait_stream".split()
)
"""Keys Darknet reads in every layer section, none of them about shapes."""

SECTIONS = {
    **{name: name for name in TRAINING_KEYS},
    "network": "net",
    "conv": "convolutional",
    "conn": "connected",
    "max": "maxpool",
    "local_avg": "local_avgpool",
    "avg": "avgpool",
    "reorg3d": "reorg",
    "soft": "softmax",
    "lrn": "normalization",
    "silence": "empty",
}
"""Every section name this reader traces, with the name its rules are filed under."""
UNTRACED = {
    "local": "a locally connected layer",
    "deconvolutional": "a transposed convolution",
    "deconv": "a transposed convolution",
    "rnn": "a recurrent layer",
    "gru": "a recurrent layer",
    "lstm": "a recurrent layer",
    "crnn": "a recurrent layer",
    "conv_lstm": "a recurrent layer",
    "history": "a recurrent layer",
    "contrastive": "a contrastive loss over a yolo layer",
    "implicit": "an implicit-knowledge layer",
    "l2norm": "an L2 normalisation",
    "logistic": "a logistic loss",
}
"""Darknet sections that are not traced (yet), and what they are."""


class _Entry(NamedTuple):
    name: str
    pos: Pos
    """Where the key is."""
    value: str
    value_pos: Pos


class _Section(NamedTuple):
    name: str
    """As written, without the brackets."""
    pos: Pos
    entries: list[_Entry]


_COMMENT = re.compile(r"[#;]")


def _sections(text: str, problems: Problems) -> list[_Section]:
    """The file's sections and their ``key=value`` lines; a line that is neither is a problem.
    Whitespace around names and values is ignored, and ``#`` or ``;`` starts a comment."""
    sections: list[_Section] = []
    for number, line in enumerate(text.splitlines(), 1):
        body = _COMMENT.split(line, maxsplit=1)[0].rstrip()
        if not body.strip():
            continue
        start = len(body) - len(body.lstrip())
        pos = Pos(number, start + 1)
        if body[start] == "[":
            if not body.endswith("]"):
                problems.add(pos, "", "a section header is written [name]")
                continue
            sections.append(_Section(body[start + 1 : -1].strip(), pos, []))
            continue
        key, eq, value = body.partition("=")
        if not eq:
            problems.add(pos, "", f"expected key=value or a [section], not {body.strip()!r:.40}")
            continue
        if not sections:
            problems.add(pos, "", "a key before the first section: start with [net]")
            continue
        name = key.strip()
        if not name:
            problems.add(pos, "", "no key before '='")
            continue
        skipped = len(value) - len(value.lstrip())
        value_pos = Pos(number, len(key) + 2 + skipped)
        sections[-1].entries.append(_Entry(name, pos, value.strip(), value_pos))
    return sections


class _Reader:
    """One section's keys, read as Darknet reads them (a key's first value); each problem
    noted where it is."""

    def __init__(self, section: _Section, kind: str, index: int, problems: Problems):
        self.section, self.kind, self.index, self.problems = section, kind, index, problems
        self.path = "" if index < 0 else str(index)
        self.fields = Fields(section.entries)
        self.read: set[str] = set()

    def problem(self, pos: Pos, message: str) -> None:
        self.problems.add(pos, self.path, f"[{self.section.name}] {message}")

    def first(self, key: str) -> _Entry | None:
        """The entry Darknet reads for ``key``, if it is given."""
        given = self.fields.named.get(key)
        return given[0] if given else None

    def entry(self, key: str) -> _Entry | None:
        """:meth:`first`, noting that ``key`` was read; a second value is a problem."""
        self.read.add(key)
        given = self.fields.named.get(key, [])
        for again in given[1:]:
            self.problem(again.pos, f"{key} is given twice (first at line {given[0].pos.line})")
        return given[0] if given else None

    def ints(self, key: str, least: int | None = None) -> list[int] | None:
        """A comma-separated list of whole numbers, or None when the key is absent."""
        entry = self.entry(key)
        if entry is None:
            return None
        try:
            return [whole(item.strip(), key, least) for item in entry.value.split(",")]
        except UsageError as e:
            self.problem(entry.value_pos, str(e))
            return []

    def whole(self, key: str, default: int | None = None, least: int = 0) -> int:
        """A whole number; a missing key without a default is a problem (and reads as 1)."""
        entry, values = self.first(key), self.ints(key, least)
        if values is None:
            if default is None:
                self.problem(self.section.pos, f"needs {key}=N")
                return 1
            return default
        if len(values) > 1 and entry is not None:
            self.problem(entry.value_pos, f"{key} takes one number, not {len(values)}")
        return values[0] if values else max(least, 1)

    def number(self, key: str, default: float) -> float:
        entry = self.entry(key)
        if entry is None:
            return default
        try:
            return real(entry.value, key)
        except UsageError as e:
            self.problem(entry.value_pos, str(e))
            return default

    def word(self, key: str, default: str) -> tuple[str, Pos]:
        entry = self.entry(key)
        return (default, self.section.pos) if entry is None else (entry.value, entry.value_pos)

    def refuse(self, key: str, default: str, what: str) -> None:
        """A key cnncalc cannot model, accepted only at the value that leaves it off."""
        entry = self.entry(key)
        if entry is not None and entry.value != default:
            self.problem(
                entry.value_pos,
                f"{key}={entry.value:.30} ({what}) is not supported: it changes the layer's "
                "shapes or counts",
            )

    def layer_index(self, entry: _Entry, value: int, what: str) -> int | None:
        """The absolute index a route or shortcut names (negative: counted back from here)."""
        target = value if value >= 0 else self.index + value
        if 0 <= target < self.index:
            return target
        where = (
            "this layer itself"
            if target == self.index
            else "a layer that lies ahead"
            if target > self.index
            else "no layer (the first is 0)"
        )
        self.problem(entry.value_pos, f"{what} {value} names {where}")
        return None

    def unknown(self) -> None:
        """Every key that was neither read nor one Darknet reads only to train."""
        known = self.read | TRAINING_KEYS[self.kind] | (COMMON_KEYS if self.index >= 0 else set())
        for entry, hint in self.fields.unknown(known):
            self.problem(entry.pos, f"unknown key {entry.name!r}{hint}")


class _Op(NamedTuple):
    """One node of a Darknet layer: its local name, layer, and what it reads (Darknet layer
    indices, or local names of this layer's earlier nodes; None: the node before it)."""

    local: str
    layer: Layer
    inputs: tuple[int | str, ...] | None = None
    labels: tuple[str, ...] = ()
    kind: str = ""


def _activation(r: _Reader, default: str) -> list[_Op]:
    name, pos = r.word("activation", default)
    if name in OTHER_ACTIVATIONS:
        return [_Op("act", Identity(), kind=name)]
    if name not in ACTIVATIONS:
        hint = did_you_mean(name, [*ACTIVATIONS, *OTHER_ACTIVATIONS])
        r.problem(pos, f"unknown activation {name!r:.30}{hint}")
        return []
    layer = ACTIVATIONS[name]
    return [] if layer is None else [_Op("act", layer)]


def _strides(r: _Reader) -> tuple[int, int | tuple[int, int]]:
    """``stride``, and the stride per dimension that ``stride_y`` and ``stride_x`` make it."""
    stride = r.whole("stride", 1, least=1)
    rows, columns = r.whole("stride_y", stride, least=1), r.whole("stride_x", stride, least=1)
    return stride, rows if rows == columns else (rows, columns)


def _convolutional(r: _Reader) -> list[_Op]:
    filters = r.whole("filters", least=1)
    size = r.whole("size", least=1)
    stride = _strides(r)[1]
    padding = r.whole("padding", 0)
    if r.whole("pad", 0):
        padding = size // 2
    groups = r.whole("groups", 1, least=1)
    dilation = r.whole("dilation", 1, least=1)
    if size == 1:  # as Darknet: a 1x1 kernel has nothing to dilate
        dilation = 1
    normalized = bool(r.whole("batch_normalize", 0) or r.whole("cbn", 0))
    for key, what in (
        ("antialiasing", "a blur pool after the convolution"),
        ("sway", "deformable filters"),
        ("rotate", "deformable filters"),
        ("stretch", "deformable filters"),
        ("stretch_sway", "deformable filters"),
        ("coordconv", "coordinate channels"),
    ):
        r.refuse(key, "0", what)
    r.refuse("share_index", "", "weights shared with another layer")
    if dilation > 1 and (size % 2 == 0 or padding != size // 2):
        # Darknet sizes the output by (W + 2*padding - size)/stride + 1 and pads by
        # padding*dilation: the usual dilated arithmetic only when padding is size/2
        r.problem(
            r.section.pos,
            "dilation is traced only with an odd size and pad=1 (padding size/2): otherwise "
            "Darknet's output size does not follow the dilated kernel",
        )
    conv = Conv(
        filters,
        f=size,
        stride=stride,
        pad=padding * dilation,
        dilation=dilation,
        groups=groups,
        bias=not normalized,
    )
    ops = [_Op("conv", conv)]
    if normalized:
        ops.append(_Op("bn", BatchNorm()))
    return ops + _activation(r, "logistic")


def _connected(r: _Reader) -> list[_Op]:
    output = r.whole("output", least=1)
    normalized = bool(r.whole("batch_normalize", 0))
    ops = [_Op("fc", FC(output, bias=not normalized))]
    if normalized:
        ops.append(_Op("bn", BatchNorm()))
    return ops + _activation(r, "logistic")


def _pool(r: _Reader, kind: type[Layer]) -> list[_Op]:
    """Darknet's window rule: ``(W + padding - size)/stride + 1``, ``padding//2`` before."""
    plain, stride = _strides(r)
    size = r.whole("size", plain, least=1)
    padding = r.whole("padding", size - 1)
    before = padding // 2
    return [_Op("pool", kind(f=size, stride=stride, pad=((before, padding - before),) * 2))]


def _maxpool(r: _Reader) -> list[_Op]:
    r.refuse("maxpool_depth", "0", "pooling over channels")
    r.refuse("antialiasing", "0", "a blur pool after the pooling")
    return _pool(r, MaxPool)


def _sources(r: _Reader, key: str) -> tuple[int, ...]:
    """The layers a route or shortcut reads, as absolute indices."""
    entry, values = r.first(key), r.ints(key)
    if entry is None or values is None:
        r.problem(r.section.pos, f"needs {key}=INDEX[,INDEX...]")
        return ()
    targets: list[int] = []
    for value in values:
        target = r.layer_index(entry, value, key)
        if target is None:
            return ()
        targets.append(target)
    return tuple(targets)


def _route(r: _Reader) -> list[_Op]:
    layers = _sources(r, "layers")
    groups = r.whole("groups", 1, least=1)
    group_id = r.whole("group_id", 0)
    if group_id >= groups:
        r.problem(r.section.pos, f"group_id must be less than groups ({groups}), not {group_id}")
    if not layers:
        return []
    labels = tuple(map(str, layers))
    if groups == 1 and len(layers) == 1:  # a concat of one: the layer's output, row "route"
        return [_Op("route", Identity(), layers, kind="route")]
    if groups == 1:
        return [_Op("concat", Concat(), layers, labels)]
    # each input's group_id-th slice, concatenated (AlexeyAB's route_layer.c)
    chunk = Chunk(parts=groups, index=min(group_id, groups - 1))
    if len(layers) == 1:
        return [_Op("chunk", chunk, layers)]
    ops = [_Op(f"chunk{i}", chunk, (layer,)) for i, layer in enumerate(layers)]
    return ops + [_Op("concat", Concat(), tuple(op.local for op in ops), labels)]


def _shortcut(r: _Reader, join: Layer, refused: tuple[tuple[str, str, str], ...] = ()) -> list[_Op]:
    """The previous layer's output joined with those ``from`` names, then the activation."""
    layers = _sources(r, "from")
    for key, default, what in refused:
        r.refuse(key, default, what)
    activation = _activation(r, "linear")
    if not layers:
        return []
    inputs = (r.index - 1, *layers)
    return [_Op(join.kind, join, inputs, tuple(map(str, inputs))), *activation]


_WEIGHTED = (
    ("weights_type", "none", "learnt weights per input"),
    ("weights_normalization", "none", "learnt weights per input"),
)


def _reorg(r: _Reader) -> list[_Op]:
    stride = r.whole("stride", least=1)
    for key, what in (("reverse", "depth to space"), ("flatten", "flattening"), ("extra", "")):
        r.refuse(key, "0", what or "extra outputs")
    return [_Op("reorg", Reorg(stride))]


def _crop(r: _Reader) -> list[_Op]:
    """At inference Darknet crops the centre to ``crop_height x crop_width``."""
    size = (r.whole("crop_height", least=1), r.whole("crop_width", least=1))
    return [_Op("crop", Crop(size=size))]


def _dropout(r: _Reader) -> list[_Op]:
    p = r.number("probability", 0.5)
    if not 0 <= p <= 1:
        r.problem(r.section.pos, f"probability must be from 0 to 1, not {p}")
        p = 0.5
    return [_Op("dropout", Dropout(p))]


def _head(r: _Reader) -> list[_Op]:
    """A head reads a fixed number of values at each position, which Darknet asserts its
    input has (parser.c: ``l.outputs == params.inputs``): per anchor, the box's coordinates,
    objectness and the class scores; [detection] reads YOLOv1's whole side x side grid."""
    kind = r.section.name.lower()
    if kind == "detection":
        coords, classes = r.whole("coords", 1), r.whole("classes", 1)
        anchors, side = r.whole("num", 1, least=1), r.whole("side", 7, least=1)
        values = side * side * ((1 + coords) * anchors + classes)
    elif kind == "region":
        coords, classes = r.whole("coords", 4), r.whole("classes", 20)
        values = r.whole("num", 1, least=1) * (classes + coords + 1)
    else:  # yolo: the anchors its mask names (all num of them without one); Gaussian: 8 coords
        classes, total = r.whole("classes", 20), r.whole("num", 1, least=1)
        masks = r.ints("mask")
        coords = 8 if kind == "gaussian_yolo" else 4
        values = (total if masks is None else len(masks)) * (classes + coords + 1)
    return [_Op("head", Head(min(max(values, 1), MAX_NUMBER)), kind=kind)]


def _one(layer: Layer, kind: str = "") -> Callable[[_Reader], list[_Op]]:
    return lambda r: [_Op(layer.kind, layer, kind=kind)]


BUILDERS: dict[str, Callable[[_Reader], list[_Op]]] = {
    "convolutional": _convolutional,
    "connected": _connected,
    "maxpool": _maxpool,
    "local_avgpool": lambda r: _pool(r, AvgPool),
    "avgpool": _one(GlobalAvgPool()),
    "upsample": lambda r: [_Op("upsample", Upsample(r.whole("stride", 2, least=1)))],
    "reorg": _reorg,
    "route": _route,
    "shortcut": lambda r: _shortcut(r, Shortcut(), _WEIGHTED),
    "scale_channels": lambda r: _shortcut(r, Mul(), (("scale_wh", "0", "a scale per position"),)),
    "sam": lambda r: _shortcut(r, Mul()),
    "dropout": _dropout,
    "softmax": _one(Softmax()),
    "batchnorm": _one(BatchNorm()),
    "activation": lambda r: _activation(r, "linear") or [_Op("act", Identity(), kind="linear")],
    "normalization": lambda r: [_Op("lrn", LRN(r.whole("size", 5, least=1)))],
    "crop": _crop,
    "cost": _one(Identity(), "cost"),
    "empty": _one(Identity(), "empty"),
    **{head: _head for head in HEADS},
}


def _input(section: _Section, problems: Problems) -> Shape:
    """``[net]``'s input: height x width x channels, or ``inputs`` numbers for a flat one."""
    r = _Reader(section, "net", -1, problems)
    given = {key: r.whole(key, 0, least=1) for key in ("height", "width", "channels")}
    inputs = r.whole("inputs", 0, least=1)
    r.unknown()
    if all(given.values()):
        shape = Shape((given["height"], given["width"]), given["channels"])
        if inputs and inputs != shape.size:
            r.problem(section.pos, f"inputs={inputs} is not height x width x channels")
        return shape
    if inputs and not any(given.values()):
        return Shape((), inputs)
    missing = [key for key, value in given.items() if not value]
    r.problem(section.pos, f"needs {', '.join(f'{key}=N' for key in missing)} (the input size)")
    return Shape((1, 1), 1)


def _add(dag: DagBuilder, index: int, pos: Pos, ops: list[_Op]) -> None:
    """A layer's nodes: one named by its index, or several in a group of that name, whose
    folded row shows the kind of its main node (the last one's for a route). The index names
    the layer's output (the previous one's for a layer with problems)."""
    name = str(index)
    x = dag.defined[str(index - 1)] if index else INPUT
    if len(ops) > 1:
        main = ops[-1] if isinstance(ops[-1].layer, Concat) else ops[0]
        dag.group(name, main.kind or main.layer.kind)
    for op in ops:
        inputs = (
            (x,)
            if op.inputs is None
            else tuple(
                f"{name}.{i}" if isinstance(i, str) else dag.defined[str(i)] for i in op.inputs
            )
        )
        full = name if len(ops) == 1 else f"{name}.{op.local}"
        x = dag.add(full, pos, op.layer, inputs, labels=op.labels, kind=op.kind)
    dag.alias(name, x)


def load(data: bytes | str, source: str = "<cfg>") -> Network:
    """The network a Darknet ``.cfg`` describes; a SpecError lists every problem in it."""
    import os

    text = source_text(data, source, MAX_SOURCE_BYTES)
    problems = Problems(source, text)
    sections = _sections(text, problems)
    many = too_many_layers(len(sections) - 1, "sections after [net]")
    if many:
        problems.add(sections[MAX_LAYERS + 1].pos, "", many)
        problems.check()
    if not sections or SECTIONS.get(sections[0].name) != "net":
        pos = sections[0].pos if sections else Pos(1, 1)
        problems.add(pos, "", "a Darknet cfg starts with its [net] section")
        problems.check()
    shape = _input(sections[0], problems)
    dag = DagBuilder()
    for index, section in enumerate(sections[1:]):
        kind = SECTIONS.get(section.name, "")
        r = _Reader(section, kind, index, problems)
        if kind not in BUILDERS:
            r.problem(section.pos, _unknown_section(section.name))
            _add(dag, index, section.pos, [])
            continue
        try:
            ops = BUILDERS[kind](r)
        except UsageError as e:
            r.problem(section.pos, str(e))
            ops = []
        r.unknown()
        _add(dag, index, section.pos, ops)
        if kind in HEADS and ops:
            dag.output(str(index), section.pos, str(index))
    if len(sections) == 1:
        problems.add(sections[0].pos, "", "no layers after [net]")
    problems.check()
    name = os.path.splitext(os.path.basename(source))[0] or "darknet"
    last = str(len(sections) - 2)
    return Network(
        name,
        shape,
        dag.build(dag.defined[last]),
        source=source,
        text=text,
        read_from="darknet",
    )


def _unknown_section(name: str) -> str:
    what = UNTRACED.get(name)
    if what is not None:
        return f"is {what}, which cnncalc does not trace"
    hint = did_you_mean(name, [*SECTIONS, *UNTRACED], show="[{}]".format)
    return f"is not a Darknet section{hint}"
