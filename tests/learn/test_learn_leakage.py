"""No leakage: events after a lead's cut-off change nothing that is learned."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest
from learning_data import T, after_cutoff
from learning_data import history as generated
from sklearn.metrics import roc_auc_score

import leadscore
from leadscore.learn.archive import files
from leadscore.learn.history import CUTOFF, history


def learned_files(learned: leadscore.Learned) -> dict[str, bytes]:
    content = files(learned)
    manifest = content.pop("learned.json").decode()
    # The learning instant is the only thing allowed to differ.
    content["learned.json"] = "\n".join(
        line for line in manifest.splitlines() if '"learned_at"' not in line
    ).encode()
    return content


@pytest.fixture(scope="module")
def data() -> dict[str, pa.Table]:
    return generated(1200, seed=3)


def test_events_after_the_snapshot_change_nothing(data: dict[str, pa.Table]) -> None:
    leads, events = data["leads"], data["events"]
    later = pa.concat_tables([events, after_cutoff(leads)])
    plain = leadscore.learn(leads, events, as_of=T, horizon_days=30)
    leaky = leadscore.learn(leads, later, as_of=T, horizon_days=30)
    assert learned_files(leaky) == learned_files(plain)


def test_events_at_or_after_a_conversion_change_nothing(data: dict[str, pa.Table]) -> None:
    leads, events = data["leads"], data["events"]
    # One late event fixes the end of the data, the instant of non-converters.
    end = pa.table(
        {
            "lead_id": ["L0"],
            "type": ["webinar"],
            "timestamp": pa.array([T + timedelta(days=60)], pa.timestamp("us")),
            "url": [""],
        }
    )
    base = pa.concat_tables([events, end])
    won = [
        (lead, at)
        for lead, at in zip(
            leads.column("lead_id").to_pylist(),
            leads.column("converted_at").to_pylist(),
            strict=True,
        )
        if at is not None
    ]
    rows = [(lead, at + timedelta(days=d)) for lead, at in won for d in (0, 0, 1, 2.5)]
    extra = pa.table(
        {
            "lead_id": [r[0] for r in rows],
            "type": ["pricing_view"] * len(rows),
            "timestamp": pa.array([r[1] for r in rows], pa.timestamp("us")),
            "url": ["/pricing"] * len(rows),
        }
    )
    plain = leadscore.learn(leads, base)
    leaky = leadscore.learn(leads, pa.concat_tables([base, extra]))
    assert plain.metadata["cutoff_scheme"] == "conversion"
    assert learned_files(leaky) == learned_files(plain)


def test_a_column_that_gives_the_answer_away_is_named_in_a_warning(
    data: dict[str, pa.Table], caplog: pytest.LogCaptureFixture
) -> None:
    leads = data["leads"]
    won = np.asarray(leads.column("converted").to_pylist())
    notes = np.where(won, "signed, send contract", "no answer")
    leaky = leads.append_column("sales_notes", pa.array(notes))
    learned = leadscore.learn(leaky, as_of=T, horizon_days=30)
    assert any("'sales_notes' alone predicts the target" in w for w in caplog.messages)
    assert "--exclude sales_notes" in learned.metadata["warnings"][0]
    caplog.clear()
    cleaned = leadscore.learn(leaky, as_of=T, horizon_days=30, exclude=["sales_notes"])
    assert "sales_notes" not in cleaned.metadata["features"]
    assert not any("alone predicts" in w for w in caplog.messages)
    assert cleaned.settings["exclude"] == ["sales_notes"]


def steady_activity(n: int = 2000, seed: int = 7) -> tuple[pa.Table, pa.Table]:
    """Leads active at one steady rate from creation to the end of the data (day 400);
    a quarter convert 5 to 60 days after creation, whatever they did."""
    rng = np.random.default_rng(seed)
    created = rng.uniform(0, 300, n)
    won = rng.random(n) < 0.25
    converted = np.where(won, created + rng.uniform(5, 60, n), np.nan)
    rows = [
        (f"L{i}", day)
        for i in range(n)
        for day in np.sort(rng.uniform(created[i], 400, rng.poisson((400 - created[i]) / 8)))
    ]

    def at(days: np.ndarray | list[float]) -> pa.Array:
        return pa.array(
            [None if np.isnan(d) else T + timedelta(days=float(d)) for d in days],
            pa.timestamp("us"),
        )

    leads = pa.table(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "created_at": at(created),
            "converted": won,
            "converted_at": at(converted),
        }
    )
    events = pa.table(
        {
            "lead_id": [r[0] for r in rows],
            "type": ["page_view"] * len(rows),
            "timestamp": at([r[1] for r in rows]),
        }
    )
    return leads, events


def test_leads_that_did_not_convert_are_seen_as_old_as_converters_when_they_convert() -> None:
    leads, events = steady_activity()
    won = np.asarray(leads.column("converted").to_pylist())
    past = history(leads, "leads", "converted", None, None, events, seed=0)
    cut = np.asarray(past.leads.column(CUTOFF).to_numpy(zero_copy_only=False))
    start = np.asarray(leads.column("created_at").to_numpy(), "datetime64[us]")
    age = (cut - start) / np.timedelta64(1, "D")
    end = max(events.column("timestamp").to_pylist())
    assert not np.isnat(cut).any() and cut.max() < np.datetime64(end, "us")
    one_us = np.timedelta64(1, "us")
    converted_at = np.asarray(leads.column("converted_at").to_numpy(), "datetime64[us]")
    assert (cut[won] == converted_at[won] - one_us).all()
    # Every other lead gets the age of some converter at its conversion.
    converter_ages = set((converted_at[won] - start[won] - one_us).tolist())
    assert set((cut[~won] - start[~won]).tolist()) <= converter_ages
    assert abs(np.median(age[~won]) - np.median(age[won])) < 3
    # The same seed gives the same instants; another seed, others.
    again = history(leads, "leads", "converted", None, None, events, seed=0).leads
    other = history(leads, "leads", "converted", None, None, events, seed=1).leads
    assert again.column(CUTOFF).equals(past.leads.column(CUTOFF))
    assert not other.column(CUTOFF).equals(past.leads.column(CUTOFF))


def events_before(leads: pa.Table, events: pa.Table, cut: np.ndarray) -> np.ndarray:
    """How many events each lead had before its cut-off."""
    index = {lead: i for i, lead in enumerate(leads.column("lead_id").to_pylist())}
    owner = np.array([index[lead] for lead in events.column("lead_id").to_pylist()])
    at = np.asarray(events.column("timestamp").to_numpy(), "datetime64[us]")
    return np.bincount(owner[at <= cut[owner]], minlength=leads.num_rows)


def test_activity_that_says_nothing_about_conversion_is_not_learned_from() -> None:
    leads, events = steady_activity()
    won = np.asarray(leads.column("converted").to_pylist())
    # Seen at the end of the data, the leads that did not convert would have had years
    # to gather events, converters weeks: their event counts would tell them apart.
    converted_at = np.asarray(leads.column("converted_at").to_numpy(), "datetime64[us]")
    end = np.datetime64(max(events.column("timestamp").to_pylist()), "us")
    at_the_end = np.where(won, converted_at - np.timedelta64(1, "us"), end)
    assert roc_auc_score(~won, events_before(leads, events, at_the_end)) > 0.85
    # At comparable instants they cannot.
    past = history(leads, "leads", "converted", None, None, events, seed=0)
    cut = np.asarray(past.leads.column(CUTOFF).to_numpy(zero_copy_only=False))
    assert abs(roc_auc_score(~won, events_before(leads, events, cut)) - 0.5) < 0.05
    learned = leadscore.learn(leads, events, seed=0)
    assert learned.metadata["metrics"]["predictive_held_out"]["auc"] < 0.6
    value = {row["feature"]: row["information_value"] for row in learned.conversion.to_pylist()}
    assert all(value[f"page_view:{span}"] < 0.02 for span in ("7d", "30d", "90d", "all"))


def test_the_end_of_the_data_is_the_latest_event_conversion_or_creation() -> None:
    day = timedelta(days=1)
    created = [T] * 120 + [T + 30 * day] * 60
    won = [True] * 60 + [False] * 120
    leads = pa.table(
        {
            "lead_id": [f"L{i}" for i in range(180)],
            "created_at": pa.array(created, pa.timestamp("us")),
            "converted": won,
            "converted_at": pa.array([T + 50 * day] * 60 + [None] * 120, pa.timestamp("us")),
        }
    )
    events = pa.table(
        {"lead_id": ["L0"], "type": ["visit"], "timestamp": pa.array([T + 100 * day])}
    )
    one_us = timedelta(microseconds=1)
    # Converters convert 50 days old; by the latest event (day 100) every lead is that old.
    cut = history(leads, "leads", "converted", None, None, events).leads.column(CUTOFF)
    assert cut.to_pylist()[60:120] == [T + 50 * day - one_us] * 60
    assert cut.to_pylist()[120:] == [T + 80 * day - one_us] * 60
    # Without the event the data end at the conversions (day 50): the leads created on
    # day 30 are only 20 days old then, younger than any converter, and seen at day 50.
    cut = history(leads, "leads", "converted", None, None, None).leads.column(CUTOFF)
    assert cut.to_pylist()[120:] == [T + 50 * day - one_us] * 60
