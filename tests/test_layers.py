"""Every layer kind: shapes, parameter and MAC counts, padding, warnings and errors.

Expected numbers are worked out by hand (the product is spelt out beside each) or
are the published figures of well-known networks; none is copied from our output.
"""

from __future__ import annotations

import pytest

from cnncalc.core.errors import GeometryError, UsageError
from cnncalc.core.shapes import Shape
from cnncalc.kinds import (
    FC,
    LRN,
    AdaptiveAvgPool,
    AvgPool,
    BatchNorm,
    Chunk,
    Conv,
    Crop,
    DepthwiseConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    GroupNorm,
    Hardswish,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool,
    PReLU,
    ReLU,
    RFStep,
    TConv,
    Unpool,
    Upsample,
    ZeroPad,
    layer_class,
)


def hwc(*sizes: int) -> Shape:
    """A shape written as the course does: spatial sizes then channels (``hwc(32, 32, 3)``)."""
    return Shape(sizes[:-1], sizes[-1])


# ---------------------------------------------------------------------------
# Shapes, parameters and MACs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "x", "shape", "params", "macs"),
    [
        pytest.param(
            Conv(10, f=5, stride=1, pad=2),
            hwc(32, 32, 3),
            hwc(32, 32, 10),
            10 * (5 * 5 * 3 + 1),  # 760
            32 * 32 * 10 * (5 * 5 * 3),  # 768,000
            id="course-32x32x3-ten-5x5-pad2",
        ),
        pytest.param(
            Conv(96, f=11, stride=4),
            hwc(227, 227, 3),
            hwc(55, 55, 96),
            34_944,  # 96 * (11*11*3 + 1)
            105_415_200,  # 55*55*96 * 363
            id="AlexNet-conv1",
        ),
        pytest.param(
            Conv(64, f=3, pad=1),
            Shape((16, 112, 112), 3),
            Shape((16, 112, 112), 64),
            5_248,  # C3D conv1a: 64 * (27*3 + 1)
            16 * 112 * 112 * 64 * 81,
            id="3D-C3D-conv1a",
        ),
        pytest.param(
            Conv(16, f=5, stride=2),
            Shape((100,), 1),
            Shape((48,), 16),  # (100 - 5)//2 + 1
            16 * 5 + 16,
            48 * 16 * 5,
            id="1D-signal",
        ),
        pytest.param(
            Conv(8, f=(3, 5), stride=(1, 2), pad=(1, 2)),
            hwc(32, 64, 3),
            hwc(32, 32, 8),  # rows (32+2-3)/1+1, columns (64+4-5)//2+1
            8 * 3 * 15 + 8,
            32 * 32 * 8 * 45,
            id="non-square-kernel-stride-pad",
        ),
        pytest.param(
            Conv(128, f=3, pad=1, groups=32, bias=False),
            hwc(56, 56, 128),
            hwc(56, 56, 128),
            4_608,  # ResNeXt 32x4d: weight 128 x (128/32) x 3 x 3
            56 * 56 * 4_608,
            id="ResNeXt-grouped-32",
        ),
        pytest.param(
            DepthwiseConv(f=3, pad=1),
            hwc(112, 112, 32),
            hwc(112, 112, 32),
            288 + 32,  # MobileNet conv dw/s1: 3*3*32 weights + 32 bias
            3_612_672,  # D_K^2 * M * D_F^2 = 9 * 32 * 112 * 112
            id="MobileNet-depthwise-3x3",
        ),
        pytest.param(
            DepthwiseConv(f=3, pad=1, multiplier=2, bias=False),
            hwc(10, 10, 4),
            hwc(10, 10, 8),
            8 * 9,  # weight 8 x 1 x 3 x 3
            100 * 8 * 9,
            id="depthwise-multiplier-2",
        ),
        pytest.param(
            TConv(512, f=4, stride=2, pad=1, bias=False),
            hwc(4, 4, 1024),
            hwc(8, 8, 512),  # (4-1)*2 - 2 + 3 + 1
            1024 * 512 * 16,  # DCGAN generator: 8,388,608
            4 * 4 * 1024 * 512 * 16,  # per input position
            id="DCGAN-transposed",
        ),
        pytest.param(
            TConv(4, f=3, groups=2),
            hwc(5, 5, 8),
            hwc(7, 7, 4),
            8 * (4 // 2) * 9 + 4,  # weight in x out/groups x 3 x 3, + bias
            25 * 9 * (8 // 2) * 4,  # N_in * F^2 * C_in/G * K
            id="grouped-transposed",
        ),
        pytest.param(
            FC(4096),
            hwc(7, 7, 512),
            Shape((), 4096),
            102_764_544,  # VGG-16 fc6: 25088 * 4096 + 4096
            25_088 * 4096,
            id="VGG16-fc6-flattens",
        ),
        pytest.param(
            FC(10, bias=False), Shape((), 84), Shape((), 10), 840, 840, id="FC-without-bias"
        ),
        pytest.param(
            MaxPool(f=2, stride=2), hwc(8, 8, 10), hwc(4, 4, 10), 0, 0, id="course-pool-8-to-4"
        ),
        pytest.param(
            MaxPool(f=3, stride=2, ceil=True),
            hwc(112, 112, 64),
            hwc(56, 56, 64),
            0,
            0,
            id="GoogLeNet-maxpool1-ceil",
        ),
        pytest.param(
            AvgPool(f=2, stride=2, pad=1, ceil=True),
            Shape((5, 5), 1),
            Shape((3, 3), 1),
            0,
            0,
            id="PT-ceil-drops-window-in-padding",
        ),
        pytest.param(GlobalAvgPool(), hwc(7, 7, 2048), hwc(1, 1, 2048), 0, 0, id="ResNet50-gap"),
        pytest.param(GlobalMaxPool(), Shape((9,), 6), Shape((1,), 6), 0, 0, id="1D-global-max"),
        pytest.param(AdaptiveAvgPool(6), hwc(13, 13, 256), hwc(6, 6, 256), 0, 0, id="adaptive-6"),
        pytest.param(
            AdaptiveAvgPool((7, 5)), hwc(20, 9, 3), hwc(7, 5, 3), 0, 0, id="adaptive-non-square"
        ),
        pytest.param(
            Unpool("nails", factor=2), hwc(4, 4, 8), hwc(8, 8, 8), 0, 0, id="unpool-bed-of-nails"
        ),
        pytest.param(
            Unpool("nearest", factor=(2, 3)), hwc(4, 4, 8), hwc(8, 12, 8), 0, 0, id="nearest-2x3"
        ),
        pytest.param(
            Unpool("max", f=2), hwc(4, 4, 8), hwc(8, 8, 8), 0, 0, id="max-unpool-of-2x2-pool"
        ),
        pytest.param(
            Unpool("max", f=3, stride=2, pad=1),
            hwc(3, 3, 1),
            hwc(5, 5, 1),  # (3-1)*2 - 2 + 3
            0,
            0,
            id="max-unpool-f3-s2-p1",
        ),
        pytest.param(Upsample(2), hwc(4, 6, 3), hwc(8, 12, 3), 0, 0, id="upsample-x2"),
        pytest.param(Flatten(), hwc(7, 7, 512), Shape((), 25_088), 0, 0, id="flatten"),
        pytest.param(ZeroPad(1), hwc(5, 5, 3), hwc(7, 7, 3), 0, 0, id="zero-pad-1"),
        pytest.param(ZeroPad((1, 2)), hwc(5, 5, 3), hwc(7, 9, 3), 0, 0, id="zero-pad-per-dim"),
        pytest.param(
            ZeroPad(((1, 2), (0, 3))), hwc(5, 5, 3), hwc(8, 8, 3), 0, 0, id="zero-pad-asymmetric"
        ),
        pytest.param(Crop(size=4), hwc(6, 6, 2), hwc(4, 4, 2), 0, 0, id="crop-to-size"),
        pytest.param(
            Crop(border=16), hwc(136, 136, 256), hwc(104, 104, 256), 0, 0, id="U-Net-crop-136"
        ),
        pytest.param(Crop(size=(3, 5)), hwc(6, 6, 2), hwc(3, 5, 2), 0, 0, id="crop-non-square"),
        pytest.param(PReLU(), hwc(5, 5, 64), hwc(5, 5, 64), 1, 0, id="PReLU-shared-slope"),
        pytest.param(
            PReLU(per_channel=True), hwc(5, 5, 64), hwc(5, 5, 64), 64, 0, id="PReLU-per-channel"
        ),
    ],
)
def test_layer_shape_params_and_macs(layer, x, shape, params, macs):
    out = layer.apply(x)
    assert out.shape == shape
    assert out.params == params
    assert out.macs == macs


def test_batch_norm_has_2c_trainable_and_2c_running_statistics():
    out = BatchNorm().apply(hwc(56, 56, 64))
    assert out.shape == hwc(56, 56, 64)
    assert (out.params, out.buffers, out.macs) == (128, 128, 0)


@pytest.mark.parametrize(
    "layer",
    [
        pytest.param(Identity(), id="identity"),
        pytest.param(ReLU(), id="relu"),
        pytest.param(LeakyReLU(slope=0.2), id="leaky-relu"),
        pytest.param(Dropout(0.3), id="dropout"),
        pytest.param(LRN(5), id="lrn"),
    ],
)
def test_parameter_free_layers_pass_the_input_through(layer):
    x = hwc(13, 27, 96)
    out = layer.apply(x)
    assert out.shape == x
    assert (out.params, out.buffers, out.macs, out.warnings) == (0, 0, 0, ())


@pytest.mark.parametrize(
    ("layer", "spatial"),
    [
        pytest.param(Conv(8, f=3), (7, 7), id="conv"),
        pytest.param(TConv(8, f=3), (11, 11), id="tconv"),
        pytest.param(FC(10), (), id="fc"),
    ],
)
def test_unknown_depth_leaves_counts_unknown_but_shape_known(layer, spatial):
    out = layer.apply(Shape((9, 9), None))
    assert out.shape.spatial == spatial
    assert out.params is None and out.macs is None


# ---------------------------------------------------------------------------
# Padding: modes, asymmetry, and what each layer reports it used
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "x", "spatial", "padding"),
    [
        pytest.param(Conv(4, f=3, pad="valid"), (5, 5), (3, 3), ((0, 0),) * 2, id="valid"),
        pytest.param(Conv(4, f=3, pad="same"), (5, 5), (5, 5), ((1, 1),) * 2, id="DV16-rel3-same"),
        pytest.param(Conv(4, f=3, pad="full"), (5, 5), (7, 7), ((2, 2),) * 2, id="DV16-rel4-full"),
        pytest.param(
            Conv(4, f=3, stride=2, pad="same"),
            (224, 224),
            (112, 112),
            ((0, 1),) * 2,
            id="same-upper-odd-pixel-after",
        ),
        pytest.param(
            Conv(4, f=3, stride=2, pad="same-lower"),
            (224, 224),
            (112, 112),
            ((1, 0),) * 2,
            id="same-lower-odd-pixel-before",
        ),
        pytest.param(
            Conv(4, f=3, pad="same", dilation=2),
            (9, 6),
            (9, 6),
            ((2, 2),) * 2,
            id="same-dilated",
        ),
        pytest.param(
            Conv(4, f=3, pad=((0, 1), (2, 0))),
            (5, 5),
            (4, 5),
            ((0, 1), (2, 0)),
            id="asymmetric-before-after",
        ),
        pytest.param(
            MaxPool(f=2, pad="same"), (7, 8), (4, 4), ((0, 1), (0, 0)), id="pool-same-odd"
        ),
        pytest.param(TConv(4, f=3, stride=2, pad=1), (3, 3), (5, 5), ((1, 1),) * 2, id="tconv"),
    ],
)
def test_padding_used_and_resulting_shape(layer, x, spatial, padding):
    out = layer.apply(Shape(x, 2))
    assert out.shape.spatial == spatial
    assert out.padding == padding


