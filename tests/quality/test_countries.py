"""country_code from names in seven languages, ISO codes, else the phone prefix."""

from __future__ import annotations

from typing import Any

import pytest
from tests.quality.conftest import derive_rows

from leadscore.quality import code_for_country

BY_LANGUAGE = {
    "en": [("Spain", "ES"), ("Germany", "DE"), ("United Kingdom", "GB"), ("Switzerland", "CH"),
           ("USA", "US"), ("UK", "GB"), ("The Netherlands", "NL"), ("Turkey", "TR")],
    "es": [("España", "ES"), ("Alemania", "DE"), ("Reino Unido", "GB"), ("Suiza", "CH"),
           ("Estados Unidos", "US"), ("EEUU", "US"), ("México", "MX"), ("Países Bajos", "NL")],
    "ca": [("Espanya", "ES"), ("Alemanya", "DE"), ("Regne Unit", "GB"), ("Suïssa", "CH"),
           ("Estats Units", "US"), ("França", "FR"), ("Itàlia", "IT")],
    "it": [("Spagna", "ES"), ("Germania", "DE"), ("Regno Unito", "GB"), ("Svizzera", "CH"),
           ("Stati Uniti", "US"), ("Francia", "FR"), ("Paesi Bassi", "NL")],
    "pt": [("Espanha", "ES"), ("Alemanha", "DE"), ("Reino Unido", "GB"), ("Suíça", "CH"),
           ("Brasil", "BR"), ("França", "FR"), ("Estados Unidos", "US")],
    "fr": [("Espagne", "ES"), ("Allemagne", "DE"), ("Royaume-Uni", "GB"), ("Suisse", "CH"),
           ("États-Unis", "US"), ("Belgique", "BE"), ("Italie", "IT")],
    "de": [("Spanien", "ES"), ("Deutschland", "DE"), ("Vereinigtes Königreich", "GB"),
           ("Schweiz", "CH"), ("Österreich", "AT"), ("Frankreich", "FR"), ("Italien", "IT")],
}  # fmt: skip


@pytest.mark.parametrize("language", sorted(BY_LANGUAGE))
def test_country_names_per_language(language: str) -> None:
    for name, code in BY_LANGUAGE[language]:
        assert code_for_country(name) == code, name
        assert code_for_country(name.upper()) == code, name


@pytest.mark.parametrize(
    ("value", "code"),
    [("ES", "ES"), ("es", "ES"), ("ESP", "ES"), (" de ", "DE"), ("NO", "NO"), ("Espana", "ES"),
     ("Catalunya", "ES"), ("Polska", "PL"), ("Sverige", "SE"), ("Atlantis", None), ("", None),
     ("12", None)],
)  # fmt: skip
def test_codes_and_unknowns(value: str, code: str | None) -> None:
    assert code_for_country(value) == code


def test_country_code_falls_back_to_the_phone_prefix(con: Any) -> None:
    rows = derive_rows(
        con,
        {
            "lead_id": [1, 2, 3, 4, 5, 6, 7],
            "country": ["España", None, "Narnia", None, None, None, "  "],
            "phone": ["+49 30 123456", "+34 612 345 678", "0039 06 1234 5678", "+1 416 555 0199",
                      "+1 212 555 0100", "612 345 678", "+44 20 7946 0958"],
        },
        ["country_code"],
    )  # fmt: skip
    assert [r["country_code"] for r in rows] == ["ES", "ES", "IT", "CA", "US", None, "GB"]


def test_typed_phone_without_prefix_gives_no_country(con: Any) -> None:
    rows = derive_rows(con, {"lead_id": [1], "phone": [34612345678]}, ["country_code"])
    assert rows[0]["country_code"] is None
