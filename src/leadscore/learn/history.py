"""The history to learn from: which leads, what they did, and each lead's cut-off.

Two cut-off schemes keep later knowledge out of the features (docs/learning.md):

- **conversion instant** (default): a converter is seen as it was just before its
  ``converted_at`` (1 µs before, so the converting action itself is not a
  feature); every other lead as of the end of the data (the latest event or
  conversion). Without ``converted_at`` every lead is seen at the end of the data,
  and ``learn`` warns that events after a conversion may leak in.
- **snapshot** (``as_of`` with ``horizon_days``): every lead as of T; the target
  is "converted in (T, T + horizon]"; leads converted by T or created after T are
  left out, as they were not open leads at T.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engine.io import (
    LEAD_REQUIRED,
    Source,
    connect,
    normalise_timestamps,
    read_table,
    require_columns,
)
from leadscore.engine.values import FALSE_TEXTS, TRIMMED, TRUE_TEXTS
from leadscore.errors import ErrorCode, Issue, LeadscoreError

log = logging.getLogger("leadscore")

MIN_CONVERSIONS = 50
CUTOFF = "__leadscore_cutoff"
_TRUE = frozenset({*TRUE_TEXTS, "t", "y"})
_FALSE = frozenset({*FALSE_TEXTS, "f", "n"})
_SHOWN = 3
_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class History:
    """Leads with a known outcome, each with its cut-off (null: the end of the data)."""

    leads: pa.Table  # the kept leads, with a timestamp column CUTOFF
    target: np.ndarray  # 0/1 per kept lead
    scheme: str  # "conversion" or "snapshot"
    as_of: datetime | None  # the snapshot instant
    where: str


def read_leads(leads: Source, where: str) -> pa.Table:
    """Read the leads (any input the engine reads) into Arrow, timestamps parsed."""
    con = connect()
    try:
        table = read_table(con, leads, "learn_leads", "leads")
        require_columns(table, LEAD_REQUIRED, where)
        table = normalise_timestamps(con, table, ["converted_at", "created_at"], where)
        result: pa.Table = con.to_pyarrow(table)
        return result
    finally:
        con.disconnect()


def history(
    leads: pa.Table,
    where: str,
    target: str,
    as_of: datetime | None,
    horizon_days: float | None,
    events_given: bool,
) -> History:
    """Choose the leads, their outcome and cut-off; check there is enough to learn from."""
    if horizon_days is not None:
        if as_of is None:
            raise LeadscoreError(
                ErrorCode.BAD_ARGUMENT,
                "--horizon needs --as-of: the snapshot instant the horizon starts from.",
                hint="E.g. --as-of 2025-01-01 --horizon 90.",
            )
        if horizon_days <= 0:
            raise LeadscoreError(
                ErrorCode.BAD_ARGUMENT,
                f"--horizon must be a positive number of days, not {horizon_days}.",
                hint="E.g. --horizon 90.",
            )
        require_columns_of(leads, ["converted_at"], where, "--horizon")
        converted = _timestamps(leads, "converted_at")
        end = as_of + timedelta(days=horizon_days)
        y = _between(converted, as_of, end)
    else:
        require_columns_of(leads, [target], where, "--target")
        y = parse_target(leads.column(target), target, where)
    keep = np.ones(leads.num_rows, dtype=bool)
    if as_of is not None:
        if "converted_at" in leads.column_names:
            before = _before_or_at(_timestamps(leads, "converted_at"), as_of)
            keep &= ~before
        if "created_at" in leads.column_names:
            keep &= ~_after(_timestamps(leads, "created_at"), as_of)
    cutoff = _cutoffs(leads, y, as_of, events_given, target)
    table = leads.append_column(CUTOFF, cutoff)
    if not keep.all():
        table = table.filter(pa.array(keep))
        y = y[keep]
    check_outcomes(y, target if horizon_days is None else "converted_at", where)
    scheme = "snapshot" if as_of is not None else "conversion"
    return History(table, y, scheme, as_of, where)


def require_columns_of(table: pa.Table, names: list[str], where: str, option: str) -> None:
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise LeadscoreError(
            ErrorCode.MISSING_COLUMN,
            f"{where} has no column {missing[0]!r}, needed by {option} "
            f"(its columns: {', '.join(table.column_names)}).",
            hint="Name the outcome column with --target, or add the column.",
        )


def parse_target(column: pa.ChunkedArray[Any], name: str, where: str) -> np.ndarray:
    """A boolean-like column as 0/1: booleans, 0/1, true/false, yes/no, t/f, y/n.

    >>> parse_target(pa.chunked_array([[" Yes", "no", "TRUE", "0"]]), "y", "x").tolist()
    [1, 0, 1, 0]
    """
    kind = column.type
    if pa.types.is_boolean(kind):
        values = column.to_numpy(zero_copy_only=False)
        valid = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)
        if not valid.all():
            raise _missing_target(name, where, np.flatnonzero(~valid))
        return np.asarray(values, dtype=np.int8)
    text = pc.utf8_lower(pc.utf8_trim(pc.cast(column, pa.string()), TRIMMED)).to_pylist()
    y = np.zeros(len(text), dtype=np.int8)
    bad: dict[str, int] = {}
    empty = []
    for i, value in enumerate(text):
        if value is None or value == "":
            empty.append(i)
        elif value in _TRUE or value in {"1.0"}:
            y[i] = 1
        elif value not in _FALSE and value != "0.0":
            bad.setdefault(value, i)
    if bad:
        raise LeadscoreError(
            ErrorCode.BAD_DATA,
            f"{where}: the target column {name!r} is not boolean-like; it holds "
            f"{len(bad)} other values:",
            issues=[
                Issue(f"{where} row {row + 1}", f"{name} {value!r}")
                for value, row in list(bad.items())[:_SHOWN]
            ],
            hint="The target must say whether each lead converted: true/false, yes/no or "
            "1/0. Choose the right column with --target.",
        )
    if empty:
        raise _missing_target(name, where, np.asarray(empty))
    return y


def _missing_target(name: str, where: str, rows: np.ndarray) -> LeadscoreError:
    return LeadscoreError(
        ErrorCode.BAD_DATA,
        f"{where}: the target column {name!r} is empty in {len(rows)} rows:",
        issues=[Issue(f"{where} row {int(r) + 1}", f"{name} is empty") for r in rows[:_SHOWN]],
        hint="Say for every lead whether it converted (true/false), or leave open leads out.",
    )


def check_outcomes(y: np.ndarray, name: str, where: str) -> None:
    """Both outcomes, and at least MIN_CONVERSIONS of each, or a clear error."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        value = "converted" if negatives == 0 else "not converted"
        raise LeadscoreError(
            ErrorCode.BAD_DATA,
            f"{where}: the target {name!r} is constant: every one of the {len(y)} leads is "
            f"{value}, so there is nothing to tell apart.",
            hint="Learning needs leads that converted and leads that did not; check --target "
            "(and --as-of/--horizon).",
        )
    fewest = min(positives, negatives)
    if fewest < MIN_CONVERSIONS:
        what = "conversions" if positives < negatives else "leads that did not convert"
        raise LeadscoreError(
            ErrorCode.BAD_DATA,
            f"{where}: not enough conversions to learn from: {fewest} {what} among "
            f"{len(y)} leads; at least {MIN_CONVERSIONS} are needed.",
            hint="Add more history (a longer period, more leads), or a longer --horizon.",
        )