@pytest.mark.parametrize(
    ("target", "output_padding", "spatial"),
    [
        pytest.param(12, 1, (12, 12), id="PT-doc-6-to-12"),
        pytest.param(11, 0, (11, 11), id="6-to-11"),
        pytest.param((12, 11), None, (12, 11), id="per-dimension-targets"),
    ],
)
def test_transposed_conv_target_picks_the_output_padding(target, output_padding, spatial):
    layer = TConv(16, f=3, stride=2, pad=1, target=target)
    assert layer.apply(hwc(6, 6, 16)).shape == Shape(spatial, 16)
    if output_padding is not None:
        explicit = TConv(16, f=3, stride=2, pad=1, output_padding=output_padding)
        assert explicit.apply(hwc(6, 6, 16)).shape == Shape(spatial, 16)


# ---------------------------------------------------------------------------
# Receptive-field steps
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "x", "rf"),
    [
        pytest.param(
            Conv(4, f=3, stride=2, pad=1, dilation=2), (9,), (RFStep(3, 2, 1, 1, 2),), id="conv"
        ),
        pytest.param(MaxPool(f=(2, 3)), (8, 9), (RFStep(2, 2), RFStep(3, 3)), id="pool"),
        pytest.param(
            TConv(4, f=4, stride=2, pad=1),
            (5,),
            (RFStep(4, 1, 2, 1, map="transposed"),),
            id="tconv",
        ),
        pytest.param(
            Unpool("nearest", factor=3), (4,), (RFStep(1, 1, 3, map="nearest"),), id="unpool"
        ),
        pytest.param(Unpool("nails", factor=2), (4,), (RFStep(1, 1, 2, map="nails"),), id="nails"),
        pytest.param(  # the worst case of the pool's indices: a transposed pool window
            Unpool("max", f=3, stride=2, pad=1),
            (4,),
            (RFStep(3, 1, 2, 1, map="transposed"),),
            id="max-unpool",
        ),
        pytest.param(GlobalAvgPool(), (7, 5), (RFStep(7, 7), RFStep(5, 5)), id="global"),
        pytest.param(
            AdaptiveAvgPool(2), (8,), (RFStep(1, 4, 1, map="area"),), id="adaptive-8-to-2"
        ),
        pytest.param(
            AdaptiveAvgPool(3), (5,), (RFStep(1, 5, 3, map="area"),), id="adaptive-5-to-3"
        ),
        pytest.param(
            Upsample(size=500, mode="bilinear"),
            (63,),
            (RFStep(1, 63, 500, map="linear"),),
            id="resize-63-to-500",
        ),
        pytest.param(ReLU(), (7, 5), (RFStep(), RFStep()), id="activation"),
    ],
)
def test_receptive_field_step(layer, x, rf):
    assert layer.apply(Shape(x, 4)).rf == rf


