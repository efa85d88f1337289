"""What an incremental run (``score --since``) re-scores, and why.

Standard library only: a replayed run (:mod:`leadscore.engine.kept_runs`) gives its
plan without importing the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

REASONS = ("new", "changed", "time", "shared", "duplicates")
COPIES = "copies"  # keys of unknown leads whose events share an id with a lead's
UNKNOWN = "unknown"  # keys of no lead whose kept rows change (merged into kept state)


@dataclass(frozen=True)
class RescorePlan:
    """What an incremental run re-scores, and why (counts of leads per reason)."""

    leads: int
    rescored: int
    reasons: dict[str, int] = field(default_factory=dict)
    previous_as_of: datetime | None = None
    full: str | None = None  # why every lead is scored again, when it is
    merged: int = 0  # re-scored from their kept aggregates and new events (keep_state)

    def __str__(self) -> str:
        if self.full is not None:
            return f"Scoring all {self.leads:,} leads: {self.full}."
        why = ", ".join(f"{n:,} {r}" for r, n in self.reasons.items() if n)
        kept = f"; {self.merged:,} from kept aggregates" if self.merged else ""
        return (
            f"Re-scored {self.rescored:,} of {self.leads:,} leads ({why or 'none changed'}{kept})."
        )


def counted(
    leads: int, rows: Iterable[tuple[str, bool, int]], previous_as_of: datetime, kept: bool
) -> RescorePlan:
    """The plan of an incremental run from the counts of its chosen keys by reason and
    by whether the lead is read from its events (``rows``); ``kept``: the other leads
    are merged from kept aggregates.

    >>> str(counted(10, [("new", False, 2), ("changed", True, 1)], datetime(2025, 6, 1), True))
    'Re-scored 3 of 10 leads (2 new, 1 changed; 2 from kept aggregates).'
    """
    counts = dict.fromkeys(REASONS, 0)
    merged = 0
    for reason, reads, n in rows:
        if reason not in counts:  # no lead of the results
            continue
        counts[reason] += n
        merged += n if kept and not reads else 0
    return RescorePlan(leads, sum(counts.values()), counts, previous_as_of, merged=merged)
