"""Reading inputs into the embedded DuckDB and writing results atomically.

Inputs are files by extension (``.csv`` with ``,`` or ``;`` auto-detected, UTF-8
with or without BOM; ``.parquet``; ``.jsonl``/``.ndjson``/``.json``), or in-memory
Arrow/pandas tables. CSV cells stay text (SPEC §3: a test may read them as
numbers); typed formats keep their types. Timestamps become naive UTC at
microsecond precision; an unreadable one is an error naming its row.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadscore.engine import Source, files, kept_runs, sharing
from leadscore.engine.backends import write_engine_table, writes_tables
from leadscore.engine.files import READABLE, WRITABLE, literal
from leadscore.engine.progress import Report, watch
from leadscore.errors import ErrorCode, Issue, LeadscoreError

LEAD_REQUIRED = ("lead_id",)
EVENT_REQUIRED = ("lead_id", "type", "timestamp")
LEAD_TIMESTAMPS = ("created_at", "converted_at")
_SHOWN_ROWS = 3


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(
    memory_limit: str | None = None, threads: int | None = None, database: str | None = None
) -> Any:
    """A DuckDB connection through ibis, in UTC, tuned for one big aggregation.

    ``database``: a DuckDB file whose tables the inputs may name (default: in memory).
    """
    try:
        con = ibis.duckdb.connect(database or ":memory:")
    except duckdb.Error as exc:
        raise LeadscoreError(
            ErrorCode.UNREADABLE_FILE,
            f"Cannot open the DuckDB database {database}: {str(exc).splitlines()[0]}",
            hint="Check the --db path.",
        ) from None
    sharing.install(con)
    for statement in settings(memory_limit, threads):
        try:
            kept_runs.execute(con.con, statement)
        except duckdb.Error as exc:  # only a --memory-limit comes from the user
            raise LeadscoreError(
                ErrorCode.BAD_ARGUMENT,
                f"--memory-limit {memory_limit!r} is not a size DuckDB understands: {exc}",
                hint="Write it like 2GB or 512MB.",
            ) from None
    return con


def settings(memory_limit: str | None = None, threads: int | None = None) -> list[str]:
    """The settings of every DuckDB connection: UTC, tuned for one big aggregation."""
    statements = [
        "SET TimeZone = 'UTC'",
        "SET python_enable_replacements = false",  # as ibis sets it
        "SET preserve_insertion_order = false",
        "SET disabled_optimizers = 'build_side_probe_side'",
        # Track progress for our bar on stderr; DuckDB must not print its own to stdout.
        "SET enable_progress_bar = true",
        "SET enable_progress_bar_print = false",
    ]
    if memory_limit:
        spill = literal(tempfile.gettempdir() + "/leadscore.tmp")
        statements += [
            f"SET memory_limit = {literal(memory_limit)}",
            f"SET temp_directory = {spill}",
        ]
    else:
        # DuckDB bounds an operator's memory only when it can spill to disk; at 50M
        # events its per-lead aggregation then went external in about one run in ten
        # (4x the time: bench/README.md). Without --memory-limit nothing spills, the
        # run stays in memory (up to DuckDB's default limit, 80% of RAM), and a run
        # that needs more fails with a message asking for --memory-limit.
        statements.append("SET temp_directory = ''")
    if threads:
        statements.append(f"SET threads = {int(threads)}")
    return statements


def read_table(
    con: Any, source: Source, name: str, role: str, timestamps: Iterable[str] = ()
) -> ir.Table:
    """Expose ``source`` as a DuckDB view ``name``; ``role`` names it in messages.

    Zoned ``timestamps`` columns are read as naive UTC in the view itself
    (:func:`normalise_timestamps` then has nothing to do): DuckDB prunes a file's row
    groups by a filter on such a column only when the conversion is in the view
    reading the file (a filter on an expression over a view's column is not pushed
    into the scan). A run told the new events at a later T filters the events by
    time: a day's worth of events a year ago, read in 0.07 s instead of 1.2 s.
    """
    raw = con.con
    if isinstance(source, ir.Table):
        return source
    if not isinstance(source, str | Path):
        try:
            raw.register(f"{name}_input", source)
            view = _naive_view(raw, f"{name}_input", timestamps)
        except (duckdb.Error, TypeError, ValueError) as exc:
            raise LeadscoreError(
                ErrorCode.BAD_ARGUMENT,
                f"The {role} are a {type(source).__name__}, which cannot be read: {exc}",
                hint="Pass a file path, a pyarrow Table or a pandas DataFrame.",
            ) from None
        raw.execute(f"CREATE OR REPLACE TEMP VIEW {_quote(name)} AS {view}")
        return con.table(name)
    path = Path(source)
    kind = READABLE.get(path.suffix.lower())
    if kind is None:
        raise LeadscoreError(
            ErrorCode.UNREADABLE_FILE,
            f"Cannot read the {role} file {path}: unknown extension {path.suffix!r}.",
            hint=f"Use one of {', '.join(sorted(READABLE))}.",
        )
    if not path.is_file():
        raise LeadscoreError(
            ErrorCode.UNREADABLE_FILE,
            f"Cannot read the {role} file {path}: it does not exist.",
            hint="Check the path.",
        )
    reader = {
        "csv": f"read_csv({literal(str(path))}, header = true, all_varchar = true)",
        "parquet": f"read_parquet({literal(str(path))})",
        "json": f"read_json({literal(str(path))}, format = 'auto')",
    }[kind]
    try:
        view = _naive_view(raw, reader, timestamps)
        kept_runs.execute(raw, f"CREATE OR REPLACE TEMP VIEW {_quote(name)} AS {view}")
        raw.execute(f"SELECT * FROM {_quote(name)} LIMIT 0").fetchall()
        kept_runs.answered(raw, f"DESCRIBE {_quote(name)}")  # the columns, as ibis reads them
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise LeadscoreError(
            ErrorCode.UNREADABLE_FILE,
            f"Cannot read the {role} file {path} as {kind.upper()}: {reason}",
            hint="Check that the file is complete and in the format its extension says "
            "(CSV must be UTF-8).",
        ) from None
    return con.table(name)


def _naive_view(raw: Any, reader: str, timestamps: Iterable[str]) -> str:
    """``SELECT * FROM reader``, its zoned ``timestamps`` columns as naive UTC."""
    wanted = set(timestamps)
    described = raw.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall() if wanted else []
    zoned = [c for c, kind, *_ in described if c in wanted and kind == "TIMESTAMP WITH TIME ZONE"]
    if not zoned:
        return f"SELECT * FROM {reader}"
    naive = ", ".join(f"make_timestamp(epoch_us({_quote(c)})) AS {_quote(c)}" for c in zoned)
    return f"SELECT * REPLACE ({naive}) FROM {reader}"


def require_columns(table: ir.Table, required: Iterable[str], where: str) -> None:
    """A clear error for missing required columns."""
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise LeadscoreError(
            ErrorCode.MISSING_COLUMN,
            f"{where} has no column {', '.join(repr(c) for c in missing)} "
            f"(its columns: {', '.join(table.columns) or 'none'}).",
            hint="Rename the column in the file, or add it.",
        )


def normalise_timestamps(con: Any, table: ir.Table, columns: Iterable[str], where: str) -> ir.Table:
    """Parse text timestamps (UTC unless an offset says otherwise) to naive UTC.

    An unreadable timestamp is an error naming its row, never a silent null.
    """
    present = [c for c in columns if c in table.columns]
    if not present:
        return table
    replacements = {}
    for column in present:
        kind = table[column].type()
        if kind.is_timestamp() and kind.timezone is None:
            continue
        if kind.is_timestamp() and con.name == "duckdb":
            replacements[column] = _naive_utc(table[column])
            continue
        if kind.is_timestamp() or kind.is_date():
            replacements[column] = table[column].cast("timestamp('UTC')").cast("timestamp")
            continue
        text = table[column].cast("string")
        parsed = _parse_timestamp(text)
        _check_parsed(con, table, column, text, parsed, where)
        replacements[column] = parsed
    return table.mutate(**replacements) if replacements else table


@ibis.udf.scalar.builtin(name="epoch_us")
def _epoch_us(value: datetime) -> int:  # type: ignore[empty-body]
    """DuckDB's microseconds since the epoch."""