# ---------------------------------------------------------------------------
# Warnings when the windows do not tile the input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "x", "count", "phrases"),
    [
        pytest.param(
            Conv(4, f=2, stride=2),
            (7, 7),
            1,
            [
                "rows and columns: (7 + 0 - 2)/2 + 1 = 3.5 is not an integer; floored to 3, "
                "input row and column 7 (of 7) never covered",
            ],
            id="7x7-f2-s2-row-and-column-7",
        ),
        pytest.param(
            Conv(4, f=2, stride=2),
            (7, 9),
            2,
            [
                "rows: (7 + 0 - 2)/2",
                "input row 7 (of 7)",
                "columns: (9 + 0 - 2)/2",
                "column 9 (of 9)",
            ],
            id="7x9-one-warning-per-dimension",
        ),
        pytest.param(
            MaxPool(f=2),
            (8, 7),
            1,
            ["columns:", "column 7 (of 7) never covered"],
            id="only-columns",
        ),
        pytest.param(Conv(4, f=3, stride=3), (8,), 1, ["positions 7-8 (of 8)"], id="1D-two-missed"),
        pytest.param(
            Conv(4, f=2, stride=2), (5, 4, 4), 1, ["planes:", "plane 5 (of 5)"], id="3D-planes"
        ),
        pytest.param(
            Conv(4, f=3, stride=2),
            (1_000_000,),
            1,
            ["(1000000 + 0 - 3)/2 + 1 = 499999.5 is not an integer; floored to 499999"],
            id="exact-fraction-not-rounded",
        ),
    ],
)
def test_non_dividing_stride_warns_naming_what_is_missed(layer, x, count, phrases):
    out = layer.apply(Shape(x, 2))
    assert len(out.warnings) == count
    text = "\n".join(out.warnings)
    for phrase in phrases:
        assert phrase in text
    assert out.warnings[0].startswith(f"{layer.kind}: ")


