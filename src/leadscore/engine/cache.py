"""Where leadscore keeps what it learnt in one run for the next, and how.

Two things are kept: compiled scoring queries (:mod:`leadscore.engine.query_cache`)
and whole runs to replay (:mod:`leadscore.engine.kept_runs`). Both are only
shortcuts: a file that cannot be read or written costs time, never a result.

The folder is ``$LEADSCORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/leadscore``, else
``~/.cache/leadscore``; ``LEADSCORE_CACHE_DIR=off`` turns keeping off. This module
imports nothing beyond the standard library: a replayed run starts without ibis.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger("leadscore")

OFF = frozenset({"off", "0", "false", "no"})
KEPT = 64  # files kept per kind; the least recently used are removed beyond this
VARIABLE = "leadscore_as_of"  # the session variable a kept query reads T from
SINCE = "leadscore_since_as_of"  # and the earlier T a run told the new events moves from
LIBRARIES = ("ibis_framework", "sqlglot", "duckdb")  # what compiles and runs the SQL


def folder() -> Path | None:
    """Where things are kept; None when keeping is off."""
    chosen = os.environ.get("LEADSCORE_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in OFF or not chosen.strip() else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no home folder (a service account): nothing kept
            return None
    return Path(base) / "leadscore"


def place(kind: str, key: str | None, suffix: str) -> Path | None:
    """The file of ``key`` among the kept ``kind``; None when nothing can be kept."""
    where = folder()
    return where / kind / f"{key}{suffix}" if where is not None and key is not None else None


@cache
def code() -> str:
    """What a kept thing was made by: leadscore's source and the libraries that compile.

    The source enters as each file's name, size and modification time (what Python
    checks its own compiled files by), the libraries as their installed versions.
    """
    digest = hashlib.sha256()
    package = Path(__file__).parent.parent  # the leadscore package
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(
            f"{path.relative_to(package).as_posix()}:{stat.st_size}:{stat.st_mtime_ns}".encode()
        )
    for library in LIBRARIES:
        digest.update(";".join(_installed(library)).encode())
    return digest.hexdigest()


def _installed(distribution: str) -> list[str]:
    """The installed versions of a distribution, by its ``.dist-info`` folders.

    (``importlib.metadata`` would say the same, but importing it costs a replayed
    run a tenth of its start-up.)
    """
    found = []
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder.is_dir():
            found += sorted(p.name for p in folder.glob(f"{distribution}-*.dist-info"))
    return found


def set_since(raw: Any, as_of: datetime) -> None:
    """Give a kept query the T of the kept state it reads at a later one (naive UTC)."""
    raw.execute(f"SET VARIABLE {SINCE} = CAST(? AS TIMESTAMP)", [as_of.isoformat()])


def set_instant(raw: Any, as_of: datetime) -> None:
    """Give a kept query its T (naive UTC) on the DuckDB connection ``raw``."""
    raw.execute(f"SET VARIABLE {VARIABLE} = CAST(? AS TIMESTAMP)", [as_of.isoformat()])


def read(path: Path | None) -> str | None:
    """The text kept at ``path`` (marked as used), or None."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
        os.utime(path)  # the least recently used are removed first
    except (OSError, UnicodeDecodeError):
        return None
    return text


def keep(path: Path | None, text: str) -> None:
    """Keep ``text`` at ``path`` atomically; remove the oldest beyond :data:`KEPT`."""
    if path is None:
        return
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
        tmp = None
        kept = sorted(
            path.parent.glob(f"*{path.suffix}"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in kept[KEPT:]:
            old.unlink(missing_ok=True)
    except OSError as exc:  # a folder that cannot be written only costs time
        log.debug("not kept in %s: %s", path.parent, exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