@ibis.udf.scalar.builtin(name="make_timestamp")
def _make_timestamp(micros: int) -> datetime:  # type: ignore[empty-body]
    """DuckDB's naive timestamp at microseconds since the epoch."""


def _naive_utc(value: ir.TimestampValue) -> ir.TimestampValue:
    """A zoned timestamp as naive UTC on DuckDB, through its epoch.

    A plain cast converts through the session's time zone (ICU), about 8x the
    cost of a scan: seconds on every pass over 50M events.
    """
    return _make_timestamp(_epoch_us(value.cast("timestamp('UTC')")))


def _parse_timestamp(text: ir.StringValue) -> ir.TimestampValue:
    blank = text.strip() == ""
    parsed = text.try_cast("timestamp('UTC')").cast("timestamp")
    return blank.ifelse(ibis.null("timestamp"), parsed)


def _check_parsed(
    con: Any, table: ir.Table, column: str, text: ir.StringValue, parsed: ir.Value, where: str
) -> None:
    problem = text.notnull() & (text.strip() != "") & parsed.isnull()
    total = fetch_value(con, table.filter(problem).count())
    if total:
        rows = _first_rows(con, table.mutate(_text=text, _problem=problem), "_text")
        issues = [
            Issue(f"{where} row {int(r['_row'])}", f"{column} {r['_text']!r} is not a timestamp")
            for r in rows.to_pylist()
        ]
        more = f" ({total} rows in all)" if total > rows.num_rows else ""
        raise LeadscoreError(
            ErrorCode.BAD_TIMESTAMP,
            f"{where}: unreadable timestamps in column {column!r}{more}:",
            issues=issues,
            hint="Write timestamps as ISO 8601, e.g. 2025-06-01T09:30:00Z or 2025-06-01 "
            "(a date alone means midnight UTC).",
        )


