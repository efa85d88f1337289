"""Any string in any field is handled without a crash (issue 4, point 8)."""

from __future__ import annotations

from typing import Any

import ibis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.quality import DERIVED_FIELDS, classify_title, clean, code_for_country, derive
from leadscore.quality.email import is_valid_address

HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["🙂👩\u200d💻 CEO 🚀", "مدير عام", "\u200fמנכ״ל\u200f", "CEO\x00", "\x00", "x" * 10_240,
         "a@b\x00.com", "Dïrëctör  gënëràl", "  \t\r\n ", "NaN", "1e3", "+34 ６１２", "@@@",
         "\u202eOEC", "\ufeffCEO"]
    ),
    st.integers().map(str),
)  # fmt: skip
FIELDS = ["email", "first_name", "last_name", "job_title", "company", "country", "phone",
          "account_id", "created_at", "seniority", "email_valid"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(HOSTILE)
def test_python_classifiers_never_crash(value: str) -> None:
    seniority, function = classify_title(value)
    assert seniority and function
    code_for_country(value)
    assert is_valid_address(value) in (True, False)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.fixed_dictionaries({f: st.none() | HOSTILE for f in FIELDS}), min_size=1, max_size=6
    )
)
def test_derive_never_crashes(con: Any, rows: list[dict[str, str | None]]) -> None:
    columns = {f: [row[f] for row in rows] for f in FIELDS}
    columns["lead_id"] = [str(i) for i in range(len(rows))]
    table = con.to_pyarrow(derive(ibis.memtable(columns)))
    assert table.num_rows == len(rows)
    assert set(DERIVED_FIELDS) <= set(table.column_names)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=1, max_size=5))
def test_numbers_everywhere(con: Any, numbers: list[int]) -> None:
    columns: dict[str, Any] = {f: numbers for f in FIELDS if f not in ("created_at", "email_valid")}
    columns["lead_id"] = list(range(len(numbers)))
    report = clean(ibis.memtable(columns))
    assert report.rows == len(numbers)
