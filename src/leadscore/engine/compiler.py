"""Compile a model into one ibis query: a row per lead with every result (SPEC §3).

The query carries one column per rule contribution (``rule:<id>``), so the
explanation is read from the same query that computes the score; there is no
second evaluator of the rules.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import ibis
import ibis.expr.types as ir

from leadscore.engine import sharing
from leadscore.engine.conditions import compile_condition, reading_tests
from leadscore.engine.events import (
    INSTANT,
    LEAD,
    EventPlan,
    id_copies,
    micros,
    plan_events,
    prepare_events,
)
from leadscore.engine.fingerprints import (
    AS_OF,
    EVENT_COUNT,
    EVENT_SUM,
    FINGERPRINT,
    SHARES,
    event_digest,
    lead_fingerprint,
    with_shares,
)
from leadscore.engine.values import Reading, double, readings, with_texts
from leadscore.model import InactivityRule, Model

RESULT_COLUMNS = (
    "lead_id",
    "fit",
    "grade",
    "engagement",
    "level",
    "matrix",
    "score",
    "stage",
    "top_interest",
)
DISQUALIFIED = "disqualified"
ZERO = double(0.0)


def rule_column(rule_id: str) -> str:
    """The column holding a rule's points in the compiled query."""
    return f"rule:{rule_id}"


def interest_column(interest_id: str) -> str:
    """The output column of an interest's score."""
    return f"interest:{interest_id}"


def result_columns(model: Model) -> tuple[str, ...]:
    """The score columns of ``model``'s results, in order (SPEC §4 ``score``)."""
    return (*RESULT_COLUMNS, *(interest_column(i.id) for i in model.interests))


@dataclass(frozen=True)
class Compiled:
    """The compiled query and the names of its parts."""

    table: ir.Table
    result_columns: tuple[str, ...]
    rule_columns: tuple[str, ...]
    with_leads: ir.Table  # every lead column beside the results, for lists people read
    state_columns: tuple[str, ...] = ()  # as_of and fingerprint, for `score --since`

    def results(self) -> ir.Table:
        """The score columns users get (SPEC §4 ``score``)."""
        # From the full table: through ``table``, the SQL would list its columns too.
        return self.with_leads.select(*self.result_columns, *self.state_columns)


Part = Literal["results", "explained", "leads"]
PARTS: dict[str, Callable[[Compiled], ir.Table]] = {  # what a command reads of the query
    "results": Compiled.results,
    "explained": lambda compiled: compiled.table,
    "leads": lambda compiled: compiled.with_leads,
}


