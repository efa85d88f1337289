"""Which leads train a model and which measure it, and whether the two differ.

A model is measured on leads it has not seen. When leads have dates, the honest
split is by time: train on the older leads, measure on the newer ones, as the
model will be used. Without dates, stratified k-fold cross-validation with
shuffled folds (a file sorted by date or by outcome would otherwise give folds
unlike each other). When older and newer leads convert at different rates, the
measured figures partly reflect that change (drift); :func:`drift` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Index = npt.NDArray[np.intp]
Values = npt.NDArray[np.float64]

TEST_SHARE = 0.2
FOLDS = 5
# Drift is reported when the base rates differ by this factor and the difference is
# not chance (two-proportion z-test), or when the score's population changes.
RATE_RATIO = 1.25
SIGNIFICANCE = 0.01
PSI_WARNING = 0.25


@dataclass(frozen=True)
class Split:
    """One training set and one test set of lead positions."""

    train: Index
    test: Index


def time_split(order: npt.NDArray[np.generic], test_share: float = TEST_SHARE) -> Split:
    """Older leads train, the newest ``test_share`` test; equal dates stay together.

    When every lead has the same date, the test set is empty.

    ``order`` holds each lead's date (or any sortable value, e.g. its row number
    in a file sorted by date). Every test lead is at least as new as every
    training lead.

    >>> split = time_split(np.array([5, 1, 4, 2, 3, 9, 8, 7, 6, 10]))
    >>> split.train.tolist(), split.test.tolist()
    ([0, 1, 2, 3, 4, 6, 7, 8], [5, 9])
    >>> time_split(np.array([1, 1, 1, 2, 2])).test.tolist()
    [3, 4]
    """
    n = len(order)
    positions = np.argsort(order, kind="stable")
    boundary = order[positions[min(n - 1, math.ceil(n * (1 - test_share)))]]
    # The leads of the boundary date go to the side that keeps the test share closest.
    candidates = [order >= boundary, order > boundary]
    valid = [c for c in candidates if 0 < c.sum() < n] or [np.zeros(n, dtype=bool)]
    test = min(valid, key=lambda c: abs(c.mean() - test_share))
    return Split(np.flatnonzero(~test), np.flatnonzero(test))


def stratified_folds(y: npt.NDArray[np.bool_], folds: int = FOLDS, seed: int = 0) -> list[Split]:
    """Shuffled k-fold splits keeping the conversion rate of every fold equal.

    >>> y = np.array([True] * 10 + [False] * 40)
    >>> splits = stratified_folds(y, folds=5)
    >>> [int(y[s.test].sum()) for s in splits], sorted(np.concatenate([s.test for s in splits]))[:3]
    ([2, 2, 2, 2, 2], [np.int64(0), np.int64(1), np.int64(2)])
    """
    # scikit-learn loads in ~2 s: only when folds are made, not at every CLI start.
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    kfold = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [
        Split(train.astype(np.intp), test.astype(np.intp))
        for train, test in kfold.split(np.zeros(len(y)), y)
    ]


def rate_drift(train: npt.NDArray[np.bool_], test: npt.NDArray[np.bool_]) -> str | None:
    """A warning when training and test leads convert at clearly different rates.

    >>> old, new = np.array([True] * 64 + [False] * 936), np.array([True] * 308 + [False] * 692)
    >>> print(rate_drift(old, new))
    The conversion rate changed between the training leads (6.4 %) and the test leads (30.8 %), ...
    >>> rate_drift(np.array([True, False] * 50), np.array([False, True] * 50)) is None
    True
    """
    p1, p2 = float(train.mean()), float(test.mean())
    pooled = (train.sum() + test.sum()) / (len(train) + len(test))
    spread = math.sqrt(pooled * (1 - pooled) * (1 / len(train) + 1 / len(test)))
    p_value = math.erfc(abs(p1 - p2) / spread / math.sqrt(2)) if spread else 1.0
    ratio = max(p1, p2) / min(p1, p2) if min(p1, p2) > 0 else math.inf
    if p_value >= SIGNIFICANCE or ratio < RATE_RATIO:
        return None
    return (
        f"The conversion rate changed between the training leads ({p1:.1%}) and the test "
        f"leads ({p2:.1%}), ×{ratio:.1f} ({_p(p_value)}): figures measured on the test "
        "leads reflect this drift, and a model's probabilities (fitted on the older rate) "
        "will be off until it is re-trained on recent leads."
    ).replace("%", " %")


def _p(value: float) -> str:
    return "p < 0.0001" if value < 1e-4 else f"p = {value:.4f}"


def population_stability(
    expected: npt.NDArray[np.float64], actual: npt.NDArray[np.float64]
) -> float:
    """Population stability index of a score between two sets of leads.

    Ten bins at the deciles of ``expected``; under 0.1 is stable, over 0.25 is a
    population that changed.

    >>> rng = np.random.default_rng(0)
    >>> population_stability(rng.normal(size=5000), rng.normal(size=5000)) < 0.01
    True
    >>> population_stability(rng.normal(size=5000), rng.normal(1.0, size=5000)) > 0.25
    True
    """
    edges = np.unique(np.percentile(expected, np.linspace(0, 100, 11))[1:-1])
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1)
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1)
    e_share = np.maximum(e / len(expected), 1e-4)
    a_share = np.maximum(a / len(actual), 1e-4)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def score_drift(
    name: str, train: npt.NDArray[np.float64], test: npt.NDArray[np.float64]
) -> str | None:
    """A warning when the score of the test leads is distributed unlike the training leads'.

    >>> score_drift("score", np.arange(100.0), np.arange(100.0)) is None
    True
    """
    psi = population_stability(train, test)
    if psi <= PSI_WARNING:
        return None
    return (
        f"The {name} of the test leads is distributed unlike that of the training leads "
        f"(population stability index {psi:.2f} > {PSI_WARNING}): the leads changed; "
        "thresholds chosen on older leads send a different volume to sales now."
    )
