"""DuckDB's star shorthand for the column lists ibis writes out.

ibis lists every column at every step of a query: a step that adds one column to
the leads repeats their fifty others by name. The scoring query of the bench model
was 56 KB of SQL, 22 KB of it such lists, and DuckDB parses it again on every run
(about 0.6 ms per KB, before binding and planning) — most of what a small run's
start-up costs beyond a hand-written query's.

:func:`abbreviate` rewrites each run of columns passed through unchanged from one
source, in that source's order, as ``"t".*`` or ``"t".* EXCLUDE (...)``: the same
columns, in the same order, under the same names. A source whose columns it cannot
tell (a table it was not told about) keeps its list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sqlglot.expressions as sge

Columns = list[str] | None  # a relation's output columns, in order; None: unknown


def abbreviate(query: sge.Expression, tables: Mapping[str, Sequence[str]]) -> sge.Expression:
    """Rewrite ``query``'s pass-through column lists in place; returns it.

    ``tables`` gives the columns, in order, of the tables and views it reads.
    """
    ctes = {cte.alias_or_name: cte.this for cte in query.find_all(sge.CTE)}
    outputs: dict[int, Columns] = {}

    def columns_of(relation: sge.Expression) -> Columns:
        if isinstance(relation, sge.Table):
            if relation.name in ctes:
                return select_columns(ctes[relation.name])
            found = tables.get(relation.name)
            return None if found is None else list(found)
        if isinstance(relation, sge.Subquery):
            return select_columns(relation.this)
        return None

    def sources(select: sge.Select) -> list[tuple[str, Columns]]:
        start = select.args.get("from_")
        if start is None:
            return []
        items = [start.this, *(join.this for join in select.args.get("joins") or [])]
        return [(item.alias_or_name, columns_of(item)) for item in items]

    def select_columns(select: sge.Expression) -> Columns:
        if isinstance(select, sge.SetOperation):  # named by its first part
            return select_columns(select.this)
        if not isinstance(select, sge.Select):
            return None
        key = id(select)
        if key not in outputs:
            outputs[key] = _outputs(select, sources(select))
        return outputs[key]

    for select in list(query.find_all(sge.Select)):
        known = dict(sources(select))
        if known:
            select.set("expressions", _shortened(select.expressions, known.get))
    return query


def _outputs(select: sge.Select, sources: list[tuple[str, Columns]]) -> Columns:
    """The names of ``select``'s columns, stars expanded; None when one is unknown."""
    names: list[str] = []
    for projection in select.expressions:
        star, table = _star(projection)
        if star is None:
            if not projection.alias_or_name:
                return None
            names.append(projection.alias_or_name)
            continue
        if star.args.get("replace") or star.args.get("rename"):
            return None
        excluded = {e.name for e in star.args.get("except_") or []}
        for alias, columns in sources:
            if table is not None and alias != table:
                continue
            if columns is None:
                return None
            names.extend(c for c in columns if c not in excluded)
    return names


def _star(projection: sge.Expression) -> tuple[sge.Star | None, str | None]:
    """``*`` or ``"t".*`` and its table; (None, None) for any other projection."""
    if isinstance(projection, sge.Star):
        return projection, None
    if isinstance(projection, sge.Column) and isinstance(projection.this, sge.Star):
        return projection.this, projection.table or None
    return None, None


def _passed(projection: sge.Expression) -> tuple[str, str] | None:
    """``"t"."c"`` (or ``"t"."c" AS "c"``) as (t, c); None for anything else."""
    column = projection.this if isinstance(projection, sge.Alias) else projection
    if not isinstance(column, sge.Column) or isinstance(column.this, sge.Star):
        return None
    if not column.table or projection.alias_or_name != column.name:
        return None
    return column.table, column.name


def _shortened(
    projections: list[sge.Expression], columns: Callable[[str], Columns]
) -> list[sge.Expression]:
    """``projections`` with each run of one source's pass-through columns as a star."""
    result: list[sge.Expression] = []
    run: list[tuple[sge.Expression, str]] = []
    source = ""

    def flush() -> None:
        if run:
            star = _as_star(source, [name for _, name in run], columns(source))
            result.extend([star] if star is not None else [p for p, _ in run])
            run.clear()

    for projection in projections:
        passed = _passed(projection)
        if passed is None:
            flush()
            result.append(projection)
            continue
        table, name = passed
        if table != source or any(name == taken for _, taken in run):
            flush()
            source = table
        run.append((projection, name))
    flush()
    return result


def _as_star(source: str, names: list[str], columns: Columns) -> sge.Expression | None:
    """``"source".* EXCLUDE (...)`` giving exactly ``names``, when shorter; else None."""
    if columns is None or len(names) < 2 or len({c.lower() for c in columns}) != len(columns):
        return None
    wanted = set(names)
    if not wanted <= set(columns) or [c for c in columns if c in wanted] != names:
        return None  # a column the source lacks, or not in the source's order
    excluded = [c for c in columns if c not in wanted]
    if len(excluded) >= len(names):
        return None
    options = {"except_": [sge.to_identifier(c, quoted=True) for c in excluded]}
    star = sge.Star(**(options if excluded else {}))
    return sge.Column(this=star, table=sge.to_identifier(source, quoted=True))
