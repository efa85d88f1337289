"""`make bench`: leadscore against hand-written queries of the same model, in one run.

    python bench/run.py [--sizes small,medium,large] [--engines duckdb,polars,postgres,spark]
                        [--memory-limit 4GB] [--threads 1,2] [--no-cores]

For each size of ../shared/bench/README.md (data generated once into .bench/<size>/;
default small and medium, large on request), measures in fresh subprocesses, each
under its own wrapper (bench/measure.py) so that peak RSS is that command's alone:

- DuckDB: the hand-written query (bench/reference.sql), `leadscore score ...` as a
  whole command, and `leadscore.score_file(...)` in-process (the call only); ratios
  leadscore / reference (targets: time <= 1.2x, memory <= 1.1x); at the large size
  also both under `--memory-limit 2GB`;
- Polars: the same rules in Polars' lazy API (bench/reference_polars.py); target:
  leadscore's in-process time <= 0.8x Polars';
- PostgreSQL and Spark, at the small and medium sizes: the hand-written query of
  each (bench/reference_postgres.sql, reference_spark.sql; loading timed apart) and
  leadscore on that engine: `leadscore score --engine postgres|spark` when the
  command has the option, `leadscore.score_file(engine=...)` when the API has it;
- growth: events/s per size, and how time grows from the smallest to the largest
  size measured (log-log slope: 1.0 is linear);
- cores: the largest size measured with DuckDB on 1 core (`taskset`, threads 1) and
  on every core, for the reference and for leadscore in-process.

Every result file is compared with the DuckDB reference's, lead by lead (numbers to
1e-9 relative). Exits 1 when a command fails or any result differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console

from compare import compare
from measure import CommandFailed, Run, best
from measure import measure as measure_quietly
from report import REPETITIONS, render

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DATA = ROOT / ".bench"
SHARED_BENCH = ROOT.parent / "shared" / "bench"
AS_OF = "2025-06-01T00:00:00Z"
SIZES = {"small": 10_000, "medium": 100_000, "large": 1_000_000}
DEFAULT_SIZES = "small,medium"
ENGINES = ("duckdb", "polars", "postgres", "spark")
SERVER_ENGINES = ("postgres", "spark")
SERVER_SIZES = ("small", "medium")
EVENTS_PER_LEAD = 50
SEED = 1
SERVER_REPETITIONS = 1  # PostgreSQL and Spark: one run each (loading, JVM start)
LIMITED_SIZE, LIMIT = "large", "2GB"
PG_URL = os.environ.get("LEADSCORE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

# The in-process measurement: the call alone is timed, after the import and the model.
# LEADSCORE_BENCH_THREADS caps DuckDB's threads by adding `threads` to the config of
# every duckdb.connect (leadscore has no such option; the bench needs it for `cores`).
API_CALL = """
import json, os, sys, time
threads = os.environ.get("LEADSCORE_BENCH_THREADS")
if threads:
    import duckdb
    connect = duckdb.connect
    def connect_with_threads(database=":memory:", read_only=False, config=None, **kwargs):
        return connect(database, read_only, {**(config or {}), "threads": int(threads)}, **kwargs)
    duckdb.connect = connect_with_threads
import leadscore
model, leads, events, out, as_of, memory_limit, *engine = sys.argv[1:]
m = leadscore.load_model(model)
score_file = leadscore.score_file  # imported here: leadscore's names load on first use
on = {"engine": engine[0], "db": engine[1] or None} if engine else {}
start = time.perf_counter()
score_file(m, leads, events, out, as_of=as_of, memory_limit=memory_limit or None, **on)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""

# prints the engines score_file takes (its `engine` parameter), or nothing
API_CHECK = """
import inspect, sys, typing, leadscore
leadscore.load_model
parameter = inspect.signature(leadscore.score_file).parameters.get("engine")
if parameter is not None:
    hint = parameter.annotation  # a text under `from __future__ import annotations`
    if isinstance(hint, str):
        hint = eval(hint, vars(sys.modules[leadscore.score_file.__module__]))
    print(",".join(typing.get_args(hint)) or "duckdb")
"""


