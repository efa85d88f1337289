"""Run the hand-written Spark SQL query (bench/reference_spark.sql) of the bench model.

    python bench/reference_spark.py --leads L.parquet --events E.parquet --out O.parquet \
        [--master 'local[*]'] [--driver-memory 2g]

Starts a local PySpark session, makes temporary views `leads` and `events` over the
Parquet files and caches them in memory (setup, timed apart), then runs the query and
writes every lead's result to O.parquet. Prints one JSON line on stdout:
``{"seconds": ..., "load_seconds": ..., "rows": ..., "server_peak": ...}``: the query
(collecting the result as Arrow and writing it included), the setup (JVM start,
reading the files into the cache), and the peak RSS of the Spark JVM (VmHWM), which
runs outside this Python process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import SparkSession

SQL_FILE = Path(__file__).with_name("reference_spark.sql")
AS_OF = "2025-06-01T00:00:00Z"


def statements() -> tuple[list[str], str]:
    """Split reference_spark.sql into its setting statements and its final query."""
    parts = [p.strip() for p in SQL_FILE.read_text(encoding="utf-8").split(";\n")]
    parts = [
        p for p in parts if p and not all(ln.lstrip().startswith("--") for ln in p.splitlines())
    ]
    *settings, query = parts
    return settings, query.rstrip(";")


def session(master: str = "local[*]", driver_memory: str = "2g") -> SparkSession:
    """A quiet local session in UTC (ages never depend on the session time zone, but a
    timestamp literal does)."""
    spark = (
        SparkSession.builder.master(master)
        .appName("leadscore-bench-reference")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # a handful of tasks per core; adaptive execution coalesces the rest
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def quoted(path: str | Path) -> str:
    """A path as a Spark SQL back-quoted identifier."""
    return "`" + str(Path(path).resolve()).replace("`", "``") + "`"


def prepare(spark: SparkSession, leads: str | Path, events: str | Path, as_of: str) -> None:
    """The views and the instant the query reads."""
    spark.sql(f"CREATE OR REPLACE TEMP VIEW leads AS SELECT * FROM parquet.{quoted(leads)}")
    # the row's position in the file breaks ties between copies of an event_id, as
    # DuckDB's file_row_number does for bench/reference.sql
    spark.sql(
        "CREATE OR REPLACE TEMP VIEW events AS "
        f"SELECT *, _metadata.row_index AS file_row_number FROM parquet.{quoted(events)}"
    )
    # Loading is setup, as the COPY into PostgreSQL is: both views are read into
    # Spark's in-memory columnar cache now (CACHE TABLE is eager), so that the query's
    # four scans of the events do not decode the Parquet file four times.
    spark.sql("CACHE TABLE leads")
    spark.sql("CACHE TABLE events")
    literal = as_of.replace("'", "")
    spark.sql(f"DECLARE OR REPLACE VARIABLE as_of TIMESTAMP DEFAULT TIMESTAMP '{literal}'")
    settings, _ = statements()
    for stmt in settings:
        spark.sql(stmt)


def run_query(spark: SparkSession, out: str | Path) -> tuple[float, int]:
    """Run the query and write its rows to `out`; (seconds, rows)."""
    _, query = statements()
    start = time.perf_counter()
    table = spark.sql(query).toArrow()
    pq.write_table(table, out)
    return time.perf_counter() - start, table.num_rows


def jvm_peak(spark: SparkSession) -> int:
    """VmHWM of the Spark JVM in bytes; 0 when not found."""
    try:
        pid = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]
        status = Path(f"/proc/{pid}/status").read_text()
    except (AttributeError, OSError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def score_to_parquet(
    leads: str | Path,
    events: str | Path,
    out: str | Path,
    as_of: str = AS_OF,
    master: str = "local[*]",
    driver_memory: str = "2g",
    spark: SparkSession | None = None,
) -> dict[str, float]:
    """Score every lead into `out` (in `spark` when given, else a session of its own)."""
    start = time.perf_counter()
    own = spark is None
    active = session(master, driver_memory) if spark is None else spark
    prepare(active, leads, events, as_of)
    load_seconds = time.perf_counter() - start
    try:
        seconds, rows = run_query(active, out)
        peak = jvm_peak(active)
    finally:
        if own:
            active.stop()
    return {
        "seconds": seconds,
        "load_seconds": load_seconds,
        "rows": float(rows),
        "server_peak": float(peak),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--driver-memory", default="2g")
    args = parser.parse_args(argv)
    result = score_to_parquet(
        args.leads, args.events, args.out, args.as_of, args.master, args.driver_memory
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
