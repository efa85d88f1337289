"""Evaluating a learned model: its recipe re-fitted out of sample, or used as it is."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import leadscore
from leadscore.learn import metrics
from leadscore.learn.history import CUTOFF, history

START = datetime(2025, 1, 1)


def leads_and_events(n: int = 800, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """Size and demos drive conversion; one late event marks the end of the data."""
    rng = np.random.default_rng(seed)
    large = rng.uniform(size=n) < 0.4
    demos = rng.integers(0, 3, n)
    converted = rng.uniform(size=n) < 0.08 + 0.25 * large + 0.15 * demos
    created = [START + timedelta(days=int(d)) for d in rng.integers(0, 150, n)]
    converted_at = [
        c + timedelta(days=20) if won else None for c, won in zip(created, converted, strict=True)
    ]
    ids, types, stamps = [], [], []
    for i in range(n):
        for d in range(int(demos[i])):
            ids.append(f"L{i}")
            types.append("demo")
            stamps.append(created[i] + timedelta(days=2 + d))
    ids.append("L0")
    types.append("page_view")
    stamps.append(START + timedelta(days=400))
    leads = pa.table(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "size": np.where(large, "large", "small"),
            "created_at": pa.array(created, pa.timestamp("us")),
            "converted_at": pa.array(converted_at, pa.timestamp("us")),
            "converted": converted,
        }
    )
    events = pa.table(
        {"lead_id": ids, "type": types, "timestamp": pa.array(stamps, pa.timestamp("us"))}
    )
    return leads, events


@pytest.fixture(scope="module")
def learned() -> leadscore.Learned:
    leads, events = leads_and_events(seed=1)
    return leadscore.learn(leads, events)


def test_the_recipe_is_refitted_on_older_leads_and_measured_on_newer(learned):
    leads, events = leads_and_events()
    result = leadscore.evaluate(leads, events, learned=learned)
    assert result.method == "time split"
    assert result.subject == "learned recipe, re-fitted on training leads"
    assert [m.name for m in result.scores] == ["probability", "points table"]
    assert result.period is not None
    assert result.leads == result.period.test_leads < leads.num_rows / 3
    probability, points = result.scores
    assert probability.ece is not None and points.ece is None
    assert probability.roc_auc > 0.7
    assert abs(points.roc_auc - probability.roc_auc) < 0.05


def test_cross_validation_measures_every_lead_once(learned):
    leads, events = leads_and_events()
    result = leadscore.evaluate(leads, events, learned=learned, split="folds", folds=3)
    assert result.method == "3-fold cross-validation"
    probability = result.scores[0]
    assert probability.leads == leads.num_rows
    assert len(probability.roc_auc_folds) == 3
    assert probability.roc_auc == pytest.approx(np.mean(probability.roc_auc_folds))


def test_holdout_measures_the_given_model_as_it_is(learned, tmp_path: Path):
    leads, events = leads_and_events(seed=2)
    saved = learned.save(tmp_path / "learned")
    result = leadscore.evaluate(leads, events, learned=saved, holdout=True)
    assert result.method == "holdout"
    assert result.leads == leads.num_rows
    # The same model, called directly at the cut-offs learn gives the leads (converters
    # just before converting, the others at a comparable instant; see
    # test_learn_leakage.py): the same AUC.
    cut = history(leads, "leads", "converted", None, None, events).leads.column(CUTOFF)
    end = max(events["timestamp"].to_pylist())
    predicted = learned.predict(leads.append_column("cut", cut), events, end, cutoff="cut")
    by_id = dict(
        zip(predicted["lead_id"].to_pylist(), predicted["probability"].to_pylist(), strict=True)
    )
    p = np.array([by_id[i] for i in leads["lead_id"].to_pylist()])
    y = np.array(leads["converted"].to_pylist())
    assert result.scores[0].roc_auc == pytest.approx(metrics.roc_auc(y, p))


def test_events_after_a_converters_cut_off_change_nothing(learned):
    leads, events = leads_and_events(seed=3)
    first = leadscore.evaluate(leads, events, learned=learned, holdout=True).to_dict()
    later = [
        (lid, at + timedelta(days=1))
        for lid, at in zip(
            leads["lead_id"].to_pylist(), leads["converted_at"].to_pylist(), strict=True
        )
        if at is not None
    ]
    extra = pa.table(
        {
            "lead_id": [lid for lid, _ in later] * 3,
            "type": ["demo"] * len(later) * 3,
            "timestamp": pa.array([at for _, at in later] * 3, pa.timestamp("us")),
        }
    )
    again = leadscore.evaluate(
        leads, pa.concat_tables([events, extra]), learned=learned, holdout=True
    ).to_dict()
    assert again == first
    # The same events before the conversions do count: the test can fail.
    before = pa.array([at - timedelta(days=5) for _, at in later] * 3, pa.timestamp("us"))
    earlier = extra.set_column(2, "timestamp", before)
    moved = leadscore.evaluate(
        leads, pa.concat_tables([events, earlier]), learned=learned, holdout=True
    ).to_dict()
    assert moved != first


def test_a_time_split_without_dates_is_refused(learned):
    leads, events = leads_and_events()
    with pytest.raises(leadscore.LeadscoreError, match="created_at"):
        leadscore.evaluate(
            leads.drop_columns(["created_at"]), events, learned=learned, split="time"
        )
