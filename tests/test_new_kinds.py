"""The kinds modern CNNs need: layernorm, groupnorm, gelu, silu, mish, hardsigmoid, droppath,
layerscale, shuffle, chunk; upsample to a size or to a named layer; max-unpool to a named layer.

Every count is worked out by hand from the PyTorch module it stands for (named beside it),
not copied from cnncalc's output.
"""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction
from math import gcd

import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given
from hypothesis import strategies as st

from cnncalc.analysis.tracer import trace
from cnncalc.cli import main
from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.shapes import Shape
from cnncalc.formats.inline import load_inline
from cnncalc.formats.spec import load_spec
from cnncalc.kinds import (
    GELU,
    Chunk,
    DropPath,
    GroupNorm,
    Hardsigmoid,
    Layer,
    LayerNorm,
    LayerScale,
    Mish,
    RFStep,
    Shuffle,
    SiLU,
    Unpool,
    Upsample,
    layer_class,
)
from cnncalc.render.layer import layer_report

ENV = {"COLUMNS": "200", "NO_COLOR": None, "FORCE_COLOR": None, "TERM": "xterm"}


def hwc(*sizes: int) -> Shape:
    return Shape(sizes[:-1], sizes[-1])


def run(*args: str) -> Result:
    return CliRunner(env=ENV).invoke(main, list(args))


def finished(result: Result, status: int) -> Result:
    """The command ended with ``status`` by design: no exception escaped into click."""
    assert result.exit_code == status, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def traced_json(*args: str) -> dict:
    return json.loads(finished(run("trace", *args, "--format", "json"), 0).stdout)


# --- each kind on its own ----------------------------------------------------------------------

X = hwc(56, 56, 96)

COUNTS = [
    # ConvNeXt's LayerNorm2d(96): weight 96 + bias 96 = 192, no running statistics
    pytest.param(LayerNorm(), X, X, 192, id="layernorm-convnext"),
    # after fc, nn.LayerNorm(768) over the features: 768 + 768
    pytest.param(LayerNorm(), Shape((), 768), Shape((), 768), 1536, id="layernorm-flat"),
    # nn.GroupNorm(8, 64): weight 64 + bias 64 = 128; nn.GroupNorm(32, 256): 256 + 256 = 512
    pytest.param(GroupNorm(8), hwc(7, 7, 64), hwc(7, 7, 64), 128, id="groupnorm-8-of-64"),
    pytest.param(GroupNorm(32), hwc(7, 7, 256), hwc(7, 7, 256), 512, id="groupnorm-32-of-256"),
    # nn.GroupNorm(1, C) is a layer norm over C, H and W with a per-channel affine: 2C
    pytest.param(GroupNorm(1), hwc(3, 3, 10), hwc(3, 3, 10), 20, id="groupnorm-1"),
    # ConvNeXt's layer_scale for dim 96: nn.Parameter(torch.ones(96, 1, 1) * 1e-6) = 96
    pytest.param(LayerScale(), X, X, 96, id="layerscale"),
    # ShuffleNetV2's channel_shuffle(x, 2): view, transpose, view back, nothing learnt
    pytest.param(Shuffle(2), hwc(28, 28, 116), hwc(28, 28, 116), 0, id="shuffle"),
    # x.chunk(2, dim=1) of 116 channels: two of 58
    pytest.param(Chunk(2, 0), hwc(28, 28, 116), hwc(28, 28, 58), 0, id="chunk-first-half"),
    pytest.param(Chunk(2, 1), hwc(28, 28, 116), hwc(28, 28, 58), 0, id="chunk-second-half"),
    pytest.param(Chunk(4, 3), hwc(8, 8, 64), hwc(8, 8, 16), 0, id="chunk-last-quarter"),
    pytest.param(Chunk(1, 0), hwc(8, 8, 64), hwc(8, 8, 64), 0, id="chunk-whole"),
    # nn.GELU, nn.SiLU, nn.Mish, nn.Hardsigmoid, StochasticDepth(0.1, "row"): no parameters
    pytest.param(GELU(), X, X, 0, id="gelu"),
    pytest.param(SiLU(), X, X, 0, id="silu"),
    pytest.param(Mish(), X, X, 0, id="mish"),
    pytest.param(Hardsigmoid(), X, X, 0, id="hardsigmoid"),
    pytest.param(DropPath(0.1), X, X, 0, id="droppath"),
]


