"""The evaluation for people: tables on a terminal, or one self-contained HTML file.

The HTML file holds the same tables, a lift curve and calibration plots. plotly.js
is inlined into it, so the report opens offline, from an e-mail attachment or an
intranet without access to a CDN, and loads nothing at view time.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

import plotly.graph_objects as go  # type: ignore[import-untyped]
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]
from rich.console import Group
from rich.table import Table
from rich.text import Text

from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.learn.figures import Evaluation, Metrics

TEMPLATES = Path(__file__).parent / "templates"
COLOURS = ("#1f6feb", "#d9480f", "#2f9e44", "#7048e8")
_CONFIG = {"displaylogo": False, "responsive": True}


def percent(value: float) -> str:
    """A rate as people read it.

    >>> percent(0.1234), percent(1.0)
    ('12.3 %', '100.0 %')
    """
    return f"{100 * value:.1f} %"


def figure_number(value: float) -> str:
    """A score: probabilities with three decimals, points with at most one.

    >>> figure_number(0.12345), figure_number(42.0), figure_number(37.25)
    ('0.123', '42', '37.2')
    """
    if abs(value) < 1 and value != 0:
        return f"{value:.3f}"
    return f"{value:.1f}".removesuffix(".0")


def lift_chart(evaluation: Evaluation) -> str:
    """Cumulative lift against the share of leads called, one line per score."""
    fig = go.Figure()
    for colour, metrics in zip(COLOURS, evaluation.scores, strict=False):
        shares, lifts, seen = [], [], 0
        for decile in metrics.deciles:
            seen += decile.leads
            shares.append(seen / metrics.leads)
            lifts.append(decile.cumulative_lift)
        fig.add_trace(
            go.Scatter(
                x=shares, y=lifts, name=metrics.name, mode="lines+markers", line={"color": colour}
            )
        )
    fig.add_hline(y=1.0, line_dash="dot", line_color="#9aa5b1", annotation_text="random list")
    fig.update_layout(
        title="Lift curve: conversion rate of the best-scored leads over the base rate",
        xaxis={"title": "share of leads called, best scores first", "tickformat": ".0%"},
        yaxis={"title": "cumulative lift", "rangemode": "tozero"},
        margin={"t": 60, "l": 60, "r": 20, "b": 50},
    )
    return _html(fig, "lift")


def calibration_chart(metrics: Metrics, index: int) -> str:
    """Conversion rate per score bin; for probabilities, against the diagonal."""
    bins = metrics.calibration
    fig = go.Figure(
        go.Scatter(
            x=[b.mean_score for b in bins],
            y=[b.conversion_rate for b in bins],
            mode="lines+markers",
            name="observed",
            line={"color": COLOURS[index % len(COLOURS)]},
            text=[f"{b.leads} leads" for b in bins],
        )
    )
    if metrics.ece is not None:
        top = max(*(b.mean_score for b in bins), *(b.conversion_rate for b in bins))
        fig.add_trace(
            go.Scatter(
                x=[0, top],
                y=[0, top],
                mode="lines",
                name="perfect calibration",
                line={"dash": "dot", "color": "#9aa5b1"},
            )
        )
        title = f"Calibration of the {metrics.name} (ECE {metrics.ece:.3f})"
        axis = "mean predicted probability"
    else:
        title = f"Conversion rate by {metrics.name} (10 bins of equal size)"
        axis = f"mean {metrics.name} of the bin"
    fig.update_layout(
        title=title,
        xaxis={"title": axis},
        yaxis={"title": "observed conversion rate", "tickformat": ".0%", "rangemode": "tozero"},
        margin={"t": 60, "l": 60, "r": 20, "b": 50},
        showlegend=metrics.ece is not None,
    )
    return _html(fig, f"calibration-{index}")


def _html(fig: go.Figure, div_id: str) -> str:
    text: str = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)
    return text


def render(evaluation: Evaluation) -> str:
    """The report's HTML text."""
    from leadscore import __version__

    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"])
    )
    template = env.get_template("evaluation.html.j2")
    charts = {
        "lift": Markup(lift_chart(evaluation)),
        "calibration": [Markup(calibration_chart(m, i)) for i, m in enumerate(evaluation.scores)],
    }
    return template.render(
        e=evaluation,
        charts=charts,
        plotly_js=Markup(get_plotlyjs()),
        pct=percent,
        num=figure_number,
        std=lambda values: statistics.stdev(values) if len(values) > 1 else 0.0,
        version=__version__,
    )


def write_report(evaluation: Evaluation, path: str | Path) -> Path:
    """Write the HTML report to ``path`` atomically (a temporary file, then a rename)."""
    target = Path(path)
    text = render(evaluation)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".html.tmp")
    except OSError as exc:
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"Cannot write the HTML report {target}: {exc.strerror}.",
            hint="Check that its folder exists and can be written to.",
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for sharing
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def terminal(evaluation: Evaluation) -> Group:
    """The evaluation as Rich tables: summary, thresholds, deciles (warnings go to stderr)."""
    e = evaluation
    parts: list[Table | Text] = [
        Text(f"{e.subject}: {e.method} on {e.leads} leads, target {e.target}", style="bold")
    ]
    if e.period is not None:
        p = e.period
        parts.append(
            Text(
                f"split by {p.column} at {p.boundary}: {p.train_leads} older leads "
                f"({percent(p.train_rate)} converted), {p.test_leads} newer leads "
                f"({percent(p.test_rate)} converted)"
            )
        )
    summary = Table(title="Summary", title_justify="left")
    for name in ("score", "leads", "conversions", "base rate", "ROC AUC", "PR AUC", "lift@10%"):
        summary.add_column(name, justify="left" if name == "score" else "right")
    summary.add_column("ECE", justify="right")
    for m in e.scores:
        auc = f"{m.roc_auc:.3f}"
        if len(m.roc_auc_folds) > 1:
            auc += f" ± {statistics.stdev(m.roc_auc_folds):.3f}"
        summary.add_row(
            m.name,
            str(m.leads),
            str(m.conversions),
            percent(m.base_rate),
            auc,
            f"{m.pr_auc:.3f}",
            f"{m.deciles[0].lift:.2f}",
            "–" if m.ece is None else f"{m.ece:.3f}",
        )
    parts.append(summary)
    for m in e.scores:
        parts += [_thresholds(m), _deciles(m)]
    return Group(*parts)


def _thresholds(m: Metrics) -> Table:
    table = Table(title=f"Suggested thresholds ({m.name})", title_justify="left")
    for name in ("goal", f"{m.name} ≥", "leads", "per week", "conversion rate", "found"):
        table.add_column(name, justify="left" if name == "goal" else "right")
    for t in m.thresholds:
        per_week = "–" if t.per_week is None else f"{t.per_week:.1f}"
        table.add_row(
            t.goal,
            figure_number(t.score),
            f"{t.leads} ({percent(t.share)})",
            per_week,
            percent(t.conversion_rate),
            percent(t.recall),
        )
    return table


def _deciles(m: Metrics) -> Table:
    table = Table(title=f"Deciles ({m.name}, best first)", title_justify="left")
    for name in ("decile", m.name, "leads", "conversion rate", "lift", "found"):
        table.add_column(name, justify="right")
    for d in m.deciles:
        table.add_row(
            str(d.decile),
            f"{figure_number(d.min_score)} – {figure_number(d.max_score)}",
            str(d.leads),
            percent(d.conversion_rate),
            f"{d.lift:.2f}",
            percent(d.cumulative_recall),
        )
    return table
