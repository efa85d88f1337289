"""clean(): the summary of leadscore clean (issue 4, point 6)."""

from __future__ import annotations

import json

import ibis
from rich.console import Console

from leadscore.quality import clean

LEADS = {
    "lead_id": [1, 2, 3, 4, 5, 6, 7],
    "email": [
        "ana@acme.es", " ANA@acme.es", "info@acme.es", "x@gmail.com", "y@yopmail.com", "bad", None
    ],
    "first_name": ["Ana", "Ana", None, "José", "Josep", "Li", None],
    "last_name": ["Puig", "Puig", None, "García", "Garcia", "Wu", None],
    "company": ["Acme", "Acme", "Acme", "Tornos SA", "Tornos", "Foo", None],
    "job_title": ["CEO", "Wizard", "Wizard", "Gran Jefazo", "Becario", None, "  "],
    "country": ["España", "Narnia", "Narnia", None, "ES", "Mordor", None],
}  # fmt: skip


def test_counts() -> None:
    report = clean(ibis.memtable(LEADS))
    assert report.rows == 7
    assert report.emails == {"missing": 1, "invalid": 1, "free": 1, "disposable": 1, "role": 1}
    assert report.unknown_titles == 3
    assert report.top_unknown_titles == [("Wizard", 2), ("Gran Jefazo", 1)]
    assert report.unknown_countries == 3
    assert report.top_unknown_countries == [("Narnia", 2), ("Mordor", 1)]
    assert report.duplicates == 1
    assert report.duplicate_groups == 1
    assert [(p.lead_id, p.other_id) for p in report.probable_duplicates] == [(4, 5)]
    assert report.missing["first_name"] == 2
    assert report.missing["industry"] == 7


def test_json_and_terminal_output() -> None:
    report = clean(ibis.memtable(LEADS))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["duplicates"] == {
        "exact": 1, "groups": 1, "probable": 1,
        "probable_pairs": [
            {"lead_id": 4, "other_id": 5, "name_score": 95.7, "company_score": 100.0}
        ],
    }  # fmt: skip
    console = Console(record=True, width=100)
    console.print(report)
    text = console.export_text()
    assert "Wizard" in text
    assert "7 leads" in text


def test_derived_table_is_returned() -> None:
    report = clean(ibis.memtable(LEADS))
    assert report.table.count().execute() == 7
    assert "duplicate_of" in report.table.columns
