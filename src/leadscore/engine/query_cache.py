"""Scoring queries compiled once and kept between runs (DuckDB).

Turning a model into SQL costs ibis about half a second (more for large models),
and the SQL depends only on the model, the inputs' columns and types, and this
version of leadscore — not on the data, nor on the instant T. So on DuckDB the
query reads T from a session variable (``getvariable('leadscore_as_of')``, folded
into a constant by DuckDB before it plans), and the SQL is kept in the cache folder
(:mod:`leadscore.engine.cache`): the next run with the same model and inputs'
layout skips the compiler, whatever its T. Every morning's run of an unchanged
model is such a run. A kept query that DuckDB rejects is compiled again and replaced.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb
import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from leadscore.engine import cache, kept_runs, state
from leadscore.engine.compiler import PARTS, Aggregated, Part, compile_model
from leadscore.engine.events import EventPlan
from leadscore.model import Model

log = logging.getLogger("leadscore")

_views = itertools.count()


@ibis.udf.scalar.builtin(name="getvariable")  # type: ignore[untyped-decorator]
def _variable(variable: str) -> datetime:  # type: ignore[empty-body]
    """DuckDB's session variable (a constant for the planner)."""


def instant() -> ir.TimestampScalar:
    """T as the compiled query reads it on DuckDB: the session variable."""
    value: ir.TimestampScalar = _variable(cache.VARIABLE)
    return value


def since() -> ir.TimestampScalar:
    """The T of the kept state a told run reads at a later T: the session variable."""
    value: ir.TimestampScalar = _variable(cache.SINCE)
    return value


def set_instant(con: Any, as_of: datetime) -> None:
    """Give the query of :func:`instant` its T (naive UTC) on ``con``."""
    cache.set_instant(con.con, as_of)


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
    text = "\x1e".join([cache.code(), *parts, *texts])
    return hashlib.sha256(text.encode()).hexdigest()


def results(con: Any, key: str | None, compile_query: Callable[[], ir.Table]) -> ir.Table:
    """The query kept under ``key``, else ``compile_query()`` compiled and kept.

    Returned as a view of ``con`` (DuckDB), which reads T from the session variable.
    """
    path = cache.place("queries", key, ".sql")
    sql = cache.read(path)
    name = f"leadscore_results_{next(_views)}"
    if sql is not None:
        try:
            kept_runs.execute(con.con, f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')
            return con.table(name)
        except duckdb.Error as exc:  # damaged: compile again, and replace it
            log.debug("kept query %s not used: %s", path, exc)
    expr = compile_query()
    con._run_pre_execute_hooks(expr)
    sql = con.compile(expr)
    kept_runs.execute(con.con, f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')
    cache.keep(path, sql)
    if key is None:  # it reads tables of this process
        kept_runs.unreplayable()
    return con.table(name)


def scoring(
    con: Any, model: Model, leads: ir.Table, events: ir.Table | None,
    part: Part, cutoff: str | None = None, spills: bool = False,
    aggregated: ir.Table | None = None,
) -> ir.Table:  # fmt: skip
    """``part`` (:data:`~leadscore.engine.compiler.PARTS`) of ``model``'s scoring query
    over ``leads`` and ``events``, as of the T of :func:`set_instant`: kept under the
    model, the part, ``spills`` (a memory limit) and the inputs' layout (:func:`results`).

    ``aggregated``: the kept per-lead table the events' aggregates are read from
    (:func:`leadscore.engine.state.finals`).
    """
    tables = [leads, *([events] if events is not None else [])]
    using: Aggregated | None = None
    if aggregated is not None:
        kept = aggregated
        tables.append(kept)

        def using(plan: EventPlan, weighted: ir.Table) -> list[ir.Table]:
            return state.finals(plan, kept)

    def compile_query() -> ir.Table:
        compiled = compile_model(
            model, leads, events, instant(), cutoff, "duckdb", spills=spills, aggregated=using
        )
        return PARTS[part](compiled)

    parts = [repr(model), part, f"cutoff={cutoff}", f"spills={spills}", f"kept={using is not None}"]
    return results(con, key(con, parts, tables), compile_query)
