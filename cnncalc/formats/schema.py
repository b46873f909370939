"""A JSON Schema of the spec format, so editors can complete and check spec files as they are
typed (the VS Code YAML extension reads draft-07 best).

It is generated from the layer registry and the spec reader's own key lists, so a new layer
kind, alias or parameter appears in it without anyone editing it, and a new parameter type
or top-level key that it does not know yet fails loudly instead of drifting. It can only be
looser than the reader where a name is defined by the spec itself: any unknown item key may
be the name of a block, and any string may be an expression on block arguments.
"""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

from cnncalc.core.shapes import PAD_MODES
from cnncalc.graph import TASKS
from cnncalc.kinds import ALIASES, FRAMEWORKS, REGISTRY, Layer, Parameter

SCHEMA_ID = "https://cnncalc.dev/schema/spec.json"

Schema = dict[str, Any]

"""Names of layers and items, as the reader checks them."""
_REPEAT_KEYS = ("repeat", "layers", "as")

_WHOLE: Schema = {"type": ["integer", "string"], "minimum": 0, "minLength": 1}
"""A whole number, or text: notation such as 3x5, or an expression."""
_PER_DIMENSION: Schema = {**_WHOLE, "type": ["integer", "string", "array"], "minItems": 1}

PARAMETER_SCHEMAS: dict[str, tuple[Schema, str]] = {
    "int": (_WHOLE, "a whole number, or an expression on block arguments such as c * 4"),
    "Dims": (
        {**_PER_DIMENSION, "items": _WHOLE},
        "a whole number, one per dimension (3x5, or a list), or an expression",
    ),
    "PadSpec": (
        {
            **_PER_DIMENSION,
            "items": {**_PER_DIMENSION, "minItems": 2, "maxItems": 2, "items": _WHOLE},
            "examples": list(PAD_MODES),
        },
        f"a number, a mode ({', '.join(PAD_MODES)}), before:after (0:1), "
        "one per dimension (1x2, 0:1x1, or a list), or an expression",
    ),
    "bool": (
        {"type": ["boolean", "string"], "minLength": 1},
        "true or false, or a condition such as stride != 1",
    ),
    "float": ({"type": ["number", "string"], "minLength": 1}, "a number, or an expression"),
    "Numbers": (
        {"type": ["array", "string"], "minItems": 1, "items": {"type": ["number", "string"]}},
        "a list of numbers, such as one per branch",
    ),
    "str": ({"type": "string", "minLength": 1}, "a word"),
}
"""The JSON types of each of the layers' PARAMETER_TYPES as a spec writes them, as the reader
converts them; strings are always allowed, since any value can be an expression."""

_SHAPE: Schema = {
    "type": ["integer", "string", "array"],
    "minimum": 1,
    "pattern": r"^\s*\d+(\s*[xX]\s*\d+)*\s*$",
    "minItems": 1,
    "items": {"type": "integer", "minimum": 1},
}

_COUNT: Schema = {"type": ["integer", "string"], "minimum": 0, "pattern": r"^\s*\d+(_\d+)*\s*$"}
"""A total: a whole number, or text such as 31_030_658 (which YAML 1.2 reads as text)."""


