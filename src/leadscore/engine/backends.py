"""The engines a model runs on: embedded DuckDB, PostgreSQL and Spark (DESIGN.md).

The compiled query is the same ibis expression everywhere; what differs is how
to connect, how files reach the engine and how results leave it:

- files are read and checked by an embedded DuckDB (CSV sniffing, timestamps
  with row numbers in errors), then uploaded to the engine as a temporary table;
- a source that is not a file names a table already in the engine's database;
- results stream back in Arrow batches and are written locally, atomically.
"""

from __future__ import annotations

import atexit
import io
import os
import sys
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any, get_args

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from leadscore.engine import Engine, kept_runs, sharing
from leadscore.errors import ErrorCode, LeadscoreError

ENGINES: tuple[str, ...] = get_args(Engine)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
SPARK_LOCAL = "local[*]"


def check_engine(engine: str) -> Engine:
    """The engine's name, or a clear error."""
    if engine not in ENGINES:
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"Unknown engine {engine!r}.",
            hint=f"Use --engine with one of {', '.join(ENGINES)}.",
        )
    return engine  # type: ignore[return-value]


def connect_engine(engine: str, db: str | None = None, memory_limit: str | None = None) -> Any:
    """An ibis connection to ``engine``; ``db`` is its URL (a file for DuckDB).

    PostgreSQL: ``postgresql://user@host:port/database``. Spark: a master URL
    (``spark://host:7077``; default ``local[*]``, in this process).
    """
    from leadscore.engine.io import connect

    name = check_engine(engine)
    if name == "duckdb":
        return connect(memory_limit, database=db)
    if name == "postgres":
        return _connect_postgres(db or DEFAULT_POSTGRES)
    return _connect_spark(db or SPARK_LOCAL, memory_limit)


def _connect_postgres(url: str) -> Any:
    try:
        con = ibis.connect(url if "://" in url else f"postgresql://{url}")
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LeadscoreError(
            ErrorCode.ENGINE_UNREACHABLE,
            f"Cannot connect to PostgreSQL at {_safe_url(url)}: {reason}",
            hint="Check the --db URL (postgresql://user:password@host:port/database) and "
            "that the server is running and accepts connections.",
        ) from None
    sharing.install(con)
    con.raw_sql("SET TIME ZONE 'UTC'").close()
    # Results are read through a cursor, which PostgreSQL plans for the first 10 %
    # of rows by default: nested loops over the aggregates, hours instead of seconds.
    con.raw_sql("SET cursor_tuple_fraction = 1.0").close()
    # JIT-compiling a query this large costs more than running it (measured: 40 s).
    con.raw_sql("SET jit = off").close()
    # Row estimates through the text tests are tiny (rows=1), and PostgreSQL then
    # nests loops over thousands of rows: the scoring query is all scans and hashes.
    con.raw_sql("SET enable_nestloop = off").close()
    # With the default 4MB each sort and hash of the query spilled to disk: 6.7 s
    # against 6.2 s at 500k events. SET lasts for this connection only.
    con.raw_sql("SET work_mem = '256MB'").close()
    return con


def _connect_spark(master: str, memory_limit: str | None) -> Any:
    # Spark's Python workers must run this interpreter (it has the same packages).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # pyspark 4.0 still passes copy= to pandas 3; users need not see it.
    warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
    try:
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(master)
            .appName("leadscore")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 1)))
            .config("spark.sql.warehouse.dir", tempfile.gettempdir() + "/leadscore-spark")
        )
        if memory_limit:
            builder = builder.config("spark.driver.memory", memory_limit.replace("B", ""))
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LeadscoreError(
            ErrorCode.ENGINE_UNREACHABLE,
            f"Cannot start Spark with master {master!r}: {reason}",
            hint="Spark needs Java 17 (`java -version`); check the spark:// URL.",
        ) from None
    return sharing.install(ibis.pyspark.connect(session))


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def is_table_name(source: object) -> bool:
    """A source naming a table in the engine: text that is not an existing file."""
    if not isinstance(source, str | Path):
        return False
    path = Path(source)
    return not path.suffix and not path.exists()


def engine_table(con: Any, name: str, role: str) -> ir.Table:
    """A table already in the engine's database (``schema.table`` allowed)."""
    database, _, table = str(name).rpartition(".")
    try:
        return con.table(table, database=database or None)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LeadscoreError(
            ErrorCode.UNREADABLE_FILE,
            f"The {role} table {name!r} cannot be read in {con.name}: {reason}",
            hint="Check the table name (schema.table) and your rights on it; files need "
            "an extension (.csv, .parquet, .jsonl).",
        ) from None


def upload(con: Any, data: pa.RecordBatchReader, role: str) -> ir.Table:
    """Copy checked input data into a temporary table of the engine."""
    name = f"leadscore_{role}_{uuid.uuid4().hex[:12]}"
    if con.name == "pyspark":
        session = con._session
        if session.sparkContext.master.startswith("local"):
            frame = session.read.parquet(str(_spill(data, name)))
        else:  # a cluster's executors cannot read this machine's files
            frame = session.createDataFrame(data.read_all())
        frame.createOrReplaceTempView(name)
        return con.table(name)
    if con.name == "postgres":
        return _copy_to_postgres(con, data, name)
    if con.name == "duckdb":  # ibis' create_table imports pandas, 0.4 s of a command
        con.con.register(f"{name}_source", data)
        con.con.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM "{name}_source"')
        con.con.unregister(f"{name}_source")
        kept_runs.unreplayable()  # the table holds data of this process
        return con.table(name)
    return con.create_table(name, data.read_all(), temp=True)


