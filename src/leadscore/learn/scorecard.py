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
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from leadscore.learn.binning import Bins, fit_bins
from leadscore.learn.boosting import binary_classes


class Scorecard(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
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
        random_state: int = 0,
    ) -> None:
        self.categorical_features = categorical_features
        self.count_features = count_features
        self.max_bins = max_bins
        self.min_bin_fraction = min_bin_fraction
        self.C = C
        self.points_range = points_range
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

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
        regression = LogisticRegression(C=self.C, max_iter=1000)
        regression.fit(evidence, target)
        self.weights_ = regression.coef_[0].copy()
        raw = [w * np.asarray(b.woe) for w, b in zip(self.weights_, self.bins_, strict=True)]
        spread = sum(float(r.max() - r.min()) for r in raw)
        self.scale_ = self.points_range / spread if spread > 0 else 1.0
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
            "scale": self.scale_,
            "slope": self.slope_,
            "intercept": self.intercept_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        params = dict(data["params"])
        params["categorical_features"] = tuple(params["categorical_features"])
        params["count_features"] = tuple(params["count_features"])
        card = cls(**params)
        card.classes_ = np.asarray(data["classes"])
        card.n_features_in_ = int(data["n_features_in"])
        card.bins_ = [Bins.from_dict(b) for b in data["bins"]]
        card.weights_ = np.asarray(data["weights"], dtype=np.float64)
        card.points_ = [np.asarray(p, dtype=np.int64) for p in data["points"]]
        card.scale_ = float(data["scale"])
        card.slope_ = float(data["slope"])
        card.intercept_ = float(data["intercept"])
        return card
