"""Kept per-lead aggregates (``score --keep-state``): a run told the new events merges
a lead's kept aggregates with its new events' and equals a full run (issue 6).

Every scenario scores the earlier inputs keeping their state, then the later ones
``since`` that output and told the new events, and checks the result against a full
run of the later inputs; the plan says how many leads were merged from kept
aggregates, so a test also sees when the state was (not) used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import leadscore
from leadscore.cli import app
from leadscore.engine import kept_states
from support import T, days_ago, events_table, leads_table
from test_incremental import additions, assert_same, examples, valid

MODEL: dict[str, Any] = {
    "name": "kept",
    "fit": {"rules": [{"id": "ceo", "when": {"job_title": "CEO"}, "points": 20}]},
    "engagement": {
        "half_life_days": 20,
        "window_days": 60,
        "rules": [
            {"id": "visit", "event": "page_view", "points": 1, "max_points": 10},
            {"id": "pricing", "event": "page_view", "when": {"url": {"contains": "pricing"}},
             "points": 5, "once": True},
            {"id": "sessions", "event": "page_view", "distinct": "session_id", "points": 2},
            {"id": "returning", "event": "page_view", "distinct": "session_id",
             "min_count": 2, "points": 4},
            {"id": "engaged", "event": ["email_open", "email_click"], "min_count": 3,
             "points": 6},
            {"id": "form", "event": "form_submit", "points": 10, "max_points": 15},
        ],
        "inactivity": [{"id": "idle", "days": 15, "points": -3}],
    },
    "interests": [
        {"id": "robots", "rules": [{"id": "robot-pages", "event": "page_view",
                                    "when": {"url": {"contains": "robot"}}, "points": 1}]},
    ],
}  # fmt: skip
LEADS = [
    {"lead_id": "L1", "job_title": "CEO", "created_at": days_ago(100)},
    {"lead_id": "L2", "job_title": "Intern", "created_at": days_ago(100)},
    {"lead_id": "L3", "job_title": None, "created_at": days_ago(5)},
]


def view(lead: str, days: float, event_id: str, session: str | None = None,
         url: str = "/") -> dict[str, Any]:  # fmt: skip
    return {"lead_id": lead, "type": "page_view", "timestamp": days_ago(days),
            "event_id": event_id, "session_id": session, "url": url}  # fmt: skip


def email(lead: str, days: float, event_id: str) -> dict[str, Any]:
    return {"lead_id": lead, "type": "email_open", "timestamp": days_ago(days),
            "event_id": event_id, "session_id": None, "url": None}  # fmt: skip


EVENTS = [
    view("L1", 2, "a", "s1", "/pricing"),
    view("L1", 3, "b", "s1"),
    view("L1", 9, "c", "s2", "/robots"),
    email("L1", 4, "d"),
    email("L1", 6, "e"),
    view("L2", 20, "f", "s3"),
    view("L2", 70, "g", "s4"),  # outside the window
    email("L2", 1, "h"),
]


def read(path: Path) -> pa.Table:
    """An output, every column nullable: a told run's ``lead_id`` comes out NOT NULL."""
    table = pq.read_table(path)
    return table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))


def model_of(changes: dict[str, Any] | None = None) -> leadscore.Model:
    engagement = {**MODEL["engagement"], **(changes or {})}
    return leadscore.load_model({**MODEL, "engagement": engagement})


class Runs:
    """Earlier and later runs in one folder: ``first`` keeps its state, ``told`` runs
    since an earlier output with the new events, and checks it against a full run."""

    def __init__(self, folder: Path, model: leadscore.Model | None = None) -> None:
        self.folder, self.model = folder, model or model_of()
        self.plans: list[leadscore.RescorePlan] = []

    def first(self, leads: list[dict[str, Any]], events: list[dict[str, Any]],
              name: str = "day0") -> Path:  # fmt: skip
        out = self.folder / f"{name}.parquet"
        leadscore.score_file(self.model, leads_table(leads), events_table(events), out,
                             as_of=T, keep_state=True)  # fmt: skip
        return out

    def told(
        self, since: Path, leads: list[dict[str, Any]], events: list[dict[str, Any]],
        added: list[dict[str, Any]], name: str, as_of: Any = T, explain: bool = False,
    ) -> Path:  # fmt: skip
        out = self.folder / f"{name}.parquet"
        leadscore.score_file(
            self.model, leads_table(leads), events_table([*events, *added]), out,
            as_of=as_of, since=since, new_events=events_table(added), explain=explain,
            planned=self.plans.append,
        )  # fmt: skip
        full = self.folder / f"{name}-full.parquet"
        leadscore.score_file(self.model, leads_table(leads), events_table([*events, *added]),
                             full, as_of=as_of, explain=explain)  # fmt: skip
        assert_same(read(out), read(full))
        return out

    @property
    def merged(self) -> int:
        return self.plans[-1].merged


