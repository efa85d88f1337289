"""Incremental re-scoring (``leadscore score --since PREVIOUS``): the same results
as a full run, computing only the leads whose result can have changed.

A lead is scored again when

- it is new, or its ``fingerprint`` (:mod:`leadscore.engine.fingerprints`) differs
  from the previous run's: the model, a lead field the model reads, or one of the
  events the model can see changed (added, edited, removed, or moved in or out of
  the look-back because T moved);
- T moved and its result depends on T alone: an event crossing the window's edge
  or an inactivity horizon between the two instants; a ``created_at`` crossing an
  inactivity horizon. With decay, every lead with an event in the window changes
  when T moves: the run is then a full one, said in the plan — unless it is told
  the new events and reads kept aggregates at the new T (below);
- it shares an ``event_id`` with another lead (de-duplication is global), or it
  belongs to a group of duplicates with such a lead (``merge_duplicates``).

Every other lead keeps its previous row, with the new ``as_of``. Deciding costs one
pass over the events (their digest per lead), no scoring.

Told which events are new since the previous run (``new_events``, each also in
the events; no other event added, edited or removed), it reads far less: the
lead part of the fingerprint finds the changed leads, the new events name the
leads they touch, one probe of the ids finds the leads holding a new event's id,
and only when T moved are the events' timestamps read for crossings. Only the
chosen leads' events are read in full (with the copies of their ids that other
leads hold, for the de-duplication).

With kept aggregates (:mod:`leadscore.engine.state`) the chosen leads are merged
from them instead, at the same T or read at a later one (:func:`_bounds`): the
events leaving what its kept rows hold are then taken out of them, those entering
merged (:func:`leadscore.engine.state.moving`; a lead with such an event whose id
another event holds is read from its events, :func:`_crossings`), and with decay
every lead with kept rows is chosen.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import ibis
import ibis.expr.types as ir

from leadscore import plans
from leadscore.engine import Source, cache, kept_runs, kept_states, query_cache, sharing, state
from leadscore.engine.backends import materialize
from leadscore.engine.compiler import (
    PARTS,
    Part,
    compile_model,
    key_function,
    output_columns,
    owners_of,
)
from leadscore.engine.events import (
    LEAD,
    EventPlan,
    Moment,
    crossed_leads,
    crossing,
    edges,
    id_copies,
    keyed_ids,
    plan_events,
    prepare_events,
)
from leadscore.engine.fingerprints import (
    AS_OF,
    FINGERPRINT,
    SHARES,
    event_digest,
    lead_fingerprint,
    lead_part,
    previous_lead_part,
    previous_shares,
    with_shares,
)
from leadscore.engine.inputs import Inputs, describe, expose_properties, stage
from leadscore.engine.io import EVENT_REQUIRED, fetch, fetch_value
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.model import Model
from leadscore.plans import COPIES, REASONS, UNKNOWN, RescorePlan

__all__ = ["REASONS", "RescorePlan", "Rescored", "rescore"]

log = logging.getLogger("leadscore")

PROBE = "probe"  # told the new events: other leads may hold copies of the lead's ids
READS = "reads"  # told the new events: a new event's id is another event's too


@dataclass(frozen=True)
class Rescored:
    """The results of an incremental run, and its plan."""

    table: ir.Table  # every lead: re-scored rows and carried-over ones
    plan: RescorePlan
    # Keeps the state of the output once it is written (:mod:`leadscore.engine.state`)
    written: Callable[[Any], None] | None = None


def rescore(
    con: Any,
    model: Model,
    inputs: Inputs,
    as_of: datetime,
    previous: Source,
    explain: bool = False,
    new_events: Source | None = None,
    spills: bool = False,
    leads_file: str | None = None,
) -> Rescored:
    """The results of a full run at ``as_of``, re-using ``previous`` where exact.

    ``new_events``: the events added since ``previous`` was scored (see the module);
    ``spills``: the engine's memory is limited (:func:`~leadscore.engine.compiler.compile_model`);
    ``leads_file``: the leads file read (:func:`~leadscore.engine.kept_states.identity`).
    """
    total = int(fetch_value(con, inputs.leads.count(), report="leads"))

    def full_run(why: str) -> Rescored:
        kept_runs.unreplayable()  # a replay could not say why
        wanted = _scored(con, model, inputs.leads, inputs.events, as_of, explain, spills)
        return Rescored(wanted, RescorePlan(total, total, full=why))

    where = describe(previous, "previous results")
    prev = stage(con, previous, "previous", where, ("lead_id", AS_OF, FINGERPRINT), [AS_OF])
    if set(prev.columns) != set(output_columns(model, explain, stated=True)):
        why = "has other columns than these results (another model, or --explain)"
        return full_run(f"{where} {why}")
    # Reported, not checked, by a replay: it replays only with the state linked to
    # this very output, of the T its rows all have.
    span = fetch(con, prev.aggregate(lo=prev[AS_OF].min(), hi=prev[AS_OF].max()), "span")
    lo, hi = span.column("lo")[0].as_py(), span.column("hi")[0].as_py()
    if lo is None:
        return full_run(f"{where} is empty")
    if lo != hi:
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            f"{where} was scored at several instants (as_of from {lo} to {hi}).",
            hint="--since needs the output of one `leadscore score` run (without cut-offs).",
        )
    previous_as_of = lo.replace(tzinfo=None)
    decays = as_of != previous_as_of and state.decays(model)
    kept = None
    if new_events is not None and inputs.events is not None:
        fresh = _new_events(con, new_events, inputs.events)
        instants = (as_of, previous_as_of)
        kept = _kept_state(con, model, inputs, instants, previous, new_events, spills, leads_file)
    if decays and kept is None:
        return full_run(
            "the model decays (half_life_days) and T moved, so every lead with an event "
            "in the window changes (kept aggregates would move to the new T: --keep-state, "
            "--new-events)"
        )
    if new_events is not None and inputs.events is not None:
        keys = _to_rescore_appended(con, model, inputs, instants, prev, fresh, kept, decays)
    else:
        keys = _to_rescore(con, model, inputs, as_of, previous_as_of, prev)
    unchanged = kept is not None and kept.unchanged
    if kept is None:  # the Python side reads the keys (and only a told run is kept)
        kept_runs.unreplayable()
    # The keys stay in the engine; the plan counts them by reason (and whether the
    # lead is read from its events rather than merged from kept aggregates).
    chosen = materialize(con, keys, "keys")
    reads = chosen[READS] if READS in chosen.columns else ibis.literal(False)
    counted = chosen.group_by(reason=chosen.reason, reads=reads).aggregate(n=chosen.count())
    answer = fetch(con, counted, report="reasons").to_pylist()
    rows = [(r["reason"], r["reads"], r["n"]) for r in answer]
    plan = plans.counted(total, rows, previous_as_of, kept is not None)
    key = key_function(inputs.leads, inputs.events)
    written = None
    if kept is None:
        fresh, _ = _rescored(con, model, inputs, chosen, as_of, explain, spills)
    else:
        fresh, written = _rescored_from_state(con, model, inputs, chosen, kept, as_of, explain)
    schema = fresh.schema()
    # A run from kept state reads T from the session (its SQL is replayed at others).
    at: Moment = as_of if kept is None else query_cache.instant()
    carried = prev.mutate(_key=key(prev.lead_id.try_cast(inputs.leads.lead_id.type())))
    carried = carried.anti_join(chosen, carried._key == chosen[LEAD])
    if not unchanged:  # leads no longer in the leads are not carried
        current = inputs.leads.select(_lead=key(inputs.leads.lead_id))
        carried = carried.semi_join(current, carried._key == current._lead)
    carried = carried.select(
        **{name: _previous_value(carried, name, schema[name], at) for name in fresh.columns}
    )
    return Rescored(fresh.union(carried), plan, written)


def _rescored(
    con: Any, model: Model, inputs: Inputs, chosen: ir.Table, as_of: datetime,
    explain: bool, spills: bool,
) -> tuple[ir.Table, ir.Table | None]:  # fmt: skip
    """The results of the ``chosen`` leads (their keys), scored from their events; and
    those events."""
    key = key_function(inputs.leads, inputs.events)
    # The chosen leads' rows and events are read several times by the query: once here.
    leads = inputs.leads.semi_join(chosen, key(inputs.leads.lead_id) == chosen[LEAD])
    leads = materialize(con, leads, "leads")
    probe = PROBE in chosen.columns and bool(fetch_value(con, chosen[PROBE].any()))
    events = _chosen_events(con, inputs, chosen, probe)
    if con.name == "duckdb":  # the same query every run of a model: its SQL is kept
        leads = _named(con, leads, "leadscore_rescored_leads")
        if events is not None:
            events = _named(con, events, "leadscore_rescored_events")
    return _scored(con, model, leads, events, as_of, explain, spills), events


@dataclass(frozen=True)
class KeptState:
    """The kept state a run told the new events merges from, attached."""

    state: kept_states.State
    new_events: ir.Table  # read like the events
    leads: ir.Table  # the views of its version's rows
    values: list[ir.Table]
    ids: ir.Table | None  # the events' ids, when kept
    leads_file: str | None  # the leads file this run reads (kept_states.identity)
    # That file is the one the kept version's run read: no lead is new, changed or gone.
    unchanged: bool


def _kept_state(
    con: Any, model: Model, inputs: Inputs, instants: tuple[datetime, datetime],
    previous: Source, new_events: Source, spills: bool, leads_file: str | None,
) -> KeptState | None:  # fmt: skip
    """The kept aggregates of ``previous`` usable here (attached), and the new events
    read like the events; None when there are none (:mod:`leadscore.engine.state`).
    ``instants``: T and ``previous``'s; ``leads_file``: the leads file read
    (:func:`~leadscore.engine.kept_states.identity`)."""
    assert inputs.events is not None
    as_of, previous_as_of = instants
    if not state.keeps(con, model, spills):
        return None
    shape = state.layout(model, inputs.leads, inputs.events)
    found = kept_states.find(previous, shape, as_of, later=True)
    if found is None or found.as_of != previous_as_of:
        return None
    where = describe(new_events, "new events")
    table = stage(con, new_events, "new_events_read", where, EVENT_REQUIRED, ["timestamp"])
    table = expose_properties(table, model.event_properties(), con.name)
    if table.schema() != inputs.events.schema():  # read otherwise: merge nothing
        log.debug("state not used: %s has other columns or types than the events", where)
        return None
    try:
        kept_states.attach(con.con, found.path, read_only=True)
    except duckdb.Error as exc:  # another run holds it, or it is damaged: only time lost
        log.debug("state not used: %s", exc)
        return None
    # An unchanged leads file chooses only the leads the new events touch: at the
    # same T (when T moved, the leads crossing a horizon are chosen too).
    later = found.as_of < as_of
    unchanged = leads_file is not None and found.leads == leads_file and not later
    kept_runs.state_read(found.layout, found.as_of, unchanged, later)
    if later:  # the SQL reads both instants from there (_bounds), the same every day
        cache.set_since(con.con, found.as_of)
        query_cache.set_instant(con, as_of)
    leads, values, ids = state.views(con, found)
    return KeptState(found, table, leads, values, ids, leads_file, unchanged)


def _rescored_from_state(
    con: Any, model: Model, inputs: Inputs, keys: ir.Table, kept: KeptState,
    as_of: datetime, explain: bool,
) -> tuple[ir.Table, Callable[[Any], None]]:  # fmt: skip
    """The results of the leads of ``keys``: their kept aggregates merged with their
    new events' (at a later T, with the events entering them, less those leaving
    them), except those ``READS`` marks (an id another event holds), scored from
    their events; and what keeps the new version of the state once the output is
    written."""
    found, new_events = kept.state, kept.new_events
    events = inputs.events
    assert events is not None
    key = key_function(inputs.leads, events)
    chosen = keys.filter(~keys[READS]) if READS in keys.columns else keys
    part: Part = "explained" if explain else "results"
    versions: kept_states.Parts = []
    query_cache.set_instant(con, as_of)
    kept_runs.execute(con.con, state.MACRO)  # kept lists of ages, read at T

    def once(table: ir.Table, name: str) -> ir.Table:
        """``table`` computed into a temporary table, read by the stable view ``name``
        (so that the SQL reading it is the same each run, and kept)."""
        return _named(con, materialize(con, table, name), f"leadscore_{name}")

    # Every chosen lead is scored from aggregates: kept and merged, or its own (READS).
    leads = once(inputs.leads.semi_join(keys, key(inputs.leads.lead_id) == keys[LEAD]), "leads")
    later = found.as_of < as_of  # kept rows are read at T (state.moved)
    merging, gone = _moving(model, events, new_events, later)
    mine = once(merging.semi_join(chosen, key(merging.lead_id) == chosen[LEAD]), "new_events")
    kept_values = kept.values
    old_leads = once(kept.leads.semi_join(chosen, LEAD), "kept_leads")

    @functools.cache
    def planned() -> tuple[EventPlan, ir.Table]:  # compiled only when the SQL is not kept
        prepared = prepare_events(mine, query_cache.instant(), key, model)
        weighted, plan = plan_events(model, prepared, mine, "duckdb")
        return plan, weighted

    def cached(name: str, read: list[ir.Table], build: Callable[[], ir.Table]) -> ir.Table:
        kept_key = query_cache.key(con, [repr(model), name], read)
        return once(query_cache.results(con, kept_key, build), name)

    def new_part(i: int) -> ir.Table:
        return planned()[0].values[i].table

    new_values = [
        cached(f"new_values_{i}", [mine], functools.partial(new_part, i))
        for i in range(len(kept_values))
    ]
    # The values the leaving events take out of the kept rows.
    gone = None if gone is None else cached("leaving", [gone], _leaving(model, gone, key))
    old_values = [
        once(v.semi_join(_touching(new, gone, chosen), LEAD), f"kept_values_{i}")
        for i, (v, new) in enumerate(zip(kept_values, new_values, strict=True))
    ]

    def merged_part(i: int) -> ir.Table:
        plan, weighted = planned()
        leaving = None if gone is None else (gone, query_cache.since())
        merged_leads, merged_values = state.merged(
            plan, weighted, model, old_leads, old_values, new_values, query_cache.instant(),
            leaving,
        )  # fmt: skip
        return [merged_leads, *merged_values][i]

    read = [mine, old_leads, *old_values, *new_values, *([] if gone is None else [gone])]
    merged_leads = cached("merged_leads", read, functools.partial(merged_part, 0))
    merged_values = [
        cached(f"merged_values_{i}", read, functools.partial(merged_part, i + 1))
        for i in range(len(kept_values))
    ]
    versions.append(_named_part(merged_leads, merged_values))
    aggregated = merged_leads
    # At a later T computed even when no lead is read (0.1 s: an empty join), so that
    # a day with such leads and a day without are one run, replayed (kept_runs).
    if READS in keys.columns and (later or fetch_value(con, keys[READS].any())):
        reading = once(keys.filter(keys[READS]), "reading")
        own_leads, own_values = _own_aggregates(
            con, model, inputs, reading, cached, len(kept_values), later
        )
        versions.append(_named_part(own_leads, own_values))
        schema = merged_leads.schema()
        aggregated = merged_leads.union(own_leads.select(*schema.names).cast(schema))
    fresh = query_cache.scoring(con, model, leads, mine, part, aggregated=aggregated)
    # Every new event's id, for the runs after this one.
    ids = None if kept.ids is None else once(state.kept_ids(new_events, key), "new_ids").get_name()
    # With decay every kept lead is chosen at a later T: the version holds them all.
    whole = later and state.decays(model)
    kept_runs.versioned(versions, ids, whole)

    def written(output: Any) -> None:
        if isinstance(output, Path):
            now = dataclasses.replace(found, as_of=as_of)  # the new version's T
            kept_states.keep_version(con.con, now, versions, ids, output, kept.leads_file, whole)

    return fresh, written


def _moving(
    model: Model, events: ir.Table, new_events: ir.Table, later: bool
) -> tuple[ir.Table, ir.Table | None]:  # fmt: skip
    """The events merged into the kept rows: the new ones, and at a ``later`` T those
    entering them; and the events leaving them, when some can
    (:func:`leadscore.engine.state.moving`)."""
    if not later:
        return new_events, None
    since, at = query_cache.since(), query_cache.instant()
    gone, entering = state.moving(model, events, new_events, since, at)
    return new_events.union(entering, distinct=False), gone if edges(model) else None


def _leaving(
    model: Model, gone: ir.Table, key: Callable[[ir.Column], ir.Value]
) -> Callable[[], ir.Table]:
    """What computes the values the events ``gone`` take out of kept rows."""
    since, at = query_cache.since(), query_cache.instant()
    return functools.partial(state.leaving, model, gone, key, since, at)


def _touching(new: ir.Table, gone: ir.Table | None, chosen: ir.Table) -> ir.Table:
    """The keys of the leads whose kept ``(lead, value)`` rows are read and merged: those
    with new rows (``new``), or with leaving events (``gone``) among the ``chosen``
    (not those read from their events, which have rows of their own)."""
    keys = new.select(LEAD)
    return keys if gone is None else keys.union(gone.semi_join(chosen, LEAD).select(LEAD))


Cached = Callable[[str, list[ir.Table], Callable[[], ir.Table]], ir.Table]


def _own_aggregates(
    con: Any, model: Model, inputs: Inputs, reading: ir.Table, cached: Cached, count: int,
    probe: bool,
) -> tuple[ir.Table, list[ir.Table]]:  # fmt: skip
    """The kept form of the aggregates of the leads of ``reading`` (their keys, a
    stable view), from their events (read once, for the new version and the scores),
    and their ``(lead, value)`` rows (``count`` tables); ``cached`` computes a kept
    query into a named temporary table; ``probe``: the copies of the probed leads'
    ids are looked up whether or not any lead is probed (see above)."""
    key = key_function(inputs.leads, inputs.events)
    probe = probe or bool(fetch_value(con, reading[PROBE].any()))
    read = _named(con, _chosen_events(con, inputs, reading, probe), "leadscore_read_events")
    at = query_cache.instant()  # T as the SQL reads it: the same every day
    keys = reading.select(LEAD)

    @functools.cache
    def tables() -> tuple[EventPlan, ir.Table, list[ir.Table]]:  # when the SQL is not kept
        return state.kept_tables(model, read, at, key)

    def values(i: int) -> ir.Table:
        return state.every_lead(keys, tables()[2][i], at)

    own_values = [
        cached(f"own_values_{i}", [read, reading], functools.partial(values, i))
        for i in range(count)
    ]

    def leads() -> ir.Table:
        plan, own_leads, _ = tables()
        return state.with_totals(plan, state.every_lead(keys, own_leads, at), own_values)

    return cached("own_leads", [read, reading, *own_values], leads), own_values


def _named_part(leads: ir.Table, values: list[ir.Table]) -> tuple[str, list[str]]:
    """A version's rows (:data:`leadscore.engine.kept_states.Parts`), by their views' names."""
    return leads.get_name(), [v.get_name() for v in values]


def _scored(
    con: Any, model: Model, leads: ir.Table, events: ir.Table | None, as_of: datetime,
    explain: bool, spills: bool,
) -> ir.Table:  # fmt: skip
    """The results of ``model`` over ``leads`` and ``events``; on DuckDB through the
    query cache (:mod:`leadscore.engine.query_cache`), T from the session variable."""
    part: Part = "explained" if explain else "results"
    if con.name != "duckdb":
        compiled = compile_model(model, leads, events, as_of, None, con.name, spills=spills)
        return PARTS[part](compiled)
    query_cache.set_instant(con, as_of)
    return query_cache.scoring(con, model, leads, events, part, spills=spills)


def _named(con: Any, table: ir.Table, name: str) -> ir.Table:
    """``table`` as the temporary view ``name`` of DuckDB (replacing an earlier one)."""
    kept_runs.execute(con.con, f'CREATE OR REPLACE TEMP VIEW "{name}" AS {con.compile(table)}')
    return con.table(name)


def _chosen_events(con: Any, inputs: Inputs, chosen: ir.Table, probe: bool) -> ir.Table | None:
    """The events of the ``chosen`` leads, in a temporary table; ``probe``: with the
    copies other leads hold of the ids of the chosen leads marked ``PROBE``."""
    events = inputs.events
    if events is None:
        return None
    key = key_function(inputs.leads, events)
    mine = events.semi_join(chosen, key(events.lead_id) == chosen[LEAD])
    if probe and "event_id" in events.columns:
        # The de-duplication is global (the copies are found here, without the
        # sort of every id of _to_rescore).
        mine = materialize(con, mine, "chosen_events")
        probed = chosen.filter(chosen[PROBE])
        own = mine.semi_join(probed, key(mine.lead_id) == probed[LEAD])
        ids = keyed_ids(own).select("_eid").distinct()
        copies = keyed_ids(events).semi_join(ids, "_eid").drop("_eid")
        copies = copies.anti_join(chosen, key(copies.lead_id) == chosen[LEAD])
        mine = mine.union(copies.cast(mine.schema()))
    return materialize(con, mine, "events")


def _previous_value(prev: ir.Table, name: str, dtype: Any, as_of: Moment) -> ir.Value:
    if name == AS_OF:
        return ibis.literal(as_of, type=dtype) if isinstance(as_of, datetime) else as_of.cast(dtype)
    column = prev[name]
    return column if column.type() == dtype else column.cast(dtype)


def _to_rescore(
    con: Any,
    model: Model,
    inputs: Inputs,
    as_of: datetime,
    previous_as_of: datetime,
    prev: ir.Table,
) -> ir.Table:
    """The keys of the leads to score again, each with its first reason."""
    leads, events = inputs.leads, inputs.events
    key = key_function(leads, events)
    owners = owners_of(leads, key) if model.merge_duplicates else None
    table = leads.mutate(**{LEAD: key(leads.lead_id)})
    shared = None
    timed = _instant_tests(model, as_of, previous_as_of)
    time_moved = functools.reduce(
        operator.or_, [ibis.literal(False), *_created_tests(model, table, as_of, previous_as_of)]
    )
    if events is not None and (list(model.all_engagement_rules()) or model.inactivity_rules):
        events = sharing.streamed(events, "events")  # read by the digest and the id probe
        # One sort of the ids for the digest's de-duplication and the probe below.
        ids = id_copies(events) if "event_id" in events.columns else None
        prepared = prepare_events(events, as_of, key, model, owners, ids)
        aggregates = event_digest(prepared, model, con.name)
        if timed:
            crossing = functools.reduce(operator.or_, [test(prepared) for test in timed])
            aggregates["_time"] = crossing.any()
        digest = prepared.group_by(LEAD).aggregate(**aggregates)
        table = table.left_join(digest, LEAD).drop(f"{LEAD}_right")
        if timed:
            time_moved = time_moved | table._time.fill_null(False)
        if ids is not None:
            table, shared = with_shares(table, ids, key)
    fingerprint = lead_fingerprint(model, table, con.name)
    before = prev.select(
        _pk=key(prev.lead_id.try_cast(leads.lead_id.type())),
        _pfp=prev[FINGERPRINT].try_cast("int64"),
    )
    table = table.left_join(before, table[LEAD] == before._pk)
    shares = table[SHARES] if SHARES in table.columns else ibis.literal(False)
    reason = ibis.cases(
        (table._pk.isnull(), "new"),
        ((table._pfp != fingerprint).fill_null(True), "changed"),
        (time_moved, "time"),
        (shares, "shared"),
        else_=ibis.null("string"),
    )
    return _chosen(con, model, leads, key, table.mutate(reason=reason), shared)


def _chosen(
    con: Any,
    model: Model,
    leads: ir.Table,
    key: Callable[[ir.Column], ir.Value],
    table: ir.Table,
    shared: ir.Table | None,
) -> ir.Table:
    """The keys of the leads with a ``reason``, groups of duplicates and copies added."""
    if model.merge_duplicates:  # a group of duplicates is scored together
        group = ibis.coalesce(key(table.duplicate_of.cast(leads.lead_id.type())), table[LEAD])
        table = table.mutate(_group=group)
        groups = table.filter(table.reason.notnull()).select(_g=table._group).distinct()
        table = table.left_join(groups, table._group == groups._g)
        table = table.mutate(
            reason=ibis.coalesce(
                table.reason, table._g.notnull().ifelse("duplicates", ibis.null("string"))
            )
        )
    probed = [c for c in (PROBE, READS) if c in table.columns]
    chosen = table.filter(table.reason.notnull()).select(LEAD, "reason", *probed)
    if shared is not None:  # copies held by unknown leads take part in de-duplication
        others = shared.anti_join(leads, shared._shared == key(leads.lead_id))
        chosen = chosen.union(
            others.select(
                **{LEAD: others._shared, "reason": ibis.literal(COPIES)},
                **{p: ibis.literal(True) for p in probed},
            )
        )
    return chosen


def _new_events(con: Any, source: Source, events: ir.Table) -> ir.Table:
    """The new events, read like the events (only their lead and id matter)."""
    where = describe(source, "new events")
    table = stage(con, source, "new_events", where, ("lead_id",), [])
    if "event_id" in events.columns and "event_id" not in table.columns:
        raise LeadscoreError(
            ErrorCode.MISSING_COLUMN,
            f"{where} has no column 'event_id', which the events have.",
            hint="Pass the new events with the same columns as the events.",
        )
    if "event_id" in events.columns and table.event_id.type() != events.event_id.type():
        table = table.mutate(event_id=table.event_id.try_cast(events.event_id.type()))
    return table


def _to_rescore_appended(
    con: Any, model: Model, inputs: Inputs, instants: tuple[datetime, datetime], prev: ir.Table,
    fresh: ir.Table, kept: KeptState | None = None, decays: bool = False,
) -> ir.Table:  # fmt: skip
    """:func:`_to_rescore` when ``fresh`` holds every event added since ``prev``;
    ``instants``: T and the previous run's; ``kept``: the kept state merged from, whose
    ids of the events before ``fresh`` (:func:`leadscore.engine.state.kept_ids`) are
    read instead of the events' (sorted, often far fewer to read), and whose leads,
    when ``kept.unchanged`` (those ``prev`` scored, at its T), are the chosen ones
    only when the new events touch them (the leads are not read); ``decays``: T moved
    and the model decays, so that every lead with kept aggregates is chosen, read at
    T from them. A lead whose event crossing an edge of what kept aggregates hold
    has an id another event holds is read from its events (``READS``)."""
    kept_ids = None if kept is None else kept.ids
    unchanged = kept is not None and kept.unchanged
    decayed = None
    if kept is not None and decays:
        decayed = kept.leads.select(_decayed=kept.leads[LEAD])
    as_of, previous_as_of = instants
    leads, events = inputs.leads, inputs.events
    assert events is not None
    key = key_function(leads, events)
    touched, shared, collided = _touched(fresh, events, key, kept_ids)
    bounds = _bounds(as_of, previous_as_of, kept is not None)
    timed = _instant_tests(model, as_of, previous_as_of, raw=True, bounds=bounds)
    before = prev.select(
        _pk=key(prev.lead_id.try_cast(leads.lead_id.type())),
        _pfp=previous_lead_part(prev[FINGERPRINT].try_cast("int64")),
        _pshares=previous_shares(prev[FINGERPRINT].try_cast("int64")),
    )
    if unchanged:  # a touched key that is no lead of prev is no lead
        assert not timed, "unchanged leads are known at the previous run's T only"
        table = touched.join(before, touched._touched == before._pk)
        table = table.mutate(**{LEAD: table._touched})
    else:
        table = leads.mutate(**{LEAD: key(leads.lead_id)})
        if timed:  # a superset of the crossings (of every event, seen or not), still exact
            crossed = _crossings(model, events, key, bounds, timed, kept)
            table = table.left_join(crossed, table[LEAD] == crossed._crossed)
        table = table.left_join(touched, table[LEAD] == touched._touched)
        table = table.left_join(before, table[LEAD] == before._pk)
    if shared is not None:
        table = table.left_join(shared, table[LEAD] == shared._shared)
    if collided is not None:
        table = table.left_join(collided, table[LEAD] == collided._collided)
    if decayed is not None:
        table = table.left_join(decayed, table[LEAD] == decayed._decayed)
    times = _created_tests(model, table, as_of, previous_as_of, bounds)
    times += [table._crossed.notnull()] if timed else []
    times += [table._decayed.notnull()] if decayed is not None else []
    time_moved = functools.reduce(operator.or_, [ibis.literal(False), *times])
    fields_changed = (
        ibis.literal(False)
        if unchanged
        else (table._pfp != lead_part(model, table, con.name)).fill_null(True)
    )
    reason = ibis.cases(
        (table._pk.isnull(), "new"),
        (fields_changed, "changed"),
        (table._touched.notnull(), "changed"),
        (time_moved, "time"),
        else_=ibis.null("string"),
    )
    # Whose copies of ids other leads may hold: the previous run said so (its bit is
    # unknown for a new lead, and stale if the model changed), or a new event's id.
    probe = table._pk.isnull() | fields_changed | table._pshares.fill_null(True)
    if shared is not None:
        probe = probe | table._shared.notnull()
    reads = table._collided.notnull() if collided is not None else ibis.literal(False)
    if timed and kept is not None:
        reads = reads | table._reread.fill_null(False)
    table = table.mutate(reason=reason, **{PROBE: probe, READS: reads})
    chosen = _chosen(con, model, leads, key, table, None)
    if kept is None:
        return chosen
    named = [touched.select(_stray=touched._touched)]
    named += [crossed.select(_stray=crossed._crossed)] if timed else []
    named += [decayed.select(_stray=decayed._decayed)] if decayed is not None else []
    known = (
        before.select(_known=before._pk) if unchanged else leads.select(_known=key(leads.lead_id))
    )
    return chosen.union(_strays(named, known, collided, crossed if timed else None))


def _strays(
    named: list[ir.Table], known: ir.Table, collided: ir.Table | None, crossed: ir.Table | None
) -> ir.Table:  # fmt: skip
    """The keys (``_stray``) of ``named`` that are no lead (``known``: the leads' keys):
    leads unknown, or gone from the leads file, whose kept rows a new event or a
    crossing changes. They are chosen all the same (``UNKNOWN``: merged, or read as
    ``collided`` and ``crossed`` say, and kept in the new version, with no result),
    so that every kept row is brought to the T of the version after it, and a lead
    that comes back is merged from rows holding every event told meanwhile."""
    strays = functools.reduce(lambda a, b: a.union(b), named).distinct()
    strays = strays.anti_join(known, strays._stray == known._known)
    reads = ibis.literal(False)
    if collided is not None:
        strays = strays.left_join(collided, strays._stray == collided._collided)
        reads = reads | strays._collided.notnull()
    if crossed is not None:
        strays = strays.left_join(crossed, strays._stray == crossed._crossed)
        reads = reads | strays._reread.fill_null(False)
    return strays.select(
        **{LEAD: strays._stray, "reason": ibis.literal(UNKNOWN), PROBE: ibis.literal(True)},
        **{READS: reads},
    )


def _touched(
    fresh: ir.Table, events: ir.Table, key: Callable[[ir.Column], ir.Value],
    kept_ids: ir.Table | None,
) -> tuple[ir.Table, ir.Table | None, ir.Table | None]:  # fmt: skip
    """The keys of the leads the new events ``fresh`` touch (``_touched``): theirs and
    those holding one of their ids; the leads crossed by such shared ids; and those
    holding a repeated one (``_collided``). See :func:`_to_rescore_appended`."""
    touched = fresh.select(_touched=key(fresh.lead_id))
    if "event_id" not in fresh.columns:
        return touched.distinct(), None, None
    # A new copy can take an event from its holder.
    ids = keyed_ids(fresh).select("_eid").distinct()
    if kept_ids is None:
        every = keyed_ids(events)
        every = every.select("_eid", _lead=key(every.lead_id))
    else:  # the kept ids and the new events' own
        own = keyed_ids(fresh)
        own = own.select("_eid", _lead=key(own.lead_id))
        every = kept_ids.select("_eid", _lead=kept_ids[LEAD]).cast(own.schema()).union(own)
    holders = sharing.kept(every.semi_join(ids, "_eid"), "holders")
    touched = touched.union(holders.select(_touched=holders._lead))
    # Kept aggregates cannot lose an event to de-duplication: such leads are read.
    counted = holders.group_by("_eid").aggregate(_n=holders.count())
    repeated = holders.semi_join(counted.filter(counted._n > 1), "_eid")
    collided = repeated.select(_collided=repeated._lead).distinct()
    return touched.distinct(), crossed_leads(holders), collided


Test = Callable[[ir.Table], ir.BooleanValue]
Bounds: TypeAlias = tuple[Moment, Moment]  # two instants, the earlier first


def _bounds(as_of: datetime, previous: datetime, kept: bool) -> Bounds:
    """T and the previous run's, the earlier first; with kept state (read at a later
    T) as the session variables, so that the run's SQL is the same every day, and
    its steps are replayed (:mod:`leadscore.engine.kept_runs`)."""
    if kept and previous < as_of:
        return query_cache.since(), query_cache.instant()
    return min(as_of, previous), max(as_of, previous)


def _instant_tests(
    model: Model, as_of: datetime, previous: datetime, raw: bool = False,
    bounds: Bounds | None = None,
) -> list[Test]:  # fmt: skip
    """Tests on prepared events that flag a lead whose result T alone can change;
    ``raw``: on the events as given, where one dated between the two instants
    appears or disappears (prepared events hold only those the model sees);
    ``bounds``: the instants as the SQL reads them (:func:`_bounds`)."""
    if as_of == previous:
        return []
    lo, hi = bounds or (min(as_of, previous), max(as_of, previous))
    section = model.engagement
    tests: list[Test] = [lambda e: crossing(e.timestamp, lo, hi, 0)] if raw else []
    if section is not None and section.window_days is not None:
        window = section.window_days
        tests.append(lambda e: crossing(e.timestamp, lo, hi, window))
    for rule in model.inactivity_rules:
        days = rule.days
        tests.append(functools.partial(lambda d, e: crossing(e.timestamp, lo, hi, d), days))
    return tests


def _crossings(
    model: Model, events: ir.Table, key: Callable[[ir.Column], ir.Value],
    bounds: Bounds, timed: list[Test], kept: KeptState | None,
) -> ir.Table:  # fmt: skip
    """The keys (``_crossed``) of the leads with one of ``events`` crossing a test of
    ``timed`` as T moves between the ``bounds``; with ``kept``, ``_reread``: whether
    what its kept aggregates hold cannot be moved to the new T, so that it is read
    from its events: an event that leaves them (crossing the window's edge or the
    look-back) or enters them (dated between the instants) has an id another event
    holds (which copy counts is the de-duplication's). Other such events are taken
    out of the kept aggregates or merged into them (:func:`leadscore.engine.state.moving`);
    crossing an inactivity horizon inside the look-back only moves a kept age
    (:func:`leadscore.engine.state.moved`)."""
    crossed = events.filter(functools.reduce(operator.or_, [test(events) for test in timed]))
    chosen = crossed.select(_crossed=key(crossed.lead_id)).distinct()
    if kept is None or kept.ids is None:  # no state: read; no ids: no copies
        return chosen if kept is None else chosen.mutate(_reread=ibis.literal(False))
    lo, hi = bounds
    moves = [crossing(crossed.timestamp, lo, hi, d) for d in [0, *edges(model)]]
    readers = _held_twice(crossed.filter(functools.reduce(operator.or_, moves)), kept.ids, key)
    readers = readers.distinct()
    joined = chosen.left_join(readers, chosen._crossed == readers._read)
    return joined.select("_crossed", _reread=joined._read.notnull())


def _held_twice(
    events: ir.Table, ids: ir.Table, key: Callable[[ir.Column], ir.Value]
) -> ir.Table:  # fmt: skip
    """The keys (``_read``) of the leads of ``events`` (those moving in or out of what
    kept rows hold) with an id that more than one event holds, by the kept ``ids``
    (:func:`leadscore.engine.state.kept_ids`) — but for copies of one lead at one
    instant (a resent event), all of them moving: the rows hold one of them, and one
    is taken out or merged (the de-duplication of :func:`leadscore.engine.state.leaving`,
    of the merged events)."""
    own = keyed_ids(events)
    holders = ids.semi_join(own.select("_eid").distinct(), "_eid")
    counted = holders.group_by("_eid").aggregate(_n=holders.count())
    moving = own.group_by("_eid").aggregate(
        _m=own.count(), _leads=own.lead_id.nunique(), _instants=own.timestamp.nunique()
    )
    joined = counted.join(moving, "_eid")
    resent = (joined._m == joined._n) & (joined._leads == 1) & (joined._instants == 1)
    twice = own.semi_join(joined.filter((joined._n > 1) & ~resent), "_eid")
    return twice.select(_read=key(twice.lead_id))


def _created_tests(
    model: Model, leads: ir.Table, as_of: datetime, previous: datetime,
    bounds: Bounds | None = None,
) -> list[ir.BooleanValue]:  # fmt: skip
    """Leads whose ``created_at`` crosses an inactivity horizon as T moves."""
    if as_of == previous or "created_at" not in leads.columns:
        return []
    lo, hi = bounds or (min(as_of, previous), max(as_of, previous))
    return [
        crossing(leads.created_at, lo, hi, rule.days).fill_null(False)
        for rule in model.inactivity_rules
    ]
