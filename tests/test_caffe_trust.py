"""Caffe files read as Caffe reads them, or refused with a located reason: issue 16's third
round. Every fixture is written here, small, for the construct it tests."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cnncalc.analysis.tracer import trace
from cnncalc.api import load
from cnncalc.cli import main
from cnncalc.core.errors import SpecError
from cnncalc.formats.caffe import load as load_text


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def write(tmp_path: Path, text: str, name: str = "net.prototxt") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def net(*layers: str, shape: str = "1 4 4 4") -> str:
    dims = " ".join(f"dim: {d}" for d in shape.split())
    data = (
        f'layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ {dims} }} }} }}'
    )
    return "\n".join(['name: "t"', data, *layers]) + "\n"


# --- 1. a layer left out of the trace never rewires the graph --------------------------------

IP = (
    'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" '
    "inner_product_param { num_output: 3 } }"
)


@pytest.mark.parametrize("kind", ["SoftmaxWithLoss", "Silence", "Accuracy", "EuclideanLoss"])
def test_a_left_out_layer_written_in_place_passes_its_bottom_through(tmp_path, kind):
    path = write(tmp_path, net(IP, f'layer {{ name: "x" type: "{kind}" bottom: "ip" top: "ip" }}'))
    traced = run("trace", path, "--format", "json")
    assert traced.exit_code == 0, traced.output
    assert json.loads(traced.stdout)["output"] == [3]
    converted = run("convert", path)
    assert converted.exit_code == 0, converted.output
    assert "output: 3\n" in converted.stdout


def test_a_left_out_layer_overwriting_a_traced_blob_is_refused(tmp_path):
    text = net(IP, 'layer { name: "acc" type: "Accuracy" bottom: "data" top: "ip" }')
    with pytest.raises(SpecError) as e:
        load(write(tmp_path, text))
    assert "Accuracy (not in a deploy trace): its top 'ip' overwrites the output" in str(e.value)


# --- 3. SegNet's Caffe files: BN, Upsample with a pooling mask, DenseImageData -------------


def block(name: str, bottom: str, filters: int, bn: bool = True) -> list[str]:
    layers = [
        f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}" '
        f"param {{ lr_mult: 1 }} convolution_param {{ num_output: {filters} pad: 1 "
        'kernel_size: 3 weight_filler { type: "msra" } } }'
    ]
    if bn:
        layers += [
            f'layer {{ name: "{name}_bn" type: "BN" bottom: "{name}" top: "{name}" '
            'bn_param { bn_mode: INFERENCE scale_filler { type: "constant" value: 1 } } }',
            f'layer {{ name: "relu_{name}" type: "ReLU" bottom: "{name}" top: "{name}" }}',
        ]
    return layers


ENCODER = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
DECODER = ((512, 512, 512), (512, 512, 256), (256, 256, 128), (128, 64), (64, 11))
UPSAMPLE = ("upsample_w: 30 upsample_h: 23 scale: 2", "upsample_w: 60 upsample_h: 45")
UPSAMPLE += ("scale: 2",) * 3


def segnet(data: str) -> str:
    """The layer structure of SegNet-Tutorial's segnet_inference.prototxt, generated."""
    layers, x = [data], "data"
    for stage, (filters, convs) in enumerate(ENCODER, 1):
        for i in range(1, convs + 1):
            layers += block(f"conv{stage}_{i}", x, filters)
            x = f"conv{stage}_{i}"
        layers.append(
            f'layer {{ name: "pool{stage}" type: "Pooling" bottom: "{x}" top: "pool{stage}" '
            f'top: "pool{stage}_mask" pooling_param {{ pool: MAX kernel_size: 2 stride: 2 }} }}'
        )
        x = f"pool{stage}"
    for stage, widths, upsample in zip(range(5, 0, -1), DECODER, UPSAMPLE):
        layers.append(
            f'layer {{ name: "upsample{stage}" type: "Upsample" bottom: "{x}" '
            f'top: "pool{stage}_D" bottom: "pool{stage}_mask" upsample_param {{ {upsample} }} }}'
        )
        x = f"pool{stage}_D"
        for i, filters in zip(range(len(widths), 0, -1), widths):
            layers += block(f"conv{stage}_{i}_D", x, filters, bn=(stage, i) != (1, 1))
            x = f"conv{stage}_{i}_D"
    layers.append('layer { name: "prob" type: "Softmax" bottom: "conv1_1_D" top: "prob" }')
    return 'name: "segnet"\n' + "\n".join(layers) + "\n"


