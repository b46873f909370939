"""The README's examples are run: every command's output and every generated section must be
what cnncalc prints today. ``pytest --update-snapshots`` rewrites them after an intended change.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from cnncalc.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ENV = {"COLUMNS": "100", "NO_COLOR": None, "TERM": "xterm"}

CONSOLE = re.compile(r"```console\n(.*?)```\n", re.S)
GENERATED = re.compile(r"<!-- (cnncalc .*?) -->\n(.*?)<!-- end -->\n", re.S)
PYTHON = re.compile(r"```python\n(.*?)```\n(?:\n```text\n.*?```\n)?", re.S)


def cnncalc(command: str) -> str:
    """What a user sees: stdout, then stderr, of ``cnncalc ...`` run from the project root."""
    result = CliRunner(env=ENV).invoke(main, shlex.split(command)[1:])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.stdout + result.stderr


def console(match: re.Match[str]) -> str:
    commands = [line for line in match.group(1).splitlines() if line.startswith("$ cnncalc ")]
    transcript = "".join(f"{c}\n{cnncalc(c[2:]).rstrip()}\n" for c in commands)
    return f"```console\n{transcript}```\n"


def generated(match: re.Match[str]) -> str:
    command = match.group(1)
    output = cnncalc(command).rstrip() + "\n"
    if "--format mermaid" in command:
        output = f"```mermaid\n{output}```\n"
    return f"<!-- {command} -->\n{output}<!-- end -->\n"


def python(match: re.Match[str]) -> str:
    code = match.group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    return f"```python\n{code}```\n\n```text\n{printed.getvalue()}```\n"


def regenerate(text: str) -> str:
    for pattern, fill in ((CONSOLE, console), (GENERATED, generated), (PYTHON, python)):
        text = pattern.sub(fill, text)
    return text


def test_readme_shows_what_the_commands_print(golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    golden(README, regenerate(README.read_text(encoding="utf-8")))


def test_readme_opens_with_the_two_commands_ci_runs():
    """The install-and-test line is the command .ci/run executes."""
    lines = README.read_text(encoding="utf-8").splitlines()
    install, test = lines[5], lines[6]
    assert install.endswith("pip install . && cnncalc conv --n 32x32x3 --f 5 --filters 10 --pad 2")
    assert test.endswith("pip install '.[test]' && python -m pytest")
    assert "pip install '.[test]' && python -m pytest" in (ROOT / ".ci" / "run").read_text()


def test_the_zoo_table_lists_every_network():
    from cnncalc import zoo

    section = GENERATED.search(README.read_text(encoding="utf-8"))
    assert section is not None and section.group(1).startswith("cnncalc zoo list")
    for name in zoo.names():
        assert f"| {name} |" in section.group(2)


def test_the_readme_spec_is_the_example_file():
    readme = README.read_text(encoding="utf-8")
    block = re.search(r"\(examples/small-resnet.yaml\):\n\n```yaml\n(.*?)```", readme, re.S)
    assert block is not None
    example = (ROOT / "examples" / "small-resnet.yaml").read_text(encoding="utf-8")
    assert example.split("\n", 1)[1] == block.group(1)  # all but the file's comment line
