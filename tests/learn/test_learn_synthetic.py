"""Learning from a history whose generating model is known (tests/learn/learning_data.py)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from learning_data import T, history
from sklearn.metrics import roc_auc_score

import leadscore


@pytest.fixture(scope="module")
def train() -> dict[str, Any]:
    return history(3000, seed=0)


@pytest.fixture(scope="module")
def test() -> dict[str, Any]:
    return history(3000, seed=1)


@pytest.fixture(scope="module")
def learned(train: dict[str, Any]) -> leadscore.Learned:
    return leadscore.learn(train["leads"], train["events"], as_of=T, horizon_days=30, seed=0)


def in_order(result: pa.Table, leads: pa.Table, column: str) -> np.ndarray:
    """A result column in the order of the leads (the engine does not keep the order)."""
    values = dict(
        zip(result.column("lead_id").to_pylist(), result.column(column).to_pylist(), strict=True)
    )
    return np.array([values[i] for i in leads.column("lead_id").to_pylist()])


def spread_by_feature(model: leadscore.Model) -> dict[str, int]:
    """Points between a feature's lowest and highest bin (0 is every feature's baseline)."""
    spread: dict[str, list[int]] = {}
    for rule in model.fit.rules:
        name = rule.id.rsplit("-", 1)[0]
        spread.setdefault(name, [0]).append(int(rule.points))
    for rule in model.engagement_rules:
        name = rule.event if isinstance(rule.event, str) else "any_event"
        steps = spread.setdefault(name, [0])
        steps.append(steps[-1] + int(rule.points))
    return {name: max(values) - min(values) for name, values in spread.items()}


def test_the_points_table_ranks_the_true_drivers_first(learned: leadscore.Learned) -> None:
    spread = spread_by_feature(learned.points_model)
    ranked = sorted(spread, key=lambda name: -spread[name])
    assert ranked[0] == "pricing_view"
    assert {"industry", "company_size"} <= set(ranked[:4])
    assert spread.get("country", 0) <= 3
    assert spread.get("noise", 0) <= 3


def test_the_conversion_report_puts_the_strongest_signal_first(
    learned: leadscore.Learned,
) -> None:
    top = learned.conversion.slice(0, 5).to_pylist()
    assert {row["feature"].split(":")[0] for row in top} & {"pricing_view", "any_event"}
    for row in learned.conversion.to_pylist():
        assert row["rate_low"] <= row["rate"] <= row["rate_high"]
        assert row["lift"] == pytest.approx(row["rate"] / learned.metadata["conversion_rate"])
    industries = {
        r["value"]: r["rate"] for r in learned.conversion.to_pylist() if r["feature"] == "industry"
    }
    assert max(industries, key=lambda k: industries[k]) == "software"
    assert min(industries, key=lambda k: industries[k]) == "retail"


def test_predictions_rank_nearly_as_well_as_the_true_model(
    learned: leadscore.Learned, test: dict[str, Any]
) -> None:
    leads = test["leads"].drop_columns(["converted", "converted_at"])
    predicted = learned.predict(leads, test["events"], as_of=T)
    y = test["y"]
    assert predicted.column("lead_id").to_pylist() == leads.column("lead_id").to_pylist()
    best = roc_auc_score(y, test["probability"])
    probability = predicted.column("probability").to_numpy()
    assert roc_auc_score(y, probability) > best - 0.03
    points = leadscore.score(learned.points_model, leads, test["events"], as_of=T)
    assert roc_auc_score(y, in_order(points, leads, "score")) > best - 0.04
    assert abs(probability.mean() - y.mean()) < 0.02  # calibrated on the whole


def test_the_engine_scores_the_points_table_as_it_was_fitted(
    learned: leadscore.Learned, train: dict[str, Any]
) -> None:
    scores = leadscore.score(learned.points_model, train["leads"], train["events"], as_of=T)
    auc = roc_auc_score(train["y"], in_order(scores, train["leads"], "score"))
    fitted = learned.metadata["metrics"]["points_table_in_sample"]["auc"]
    assert auc == pytest.approx(fitted, abs=1e-12)
    grades = set(scores.column("grade").to_pylist())
    assert grades <= {"A", "B", "C", "D"}
    assert len(grades) >= 3


def test_reasons_read_as_words_with_a_change_of_probability(
    learned: leadscore.Learned, test: dict[str, Any]
) -> None:
    predicted = learned.predict(test["leads"].slice(0, 300), test["events"], as_of=T)
    reasons = [r for r in predicted.column("reason_1").to_pylist() if r]
    assert len(reasons) > 250
    assert all(re.fullmatch(r".+: [+-]\d+(\.\d)? %", r) for r in reasons)
    assert any(re.match(r"pricing view (once|\d+ times) in \d+ days: \+", r) for r in reasons)
    scores = predicted.column("predictive_score").to_numpy()
    assert scores.min() >= 0 and scores.max() <= 100
    probability = predicted.column("probability").to_numpy()
    assert np.all(np.diff(scores[np.argsort(probability)]) >= 0)


def test_predictions_without_reasons_are_the_same_numbers(
    learned: leadscore.Learned, test: dict[str, Any]
) -> None:
    leads = test["leads"].slice(0, 300)
    full = learned.predict(leads, test["events"], as_of=T)
    bare = learned.predict(leads, test["events"], as_of=T, reasons=False)
    assert bare.column_names == ["lead_id", "probability", "predictive_score"]
    assert bare.equals(full.select(bare.column_names))


def test_metadata_describes_the_learning(learned: leadscore.Learned) -> None:
    meta = learned.metadata
    assert meta["cutoff_scheme"] == "snapshot"
    assert meta["leads"] == 3000
    assert meta["fingerprint"].startswith("sha256:")
    assert 0.7 < meta["metrics"]["predictive_held_out"]["auc"] < 0.95
    assert meta["metrics"]["predictive_held_out"]["ece"] < 0.05
    assert learned.settings == {
        "target": "converted",
        "as_of": "2025-06-01T00:00:00",
        "horizon_days": 30,
        "exclude": [],
        "seed": 0,
    }
