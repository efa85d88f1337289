"""Synthetic lead histories with a known generating model, for the learning tests.

Every lead is seen at T: its attributes, and page views, pricing-page views and
webinars in the 120 days before T. Whether it converts within 30 days after T
follows a logistic model of (in order of strength) pricing views in the last 30
days, industry, company size; ``country`` and ``noise`` play no part.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

T = datetime(2025, 6, 1)
INDUSTRY_EFFECT = {"software": 1.2, "manufacturing": 0.4, "retail": -0.6, "health": 0.0}
PRICING_EFFECT = 0.9  # per pricing view in the 30 days before T, up to 3
SIZE_EFFECT = 0.35  # per unit of log(company_size)
BASE = -4.2


def true_logit(industry: np.ndarray, size: np.ndarray, pricing_30d: np.ndarray) -> np.ndarray:
    effect = np.array([INDUSTRY_EFFECT[i] for i in industry])
    result: np.ndarray = (
        BASE + effect + SIZE_EFFECT * np.log(size) + PRICING_EFFECT * np.minimum(pricing_30d, 3)
    )
    return result


def history(n: int = 3000, seed: int = 0) -> dict[str, Any]:
    """Leads (``converted``, ``converted_at``), events, and the true probabilities."""
    rng = np.random.default_rng(seed)
    industry = rng.choice(sorted(INDUSTRY_EFFECT), n)
    size = np.round(rng.lognormal(4.0, 1.3, n)) + 1
    country = rng.choice(["es", "fr", "de", "it"], n)
    activity = rng.gamma(1.5, 1.0, n)  # how active each lead is
    rows: list[tuple[str, str, datetime, str]] = []
    pricing_30d = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for kind, rate, url in (("page_view", 6.0, "/blog"), ("page_view", 1.2, "/pricing"),
                                ("webinar", 0.4, "")):  # fmt: skip
            for _ in range(rng.poisson(rate * activity[i])):
                age = rng.uniform(0.01, 120.0)
                event = "pricing_view" if url == "/pricing" else kind
                rows.append((f"L{i}", event, T - timedelta(days=age), url))
                if event == "pricing_view" and age < 30:
                    pricing_30d[i] += 1
    probability = 1 / (1 + np.exp(-true_logit(industry, size, pricing_30d)))
    converted = rng.random(n) < probability
    delay = rng.uniform(1, 29, n)
    converted_at = [
        T + timedelta(days=float(d)) if c else None for c, d in zip(converted, delay, strict=True)
    ]
    leads = pa.table(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "industry": industry,
            "company_size": [str(int(s)) for s in size],  # text, as in a CSV
            "country": country,
            "noise": rng.normal(size=n),
            "converted": converted,
            "converted_at": pa.array(converted_at, pa.timestamp("us")),
        }
    )
    events = pa.table(
        {
            "lead_id": [r[0] for r in rows],
            "type": [r[1] for r in rows],
            "timestamp": pa.array([r[2] for r in rows], pa.timestamp("us")),
            "url": [r[3] for r in rows],
        }
    )
    return {"leads": leads, "events": events, "probability": probability, "y": converted}


def after_cutoff(leads: pa.Table, seed: int = 1) -> pa.Table:
    """Events no cut-off may see: pricing views right after T, many for converters."""
    rng = np.random.default_rng(seed)
    rows = []
    for lead, won in zip(
        leads.column("lead_id").to_pylist(), leads.column("converted").to_pylist(), strict=True
    ):
        for _ in range(5 if won else rng.integers(0, 2)):
            rows.append((lead, T + timedelta(days=float(rng.uniform(0.001, 40)))))
    return pa.table(
        {
            "lead_id": [r[0] for r in rows],
            "type": ["pricing_view"] * len(rows),
            "timestamp": pa.array([r[1] for r in rows], pa.timestamp("us")),
            "url": ["/pricing"] * len(rows),
        }
    )
