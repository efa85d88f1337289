"""The demo command: sample data, a starter model, the top leads (README quick start)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import leadscore
from leadscore import model as model_file
from leadscore.cli.shell import commands, err, out, run, working
from leadscore.render import leads_table

app = commands()


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to write the demo data and model.")
    ] = Path("leadscore-demo"),
    n_leads: Annotated[int, typer.Option("--leads", min=100, help="How many leads.")] = 5000,
    n: Annotated[int, typer.Option("-n", help="How many top leads to show.")] = 15,
) -> None:
    """Make a realistic sample data set and model, score it, show the top leads.

    Example: leadscore demo --dir /tmp/demo
    """
    from leadscore.demo import generate_demo

    directory.mkdir(parents=True, exist_ok=True)
    files = generate_demo(directory, leads=n_leads)
    model_path = directory / "model.yaml"
    model_path.write_text(model_file.template_text("b2b-saas"), encoding="utf-8")
    scores = directory / "scores.csv"
    with working("Scoring the demo leads…"):
        run(
            lambda: leadscore.score_file(
                model_path, files.leads, files.events, scores, as_of=files.as_of
            )
        )
    from leadscore.top import top as top_leads

    table = run(lambda: top_leads(model_path, files.leads, files.events, files.as_of, n=n))
    out.print(leads_table(table, title=f"Top {n} leads as of {files.as_of:%Y-%m-%d}"))
    err.print(
        f"Data, model and scores are in {directory}/. Try:\n"
        f"  leadscore explain -m {model_path} -l {files.leads} -e {files.events} "
        f"--as-of {files.as_of:%Y-%m-%dT%H:%M:%SZ} --lead {table.column('lead_id')[0]}",
        highlight=False,
    )
