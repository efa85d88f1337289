"""Backtests of a hand-written model: each lead scored as of its own cut-off."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import leadscore
from leadscore.learn import metrics
from leadscore.learn.history import CUTOFF
from leadscore.learn.history import history as history_of

MODEL = leadscore.load_model(
    {
        "name": "backtest",
        "fit": {"rules": [{"id": "ceo", "when": {"job_title": "ceo"}, "points": 20}]},
        "engagement": {
            "rules": [
                {"id": "pricing", "event": "page_view", "when": {"url": "/pricing"}, "points": 10}
            ]
        },
    }
)
START = datetime(2025, 1, 1)


def history(n: int = 300, seed: int = 0) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Leads created over five months; CEOs and pricing visitors convert more."""
    rng = np.random.default_rng(seed)
    rows, events = [], []
    for i in range(n):
        ceo = bool(rng.uniform() < 0.4)
        created = START + timedelta(days=int(rng.integers(0, 140)))
        visits = int(rng.integers(0, 3))
        converted = bool(rng.uniform() < 0.1 + 0.25 * ceo + 0.15 * visits)
        converted_at = created + timedelta(days=int(rng.integers(5, 60))) if converted else None
        for v in range(visits):
            events.append(
                {
                    "lead_id": str(i),
                    "type": "page_view",
                    "timestamp": created + timedelta(days=1 + v),
                    "url": "/pricing",
                }
            )
        rows.append(
            {
                "lead_id": str(i),
                "job_title": "CEO" if ceo else "engineer",
                "created_at": created,
                "converted_at": converted_at,
                "converted": "yes" if converted else "no",
            }
        )
    names = list(rows[0])
    return pa.table({k: [r[k] for r in rows] for k in names}), events


def events_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {
            "lead_id": [r["lead_id"] for r in rows],
            "type": [r["type"] for r in rows],
            "timestamp": pa.array([r["timestamp"] for r in rows], pa.timestamp("us")),
            "url": [r["url"] for r in rows],
        }
    )


def cutoffs(leads: pa.Table, events: pa.Table) -> pa.ChunkedArray:
    return history_of(leads, "leads", "converted", None, None, events).leads.column(CUTOFF)


def backtest(leads: pa.Table, events: list[dict[str, Any]]) -> dict[str, Any]:
    return leadscore.evaluate(leads, events_table(events), model=MODEL).to_dict()


def test_the_backtest_measures_the_scores_of_the_scoring_query():
    leads, events = history()
    result = leadscore.evaluate(leads, events_table(events), model=MODEL)
    assert result.method == "backtest"
    (measured,) = result.scores
    # Each lead at the cut-off learn gives it: converters just before converting, the
    # others at a comparable instant (test_learn_leakage.py checks them).
    end = max(e["timestamp"] for e in events)
    cut = cutoffs(leads, events_table(events))
    converted_at = leads["converted_at"].to_pylist()
    won = [v == "yes" for v in leads["converted"].to_pylist()]
    assert all(
        c == at - timedelta(microseconds=1)
        for c, at, w in zip(cut.to_pylist(), converted_at, won, strict=True)
        if w
    )
    scored = leadscore.score(
        MODEL, leads.append_column("cut", cut), events_table(events), end, cutoff="cut"
    )
    by_id = dict(zip(scored["lead_id"].to_pylist(), scored["score"].to_pylist(), strict=True))
    s = np.array([by_id[i] for i in leads["lead_id"].to_pylist()])
    y = np.array([v == "yes" for v in leads["converted"].to_pylist()])
    assert measured.roc_auc == pytest.approx(metrics.roc_auc(y, s))
    assert measured.leads == leads.num_rows
    assert measured.conversions == int(y.sum())
    assert 0.6 < measured.roc_auc < 0.95


def test_an_event_after_a_converters_cut_off_changes_nothing():
    leads, events = history()
    before = backtest(leads, events)
    converters = [
        (lid, at)
        for lid, at in zip(
            leads["lead_id"].to_pylist(), leads["converted_at"].to_pylist(), strict=True
        )
        if at is not None
    ]
    after_conversion = [
        {
            "lead_id": lid,
            "type": "page_view",
            "timestamp": at + timedelta(hours=h),
            "url": "/pricing",
        }
        for lid, at in converters
        for h in (0, 1, 48)
    ]
    assert backtest(leads, events + after_conversion) == before
    # The same events a day before the conversion do count: the test can fail.
    before_conversion = [
        {**e, "timestamp": e["timestamp"] - timedelta(days=1, hours=1)} for e in after_conversion
    ]
    assert backtest(leads, events + before_conversion) != before


def test_a_model_backtest_reports_the_older_and_newer_periods():
    leads, events = history()
    result = leadscore.evaluate(leads, events_table(events), model=MODEL)
    assert result.period is not None
    assert result.period.column == "created_at"
    assert result.period.train_leads + result.period.test_leads == leads.num_rows
    assert 0.15 <= result.period.test_leads / leads.num_rows <= 0.25


def test_a_snapshot_backtest_ignores_events_after_the_snapshot():
    leads, events = history(n=1200)
    snapshot = {"as_of": "2025-03-01", "horizon_days": 60}
    first = leadscore.evaluate(leads, events_table(events), model=MODEL, **snapshot)
    later = [
        {
            "lead_id": str(i),
            "type": "page_view",
            "timestamp": datetime(2025, 3, 2),
            "url": "/pricing",
        }
        for i in range(0, 1200, 2)
    ]
    again = leadscore.evaluate(leads, events_table(events + later), model=MODEL, **snapshot)
    assert again.to_dict() == first.to_dict()
    converted_at = leads["converted_at"].to_pylist()
    created = leads["created_at"].to_pylist()
    open_at_snapshot = [
        (c is None or c > datetime(2025, 3, 1)) and made <= datetime(2025, 3, 1)
        for c, made in zip(converted_at, created, strict=True)
    ]
    within = [
        c is not None and datetime(2025, 3, 1) < c <= datetime(2025, 4, 30)
        for c, keep in zip(converted_at, open_at_snapshot, strict=True)
        if keep
    ]
    assert first.leads == sum(open_at_snapshot)
    assert first.scores[0].conversions == sum(within)