@pytest.mark.parametrize("layer, x, shape, params", COUNTS)
def test_counts_as_pytorch(layer: Layer, x: Shape, shape: Shape, params: int):
    out = layer.apply(x)
    assert out.shape == shape
    assert out.params == params
    assert out.buffers == 0  # none of them keeps running statistics
    assert out.macs == 0  # the convention: only conv and fc weights cost MACs
    assert all(step == RFStep() for step in out.rf)  # pointwise: the receptive field stays


@pytest.mark.parametrize(
    "alias, kind",
    [
        ("swish", "silu"),
        ("hsigmoid", "hardsigmoid"),
        ("stochasticdepth", "droppath"),
        ("drop_path", "droppath"),
        ("layernorm2d", "layernorm"),
        ("group_norm", "groupnorm"),
        ("layer_scale", "layerscale"),
        ("channel_shuffle", "shuffle"),
    ],
)
def test_aliases(alias: str, kind: str):
    assert layer_class(alias).kind == kind


LAYER_ERRORS = [
    (GroupNorm(5), hwc(4, 4, 64), GeometryError, "groupnorm: groups 5 does not divide the 64"),
    (GroupNorm(), hwc(4, 4, 64), UsageError, "groupnorm needs groups (e.g. groupnorm 32)"),
    (Shuffle(3), hwc(4, 4, 64), GeometryError, "shuffle: groups 3 does not divide the 64"),
    (Chunk(3), hwc(4, 4, 64), GeometryError, "chunk: parts 3 does not divide the 64"),
    (Chunk(2, 2), hwc(4, 4, 64), UsageError, "chunk: index must be from 0 to 1, not 2"),
    (DropPath(1.5), X, UsageError, "droppath: p is a probability from 0 to 1, not 1.5"),
    (LayerNorm(), Shape((4, 4), None), UsageError, "layernorm needs the input depth"),
    (LayerScale(), Shape((4, 4), None), UsageError, "layerscale needs the input depth"),
]


@pytest.mark.parametrize("layer, x, error, message", LAYER_ERRORS)
def test_layer_errors(layer: Layer, x: Shape, error: type[Exception], message: str):
    with pytest.raises(error) as caught:
        layer.apply(x)
    assert str(caught.value).startswith(message)


# --- upsample: a factor, a size, or a named layer's size --------------------------------------


def test_upsample_by_a_factor_is_as_before():
    out = Upsample().apply(hwc(4, 6, 3))  # no factor, size or to: by 2, as always
    assert (out.shape, out.rf) == (hwc(8, 12, 3), (RFStep(1, 1, 2, map="nearest"),) * 2)
    assert Upsample(3).apply(hwc(4, 6, 3)).shape == hwc(12, 18, 3)


