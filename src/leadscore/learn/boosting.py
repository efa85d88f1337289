"""The predictive model: LightGBM on shuffled inner folds, calibrated on held-out rows.

Each inner fold trains one booster, stopped early on the fold it did not see;
the out-of-fold margins then fit a Platt calibration (a logistic regression on
the margin), which keeps the ranking exactly and corrects the scale. Predictions
average the fold boosters' margins. The folds are shuffled on purpose: on files
sorted by date, contiguous folds calibrate on one period and predict another
(see ../shared/data/README.md, "calibration trap"). Above ``large`` rows a
single shuffled 10 % part is held out instead of k folds, to stay fast.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]

from leadscore.learn.estimators import BinaryClassifierMixin, binary_classes

_HELD_OUT = 0.1


class BoostedClassifier(BinaryClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Gradient-boosted trees with early stopping and calibrated probabilities.

    Parameters
    ----------
    categorical_features
        Indices of columns holding category codes (non-negative integers).
    n_folds
        Inner folds (each trains one booster); None: 5, or 1 above ``large`` rows.
    learning_rate, num_leaves, min_child_samples, max_rounds, early_stopping_rounds
        LightGBM settings; the learning rate is 0.05 and the early stopping waits 100
        rounds, or 0.1 and 50 rounds above ``large`` rows.
    large
        Rows above which a single held-out part replaces the folds.

    Attributes
    ----------
    held_out_
        Calibrated probabilities of the rows held out while fitting (not saved).
    random_state
        Seed of the folds and of LightGBM's sampling.
    n_jobs
        Threads of LightGBM on 50,000 rows or more (fewer rows: one thread).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 3))
    >>> y = (X[:, 0] + rng.normal(size=600) > 0).astype(int)
    >>> model = BoostedClassifier(n_folds=3).fit(X, y)
    >>> model.predict_proba(X).shape
    (600, 2)
    >>> 0.6 < model.metrics_["auc"] < 0.95
    True
    """

    def __init__(
        self,
        categorical_features: tuple[int, ...] = (),
        n_folds: int | None = None,
        learning_rate: float | None = None,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        max_rounds: int = 2000,
        early_stopping_rounds: int | None = None,
        large: int = 100_000,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.categorical_features = categorical_features
        self.n_folds = n_folds
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.large = large
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self, n: int) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate or (0.05 if n <= self.large else 0.1),
            "num_leaves": self.num_leaves,
            "min_child_samples": max(2, min(self.min_child_samples, n // 20)),
            "min_data_in_bin": max(1, min(3, n // 100)),
            "feature_fraction": 0.9,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "cat_smooth": 10.0,
            "min_data_per_group": max(1, min(100, n // 50)),
            "seed": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self._threads(n),
            "verbosity": -1,
        }

    def _threads(self, n: int) -> int:
        # OpenMP threads cost more than they bring on small data, and on a busy
        # machine (measured here, 1M rows: one thread 3x faster than two when
        # other jobs share the cores); hence one thread unless asked.
        return self.n_jobs if n >= 50_000 else 1

    def _patience(self, n: int) -> int:
        return self.early_stopping_rounds or (100 if n <= self.large else 50)

    def _splits(self, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        fewest = int(np.bincount(y).min())
        folds = self.n_folds or (5 if len(y) <= self.large else 1)
        if fewest < 2:
            return []
        if folds <= 1:
            holdout = StratifiedShuffleSplit(
                n_splits=1, test_size=_HELD_OUT, random_state=self.random_state
            )
            return list(holdout.split(np.zeros(len(y)), y))
        kfold = StratifiedKFold(
            n_splits=min(folds, fewest), shuffle=True, random_state=self.random_state
        )
        return list(kfold.split(np.zeros(len(y)), y))

    def fit(self, X: Any, y: Any) -> BoostedClassifier:
        """Train one booster per inner fold and calibrate on their held-out margins."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        self.classes_ = binary_classes(y)
        target = (y == self.classes_[1]).astype(np.int64)
        params = self._params(len(target))
        categorical = list(self.categorical_features)
        self.boosters_: list[lgb.Booster] = []
        margins = np.zeros(len(target))
        scored = np.zeros(len(target), dtype=bool)
        for train, held in self._splits(target):
            fitting = lgb.Dataset(X[train], target[train], categorical_feature=categorical)
            checking = fitting.create_valid(X[held], target[held])
            booster = lgb.train(
                params,
                fitting,
                num_boost_round=self.max_rounds,
                valid_sets=[checking],
                callbacks=[lgb.early_stopping(self._patience(len(target)), verbose=False)],
            )
            booster.free_dataset()
            margins[held] = booster.predict(
                X[held], raw_score=True, num_threads=params["num_threads"]
            )
            scored[held] = True
            self.boosters_.append(booster)
        if not self.boosters_:  # too few rows of a class to hold any out
            data = lgb.Dataset(X, target, categorical_feature=categorical)
            self.boosters_.append(lgb.train(params, data, num_boost_round=100))
            self.slope_, self.intercept_ = 1.0, 0.0
            self.metrics_: dict[str, float] = {}
            self.held_out_ = np.zeros(0)
            return self
        link = LogisticRegression(C=1e4, max_iter=1000)
        link.fit(margins[scored].reshape(-1, 1), target[scored])
        self.slope_ = float(link.coef_[0][0])
        self.intercept_ = float(link.intercept_[0])
        calibrated = _sigmoid(self.slope_ * margins[scored] + self.intercept_)
        self.held_out_ = calibrated
        self.metrics_ = held_out_metrics(target[scored], calibrated)
        self.metrics_["rounds"] = float(np.mean([b.best_iteration for b in self.boosters_]))
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Calibrated log-odds of the positive class."""
        check_is_fitted(self)
        result: np.ndarray = self.slope_ * self.margin(X) + self.intercept_
        return result

    def margin(self, X: Any) -> np.ndarray:
        """The boosters' mean margin (log-odds before calibration)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        threads = self._threads(len(X))
        margins = [b.predict(X, raw_score=True, num_threads=threads) for b in self.boosters_]
        result: np.ndarray = np.mean(margins, axis=0)
        return result

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities of both classes."""
        positive = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class of each row."""
        positive = self.decision_function(X) > 0
        result: np.ndarray = self.classes_[positive.astype(int)]
        return result

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated probability of a margin."""
        return _sigmoid(self.slope_ * margin + self.intercept_)

    def contributions(self, X: Any) -> np.ndarray:
        """SHAP contributions to the margin (last column: the base value)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        threads = self._threads(len(X))
        parts = [
            np.asarray(b.predict(X, pred_contrib=True, num_threads=threads)) for b in self.boosters_
        ]
        result: np.ndarray = np.mean(parts, axis=0)
        return result

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as JSON-ready data; boosters as LightGBM text models."""
        check_is_fitted(self)
        return {
            "params": self.get_params(),
            "classes": self.classes_.tolist(),
            "n_features_in": int(self.n_features_in_),
            "slope": self.slope_,
            "intercept": self.intercept_,
            "metrics": self.metrics_,
            "boosters": [b.model_to_string() for b in self.boosters_],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoostedClassifier:
        params = dict(data["params"])
        params["categorical_features"] = tuple(params["categorical_features"])
        model = cls(**params)
        model.classes_ = np.asarray(data["classes"])
        model.n_features_in_ = int(data["n_features_in"])
        model.slope_ = float(data["slope"])
        model.intercept_ = float(data["intercept"])
        model.metrics_ = {k: float(v) for k, v in data["metrics"].items()}
        model.boosters_ = [lgb.Booster(model_str=text) for text in data["boosters"]]
        return model


def _sigmoid(z: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return result


def held_out_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUC, log loss, Brier score and expected calibration error (10 quantile bins).

    >>> held_out_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))["auc"]
    0.75
    """
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score  # type: ignore[import-untyped]

    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, min(10, len(p)))
    ece = sum(abs(float(y[b].mean() - p[b].mean())) * len(b) for b in bins if len(b)) / len(p)
    return {
        "auc": float(roc_auc_score(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15))),
        "brier": float(brier_score_loss(y, p)),
        "ece": float(ece),
    }
