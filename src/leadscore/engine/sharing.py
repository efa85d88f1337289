"""Parts of the query that several others read, and whether the engine keeps them.

ibis writes a relation that several parts of the query read as a common table
expression (CTE), or, when it cannot see the sharing, once per reader. Both cost:
a copy per reader makes the SQL long (seconds to generate and plan), and DuckDB
and PostgreSQL *materialise* a CTE read more than once, which for the events
means holding every row in memory.

So the compiler names what it shares, and says how the engine should treat it:

- :func:`kept`: small results (the repeated event ids, one row per distinct URL)
  worth computing once and keeping (``AS MATERIALIZED``);
- :func:`streamed`: large ones (the events with their tests) that each reader
  recomputes as it scans, as a hand-written query would (``AS NOT MATERIALIZED``);
- :func:`fenced`: parts that PostgreSQL must compute once, before their readers,
  and DuckDB streams: the leads with each rule's points (read by the totals,
  grades and stages), the events with their tests (read by every aggregation).

The choice is written into the SQL by :func:`mark` for the engines that read it;
others (Spark, warehouses) get plain CTEs.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import sqlglot.expressions as sge
from ibis.backends.sql.compilers import DuckDBCompiler, PostgresCompiler, PySparkCompiler

from leadscore.engine import shorthand

_KEPT = "kept_"
_STREAMED = "streamed_"
_FENCED = "fenced_"
_names = itertools.count()
MARKED_DIALECTS = frozenset({"duckdb", "postgres"})


def kept(table: ir.Table, name: str) -> ir.Table:
    """``table``, computed once and kept while the query runs."""
    return table.alias(f"{_KEPT}{name}_{next(_names)}")


def streamed(table: ir.Table, name: str) -> ir.Table:
    """``table``, written once in the SQL but recomputed by each reader."""
    return table.alias(f"{_STREAMED}{name}_{next(_names)}")


def fenced(table: ir.Table, name: str) -> ir.Table:
    """``table``, computed before its readers: an engine may not merge it into them.

    PostgreSQL merges a subquery into the query reading it by substituting its
    expressions: the fit total (a test per rule) then reappears in the score, each
    grade threshold, the matrix and each stage, and a lead costs milliseconds; and
    it recomputes a streamed part for each reader, where its plans read the tested
    events once per aggregation and per window. PostgreSQL computes a fenced table
    first; DuckDB, which evaluates such expressions cheaply and reads its events in
    parallel, streams it.
    """
    return table.alias(f"{_FENCED}{name}_{next(_names)}")


def mark(query: sge.Expression, fence: bool = False) -> sge.Expression:
    """Write each named CTE's treatment into ``query`` (in place); others are left alone.

    ``fence``: fenced tables are materialised (else streamed).
    """
    with_ = query.args.get("with_")
    for cte in with_.expressions if with_ is not None else ():
        name = cte.alias
        if name.startswith(_KEPT):
            cte.set("materialized", True)
        elif name.startswith(_STREAMED):
            cte.set("materialized", False)
        elif name.startswith(_FENCED):
            cte.set("materialized", fence)
    return query


@contextlib.contextmanager
def unfused() -> Iterator[None]:
    """ibis compiles without merging projections while this lasts (see ``_Unfused``)."""
    options = ibis.options.sql
    fused, options.fuse_selects = options.fuse_selects, False
    try:
        yield
    finally:
        options.fuse_selects = fused


class _Unfused:
    """Compile without merging each projection into the next one.

    ibis merges a SELECT into its readers by substituting its expressions: the
    model's fit total (a sum of every fit rule) then reappears in the score, the
    grade, the matrix and each stage. Kept apart, the SQL is shorter and ibis
    writes it in half the time.
    """

    def to_sqlglot(self, expr: ir.Expr, **kwargs: Any) -> sge.Expression:
        with unfused():
            query: sge.Expression = super().to_sqlglot(expr, **kwargs)  # type: ignore[misc]
        return query


class _Marking(_Unfused):
    fence = False

    def to_sqlglot(self, expr: ir.Expr, **kwargs: Any) -> sge.Expression:
        return mark(super().to_sqlglot(expr, **kwargs), self.fence)


class MarkingDuckDBCompiler(_Marking, DuckDBCompiler):  # type: ignore[misc]
    """DuckDB's compiler, keeping or streaming the named CTEs, with short column lists
    (:mod:`leadscore.engine.shorthand`)."""

    def to_sqlglot(self, expr: ir.Expr, **kwargs: Any) -> sge.Expression:
        tables = {t.name: t.schema.names for t in expr.op().find(ops.PhysicalTable)}
        return shorthand.abbreviate(super().to_sqlglot(expr, **kwargs), tables)


class MarkingPostgresCompiler(_Marking, PostgresCompiler):  # type: ignore[misc]
    """PostgreSQL's compiler, keeping or streaming the named CTEs; fenced ones kept."""

    fence = True


class UnfusedPySparkCompiler(_Unfused, PySparkCompiler):  # type: ignore[misc]
    """Spark's compiler (Spark reads no CTE choices)."""


COMPILERS: dict[str, type[_Unfused]] = {
    "duckdb": MarkingDuckDBCompiler,
    "postgres": MarkingPostgresCompiler,
    "pyspark": UnfusedPySparkCompiler,
}


def to_sql(expr: ir.Table, dialect: str) -> str:
    """``ibis.to_sql``, with the CTE choices written for the dialects that read them."""
    compiler = COMPILERS.get(dialect)
    if compiler is None:  # a warehouse: ibis' own compiler
        with unfused():
            return str(ibis.to_sql(expr, dialect=dialect))
    instance: Any = compiler()
    sql: str = instance.to_sqlglot(expr.unbind()).sql(dialect=instance.dialect, pretty=True)
    return sql


def install(con: Any) -> Any:
    """Make ``con`` (an ibis connection) write the CTE choices; returns ``con``."""
    compiler = COMPILERS.get(con.name)
    if compiler is not None:
        con.compiler = compiler()
    return con
