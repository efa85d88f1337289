"""How a data value reads in a condition (SPEC §3 "Conditions" and "Edge cases").

A cell is *missing* when null, NaN or blank. Otherwise it has a *text* (trimmed,
lower-cased; numbers in their shortest round-trip form) and, when it reads as a
decimal number, a *number*. Each function here maps one ibis column to one of
those readings, specialised on the column's type so typed data pays nothing for
the rules that text needs.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

# SPEC §3: "[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?" in ASCII digits.
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_NUMBER = re.compile(NUMBER_PATTERN)
TRIMMED = " \t\r\n"  # SPEC §3: only spaces, tabs, CR and LF are trimmed
_TRIMMED_CHARS = tuple(TRIMMED)
IDENTIFIER_COLUMNS = frozenset({"lead_id", "account_id", "postal_code", "phone"})
TRUE_TEXTS = ("true", "yes", "1")
FALSE_TEXTS = ("false", "no", "0")
_INTEGRAL_TEXT_LIMIT = 1e15  # below this an integral double prints exactly as an integer


_EDGE_SPACE = "^[ \t\r\n]+|[ \t\r\n]+$"  # a pattern every engine reads alike
_TEXT = "_text:"  # the columns with_texts adds


def double(value: float) -> ir.FloatingValue:
    """A float64 constant that every engine types as a double.

    ibis writes float literals bare (``2.0``), which PostgreSQL reads as NUMERIC
    and Spark as DECIMAL; a cast from its exact text is a double everywhere.

    >>> import ibis
    >>> print(ibis.to_sql(ibis.table({"a": "int64"}, name="t").select(x=double(0.1)),
    ...       dialect="postgres"))
    SELECT
      CAST('0.1' AS DOUBLE PRECISION) AS "x"
    FROM "t" AS "t0"
    """
    result: ir.FloatingValue = ibis.literal(repr(float(value))).cast("float64")
    return result


def trim(value: ir.StringValue) -> ir.StringValue:
    """Remove leading and trailing spaces, tabs, CR and LF (not other white space).

    Engines trim a character set slowly (DuckDB: ~10x a plain scan), and almost no
    value needs it, so only values whose first or last character is one of those
    are trimmed. Engines name a two-argument trim differently; a regular
    expression reads the same on all of them.
    """
    edges = functools.reduce(
        operator.or_, [value.startswith(c) | value.endswith(c) for c in _TRIMMED_CHARS]
    )
    result: ir.StringValue = edges.ifelse(value.re_replace(_EDGE_SPACE, ""), value)
    return result


def is_number_text(value: str) -> bool:
    """Does a text read as a number under SPEC §3?

    >>> [is_number_text(v) for v in [" 50 ", "1e3", "NaN", "1,5", "0x10", ".5", "5."]]
    [True, True, False, False, False, True, False]
    """
    return bool(_NUMBER.match(value.strip(TRIMMED)))


def number_text(value: float) -> str:
    """A number's text: shortest round-trip form, integral values without ``.0``.

    >>> number_text(50.0), number_text(50.5), number_text(1e20), number_text(-0.0)
    ('50', '50.5', '1e+20', '0')
    """
    if value == int(value) and abs(value) < _INTEGRAL_TEXT_LIMIT:
        return str(int(value))
    return repr(float(value))


def literal_text(value: Any) -> str:
    """A test value as text, trimmed and lower-cased like data values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    return str(value).strip(TRIMMED).lower()


def literal_number(value: Any) -> float | None:
    """A test value as a number, or None when it does not read as one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str) and is_number_text(value):
        return float(value.strip(TRIMMED))
    return None


@dataclass(frozen=True)
class Reading:
    """The readings of one column, built lazily by the condition compiler."""

    column: ir.Column | None  # None: the field does not exist
    name: str
    # The text computed once already (with_texts): null exactly when the cell is missing.
    text_column: ir.StringValue | None = None

    @property
    def dtype(self) -> dt.DataType:
        return dt.null if self.column is None else self.column.type()

    @property
    def identifier(self) -> bool:
        return self.name in IDENTIFIER_COLUMNS

    @property
    def null_when_missing(self) -> bool:
        """Is every reading of a missing cell null (so a test needs no presence check)?"""
        return self.text_column is not None

    def trimmed(self) -> ir.StringValue:
        assert self.column is not None
        return trim(self.column.cast("string"))

    def present(self) -> ir.BooleanValue:
        """Not null, not NaN, not blank. Never null itself."""
        col, kind = self.column, self.dtype
        if col is None or kind.is_null():
            return ibis.literal(False)
        if self.text_column is not None:
            return self.text_column.notnull()
        if kind.is_string():
            text = self.trimmed()
            return text.notnull() & (text != "")
        if kind.is_floating():
            return col.notnull() & ~col.isnan().fill_null(False)
        result: ir.BooleanValue = col.notnull()
        return result

    def text(self) -> ir.StringValue:
        """Trimmed, lower-cased text; numbers in their shortest form."""
        col, kind = self.column, self.dtype
        assert col is not None
        if kind.is_string():
            return self.text_column if self.text_column is not None else self.trimmed().lower()
        if kind.is_boolean():
            result: ir.StringValue = col.ifelse("true", "false")
            return result
        if kind.is_floating() or kind.is_decimal():
            number = col.cast("float64")
            integral = (number == number.floor()) & (number.abs() < _INTEGRAL_TEXT_LIMIT)
            return integral.ifelse(number.cast("int64").cast("string"), number.cast("string"))
        return col.cast("string").lower()

    def number(self) -> ir.FloatingValue | None:
        """The value as float64 where it reads as a number, else null.

        ``None`` when the column can never hold a number (booleans, timestamps).
        """
        col, kind = self.column, self.dtype
        if col is None or kind.is_boolean() or kind.is_temporal() or kind.is_null():
            return None
        if kind.is_numeric():
            result: ir.FloatingValue = col.cast("float64")
            return result
        # The pattern reads digits and an exponent letter in either case alike.
        text = self.text_column if self.text_column is not None else self.trimmed()
        return text.re_search(NUMBER_PATTERN).ifelse(text.try_cast("float64"), ibis.null())


def with_texts(
    table: ir.Table, names: Iterable[str]
) -> tuple[ir.Table, Callable[[str], Reading], tuple[str, ...]]:
    """Compute the text of each text column in ``names`` once: trimmed, lower-cased,
    and null when blank, so that it is null exactly when the cell is missing.

    Conditions test a column many times (a title against twenty keywords); each
    test then reads one column instead of repeating the trim and lower-case, and
    needs no presence check of its own (a test of a null is null, read as false),
    which keeps the SQL short. Returns the table with the added columns, the
    readings of its columns (:func:`readings`) and the added names.
    """
    texts = [n for n in sorted(set(names)) if n in table.columns and table[n].type().is_string()]
    added = {f"{_TEXT}{n}": trim(table[n]).lower().nullif("") for n in texts}
    table = table.mutate(**added)
    return table, readings(table), tuple(added)


def readings(table: ir.Table) -> Callable[[str], Reading]:
    """The reading of each column of ``table``, with the texts :func:`with_texts` added."""

    def reading(name: str) -> Reading:
        if name not in table.columns:
            return Reading(None, name)
        text = f"{_TEXT}{name}"
        if text not in table.columns:
            return Reading(table[name], name)
        return Reading(table[name], name, table[text])

    return reading
