"""Backtesting a hand-written model: every lead scored as of its own cut-off.

Nothing is fitted, so every lead measures the model. Each lead is scored by the
scoring query itself (:func:`leadscore.score`) as of its cut-off (the instant it
converted, for a converter; see :mod:`leadscore.learn.history`), so no event
after the outcome counts. When every lead has a ``created_at``, the older 80 %
and the newest 20 % are compared for drift.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.api import score
from leadscore.engine import Source
from leadscore.learn.figures import Evaluation, drift, measure, period_of
from leadscore.learn.history import CUTOFF
from leadscore.learn.metrics import Scores
from leadscore.learn.past import Past
from leadscore.learn.splits import time_split
from leadscore.learn.thresholds import Goals
from leadscore.model import Model


def backtest(
    model: Model, past: Past, events: Source | None, goals: Goals, target: str
) -> Evaluation:
    """Measure ``model`` on every lead of ``past``, scored as of its cut-off."""
    s = points_at_cutoffs(model, past.leads, events, past.end)
    y = past.labels
    warnings = list(past.warnings)
    period = None
    result = measure("score", y, s, goals, weeks=past.weeks())
    if past.dates is not None:
        part = time_split(past.dates)
        period = period_of(y, past.dates, part)
        warnings += drift(y, s, part, "score")
    return Evaluation(f"model {model.name}", "backtest", target, len(y), [result], period, warnings)


def points_at_cutoffs(
    model: Model, leads: pa.Table, events: Source | None, as_of: datetime
) -> Scores:
    """Each lead's score as of its cut-off (``as_of`` where it has none), in lead order."""
    scored = score(model, leads, events, as_of, cutoff=CUTOFF)
    return aligned(leads, scored, "score")


def aligned(leads: pa.Table, scored: pa.Table, column: str) -> Scores:
    """A result column in the order of ``leads`` (the engine does not keep the order)."""
    position = pc.index_in(leads["lead_id"], value_set=scored["lead_id"])
    values = scored[column].take(position).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)