@dataclass
class SizeResult:
    """Every run of one size, by side: reference, command, api, polars, limited,
    limited_reference, and for postgres and spark: <engine>_reference,
    <engine>_command, <engine>_api."""

    size: str
    events: int
    runs: dict[str, Run] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    mismatches: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CoresResult:
    size: str
    events: int
    threads: int
    reference: Run
    api: Run | None = None


@dataclass
class Leadscore:
    """What of leadscore this environment can run, and why not the rest."""

    command: list[str] | None
    api: bool
    engines: tuple[str, ...]
    api_engines: tuple[str, ...] = ()
    why: list[str] = field(default_factory=list)


def ensure_data(size: str, console: Console) -> Path:
    """Generate .bench/<size>/ once (README's arguments, seed 1); later runs reuse it."""
    folder = DATA / size
    if (folder / "leads.parquet").exists() and (folder / "events.parquet").exists():
        return folder
    partial = DATA / f"{size}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    console.print(f"generating {size} data into {folder} ...")
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(SHARED_BENCH / "generate.py"),
            "--leads",
            str(SIZES[size]),
            "--events-per-lead",
            str(EVENTS_PER_LEAD),
            "--seed",
            str(SEED),
            "--out",
            str(partial),
        ],
        check=True,
    )
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    console.print(f"  done in {time.perf_counter() - start:.1f} s")
    return folder


CONSOLE = Console(stderr=True)


def measure(argv: list[str], what: str, output: Path, env: dict[str, str] | None = None) -> Run:
    """measure.measure, printing each figure as it comes (long runs show progress)."""
    run = measure_quietly(argv, what, output, env)
    load = os.getloadavg()[0]
    CONSOLE.print(
        f"[dim]  {what}: {run.seconds:.2f} s (wall {run.wall:.2f} s, setup {run.setup:.2f} s), "
        f"peak {run.peak / 2**20:,.0f} MiB, load average {load:.1f}[/]"
    )
    return run


def find_leadscore() -> Leadscore:
    """The `leadscore` command and API of this environment, and its engines."""
    found = Leadscore(None, False, ())
    exe = Path(sys.executable).parent / "leadscore"
    path = str(exe) if exe.exists() else shutil.which("leadscore")
    if not path:
        found.why.append("no `leadscore` command in this environment")
    else:
        probe = subprocess.run([path, "score", "--help"], check=False, capture_output=True)
        text = (probe.stdout + probe.stderr).decode(errors="replace")
        if probe.returncode != 0:
            last = text.strip().splitlines()[-1:] or ["no output"]
            found.why.append(f"`leadscore score --help` exits {probe.returncode}: {last[0]}")
        else:
            found.command = [path]
            found.engines = ("duckdb", *SERVER_ENGINES) if "--engine" in text else ("duckdb",)
    check = subprocess.run(
        [sys.executable, "-c", API_CHECK], check=False, capture_output=True, text=True
    )
    found.api = check.returncode == 0
    found.api_engines = tuple(e for e in check.stdout.strip().split(",") if e)
    if not found.api:
        last = check.stderr.strip().splitlines()[-1:] or ["no output"]
        found.why.append(f"`import leadscore` fails: {last[0]}")
    return found


def inputs(folder: Path) -> list[str]:
    return ["--leads", str(folder / "leads.parquet"), "--events", str(folder / "events.parquet")]


def script(name: str) -> list[str]:
    return [sys.executable, str(BENCH / name)]


def reference_argv(
    folder: Path, out: Path, memory_limit: str | None, threads: int | None = None
) -> list[str]:
    argv = [*script("reference.py"), *inputs(folder), "--out", str(out), "--as-of", AS_OF]
    argv += ["--memory-limit", memory_limit] if memory_limit else []
    return argv + (["--threads", str(threads)] if threads else [])


