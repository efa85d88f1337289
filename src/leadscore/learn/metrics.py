"""How well a score ranks and predicts conversions: the numbers a sales team reads.

Every function takes the outcomes ``y`` (booleans) and the scores ``s`` of the
same leads, highest best. Scores may be points (a hand-written model) or
probabilities (a learned one); only :func:`calibration` with ``ece`` assumes
probabilities. Tied scores are never split arbitrarily: where a cut (a decile
boundary, the top k) falls inside a group of equal scores, each lead of the
group counts with the group's conversion rate — the expected value over every
order of the ties, the same convention as ROC AUC, which counts a tie as half.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Labels = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]

DECILES = 10
CALIBRATION_BINS = 10
TOP_SHARES = (0.01, 0.05, 0.10, 0.20)


def roc_auc(y: Labels, s: Scores) -> float:
    """The chance that a random converter scores above a random non-converter.

    0.5 is a coin toss, 1.0 a perfect ranking; ties count half.

    >>> roc_auc(np.array([True, False, True, False]), np.array([0.9, 0.1, 0.4, 0.4]))
    0.875
    """
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    return float(roc_auc_score(y, s))


def pr_auc(y: Labels, s: Scores) -> float:
    """Average precision: the mean conversion rate of the list above each converter.

    Compare it with the base rate (what a random list gives), not with 0.5.

    >>> pr_auc(np.array([True, False, True, False]), np.array([0.9, 0.8, 0.4, 0.1]))
    0.8333333333333333
    """
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, s))


def ranked(y: Labels, s: Scores) -> tuple[Scores, Scores]:
    """Scores best first, and each position's expected outcome (ties share their rate).

    >>> scores, expected = ranked(np.array([True, False, False]), np.array([1.0, 2.0, 1.0]))
    >>> scores.tolist(), expected.tolist()
    ([2.0, 1.0, 1.0], [0.0, 0.5, 0.5])
    """
    order = np.argsort(-s, kind="stable")
    scores = s[order]
    outcomes = y[order].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])
    sizes = np.diff(np.r_[starts, len(scores)])
    rates = np.add.reduceat(outcomes, starts) / sizes if len(scores) else outcomes
    return scores, np.repeat(rates, sizes)


@dataclass(frozen=True)
class Decile:
    """One tenth of the leads, best scores first (decile 1 is the top 10 %)."""

    decile: int
    leads: int
    conversions: float
    conversion_rate: float
    lift: float
    cumulative_recall: float
    cumulative_lift: float
    min_score: float
    max_score: float


def deciles(y: Labels, s: Scores, groups: int = DECILES) -> list[Decile]:
    """Conversion rate and lift per decile of score, best first.

    ``lift`` is the decile's conversion rate over the base rate (2.0: twice as
    many conversions as a random tenth); ``cumulative_recall`` the share of all
    conversions found by calling this decile and those above it.

    >>> y = np.array([True] * 2 + [False] * 8 + [True] * 1 + [False] * 9)
    >>> top = deciles(y, np.arange(20.0)[::-1], groups=2)[0]
    >>> top.conversion_rate, round(top.lift, 3), round(top.cumulative_recall, 3)
    (0.2, 1.333, 0.667)
    """
    scores, expected = ranked(y, s)
    base = float(expected.mean())
    total = float(expected.sum())
    rows, found, seen = [], 0.0, 0
    for number, index in enumerate(np.array_split(np.arange(len(scores)), groups), start=1):
        if not len(index):
            continue
        conversions = float(expected[index].sum())
        found += conversions
        seen += len(index)
        rate = conversions / len(index)
        rows.append(
            Decile(
                decile=number,
                leads=len(index),
                conversions=conversions,
                conversion_rate=rate,
                lift=rate / base if base else 0.0,
                cumulative_recall=found / total if total else 0.0,
                cumulative_lift=(found / seen) / base if base else 0.0,
                min_score=float(scores[index].min()),
                max_score=float(scores[index].max()),
            )
        )
    return rows


@dataclass(frozen=True)
class TopK:
    """The k best-scored leads: how many of them convert, and what share of all."""

    k: int
    share: float
    precision: float
    recall: float
    lift: float


def top_k(y: Labels, s: Scores, ks: list[int] | None = None) -> list[TopK]:
    """Precision (conversion rate) and recall of the top k leads.

    By default k is 1 %, 5 %, 10 % and 20 % of the leads.

    >>> y = np.array([True, False, True, False, False])
    >>> [(t.k, t.precision, t.recall) for t in top_k(y, np.array([5, 4, 3, 2, 1.0]), [1, 2, 3])]
    [(1, 1.0, 0.5), (2, 0.5, 0.5), (3, 0.6666666666666666, 1.0)]
    """
    n = len(s)
    if ks is None:
        ks = sorted({max(1, round(share * n)) for share in TOP_SHARES})
    _, expected = ranked(y, s)
    cumulative = np.cumsum(expected)
    total = float(cumulative[-1]) if n else 0.0
    base = total / n if n else 0.0
    rows = []
    for k in ks:
        if not 1 <= k <= n:
            continue
        found = float(cumulative[k - 1])
        rows.append(
            TopK(
                k=k,
                share=k / n,
                precision=found / k,
                recall=found / total if total else 0.0,
                lift=found / k / base if base else 0.0,
            )
        )
    return rows


@dataclass(frozen=True)
class CalibrationBin:
    """Leads of one score range: their mean score and how many converted."""

    leads: int
    min_score: float
    max_score: float
    mean_score: float
    conversion_rate: float


def calibration(
    y: Labels, s: Scores, bins: int = CALIBRATION_BINS
) -> tuple[list[CalibrationBin], float]:
    """The calibration table (quantile bins) and its expected calibration error.

    Bins have equal numbers of leads (edges at score quantiles, as scikit-learn's
    ``calibration_curve(strategy="quantile")``; equal scores share a bin). The
    expected calibration error (ECE) is the lead-weighted mean gap between the
    mean score and the conversion rate of each bin; it is meaningful for
    probabilities only (0.02: predictions are off by two points on average).

    >>> y = np.array([False, False, True, False, True, True])
    >>> table, ece = calibration(y, np.array([0.1, 0.1, 0.1, 0.9, 0.9, 0.9]), bins=2)
    >>> [(b.leads, round(b.mean_score, 3), round(b.conversion_rate, 3)) for b in table]
    [(3, 0.1, 0.333), (3, 0.9, 0.667)]
    >>> round(ece, 4)
    0.2333
    """
    edges = np.percentile(s, np.linspace(0, 100, bins + 1))
    ids = np.searchsorted(edges[1:-1], s, side="right")
    table, gap = [], 0.0
    for b in range(bins):
        inside = ids == b
        count = int(inside.sum())
        if not count:
            continue
        mean = float(s[inside].mean())
        rate = float(y[inside].mean())
        gap += count * abs(mean - rate)
        table.append(
            CalibrationBin(
                leads=count,
                min_score=float(s[inside].min()),
                max_score=float(s[inside].max()),
                mean_score=mean,
                conversion_rate=rate,
            )
        )
    return table, gap / len(s) if len(s) else 0.0


@dataclass(frozen=True)
class Threshold:
    """A suggested cut: send leads scoring at least ``score`` to sales.

    ``goal`` says what the cut is for; the other fields are what it gave on the
    evaluated leads: how many leads pass (``leads``, ``share``, ``per_week`` when
    dates are known), their conversion rate and the share of all conversions
    they hold (``recall``).
    """

    goal: str
    score: float
    leads: int
    share: float
    conversion_rate: float
    recall: float
    per_week: float | None = None


def _queues(y: Labels, s: Scores) -> tuple[Scores, Scores, Scores]:
    """For each distinct score, best first: the leads and conversions at or above it."""
    order = np.argsort(-s, kind="stable")
    scores, outcomes = s[order], y[order].astype(np.float64)
    last = np.flatnonzero(np.r_[scores[1:] != scores[:-1], True])
    return scores[last], (last + 1).astype(np.float64), np.cumsum(outcomes)[last]


def rate_threshold(
    y: Labels, s: Scores, rate: float, weeks: float | None = None
) -> Threshold | None:
    """The lowest score above which the leads still convert at ``rate`` or more.

    The widest list for sales whose conversion rate reaches the goal; None when
    no list (not even the best-scored leads alone) reaches it.

    >>> y = np.array([True, True, False, True, False, False, False, False])
    >>> s = np.array([90, 80, 70, 60, 50, 40, 30, 20.0])
    >>> t = rate_threshold(y, s, 0.5)
    >>> t.score, t.leads, t.conversion_rate, t.recall
    (40.0, 6, 0.5, 1.0)
    >>> rate_threshold(y, s, 0.99).score, rate_threshold(y, np.zeros(8), 0.5) is None
    (80.0, True)
    """
    scores, counts, found = _queues(y, s)
    reached = np.flatnonzero(found / counts >= rate)
    if not len(reached):
        return None
    i = int(reached[-1])
    return _threshold(f"conversion rate ≥ {rate:.0%}", scores[i], counts[i], found[i], y, weeks)


def volume_threshold(
    y: Labels, s: Scores, k: int, goal: str, weeks: float | None = None
) -> Threshold | None:
    """The score of the k-th best lead: the cut that sends about k leads to sales.

    Leads tied with the k-th are all sent, so ``leads`` may exceed k.

    >>> y = np.array([True, False, True, False, False])
    >>> t = volume_threshold(y, np.array([9, 7, 7, 3, 1.0]), 2, "top 2 a week", weeks=1.0)
    >>> t.score, t.leads, t.per_week, t.conversion_rate
    (7.0, 3, 3.0, 0.6666666666666666)
    """
    if not 1 <= k < len(s):
        return None
    scores, counts, found = _queues(y, s)
    i = int(np.searchsorted(counts, k))
    return _threshold(goal, scores[i], counts[i], found[i], y, weeks)


def _threshold(
    goal: str, score: float, count: float, found: float, y: Labels, weeks: float | None
) -> Threshold:
    total = float(y.sum())
    return Threshold(
        goal=goal.replace("%", " %"),
        score=float(score),
        leads=int(count),
        share=float(count) / len(y),
        conversion_rate=float(found) / float(count),
        recall=float(found) / total if total else 0.0,
        per_week=float(count) / weeks if weeks else None,
    )


def suggested_rates(base_rate: float) -> list[float]:
    """Conversion-rate goals worth a threshold: 1.5, 2 and 3 times the base rate.

    >>> suggested_rates(0.113)
    [0.17, 0.23, 0.34]
    """
    return sorted({round(base_rate * m, 2) for m in (1.5, 2, 3) if 0 < round(base_rate * m, 2) < 1})


def as_dicts(rows: list[Any]) -> list[dict[str, Any]]:
    """Rows of any table above as plain dicts (for JSON).

    >>> as_dicts(top_k(np.array([True, False]), np.array([1.0, 0.0]), [1]))[0]["precision"]
    1.0
    """
    return [asdict(row) for row in rows]
