"""The tables `make bench` prints (bench/run.py measures, this module only renders)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from run import CoresResult, SizeResult

AS_OF = "2025-06-01T00:00:00Z"
TIME_TARGET, MEMORY_TARGET, POLARS_TARGET = 1.2, 1.1, 0.8
# Runs of each side per size (DuckDB, leadscore, Polars), the best one reported: this
# 2-core VM strays by 20-30 % from run to run, more at the small size.
REPETITIONS = {"small": 5, "medium": 3, "large": 2}


def gib(n: int) -> str:
    if n <= 0:
        return "n/a"
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def verdict(value: float, target: float) -> str:
    return f"[green]{value:.2f}x[/]" if value <= target else f"[red]{value:.2f}x[/]"


def table(title: str, caption: str, *columns: str) -> Table:
    result = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for i, name in enumerate(columns):
        result.add_column(name, justify="left" if i < 2 else "right")
    return result


def duckdb_table(results: list[SizeResult]) -> Table:
    out = table(
        f"DuckDB: leadscore vs hand-written SQL (bench/reference.sql), as of {AS_OF}",
        f"targets: time <= {TIME_TARGET}x, memory <= {MEMORY_TARGET}x. The command's ratio "
        "is to the reference's whole process (start-up included), the API's (the call: "
        "connect, check, score, write) to the reference's connection and query. Best of "
        f"{', '.join(f'{n} runs ({size})' for size, n in REPETITIONS.items())}; peak RSS "
        "of each process tree.",
        "size",
        "what",
        "seconds",
        "events/s",
        "peak RSS",
        "time ratio",
        "memory ratio",
    )
    for r in results:
        ref = r.runs["reference"]
        out.add_row(
            f"{r.size}\n{r.events:,} events",
            "reference query\n  with connect\n  whole process",
            f"{ref.seconds:.2f}\n{ref.setup + ref.seconds:.2f}\n{ref.wall:.2f}",
            f"{r.events / ref.seconds:,.0f}",
            gib(ref.peak),
            "",
            "",
        )
        for key, base, label in (
            ("command", ref.wall, "leadscore score (command)"),
            ("api", ref.setup + ref.seconds, "leadscore.score_file (API)"),
        ):
            run = r.runs.get(key)
            if run is not None:
                out.add_row(
                    "",
                    label,
                    f"{run.seconds:.2f}",
                    f"{r.events / run.seconds:,.0f}",
                    gib(run.peak),
                    verdict(run.seconds / base, TIME_TARGET),
                    verdict(run.peak / ref.peak, MEMORY_TARGET),
                )
        limited_ref = r.runs.get("limited_reference")
        if limited_ref is not None:
            out.add_row(
                "",
                limited_ref.what,
                f"{limited_ref.seconds:.2f}",
                f"{r.events / limited_ref.seconds:,.0f}",
                gib(limited_ref.peak),
                "",
                "",
            )
        limited = r.runs.get("limited")
        if limited is not None:
            yardstick = limited_ref or ref
            out.add_row(
                "",
                limited.what,
                f"{limited.seconds:.2f}",
                f"{r.events / limited.seconds:,.0f}",
                gib(limited.peak),
                verdict(limited.seconds / yardstick.wall, TIME_TARGET),
                verdict(limited.peak / yardstick.peak, MEMORY_TARGET),
            )
        out.add_section()
    return out


def polars_table(results: list[SizeResult]) -> Table | None:
    rows = [r for r in results if "polars" in r.runs]
    if not rows:
        return None
    out = table(
        "Polars: the same rules by hand in Polars' lazy API (bench/reference_polars.py)",
        f"target: leadscore.score_file's time <= {POLARS_TARGET}x Polars' (both in-process, "
        "import excluded; Polars' time includes planning, collecting and writing).",
        "size",
        "what",
        "seconds",
        "events/s",
        "peak RSS",
        "ratio to Polars",
    )
    for r in rows:
        polars = r.runs["polars"]
        out.add_row(
            f"{r.size}\n{r.events:,} events",
            "Polars (hand-written)",
            f"{polars.seconds:.2f}",
            f"{r.events / polars.seconds:,.0f}",
            gib(polars.peak),
            "",
        )
        ref = r.runs["reference"]
        out.add_row("", "DuckDB reference query", f"{ref.seconds:.2f}", "", "",
                    f"{ref.seconds / polars.seconds:.2f}x")  # fmt: skip
        api = r.runs.get("api")
        if api is not None:
            out.add_row(
                "",
                "leadscore.score_file (API)",
                f"{api.seconds:.2f}",
                f"{r.events / api.seconds:,.0f}",
                gib(api.peak),
                verdict(api.seconds / polars.seconds, POLARS_TARGET),
            )
        out.add_section()
    return out


def servers_table(results: list[SizeResult]) -> Table | None:
    rows = [
        (r, engine)
        for r in results
        for engine in ("postgres", "spark")
        if f"{engine}_reference" in r.runs
    ]
    if not rows:
        return None
    out = table(
        "PostgreSQL and Spark: leadscore --engine vs each engine's hand-written SQL",
        "load: COPY into PostgreSQL (then ANALYZE) / Spark session start and views over "
        "the Parquet files; query: run, fetch and write the Parquet result. Ratio: "
        "leadscore's whole command (which uploads the files itself) to the reference's "
        "whole process; leadscore's API call (connect, upload, score, write; in 'whole "
        "s') to the reference's load + query. Peak RSS: the process tree (Spark: with its JVM); "
        "server: the PostgreSQL backend that ran the query (VmHWM, shared buffers "
        f"included), the Spark JVM. Target: ratio <= {TIME_TARGET}x.",
        "size",
        "what",
        "load s",
        "query s",
        "events/s",
        "whole s",
        "peak RSS",
        "server peak",
        "time ratio",
    )
    for r, engine in rows:
        ref = r.runs[f"{engine}_reference"]
        name = "PostgreSQL" if engine == "postgres" else "Spark"
        out.add_row(
            f"{r.size}\n{r.events:,} events",
            f"{name} hand-written SQL",
            f"{ref.setup:.2f}",
            f"{ref.seconds:.2f}",
            f"{r.events / ref.seconds:,.0f}",
            f"{ref.wall:.2f}",
            gib(ref.peak),
            gib(ref.server_peak),
            "",
        )
        command = r.runs.get(f"{engine}_command")
        if command is not None:
            out.add_row(
                "",
                f"leadscore score --engine {engine}",
                "",
                "",
                f"{r.events / command.wall:,.0f}",
                f"{command.wall:.2f}",
                gib(command.peak),
                "",
                verdict(command.wall / ref.wall, TIME_TARGET),
            )
        api = r.runs.get(f"{engine}_api")
        if api is not None:
            # the call connects, uploads, scores and writes: against load + query
            out.add_row(
                "",
                f"leadscore.score_file(engine={engine!r})",
                "",
                "",
                f"{r.events / api.seconds:,.0f}",
                f"{api.seconds:.2f}",
                gib(api.peak),
                "",
                verdict(api.seconds / (ref.setup + ref.seconds), TIME_TARGET),
            )
        if command is None and api is None:
            out.add_row("", f"[yellow]leadscore on {engine}: not available yet[/]")
        out.add_section()
    return out


def slope(small: tuple[int, float], large: tuple[int, float]) -> float:
    """Log-log slope of time against events between two sizes: 1.0 is linear."""
    (n1, t1), (n2, t2) = small, large
    return math.log(t2 / t1) / math.log(n2 / n1)


def growth_table(results: list[SizeResult]) -> Table | None:
    if len(results) < 2:
        return None
    sides = [
        ("reference", "DuckDB reference query"),
        ("api", "leadscore.score_file (API)"),
        ("command", "leadscore score (command, wall)"),
        ("polars", "Polars"),
        ("postgres_reference", "PostgreSQL hand-written SQL"),
        ("postgres_api", "leadscore on PostgreSQL (API)"),
        ("spark_reference", "Spark hand-written SQL"),
        ("spark_api", "leadscore on Spark (API)"),
    ]
    first, last = results[0], results[-1]
    out = table(
        "Growth: events/s per size, and how time grows with the events",
        f"slope: log(t_{last.size} / t_{first.size}) / log(events ratio) from the smallest "
        "to the largest size measured; 1.00 is linear, below 1 fixed costs still weigh "
        "at the small size, above 1 is worse than linear.",
        "what",
        "",
        *(f"{r.size} events/s" for r in results),
        "slope",
    )
    for key, label in sides:
        cells: list[str] = []
        points: list[tuple[int, float]] = []
        for r in results:
            run = r.runs.get(key)
            if run is None:
                cells.append("")
                continue
            seconds = run.wall if key == "command" else run.seconds
            cells.append(f"{r.events / seconds:,.0f}")
            points.append((r.events, seconds))
        if len(points) >= 2 and points[0][0] != points[-1][0]:
            out.add_row(label, "", *cells, f"{slope(points[0], points[-1]):.2f}")
    return out


def cores_table(cores: list[CoresResult]) -> Table | None:
    if not cores:
        return None
    size = cores[0].size
    out = table(
        f"Cores: the {size} size on 1..n cores (taskset; DuckDB threads = cores)",
        "speed-up: time on 1 core / time on n cores.",
        "cores",
        "what",
        "seconds",
        "events/s",
        "peak RSS",
        "speed-up",
    )
    base_ref = cores[0].reference.seconds
    base_api = cores[0].api.seconds if cores[0].api else math.nan
    for row in cores:
        ref = row.reference
        out.add_row(
            str(row.threads),
            "DuckDB reference query",
            f"{ref.seconds:.2f}",
            f"{row.events / ref.seconds:,.0f}",
            gib(ref.peak),
            f"{base_ref / ref.seconds:.2f}x",
        )
        if row.api is not None:
            out.add_row(
                "",
                "leadscore.score_file (API)",
                f"{row.api.seconds:.2f}",
                f"{row.events / row.api.seconds:,.0f}",
                gib(row.api.peak),
                f"{base_api / row.api.seconds:.2f}x",
            )
    return out


def render(
    results: list[SizeResult], cores: list[CoresResult], loads: list[float], console: Console
) -> None:
    tables: list[Any] = [
        duckdb_table(results) if results else None,
        polars_table(results),
        servers_table(results),
        growth_table(results),
        cores_table(cores),
    ]
    for item in tables:
        if item is not None:
            console.print(item)
    for r in results:
        for note in r.notes:
            console.print(f"[yellow]{r.size}: {note}[/]")
    console.print(
        "[dim]load average (1 min) at the start and after each step: "
        + ", ".join(f"{x:.1f}" for x in loads)
        + "[/]"
    )
