"""`make bench`: leadscore against a hand-written DuckDB query of the same model.

    python bench/run.py [--sizes small,medium,large] [--memory-limit 4GB]

For each size of ../shared/bench/README.md (data generated once into .bench/<size>/),
measures in fresh subprocesses, each under its own wrapper so that peak RSS is that
command's alone:

- the reference query (bench/reference.sql, `COPY (query) TO x.parquet`);
- `leadscore score ...` as a whole command, start-up included;
- `leadscore.score_file(...)` in-process, timing the call only (import excluded);

and prints seconds, events/s, peak RSS and the ratios leadscore / reference (targets:
time <= 1.2x, memory <= 1.1x), a 2GB memory-limit run of the large size, and a
per-lead comparison of the results. Exits non-zero when leadscore fails or its results
differ from the reference's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".bench"
SHARED_BENCH = ROOT.parent / "shared" / "bench"
AS_OF = "2025-06-01T00:00:00Z"
SIZES = {"small": 10_000, "medium": 100_000, "large": 1_000_000}
EVENTS_PER_LEAD = 50
SEED = 1
REPETITIONS = {"small": 2, "medium": 2, "large": 1}
LIMITED_SIZE, LIMIT = "large", "2GB"
TIME_TARGET, MEMORY_TARGET = 1.2, 1.1
REL_TOL = 1e-9

# Runs argv[2:] as a child, then writes its wall time and the peak RSS of its process
# tree (ru_maxrss of the waited-for children, KiB on Linux) as JSON to argv[1]. A fresh
# wrapper per measurement: RUSAGE_CHILDREN is a maximum over every child ever waited for.
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as f:
    json.dump({"wall": wall, "peak_kib": peak, "code": code}, f)
"""

# The in-process measurement: the call alone is timed, after the import and the model.
API_CALL = """
import json, sys, time
import leadscore
model, leads, events, out, as_of, memory_limit = sys.argv[1:7]
m = leadscore.load_model(model)
start = time.perf_counter()
leadscore.score_file(m, leads, events, out, as_of=as_of, memory_limit=memory_limit or None)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""

API_CHECK = "import leadscore; leadscore.load_model; leadscore.score_file"


@dataclass
class Run:
    """One measured command: best seconds over its repetitions, peak RSS in bytes."""

    what: str
    seconds: float
    wall: float
    peak: int
    output: Path


@dataclass
class SizeResult:
    size: str
    events: int
    reference: Run
    cli: Run | None = None
    api: Run | None = None
    limited: Run | None = None
    limited_reference: Run | None = None
    mismatches: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)


class CommandFailed(RuntimeError):
    pass


def measure(argv: list[str], what: str, output: Path) -> Run:
    """Run argv in a fresh wrapper; its stdout may carry {"seconds": ...} of the work."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report = Path(handle.name)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(report), *argv],
            capture_output=True,
            text=True,
            check=False,
        )
        stats = json.loads(report.read_text()) if report.stat().st_size else {}
    finally:
        report.unlink(missing_ok=True)
    if proc.returncode != 0 or stats.get("code") != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise CommandFailed(f"{what} failed (exit {stats.get('code')}):\n{tail}")
    inner = None
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            inner = json.loads(line).get("seconds")
            break
    wall = float(stats["wall"])
    seconds = float(inner) if inner is not None else wall
    return Run(what, seconds, wall, int(stats["peak_kib"]) * 1024, output)


def best(runs: list[Run]) -> Run:
    """Best time over the repetitions, and the lowest peak RSS (same rule for every side)."""
    top = min(runs, key=lambda r: r.seconds)
    return Run(
        top.what,
        top.seconds,
        min(r.wall for r in runs),
        min(r.peak for r in runs),
        top.output,
    )


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


def leadscore_command() -> tuple[list[str] | None, str]:
    """The `leadscore` executable of this environment, or why there is none."""
    exe = Path(sys.executable).parent / "leadscore"
    found = str(exe) if exe.exists() else shutil.which("leadscore")
    if not found:
        return None, "no `leadscore` command in this environment"
    probe = subprocess.run([found, "score", "--help"], check=False, capture_output=True)
    if probe.returncode != 0:
        text = (probe.stderr or probe.stdout).decode(errors="replace")
        last = text.strip().splitlines()[-1:] or ["no output"]
        return None, f"`leadscore score --help` exits {probe.returncode}: {last[0]}"
    return [found], ""


def leadscore_api() -> str:
    """Empty when the Python API can be imported, else why not."""
    probe = subprocess.run(
        [sys.executable, "-c", API_CHECK], check=False, capture_output=True, text=True
    )
    if probe.returncode == 0:
        return ""
    last = probe.stderr.strip().splitlines()[-1:] or ["no output"]
    return f"`import leadscore` fails: {last[0]}"


def reference_argv(folder: Path, out: Path, memory_limit: str | None) -> list[str]:
    argv = [sys.executable, str(Path(__file__).with_name("reference.py"))]
    argv += ["--leads", str(folder / "leads.parquet"), "--events", str(folder / "events.parquet")]
    argv += ["--out", str(out), "--as-of", AS_OF]
    return argv + (["--memory-limit", memory_limit] if memory_limit else [])


