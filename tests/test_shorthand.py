"""DuckDB's star shorthand for pass-through column lists (leadscore.engine.shorthand)."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from leadscore.engine.shorthand import abbreviate

TABLES = {"t": ["a", "b", "c", "d"], "u": ["a", "e"]}


def short(sql: str, tables: dict[str, list[str]] = TABLES) -> str:
    return abbreviate(sqlglot.parse_one(sql, read="duckdb"), tables).sql("duckdb")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    rows = "(1, 'x', 2.5, NULL), (2, 'y', NULL, 'z')"
    con.execute(f"CREATE TABLE t AS SELECT * FROM (VALUES {rows}) v(a, b, c, d)")
    con.execute("CREATE TABLE u AS SELECT * FROM (VALUES (1, 10), (3, 30)) v(a, e)")
    return con


CASES = [
    # every column, then a new one: the star alone
    (
        'SELECT "s"."a", "s"."b", "s"."c", "s"."d", "s"."a" + 1 AS "n" FROM "t" AS "s"',
        'SELECT "s".*, "s"."a" + 1 AS "n" FROM "t" AS "s"',
    ),
    # one column left out: EXCLUDE; a renamed column stays as it is
    (
        'SELECT "s"."a", "s"."c", "s"."d", "s"."b" AS "bee" FROM "t" AS "s"',
        'SELECT "s".* EXCLUDE ("b"), "s"."b" AS "bee" FROM "t" AS "s"',
    ),
    # through a subquery with a star of its own, and a join's two sides
    (
        'SELECT "q"."a", "q"."b", "q"."c", "q"."d", "v"."a" AS "a_right", "v"."e" '
        'FROM (SELECT "s".* FROM "t" AS "s") AS "q" LEFT JOIN "u" AS "v" ON "q"."a" = "v"."a"',
        'SELECT "q".*, "v"."a" AS "a_right", "v"."e" '
        'FROM (SELECT "s".* FROM "t" AS "s") AS "q" LEFT JOIN "u" AS "v" ON "q"."a" = "v"."a"',
    ),
    # a union's columns are its first part's
    (
        'SELECT "q"."a", "q"."e", 1 AS "one" FROM (SELECT "v"."a", "v"."e" FROM "u" AS "v" '
        'UNION ALL SELECT "s"."a", "s"."a" FROM "t" AS "s") AS "q"',
        'SELECT "q".*, 1 AS "one" FROM (SELECT "v".* FROM "u" AS "v" '
        'UNION ALL SELECT "s"."a", "s"."a" FROM "t" AS "s") AS "q"',
    ),
    # a CTE's columns, read through its name
    (
        'WITH "w" AS (SELECT "s"."d", "s"."a" FROM "t" AS "s") '
        'SELECT "w"."d", "w"."a", 0 AS "z" FROM "w"',
        'WITH "w" AS (SELECT "s"."d", "s"."a" FROM "t" AS "s") SELECT "w".*, 0 AS "z" FROM "w"',
    ),
]

KEPT = [
    # out of the source's order: a star would reorder the columns
    'SELECT "s"."b", "s"."a", "s"."c", "s"."d" FROM "t" AS "s"',
    # most columns left out: the list is shorter than the EXCLUDE
    'SELECT "s"."a", "s"."b" FROM "t" AS "s"',
    # a single column
    'SELECT "s"."a", 1 AS "one" FROM "t" AS "s"',
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_pass_through_columns_become_a_star_with_the_same_columns(
    con: duckdb.DuckDBPyConnection, sql: str, expected: str
) -> None:
    written = short(sql)
    assert written == expected
    before = con.execute(sql)
    rows, names = before.fetchall(), [d[0] for d in before.description]
    after = con.execute(written)
    assert [d[0] for d in after.description] == names
    assert after.fetchall() == rows


@pytest.mark.parametrize("sql", KEPT)
def test_lists_a_star_would_change_or_not_shorten_are_kept(sql: str) -> None:
    assert short(sql) == sqlglot.parse_one(sql, read="duckdb").sql("duckdb")


def test_a_table_whose_columns_are_unknown_keeps_its_list() -> None:
    sql = 'SELECT "s"."a", "s"."b", "s"."c", "s"."d", 1 AS "one" FROM "t" AS "s"'
    assert short(sql, {}) == sql
