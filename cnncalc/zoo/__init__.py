"""The bundled architecture zoo: one commented spec file per famous network."""

from __future__ import annotations

import difflib
from pathlib import Path

HERE = Path(__file__).parent


def names() -> list[str]:
    """The zoo's networks, sorted: ``alexnet``, ``resnet50``, ..."""
    return sorted(p.stem for p in HERE.glob("*.yaml"))


def path(name: str) -> Path | None:
    """The spec file of a zoo network, or None when there is no such network."""
    candidate = HERE / f"{name.lower()}.yaml"
    return candidate if name.replace("_", "").isalnum() and candidate.is_file() else None


def suggestion(name: str) -> str:
    """`` (did you mean 'resnet50'?)`` for a near miss, else nothing."""
    close = difflib.get_close_matches(name.lower(), names(), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
