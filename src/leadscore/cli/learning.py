"""Learning commands: learn and predict (SPEC §4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from leadscore.cli.shell import (
    AsOfOpt,
    EventsOpt,
    JsonOpt,
    LeadsOpt,
    commands,
    err,
    out,
    progress_bar,
    run,
    write_arrow,
)

app = commands()
SHOWN_ROWS = 15


@app.command()
def learn(
    leads: LeadsOpt,
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write: a directory, or a .zip file.")
    ],
    events: EventsOpt = None,
    target: Annotated[
        str, typer.Option("--target", "-t", help="The column saying whether a lead converted.")
    ] = "converted",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Snapshot instant: features as of it (ISO 8601)."),
    ] = None,
    horizon: Annotated[
        float | None,
        typer.Option(
            "--horizon", help="Days after --as-of in which a conversion counts (uses converted_at)."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", help="A column not to learn from (repeat, or a,b,c)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Learn from history: conversion report, points table (model file), predictive model.

    Example: leadscore learn -l history.csv -e events.parquet --target converted -o learned/
    """
    import leadscore

    excluded = [name.strip() for item in exclude or [] for name in item.split(",") if name.strip()]
    with progress_bar("Learning") as report:
        learned = run(
            lambda: leadscore.learn(
                leads,
                events,
                target=target,
                as_of=as_of,
                horizon_days=horizon,
                exclude=excluded,
                seed=seed,
                progress=report,
            )
        )
        path = run(lambda: learned.save(out_path))
    summary = _summary(learned, path)
    if as_json:
        print(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
        return
    out.print(_report_table(learned.conversion.slice(0, SHOWN_ROWS).to_pylist()))
    held_out = summary["metrics"]["predictive_held_out"]
    out.print(
        f"{summary['leads']:,} leads, {summary['conversions']:,} converted "
        f"({summary['conversion_rate']:.1%}); predictive model: held-out AUC "
        f"{held_out.get('auc', float('nan')):.3f}, calibration error "
        f"{held_out.get('ece', float('nan')):.3f}; points table: "
        f"{summary['points_rules']} rules.",
        highlight=False,
    )
    err.print(f"Wrote {path} (points table: {path / 'model.yaml'})", highlight=False)


@app.command()
def predict(
    learned: Annotated[
        Path, typer.Option("--learned", help="A learned model (`leadscore learn --out`).")
    ],
    leads: LeadsOpt,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output: .csv, .parquet, .json.")],
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Per lead: calibrated probability, predictive_score 0-100 and the top 3 reasons.

    Example: leadscore predict --learned learned/ -l leads.csv -e events.parquet -o predicted.csv
    """
    import leadscore

    with progress_bar("Predicting") as report:
        model = run(lambda: leadscore.load_learned(learned))
        if report is not None:
            report(10.0)
        table = run(lambda: model.predict(leads, events, as_of))
        if report is not None:
            report(100.0)
    path = write_arrow(table, out_path)
    err.print(f"Wrote {path}", highlight=False)


def _summary(learned: Any, path: Path) -> dict[str, Any]:
    meta = learned.metadata
    rules = len(learned.points_model.fit.rules) + len(learned.points_model.engagement_rules)
    return {
        "out": str(path),
        "leads": meta["leads"],
        "conversions": meta["conversions"],
        "conversion_rate": meta["conversion_rate"],
        "cutoff_scheme": meta["cutoff_scheme"],
        "features": meta["features"],
        "metrics": meta["metrics"],
        "points_rules": rules,
        "warnings": meta["warnings"],
        "conversion_report": learned.conversion.slice(0, SHOWN_ROWS).to_pylist(),
    }


def _report_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="What converts (most telling first)")
    for name in ("feature", "value", "leads", "rate", "lift", "95 % interval"):
        table.add_column(name, justify="right" if name != "feature" else "left")
    for row in rows:
        table.add_row(
            row["feature"],
            row["value"],
            f"{row['leads']:,}",
            f"{row['rate']:.1%}",
            f"{row['lift']:.2f}",
            f"{row['rate_low']:.1%}-{row['rate_high']:.1%}",
        )
    return table
