"""Our layers against PyTorch, the reference: for any geometry both raise or both agree.

PyTorch is never a dependency; this module is skipped where it is not installed. Run it
from a scratch environment that has torch, with the repository on PYTHONPATH:

    PYTHONPATH=. /tmp/torchenv/bin/python -m pytest tests/test_against_torch.py -q
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cnncalc.core.errors import CnnCalcError
from cnncalc.core.shapes import Shape
from cnncalc.kinds import AdaptiveAvgPool, AvgPool, Conv, MaxPool, TConv, Unpool

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ERRORS = (RuntimeError, ValueError)
few = settings(max_examples=60)


def ours_or_error(layer, x: Shape):
    """Our output spatial size and parameter count, or "raises" for a domain error."""
    try:
        out = layer.apply(x)
    except CnnCalcError:
        return "raises"
    return out.shape.spatial, out.shape.channels, out.params


def theirs_or_error(run, weight=None, bias_size=0):
    """PyTorch's output spatial size, channels and parameter count, or "raises"."""
    try:
        y = run()
    except TORCH_ERRORS:
        return "raises"
    params = 0 if weight is None else weight.numel() + bias_size
    return tuple(y.shape[2:]), y.shape[1], params


def per_dim(draw, ndim, values):
    return tuple(draw(values) for _ in range(ndim))


@st.composite
def convolutions(draw):
    """Any conv geometry, valid or not: small sizes so the kernel may not fit, any groups."""
    ndim = draw(st.integers(1, 3))
    top = (30, 14, 7)[ndim - 1]
    return dict(
        ns=per_dim(draw, ndim, st.integers(1, top)),
        fs=per_dim(draw, ndim, st.integers(1, 5)),
        ss=per_dim(draw, ndim, st.integers(1, 3)),
        pads=per_dim(draw, ndim, st.tuples(st.integers(0, 2), st.integers(0, 2))),
        ds=per_dim(draw, ndim, st.integers(1, 3)),
        groups=draw(st.integers(1, 3)),
        cin=draw(st.integers(1, 4)),
        cout=draw(st.integers(1, 4)),
    )


def _torch_pad(pads):
    """(before, after) per dimension to F.pad's order: last dimension first."""
    return tuple(v for before, after in reversed(pads) for v in (before, after))


