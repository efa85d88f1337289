"""Compile a ``when`` condition (SPEC §3) into one ibis boolean expression.

Every test is ``present AND comparison`` and never null, so ``not`` negates after
the missing-value rule: ``{not: {industry: retail}}`` holds for a lead without an
industry, ``{industry: {ne: retail}}`` does not.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import ibis
import ibis.expr.types as ir

from leadscore.engine.values import (
    FALSE_TEXTS,
    TRUE_TEXTS,
    Reading,
    literal_number,
    literal_text,
)
from leadscore.model.conditions import EQUALITY_OPS, Condition, Tests

Fields = Callable[[str], Reading]
TestFn = Callable[[str, str, Any], ir.BooleanValue]

_NUMERIC: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_TEXT: dict[str, Callable[[ir.StringValue, str], ir.BooleanValue]] = {
    "contains": lambda text, v: text.contains(v),
    "starts_with": lambda text, v: text.startswith(v),
    "ends_with": lambda text, v: text.endswith(v),
}


def compile_condition(condition: Condition | None, test: TestFn) -> ir.BooleanValue:
    """The condition as a non-null boolean expression; no condition holds.

    ``test`` gives the expression of one ``(field, operator, value)`` test: usually
    :func:`reading_tests` over the table's columns, or columns computed earlier.
    """
    if condition is None:
        return ibis.literal(True)
    parts = [test(name, op, value) for name, op, value in condition_tests(condition, deep=False)]
    if condition.all_ is not None:
        parts.append(_all(compile_condition(c, test) for c in condition.all_))
    if condition.any_ is not None:
        parts.append(_any(compile_condition(c, test) for c in condition.any_))
    if condition.not_ is not None:
        parts.append(~compile_condition(condition.not_, test))
    return _all(parts)


def condition_tests(
    condition: Condition | None, *, deep: bool = True
) -> Iterator[tuple[str, str, Any]]:
    """The ``(field, operator, value)`` tests of a condition, nested ones when ``deep``."""
    if condition is None:
        return
    for name, test in condition.field_tests():
        if isinstance(test, Tests):
            for op, value in test.items():
                yield name, op, value
        else:
            yield name, "eq", test
    if deep:
        for child in [
            *(condition.all_ or []),
            *(condition.any_ or []),
            *([condition.not_] if condition.not_ else []),
        ]:
            yield from condition_tests(child)


def compile_test(reading: Reading, op: str, value: Any) -> ir.BooleanValue:
    """One test on one field, never null (SPEC §3)."""
    return _operator(reading, op, value)


def reading_tests(fields: Fields) -> TestFn:
    """Tests computed from the readings of columns."""

    def test(name: str, op: str, value: Any) -> ir.BooleanValue:
        return _operator(fields(name), op, value)

    return test


def _all(parts: Iterable[ir.BooleanValue]) -> ir.BooleanValue:
    items = list(parts)
    return functools.reduce(operator.and_, items) if items else ibis.literal(True)


def _any(parts: Iterable[ir.BooleanValue]) -> ir.BooleanValue:
    items = list(parts)
    return functools.reduce(operator.or_, items) if items else ibis.literal(False)


def _operator(reading: Reading, op: str, value: Any) -> ir.BooleanValue:
    if op == "exists":
        return reading.present() if value else ~reading.present()
    if reading.column is None or reading.dtype.is_null():
        return ibis.literal(False)
    if op in ("eq", "in"):
        match = _equals_any(reading, [value] if op == "eq" else value)
    elif op in ("ne", "not_in"):
        match = ~_equals_any(reading, [value] if op == "ne" else value)
    elif op in _TEXT:
        match = _TEXT[op](reading.text(), literal_text(value))
    elif op == "not_contains":
        match = ~reading.text().contains(literal_text(value))
    elif op in _NUMERIC or op == "between":
        match = _numeric(reading, op, value)
    else:  # pragma: no cover - the model schema admits no other operator
        raise ValueError(f"unknown operator {op!r}")
    # A missing cell's readings are all null, and so is a test of them (read as
    # false), except a test against no value at all (``in: []``).
    strict = reading.null_when_missing and (op not in EQUALITY_OPS or value != [])
    return (match if strict else reading.present() & match).fill_null(False)


def _numeric(reading: Reading, op: str, value: Any) -> ir.BooleanValue:
    number = reading.number()
    if number is None:
        return ibis.literal(False)
    if op == "between":
        low, high = value
        return number.between(float(low), float(high))
    result: ir.BooleanValue = _NUMERIC[op](number, float(value))
    return result


def _equals_any(reading: Reading, values: list[Any]) -> ir.BooleanValue:
    """``eq``/``in``: numbers numerically, booleans by their texts, else as text."""
    texts: list[str] = []
    numbers: list[float] = []
    for value in values:
        if isinstance(value, bool):
            texts.extend(TRUE_TEXTS if value else FALSE_TEXTS)
        elif (number := literal_number(value)) is not None and not reading.identifier:
            numbers.append(number)
        else:
            texts.append(literal_text(value))
    parts: list[ir.BooleanValue] = []
    if texts:
        parts.append(reading.text().isin(sorted(set(texts))))
    if numbers:
        # A data text equal to a number's text reads as that number, so comparing
        # numbers covers the text comparison SPEC §3 also allows here.
        number = reading.number()
        if number is not None:
            parts.append(number.isin(sorted(set(numbers))))
    return _any(parts)
