"""Every layer kind, one module per family, each kind declared once with all it knows (shape
rule, parameters, MACs and what they are, receptive-field step, worked formula); the
registry by kind name and alias.

``REGISTRY["conv"]`` is :class:`Conv`; reading the registry, or a kind from this package,
imports every family (``FAMILIES``), and a kind's own module only its family.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .base import (
    ALIASES,
    FAMILIES,
    FRAMEWORKS,
    LIMITS,
    PARAMETER_TYPES,
    REGISTRY,
    Formula,
    Layer,
    Line,
    Outcome,
    Parameter,
    RFStep,
    Worked,
    layer_class,
    register,
)

if TYPE_CHECKING:
    from .dense import FC, Attention, Linear
    from .detection import Head
    from .joins import Add, Concat, Join, Max, Mean, Mul, Prod, Shortcut
    from .normalisation import LRN, BatchNorm, GroupNorm, LayerNorm, LayerScale, Scale, StatsNorm
    from .pointwise import (
        GELU,
        Dropout,
        DropPath,
        Hardsigmoid,
        Hardswish,
        Identity,
        LeakyReLU,
        Mish,
        PReLU,
        ReLU,
        ReLU6,
        Sigmoid,
        SiLU,
        Softmax,
        Tanh,
    )
    from .reshaping import Chunk, Crop, Flatten, Reorg, Shuffle, ZeroPad
    from .windows import (
        PAD_WORDS,
        UNPOOL_MODES,
        UPSAMPLE_MODES,
        AdaptiveAvgPool,
        AvgPool,
        Conv,
        DepthwiseConv,
        GlobalAvgPool,
        GlobalMaxPool,
        GlobalPool,
        MaxPool,
        Pool,
        TConv,
        Unpool,
        Upsample,
    )


def __getattr__(name: str) -> Any:
    """A kind's class (or a family's constant) from the module of its family, imported
    with the others at the first such question (see ``REGISTRY``)."""
    for family in FAMILIES:
        module = import_module(f"cnncalc.kinds.{family}")
        if name in vars(module):
            return vars(module)[name]
    raise AttributeError(f"module 'cnncalc.kinds' has no attribute {name!r}")


__all__ = [
    "ALIASES",
    "FRAMEWORKS",
    "LIMITS",
    "PARAMETER_TYPES",
    "REGISTRY",
    "Formula",
    "Layer",
    "Line",
    "Outcome",
    "Parameter",
    "RFStep",
    "Worked",
    "layer_class",
    "register",
    "FC",
    "Attention",
    "Linear",
    "Head",
    "Add",
    "Concat",
    "Join",
    "Max",
    "Mean",
    "Mul",
    "Prod",
    "Shortcut",
    "LRN",
    "BatchNorm",
    "GroupNorm",
    "LayerNorm",
    "LayerScale",
    "Scale",
    "StatsNorm",
    "GELU",
    "Dropout",
    "DropPath",
    "Hardsigmoid",
    "Hardswish",
    "Identity",
    "LeakyReLU",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "Sigmoid",
    "SiLU",
    "Softmax",
    "Tanh",
    "Chunk",
    "Crop",
    "Flatten",
    "Reorg",
    "Shuffle",
    "ZeroPad",
    "PAD_WORDS",
    "UNPOOL_MODES",
    "UPSAMPLE_MODES",
    "AdaptiveAvgPool",
    "AvgPool",
    "Conv",
    "DepthwiseConv",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "GlobalPool",
    "MaxPool",
    "Pool",
    "TConv",
    "Unpool",
    "Upsample",
]
