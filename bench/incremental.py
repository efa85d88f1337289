"""`make bench` (second part): incremental re-scoring against a full run.

    python bench/incremental.py [--sizes small,medium,large]

For each size (data of bench/run.py in .bench/<size>/), scores the bench model as of
AS_OF once in full (yesterday's results), then adds one late event (timestamp one
hour before AS_OF, a pricing-page view) to 1 % of the leads and measures, as whole
`leadscore score` commands in fresh processes:

- **same T**: the full run and `--since yesterday` at AS_OF (only the 1 % changed);
- **next day**: both at AS_OF + 1 day. The bench model decays (half-life 30 days),
  so every lead with an event in its window changes with T and is scored again;
- **next day, no decay**: the same model without `half_life_days`: only the leads
  with a new event or an event crossing the window or an inactivity horizon;
- **told the new events** (same T, and next day without decay): `--new-events`
  with the late events alone, so the other leads' events are not read in full;
- **told, from kept aggregates** (same T): yesterday's run kept its state
  (`--keep-state`), so the told run merges the chosen leads' kept aggregates with
  their new events' and reads no old event. Measured twice: the first run is
  compiled and kept, the second replayed by DuckDB alone, as every later day's run
  of the same job is (`leadscore.engine.kept_runs`);
- **next day, told, from kept aggregates** (with decay and without): the kept rows
  are read at the new T (ages grow, decayed sums shrink: `state.moved`), so with
  decay every lead with kept aggregates is scored again from them, without reading
  its events; the events leaving the window or the look-back are taken out of
  them, those entering (dated between the instants) merged (`state.moving`); only
  a lead with such an event whose id another event holds is read from its events.
  Measured once (compiled; the same job the next day is replayed: both instants
  are session variables in its SQL).

Each incremental result is compared with its full run lead by lead (numbers to 1e-9
relative). Prints seconds, peak RSS, leads re-scored and the ratio incremental/full
(target at the same T: <= 0.05 at the large size). Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table
from ruamel.yaml import YAML

from measure import Run, measure
from run import AS_OF, DATA, SHARED_BENCH, ensure_data

SHARE = 0.01


def late_events(folder: Path) -> tuple[Path, Path]:
    """events.parquet plus one late pricing-page view for 1 % of the leads (seed 7),
    and those late events alone (for `--new-events`)."""
    target, alone = folder / "events_late.parquet", folder / "events_new.parquet"
    if target.exists() and alone.exists():
        return target, alone
    leads = pq.read_table(folder / "leads.parquet", columns=["lead_id"]).column("lead_id")
    chosen = np.random.default_rng(7).choice(leads.to_numpy(), int(len(leads) * SHARE), False)
    events = pq.ParquetFile(folder / "events.parquet")
    schema = events.schema_arrow
    at = datetime.fromisoformat(AS_OF.replace("Z", "+00:00")) - timedelta(hours=1)
    first_id = 10**12
    extra = {
        "event_id": pa.array(range(first_id, first_id + len(chosen)), pa.int64()),
        "lead_id": pa.array(chosen, pa.int64()),
        "type": pa.array(["page_view"] * len(chosen)),
        "timestamp": pa.array([at] * len(chosen), schema.field("timestamp").type),
        "url": pa.array(["https://www.acme-lathes.com/pricing"] * len(chosen)),
    }
    late = pa.table(
        {f.name: extra.get(f.name, pa.nulls(len(chosen), f.type)) for f in schema}, schema=schema
    )
    partial = target.with_suffix(".partial")
    with pq.ParquetWriter(partial, schema) as writer:
        for batch in events.iter_batches(batch_size=131_072):
            writer.write_batch(batch)
        writer.write_table(late)
    partial.rename(target)
    pq.write_table(late, alone.with_suffix(".partial"))
    alone.with_suffix(".partial").rename(alone)
    return target, alone


def undecayed_model(work: Path) -> Path:
    """The bench model without decay (half_life_days removed)."""
    yaml = YAML()
    model = yaml.load((SHARED_BENCH / "model.yaml").read_text())
    del model["engagement"]["half_life_days"]
    target = work / "model_no_decay.yaml"
    with target.open("w") as handle:
        yaml.dump(model, handle)
    return target


# In a fresh process: the call alone is timed; the plan of a --since run goes to PLAN.
API_CALL = """
import json, sys, time
import leadscore
model, leads, events, out, as_of, since, new, plan, keep = sys.argv[1:]
m = leadscore.load_model(model)
score_file = leadscore.score_file  # imported here: leadscore's names load on first use
plans = []
start = time.perf_counter()
told = {"new_events": new} if new else {}
score_file(m, leads, events, out, as_of=as_of, since=since or None, planned=plans.append,
           keep_state=keep == "1", **told)
seconds = time.perf_counter() - start
if plans:
    open(plan, "w").write(json.dumps({"rescored": plans[0].rescored, "text": str(plans[0])}))
