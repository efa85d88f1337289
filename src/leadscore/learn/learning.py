"""``leadscore learn``: from leads with a known outcome to a points table and a model."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np
import pyarrow as pa
from ruamel.yaml import YAML
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

import leadscore
from leadscore.engine import Source
from leadscore.engine.inputs import describe
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.instants import AsOf, as_of_instant
from leadscore.learn.columns import NOT_FEATURES, Feature, infer_feature
from leadscore.learn.conversion import conversion_report
from leadscore.learn.features import WINDOWS, derivable, point_in_time
from leadscore.learn.history import CUTOFF, History, history, read_leads
from leadscore.learn.learned import Learned
from leadscore.learn.points import points_model
from leadscore.model import load_model

if TYPE_CHECKING:
    from leadscore.learn.boosting import BoostedClassifier
    from leadscore.learn.scorecard import Scorecard

log = logging.getLogger("leadscore")
CARD_ROWS = 200_000  # the points table is fitted on at most this many leads (stratified)

Progress = Callable[[float], None]
P = ParamSpec("P")
R = TypeVar("R")


def one_blas_thread(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with one BLAS thread.

    The regressions of the points table and of the calibration work on narrow
    matrices (leads x a few dozen columns), where a second thread brings nothing;
    on a busy two-core machine OpenBLAS's spinning threads made them 10-20x slower
    (measured here: the points table of the bank data in 0.55 s instead of 6-10 s).
    """

    @functools.wraps(function)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return limited


@one_blas_thread
def learn(
    leads: Source,
    events: Source | None = None,
    *,
    target: str = "converted",
    as_of: AsOf = None,
    horizon_days: float | None = None,
    exclude: Iterable[str] = (),
    seed: int = 0,
    progress: Progress | None = None,
) -> Learned:
    """Learn a points table and a calibrated predictive model from past leads.

    Parameters
    ----------
    leads, events
        File paths (``.csv``, ``.parquet``, ``.jsonl``), pyarrow Tables or pandas
        DataFrames, as for :func:`leadscore.score`.
    target
        The lead column saying whether each lead converted (boolean-like).
    as_of, horizon_days
        A snapshot: features as of ``as_of``; with ``horizon_days`` the target is
        "converted within the horizon after ``as_of``", read from ``converted_at``.
        Without ``as_of``, converters are seen just before their ``converted_at``,
        the other leads at a comparable instant: as old as converters when they
        convert (see :mod:`leadscore.learn.history`).
    exclude
        Columns not to learn from (e.g. recorded after the outcome).
    seed
        Seed of every random choice (the comparable instants, the folds, the
        trees): the same data and seed give the same result.
    progress
        Called with the percentage done.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> rng = np.random.default_rng(1)
    >>> size = rng.choice(["small", "large"], 600)
    >>> won = (rng.random(600) < np.where(size == "large", 0.5, 0.1))
    >>> leads = pa.table({"lead_id": [str(i) for i in range(600)], "size": size,
    ...     "converted": won})
    >>> learned = learn(leads)
    >>> [r.id for r in learned.points_model.fit.rules]
    ['size-2']
    >>> print(learned.points_model.fit.rules[0].description)
    size is large (303 training leads, 49.8% converted)
    """
    from leadscore.learn.boosting import BoostedClassifier
    from leadscore.learn.scorecard import Scorecard

    report = progress or (lambda percent: None)
    instant = as_of_instant(as_of) if as_of is not None else None
    excluded = list(dict.fromkeys(exclude))
    settings = {
        "target": target,
        "as_of": instant.isoformat() if instant else None,
        "horizon_days": horizon_days,
        "exclude": excluded,
        "seed": seed,
    }
    where = describe(leads, "leads")
    table = read_leads(leads, where)
    _check_excluded(excluded, table.column_names, where)
    past = history(table, where, target, instant, horizon_days, events, seed)
    report(5)
    derived = derivable(past.leads.column_names)
    pit = point_in_time(
        past.leads, events, derived=derived, features=None, as_of=instant, cutoff=CUTOFF
    )
    report(30)
    skip = {*NOT_FEATURES, target, CUTOFF, *excluded}
    lead_features = [
        feature
        for name in pit.leads.column_names
        if name not in skip
        for feature in [infer_feature(name, pit.leads.column(name), where)]
        if feature is not None
    ]
    features = [*lead_features, *pit.features]
    if not features:
        raise LeadscoreError(
            ErrorCode.BAD_DATA,
            f"{where}: no column to learn from (besides lead_id and the target).",
            hint="Give lead attributes (industry, company_size, ...) or events.",
        )
    X = np.column_stack(
        [f.encode(pit.leads.column(f.name)) for f in lead_features]
        + [pit.engagement[f.name] for f in pit.features]
    )
    y = past.target.astype(np.int64)
    conversion, leaks = conversion_report(features, X, y, seed)
    for warning in leaks:
        log.warning(warning)
    report(40)
    categorical = tuple(j for j, f in enumerate(features) if f.kind == "categorical")
    booster = BoostedClassifier(categorical_features=categorical, random_state=seed).fit(X, y)
    report(80)
    window = _best_window(pit.features, conversion)
    card_features = [
        j
        for j, f in enumerate(features)
        if f.source == "lead" or (f.stat == "count" and f.window_days == window)
    ]
    chosen = [features[j] for j in card_features]
    rows = _sample(y, CARD_ROWS, seed)
    card = Scorecard(
        categorical_features=tuple(j for j, f in enumerate(chosen) if f.kind == "categorical"),
        count_features=tuple(j for j, f in enumerate(chosen) if f.source == "engagement"),
        max_bins=8,
        # Small histories get fewer, larger bins: at least 150 leads, 2 % to 5 % of them.
        min_bin_fraction=max(0.02, min(0.05, 150 / len(y))),
        interactions=8,
        interaction_features=tuple(j for j, f in enumerate(chosen) if f.source == "lead"),
        random_state=seed,
    ).fit(X[np.ix_(rows, np.asarray(card_features))], y[rows])
    types = sorted({f.event for f in pit.features if f.event and f.event != "*"})
    model_data = points_model("learned", chosen, card, X[:, card_features], y, window, types)
    points_text = _yaml(model_data)
    report(95)
    # Percentiles of predictive_score from held-out probabilities: honest, and cheap.
    probability = booster.held_out_ if len(booster.held_out_) else booster.predict_proba(X)[:, 1]
    metadata = _metadata(past, features, X, y, booster, card, card_features, pit.end, leaks)
    learned = Learned(
        features=features,
        derived=derived,
        booster=booster,
        card=card,
        card_features=card_features,
        points_model=load_model(model_data),
        points_text=points_text,
        conversion=conversion,
        percentiles=np.quantile(probability, np.linspace(0, 1, 101)),
        settings=settings,
        metadata=metadata,
    )
    report(100)
    return learned


