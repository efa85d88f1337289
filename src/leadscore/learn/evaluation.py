"""``leadscore evaluate``: measure a model on past leads before it is trusted.

A hand-written model is **backtested**: every lead is scored by the scoring
query itself as of its own cut-off — the instant it converted (``converted_at``)
for a converter, ``as_of`` for the others — so no event after the outcome
counts. With ``horizon_days`` every lead is scored as of one snapshot ``as_of``
instead, and a lead counts as converted when it converted within the horizon
after it. Nothing is fitted, so every lead measures the model.

A learned model is measured **out of sample** by re-fitting its recipe
(``Learned.settings``) on training leads and scoring the others: on the older
leads, measured on the newest 20 % when the leads have a ``created_at`` date
(the way it will be used), else by stratified, shuffled 5-fold
cross-validation. Measuring the given learned model on the leads it learned
from would flatter it; ``holdout=True`` measures it as it is, on leads it has
not seen (e.g. the month after its training data).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.api import AsOf, as_of_instant, score
from leadscore.engine.inputs import describe
from leadscore.engine.io import (
    EVENT_REQUIRED,
    Source,
    connect,
    normalise_timestamps,
    read_table,
    require_columns,
)
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.learn import metrics
from leadscore.learn.history import CUTOFF, history, read_leads
from leadscore.learn.metrics import CalibrationBin, Decile, Labels, Scores, Threshold, TopK
from leadscore.learn.splits import Split, rate_drift, score_drift, stratified_folds, time_split
from leadscore.model import Model, load_model

PER_WEEK = (10, 25, 50, 100)
SplitChoice = Literal["auto", "time", "folds"]
Progress = Callable[[float], None]


@dataclass(frozen=True)
class Metrics:
    """Every measure of one score on the evaluated leads (see docs/evaluation.md).

    ``roc_auc`` is the mean over folds under cross-validation (``roc_auc_folds``);
    the tables are computed on all out-of-fold scores together. ``ece`` is given
    for probabilities only.
    """

    name: str
    leads: int
    conversions: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    deciles: list[Decile]
    top_k: list[TopK]
    calibration: list[CalibrationBin]
    thresholds: list[Threshold]
    ece: float | None = None
    roc_auc_folds: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Period:
    """Older and newer leads of a time split: sizes, conversion rates, boundary."""

    column: str
    boundary: str
    train_leads: int
    test_leads: int
    train_rate: float
    test_rate: float


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`: how and on what it measured, and the figures."""

    subject: str
    method: str
    target: str
    leads: int
    scores: list[Metrics]
    period: Period | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain data, the shape of ``leadscore evaluate --json``."""
        return asdict(self)


@dataclass
class Past:
    """The evaluated leads (with their cut-off column), outcomes and dates."""

    leads: pa.Table
    labels: Labels
    where: str
    end: datetime  # the instant leads without a cut-off are scored at
    scheme: str  # "conversion" or "snapshot" (see leadscore.learn.past)
    dates: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)

    def weeks(self, rows: np.ndarray | None = None) -> float | None:
        """How many weeks the leads' dates span (at least one), None without dates."""
        if self.dates is None:
            return None
        dates = self.dates if rows is None else self.dates[rows]
        span = (dates.max() - dates.min()) / np.timedelta64(1, "D") / 7
        return max(1.0, float(span))