def _first_rows(con: Any, table: ir.Table, value: str) -> Any:
    """The first rows (1-based, in file order) where ``_problem`` holds; error path only.

    Other engines than DuckDB have no file order: rows are numbered as they come.
    """
    ordered = con.name == "duckdb"
    if ordered:
        con.raw_sql("SET preserve_insertion_order = true")
    try:
        numbered = table.mutate(_row=ibis.row_number() + 1)
        bad = numbered.filter(numbered._problem).select("_row", value).order_by("_row")
        return fetch(con, bad.limit(_SHOWN_ROWS))
    finally:
        if ordered:
            con.raw_sql("SET preserve_insertion_order = false")


def write_table(con: Any, expr: ir.Table, out: str | Path, progress: Report | None = None) -> Path:
    """Write ``expr`` to ``out`` by extension, atomically (temp file, then rename).

    A name without extension is a table of the engine's database (not of an
    in-memory DuckDB), replaced atomically.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if not suffix and writes_tables(con):
        write_engine_table(con, expr, str(out))
        return path
    if suffix not in WRITABLE:
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"Cannot write {path}: unknown extension {path.suffix!r}.",
            hint=f"Use one of {', '.join(WRITABLE)}; a name without extension writes a "
            "table with --engine postgres or spark, or with --db FILE.duckdb.",
        )
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"Cannot write {path}: the folder {directory} does not exist.",
            hint="Create the folder first.",
        )
    with files.replacing(path) as tmp:
        _write(con, expr, tmp, progress)
    return path


def fetch(con: Any, expr: ir.Expr, report: str | None = None) -> pa.Table:
    """The (small) result of ``expr`` as an Arrow table; a scalar gives one row.

    Read as Arrow from the engine directly: ibis' ``to_pyarrow`` on DuckDB imports
    pandas for its type conversions, a fifth of a second of every command. On DuckDB
    the answer is recorded for a replay (:mod:`leadscore.engine.kept_runs`), which
    asks again and goes on only when it is the same; ``report`` names an answer that
    is only reported (a count), which a replay gives as it finds it.
    """
    query = expr.as_table()
    if con.name != "duckdb":
        table: pa.Table = arrow_batches(con, query).read_all()
        return table
    sql = _duckdb_sql(con, query)
    if report is None:
        kept_runs.answered(con.con, sql)
    else:
        kept_runs.reported(report, sql)
    answer: pa.Table = con.con.sql(sql).to_arrow_reader().read_all()
    return answer


def fetch_value(con: Any, expr: ir.Scalar, report: str | None = None) -> Any:
    """The Python value of a scalar expression (``fetch``)."""
    return fetch(con, expr, report).column(0)[0].as_py()


def arrow_batches(con: Any, expr: ir.Table) -> Any:
    """The rows of ``expr`` as an Arrow ``RecordBatchReader``, streamed from the engine.

    For DuckDB this asks the connection directly: ibis 12 calls a cursor method
    that DuckDB 2 no longer has.
    """
    if con.name != "duckdb":
        return con.to_pyarrow_batches(expr)
    return con.con.sql(_duckdb_sql(con, expr)).to_arrow_reader()


def _duckdb_sql(con: Any, expr: ir.Table) -> str:
    """The SQL of ``expr`` on DuckDB, with the in-memory tables it reads registered."""
    con._run_pre_execute_hooks(expr)
    sql: str = con.compile(expr)
    return sql


@contextmanager
def enough_memory() -> Iterator[None]:
    """DuckDB running out of memory becomes a message saying what to do."""
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        raise LeadscoreError(
            ErrorCode.OUT_OF_MEMORY,
            f"The engine ran out of memory: {str(exc).splitlines()[0]}",
            hint="Pass --memory-limit (memory_limit= in Python), e.g. 8GB, a limit below "
            "this machine's memory: DuckDB then spills to disk beyond it. With a limit "
            "already, raise it.",
        ) from None


def _write(con: Any, expr: ir.Table, tmp: Path, progress: Report | None) -> None:
    if con.name != "duckdb":
        # Other engines stream Arrow batches to an embedded DuckDB, which writes the file.
        local = connect()
        try:
            local.con.register("results", arrow_batches(con, expr))
            _write(local, local.table("results"), tmp, None)
        finally:
            local.disconnect()
        return
    sql = _duckdb_sql(con, expr)
    kept_runs.scored_by(sql)
    with enough_memory(), watch(con.con, progress):
        con.con.execute(files.copy(sql, tmp))
