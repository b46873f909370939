"""Specs traced into rows: shapes and counts checked against hand computations.

Each expected number is worked out in the comment beside it, from the layer
formulas (weights = K * C_in/G * F^2, bias K, batch norm 2C; MACs = output
positions * weights), not copied from cnncalc's output.
"""

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.analysis.tracer import expectation_problems, fold, trace
from cnncalc.core.notation import format_shape
from cnncalc.core.shapes import Shape
from cnncalc.formats.inline import load_inline
from cnncalc.formats.spec import load_spec
from cnncalc.kinds import Conv, MaxPool


def traced(text: str):
    return trace(load_spec(textwrap.dedent(text), "test.yaml"))


def row(t, name):
    return next(r for r in t.rows if r.name == name)


def test_plain_cnn_inline():
    t = trace(load_inline("32x32x3 | conv 10 f5 p2 | relu | pool f2 s2 | fc 10 | softmax"))
    assert [format_shape(r.output) for r in t.rows] == ["32x32x10"] * 2 + ["16x16x10", "10", "10"]
    assert [r.params for r in t.rows] == [760, 0, 0, 2560 * 10 + 10, 0]
    assert [r.macs for r in t.rows] == [32 * 32 * 10 * 3 * 25, 0, 0, 25600, 0]
    totals = t.totals()
    assert (totals.params, totals.macs) == (760 + 25610, 768_000 + 25_600)
    # receptive field: 5 after the conv; the 2x2/2 pool adds 1 -> 6, jump 2;
    # the fc sees the whole 16x16 map: 6 + 15 * 2 = 36
    assert row(t, "conv1").rf == (5, 5)
    assert (row(t, "pool1").rf, row(t, "pool1").jump) == ((6, 6), (2, 2))
    assert row(t, "fc1").rf == (36, 36)


INCEPTION_3A = """
    name: inception-3a
    input: 28x28x192
    layers:
      - concat:
          - [conv 64 f1, relu]
          - [conv 96 f1, relu, conv 128 f3 p1, relu]
          - [conv 16 f1, relu, conv 32 f5 p2, relu]
          - [maxpool f3 s1 p1, conv 32 f1, relu]
        name: inception3a
"""


def test_inception_module():
    t = traced(INCEPTION_3A)
    merge = row(t, "inception3a")
    assert merge.kind == "concat"
    assert format_shape(merge.output) == "28x28x256"  # 64 + 128 + 32 + 32
    assert merge.inputs == tuple(f"inception3a.{i}" for i in range(4))
    # 192*64+64 + (192*96+96 + 96*128*9+128) + (192*16+16 + 16*32*25+32) + 192*32+32
    assert t.totals().params == 12352 + 129248 + 15920 + 6176 == 163_696
    assert t.totals().macs == 28 * 28 * (12288 + 18432 + 110592 + 3072 + 12800 + 6144)


RESIDUAL = """
    input: 56x56x64
    blocks:
      shortcut:
        args: {c: null, stride: 1}
        layers: [conv c f1 s=stride nobias, bn]
      basic:
        args: {c: null, stride: 1, project: false}
        layers:
          - add:
              - [conv c f3 s=stride p1 nobias, bn, relu, conv c f3 p1 nobias, bn]
              - if: project  # left out, the branch is the identity
                shortcut: {c: c, stride: stride}
            name: add
          - relu
    layers:
      - basic: {c: %s, stride: %s, project: %s}
        name: block
"""


def test_residual_block_without_projection():
    t = traced(RESIDUAL % (64, 1, "false"))
    # two 3x3 convs 64->64 without bias and two batch norms: ResNet-18's layer1.0
    assert t.totals().params == 2 * 64 * 64 * 9 + 2 * 2 * 64 == 73_984
    assert t.totals().buffers == 2 * 2 * 64
    assert format_shape(t.output) == "56x56x64"
    assert row(t, "block.add").inputs == ("block.add.0", "block.add.1")


def test_residual_block_with_projection():
    t = traced(RESIDUAL % (128, 2, "true"))
    # 64*128*9 + 128*128*9 + 2 bn(128) + projection 64*128 + bn(128): ResNet-18's layer2.0
    assert t.totals().params == 73728 + 147456 + 512 + 8192 + 256 == 230_144
    assert format_shape(t.output) == "28x28x128"


def test_residual_add_without_projection_fails_with_a_reason():
    t = traced(RESIDUAL % (128, 2, "false"))
    assert not t.ok
    (problem,) = t.errors
    assert problem.path == "block.add"
    assert "rows differ: 28 vs 56" in problem.message
    assert "branch 0 gives 28x28x128, branch 1 gives 56x56x64" in problem.message
    assert t.rows[-1].error == problem.message


