"""What every command shares: the consoles, error handling, progress, common options.

Results go to stdout (``--json`` where useful), diagnostics to stderr. A
:class:`~leadscore.errors.LeadscoreError` prints as its message and exits 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from leadscore.engine import Engine
from leadscore.engine.io import enough_memory
from leadscore.errors import ErrorCode, LeadscoreError

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
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="Where the query runs: duckdb (embedded), postgres or spark. Files are "
        "uploaded; a name without extension is a table there.",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="postgresql://user@host:port/db, a Spark master (spark://host:7077, "
        "default local[*]) or a DuckDB file.",
    ),
]


def commands() -> typer.Typer:
    """A group of commands, merged into ``leadscore`` (see ``leadscore.cli``)."""
    return typer.Typer(pretty_exceptions_show_locals=False, add_completion=False)


def run(action: Callable[[], T]) -> T:
    """Run an API call; user errors become a message on stderr and exit code 2."""
    try:
        with enough_memory():  # every command, also those that fetch results themselves
            return action()
    except LeadscoreError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def fail(message: str, hint: str) -> None:
    """Stop a command on a bad argument, the way API errors stop it."""
    run(lambda: _raise(message, hint))


def _raise(message: str, hint: str) -> None:
    raise LeadscoreError(ErrorCode.BAD_ARGUMENT, message, hint=hint)


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
    """A progress bar on a terminal, fed with a percentage; nothing in pipes."""
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


def write_arrow(table: Any, path: Path) -> Path:
    """Write an Arrow table by the path's extension, atomically."""
    from leadscore.engine.io import connect, write_table

    def write() -> Path:
        con = connect()
        return write_table(con, con.create_table("arrow_out", table, temp=True), path)

    return run(write)