def compile_model(
    model: Model,
    leads: ir.Table,
    events: ir.Table | None,
    as_of: datetime | ir.TimestampScalar,
    cutoff: str | None = None,
    engine: str | None = None,
    dialect: str | None = None,
    spills: bool = False,
    aggregated: Aggregated | None = None,
) -> Compiled:
    """Build the scoring query of ``model`` over ``leads`` and ``events`` as of ``as_of``.

    ``leads`` must already carry the derived fields the model reads; ``as_of`` is a
    naive UTC datetime, or an expression such as ``ibis.now()`` (for SQL that runs
    later, as of the moment it runs). With ``cutoff``, each lead is scored as of the instant in
    that (naive UTC timestamp) lead column, or ``as_of`` where it is null: one query
    then serves point-in-time features and backtests. With ``engine`` (the name of
    the engine that runs it), the results also carry each lead's T (``as_of``) and
    ``fingerprint`` (:mod:`leadscore.engine.fingerprints`). ``dialect`` (default: the
    engine's) is the SQL dialect the query will run in, for its shortcuts; ``spills``
    says the engine's memory is limited, so the plan keeps what it can spill to disk.
    ``aggregated`` gives the per-lead aggregates of the events instead of computing
    them from ``events`` (kept between runs: :mod:`leadscore.engine.state`); the
    events then only give the plan its columns, and are not read unless it reads them.
    Nothing is executed here.
    """
    key = key_function(leads, events)
    table = leads.mutate(**{LEAD: key(leads.lead_id), INSTANT: _instant(leads, as_of, cutoff)})
    owners = owners_of(leads, key) if model.merge_duplicates else None
    instant = as_of if cutoff is None else None
    dialect = dialect or engine
    table, rule_cols, read = _join_events(
        model, table, events, instant, key, owners, engine, dialect, spills, aggregated
    )
    table, lead_fields, texts = with_texts(table, sorted(model.lead_fields()))
    # The texts are computed once: PostgreSQL would repeat a trim in every test of it.
    table = sharing.fenced(table, "texts")
    lead_fields = readings(table)
    fields = reading_tests(lead_fields)

    fit_cols = {
        rule_column(rule.id): compile_condition(rule.when, fields).ifelse(double(rule.points), ZERO)
        for rule in model.fit.rules
    }
    table = table.mutate(**fit_cols, **rule_cols(table))
    # The per-lead aggregates are read: each later step would list them again.
    table = table.select(*(c for c in table.columns if c not in read))
    fit = _total(table, [rule_column(r.id) for r in model.fit.rules])
    engagement_ids = [r.id for r in model.engagement_rules]
    engagement_ids += [r.id for r in model.inactivity_rules]
    engagement = _total(table, [rule_column(i) for i in engagement_ids])
    interests = {
        interest_column(i.id): _total(table, [rule_column(r.id) for r in i.rules])
        for i in model.interests
    }
    table = sharing.fenced(table.mutate(fit=fit, engagement=engagement, **interests), "points")
    fields = reading_tests(readings(table))
    # Each step computes what reads only earlier steps: fewer steps, shorter SQL.
    table = table.mutate(
        score=_clamp(model, table.fit + table.engagement),
        grade=_grade(model, table.fit),
        level=_level(model, table.engagement),
        top_interest=_top_interest(model, table),
        disqualified_by=_disqualified_by(model, fields),
    )
    table = table.mutate(matrix=_matrix(model, table), stage=_stage(model, table, fields))
    state: tuple[str, ...] = ()
    computed: dict[str, ir.Value] = {}
    if engine is not None:
        state = (AS_OF, FINGERPRINT)
        computed = {AS_OF: table[INSTANT], FINGERPRINT: lead_fingerprint(model, table, engine)}
    # A projection, not drop(): ibis writes a drop's EXCLUDE list in set order, which
    # made the SQL (`leadscore sql`) differ from one process to the next.
    dropped = {*texts, EVENT_COUNT, EVENT_SUM, SHARES}
    kept = [c for c in table.columns if c not in dropped]
    table = table.select(*kept, **computed)
    explained = table.select(*output_columns(model, explain=True, stated=bool(state)))
    return Compiled(explained, result_columns(model), _rule_columns(model), table, state)


def output_columns(model: Model, explain: bool, stated: bool) -> tuple[str, ...]:
    """The columns of :func:`compile_model`'s results (``explain``: its table);
    ``stated``: with ``as_of`` and ``fingerprint`` (compiled for an engine)."""
    explained = ("disqualified_by", *_rule_columns(model)) if explain else ()
    return (*result_columns(model), *explained, *((AS_OF, FINGERPRINT) if stated else ()))


def _rule_columns(model: Model) -> tuple[str, ...]:
    """Each rule's points column, fit first, then engagement, inactivity, interests."""
    ids = [r.id for r in model.fit.rules] + [r.id for r in model.engagement_rules]
    ids += [r.id for r in model.inactivity_rules]
    ids += [r.id for i in model.interests for r in i.rules]
    return tuple(rule_column(i) for i in ids)


KeyFn = Callable[[ir.Column], ir.Value]
Contributions = Callable[[ir.Table], dict[str, ir.FloatingValue]]
# The per-lead tables (``lead_key`` and the aggregates the plan's contributions read,
# the digest and SHARES) of the plan over the prepared, weighted events.
Aggregated = Callable[[EventPlan, ir.Table], list[ir.Table]]