def test_upsample_to_a_size_from_any_size():
    # F.interpolate(x, size=(7, 9)): any input size, down as well as up
    for x in (hwc(28, 28, 8), hwc(5, 3, 8), hwc(100, 1, 8)):
        out = Upsample(size=(7, 9)).apply(x)
        assert out.shape == hwc(7, 9, 8)
        assert (out.params, out.buffers, out.macs) == (0, 0, 0)
        # up outputs per down inputs: in/out, reduced; from 1 position, a broadcast
        assert out.rf == tuple(
            RFStep(1, n // gcd(n, m), m // gcd(n, m), map="nearest") if n > 1 else RFStep(1, 0)
            for n, m in zip(x.spatial, (7, 9))
        )


def test_a_resize_by_a_fraction_keeps_the_jump_exact():
    # 4 stride-2 steps... then to 75 from 19: the jump is 16 * 19/75, not a rounded float
    t = trace(load_inline("75x75x3 | identity name=image | conv 8 f3 s4 | upsample to=image"))
    up = t.rows[-1]
    assert up.output == hwc(75, 75, 8)  # (75 - 3)//4 + 1 = 19, resized back to 75
    assert up.jump == (Fraction(4 * 19, 75),) * 2
    # each output reads 1 pixel of the conv's output (nearest), which sees 3 input pixels
    assert up.rf == (3, 3)


UPSAMPLE_ERRORS = [
    (Upsample(2, size=3), "upsample takes one of factor, size, to, not both factor and size"),
    (Upsample(size=3, to="a"), "upsample takes one of factor, size, to, not both size and to"),
    (Upsample(to="a"), "upsample: to=a names a layer, so needs a traced network"),
]


@pytest.mark.parametrize("layer, message", UPSAMPLE_ERRORS)
def test_upsample_errors(layer: Layer, message: str):
    with pytest.raises(UsageError, match=message):
        layer.apply(hwc(4, 4, 3))


# --- max unpooling back to a named layer's size ------------------------------------------------


def test_max_unpool_to_an_odd_size_has_no_off_by_one():
    # SegNet: a 2x2/2 pool of 15x15 gives 7x7; the unpool must give 15 back, not (7-1)*2+2 = 14
    t = trace(load_inline("15x15x8 | conv 8 f3 p1 name=c5 | maxpool 2 | unpool mode=max to=c5"))
    assert [r.output for r in t.rows] == [hwc(15, 15, 8), hwc(7, 7, 8), hwc(15, 15, 8)]
    assert t.rows[-1].params == 0
    # without to, the formula's size, as before: (7 - 1)*2 - 0 + 2 = 14
    t = trace(load_inline("15x15x8 | maxpool 2 | unpool mode=max"))
    assert t.rows[-1].output == hwc(14, 14, 8)


def test_max_unpool_to_a_size_checks_it_against_the_pool():
    assert Unpool("max", size=(15, 14)).apply(hwc(7, 7, 1)).shape == hwc(15, 14, 1)
    with pytest.raises(GeometryError) as caught:
        Unpool("max", size=16).apply(hwc(7, 7, 1))
    assert str(caught.value) == (
        "max unpooling of a 7x7x1 input cannot give 16x16: pooling 16 rows with f 2, stride 2, "
        "pad 0 gives 8, not 7"
    )
    unpool = Unpool("max", size=15)
    report = layer_report(unpool, hwc(7, 7, 1), unpool.apply(hwc(7, 7, 1)), "table")
    assert "15 as given (a pool with f 2, stride 2, pad 0 maps it to 7)" in report
    with pytest.raises(UsageError, match="size and to are for mode=max, not nearest"):
        Unpool(size=14).apply(hwc(7, 7, 1))
    with pytest.raises(UsageError, match="unpool takes one of size, to, not both size and to"):
        Unpool("max", size=14, to="c5").apply(hwc(7, 7, 1))


@given(
    n=st.integers(1, 40),
    f=st.integers(1, 5),
    data=st.data(),
)
@example(n=7, f=2, data=None)  # SegNet's odd sizes: 13, 14 and 15 all pool to 7
def test_max_unpool_accepts_the_sizes_pytorch_accepts(n: int, f: int, data):
    """PyTorch's ``MaxUnpool2d`` takes an ``output_size`` strictly between default - S and
    default + S (torch.nn.functional._unpool_output_size); without padding and with S <= F,
    those are exactly the sizes that the pool maps back to the unpool's input, among the sizes
    a pool can take at all (at least F: PyTorch's MaxPool2d refuses a smaller input)."""
    s = data.draw(st.integers(1, f), label="s") if data else 2
    default = (n - 1) * s + f
    for m in range(max(f, default - 2 * s), default + 2 * s):
        pytorch = default - s < m < default + s
        try:
            Unpool("max", f=f, stride=s, size=m).apply(Shape((n,), 1))
            ours = True
        except GeometryError:
            ours = False
        assert ours == pytorch, m


# --- in a network: inline and YAML, through the command line ------------------------------------

CONVNEXT_BLOCK = """
    input: 56x56x96
    layers:
      - add:
          - identity
          - [dwconv f7 p3, layernorm, conv 384 f1, gelu, conv 96 f1, layerscale, droppath 0.1]
"""


def test_convnext_block(tmp_path):
    """torchvision's CNBlock(96): dwconv 7x7 96*49 + 96 = 4,800; LayerNorm 192; Linear 96->384
    36,864 + 384 = 37,248; Linear 384->96 36,864 + 96 = 36,960; layer_scale 96: 79,296."""
    (tmp_path / "cnblock.yaml").write_text(textwrap.dedent(CONVNEXT_BLOCK))
    out = traced_json(str(tmp_path / "cnblock.yaml"))
    assert out["output"] == [56, 56, 96]
    assert out["totals"]["params"] == 4800 + 192 + 37248 + 36960 + 96
    assert out["totals"]["non_trainable_params"] == 0  # batch norm would have added 2C
    # MACs: 56*56 positions times 96*49, 96*384 and 384*96 weights
    assert out["totals"]["macs"] == 56 * 56 * (96 * 49 + 96 * 384 + 384 * 96)


SHUFFLENET_UNIT = """
    input: 28x28x116
    layers:
      - concat:
          - chunk 2 index=0
          - [chunk 2 index=1, conv 58 f1 nobias, bn, relu, dwconv f3 p1 nobias, bn,
             conv 58 f1 nobias, bn, relu]
      - shuffle 2
"""


def test_shufflenet_v2_unit(tmp_path):
    """torchvision's InvertedResidual(116, 116, 1): x1, x2 = x.chunk(2, dim=1); branch2 on x2:
    1x1 conv 58*58 = 3,364, BN 116, 3x3 dwconv 58*9 = 522, BN 116, 1x1 conv 3,364, BN 116:
    7,598 trainable and 3 * 116 = 348 running statistics; then channel_shuffle(out, 2)."""
    (tmp_path / "unit.yaml").write_text(textwrap.dedent(SHUFFLENET_UNIT))
    out = traced_json(str(tmp_path / "unit.yaml"))
    assert out["output"] == [28, 28, 116]
    assert out["totals"]["trainable_params"] == 3364 + 116 + 522 + 116 + 3364 + 116
    assert out["totals"]["non_trainable_params"] == 3 * 116
    assert out["totals"]["macs"] == 28 * 28 * (3364 + 522 + 3364)
    kinds = {layer["name"]: (layer["kind"], layer["output"]) for layer in out["layers"]}
    assert kinds["concat1.0.chunk1"] == ("chunk", [28, 28, 58])
    assert kinds["shuffle1"] == ("shuffle", [28, 28, 116])


def test_softplus_is_one_line_and_known_everywhere():
    """nn.Softplus: no parameters, shape unchanged; read inline, listed, in the schema."""
    out = traced_json("8x8x16 | conv 4 f3 | softplus")
    assert [(row["kind"], row["output"], row["params"]) for row in out["layers"]][-1] == (
        "softplus",
        [6, 6, 4],
        0,
    )


def test_inline_kinds_and_bare_values():
    out = traced_json("8x8x64 | groupnorm 8 | swish | mish | hsigmoid | droppath 0.2 | chunk 4")
    assert [(x["kind"], x["output"], x["params"]) for x in out["layers"]] == [
        ("groupnorm", [8, 8, 64], 128),  # nn.GroupNorm(8, 64): 64 + 64
        ("silu", [8, 8, 64], 0),
        ("mish", [8, 8, 64], 0),
        ("hardsigmoid", [8, 8, 64], 0),
        ("droppath", [8, 8, 64], 0),
        ("chunk", [8, 8, 16], 0),  # x.chunk(4, dim=1)[0]: 64 / 4
    ]


FCN_HEAD = """
    input: 224x224x3
    layers:
      - identity name=image
      - conv: {filters: 64, f: 3, stride: 2, pad: 1}
      - relu
      - maxpool 2
      - conv 21 f1
      - upsample: {to: image, mode: bilinear}
"""


@pytest.mark.parametrize("size", ["224x224x3", "256x320x3", "97x101x3"])
def test_fcn_head_resizes_to_the_input_at_any_size(tmp_path, size):
    (tmp_path / "fcn.yaml").write_text(textwrap.dedent(FCN_HEAD))
    out = traced_json(str(tmp_path / "fcn.yaml"), "--input", size)
    assert out["output"] == [*map(int, size.split("x")[:2]), 21]


def test_the_docs_resize_example_runs_at_any_input_size():
    from pathlib import Path

    docs = (Path(__file__).parents[1] / "docs" / "spec.md").read_text(encoding="utf-8")
    (line,) = [x for x in docs.splitlines() if x.startswith("$ cnncalc trace") and "to=" in x]
    inline = line.split('"')[1]
    for size in ("224x224x3", "320x240x3"):
        spec = size + inline[inline.index(" |") :]
        out = traced_json(spec)
        assert out["output"] == [*map(int, size.split("x")[:2]), 21]


def test_segnet_decoder_in_yaml(tmp_path):
    spec = """
        input: 45x45x3
        layers:
          - conv 64 f3 p1 name=conv1
          - maxpool 2
          - conv 64 f3 p1 name=conv2
          - maxpool 2
          - unpool: {mode: max, to: conv2}
          - unpool: {mode: max, to: conv1}
    """
    (tmp_path / "segnet.yaml").write_text(textwrap.dedent(spec))
    out = traced_json(str(tmp_path / "segnet.yaml"))
    # 45 -> 22 -> 11, back to 22 and 45 (the formula alone would give 44)
    assert [x["output"][0] for x in out["layers"]] == [45, 22, 22, 11, 22, 45]


# --- errors: one located line, exit 1, no traceback ---------------------------------------------

ERRORS = [
    ("64x64x64 | chunk parts=3", 12, "chunk1: chunk: parts 3 does not divide the 64 input"),
    ("64x64x64 | groupnorm groups=5", 12, "groupnorm1: groupnorm: groups 5 does not divide the 64"),
    ("64x64x64 | shuffle groups=3", 12, "shuffle1: shuffle: groups 3 does not divide the 64"),
    (
        "64x64x64 | upsample 2 size=128",
        12,
        "upsample1: upsample takes one of factor, size, to, not both factor and size",
    ),
    (
        "64x64x64 | conv 8 f1 name=head | upsample to=haed",
        34,
        "upsample1: upsample: to: no layer named 'haed' is defined before here "
        "(did you mean 'head'?)",
    ),
    (
        "16x16x8 | conv 8 f3 p1 name=c | maxpool 2 | maxpool 2 | unpool mode=max to=c",
        57,
        "unpool1: max unpooling of a 4x4x8 input cannot give 16x16: pooling 16 rows with f 2, "
        "stride 2, pad 0 gives 8, not 4",
    ),
]


@pytest.mark.parametrize("spec, column, message", ERRORS)
def test_errors_are_one_located_line(spec: str, column: int, message: str):
    result = finished(run("trace", spec), 1)
    (error,) = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert error.startswith(f"<inline>:1:{column}: error: {message}")


def test_errors_in_yaml_point_at_the_item(tmp_path):
    spec = "input: 8x8x64\nlayers:\n  - relu\n  - groupnorm: 5\n"
    (tmp_path / "gn.yaml").write_text(spec)
    result = finished(run("trace", str(tmp_path / "gn.yaml")), 1)
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"{tmp_path / 'gn.yaml'}:4:5: error: groupnorm1: groupnorm: ")


