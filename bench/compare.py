"""Per-lead comparison of two result files of the bench model (`make bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

REL_TOL = 1e-9


def compare(reference: Path, candidate: Path) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Per-column counts of leads whose results differ, and a few examples.

    Numbers agree to 1e-9 relative (SPEC §3); the rest exactly, null equal to null.
    Interest scores are compared too when the candidate has them (`interest:<id>` as
    leadscore writes them, or `interest_<id>` as the other references do), and so is
    the disqualifying entry when the candidate has `disqualified_by`.
    """
    con = duckdb.connect()
    names = {
        d[0] for d in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{candidate}')").fetchall()
    }
    numeric = {c: c for c in ["fit", "engagement", "score"]}
    for interest in ("lathes", "robotics", "service"):
        for name in (f"interest:{interest}", f"interest_{interest}"):
            if name in names:
                numeric[f"interest_{interest}"] = f'"{name}"'
    exact = ["grade", "matrix", "stage", "top_interest"]
    exact += ["disqualified_by"] if "disqualified_by" in names else []

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