def cli_argv(
    cmd: list[str],
    model: Path,
    folder: Path,
    out: Path,
    limit: str | None,
    engine: str = "duckdb",
) -> list[str]:
    argv = [*cmd, "score", "--model", str(model), *inputs(folder)]
    argv += ["--as-of", AS_OF, "--out", str(out)]
    argv += ["--memory-limit", limit] if limit else []
    if engine == "postgres":
        argv += ["--engine", "postgres", "--db", PG_URL]
    elif engine == "spark":
        argv += ["--engine", "spark"]
    return argv


def api_argv(
    model: Path, folder: Path, out: Path, limit: str | None, engine: str = "duckdb"
) -> list[str]:
    leads, events = folder / "leads.parquet", folder / "events.parquet"
    args = [str(model), str(leads), str(events), str(out), AS_OF, limit or ""]
    if engine != "duckdb":
        args += [engine, PG_URL if engine == "postgres" else ""]
    return [sys.executable, "-c", API_CALL, *args]


def on_cores(argv: list[str], threads: int) -> list[str]:
    """argv pinned to the first `threads` cores (when there are more)."""
    if threads >= (os.cpu_count() or 1) or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", f"0-{threads - 1}", *argv]


def bench_duckdb_and_polars(
    size: str,
    folder: Path,
    result: SizeResult,
    *,
    engines: list[str],
    model: Path,
    found: Leadscore,
    memory_limit: str | None,
    console: Console,
) -> None:
    results = folder / "results"
    sides: dict[str, list[Run]] = {}
    # interleaved, so that a busy machine slows every side alike
    for rep in range(REPETITIONS[size]):
        console.print(f"[dim]{size}: repetition {rep + 1} of {REPETITIONS[size]}[/]")
        todo: list[tuple[str, list[str], str, Path]] = []
        out = results / "reference.parquet"
        todo.append(("reference", reference_argv(folder, out, memory_limit), "reference", out))
        if "duckdb" in engines and found.command:
            out = results / "leadscore-command.parquet"
            argv = cli_argv(found.command, model, folder, out, memory_limit)
            todo.append(("command", argv, "leadscore score (command)", out))
        if "duckdb" in engines and found.api:
            out = results / "leadscore-api.parquet"
            argv = api_argv(model, folder, out, memory_limit)
            todo.append(("api", argv, "leadscore.score_file (in-process)", out))
        if "polars" in engines:
            out = results / "polars.parquet"
            argv = [*script("reference_polars.py"), *inputs(folder), "--out", str(out)]
            todo.append(("polars", argv, "Polars (hand-written, lazy)", out))
        for key, argv, what, out in todo:
            sides.setdefault(key, []).append(measure(argv, what, out))
    result.runs |= {key: best(runs) for key, runs in sides.items()}
    if size == LIMITED_SIZE and "duckdb" in engines:
        console.print(f"[dim]{size}: --memory-limit {LIMIT}[/]")
        out = results / "reference-limited.parquet"
        argv = reference_argv(folder, out, LIMIT)
        result.runs["limited_reference"] = measure(argv, f"reference query, {LIMIT}", out)
        if found.command:
            out = results / "leadscore-limited.parquet"
            argv = cli_argv(found.command, model, folder, out, LIMIT)
            result.runs["limited"] = measure(argv, f"leadscore score --memory-limit {LIMIT}", out)


