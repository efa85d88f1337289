"""Point-in-time features: lead attributes, derived fields, engagement through the engine.

Engagement features are not computed by a second evaluator of events: they are
the rule columns of small *feature models* (SPEC §3) scored by the engine with
each lead's own cut-off, so events after a lead's cut-off never reach its
features. Counts come from rules of 1 point without decay in a window; the days
since the latest event from a ``once`` rule with a half-life H, whose points are
``0.5 ** (age / H)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import ibis
import numpy as np
import pyarrow as pa

from leadscore.api import open_session
from leadscore.engine import Source
from leadscore.engine.compiler import rule_column
from leadscore.engine.values import trim
from leadscore.learn.columns import Feature
from leadscore.model import Model
from leadscore.quality.derive import COMPLETENESS_FIELDS

ROW = "__leadscore_row_index"
WINDOWS: tuple[float | None, ...] = (7.0, 30.0, 90.0, None)
RECENCY_HALF_LIFE = 30.0
MAX_EVENT_TYPES = 12
ANY_EVENT = "*"
_SOURCES = {
    "email": ("email_valid", "email_is_free", "email_is_disposable", "email_is_role"),
    "job_title": ("seniority", "job_function"),
    "country": ("country_code",),
    "phone": ("country_code",),
}


def derivable(columns: Iterable[str]) -> list[str]:
    """The derived fields (SPEC §2) worth learning from, given the lead columns.

    >>> derivable(["lead_id", "job_title", "country"])
    ['seniority', 'job_function', 'country_code']
    """
    present = set(columns)
    fields = [f for source, made in _SOURCES.items() if source in present for f in made]
    if len(present & set(COMPLETENESS_FIELDS)) >= 3:
        fields.append("profile_completeness")
    return list(dict.fromkeys(fields))


@dataclass(frozen=True)
class PointInTime:
    """The leads in input order with their derived fields, and engagement features."""

    leads: pa.Table
    engagement: dict[str, np.ndarray]
    features: list[Feature]  # the engagement features, in column order
    end: datetime  # the instant of leads without a cut-off


def point_in_time(
    leads: pa.Table,
    events: Source | None,
    *,
    derived: list[str],
    features: list[Feature] | None,
    as_of: datetime | None,
    cutoff: str | None,
) -> PointInTime:
    """Derived fields and engagement features of every lead, as of its cut-off.

    ``features`` None discovers the engagement features from the events (the most
    frequent event types); otherwise exactly those are computed (at predict time).
    ``as_of`` None means the end of the data: the latest event.
    """
    numbered = leads.append_column(ROW, pa.array(np.arange(leads.num_rows, dtype=np.int64)))
    start = as_of or datetime.now(UTC).replace(tzinfo=None)
    placeholder = Model(name="features")
    with open_session(
        placeholder, numbered, events, as_of=start, derived=tuple(derived), cutoff=cutoff
    ) as session:
        con = session.con
        base = session.inputs.leads
        kept = [ROW, *[c for c in derived if c in base.columns]]
        order = con.to_pyarrow(base.select(*kept)).sort_by(ROW)
        table = leads
        for name in kept[1:]:
            column = order.column(name)
            if name in table.column_names:
                table = table.set_column(table.column_names.index(name), name, column)
            else:
                table = table.append_column(name, column)
        event_table = session.inputs.events
        if event_table is None:
            return PointInTime(table, {}, [], start)
        end = as_of or _latest(con, event_table) or start
        if features is None:
            features = engagement_features(_event_types(con, event_table))
        slim = con.create_table(
            "learn_slim", base.select("lead_id", ROW, *([cutoff] if cutoff else [])), temp=True
        )
        inputs = replace(session.inputs, leads=slim)
        values: dict[str, np.ndarray] = {}
        for model, named in feature_models(features):
            compiled = replace(session, model=model, inputs=inputs, as_of=end).compiled()
            columns = [rule_column(rule_id) for rule_id in named]
            result = con.to_pyarrow(compiled.with_leads.select(ROW, *columns)).sort_by(ROW)
            for rule_id, feature in named.items():
                raw = np.asarray(result.column(rule_column(rule_id)).to_numpy(), np.float64)
                values[feature.name] = _decode(feature, raw)
        return PointInTime(table, values, features, end)


def engagement_features(types: list[str]) -> list[Feature]:
    """Counts in each window and days since the latest event, per type and for any type.

    "Any type" is left out when there is only one type: it would repeat it.

    >>> [f.name for f in engagement_features(["demo"])][:3]
    ['demo:7d', 'demo:30d', 'demo:90d']
    """
    features: list[Feature] = []
    for event in [*types, ANY_EVENT] if len(types) > 1 else types:
        label = "any_event" if event == ANY_EVENT else event
        for window in WINDOWS:
            span = f"{window:g}d" if window else "all"
            name = f"{label}:{span}"
            features.append(Feature(name, "numeric", "engagement", (), event, window, "count"))
        name = f"{label}:days_since"
        features.append(Feature(name, "numeric", "engagement", (), event, None, "days_since"))
    return features


def feature_models(features: list[Feature]) -> list[tuple[Model, dict[str, Feature]]]:
    """One model per window (and one for recency); rule ids mapped to features."""
    types = sorted({f.event for f in features if f.event and f.event != ANY_EVENT})
    groups: dict[tuple[str, float | None], dict[str, Feature]] = {}
    for index, feature in enumerate(features):
        key = (feature.stat or "count", feature.window_days)
        groups.setdefault(key, {})[f"f{index}"] = feature
    models = []
    for (stat, window), named in groups.items():
        rules = []
        for rule_id, feature in named.items():
            event = types if feature.event == ANY_EVENT else feature.event
            rule = {"id": rule_id, "event": event, "points": 1}
            rules.append({**rule, "once": True} if stat == "days_since" else rule)
        section: dict[str, object] = {"rules": rules}
        if window is not None:
            section["window_days"] = window
        if stat == "days_since":
            section["half_life_days"] = RECENCY_HALF_LIFE
        models.append((Model.model_validate({"name": "features", "engagement": section}), named))
    return models


def _decode(feature: Feature, raw: np.ndarray) -> np.ndarray:
    if feature.stat != "days_since":
        counts: np.ndarray = np.rint(raw)
        return counts
    with np.errstate(divide="ignore"):
        days = -RECENCY_HALF_LIFE * np.log2(raw)
    days[raw <= 0] = math.nan
    rounded: np.ndarray = np.round(days, 6)
    return rounded


def _latest(con: object, events: ibis.Table) -> datetime | None:
    value = con.to_pyarrow(events.timestamp.max()).as_py()  # type: ignore[attr-defined]
    return value if isinstance(value, datetime) else None


def _event_types(con: object, events: ibis.Table) -> list[str]:
    kind = trim(events.type.cast("string")).lower()
    counted = (
        events.mutate(_type=kind)
        .filter(lambda t: t._type.notnull() & (t._type != ""))
        .group_by("_type")
        .aggregate(n=lambda t: t.count())
        .order_by([ibis.desc("n"), "_type"])
        .limit(MAX_EVENT_TYPES)
    )
    table = con.to_pyarrow(counted)  # type: ignore[attr-defined]
    # Sorted by name, so more events of a known type never reorder the features.
    return sorted(str(t) for t in table.column("_type").to_pylist())