DENSE = """
    input: 56x56x64
    blocks:
      dense_layer:
        args: {growth: 32}
        layers:
          - concat:
              - identity
              - [bn, relu, conv 4*growth f1 nobias, bn, relu, conv growth f3 p1 nobias]
    layers:
      - repeat: 2
        name: block
        layers: [dense_layer]
"""


def test_dense_block_concatenates_with_its_input():
    t = traced(DENSE)
    assert format_shape(t.shapes["block.0"]) == "56x56x96"
    assert format_shape(t.output) == "56x56x128"
    # layer 1: bn(64) 128, 1x1 64->128 8192, bn(128) 256, 3x3 128->32 36864
    # layer 2: bn(96) 192, 1x1 96->128 12288, bn(128) 256, 3x3 128->32 36864
    assert t.totals().params == 45_440 + 49_600


UNET = """
    input: 572x572x1
    blocks:
      double: {args: [c], layers: [conv c f3, relu, conv c f3, relu]}
    layers:
      - double: 64
        name: enc1
      - maxpool f2
      - double: 128
        name: enc2
      - maxpool f2
      - double: 256
      - tconv 128 f2 s2 name=up2
      - concat: [identity, [from enc2, crop to=up2]]
      - double: 128
      - tconv 64 f2 s2 name=up1
      - concat: [identity, [from enc1, crop to=up1]]
      - conv 2 f1
    expect:
      output: 536x536x2
      shapes: {enc1: 568x568x64, enc2: 280x280x128, concat1: 272x272x256}
"""


def test_unet_skip_with_crop():
    t = traced(UNET)
    assert t.ok and expectation_problems(t) == []
    assert format_shape(row(t, "concat1.1.crop1").output) == "272x272x128"  # 280 cropped to 272
    assert format_shape(row(t, "concat2.1.crop1").output) == "536x536x64"  # 568 cropped to 536
    # 640 + 36928 + 73856 + 147584 + 295168 + 590080 (down), tconv 256*128*4+128,
    # 256*128*9+128 + 147584, tconv 128*64*4+64, 1x1 128*2+2
    assert t.totals().params == 1_144_256 + 131_200 + 295_040 + 147_584 + 32_832 + 258


def test_expectations_report_each_mismatch_with_its_position():
    spec = (
        UNET.replace("output: 536x536x2", "output: 388x388x2").replace(
            "enc2: 280x280x128", "enc2: 281x280x128"
        )
        + "      params: 7\n"
    )
    t = traced(spec)
    problems = expectation_problems(t)
    messages = [p.message for p in problems]
    assert messages == [
        "expected output 388x388x2, got 536x536x2",
        f"expected 7 parameters, got {t.totals().params:,}",
        "expected enc2 to be 281x280x128, got 280x280x128",
    ]
    assert problems[0].pos.line == 20


def test_repeat_without_the_index_is_stored_once_and_traced_each_time():
    net = load_spec("input: 8x8x4\nlayers:\n  - repeat: 1000\n    layers: [conv 4 f3 p1, relu]\n")
    assert len({id(node.layer) for node in net.graph.nodes}) == 2  # one conv, one relu
    t = trace(net)
    assert len(t.rows) == 2000
    assert t.rows[-1].name == "repeat1.999.relu1"
    assert t.rows[-1].rf == (2001, 2001)  # each 3x3 conv adds 2


def test_repeat_using_the_index_builds_each_iteration():
    net = load_spec(
        "input: 64x64x4\nlayers:\n  - repeat: 3\n    name: stage\n"
        "    layers: ['conv 8 f3 p1 s=(2 if i == 0 else 1)']\n"
    )
    t = trace(net)
    assert [format_shape(r.output) for r in t.rows] == ["32x32x8"] * 3
    assert [r.name for r in t.rows] == ["stage.0", "stage.1", "stage.2"]


def test_fold_sums_each_block_into_one_row():
    t = traced(DENSE)
    (folded,) = fold(t, 1)
    assert folded.name == "block" and folded.kind == "repeat"
    assert folded.params == t.totals().params
    assert folded.output == t.output
    assert [r.name for r in fold(t, 2)] == ["block.0", "block.1"]


