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
  recomputes as it scans, as a hand-written query would (``AS NOT MATERIALIZED``).

The choice is written into the SQL by :func:`mark` for the engines that read it;
others (Spark, warehouses) get plain CTEs.
"""

from __future__ import annotations

import itertools
from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot.expressions as sge
from ibis.backends.sql.compilers import DuckDBCompiler, PostgresCompiler

_KEPT = "kept_"
_STREAMED = "streamed_"
_names = itertools.count()
MARKED_DIALECTS = frozenset({"duckdb", "postgres"})


def kept(table: ir.Table, name: str) -> ir.Table:
    """``table``, computed once and kept while the query runs."""
    return table.alias(f"{_KEPT}{name}_{next(_names)}")


def streamed(table: ir.Table, name: str) -> ir.Table:
    """``table``, written once in the SQL but recomputed by each reader."""
    return table.alias(f"{_STREAMED}{name}_{next(_names)}")


def mark(query: sge.Expression) -> sge.Expression:
    """Write each named CTE's treatment into ``query`` (in place); others are left alone."""
    with_ = query.args.get("with_")
    for cte in with_.expressions if with_ is not None else ():
        name = cte.alias
        if name.startswith(_KEPT):
            cte.set("materialized", True)
        elif name.startswith(_STREAMED):
            cte.set("materialized", False)
    return query


class _Marking:
    def to_sqlglot(self, expr: ir.Expr, **kwargs: Any) -> sge.Expression:
        return mark(super().to_sqlglot(expr, **kwargs))  # type: ignore[misc]


class MarkingDuckDBCompiler(_Marking, DuckDBCompiler):  # type: ignore[misc]
    """DuckDB's compiler, keeping or streaming the named CTEs."""


class MarkingPostgresCompiler(_Marking, PostgresCompiler):  # type: ignore[misc]
    """PostgreSQL's compiler, keeping or streaming the named CTEs."""


COMPILERS = {"duckdb": MarkingDuckDBCompiler, "postgres": MarkingPostgresCompiler}


def to_sql(expr: ir.Table, dialect: str) -> str:
    """``ibis.to_sql``, with the CTE choices written for the dialects that read them."""
    compiler = COMPILERS.get(dialect)
    if compiler is None:
        return str(ibis.to_sql(expr, dialect=dialect))
    instance = compiler()
    sql: str = instance.to_sqlglot(expr.unbind()).sql(dialect=instance.dialect, pretty=True)
    return sql


def install(con: Any) -> Any:
    """Make ``con`` (an ibis connection) write the CTE choices; returns ``con``."""
    compiler = COMPILERS.get(con.name)
    if compiler is not None:
        con.compiler = compiler()
    return con
