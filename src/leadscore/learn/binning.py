"""Binning of one feature by weight of evidence, for scorecards and conversion reports.

Numbers are cut where a small decision tree (a few leaves, each holding at least
a share of the leads) separates converters best; categories are ordered by their
conversion rate and grouped the same way. Each bin's *weight of evidence* is
``ln(share of converters / share of the others)``, smoothed so that a small bin
stays near 0. Bin indices: value bins ``0..m-1``, then missing, then unseen
categories (both neutral when not seen in training).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

_SMOOTHING = 0.5
PRE_BINS = 1000  # distinct numbers beyond this are grouped first, for speed


@dataclass(frozen=True)
class Bins:
    """How one feature's values fall into bins, and each bin's evidence.

    Numeric bin ``k`` holds ``edges[k-1] < x <= edges[k]``; categorical bin ``k``
    holds the codes in ``groups[k]``.

    Examples
    --------
    >>> x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8] * 10)
    >>> y = (x > 4).astype(int)
    >>> bins = fit_bins(x, y, categorical=False, max_bins=4, min_fraction=0.1)
    >>> bins.edges
    (4.0,)
    >>> bins.assign(np.array([0.5, 4.0, 4.5, np.nan])).tolist()
    [0, 0, 1, 2]
    """

    categorical: bool
    edges: tuple[float, ...]
    groups: tuple[tuple[int, ...], ...]
    woe: tuple[float, ...]
    leads: tuple[int, ...]
    conversions: tuple[int, ...]

    @property
    def value_bins(self) -> int:
        return len(self.groups) if self.categorical else len(self.edges) + 1

    @property
    def missing(self) -> int:
        return self.value_bins

    @property
    def unseen(self) -> int:
        return self.value_bins + 1

    def assign(self, x: np.ndarray) -> np.ndarray:
        """The bin index of each value."""
        result = np.full(len(x), self.missing, dtype=np.int64)
        present = ~np.isnan(x)
        if self.categorical:
            codes = np.maximum(x[present], 0).astype(np.int64)
            known = [code for group in self.groups for code in group]
            size = max([*known, int(codes.max(initial=0))]) + 1
            lookup = np.full(size, self.unseen, dtype=np.int64)
            for k, group in enumerate(self.groups):
                lookup[list(group)] = k
            result[present] = lookup[codes]
            return result
        result[present] = np.searchsorted(np.asarray(self.edges), x[present], side="left")
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "categorical": self.categorical,
            "edges": list(self.edges),
            "groups": [list(g) for g in self.groups],
            "woe": list(self.woe),
            "leads": list(self.leads),
            "conversions": list(self.conversions),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bins:
        return cls(
            categorical=bool(data["categorical"]),
            edges=tuple(float(e) for e in data["edges"]),
            groups=tuple(tuple(int(c) for c in g) for g in data["groups"]),
            woe=tuple(float(w) for w in data["woe"]),
            leads=tuple(int(n) for n in data["leads"]),
            conversions=tuple(int(n) for n in data["conversions"]),
        )


def fit_bins(
    x: np.ndarray,
    y: np.ndarray,
    *,
    categorical: bool,
    max_bins: int,
    min_fraction: float,
    random_state: int = 0,
    min_z: float = 1.96,
    max_p: float = 1e-4,
) -> Bins:
    """Bin one feature against a 0/1 target.

    Adjacent bins whose conversion rates do not differ significantly (two-proportion
    z-test below ``min_z``) are merged: a bin must tell something. When the bins
    together do not differ (chi-square p-value above ``max_p``, strict because the
    cuts were chosen on the same data), the feature keeps one bin: no evidence.
    """
    present = ~np.isnan(x)
    values, inverse = np.unique(x[present], return_inverse=True)
    positives = np.bincount(inverse, weights=y[present], minlength=len(values))
    totals = np.bincount(inverse, minlength=len(values)).astype(np.float64)
    all_pos, all_neg = float(y.sum()), float(len(y) - y.sum())
    lows = values
    if not categorical and len(values) > PRE_BINS:
        values, lows, positives, totals = _pre_bin(values, positives, totals)
    key = _woe(positives, totals - positives, all_pos, all_neg) if categorical else values
    order = np.argsort(key, kind="stable")
    key, values, lows = key[order], values[order], lows[order]
    positives, totals = positives[order], totals[order]
    split = _tree_splits(key, positives, totals, len(y), max_bins, min_fraction, random_state)
    starts = [0, *sorted(set(np.searchsorted(key, split, side="right").tolist()) - {0})]
    starts = [s for s in starts if s < len(key)]
    starts = _merge(starts, positives, totals, min_z)
    if not _significant(starts, positives, totals, max_p):
        starts = [0]
    bounds = [*starts, len(key)]
    if categorical:
        groups = tuple(
            tuple(sorted(int(v) for v in values[a:b])) for a, b in itertools.pairwise(bounds)
        )
        edges: tuple[float, ...] = ()
    else:
        # Cut between data values at a short number: "over 30, up to 40", not "40.5".
        edges = tuple(nice_between(values[b - 1], lows[b]) for b in starts[1:])
        groups = ()
    bins = Bins(categorical, edges, groups, (), (), ())
    index = bins.assign(x)
    size = bins.value_bins + 2
    leads = np.bincount(index, minlength=size)
    conversions = np.bincount(index, weights=y, minlength=size)
    woe = _woe(conversions, leads - conversions, all_pos, all_neg)
    woe[leads == 0] = 0.0
    return Bins(
        categorical,
        edges,
        groups,
        tuple(float(w) for w in woe),
        tuple(int(n) for n in leads),
        tuple(round(float(c)) for c in conversions),
    )


def _pre_bin(
    values: np.ndarray, positives: np.ndarray, totals: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Many distinct numbers grouped into about PRE_BINS groups of equal size.

    Returns each group's highest and lowest value, conversions and leads.
    """
    share = np.cumsum(totals) / totals.sum()
    group = np.minimum((share * PRE_BINS).astype(np.int64), PRE_BINS - 1)
    group = np.concatenate([[0], np.cumsum(np.diff(group) > 0)])
    count = int(group[-1]) + 1
    highs = np.full(count, -np.inf)
    np.maximum.at(highs, group, values)
    lows = np.full(count, np.inf)
    np.minimum.at(lows, group, values)
    return (
        highs,
        lows,
        np.bincount(group, weights=positives, minlength=count),
        np.bincount(group, weights=totals, minlength=count),
    )


