"""Formatting for people: the only place that turns numbers into text. One layer's worked
result (``layer``), a traced network (``network``), the table layout (``tables``), the plain
formats (``text``), problems (``problems``) and diagrams (``diagram``). The data comes from
``report``.
"""

from cnncalc.render.layer import DRAW_LIMIT, layer_report, solutions_report
from cnncalc.render.network import (
    TRACE_COLUMNS,
    TRACE_FORMATS,
    check_line,
    human,
    kinds_report,
    trace_report,
    warning_summary,
    zoo_report,
)
from cnncalc.render.problems import github_annotations, problem_report
from cnncalc.render.tables import table
from cnncalc.render.text import FORMATS, json_text, plural, small_json

__all__ = [
    "DRAW_LIMIT",
    "FORMATS",
    "TRACE_COLUMNS",
    "TRACE_FORMATS",
    "check_line",
    "github_annotations",
    "human",
    "json_text",
    "kinds_report",
    "layer_report",
    "plural",
    "problem_report",
    "small_json",
    "solutions_report",
    "table",
    "trace_report",
    "warning_summary",
    "zoo_report",
]
