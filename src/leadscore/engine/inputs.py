"""Leads and events made ready for the compiler: checked, typed, properties exposed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from leadscore.engine import Source, kept_runs
from leadscore.engine.backends import engine_table, is_table_name, upload
from leadscore.engine.io import (
    EVENT_REQUIRED,
    LEAD_REQUIRED,
    _first_rows,
    arrow_batches,
    connect,
    fetch,
    fetch_value,
    normalise_timestamps,
    read_table,
    require_columns,
)
from leadscore.engine.values import Reading
from leadscore.errors import ErrorCode, Issue, LeadscoreError
from leadscore.model import Model
from leadscore.quality.derive import DERIVED_FIELDS, derive


@ibis.udf.scalar.builtin(name="json_extract_string")
def _duckdb_json_text(value: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB's JSON text extraction."""


@ibis.udf.scalar.builtin(name="get_json_object")
def _spark_json_text(value: str, path: str) -> str:  # type: ignore[empty-body]
    """Spark's JSON text extraction."""


def _json_text(engine: str, document: ir.StringValue, key: str) -> ir.StringValue:
    """The text of a top-level key of a JSON object; null when absent or not JSON."""
    if engine == "pyspark":
        return _spark_json_text(document, f"$['{key}']")
    if engine == "postgres":
        return document.cast("json")[key].str
    return _duckdb_json_text(document, f'$."{key}"')


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
    ids_checked: bool = False,
) -> Inputs:
    """Read, check and type the inputs of ``model``; raise on anything unreadable.

    The data-quality step adds the derived fields (SPEC §2) the model reads, and
    those asked for in ``derived``, before scoring. ``cutoff`` names a lead column
    of per-lead scoring instants, checked and parsed like every timestamp.
    ``ids_checked``: an earlier run found every ``lead_id`` of these leads unique.
    """
    leads_name = describe(leads, "leads")
    instants = ["created_at"] if model.inactivity_rules else []
    instants += [cutoff] if cutoff else []
    required = (*LEAD_REQUIRED, *([cutoff] if cutoff else []))
    asked = {*model.lead_fields(), *derived, *(["duplicate_of"] if model.merge_duplicates else [])}
    wanted = [f for f in DERIVED_FIELDS if f in asked]

    def prepare(reader: Any, table: ir.Table) -> ir.Table:
        if not ids_checked:
            _check_unique_ids(reader, table, leads_name)
        return derive(table, wanted) if wanted else table

    lead_table = stage(con, leads, "leads", leads_name, required, instants, prepare)
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
        event_table = stage(con, events, "events", events_name, EVENT_REQUIRED, ["timestamp"])
        event_table = expose_properties(event_table, model.event_properties(), con.name)
        if "properties" not in event_table.columns:
            warnings += _absent(
                model.event_properties(), event_table, events_name, "engagement rules"
            )
    for warning in warnings:
        log.warning(warning)
        kept_runs.warned(warning)
    return Inputs(lead_table, event_table, leads_name, events_name, tuple(warnings))


def stage(
    con: Any,
    source: Source,
    role: str,
    where: str,
    required: Iterable[str],
    timestamps: Iterable[str],
    prepare: Callable[[Any, ir.Table], ir.Table] | None = None,
) -> ir.Table:
    """Read one input, check its columns and timestamps, and put it in the engine.

    Files and in-memory tables are read and checked by DuckDB (the engine itself
    or an embedded one, whose result is uploaded); a table name is read in place.
    ``prepare(con, table)`` runs where the data is read, before any upload: checks
    and derived fields cost one local pass instead of jobs on a remote engine.
    """
    named = is_table_name(source) and (con.name != "duckdb" or _duckdb_has(con, str(source)))
    in_engine = con.name == "duckdb" or named
    reader = con if in_engine else connect()
    try:
        if named:
            table = engine_table(con, str(source), role)
        else:
            table = read_table(reader, source, role, role, timestamps)
        require_columns(table, required, where)
        table = normalise_timestamps(reader, table, timestamps, where)
        if prepare is not None:
            table = prepare(reader, table)
        if in_engine:
            return table
        # Nested values (a JSON ``properties`` read as a struct) travel as JSON text.
        nested = {
            c: table[c].cast("json").cast("string")
            for c in table.columns
            if table[c].type().is_nested()
        }
        return upload(con, arrow_batches(reader, table.mutate(**nested)), role)
    finally:
        if reader is not con:
            reader.disconnect()


def _duckdb_has(con: Any, name: str) -> bool:
    """Whether a DuckDB database has this table or view (ibis 12's list_tables fails on
    DuckDB 2)."""
    schema, _, table = name.rpartition(".")
    found = con.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND (? = '' OR table_schema = ?)",
        [table, schema, schema],
    ).fetchall()
    return bool(found[0][0])


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
    if fetch_value(con, leads.filter(blank).count()):
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
    repeated = fetch(con, counted.filter(counted.n > 1).order_by("_id").limit(3))
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


def expose_properties(events: ir.Table, names: Iterable[str], engine: str = "duckdb") -> ir.Table:
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
            value = _json_text(engine, props.cast("string"), name)
        if name in events.columns:
            column = Reading(events[name], name)
            value = column.present().ifelse(events[name].cast("string"), value.cast("string"))
        extracted[name] = value
    return events.mutate(**extracted)
