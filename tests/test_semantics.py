"""One hand-computed test per rule of SPEC §3 "Meaning of a score", named after it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

import leadscore
from leadscore.api import open_session
from support import ENGINE, T, days_ago, events_table, leads_table, score, score_rows

pytestmark = pytest.mark.usefixtures("engine")  # every engine (tests/conftest.py)

ONE_LEAD = [{"lead_id": "1"}]


def engagement(rules, **section):  # type: ignore[no-untyped-def]
    return {"engagement": {"rules": rules, **section}}


def rule_points(model, events, rule="r", leads=ONE_LEAD, lead="1"):  # type: ignore[no-untyped-def]
    return score_rows(model, leads, events)[lead][f"rule:{rule}"]


def test_decay_halves_the_points_every_half_life():
    model = engagement([{"id": "r", "event": "page_view", "points": 4}], half_life_days=10)
    events = [
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(0)},  # 4 × 1
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(10)},  # 4 × 0.5
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(30)},  # 4 × 0.125
    ]
    assert rule_points(model, events) == pytest.approx(4 + 2 + 0.5, rel=1e-12)


def test_window_ignores_events_window_days_old_or_older():
    model = engagement([{"id": "r", "event": "page_view", "points": 1}], window_days=7)
    inside = T - timedelta(days=7) + timedelta(microseconds=1)
    events = [
        {"lead_id": "1", "type": "page_view", "timestamp": T - timedelta(days=7)},  # out
        {"lead_id": "1", "type": "page_view", "timestamp": inside},  # in
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(100)},  # out
    ]
    assert rule_points(model, events) == 1.0


def test_events_after_as_of_are_ignored_and_an_event_at_as_of_has_age_zero():
    model = engagement([{"id": "r", "event": "page_view", "points": 3}], half_life_days=1)
    events = [
        {"lead_id": "1", "type": "page_view", "timestamp": T},  # age 0: 3 × 1
        {"lead_id": "1", "type": "page_view", "timestamp": T + timedelta(microseconds=1)},
        {"lead_id": "1", "type": "page_view", "timestamp": T + timedelta(days=3)},
    ]
    assert rule_points(model, events) == 3.0


def test_event_id_deduplication_keeps_the_earliest_copy_before_any_filter():
    model = engagement([{"id": "r", "event": "page_view", "points": 1}])
    events = [
        # The earliest copy of e1 is an email_open, so the page_view copy does not count.
        {"lead_id": "1", "type": "email_open", "timestamp": days_ago(3), "event_id": "e1"},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(2), "event_id": "e1"},
        # Two copies of e2: counted once.
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(1), "event_id": "e2"},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(1), "event_id": "e2"},
        # Without event_id: always counts, twice.
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(1), "event_id": None},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(1), "event_id": " "},
    ]
    assert rule_points(model, events) == 3.0


def test_distinct_keeps_the_most_recent_event_per_value():
    rule = {"id": "r", "event": "page_view", "distinct": "session_id", "points": 2}
    model = engagement([rule], half_life_days=10)
    events = [
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(10), "session_id": "S1"},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(20), "session_id": " s1 "},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(40), "session_id": "s2"},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(0), "session_id": None},
    ]
    # s1 → its most recent (10 d): 2 × 0.5; s2 → 2 × 0.0625; no session: not in M.
    assert rule_points(model, events) == pytest.approx(1.0 + 0.125, rel=1e-12)


def test_distinct_without_decay_counts_each_value_once():
    rule = {"id": "r", "event": "page_view", "distinct": "session_id", "points": 2}
    events = [
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(1), "session_id": "S1"},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(2), "session_id": " s1 "},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(3), "session_id": "s2"},
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(4), "session_id": None},
    ]
    # Values s1 and s2: 2 × 1 each; the event without a session is not in M.
    assert rule_points(engagement([rule]), events) == 4.0


def test_distinct_on_a_property_no_event_has_scores_nothing():
    rule = {"id": "r", "event": "page_view", "distinct": "session_id", "points": 2}
    events = [{"lead_id": "1", "type": "page_view", "timestamp": days_ago(1)}]
    assert rule_points(engagement([rule]), events) == 0.0
    assert rule_points(engagement([rule], half_life_days=10), events) == 0.0


def test_min_count_scores_the_weight_of_the_nth_most_recent_event():
    rule = {"id": "r", "event": "page_view", "min_count": 3, "points": 8}
    model = engagement([rule], half_life_days=10)
    three = [{"lead_id": "1", "type": "page_view", "timestamp": days_ago(d)} for d in (0, 10, 20)]
    assert rule_points(model, three) == pytest.approx(8 * 0.25, rel=1e-12)
    assert rule_points(model, three[:2]) == 0.0


def test_min_count_without_decay_is_all_or_nothing():
    rule = {"id": "r", "event": ["page_view", "video_play"], "min_count": 2, "points": 10}
    events = [
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(50)},
        {"lead_id": "1", "type": "Video_Play ", "timestamp": days_ago(1)},
    ]
    assert rule_points(engagement([rule]), events) == 10.0
    assert rule_points(engagement([rule]), events[:1]) == 0.0


def test_distinct_with_min_count_counts_values_not_events():
    rule = {"id": "r", "event": "page_view", "distinct": "session_id", "min_count": 2, "points": 10}
    model = engagement([rule], half_life_days=10)
    same_session = [
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(d), "session_id": "a"}
        for d in (0, 1, 2)
    ]
    assert rule_points(model, same_session) == 0.0
    two_sessions = [
        *same_session,
        {"lead_id": "1", "type": "page_view", "timestamp": days_ago(10), "session_id": "b"},
    ]
    # 2nd most recent of M = session b's event, 10 days old.
    assert rule_points(model, two_sessions) == pytest.approx(5.0, rel=1e-12)


def test_once_scores_only_the_most_recent_event():
    rule = {"id": "r", "event": "unsubscribe", "once": True, "points": -40}
    model = engagement([rule], half_life_days=10)
    events = [
        {"lead_id": "1", "type": "unsubscribe", "timestamp": days_ago(10)},
        {"lead_id": "1", "type": "unsubscribe", "timestamp": days_ago(30)},
    ]
    assert rule_points(model, events) == pytest.approx(-20.0, rel=1e-12)


@pytest.mark.parametrize(("points", "expected"), [(1, 3.0), (-1, -3.0), (0.25, 2.5)])
def test_max_points_bounds_the_absolute_value_keeping_the_sign(points, expected):
    rule = {"id": "r", "event": "page_view", "points": points, "max_points": 3}
    events = [{"lead_id": "1", "type": "page_view", "timestamp": days_ago(1)}] * 10
    assert rule_points(engagement([rule]), events) == expected


def test_inactivity_with_the_created_at_exception():
    model = engagement(
        [],
        inactivity=[
            {"id": "dormant", "days": 60, "points": -10},
            {"id": "no-web", "days": 30, "events": ["page_view"], "points": -5},
        ],
    )
    leads = [
        {"lead_id": "silent-old", "created_at": days_ago(100)},
        {"lead_id": "silent-new", "created_at": days_ago(10)},  # created within 60 days
        {"lead_id": "silent-unknown", "created_at": None},
        {"lead_id": "recent-mail", "created_at": days_ago(400)},
        {"lead_id": "edge", "created_at": days_ago(400)},
    ]
    events = [
        {"lead_id": "recent-mail", "type": "email_open", "timestamp": days_ago(59)},
        # Exactly 60 days old: not "age < 60", so the lead is dormant; the window of
        # engagement does not apply to inactivity.
        {"lead_id": "edge", "type": "page_view", "timestamp": days_ago(60)},
    ]
    rows = score_rows(model, leads, events)
    assert [rows[k]["rule:dormant"] for k in ("silent-old", "silent-new", "silent-unknown")] == [
        -10,
        0,
        -10,
    ]
    assert rows["silent-new"]["rule:no-web"] == 0  # created 10 days ago, within 30
    assert rows["recent-mail"]["rule:dormant"] == 0
    assert rows["recent-mail"]["rule:no-web"] == -5  # an email is not a page_view
    assert rows["edge"]["rule:dormant"] == -10
    assert rows["edge"]["engagement"] == -15


def test_score_is_fit_plus_engagement_clamped():
    model = {
        "fit": {"rules": [{"id": "f", "points": 80}]},
        **engagement([{"id": "r", "event": "demo", "points": 30}]),
        "score": {"min": 0, "max": 100},
    }
    events = [{"lead_id": "1", "type": "demo", "timestamp": days_ago(1)}]
    row = score_rows(model, ONE_LEAD, events)["1"]
    assert (row["fit"], row["engagement"], row["score"]) == (80, 30, 100)
    low = score_rows({**model, "fit": {"rules": [{"id": "f", "points": -50}]}}, ONE_LEAD)["1"]
    assert low["score"] == 0


def test_grades_levels_and_matrix():
    model = {
        "fit": {
            "rules": [{"id": "ceo", "when": {"title": "ceo"}, "points": 30}],
            "grades": [{"grade": "A", "min": 30}, {"grade": "B", "min": 10}, {"grade": "C"}],
        },
        **engagement(
            [{"id": "pv", "event": "page_view", "points": 5}],
            levels=[{"level": 1, "min": 10}, {"level": 2}],
        ),
    }
    leads = [{"lead_id": "1", "title": "CEO"}, {"lead_id": "2", "title": "intern"}]
    events = [{"lead_id": "1", "type": "page_view", "timestamp": days_ago(1)}] * 2
    rows = score_rows(model, leads, events)
    assert (rows["1"]["grade"], rows["1"]["level"], rows["1"]["matrix"]) == ("A", 1, "A1")
    assert (rows["2"]["grade"], rows["2"]["level"], rows["2"]["matrix"]) == ("C", 2, "C2")


def test_without_grades_grade_and_matrix_are_empty():
    model = engagement([], levels=[{"level": 1, "min": 10}, {"level": 2}])
    row = score_rows(model, ONE_LEAD)["1"]
    assert (row["grade"], row["level"], row["matrix"]) == (None, 2, None)


def test_interests_and_top_interest_with_ties_to_the_first_declared():
    model = {
        "engagement": {"half_life_days": 10, "rules": []},
        "interests": [
            {
                "id": "lathes",
                "rules": [
                    {
                        "id": "l",
                        "event": "page_view",
                        "when": {"url": {"contains": "/lathes"}},
                        "points": 2,
                    }
                ],
            },
            {
                "id": "robots",
                "rules": [
                    {
                        "id": "r",
                        "event": "page_view",
                        "when": {"url": {"contains": "/robots"}},
                        "points": 1,
                    }
                ],
            },
        ],
    }
    leads = [{"lead_id": "tie"}, {"lead_id": "robots"}, {"lead_id": "none"}]
    events = [
        {"lead_id": "tie", "type": "page_view", "timestamp": days_ago(10), "url": "/lathes/a"},
        {"lead_id": "tie", "type": "page_view", "timestamp": days_ago(0), "url": "/Robots/x"},
        {"lead_id": "robots", "type": "page_view", "timestamp": days_ago(0), "url": "/robots"},
        {"lead_id": "robots", "type": "page_view", "timestamp": days_ago(0), "url": "/lathes"},
        {"lead_id": "robots", "type": "page_view", "timestamp": days_ago(0), "url": "/robots"},
    ]
    rows = score_rows(model, leads, events)
    assert rows["tie"]["interest:lathes"] == pytest.approx(1.0)  # 2 × 0.5
    assert rows["tie"]["interest:robots"] == pytest.approx(1.0)
    assert rows["tie"]["top_interest"] == "lathes"
    assert rows["robots"]["top_interest"] == "lathes"  # 2 vs 2: first declared
    assert rows["none"]["top_interest"] is None
    assert rows["tie"]["engagement"] == 0  # interests are not added to the score


def test_stages_disqualify_first_then_first_matching_stage():
    model = {
        "fit": {
            "rules": [{"id": "f", "when": {"title": "ceo"}, "points": 60}],
            "grades": [{"grade": "A", "min": 50}, {"grade": "B"}],
        },
        "disqualify": [
            {"id": "competitor", "when": {"email": {"ends_with": "@rival.com"}}},
            {"id": "also-ceo", "when": {"title": "ceo"}},
        ],
        "stages": [
            {"stage": "SQL", "min_score": 50, "grades": ["A"]},
            {"stage": "MQL", "min_fit": 0, "when": {"source": "webinar"}},
            {"stage": "lead"},
        ],
    }
    leads = [
        {"lead_id": "1", "title": "CEO", "email": "x@rival.com", "source": None},
        {"lead_id": "2", "title": "cto", "email": "x@ok.com", "source": "Webinar"},
        {"lead_id": "3", "title": "cto", "email": "x@ok.com", "source": None},
    ]
    rows = score_rows(model, leads)
    assert rows["1"]["stage"] == "disqualified"
    assert rows["1"]["disqualified_by"] == "competitor"  # the first that holds
    assert rows["2"]["stage"] == "MQL"
    assert rows["3"]["stage"] == "lead"


def test_explanation_lists_every_nonzero_rule_and_adds_up():
    import leadscore

    model = leadscore.load_model(
        {
            "name": "x",
            "fit": {
                "rules": [{"id": "a", "points": 5}, {"id": "b", "when": {"x": "no"}, "points": 7}]
            },
            "engagement": {
                "rules": [{"id": "pv", "event": "page_view", "points": 1.5}],
                "inactivity": [{"id": "idle", "days": 1, "points": -3}],
            },
            "disqualify": [{"id": "dq", "when": {"x": {"exists": False}}}],
        }
    )
    from support import events_table, leads_table

    leads = leads_table([{"lead_id": "1", "x": None}])
    events = events_table([{"lead_id": "1", "type": "page_view", "timestamp": days_ago(2)}])
    result = leadscore.explain(model, leads, events, "1", T)
    lines = [(c.section, c.rule, c.points) for c in result.contributions]
    assert lines == [
        ("fit", "a", 5),
        ("engagement", "pv", 1.5),
        ("inactivity", "idle", -3),
        ("disqualify", "dq", 0),
    ]
    assert result.fit == 5 and result.engagement == -1.5
    assert sum(c.points for c in result.contributions) == result.fit + result.engagement


def test_a_per_lead_cutoff_scores_each_lead_as_of_its_own_instant():
    """``cutoff``: T per lead (learning, backtests); leads without one use ``as_of``."""
    model = {
        **engagement(
            [{"id": "r", "event": "page_view", "points": 8}],
            half_life_days=10,
            window_days=30,
            inactivity=[{"id": "dormant", "days": 20, "points": -1}],
        )
    }
    leads = leads_table(
        [
            # T = 20 days before as_of: the view 10 days before that counts 8 × 0.5,
            # the view after the cut-off (5 days ago) is ignored, not aged negatively.
            {"lead_id": "cut", "cutoff": days_ago(20), "created_at": days_ago(100)},
            # No cut-off: scored as of as_of; the view 35 days ago is outside the window.
            {"lead_id": "now", "cutoff": None, "created_at": days_ago(100)},
            # Created 15 days before its cut-off: young there, so not dormant.
            {"lead_id": "young", "cutoff": days_ago(40), "created_at": days_ago(55)},
        ]
    )
    events = events_table(
        [
            {"lead_id": "cut", "type": "page_view", "timestamp": days_ago(30)},
            {"lead_id": "cut", "type": "page_view", "timestamp": days_ago(5)},
            {"lead_id": "now", "type": "page_view", "timestamp": days_ago(35)},
            {"lead_id": "now", "type": "page_view", "timestamp": days_ago(0)},
        ]
    )
    loaded = leadscore.load_model({"name": "test", **model})
    result = score(loaded, leads, events, T, explain=True, cutoff="cutoff")
    rows = {row["lead_id"]: row for row in result.to_pylist()}
    assert rows["cut"]["rule:r"] == pytest.approx(4.0, rel=1e-12)
    assert rows["cut"]["rule:dormant"] == 0  # its last view is 10 days before its T
    assert rows["now"]["rule:r"] == 8.0
    assert rows["now"]["rule:dormant"] == 0
    assert rows["young"]["rule:r"] == 0.0
    assert rows["young"]["rule:dormant"] == 0
    assert rows["young"]["engagement"] == 0.0


DUPLICATES = [
    {"lead_id": "A", "email": "ana@acme.es", "created_at": days_ago(10)},
    {"lead_id": "B", "email": " Ana@ACME.es", "created_at": days_ago(5)},  # duplicate of A
    {"lead_id": "C", "email": "bo@acme.es", "created_at": days_ago(1)},
]
DUPLICATE_EVENTS = [
    {"lead_id": "A", "type": "page_view", "timestamp": days_ago(1)},
    {"lead_id": "B", "type": "page_view", "timestamp": days_ago(2)},
    {"lead_id": "B", "type": "page_view", "timestamp": days_ago(3)},
]


@pytest.mark.parametrize(("merge", "expected"), [(False, [3, 6, 0]), (True, [9, 0, 0])])
def test_merge_duplicates_counts_a_duplicates_events_once_on_the_original(merge, expected):
    model = {
        **engagement([{"id": "pv", "event": "page_view", "points": 3}]),
        "merge_duplicates": merge,
    }
    rows = score_rows(model, DUPLICATES, DUPLICATE_EVENTS)
    assert [rows[k]["engagement"] for k in "ABC"] == expected


def test_the_explanation_says_where_a_duplicates_events_count():
    model = leadscore.load_model(
        {
            "name": "test",
            **engagement([{"id": "pv", "event": "page_view", "points": 3}]),
            "merge_duplicates": True,
        }
    )
    engine, db = ENGINE.get()

    def explain(lead: str) -> leadscore.Explanation:
        return leadscore.explain(
            model, leads_table(DUPLICATES), events_table(DUPLICATE_EVENTS), lead, T,
            engine=engine, db=db,  # type: ignore[arg-type]
        )  # fmt: skip

    original, duplicate = explain("A"), explain("B")
    assert (original.engagement, original.merged_duplicates) == (9.0, ["B"])
    assert original.duplicates_note == "includes the events of its duplicates B"
    assert (duplicate.engagement, duplicate.duplicate_of) == (0.0, "A")
    assert duplicate.to_dict()["duplicate_of"] == "A"


@pytest.mark.parametrize("memory_limit", [None, "1GB"])
def test_min_count_is_the_same_in_the_main_pass_and_apart_under_a_memory_limit(memory_limit):  # type: ignore[no-untyped-def]
    # DuckDB aggregates n-th values in the main pass, or apart when memory is limited
    # (their states cannot spill); other engines have one plan. Half-life 10 days.
    rules = [
        {"id": "r3", "event": "page_view", "min_count": 3, "points": 8},
        {"id": "r2", "event": ["page_view", "email_open"], "min_count": 2, "points": 4},
        {"id": "view", "event": "page_view", "points": 1},
    ]
    model = leadscore.load_model({"name": "test", **engagement(rules, half_life_days=10)})
    rows = [("1", "page_view", 0), ("1", "page_view", 10), ("1", "email_open", 5)]
    rows += [("1", "page_view", 20), ("2", "page_view", 10), ("2", "email_open", 30)]
    events = [{"lead_id": lead, "type": kind, "timestamp": days_ago(d)} for lead, kind, d in rows]
    engine, db = ENGINE.get()
    session = open_session(
        model, leads_table([{"lead_id": "1"}, {"lead_id": "2"}]), events_table(events),
        as_of=T, engine=engine, db=db, memory_limit=memory_limit,  # type: ignore[arg-type]
    )  # fmt: skip
    with session:
        assert session.spills is (memory_limit is not None)
        plans = [replace(session, spills=s).compiled().table for s in (False, True)]
        passes = {session.con.compile(p).count("GROUP BY") for p in plans}  # one more apart
        assert len(passes) == (2 if engine == "duckdb" else 1)
        expr, _ = session.results(explain=True)
        table = session.con.to_pyarrow(expr)
    got = {r["lead_id"]: r for r in table.to_pylist()}
    # lead 1: page views 0, 10, 20 days old (3rd: 20 d, 8 × 0.25); 2nd youngest of
    # views and opens (0, 5, 10, 20): 5 d, 4 × 2^-0.5; views 1 + 0.5 + 0.25.
    assert got["1"]["rule:r3"] == pytest.approx(2.0, rel=1e-12)
    assert got["1"]["rule:r2"] == pytest.approx(4 * 2**-0.5, rel=1e-12)
    assert got["1"]["rule:view"] == pytest.approx(1.75, rel=1e-12)
    # lead 2: one view (10 d) and an open (30 d): no 3rd view; 2nd youngest 30 d.
    assert got["2"]["rule:r3"] == 0.0
    assert got["2"]["rule:r2"] == pytest.approx(4 * 0.125, rel=1e-12)
