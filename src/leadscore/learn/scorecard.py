"""A points table (scorecard): binned features, logistic regression, integer points.

The classic credit-scoring recipe, made for leads: each feature is binned by
weight of evidence (:mod:`leadscore.learn.binning`), a logistic regression
weighs the features on their evidence, and each bin's points are the scaled,
rounded product of weight and evidence, so a lead's total is a sum a person can
check and edit. Each feature's baseline bin has 0 points (its worst bin, or for
counts of events the bin of 0 events), and so has a bin no training lead fell in,
nothing in its favour; the points of all features span about ``points_range``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from leadscore.learn.binning import Bins, fit_bins
from leadscore.learn.estimators import BinaryClassifierMixin, binary_classes

_CELLS_PER_ROUND = 4
_INTERACTION_POOL = 8
_CHI2_1DF_P0001 = 15.14  # chi-square (1 degree of freedom) beyond which p < 0.0001


def _indicators(index: np.ndarray, cells: list[tuple[int, int, int, int]]) -> np.ndarray:
    """One 0/1 column per cell: the lead is in both bins."""
    columns = [(index[:, a] == ka) & (index[:, b] == kb) for a, ka, b, kb in cells]
    return np.column_stack(columns).astype(np.float64) if columns else np.zeros((len(index), 0))


class Scorecard(BinaryClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Binary classifier whose decision is a sum of integer points per feature bin.

    Parameters
    ----------
    categorical_features
        Indices of columns holding category codes (non-negative integers).
    count_features
        Indices of columns holding counts; their baseline is the bin of 0.
    max_bins
        Most value bins per feature.
    min_bin_fraction
        Least share of the rows in a bin.
    C
        Inverse regularisation strength of the logistic regression.
    points_range
        About how many points separate the lowest possible total from the highest.
    interactions
        Most pairs of bins (of two features) given points of their own, where the
        sum of the two features' points misjudges the leads in both.
    interaction_features
        Indices of the features that may pair (None: all).
    random_state
        Seed of the binning trees.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2))
    >>> y = (X[:, 0] + 0.2 * rng.normal(size=400) > 0).astype(int)
    >>> card = Scorecard().fit(X, y)
    >>> card.score(X, y) > 0.9
    True
    >>> [int(p.max()) for p in card.points_][0] > [int(p.max()) for p in card.points_][1]
    True
    """

    def __init__(
        self,
        categorical_features: tuple[int, ...] = (),
        count_features: tuple[int, ...] = (),
        max_bins: int = 6,
        min_bin_fraction: float = 0.05,
        C: float = 1.0,
        points_range: float = 100.0,
        interactions: int = 0,
        interaction_features: tuple[int, ...] | None = None,
        random_state: int = 0,
    ) -> None:
        self.categorical_features = categorical_features
        self.count_features = count_features
        self.max_bins = max_bins
        self.min_bin_fraction = min_bin_fraction
        self.C = C
        self.points_range = points_range
        self.interactions = interactions
        self.interaction_features = interaction_features
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> Scorecard:
        """Bin every feature, weigh the bins, and round them to points."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        self.classes_ = binary_classes(y)
        target = (y == self.classes_[1]).astype(np.float64)
        categorical = set(self.categorical_features)
        self.bins_ = [
            fit_bins(
                X[:, j],
                target,
                categorical=j in categorical,
                max_bins=self.max_bins,
                min_fraction=self.min_bin_fraction,
                random_state=self.random_state,
            )
            for j in range(X.shape[1])
        ]
        evidence = self._evidence(X)
        index = np.column_stack([b.assign(X[:, j]) for j, b in enumerate(self.bins_)])
        regression = LogisticRegression(C=self.C, max_iter=1000).fit(evidence, target)
        cells: list[tuple[int, int, int, int]] = []
        for _ in range(-(-self.interactions // _CELLS_PER_ROUND)):
            found = self._cells(index, evidence, target, regression, cells)
            if not found:
                break
            cells += found[: self.interactions - len(cells)]
            design = np.column_stack([evidence, _indicators(index, cells)])
            regression = LogisticRegression(C=self.C, max_iter=1000).fit(design, target)
        n_features = X.shape[1]
        self.weights_ = regression.coef_[0][:n_features].copy()
        raw = [w * np.asarray(b.woe) for w, b in zip(self.weights_, self.bins_, strict=True)]
        crossed = regression.coef_[0][n_features:]
        spread = sum(float(r.max() - r.min()) for r in raw)
        self.scale_ = self.points_range / spread if spread > 0 else 1.0
        self.interactions_ = [
            (*cell, int(np.rint(self.scale_ * w))) for cell, w in zip(cells, crossed, strict=True)
        ]
        counts = set(self.count_features)
        self.points_ = []
        for j, values in enumerate(raw):
            seen = np.asarray(self.bins_[j].leads) > 0
            base = values[0] if j in counts else values[seen].min()
            # A bin no training lead fell in (missing, unseen) gets no points: no evidence.
            points = np.where(seen, np.rint(self.scale_ * (values - base)), 0)
            self.points_.append(points.astype(np.int64))
        totals = self.points(X).reshape(-1, 1)
        link = LogisticRegression(C=1e4, max_iter=1000).fit(totals, target)
        self.slope_ = float(link.coef_[0][0])
        self.intercept_ = float(link.intercept_[0])
        return self

    def _cells(
        self,
        index: np.ndarray,
        evidence: np.ndarray,
        target: np.ndarray,
        regression: Any,
        taken: list[tuple[int, int, int, int]],
    ) -> list[tuple[int, int, int, int]]:
        """The pairs of bins (of two features) the additive points misjudge most.

        Each cell's score statistic ``(sum of residuals)² / (sum of variances)`` is
        a chi-square with one degree of freedom: only cells beyond p = 0.0001 and
        holding at least 1 % of the leads count.
        """
        design = np.column_stack([evidence, _indicators(index, taken)])
        p = regression.predict_proba(design)[:, 1]
        residual, variance = target - p, p * (1 - p)
        allowed = self.interaction_features
        pool = list(range(index.shape[1])) if allowed is None else list(allowed)
        strength = {
            j: abs(float(regression.coef_[0][j])) * float(np.ptp(self.bins_[j].woe)) for j in pool
        }
        pool = sorted(pool, key=lambda j: -strength[j])[:_INTERACTION_POOL]
        smallest = max(30.0, 0.01 * len(target))
        found: list[tuple[float, tuple[int, int, int, int]]] = []
        for position, a in enumerate(pool):
            for b in pool[position + 1 :]:
                width = self.bins_[b].value_bins + 2
                cell = index[:, a] * width + index[:, b]
                size = width * (self.bins_[a].value_bins + 2)
                leads = np.bincount(cell, minlength=size)
                g = np.bincount(cell, weights=residual, minlength=size)
                h = np.bincount(cell, weights=variance, minlength=size)
                score = np.divide(g * g, h, out=np.zeros(size), where=h > 0)
                for c in np.flatnonzero((leads >= smallest) & (score >= _CHI2_1DF_P0001)):
                    key = (a, int(c) // width, b, int(c) % width)
                    if key not in taken:
                        found.append((float(score[c]), key))
        found.sort(key=lambda item: -item[0])
        return [key for _, key in found[:_CELLS_PER_ROUND]]

    def _evidence(self, X: np.ndarray) -> np.ndarray:
        columns = [np.asarray(b.woe)[b.assign(X[:, j])] for j, b in enumerate(self.bins_)]
        return np.column_stack(columns) if columns else np.zeros((len(X), 0))

    def bin_indices(self, X: Any) -> np.ndarray:
        """The bin of each value, one column per feature."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return np.column_stack([b.assign(X[:, j]) for j, b in enumerate(self.bins_)])

    def points(self, X: Any) -> np.ndarray:
        """Each row's total points."""
        index = self.bin_indices(X)
        totals = np.zeros(len(index))
        for j, points in enumerate(self.points_):
            totals += points[index[:, j]]
        for a, bin_a, b, bin_b, points_ab in self.interactions_:
            totals += points_ab * ((index[:, a] == bin_a) & (index[:, b] == bin_b))
        return totals

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of the positive class, from the total points."""
        check_is_fitted(self)
        result: np.ndarray = self.slope_ * self.points(X) + self.intercept_
        return result

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities from the total points, through a fitted logistic link."""
        positive = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class of each row."""
        positive = self.decision_function(X) > 0
        result: np.ndarray = self.classes_[positive.astype(int)]
        return result

    def to_dict(self) -> dict[str, Any]:
        """The fitted scorecard as JSON-ready data (no code, no pickle)."""
        check_is_fitted(self)
        return {
            "params": self.get_params(),
            "classes": self.classes_.tolist(),
            "n_features_in": int(self.n_features_in_),
            "bins": [b.to_dict() for b in self.bins_],
            "weights": self.weights_.tolist(),
            "points": [p.tolist() for p in self.points_],
            "interactions": [list(cell) for cell in self.interactions_],
            "scale": self.scale_,
            "slope": self.slope_,
            "intercept": self.intercept_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        params = dict(data["params"])
        params["categorical_features"] = tuple(params["categorical_features"])
        params["count_features"] = tuple(params["count_features"])
        if params["interaction_features"] is not None:
            params["interaction_features"] = tuple(params["interaction_features"])
        card = cls(**params)
        card.classes_ = np.asarray(data["classes"])
        card.n_features_in_ = int(data["n_features_in"])
        card.bins_ = [Bins.from_dict(b) for b in data["bins"]]
        card.weights_ = np.asarray(data["weights"], dtype=np.float64)
        card.points_ = [np.asarray(p, dtype=np.int64) for p in data["points"]]
        card.interactions_ = [
            (int(a), int(ka), int(b), int(kb), int(p)) for a, ka, b, kb, p in data["interactions"]
        ]
        card.scale_ = float(data["scale"])
        card.slope_ = float(data["slope"])
        card.intercept_ = float(data["intercept"])
        return card