# --- properties ----------------------------------------------------------------------------------

STEP = st.sampled_from(
    ["conv 4 f3 s2", "conv 4 f3 s2 p1", "conv 4 f1 s2", "maxpool 2", "maxpool 3 s2 p1",
     "maxpool 2 ceil", "avgpool 3 s2", "conv 4 f3"]
)  # fmt: skip


@given(
    steps=st.lists(STEP, min_size=1, max_size=4),
    at=st.integers(0, 4),
    h=st.integers(64, 400),
    w=st.integers(64, 400),
)
@example(steps=["maxpool 2", "maxpool 2"], at=0, h=65, w=67)  # odd sizes lose a row per pool
def test_upsample_to_restores_the_named_size(steps: list[str], at: int, h: int, w: int):
    """Whatever strided convolutions and pools follow a named layer, at whatever input size,
    ``upsample to=NAME`` comes back to exactly that layer's size."""
    at = min(at, len(steps) - 1)
    named = [f"{s} name=here" if i == at else s for i, s in enumerate(steps)]
    t = trace(load_inline(" | ".join([f"{h}x{w}x3", "conv 4 f1", *named, "upsample to=here"])))
    assert t.ok, t.errors
    assert t.output == t.shapes["here"]


@given(parts=st.integers(2, 8), width=st.integers(1, 32))
def test_chunks_partition_the_channels(parts: int, width: int):
    """The P chunks of C = P*w channels are w each, and concatenated they are all C again."""
    c = parts * width
    assert [Chunk(parts, i).apply(hwc(3, 3, c)).shape.channels for i in range(parts)] == [
        width
    ] * parts
    branches = "\n".join(f"      - chunk {parts} index={i}" for i in range(parts))
    t = trace(load_spec(f"input: 3x3x{c}\nlayers:\n  - concat:\n{branches}\n"))
    assert t.output == hwc(3, 3, c)


def test_crop_takes_one_of_size_border_and_to():
    result = CliRunner().invoke(main, ["trace", "8x8x3 | conv 4 f1 name=a | crop size=4 to=a"])
    assert result.exit_code == 1  # located in the trace: the rows before it are shown
    assert (
        "<inline>:1:28: error: crop1: crop takes one of size, border, to, not both size and to"
        in result.stderr
    )
