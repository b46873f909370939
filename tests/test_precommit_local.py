"""The README's pre-commit snippet, run as written: a local hook that runs the cnncalc
installed, so that a user of a fresh clone needs no tag (the snippet used to name a ``rev:``
that does not exist). It is the hook of ``.pre-commit-hooks.yaml``, field for field; the run
is skipped without pre-commit or git (it needs neither a network nor an index).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = os.path.dirname(sys.executable)
PRE_COMMIT = shutil.which("pre-commit", path=BIN) or shutil.which("pre-commit")
GOOD = (
    "input: 32x32x3\nlayers: [conv 10 f5 p2, relu, maxpool f2, fc 10]\nexpect:\n  params: 26,370\n"
)
BROKEN = GOOD.replace("26,370", "1,000")
ENV = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
ENV["PATH"] = BIN + os.pathsep + ENV.get("PATH", "")  # the cnncalc under test


def readme_snippet() -> str:
    """The YAML block the README's pre-commit paragraph shows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index("With [pre-commit]") :]
    return re.search(r"```yaml\n(.*?)```", after, re.S).group(1)


def test_the_snippet_names_no_rev_that_does_not_exist():
    (repo,) = yaml.safe_load("repos:\n" + readme_snippet())["repos"]
    assert repo["repo"] == "local" and "rev" not in repo


def test_the_snippet_is_the_offered_hook():
    (repo,) = yaml.safe_load("repos:\n" + readme_snippet())["repos"]
    (local,) = repo["hooks"]
    (offered,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    for field in ("id", "name", "entry", "types_or", "files"):
        assert local[field] == offered[field], field


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True)


@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed")
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_snippet_runs_as_written(tmp_path):
    repo = tmp_path / "project"
    (repo / "models").mkdir(parents=True)
    (repo / "models" / "good.yaml").write_text(GOOD)
    (repo / "models" / "broken.yaml").write_text(BROKEN)
    (repo / "ci.yaml").write_text("on: push\n")  # not under models/: no spec
    (repo / ".pre-commit-config.yaml").write_text("repos:\n" + readme_snippet())
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    env = {**ENV, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    command = [str(PRE_COMMIT), "run", "--all-files"]
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "models/broken.yaml:4:11: error: expected 1,000 parameters, got 26,370" in (
        result.stdout
    )
    assert "models/good.yaml: ok — 26,370 params" in result.stdout
    assert "ci.yaml" not in result.stdout
    (repo / "models" / "broken.yaml").unlink()
    git("add", "-A", cwd=repo)
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
