"""Run the hand-written reference query (bench/reference.sql) of the bench model.

    python bench/reference.py --leads L.parquet --events E.parquet --out scores.parquet

Prints one JSON line on stdout: ``{"seconds": ..., "load_seconds": ..., "rows": ...}``:
the time of the query alone, and apart the connection with its settings (reading the
SQL file excluded), which `leadscore.score_file` does in its call too: the API's
ratio is to both. `make bench` runs it in a
fresh subprocess per measurement, so that its peak RSS is the query's own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

SQL_FILE = Path(__file__).with_name("reference.sql")
AS_OF = "2025-06-01T00:00:00Z"


def statements(sql: str | None = None) -> tuple[list[str], str]:
    """Split reference.sql into its setting statements and its final query."""
    text = SQL_FILE.read_text(encoding="utf-8") if sql is None else sql
    parts = [p.strip() for p in text.split(";\n")]
    parts = [
        p for p in parts if p and not all(ln.lstrip().startswith("--") for ln in p.splitlines())
    ]
    *settings, query = parts
    return settings, query.rstrip(";")


def connect(
    leads: str | Path,
    events: str | Path,
    as_of: str = AS_OF,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A connection with the inputs and settings in place, and the query to run on it."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET VARIABLE leads = ?", [str(leads)])
    con.execute("SET VARIABLE events = ?", [str(events)])
    con.execute("SET VARIABLE as_of = ?::TIMESTAMPTZ", [as_of.replace("Z", "+00:00")])
    settings, query = statements()
    for stmt in settings:
        con.execute(stmt)
    return con, query


def score_to_parquet(
    leads: str | Path,
    events: str | Path,
    out: str | Path,
    as_of: str = AS_OF,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> dict[str, float]:
    """Write the reference scores of every lead to `out` (Parquet); time the query,
    and apart (`load_seconds`) the connection and its settings before it."""
    connecting = time.perf_counter()
    con, query = connect(leads, events, as_of, memory_limit, threads)
    escaped = str(out).replace("'", "''")
    start = time.perf_counter()
    rows = con.execute(f"COPY ({query}) TO '{escaped}' (FORMAT parquet)").fetchone()
    seconds = time.perf_counter() - start
    con.close()
    return {
        "seconds": seconds,
        "load_seconds": start - connecting,
        "rows": float(rows[0]) if rows else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--memory-limit")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: one per core)")
    args = parser.parse_args(argv)
    result = score_to_parquet(
        args.leads, args.events, args.out, args.as_of, args.memory_limit, args.threads
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