@pytest.mark.parametrize(
    ("layer", "x"),
    [
        pytest.param(Conv(4, f=2, stride=2), (8, 8), id="stride-divides"),
        pytest.param(Conv(4, f=3, stride=2, pad=1), (5, 5), id="DV16-rel6-tiles"),
        pytest.param(Conv(4, f=3, stride=2, pad="same"), (7, 7), id="same-padding-tiles"),
        pytest.param(MaxPool(f=2, ceil=True), (7, 7), id="ceil-mode-covers-the-rest"),
        pytest.param(TConv(4, f=3, stride=2), (7, 7), id="transposed-covers-everything"),
        # (6 + 2 - 3)/2 + 1 = 3.5: the last window would only cover the padding after row 6
        pytest.param(Conv(4, f=3, stride=2, pad=1), (6, 6), id="DV16-rel6-only-padding-left"),
        # ResNet's 1x1 stride-2 downsample on 56: rows 1, 3, ..., 55 are all skipped alike
        pytest.param(Conv(4, f=1, stride=2), (56, 56), id="stride-wider-than-kernel"),
        pytest.param(MaxPool(f=3, stride=2, pad=1), (112, 112), id="ResNet-stem-pool"),
    ],
)
def test_no_warning_when_the_windows_tile_the_input(layer, x):
    assert layer.apply(Shape(x, 2)).warnings == ()


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

