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

A run ``since`` an earlier output told the new events, whose leads merge kept
aggregates (:mod:`leadscore.engine.state`), is kept too: its steps in order — the
statements, among them the temporary tables of the chosen keys and rows, the
answers it checked, the counts it reports (not checked: the replay gives its
own), the point where it attached the kept state (found again by the replay,
from the link of its ``since`` output: :mod:`leadscore.engine.kept_states`), and
the version it adds once its output is written.

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
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from leadscore.engine import cache, files, kept_states
from leadscore.engine.progress import Report, watch

log = logging.getLogger("leadscore")


@dataclass
class Record:
    """One run, as it can be replayed."""

    # In order: ["x", statement] executed for its effect; ["a", query, repr(its rows)]
    # an answer the Python code looked at; ["r", name, query] a count it reports;
    # ["s", "unchanged" or "", "later" or ""] the kept state attached
    # (:mod:`.kept_states`), whether the leads file was the one its run read, and
    # whether the run's T is later than the state's; ["v", parts] the version the
    # output's state adds once it is written.
    steps: list[list[str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    query: str | None = None  # the query of the rows written
    replayable: bool = True
    # A run --since an earlier output, told the new events: the layout of the state
    # it reads, and its T when the run's is the same (:mod:`leadscore.incremental`).
    layout: str | None = None
    as_of: str | None = None


_active: ContextVar[Record | None] = ContextVar("leadscore_kept_run", default=None)


def key(
    model: Any, leads: Any, events: Any, *, explain: bool, memory_limit: str | None,
    since: Any = None, new_events: Any = None,
) -> str | None:  # fmt: skip
    """The key of a run over files; None when such a run is not kept.

    ``model`` is a model file (its bytes enter the key) or a model (its ``repr``);
    ``leads`` and ``events`` must be paths of files leadscore reads, and so must
    ``since`` and ``new_events`` of a run told the new events.
    """
    if isinstance(model, str | Path):
        try:
            identity = f"{Path(model).suffix.lower()}:{Path(model).read_bytes().hex()}"
        except OSError:
            return None
    else:
        identity = repr(model)
    told = [since, new_events] if since is not None or new_events is not None else []
    sources = [leads, *([events] if events is not None else []), *told]
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
        "told": [str(s) for s in told],
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
        inlined = _inlined(record, record.query)
        cache.keep(cache.place("runs", run_key, ".json"), json.dumps(asdict(inlined)))


def _inlined(record: Record, query: str) -> Record:
    """``record`` with the view its query reads all of as the query itself, when no
    other step reads that view: a replay then binds the scoring SQL once, not twice
    (creating the view binds it; about a tenth of a replay at 10,000 leads)."""
    name = query.removeprefix('SELECT * FROM "').removesuffix('"')
    create = f'CREATE OR REPLACE TEMP VIEW "{name}" AS '
    if query != f'SELECT * FROM "{name}"':
        return record
    made = [i for i, (kind, *step) in enumerate(record.steps) if step[0].startswith(create)]
    if len(made) != 1 or record.steps[made[0]][0] != "x":
        return record
    at = made[0]
    if any(f'"{name}"' in part for step in record.steps[at + 1 :] for part in step[1:]):
        return record
    steps = record.steps[:at] + record.steps[at + 1 :]
    return replace(record, steps=steps, query=record.steps[at][1].removeprefix(create))


def _recorded() -> Record | None:
    """The record of this thread's run, when it may be replayed."""
    record = _active.get()
    return record if record is not None and record.replayable else None


def execute(raw: Any, statement: str) -> None:
    """Execute a statement for its effect (a setting, a view, a temporary table) on a
    DuckDB connection; recorded when recording."""
    raw.execute(statement)
    record = _active.get()
    if record is not None:
        record.steps.append(["x", statement])


def answered(raw: Any, query: str) -> None:
    """Record ``query``'s answer, which the Python code reads (run it again to get it)."""
    record = _recorded()
    if record is not None:
        record.steps.append(["a", query, repr(raw.execute(query).fetchall())])


def reported(name: str, query: str) -> None:
    """A count the run reports (not a check: a replay gives its own): ``name``."""
    record = _recorded()
    if record is not None:
        record.steps.append(["r", name, query])


def state_read(layout: str, as_of: datetime, unchanged: bool, later: bool = False) -> None:
    """The run reads the kept state linked to its ``--since`` output (of ``layout``, at
    ``as_of``), attached and exposed here (:mod:`leadscore.engine.kept_states`);
    ``unchanged``: the leads file is the one that state's run read (its SQL reads
    no lead to find the changed ones); ``later``: the run's T is later than the
    state's, and its SQL reads both from session variables (replayed at any such
    pair of instants), else it runs at the state's T (replayed at that T only)."""
    record = _recorded()
    if record is not None:
        record.steps.append(["s", "unchanged" if unchanged else "", "later" if later else ""])
        record.layout = layout
        record.as_of = None if later else as_of.isoformat()


def versioned(parts: kept_states.Parts, ids: str | None, whole: bool = False) -> None:
    """The version the run adds to the state it read, once its output is written
    (``whole``: :func:`.kept_states.add_version`)."""
    record = _recorded()
    if record is not None:
        record.steps.append(["v", json.dumps({"parts": parts, "ids": ids, "whole": whole})])


def warned(message: str) -> None:
    """A warning the run gave: a replay gives it again."""
    record = _active.get()
    if record is not None:
        record.warnings.append(message)


def scored_by(query: str) -> None:
    """The query whose rows the run writes."""
    record = _active.get()
    if record is not None:
        record.query = query


def unreplayable() -> None:
    """The run's SQL depends on data the Python code read: it is not kept."""
    record = _active.get()
    if record is not None:
        record.replayable = False


Reports = dict[str, list[tuple[Any, ...]]]


def replay(
    run_key: str | None, out: str | Path, as_of: datetime, progress: Report | None,
    since: Any = None, leads: Any = None,
) -> Reports | None:  # fmt: skip
    """Write the kept run ``run_key``'s results at ``as_of`` to ``out``: its reported
    counts, by name. ``since``: the earlier output of a run told the new events, and
    ``leads`` its leads.

    None when it cannot be replayed (then nothing is written): the caller makes a
    full run.
    """
    record = _load(cache.read(cache.place("runs", run_key, ".json")))
    path = Path(out)
    if record is None or record.query is None or not files.writable(path):
        return None
    if record.as_of is not None and record.as_of != as_of.isoformat():
        return None
    leads_file = kept_states.identity(leads)  # before reading
    raw = duckdb.connect()
    reports: Reports = {}
    try:
        cache.set_instant(raw, as_of)
        found, parts, ids, whole = None, [], None, False
        for kind, *step in record.steps:
            if kind == "x":
                raw.execute(step[0])
            elif kind == "a" and repr(raw.execute(step[0]).fetchall()) != step[1]:
                log.debug("kept run %s not replayed: another answer to %s", run_key, step[0])
                return None
            elif kind == "r":
                reports[step[0]] = raw.execute(step[1]).fetchall()
            elif kind == "s":
                later = step[1] == "later"
                found = kept_states.find(since, str(record.layout), as_of, later=later)
                if found is None or (found.as_of < as_of) != later:
                    log.debug("kept run %s not replayed: no kept state of %s", run_key, since)
                    return None
                if later:
                    cache.set_since(raw, found.as_of)
                unchanged = leads_file is not None and found.leads == leads_file and not later
                if unchanged != (step[0] == "unchanged"):
                    log.debug("kept run %s not replayed: the leads file changed", run_key)
                    return None
                kept_states.attach(raw, found.path, read_only=True)
                kept_states.create_views(raw, found)
            elif kind == "v":
                added = json.loads(step[0])
                parts = [(leads, list(values)) for leads, values in added["parts"]]
                ids, whole = added["ids"], bool(added.get("whole", False))
        with files.replacing(path) as tmp, watch(raw, progress):
            raw.execute(files.copy(record.query, tmp))
        if found is not None and parts:
            now = replace(found, as_of=as_of)  # the new version's T
            kept_states.keep_version(raw, now, parts, ids, path, leads_file, whole)
    except duckdb.Error as exc:  # a full run says what is wrong, or succeeds
        log.debug("kept run %s not replayed: %s", run_key, exc)
        return None
    finally:
        raw.close()
    for message in record.warnings:
        log.warning(message)
    return reports


STEPS = {"x": 2, "a": 3, "r": 3, "s": 3, "v": 2}  # each kind of step, and its length


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
        and all(isinstance(s, list) and s and s[0] in STEPS for s in record.steps)
        and all(len(s) == STEPS[s[0]] and all(isinstance(p, str) for p in s) for s in record.steps)
        and all(isinstance(w, str) for w in record.warnings)
    )
    return record if valid else None