def evaluate(
    leads: Source,
    events: Source | None = None,
    *,
    model: Model | str | Path | None = None,
    learned: Any = None,
    target: str | None = None,
    as_of: AsOf = None,
    horizon_days: float | None = None,
    split: SplitChoice = "auto",
    holdout: bool = False,
    folds: int = 5,
    seed: int = 0,
    rates: Sequence[float] | None = None,
    per_week: Sequence[int] = PER_WEEK,
    progress: Progress | None = None,
) -> Evaluation:
    """Measure a hand-written ``model`` or a ``learned`` one on past leads.

    Parameters
    ----------
    leads, events
        Past leads with their outcome column ``target`` (boolean-like: true/false,
        yes/no, 1/0, y/n) and, ideally, ``converted_at`` and ``created_at``.
    model, learned
        Exactly one: a model file (backtested), or a learned model (its recipe is
        re-fitted on training leads; with ``holdout=True`` it is used as it is).
    target
        The outcome column (default: the learned model's, else ``converted``).
    as_of, horizon_days
        A snapshot: every lead is scored as of ``as_of`` (leads converted by then
        are left out); with ``horizon_days`` the outcome is a conversion within the
        horizon after it. Without them, converters are scored just before their
        ``converted_at`` and the others at the end of the data (the latest event).
    split
        ``auto`` (by ``created_at`` when every lead has one, else folds), ``time``
        or ``folds``: how a learned recipe is trained and tested.
    rates, per_week
        Goals of the suggested thresholds: conversion rates to reach (default
        1.5, 2 and 3 times the base rate) and leads per week for sales.

    Examples
    --------
    >>> import pyarrow as pa
    >>> model = load_model({"name": "m", "fit": {"rules": [
    ...     {"id": "ceo", "when": {"title": "ceo"}, "points": 10}]}})
    >>> leads = pa.table({"lead_id": [str(i) for i in range(200)],
    ...     "title": ["ceo", "intern"] * 100,
    ...     "converted": ["yes", "no", "no", "no"] * 25 + ["no", "yes", "no", "no"] * 25})
    >>> result = evaluate(leads, model=model)
    >>> result.method, result.scores[0].roc_auc
    ('backtest', 0.5)
    """
    if (model is None) == (learned is None):
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            "Evaluate either a model file or a learned model, not both or neither.",
            hint="Pass --model model.yaml or --learned learned/.",
        )
    recipe: dict[str, Any] = {}
    if learned is not None:
        if not hasattr(learned, "settings"):
            from leadscore.learn import load_learned

            learned = load_learned(learned)
        recipe = learned.settings
    # Given arguments win over the learned recipe's, which win over the defaults.
    settings: dict[str, Any] = {
        "target": target or recipe.get("target") or "converted",
        "as_of": as_of if as_of is not None else recipe.get("as_of"),
        "horizon_days": horizon_days if horizon_days is not None else recipe.get("horizon_days"),
    }
    past = read_past(leads, events, **settings)
    goals = Goals(rates, per_week)
    if model is not None:
        loaded = model if isinstance(model, Model) else load_model(model)
        return _backtest(loaded, past, events, goals, settings["target"])
    plan = _plan(past, split, folds, seed, holdout)
    return _learned(learned, past, events, plan, goals, settings, progress)


@dataclass(frozen=True)
class Goals:
    """What the suggested thresholds aim at."""

    rates: Sequence[float] | None
    per_week: Sequence[int]

    def thresholds(self, y: Labels, s: Scores, weeks: float | None) -> list[Threshold]:
        rates = self.rates or metrics.suggested_rates(float(y.mean()))
        found = [metrics.rate_threshold(y, s, rate, weeks) for rate in rates]
        if weeks is not None:
            found += [
                metrics.volume_threshold(y, s, round(n * weeks), f"top {n} a week", weeks)
                for n in self.per_week
            ]
        else:
            found += [
                metrics.volume_threshold(y, s, round(share * len(s)), f"top {share:.0%}")
                for share in (0.05, 0.10, 0.20)
            ]
        return [t for t in found if t is not None]


def measure(
    name: str,
    y: Labels,
    s: Scores,
    goals: Goals,
    *,
    probability: bool = False,
    weeks: float | None = None,
    fold_auc: Sequence[float] = (),
) -> Metrics:
    """Every metric of one score on one set of leads."""
    table, ece = metrics.calibration(y, s)
    return Metrics(
        name=name,
        leads=len(y),
        conversions=int(y.sum()),
        base_rate=float(y.mean()),
        roc_auc=float(np.mean(fold_auc)) if fold_auc else metrics.roc_auc(y, s),
        pr_auc=metrics.pr_auc(y, s),
        deciles=metrics.deciles(y, s),
        top_k=metrics.top_k(y, s),
        calibration=table,
        thresholds=goals.thresholds(y, s, weeks),
        ece=ece if probability else None,
        roc_auc_folds=list(fold_auc),
    )


def read_past(
    leads: Source,
    events: Source | None,
    *,
    target: str,
    as_of: AsOf,
    horizon_days: float | None,
) -> Past:
    """The evaluated leads, outcomes and cut-offs, chosen exactly as ``learn`` chooses them.

    Errors (a missing, constant or not boolean-like target, too few conversions)
    are those of ``learn``: a model is measured on the leads it could learn from.
    """
    where = describe(leads, "leads")
    instant = as_of_instant(as_of) if as_of is not None else None
    table = read_leads(leads, where)
    past = history(table, where, target, instant, horizon_days, events is not None)
    end = instant or _latest_event(events) or as_of_instant(None)
    result = Past(past.leads, past.target.astype(bool), where, end, past.scheme)
    if "created_at" in past.leads.column_names:
        created = past.leads["created_at"]
        if created.null_count == 0:
            result.dates = created.to_numpy().astype("datetime64[us]")
        else:
            result.warnings.append(
                f"{where}: {created.null_count} leads have no created_at, so leads are not "
                "split by time."
            )
    return result


def _latest_event(events: Source | None) -> datetime | None:
    """The end of the data: the latest event, the instant leads without a cut-off are seen."""
    if events is None:
        return None
    where = describe(events, "events")
    con = connect()
    try:
        table = read_table(con, events, "events", "events")
        require_columns(table, EVENT_REQUIRED, where)
        value = con.to_pyarrow(table.timestamp.max()).as_py()
        if not isinstance(value, datetime):
            table = normalise_timestamps(con, table, ["timestamp"], where)
            value = con.to_pyarrow(table.timestamp.max()).as_py()
    finally:
        con.disconnect()
    return value if isinstance(value, datetime) else None


