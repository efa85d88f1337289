"""Leads and events made ready for the compiler: checked, typed, properties exposed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from leadscore.engine.io import (
    EVENT_REQUIRED,
    LEAD_REQUIRED,
    Source,
    _first_rows,
    normalise_timestamps,
    read_table,
    require_columns,
)
from leadscore.engine.values import Reading
from leadscore.errors import ErrorCode, Issue, LeadscoreError
from leadscore.model import Model
from leadscore.quality.derive import DERIVED_FIELDS, derive


@ibis.udf.scalar.builtin(name="json_extract_string")
def _json_text(value: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB's JSON text extraction."""


log = logging.getLogger("leadscore")


@dataclass(frozen=True)
class Inputs:
    """The tables a scoring query reads, and where they came from (for messages)."""

    leads: ir.Table
    events: ir.Table | None
    leads_name: str
    events_name: str
    warnings: tuple[str, ...] = ()


def describe(source: Source, role: str) -> str:
    return str(source) if isinstance(source, str) or hasattr(source, "suffix") else role


def load_inputs(
    con: Any,
    model: Model,
    leads: Source,
    events: Source | None,
    derived: Iterable[str] = (),
    cutoff: str | None = None,
) -> Inputs:
    """Read, check and type the inputs of ``model``; raise on anything unreadable.

    The data-quality step adds the derived fields (SPEC §2) the model reads, and
    those asked for in ``derived``, before scoring. ``cutoff`` names a lead column
    of per-lead scoring instants, checked and parsed like every timestamp.
    """
    leads_name = describe(leads, "leads")
    lead_table = read_table(con, leads, "leads", "leads")
    require_columns(lead_table, (*LEAD_REQUIRED, *([cutoff] if cutoff else [])), leads_name)
    instants = ["created_at"] if model.inactivity_rules else []
    instants += [cutoff] if cutoff else []
    if instants:
        lead_table = normalise_timestamps(con, lead_table, instants, leads_name)
    _check_unique_ids(con, lead_table, leads_name)
    wanted = [f for f in DERIVED_FIELDS if f in model.lead_fields() or f in set(derived)]
    if wanted:
        lead_table = derive(lead_table, wanted)
    warnings = [
        *_absent(
            model.lead_fields() - set(DERIVED_FIELDS),
            lead_table,
            leads_name,
            "fit, disqualify and stage conditions",
        )
    ]
    event_table = None
    events_name = describe(events, "events") if events is not None else "events"
    if events is not None:
        event_table = read_table(con, events, "events", "events")
        require_columns(event_table, EVENT_REQUIRED, events_name)
        event_table = normalise_timestamps(con, event_table, ["timestamp"], events_name)
        event_table = expose_properties(event_table, model.event_properties())
        if "properties" not in event_table.columns:
            warnings += _absent(
                model.event_properties(), event_table, events_name, "engagement rules"
            )
    for warning in warnings:
        log.warning(warning)
    return Inputs(lead_table, event_table, leads_name, events_name, tuple(warnings))


def _absent(names: set[str], table: ir.Table, where: str, readers: str) -> list[str]:
    """SPEC §3: a missing field fails every test; say so, since it is often a typo."""
    missing = sorted(n for n in names if n not in table.columns)
    if not missing:
        return []
    listed = ", ".join(repr(n) for n in missing)
    return [
        f"{where} has no column {listed}, read by the {readers}: every test on it is "
        "false (add the column, or correct the model)."
    ]


def _check_unique_ids(con: Any, leads: ir.Table, where: str) -> None:
    key = Reading(leads.lead_id, "lead_id")
    blank = ~key.present()
    if con.to_pyarrow(leads.filter(blank).count()).as_py():
        rows = _first_rows(con, leads.mutate(_problem=blank), "lead_id")
        raise LeadscoreError(
            ErrorCode.BAD_DATA,
            f"{where}: leads without a lead_id:",
            issues=[
                Issue(f"{where} row {int(r['_row'])}", "lead_id is empty") for r in rows.to_pylist()
            ],
            hint="Every lead needs a unique lead_id.",
        )
    ids = key.trimmed() if key.dtype.is_string() else leads.lead_id
    counted = leads.group_by(_id=ids).aggregate(n=lambda t: t.count())
    repeated = con.to_pyarrow(counted.filter(counted.n > 1).order_by("_id").limit(3))
    if repeated.num_rows:
        raise LeadscoreError(
            ErrorCode.DUPLICATE_LEAD,
            f"{where}: repeated lead_id values:",
            issues=[
                Issue(where, f"lead_id {r['_id']!r} appears {r['n']} times")
                for r in repeated.to_pylist()
            ],
            hint="Each lead must appear once; merge the rows or give them distinct ids.",
        )


def expose_properties(events: ir.Table, names: Iterable[str]) -> ir.Table:
    """Make every property the model reads a column (SPEC §2).

    A property can be a column or a key of a JSON ``properties`` column; a
    non-empty column wins over the key of the same name.
    """
    wanted = sorted(set(names))
    if "properties" not in events.columns:
        return events
    props = events.properties
    extracted = {}
    for name in wanted:
        if props.type().is_struct():
            value = props[name] if name in props.type().names else ibis.null("string")
        else:
            value = _json_text(props.cast("string"), f'$."{name}"')
        if name in events.columns:
            column = Reading(events[name], name)
            value = column.present().ifelse(events[name].cast("string"), value.cast("string"))
        extracted[name] = value
    return events.mutate(**extracted)
