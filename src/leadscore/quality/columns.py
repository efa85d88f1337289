"""Backend-neutral reading of lead columns as Ibis expressions.

Every derived field starts from a raw lead column that may be missing, typed
(Parquet numbers), text with padding (CSV), or a float NaN. These helpers turn
any of them into one shape: trimmed text, or null when the value is missing
(SPEC §3 "Edge cases, decided": only spaces, tabs, CR and LF are trimmed; a
blank value or a NaN is missing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

# Only these four characters are trimmed (SPEC §3), not Unicode spaces.
_TRIM = r"^[ \t\r\n]+|[ \t\r\n]+$"
_NOT_BLANK = r"[^ \t\r\n]"
# "Reads as a number" (SPEC §3), ASCII digits only.
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")
_EXACT_INT = 2.0**53


def null_text() -> ir.StringValue:
    """A null of type string."""
    return ibis.null("string")


def raw_text(table: ir.Table, name: str) -> ir.StringValue:
    """Column ``name`` as text, untrimmed; null when the column is missing.

    Numbers become their shortest text (integral floats without ``.0``), a
    float NaN becomes null.
    """
    if name not in table.columns:
        return null_text()
    col = table[name]
    dtype = col.type()
    if dtype.is_string():
        return col
    if dtype.is_floating():
        exact = (col == col.floor()) & (col.abs() < _EXACT_INT)
        return ibis.cases(
            (col.isnan(), null_text()),
            (exact, col.cast("int64").cast("string")),
            else_=col.cast("string"),
        )
    if dtype.is_boolean():
        return col.ifelse("true", "false")
    return col.cast("string")


def trimmed(value: ir.StringValue) -> ir.StringValue:
    """Trim spaces, tabs, CR and LF; a value left empty becomes null."""
    return value.re_replace(_TRIM, "").nullif("")


def text(table: ir.Table, name: str) -> ir.StringValue:
    """Column ``name`` as trimmed text, null when missing, blank or NaN."""
    return trimmed(raw_text(table, name))


def present(table: ir.Table, name: str) -> ir.BooleanValue:
    """Whether column ``name`` holds a value (not null, blank or NaN)."""
    if name not in table.columns:
        return ibis.literal(False)
    return raw_text(table, name).re_search(_NOT_BLANK).fill_null(False)


def as_boolean(table: ir.Table, name: str) -> ir.BooleanValue:
    """An input column read as a boolean (SPEC §3 texts), else null."""
    col = table[name]
    dtype = col.type()
    if dtype.is_boolean():
        return col
    if dtype.is_numeric():
        return ibis.cases((col == 1, True), (col == 0, False), else_=ibis.null("boolean"))
    value = text(table, name).lower()
    return ibis.cases(
        (value.isin(_TRUE), True), (value.isin(_FALSE), False), else_=ibis.null("boolean")
    )


def as_float(table: ir.Table, name: str) -> ir.FloatingValue:
    """An input column read as a float64; text that is not a number is null."""
    col = table[name]
    if col.type().is_numeric():
        value = col.cast("float64")
        return value.isnan().ifelse(ibis.null("float64"), value)
    value_text = text(table, name)
    return ibis.cases(
        (value_text.re_search(NUMBER_PATTERN), value_text.cast("float64")),
        else_=ibis.null("float64"),
    )


def lookup(
    table: ir.Table,
    key: ir.StringValue,
    rows: Mapping[str, Sequence[Any]],
    schema: Mapping[str, pa.DataType],
) -> ir.Table:
    """Left-join ``table`` with a small Python-computed mapping on ``key``.

    ``rows`` maps each distinct key to the values of the ``schema`` columns;
    the result is ``table`` plus those columns (null where the key is null or
    absent). This is how knowledge computed in Python over the *distinct*
    values of a column reaches every row without a per-row Python loop.
    """
    key_name, join_name = "__lsq_key", "__lsq_join"
    names = list(schema)
    columns: dict[str, list[Any]] = {join_name: list(rows)}
    for index, name in enumerate(names):
        columns[name] = [values[index] for values in rows.values()]
    arrow_schema = pa.schema([(join_name, pa.string()), *schema.items()])
    mapping = ibis.memtable(pa.table(columns, schema=arrow_schema))
    keyed = table.mutate(**{key_name: key})
    joined = keyed.left_join(mapping, keyed[key_name] == mapping[join_name])
    return joined.drop(key_name, join_name)
