"""The conversion report: how often leads with each value converted, against the average.

One row per category (rare ones together as "other"), per numeric range found
by binning, per engagement-feature range, and for missing values; with leads,
conversions, rate, lift (rate / average rate), a 95 % Wilson interval, and the
feature's information value. Rows come most telling first: by how many
standard errors the rate stands from the average.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from leadscore.engine.values import number_text
from leadscore.learn.binning import Bins, fit_bins
from leadscore.learn.columns import Feature

Z95 = 1.959963984540054
REPORT_BINS = 8
LEAK_AUC = 0.97


def wilson(conversions: int, leads: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a rate.

    >>> [round(v, 4) for v in wilson(10, 100)]
    [0.0552, 0.1744]
    """
    if leads == 0:
        return (0.0, 1.0)
    p = conversions / leads
    denominator = 1 + z * z / leads
    centre = (p + z * z / (2 * leads)) / denominator
    half = z * math.sqrt(p * (1 - p) / leads + z * z / (4 * leads * leads)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def report_bins(feature: Feature, x: np.ndarray, y: np.ndarray, seed: int) -> Bins:
    """Bins for the report: every category on its own, numbers cut by a tree."""
    if feature.kind == "categorical":
        codes = tuple((c,) for c in range(feature.other + 1))
        shell = Bins(True, (), codes, (), (), ())
        index = shell.assign(x)
        size = shell.value_bins + 2
        leads = np.bincount(index, minlength=size)
        conversions = np.bincount(index, weights=y, minlength=size)
        return Bins(
            True,
            (),
            codes,
            (0.0,) * size,
            tuple(int(n) for n in leads),
            tuple(round(float(c)) for c in conversions),
        )
    return fit_bins(
        x, y, categorical=False, max_bins=REPORT_BINS, min_fraction=0.02, random_state=seed
    )


def bin_label(feature: Feature, bins: Bins, k: int) -> str:
    """A bin in words."""
    if k == bins.missing:
        return "never" if feature.stat == "days_since" else "missing"
    if bins.categorical:
        code = bins.groups[k][0]
        return "other" if code >= feature.other else feature.categories[code]
    edges = bins.edges
    if not edges:
        return "any"
    if k == 0:
        return f"<= {number_text(edges[0])}"
    if k == len(edges):
        return f"> {number_text(edges[-1])}"
    return f"> {number_text(edges[k - 1])} and <= {number_text(edges[k])}"


def conversion_report(
    features: list[Feature], X: np.ndarray, y: np.ndarray, seed: int
) -> tuple[pa.Table, list[str]]:
    """The report as an Arrow table, and warnings about near-perfect single features."""
    average = float(y.mean())
    rows: list[dict[str, Any]] = []
    warnings = []
    for j, feature in enumerate(features):
        bins = report_bins(feature, X[:, j], y, seed)
        auc = single_feature_auc(bins)
        if auc >= LEAK_AUC:
            warnings.append(
                f"{feature.name!r} alone predicts the target almost perfectly (AUC {auc:.3f}): "
                "if it is recorded at or after the outcome (call notes, contract fields), "
                f"learn again with --exclude {feature.name}."
            )
        iv = _information_value(bins, y)
        for k in range(bins.value_bins + 1):
            leads, conversions = bins.leads[k], bins.conversions[k]
            if leads == 0:
                continue
            rate = conversions / leads
            low, high = wilson(conversions, leads)
            spread = math.sqrt(average * (1 - average) / leads) if 0 < average < 1 else 1.0
            rows.append(
                {
                    "feature": feature.name,
                    "kind": "engagement" if feature.source == "engagement" else "attribute",
                    "value": bin_label(feature, bins, k),
                    "leads": leads,
                    "conversions": conversions,
                    "rate": rate,
                    "lift": rate / average if average else math.nan,
                    "rate_low": low,
                    "rate_high": high,
                    "information_value": iv,
                    "z": (rate - average) / spread,
                }
            )
    rows.sort(key=lambda r: (-abs(r["z"]), r["feature"], r["value"]))
    schema = pa.schema(
        [  # type: ignore[arg-type]
            ("feature", pa.string()),
            ("kind", pa.string()),
            ("value", pa.string()),
            ("leads", pa.int64()),
            ("conversions", pa.int64()),
            ("rate", pa.float64()),
            ("lift", pa.float64()),
            ("rate_low", pa.float64()),
            ("rate_high", pa.float64()),
            ("information_value", pa.float64()),
            ("z", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema), warnings


def single_feature_auc(bins: Bins) -> float:
    """How well the feature's bins alone rank converters (0.5 to 1), from the bin counts.

    >>> single_feature_auc(Bins(False, (1.0,), (), (0, 0, 0, 0), (10, 10, 0, 0), (0, 10, 0, 0)))
    1.0
    """
    leads = np.asarray(bins.leads, dtype=np.float64)
    pos = np.asarray(bins.conversions, dtype=np.float64)
    neg = leads - pos
    if pos.sum() == 0 or neg.sum() == 0:
        return 0.5
    rates = np.divide(pos, leads, out=np.zeros(len(leads)), where=leads > 0)
    order = np.argsort(rates, kind="stable")
    pos, neg = pos[order], neg[order]
    below = np.cumsum(neg) - neg  # negatives in bins ranked lower
    auc = float(((pos * below).sum() + 0.5 * (pos * neg).sum()) / (pos.sum() * neg.sum()))
    return max(auc, 1.0 - auc)


def _information_value(bins: Bins, y: np.ndarray) -> float:
    positives, negatives = float(y.sum()), float(len(y) - y.sum())
    total = 0.0
    for leads, conversions in zip(bins.leads, bins.conversions, strict=True):
        if leads == 0:
            continue
        share_pos = (conversions + 0.5) / (positives + 0.5)
        share_neg = (leads - conversions + 0.5) / (negatives + 0.5)
        total += (share_pos - share_neg) * math.log(share_pos / share_neg)
    return total
