"""Scoring commands: score, explain, top, accounts (SPEC §4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer

import leadscore
from leadscore.cli.shell import (
    AsOfOpt,
    DbOpt,
    EngineOpt,
    EventsOpt,
    JsonOpt,
    LeadsOpt,
    ModelOpt,
    commands,
    err,
    out,
    progress_bar,
    run,
    working,
    write_arrow,
)
from leadscore.render import explanation_table, leads_table

app = commands()


@app.command()
def score(
    model: ModelOpt,
    leads: LeadsOpt,
    out_path: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output: .csv, .parquet, .json, .jsonl; with --engine postgres or spark "
            "(or --db FILE.duckdb), a name without extension is a table, replaced atomically.",
        ),
    ],
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    engine: EngineOpt = "duckdb",
    db: DbOpt = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add one column per rule with its points.")
    ] = False,
    memory_limit: Annotated[
        str | None, typer.Option("--memory-limit", help="Engine memory limit, e.g. 2GB.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="An earlier output of score (file or table): score again only the leads "
            "whose result can have changed; the results equal a full run's.",
        ),
    ] = None,
    new_events: Annotated[
        str | None,
        typer.Option(
            "--new-events",
            help="With --since: the events added since that run (also in --events), when "
            "no other event changed; the other leads' events are not read in full.",
        ),
    ] = None,
    keep_state: Annotated[
        bool,
        typer.Option(
            "--keep-state",
            help="Keep each lead's event aggregates (in the cache folder) so that a later "
            "--since run with --new-events at the same --as-of reads only the new events.",
        ),
    ] = False,
) -> None:
    """Score every lead and write the results.

    Example: leadscore score -m model.yaml -l leads.csv -e events.parquet -o scores.csv

    Every morning: leadscore score ... --since yesterday.parquet -o today.parquet
    """
    plans: list[leadscore.RescorePlan] = []
    with progress_bar("Scoring") as report:
        path = run(
            lambda: leadscore.score_file(
                model,
                leads,
                events,
                out_path,
                as_of=as_of,
                engine=engine,
                db=db,
                memory_limit=memory_limit,
                explain=explain,
                progress=report,
                since=since,
                new_events=new_events,
                planned=plans.append,
                keep_state=keep_state,
            )
        )
    for plan in plans:
        err.print(str(plan), highlight=False)
    err.print(f"Wrote {path}", highlight=False)


@app.command()
def explain(
    model: ModelOpt,
    leads: LeadsOpt,
    lead: Annotated[str, typer.Option("--lead", help="The lead_id to explain.")],
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    engine: EngineOpt = "duckdb",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The points of one lead, rule by rule.

    Example: leadscore explain -m model.yaml -l leads.csv -e events.parquet --lead L00042
    """
    with working("Scoring…"):
        result = run(
            lambda: leadscore.explain(
                model,
                leads,
                events,
                lead,
                as_of,
                engine=engine,
                db=db,
            )
        )
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        out.print(explanation_table(result))


@app.command()
def top(
    model: ModelOpt,
    leads: LeadsOpt,
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    n: Annotated[int, typer.Option("-n", "--limit", min=1, help="How many leads.")] = 20,
    stage: Annotated[str | None, typer.Option("--stage", help="Only this stage.")] = None,
    since: Annotated[
        Path | None,
        typer.Option("--since", help="An earlier output of score/top: mark what changed."),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the list to a file.")
    ] = None,
    engine: EngineOpt = "duckdb",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The list for sales this morning: best leads first, with what changed.

    Example: leadscore top -m model.yaml -l leads.csv -e events.parquet --since yesterday.csv
    """
    from leadscore.top import top as top_leads

    with working("Scoring…"):
        table = run(
            lambda: top_leads(
                model,
                leads,
                events,
                as_of,
                n=n,
                stage=stage,
                since=since,
                engine=engine,
                db=db,
            )
        )
    if out_path is not None:
        write_arrow(table, out_path)
    if as_json:
        print(json.dumps(table.to_pylist(), indent=2, ensure_ascii=False, default=str))
    else:
        out.print(leads_table(table, title="Leads to call"))


@app.command()
def accounts(
    model: ModelOpt,
    leads: LeadsOpt,
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output: .csv, .parquet, .json.")
    ] = None,
    n: Annotated[int, typer.Option("-n", "--limit", min=1, help="Accounts to show.")] = 20,
    engine: EngineOpt = "duckdb",
    db: DbOpt = None,
) -> None:
    """Account roll-up: the sum of each account's top lead scores, engaged leads, members.

    Example: leadscore accounts -m model.yaml -l leads.csv -e events.parquet -o accounts.csv
    """
    from leadscore.accounts import accounts as rollup

    with working("Scoring…"):
        if out_path is not None:
            path = run(
                lambda: rollup(
                    model,
                    leads,
                    events,
                    as_of,
                    out=out_path,
                    engine=engine,
                    db=db,
                )
            )
            err.print(f"Wrote {path}", highlight=False)
            return
        table = run(lambda: rollup(model, leads, events, as_of, engine=engine, db=db))
    assert isinstance(table, pa.Table)
    out.print(leads_table(table.slice(0, n), title="Accounts"))
