"""The ``leadscore`` console script: a kept run first, else the command line.

``leadscore score`` over files on DuckDB is replayed from a kept run when one
matches (:mod:`leadscore.engine.kept_runs`), before typer, rich, ibis, pyarrow or
pydantic are imported: about 0.1 s of start-up where the command line takes about
1 s. Every other command, and every ``score`` that cannot be replayed (options it
does not know, no kept run, data that answers a check differently), runs the
command line itself (:mod:`leadscore.cli`), which gives the results or the message.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

# The options of `score` a replay understands, by spelling; anything else: the CLI.
_VALUED = {
    "-m": "model",
    "--model": "model",
    "-l": "leads",
    "--leads": "leads",
    "-e": "events",
    "--events": "events",
    "-o": "out",
    "--out": "out",
    "--as-of": "as_of",
    "--memory-limit": "memory_limit",
    "--engine": "engine",
    "--since": "since",
    "--new-events": "new_events",
}
_FLAGS = {"--explain": "explain"}


def main() -> None:
    """Entry point of the console script."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logging.getLogger("leadscore").addHandler(handler)
    wrote = replayed(sys.argv[1:])
    if wrote is not None:
        sys.stderr.write(f"Wrote {wrote}\n")
        return
    from leadscore.cli import app

    app()


def replayed(argv: list[str]) -> Path | None:
    """Replay ``leadscore score`` with these arguments; None when the CLI must run.

    A run ``--since`` an earlier output needs ``--new-events`` (a run told the new
    events); its plan is said first, as the CLI says it.
    """
    options = score_options(argv)
    if options is None or options.get("engine", "duckdb") != "duckdb":
        return None
    told = "since" in options
    if told != ("new_events" in options):
        return None
    from leadscore.engine import kept_runs
    from leadscore.errors import LeadscoreError
    from leadscore.instants import as_of_instant
    from leadscore.runs import replayed_plan

    try:
        as_of = as_of_instant(options.get("as_of"))
    except LeadscoreError:  # the CLI says what is wrong with it
        return None
    run_key = kept_runs.key(
        options["model"],
        options["leads"],
        options.get("events"),
        explain="explain" in options,
        memory_limit=options.get("memory_limit"),
        since=options.get("since"),
        new_events=options.get("new_events"),
    )
    out = Path(options["out"])
    since = options.get("since")
    reports = kept_runs.replay(run_key, out, as_of, _progress(), since, options["leads"])
    if reports is None:
        return None
    if told:
        sys.stderr.write(f"{replayed_plan(reports, as_of)}\n")
    return out


def score_options(argv: list[str]) -> dict[str, str] | None:
    """The options of a plain ``score`` command line; None for anything else.

    >>> score_options(["score", "-m", "m.yaml", "--leads=l.csv", "-o", "o.csv", "--explain"])
    {'model': 'm.yaml', 'leads': 'l.csv', 'out': 'o.csv', 'explain': ''}
    >>> score_options(["score", "-m", "m.yaml", "-l", "l.csv", "-o", "o.csv", "--keep-state"])
    """
    if not argv or argv[0] != "score":
        return None
    options: dict[str, str] = {}
    rest = iter(argv[1:])
    for item in rest:
        spelling, equals, value = item.partition("=") if item.startswith("--") else (item, "", "")
        if spelling in _FLAGS and not equals:
            name = _FLAGS[spelling]
        elif spelling in _VALUED:
            name = _VALUED[spelling]
            if not equals:
                following = next(rest, None)
                if following is None or following.startswith("-"):
                    return None
                value = following
        else:
            return None
        if name in options:
            return None
        options[name] = value
    return options if {"model", "leads", "out"} <= options.keys() else None


def _progress() -> Callable[[float], None] | None:
    """A one-line percentage on a terminal, erased at the end; nothing in pipes."""
    if not sys.stderr.isatty():
        return None

    def report(percent: float) -> None:
        sys.stderr.write("\r\x1b[K" if percent >= 100 else f"\rScoring {percent:3.0f}%")
        sys.stderr.flush()

    return report