def bench_servers(
    size: str,
    folder: Path,
    result: SizeResult,
    *,
    engines: list[str],
    model: Path,
    found: Leadscore,
    console: Console,
) -> None:
    results = folder / "results"
    for engine in SERVER_ENGINES:
        if engine not in engines:
            continue
        if size not in SERVER_SIZES:
            result.notes.append(f"{engine}: measured at {' and '.join(SERVER_SIZES)} only")
            continue
        console.print(f"[dim]{size}: {engine}[/]")
        out = results / f"{engine}-reference.parquet"
        argv = [*script(f"reference_{engine}.py"), *inputs(folder), "--out", str(out)]
        if engine == "postgres":
            # a schema per size, loaded afresh (the load is timed) and dropped after
            argv += ["--db", PG_URL, "--schema", f"leadscore_bench_{size}", "--reload", "--drop"]
        runs = [measure(argv, f"{engine} hand-written SQL", out) for _ in range(SERVER_REPETITIONS)]
        result.runs[f"{engine}_reference"] = best(runs)
        if found.command and engine in found.engines:
            out = results / f"{engine}-command.parquet"
            argv = cli_argv(found.command, model, folder, out, None, engine)
            runs = [
                measure(argv, f"leadscore score --engine {engine}", out)
                for _ in range(SERVER_REPETITIONS)
            ]
            result.runs[f"{engine}_command"] = best(runs)
        if found.api and engine in found.api_engines:
            out = results / f"{engine}-api.parquet"
            argv = api_argv(model, folder, out, None, engine)
            what = f"leadscore.score_file(engine={engine!r})"
            runs = [measure(argv, what, out) for _ in range(SERVER_REPETITIONS)]
            result.runs[f"{engine}_api"] = best(runs)
        if f"{engine}_command" not in result.runs and f"{engine}_api" not in result.runs:
            result.notes.append(
                f"{engine}: leadscore cannot score on {engine} yet; the hand-written "
                "query is shown alone"
            )


def bench_size(
    size: str,
    *,
    engines: list[str],
    model: Path,
    found: Leadscore,
    memory_limit: str | None,
    console: Console,
) -> SizeResult:
    folder = ensure_data(size, console)
    (folder / "results").mkdir(exist_ok=True)
    n_events = pq.ParquetFile(folder / "events.parquet").metadata.num_rows
    result = SizeResult(size, n_events)
    common: dict[str, Any] = {"engines": engines, "model": model, "found": found}
    bench_duckdb_and_polars(
        size, folder, result, memory_limit=memory_limit, console=console, **common
    )
    bench_servers(size, folder, result, console=console, **common)
    if "duckdb" in engines and found.command:
        bench_quality(size, folder, result, found.command)
    reference = result.runs["reference"].output
    for key, run in result.runs.items():
        if key in ("reference", "limited_reference"):
            continue
        mismatches, examples = compare(reference, run.output)
        for col, n in mismatches.items():
            result.mismatches[f"{run.what}: {col}"] = n
        result.examples += [{"run": run.what, **e} for e in examples]
    return result


