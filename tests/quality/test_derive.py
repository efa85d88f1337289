"""derive(): field selection, types, missing and typed columns, the override rule."""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa
import pytest
from tests.quality.conftest import derive_rows

from leadscore.quality import DERIVED_FIELDS, derive


def test_derived_fields_in_spec_order() -> None:
    assert DERIVED_FIELDS == (
        "email_domain", "email_valid", "email_is_free", "email_is_disposable", "email_is_role",
        "seniority", "job_function", "country_code", "profile_completeness", "account_key",
        "duplicate_of",
    )  # fmt: skip


def test_types_of_the_derived_columns() -> None:
    leads = ibis.memtable(pa.table({"lead_id": pa.array([1], pa.int64()), "email": ["a@acme.es"]}))
    schema = derive(leads).schema()
    for name in ("email_valid", "email_is_free", "email_is_disposable", "email_is_role"):
        assert schema[name].is_boolean(), name
    for name in ("email_domain", "seniority", "job_function", "country_code", "account_key"):
        assert schema[name].is_string(), name
    assert schema["profile_completeness"].is_float64()
    assert schema["duplicate_of"].is_int64()


def test_only_requested_fields_and_their_dependencies() -> None:
    leads = ibis.memtable({"lead_id": [1], "email": ["a@acme.es"], "job_title": ["CEO"]})
    assert derive(leads, ["seniority"]).columns == ("lead_id", "email", "job_title", "seniority")
    added = derive(leads, ["account_key"]).columns[3:]
    assert added == ("email_domain", "email_is_free", "email_is_disposable", "account_key")
    assert derive(leads, ["duplicate_of"]).columns[3:] == ("email_valid", "duplicate_of")


def test_unknown_field_is_an_error_with_a_suggestion() -> None:
    leads = ibis.memtable({"lead_id": [1]})
    with pytest.raises(ValueError, match="did you mean 'seniority'"):
        derive(leads, ["seniorty"])


def test_missing_input_columns_count_as_null(con: Any) -> None:
    row = derive_rows(con, {"lead_id": [1]})[0]
    assert row["email_domain"] is None
    assert row["email_valid"] is None
    assert (row["seniority"], row["job_function"]) == ("unknown", "unknown")
    assert row["country_code"] is None
    assert row["profile_completeness"] == 0.0
    assert row["account_key"] is None
    assert row["duplicate_of"] is None


def test_profile_completeness_counts_the_nine_fields(con: Any) -> None:
    columns = {
        "lead_id": [1, 2],
        "email": ["a@acme.es", " "],
        "first_name": ["Ana", "\t"],
        "last_name": ["Puig", None],
        "job_title": ["CEO", ""],
        "company": ["Acme", None],
        "industry": ["metal", None],
        "company_size": pa.array([12.0, float("nan")]),
        "country": ["ES", None],
        "phone": pa.array([34612345678, None], pa.int64()),
        "source": ["x", "y"],  # not one of the nine
    }
    rows = derive_rows(con, columns, ["profile_completeness"])
    assert [row["profile_completeness"] for row in rows] == [1.0, 0.0]


def test_account_key(con: Any) -> None:
    columns = {
        "lead_id": [1, 2, 3, 4, 5],
        "email": ["a@acme.es", "b@gmail.com", "c@mailinator.com", "d@acme.es", "no-at"],
        "account_id": [None, None, None, " ACC-1 ", "  "],
    }
    rows = derive_rows(con, columns, ["account_key"])
    assert [row["account_key"] for row in rows] == ["acme.es", None, None, "ACC-1", None]


def test_typed_account_id_is_text(con: Any) -> None:
    columns = {"lead_id": [1, 2], "account_id": pa.array([42.0, 7.5])}
    rows = derive_rows(con, columns, ["account_key"])
    assert [row["account_key"] for row in rows] == ["42", "7.5"]


def test_input_column_wins_cell_by_cell(con: Any) -> None:
    columns = {
        "lead_id": [1, 2, 3],
        "email": ["a@gmail.com", "b@acme.es", "c@acme.es"],
        "job_title": ["CEO", "CEO", "Intern"],
        "seniority": ["vp", "  ", None],
        "email_is_free": ["no", "", "yes"],
        "email_domain": [None, "Other.com", None],
        "profile_completeness": ["0.5", "n/a", None],
        "country_code": ["FR", None, ""],
    }
    rows = derive_rows(con, columns)
    assert [row["seniority"] for row in rows] == ["vp", "c_level", "student"]
    assert [row["email_is_free"] for row in rows] == [False, False, True]
    assert [row["email_domain"] for row in rows] == ["gmail.com", "Other.com", "acme.es"]
    assert rows[0]["profile_completeness"] == 0.5
    assert rows[1]["profile_completeness"] == pytest.approx(2 / 9)
    assert [row["country_code"] for row in rows] == ["FR", None, None]
    # Fields derived from an overridden one use the winning value.
    assert [row["account_key"] for row in rows] == ["gmail.com", "Other.com", None]


def test_typed_override_columns(con: Any) -> None:
    columns = {
        "lead_id": pa.array([1, 2], pa.int64()),
        "email": ["a@acme.es", "a@acme.es"],
        "email_valid": pa.array([None, False]),
        "duplicate_of": ["", "99"],
    }
    rows = derive_rows(con, columns, ["email_valid", "duplicate_of"])
    assert [row["email_valid"] for row in rows] == [True, False]
    assert [row["duplicate_of"] for row in rows] == [None, 99]


def test_numbers_in_text_columns(con: Any) -> None:
    columns = {
        "lead_id": [1],
        "email": pa.array([12.5]),
        "job_title": pa.array([7], pa.int64()),
        "country": pa.array([34], pa.int64()),
        "created_at": pa.array([5], pa.int64()),
    }
    row = derive_rows(con, columns)[0]
    assert row["email_valid"] is False
    assert row["seniority"] == "unknown"
    assert row["country_code"] is None


def test_an_engine_row_order_column_is_used(con: Any) -> None:
    columns = {"lead_id": [1, 2], "email": ["a@acme.es"] * 2, "__leadscore_row": [5, 0]}
    rows = derive_rows(con, columns, ["duplicate_of"])
    assert [row["duplicate_of"] for row in rows] == [2, None]
    assert "__leadscore_row" in rows[0]
