"""What ``leadscore evaluate`` reports: the figures of each score, and how they were got.

An :class:`Evaluation` holds one :class:`Metrics` per score measured (a
hand-written model's points; a learned model's probability and points table),
the :class:`Period` of a time split, and warnings (drift). Every figure is
explained for a sales team in docs/evaluation.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from leadscore.learn import metrics
from leadscore.learn.metrics import CalibrationBin, Decile, Labels, Scores, Threshold, TopK
from leadscore.learn.splits import Split, rate_drift, score_drift
from leadscore.learn.thresholds import Goals


@dataclass(frozen=True)
class Metrics:
    """Every measure of one score on the evaluated leads (see docs/evaluation.md).

    ``roc_auc`` is the mean over folds under cross-validation (``roc_auc_folds``);
    the tables are computed on all out-of-fold scores together. ``ece`` is given
    for probabilities only.
    """

    name: str
    leads: int
    conversions: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    deciles: list[Decile]
    top_k: list[TopK]
    calibration: list[CalibrationBin]
    thresholds: list[Threshold]
    ece: float | None = None
    roc_auc_folds: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Period:
    """Older and newer leads of a time split: sizes, conversion rates, boundary."""

    column: str
    boundary: str
    train_leads: int
    test_leads: int
    train_rate: float
    test_rate: float


@dataclass(frozen=True)
class Evaluation:
    """The result of ``evaluate``: how and on what it measured, and the figures."""

    subject: str
    method: str
    target: str
    leads: int
    scores: list[Metrics]
    period: Period | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain data, the shape of ``leadscore evaluate --json``."""
        return asdict(self)


def measure(
    name: str,
    y: Labels,
    s: Scores,
    goals: Goals,
    *,
    probability: bool = False,
    weeks: float | None = None,
    fold_auc: Sequence[float] = (),
) -> Metrics:
    """Every metric of one score on one set of leads.

    >>> y = np.array([True, False] * 60)
    >>> m = measure("score", y, np.where(y, 2.0, 1.0), Goals(None, ()))
    >>> m.leads, m.conversions, m.roc_auc, m.ece
    (120, 60, 1.0, None)
    """
    table, ece = metrics.calibration(y, s)
    return Metrics(
        name=name,
        leads=len(y),
        conversions=int(y.sum()),
        base_rate=float(y.mean()),
        roc_auc=float(np.mean(fold_auc)) if fold_auc else metrics.roc_auc(y, s),
        pr_auc=metrics.pr_auc(y, s),
        deciles=metrics.deciles(y, s),
        top_k=metrics.top_k(y, s),
        calibration=table,
        thresholds=goals.thresholds(y, s, weeks),
        ece=ece if probability else None,
        roc_auc_folds=list(fold_auc),
    )


def period_of(y: Labels, dates: np.ndarray, part: Split) -> Period:
    """The two periods of a time split of leads created at ``dates``."""
    boundary = str(dates[part.test].min().astype("datetime64[s]")).replace("T", " ")
    return Period(
        "created_at",
        boundary,
        len(part.train),
        len(part.test),
        float(y[part.train].mean()),
        float(y[part.test].mean()),
    )


def drift(y: Labels, s: Scores | None, part: Split, name: str) -> list[str]:
    """Warnings when the conversion rate, or the score ``s`` (if given), drifted."""
    found = [rate_drift(y[part.train], y[part.test])]
    if s is not None:
        found.append(score_drift(name, s[part.train], s[part.test]))
    return [w for w in found if w is not None]
