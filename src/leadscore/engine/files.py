"""The files leadscore reads and writes, by extension; results written atomically.

Results are written by DuckDB's COPY to a temporary file beside their target,
which replaces the target only once complete: an interrupted or failed run leaves
the old file (or none), never half a file. Standard library only (a replayed run
uses it too).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READABLE = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
# COPY options by extension; `.csv` with a header, `.json` one array, `.jsonl` a row a line.
FORMATS = {
    ".csv": "FORMAT csv, HEADER true",
    ".parquet": "FORMAT parquet",
    ".json": "FORMAT json, ARRAY true",
    ".jsonl": "FORMAT json",
}
WRITABLE = tuple(FORMATS)


def literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def copy(query: str, path: Path) -> str:
    """The DuckDB statement writing the rows of ``query`` to ``path`` (by extension)."""
    return f"COPY ({query}) TO {literal(str(path))} ({FORMATS[path.suffix.lower()]})"


def writable(path: Path) -> bool:
    """Whether ``path`` is a file leadscore writes, in a folder that exists."""
    directory = path.parent if str(path.parent) else Path(".")
    return path.suffix.lower() in FORMATS and directory.is_dir()


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; it replaces ``path`` when the block ends
    without an error, and is removed in any case."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=directory)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
