"""Lead columns as learning features: typed, encoded, described in words.

CSV cells arrive as text (SPEC §3), so each column's type is inferred here: a
column whose present values all read as numbers (SPEC §3 "reads as a number") is
numeric, any other is categorical, with its values trimmed and lower-cased the
way conditions compare them, so a learned ``in: [...]`` test matches the same
leads at scoring time. Rare and unseen categories share one "other" code.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.engine.values import NUMBER_PATTERN, TRIMMED, number_text
from leadscore.errors import ErrorCode, Issue, LeadscoreError

Kind = Literal["numeric", "categorical"]
Source = Literal["lead", "engagement"]
Stat = Literal["count", "days_since"]

# Personal identifiers and keys: never features, whatever their cardinality.
NOT_FEATURES = frozenset(
    {
        "lead_id", "email", "first_name", "last_name", "phone", "account_id", "account_key",
        "duplicate_of", "company_domain", "email_domain", "company", "created_at",
        "converted_at", "event_id",
    }
)  # fmt: skip
MAX_CATEGORIES = 100
NUMERIC_SHARE = 0.95  # above this share of numbers, the other values are data errors
_SHOWN = 3


@dataclass(frozen=True)
class Feature:
    """One input of the learners: a lead column or an engagement feature.

    ``categories`` are the frequent values of a categorical feature (trimmed,
    lower-cased); value ``i`` is encoded as ``i`` and every other value as
    ``len(categories)`` ("other").

    Examples
    --------
    >>> f = Feature("job", "categorical", "lead", ("admin.", "retired"))
    >>> f.encode(pa.array(["Retired ", "pilot", None])).tolist()
    [1.0, 2.0, nan]
    >>> f.describe(1.0)
    'job is retired'
    """

    name: str
    kind: Kind
    source: Source
    categories: tuple[str, ...] = ()
    event: str | None = None
    window_days: float | None = None
    stat: Stat | None = None

    @property
    def other(self) -> int:
        """The code of rare and unseen categories."""
        return len(self.categories)

    def encode(self, column: pa.Array[Any] | pa.ChunkedArray[Any]) -> np.ndarray:
        """The column as float64: numbers, or category codes; NaN where missing."""
        if self.kind == "numeric":
            return numbers(column)
        text = normalised_text(column)
        index = pc.index_in(text, value_set=pa.array(self.categories, pa.string()))
        codes = index.to_numpy(zero_copy_only=False).astype(np.float64)
        codes[np.isnan(codes)] = self.other
        codes[~present(text)] = np.nan
        return codes

    def describe(self, value: float) -> str:
        """The feature's value in words, for reasons and reports."""
        if self.source == "engagement":
            return self._describe_engagement(value)
        if math.isnan(value):
            return f"no {self.name}"
        if self.kind == "numeric":
            return f"{self.name} {short_number(value)}"
        code = int(value)
        if code >= self.other:
            return f"{self.name} is another value"
        return f"{self.name} is {self.categories[code]}"

    def _describe_engagement(self, value: float) -> str:
        event = (self.event or "event").replace("_", " ")
        span = f" in {number_text(self.window_days)} days" if self.window_days else ""
        if self.stat == "days_since":
            if math.isnan(value):
                return f"never {event}"
            return f"last {event} {short_number(value)} days before"
        count = int(value)
        if count == 0:
            return f"no {event}{span}"
        times = "once" if count == 1 else f"{count} times"
        return f"{event} {times}{span}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Feature:
        return cls(**{**data, "categories": tuple(data.get("categories", ()))})


def short_number(value: float) -> str:
    """A number with at most 4 significant digits, for people.

    >>> short_number(-0.4759123967585098), short_number(1234567.0), short_number(3.0)
    ('-0.4759', '1234567', '3')
    """
    if abs(value) >= 1e4:
        return number_text(float(round(value)))
    return number_text(float(f"{value:.4g}"))