def test_fold_makes_one_row_of_a_merge_and_its_branches():
    """The merge's own row ends its branches' group: one row named once, the merge's output,
    the branches' counts, every output's memory (it once printed 'pair' twice, the first row
    with a branch's shape under the merge's kind)."""
    t = traced(
        "input: 8x8x3\nlayers:\n  - concat:\n      - [conv 4 f3 p1, relu]\n"
        "      - [conv 4 f3 p1, relu]\n    name: pair\n  - conv 2 f1\n"
    )
    pair, conv = fold(t, 1)
    assert (pair.name, pair.kind, pair.output) == ("pair", "concat", Shape((8, 8), 8))
    assert pair.params == 2 * (4 * 3 * 9 + 4)
    assert pair.activations == sum(r.activations for r in t.rows if r.name.startswith("pair"))
    assert conv.name == "conv1"


def test_tensorflow_and_caffe_conventions_change_defaults():
    tf = load_spec("input: 7x7x3\nconvention: tensorflow\nlayers: [conv 4 f3 s2, maxpool f2]\n")
    caffe = load_spec("input: 7x7x3\nconvention: caffe\nlayers: [maxpool f2]\n")
    assert [format_shape(r.output) for r in trace(tf).rows] == ["4x4x4", "2x2x4"]  # ceil(7/2)
    assert format_shape(trace(caffe).output) == "4x4x3"  # ceil((7-2)/2) + 1


def test_chw_layout_reads_and_checks_channels_first():
    t = trace(
        load_spec("input: 3x32x32\nlayout: chw\nlayers: [conv 8 f3]\nexpect: {output: 8x30x30}\n")
    )
    assert t.output == Shape((30, 30), 8)
    assert expectation_problems(t) == []


@given(
    n=st.integers(8, 64),
    c=st.integers(1, 8),
    layers=st.lists(
        st.tuples(st.sampled_from(["conv", "pool"]), st.integers(1, 16), st.integers(1, 3)),
        min_size=1,
        max_size=6,
    ),
)
def test_a_traced_sequence_equals_applying_each_layer(n, c, layers):
    """Both raise or both agree: the tracer adds nothing to the layers' own arithmetic."""
    parts = [f"{n}x{n}x{c}"]
    direct = []
    for kind, k, s in layers:
        if kind == "conv":
            parts.append(f"conv {k} f3 s{s} p1")
            direct.append(Conv(k, 3, s, 1))
        else:
            parts.append(f"maxpool f2 s{s}")
            direct.append(MaxPool(2, s))
    t = trace(load_inline(" | ".join(parts)))
    x, params, macs = Shape((n, n), c), 0, 0
    try:
        for layer in direct:
            out = layer.apply(x)
            x, params, macs = out.shape, params + (out.params or 0), macs + (out.macs or 0)
    except ValueError:
        assert not t.ok
        return
    assert t.ok and t.output == x
    assert (t.totals().params, t.totals().macs) == (params, macs)
    assert t.totals().params == sum(r.params for r in t.rows)


@pytest.mark.parametrize(
    "text, line, column, message",
    [
        (
            "input: 32x32x3\nlayers:\n  - conv 16 f3\n  - reluu\n",
            4,
            5,
            "unknown layer kind 'reluu' (did you mean 'relu'?)",
        ),
        (
            "input: 32x32x3\nlayers:\n  - conv: {filters: 16, kernel: 3}\n",
            3,
            25,
            "conv has no parameter 'kernel'",
        ),
        ("input: 32x32x3\nlayers:\n  - conv 16 stirde=2\n", 3, 13, "did you mean 'stride'?"),
        (
            "input: 32x32x3\nblocks:\n  a: {layers: [b]}\n  b: {layers: [a]}\nlayers:\n  - a\n",
            4,
            16,
            "block 'a' calls itself (a -> b -> a)",
        ),
        (
            "input: 32x32x3\nblocks:\n  unit: {layers: [relu]}\nlayers:\n  - unti\n",
            5,
            5,
            "did you mean 'unit'?",
        ),
        ("input: 32x32x3\nlayers:\n  - repeat: 100000000\n    layers: [relu]\n", 3, 13, "absurd"),
        (
            "input: 32x32x3\nlayers:\n  - conv 8 name=a\n  - conv 8 name=a\n",
            4,
            17,  # at the second name
            "duplicate name 'a'",
        ),
        (
            "input: 32x32x3\nlayer:\n  - conv 8\n",
            2,
            1,
            "unknown key 'layer' (did you mean 'layers'?)",
        ),
        (
            "input: 32x32x3\nblocks:\n  u: {args: {c: 4}, layers: [conv cc*2]}\nlayers: [u]\n",
            3,
            35,
            "unknown name 'cc' (did you mean 'c'?)",
        ),
        (
            "input: 32x32x3\nlayers:\n  - conv: {filters: sixteen}\n",
            3,
            12,
            "filters must be a whole number",
        ),
        ("layers: [relu]\n", 1, 1, "no input shape"),
        ("input: 32x32x3\nlayers:\n  - conv 3\n - relu\n", 4, 2, "bad YAML"),
        (
            "input: 32x32x3\nblocks:\n  u: {args: {c: null}, layers: [conv c]}\nlayers: [u]\n",
            4,
            10,
            "block 'u' needs c",
        ),
    ],
    ids=[
        "unknown-kind",
        "unknown-param",
        "misspelt-shorthand-param",
        "recursive-block",
        "unknown-block",
        "absurd-repeat",
        "duplicate-name",
        "unknown-top-key",
        "unknown-name-in-expression",
        "wrong-type",
        "no-input",
        "bad-yaml",
        "missing-argument",
    ],
)
def test_spec_errors_point_at_the_offending_place(text, line, column, message):
    from cnncalc.core.errors import SpecError

    with pytest.raises(SpecError) as caught:
        load_spec(text, "bad.yaml")
    found = [(p.pos.line, p.pos.column, p.message) for p in caught.value.problems]
    assert any((ln, col) == (line, column) and message in m for ln, col, m in found), found


