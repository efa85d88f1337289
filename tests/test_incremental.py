"""Incremental re-scoring (``score --since``): the results of a full run, computing
only the leads whose result can have changed (issue 6).

Which leads were scored again is seen from the outside: the previous results are
given a score no run can produce (-999) while keeping their fingerprints, so a row
still holding it was carried over, and any other row was computed again. Every
scenario also checks that the incremental run equals a full run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import leadscore
from leadscore.cli import app
from leadscore.errors import LeadscoreError
from random_inputs import AGES, data, models
from support import T, days_ago, events_table, leads_table, score

POISON = -999.0

MODEL: dict[str, Any] = {
    "name": "incremental",
    "fit": {"rules": [{"id": "ceo", "when": {"job_title": "CEO"}, "points": 20}]},
    "engagement": {
        "window_days": 30,
        "rules": [
            {"id": "visit", "event": "page_view", "points": 2, "max_points": 10},
            {"id": "pricing", "event": "page_view", "when": {"url": {"contains": "pricing"}},
             "points": 5, "once": True},
        ],
        "inactivity": [{"id": "idle", "days": 10, "points": -3}],
    },
}  # fmt: skip
LEADS = [
    {"lead_id": "L1", "job_title": "CEO", "notes": "met at fair", "created_at": days_ago(100)},
    {"lead_id": "L2", "job_title": "Intern", "notes": None, "created_at": days_ago(100)},
    {"lead_id": "L3", "job_title": None, "notes": None, "created_at": days_ago(100)},
]
EVENTS = [
    {"lead_id": "L1", "type": "page_view", "timestamp": days_ago(2), "event_id": "a",
     "url": "/pricing"},
    {"lead_id": "L1", "type": "page_view", "timestamp": days_ago(3), "event_id": "b", "url": "/"},
    {"lead_id": "L2", "type": "page_view", "timestamp": days_ago(5), "event_id": "c", "url": "/"},
]  # fmt: skip


def model_of(changes: dict[str, Any] | None = None) -> leadscore.Model:
    return leadscore.load_model({**MODEL, **(changes or {})})


def rows(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {str(r["lead_id"]): r for r in table.to_pylist()}


def assert_same(actual: pa.Table, expected: pa.Table) -> None:
    """Equal, floats to 1e-9 relative (sums may add in another order)."""
    assert actual.schema == expected.schema
    got, want = rows(actual), rows(expected)
    assert got.keys() == want.keys()
    for lead, row in want.items():
        for name, value in row.items():
            other = got[lead][name]
            if isinstance(value, float) and isinstance(other, float):
                assert math.isclose(other, value, rel_tol=1e-9, abs_tol=1e-12), (lead, name)
            else:
                assert other == value, (lead, name, other, value)


def rescored(
    before: tuple[Any, pa.Table, pa.Table | None, Any],
    after: tuple[Any, pa.Table, pa.Table | None, Any],
    new_events: list[dict[str, Any]] | None = None,
) -> set[str]:
    """Score ``before`` fully, then ``after`` incrementally; return the re-scored leads.

    Each tuple is (model, leads, events, as_of); ``new_events``, the events that
    ``after`` added (passed as such). Checks that the incremental run equals a full
    run of ``after``.
    """
    model0, leads0, events0, t0 = before
    model1, leads1, events1, t1 = after
    told = {} if new_events is None else {"new_events": events_table(new_events)}
    previous = score(model0, leads0, events0, t0)
    full = score(model1, leads1, events1, t1)
    assert_same(score(model1, leads1, events1, t1, since=previous, **told), full)
    poisoned = previous.set_column(
        previous.schema.get_field_index("score"), "score", pa.array([POISON] * len(previous))
    )
    marked = score(model1, leads1, events1, t1, since=poisoned, **told)
    return {lead for lead, row in rows(marked).items() if row["score"] != POISON}


def state(
    model: Any = None, leads: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None, as_of: Any = T,
) -> tuple[Any, pa.Table, pa.Table | None, Any]:  # fmt: skip
    return (
        model or model_of(),
        leads_table(leads if leads is not None else LEADS),
        events_table(events if events is not None else EVENTS),
        as_of,
    )


@pytest.mark.usefixtures("engine")
def test_nothing_changed_rescores_nothing() -> None:
    assert rescored(state(), state()) == set()


@pytest.mark.usefixtures("engine")
def test_a_late_event_rescores_its_lead_only() -> None:
    late = {"lead_id": "L2", "type": "page_view", "timestamp": days_ago(1), "event_id": "d",
            "url": "/pricing"}  # fmt: skip
    assert rescored(state(), state(events=[*EVENTS, late])) == {"L2"}


def test_an_edited_or_removed_event_rescores_its_lead() -> None:
    edited = [{**EVENTS[0], "url": "/blog"}, *EVENTS[1:]]
    assert rescored(state(), state(events=edited)) == {"L1"}
    assert rescored(state(), state(events=EVENTS[:2])) == {"L2"}


def test_an_event_the_model_cannot_see_changes_nothing() -> None:
    old = {"lead_id": "L3", "type": "page_view", "timestamp": days_ago(31), "event_id": "o"}
    future = {"lead_id": "L3", "type": "email_open", "timestamp": days_ago(-1)}
    assert rescored(state(), state(events=[*EVENTS, old, future])) == set()


def test_a_changed_lead_field_rescores_the_lead_unless_the_model_ignores_it() -> None:
    promoted = [LEADS[0], {**LEADS[1], "job_title": "CEO"}, LEADS[2]]
    assert rescored(state(), state(leads=promoted)) == {"L2"}
    noted = [LEADS[0], LEADS[1], {**LEADS[2], "notes": "call back"}]
    assert rescored(state(), state(leads=noted)) == set()


def test_new_leads_are_scored_and_removed_ones_dropped() -> None:
    new = {"lead_id": "L4", "job_title": "CEO", "notes": None, "created_at": days_ago(1)}
    assert rescored(state(), state(leads=[*LEADS[1:], new])) == {"L4"}
    previous = score(*state())
    result = score(*state(leads=[*LEADS[1:], new]), since=previous)
    assert sorted(result.column("lead_id").to_pylist()) == ["L2", "L3", "L4"]


@pytest.mark.usefixtures("engine")
def test_moving_T_rescores_only_leads_whose_window_or_inactivity_edge_is_crossed() -> None:
    leads = [
        *LEADS,
        {"lead_id": "L4", "job_title": None, "notes": None, "created_at": days_ago(9.5)},
        {"lead_id": "L5", "job_title": None, "notes": None, "created_at": days_ago(100)},
    ]
    events = [
        *EVENTS,  # L1: 2 and 3 days old, L2: 5 days old: no edge crossed in one day
        {"lead_id": "L3", "type": "page_view", "timestamp": days_ago(29.5)},  # leaves window
        {"lead_id": "L5", "type": "page_view", "timestamp": days_ago(9.5)},  # becomes idle
    ]
    # L4 was created 9.5 days ago: it becomes old enough to count as idle.
    later = T + timedelta(days=1)
    assert rescored(state(leads=leads, events=events), state(leads=leads, events=events,
                    as_of=later)) == {"L3", "L4", "L5"}  # fmt: skip
    # Back 6 days: the events of L1 and L2 are not there yet; nothing else moves.
    earlier = T - timedelta(days=6)
    assert rescored(state(leads=leads, events=events), state(leads=leads, events=events,
                    as_of=earlier)) == {"L1", "L2"}  # fmt: skip


def test_with_decay_a_run_at_another_T_is_a_full_run() -> None:
    # Decay changes the points of every lead with an event in the window.
    decaying = model_of({"engagement": {**MODEL["engagement"], "half_life_days": 7}})
    later = T + timedelta(hours=1)
    assert rescored(state(decaying), state(decaying, as_of=later)) == {"L1", "L2", "L3"}
    assert rescored(state(decaying), state(decaying)) == set()  # same T: nothing


def test_a_changed_model_rescores_every_lead() -> None:
    other = model_of({"fit": {"rules": [{"id": "ceo", "when": {"job_title": "CEO"}, "points": 5}]}})
    assert rescored(state(), state(other)) == {"L1", "L2", "L3"}


def test_a_changed_model_with_other_rules_is_scored_in_full() -> None:
    fit = {"rules": [{"id": "boss", "when": {"job_title": "CEO"}, "points": 5}]}
    previous = score(*state(), explain=True)
    result = score(*state(model_of({"fit": fit})), explain=True, since=previous)
    assert_same(result, score(*state(model_of({"fit": fit})), explain=True))


@pytest.mark.usefixtures("engine")
def test_leads_sharing_an_event_id_are_always_rescored() -> None:
    # De-duplication is global: the earliest copy counts, here L1's.
    copy = {"lead_id": "L2", "type": "page_view", "timestamp": days_ago(1), "event_id": "a",
            "url": "/pricing"}  # fmt: skip
    events = [*EVENTS, copy]
    assert rescored(state(events=events), state(events=events)) == {"L1", "L2"}
    # L1's copy removed: L2's copy counts now, though L2's own events did not change.
    assert "L2" in rescored(state(events=events), state(events=events[1:]))


def test_duplicates_are_rescored_with_the_lead_they_duplicate() -> None:
    merging = model_of({"merge_duplicates": True})
    people = [
        {**LEADS[0], "email": "ann@acme.com"},
        {**LEADS[1], "email": "ann@acme.com", "created_at": days_ago(50)},  # duplicate of L1
        {**LEADS[2], "email": "bob@acme.com"},
    ]
    late = {"lead_id": "L2", "type": "page_view", "timestamp": days_ago(1), "url": "/pricing"}
    assert rescored(state(merging, people), state(merging, people, [*EVENTS, late])) == {
        "L1",
        "L2",
    }


@pytest.mark.usefixtures("engine")
def test_told_the_new_events_it_rescores_their_leads_and_the_changed_leads() -> None:
    late = {"lead_id": "L2", "type": "page_view", "timestamp": days_ago(1), "event_id": "d",
            "url": "/pricing"}  # fmt: skip
    assert rescored(state(), state(events=[*EVENTS, late]), [late]) == {"L2"}
    promoted = [LEADS[0], LEADS[1], {**LEADS[2], "job_title": "CEO"}]
    after = state(leads=promoted, events=[*EVENTS, late])
    assert rescored(state(), after, [late]) == {"L2", "L3"}
    noted = [LEADS[0], LEADS[1], {**LEADS[2], "notes": "call back"}]
    assert rescored(state(), state(leads=noted, events=[*EVENTS, late]), [late]) == {"L2"}


@pytest.mark.usefixtures("engine")
def test_told_the_new_events_it_still_deduplicates_across_leads() -> None:
    # A new copy of L1's event "a", earlier than L1's: it now counts for L2, not L1.
    earlier = {"lead_id": "L2", "type": "page_view", "timestamp": days_ago(4), "event_id": "a",
               "url": "/pricing"}  # fmt: skip
    assert rescored(state(), state(events=[*EVENTS, earlier]), [earlier]) == {"L1", "L2"}
    # L3 holds a later copy of "a" and gets a new event: scored again, its copy of
    # "a" still loses to L1's (which is read for that, and not scored again).
    copy = {"lead_id": "L3", "type": "page_view", "timestamp": days_ago(1), "event_id": "a",
            "url": "/pricing"}  # fmt: skip
    new = {"lead_id": "L3", "type": "page_view", "timestamp": days_ago(1), "event_id": "n"}
    before = state(events=[*EVENTS, copy])
    assert rescored(before, state(events=[*EVENTS, copy, new]), [new]) == {"L3"}


@pytest.mark.usefixtures("engine")
def test_told_the_new_events_it_reads_the_copies_unknown_leads_hold() -> None:
    # U9 is no lead: its copy of L1's "a" takes part in the de-duplication all the same.
    unknown = {"lead_id": "U9", "type": "page_view", "timestamp": days_ago(4), "event_id": "a"}
    assert rescored(state(), state(events=[*EVENTS, unknown]), [unknown]) == {"L1"}
    # U9's copy was there before; another model (one that read no events) scored
    # the previous run, so its fingerprints could not say that L1 shares "a".
    fit_only = leadscore.load_model({"name": "fit", "fit": MODEL["fit"]})
    late = {"lead_id": "L2", "type": "page_view", "timestamp": days_ago(1), "event_id": "d"}
    before = state(fit_only, events=[*EVENTS, unknown])
    after = state(events=[*EVENTS, unknown, late])
    assert rescored(before, after, [late]) == {"L1", "L2", "L3"}


def test_told_the_new_events_moving_T_rescores_the_crossings_too() -> None:
    events = [*EVENTS, {"lead_id": "L3", "type": "page_view", "timestamp": days_ago(29.5)}]
    late = {"lead_id": "L1", "type": "page_view", "timestamp": days_ago(0.5), "event_id": "e"}
    later = T + timedelta(days=1)
    before, after = state(events=events), state(events=[*events, late], as_of=later)
    assert rescored(before, after, [late]) == {"L1", "L3"}
    # An event dated after the previous T, there already: seen once T passes it.
    ahead = {"lead_id": "L2", "type": "page_view", "timestamp": days_ago(-0.5), "event_id": "f",
             "url": "/pricing"}  # fmt: skip
    before = state(events=[*EVENTS, ahead])
    after = state(events=[*EVENTS, ahead, late], as_of=later)
    assert rescored(before, after, [late]) == {"L1", "L2"}
    # T goes back a day: L1's event of 0.5 days ago is not there yet.
    earlier = T - timedelta(days=1)
    before = state(events=[*EVENTS, late])
    after = state(events=[*EVENTS, late, ahead], as_of=earlier)
    assert rescored(before, after, [ahead]) == {"L1", "L2"}


def test_new_events_need_an_earlier_output() -> None:
    with pytest.raises(LeadscoreError, match="no earlier output"):
        score(*state(), new_events=events_table(EVENTS))
    previous = score(*state())
    without_ids = events_table([{k: v for k, v in EVENTS[0].items() if k != "event_id"}])
    with pytest.raises(LeadscoreError, match="no column 'event_id'"):
        score(*state(), since=previous, new_events=without_ids)


def test_previous_results_must_come_from_score() -> None:
    with pytest.raises(LeadscoreError, match="fingerprint"):
        score(*state(), since=pa.table({"lead_id": ["L1"], "score": [1.0]}))
    previous = score(*state())
    instants = [T, T - timedelta(days=1), T]
    mixed = previous.set_column(
        previous.schema.get_field_index("as_of"), "as_of", pa.array(instants, pa.timestamp("us"))
    )
    with pytest.raises(LeadscoreError, match="several instants"):
        score(*state(), since=mixed)
    with pytest.raises(LeadscoreError, match="cut-offs"):
        leadscore.score(model_of(), state()[1], state()[2], T, cutoff="created_at", since=previous)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_since_on_the_command_line(tmp_path: Path, suffix: str) -> None:
    model = tmp_path / "model.json"
    model.write_text(json.dumps(MODEL))
    leads, events = tmp_path / "leads.parquet", tmp_path / "events.parquet"
    pq.write_table(leads_table(LEADS), leads)
    pq.write_table(events_table(EVENTS), events)
    runner = CliRunner()
    base = ["score", "-m", str(model), "-l", str(leads), "-e", str(events), "--as-of", "2025-06-01"]
    yesterday, today, full = (tmp_path / f"{n}{suffix}" for n in ("yesterday", "today", "full"))
    assert runner.invoke(app, [*base, "-o", str(yesterday)]).exit_code == 0
    late = {"lead_id": "L3", "type": "page_view", "timestamp": days_ago(1), "event_id": "z"}
    pq.write_table(events_table([*EVENTS, late]), events)
    result = runner.invoke(app, [*base, "-o", str(today), "--since", str(yesterday)])
    assert result.exit_code == 0, result.output
    assert "Re-scored 1 of 3 leads (1 changed)" in result.output
    assert runner.invoke(app, [*base, "-o", str(full)]).exit_code == 0
    assert today.read_bytes() != b""
    if suffix == ".parquet":
        assert_same(pq.read_table(today), pq.read_table(full))
    else:
        assert sorted(today.read_text().splitlines()) == sorted(full.read_text().splitlines())
    told = tmp_path / "new.parquet"
    pq.write_table(events_table([late]), told)
    since = ["--since", str(yesterday), "--new-events", str(told)]
    result = runner.invoke(app, [*base, "-o", str(today), *since])
    assert result.exit_code == 0, result.output
    assert "Re-scored 1 of 3 leads (1 changed)" in result.output
    if suffix == ".parquet":
        assert_same(pq.read_table(today), pq.read_table(full))
    alone = runner.invoke(app, [*base, "-o", str(today), "--new-events", str(told)])
    assert alone.exit_code == 2
    assert "no earlier output" in alone.output
    missing = runner.invoke(app, [*base, "-o", str(today), "--since", str(leads)])
    assert missing.exit_code == 2
    assert "fingerprint" in missing.output


@st.composite
def new_event(draw: st.DrawFn, ids: list[Any]) -> dict[str, Any]:
    """One more event of one of the leads ``ids``."""
    return {
        "lead_id": draw(st.sampled_from(ids)),
        "type": draw(st.sampled_from(["page_view", "email_open", "form"])),
        "timestamp": T - draw(st.sampled_from(AGES)),
        "event_id": draw(st.sampled_from([None, "e1", "e9"])),
        "url": draw(st.sampled_from([None, "/pricing"])),
    }


@st.composite
def changes(draw: st.DrawFn, leads: pa.Table, events: pa.Table | None) -> tuple[Any, ...]:
    """Another day's inputs: events added, dropped or edited, leads edited, T moved."""
    rows = events.to_pylist() if events is not None else []
    kept = [r for r in rows if draw(st.booleans()) or draw(st.booleans())]
    for row in kept:
        if draw(st.integers(0, 4)) == 0:
            row["url"] = draw(st.sampled_from([None, "/pricing", "/blog"]))
    ids = leads.column("lead_id").to_pylist()
    kept += [draw(new_event(ids)) for _ in range(draw(st.integers(0, 3)))]
    titles = leads.column("job_title").to_pylist()
    edited = [draw(st.sampled_from([t, t, "CEO", None])) for t in titles]
    new_leads = leads.set_column(leads.schema.get_field_index("job_title"), "job_title",
                                 pa.array(edited, pa.string()))  # fmt: skip
    shifts = [timedelta(0), timedelta(microseconds=1), timedelta(days=1), timedelta(days=-1),
              timedelta(days=2.5), timedelta(days=40)]  # fmt: skip
    shift = draw(st.sampled_from(shifts))
    return new_leads, (events_table(kept) if kept else None), T + shift


