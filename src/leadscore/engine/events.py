"""The engagement side of a score: events aggregated per lead (SPEC §3).

Each engagement rule becomes a few aggregates over the lead's events, and a
contribution computed from them at lead level:

- plain rules sum the decay weights of the matching events;
- ``once`` (and ``min_count: 1``) needs only the most recent matching event, so its
  timestamp is aggregated and weighted once per lead;
- ``distinct`` keeps the most recent event per value: a ``(lead, value)``
  pre-aggregation joined back, which costs far less than ``count(DISTINCT)``;
- ``min_count: n`` needs the n-th most recent event of M: counted without decay,
  ranked with a window with decay.

Weights come from exact microsecond ages (SPEC §3 "precision").
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias

import ibis
import ibis.expr.types as ir

from leadscore.engine import sharing
from leadscore.engine.conditions import TestFn, compile_condition, compile_test, condition_tests
from leadscore.engine.values import Reading, double, with_texts
from leadscore.model import EngagementRule, InactivityRule, Model

MICROS_PER_DAY = 86_400_000_000
NOT_PROPERTIES = frozenset({"lead_id", "type", "timestamp", "event_id", "properties"})
LEAD = "lead_key"
INSTANT = "lead_as_of"  # each lead's T when leads have their own cut-off


def micros(days: float) -> int:
    """A whole number of microseconds that integer ages compare with exactly.

    ``age < days`` holds for an integer microsecond age exactly when
    ``age < ceil(days × 86,400,000,000)``; an integer literal also keeps engines
    from comparing through decimals.
    """
    return math.ceil(days * MICROS_PER_DAY)


@dataclass(frozen=True)
class Decay:
    """The time rules of a section: half-life and window, in days (None: off)."""

    half_life_days: float | None
    window_days: float | None

    def weight(self, age_us: ir.IntegerValue) -> ir.FloatingValue:
        if self.half_life_days is None:
            return double(1.0)
        half_life = ibis.literal(self.half_life_days * MICROS_PER_DAY, type="float64")
        result: ir.FloatingValue = ibis.literal(0.5, type="float64") ** (
            age_us.cast("float64") / half_life
        )
        return result

    @property
    def sums(self) -> Move:
        """How a kept sum of weights reads later (:func:`leadscore.engine.state.moved`)."""
        return "stays" if self.half_life_days is None else "decays"

    def in_window(self, age_us: ir.IntegerValue) -> ir.BooleanValue:
        if self.window_days is None:
            return ibis.literal(True)
        result: ir.BooleanValue = age_us < micros(self.window_days)
        return result


Merge = Literal["add", "least", "smallest"]
# How a kept value of a lead's events reads a while later: ages (and lists of ages)
# grow by the time passed, sums of decay weights shrink by the weight of that time,
# counts stay (the events leaving meanwhile taken out: Kept.edge).
Move = Literal["ages", "decays", "stays"]


def counted(name: str) -> str:
    """The kept count of the events of the kept sum ``name`` (with decay): a sum whose
    events all left is none, not the residue of a subtraction."""
    return f"{name}_n"


@dataclass(frozen=True)
class Kept:
    """An aggregate as kept between runs (:mod:`leadscore.engine.state`).

    ``value`` aggregates a lead's events; two such values of disjoint sets of events
    merge into the value of their union by ``merge``: ``add`` (sums and counts),
    ``least`` (youngest ages), ``smallest`` (the n youngest ages, a sorted list, of
    which the rule reads element ``nth``); ``move``: how it reads later
    (:func:`leadscore.engine.state.moved`); ``edge``: the age in days its events
    leave it at (the window, or the look-back), when T moves on. An ``add`` value
    loses the values of the events leaving it (:func:`leadscore.engine.state.merged`).
    """

    value: ir.Scalar
    merge: Merge
    nth: int | None = None
    move: Move = "ages"
    edge: float | None = None  # days: the events it holds are younger (None: any age)

    def final(self, kept: ir.Value) -> ir.Value:
        """What the contributions read, from the kept value."""
        return kept if self.nth is None else kept[self.nth]


@dataclass(frozen=True)
class Values:
    """A ``distinct`` pre-aggregation, as kept between runs: ``table`` holds the
    ``(lead, value)`` rows with the youngest age per rule (merged by ``least``);
    ``totals`` gives the per-lead table the contributions read from such rows."""

    table: ir.Table
    totals: Callable[[ir.Table], ir.Table]
    moves: dict[str, Move]  # how each of the totals reads later (state.moved)


@dataclass
class EventPlan:
    """Aggregates to compute per lead, and how each rule's contribution reads them.

    ``aggregates`` go into one pass over the events; ``subplans`` are per-lead tables
    joined back; ``contributions`` turn the joined columns into points.
    """

    aggregates: dict[str, ir.Scalar] = field(default_factory=dict)
    subplans: list[ir.Table] = field(default_factory=list)
    contributions: dict[str, Callable[[ir.Table], ir.FloatingValue]] = field(default_factory=dict)
    inactivity: dict[str, Callable[[ir.Table], ir.FloatingValue]] = field(default_factory=dict)

    top_n: bool = False  # DuckDB's min(x, n) gives n-th values without a window
    spills: bool = False  # memory is limited: keep the main pass's states spillable
    collects: bool = False  # Spark: n-th values from each lead's sorted list of ages
    # n-th values of the main pass, aggregated apart over their events (see _plan_nth)
    ranked: dict[str, ir.Scalar] = field(default_factory=dict)
    ranked_rows: list[ir.BooleanValue] = field(default_factory=list)
    names: Iterator[int] = field(default_factory=itertools.count)
    distinct: dict[str, list[tuple[EngagementRule, ir.BooleanValue]]] = field(default_factory=dict)
    # How the aggregates are kept between runs (:mod:`leadscore.engine.state`); only
    # DuckDB's plan, without a memory limit, keeps every one (``keepable``).
    kept: dict[str, Kept] = field(default_factory=dict)
    values: list[Values] = field(default_factory=list)
    keepable: bool = True
    edge: float | None = None  # the window (days) engagement aggregates hold events of

    def name(self) -> str:
        """A fresh column name for an aggregate."""
        return f"_a{next(self.names)}"

    def add(
        self, name: str, value: ir.Scalar, merge: Merge, nth: int | None = None,
        move: Move = "ages",
    ) -> None:  # fmt: skip
        """Aggregate ``value`` (with ``nth``: its element ``nth``) in the main pass."""
        kept = Kept(value, merge, nth, move, self.edge)
        self.aggregates[name] = kept.final(value)
        self.kept[name] = kept


def relevant_events(model: Model) -> tuple[float | None, tuple[str, ...] | None]:
    """How far back and which event types the model can see at all.

    An event older than every window and every inactivity horizon, or of a type
    no rule names, changes no result; dropping it early is exact and lets the
    engine skip it at the scan. ``None`` means no limit.
    """
    section = model.engagement
    rules = list(model.all_engagement_rules())
    window = section.window_days if section else None
    horizons = [r.days for r in model.inactivity_rules]
    days = None if rules and window is None else max([window or 0.0, *horizons])
    inactivity_types = [r.event_types for r in model.inactivity_rules]
    if any(types is None for types in inactivity_types):
        return days, None
    names = [t for r in rules for t in r.event_types]
    names += [t for types in inactivity_types for t in types or ()]
    return days, tuple(dict.fromkeys(names))


def edges(model: Model) -> list[float]:
    """The ages (days) at which events leave what kept aggregates hold as T moves on:
    the window's and the look-back's (:func:`relevant_events`)."""
    section = model.engagement
    window = section.window_days if section else None
    return sorted({d for d in (window, relevant_events(model)[0]) if d is not None})


Moment: TypeAlias = datetime | ir.TimestampValue  # an instant, or the SQL's expression of one


def crossing(column: ir.TimestampValue, lo: Moment, hi: Moment, days: float) -> ir.BooleanValue:
    """Whether ``column`` crosses the ``days`` horizon as T moves from lo to hi."""
    if isinstance(lo, datetime) and isinstance(hi, datetime):
        span = timedelta(microseconds=micros(days))
        start = ibis.literal(lo - span, type="timestamp")
        end = ibis.literal(hi - span, type="timestamp")
    else:
        interval = ibis.interval(microseconds=micros(days))
        start, end = lo - interval, hi - interval
    result: ir.BooleanValue = (column > start) & (column <= end)
    return result


def keyed_ids(events: ir.Table) -> ir.Table:
    """The events that have an ``event_id``, with the id to compare in ``_eid``."""
    reading = Reading(events.event_id, "event_id")
    keyed = events.mutate(_eid=reading.trimmed() if reading.dtype.is_string() else events.event_id)
    return keyed.filter(reading.present())


def repeated_ids(keyed: ir.Table) -> ir.Table:
    """The ids (``_eid``) of :func:`keyed_ids` that more than one event has.

    Ids are almost all unique, so the repeated ones are found by sorting the ids
    and comparing neighbours, cheaper than grouping millions of single ids.
    """
    ids = keyed.select("_eid")
    ids = ids.mutate(_previous=ids._eid.lag().over(order_by=ids._eid))
    return ids.filter(ids._eid == ids._previous).select("_eid").distinct()


@dataclass(frozen=True)
class Copies:
    """The events that have an ``event_id``, and those whose id is repeated."""

    keyed: ir.Table  # every event with an id, the id in ``_eid`` (streamed)
    repeated: ir.Table  # the ids more than one event has (kept)
    held: ir.Table  # the events holding a repeated id (kept)


def id_copies(events: ir.Table) -> Copies:
    """The :class:`Copies` of ``events``.

    Finding the repeated ids sorts every id, the costliest step of the
    de-duplication: a query that needs them twice (``score --since``, the
    fingerprints' ``SHARES``) passes these to each reader, so that they are one CTE.
    """
    keyed = sharing.streamed(keyed_ids(events), "keyed_events")
    repeated = sharing.kept(repeated_ids(keyed), "repeated_ids")
    return Copies(keyed, repeated, sharing.kept(keyed.semi_join(repeated, "_eid"), "copies"))


def sharing_leads(ids: Copies, key: Callable[[ir.Column], ir.Value]) -> ir.Table:
    """The keys (``_shared``) of the leads holding an ``event_id`` that another lead
    holds too, known or not (``_sharing``: true)."""
    return crossed_leads(ids.held.select("_eid", _lead=key(ids.held.lead_id)))


def crossed_leads(copies: ir.Table) -> ir.Table:
    """Of ``copies`` (``_eid``, ``_lead``: events and their lead's key), the leads
    (``_shared``) holding an id that another lead holds too (``_sharing``: true)."""
    counted = copies.group_by("_eid").aggregate(_n=copies._lead.nunique())
    crossed = copies.semi_join(counted.filter(counted._n > 1), "_eid")
    return crossed.select(_shared=crossed._lead, _sharing=ibis.literal(True)).distinct()


def first_copies(events: ir.Table, ids: Copies | None = None) -> ir.Table:
    """Of events sharing an ``event_id``, only the earliest (SPEC §3); no id: kept.

    Only the events of repeated ids are ranked; every other event passes an anti-join.
    ``ids``: :func:`id_copies` of ``events``, when the query shares them.
    """
    ids = ids or id_copies(events)
    copies = ids.held
    # Copies at the same instant in several leads: the lowest lead_id's counts.
    order = [copies.timestamp, copies.lead_id]
    first = ibis.row_number().over(group_by=copies._eid, order_by=order)
    earliest = copies.mutate(_first=first).filter(lambda t: t._first == 0).drop("_first")
    earliest = sharing.kept(earliest, "first_copies")
    single = ids.keyed.anti_join(ids.repeated, "_eid")
    absent = ~Reading(events.event_id, "event_id").present()
    unique = events.filter(absent).union(single.drop("_eid")).union(earliest.drop("_eid"))
    return sharing.streamed(unique, "unique_events")


def prepare_events(
    events: ir.Table,
    as_of: datetime | ir.TimestampScalar | ir.Table,
    key: Callable[[ir.Column], ir.Value],
    model: Model,
    owners: ir.Table | None = None,
    ids: Copies | None = None,
) -> ir.Table:
    """De-duplicate by ``event_id`` (first, globally), keep what the model can see, add ages.

    ``as_of`` is T (an instant, or an expression such as the engine's clock), or a
    table of ``(lead_key, lead_as_of)`` giving each lead its own. ``owners``
    ``(owner_from, owner_to)`` moves events to another lead's key (duplicates).
    Adds ``lead_key`` (the join key), ``etype`` (trimmed, lower-cased type) and
    ``age_us`` (microseconds before T). ``ids`` as in :func:`first_copies`.
    """
    source = events
    if "event_id" in events.columns:
        events = first_copies(events, ids)
    days, types = relevant_events(model)
    events = _with_types(events, source, types)
    # Few steps: each is a level of the SQL that the engine binds and plans.
    if owners is not None or isinstance(as_of, ir.Table):
        events = events.mutate(**{LEAD: key(events.lead_id)})
    if owners is not None:
        events = events.left_join(owners, events[LEAD] == owners.owner_from)
        events = events.mutate(**{LEAD: events.owner_to.fill_null(events[LEAD])})
        events = events.drop("owner_from", "owner_to")
    keys = {} if LEAD in events.columns else {LEAD: key(events.lead_id)}
    if isinstance(as_of, datetime):
        T: ir.TimestampValue = ibis.literal(as_of, type="timestamp")
        seen = [events.timestamp <= T]
        if days is not None:
            oldest = as_of - timedelta(microseconds=micros(days))  # exact: age < days
            seen.append(events.timestamp > ibis.literal(oldest, type="timestamp"))
    else:
        if isinstance(as_of, ir.Table):
            events = events.join(as_of, LEAD)
            T = events[INSTANT]
        else:
            T = as_of
        seen = [events.timestamp <= T]
        if days is not None:
            seen.append(T.delta(events.timestamp, unit="microsecond") < micros(days))
    events = events.filter(*seen)
    return events.mutate(**keys, age_us=T.delta(events.timestamp, unit="microsecond"))


def _with_types(events: ir.Table, source: ir.Table, types: tuple[str, ...] | None) -> ir.Table:
    """Add ``etype``, the type as trimmed, lower-cased text; keep only ``types`` (None: all).

    The text is computed once per distinct type of ``source`` (the events as read)
    and joined back: a handful of values instead of a trim and a lower-case for
    every event, and the join drops the types no rule reads.
    """
    names = source.select(_type=source.type).filter(lambda t: t._type.notnull()).distinct()
    names = names.mutate(etype=Reading(names._type, "type").text())
    if types is not None:
        names = names.filter(names.etype.isin(types))
    names = sharing.kept(names, "event_types")
    how = "left" if types is None else "inner"
    joined = events.join(names, events.type == names._type, how=how)
    return joined.select(*[events[c] for c in events.columns], names.etype)


def event_fields(events: ir.Table) -> Callable[[str], Reading]:
    """Engagement conditions read event properties; a few columns are not properties."""

    def reading(name: str) -> Reading:
        if name in NOT_PROPERTIES or name not in events.columns:
            return Reading(None, name)
        return Reading(events[name], name)

    return reading


def plan_events(
    model: Model,
    events: ir.Table,
    source: ir.Table,
    dialect: str | None = None,
    spills: bool = False,
) -> tuple[ir.Table, EventPlan]:
    """Plan every engagement, interest and inactivity rule over prepared events.

    ``source`` holds the events as read, before :func:`prepare_events`; ``dialect``
    the SQL dialect the query will be run in, for its shortcuts; ``spills``: the
    engine's memory is limited (``--memory-limit``), so the plan keeps what it can
    spill to disk.
    """
    collects = dialect in ("pyspark", "spark")
    plan = EventPlan(top_n=dialect == "duckdb", spills=spills, collects=collects)
    plan.keepable = plan.top_n and not spills
    section = model.engagement
    window = section.window_days if section else None
    plan.edge = window
    if window is not None and relevant_events(model)[0] == window:
        # prepare_events kept only the events younger than the window (no inactivity
        # horizon is longer): every one is in it, and no rule tests it again.
        window = None
    decay = Decay(section.half_life_days if section else None, window)
    weighted = events.mutate(weight=decay.weight(events.age_us))
    rules = list(model.all_engagement_rules())
    tests = [t for r in rules for t in condition_tests(r.when)]
    weighted, test = _text_tests(weighted, source, tests, null_safe=dialect == "duckdb")
    fields = event_fields(weighted)
    for rule in rules:
        _plan_rule(plan, rule, weighted, fields, test, decay)
    for name, members in plan.distinct.items():
        if fields(name).column is None:  # no event has the property: every M is empty
            plan.contributions.update({rule.id: _no_points for rule, _ in members})
            continue
        _plan_distinct(plan, members, weighted, fields(name), decay)
    for inactive in model.inactivity_rules:
        _plan_inactivity(plan, inactive, weighted, relevant_events(model)[0])
    if plan.ranked:
        rows = functools.reduce(operator.or_, plan.ranked_rows)
        plan.subplans.append(weighted.filter(rows).group_by(LEAD).aggregate(**plan.ranked))
    return weighted, plan


def _text_tests(
    events: ir.Table, source: ir.Table, tests: list[tuple[str, str, Any]], null_safe: bool = False
) -> tuple[ir.Table, TestFn]:
    """Tests on text properties, computed once per distinct value and joined back.

    A URL condition costs a trim, a lower-case and a search; run over each distinct
    URL instead of each event, it is paid a few thousand times, not millions (the
    join back is far cheaper). Tests on other types run per event: they are cheap.
    The distinct values come straight from ``source``, the events as read: a few
    more values than the events in scope have cost nothing, and the scan skips
    the de-duplication and filters. The events with their tests are fenced
    (:mod:`leadscore.engine.sharing`): DuckDB's readers recompute them as they scan;
    PostgreSQL computes them once for its many readers (the n-th event of each
    ``min_count`` rule is a window of its own there): 1.67x a hand-written query's
    time at 5M events before, 0.95x after.

    With ``null_safe`` (DuckDB) a missing value is one more row of the distinct
    values, with its tests computed like the others', joined with ``IS NOT DISTINCT
    FROM``; elsewhere (PostgreSQL cannot hash such a join) an event without a value
    gets each test's result for a missing value after the join, a ``coalesce`` per
    test and event (with the join's cost, 46.6 s against 40.2 s of DuckDB's thread
    time at 50M events).
    """
    fields = event_fields(events)
    columns: dict[tuple[str, str, str], str] = {}
    by_field: dict[str, list[tuple[str, str, Any]]] = {}
    for name, op, value in tests:
        reading = fields(name)
        key = (name, op, repr(value))
        if reading.column is not None and reading.dtype.is_string() and key not in columns:
            columns[key] = f"_t{len(columns)}"
            by_field.setdefault(name, []).append((name, op, value))
    missing: dict[str, bool] = {}
    joined, selected = events, [events[c] for c in events.columns]
    for index, (name, field_tests) in enumerate(by_field.items()):
        key_column = f"_k{index}"
        values = source.select(**{key_column: source[name]})
        if not null_safe:
            values = values.filter(values[key_column].notnull())
        values = values.distinct()
        texts, read, _ = with_texts(values, [key_column])
        reading = dataclasses.replace(read(key_column), name=name)
        computed = {}
        for _, op, value in field_tests:
            column = columns[(name, op, repr(value))]
            computed[column] = compile_test(reading, op, value)
            missing[column] = op == "exists" and value is False
        dimension = texts.select(key_column, **computed)
        dimension = sharing.kept(dimension, f"{name}_tests")
        # One chain of joins and one projection (each step would be a level of SQL).
        if null_safe:
            joined = joined.left_join(dimension, events[name].identical_to(dimension[key_column]))
            selected += [dimension[c] for c in computed]
        else:
            joined = joined.left_join(dimension, events[name] == dimension[key_column])
            selected += [dimension[c].fill_null(missing[c]).name(c) for c in computed]
    events = sharing.fenced(joined.select(*selected) if by_field else events, "tested_events")

    def test(name: str, op: str, value: Any) -> ir.BooleanValue:
        column = columns.get((name, op, repr(value)))
        if column is not None:
            result: ir.BooleanValue = events[column]
            return result
        return compile_test(event_fields(events)(name), op, value)

    return events, test


def _plan_rule(
    plan: EventPlan,
    rule: EngagementRule,
    events: ir.Table,
    fields: Callable[[str], Reading],
    test: TestFn,
    decay: Decay,
) -> None:
    matches = events.etype.isin(rule.event_types) & decay.in_window(events.age_us)
    matches = matches & compile_condition(rule.when, test)
    points = float(rule.points)
    single = rule.once if rule.min_count is None else rule.min_count == 1
    if single and rule.distinct is not None:
        matches = matches & fields(rule.distinct).present()
    if single:
        # The most recent event of M (with distinct: of any value) has the largest weight.
        name = plan.name()
        plan.add(name, events.age_us.min(where=matches), "least")
        plan.contributions[rule.id] = _capped(rule, lambda t: _points_at(points, decay, t[name]))
    elif rule.distinct is not None:
        plan.distinct.setdefault(rule.distinct, []).append((rule, matches))
    elif rule.min_count is None:
        name = plan.name()
        plan.add(name, events.weight.sum(where=matches), "add", move=decay.sums)
        plan.contributions[rule.id] = _capped(rule, functools.partial(_scaled_sum, points, name))
        if decay.half_life_days is not None:  # kept: a sum whose events all left is none
            plan.kept[counted(name)] = Kept(events.count(where=matches), "add", None, "stays",
                                            plan.edge)  # fmt: skip
    elif decay.half_life_days is None:
        name = plan.name()
        plan.add(name, events.count(where=matches), "add", move="stays")
        plan.contributions[rule.id] = _capped(
            rule, functools.partial(_threshold, points, name, rule.min_count)
        )
    else:
        _plan_nth(plan, rule, decay, events, "age_us", matches, None, plan.name())


def _plan_distinct(
    plan: EventPlan,
    members: list[tuple[EngagementRule, ir.BooleanValue]],
    events: ir.Table,
    value: Reading,
    decay: Decay,
) -> None:
    """M keeps, per distinct value, only the most recent event (the youngest age).

    All rules on one property share one ``(lead, value)`` pre-aggregation, with the
    youngest matching age per rule; a rule without a match for a value gets null.
    """
    flags = {f"_m{i}": matches for i, (_, matches) in enumerate(members)}
    marked = events.mutate(**flags, _value=value.text())
    matched = functools.reduce(operator.or_, [marked[f] for f in flags])
    textual = value.dtype.is_string()
    # Missing values are not in M. Text is null or '' exactly when text data is
    # missing, which is tested on the groups: a row filter on the text would compute
    # it twice for every event (engines push such a filter below the projection).
    marked = marked.filter(matched if textual else matched & value.present())
    per_value = marked.group_by([LEAD, "_value"]).aggregate(
        **{f"_d{i}": marked.age_us.min(where=marked[f]) for i, f in enumerate(flags)}
    )
    names = [plan.name() for _ in members]
    masked, totals = _distinct_totals(plan, members, names, per_value, decay, textual)
    if totals:
        plan.subplans.append(masked.group_by(LEAD).aggregate(**totals))
    if plan.keepable:

        def kept_totals(rows: ir.Table) -> ir.Table:
            again = EventPlan(top_n=True)  # the same aggregates, over other rows
            masked, totals = _distinct_totals(again, members, names, rows, decay, textual)
            return masked.group_by(LEAD).aggregate(**totals)

        rules = [rule for rule, _ in members]
        moves = {name: _total_move(r, decay) for r, name in zip(rules, names, strict=True)}
        plan.values.append(Values(per_value, kept_totals, moves))


def _total_move(rule: EngagementRule, decay: Decay) -> Move:
    """How a ``distinct`` rule's total (:func:`_distinct_totals`) reads later."""
    if rule.min_count is None:
        return decay.sums  # a sum of weights (a count without decay)
    return "stays" if decay.half_life_days is None else "ages"  # a count; the n-th age


def _distinct_totals(
    plan: EventPlan,
    members: list[tuple[EngagementRule, ir.BooleanValue]],
    names: list[str],
    per_value: ir.Table,
    decay: Decay,
    textual: bool,
) -> tuple[ir.Table, dict[str, ir.Scalar]]:
    """The per-lead aggregates of :func:`_plan_distinct`'s ``(lead, value)`` rows, named
    ``names`` (one per member), and each member's contribution from them; returns the
    rows they aggregate (missing text values taken out) and the aggregates."""
    ages = [f"_d{i}" for i in range(len(members))]
    if textual:
        present = per_value._value.notnull() & (per_value._value != "")
        per_value = per_value.mutate(
            **{d: ibis.ifelse(present, per_value[d], ibis.null("int64")) for d in ages}
        )
    totals: dict[str, ir.Scalar] = {}
    for i, ((rule, _), name) in enumerate(zip(members, names, strict=True)):
        age, points = per_value[f"_d{i}"], float(rule.points)
        if rule.min_count is None:
            if decay.half_life_days is None:  # every kept event weighs 1
                totals[name] = age.count().cast("float64")
            else:
                totals[name] = decay.weight(age).sum(where=age.notnull())
            plan.contributions[rule.id] = _capped(
                rule, functools.partial(_scaled_sum, points, name)
            )
        elif decay.half_life_days is None:
            totals[name] = age.count()
            plan.contributions[rule.id] = _capped(
                rule, functools.partial(_threshold, points, name, rule.min_count)
            )
        else:
            _plan_nth(plan, rule, decay, per_value, f"_d{i}", age.notnull(), totals, name)
    return per_value, totals


def _no_points(t: ir.Table) -> ir.FloatingValue:
    return double(0.0)


def _scaled_sum(points: float, name: str, t: ir.Table) -> ir.FloatingValue:
    return (points * t[name]).fill_null(0.0)


def _threshold(points: float, name: str, needed: int, t: ir.Table) -> ir.FloatingValue:
    return (t[name].fill_null(0) >= needed).ifelse(double(points), double(0.0))


@ibis.udf.agg.builtin(name="min")
def _smallest(value: int, n: int) -> list[int]:  # type: ignore[empty-body]
    """DuckDB's top-n aggregate: the n smallest values, in order."""


@ibis.udf.scalar.builtin(name="try_element_at")
def _element(values: list[int], position: int) -> int:  # type: ignore[empty-body]
    """Spark's 1-based array element, null past the end (``element_at`` throws)."""


def _plan_nth(
    plan: EventPlan,
    rule: EngagementRule,
    decay: Decay,
    table: ir.Table,
    age: str,
    matches: ir.BooleanValue,
    into: dict[str, ir.Scalar] | None,
    name: str,
) -> None:
    """``min_count: n`` with decay: the weight of the n-th most recent event of M, as ``name``.

    M is the rows of ``table`` (grouped by lead) where ``matches``, ``age`` their
    ages. With ``plan.top_n`` (DuckDB) the n-th youngest age is an aggregate added to
    ``into``, the aggregation over ``table`` (None: the main pass, ``plan.add``); with
    ``plan.collects`` (Spark) too, read
    from the sorted list of M's ages; elsewhere a window ranks M's ages. A window
    reads the events once more per rule: on Spark, 1.4x a hand-written query's time
    at 5M events.
    """
    assert rule.min_count is not None
    nth = rule.min_count - 1
    points = float(rule.points)
    plan.contributions[rule.id] = _capped(rule, lambda t: _points_at(points, decay, t[name]))
    if plan.top_n:
        youngest = _smallest(table[age], rule.min_count, where=matches)
        if into is None and plan.spills:
            # Under a memory limit, not in the main pass: DuckDB keeps top-n states in
            # an arena that counts against the aggregation's memory and is not spilled.
            # At 50M events (session 9) the main pass took 26.8 s against 28.5 s apart,
            # but ran out of memory under --memory-limit 2GB (apart: done). Apart, over
            # M's events, the rows are narrow; in the main pass, the events are read
            # once less (session 14, small: about 4 % of the query).
            plan.ranked[name] = youngest[nth]
            plan.ranked_rows.append(matches)
        elif into is None:
            plan.add(name, youngest, "smallest", nth)
        else:
            into[name] = youngest[nth]
        return
    if plan.collects:
        nth_age = _element(table[age].collect(where=matches).sort(), rule.min_count)
        if into is None:
            plan.aggregates[name] = nth_age
        else:
            into[name] = nth_age
        return
    ages = table.filter(matches).select(LEAD, age_us=table[age])
    rank = ibis.row_number().over(group_by=ages[LEAD], order_by=ages.age_us)
    nth_age = (
        ages.mutate(_rank=rank)
        .filter(lambda t: t._rank == nth)
        .select(LEAD, **{name: lambda t: t.age_us})
    )
    plan.subplans.append(nth_age)


def _plan_inactivity(
    plan: EventPlan, rule: InactivityRule, events: ir.Table, look_back: float | None
) -> None:
    """Latest event of the rule's types at or before T; the window does not apply
    (its events leave at the ``look_back``, :func:`relevant_events`)."""
    name = plan.name()
    types = rule.event_types
    matches = events.etype.isin(types) if types is not None else None
    plan.add(name, events.age_us.min(where=matches), "least")
    plan.kept[name] = dataclasses.replace(plan.kept[name], edge=look_back)
    plan.inactivity[rule.id] = lambda t: t[name]


def _points_at(points: float, decay: Decay, age_us: ir.IntegerValue) -> ir.FloatingValue:
    """Points for one event of that age; 0 (not -0) when there is none."""
    return age_us.isnull().ifelse(double(0.0), points * decay.weight(age_us))


def _capped(
    rule: EngagementRule, value: Callable[[ir.Table], ir.FloatingValue]
) -> Callable[[ir.Table], ir.FloatingValue]:
    """``max_points`` bounds the absolute value, keeping the sign (input never null)."""
    if rule.max_points is None:
        return value
    cap = float(rule.max_points)
    # Not clip(): it guards against a null input by repeating the value seven times.
    return lambda t: ibis.greatest(-cap, ibis.least(cap, value(t)))
