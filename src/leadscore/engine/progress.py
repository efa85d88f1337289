"""Progress of a long engine query, reported from a watcher thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Report = Callable[[float], None]
_POLL_SECONDS = 0.2


@contextmanager
def watch(raw: Any, report: Report | None) -> Iterator[None]:
    """Call ``report(percent)`` while the block runs a query on the DuckDB connection
    ``raw``."""
    if report is None:
        yield
        return
    done = threading.Event()

    def poll() -> None:
        while not done.wait(_POLL_SECONDS):
            try:
                percent = float(raw.query_progress())
            except Exception:  # progress is best effort, never fatal
                return
            if percent >= 0:
                report(percent)

    watcher = threading.Thread(target=poll, name="leadscore-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        report(100.0)
