"""The model file (SPEC §3) as pydantic models: strict, typed, JSON-Schema-able."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from leadscore.model.conditions import Condition

RuleId = Annotated[
    StrictStr,
    Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"),
]
Points = float


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class FitRule(Strict):
    """Points for who the lead is, when its condition holds (no condition: always)."""

    id: RuleId
    description: str | None = None
    when: Condition | None = None
    points: Points


class Grade(Strict):
    grade: StrictStr = Field(min_length=1)
    description: str | None = None
    min: float | None = None


class Level(Strict):
    level: StrictInt
    description: str | None = None
    min: float | None = None


class Fit(Strict):
    rules: list[FitRule] = Field(default_factory=list)
    grades: list[Grade] | None = None

    @field_validator("grades")
    @classmethod
    def _last_grade_open(cls, grades: list[Grade] | None) -> list[Grade] | None:
        return _check_thresholds(grades, "grade")


class EngagementRule(Strict):
    """Points for what the lead does: events of a type whose condition holds."""

    id: RuleId
    description: str | None = None
    event: StrictStr | list[StrictStr] = Field(description="event type or list of types")
    when: Condition | None = None
    points: Points
    max_points: float | None = Field(None, ge=0)
    once: bool = False
    min_count: StrictInt | None = Field(None, ge=1)
    distinct: StrictStr | None = Field(None, min_length=1)

    @property
    def event_types(self) -> tuple[str, ...]:
        """The event types, trimmed and lower-cased as the data is (SPEC §3)."""
        types = [self.event] if isinstance(self.event, str) else self.event
        return tuple(dict.fromkeys(t.strip().lower() for t in types))

    @field_validator("event")
    @classmethod
    def _some_event(cls, value: str | list[str]) -> str | list[str]:
        types = [value] if isinstance(value, str) else value
        if not types or not all(t.strip() for t in types):
            raise ValueError("name at least one event type, e.g. page_view")
        return value


class InactivityRule(Strict):
    """Points (usually negative) when the lead has had no event for ``days``."""

    id: RuleId
    description: str | None = None
    days: float = Field(gt=0)
    points: Points
    events: StrictStr | list[StrictStr] | None = None

    @property
    def event_types(self) -> tuple[str, ...] | None:
        if self.events is None:
            return None
        types = [self.events] if isinstance(self.events, str) else self.events
        return tuple(dict.fromkeys(t.strip().lower() for t in types))


class Engagement(Strict):
    half_life_days: float | None = Field(None, gt=0)
    window_days: float | None = Field(None, gt=0)
    rules: list[EngagementRule] = Field(default_factory=list)
    inactivity: list[InactivityRule] = Field(default_factory=list)
    levels: list[Level] | None = None

    @field_validator("levels")
    @classmethod
    def _last_level_open(cls, levels: list[Level] | None) -> list[Level] | None:
        return _check_thresholds(levels, "level")


class Interest(Strict):
    id: RuleId
    description: str | None = None
    rules: list[EngagementRule] = Field(default_factory=list)


class Disqualify(Strict):
    id: RuleId
    description: str | None = None
    when: Condition


class Stage(Strict):
    """A lifecycle stage; the first stage whose tests all hold is the lead's."""

    stage: StrictStr = Field(min_length=1)
    description: str | None = None
    min_score: float | None = None
    min_fit: float | None = None
    min_engagement: float | None = None
    grades: list[StrictStr] | None = None
    levels: list[StrictInt] | None = None
    when: Condition | None = None

    @property
    def has_tests(self) -> bool:
        return bool(self.model_fields_set - {"stage", "description"})


class ScoreRange(Strict):
    min: float | None = None
    max: float | None = None


class Accounts(Strict):
    top: StrictInt = Field(3, ge=1)


class Model(Strict):
    """A scoring model: fit, engagement, interests, disqualifiers, stages (SPEC §3).

    Load one with :func:`leadscore.load_model`; build one from a dict with
    ``Model.model_validate``.

    Examples
    --------
    >>> m = Model.model_validate({"version": 1, "name": "tiny",
    ...     "fit": {"rules": [{"id": "ceo", "when": {"job_title": "ceo"}, "points": 10}]}})
    >>> [rule.id for rule in m.fit.rules]
    ['ceo']
    """

    version: StrictInt = Field(1, ge=1, le=1)
    name: StrictStr = Field(min_length=1)
    description: str | None = None
    fit: Fit = Field(default_factory=Fit)
    engagement: Engagement | None = None
    interests: list[Interest] = Field(default_factory=list)
    disqualify: list[Disqualify] = Field(default_factory=list)
    score: ScoreRange | None = None
    stages: list[Stage] = Field(default_factory=list)
    accounts: Accounts = Field(default_factory=Accounts)
    # Events of a lead with a duplicate_of count on the lead it duplicates (docs/model.md).
    merge_duplicates: StrictBool = False

    @field_validator("stages")
    @classmethod
    def _last_stage_open(cls, stages: list[Stage]) -> list[Stage]:
        if stages and stages[-1].has_tests:
            raise ValueError(
                f"the last stage ({stages[-1].stage!r}) must have no tests, so that every "
                "lead that is not disqualified gets a stage"
            )
        return stages

    @property
    def engagement_rules(self) -> list[EngagementRule]:
        return self.engagement.rules if self.engagement else []

    @property
    def inactivity_rules(self) -> list[InactivityRule]:
        return self.engagement.inactivity if self.engagement else []

    def conditions(self) -> Iterator[Condition]:
        """Every lead condition (fit, disqualify, stages), for finding the fields used."""
        holders: list[FitRule | Disqualify | Stage] = [*self.fit.rules, *self.disqualify]
        holders += self.stages
        for holder in holders:
            if holder.when is not None:
                yield holder.when

    def lead_fields(self) -> set[str]:
        """The lead columns the model reads (raw or derived)."""
        fields: set[str] = set()
        for condition in self.conditions():
            fields |= condition.fields()
        return fields

    def event_properties(self) -> set[str]:
        """The event properties the model reads (conditions and ``distinct``)."""
        props: set[str] = set()
        for rule in self.all_engagement_rules():
            if rule.when is not None:
                props |= rule.when.fields()
            if rule.distinct:
                props.add(rule.distinct)
        return props

    def all_engagement_rules(self) -> Iterator[EngagementRule]:
        yield from self.engagement_rules
        for interest in self.interests:
            yield from interest.rules


Threshold = TypeVar("Threshold", Grade, Level)


def _check_thresholds(items: list[Threshold] | None, kind: str) -> list[Threshold] | None:
    if items is None:
        return None
    if not items:
        raise ValueError(f"list at least one {kind}, the last one without min")
    names = [str(getattr(item, kind)) for item in items]
    if items[-1].min is not None:
        raise ValueError(f"the last {kind} ({names[-1]!r}) must have no min: it catches the rest")
    missing = [name for item, name in zip(items[:-1], names[:-1], strict=True) if item.min is None]
    if missing:
        raise ValueError(f"only the last {kind} may have no min; give {missing[0]!r} a min")
    if len(set(names)) != len(names):
        raise ValueError(f"each {kind} must be named once")
    return items
