"""Start-up time of whole cnncalc processes against bare imports of what they cannot avoid.

A command-line calculator is judged by how soon it answers, so each case runs a
command and its baseline alternately many times and compares the fastest runs
(the least disturbed by the rest of the machine). Exit status 1 when a ratio
is over its limit. Not a test: run it by hand, ``python bench/startup.py``.

Byte-code caching is left on in the child processes, as for any installed
program, whatever PYTHONDONTWRITEBYTECODE says here; one warm-up run writes it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

PYTHON = sys.executable


def cnncalc() -> list[str]:
    """The console script installed beside this Python, else ``python -m cnncalc``."""
    script = shutil.which("cnncalc", path=str(Path(PYTHON).parent))
    return [script] if script else [PYTHON, "-m", "cnncalc"]


def imports(modules: str) -> list[str]:
    return [PYTHON, "-c", f"import {modules}"]


class Case(NamedTuple):
    name: str
    command: list[str]
    baseline: list[str]
    limit: float
    """Largest allowed ratio of the command's time to the baseline's."""


CONV = ["conv", "--n", "32", "--f", "5", "--pad", "2"]
CASES = [  # one row per command to watch, e.g. a trace of a zoo network against its imports
    Case("conv json", [*cnncalc(), *CONV, "--format", "json"], imports("click"), 1.2),
    Case("conv table", [*cnncalc(), *CONV], imports("click, rich.console, rich.table"), 1.2),
    Case(
        "resnet152",
        [*cnncalc(), "trace", "resnet152", "--format", "json"],
        [*cnncalc(), *CONV, "--format", "json"],
        1.5,
    ),
]


def elapsed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - start


def measure(case: Case, runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Best time of the command and of its baseline, run alternately so drift hits both."""
    elapsed(case.command, env)  # warm-up: byte code, file cache
    times: dict[str, list[float]] = {"command": [], "baseline": []}
    for _ in range(runs):
        times["command"].append(elapsed(case.command, env))
        times["baseline"].append(elapsed(case.baseline, env))
    return min(times["command"]), min(times["baseline"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs of each command (default 30)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    failed = False
    print(f"cnncalc: {' '.join(cnncalc())}, best of {args.runs} runs each")
    print(f"{'case':<12} {'command':>9} {'baseline':>9} {'ratio':>6} {'limit':>6}")
    for case in CASES:
        command, baseline = measure(case, args.runs, env)
        ratio = command / baseline
        over = ratio > case.limit
        failed |= over
        print(
            f"{case.name:<12} {command * 1000:>7.1f}ms {baseline * 1000:>7.1f}ms "
            f"{ratio:>6.2f} {case.limit:>6.2f}{'  OVER' if over else ''}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
