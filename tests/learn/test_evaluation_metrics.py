"""Evaluation metrics against values computed by hand on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from leadscore.learn import metrics


def arrays(y: list[int], s: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(y, dtype=bool), np.array(s, dtype=np.float64)


def test_roc_auc_counts_pairs_and_half_a_tie():
    # Converters score 0.9, 0.7, 0.2; non-converters 0.8, 0.2. Of the 6 pairs, the
    # converter is above in 3 (0.9>0.8, 0.9>0.2, 0.7>0.2) and tied in 1: 3.5 / 6.
    y, s = arrays([1, 0, 1, 1, 0], [0.9, 0.8, 0.7, 0.2, 0.2])
    assert metrics.roc_auc(y, s) == pytest.approx(3.5 / 6)


def test_pr_auc_is_the_average_precision_over_recall_steps():
    # Cuts at 0.9: P 1, R 1/3; 0.8: P 1/2, R 1/3; 0.7: P 2/3, R 2/3; 0.2: P 3/5, R 1.
    y, s = arrays([1, 0, 1, 1, 0], [0.9, 0.8, 0.7, 0.2, 0.2])
    assert metrics.pr_auc(y, s) == pytest.approx(1 / 3 * 1 + 1 / 3 * 2 / 3 + 1 / 3 * 3 / 5)


def test_deciles_of_a_ranking_without_ties():
    # 20 leads, scores 20..1; converters at ranks 1, 2, 3 and 11: base rate 0.2.
    y = np.zeros(20, dtype=bool)
    y[[0, 1, 2, 10]] = True
    rows = metrics.deciles(y, np.arange(20.0, 0.0, -1))
    assert [d.leads for d in rows] == [2] * 10
    assert [d.conversions for d in rows] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    assert rows[0].conversion_rate == 1.0
    assert rows[0].lift == pytest.approx(5.0)
    assert rows[1].cumulative_recall == pytest.approx(0.75)
    assert rows[1].cumulative_lift == pytest.approx((3 / 4) / 0.2)
    assert (rows[0].max_score, rows[0].min_score) == (20.0, 19.0)
    assert rows[-1].cumulative_recall == pytest.approx(1.0)


def test_ties_across_decile_boundaries_share_their_conversion_rate():
    # Ten leads score 5 (4 converters), ten score 1 (1 converter): each decile of
    # the first half converts at 0.4 whatever the order of the rows.
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0] + [1] + [0] * 9, dtype=bool)
    s = np.array([5.0] * 10 + [1.0] * 10)
    shuffled = np.random.default_rng(3).permutation(20)
    for order in (np.arange(20), shuffled):
        rows = metrics.deciles(y[order], s[order])
        assert [round(d.conversion_rate, 9) for d in rows] == [0.4] * 5 + [0.1] * 5
        assert rows[0].lift == pytest.approx(0.4 / 0.25)
        assert rows[4].cumulative_recall == pytest.approx(0.8)


def test_precision_and_recall_at_k():
    y, s = arrays([1, 0, 1, 0, 0, 1, 0, 0, 0, 0], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    rows = {t.k: t for t in metrics.top_k(y, s, [1, 3, 6])}
    assert (rows[1].precision, rows[1].recall) == (1.0, pytest.approx(1 / 3))
    assert (rows[3].precision, rows[3].recall) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert (rows[6].precision, rows[6].recall) == (0.5, 1.0)
    assert rows[6].lift == pytest.approx(0.5 / 0.3)


def test_precision_at_k_counts_a_tie_at_the_cut_by_its_rate():
    # The 2nd and 3rd leads tie; one of the two converted: the top 2 hold half a conversion.
    y, s = arrays([0, 1, 0, 1], [3, 2, 2, 1])
    (row,) = metrics.top_k(y, s, [2])
    assert (row.precision, row.recall) == (0.25, 0.25)


def test_default_top_k_are_shares_of_the_leads():
    y = np.zeros(1000, dtype=bool)
    y[:10] = True
    assert [t.k for t in metrics.top_k(y, np.arange(1000.0, 0, -1))] == [10, 50, 100, 200]


def test_expected_calibration_error_by_hand():
    # Ten leads predicted 0.1 of which 2 converted (gap 0.1), ten predicted 0.5 of
    # which 5 converted (gap 0): ECE = (10 * 0.1 + 10 * 0) / 20.
    y = np.array([1, 1] + [0] * 8 + [1] * 5 + [0] * 5, dtype=bool)
    p = np.array([0.1] * 10 + [0.5] * 10)
    table, ece = metrics.calibration(y, p)
    assert ece == pytest.approx(0.05)
    assert [(b.leads, b.mean_score, b.conversion_rate) for b in table] == [
        (10, pytest.approx(0.1), 0.2),
        (10, pytest.approx(0.5), 0.5),
    ]


def test_calibration_bins_agree_with_scikit_learn_on_distinct_probabilities():
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 0.6, 1000)
    y = rng.uniform(size=1000) < p * 0.8
    table, ece = metrics.calibration(y, p)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    assert [b.leads for b in table] == [100] * 10
    assert [b.conversion_rate for b in table] == pytest.approx(prob_true)
    assert [b.mean_score for b in table] == pytest.approx(prob_pred)
    assert ece == pytest.approx(np.mean(np.abs(prob_true - prob_pred)))


def test_a_perfectly_calibrated_score_has_a_small_error():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 200_000)
    y = rng.uniform(size=p.size) < p
    assert metrics.calibration(y, p)[1] < 0.005
    assert metrics.calibration(y, np.clip(p + 0.1, 0, 1))[1] > 0.05


def test_rate_threshold_is_the_widest_list_reaching_the_goal():
    # Cumulative rates from the top: 1, 1, 2/3, 3/4, 3/5, 1/2, 3/7, 3/8.
    y, s = arrays([1, 1, 0, 1, 0, 0, 0, 0], [90, 80, 70, 60, 50, 40, 30, 20])
    t = metrics.rate_threshold(y, s, 0.6, weeks=2.0)
    assert t is not None
    assert (t.score, t.leads, t.conversion_rate, t.recall, t.per_week) == (50, 5, 0.6, 1.0, 2.5)
    assert t.goal == "conversion rate ≥ 60 %"
    best = metrics.rate_threshold(y, s, 1.0)
    assert best is not None
    assert (best.score, best.leads) == (80, 2)
    assert metrics.rate_threshold(y, s * 0, 0.5) is None


def test_rate_threshold_keeps_tied_leads_together():
    # Both leads at 60 pass or neither: at 60 the list holds 4 leads, 3 converted.
    y, s = arrays([1, 1, 1, 0, 0, 0], [90, 80, 60, 60, 10, 10])
    t = metrics.rate_threshold(y, s, 0.7)
    assert t is not None
    assert (t.score, t.leads, t.conversion_rate) == (60, 4, 0.75)


def test_volume_threshold_sends_about_n_leads_a_week():
    # 52 weeks of 10 leads a week; the top 2 a week are the best 104 leads.
    rng = np.random.default_rng(0)
    s = rng.permutation(520).astype(np.float64)
    y = s >= 400
    t = metrics.volume_threshold(y, s, 104, "top 2 a week", weeks=52.0)
    assert t is not None
    assert (t.score, t.leads, t.per_week, t.conversion_rate) == (416, 104, 2.0, 1.0)
    assert t.recall == pytest.approx(104 / 120)
    assert metrics.volume_threshold(y, s, 520, "all", weeks=52.0) is None


def test_suggested_rates_are_multiples_of_the_base_rate_below_one():
    assert metrics.suggested_rates(0.1) == [0.15, 0.2, 0.3]
    assert metrics.suggested_rates(0.4) == [0.6, 0.8]