def _spill(data: pa.RecordBatchReader, name: str) -> Path:
    """Stream the batches to a Parquet file that a local Spark reads as it needs.

    Handing Spark the whole table through Arrow goes through the driver's heap
    (1 GiB by default): 5M events already overflow it. The file lives until this
    process ends.
    """
    folder = Path(tempfile.gettempdir()) / "leadscore-spark-uploads"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.parquet"
    schema = _typed(data.schema)
    with pq.ParquetWriter(path, schema) as writer:
        for batch in data:
            writer.write_batch(batch.cast(schema))
    atexit.register(path.unlink, missing_ok=True)
    return path


def materialize(con: Any, expr: ir.Table, role: str) -> ir.Table:
    """Compute ``expr`` once into a temporary table: a small subset read many times."""
    name = f"leadscore_{role}_{uuid.uuid4().hex[:12]}"
    if con.name == "pyspark":
        frame = con._session.sql(con.compile(expr)).localCheckpoint()
        frame.createOrReplaceTempView(name)
        return con.table(name)
    if con.name == "duckdb":  # ibis 12 fetches through a method DuckDB 2 lacks
        con._run_pre_execute_hooks(expr)
        kept_runs.execute(con.con, f'CREATE TEMP TABLE "{name}" AS {con.compile(expr)}')
        return con.table(name)
    table = con.create_table(name, expr, temp=True)
    con.raw_sql(f'ANALYZE "{name}"').close()
    return table


def _typed(schema: pa.Schema) -> pa.Schema:
    """Columns without a type (all null) as text: engines and files need a type."""
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema]
    )


def _copy_to_postgres(con: Any, data: pa.RecordBatchReader, name: str) -> ir.Table:
    """``COPY ... FROM STDIN`` in CSV, batch by batch: fast, and nothing held whole.

    Columns without a type (all null) become text. In PostgreSQL's CSV an unquoted
    empty field is NULL and ``""`` an empty string, as pyarrow writes them.
    """
    target = _typed(data.schema)
    fields = list(target)
    schema = ibis.Schema.from_pyarrow(target)
    con.create_table(name, schema=schema, temp=True)
    columns = ", ".join('"' + f.name.replace('"', '""') + '"' for f in fields)
    options = pa_csv.WriteOptions(include_header=False)
    with con.con.cursor() as cursor, con.con.transaction():
        quoted = '"' + name + '"'
        with cursor.copy(f"COPY {quoted} ({columns}) FROM STDIN (FORMAT csv)") as copy:
            for batch in data:
                buffer = io.BytesIO()
                pa_csv.write_csv(batch.cast(target), buffer, options)
                copy.write(buffer.getvalue())
    con.raw_sql(f"ANALYZE {quoted}").close()  # the planner's row counts and distinct values
    return con.table(name)


def release(con: Any) -> None:
    """Close a connection; a local Spark session stays up for the next job."""
    if con.name != "pyspark":
        con.disconnect()


def writes_tables(con: Any) -> bool:
    """Whether results can go to a table that outlives the job (not in-memory DuckDB)."""
    if con.name != "duckdb":
        return True
    files = con.con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchall()
    return any(path for (path,) in files)


def write_engine_table(con: Any, expr: ir.Table, name: str) -> str:
    """Replace table ``name`` with the rows of ``expr``; readers never see half of it.

    The rows go to a new table first; the old one is swapped out only when they
    are all there (in one transaction on PostgreSQL and DuckDB).
    """
    database, _, table = name.rpartition(".")
    staging = f"{table}__leadscore_{uuid.uuid4().hex[:8]}"
    quote = "`" if con.name == "pyspark" else '"'

    def quoted(identifier: str) -> str:
        return quote + identifier.replace(quote, quote * 2) + quote

    prefix = f"{quoted(database)}." if database else ""
    target, new = prefix + quoted(table), prefix + quoted(staging)
    try:
        if con.name == "duckdb":  # ibis 12 fetches through a method DuckDB 2 lacks
            con._run_pre_execute_hooks(expr)
            con.con.execute(f"CREATE TABLE {new} AS {con.compile(expr)}")
        else:
            con.create_table(staging, expr, database=database or None)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"Cannot write the results to table {name!r} in {con.name}: {reason}",
            hint="Check the schema name and your rights to create tables there.",
        ) from None
    swap = [f"DROP TABLE IF EXISTS {target}", f"ALTER TABLE {new} RENAME TO {quoted(table)}"]
    if con.name == "pyspark":
        swap[1] = f"ALTER TABLE {new} RENAME TO {target}"  # Spark wants the full name
        for statement in swap:
            con._session.sql(statement)
    elif con.name == "postgres":
        with con.con.transaction(), con.con.cursor() as cursor:
            for statement in swap:
                cursor.execute(statement)
    else:
        con.con.execute("BEGIN TRANSACTION")
        for statement in swap:
            con.con.execute(statement)
        con.con.execute("COMMIT")
    return name
