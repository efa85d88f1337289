"""The commands on PostgreSQL and Spark: files uploaded, tables read and written.

The scoring semantics themselves run on every engine in test_semantics.py,
test_conditions.py and test_seed_examples.py (see conftest.py); here the parts
that differ per engine: connections, uploads, tables in and out, their errors.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leadscore
from support import DATABASES, PG_URL
from test_cli import files, input_args, invoke, score_args

__all__ = ["files"]  # the fixture, shared with test_cli

COLUMNS = ("lead_id", "fit", "grade", "engagement", "level", "matrix", "score", "stage")


def scores(path: Path) -> list[dict[str, object]]:
    rows = pq.read_table(path).select(list(COLUMNS)).to_pylist()
    return sorted(rows, key=lambda r: str(r["lead_id"]))


@pytest.mark.parametrize("name", ["postgres", "spark"])
def test_score_on_an_engine_equals_duckdb(files, name):
    expected, actual = files["dir"] / "duckdb.parquet", files["dir"] / f"{name}.parquet"
    assert invoke(*score_args(files, expected)).exit_code == 0
    result = invoke(*score_args(files, actual), "--engine", name, "--db", DATABASES[name])
    assert result.exit_code == 0, result.output
    assert scores(actual) == scores(expected)
    assert scores(actual)[0]["fit"] == 40  # lead 1, as in test_cli


@pytest.fixture
def pg_tables(files):  # type: ignore[no-untyped-def]
    """The CSV leads and JSONL events of ``files`` as PostgreSQL tables; dropped after."""
    suffix = uuid.uuid4().hex[:8]
    names = {"leads": f"leads_{suffix}", "events": f"events_{suffix}", "out": f"scores_{suffix}"}
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(
            f"CREATE TABLE {names['leads']} (lead_id text, job_title text, company_size int)"
        )
        con.execute(
            f"INSERT INTO {names['leads']} VALUES ('1', ' CEO ', 250), ('2', 'Ingeniera', 12), "
            "('3', 'ceo', NULL)"
        )
        con.execute(
            f"CREATE TABLE {names['events']} "
            "(lead_id text, type text, timestamp timestamp, url text)"
        )
        con.execute(
            f"INSERT INTO {names['events']} VALUES "
            "('1', 'page_view', '2025-05-31 10:00', '/pricing'), "
            "('2', 'page_view', '2025-05-31 00:00', '/blog'), "
            "('3', 'page_view', '2025-06-01 22:00', '/pricing')"
        )
        yield names
        for name in names.values():
            con.execute(f"DROP TABLE IF EXISTS {name}")


def test_postgres_reads_tables_and_replaces_the_output_table(files, pg_tables):
    expected = files["dir"] / "duckdb.parquet"
    assert invoke(*score_args(files, expected)).exit_code == 0
    args = ["score", "-m", files["model"], "-l", pg_tables["leads"], "-e", pg_tables["events"]]
    args += ["--as-of", "2025-06-01", "--engine", "postgres", "--db", PG_URL]
    for _ in range(2):  # the second run replaces the table
        result = invoke(*args, "-o", pg_tables["out"])
        assert result.exit_code == 0, result.output
    with psycopg.connect(PG_URL) as con:
        rows = con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM {pg_tables['out']} ORDER BY lead_id"
        ).fetchall()
        leftovers = con.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE %s",
            (f"{pg_tables['out']}__leadscore%",),
        ).fetchone()
    assert [dict(zip(COLUMNS, row, strict=True)) for row in rows] == scores(expected)
    assert leftovers == (0,)


def test_top_explain_and_accounts_run_on_postgres(files):
    engine = ["--engine", "postgres", "--db", PG_URL]
    top = invoke("top", *input_args(files), *engine, "--json")
    assert top.exit_code == 0, top.output
    explained = invoke("explain", *input_args(files), *engine, "--lead", "1", "--json")
    assert explained.exit_code == 0, explained.output
    assert '"rule": "ceo"' in explained.output
    accounts = invoke("accounts", *input_args(files), *engine)
    assert accounts.exit_code == 0, accounts.output


def test_spark_writes_a_table(files):
    from leadscore.engine.backends import connect_engine

    name = f"scores_{uuid.uuid4().hex[:8]}"
    args = [*score_args(files, Path(name)), "--engine", "spark", "--db", DATABASES["spark"]]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    session = connect_engine("spark", DATABASES["spark"])._session
    try:
        rows = {r["lead_id"]: r["fit"] for r in session.table(name).collect()}
    finally:
        session.sql(f"DROP TABLE IF EXISTS {name}")
    assert rows == {"1": 40.0, "2": 0.0, "3": 30.0}


def test_a_duckdb_file_holds_input_and_output_tables(files, tmp_path):
    database = tmp_path / "crm.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE leads AS SELECT * FROM read_csv('{files['leads']}')")
    args = ["score", "-m", files["model"], "-l", "leads", "--as-of", "2025-06-01"]
    result = invoke(*args, "--db", database, "-o", "scores")
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(database)) as con:
        fits = dict(con.execute("SELECT lead_id::text, fit FROM scores").fetchall())
    assert fits == {"1": 40.0, "2": 0.0, "3": 30.0}


def test_an_unreachable_database_is_a_clear_error(files, tmp_path):
    out = tmp_path / "scores.csv"
    bad = "postgresql://postgres:secret@127.0.0.1:1/test"
    result = invoke(*score_args(files, out), "--engine", "postgres", "--db", bad)
    assert result.exit_code == 2
    assert "Cannot connect to PostgreSQL at postgresql://postgres@127.0.0.1:1/test" in (
        result.output
    )
    assert "secret" not in result.output
    assert not out.exists()


def test_a_missing_table_is_a_clear_error(files):
    args = ["score", "-m", files["model"], "-l", "no_such_leads", "-o", "scores_never"]
    result = invoke(*args, "--engine", "postgres", "--db", PG_URL)
    assert result.exit_code == 2
    assert "The leads table 'no_such_leads' cannot be read in postgres" in result.output


DERIVED_LEADS = pa.table(
    {
        "lead_id": ["1", "2", "3", "4", "5"],
        "email": ["ana@acme.es", " ANA@acme.es", "bo@gmail.com", "info@mailinator.com", "x@"],
        "job_title": ["Directora General", "CEO", "Becario", "Head of Sales", "Ingeniero"],
        "country": ["España", "ES", "Deutschland", None, "Italia"],
        "phone": [None, None, None, "+34 600 000 000", None],
        "created_at": ["2025-01-01", "2025-02-01", "2025-03-01", None, "2025-01-05"],
    }
)
DERIVED_MODEL = {
    "name": "derived",
    "fit": {
        "rules": [
            {"id": "boss", "when": {"seniority": "c_level"}, "points": 10},
            {"id": "student", "when": {"seniority": "student"}, "points": -5},
            {"id": "spain", "when": {"country_code": "ES"}, "points": 3},
            {"id": "free", "when": {"email_is_free": True}, "points": -2},
            {"id": "throwaway", "when": {"email_is_disposable": True}, "points": -7},
            {"id": "twin", "when": {"duplicate_of": {"exists": True}}, "points": -1},
            {"id": "bad", "when": {"email_valid": False}, "points": -4},
        ]
    },
}


@pytest.mark.parametrize("name", ["postgres", "spark"])
def test_derived_fields_computed_in_the_engine_equal_duckdbs(name):
    """Leads read from a table there: the data-quality step runs on that engine."""
    from leadscore.engine.backends import connect_engine

    expected = leadscore.score(DERIVED_MODEL, DERIVED_LEADS, as_of="2025-06-01", explain=True)
    table = f"derived_{uuid.uuid4().hex[:8]}"
    con = connect_engine(name, DATABASES[name])
    if name == "spark":
        con._session.createDataFrame(DERIVED_LEADS).createOrReplaceTempView(table)
    else:
        con.create_table(table, DERIVED_LEADS.to_pandas())
    try:
        actual = leadscore.score(
            DERIVED_MODEL, table, as_of="2025-06-01", explain=True, engine=name, db=DATABASES[name]
        )
    finally:
        con.drop_view(table) if name == "spark" else con.drop_table(table)
        if name == "postgres":
            con.disconnect()
    # Fingerprints are the engine's own hashes: compared only within one engine.
    want = sorted(expected.drop_columns(["fingerprint"]).to_pylist(), key=lambda r: r["lead_id"])
    got = sorted(actual.drop_columns(["fingerprint"]).to_pylist(), key=lambda r: r["lead_id"])
    assert got == want
    # Lead 1: c_level, Spain; lead 2: c_level, Spain, a duplicate of 1.
    assert [r["fit"] for r in want][:2] == [13.0, 12.0]
