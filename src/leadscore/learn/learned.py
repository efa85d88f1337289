"""What ``learn`` produces, and how it scores new leads (``leadscore predict``)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from leadscore.engine import Source
from leadscore.engine.inputs import describe
from leadscore.instants import AsOf, as_of_instant
from leadscore.learn.columns import Feature, normalised_text, numbers, present
from leadscore.learn.features import point_in_time
from leadscore.learn.history import read_leads
from leadscore.model import Model

if TYPE_CHECKING:
    from leadscore.learn.boosting import BoostedClassifier
    from leadscore.learn.scorecard import Scorecard

log = logging.getLogger("leadscore")

REASONS = 3
MIN_REASON = 0.005  # changes below half a percentage point are not worth a reason
_SHOWN = 3


@dataclass
class Learned:
    """A learned points table and predictive model, with what they were learned from.

    ``features`` are the predictive model's inputs in column order; the points
    table reads the first ``len(card_features)`` of them listed in
    ``card_features``. ``percentiles`` are the training leads' probabilities at
    each percent, which map a probability to ``predictive_score``.
    """

    features: list[Feature]
    derived: list[str]
    booster: BoostedClassifier
    card: Scorecard
    card_features: list[int]
    points_model: Model
    points_text: str
    conversion: pa.Table
    percentiles: np.ndarray
    settings: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

    def predict(
        self,
        leads: Source,
        events: Source | None = None,
        as_of: AsOf = None,
        *,
        cutoff: str | None = None,
        reasons: bool = True,
    ) -> pa.Table:
        """Per lead: calibrated ``probability``, ``predictive_score`` 0-100, three reasons.

        ``as_of`` is the instant engagement is counted to (default: now);
        ``cutoff`` names a lead column of per-lead instants (for backtests).
        ``reasons=False`` leaves out the ``reason_*`` columns, whose SHAP
        contributions cost several times the prediction itself (``evaluate``
        needs probabilities only). Unseen categories score as "another value"
        and are reported in a warning.
        """
        where = describe(leads, "leads")
        table = read_leads(leads, where)
        engaged = [f for f in self.features if f.source == "engagement"]
        pit = point_in_time(
            table,
            events,
            derived=self.derived,
            features=engaged or [],
            as_of=as_of_instant(as_of),
            cutoff=cutoff,
        )
        X = self.design(pit.leads, pit.engagement, where)
        margin = self.booster.margin(X)
        probability = self.booster.calibrate(margin)
        rank = np.searchsorted(self.percentiles, probability, side="right")
        score = np.clip(rank - 1, 0, 100).astype(np.int64)
        columns: dict[str, Any] = {
            "lead_id": table.column("lead_id"),
            "probability": pa.array(probability, pa.float64()),
            "predictive_score": pa.array(score, pa.int64()),
        }
        if reasons:
            found = self.reasons(X, margin)
            for k in range(REASONS):
                columns[f"reason_{k + 1}"] = pa.array(found[k], pa.string())
        return pa.table(columns)

    def design(self, leads: pa.Table, engagement: dict[str, np.ndarray], where: str) -> np.ndarray:
        """The feature matrix of new leads, warning about what the learning never saw."""
        columns = []
        for feature in self.features:
            if feature.source == "engagement":
                values = engagement.get(feature.name)
                columns.append(values if values is not None else np.zeros(leads.num_rows))
                continue
            if feature.name not in leads.column_names:
                log.warning(
                    "%s has no column %r, which the learned model reads: it counts as missing "
                    "for every lead.",
                    where,
                    feature.name,
                )
                columns.append(np.full(leads.num_rows, math.nan))
                continue
            column = leads.column(feature.name)
            encoded = feature.encode(column)
            _warn_unexpected(feature, column, encoded, where)
            columns.append(encoded)
        return np.column_stack(columns) if columns else np.zeros((leads.num_rows, 0))

    def reasons(self, X: np.ndarray, margin: np.ndarray) -> list[list[str | None]]:
        """The three strongest effects per lead, in words with their change of probability."""
        contributions = self.booster.contributions(X)[:, :-1]
        full = self.booster.calibrate(margin)
        without = self.booster.calibrate(margin[:, None] - contributions)
        effect = full[:, None] - without
        order = np.argsort(-np.abs(effect), axis=1, kind="stable")[:, :REASONS]
        result: list[list[str | None]] = [[] for _ in range(REASONS)]
        for row in range(len(X)):
            for k in range(REASONS):
                if k >= order.shape[1]:
                    result[k].append(None)
                    continue
                j = order[row, k]
                change = effect[row, j]
                if abs(change) < MIN_REASON:
                    result[k].append(None)
                    continue
                words = self.features[j].describe(float(X[row, j]))
                result[k].append(f"{words}: {_percent(change)}")
        return result

    def save(self, path: str | Path) -> Path:
        """Write the learned models to a directory, or a ``.zip`` archive; see docs."""
        from leadscore.learn.archive import save

        return save(self, Path(path))


def _percent(change: float) -> str:
    """A change of probability in percentage points.

    >>> _percent(0.1234), _percent(-0.0071)
    ('+12 %', '-0.7 %')
    """
    points = 100 * change
    text = f"{points:+.0f}" if abs(points) >= 1 else f"{points:+.1f}"
    return f"{text} %"


def _warn_unexpected(
    feature: Feature, column: pa.ChunkedArray[Any], encoded: np.ndarray, where: str
) -> None:
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return  # typed numbers: nothing unexpected can hide in them
    text = normalised_text(column)
    given = present(text)
    if feature.kind == "numeric":
        bad = given & np.isnan(numbers(column))
        if bad.any():
            shown = np.asarray(text.to_pylist(), dtype=object)[bad][:_SHOWN].tolist()
            log.warning(
                "%s: column %r has %d values that are not numbers (e.g. %s): they count as "
                "missing.",
                where,
                feature.name,
                int(bad.sum()),
                ", ".join(repr(v) for v in shown),
            )
        return
    other = given & (encoded == feature.other)
    if not other.any():
        return
    values = np.asarray(text.to_pylist(), dtype=object)[other]
    unseen = sorted(set(values.tolist()))
    rows, kinds = int(other.sum()), len(unseen)
    log.warning(
        "%s: column %r: %d row%s hold%s %d value%s not among those learned from (e.g. %s): "
        'they score as the rare values learned together ("other").',
        where,
        feature.name,
        rows,
        "" if rows == 1 else "s",
        "s" if rows == 1 else "",
        kinds,
        "" if kinds == 1 else "s",
        ", ".join(repr(v) for v in unseen[:_SHOWN]),
    )
