"""Random valid models and data for property tests (engine parity, incremental runs).

Models use every operator, nesting, decay, windows, ``min_count``, ``distinct``,
``once``, caps, inactivity, grades, levels and stages; data has nulls, blanks,
odd casing and white space, numbers as text, and timestamps on the boundaries
(at T, just after T, exactly a window old).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from support import T, events_table

TEXTS = ["CEO", " ceo ", "Ceo\t", "", "  ", None, "50", "50.0", "1e2", "-3", "abc", "ñandú"]
NUMBERS = [-3, 0, 2.5, 49.5, 50, 100]
SCALARS = ["ceo", "abc", 50, 50.0, -3, True, "ÑANDÚ"]
FRAGMENTS = ["e", "CE", "0", "ñ", " "]
LEAD_FIELDS = ["job_title", "company_size", "country", "employees", "missing_field"]
AGES = [
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(days=1),
    timedelta(days=2.5),
    timedelta(days=3),
    timedelta(days=30),
    timedelta(days=40),
    -timedelta(microseconds=1),  # after T: never counts
    -timedelta(days=0.5),  # after T, and before T a day later
]


def field_tests(value_field: str) -> st.SearchStrategy[dict[str, Any]]:
    operator_values = st.one_of(
        st.tuples(st.sampled_from(["eq", "ne"]), st.sampled_from(SCALARS)),
        st.tuples(
            st.sampled_from(["in", "not_in"]), st.lists(st.sampled_from(SCALARS), min_size=1)
        ),
        st.tuples(
            st.sampled_from(["contains", "not_contains", "starts_with", "ends_with"]),
            st.sampled_from(FRAGMENTS),
        ),
        st.tuples(st.sampled_from(["gt", "gte", "lt", "lte"]), st.sampled_from(NUMBERS)),
        st.tuples(
            st.just("between"),
            st.lists(st.sampled_from(NUMBERS), min_size=2, max_size=2).map(sorted),
        ),
        st.tuples(st.just("exists"), st.booleans()),
    )
    return st.one_of(
        operator_values.map(lambda ov: {value_field: {ov[0]: ov[1]}}),
        st.sampled_from(SCALARS).map(lambda v: {value_field: v}),
    )


def conditions(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.sampled_from(fields).flatmap(field_tests)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda c: {"all": c}),
            st.lists(inner, min_size=1, max_size=3).map(lambda c: {"any": c}),
            inner.map(lambda c: {"not": c}),
        ),
        max_leaves=4,
    )


@st.composite
def engagement_rules(draw: st.DrawFn, index: int) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": f"e{index}",
        "event": draw(st.sampled_from(["page_view", "email_open", ["page_view", "form"]])),
        "points": draw(st.sampled_from([-3, 1, 2.5, 10])),
    }
    if draw(st.booleans()):
        rule["when"] = draw(conditions(["url", "percent", "session_id"]))
    option = draw(st.sampled_from(["plain", "once", "min_count", "distinct", "distinct_min"]))
    if option == "once":
        rule["once"] = True
    if option in ("min_count", "distinct_min"):
        rule["min_count"] = draw(st.integers(1, 3))
    if option in ("distinct", "distinct_min"):
        rule["distinct"] = "session_id"
    if draw(st.booleans()):
        rule["max_points"] = draw(st.sampled_from([1, 4.5, 20]))
    return rule


@st.composite
def models(draw: st.DrawFn) -> dict[str, Any]:
    fit_rules = [
        {
            "id": f"f{i}",
            "when": draw(conditions(LEAD_FIELDS)),
            "points": draw(st.sampled_from(NUMBERS)),
        }
        for i in range(draw(st.integers(0, 3)))
    ]
    engagement: dict[str, Any] = {
        "rules": [draw(engagement_rules(i)) for i in range(draw(st.integers(0, 4)))],
        "levels": [{"level": 1, "min": 5}, {"level": 2}],
    }
    half_life = draw(st.sampled_from([None, 1, 7.5]))
    window = draw(st.sampled_from([None, 3, 30]))
    if half_life is not None:
        engagement["half_life_days"] = half_life
    if window is not None:
        engagement["window_days"] = window
    if draw(st.booleans()):
        inactive: dict[str, Any] = {
            "id": "idle",
            "days": draw(st.sampled_from([2, 10])),
            "points": -5,
        }
        if draw(st.booleans()):
            inactive["events"] = ["page_view"]
        engagement["inactivity"] = [inactive]
    model: dict[str, Any] = {
        "name": "random",
        "fit": {"rules": fit_rules, "grades": [{"grade": "A", "min": 10}, {"grade": "B"}]},
        "engagement": engagement,
        "stages": [
            {"stage": "hot", "min_score": draw(st.sampled_from([0, 10, 30]))},
            {"stage": "cold"},
        ],
    }
    if draw(st.booleans()):
        model["disqualify"] = [{"id": "dq", "when": draw(conditions(LEAD_FIELDS))}]
    if draw(st.booleans()):
        model["score"] = {"min": 0, "max": 40}
    return model


@st.composite
def data(draw: st.DrawFn) -> tuple[pa.Table, pa.Table]:
    n = draw(st.integers(1, 5))
    ids = [f"L{i}" for i in range(n)]
    leads = pa.table(
        {
            "lead_id": ids,
            "job_title": [draw(st.sampled_from(TEXTS)) for _ in ids],
            "company_size": [draw(st.sampled_from(TEXTS)) for _ in ids],
            "country": [draw(st.sampled_from(["ES", " es", None, "Spain"])) for _ in ids],
            "employees": pa.array(
                [draw(st.sampled_from([None, 0, 50, 120])) for _ in ids], pa.int64()
            ),
            "created_at": pa.array(
                [draw(st.sampled_from([None, T - timedelta(days=1), T - timedelta(days=20)]))
                 for _ in ids],
                pa.timestamp("us"),
            ),
        }
    )  # fmt: skip
    events = [
        {
            "lead_id": draw(st.sampled_from([*ids, " L0", "unknown"])),
            "type": draw(st.sampled_from(["page_view", " Page_View", "email_open", "form", "x"])),
            "timestamp": T - draw(st.sampled_from(AGES)),
            "event_id": draw(st.sampled_from([None, "e1", "e2", "e3"])),
            "url": draw(st.sampled_from([None, "/pricing", "/PRICING ", "/blog", ""])),
            "percent": draw(st.sampled_from([None, "50", "abc", "75.5", " 100 "])),
            "session_id": draw(st.sampled_from([None, "s1", "s2", " S1", ""])),
        }
        for _ in range(draw(st.integers(0, 12)))
    ]
    return leads, events_table(events) if events else None  # type: ignore[return-value]
