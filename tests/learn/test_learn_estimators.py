"""The learners follow the scikit-learn estimator contract (DESIGN.md, house style 10)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from leadscore.learn.boosting import BoostedClassifier
from leadscore.learn.scorecard import Scorecard


def contract_checks() -> list[tuple[Any, Any]]:
    """scikit-learn's checks for our learners, less the array-API one.

    They take NumPy arrays only (no array-API dispatch is claimed), and that check
    skips itself unless SCIPY_ARRAY_API was set before SciPy loaded; a test that
    can only skip has no place in the suite (CI=true allows no skips).
    """
    mark = parametrize_with_checks(
        [Scorecard(), BoostedClassifier(n_folds=2, max_rounds=40, early_stopping_rounds=10)]
    )
    pairs = list(mark.args[1])
    return [
        (estimator, check)
        for estimator, check in pairs
        if getattr(check, "func", check).__name__ != "check_array_api_input"
    ]


@pytest.mark.parametrize(("estimator", "check"), contract_checks())
def test_the_estimator_contract(estimator: Any, check: Any) -> None:
    check(estimator)


def test_categories_are_grouped_by_their_conversion_rate() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, 4000).astype(float)
    rate = np.array([0.05, 0.30, 0.06, 0.31])[codes.astype(int)]
    y = (rng.random(4000) < rate).astype(int)
    card = Scorecard(categorical_features=(0,)).fit(codes.reshape(-1, 1), y)
    groups = sorted(sorted(g) for g in card.bins_[0].groups)
    assert groups == [[0, 2], [1, 3]]
    unseen = card.points(np.array([[9.0]]))
    assert unseen[0] == 0  # a category never seen has no points


def test_round_trip_through_data_keeps_predictions() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 3))
    X[rng.random(500) < 0.1, 1] = np.nan
    y = (X[:, 0] + rng.normal(size=500) > 0).astype(int)
    card = Scorecard().fit(X, y)
    boosted = BoostedClassifier(n_folds=3).fit(X, y)
    np.testing.assert_array_equal(
        Scorecard.from_dict(card.to_dict()).predict_proba(X), card.predict_proba(X)
    )
    np.testing.assert_array_equal(
        BoostedClassifier.from_dict(boosted.to_dict()).predict_proba(X), boosted.predict_proba(X)
    )