def test_all_problems_of_a_spec_are_reported_at_once():
    from cnncalc.core.errors import SpecError

    with pytest.raises(SpecError) as caught:
        load_spec(
            "input: 32x32x3\nlayers:\n  - reluu\n  - conv: {filters: 1, kernl: 3}\n  - cnv 3\n"
        )
    assert [p.pos.line for p in caught.value.problems] == [3, 4, 5]


@pytest.mark.parametrize(
    "text, path, message",
    [
        (
            "input: 32x32x3\nlayers:\n  - conv 8 name=a\n  - from b\n",
            "from1",
            "no layer named 'b' is defined before here",
        ),
        (
            "input: 56x56x64\nlayers:\n  - add: [[conv 256 f1], identity]\n",
            "add1",
            "56x56x256 and 56x56x64 differ in channels — the shortcut needs a projection",
        ),
        (
            "input: 4x4x3\nlayers:\n  - conv 8 f3\n  - conv 8 f3\n  - relu\n",
            "conv2",
            "kernel extent 3 is larger than the padded input 2",
        ),
        ("input: 8x8x3\nlayers:\n  - maxpool f2 pad=3\n", "maxpool1", "more than half the kernel"),
    ],
    ids=["undefined-reference", "add-needs-projection", "kernel-too-large", "pool-padding"],
)
def test_trace_errors_keep_the_rows_so_far_and_mark_the_failing_one(text, path, message):
    t = trace(load_spec(text, "bad.yaml"))
    (problem,) = t.errors
    assert problem.path == path and message in problem.message
    assert t.rows[-1].name == path and t.rows[-1].error == problem.message
    assert t.output is None


def test_shorthand_keys_yield_to_a_kinds_own_parameter():
    t = trace(load_inline("8x8x3 | conv 4 f3 s=2 p=1 | dropout p=0.2"))
    assert t.ok and format_shape(t.output) == "4x4x4"  # s= and p= are stride and pad for conv
    assert t.rows[-1].kind == "dropout"  # ...but p= is dropout's own probability


@pytest.mark.parametrize("kind", ["conv 8 f3", "maxpool f2", "gavgpool", "upsample 2", "zeropad 1"])
def test_a_spatial_layer_after_fc_is_an_error(kind):
    t = trace(load_inline(f"8x8x3 | fc 10 | {kind}"))
    (problem,) = t.errors
    assert "is flat (after fc or flatten)" in problem.message and problem.path.endswith("1")


@pytest.mark.parametrize(
    "inline, column, message",
    [
        ("32x32x3 | conv 8 f3 p-1", 21, "a second bare value 'p-1' (the first is 8)"),
        ("32x32x3 | repeat 3", 11, "repeat is written as a mapping in a spec file, not inline"),
        ("32x32x3 | conv (8", 16, "filters must be a whole number, not '(8'"),
    ],
    ids=["second-bare-value", "repeat-inline", "unclosed-bracket"],
)
def test_inline_mistakes_are_named_where_they_are(inline, column, message):
    from cnncalc.core.errors import SpecError

    with pytest.raises(SpecError) as caught:
        load_inline(inline)
    (problem,) = caught.value.problems
    assert problem.pos.column == column and message in problem.message


def test_a_conv_without_filters_in_a_spec_is_an_error():
    (problem,) = trace(load_inline("32x32x3 | conv f3")).errors
    assert problem.message == "conv: how many filters? (e.g. conv 64)"
