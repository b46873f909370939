"""Problems in a spec, as a person reads them (``file:line:col``, the line quoted, a caret
under the column) or as GitHub annotations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cnncalc.render.text import plural, shown

if TYPE_CHECKING:
    pass

MAX_PROBLEMS = 50
"""Problems printed in full; the rest are counted. A broken spec can have one per line."""

QUOTED = 120
"""Characters of a source line quoted under a problem; a longer line is elided around it."""


def problem_report(source: str, text: str, problems: Iterable[Any], severity: str = "error") -> str:
    """``file:line:col: error: path: message``, then the offending line and a caret.

    At most MAX_PROBLEMS are printed, and a long line is shown once, cut around the column.
    """
    lines = text.splitlines()
    source = shown(source)
    problems = list(problems)
    out = []
    quoted = set()
    for p in problems[:MAX_PROBLEMS]:
        line, column = p.pos
        where = f"{source}:{line}:{column}" if line else source
        path = f"{p.path}: " if p.path else ""
        out.append(f"{where}: {severity}: {shown(path + p.message)}")
        if 0 < line <= len(lines) and (line not in quoted or len(lines[line - 1]) <= QUOTED):
            quoted.add(line)
            excerpt, caret = _excerpt(lines[line - 1], column)
            out.append(f"  {line:>4} | {excerpt}")
            out.append(f"       | {' ' * caret}^")
    if len(problems) > MAX_PROBLEMS:
        out.append(f"... and {plural(len(problems) - MAX_PROBLEMS, severity)} more")
    return "\n".join(out)


def _excerpt(line: str, column: int) -> tuple[str, int]:
    r"""At most QUOTED characters of ``line`` around ``column`` (1-based), with … where cut,
    and the caret's offset in them; control characters written out (:func:`shown`), the
    caret under the character it points at all the same.

    >>> _excerpt("abc", 2)
    ('abc', 1)
    >>> quoted, caret = _excerpt("x" * 500 + "!" + "y" * 500, 501)
    >>> len(quoted) <= 122, quoted[caret]
    (True, '!')
    >>> quoted, caret = _excerpt("a: \x1b[2J !", 9)
    >>> print(quoted); quoted[caret]
    a: \x1b[2J !
    '!'
    """
    start = 0
    if len(line) > QUOTED:
        start = min(max(column - 1 - QUOTED // 2, 0), len(line) - QUOTED)
    piece = line[start : start + QUOTED]
    before = column - 1 - start
    quoted = shown(piece)
    caret = len(shown(piece[:before])) if quoted is not piece else before
    if start > 0:
        quoted, caret = "…" + quoted, caret + 1
    if start + QUOTED < len(line):
        quoted += "…"
    return quoted, caret


def github_annotations(source: str, problems: Iterable[Any], severity: str = "error") -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's diff."""

    def escape(text: str, extra: str = "") -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        for ch in extra:
            text = text.replace(ch, {":": "%3A", ",": "%2C"}[ch])
        return text

    out = []
    source = shown(source)
    for p in problems:
        where = f"file={escape(source, ':,')}"
        if p.pos.line:
            where += f",line={p.pos.line},col={p.pos.column}"
        path = f"{p.path}: " if p.path else ""
        message = "\n".join(map(shown, (path + p.message).split("\n")))
        out.append(f"::{severity} {where}::{escape(message)}")
    return "\n".join(out)
