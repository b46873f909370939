"""How tracing scales: whole cnncalc processes on generated specs of 10k and 100k layers.

Two shapes of spec:
  flat    every layer written out, one list item each (the YAML reader's worst case);
  repeat  a three-layer body repeated (what a generator or a deep network would write).
Four commands on each: ``check`` (read, trace, check the expectations: one line out),
``trace --format json`` (the same, then every row as JSON: 18 MB for 100k layers), and
``trace`` as a table, piped (as wide as its cells) and at ``--width 60`` (cells folded).
Tracing 100k layers should take under 2 seconds, its table under 3, and the 100k/10k ratio
should be near 10 (linear). Not a test: run it by hand, ``python bench/scale.py``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from startup import cnncalc

BODY = ["conv 16 f3 p1", "bn", "relu"]


def flat(layers: int) -> str:
    items = "".join(f"  - {BODY[i % len(BODY)]}\n" for i in range(layers))
    return f"name: flat-{layers}\ninput: 32x32x16\nlayers:\n{items}"


def repeated(layers: int) -> str:
    body = ", ".join(BODY)
    count = layers // len(BODY)
    head = f"name: repeat-{layers}\ninput: 32x32x16\nlayers:\n"
    return f"{head}  - repeat: {count}\n    layers: [{body}]\n"


def best(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return min(times)


COMMANDS = {
    "check": ["check"],
    "trace json": ["trace", "--format", "json"],
    "trace table": ["trace"],
    "table w60": ["trace", "--width", "60"],
}
LIMITS = {"check": 2.0, "trace table": 3.0, "table w60": 3.0}
"""Seconds allowed for the 100k-layer spec."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each case (default 3)")
    args = parser.parse_args()
    failed = False
    print(f"best of {args.runs}; growth: (t100k - t3) / (t10k - t3), 10 when linear")
    print(f"{'spec':<8} {'command':<11} {'3':>7} {'10k':>7} {'100k':>7} {'growth':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, generate in (("flat", flat), ("repeat", repeated)):
            specs = []
            for layers in (3, 10_000, 100_000):
                spec = Path(tmp) / f"{name}-{layers}.yaml"
                spec.write_text(generate(layers))
                specs.append(str(spec))
            for command, words in COMMANDS.items():
                empty, small, big = (best([*cnncalc(), *words, s], args.runs) for s in specs)
                failed |= big > LIMITS.get(command, big)
                growth = (big - empty) / (small - empty)
                print(
                    f"{name:<8} {command:<11} {empty:>6.2f}s {small:>6.2f}s {big:>6.2f}s "
                    f"{growth:>7.1f}"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
