"""A fitted scorecard written back as a model file (SPEC §3) people can read and edit.

Lead features become fit rules (``gt``/``lte`` ranges, ``in`` lists, ``exists:
false`` for missing values); counts of events in the chosen window become
engagement rules with ``min_count`` steps, whose points add up to the bin's
points. Scoring the written model with ``leadscore score`` gives, lead by lead,
the scorecard's totals. Grades, levels and stages are cut at quantiles of the
training leads, each described with the conversion rate seen there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from leadscore.engine.values import number_text
from leadscore.learn.binning import Bins
from leadscore.learn.columns import Feature
from leadscore.learn.features import ANY_EVENT

if TYPE_CHECKING:
    from leadscore.learn.scorecard import Scorecard

GRADE_SHARES = (("A", 0.10), ("B", 0.30), ("C", 0.60))  # top 10 %, next 20 %, next 30 %
LEVEL_SHARES = ((1, 0.10), (2, 0.30), (3, 0.60))
STAGE_SHARE = 0.20


def slug(text: str) -> str:
    """A rule id made from a feature name.

    >>> slug("emp.var.rate"), slug("Página vista"), slug("x" * 80)[-3:]
    ('emp.var.rate', 'p-gina-vista', 'xxx')
    """
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-.").lower()
    return (cleaned or "feature")[:60]


def points_model(
    name: str,
    features: list[Feature],
    card: Scorecard,
    X: np.ndarray,
    y: np.ndarray,
    window_days: float | None,
    event_types: list[str],
) -> dict[str, Any]:
    """The model file (as data) of a fitted scorecard over ``features``."""
    fit_rules: list[dict[str, Any]] = []
    engagement_rules: list[dict[str, Any]] = []
    used: set[str] = set()
    for j, feature in enumerate(features):
        bins, points = card.bins_[j], card.points_[j]
        if feature.source == "engagement":
            engagement_rules += _count_rules(feature, bins, points, event_types, used, window_days)
        else:
            fit_rules += _fit_rules(feature, bins, points, used)
    index = card.bin_indices(X)
    for a, bin_a, b, bin_b, points_ab in card.interactions_:
        if points_ab == 0:
            continue
        when_a, words_a = _condition(features[a], card.bins_[a], bin_a)
        when_b, words_b = _condition(features[b], card.bins_[b], bin_b)
        both = (index[:, a] == bin_a) & (index[:, b] == bin_b)
        ids = f"{slug(features[a].name)}-{bin_a + 1}-and-{slug(features[b].name)}-{bin_b + 1}"
        fit_rules.append(
            {
                "id": _unique(ids[:90], used),
                "description": f"{words_a}, and {words_b}: together, points of their own "
                f"({_rate(y, both)})",
                "when": {"all": [when_a, when_b]},
                "points": points_ab,
            }
        )
    per_feature = np.column_stack([p[index[:, j]] for j, p in enumerate(card.points_)])
    lead = np.array([f.source == "lead" for f in features])
    fit = per_feature[:, lead].sum(axis=1) if lead.any() else np.zeros(len(y))
    for a, bin_a, b, bin_b, points_ab in card.interactions_:
        fit = fit + points_ab * ((index[:, a] == bin_a) & (index[:, b] == bin_b))
    engaged = per_feature[:, ~lead].sum(axis=1) if (~lead).any() else np.zeros(len(y))
    model: dict[str, Any] = {
        "version": 1,
        "name": name,
        "description": "Learned by `leadscore learn`: a points table fitted on "
        f"{len(y):,} leads ({y.mean():.1%} converted). Review it before use.",
        "fit": {"rules": fit_rules, "grades": _thresholds(fit, y, GRADE_SHARES, "grade")},
    }
    if engagement_rules:
        section: dict[str, Any] = {"rules": engagement_rules}
        if window_days is not None:
            section["window_days"] = window_days
        section["levels"] = _thresholds(engaged, y, LEVEL_SHARES, "level")
        model["engagement"] = section
    model["stages"] = _stages(fit + engaged, y)
    return model


def _fit_rules(
    feature: Feature, bins: Bins, points: np.ndarray, used: set[str]
) -> list[dict[str, Any]]:
    rules = []
    for k in range(bins.value_bins + 2):
        if points[k] == 0 or (k == bins.unseen and not bins.categorical):
            continue
        when, words = _condition(feature, bins, k)
        rule_id = _unique(f"{slug(feature.name)}-{k + 1}", used)
        rules.append(
            {
                "id": rule_id,
                "description": words + _seen(bins, k),
                "when": when,
                "points": int(points[k]),
            }
        )
    return rules


def _condition(feature: Feature, bins: Bins, k: int) -> tuple[dict[str, Any], str]:
    name = feature.name
    if k == bins.missing:
        return {name: {"exists": False}}, f"{name} missing"
    if not bins.categorical:
        edges = bins.edges
        test: dict[str, float] = {}
        if k > 0:
            test["gt"] = edges[k - 1]
        if k < len(edges):
            test["lte"] = edges[k]
        if not test:
            return {name: {"exists": True}}, f"{name} given"
        lo = f"over {number_text(test['gt'])}" if "gt" in test else ""
        hi = f"up to {number_text(test['lte'])}" if "lte" in test else ""
        return {name: test}, f"{name} {' '.join(p for p in (lo, hi) if p)}"
    values = list(feature.categories)
    if k == bins.unseen:
        grouped = [values[c] for g in bins.groups for c in g if c < feature.other]
        return {name: {"not_in": grouped}}, f"{name} another value"
    group = bins.groups[k]
    named = [values[c] for c in group if c < feature.other]
    words = f"{name} is {_listed(named)}"
    if feature.other in group:
        others = {name: {"not_in": values}}
        if not named:
            return others, f"{name} is a rare value"
        return {"any": [{name: {"in": named}}, others]}, words + " or a rare value"
    return {name: {"in": named}}, words


def _count_rules(
    feature: Feature,
    bins: Bins,
    points: np.ndarray,
    types: list[str],
    used: set[str],
    window_days: float | None,
) -> list[dict[str, Any]]:
    event = feature.event or ANY_EVENT
    words = "any event" if event == ANY_EVENT else event
    span = f" in {number_text(window_days)} days" if window_days else ""
    rules = []
    for k in range(1, bins.value_bins):
        step = int(points[k] - points[k - 1])
        if step == 0:
            continue
        at_least = int(np.floor(bins.edges[k - 1])) + 1
        label = "any-event" if event == ANY_EVENT else slug(event)
        if k < len(bins.edges):
            most = int(np.floor(bins.edges[k]))
            times = f"{at_least} to {most} times" if most > at_least else f"{at_least} times"
        else:
            times = "at least once" if at_least == 1 else f"at least {at_least} times"
        rule = {
            "id": _unique(f"{label}-{at_least}-plus", used),
            "description": f"{words} at least {at_least} times{span} (a step; the bin of "
            f"{times}{span}" + _seen(bins, k)[1:],
            "event": types if event == ANY_EVENT else event,
            "points": step,
        }
        if at_least > 1:
            rule["min_count"] = at_least
        else:
            rule["once"] = True
        rules.append(rule)
    return rules


def _seen(bins: Bins, k: int) -> str:
    leads, conversions = bins.leads[k], bins.conversions[k]
    if not leads:
        return " (not seen in training)"
    return f" ({leads:,} training leads, {conversions / leads:.1%} converted)"


def _listed(values: list[str]) -> str:
    shown = ", ".join(values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def _unique(rule_id: str, used: set[str]) -> str:
    candidate, n = rule_id, 2
    while candidate in used:
        candidate, n = f"{rule_id}-{n}", n + 1
    used.add(candidate)
    return candidate


def _cuts(totals: np.ndarray, shares: tuple[tuple[Any, float], ...]) -> list[tuple[Any, float]]:
    cuts: list[tuple[Any, float]] = []
    for name, share in shares:
        value = float(np.quantile(totals, 1.0 - share, method="higher"))
        if value > totals.min() and all(value < c for _, c in cuts):
            cuts.append((name, value))
    return cuts


def _rate(y: np.ndarray, mask: np.ndarray) -> str:
    if not mask.any():
        return "no training leads"
    return f"{int(mask.sum()):,} training leads, {y[mask].mean():.1%} converted"


def _thresholds(
    totals: np.ndarray, y: np.ndarray, shares: tuple[tuple[Any, float], ...], kind: str
) -> list[dict[str, Any]]:
    cuts = _cuts(totals, shares)
    names = [name for name, _ in shares] + ["D" if kind == "grade" else 4]
    result: list[dict[str, Any]] = []
    upper = np.inf
    for position, (_, value) in enumerate(cuts):
        mask = (totals >= value) & (totals < upper)
        result.append({kind: names[position], "min": value, "description": _rate(y, mask)})
        upper = value
    last = names[len(cuts)]
    result.append({kind: last, "description": _rate(y, totals < upper)})
    return result


def _stages(score: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    cuts = _cuts(score, (("MQL", STAGE_SHARE),))
    if not cuts:
        return [{"stage": "lead"}]
    value = cuts[0][1]
    return [
        {"stage": "MQL", "min_score": value, "description": _rate(y, score >= value)},
        {"stage": "lead", "description": _rate(y, score < value)},
    ]