X = hwc(5, 5, 32)


@pytest.mark.parametrize(
    ("layer", "x", "error", "match"),
    [
        pytest.param(
            Conv(8, f=3), (0, 5, 3), UsageError, "size must be at least 1", id="empty-input"
        ),
        pytest.param(
            Conv(8, f=1, pad=1), (0, 0, 3), UsageError, "at least 1, not 0", id="empty-padded"
        ),
        pytest.param(Conv(8, f=1), (-4, 5, 3), UsageError, "not -4", id="negative-input"),
        pytest.param(MaxPool(f=1, ceil=True), (0, 5, 3), UsageError, "not 0", id="empty-ceil-pool"),
        pytest.param(TConv(8), (0, 5, 3), UsageError, "not 0", id="empty-tconv"),
        pytest.param(Unpool("max"), (0, 5, 3), UsageError, "not 0", id="empty-unpool"),
        pytest.param(
            Conv(8, f=7),
            X,
            GeometryError,
            "kernel extent 7 is larger than the padded input 5",
            id="kernel-larger-than-input",
        ),
        pytest.param(
            Conv(8, f=3, dilation=3), X, GeometryError, "kernel extent 7", id="dilated-too-large"
        ),
        pytest.param(
            MaxPool(f=7), X, GeometryError, "larger than the padded input", id="pool-too-large"
        ),
        pytest.param(
            MaxPool(f=2, pad=2),
            X,
            GeometryError,
            "padding 2 is more than half the kernel size 2",
            id="pool-padding-over-half",
        ),
        pytest.param(
            MaxPool(f=3, pad=((0, 2), 0)), X, GeometryError, "more than half", id="pool-pad-after"
        ),
        pytest.param(
            TConv(8, stride=2, output_padding=2),
            X,
            GeometryError,
            "output padding 2",
            id="output-padding-equal-stride",
        ),
        pytest.param(
            TConv(8, stride=2, dilation=3, output_padding=3),
            X,
            GeometryError,
            r"max\(stride, dilation\) = 3",
            id="output-padding-equal-dilation",
        ),
        pytest.param(
            TConv(8, target=20, stride=2),
            X,
            GeometryError,
            "no output padding makes",
            id="tconv-target-unreachable",
        ),
        pytest.param(TConv(8, f=1, pad=3), X, GeometryError, "leaves no output", id="tconv-pad"),
        pytest.param(
            Conv(8, groups=3),
            X,
            GeometryError,
            "groups 3 does not divide the 32 input channels",
            id="groups-vs-input-channels",
        ),
        pytest.param(
            Conv(10, groups=4),
            X,
            GeometryError,
            "does not divide the 10 filters",
            id="groups-vs-filters",
        ),
        pytest.param(
            TConv(6, groups=4), X, GeometryError, "does not divide the 6 filters", id="tconv-groups"
        ),
        pytest.param(
            DepthwiseConv(),
            Shape((5, 5), None),
            UsageError,
            "needs the input depth",
            id="depthwise-without-depth",
        ),
        pytest.param(
            Conv(8, f=(3, 3, 3)),
            X,
            UsageError,
            "kernel size f has 3 values for a 2D input",
            id="kernel-per-dim-length",
        ),
        pytest.param(
            Conv(8, stride=(1, 2)),
            Shape((9,), 1),
            UsageError,
            "stride has 2 values for a 1D",
            id="stride-per-dim-length",
        ),
        pytest.param(
            Conv(8, pad=(1, 1, 1)),
            X,
            UsageError,
            "padding has 3 values for a 2D input",
            id="padding-per-dim-length",
        ),
        pytest.param(
            Conv(8, pad="half"), X, UsageError, "unknown padding mode 'half'", id="pad-mode-half"
        ),
        pytest.param(Unpool("bilinear"), X, UsageError, "unknown unpooling mode", id="unpool-mode"),
        pytest.param(
            Unpool("max", f=1, pad=1),
            hwc(1, 1, 1),
            GeometryError,
            "leaves no output",
            id="max-unpool-padding-eats-everything",
        ),
        pytest.param(
            BatchNorm(), Shape((5, 5), None), UsageError, "needs the input depth", id="bn-depth"
        ),
        pytest.param(
            PReLU(per_channel=True),
            Shape((5,), None),
            UsageError,
            "needs the input depth",
            id="prelu-per-channel-depth",
        ),
        pytest.param(Crop(size=6), X, GeometryError, "cannot crop 5x5x32 to 6x6", id="crop-up"),
        pytest.param(Crop(border=3), X, GeometryError, "cannot crop", id="crop-border-too-big"),
        pytest.param(Crop(), X, UsageError, "needs a size, a border", id="crop-nothing"),
    ],
)
def test_bad_layer_raises_a_specific_error(layer, x, error, match):
    """An impossible input (sizes, not a Shape) is refused where its Shape is made."""
    with pytest.raises(error, match=match):
        layer.apply(x if isinstance(x, Shape) else hwc(*x))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv(8, f=0), "conv: kernel size f must be at least 1, not 0"),
        (lambda: Conv(8, f=(3, -1)), "conv: kernel size f must be at least 1, not -1"),
        (lambda: Conv(8, stride=0), "conv: stride must be at least 1, not 0"),
        (lambda: MaxPool(stride=0), "maxpool: stride must be at least 1, not 0"),
        (lambda: TConv(8, stride=-2), "tconv: stride must be at least 1, not -2"),
        (lambda: Conv(8, dilation=0), "conv: dilation must be at least 1, not 0"),
        (lambda: TConv(8, pad=-1), "tconv: padding must be at least 0, not -1"),
        (lambda: Conv(8, groups=0), "conv: groups must be at least 1, not 0"),
        (lambda: Conv(8, pad=-1), "conv: padding must be at least 0, not -1"),
        (lambda: Conv(8, pad=((0, -1), 0)), "conv: padding must be at least 0, not -1"),
        (lambda: Conv(0), "conv: filters must be at least 1, not 0"),
        (lambda: TConv(0), "tconv: filters must be at least 1, not 0"),
        (lambda: Upsample(size=0), "upsample: size must be at least 1, not 0"),
        (lambda: Unpool("nails", factor=0), "unpool: factor must be at least 1, not 0"),
        (lambda: Upsample(0), "upsample: factor must be at least 1, not 0"),
        (lambda: AdaptiveAvgPool(0), "adaptivepool: size must be at least 1, not 0"),
        (lambda: FC(0), "fc: output features must be at least 1, not 0"),
        (lambda: Crop(size=0), "crop: size must be at least 1, not 0"),
        (lambda: Crop(border=-1), "crop: crop border must be at least 0, not -1"),
        (lambda: DepthwiseConv(multiplier=0), "dwconv: multiplier must be at least 1, not 0"),
        (lambda: GroupNorm(0), "groupnorm: groups must be at least 1, not 0"),
        (lambda: Chunk(0), "chunk: parts must be at least 1, not 0"),
        (lambda: Chunk(2, -1), "chunk: index must be at least 0, not -1"),
    ],
)
def test_a_value_below_its_least_is_refused_when_the_layer_is_made(make, message):
    """Each parameter's least value is declared once (layers.LIMITS) and checked as the
    layer is made, whatever kind declares a parameter of that name."""
    with pytest.raises(UsageError) as caught:
        make()
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("kind", "values", "message"),
    [
        (Conv, {"f": 2.5}, "conv: f must be a whole number, or one per dimension, not 2.5"),
        (Conv, {"f": True}, "conv: f must be a whole number, or one per dimension, not True"),
        (Conv, {"f": ()}, "conv: f must be a whole number, or one per dimension, not ()"),
        (Conv, {"filters": "8"}, "conv: filters must be a whole number, not '8'"),
        (Conv, {"pad": 1.5}, "conv: pad must be a number, a mode, or per dimension"),
        (Conv, {"pad": ((1, 2.5), 0)}, "conv: pad must be a number, a mode, or per dimension"),
        (MaxPool, {"ceil": 1}, "maxpool: ceil must be True or False, not 1"),
        (Dropout, {"p": "half"}, "dropout: p must be a finite number, not 'half'"),
        (Dropout, {"p": float("inf")}, "dropout: p must be a finite number, not inf"),
        (Unpool, {"mode": 2}, "unpool: mode must be a word, not 2"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_when_the_layer_is_made(kind, values, message):
    with pytest.raises(UsageError) as caught:
        kind(**values)
    assert str(caught.value).startswith(message)


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        pytest.param("conv", Conv, id="kind"),
        pytest.param("Conv2d", Conv, id="alias-any-case"),
        pytest.param("ConvTranspose", TConv, id="tconv-alias"),
        pytest.param("depthwise", DepthwiseConv, id="depthwise-alias"),
        pytest.param("bn", BatchNorm, id="bn-alias"),
        pytest.param("gap", GlobalAvgPool, id="gap-alias"),
        pytest.param("fully_connected", FC, id="fc-alias"),
        pytest.param("linear", Linear, id="linear-kind"),
        pytest.param("Dense", Linear, id="linear-alias"),
        pytest.param("relu", ReLU, id="activation"),
        pytest.param("hswish", Hardswish, id="activation-alias"),
    ],
)
def test_layer_class_resolves_kinds_and_aliases(name, cls):
    assert layer_class(name) is cls


@pytest.mark.parametrize("name", ["convolution3x3", "", "maxout"])
def test_unknown_layer_kind_is_a_usage_error(name):
    with pytest.raises(UsageError, match=f"unknown layer kind '{name}'"):
        layer_class(name)
