"""The kept files of :mod:`leadscore.engine.state`: versions, views and links.

What a replayed run (:mod:`leadscore.engine.kept_runs`) needs of a kept state, with
DuckDB and the standard library only: find the state linked to an earlier output,
attach it (read only, but for the full run that writes it), expose one version's
rows as temporary views, add a version from named tables, and link the new output
to it. :mod:`leadscore.engine.state` computes what
is kept (with ibis) and uses these.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from leadscore.engine import cache, files

log = logging.getLogger("leadscore")

CATALOG = "leadscore_state"
LEAD = "lead_key"  # the lead key of the kept rows (leadscore.engine.events.LEAD)
KEPT_LEADS = "leadscore_state_leads"  # the temporary views of one version's rows
KEPT_VALUES = "leadscore_state_values"
KEPT_IDS = "leadscore_state_ids"

# A version's rows, by table: the per-lead table and its (lead, value) tables.
Parts = list[tuple[str, list[str]]]
IDS = "ids"  # the (_eid, lead key) of every event with an id, sorted by id


@dataclass(frozen=True)
class State:
    """A kept version of the per-lead aggregates: the kept file and the versions
    added after it, oldest first (each a set of Parquet files beside it)."""

    path: Path
    deltas: tuple[str, ...]
    as_of: datetime
    layout: str
    values: int  # how many ``values_<i>`` tables
    ids: bool  # whether the events' ids are kept (the events have an event_id)
    # The leads file the version's run read (:func:`identity`), when a file.
    leads: str | None = None
    # The newest version holding every kept lead's per-lead row (a told run at a
    # later T of a decaying model writes them all): the per-lead rows are read from
    # it and the versions after it only. None: from the kept file on.
    whole: str | None = None

    def delta_file(self, delta: str, table: str) -> Path:
        """The rows of ``table`` (``leads``, ``values_<i>``) that version ``delta`` added."""
        return self.path.with_name(f"{self.path.stem}.{delta}.{table}.parquet")

    def tables(self) -> list[str]:
        return ["leads", *(f"values_{i}" for i in range(self.values))]

    def files(self) -> list[Path]:
        """The kept file and the files of the versions after it."""
        added = [*self.tables(), *([IDS] if self.ids else [])]
        return [self.path, *(self.delta_file(d, table) for d in self.deltas for table in added)]


def identity(source: object) -> str | None:
    """What tells that a file is the one an earlier run read: its resolved path, size
    and modification time (as for outputs, below); None when ``source`` is no file."""
    if not isinstance(source, str | Path):
        return None
    try:
        path = Path(source).resolve()
        stat = path.stat()
    except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links
        return None
    return f"{path}\x1e{stat.st_size}\x1e{stat.st_mtime_ns}" if path.is_file() else None


def attach(raw: Any, path: Path, read_only: bool = False) -> None:
    """Attach the kept file ``path`` to the DuckDB connection ``raw``."""
    mode = " (READ_ONLY)" if read_only else ""
    raw.execute(f"ATTACH '{_quoted(str(path))}' AS {CATALOG}{mode}")


def create_views(raw: Any, state: State) -> list[str]:
    """The kept rows of ``state``'s version as temporary views of ``raw`` (attached):
    the names of the per-lead view and of the ``(lead, value)`` views.

    A lead's rows are those of the newest version holding any: a version holds all
    of a merged lead's per-lead row, and all of its ``(lead, value)`` rows when it
    has new ones (merged with the older ones), so whole leads are taken from it.
    The per-lead rows before ``state.whole`` are not read at all (each day's
    version of a decaying model would otherwise add 700,000 rows at 1M leads to
    every later run's reading).
    """
    names = [KEPT_LEADS, *(f"{KEPT_VALUES}_{i}" for i in range(state.values))]
    if state.ids:  # every version's new ids, none replaced
        typed = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in _columns(raw, IDS))
        paths = (_quoted(str(state.delta_file(d, IDS))) for d in state.deltas)
        added = "".join(f" UNION ALL SELECT {typed} FROM read_parquet('{p}')" for p in paths)
        kept = f"SELECT * FROM {CATALOG}.{IDS}{added}"
        raw.execute(f'CREATE OR REPLACE TEMP VIEW "{KEPT_IDS}" AS {kept}')
    for i, (name, table) in enumerate(zip(names, state.tables(), strict=True)):
        kept = f"SELECT * FROM {CATALOG}.{table}"
        deltas = state.deltas
        hidden = i == 0 and state.whole is not None  # the older per-lead rows
        if hidden:
            deltas = deltas[deltas.index(str(state.whole)) :]
        if deltas:
            typed = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in _columns(raw, table))
            added = " UNION ALL ".join(
                f"SELECT {typed}, {depth} AS _depth FROM read_parquet('{_quoted(str(f))}')"
                for depth, f in enumerate((state.delta_file(d, table) for d in deltas), 1)
            )
            newest = f"SELECT * EXCLUDE (_depth) FROM ({added})"
            if len(deltas) > 1:
                newest += f" QUALIFY _depth = max(_depth) OVER (PARTITION BY {LEAD})"
            kept = newest if hidden else (
                f"{newest} UNION ALL BY NAME SELECT k.* FROM ({kept}) k "
                f"ANTI JOIN ({added}) a ON k.{LEAD} = a.{LEAD}"
            )  # fmt: skip
        raw.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {kept}')
    return names


def add_version(
    raw: Any, state: State, parts: Parts, ids: str | None, whole: bool = False
) -> State:
    """Keep the rows of the tables or views named in ``parts`` as a new version after
    ``state``'s, with the new events' ids (``ids``, when kept): Parquet files beside
    the kept file, which is only read. ``whole``: ``parts`` hold every kept lead's
    per-lead row (:attr:`State.whole`)."""
    delta = uuid.uuid4().hex[:16]
    version = replace(state, deltas=(*state.deltas, delta), whole=delta if whole else state.whole)
    tables = [(table, [p[0] if i == 0 else p[1][i - 1] for p in parts])
              for i, table in enumerate(state.tables())]  # fmt: skip
    if state.ids and ids is not None:
        tables.append((IDS, [ids]))
    for table, rows in tables:
        union = " UNION ALL BY NAME ".join(f'SELECT * FROM "{name}"' for name in rows)
        # Parquet has no 128-bit integers (sums of hashes): as decimals, read back.
        typed = ", ".join(
            f'CAST("{c}" AS DECIMAL(38, 0)) AS "{c}"' if t in _WIDE else f'"{c}"'
            for c, t in _columns(raw, table)
        )
        query = f"SELECT {typed} FROM ({union})"
        with files.replacing(version.delta_file(delta, table)) as tmp:
            raw.execute(files.copy(query, tmp))
    return version


_WIDE = ("HUGEINT", "UHUGEINT")


def _columns(raw: Any, table: str) -> list[tuple[str, str]]:
    """The columns of a kept table (attached), in order, with their types."""
    # pragma_table_info: 0.5 ms, where duckdb_columns() takes 3-16 ms.
    found: list[tuple[str, str]] = raw.execute(
        "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", [f"{CATALOG}.{table}"]
    ).fetchall()
    return found


def keep_version(
    raw: Any, state: State, parts: Parts, ids: str | None, output: Path, leads: str | None,
    whole: bool = False,
) -> None:  # fmt: skip
    """Add ``parts`` and ``ids`` as a version after ``state`` (``whole``: as
    :func:`add_version`), of the run that read the leads file ``leads``
    (:func:`identity`), and link ``output`` (just written) to it; a failure only
    warns: the output stands, the next run reads events."""
    if not output.is_file():
        return
    try:
        link(output, replace(add_version(raw, state, parts, ids, whole), leads=leads))
    except (duckdb.Error, OSError) as exc:
        log.warning("the state of %s was not kept: %s", output, exc)


# The links from outputs to versions


def _link_file(output: Path) -> Path | None:
    name = hashlib.sha256(str(output.resolve()).encode()).hexdigest()
    return cache.place("states", name, ".json")


def link(output: Path, state: State) -> None:
    """Link the output just written to ``state`` (see :mod:`leadscore.engine.state`)."""
    where = _link_file(output)
    if where is None:
        return
    stat = output.stat()
    record = {
        "path": str(state.path),
        "deltas": list(state.deltas),
        "as_of": state.as_of.isoformat(),
        "layout": state.layout,
        "values": state.values,
        "ids": state.ids,
        "leads": state.leads,
        "whole": state.whole,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }
    cache.keep(where, json.dumps(record))


def linked(output: object) -> State | None:
    """The version linked to the earlier output ``output``, unless there is none or
    the output changed since (said in the debug log)."""
    if not isinstance(output, str | Path):
        return None
    path = Path(output)
    where = _link_file(path) if path.is_file() else None
    text = cache.read(where)
    if text is None:
        return None
    try:
        record = json.loads(text)
        stat = path.stat()
        state = State(
            Path(record["path"]),
            tuple(str(d) for d in record["deltas"]),
            datetime.fromisoformat(record["as_of"]),
            str(record["layout"]),
            int(record["values"]),
            bool(record["ids"]),
            None if record["leads"] is None else str(record["leads"]),
            None if record.get("whole") is None else str(record["whole"]),
        )
        same_file = (record["size"], record["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        log.debug("state of %s not used: %s", path, exc)
        return None
    if not same_file:
        log.debug("state of %s not used: the output changed since it was written", path)
        return None
    return state


def read_by(output: object, leads_file: str | None) -> bool:
    """Whether the run that wrote the earlier output ``output`` (and linked it to a
    version) read the leads file ``leads_file`` (:func:`identity`), and so found it
    valid: the same file, unchanged since."""
    state = linked(output) if leads_file is not None else None
    return state is not None and state.leads == leads_file


def find(output: object, shape: str, as_of: datetime, later: bool = False) -> State | None:
    """The state linked to the earlier output ``output`` when it is usable at ``as_of``
    for inputs of layout ``shape`` (``later``: or of an earlier T, whose rows are read
    at ``as_of``); None otherwise (said in the debug log)."""
    state = linked(output)
    if state is None:
        return None
    why = None
    if state.layout != shape:
        why = "the model, the inputs' columns or leadscore changed"
    elif state.as_of > as_of or (state.as_of < as_of and not later):
        why = "T moved" + (" back" if state.as_of > as_of else "")
    elif not all(f.is_file() for f in state.files()):
        why = "its file is gone"
    if why is not None:
        log.debug("state of %s not used: %s", output, why)
        return None
    return state


def prune(folder: Path) -> None:
    """Remove the kept files no link names any more, beyond the newest few, and the
    versions no link's chain holds (older than an hour: a run may be linking one)."""
    try:
        linked, deltas = set(), set()
        for link_path in folder.glob("*.json"):
            try:
                record = json.loads(link_path.read_text(encoding="utf-8"))
                linked.add(record["path"])
                deltas.update(record["deltas"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        kept = sorted(folder.glob("*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[cache.KEPT // 8 :]:
            if str(old) not in linked:
                old.unlink(missing_ok=True)
                Path(f"{old}.wal").unlink(missing_ok=True)
        hour_ago = time.time() - 3600
        for added in folder.glob("*.*.*.parquet"):
            if added.name.split(".")[1] not in deltas and added.stat().st_mtime < hour_ago:
                added.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("states not pruned: %s", exc)


def _quoted(text: str) -> str:
    return text.replace("'", "''")