@few
@given(convolutions())
@example(
    dict(ns=(7, 7), fs=(2, 2), ss=(2, 2), pads=((0, 0),) * 2, ds=(1, 1), groups=1, cin=3, cout=2)
)
@example(dict(ns=(5,), fs=(3,), ss=(1,), pads=((0, 0),), ds=(3,), groups=1, cin=1, cout=1))
@example(
    dict(ns=(4, 4), fs=(1, 1), ss=(1, 1), pads=((0, 0),) * 2, ds=(1, 1), groups=2, cin=4, cout=3)
)
def test_conv_agrees_with_torch(g):
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(g["ns"])]
    x = torch.zeros(1, g["cin"], *g["ns"])
    weight = torch.zeros(g["cout"], max(g["cin"] // g["groups"], 1), *g["fs"])
    bias = torch.zeros(g["cout"])

    def run():
        padded = F.pad(x, _torch_pad(g["pads"]))
        return conv(padded, weight, bias, g["ss"], 0, g["ds"], g["groups"])

    layer = Conv(g["cout"], g["fs"], g["ss"], g["pads"], g["ds"], g["groups"])
    assert ours_or_error(layer, Shape(g["ns"], g["cin"])) == theirs_or_error(run, weight, g["cout"])


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@few
@given(n=st.integers(1, 20), m=st.integers(1, 20), f=st.integers(1, 6), d=st.integers(1, 3))
def test_same_padding_with_unit_stride_agrees_with_torch(n, m, f, d):
    x = torch.zeros(1, 1, n, m)
    weight = torch.zeros(1, 1, f, f)
    theirs = F.conv2d(x, weight, padding="same", dilation=d).shape[2:]
    assert Conv(1, f, pad="same", dilation=d).apply(Shape((n, m), 1)).shape.spatial == theirs


@few
@given(
    n=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    f=st.integers(1, 5),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
    a=st.integers(0, 3),
    groups=st.integers(1, 2),
    cin=st.integers(1, 4),
    cout=st.integers(1, 4),
)
@example(n=(3, 3), f=3, s=2, p=1, d=1, a=1, groups=1, cin=1, cout=1)
@example(n=(3, 3), f=3, s=1, p=0, d=2, a=1, groups=1, cin=1, cout=1)
@example(n=(1, 1), f=1, s=1, p=1, d=1, a=0, groups=1, cin=1, cout=1)
def test_transposed_conv_agrees_with_torch(n, f, s, p, d, a, groups, cin, cout):
    x = torch.zeros(1, cin, *n)
    weight = torch.zeros(cin, max(cout // groups, 1), f, f)
    bias = torch.zeros(cout)

    def run():
        return F.conv_transpose2d(x, weight, bias, s, p, a, groups, d)

    layer = TConv(cout, f, s, p, d, a, groups)
    # torch infers the filters from the weight, so a non-dividing split cannot be built there
    theirs = "raises" if cin % groups or cout % groups else theirs_or_error(run, weight, cout)
    assert ours_or_error(layer, Shape(n, cin)) == theirs


@st.composite
def poolings(draw):
    return dict(
        n=draw(st.tuples(st.integers(1, 16), st.integers(1, 16))),
        f=draw(st.integers(1, 5)),
        s=draw(st.integers(1, 4)),
        p=draw(st.integers(0, 3)),
        d=draw(st.integers(1, 3)),
        ceil=draw(st.booleans()),
    )


@few
@given(poolings())
@example(dict(n=(5, 5), f=2, s=2, p=1, d=1, ceil=True))
@example(dict(n=(2, 2), f=3, s=2, p=0, d=1, ceil=True))
@example(dict(n=(2, 2), f=5, s=2, p=0, d=1, ceil=True))
@example(dict(n=(5, 5), f=2, s=2, p=2, d=1, ceil=False))
def test_max_pool_agrees_with_torch(g):
    x = torch.zeros(1, 2, *g["n"])

    def run():
        return F.max_pool2d(x, g["f"], g["s"], g["p"], g["d"], g["ceil"])

    layer = MaxPool(g["f"], g["s"], g["p"], g["d"], g["ceil"])
    assert ours_or_error(layer, Shape(g["n"], 2)) == theirs_or_error(run)


@few
@given(poolings())
@example(dict(n=(7, 7), f=3, s=2, p=1, d=1, ceil=True))
def test_avg_pool_agrees_with_torch(g):
    x = torch.zeros(1, 2, *g["n"])

    def run():
        return F.avg_pool2d(x, g["f"], g["s"], g["p"], g["ceil"])

    layer = AvgPool(g["f"], g["s"], g["p"], ceil=g["ceil"])
    assert ours_or_error(layer, Shape(g["n"], 2)) == theirs_or_error(run)


@few
@given(
    n=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    f=st.integers(1, 5),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
)
@example(n=(2, 2), f=2, s=2, p=0)
@example(n=(1, 1), f=1, s=1, p=1)
def test_max_unpool_agrees_with_torch(n, f, s, p):
    x = torch.zeros(1, 2, *n)
    indices = torch.zeros(1, 2, *n, dtype=torch.long)

    def run():
        return F.max_unpool2d(x, indices, f, s, p)

    layer = Unpool("max", f=f, stride=s, pad=p)
    assert ours_or_error(layer, Shape(n, 2)) == theirs_or_error(run)


@few
@given(n=st.integers(1, 40), m=st.integers(1, 40))
@example(n=5, m=3)
@example(n=2, m=3)
@example(n=13, m=6)
def test_adaptive_pool_receptive_field_is_its_widest_window(n, m):
    """Feed one-hot rows through torch's adaptive pooling to see each window's width."""
    seen = F.adaptive_avg_pool1d(torch.eye(n).reshape(n, 1, n), m)[:, 0, :] > 0
    widest = int(seen.sum(dim=0).max())
    (step,) = AdaptiveAvgPool(m).apply(Shape((n,), 1)).rf
    assert max(b - a + 1 for a, b, _ in map(step.span, range(step.up))) == widest


@few
@given(
    spatial=st.lists(st.integers(1, 6), max_size=3).map(tuple),
    c=st.integers(1, 8),
    out=st.integers(1, 8),
    bias=st.booleans(),
)
@example(spatial=(8, 8), c=3, out=10, bias=True)
def test_linear_agrees_with_nn_linear_on_a_channels_last_tensor(spatial, c, out, bias):
    """cnncalc's shape is spatial sizes then channels: a channels-last tensor, whose last
    dimension nn.Linear maps at every position; MACs from FlopCounterMode (2 FLOPs each)."""
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.kinds import Linear

    ours = Linear(out, bias).apply(Shape(spatial, c))
    layer = torch.nn.Linear(c, out, bias=bias)
    with FlopCounterMode(display=False) as counter:
        y = layer(torch.zeros(1, *spatial, c))
    assert (ours.shape.spatial, ours.shape.channels) == (tuple(y.shape[1:-1]), y.shape[-1])
    assert ours.params == sum(p.numel() for p in layer.parameters())
    assert ours.macs == counter.get_total_flops() // 2
