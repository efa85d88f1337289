"""Splits: time order respected, folds stratified and shuffled, drift reported."""

from __future__ import annotations

import numpy as np
import pytest

from leadscore.learn import splits


def test_time_split_trains_on_older_and_tests_on_newer_leads():
    rng = np.random.default_rng(0)
    dates = np.datetime64("2024-01-01") + rng.integers(0, 365, 1000).astype("timedelta64[D]")
    part = splits.time_split(dates)
    assert dates[part.train].max() < dates[part.test].min()
    assert sorted(np.concatenate([part.train, part.test])) == list(range(1000))
    assert 0.18 <= len(part.test) / 1000 <= 0.22


def test_time_split_keeps_leads_of_one_date_on_one_side():
    dates = np.array([1] * 5 + [2] * 4 + [3] * 1)
    part = splits.time_split(dates)
    assert part.test.tolist() == [9]
    assert splits.time_split(np.array([1, 1, 1, 1])).test.size == 0


def test_folds_are_stratified_shuffled_and_cover_every_lead_once():
    y = np.array([True] * 100 + [False] * 900)  # sorted by outcome, like some exports
    parts = splits.stratified_folds(y, folds=5, seed=0)
    tested = np.concatenate([p.test for p in parts])
    assert sorted(tested) == list(range(1000))
    assert [int(y[p.test].sum()) for p in parts] == [20] * 5
    for p in parts:
        assert not set(p.train) & set(p.test)
        assert np.diff(np.sort(p.test)).max() > 1  # not one contiguous block
    again = splits.stratified_folds(y, folds=5, seed=0)
    other = splits.stratified_folds(y, folds=5, seed=1)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(parts, again, strict=True))
    assert not all(np.array_equal(a.test, b.test) for a, b in zip(parts, other, strict=True))


def test_a_change_of_conversion_rate_is_reported():
    # The bank file: 6.4 % in the first 80 % of rows, 30.8 % in the last 20 %.
    old = np.array([True] * 2109 + [False] * 30841)
    new = np.array([True] * 2540 + [False] * 5698)
    warning = splits.rate_drift(old, new)
    assert warning is not None
    assert "6.4 %" in warning
    assert "30.8 %" in warning
    assert "p < 0.0001" in warning


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ((100, 900), (105, 895)),  # the same rate
        ((1, 19), (2, 18)),  # twice the rate, but on 20 leads: chance
    ],
)
def test_no_drift_warning_for_equal_rates_or_chance(old, new):
    def outcomes(counts: tuple[int, int]) -> np.ndarray:
        return np.array([True] * counts[0] + [False] * counts[1])

    assert splits.rate_drift(outcomes(old), outcomes(new)) is None


def test_a_shifted_score_is_reported():
    rng = np.random.default_rng(2)
    same = splits.score_drift("score", rng.normal(50, 10, 5000), rng.normal(50, 10, 5000))
    shifted = splits.score_drift("score", rng.normal(50, 10, 5000), rng.normal(65, 10, 5000))
    assert same is None
    assert shifted is not None
    assert "population stability index" in shifted
