"""The list for sales this morning: best leads first, and what changed since last time."""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadscore.api import open_session
from leadscore.engine import Engine, Source
from leadscore.engine.compiler import DISQUALIFIED, result_columns
from leadscore.engine.io import read_table, require_columns
from leadscore.instants import AsOf
from leadscore.model import Model

CONTEXT_COLUMNS = ("first_name", "last_name", "email", "job_title", "company")


def top(
    model: Model | str | Path,
    leads: Source,
    events: Source | None = None,
    as_of: AsOf = None,
    *,
    n: int = 20,
    stage: str | None = None,
    since: Source | None = None,
    engine: Engine = "duckdb",
    db: str | None = None,
) -> pa.Table:
    """The ``n`` best leads (score, then fit, then engagement), with their changes.

    Disqualified leads are left out unless ``stage="disqualified"`` asks for them.
    With ``since`` (an earlier output of ``score`` or ``top``), ``change`` says
    ``new`` for a lead absent from it, else the score difference, and
    ``previous_stage`` shows the stage it had.
    """
    with open_session(model, leads, events, as_of=as_of, engine=engine, db=db) as session:
        table = session.scored_leads()
        context = [c for c in CONTEXT_COLUMNS if c in table.columns]
        table = table.select(*result_columns(session.model), *context)
        if stage is None:
            table = table.filter(table.stage.isnull() | (table.stage != DISQUALIFIED))
        else:
            table = table.filter(table.stage.lower() == stage.strip().lower())
        if since is not None:
            table = _with_changes(session.con, table, since)
        ranked = table.order_by(
            [ibis.desc("score"), ibis.desc("fit"), ibis.desc("engagement"), "lead_id"]
        ).limit(n)
        ranked = ranked.mutate(
            rank=ibis.row_number().over(
                order_by=[
                    ibis.desc(ranked.score),
                    ibis.desc(ranked.fit),
                    ibis.desc(ranked.engagement),
                    ranked.lead_id,
                ]
            )
            + 1
        )
        result: pa.Table = session.con.to_pyarrow(ranked.order_by("rank"))
        first = ["rank", "lead_id", "score"]
        return result.select(first + [c for c in result.column_names if c not in first])


def _with_changes(con: object, table: ir.Table, since: Source) -> ir.Table:
    previous = read_table(con, since, "previous", "previous results")
    require_columns(previous, ("lead_id", "score", "stage"), str(since))
    prev = previous.select(
        _pid=previous.lead_id.cast("string").strip(),
        previous_score=previous.score.cast("float64"),
        previous_stage=previous.stage.cast("string"),
    )
    joined = table.left_join(prev, table.lead_id.cast("string").strip() == prev._pid)
    delta = joined.score - joined.previous_score
    change = ibis.cases(
        (joined._pid.isnull(), "new"),
        (delta > 0, "+" + delta.round(1).cast("string")),
        (delta < 0, delta.round(1).cast("string")),
        else_="",
    )
    return joined.mutate(change=change).drop("_pid", "previous_score")
