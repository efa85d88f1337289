"""One error type for everything a user can get wrong, with stable codes.

The CLI prints a :class:`LeadscoreError` as its message (no traceback) and exits 2;
the service turns it into one JSON shape. ``issues`` carries every problem found,
so a user fixes a model file in one pass, not one error per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Stable codes, safe to match on in scripts and API clients."""

    INVALID_MODEL = "invalid_model"
    UNREADABLE_FILE = "unreadable_file"
    MISSING_COLUMN = "missing_column"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_NUMBER = "bad_number"
    BAD_DATA = "bad_data"
    DUPLICATE_LEAD = "duplicate_lead"
    UNKNOWN_LEAD = "unknown_lead"
    BAD_ARGUMENT = "bad_argument"
    ENGINE_UNREACHABLE = "engine_unreachable"
    OUT_OF_MEMORY = "out_of_memory"


@dataclass(frozen=True)
class Issue:
    """One problem at one place: ``where`` is ``file:line path`` or ``file row N``."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class LeadscoreError(Exception):
    """A user-facing error: what is wrong, where, and what to do.

    Examples
    --------
    >>> err = LeadscoreError(ErrorCode.MISSING_COLUMN, "leads.csv has no column 'lead_id'.")
    >>> str(err)
    "leads.csv has no column 'lead_id'."
    """

    code: ErrorCode
    message: str
    issues: list[Issue] = field(default_factory=list)
    hint: str = ""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        lines = [self.message, *(f"  {issue}" for issue in self.issues)]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The error as data, the same shape the HTTP API answers with."""
        return {
            "ok": False,
            "code": str(self.code),
            "error": self.message,
            "errors": [{"where": i.where, "message": i.message} for i in self.issues],
            "hint": self.hint,
        }
