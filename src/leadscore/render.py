"""Rich renderings of results for people at a terminal."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from rich.console import Group
from rich.table import Table
from rich.text import Text

from leadscore.api import Explanation

_SHOWN = (
    "rank",
    "account",
    "lead_id",
    "score",
    "change",
    "stage",
    "previous_stage",
    "matrix",
    "top_interest",
    "first_name",
    "last_name",
    "job_title",
    "company",
    "email",
    "leads",
    "engaged",
    "best_grade",
    "members",
)


def number(value: float | None) -> str:
    """Points as people read them: one decimal, no ``-0.0``.

    >>> number(12.3456), number(-0.04), number(None)
    ('12.3', '0.0', '')
    """
    if value is None:
        return ""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def leads_table(table: pa.Table, title: str) -> Table:
    """A ranked list of leads (``top``, ``demo``)."""
    columns = [c for c in _SHOWN if c in table.column_names]
    view = Table(title=title, title_justify="left")
    for name in columns:
        view.add_column(name, justify="right" if name in ("rank", "score") else "left")
    for row in table.select(columns).to_pylist():
        view.add_row(*(_cell(name, row[name]) for name in columns))
    return view


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return number(value)
    return str(value)


def explanation_table(result: Explanation) -> Group:
    """One lead's points, rule by rule, with the totals."""
    rules = Table(title=f"Lead {result.lead_id}", title_justify="left")
    rules.add_column("section")
    rules.add_column("rule")
    rules.add_column("points", justify="right")
    rules.add_column("description")
    for line in result.contributions:
        rules.add_row(line.section, line.rule, number(line.points), line.description or "")
    for line in result.interest_contributions:
        rules.add_row(line.section, line.rule, number(line.points), line.description or "")
    summary = Text(
        f"fit {number(result.fit)} (grade {result.grade or '-'})  "
        f"engagement {number(result.engagement)} (level {result.level or '-'})  "
        f"score {number(result.score)}  matrix {result.matrix or '-'}  "
        f"stage {result.stage or '-'}  top interest {result.top_interest or '-'}"
    )
    if result.duplicates_note:
        return Group(rules, summary, Text(result.duplicates_note.capitalize() + "."))
    return Group(rules, summary)
