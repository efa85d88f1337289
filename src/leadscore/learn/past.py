"""The history an evaluation replays: leads, outcomes, cut-offs, dates and events.

The leads, their outcomes and each lead's cut-off are chosen exactly as ``learn``
chooses them (:func:`leadscore.learn.history.history`), so a hand-written model
and a learned one are measured on the same leads in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engine import Source
from leadscore.engine.inputs import describe
from leadscore.engine.io import (
    EVENT_REQUIRED,
    connect,
    normalise_timestamps,
    read_table,
    require_columns,
)
from leadscore.instants import AsOf, as_of_instant
from leadscore.learn.history import history, read_leads
from leadscore.learn.metrics import Labels


@dataclass
class Past:
    """The evaluated leads (with their cut-off column), outcomes and dates."""

    leads: pa.Table
    labels: Labels
    where: str
    end: datetime  # the instant leads without a cut-off are scored at
    scheme: str  # "conversion" or "snapshot" (see leadscore.learn.history)
    dates: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)

    def weeks(self, rows: np.ndarray | None = None) -> float | None:
        """How many weeks the leads' dates span (at least one), None without dates."""
        if self.dates is None:
            return None
        dates = self.dates if rows is None else self.dates[rows]
        span = (dates.max() - dates.min()) / np.timedelta64(1, "D") / 7
        return max(1.0, float(span))


def read_past(
    leads: Source,
    events: Source | None,
    *,
    target: str,
    as_of: AsOf,
    horizon_days: float | None,
    seed: int = 0,
) -> Past:
    """The evaluated leads, outcomes and cut-offs, chosen exactly as ``learn`` chooses them.

    ``seed`` draws the comparable instants of leads that did not convert.

    Errors (a missing, constant or not boolean-like target, too few conversions)
    are those of ``learn``: a model is measured on the leads it could learn from.
    """
    where = describe(leads, "leads")
    instant = as_of_instant(as_of) if as_of is not None else None
    table = read_leads(leads, where)
    past = history(table, where, target, instant, horizon_days, events, seed)
    end = instant or latest_event(events) or as_of_instant(None)
    result = Past(past.leads, past.target.astype(bool), where, end, past.scheme)
    if "created_at" in past.leads.column_names:
        created = past.leads["created_at"]
        if created.null_count == 0:
            result.dates = created.to_numpy().astype("datetime64[us]")
        else:
            result.warnings.append(
                f"{where}: {created.null_count} leads have no created_at, so leads are not "
                "split by time."
            )
    return result


def latest_event(events: Source | None) -> datetime | None:
    """The end of the data: the latest event, the instant leads without a cut-off are seen."""
    if events is None:
        return None
    con = connect()
    try:
        table, where = _checked_events(con, events)
        value = con.to_pyarrow(table.timestamp.max()).as_py()
        if not isinstance(value, datetime):
            table = normalise_timestamps(con, table, ["timestamp"], where)
            value = con.to_pyarrow(table.timestamp.max()).as_py()
    finally:
        con.disconnect()
    return value if isinstance(value, datetime) else None


def read_events(events: Source | None) -> pa.Table | None:
    """All events in memory, timestamps parsed: read once, then cut per fold."""
    if events is None:
        return None
    con = connect()
    try:
        table, where = _checked_events(con, events)
        loaded: pa.Table = con.to_pyarrow(normalise_timestamps(con, table, ["timestamp"], where))
        return loaded
    finally:
        con.disconnect()


def _checked_events(con: Any, events: Source) -> tuple[ir.Table, str]:
    """The events read in ``con``, their required columns checked, and their name."""
    where = describe(events, "events")
    table = read_table(con, events, "events", "events")
    require_columns(table, EVENT_REQUIRED, where)
    return table, where


def events_of(events: pa.Table | None, leads: pa.Table) -> pa.Table | None:
    """The events of these leads only (the others would be reported as unknown)."""
    if events is None:
        return None
    ids = pc.utf8_trim(leads["lead_id"].cast(pa.string()), " \t\r\n")
    keys = pc.utf8_trim(events["lead_id"].cast(pa.string()), " \t\r\n")
    return events.filter(pc.is_in(keys, value_set=ids))
