"""The data-quality command: clean (SPEC §4, derived fields of §2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

import leadscore
from leadscore.cli.shell import LeadsOpt, commands, err, out, run, working

app = commands()


@app.command()
def clean(
    leads: LeadsOpt,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Leads with derived fields.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """The data-quality step alone: derived fields, duplicates and a summary of problems.

    Example: leadscore clean -l leads.csv -o leads.clean.parquet
    """
    with working("Checking the leads…"):
        report = run(lambda: leadscore.clean(leads, out_path))
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        out.print(report)
    if out_path is not None:
        err.print(f"Wrote {out_path}", highlight=False)