DERIVE_CALL = """
import json, sys, time
from leadscore.engine.io import connect, read_table, write_table
from leadscore.quality import derive
leads, out = sys.argv[1:]
start = time.perf_counter()
con = connect()
write_table(con, derive(read_table(con, leads, "leads", "leads")), out)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def bench_quality(size: str, folder: Path, result: SizeResult, command: list[str]) -> None:
    """The data-quality step (issue 4: under 15 s at 1M leads, <= 30 % of scoring).

    Every derived field of SPEC §2 over the size's leads, as scoring computes them
    (the benchmark model reads none, so its scoring skips the step), and
    ``leadscore clean``, which adds the fuzzy duplicate search and the summary.
    """
    leads = str(folder / "leads.parquet")
    derived = folder / "results" / "derived.parquet"
    step = measure([sys.executable, "-c", DERIVE_CALL, leads, str(derived)], "derive", derived)
    out = folder / "results" / "clean.parquet"
    clean = measure([*command, "clean", "-l", leads, "-o", str(out)], "leadscore clean", out)
    n_leads = pq.ParquetFile(folder / "leads.parquet").metadata.num_rows
    scoring = result.runs.get("command")
    share = f" ({step.seconds / scoring.wall:.0%} of leadscore score's time)" if scoring else ""
    result.notes.append(
        f"data-quality step on {n_leads:,} leads: every derived field {step.seconds:.2f} s"
        f"{share}, peak {step.peak / 2**20:,.0f} MiB; leadscore clean {clean.wall:.2f} s"
    )


def bench_cores(
    size: str, threads: list[int], *, model: Path, found: Leadscore, console: Console
) -> list[CoresResult]:
    """The size on 1..n cores: DuckDB `threads` n, pinned to n cores with taskset."""
    folder = ensure_data(size, console)
    results = folder / "results"
    n_events = pq.ParquetFile(folder / "events.parquet").metadata.num_rows
    rows: list[CoresResult] = []
    for n in threads:
        console.print(f"[dim]{size}: {n} core(s)[/]")
        out = results / f"reference-{n}-cores.parquet"
        argv = on_cores(reference_argv(folder, out, None, n), n)
        row = CoresResult(size, n_events, n, measure(argv, f"reference, {n} cores", out))
        if found.api:
            out = results / f"leadscore-api-{n}-cores.parquet"
            argv = on_cores(api_argv(model, folder, out, None), n)
            env = {**os.environ, "LEADSCORE_BENCH_THREADS": str(n)}
            row.api = measure(argv, f"leadscore.score_file, {n} cores", out, env)
        rows.append(row)
    return rows


def parse_list(text: str, allowed: tuple[str, ...] | dict[str, int], what: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in items if s not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what} {unknown}; choose from {', '.join(allowed)}")
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="small,medium,large")
    parser.add_argument("--engines", default=",".join(ENGINES), help=",".join(ENGINES))
    parser.add_argument("--memory-limit", help="passed to the DuckDB reference and leadscore")
    parser.add_argument(
        "--threads",
        default=f"1,{os.cpu_count() or 1}",
        help="cores for the scaling runs of the largest size (default: 1 and all)",
    )
    parser.add_argument("--no-cores", action="store_true", help="skip the scaling runs")
    parser.add_argument(
        "--model", type=Path, default=SHARED_BENCH / "model.yaml", help="the bench model"
    )
    args = parser.parse_args(argv)
    sizes = parse_list(args.sizes, SIZES, "size(s)")
    engines = parse_list(args.engines, ENGINES, "engine(s)")
    threads = sorted({int(n) for n in args.threads.split(",") if n.strip()})
    # a table that a pipe or a log file (80 columns by default) does not fold
    console = Console(width=None if sys.stdout.isatty() else 120)
    loads = [os.getloadavg()[0]]
    console.print(f"[dim]{os.cpu_count()} cores, load average {loads[0]:.1f}[/]")
    found = find_leadscore()
    for reason in found.why:
        console.print(f"[yellow]leadscore not available: {reason}[/]")
    results: list[SizeResult] = []
    cores: list[CoresResult] = []
    failure = ""
    try:
        for size in sizes:
            results.append(
                bench_size(
                    size,
                    engines=engines,
                    model=args.model,
                    found=found,
                    memory_limit=args.memory_limit,
                    console=console,
                )
            )
            loads.append(os.getloadavg()[0])
        if not args.no_cores and "duckdb" in engines and len(threads) > 1:
            largest = max(sizes, key=lambda s: SIZES[s])
            cores = bench_cores(largest, threads, model=args.model, found=found, console=console)
            loads.append(os.getloadavg()[0])
    except CommandFailed as exc:
        failure = str(exc)
    render(results, cores, loads, console)
    if failure:
        console.print(f"[red]{failure}[/]")
        return 1
    DATA.mkdir(exist_ok=True)
    figures = {
        "cpu_count": os.cpu_count(),
        "load_averages": loads,
        "sizes": [asdict(r) for r in results],
        "cores": [asdict(c) for c in cores],
    }
    (DATA / "last-run.json").write_text(json.dumps(figures, default=str, indent=2) + "\n")
    failed = [r for r in results if r.mismatches]
    for r in failed:
        console.print(f"[red]{r.size}: results differ from the DuckDB reference's:[/]")
        for col, n in r.mismatches.items():
            console.print(f"  {col}: {n:,} leads")
        for example in r.examples:
            console.print(f"  {example}")
    if failed:
        return 1
    console.print(
        f"[green]results: every side equals the DuckDB reference on every lead "
        f"({', '.join(sizes)})[/]"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
