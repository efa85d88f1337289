"""Model-file commands: validate, schema, init, sql (SPEC §4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from leadscore import model as model_file
from leadscore.cli.shell import commands, err, fail, out, run
from leadscore.errors import LeadscoreError
from leadscore.sql import Dialect, scoring_sql

app = commands()


@app.command()
def validate(
    model: Annotated[Path, typer.Argument(help="Model file to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the errors as JSON.")] = False,
) -> None:
    """Check a model file; list every error with its file:line and YAML path.

    Example: leadscore validate model.yaml
    """
    try:
        loaded = model_file.load_model(model)
    except LeadscoreError as exc:
        if as_json:
            print(json.dumps(exc.to_dict(), indent=2, ensure_ascii=False))
        else:
            err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    rules = len(loaded.fit.rules) + len(loaded.engagement_rules) + len(loaded.inactivity_rules)
    if as_json:
        print(json.dumps({"ok": True, "name": loaded.name, "rules": rules}))
    else:
        out.print(f"{model}: valid model {loaded.name!r} with {rules} rules.", highlight=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the model file (for editors).

    Example: leadscore schema > model.schema.json
    """
    sys.stdout.write(model_file.json_schema())


@app.command()
def init(
    template: Annotated[str, typer.Argument(help="b2b-saas, industrial or b2c.")] = "b2b-saas",
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write it.")] = Path(
        "model.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter model file from a template.

    Example: leadscore init industrial --out model.yaml
    """
    if template not in model_file.TEMPLATES:
        fail(
            f"Unknown template {template!r}.",
            f"Choose one of {', '.join(model_file.TEMPLATES)}.",
        )
    if out_path.exists() and not force:
        fail(f"{out_path} exists already.", "Use --force to overwrite it.")
    out_path.write_text(model_file.template_text(template), encoding="utf-8")
    err.print(
        f"Wrote {out_path} ({template}). Check it with: leadscore validate {out_path}",
        highlight=False,
    )


@app.command()
def sql(
    model: Annotated[Path, typer.Option("--model", "-m", help="Model file (YAML or JSON).")],
    dialect: Annotated[
        Dialect, typer.Option("--dialect", help="duckdb, postgres, spark, snowflake or bigquery.")
    ] = "duckdb",
    leads: Annotated[str, typer.Option("--leads-table", help="The leads table.")] = "leads",
    events: Annotated[str, typer.Option("--events-table", help="The events table.")] = "events",
    as_of: Annotated[
        str,
        typer.Option("--as-of", help="T: 'now' (when the query runs, default) or an instant."),
    ] = "now",
    event_id: Annotated[
        bool, typer.Option("--event-id", help="The events table has event_id: count once.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add one column per rule with its points.")
    ] = False,
) -> None:
    """Print the scoring SQL, to schedule in a warehouse or dbt.

    Example: leadscore sql -m model.yaml --dialect snowflake > score_leads.sql
    """
    text = run(
        lambda: scoring_sql(
            model,
            dialect,
            leads=leads,
            events=events,
            as_of=as_of,
            event_id=event_id,
            explain=explain,
        )
    )
    sys.stdout.write(text)
