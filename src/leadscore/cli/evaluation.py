"""Measuring a model on past leads: evaluate (SPEC §4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

import leadscore
from leadscore.cli.shell import (
    AsOfOpt,
    EventsOpt,
    JsonOpt,
    LeadsOpt,
    commands,
    err,
    fail,
    out,
    progress_bar,
    run,
)
from leadscore.learn.evaluation import PER_WEEK, SplitChoice

app = commands()


@app.command()
def evaluate(
    leads: LeadsOpt,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="A model file to backtest.")
    ] = None,
    learned: Annotated[
        Path | None,
        typer.Option("--learned", help="A learned model (`leadscore learn --out`) to measure."),
    ] = None,
    events: EventsOpt = None,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="The outcome column (default: converted)."),
    ] = None,
    as_of: AsOfOpt = None,
    horizon: Annotated[
        float | None,
        typer.Option(
            "--horizon",
            help="Days after --as-of in which a conversion counts (a snapshot backtest).",
        ),
    ] = None,
    split: Annotated[
        str,
        typer.Option("--split", help="auto (by created_at when known), time or folds."),
    ] = "auto",
    holdout: Annotated[
        bool,
        typer.Option(
            "--holdout",
            help="Measure the learned model as it is (the leads were not used to learn it).",
        ),
    ] = False,
    folds: Annotated[
        int, typer.Option("--folds", help="Folds of the cross-validation (without dates).")
    ] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice.")] = 0,
    rate: Annotated[
        list[float] | None,
        typer.Option("--rate", help="A conversion rate to reach (0.3); repeatable."),
    ] = None,
    per_week: Annotated[
        list[int] | None,
        typer.Option("--per-week", help="Leads a week sales can call; repeatable."),
    ] = None,
    as_json: JsonOpt = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a self-contained HTML report with charts."),
    ] = None,
) -> None:
    """Backtest a model: AUC, lift by decile, precision at top-k, calibration, thresholds.

    Example: leadscore evaluate -m model.yaml -l history.csv -e events.parquet --html eval.html
    """
    from leadscore.learn.report import terminal, write_report

    if split not in ("auto", "time", "folds"):
        fail(f"--split {split!r} is not a split.", "Use --split auto, time or folds.")
    choice: SplitChoice = "time" if split == "time" else "folds" if split == "folds" else "auto"
    with progress_bar("Evaluating") as report:
        result = run(
            lambda: leadscore.evaluate(
                leads,
                events,
                model=model,
                learned=learned,
                target=target,
                as_of=as_of,
                horizon_days=horizon,
                split=choice,
                holdout=holdout,
                folds=folds,
                seed=seed,
                rates=rate or None,
                per_week=per_week or PER_WEEK,
                progress=report,
            )
        )
    if html is not None:
        path = run(lambda: write_report(result, html))
        err.print(f"Wrote {path}", highlight=False)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        out.print(terminal(result))
    for warning in result.warnings:
        err.print(f"warning: {warning}", style="yellow", highlight=False, soft_wrap=True)