def test_a_run_keeping_its_state_scores_like_any_full_run(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    kept = read(runs.first(LEADS, EVENTS))
    plain = tmp_path / "plain.parquet"
    leadscore.score_file(runs.model, leads_table(LEADS), events_table(EVENTS), plain, as_of=T)
    assert_same(kept, read(plain))


def test_told_runs_merge_kept_aggregates_with_the_new_events(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    day0 = runs.first(LEADS, EVENTS)
    added = [
        view("L1", 0.5, "n1", "s1"),  # a session L1 had: its youngest age changes
        view("L1", 30, "n2", "s9", "/robots"),  # late, in a new session, older than the rest
        email("L1", 8, "n3"),  # L1's third e-mail: "engaged" now counts, from the 3rd youngest
        {"lead_id": "L1", "type": "form_submit", "timestamp": days_ago(1), "event_id": "n4",
         "session_id": None, "url": "/contact"},
        view("L2", -1, "n5", "s3"),  # after T: not seen
        view("L2", 61, "n6", "s3"),  # older than the window: not seen either
        view("L3", 2, "n7", "s5", "/pricing"),  # L3 had no event
        view("L4", 1, "n8", "s6"),  # a new lead
    ]  # fmt: skip
    leads = [*LEADS, {"lead_id": "L4", "job_title": "CEO", "created_at": days_ago(1)}]
    runs.told(day0, leads, EVENTS, added, "day1")
    assert runs.merged == 4


def test_without_decay_the_counts_and_ages_merge_too(tmp_path: Path) -> None:
    runs = Runs(tmp_path, model_of({"half_life_days": None}))
    day0 = runs.first(LEADS, EVENTS)
    added = [view("L1", 1, "n1", "s2"), email("L2", 3, "n2"), email("L2", 5, "n3")]
    runs.told(day0, LEADS, EVENTS, added, "day1", explain=False)
    assert runs.merged == 2


def test_explained_runs_merge_as_well(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    day0 = tmp_path / "day0.parquet"
    leadscore.score_file(runs.model, leads_table(LEADS), events_table(EVENTS), day0, as_of=T,
                         keep_state=True, explain=True)  # fmt: skip
    runs.told(day0, LEADS, EVENTS, [view("L2", 1, "n1", "s7")], "day1", explain=True)
    assert runs.merged == 1


def test_a_new_event_holding_another_events_id_is_scored_from_the_events(
    tmp_path: Path,
) -> None:
    runs = Runs(tmp_path)
    day0 = runs.first(LEADS, EVENTS)
    # An earlier copy of L1's "a" for L2: it now counts for L2, and L1 loses "a".
    copy = view("L2", 4, "a", "s1", "/pricing")
    # L3's new event with an id of its own is merged all the same.
    runs.told(day0, LEADS, EVENTS, [copy, view("L3", 1, "n1", "s8")], "day1")
    assert runs.plans[-1].rescored == 3
    assert runs.merged == 1
    # The same lead twice: the later copy of its own event changes nothing, but is read.
    again = runs.told(day0, LEADS, EVENTS, [view("L1", 1, "b", "s1")], "day1b")
    assert runs.merged == 0
    assert pq.read_table(again).num_rows == 3


def test_a_chain_of_told_runs_keeps_merging(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    day0 = runs.first(LEADS, EVENTS)
    first = [view("L1", 1, "n1", "s2"), email("L2", 2, "n2")]
    day1 = runs.told(day0, LEADS, EVENTS, first, "day1")
    second = [view("L1", 0.5, "n3", "s2"), email("L2", 0.2, "n4"), email("L2", 0.1, "n5")]
    runs.told(day1, LEADS, [*EVENTS, *first], second, "day2")
    assert runs.merged == 2
    # From day0 again (another branch): day1's rows are not in day0's state.
    runs.told(day0, LEADS, EVENTS, second, "day2b")
    assert runs.merged == 2
    # An id a new event of day1 holds (kept in day1's version, not in the events
    # kept on day0) comes again for L3: both holders are scored from their events.
    again = [view("L3", 0.3, "n1", "s7")]
    runs.told(day1, LEADS, [*EVENTS, *first], again, "day2c")
    assert (runs.plans[-1].rescored, runs.merged) == (2, 0)
    # On day0's branch, that id is new: L3 is merged.
    runs.told(day0, LEADS, EVENTS, again, "day2d")
    assert (runs.plans[-1].rescored, runs.merged) == (1, 1)


def test_a_lead_gone_from_the_leads_for_a_day_keeps_its_rows_and_new_events(
    tmp_path: Path,
) -> None:
    # L3 is not in the leads file on day 2, and gets a new event then: its kept rows
    # take it all the same (no result), so that on day 3, back, L3 is merged from
    # rows holding every event told. With decay each day's version holds every kept
    # lead's row, and hides the versions before it (the chain read stays one
    # version long); without, only the changed leads' rows.
    for decay in (20, None):
        runs = Runs(tmp_path / str(decay), model_of({"half_life_days": decay}))
        runs.folder.mkdir()
        since, events = runs.first(LEADS, EVENTS), EVENTS
        for day, leads in enumerate([LEADS, LEADS[:2], LEADS], 1):
            added = [view("L1", 0.5 - day, f"n{day}", "s1"), email("L3", 0.2 - day, f"m{day}")]
            at = T + timedelta(days=day)
            since = runs.told(since, leads, events, added, f"day{day}", as_of=at)
            events = [*events, *added]
            state = kept_states.linked(since)
            assert state is not None and len(state.deltas) == day
            assert state.whole == (state.deltas[-1] if decay else None)
        assert runs.merged == (3 if decay else 2)  # without decay, L2 keeps its row


def test_the_state_is_not_used_when_T_moved_back_or_the_output_changed(tmp_path: Path) -> None:
    runs = Runs(tmp_path, model_of({"half_life_days": None}))
    day0 = runs.first(LEADS, EVENTS)
    late = [view("L2", 1, "n1", "s2")]
    runs.told(day0, LEADS, EVENTS, late, "later", as_of=T + timedelta(hours=1))
    assert runs.merged == 1  # read at the later T
    runs.told(day0, LEADS, EVENTS, late, "earlier", as_of=T - timedelta(hours=1))
    assert runs.merged == 0
    stat = day0.stat()
    os.utime(day0, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # rewritten since
    runs.told(day0, LEADS, EVENTS, late, "edited")
    assert runs.merged == 0


SIMPLE = {
    "name": "simple",
    "engagement": {
        "half_life_days": 10,
        "window_days": 30,
        "rules": [{"id": "view", "event": "page_view", "points": 4}],
    },
}


def test_at_a_later_T_kept_aggregates_are_read_there(tmp_path: Path) -> None:
    # 4 points a page view, halved every 10 days. At T, L1's view of 10 days before
    # weighs 1/2: 2 points. Ten days later, told a new view of L2 (5 days before
    # the new T), L1 is read from its kept aggregate at the new T: 4 × 1/4 = 1 point,
    # and L2 merged: 4 × 2^(-1/2).
    runs = Runs(tmp_path, leadscore.load_model(SIMPLE))
    leads = [{"lead_id": "L1"}, {"lead_id": "L2"}]
    events = [view("L1", 10, "a")]
    day0 = runs.first(leads, events)
    assert read(day0).column("engagement").to_pylist() == [2.0, 0.0]
    later = T + timedelta(days=10)
    day1 = runs.told(day0, leads, events, [view("L2", -5, "b")], "day1", as_of=later)
    assert (runs.plans[-1].rescored, runs.merged) == (2, 2)
    scores = dict(zip(*read(day1).select(["lead_id", "engagement"]).to_pydict().values(),
                      strict=True))  # fmt: skip
    assert scores == pytest.approx({"L1": 1.0, "L2": 4 * 2**-0.5}, rel=1e-12)
    # From that version, five days on, told a view of L1 a day before: L1's kept
    # rows are of T, L2's of T + 10 days; both read at T + 15 days.
    runs.told(day1, leads, [*events, view("L2", -5, "b")], [view("L1", -14, "c")], "day2",
              as_of=later + timedelta(days=5))  # fmt: skip
    assert runs.merged == 2
    day2 = dict(zip(*read(tmp_path / "day2.parquet").select(["lead_id", "engagement"])
                    .to_pydict().values(), strict=True))  # fmt: skip
    assert day2 == pytest.approx({"L1": 4 * 2**-2.5 + 4 * 2**-0.1, "L2": 4 * 2**-1}, rel=1e-12)


def test_at_a_later_T_leaving_events_are_taken_out_of_kept_aggregates(tmp_path: Path) -> None:
    # 4 points a view, halved every 10 days, 30-day window; six days after T:
    # L1's one view (25 days before T) has left: 0 points, from its kept sum less it;
    # L5 keeps its view of 2 days before T: 4 × 2^-0.8, its view of 26 days left.
    # An interest's points per session (distinct): the sessions' rows lose theirs.
    sessions = {"id": "sessions", "event": "page_view", "distinct": "session_id", "points": 1}
    model = {**SIMPLE, "interests": [{"id": "visits", "rules": [sessions]}]}
    runs = Runs(tmp_path, leadscore.load_model(model))
    leads = [{"lead_id": f"L{i}"} for i in range(1, 9)]
    events = [
        view("L8", 26, "m", "s9"),  # sent twice: one copy in the kept rows, one taken out
        view("L8", 26, "m", "s9"),
        view("L8", 1, "n", "s9"),
        view("L1", 25, "a", "s1"),
        view("L2", 2, "b", "s2"),  # stays in the window
        view("L3", -3, "c"),  # after T, seen at T + 6 days: not in L3's kept aggregates
        view("L3", 1, "d"),
        view("L5", 26, "f", "s3"),
        view("L5", 2, "g", "s4"),
        view("L6", 27, "h", "s5"),  # its id is L7's too: L6's copy counts (the earlier) ...
        view("L6", 3, "k", "s6"),
        view("L7", 20, "h", "s5"),  # ... even once it has left the window (SPEC: first copy)
    ]
    day0 = runs.first(leads, events)
    at = T + timedelta(days=6)
    # L4's new view is merged; so is L2's new view dated 28 days before T, which
    # leaves as it comes (not in L2's kept rows: not taken out of them), and L3's
    # view of T + 3 days (dated ahead at T: it enters, merged as a new one). L6 is
    # read from its events: its leaving view's id is another event's too.
    added = [view("L4", -1, "e", "s7"), view("L2", 28, "i", "s8")]
    day6 = runs.told(day0, leads, events, added, "day6", as_of=at)
    assert (runs.plans[-1].rescored, runs.merged) == (8, 7)
    scores = dict(zip(*read(day6).select(["lead_id", "engagement"]).to_pydict().values(),
                      strict=True))  # fmt: skip
    assert scores == pytest.approx({
        "L1": 0.0, "L2": 4 * 2**-0.8, "L3": 4 * 2**-0.7 + 4 * 2**-0.3, "L4": 4 * 2**-0.5,
        "L5": 4 * 2**-0.8, "L6": 4 * 2**-0.9, "L7": 0.0, "L8": 4 * 2**-0.7,
    }, rel=1e-12)  # fmt: skip
    visits = read(day6).column("interest:visits").to_pylist()
    expected = [0, 2**-0.8, 0, 2**-0.5, 2**-0.8, 2**-0.9, 0, 2**-0.7]
    assert visits == pytest.approx(expected, rel=1e-12)
    # A day later every lead merges from the version's rows (nothing left to leave).
    day7 = runs.told(day6, leads, [*events, *added], [view("L6", -6.5, "j", "s6")], "day7",
                     as_of=T + timedelta(days=7))  # fmt: skip
    assert runs.merged == 8
    assert read(day7).column("interest:visits").to_pylist()[5] == pytest.approx(2**-0.05)


def test_a_kept_sum_whose_events_all_left_is_none_not_a_residue(tmp_path: Path) -> None:
    # L1's views of 24.5, 25.1 and 24.35 days before T, kept at T and read a day
    # later, weigh 2^-2.45 × 2^-0.1 (...) there, an ulp off the weights of the same
    # views computed at T + 1 day (2^-2.55, ...), which is how they are taken out when
    # they leave five days later. Their sum less those is then 1e-17, not 0: an
    # interest of 1e-17 points would be L1's top interest. The kept count of those
    # events says that none is left.
    model = {**SIMPLE, "interests": [
        {"id": "robots", "rules": [{"id": "robot", "event": "page_view", "points": 1}]},
    ]}  # fmt: skip
    runs = Runs(tmp_path, leadscore.load_model(model))
    leads = [{"lead_id": "L1"}, {"lead_id": "L2"}]
    events = [view("L1", 24.5, "a"), view("L1", 25.1, "b"), view("L1", 24.35, "c"),
              view("L2", 1, "f")]  # fmt: skip
    day0 = runs.first(leads, events)
    late = [view("L1", 24.5, "d"), view("L1", 24.2, "g")]  # merged a day later
    day1 = runs.told(day0, leads, events, late, "day1", as_of=T + timedelta(days=1))
    day6 = runs.told(day1, leads, [*events, *late], [view("L2", -5, "e")], "day6",
                     as_of=T + timedelta(days=6))  # fmt: skip
    assert runs.merged == 2
    rows = {r["lead_id"]: r for r in read(day6).to_pylist()}
    assert (rows["L1"]["engagement"], rows["L1"]["interest:robots"]) == (0.0, 0.0)
    assert (rows["L1"]["top_interest"], rows["L2"]["top_interest"]) == (None, "robots")
    assert rows["L2"]["interest:robots"] == pytest.approx(2**-0.7 + 2**-0.1, rel=1e-12)


def test_a_lead_whose_events_all_left_has_none_in_the_next_version(tmp_path: Path) -> None:
    # L1's one view (session s1) leaves the 30-day window by T + 6 days: read from its
    # events then, it has no aggregates and no (lead, value) rows. The version must
    # say so, or the next run would take L1's rows kept at T (the view) instead.
    model = {**SIMPLE, "engagement": {**SIMPLE["engagement"], "rules": [
        *SIMPLE["engagement"]["rules"],
        {"id": "sessions", "event": "page_view", "distinct": "session_id", "points": 2},
    ]}}  # fmt: skip
    runs = Runs(tmp_path, leadscore.load_model(model))
    leads = [{"lead_id": "L1"}, {"lead_id": "L2"}]
    events = [view("L1", 25, "a", "s1"), view("L2", 1, "b", "s9")]
    day0 = runs.first(leads, events)
    day6 = runs.told(day0, leads, events, [view("L2", -5, "c", "s9")], "day6",
                     as_of=T + timedelta(days=6))  # fmt: skip
    assert read(day6).column("engagement").to_pylist()[0] == 0.0
    # A day later, a view of L1 in another session: 4 + 2 points, nothing of s1.
    later = [view("L1", -6.9, "d", "s2")]
    day7 = runs.told(day6, leads, [*events, view("L2", -5, "c", "s9")], later, "day7",
                     as_of=T + timedelta(days=7))  # fmt: skip
    assert runs.merged == 2
    assert read(day7).column("engagement").to_pylist()[0] == pytest.approx(6 * 2**-0.01)


def test_at_a_later_T_every_kind_of_kept_aggregate_moves(tmp_path: Path) -> None:
    # Sums, youngest ages (once, inactivity), the n youngest ages (min_count), the
    # (lead, value) rows of distinct rules and their totals: each read a day later,
    # with and without decay, equal to a full run (Runs.told checks it).
    for decay in (20, None):
        runs = Runs(tmp_path / str(decay), model_of({"half_life_days": decay}))
        runs.folder.mkdir()
        day0 = runs.first(LEADS, EVENTS)
        added = [view("L1", -0.5, "n1", "s1"), email("L1", -0.2, "n2"), view("L3", 0, "n3", "s5")]
        runs.told(day0, LEADS, EVENTS, added, "day1", as_of=T + timedelta(days=1))
        assert runs.merged == (3 if decay else 2)  # without decay, L2 keeps its row


def test_keep_state_on_the_command_line(tmp_path: Path) -> None:
    model = tmp_path / "model.json"
    model.write_text(json.dumps(MODEL, default=str))
    leads, before, after, new = (tmp_path / f"{n}.parquet" for n in ("l", "e0", "e1", "new"))
    pq.write_table(leads_table(LEADS), leads)
    added = [view("L2", 1, "n1", "s2")]
    pq.write_table(events_table(EVENTS), before)
    pq.write_table(events_table([*EVENTS, *added]), after)
    pq.write_table(events_table(added), new)
    base = ["score", "-m", str(model), "-l", str(leads), "--as-of", T.isoformat()]
    runner = CliRunner()
    day0 = tmp_path / "day0.parquet"
    first = runner.invoke(app, [*base, "-e", str(before), "-o", str(day0), "--keep-state"])
    assert first.exit_code == 0, first.output
    day1 = tmp_path / "day1.csv"
    told = ["--since", str(day0), "--new-events", str(new)]
    result = runner.invoke(app, [*base, "-e", str(after), "-o", str(day1), *told])
    assert result.exit_code == 0, result.output
    assert "1 from kept aggregates" in result.output


def told_from_state_equals_full(
    model_file: Any, inputs: Any, after: Any, folder: Path, moved: bool
) -> None:
    """A full run keeping its state, the next day's inputs told since it (at T, or at
    the drawn T when ``moved``), and a full run of those: the same results."""
    model = valid(model_file)
    leads, events = inputs
    new_leads, all_events, added, as_of = after.draw(additions(leads, events))
    as_of = as_of if moved else T
    added = all_events.slice(all_events.num_rows - added.num_rows)  # the events' columns
    before = folder / "before.parquet"
    leadscore.score_file(model, leads, events, before, as_of=T, keep_state=True)
    out = folder / "after.parquet"
    leadscore.score_file(model, new_leads, all_events, out, as_of=as_of, since=before,
                         new_events=added)  # fmt: skip
    full = folder / "full.parquet"
    leadscore.score_file(model, new_leads, all_events, full, as_of=as_of)
    assert_same(read(out), read(full))


@examples(12)
def test_told_runs_from_kept_state_equal_full_runs(
    model_file: Any, inputs: Any, after: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    told_from_state_equals_full(model_file, inputs, after, tmp_path_factory.mktemp("kept"), False)


@examples(12)
def test_told_runs_from_kept_state_at_another_T_equal_full_runs(
    model_file: Any, inputs: Any, after: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # T moves by 1 µs, a day, 2.5 or 40 days (kept rows read there), or back a day
    # (the state is not used), with decay or not.
    told_from_state_equals_full(model_file, inputs, after, tmp_path_factory.mktemp("kept"), True)


@examples(10)
def test_a_chain_of_told_runs_at_later_Ts_equals_full_runs(
    model_file: Any, inputs: Any, after: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Two days, each told since the day before's output: its version holds the rows
    # of that day's T, the kept file those of the first one.
    model = valid(model_file)
    leads, events = inputs
    folder = tmp_path_factory.mktemp("chain")
    since = folder / "day0.parquet"
    leadscore.score_file(model, leads, events, since, as_of=T, keep_state=True)
    at = T
    for day in (1, 2):
        new_leads, all_events, added, as_of = after.draw(additions(leads, events))
        at += abs(as_of - T)
        added = all_events.slice(all_events.num_rows - added.num_rows)
        out, full = folder / f"day{day}.parquet", folder / f"full{day}.parquet"
        leadscore.score_file(model, new_leads, all_events, out, as_of=at, since=since,
                             new_events=added)  # fmt: skip
        leadscore.score_file(model, new_leads, all_events, full, as_of=at)
        assert_same(read(out), read(full))
        leads, events, since = new_leads, all_events, out


def test_a_state_that_cannot_be_written_costs_time_not_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("LEADSCORE_CACHE_DIR", str(blocked))
    runs = Runs(tmp_path)
    kept = read(runs.first(LEADS, EVENTS))
    plain = tmp_path / "plain.parquet"
    leadscore.score_file(runs.model, leads_table(LEADS), events_table(EVENTS), plain, as_of=T)
    assert_same(kept, read(plain))


class Told:
    """A day's run over files keeping its state, and runs since it told the new
    events: the kind of run that is kept and replayed (:mod:`leadscore.engine.kept_runs`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.model = folder / "model.json"
        self.model.write_text(json.dumps(MODEL, default=str), encoding="utf-8")
        self.leads = folder / "leads.parquet"
        pq.write_table(leads_table(LEADS), self.leads)
        self.plans: list[leadscore.RescorePlan] = []

    def first(self) -> Path:
        """The day's run over EVENTS, keeping its state: its output."""
        day0 = self.folder / "day0.parquet"
        before = self.events("e0", EVENTS)
        leadscore.score_file(self.model, self.leads, before, day0, as_of=T, keep_state=True)
        return day0

    def events(self, name: str, events: list[dict[str, Any]]) -> Path:
        path = self.folder / f"{name}.parquet"
        pq.write_table(events_table(events), path)
        return path

    def since(self, earlier: Path, events: Path, new: Path, out: str) -> Path:
        path = self.folder / out
        leadscore.score_file(self.model, self.leads, events, path, as_of=T, since=earlier,
                             new_events=new, planned=self.plans.append)  # fmt: skip
        full = self.folder / f"full-{out}"
        leadscore.score_file(self.model, self.leads, events, full, as_of=T)
        assert_same(read(path), read(full))
        return path

    def argv(self, earlier: Path, events: Path, new: Path, out: str) -> list[str]:
        files = ["-m", str(self.model), "-l", str(self.leads), "-e", str(events)]
        told = ["--since", str(earlier), "--new-events", str(new)]
        return ["score", *files, "--as-of", T.isoformat(), *told, "-o", str(self.folder / out)]


@pytest.fixture
def told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Told:
    monkeypatch.setenv("LEADSCORE_CACHE_DIR", str(tmp_path / "cache"))
    return Told(tmp_path)


def no_full_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a full run, where the told run should have been replayed")

    monkeypatch.setattr(leadscore.api, "open_session", refuse)


def test_a_told_run_over_files_is_replayed_and_keeps_the_chain(
    told: Told, monkeypatch: pytest.MonkeyPatch
) -> None:
    day0 = told.first()
    added = [view("L1", 1, "n1", "s2"), email("L2", 2, "n2"), view("L3", 1, "n3", "s9")]
    after, new = told.events("e1", [*EVENTS, *added]), told.events("new1", added)
    told.since(day0, after, new, "day1.parquet")  # kept
    with monkeypatch.context() as patched:
        no_full_run(patched)
        again = told.folder / "day1-again.parquet"
        leadscore.score_file(told.model, told.leads, after, again, as_of=T, since=day0,
                             new_events=new, planned=told.plans.append)  # fmt: skip
    assert_same(read(again), read(told.folder / "full-day1.parquet"))
    assert str(told.plans[-1]) == str(told.plans[0])
    assert told.plans[-1].merged == 3
    # The replayed output has a state of its own: the next day merges from it.
    more = [view("L1", 0.5, "n4", "s2"), email("L2", 0.2, "n5")]
    later, newer = told.events("e2", [*EVENTS, *added, *more]), told.events("new2", more)
    told.since(again, later, newer, "day2.parquet")
    assert told.plans[-1].merged == 2


def test_a_daily_told_job_is_replayed_at_each_later_T(
    told: Told, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same job every day: scores.parquet re-scored from itself, told the day's
    # new events, at the day's T. The 2nd and 3rd days replay the 1st day's steps.
    scores = told.folder / "scores.parquet"
    events = told.events("events", EVENTS)
    leadscore.score_file(told.model, told.leads, events, scores, as_of=T, keep_state=True)
    seen = list(EVENTS)
    # (the new events of every day with the same columns and types: else not replayed)
    days = [[view("L1", -0.5, "n1", "s2")], [view("L2", -1.5, "n2", "s3")],
            [view("L3", -2.2, "n3", "s5", "/robots")]]  # fmt: skip
    for day, added in enumerate(days, 1):
        seen += added
        events, new = told.events("events", seen), told.events("new", added)
        at = T + timedelta(days=day)
        with monkeypatch.context() as patched:
            if day > 1:
                no_full_run(patched)
            leadscore.score_file(told.model, told.leads, events, scores, as_of=at, since=scores,
                                 new_events=new, planned=told.plans.append)  # fmt: skip
        full = told.folder / f"full{day}.parquet"
        leadscore.score_file(told.model, told.leads, events, full, as_of=at)
        assert_same(read(scores), read(full))


def test_a_told_run_whose_state_is_gone_is_not_replayed(told: Told) -> None:
    day0 = told.first()
    added = [view("L2", 1, "n1", "s2")]
    after, new = told.events("e1", [*EVENTS, *added]), told.events("new1", added)
    told.since(day0, after, new, "day1.parquet")
    stat = day0.stat()
    os.utime(day0, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # rewritten since
    told.since(day0, after, new, "day1b.parquet")  # neither replayed nor merged: read
    assert told.plans[-1].merged == 0
    assert told.plans[-1].rescored == 1


def test_the_command_replays_a_told_run_before_importing_ibis(told: Told) -> None:
    day0 = told.first()
    added = [view("L2", 1, "n1", "s2"), email("L1", 1, "n2")]
    after, new = told.events("e1", [*EVENTS, *added]), told.events("new1", added)
    told.since(day0, after, new, "day1.parquet")
    check = (
        "import sys; from leadscore.launch import main; sys.argv[1:] = sys.argv[2:]; main(); "
        "print(sorted({'ibis', 'pyarrow', 'pydantic', 'typer'} & set(sys.modules)))"
    )
    argv = told.argv(day0, after, new, "replayed.parquet")
    done = subprocess.run(
        [sys.executable, "-c", check, "-", *argv], check=False, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert "Re-scored 2 of 3 leads (2 changed; 2 from kept aggregates)." in done.stderr
    assert_same(read(told.folder / "replayed.parquet"), read(told.folder / "full-day1.parquet"))


def test_a_leads_file_unchanged_since_is_not_read_for_changes_and_a_new_one_is(
    told: Told,
) -> None:
    day0 = told.first()
    added = [view("L2", 1, "n1", "s2")]
    after, new = told.events("e1", [*EVENTS, *added]), told.events("new1", added)
    # The leads file is the one day0 read: only the lead of the new event is chosen.
    told.since(day0, after, new, "day1.parquet")
    assert str(told.plans[-1]) == "Re-scored 1 of 3 leads (1 changed; 1 from kept aggregates)."
    # The same run once the leads file is written again, L3 now a CEO and L4 new: the
    # kept run (which read no lead) is not replayed, and the changes are seen.
    leads = [*LEADS[:2], {**LEADS[2], "job_title": "CEO"},
             {"lead_id": "L4", "job_title": None, "created_at": days_ago(1)}]  # fmt: skip
    pq.write_table(leads_table(leads), told.leads)
    day1b = told.since(day0, after, new, "day1b.parquet")
    assert str(told.plans[-1]) == (
        "Re-scored 3 of 4 leads (1 new, 2 changed; 3 from kept aggregates)."
    )
    # Since day1b, whose run read this leads file: unchanged again.
    more = [view("L4", 0.5, "n2", "s7")]
    later, newer = told.events("e2", [*EVENTS, *added, *more]), told.events("new2", more)
    told.since(day1b, later, newer, "day2.parquet")
    assert str(told.plans[-1]) == "Re-scored 1 of 4 leads (1 changed; 1 from kept aggregates)."
