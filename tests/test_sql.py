"""``leadscore sql``: the printed SQL, run on each engine, scores like ``leadscore score``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import leadscore
from leadscore.cli import app
from leadscore.engine.backends import connect_engine
from leadscore.sql import DIALECTS, scoring_sql
from support import DATABASES, PG_URL, T, days_ago, events_table, leads_table, shared_folder

MODEL_FILE: dict[str, Any] = {
    "name": "warehouse",
    "fit": {
        "rules": [
            {"id": "ceo", "when": {"job_title": {"in": ["ceo", "founder"]}}, "points": 20},
            {"id": "big", "when": {"company_size": {"gte": 100}}, "points": 10},
        ],
        "grades": [{"grade": "A", "min": 25}, {"grade": "B"}],
    },
    "engagement": {
        "half_life_days": 10,
        "window_days": 60,
        "rules": [
            {"id": "pv", "event": "page_view", "points": 2, "max_points": 9},
            {
                "id": "pricing",
                "event": "page_view",
                "when": {"url": {"contains": "/pricing"}},
                "points": 5,
                "once": True,
            },
            {"id": "sessions", "event": "page_view", "distinct": "session_id", "points": 1},
            {"id": "thrice", "event": "email_open", "min_count": 3, "points": 6},
        ],
        "inactivity": [{"id": "dormant", "days": 30, "points": -8}],
        "levels": [{"level": 1, "min": 10}, {"level": 2}],
    },
    "stages": [{"stage": "MQL", "min_score": 30}, {"stage": "lead"}],
}
MODEL = leadscore.load_model(MODEL_FILE)
LEADS = leads_table(
    [
        {"lead_id": "a", "job_title": " CEO", "company_size": "250", "created_at": days_ago(90)},
        {"lead_id": "b", "job_title": "Engineer", "company_size": "12", "created_at": days_ago(5)},
        {"lead_id": "c", "job_title": "founder", "company_size": None, "created_at": None},
    ]
)
EVENTS = events_table(
    [
        {"lead_id": "a", "type": "page_view", "timestamp": days_ago(1), "url": "/pricing",
         "session_id": "s1"},
        {"lead_id": "a", "type": "page_view", "timestamp": days_ago(2.5), "url": "/blog",
         "session_id": "s1"},
        {"lead_id": "a", "type": "page_view", "timestamp": days_ago(20), "url": "/pricing",
         "session_id": "s2"},
        {"lead_id": "a", "type": "email_open", "timestamp": days_ago(3), "url": None,
         "session_id": None},
        {"lead_id": "b", "type": "email_open", "timestamp": days_ago(1), "url": None,
         "session_id": None},
        {"lead_id": "b", "type": "email_open", "timestamp": days_ago(4), "url": None,
         "session_id": None},
        {"lead_id": "b", "type": "email_open", "timestamp": days_ago(9), "url": None,
         "session_id": None},
        {"lead_id": "c", "type": "page_view", "timestamp": days_ago(70), "url": "/pricing",
         "session_id": "s9"},
    ]
)  # fmt: skip
COLUMNS = ["lead_id", "fit", "grade", "engagement", "level", "matrix", "score", "stage"]


def rows(table: pa.Table) -> list[dict[str, Any]]:
    result = table.select(COLUMNS).to_pylist()
    for row in result:
        for key in ("fit", "engagement", "score"):
            row[key] = round(row[key], 9)
    return sorted(result, key=lambda r: r["lead_id"])


@pytest.fixture(scope="module")
def expected() -> list[dict[str, Any]]:
    return rows(leadscore.score(MODEL, LEADS, EVENTS, T))


def fixed_sql(dialect: str, suffix: str) -> str:
    return scoring_sql(
        MODEL,
        dialect,
        leads=f"leads_{suffix}",
        events=f"events_{suffix}",
        as_of=T,  # type: ignore[arg-type]
    )


def test_duckdb_sql(expected):
    suffix = uuid.uuid4().hex[:8]
    con = duckdb.connect()
    con.register("l", LEADS)
    con.register("e", EVENTS)
    con.execute(f"CREATE TABLE leads_{suffix} AS SELECT * FROM l")
    con.execute(f"CREATE TABLE events_{suffix} AS SELECT * FROM e")
    assert rows(con.sql(fixed_sql("duckdb", suffix)).to_arrow_table()) == expected


def test_postgres_sql(expected):
    suffix = uuid.uuid4().hex[:8]
    con = connect_engine("postgres", PG_URL)
    try:
        for name, data in (("leads", LEADS), ("events", EVENTS)):
            con.create_table(f"{name}_{suffix}", data.to_pandas(), temp=True)
        with con.con.cursor() as cursor:
            cursor.execute(fixed_sql("postgres", suffix))
            names = [d.name for d in cursor.description]
            result = pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in cursor])
    finally:
        con.disconnect()
    assert rows(result) == expected


def test_spark_sql(expected):
    suffix = uuid.uuid4().hex[:8]
    session = connect_engine("spark", DATABASES["spark"])._session
    for name, data in (("leads", LEADS), ("events", EVENTS)):
        session.createDataFrame(data).createOrReplaceTempView(f"{name}_{suffix}")
    frame = session.sql(fixed_sql("spark", suffix).rstrip().rstrip(";"))
    result = pa.Table.from_pylist([r.asDict() for r in frame.collect()])
    assert rows(result) == expected


def test_by_default_t_is_when_the_query_runs():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("leads", LEADS)
    con.register("events", EVENTS)
    result = rows(con.sql(scoring_sql(MODEL, "duckdb")).to_arrow_table())
    # Today every event of 2025 is outside the 60-day window: no engagement.
    assert datetime.now() > datetime(2025, 9, 1)
    assert [r["engagement"] for r in result] == [-8.0, -8.0, -8.0]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_command_prints_sql_for_every_dialect(tmp_path, dialect):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(MODEL_FILE))
    result = CliRunner().invoke(
        app, ["sql", "-m", str(path), "--dialect", dialect, "--leads-table", "crm.leads"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"-- leadscore model 'warehouse' for {dialect}")
    assert "SELECT" in result.output and "leads" in result.output


def test_an_unknown_dialect_exits_2(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(MODEL_FILE))
    result = CliRunner().invoke(app, ["sql", "-m", str(path), "--dialect", "oracle"])
    assert result.exit_code == 2


@pytest.mark.parametrize(("dialect", "tested"), [("duckdb", "NOT "), ("postgres", "")])
def test_the_events_are_streamed_and_the_small_parts_kept(dialect, tested):
    """DuckDB and PostgreSQL would hold every event in memory for a CTE read twice;
    PostgreSQL computes the tested events once for its many readers (sharing.fenced)."""
    sql = scoring_sql(MODEL, dialect, event_id=True)
    assert re.search(r'"streamed_events_\d+" AS NOT MATERIALIZED', sql)
    assert re.search(rf'"fenced_tested_events_\d+" AS {tested}MATERIALIZED', sql)
    assert re.search(r'"kept_url_tests_\d+" AS MATERIALIZED', sql)
    assert re.search(r'"kept_repeated_ids_\d+" AS MATERIALIZED', sql)


def test_spark_and_warehouses_get_plain_ctes():
    for dialect in ("spark", "snowflake", "bigquery"):
        assert "MATERIALIZED" not in scoring_sql(MODEL, dialect, event_id=True)


def test_the_sql_is_the_same_in_every_process():
    """Scheduled in a warehouse or kept in dbt, regenerated SQL must not differ for
    nothing: Python's string hashing changes per process (PYTHONHASHSEED), and a
    set's order with it."""
    model = shared_folder() / "bench" / "model.yaml"  # many text columns, many rules
    command = [str(Path(sys.executable).parent / "leadscore"), "sql", "-m", str(model)]
    command += ["--as-of", T.isoformat()]
    printed = {
        subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(printed) == 1
    assert "SELECT" in printed.pop()
