"""The bundled architecture zoo: one commented spec file per famous network.

Each spec is also stored compiled (``compiled/NAME.json``, the network as plain data) so
that ``cnncalc trace resnet152`` need not import and run a YAML parser; a test keeps the
compiled files equal to what the specs give (``pytest --update-snapshots`` rewrites them).
"""

from __future__ import annotations

import os

HERE = os.path.dirname(__file__)


def names() -> list[str]:
    """The zoo's networks, sorted: ``alexnet``, ``resnet50``, ..."""
    return sorted(f[: -len(".yaml")] for f in os.listdir(HERE) if f.endswith(".yaml"))


def path(name: str) -> str | None:
    """The spec file of a zoo network, or None when there is no such network."""
    candidate = os.path.join(HERE, f"{name.lower()}.yaml")
    return candidate if name.replace("_", "").isalnum() and os.path.isfile(candidate) else None


def compiled_path(name: str) -> str:
    """Where the compiled form of a zoo network is stored."""
    return os.path.join(HERE, "compiled", f"{name.lower()}.json")


def suggestion(name: str) -> str:
    """`` (did you mean 'resnet50'?)`` for a near miss, else nothing."""
    from cnncalc.formats.kit import did_you_mean

    return did_you_mean(name, names(), fold=True)
