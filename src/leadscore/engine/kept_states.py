"""The kept files of :mod:`leadscore.engine.state`: versions, views and links.

What a replayed run (:mod:`leadscore.engine.kept_runs`) needs of a kept state, with
DuckDB and the standard library only: find the state linked to an earlier output,
attach it, expose one version's rows as temporary views, add a version from named
tables, and link the new output to it. :mod:`leadscore.engine.state` computes what
is kept (with ibis) and uses these.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from leadscore.engine import cache

log = logging.getLogger("leadscore")

CATALOG = "leadscore_state"
VERSION = "_version"
LEAD = "lead_key"  # the lead key of the kept rows (leadscore.engine.events.LEAD)
KEPT_LEADS = "leadscore_state_leads"  # the temporary views of one version's rows
KEPT_VALUES = "leadscore_state_values"

# A version's rows, by table: the per-lead table and its (lead, value) tables.
Parts = list[tuple[str, list[str]]]


@dataclass(frozen=True)
class State:
    """A kept version of the per-lead aggregates."""

    path: Path
    version: int
    chain: tuple[int, ...]  # the version and its ancestors
    as_of: datetime
    layout: str
    values: int  # how many ``values_<i>`` tables


def attach(raw: Any, path: Path) -> None:
    """Attach the kept file ``path`` to the DuckDB connection ``raw``."""
    raw.execute(f"ATTACH '{_quoted(str(path))}' AS {CATALOG}")


def create_views(raw: Any, state: State) -> list[str]:
    """The kept rows of ``state``'s version as temporary views of ``raw`` (attached):
    the names of the per-lead view and of the ``(lead, value)`` views."""
    chain = ", ".join(str(v) for v in state.chain)

    def view(name: str, table: str, keys: str) -> str:
        newest = (
            f" QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {VERSION} DESC) = 1"
            if len(state.chain) > 1
            else ""
        )
        raw.execute(
            f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * EXCLUDE ({VERSION}) '
            f"FROM {CATALOG}.{table} WHERE {VERSION} IN ({chain}){newest}"
        )
        return name

    values = [
        view(f"{KEPT_VALUES}_{i}", f"values_{i}", f"{LEAD}, _value") for i in range(state.values)
    ]
    return [view(KEPT_LEADS, "leads", LEAD), *values]


def add_version(raw: Any, state: State, parts: Parts) -> State:
    """Keep the rows of the tables or views named in ``parts`` as a new version after
    ``state``'s (attached), in one transaction."""
    latest = raw.execute(f"SELECT max(version) FROM {CATALOG}.versions").fetchall()[0][0]
    version = int(latest) + 1
    raw.execute("BEGIN TRANSACTION")
    try:
        for leads, values in parts:
            for table, name in [
                ("leads", leads),
                *((f"values_{i}", v) for i, v in enumerate(values)),
            ]:
                raw.execute(
                    f"INSERT INTO {CATALOG}.{table} BY NAME "
                    f'SELECT *, {version}::INTEGER AS {VERSION} FROM "{name}"'
                )
        raw.execute(
            f"INSERT INTO {CATALOG}.versions VALUES (?, ?, ?)",
            [version, state.version, state.as_of],
        )
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    chain = (version, *state.chain)
    return State(state.path, version, chain, state.as_of, state.layout, state.values)


def keep_version(raw: Any, state: State, parts: Parts, output: Path) -> None:
    """Add ``parts`` as a version after ``state`` and link ``output`` (just written) to
    it; a failure only warns: the output stands, and the next run reads events."""
    if not output.is_file():
        return
    try:
        link(output, add_version(raw, state, parts))
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
        "version": state.version,
        "chain": list(state.chain),
        "as_of": state.as_of.isoformat(),
        "layout": state.layout,
        "values": state.values,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }
    cache.keep(where, json.dumps(record))


def find(output: object, shape: str, as_of: datetime) -> State | None:
    """The state linked to the earlier output ``output`` when it is usable at ``as_of``
    for inputs of layout ``shape``; None otherwise (said in the debug log)."""
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
            int(record["version"]),
            tuple(int(v) for v in record["chain"]),
            datetime.fromisoformat(record["as_of"]),
            str(record["layout"]),
            int(record["values"]),
        )
        same_file = (record["size"], record["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        log.debug("state of %s not used: %s", path, exc)
        return None
    why = None
    if not same_file:
        why = "the output changed since it was written"
    elif state.layout != shape:
        why = "the model, the inputs' columns or leadscore changed"
    elif state.as_of != as_of:
        why = "T moved"
    elif not state.path.is_file():
        why = "its file is gone"
    if why is not None:
        log.debug("state of %s not used: %s", path, why)
        return None
    return state


def prune(folder: Path) -> None:
    """Remove the state files no link names any more, beyond the newest few."""
    try:
        linked = set()
        for link_path in folder.glob("*.json"):
            try:
                linked.add(json.loads(link_path.read_text(encoding="utf-8"))["path"])
            except (OSError, ValueError, KeyError):
                continue
        files = sorted(folder.glob("*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[cache.KEPT // 8 :]:
            if str(old) not in linked:
                old.unlink(missing_ok=True)
                Path(f"{old}.wal").unlink(missing_ok=True)
    except OSError as exc:
        log.debug("states not pruned: %s", exc)


def _quoted(text: str) -> str:
    return text.replace("'", "''")
