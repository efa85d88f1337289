"""One measured command of `make bench`: wall time, the work's own time, peak memory.

Every measurement runs in a fresh wrapper process (WRAPPER), so that the peak RSS is
that command's alone: the wrapper reports the largest ru_maxrss of its waited-for
children (exact for a one-process engine such as DuckDB or Polars) and, sampled every
100 ms, the summed RSS of its whole process tree, which also catches a JVM that Spark
starts and never waits for. The peak is the larger of the two. A PostgreSQL server's
processes are not in the tree: the PostgreSQL reference reports its backend's peak
itself (`server_peak`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# argv: REPORT COMMAND...; writes {"wall", "peak_kib", "tree_peak_kib", "code"} to REPORT.
WRAPPER = """
import json, os, resource, subprocess, sys, threading, time

def tree_rss_kib(root):
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            pass
    return total

start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
tree_peak = 0
stop = threading.Event()

def sample():
    global tree_peak
    while not stop.is_set():
        tree_peak = max(tree_peak, tree_rss_kib(proc.pid))
        stop.wait(0.1)

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
code = proc.wait()
wall = time.perf_counter() - start
stop.set()
sampler.join()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as f:
    json.dump({"wall": wall, "peak_kib": peak, "tree_peak_kib": tree_peak, "code": code}, f)
"""


@dataclass
class Run:
    """One measured command.

    `seconds` is the work as the command reports it (a JSON line with "seconds" on
    its stdout), else its wall time; `setup` is the loading it reports apart
    ("load_seconds": uploading to PostgreSQL, starting Spark); `peak` is the peak RSS
    of its process tree in bytes; `server_peak` the peak RSS it reports for a server
    process outside that tree.
    """

    what: str
    seconds: float
    wall: float
    peak: int
    output: Path
    setup: float = 0.0
    server_peak: int = 0


class CommandFailed(RuntimeError):
    pass


def measure(argv: list[str], what: str, output: Path, env: dict[str, str] | None = None) -> Run:
    """Run argv in a fresh wrapper (see the module docstring) and read its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report = Path(handle.name)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(report), *argv],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        stats = json.loads(report.read_text()) if report.stat().st_size else {}
    finally:
        report.unlink(missing_ok=True)
    if proc.returncode != 0 or stats.get("code") != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise CommandFailed(f"{what} failed (exit {stats.get('code')}):\n{tail}")
    inner: dict[str, float] = {}
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            inner = json.loads(line)
            break
    wall = float(stats["wall"])
    peak = max(int(stats["peak_kib"]), int(stats.get("tree_peak_kib", 0))) * 1024
    return Run(
        what,
        float(inner.get("seconds", wall)),
        wall,
        peak,
        output,
        setup=float(inner.get("load_seconds", 0.0)),
        server_peak=int(inner.get("server_peak", 0)),
    )


def best(runs: list[Run]) -> Run:
    """Best time over the repetitions, the lowest peak RSS (same rule for every side),
    and the setup of the first when a later one may reuse what it loaded (setup 0),
    else the best run's own (DuckDB connects anew each run: its connect + query)."""
    top = min(runs, key=lambda r: r.seconds)
    return Run(
        top.what,
        top.seconds,
        min(r.wall for r in runs),
        min(r.peak for r in runs),
        top.output,
        setup=top.setup if all(r.setup for r in runs) else runs[0].setup,
        server_peak=min(r.server_peak for r in runs),
    )