print(json.dumps({"seconds": seconds}))
"""


def score(
    model: Path,
    folder: Path,
    events: Path,
    out: Path,
    as_of: str,
    since: Path | None = None,
    new: Path | None = None,
    keep_state: bool = False,
) -> tuple[Run, dict[str, Any]]:
    """One measured scoring call in a fresh process, and the plan of a --since run
    (told the ``new`` events, when given); ``keep_state``: a full run keeps its state."""
    plan = out.with_suffix(".plan.json")
    plan.unlink(missing_ok=True)
    leads = folder / "leads.parquet"
    argv = [sys.executable, "-c", API_CALL, str(model), str(leads), str(events), str(out)]
    argv += [as_of, str(since or ""), str(new or ""), str(plan), "1" if keep_state else "0"]
    run = measure(argv, f"score {'--since' if since else 'full'} {out.name}", out)
    return run, json.loads(plan.read_text()) if plan.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium", help="small,medium,large")
    args = parser.parse_args(argv)
    console = Console()
    table = Table(title="Incremental re-scoring (`score --since`) against a full run")
    for column in ("size", "scenario", "re-scored", "full s", "--since s", "ratio", "peak GiB"):
        table.add_column(column, justify="right" if column != "scenario" else "left")
    failed = False
    for size in args.sizes.split(","):
        folder = ensure_data(size, console)
        work = DATA / "incremental" / size
        work.mkdir(parents=True, exist_ok=True)
        events, new = late_events(folder)
        model = SHARED_BENCH / "model.yaml"
        plain = undecayed_model(work)
        next_day = (
            (datetime.fromisoformat(AS_OF.replace("Z", "+00:00")) + timedelta(days=1))
            .astimezone(UTC)
            .strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        scenarios = [
            ("same T, 1 % late events", model, AS_OF, None, False),
            ("same T, told the new events", model, AS_OF, new, False),
            ("same T, told, from kept aggregates (1st run)", model, AS_OF, new, True),
            ("same T, told, from kept aggregates (2nd run)", model, AS_OF, new, True),
            ("next day (decay)", model, next_day, None, False),
            ("next day, no decay", plain, next_day, None, False),
            ("next day, no decay, told the new events", plain, next_day, new, False),
            ("next day (decay), told, from kept aggregates", model, next_day, new, True),
            ("next day, no decay, told, from kept aggregates", plain, next_day, new, True),
        ]
        baselines: dict[tuple[Path, bool], Path] = {}
        fulls: dict[tuple[Path, str], Run] = {}
        for name, used, as_of, told, kept in scenarios:
            if (used, kept) not in baselines:  # yesterday's output (keeping its state)
                yesterday = work / f"yesterday_{used.stem}{'_kept' if kept else ''}.parquet"
                original = folder / "events.parquet"
                score(used, folder, original, yesterday, AS_OF, keep_state=kept)
                baselines[used, kept] = yesterday
            slug = re.sub(r"\W+", "_", name)
            if (used, as_of) not in fulls:  # one full run per model and instant
                fulls[used, as_of], _ = score(
                    used, folder, events, work / f"full_{slug}.parquet", as_of
                )
            full = fulls[used, as_of]
            since, plan = score(
                used, folder, events, work / f"since_{slug}.parquet", as_of,
                baselines[used, kept], told,
            )  # fmt: skip
            mismatches = differences(full.output, since.output)
            if mismatches:
                failed = True
                console.print(f"[red]{size} {name}: results differ: {mismatches}")
            total = pq.read_metadata(full.output).num_rows
            table.add_row(
                size,
                name,
                f"{plan.get('rescored', total):,} of {total:,}",
                f"{full.seconds:.2f}",
                f"{since.seconds:.2f}",
                f"{since.seconds / full.seconds:.3f}",
                f"{since.peak / 2**30:.2f}",
            )
    console.print(table)
    return 1 if failed else 0


def differences(full: Path, since: Path) -> dict[str, int]:
    """Per column, the leads whose values differ (numbers to 1e-9 relative)."""
    con = duckdb.connect()
    schema = con.execute(f"DESCRIBE SELECT * FROM '{full}'").fetchall()
    tests = []
    for name, kind, *_ in schema:
        a, b = f'f."{name}"', f's."{name}"'
        if kind == "DOUBLE":
            same = f"coalesce(abs({a} - {b}) <= 1e-9 * greatest(abs({a}), abs({b}), 1e-3), false)"
            same = f"(({a} IS NULL AND {b} IS NULL) OR {same})"
        else:
            same = f"{a} IS NOT DISTINCT FROM {b}"
        tests.append(f'count(*) FILTER (WHERE NOT ({same})) AS "{name}"')
    rows = con.execute(
        f"SELECT count(*) FILTER (WHERE f.lead_id IS NULL OR s.lead_id IS NULL) AS missing, "
        f"{', '.join(tests)} FROM '{full}' f FULL JOIN '{since}' s USING (lead_id)"
    )
    names = [d[0] for d in rows.description or []]
    found = rows.fetchone() or ()
    return {n: v for n, v in zip(names, found, strict=True) if v}


if __name__ == "__main__":
    sys.exit(main())
