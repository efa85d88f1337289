"""Helpers for tests: score small hand-made tables through the public API."""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

import leadscore

ENGINES = ("duckdb", "postgres", "spark")
PG_URL = os.environ.get("LEADSCORE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASES: dict[str, str | None] = {"duckdb": None, "postgres": PG_URL, "spark": "local[2]"}
T = datetime(2025, 6, 1)


def shared_folder() -> Path:
    """The workplace's shared folder (``../shared`` beside the project; SPEC data sets).

    ``LEADSCORE_SHARED`` names it when a clone sits elsewhere; else the project's
    sibling, else the workplace's ``/work/shared``.
    """
    candidates = [
        *([Path(os.environ["LEADSCORE_SHARED"])] if "LEADSCORE_SHARED" in os.environ else []),
        Path(__file__).resolve().parents[1].parent / "shared",
        Path("/work/shared"),
    ]
    return next((c for c in candidates if (c / "data").is_dir()), candidates[0])


# The engine and database the scoring helpers use (set per test by conftest.engine).
ENGINE: ContextVar[tuple[str, str | None]] = ContextVar("ENGINE", default=("duckdb", None))


def score(*args: Any, **kwargs: Any) -> pa.Table:
    """``leadscore.score`` on the engine of the running test."""
    engine, db = ENGINE.get()
    return leadscore.score(*args, engine=engine, db=db, **kwargs)  # type: ignore[arg-type]


EVENT_SCHEMA = {"lead_id": pa.string(), "type": pa.string(), "timestamp": pa.timestamp("us")}


def days_ago(days: float) -> datetime:
    """The instant ``days`` before T (fractions allowed, microsecond precision)."""
    return T - timedelta(days=days)


def events_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Events from dicts; typed lead_id/type/timestamp columns, the rest inferred."""
    names = list(dict.fromkeys(k for row in rows for k in row)) or list(EVENT_SCHEMA)
    columns = {name: [row.get(name) for row in rows] for name in names}
    arrays = {
        name: pa.array(values, type=EVENT_SCHEMA.get(name)) for name, values in columns.items()
    }
    return pa.table(arrays)


def leads_table(rows: list[dict[str, Any]]) -> pa.Table:
    names = list(dict.fromkeys(k for row in rows for k in row))
    return pa.table({name: [row.get(name) for row in rows] for name in names})


def score_rows(
    model: dict[str, Any] | leadscore.Model,
    leads: list[dict[str, Any]] | pa.Table,
    events: list[dict[str, Any]] | None = None,
    as_of: datetime = T,
) -> dict[str, dict[str, Any]]:
    """Score and return the explained rows keyed by lead_id (as text)."""
    loaded = (
        model
        if isinstance(model, leadscore.Model)
        else leadscore.load_model({"name": "test", **model})
    )
    lead_table = leads if isinstance(leads, pa.Table) else leads_table(leads)
    event_table = None if events is None else events_table(events)
    result = score(loaded, lead_table, event_table, as_of, explain=True)
    return {str(row["lead_id"]): row for row in result.to_pylist()}