def spec_schema() -> Schema:
    """The JSON Schema (draft-07) of a spec file: top-level keys, items, blocks, expect."""
    from cnncalc.formats.language import (
        EXPECT_KEYS,
        ITEM_KEYS,
        KEYWORDS,
        NAME_PATTERN,
        SHORT,
        TOP_KEYS,
    )

    expectations: dict[str, Schema] = {
        "output": {
            "anyOf": [_SHAPE, {"type": "object", "additionalProperties": _SHAPE}],
            "description": "the output shape, or of each of several outputs by name",
        },
        "params": {
            **_COUNT,
            "description": "total parameters, trainable and frozen (shared weights once)",
        },
        "trainable": {**_COUNT, "description": "total trainable parameters (not frozen)"},
        "macs": {**_COUNT, "description": "total multiply-accumulates"},
        "shapes": {
            "type": "object",
            "description": "output shapes of named layers, by full name",
            "additionalProperties": _SHAPE,
        },
    }
    top: dict[str, Schema] = {
        "name": {"type": "string", "description": "the network's name, shown by trace and check"},
        "description": {"type": "string", "description": "one line about the network"},
        "task": {
            "enum": list(TASKS),
            "description": "what the network does; cnncalc zoo list groups by it",
        },
        "origin": {
            "type": "string",
            "description": "where the architecture comes from: torchvision, BVLC Caffe, paper",
        },
        "input": {
            **_SHAPE,
            "description": "the input shape: 224x224x3 (H x W x C, or C x H x W with layout "
            "chw), a list, or one number for a flat feature vector",
        },
        "layout": {
            "enum": ["hwc", "chw"],
            "default": "hwc",
            "description": "order of the sizes in input and expect: channels last or first",
        },
        "convention": {
            "enum": list(FRAMEWORKS),
            "default": "pytorch",
            "description": "a framework's defaults: tensorflow pads SAME, caffe pools in ceil mode",
        },
        "blocks": {
            "type": "object",
            "description": "reusable blocks, called like layers by their name",
            "propertyNames": {"not": {"enum": [*REGISTRY, *ALIASES, *KEYWORDS]}},
            "additionalProperties": {"$ref": "#/definitions/block"},
        },
        "layers": {"$ref": "#/definitions/layers"},
        "outputs": {
            "type": ["array", "string"],
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "uniqueItems": True,
            "description": "the named layers whose outputs are the network's (several heads)",
        },
        "expect": {
            "type": "object",
            "description": "what cnncalc check verifies",
            "properties": {key: expectations[key] for key in EXPECT_KEYS},
            "additionalProperties": False,
        },
    }
    joins = {kind: cls for kind, cls in REGISTRY.items() if cls.joins}
    merge_keys = [*joins, *(alias for alias, kind in ALIASES.items() if kind in joins)]
    item_keys: dict[str, Schema] = {
        "name": {
            "type": "string",
            "pattern": NAME_PATTERN,
            "description": "the item's name (ASCII letters, digits, _ and -)",
        },
        "if": {
            "type": ["boolean", "integer", "string"],
            "description": "keep the item only where this expression is true",
        },
        "shares": {
            "type": "string",
            "minLength": 1,
            "description": "apply the weights of this earlier layer (or, for a block call, "
            "repeat or merge, of the layer at the same place in this earlier one): parameters "
            "counted once, MACs each time",
        },
        "frozen": {
            "type": ["boolean", "string"],
            "description": "the parameters of this layer (every layer inside, for a block "
            "call, repeat or merge) are not trained: counted as frozen, not trainable",
        },
        "repeat": {
            **_WHOLE,
            "description": "how many times to repeat layers; i counts from 0",
        },
        "layers": {"$ref": "#/definitions/layers"},
        "as": {
            "type": "string",
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
            "description": "the name of the repeat's counter, instead of i",
        },
        **{kind: _branches(cls) for kind, cls in joins.items()},
        "from": {
            "type": "string",
            "minLength": 1,
            "description": "continue from the output of an earlier named layer",
        },
        **{
            kind: {"$ref": f"#/definitions/kind-{kind}"}
            for kind, cls in REGISTRY.items()
            if not cls.joins
        },
    }
    item_keys.update({alias: item_keys[kind] for alias, kind in ALIASES.items()})
    for cls in joins.values():  # each merge's own are checked with its branches (_merge_schema)
        for name in cls.parameters:
            item_keys.setdefault(name, {"description": f"{cls.kind}'s {name}, beside its branches"})
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "cnncalc spec",
        "description": "A network described once, for cnncalc trace and check "
        "(the language: docs/spec.md)",
        "type": "object",
        "properties": {key: top[key] for key in TOP_KEYS},
        "required": ["input", "layers"],
        "additionalProperties": False,
        "definitions": {
            "layers": {
                "type": "array",
                "description": "layers applied one after another",
                "items": {"$ref": "#/definitions/item"},
            },
            "item": {
                "anyOf": [{"$ref": "#/definitions/inline"}, {"$ref": "#/definitions/mapping"}]
            },
            "inline": {
                "type": "string",
                "pattern": r"\S",
                "description": "a layer or block call written inline: kind, then a bare value, "
                "f3 s2 p1 d2 g32, key=value or a bare word",
                "examples": ["conv 64 f3 s1 p1", "maxpool f2 s2", "fc 10", "from NAME"],
            },
            "mapping": {
                "type": "object",
                "description": "a layer, block call, merge, repeat or reference keyed by its "
                "kind, with an optional name and if (and a merge's parameters)",
                "properties": item_keys,
                "additionalProperties": {"$ref": "#/definitions/call"},
                "if": {"required": ["repeat"]},
                "then": {
                    "required": ["layers"],
                    "propertyNames": {"enum": [*_REPEAT_KEYS, *ITEM_KEYS]},
                },
                "else": {
                    "if": {"anyOf": [{"required": [key]} for key in merge_keys]},
                    "then": {
                        "anyOf": [
                            _merge_schema(key, REGISTRY[ALIASES.get(key, key)], ITEM_KEYS)
                            for key in merge_keys
                        ]
                    },
                    "else": {
                        "allOf": [
                            _one_key_besides(ITEM_KEYS),
                            {"propertyNames": {"not": {"enum": list(_REPEAT_KEYS)}}},
                        ]
                    },
                },
            },
            "branch": {
                "description": "one branch of a merge: an item, a list of items, or a list "
                "under a condition ({layers: [...], if: c}); identity or an empty list passes "
                "the input on",
                "anyOf": [
                    {"$ref": "#/definitions/item"},
                    {"$ref": "#/definitions/layers"},
                    {
                        "type": "object",
                        "required": ["layers"],
                        "additionalProperties": False,
                        "properties": {
                            "layers": {"$ref": "#/definitions/layers"},
                            "if": item_keys["if"],
                        },
                    },
                ],
            },
            "call": {
                "type": ["object", "string", "number", "boolean", "null"],
                "description": "a call of a block defined under blocks: its arguments, or the "
                "value of its only argument",
            },
            "block": {
                "type": "object",
                "required": ["layers"],
                "additionalProperties": False,
                "properties": {
                    "args": {
                        "type": ["object", "array"],
                        "items": {"type": "string"},
                        "description": "arguments with their defaults; null is required",
                    },
                    "layers": {"$ref": "#/definitions/layers"},
                    "description": {"type": "string", "description": "what the block does"},
                },
            },
            **{
                f"kind-{kind}": _kind_schema(cls, SHORT)
                for kind, cls in REGISTRY.items()
                if not cls.joins
            },
        },
    }


