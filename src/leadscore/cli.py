"""The ``leadscore`` command: a thin shell over the public API (SPEC §4).

Results go to stdout (``--json`` where useful), diagnostics to stderr. A
:class:`~leadscore.errors.LeadscoreError` prints as its message and exits 2.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pyarrow as pa
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

import leadscore
from leadscore import model as model_file
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.render import explanation_table, leads_table

app = typer.Typer(
    name="leadscore",
    help="Score leads on fit and engagement, explain every point, learn from history.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

ModelOpt = Annotated[Path, typer.Option("--model", "-m", help="Model file (YAML or JSON).")]
LeadsOpt = Annotated[Path, typer.Option("--leads", "-l", help="Leads: .csv, .parquet or .jsonl.")]
EventsOpt = Annotated[
    Path | None, typer.Option("--events", "-e", help="Events: .csv, .parquet or .jsonl.")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Score as of this instant (ISO 8601; default: now, UTC)."),
]


def main() -> None:
    """Entry point of the console script."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logging.getLogger("leadscore").addHandler(handler)
    app()


def run(action: Callable[[], T]) -> T:
    """Run an API call; user errors become a message on stderr and exit code 2."""
    try:
        return action()
    except LeadscoreError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner on a terminal while the engine works; nothing in pipes."""
    if not err.is_terminal:
        yield
        return
    with err.status(message):
        yield


@contextmanager
def progress_bar(message: str) -> Iterator[Callable[[float], None] | None]:
    """A progress bar on a terminal, fed with the engine's percentage; nothing in pipes."""
    if not err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(message, total=100)
        yield lambda percent: bar.update(task, completed=percent)


@app.command()
def score(
    model: ModelOpt,
    leads: LeadsOpt,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output: .csv, .parquet, .json.")],
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add one column per rule with its points.")
    ] = False,
    memory_limit: Annotated[
        str | None, typer.Option("--memory-limit", help="Engine memory limit, e.g. 2GB.")
    ] = None,
) -> None:
    """Score every lead and write the results.

    Example: leadscore score -m model.yaml -l leads.csv -e events.parquet -o scores.csv
    """
    with progress_bar("Scoring") as report:
        path = run(
            lambda: leadscore.score_file(
                model,
                leads,
                events,
                out_path,
                as_of=as_of,
                memory_limit=memory_limit,
                explain=explain,
                progress=report,
            )
        )
    err.print(f"Wrote {path}", highlight=False)


@app.command()
def explain(
    model: ModelOpt,
    leads: LeadsOpt,
    lead: Annotated[str, typer.Option("--lead", help="The lead_id to explain.")],
    events: EventsOpt = None,
    as_of: AsOfOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The points of one lead, rule by rule.

    Example: leadscore explain -m model.yaml -l leads.csv -e events.parquet --lead L00042
    """
    with working("Scoring…"):
        result = run(lambda: leadscore.explain(model, leads, events, lead, as_of))
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The list for sales this morning: best leads first, with what changed.

    Example: leadscore top -m model.yaml -l leads.csv -e events.parquet --since yesterday.csv
    """
    from leadscore.top import top as top_leads

    with working("Scoring…"):
        table = run(lambda: top_leads(model, leads, events, as_of, n=n, stage=stage, since=since))
    if out_path is not None:
        _write_arrow(table, out_path)
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
) -> None:
    """Account roll-up: the sum of each account's top lead scores, engaged leads, members.

    Example: leadscore accounts -m model.yaml -l leads.csv -e events.parquet -o accounts.csv
    """
    from leadscore.accounts import accounts as rollup

    with working("Scoring…"):
        if out_path is not None:
            path = run(lambda: rollup(model, leads, events, as_of, out=out_path))
            err.print(f"Wrote {path}", highlight=False)
            return
        table = run(lambda: rollup(model, leads, events, as_of))
    assert isinstance(table, pa.Table)
    out.print(leads_table(table.slice(0, n), title="Accounts"))


def _write_arrow(table: Any, path: Path) -> None:
    from leadscore.engine.io import connect, write_table

    def write() -> Path:
        con = connect()
        return write_table(con, con.create_table("top_list", table, temp=True), path)

    run(write)


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
        run(
            lambda: _fail(
                f"Unknown template {template!r}.",
                f"Choose one of {', '.join(model_file.TEMPLATES)}.",
            )
        )
    if out_path.exists() and not force:
        run(lambda: _fail(f"{out_path} exists already.", "Use --force to overwrite it."))
    out_path.write_text(model_file.template_text(template), encoding="utf-8")
    err.print(
        f"Wrote {out_path} ({template}). Check it with: leadscore validate {out_path}",
        highlight=False,
    )


def _fail(message: str, hint: str) -> None:
    raise LeadscoreError(ErrorCode.BAD_ARGUMENT, message, hint=hint)


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
