"""The ``cnncalc-check`` pre-commit hook, run for real by ``pre-commit try-repo``.

try-repo clones this checkout at HEAD (plus uncommitted changes to tracked files),
installs it into a fresh virtual environment with pip and runs the hook in a scratch
repository: a good spec passes, a broken one fails, and YAML outside the default
``files:`` pattern is left alone. Skipped without pre-commit, without a git HEAD that
holds the hook file, or when the hook's environment cannot be installed (no index).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which(
    "pre-commit"
)
GOOD = """\
input: 32x32x3
layers: [conv 10 f5 p2, relu, maxpool f2, fc 10]
expect: {output: 10, params: 26370}   # 10*3*5*5 + 10 = 760, 16*16*10*10 + 10 = 25610
"""
BROKEN = GOOD.replace("params: 26370", "params: 1000")
WORKFLOW = "on: push\njobs: {test: {runs-on: ubuntu-latest, steps: [{run: echo hi}]}}\n"


# Not the variables of a git hook that may be running these tests: they would aim git
# (and pre-commit) at the project's repository instead of the scratch one.
ENV = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True)


def cannot_try_repo() -> str | None:
    """Why try-repo cannot run against this checkout, or None when it can."""
    if shutil.which("git") is None:
        return "git is not installed"
    top = git("rev-parse", "--show-toplevel", cwd=ROOT).stdout.strip()
    if not top or Path(top).resolve() != ROOT:
        return f"{ROOT} is not a git checkout for pre-commit try-repo to clone"
    if git("rev-parse", "--verify", "HEAD", cwd=ROOT).returncode:
        return f"{ROOT} has no git HEAD (no commit) for pre-commit try-repo to clone"
    if git("cat-file", "-e", "HEAD:.pre-commit-hooks.yaml", cwd=ROOT).returncode:
        return "the checkout's HEAD has no .pre-commit-hooks.yaml (commit it first)"
    return None


CANNOT = cannot_try_repo()
pytestmark = [
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed"),
    pytest.mark.skipif(CANNOT is not None, reason=str(CANNOT)),
]


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A repository with one good spec, one broken spec and a YAML file that is no spec."""
    repo = tmp_path / "project"
    (repo / "models").mkdir(parents=True)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "models" / "good.yaml").write_text(GOOD)
    (repo / "models" / "broken.yaml").write_text(BROKEN)
    (repo / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "specs"],
    ):
        assert git(*args, cwd=repo).returncode == 0
    return repo


def try_repo(repo: Path, *files: str) -> subprocess.CompletedProcess[str]:
    chosen = ["--files", *files] if files else ["--all-files"]
    command = [str(PRE_COMMIT), "try-repo", str(ROOT), "cnncalc-check", *chosen]
    result = subprocess.run(command, cwd=repo, env=ENV, capture_output=True, text=True)
    if result.returncode == 3 and "pip" in result.stdout + result.stderr:
        pytest.skip("pre-commit could not install cnncalc into the hook's environment")
    return result


def test_the_broken_spec_fails_the_hook(scratch):
    result = try_repo(scratch)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cnncalc check" in result.stdout and "Failed" in result.stdout
    assert "models/broken.yaml:3:30: error: expected 1,000 parameters, got 26,370" in (
        result.stdout
    )
    assert "models/good.yaml: ok — 26,370 params" in result.stdout
    assert "ci.yml" not in result.stdout  # other YAML is not a spec


def test_the_good_spec_passes(scratch):
    result = try_repo(scratch, "models/good.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cnncalc check" in result.stdout and "Passed" in result.stdout
