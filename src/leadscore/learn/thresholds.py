"""Suggested thresholds: the scores that meet a sales team's goals on history.

A threshold turns a score into a decision (send every lead scoring at least T to
sales). Two kinds of goals: a conversion rate to reach (by default 1.5, 2 and 3
times the base rate), and a volume sales can handle, in leads a week when the
leads have dates (else the top 5, 10 and 20 %). The searches themselves are in
:mod:`leadscore.learn.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadscore.learn import metrics
from leadscore.learn.metrics import Labels, Scores, Threshold

PER_WEEK = (10, 25, 50, 100)
SHARES = (0.05, 0.10, 0.20)


@dataclass(frozen=True)
class Goals:
    """What the suggested thresholds aim at: conversion rates, leads a week.

    >>> import numpy as np
    >>> y = np.array([True, True, False, False] * 25)
    >>> s = np.array([4.0, 3.0, 2.0, 1.0] * 25)
    >>> [(t.goal, t.score) for t in Goals([0.9], PER_WEEK).thresholds(y, s, None)]
    [('conversion rate ≥ 90 %', 3.0), ('top 5 %', 4.0), ('top 10 %', 4.0), ('top 20 %', 4.0)]
    """

    rates: Sequence[float] | None
    per_week: Sequence[int]

    def thresholds(self, y: Labels, s: Scores, weeks: float | None) -> list[Threshold]:
        """The thresholds of every goal that some list of leads meets."""
        rates = self.rates or metrics.suggested_rates(float(y.mean()))
        found = [metrics.rate_threshold(y, s, rate, weeks) for rate in rates]
        if weeks is not None:
            found += [
                metrics.volume_threshold(y, s, round(n * weeks), f"top {n} a week", weeks)
                for n in self.per_week
            ]
        else:
            found += [
                metrics.volume_threshold(y, s, round(share * len(s)), f"top {share:.0%}")
                for share in SHARES
            ]
        return [t for t in found if t is not None]