def cli_argv(cmd: list[str], model: Path, folder: Path, out: Path, limit: str | None) -> list[str]:
    argv = [*cmd, "score", "--model", str(model), "--leads", str(folder / "leads.parquet")]
    argv += ["--events", str(folder / "events.parquet"), "--as-of", AS_OF, "--out", str(out)]
    return argv + (["--memory-limit", limit] if limit else [])


def api_argv(model: Path, folder: Path, out: Path, limit: str | None) -> list[str]:
    leads, events = folder / "leads.parquet", folder / "events.parquet"
    args = [str(model), str(leads), str(events), str(out), AS_OF, limit or ""]
    return [sys.executable, "-c", API_CALL, *args]


def compare(reference: Path, candidate: Path) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Per-column counts of leads whose results differ, and a few examples.

    Numbers agree to 1e-9 relative (SPEC §3); the rest exactly, null equal to null.
    Interest scores are compared too when the candidate has `interest:<id>` columns.
    """
    con = duckdb.connect()
    names = {
        d[0] for d in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{candidate}')").fetchall()
    }
    numeric = {c: c for c in ["fit", "engagement", "score"]}
    numeric |= {
        f"interest_{i}": f'"interest:{i}"'
        for i in ("lathes", "robotics", "service")
        if f"interest:{i}" in names
    }
    exact = ["grade", "matrix", "stage", "top_interest"]

    def close(ref: str, cand: str) -> str:
        a, b = f"r.{ref}", f"c.{cand}"
        return (
            f"coalesce({a} IS NOT DISTINCT FROM {b} OR abs({a} - {b}) <= "
            f"greatest({REL_TOL} * greatest(abs({a}), abs({b})), 1e-12), false)"
        )

    checks = {ref: close(ref, cand) for ref, cand in numeric.items()}
    checks |= {col: f"r.{col}::VARCHAR IS NOT DISTINCT FROM c.{col}::VARCHAR" for col in exact}
    checks["level"] = "TRY_CAST(r.level AS BIGINT) IS NOT DISTINCT FROM TRY_CAST(c.level AS BIGINT)"
    checks["lead present on both sides"] = "r.lead_id IS NOT NULL AND c.lead_id IS NOT NULL"
    joined = (
        f"(SELECT *, lead_id::VARCHAR AS k FROM read_parquet('{reference}')) AS r "
        f"FULL OUTER JOIN (SELECT *, lead_id::VARCHAR AS k FROM read_parquet('{candidate}')) AS c "
        "USING (k)"
    )
    counts = ", ".join(f"count(*) FILTER (WHERE NOT ({cond}))" for cond in checks.values())
    row = con.execute(f"SELECT {counts} FROM {joined}").fetchone() or ()
    mismatches = {col: int(n) for col, n in zip(checks, row, strict=True) if n}
    examples: list[dict[str, Any]] = []
    if mismatches:
        bad = " OR ".join(f"NOT ({checks[col]})" for col in mismatches)
        pairs = [*numeric.items(), *((c, c) for c in [*exact, "level"])]
        cols = ", ".join(f"r.{ref} AS ref_{ref}, c.{cand} AS got_{ref}" for ref, cand in pairs)
        rel = con.execute(f"SELECT k AS lead_id, {cols} FROM {joined} WHERE {bad} LIMIT 5")
        fields = [d[0] for d in rel.description]
        for values in rel.fetchall():
            example = dict(zip(fields, values, strict=True))
            # only the differing columns, to keep the report short
            keep = {"lead_id": example["lead_id"]}
            for ref, _ in pairs:
                if str(example[f"ref_{ref}"]) != str(example[f"got_{ref}"]):
                    keep[ref] = (example[f"ref_{ref}"], example[f"got_{ref}"])
            examples.append(keep)
    return mismatches, examples


def bench_size(
    size: str,
    *,
    model: Path,
    cli: list[str] | None,
    api_ok: bool,
    memory_limit: str | None,
    console: Console,
) -> SizeResult:
    folder = ensure_data(size, console)
    results = folder / "results"
    results.mkdir(exist_ok=True)
    n_events = pq.ParquetFile(folder / "events.parquet").metadata.num_rows
    ref_out = results / "reference.parquet"
    cli_out = results / "leadscore-command.parquet"
    api_out = results / "leadscore-api.parquet"
    ref_runs: list[Run] = []
    cli_runs: list[Run] = []
    api_runs: list[Run] = []
    # interleaved, so that a busy machine slows every side alike
    for rep in range(REPETITIONS[size]):
        console.print(f"[dim]{size}: repetition {rep + 1} of {REPETITIONS[size]}[/]")
        ref_runs.append(
            measure(reference_argv(folder, ref_out, memory_limit), "reference query", ref_out)
        )
        if cli:
            argv = cli_argv(cli, model, folder, cli_out, memory_limit)
            cli_runs.append(measure(argv, "leadscore score (command)", cli_out))
        if api_ok:
            argv = api_argv(model, folder, api_out, memory_limit)
            api_runs.append(measure(argv, "leadscore.score_file (in-process)", api_out))
    result = SizeResult(size, n_events, best(ref_runs))
    result.cli = best(cli_runs) if cli_runs else None
    result.api = best(api_runs) if api_runs else None
    if size == LIMITED_SIZE:
        console.print(f"[dim]{size}: --memory-limit {LIMIT}[/]")
        lim_out = results / "reference-limited.parquet"
        result.limited_reference = measure(
            reference_argv(folder, lim_out, LIMIT), f"reference query, {LIMIT}", lim_out
        )
        if cli:
            lim_out = results / "leadscore-limited.parquet"
            argv = cli_argv(cli, model, folder, lim_out, LIMIT)
            result.limited = measure(argv, f"leadscore score --memory-limit {LIMIT}", lim_out)
    for run in (result.cli, result.api, result.limited):
        if run is None:
            continue
        mismatches, examples = compare(ref_out, run.output)
        for col, n in mismatches.items():
            result.mismatches[f"{run.what}: {col}"] = n
        result.examples += [{"run": run.what, **e} for e in examples]
    return result


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def verdict(value: float, target: float) -> str:
    return f"[green]{value:.2f}x[/]" if value <= target else f"[red]{value:.2f}x[/]"


def render(results: list[SizeResult], console: Console) -> None:
    table = Table(
        title=f"leadscore vs hand-written DuckDB SQL (bench/reference.sql), as of {AS_OF}",
        title_justify="left",
        caption=(
            f"targets: time <= {TIME_TARGET}x, memory <= {MEMORY_TARGET}x. The command's "
            "ratio is to the reference's whole process (start-up included), the API's to "
            "the reference query alone. Best of "
            + ", ".join(f"{n} ({s})" for s, n in REPETITIONS.items())
            + " runs; peak RSS of each process."
        ),
        caption_justify="left",
    )
    table.add_column("size")
    table.add_column("what")
    for name in ("seconds", "events/s", "peak RSS", "time ratio", "memory ratio"):
        table.add_column(name, justify="right")
    for r in results:
        ref = r.reference
        table.add_row(
            f"{r.size}\n{r.events:,} events",
            "reference query\n  whole process",
            f"{ref.seconds:.2f}\n{ref.wall:.2f}",
            f"{r.events / ref.seconds:,.0f}",
            gib(ref.peak),
            "",
            "",
        )
        for run, base, label in (
            (r.cli, ref.wall, "leadscore score (command)"),
            (r.api, ref.seconds, "leadscore.score_file (API)"),
        ):
            if run is not None:
                table.add_row(
                    "",
                    label,
                    f"{run.seconds:.2f}",
                    f"{r.events / run.seconds:,.0f}",
                    gib(run.peak),
                    verdict(run.seconds / base, TIME_TARGET),
                    verdict(run.peak / ref.peak, MEMORY_TARGET),
                )
        for run in (r.limited_reference, r.limited):
            if run is not None:
                table.add_row(
                    "",
                    run.what,
                    f"{run.seconds:.2f}",
                    f"{r.events / run.seconds:,.0f}",
                    gib(run.peak),
                    "",
                    "",
                )
        table.add_section()
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="e.g. small,medium")
    parser.add_argument("--memory-limit", help="passed to the reference query and to leadscore")
    parser.add_argument(
        "--model", type=Path, default=SHARED_BENCH / "model.yaml", help="the bench model"
    )
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    # a table that a pipe or a log file (80 columns by default) does not fold
    console = Console(width=None if sys.stdout.isatty() else 120)
    load = os.getloadavg()[0]
    console.print(
        f"[dim]{os.cpu_count()} cores, load average {load:.1f} "
        f"{'(busy machine: timings are noisy)' if load > 0.5 else ''}[/]"
    )
    cli, why_cli = leadscore_command()
    why_api = leadscore_api()
    for reason in (why_cli, why_api):
        if reason:
            console.print(f"[yellow]leadscore not available: {reason}[/]")
    results: list[SizeResult] = []
    try:
        for size in sizes:
            results.append(
                bench_size(
                    size,
                    model=args.model,
                    cli=cli,
                    api_ok=not why_api,
                    memory_limit=args.memory_limit,
                    console=console,
                )
            )
    except CommandFailed as exc:
        if results:
            render(results, console)
        console.print(f"[red]{exc}[/]")
        return 1
    render(results, console)
    DATA.mkdir(exist_ok=True)
    (DATA / "last-run.json").write_text(
        json.dumps([asdict(r) for r in results], default=str, indent=2) + "\n"
    )
    failed = [r for r in results if r.mismatches]
    for r in failed:
        console.print(f"[red]{r.size}: leadscore's results differ from the reference's:[/]")
        for col, n in r.mismatches.items():
            console.print(f"  {col}: {n:,} leads")
        for example in r.examples:
            console.print(f"  {example}")
    if failed:
        return 1
    if cli or not why_api:
        console.print(
            f"[green]results: leadscore equals the reference on every lead ({', '.join(sizes)})[/]"
        )
    else:
        console.print("[yellow]results not compared: leadscore not available[/]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