def _sample(y: np.ndarray, most: int, seed: int) -> np.ndarray:
    """Row indices: all of them, or a stratified sample of ``most`` (sorted)."""
    if len(y) <= most:
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

    kept, _ = train_test_split(np.arange(len(y)), train_size=most, stratify=y, random_state=seed)
    return np.sort(np.asarray(kept))


def _check_excluded(excluded: list[str], columns: list[str], where: str) -> None:
    unknown = [name for name in excluded if name not in columns]
    if unknown:
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"--exclude names {', '.join(repr(n) for n in unknown)}, which {where} does not "
            f"have (its columns: {', '.join(columns)}).",
            hint="Check the spelling of the column names.",
        )


def _best_window(engaged: list[Feature], conversion: Any) -> float | None:
    """The counting window of the points table: the one whose counts tell most."""
    if not engaged:
        return None
    values = {
        (row["feature"]): row["information_value"]
        for row in conversion.select(["feature", "information_value"]).to_pylist()
    }
    totals: dict[float | None, float] = {}
    for feature in engaged:
        if feature.stat == "count":
            key = feature.window_days
            totals[key] = totals.get(key, 0.0) + values.get(feature.name, 0.0)
    return max(WINDOWS, key=lambda w: (totals.get(w, 0.0), w is None, w or 0))


def _yaml(data: dict[str, Any]) -> str:
    import io

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.width = 100
    yaml.representer.ignore_aliases = lambda data: True  # no &id001 anchors for people
    buffer = io.StringIO()
    buffer.write(
        "# A points table learned by `leadscore learn` (leadscore "
        f"{leadscore.__version__}).\n# Read it, edit it, and score with `leadscore score`.\n"
    )
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _metadata(
    past: History,
    features: list[Feature],
    X: np.ndarray,
    y: np.ndarray,
    booster: BoostedClassifier,
    card: Scorecard,
    card_features: list[int],
    end: datetime,
    leaks: list[str],
) -> dict[str, Any]:
    from leadscore.learn.boosting import held_out_metrics

    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X).tobytes())
    digest.update(y.astype(np.int8).tobytes())
    points = card.predict_proba(X[:, card_features])[:, 1]
    return {
        "learned_at": datetime.now(UTC).replace(tzinfo=None).isoformat() + "Z",
        "leadscore_version": leadscore.__version__,
        "source": past.where,
        "leads": len(y),
        "conversions": int(y.sum()),
        "conversion_rate": float(y.mean()),
        "cutoff_scheme": past.scheme,
        "as_of": past.as_of.isoformat() if past.as_of else None,
        "data_end": end.isoformat(),
        "fingerprint": "sha256:" + digest.hexdigest(),
        "features": [f.name for f in features],
        "points_table_features": [features[j].name for j in card_features],
        "metrics": {
            "predictive_held_out": booster.metrics_,
            "points_table_in_sample": held_out_metrics(y, points),
        },
        "warnings": leaks,
    }


def predict(
    learned: Learned | str | Path,
    leads: Source,
    events: Source | None = None,
    as_of: AsOf = None,
) -> pa.Table:
    """Probability, predictive score and reasons per lead (``leadscore predict``).

    ``learned`` is a :class:`Learned` or the path where one was saved; see
    :meth:`Learned.predict`.
    """
    from leadscore.learn.archive import load_learned

    model = learned if isinstance(learned, Learned) else load_learned(learned)
    return model.predict(leads, events, as_of)
