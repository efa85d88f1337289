"""The scoring instant T, as the user writes it (standard library only)."""

from __future__ import annotations

from datetime import UTC, datetime

from leadscore.errors import ErrorCode, LeadscoreError

AsOf = datetime | str | None


def as_of_instant(value: AsOf) -> datetime:
    """The scoring instant T as a naive UTC datetime (default: now).

    >>> as_of_instant("2025-06-01T02:00:00+02:00")
    datetime.datetime(2025, 6, 1, 0, 0)
    >>> as_of_instant("2025-06-01")
    datetime.datetime(2025, 6, 1, 0, 0)
    """
    if value is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise LeadscoreError(
                ErrorCode.BAD_TIMESTAMP,
                f"--as-of {text!r} is not a timestamp.",
                hint="Write it as ISO 8601, e.g. 2025-06-01T00:00:00Z or 2025-06-01.",
            ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
