"""duplicate_of (SPEC §3 "Edge cases, decided") and probable duplicates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from tests.quality.conftest import derive_rows

from leadscore.quality.fuzzy import company_key, probable_duplicates


def _dups(con: Any, columns: dict[str, list[Any]] | pa.Table) -> list[Any]:
    return [row["duplicate_of"] for row in derive_rows(con, columns, ["duplicate_of"])]


def test_same_normalised_email_points_to_the_first_in_input_order(con: Any) -> None:
    emails = ["ana@acme.es", " ANA@acme.es ", "ana@acme.es", "bob@acme.es"]
    assert _dups(con, {"lead_id": [10, 11, 12, 13], "email": emails}) == [None, 10, 10, None]


def test_gmail_dots_and_tags_are_one_mailbox(con: Any) -> None:
    emails = [
        "j.o.e+news@gmail.com",
        "joe@googlemail.com",
        "JOE@gmail.com",
        "j.o.e@acme.com",
        "joe@acme.com",
    ]
    assert _dups(con, {"lead_id": [1, 2, 3, 4, 5], "email": emails}) == [None, 1, 1, None, None]


def test_earliest_created_at_is_the_original_and_unknown_dates_come_last(con: Any) -> None:
    def ts(day: int) -> datetime:
        return datetime(2024, 1, day, tzinfo=UTC)

    table = pa.table(
        {
            "lead_id": ["a", "b", "c", "d"],
            "email": ["x@acme.es"] * 4,
            "created_at": pa.array([None, ts(5), ts(2), ts(9)], pa.timestamp("us", tz="UTC")),
        }
    )
    assert _dups(con, table) == ["c", "c", None, "c"]


def test_text_created_at_is_read_as_a_timestamp(con: Any) -> None:
    columns = {
        "lead_id": [1, 2],
        "email": ["x@acme.es", "x@acme.es"],
        "created_at": ["2024-05-01", "2023-01-01"],
    }
    assert _dups(con, columns) == [2, None]


def test_invalid_emails_are_never_duplicates(con: Any) -> None:
    emails = ["no-at", "no-at", "a@example.com", "a@example.com", None, None]
    assert _dups(con, {"lead_id": [1, 2, 3, 4, 5, 6], "email": emails}) == [None] * 6


def test_duplicate_of_keeps_the_type_of_lead_id(con: Any) -> None:
    rows = derive_rows(con, {"lead_id": ["007", "7"], "email": ["a@acme.es"] * 2}, ["duplicate_of"])
    assert [row["duplicate_of"] for row in rows] == [None, "007"]


def test_probable_duplicates_by_fuzzy_name_and_company() -> None:
    pairs = probable_duplicates(
        ids=[1, 2, 3, 4, 5],
        first_names=["José", "Jose", "Maria", "José", "Joe"],
        last_names=["García López", "Garcia Lopez", "Puig", "García López", "Bloggs"],
        companies=["Tornos Acme, S.L.", "TORNOS ACME", "Tornos Acme", "Other Corp", "Tornos Acme"],
        mailboxes=["jg@acme.es", "jose@acme.es", "m@acme.es", "jg@other.com", "joe@acme.es"],
    )
    assert [(p.lead_id, p.other_id) for p in pairs] == [(1, 2)]
    assert pairs[0].to_dict()["company_score"] == 100.0


def test_same_mailbox_is_not_repeated_as_probable() -> None:
    pairs = probable_duplicates(
        [1, 2], ["Ana", "Ana"], ["Puig", "Puig"], ["Acme", "Acme"], ["a@x.es", "a@x.es"]
    )
    assert pairs == []


def test_company_key_drops_legal_forms_and_accents() -> None:
    assert (
        company_key("Máquinas Pérez, S.L.U.")
        == company_key("MAQUINAS PEREZ SLU")
        == "maquinas perez"
    )
    assert company_key("GmbH") == "gmbh"