def examples(count: int) -> Callable[[Callable[..., None]], Any]:
    """A property test over ``count`` random models, data and the next day's inputs."""

    def decorate(test: Callable[..., None]) -> Any:
        given_ = given(model_file=models(), inputs=data(), after=st.data())(test)
        return settings(
            max_examples=count,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )(given_)

    return decorate


def valid(model_file: Any) -> leadscore.Model:
    try:
        return leadscore.load_model(model_file)
    except LeadscoreError:
        assume(False)
        raise


@examples(20)
def test_incremental_runs_equal_full_runs(model_file: Any, inputs: Any, after: Any) -> None:
    model = valid(model_file)
    leads, events = inputs
    new_leads, new_events, as_of = after.draw(changes(leads, events))
    previous = leadscore.score(model, leads, events, T)
    full = leadscore.score(model, new_leads, new_events, as_of)
    assert_same(leadscore.score(model, new_leads, new_events, as_of, since=previous), full)


@st.composite
def additions(draw: st.DrawFn, leads: pa.Table, events: pa.Table | None) -> tuple[Any, ...]:
    """Another day's inputs under the append-only contract: events added (the new
    ones returned apart), leads edited or gone from the leads, T moved."""
    edited, _, as_of = draw(changes(leads, events))
    new_leads = edited if draw(st.booleans()) else leads  # else only T and the events move
    if new_leads.num_rows > 1 and draw(st.integers(0, 4)) == 0:  # a lead left the leads
        gone = draw(st.integers(0, new_leads.num_rows - 1))
        new_leads = pa.concat_tables([new_leads.slice(0, gone), new_leads.slice(gone + 1)])
    ids = leads.column("lead_id").to_pylist()
    added = [draw(new_event(ids)) for _ in range(draw(st.integers(1, 2)))]
    rows = events.to_pylist() if events is not None else []
    return new_leads, events_table([*rows, *added]), events_table(added), as_of


@examples(15)
def test_runs_told_the_new_events_equal_full_runs(model_file: Any, inputs: Any, after: Any) -> None:
    if after.draw(st.booleans()):  # with decay, moving T means a full run: mostly none
        model_file["engagement"].pop("half_life_days", None)
    model = valid(model_file)
    leads, events = inputs
    new_leads, all_events, added, as_of = after.draw(additions(leads, events))
    previous = leadscore.score(model, leads, events, T)
    full = leadscore.score(model, new_leads, all_events, as_of)
    again = leadscore.score(model, new_leads, all_events, as_of, since=previous, new_events=added)
    assert_same(again, full)
