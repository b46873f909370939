"""Start-up time of whole cnncalc processes against bare imports of what they cannot avoid.

A command-line calculator is judged by how soon it answers, so each case runs a
command and its baseline alternately many times and compares their CPU times (the
median of the paired ratios: steadier than wall time on a shared machine), or with
``--instructions`` the instructions valgrind counts in one run of each (the same on
every run). Exit status 1 when a ratio is over its limit. Not a test: run it by hand,
``python bench/startup.py [--instructions]`` with cnncalc installed beside this Python.

Byte-code caching is left on in the child processes, as for any installed
program, whatever PYTHONDONTWRITEBYTECODE says here; one warm-up run writes it.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
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
    Case(  # a table costs about what its JSON costs: no measuring pass over every cell
        "resnet50 table",
        [*cnncalc(), "trace", "resnet50"],
        [*cnncalc(), "trace", "resnet50", "--format", "json"],
        1.3,
    ),
]


def cpu_time(command: list[str], env: dict[str, str]) -> float:
    """User plus system time of one whole process: less disturbed by other work than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(case: Case, runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """Best times of the command and of its baseline, and the median ratio of their pairs.

    They run alternately so that drift hits both; on a shared machine the median of the
    paired ratios is the steadier figure, and the one held against the limit.
    """
    cpu_time(case.command, env)  # warm-up: byte code, file cache
    pairs = [(cpu_time(case.command, env), cpu_time(case.baseline, env)) for _ in range(runs)]
    ratio = statistics.median(c / b for c, b in pairs)
    return min(c for c, _ in pairs), min(b for _, b in pairs), ratio


def instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions one whole process executes, counted by valgrind: the same on every run."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))  # type: ignore[union-attr]


def count_instructions(env: dict[str, str]) -> bool:
    """The cases in instructions: slower to run, but steady where wall time is noisy."""
    failed = False
    print(f"cnncalc: {' '.join(cnncalc())}, instructions per process (valgrind)")
    print(f"{'case':<15} {'command':>13} {'baseline':>13} {'ratio':>6} {'limit':>6}")
    for case in CASES:
        instructions(case.command, env)  # byte code
        command, baseline = instructions(case.command, env), instructions(case.baseline, env)
        ratio = command / baseline
        failed |= ratio > case.limit
        print(
            f"{case.name:<15} {command:>13,} {baseline:>13,} {ratio:>6.3f} {case.limit:>6.2f}"
            f"{'  OVER' if ratio > case.limit else ''}"
        )
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs of each command (default 30)")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with valgrind instead"
    )
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.instructions:
        return 1 if count_instructions(env) else 0
    failed = False
    print(f"cnncalc: {' '.join(cnncalc())}, {args.runs} runs each, CPU time per process")
    print(f"{'case':<15} {'command':>9} {'baseline':>9} {'ratio':>6} {'limit':>6}")
    for case in CASES:
        command, baseline, ratio = measure(case, args.runs, env)
        over = ratio > case.limit
        failed |= over
        print(
            f"{case.name:<15} {command * 1000:>7.1f}ms {baseline * 1000:>7.1f}ms "
            f"{ratio:>6.2f} {case.limit:>6.2f}{'  OVER' if over else ''}"
        )
    print("(command and baseline: the best run of each; ratio: the median of the paired runs)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
