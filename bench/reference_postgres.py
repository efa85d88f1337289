"""Run the hand-written PostgreSQL query (bench/reference_postgres.sql) of the bench model.

    python bench/reference_postgres.py --leads L.parquet --events E.parquet --out O.parquet \
        [--db postgresql://postgres@127.0.0.1:5432/test] [--schema leadscore_bench]

Loads the two Parquet files into tables `leads` and `events` of a schema of their own
(COPY from Arrow's CSV writer, then ANALYZE), unless that schema already holds these
very files (same names, sizes and modification times: `--reload` forces it), then runs
the query and writes every lead's result to O.parquet. Prints one JSON line on stdout:
``{"seconds": ..., "load_seconds": ..., "rows": ..., "server_peak": ...}``: the query
(fetch and Parquet writing included, as the DuckDB reference's COPY includes them)
and the load, timed apart; `server_peak` is the peak RSS of the PostgreSQL backend
that ran the query (VmHWM, parallel workers not included), 0 when unreadable.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql

SQL_FILE = Path(__file__).with_name("reference_postgres.sql")
AS_OF = "2025-06-01T00:00:00Z"
DEFAULT_DB = os.environ.get("LEADSCORE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BATCH_ROWS = 131_072

# Arrow type -> PostgreSQL column type; anything else is an error (the bench data uses
# only these).
PG_TYPES = {
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.float64(): "double precision",
    pa.string(): "text",
    pa.large_string(): "text",
    pa.bool_(): "boolean",
    pa.timestamp("us", tz="UTC"): "timestamptz",
    pa.timestamp("us"): "timestamp",
}

RESULT_FIELDS: list[pa.Field[Any]] = [
    pa.field("lead_id", pa.int64()),
    pa.field("fit", pa.float64()),
    pa.field("grade", pa.string()),
    pa.field("engagement", pa.float64()),
    pa.field("level", pa.int32()),
    pa.field("matrix", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("stage", pa.string()),
    pa.field("top_interest", pa.string()),
    pa.field("interest_lathes", pa.float64()),
    pa.field("interest_robotics", pa.float64()),
    pa.field("interest_service", pa.float64()),
    pa.field("disqualified_by", pa.string()),
]
RESULT_SCHEMA = pa.schema(RESULT_FIELDS)


def statements() -> tuple[list[str], str]:
    """Split reference_postgres.sql into its setting statements and its final query."""
    parts = [p.strip() for p in SQL_FILE.read_text(encoding="utf-8").split(";\n")]
    parts = [
        p for p in parts if p and not all(ln.lstrip().startswith("--") for ln in p.splitlines())
    ]
    *settings, query = parts
    return settings, query.rstrip(";")


def column_type(field: pa.Field[Any]) -> str:
    kind = field.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if kind not in PG_TYPES:
        raise ValueError(f"column {field.name}: no PostgreSQL type for Arrow {kind}")
    return PG_TYPES[kind]


def fingerprint(*paths: str | Path) -> str:
    parts = []
    for path in paths:
        stat = Path(path).stat()
        parts.append(f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def copy_parquet(conn: psycopg.Connection, path: str | Path, table: str, schema: str) -> None:
    """CREATE TABLE schema.table from the file's columns, then COPY its rows in."""
    parquet = pq.ParquetFile(path)
    fields = list(parquet.schema_arrow)
    target = sql.Identifier(schema, table)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(column_type(f))) for f in fields
    )
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
    plain = pa.schema(
        [
            pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
            for f in fields
        ]
    )
    # Arrow's CSV writer quotes every string and leaves nulls unquoted and empty, which
    # is exactly how PostgreSQL's CSV format tells '' from NULL. Floats are written in
    # their shortest round-trip form, NaN as `nan` (accepted by float8in).
    options = pa_csv.WriteOptions(include_header=False)
    copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            buffer = io.BytesIO()
            pa_csv.write_csv(pa.Table.from_batches([batch]).cast(plain), buffer, options)
            copy.write(buffer.getbuffer())
    conn.execute(sql.SQL("ANALYZE {}").format(target))


def load(
    conn: psycopg.Connection,
    leads: str | Path,
    events: str | Path,
    schema: str,
    reload: bool = False,
) -> bool:
    """Make `schema` hold the two files as tables `leads` and `events`; False if it did."""
    mark = fingerprint(leads, events)
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        [schema],
    ).fetchone()
    if row is not None and row[0] == mark and not reload:
        return False
    name = sql.Identifier(schema)
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))
    copy_parquet(conn, leads, "leads", schema)
    copy_parquet(conn, events, "events", schema)
    conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(name, sql.Literal(mark)))
    conn.commit()
    return True


def backend_peak(conn: psycopg.Connection) -> int:
    """VmHWM of this connection's server process in bytes; 0 when not readable here."""
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    try:
        status = Path(f"/proc/{row[0] if row else 0}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def run_query(
    conn: psycopg.Connection, schema: str, out: str | Path, as_of: str = AS_OF
) -> tuple[float, int]:
    """Run the query over `schema` and write its rows to `out`; (seconds, rows)."""
    conn.execute(sql.SQL("SET search_path = {}, public").format(sql.Identifier(schema)))
    conn.execute("SELECT set_config('leadscore.as_of', %s, false)", [as_of])
    settings, query = statements()
    for stmt in settings:
        conn.execute(stmt)
    start = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(query)
        names = [d.name for d in cur.description or []]
        rows = cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    types = [RESULT_SCHEMA.field(name).type for name in names]
    arrays = [pa.array(col, kind) for col, kind in zip(columns, types, strict=True)]
    table = pa.Table.from_arrays(arrays, names=names)
    pq.write_table(table, out)
    seconds = time.perf_counter() - start
    conn.rollback()
    return seconds, len(rows)


def score_to_parquet(
    leads: str | Path,
    events: str | Path,
    out: str | Path,
    as_of: str = AS_OF,
    db: str = DEFAULT_DB,
    schema: str = "leadscore_bench",
    reload: bool = False,
    drop: bool = False,
) -> dict[str, float]:
    """Load (if needed), score every lead into `out`; the timings of both steps."""
    with psycopg.connect(db) as conn:
        start = time.perf_counter()
        loaded = load(conn, leads, events, schema, reload)
        load_seconds = time.perf_counter() - start
        seconds, rows = run_query(conn, schema, out, as_of)
        peak = backend_peak(conn)
        if drop:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            conn.commit()
    return {
        "seconds": seconds,
        "load_seconds": load_seconds if loaded else 0.0,
        "rows": float(rows),
        "server_peak": float(peak),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--schema", default="leadscore_bench")
    parser.add_argument("--reload", action="store_true", help="load even if already loaded")
    parser.add_argument("--drop", action="store_true", help="drop the schema afterwards")
    args = parser.parse_args(argv)
    result = score_to_parquet(
        args.leads,
        args.events,
        args.out,
        args.as_of,
        args.db,
        args.schema,
        args.reload,
        args.drop,
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
