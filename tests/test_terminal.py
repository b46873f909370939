"""Terminal conventions: --version, examples closing every --help, NO_COLOR, plain output
when piped, FORCE_COLOR, and click's shell completion under the console script's name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from cnncalc import __version__
from cnncalc.cli import main

ESCAPE = "\x1b["
TABLES = [  # commands whose output is a rich table, the only styled output
    ["conv", "--n", "32x32x3", "--f", "5", "--filters", "10", "--pad", "2"],
    ["solve", "--n", "224", "--out", "112", "--f", "3"],
    ["trace", "lenet5"],
    ["zoo", "list"],
]
# Variables that decide on styles, cleared so the caller's terminal settings do not leak in.
CLEAN = {"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TERM": "xterm"}


def commands(group: click.Command = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command's path below ``group``, the group itself included, depth first."""
    found = [path]
    if isinstance(group, click.Group):
        ctx = click.Context(group)  # list_commands/get_command also reach the lazy commands
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            found += commands(command, (*path, name))
    return found


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"cnncalc, version {__version__}\n"


@pytest.mark.parametrize("path", commands(), ids=lambda path: " ".join(path) or "cnncalc")
def test_help_ends_with_examples(path):
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="cnncalc")
    assert result.exit_code == 0, result.output
    head, marker, examples = result.stdout.rpartition("\n  Examples:\n")
    assert marker, f"no Examples: block at the end of {' '.join(path)} --help"
    lines = examples.rstrip("\n").splitlines()
    assert lines and all(line.startswith("    cnncalc ") for line in lines), examples
    # An example of a subcommand calls that subcommand.
    assert any(line.split("#")[0].split()[1 : 1 + len(path)] == list(path) for line in lines)


def test_walk_reaches_nested_commands():
    found = commands()
    assert {(), ("zoo",), ("zoo", "list"), ("zoo", "show"), ("kinds",), ("diagram",)} <= set(found)


# --- colour --------------------------------------------------------------------------------


@pytest.mark.parametrize("args", TABLES, ids=lambda args: args[0])
def test_a_forced_terminal_is_styled(args):
    """The control for the NO_COLOR test: it can see escapes where there are some."""
    result = CliRunner().invoke(main, args, env={**CLEAN, "FORCE_COLOR": "1"}, color=True)
    assert result.exit_code == 0, result.output
    assert ESCAPE in result.stdout


@pytest.mark.parametrize("args", TABLES, ids=lambda args: args[0])
def test_no_color_means_no_escapes_even_on_a_terminal(args):
    env = {**CLEAN, "FORCE_COLOR": "1", "NO_COLOR": "1"}
    result = CliRunner().invoke(main, args, env=env, color=True)
    assert result.exit_code == 0, result.output
    assert ESCAPE not in result.stdout


def test_an_empty_no_color_is_unset():
    """no-color.org: only a value that is present and not empty counts."""
    env = {**CLEAN, "FORCE_COLOR": "1", "NO_COLOR": ""}
    assert ESCAPE in CliRunner().invoke(main, TABLES[0], env=env, color=True).stdout


ASCII = str.maketrans(
    {
        **dict.fromkeys("┏┓┌┐└┘╇┼", "+"),
        **dict.fromkeys("━─┳┬┴", "-"),
        **dict.fromkeys("┃│┡┩├┤", "|"),
    }
)
"""Box drawing as the ASCII box writes it."""


def test_no_color_keeps_the_text_and_draws_in_ascii():
    """The same words with and without NO_COLOR; the borders plain ASCII."""
    styled = CliRunner().invoke(main, TABLES[2], env={**CLEAN, "FORCE_COLOR": "1"}, color=True)
    plain = CliRunner().invoke(
        main, TABLES[2], env={**CLEAN, "FORCE_COLOR": "1", "NO_COLOR": "1"}, color=True
    )
    unstyled = re.sub(r"\x1b\[[0-9;]*m", "", styled.stdout).translate(ASCII)
    assert [line.rstrip() for line in unstyled.splitlines()] == plain.stdout.splitlines()
    assert plain.stdout.isascii()


def test_not_a_terminal_is_plain_without_being_stripped():
    """rich sees no tty and adds nothing, so click has nothing to strip (color=True)."""
    result = CliRunner().invoke(main, TABLES[0], env=CLEAN, color=True)
    assert result.exit_code == 0 and ESCAPE not in result.stdout


def piped(env: dict[str, str | None]) -> str:
    """The table of a real ``cnncalc`` process whose output is a pipe."""
    environ = {key: value for key, value in {**os.environ, **env}.items() if value is not None}
    command = [sys.executable, "-m", "cnncalc", *TABLES[0]]
    return subprocess.run(command, env=environ, capture_output=True, text=True, check=True).stdout


def test_piped_output_is_plain():
    assert ESCAPE not in piped(CLEAN)


def test_force_color_survives_a_pipe_and_no_color_wins():
    assert ESCAPE in piped({**CLEAN, "FORCE_COLOR": "1"})
    assert ESCAPE not in piped({**CLEAN, "FORCE_COLOR": "1", "NO_COLOR": "1"})


# --- shell completion ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "shell, expected",
    [
        ("bash", "complete -o nosort -F _cnncalc_completion cnncalc"),
        ("zsh", "#compdef cnncalc"),
        ("fish", "complete --no-files --command cnncalc"),
    ],
)
def test_completion_script(shell, expected):
    env = {"_CNNCALC_COMPLETE": f"{shell}_source"}
    result = CliRunner().invoke(main, [], prog_name="cnncalc", env=env)
    assert result.exit_code == 0, result.output
    assert "_CNNCALC_COMPLETE" in result.stdout and expected in result.stdout


@pytest.mark.parametrize(
    "words, cword, expected",
    [
        ("cnncalc zo", 1, ["plain,zoo"]),
        ("cnncalc zoo s", 2, ["plain,show"]),
        ("cnncalc trace x --format ''", 4, [f"plain,{f}" for f in ("table", "markdown")]),
    ],
)
def test_completion_answers(words, cword, expected):
    env = {"_CNNCALC_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = CliRunner().invoke(main, [], prog_name="cnncalc", env=env)
    assert result.exit_code == 0, result.output
    assert set(expected) <= set(result.stdout.splitlines())


CONSOLE_SCRIPT = shutil.which("cnncalc", path=os.path.dirname(sys.executable))


@pytest.mark.skipif(
    CONSOLE_SCRIPT is None or shutil.which("bash") is None,
    reason="needs bash and the installed cnncalc console script",
)
def test_bash_completes_through_the_console_script():
    script = (
        'eval "$(_CNNCALC_COMPLETE=bash_source cnncalc)"\n'
        "COMP_WORDS=(cnncalc trace x --format ''); COMP_CWORD=4\n"
        '_cnncalc_completion cnncalc; echo "${COMPREPLY[*]}"\n'
    )
    path = f"{os.path.dirname(CONSOLE_SCRIPT)}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["table", "markdown", "csv", "json", "latex"]
