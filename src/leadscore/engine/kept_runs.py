"""Whole runs of ``score`` kept, and replayed by DuckDB alone (files on DuckDB).

A full run of :func:`leadscore.score_file` over files on the embedded DuckDB is
recorded: the statements that set up the connection and expose the files, every
query whose answer the Python code looked at (each file's columns and types, the
input checks: unreadable timestamps, empty or repeated ``lead_id``) with that
answer, the warnings it gave, and the scoring query (T a session variable, as in
:mod:`leadscore.engine.query_cache`).

The next run with the same model, paths and options replays the record: it asks
the same questions of the data, and when every answer is the one recorded, the
full run would take the same path to the same SQL — the answers are the only way
the data reaches the Python side before the query. So the replay writes that SQL's
rows at the new T. Any other answer (a new column, a bad timestamp, a repeated
lead), a missing or damaged record, or an error of the engine means a full run,
which then gives the results or the message. A run whose SQL depends on the data
itself (derived fields computed in Python over distinct values) is not kept.

The replay needs neither ibis, pyarrow nor pydantic: ``leadscore score`` replays
before it imports them (:mod:`leadscore.launch`), a start-up of about 0.1 s where a
full run's is about 1 s. This module imports only DuckDB and the standard library.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from leadscore.engine import cache, files
from leadscore.engine.progress import Report, watch

log = logging.getLogger("leadscore")


@dataclass
class Record:
    """One run, as it can be replayed."""

    statements: list[str] = field(default_factory=list)  # executed for their effect
    answers: list[list[str]] = field(default_factory=list)  # [query, repr(its rows)]
    warnings: list[str] = field(default_factory=list)
    query: str | None = None  # the scoring query
    replayable: bool = True


_active: ContextVar[Record | None] = ContextVar("leadscore_kept_run", default=None)


def key(
    model: Any, leads: Any, events: Any, *, explain: bool, memory_limit: str | None
) -> str | None:
    """The key of a run over files; None when such a run is not kept.

    ``model`` is a model file (its bytes enter the key) or a model (its ``repr``);
    ``leads`` and ``events`` must be paths of files leadscore reads.
    """
    if isinstance(model, str | Path):
        try:
            identity = f"{Path(model).suffix.lower()}:{Path(model).read_bytes().hex()}"
        except OSError:
            return None
    else:
        identity = repr(model)
    sources = [leads, *([events] if events is not None else [])]
    if not all(
        isinstance(s, str | Path) and Path(s).suffix.lower() in files.READABLE for s in sources
    ):
        return None
    if cache.folder() is None:
        return None
    options = {
        "leads": str(leads),
        "events": None if events is None else str(events),
        "explain": explain,
        "memory_limit": memory_limit,
        "spill": tempfile.gettempdir() if memory_limit else None,
    }
    text = "\x1e".join([cache.code(), "run", identity, json.dumps(options, sort_keys=True)])
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def recording(kept: bool = True) -> Iterator[Record]:
    """Record what this thread's engine calls do, for :func:`keep`; ``kept`` false:
    a run that will not be kept (no answer is recorded: each costs its query again)."""
    record = Record(replayable=kept)
    token = _active.set(record)
    try:
        yield record
    finally:
        _active.reset(token)


def keep(record: Record, run_key: str | None) -> None:
    """Keep a successful run's record under ``run_key`` (when it can be replayed)."""
    if record.replayable and record.query is not None:
        cache.keep(cache.place("runs", run_key, ".json"), json.dumps(asdict(record)))


def execute(raw: Any, statement: str) -> None:
    """Execute a setting or a view on a DuckDB connection; recorded when recording."""
    raw.execute(statement)
    record = _active.get()
    if record is not None:
        record.statements.append(statement)


def answered(raw: Any, query: str) -> None:
    """Record ``query``'s answer, which the Python code reads (run it again to get it)."""
    record = _active.get()
    if record is not None and record.replayable:
        record.answers.append([query, repr(raw.execute(query).fetchall())])


def warned(message: str) -> None:
    """A warning the run gave: a replay gives it again."""
    record = _active.get()
    if record is not None:
        record.warnings.append(message)


def scored_by(query: str | None) -> None:
    """The scoring query of the run; None when it cannot be kept (it reads Python data)."""
    record = _active.get()
    if record is not None:
        record.query = query
        record.replayable = record.replayable and query is not None


def unreplayable() -> None:
    """The run's SQL depends on data the Python code read: it is not kept."""
    record = _active.get()
    if record is not None:
        record.replayable = False


def replay(run_key: str | None, out: str | Path, as_of: datetime, progress: Report | None) -> bool:
    """Write the kept run ``run_key``'s results at ``as_of`` to ``out``.

    False when it cannot be replayed (then nothing is written): the caller makes a
    full run.
    """
    record = _load(cache.read(cache.place("runs", run_key, ".json")))
    path = Path(out)
    if record is None or record.query is None or not files.writable(path):
        return False
    raw = duckdb.connect()
    try:
        for statement in record.statements:
            raw.execute(statement)
        for query, answer in record.answers:
            if repr(raw.execute(query).fetchall()) != answer:
                return False
        cache.set_instant(raw, as_of)
        with files.replacing(path) as tmp, watch(raw, progress):
            raw.execute(files.copy(record.query, tmp))
    except duckdb.Error as exc:  # a full run says what is wrong, or succeeds
        log.debug("kept run %s not replayed: %s", run_key, exc)
        return False
    finally:
        raw.close()
    for message in record.warnings:
        log.warning(message)
    return True


def _load(text: str | None) -> Record | None:
    """A kept record; None when absent or damaged."""
    if text is None:
        return None
    try:
        data = json.loads(text)
        record = Record(**data)
    except (ValueError, TypeError):
        return None
    valid = (
        isinstance(record.query, str)
        and all(isinstance(s, str) for s in record.statements)
        and all(isinstance(a, list) and len(a) == 2 for a in record.answers)
        and all(isinstance(w, str) for w in record.warnings)
    )
    return record if valid else None
