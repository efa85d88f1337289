"""Scoring queries compiled once and kept between runs (DuckDB).

Turning a model into SQL costs ibis about half a second (more for large models),
and the SQL depends only on the model, the inputs' columns and types, and this
version of leadscore — not on the data, nor on the instant T. So on DuckDB the
query reads T from a session variable (``getvariable('leadscore_as_of')``, folded
into a constant by DuckDB before it plans), and the SQL is kept in a cache folder:
the next run with the same model and inputs' layout skips the compiler, whatever
its T. Every morning's run of an unchanged model is such a run.

The folder is ``$LEADSCORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/leadscore``, else
``~/.cache/leadscore``; ``LEADSCORE_CACHE_DIR=off`` turns the cache off. A cache
that cannot be read or written is skipped (it only saves time); a kept query that
DuckDB rejects is compiled again and replaced.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

log = logging.getLogger("leadscore")

VARIABLE = "leadscore_as_of"
OFF = frozenset({"off", "0", "false", "no"})
KEPT = 64  # queries kept; the oldest are removed beyond this
_views = itertools.count()


@ibis.udf.scalar.builtin(name="getvariable")  # type: ignore[untyped-decorator]
def _variable(variable: str) -> datetime:  # type: ignore[empty-body]
    """DuckDB's session variable (a constant for the planner)."""


def instant() -> ir.TimestampScalar:
    """T as the compiled query reads it on DuckDB: the session variable."""
    value: ir.TimestampScalar = _variable(VARIABLE)
    return value


def set_instant(con: Any, as_of: datetime) -> None:
    """Give the query of :func:`instant` its T (naive UTC) on ``con``."""
    con.con.execute(f"SET VARIABLE {VARIABLE} = CAST(? AS TIMESTAMP)", [as_of.isoformat()])


def folder() -> Path | None:
    """Where compiled queries are kept; None when the cache is off."""
    chosen = os.environ.get("LEADSCORE_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in OFF or not chosen.strip() else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no home folder (a service account): no cache
            return None
    return Path(base) / "leadscore"


@cache
def _code() -> str:
    """What the SQL was written by: leadscore's source and the libraries that compile."""
    digest = hashlib.sha256()
    package = Path(__file__).parent.parent  # the leadscore package
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    for library in ("ibis-framework", "sqlglot", "duckdb"):
        digest.update(f"{library}={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()


def key(con: Any, parts: list[str], inputs: list[ir.Table]) -> str | None:
    """The cache key of a query over ``inputs``; None when it cannot be kept.

    The inputs enter as their SQL (the views or tables read, the conversions and
    derived fields) and their columns' names and types; a query over ibis' in-memory
    tables, whose names change from run to run, is not kept.
    """
    texts = []
    for table in inputs:
        if table.op().find(ops.InMemoryTable):
            return None
        columns = ", ".join(f"{name} {dtype}" for name, dtype in table.schema().items())
        texts.append(f"{con.compile(table)}\x1f{columns}")
    text = "\x1e".join([_code(), *parts, *texts])
    return hashlib.sha256(text.encode()).hexdigest()


def results(con: Any, key: str | None, compile_query: Callable[[], ir.Table]) -> ir.Table:
    """The query kept under ``key``, else ``compile_query()`` compiled and kept.

    Returned as a view of ``con`` (DuckDB), which reads T from the session variable.
    """
    where = folder()
    path = where / "queries" / f"{key}.sql" if where is not None and key is not None else None
    sql = _read(path)
    name = f"leadscore_results_{next(_views)}"
    if sql is not None:
        try:
            con.con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')
            return con.table(name)
        except duckdb.Error as exc:  # damaged: compile again, and replace it
            log.debug("kept query %s not used: %s", path, exc)
    expr = compile_query()
    con._run_pre_execute_hooks(expr)
    sql = con.compile(expr)
    con.con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')
    if path is not None:
        _write(path, sql)
    return con.table(name)


def _read(path: Path | None) -> str | None:
    """The kept query at ``path`` (marked as used), or None."""
    if path is None:
        return None
    try:
        sql = path.read_text(encoding="utf-8")
        os.utime(path)  # the least recently used are removed first
    except (OSError, UnicodeDecodeError):
        return None
    return sql


def _write(path: Path, sql: str) -> None:
    """Keep ``sql`` at ``path`` atomically; remove the oldest beyond :data:`KEPT`."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(sql)
        os.replace(tmp, path)
        tmp = None
        kept = sorted(path.parent.glob("*.sql"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEPT:]:
            old.unlink(missing_ok=True)
    except OSError as exc:  # a cache that cannot be written only costs time
        log.debug("query not kept in %s: %s", path.parent, exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
