"""``leadscore evaluate``: measure a model on past leads before it is trusted.

A hand-written model is **backtested** (:mod:`leadscore.learn.backtest`): every
lead is scored by the scoring query itself as of its own cut-off, so no event
after the outcome counts. With ``as_of`` every lead is scored as of one snapshot
instead (and with ``horizon_days``, a lead counts as converted when it converted
within the horizon after it). Nothing is fitted, so every lead measures the model.

A learned model is measured **out of sample** (:mod:`leadscore.learn.out_of_sample`)
by re-fitting its recipe on training leads and scoring the others. Measuring it
on the leads it learned from would flatter it; ``holdout=True`` measures it as
it is, on leads it has not seen (e.g. the month after its training data).

The leads and their cut-offs are those ``learn`` would use
(:mod:`leadscore.learn.past`); the figures are described in
:mod:`leadscore.learn.figures`, the suggested thresholds in
:mod:`leadscore.learn.thresholds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leadscore.engine import Source
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.instants import AsOf
from leadscore.learn.archive import load_learned
from leadscore.learn.backtest import backtest
from leadscore.learn.figures import Evaluation, Metrics, Period
from leadscore.learn.learned import Learned
from leadscore.learn.out_of_sample import Progress, SplitChoice, measure_learned, plan
from leadscore.learn.past import read_past
from leadscore.learn.thresholds import PER_WEEK, Goals
from leadscore.model import Model, load_model

__all__ = ["PER_WEEK", "Evaluation", "Metrics", "Period", "Progress", "SplitChoice", "evaluate"]


def evaluate(
    leads: Source,
    events: Source | None = None,
    *,
    model: Model | str | Path | None = None,
    learned: Learned | str | Path | None = None,
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
        horizon after it. Without them, each lead is scored at the cut-off
        ``learn`` gives it (a converter just before its ``converted_at``, the
        others at a comparable instant).
    split
        ``auto`` (by ``created_at`` when every lead has one, else folds), ``time``
        or ``folds``: how a learned recipe is trained and tested.
    rates, per_week
        Goals of the suggested thresholds: conversion rates to reach (default
        1.5, 2 and 3 times the base rate) and leads per week for sales.
    folds, seed
        The folds of cross-validation, and the seed of every random choice (the
        folds, the comparable instants of leads that did not convert).

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
    if folds < 2:
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"Cross-validation needs at least 2 folds, not {folds}.",
            hint="Use --folds 5 (the default), or --split time when leads have created_at.",
        )
    recipe: dict[str, Any] = {}
    if learned is not None:
        if not isinstance(learned, Learned):
            learned = load_learned(learned)
        recipe = learned.settings
    # Given arguments win over the learned recipe's, which win over the defaults.
    settings: dict[str, Any] = {
        "target": target or recipe.get("target") or "converted",
        "as_of": as_of if as_of is not None else recipe.get("as_of"),
        "horizon_days": horizon_days if horizon_days is not None else recipe.get("horizon_days"),
    }
    past = read_past(leads, events, **settings, seed=seed)
    goals = Goals(rates, per_week)
    if learned is None:
        assert model is not None
        loaded = model if isinstance(model, Model) else load_model(model)
        return backtest(loaded, past, events, goals, settings["target"])
    chosen = plan(past, split, folds, seed, holdout)
    return measure_learned(learned, past, events, chosen, goals, settings, progress)
