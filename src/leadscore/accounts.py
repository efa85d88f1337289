"""Account roll-up (SPEC §3 "account"): the buying committee behind the leads."""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadscore.api import Session, open_session
from leadscore.engine import Engine, Source
from leadscore.engine.compiler import DISQUALIFIED
from leadscore.engine.io import write_table
from leadscore.instants import AsOf
from leadscore.model import Model

ACCOUNT_FIELDS = ("account_key", "duplicate_of")


def account_rollup(session: Session) -> ir.Table:
    """One row per account key: score of its top leads, engaged count, best grade, members.

    Disqualified leads and duplicates are members but do not count in the score.
    """
    model = session.model
    leads = session.scored_leads()
    members = leads.filter(leads.account_key.notnull())
    counts = (
        members.stage.isnull() | (members.stage != DISQUALIFIED)
    ) & members.duplicate_of.isnull()
    members = members.mutate(_counts=counts)
    order = [ibis.desc(members.score), members.lead_id]
    rank = ibis.row_number().over(group_by=[members.account_key, members._counts], order_by=order)
    members = members.mutate(_top=members._counts & (rank < model.accounts.top))
    grades = [g.grade for g in model.fit.grades or []]
    grade_rank = (
        ibis.cases(*((members.grade == g, i) for i, g in enumerate(grades)), else_=None)
        if grades
        else ibis.null("int64")
    )
    members = members.mutate(_grade_rank=grade_rank)
    rolled = members.group_by(account=members.account_key).aggregate(
        score=lambda t: t.score.sum(where=t._top).fill_null(0.0),
        leads=lambda t: t.count(),
        engaged=lambda t: t.count(where=t.engagement > 0),
        _best=lambda t: t._grade_rank.min(),
        members=lambda t: t.lead_id.cast("string").group_concat(
            ",", order_by=[ibis.desc(t.score), t.lead_id]
        ),
    )
    best = (
        ibis.cases(*((rolled._best == i, g) for i, g in enumerate(grades)), else_=None)
        if grades
        else ibis.null("string")
    )
    rolled = rolled.mutate(best_grade=best).drop("_best")
    return rolled.order_by([ibis.desc("score"), "account"])


def accounts(
    model: Model | str | Path,
    leads: Source,
    events: Source | None = None,
    as_of: AsOf = None,
    *,
    out: str | Path | None = None,
    engine: Engine = "duckdb",
    db: str | None = None,
) -> pa.Table | Path:
    """The account roll-up as an Arrow table, or written to ``out`` when given."""
    session = open_session(
        model, leads, events, as_of=as_of, engine=engine, db=db, derived=ACCOUNT_FIELDS
    )
    with session:
        rolled = account_rollup(session)
        if out is not None:
            return write_table(session.con, rolled, out)
        table: pa.Table = session.con.to_pyarrow(rolled)
        return table
