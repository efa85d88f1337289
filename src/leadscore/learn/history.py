"""The history to learn from: which leads, what they did, and each lead's cut-off.

Two cut-off schemes keep later knowledge out of the features (docs/learning.md):

- **conversion instant** (default): a converter is seen as it was just before its
  ``converted_at`` (1 µs before, so the converting action itself is not a
  feature). Every other lead is seen at a *comparable* instant: as old as a
  converter is when it converts. Its age at the cut-off is drawn (seeded) from
  the converters' ages at conversion, among those it has reached by the end of
  the data. A lead's age counts from its ``created_at``, else from its first
  event (for a converter, its first event before converting). Seeing the others
  at the end of the data instead would leak: they would have had more time to
  gather events, and their latest event would look older, than converters at
  the same stage. Leads without a start (no ``created_at``, no event), and
  every lead when no converter has a start, are seen at the end of the data.
  Without ``converted_at`` every lead is seen at the end of the data, and
  ``learn`` warns that events after a conversion may leak in.
- **snapshot** (``as_of`` with ``horizon_days``): every lead as of T; the target
  is "converted in (T, T + horizon]"; leads converted by T or created after T are
  left out, as they were not open leads at T.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engine import Source
from leadscore.engine.inputs import describe
from leadscore.engine.io import (
    EVENT_REQUIRED,
    LEAD_REQUIRED,
    connect,
    normalise_timestamps,
    read_table,
    require_columns,
)
from leadscore.engine.values import FALSE_TEXTS, TRIMMED, TRUE_TEXTS, trim
from leadscore.errors import ErrorCode, Issue, LeadscoreError

log = logging.getLogger("leadscore")

MIN_CONVERSIONS = 50
CUTOFF = "__leadscore_cutoff"
_TRUE = frozenset({*TRUE_TEXTS, "t", "y"})
_FALSE = frozenset({*FALSE_TEXTS, "f", "n"})
_SHOWN = 3
_ONE_MICROSECOND = timedelta(microseconds=1)
_US = np.timedelta64(1, "us")


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
    events: Source | None,
    seed: int = 0,
) -> History:
    """Choose the leads, their outcome and cut-off; check there is enough to learn from.

    ``seed`` drives the draw of the comparable instants of leads that did not
    convert (the default scheme): the same data and seed give the same cut-offs.
    """
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
    cutoff = _cutoffs(leads, y, as_of, events, target, seed)
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
    leads: pa.Table,
    y: np.ndarray,
    as_of: datetime | None,
    events: Source | None,
    target: str,
    seed: int,
) -> pa.Array[Any]:
    if as_of is not None:
        return pa.array([as_of] * leads.num_rows, pa.timestamp("us"))
    if "converted_at" not in leads.column_names:
        if events is not None:
            log.warning(
                "the leads have no converted_at, so every lead's engagement is counted up to "
                "the end of the data: events after a conversion would leak into the features. "
                "Add converted_at, or learn from a snapshot with --as-of and --horizon."
            )
        return pa.nulls(leads.num_rows, pa.timestamp("us"))
    won = y.astype(bool)
    converted = _instants(_timestamps(leads, "converted_at"))
    if events is not None and np.isnat(converted[won]).any():
        log.warning(
            "some converted leads of column %r have no converted_at: their engagement is "
            "counted up to the end of the data.",
            target,
        )
    converted[~won] = np.datetime64("NaT")
    start, end = _starts(leads, converted, events)
    cut = converted - _US
    others = ~won & ~np.isnat(start)
    cut[others] = comparable_instants(start[others], converted - start, end, seed) - _US
    chosen: pa.Array[Any] = pa.array(cut, pa.timestamp("us"))
    return chosen


def comparable_instants(
    starts: np.ndarray, ages: np.ndarray, end: np.datetime64, seed: int
) -> np.ndarray:
    """For leads that did not convert: their start plus an age drawn from converters'.

    ``ages`` are the converters' ages at conversion (NaT for other leads, which are
    ignored, as are negative ages). Each lead gets an age it has reached by
    ``end``; a lead younger than every converter's age, and every lead when no
    converter has an age, is seen at ``end``.

    >>> day = np.timedelta64(1, "D")
    >>> start = np.array(["2025-01-01", "2025-03-01"], "datetime64[us]")
    >>> ages = np.array([2 * day, 5 * day, "NaT"], "timedelta64[us]")
    >>> comparable_instants(start, ages, np.datetime64("2025-03-04", "us"), 0).astype("M8[D]")
    array(['2025-01-06', '2025-03-03'], dtype='datetime64[D]')
    """
    pool = np.sort(ages[~np.isnat(ages) & (ages >= np.timedelta64(0, "us"))])
    reached = end - starts
    chosen = reached.copy()
    if len(pool):
        eligible = np.searchsorted(pool, reached, side="right")
        draw = np.floor(np.random.default_rng(seed).random(len(starts)) * eligible)
        some = eligible > 0
        chosen[some] = pool[draw[some].astype(np.int64)]
    result: np.ndarray = starts + np.maximum(chosen, np.timedelta64(0, "us"))
    return result


def _starts(
    leads: pa.Table, converted: np.ndarray, events: Source | None
) -> tuple[np.ndarray, np.datetime64]:
    """Each lead's start (``created_at``, else its first event, before its conversion
    for a converter), and the end of the data (the latest instant known)."""
    n = leads.num_rows
    start = np.full(n, np.datetime64("NaT"), "datetime64[us]")
    if "created_at" in leads.column_names:
        start = _instants(_timestamps(leads, "created_at"))
    known = [converted, start]
    if events is not None:
        first, latest = _first_events(events, leads, converted)
        missing = np.isnat(start)
        start[missing] = first[missing]
        known.append(np.array([latest], "datetime64[us]"))
    instants = np.concatenate(known)
    instants = instants[~np.isnat(instants)]
    end = instants.max() if len(instants) else np.datetime64("NaT", "us")
    return start, end


def _first_events(
    events: Source, leads: pa.Table, before: np.ndarray
) -> tuple[np.ndarray, np.datetime64]:
    """Each lead's first event (before ``before`` where given), and the latest event."""
    where = describe(events, "events")
    n = leads.num_rows
    ids = pc.utf8_trim(leads.column("lead_id").combine_chunks().cast(pa.string()), TRIMMED)
    wanted = pa.table(
        {
            "_row": pa.array(np.arange(n, dtype=np.int64)),
            "_lead": ids,
            "_before": pa.array(before, pa.timestamp("us")),
        }
    )
    con = connect()
    try:
        table = read_table(con, events, "learn_events", "events")
        require_columns(table, EVENT_REQUIRED, where)
        table = normalise_timestamps(con, table, ["timestamp"], where)
        seen = table.select(
            _lead=trim(table.lead_id.cast("string")), _at=table.timestamp.cast("timestamp")
        )
        rows = ibis.memtable(wanted)
        joined = rows.join(seen, "_lead").filter(lambda t: t._before.isnull() | (t._at < t._before))
        found = con.to_pyarrow(joined.group_by("_row").aggregate(_first=joined._at.min()))
        latest = con.to_pyarrow(seen._at.max()).as_py()
    finally:
        con.disconnect()
    first = np.full(n, np.datetime64("NaT"), "datetime64[us]")
    positions = np.asarray(found.column("_row").to_numpy(), dtype=np.int64)
    first[positions] = _instants(found.column("_first").combine_chunks())
    return first, np.datetime64(latest, "us") if latest is not None else np.datetime64("NaT")


def _instants(values: pa.Array[Any]) -> np.ndarray:
    """Timestamps as microseconds, NaT where null (a writable copy)."""
    result: np.ndarray = np.array(
        pc.cast(values, pa.timestamp("us")).to_numpy(zero_copy_only=False), "datetime64[us]"
    )
    return result


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