def _branches(cls: type[Layer]) -> Schema:
    """A merge's branches, keyed by its joining kind."""
    return {
        "type": "array",
        "minItems": 2,
        "items": {"$ref": "#/definitions/branch"},
        "description": cls.summary,
    }


def _merge_schema(key: str, cls: type[Layer], optional: tuple[str, ...]) -> Schema:
    """A merge keyed by ``key``: its branches, and beside them the optional keys and the
    joining kind's parameters (``axis: 2``), as it declares them."""
    return {
        "required": [key],
        "properties": {name: _parameter_schema(cls, name, p) for name, p in cls.parameters.items()},
        "propertyNames": {"enum": [key, *optional, *cls.parameters]},
    }


def _kind_schema(cls: type[Layer], short: dict[str, str]) -> Schema:
    """A layer kind's value: nothing, its parameters, or a bare value (the primary parameter,
    or a word such as same or nobias that sets a parameter of this kind), as it declares them."""
    params = {name: _parameter_schema(cls, name, p) for name, p in cls.parameters.items()}
    shorthands = {
        key: {**params[name], "description": f"short for {name}"}
        for key, name in short.items()
        if name in params and key not in params
    }
    bare = [params[cls.primary]] if cls.primary else []
    if cls.words:
        bare.append({"enum": list(cls.words)})
    return {
        "description": cls.summary,
        "anyOf": [
            {"type": "null"},
            {
                "type": "object",
                "properties": {**params, **shorthands},
                "additionalProperties": False,
            },
            *bare,
        ],
    }


def _parameter_schema(cls: type[Layer], name: str, parameter: Parameter) -> Schema:
    """The JSON types of one parameter, from the type its layer declares."""
    if name in cls.references:
        return {"type": "string", "minLength": 1, "description": "the name of an earlier layer"}
    schema, what = PARAMETER_SCHEMAS[parameter.base]
    default = parameter.default
    if default is None:
        return {**schema, "description": what}
    return {**schema, "default": default, "description": f"{what} (default {json.dumps(default)})"}


def _one_key_besides(optional: tuple[str, ...]) -> Schema:
    """Exactly one key besides the optional ones. JSON Schema cannot count the keys outside a
    list, so spell out each combination of optional keys that may be present."""
    cases = []
    for n in range(len(optional) + 1):
        for present in combinations(optional, n):
            case: Schema = {"minProperties": n + 1, "maxProperties": n + 1}
            if present:
                case["required"] = list(present)
            absent = [key for key in optional if key not in present]
            if absent:
                case["not"] = {"anyOf": [{"required": [key]} for key in absent]}
            cases.append(case)
    return {"anyOf": cases}