def normalised_text(column: pa.Array[Any] | pa.ChunkedArray[Any]) -> pa.Array[Any]:
    """Values as conditions read them: trimmed, lower-cased text (SPEC §3)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_boolean(kind):
        result: pa.Array[Any] = pc.if_else(column, pa.scalar("true"), pa.scalar("false"))
        return result
    if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        values = [None if v is None or math.isnan(v) else number_text(v) for v in numbers(column)]
        return pa.array(values, pa.string())
    text = column if pa.types.is_string(kind) else pc.cast(column, pa.string())
    lowered: pa.Array[Any] = pc.utf8_lower(pc.utf8_trim(text, TRIMMED))
    return lowered


def present(text: pa.Array[Any]) -> np.ndarray:
    """Not null and not blank, as a numpy mask."""
    mask = pc.and_(pc.is_valid(text), pc.not_equal(text, pa.scalar("")))
    return np.asarray(mask.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def numbers(column: pa.Array[Any] | pa.ChunkedArray[Any]) -> np.ndarray:
    """A column as float64 where it reads as a number (SPEC §3), else NaN."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        cast: Any = pc.cast(column, pa.float64())
        return np.asarray(cast.fill_null(math.nan).to_numpy(zero_copy_only=False), np.float64)
    if not pa.types.is_string(kind) and not pa.types.is_large_string(kind):
        return np.full(len(column), math.nan)
    text = pc.utf8_trim(column, TRIMMED)
    is_number = pc.match_substring_regex(text, NUMBER_PATTERN)
    parsed: Any = pc.cast(pc.if_else(is_number, text, None), pa.float64())
    return np.asarray(parsed.fill_null(math.nan).to_numpy(zero_copy_only=False), np.float64)


def infer_feature(name: str, column: pa.ChunkedArray[Any], where: str) -> Feature | None:
    """The feature a lead column makes, or None for identifier-like text.

    A text column of numbers with a few stray texts is an error that names the
    rows: silently treating ``"n/a"`` as a category would hide a broken export.

    >>> infer_feature("size", pa.chunked_array([["10", " 250", ""]]), "leads.csv").kind
    'numeric'
    >>> infer_feature("industry", pa.chunked_array([["Retail", "retail "] * 3]), "x").categories
    ('retail',)
    """
    kind = column.type
    if pa.types.is_temporal(kind) or pa.types.is_null(kind):
        return None
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return Feature(name, "numeric", "lead")
    text = normalised_text(column)
    mask = present(text)
    filled = int(mask.sum())
    if filled == 0:
        return None
    if not pa.types.is_boolean(kind):
        parsed = numbers(column)
        numeric = ~np.isnan(parsed)
        share = int(numeric.sum()) / filled
        if share == 1.0:
            return Feature(name, "numeric", "lead")
        if share >= NUMERIC_SHARE:
            raise _text_in_numbers(name, column, mask & ~numeric, where)
    counts = pc.value_counts(pc.filter(text, pa.array(mask)))
    values = counts.field("values").to_pylist()
    tallies = counts.field("counts").to_numpy()
    if len(values) > 50 and len(values) > 0.5 * filled:
        return None  # identifier-like: names, e-mails, free text
    order = np.argsort(-tallies, kind="stable")
    least = max(5, math.ceil(0.001 * filled))
    frequent = [values[i] for i in order if tallies[i] >= least][:MAX_CATEGORIES]
    if not frequent:
        return None
    return Feature(name, "categorical", "lead", tuple(sorted(frequent)))


def _text_in_numbers(
    name: str, column: pa.ChunkedArray[Any], bad: np.ndarray, where: str
) -> Exception:
    rows = np.flatnonzero(bad)
    values = column.take(rows[:_SHOWN]).to_pylist()
    return LeadscoreError(
        ErrorCode.BAD_NUMBER,
        f"{where}: column {name!r} holds numbers and {len(rows)} texts that are not numbers:",
        issues=[
            Issue(f"{where} row {int(r) + 1}", f"{name} {v!r} is not a number")
            for r, v in zip(rows, values, strict=False)
        ],
        hint=f"Correct those cells (leave them empty when unknown), or leave the column out "
        f"with --exclude {name}.",
    )