def _cutoffs(
    leads: pa.Table, y: np.ndarray, as_of: datetime | None, events_given: bool, target: str
) -> pa.Array[Any]:
    if as_of is not None:
        return pa.array([as_of] * leads.num_rows, pa.timestamp("us"))
    if "converted_at" not in leads.column_names:
        if events_given:
            log.warning(
                "the leads have no converted_at, so every lead's engagement is counted up to "
                "the end of the data: events after a conversion would leak into the features. "
                "Add converted_at, or learn from a snapshot with --as-of and --horizon."
            )
        return pa.nulls(leads.num_rows, pa.timestamp("us"))
    converted = _timestamps(leads, "converted_at")
    just_before = pc.subtract(converted, pa.scalar(_ONE_MICROSECOND, pa.duration("us")))
    mask = pa.array(y.astype(bool))
    chosen: pa.Array[Any] = pc.if_else(mask, just_before, pa.scalar(None, pa.timestamp("us")))
    if events_given and int(pc.sum(pc.and_(mask, pc.is_null(converted))).as_py() or 0):
        log.warning(
            "some converted leads of column %r have no converted_at: their engagement is "
            "counted up to the end of the data.",
            target,
        )
    return chosen


def _timestamps(leads: pa.Table, name: str) -> pa.Array[Any]:
    column = leads.column(name).combine_chunks()
    result: pa.Array[Any] = pc.cast(column, pa.timestamp("us"))
    return result


def _scalar(instant: datetime) -> Any:
    return pa.scalar(instant, pa.timestamp("us"))


def _mask(values: pa.Array[Any]) -> np.ndarray:
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _between(values: pa.Array[Any], start: datetime, end: datetime) -> np.ndarray:
    inside = pc.and_(pc.greater(values, _scalar(start)), pc.less_equal(values, _scalar(end)))
    return _mask(inside).astype(np.int8)


def _before_or_at(values: pa.Array[Any], instant: datetime) -> np.ndarray:
    return _mask(pc.less_equal(values, _scalar(instant)))


def _after(values: pa.Array[Any], instant: datetime) -> np.ndarray:
    return _mask(pc.greater(values, _scalar(instant)))