def _backtest(
    model: Model, past: Past, events: Source | None, goals: Goals, target: str
) -> Evaluation:
    s = _points(model, past.leads, events, past.end)
    y = past.labels
    warnings = list(past.warnings)
    period = None
    result = measure("score", y, s, goals, weeks=past.weeks())
    if past.dates is not None:
        part = time_split(past.dates)
        period = _period(past, part)
        warnings += _drift(y, s, part, "score")
    return Evaluation(f"model {model.name}", "backtest", target, len(y), [result], period, warnings)


def _points(model: Model, leads: pa.Table, events: Source | None, as_of: datetime) -> Scores:
    """Each lead's score as of its cut-off, in the order of ``leads``."""
    scored = score(model, leads, events, as_of, cutoff=CUTOFF)
    return _aligned(leads, scored, "score")


def _aligned(leads: pa.Table, scored: pa.Table, column: str) -> Scores:
    position = pc.index_in(leads["lead_id"], value_set=scored["lead_id"])
    values = scored[column].take(position).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _period(past: Past, part: Split) -> Period:
    assert past.dates is not None
    y = past.labels
    boundary = str(past.dates[part.test].min().astype("datetime64[s]")).replace("T", " ")
    return Period(
        "created_at",
        boundary,
        len(part.train),
        len(part.test),
        float(y[part.train].mean()),
        float(y[part.test].mean()),
    )


def _drift(y: Labels, s: Scores, part: Split, name: str) -> list[str]:
    found = [
        rate_drift(y[part.train], y[part.test]),
        score_drift(name, s[part.train], s[part.test]),
    ]
    return [w for w in found if w is not None]


@dataclass(frozen=True)
class Plan:
    """How a learned recipe is measured: the splits, and what to call the method."""

    method: str
    splits: list[Split]
    refit: bool


def _plan(past: Past, split: SplitChoice, folds: int, seed: int, holdout: bool) -> Plan:
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


def _learned(
    learned: Any,
    past: Past,
    events: Source | None,
    plan: Plan,
    goals: Goals,
    settings: dict[str, Any],
    progress: Progress | None,
) -> Evaluation:
    from leadscore.learn import learn

    target = settings["target"]
    y = past.labels
    all_events = _read_events(events)
    probability = np.full(len(y), math.nan)
    points = np.full(len(y), math.nan)
    fold_auc: dict[str, list[float]] = {"probability": [], "points table": []}
    recipe = {**learned.settings, **settings}
    leads = past.leads.drop_columns([CUTOFF])
    for number, part in enumerate(plan.splits):
        fitted = learned
        if plan.refit:
            train = leads.take(part.train)
            fitted = learn(train, _events_of(all_events, train), **recipe)
        test = past.leads.take(part.test)
        test_events = _events_of(all_events, test)
        # The learned model never sees the outcome of the leads it predicts.
        hidden = [c for c in (target, "converted_at") if c in test.column_names]
        predicted = fitted.predict(
            test.drop_columns(hidden), test_events, past.end, cutoff=CUTOFF, reasons=False
        )
        probability[part.test] = _aligned(test, predicted, "probability")
        points[part.test] = _points(fitted.points_model, test, test_events, past.end)
        if len(plan.splits) > 1:
            fold_auc["probability"].append(metrics.roc_auc(y[part.test], probability[part.test]))
            fold_auc["points table"].append(metrics.roc_auc(y[part.test], points[part.test]))
        if progress is not None:
            progress(100 * (number + 1) / len(plan.splits))
    measured = np.concatenate([part.test for part in plan.splits])
    weeks = past.weeks(measured)
    warnings = list(past.warnings)
    period = None
    if plan.method == "time split":
        part = plan.splits[0]
        period = _period(past, part)
        warnings += [w for w in [rate_drift(y[part.train], y[part.test])] if w is not None]
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
    subject = "learned model" if not plan.refit else "learned recipe, re-fitted on training leads"
    return Evaluation(subject, plan.method, target, len(measured), results, period, warnings)


def _read_events(events: Source | None) -> pa.Table | None:
    if events is None:
        return None
    where = describe(events, "events")
    con = connect()
    try:
        table = read_table(con, events, "events", "events")
        require_columns(table, EVENT_REQUIRED, where)
        loaded: pa.Table = con.to_pyarrow(normalise_timestamps(con, table, ["timestamp"], where))
        return loaded
    finally:
        con.disconnect()


def _events_of(events: pa.Table | None, leads: pa.Table) -> pa.Table | None:
    """The events of these leads only (the others would be reported as unknown)."""
    if events is None:
        return None
    ids = pc.utf8_trim(leads["lead_id"].cast(pa.string()), " \t\r\n")
    keys = pc.utf8_trim(events["lead_id"].cast(pa.string()), " \t\r\n")
    return events.filter(pc.is_in(keys, value_set=ids))
