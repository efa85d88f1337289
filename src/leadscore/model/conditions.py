"""The condition language of ``when`` (SPEC §3 "Conditions"), as typed data.

A condition is a mapping: ``field: test`` entries that must all hold, plus the
combinators ``all``, ``any`` and ``not``. A test is a scalar (equality) or a
mapping of operators. The compiler (``leadscore.engine.conditions``) walks these
objects; nothing here knows about engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    field_validator,
    model_validator,
)

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
Number = StrictInt | StrictFloat

# Operators by the kind of comparison they make (SPEC §3): the compiler keys on these.
EQUALITY_OPS = ("eq", "ne", "in", "not_in")
TEXT_OPS = ("contains", "not_contains", "starts_with", "ends_with")
NUMERIC_OPS = ("gt", "gte", "lt", "lte", "between")
OPERATORS = (*EQUALITY_OPS, *TEXT_OPS, *NUMERIC_OPS, "exists")
COMBINATORS = ("all", "any", "not")


class Tests(BaseModel):
    """Operators applied to one field; several operators must all hold."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    eq: Scalar | None = None
    ne: Scalar | None = None
    in_: list[Scalar] | None = Field(None, alias="in")
    not_in: list[Scalar] | None = None
    contains: StrictStr | Number | None = None
    not_contains: StrictStr | Number | None = None
    starts_with: StrictStr | Number | None = None
    ends_with: StrictStr | Number | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    between: tuple[float, float] | None = None
    exists: StrictBool | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Tests:
        if not self.model_fields_set:
            raise ValueError(f"a test needs an operator: one of {', '.join(OPERATORS)}")
        return self

    @field_validator("between")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(f"between [{value[0]}, {value[1]}] is empty: write [low, high]")
        return value

    def items(self) -> Iterator[tuple[str, Any]]:
        """The operators given, as ``(name, value)`` in declaration order."""
        for name, info in type(self).model_fields.items():
            if name in self.model_fields_set:
                yield (info.alias or name), getattr(self, name)


def _test_kind(value: Any) -> Literal["tests", "scalar"]:
    return "tests" if isinstance(value, dict) else "scalar"


FieldTest = Annotated[
    Annotated[Tests, Tag("tests")] | Annotated[Scalar, Tag("scalar")],
    Discriminator(_test_kind),
]


class Condition(BaseModel):
    """A ``when`` mapping: field tests and ``all``/``any``/``not``, all of which must hold.

    Examples
    --------
    >>> c = Condition.model_validate({"seniority": {"in": ["c_level"]}, "not": {"country": "es"}})
    >>> [name for name, _ in c.field_tests()]
    ['seniority']
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)
    __pydantic_extra__: dict[str, FieldTest] = Field(init=False)

    all_: list[Condition] | None = Field(None, alias="all")
    any_: list[Condition] | None = Field(None, alias="any")
    not_: Condition | None = Field(None, alias="not")

    def field_tests(self) -> Iterator[tuple[str, Tests | bool | int | float | str]]:
        """The ``field: test`` entries of this mapping (not of nested ones)."""
        yield from (self.__pydantic_extra__ or {}).items()

    def fields(self) -> set[str]:
        """Every field this condition reads, nested ones included."""
        names = {name for name, _ in self.field_tests()}
        for child in [*(self.all_ or []), *(self.any_ or []), *([self.not_] if self.not_ else [])]:
            names |= child.fields()
        return names