def owners_of(leads: ir.Table, key: KeyFn) -> ir.Table:
    """``merge_duplicates``: each lead key and the key its events count on.

    A duplicate's events count on the lead it duplicates (``duplicate_of``), once:
    the duplicate itself keeps none.
    """
    survivor = leads.duplicate_of.cast(leads.lead_id.type())
    owner = ibis.coalesce(key(survivor), key(leads.lead_id))
    return leads.select(owner_from=key(leads.lead_id), owner_to=owner)


def _instant(
    leads: ir.Table, as_of: datetime | ir.TimestampScalar, cutoff: str | None
) -> ir.TimestampValue:
    """Each lead's T: one instant, or the lead's cut-off falling back to ``as_of``."""
    T = ibis.literal(as_of, type="timestamp") if isinstance(as_of, datetime) else as_of
    if cutoff is None:
        return T
    return leads[cutoff].cast("timestamp").fill_null(T)


def key_function(leads: ir.Table, events: ir.Table | None) -> KeyFn:
    """Lead ids compare as trimmed, case-sensitive text; integers on both sides as is."""
    both_integer = leads.lead_id.type().is_integer() and (
        events is None or events.lead_id.type().is_integer()
    )
    if both_integer:
        return lambda column: column
    return lambda column: Reading(column, "lead_id").trimmed()


def _join_events(
    model: Model,
    table: ir.Table,
    events: ir.Table | None,
    as_of: datetime | ir.TimestampScalar | None,
    key: KeyFn,
    owners: ir.Table | None = None,
    engine: str | None = None,
    dialect: str | None = None,
    spills: bool = False,
    aggregated: Aggregated | None = None,
) -> tuple[ir.Table, Contributions, frozenset[str]]:
    """Left-join the per-lead event aggregates; return the rule-contribution builder.

    ``as_of`` None: each lead has its own T, in the ``INSTANT`` column of ``table``.
    With ``engine``, the aggregates include the events' digest (fingerprints).
    ``aggregated``: see :func:`compile_model`.
    Also returns the names of the joined aggregates the contributions read.
    """
    if events is None or not ([*model.all_engagement_rules()] or model.inactivity_rules):
        events = None
    plan = EventPlan()
    read: set[str] = set()
    if events is not None:
        events = sharing.streamed(events, "events")
        instants = table.select(LEAD, INSTANT) if as_of is None else as_of
        ids = None
        if aggregated is None and engine is not None and "event_id" in events.columns:
            ids = id_copies(events)  # the fingerprints' bit
            table, _ = with_shares(table, ids, key)
        prepared = prepare_events(events, instants, key, model, owners, ids)
        weighted, plan = plan_events(model, prepared, events, dialect, spills)
        per_lead: list[ir.Table] = []
        if aggregated is not None:
            per_lead = aggregated(plan, weighted)
        else:
            if engine is not None:
                plan.aggregates.update(event_digest(weighted, model, engine))
            if plan.aggregates:
                per_lead.append(weighted.group_by(LEAD).aggregate(**plan.aggregates))
            per_lead.extend(plan.subplans)
        # One chain of joins and one projection: a step per join would list every
        # column again (and give the engine's planner a level more to go through).
        joined, columns = table, [table[c] for c in table.columns]
        for sub in per_lead:
            joined = joined.left_join(sub, table[LEAD] == sub[LEAD])
            columns += [
                sub[c].fill_null(False).name(c) if c == SHARES else sub[c]
                for c in sub.columns
                if c != LEAD
            ]
            read |= {c for c in sub.columns if c != LEAD}
        table = joined.select(*columns) if per_lead else table
    else:
        plan = _empty_plan(model)
    created = table.created_at if "created_at" in table.columns else None

    def contributions(t: ir.Table) -> dict[str, ir.FloatingValue]:
        cols = {rule_column(rid): build(t) for rid, build in plan.contributions.items()}
        for rule in model.inactivity_rules:
            cols[rule_column(rule.id)] = _inactivity(rule, plan, t, created)
        return cols

    return table, contributions, frozenset(read - {EVENT_COUNT, EVENT_SUM, SHARES})


