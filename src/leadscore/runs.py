"""``leadscore.score_file``: every lead scored into a file, a kept run replayed first.

This module imports only DuckDB and the standard library: a script that calls
``leadscore.score_file`` with a model file and input files, as a daily job does,
replays a kept run (:mod:`leadscore.engine.kept_runs`) without importing ibis,
pyarrow or pydantic. Anything else is a full run (:func:`leadscore.api.write_scores`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from leadscore.engine import Engine, Source, kept_runs
from leadscore.engine.progress import Report
from leadscore.instants import AsOf, as_of_instant

if TYPE_CHECKING:
    from leadscore.model import Model
    from leadscore.plans import RescorePlan


def score_file(
    model: Model | str | Path,
    leads: Source,
    events: Source | None,
    out: str | Path,
    *,
    as_of: AsOf = None,
    engine: Engine = "duckdb",
    db: str | None = None,
    memory_limit: str | None = None,
    explain: bool = False,
    progress: Report | None = None,
    cutoff: str | None = None,
    since: Source | None = None,
    new_events: Source | None = None,
    planned: Callable[[RescorePlan], None] | None = None,
    keep_state: bool = False,
) -> Path:
    """Score every lead and write the results to ``out`` (by extension), atomically.

    Results stream from the engine to the file; nothing is loaded into Python.
    ``progress`` is called with the engine's percentage done, from another thread.
    With ``since`` (an earlier output), only leads whose result can have changed
    are scored again; ``planned`` then hears how many, and why. ``new_events``: the
    events added since (see :func:`leadscore.score`). ``keep_state``: keep the
    per-lead aggregates of the events with the output (DuckDB), so that a later run
    ``since`` it, told the new events, reads only those (:mod:`leadscore.engine.state`);
    such a run keeps them in turn.

    Over files on DuckDB, a run like an earlier one (same model, paths and options)
    replays that run's query when the data still answers its checks the same way
    (:mod:`leadscore.engine.kept_runs`): the same results, without the compiler.
    """
    run_key = None
    plain = (since, new_events, cutoff) == (None, None, None) and not keep_state
    told = since is not None and new_events is not None and cutoff is None
    if engine == "duckdb" and db is None and (plain or told):
        run_key = kept_runs.key(
            model, leads, events, explain=explain, memory_limit=memory_limit,
            since=since if told else None, new_events=new_events if told else None,
        )  # fmt: skip
        instant = as_of_instant(as_of)
        told_of = (since, leads) if told else (None, None)
        reports = kept_runs.replay(run_key, out, instant, progress, *told_of)
        if reports is not None:
            if told and planned is not None:
                planned(replayed_plan(reports, instant))
            return Path(out)
    from leadscore.api import write_scores

    return write_scores(
        model,
        leads,
        events,
        out,
        run_key,
        as_of=as_of,
        engine=engine,
        db=db,
        memory_limit=memory_limit,
        explain=explain,
        progress=progress,
        cutoff=cutoff,
        since=since,
        new_events=new_events,
        planned=planned,
        keep_state=keep_state,
    )


def replayed_plan(reports: kept_runs.Reports, as_of: datetime) -> RescorePlan:
    """The plan of a replayed run told the new events, from the counts it reported."""
    from leadscore.plans import counted

    ((leads,),) = reports.get("leads", [(0,)])
    return counted(leads, reports.get("reasons", []), as_of, kept=True)