def nice_between(low: float, high: float) -> float:
    """The shortest number d with ``low <= d < high``.

    >>> nice_between(30.0, 31.0), nice_between(-1.3481033627983054, -1.2), nice_between(0.09, 1.7)
    (30.0, -1.3, 1.0)
    """
    for digits in range(-15, 16):
        step = 10.0**-digits
        candidate = round(math.ceil(low / step) * step, max(digits, 0))
        if low <= candidate < high:
            return float(candidate)
    return float(low)


def _merge(starts: list[int], positives: np.ndarray, totals: np.ndarray, min_z: float) -> list[int]:
    """Merge the least different adjacent bins until every neighbour differs."""
    starts = list(starts)
    while len(starts) > 1:
        bounds = [*starts, len(totals)]
        pos = [positives[a:b].sum() for a, b in itertools.pairwise(bounds)]
        tot = [totals[a:b].sum() for a, b in itertools.pairwise(bounds)]
        scores = [_z(pos[i], tot[i], pos[i + 1], tot[i + 1]) for i in range(len(pos) - 1)]
        weakest = int(np.argmin(scores))
        if scores[weakest] >= min_z:
            break
        del starts[weakest + 1]
    return starts


def _significant(
    starts: list[int], positives: np.ndarray, totals: np.ndarray, max_p: float
) -> bool:
    from scipy.stats import chi2_contingency  # type: ignore[import-untyped]

    if len(starts) < 2:
        return False
    bounds = [*starts, len(totals)]
    pos = np.array([positives[a:b].sum() for a, b in itertools.pairwise(bounds)])
    tot = np.array([totals[a:b].sum() for a, b in itertools.pairwise(bounds)])
    if pos.sum() == 0 or pos.sum() == tot.sum():
        return False
    p_value = float(chi2_contingency(np.column_stack([pos, tot - pos]))[1])
    return p_value <= max_p


def _z(pos_a: float, n_a: float, pos_b: float, n_b: float) -> float:
    if n_a == 0 or n_b == 0:
        return 0.0
    pooled = (pos_a + pos_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return abs(pos_a / n_a - pos_b / n_b) / spread if spread > 0 else 0.0


def _woe(pos: np.ndarray, neg: np.ndarray, all_pos: float, all_neg: float) -> np.ndarray:
    share_pos = (pos + _SMOOTHING) / (all_pos + _SMOOTHING)
    share_neg = (neg + _SMOOTHING) / (all_neg + _SMOOTHING)
    result: np.ndarray = np.log(share_pos / share_neg)
    return result


def _tree_splits(
    key: np.ndarray,
    positives: np.ndarray,
    totals: np.ndarray,
    n: int,
    max_bins: int,
    min_fraction: float,
    random_state: int,
) -> np.ndarray:
    """Thresholds on ``key`` from a weighted tree over the distinct values."""
    from sklearn.tree import DecisionTreeClassifier  # type: ignore[import-untyped]

    if len(key) < 2 or max_bins < 2:
        return np.array([])
    features = np.concatenate([key, key]).reshape(-1, 1)
    labels = np.concatenate([np.ones(len(key)), np.zeros(len(key))])
    weights = np.concatenate([positives, totals - positives])
    tree = DecisionTreeClassifier(
        max_leaf_nodes=max_bins,
        min_weight_fraction_leaf=min(0.5, min_fraction * n / max(totals.sum(), 1.0)),
        random_state=random_state,
    )
    tree.fit(features, labels, sample_weight=weights)
    inner = tree.tree_.feature >= 0
    return np.sort(tree.tree_.threshold[inner])