def _empty_plan(model: Model) -> EventPlan:
    """Without events every engagement rule scores 0 and every lead is inactive."""
    plan = EventPlan()
    for rule in model.all_engagement_rules():
        plan.contributions[rule.id] = lambda t: ZERO
    for inactive in model.inactivity_rules:
        plan.inactivity[inactive.id] = lambda t: ibis.null("int64")
    return plan


def _inactivity(
    rule: InactivityRule, plan: EventPlan, t: ir.Table, created: ir.Column | None
) -> ir.FloatingValue:
    latest_age = plan.inactivity[rule.id](t)
    horizon = micros(rule.days)
    inactive = latest_age.isnull() | (latest_age >= horizon)
    if created is not None:
        young = t[INSTANT].delta(t.created_at, unit="microsecond") < horizon
        inactive = inactive & ~(t.created_at.notnull() & young).fill_null(False)
    return inactive.ifelse(double(rule.points), ZERO)


def _total(table: ir.Table, columns: list[str]) -> ir.FloatingValue:
    if not columns:
        return ZERO
    return functools.reduce(operator.add, [table[c] for c in columns])


def _clamp(model: Model, score: ir.FloatingValue) -> ir.FloatingValue:
    bounds = model.score
    if bounds is None or (bounds.min is None and bounds.max is None):
        return score
    return score.clip(lower=bounds.min, upper=bounds.max)


def _grade(model: Model, fit: ir.FloatingValue) -> ir.StringValue:
    grades = model.fit.grades
    if not grades:
        return ibis.null("string")
    return ibis.cases(*((fit >= g.min, g.grade) for g in grades[:-1]), else_=grades[-1].grade)


def _level(model: Model, engagement: ir.FloatingValue) -> ir.IntegerValue:
    levels = model.engagement.levels if model.engagement else None
    if not levels:
        return ibis.null("int64")
    return ibis.cases(
        *((engagement >= lv.min, lv.level) for lv in levels[:-1]), else_=levels[-1].level
    ).cast("int64")


def _matrix(model: Model, table: ir.Table) -> ir.StringValue:
    if not model.fit.grades or not (model.engagement and model.engagement.levels):
        return ibis.null("string")
    return table.grade.concat(table.level.cast("string"))


def _top_interest(model: Model, table: ir.Table) -> ir.StringValue:
    """The highest positive interest; ties go to the first declared."""
    scores = [(i.id, table[interest_column(i.id)]) for i in model.interests]
    if not scores:
        return ibis.null("string")
    branches = []
    for k, (name, value) in enumerate(scores):
        beats = [value > 0]
        beats += [value > other for _, other in scores[:k]]
        beats += [value >= other for _, other in scores[k + 1 :]]
        branches.append((functools.reduce(operator.and_, beats), name))
    return ibis.cases(*branches, else_=ibis.null("string"))


def _disqualified_by(model: Model, fields) -> ir.StringValue:  # type: ignore[no-untyped-def]
    if not model.disqualify:
        return ibis.null("string")
    return ibis.cases(
        *((compile_condition(d.when, fields), d.id) for d in model.disqualify),
        else_=ibis.null("string"),
    )


def _stage(model: Model, table: ir.Table, fields) -> ir.StringValue:  # type: ignore[no-untyped-def]
    branches = [(table.disqualified_by.notnull(), DISQUALIFIED)] if model.disqualify else []
    for stage in model.stages:
        tests = [
            *([table.score >= stage.min_score] if stage.min_score is not None else []),
            *([table.fit >= stage.min_fit] if stage.min_fit is not None else []),
            *(
                [table.engagement >= stage.min_engagement]
                if stage.min_engagement is not None
                else []
            ),
            *(
                [table.grade.isin(stage.grades).fill_null(False)]
                if stage.grades is not None
                else []
            ),
            *(
                [table.level.isin(stage.levels).fill_null(False)]
                if stage.levels is not None
                else []
            ),
            *([compile_condition(stage.when, fields)] if stage.when is not None else []),
        ]
        holds = functools.reduce(operator.and_, tests) if tests else ibis.literal(True)
        branches.append((holds, stage.stage))
    if not branches:
        return ibis.null("string")
    return ibis.cases(*branches, else_=ibis.null("string"))