DENSE = (
    'layer { name: "data" type: "DenseImageData" top: "data" top: "label" '
    'dense_image_data_param { source: "test.txt" batch_size: 1 } }'
)


def segnet_params() -> int:
    """By hand: 3x3 convolutions with bias; caffe-segnet's BN a scale and a shift per channel
    (2C, its only blobs); the last convolution to the 11 classes has no BN."""
    widths = [3] + [f for f, n in ENCODER for _ in range(n)]
    widths += [f for stage in DECODER for f in stage]
    convs = list(zip(widths, widths[1:]))
    return sum(9 * a * b + b for a, b in convs) + sum(2 * b for _, b in convs[:-1])


def test_segnet_figure_by_arithmetic():
    assert segnet_params() == 29_449_355


def test_segnets_inference_model_is_read_with_its_input_given(tmp_path):
    path = write(tmp_path, segnet(DENSE), "segnet_inference.prototxt")
    result = run("trace", path, "--input", "3x360x480", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["output"] == [11, 360, 480]
    assert data["totals"]["trainable_params"] == 29_449_355
    assert data["totals"]["non_trainable_params"] == 0
    # upsample5 max-unpools 12x15 back to the 23x30 that pool5 read (Caffe pools round up)
    rows = {row["name"]: row["output"] for row in data["layers"]}
    assert rows["pool5"] == [512, 12, 15] and rows["upsample5"] == [512, 23, 30]


def test_a_dense_image_data_without_a_size_asks_for_input(tmp_path):
    path = write(tmp_path, segnet(DENSE), "segnet_inference.prototxt")
    result = run("trace", path)
    assert result.exit_code == 2, result.output
    assert "DenseImageData reads its input's size from its images" in result.output
    assert "--input" in result.output


def test_a_dense_image_data_with_its_size_is_the_input(tmp_path):
    data = DENSE.replace("batch_size: 1", "batch_size: 1 new_height: 360 new_width: 480")
    result = run("trace", write(tmp_path, segnet(data)), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"] == [11, 360, 480]


def test_the_zoo_segnet_and_the_prototxt_agree(tmp_path):
    path = write(tmp_path, segnet(DENSE))
    rows = trace_rows(path, "--input", "3x360x480")
    zoo = trace_rows("segnet")
    assert sum(r["params"] for r in rows) == sum(r["params"] for r in zoo)
    assert sum(r["macs"] for r in rows) == sum(r["macs"] for r in zoo)


def trace_rows(*args: str) -> list[dict]:
    result = run("trace", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["layers"]


SMALL_SEGNET = net(
    *block("c1", "data", 4),
    'layer { name: "p1" type: "Pooling" bottom: "c1" top: "p1" top: "m1" '
    "pooling_param { pool: MAX kernel_size: 2 stride: 2 } }",
    'layer { name: "u1" type: "Upsample" bottom: "p1" bottom: "m1" top: "u1" '
    "upsample_param { scale: 2 } }",
    shape="1 3 5 6",
)


def test_a_small_segnet(tmp_path):
    # 5x6 pools to 3x3 (Caffe rounds up); scale 2 unpools 3x3 to 6x6, as Caffe sizes it
    result = run("trace", write(tmp_path, SMALL_SEGNET), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["output"] == [4, 6, 6]
    assert data["totals"]["trainable_params"] == 9 * 3 * 4 + 4 + 2 * 4


@pytest.mark.parametrize(
    "upsample, message",
    [
        ('bottom: "p1" bottom: "c1" top: "u1" upsample_param { scale: 2 }', "is not the mask"),
        ('bottom: "p1" top: "u1" upsample_param { scale: 2 }', "takes two bottoms"),
        ('bottom: "p1" bottom: "m1" top: "u1" upsample_param { }', "needs upsample_h"),
        (
            'bottom: "p1" bottom: "m1" top: "u1" upsample_param { scale: 2 pad_out_h: 1 }',
            "deprecated",
        ),
    ],
)
def test_an_upsample_caffe_cannot_run_is_refused(tmp_path, upsample, message):
    text = SMALL_SEGNET.replace(
        SMALL_SEGNET.splitlines()[-1], f'layer {{ name: "u1" type: "Upsample" {upsample} }}'
    )
    with pytest.raises(SpecError) as e:
        load(write(tmp_path, text))
    assert message in str(e.value)


def test_a_blob_whose_producer_was_refused_is_not_reported_missing(tmp_path):
    text = net(
        'layer { name: "x" type: "Mystery" bottom: "data" top: "x" }',
        'layer { name: "y" type: "ReLU" bottom: "x" top: "y" }',
        'layer { name: "z" type: "ReLU" bottom: "y" top: "z" }',
    )
    with pytest.raises(SpecError) as e:
        load(write(tmp_path, text))
    assert len(e.value.problems) == 1
    assert "'Mystery' is not one cnncalc can trace" in str(e.value)


# --- 4. pooling sized by Caffe's rule --------------------------------------------------------


def caffe_pooled(n: int, k: int, s: int, p: int) -> int | None:
    """pooling_layer.cpp's Reshape, transcribed: ceil, then with padding the last window must
    start strictly inside the image; CHECK_LT((pooled - 1) * stride, height + pad) or abort."""
    pooled = math.ceil((n + 2 * p - k) / s) + 1
    if p and (pooled - 1) * s >= n + p:
        pooled -= 1
    return pooled if (pooled - 1) * s < n + p else None


def pooled_by_cnncalc(n: int, k: int, s: int, p: int) -> int | None:
    text = net(
        f'layer {{ name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param {{ '
        f"pool: MAX kernel_size: {k} stride: {s} pad: {p} }} }}",
        shape=f"1 1 {n} {n}",
    )
    result = trace(load_text(text))
    if result.errors:
        assert "which Caffe refuses" in result.errors[0].message
        return None
    return result.output.spatial[0]


GRID = [
    (n, k, s, p)
    for k in range(1, 5)
    for s in range(1, 6)
    for p in range(k)
    for n in range(max(1, k - 2 * p), 13)
]


def test_pooling_follows_caffes_rule_on_a_grid():
    differ = [c for c in GRID if pooled_by_cnncalc(*c) != caffe_pooled(*c)]
    assert not differ, differ[:10]
    assert pooled_by_cnncalc(8, 2, 3, 0) == 3  # every window fits: no longer refused
    assert pooled_by_cnncalc(8, 1, 3, 0) is None  # a last window at 9, past 8


# --- 5. a channels-last --input on a channels-first file --------------------------------------

CONV1 = net(
    'layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" '
    "convolution_param { num_output: 64 kernel_size: 7 stride: 2 pad: 3 } }",
    shape="1 3 224 224",
)


def test_a_channels_last_input_on_a_caffe_file_gets_the_layout_hint_first(tmp_path):
    result = run("trace", write(tmp_path, CONV1), "--input", "224x224x3")
    assert result.stderr.startswith(
        "warning: --input 224x224x3 looks channels-last (3 channels of 224x224), but is read "
        "as CxHxW (224 channels); write it 3x224x224"
    )
    quiet = run("trace", write(tmp_path, CONV1), "--input", "3x299x299")
    assert "warning" not in quiet.stderr


# --- 8. bounded: every reader linear, with caps that answer clearly ----------------------------


def test_a_long_number_followed_by_a_letter_fails_at_once():
    from cnncalc.formats.prototext import parse

    with pytest.raises(SpecError) as e:
        parse("a: " + "1" * 200_000 + "x")  # quadratic backtracking took 24 s for 12,000
    assert "is not a number" in str(e.value)


def test_did_you_mean_is_looked_for_a_bounded_number_of_times(tmp_path):
    from cnncalc.formats.kit import MAX_HINTS

    relus = [f'layer {{ name: "r{i}" type: "ReLU" bottom: "data" top: "b{i}" }}' for i in range(50)]
    wrong = [
        f'layer {{ name: "x{i}" type: "ReLU" bottom: "b{i}x" top: "c{i}" }}' for i in range(50)
    ]
    with pytest.raises(SpecError) as e:
        load(write(tmp_path, net(*relus, *wrong)))
    hinted = [p for p in e.value.problems if "did you mean" in p.message]
    assert len(e.value.problems) == 50 and len(hinted) == MAX_HINTS
    assert "(did you mean 'b0'?)" in hinted[0].message


def test_did_you_mean_among_thousands_of_names_compares_few():
    from cnncalc.formats.kit import did_you_mean

    names = [f"blob{i}" for i in range(20_000)]
    assert did_you_mean("blob7x", names) == " (did you mean 'blob7'?)"


def test_too_many_layers_is_one_clear_problem(tmp_path):
    from cnncalc.formats.kit import MAX_LAYERS

    relus = [
        f'layer {{ name: "r{i}" type: "ReLU" bottom: "data" top: "data" }}'
        for i in range(MAX_LAYERS)
    ]
    result = run("trace", write(tmp_path, net(*relus)))
    assert result.exit_code == 1
    assert f"{MAX_LAYERS + 1:,} layers: cnncalc reads at most {MAX_LAYERS:,}" in result.output


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path):
    from cnncalc.formats.kit import MAX_SOURCE_BYTES

    path = write(tmp_path, net() + "#" * MAX_SOURCE_BYTES)
    result = run("trace", path)
    assert result.exit_code == 2
    assert "cnncalc reads files of this format up to 1,048,576 bytes" in result.output


# --- 9. one rule for each: undecodable input, a byte-order mark, what convert writes --------

TEXTS = {
    "net.cfg": "[net]\nheight=8\nwidth=8\nchannels=3\n[convolutional]\nfilters=4\nsize=3\n",
    "net.prototxt": net(IP),
    "net.yaml": "input: 8x8x3\nlayers: [conv 4 f3]\n",
}


@pytest.mark.parametrize("name", sorted(TEXTS))
@pytest.mark.parametrize(
    "bad, message", [(b"\0", "is a binary file"), (b"\xff", ":2:1: byte 0xff is not UTF-8 text")]
)
def test_undecodable_input_exits_2_in_every_reader(tmp_path, name, bad, message):
    text = TEXTS[name].encode()
    first = text.index(b"\n") + 1
    path = tmp_path / name
    path.write_bytes(text[:first] + bad + text[first:])
    result = run("trace", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_a_byte_order_mark_is_read_in_every_reader(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + TEXTS[name].encode())
    result = run("trace", str(path))
    assert result.exit_code == 0, result.output


def test_a_split_whose_tops_are_unread_traces_and_converts(tmp_path):
    text = net(IP, 'layer { name: "s" type: "Split" bottom: "ip" top: "s1" top: "s2" }')
    path = write(tmp_path, text)
    traced = json.loads(run("trace", path, "--format", "json").stdout)
    assert traced["output"] == [3] and "outputs" not in traced
    converted = run("convert", path)
    assert converted.exit_code == 0, converted.output
    assert "output: 3\n" in converted.stdout


def test_a_network_that_is_only_its_input_traces_and_converts(tmp_path):
    path = write(tmp_path, net())
    traced = run("trace", path, "--format", "json")
    assert json.loads(traced.stdout)["output"] == [4, 4, 4]
    converted = run("convert", path)
    assert converted.exit_code == 0, converted.output
    assert "layers: []\n" in converted.stdout
    spec = tmp_path / "back.yaml"
    spec.write_text(converted.stdout)
    assert run("check", str(spec)).exit_code == 0
