"""Measuring a learned model out of sample: its recipe re-fitted on training leads.

A model measured on the leads it learned from looks better than it is. So the
learned model's recipe (``Learned.settings``: target, cut-off scheme, excluded
columns, seed) is re-fitted on training leads and measured on the others: the
predictive probabilities, and the points table scored by :func:`leadscore.score`.
The training leads are the older ones, measured on the newest 20 %, when every
lead has a ``created_at`` (the way the model will be used), else every lead is
measured once by stratified, shuffled k-fold cross-validation. ``holdout``
measures the given model as it is, on leads it has not seen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from leadscore.engine import Source
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.learn import metrics
from leadscore.learn.backtest import aligned, points_at_cutoffs
from leadscore.learn.figures import Evaluation, drift, measure, period_of
from leadscore.learn.history import CUTOFF
from leadscore.learn.learned import Learned
from leadscore.learn.learning import learn
from leadscore.learn.past import Past, events_of, read_events
from leadscore.learn.splits import Split, stratified_folds, time_split
from leadscore.learn.thresholds import Goals

SplitChoice = Literal["auto", "time", "folds"]
Progress = Callable[[float], None]


@dataclass(frozen=True)
class Plan:
    """How a learned recipe is measured: the splits, and what to call the method."""

    method: str
    splits: list[Split]
    refit: bool


def plan(past: Past, split: SplitChoice, folds: int, seed: int, holdout: bool) -> Plan:
    """The splits of ``past``: one time split, k folds, or every lead held out."""
    every = np.arange(len(past.labels))
    if holdout:
        return Plan("holdout", [Split(every[:0], every)], refit=False)
    if split == "time" and past.dates is None:
        raise LeadscoreError(
            ErrorCode.MISSING_COLUMN,
            f"{past.where}: a time split needs a created_at date for every lead.",
            hint="Add created_at, or use --split folds.",
        )
    if split == "time" or (split == "auto" and past.dates is not None):
        assert past.dates is not None
        return Plan("time split", [time_split(past.dates)], refit=True)
    splits = stratified_folds(past.labels, folds, seed)
    return Plan(f"{folds}-fold cross-validation", splits, refit=True)


def measure_learned(
    learned: Learned,
    past: Past,
    events: Source | None,
    chosen: Plan,
    goals: Goals,
    settings: dict[str, Any],
    progress: Progress | None,
) -> Evaluation:
    """The probabilities and points of every test lead, each from a model that did not see it."""
    target = settings["target"]
    y = past.labels
    all_events = read_events(events)
    probability = np.full(len(y), math.nan)
    points = np.full(len(y), math.nan)
    fold_auc: dict[str, list[float]] = {"probability": [], "points table": []}
    recipe = {**learned.settings, **settings}
    leads = past.leads.drop_columns([CUTOFF])
    for number, part in enumerate(chosen.splits):
        fitted = learned
        if chosen.refit:
            train = leads.take(part.train)
            fitted = learn(train, events_of(all_events, train), **recipe)
        test = past.leads.take(part.test)
        test_events = events_of(all_events, test)
        probability[part.test] = _probabilities(fitted, test, test_events, past, target)
        points[part.test] = points_at_cutoffs(fitted.points_model, test, test_events, past.end)
        if len(chosen.splits) > 1:
            fold_auc["probability"].append(metrics.roc_auc(y[part.test], probability[part.test]))
            fold_auc["points table"].append(metrics.roc_auc(y[part.test], points[part.test]))
        if progress is not None:
            progress(100 * (number + 1) / len(chosen.splits))
    measured = np.concatenate([part.test for part in chosen.splits])
    weeks = past.weeks(measured)
    warnings = list(past.warnings)
    period = None
    if chosen.method == "time split":
        part = chosen.splits[0]
        assert past.dates is not None
        period = period_of(y, past.dates, part)
        warnings += drift(y, None, part, "probability")
    results = [
        measure(
            name,
            y[measured],
            values[measured],
            goals,
            probability=name == "probability",
            weeks=weeks,
            fold_auc=fold_auc[name],
        )
        for name, values in (("probability", probability), ("points table", points))
    ]
    subject = "learned model" if not chosen.refit else "learned recipe, re-fitted on training leads"
    return Evaluation(subject, chosen.method, target, len(measured), results, period, warnings)


def _probabilities(
    fitted: Learned, test: pa.Table, events: pa.Table | None, past: Past, target: str
) -> np.ndarray:
    # The learned model never sees the outcome of the leads it predicts, and only
    # probabilities are measured: no reasons (their SHAP contributions cost most).
    hidden = [c for c in (target, "converted_at") if c in test.column_names]
    predicted = fitted.predict(
        test.drop_columns(hidden), events, past.end, cutoff=CUTOFF, reasons=False
    )
    return aligned(test, predicted, "probability")
