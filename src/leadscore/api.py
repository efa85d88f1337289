"""The public Python API: the one way in for the CLI, the service and the tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis.expr.types as ir
import pyarrow as pa

from leadscore import quality
from leadscore.engine import Engine, Source, kept_runs, kept_states, query_cache, state
from leadscore.engine.backends import connect_engine, release
from leadscore.engine.compiler import (
    PARTS,
    Compiled,
    Part,
    compile_model,
    interest_column,
    key_function,
    rule_column,
)
from leadscore.engine.events import EventPlan
from leadscore.engine.inputs import Inputs, describe, load_inputs
from leadscore.engine.io import (
    LEAD_REQUIRED,
    connect,
    enough_memory,
    normalise_timestamps,
    read_table,
    require_columns,
    write_table,
)
from leadscore.engine.progress import Report
from leadscore.errors import ErrorCode, LeadscoreError
from leadscore.incremental import rescore
from leadscore.instants import AsOf, as_of_instant
from leadscore.model import Model, load_model
from leadscore.plans import RescorePlan
from leadscore.quality import CleanReport

log = logging.getLogger("leadscore")


@dataclass
class Session:
    """An engine connection with the inputs of one scoring job loaded."""

    model: Model
    con: Any
    inputs: Inputs
    as_of: datetime
    cutoff: str | None = None
    spills: bool = False  # the engine's memory is limited (memory_limit)
    leads_file: str | None = None  # the leads file read (kept_states.identity), if one
    # Called with the output once written: keeps the run's state (keep_state, since)
    written: Callable[[Path], None] | None = None

    def results(
        self,
        explain: bool = False,
        since: Source | None = None,
        new_events: Source | None = None,
        keep_state: bool = False,
    ) -> tuple[ir.Table, RescorePlan | None]:
        """The results of a full run; with ``since``, re-using that earlier output.

        ``keep_state``: a full run keeps its per-lead aggregates for a later ``since``
        run told the new events (:mod:`leadscore.engine.state`), where it can.
        """
        if since is not None:
            inputs = self.inputs
            done = rescore(
                self.con, self.model, inputs, self.as_of, since, explain, new_events,
                self.spills, self.leads_file,
            )  # fmt: skip
            self.written = done.written
            return done.table, done.plan
        part: Part = "explained" if explain else "results"
        if keep_state and self.keeps_state():
            return self._stated(part), None
        if self.con.name == "duckdb":
            return self._kept(part), None
        return PARTS[part](self.compiled()), None

    def keeps_state(self) -> bool:
        """Whether this run can keep its state (:func:`leadscore.engine.state.keeps`)."""
        events = self.inputs.events
        return (
            events is not None
            and self.cutoff is None
            and state.keeps(self.con, self.model, self.spills)
        )

    def _stated(self, part: Part) -> ir.Table:
        """A full run's results from the per-lead aggregates it keeps first."""
        inputs, model = self.inputs, self.model
        assert inputs.events is not None
        key = key_function(inputs.leads, inputs.events)
        shape = state.layout(model, inputs.leads, inputs.events)
        try:
            kept = state.keep(
                self.con, model, inputs.events, self.as_of, key, shape, self.leads_file
            )
        except (duckdb.Error, OSError) as exc:  # a state that cannot be kept costs time only
            log.warning("the state was not kept (%s); scoring without it", exc)
            return self._kept(part)
        leads, _, _ = state.views(self.con, kept)
        kept_runs.unreplayable()  # its SQL reads the kept file

        def aggregated(plan: EventPlan, weighted: ir.Table) -> list[ir.Table]:
            return state.finals(plan, leads)

        compiled = compile_model(
            model, inputs.leads, inputs.events, self.as_of, None, "duckdb", aggregated=aggregated
        )
        self.written = lambda output: kept_states.link(output, kept) if output.is_file() else None
        return PARTS[part](compiled)

    def scored_leads(self) -> ir.Table:
        """Every lead column beside the results: the lists people read (top, accounts)."""
        if self.con.name == "duckdb":
            return self._kept("leads")
        return self.compiled().with_leads

    def _kept(self, part: Part) -> ir.Table:
        """DuckDB: a full run's query, compiled once per model and inputs' layout."""
        inputs = self.inputs
        query_cache.set_instant(self.con, self.as_of)
        return query_cache.scoring(
            self.con, self.model, inputs.leads, inputs.events, part, self.cutoff, self.spills
        )

    def compiled(self) -> Compiled:
        inputs = self.inputs
        return compile_model(
            self.model,
            inputs.leads,
            inputs.events,
            self.as_of,
            self.cutoff,
            self.con.name,
            spills=self.spills,
        )

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        release(self.con)


def open_session(
    model: Model | str | Path,
    leads: Source,
    events: Source | None = None,
    *,
    as_of: AsOf = None,
    engine: Engine = "duckdb",
    memory_limit: str | None = None,
    derived: tuple[str, ...] = (),
    cutoff: str | None = None,
    db: str | None = None,
    since: Source | None = None,
) -> Session:
    """Connect, read and check the inputs; the start of every scoring job.

    ``cutoff`` names a lead column holding each lead's own instant T (``as_of``
    where it is empty): point-in-time scores for backtests and learning. ``since``:
    the earlier output the job re-uses; when its run read this very leads file
    (:func:`~leadscore.engine.kept_states.read_by`), the leads' ids are not checked
    again.
    """
    if not isinstance(model, Model):
        model = load_model(model)
    instant = as_of_instant(as_of)
    leads_file = kept_states.identity(leads) if engine == "duckdb" else None  # before reading
    con = connect_engine(engine, db, memory_limit)
    try:
        with enough_memory():
            checked = kept_states.read_by(since, leads_file)
            inputs = load_inputs(con, model, leads, events, derived, cutoff, checked)
    except BaseException:
        release(con)
        raise
    spills = memory_limit is not None
    return Session(model, con, inputs, instant, cutoff, spills, leads_file=leads_file)


def score(
    model: Model | str | Path,
    leads: Source,
    events: Source | None = None,
    as_of: AsOf = None,
    *,
    engine: Engine = "duckdb",
    db: str | None = None,
    explain: bool = False,
    cutoff: str | None = None,
    since: Source | None = None,
    new_events: Source | None = None,
) -> pa.Table:
    """Score every lead as of ``as_of`` (SPEC §3) and return an Arrow table.

    Parameters
    ----------
    model
        A :class:`~leadscore.model.Model` or the path of a model file.
    leads, events
        File paths (``.csv``, ``.parquet``, ``.jsonl``), pyarrow Tables or pandas
        DataFrames. ``events`` may be omitted.
    as_of
        The instant T: a datetime, an ISO 8601 text, or None for now (UTC).
    explain
        Add one ``rule:<id>`` column per rule with its points, and ``disqualified_by``.
    cutoff
        A lead column holding each lead's own T (``as_of`` where empty): events
        after it are ignored and ages count from it, so no later event leaks in.
    since
        An earlier output of ``score`` (same model and engine): only the leads whose
        result can have changed are scored again (:mod:`leadscore.incremental`);
        the results are those of a full run.
    new_events
        With ``since``: the events added since that output was scored (each also in
        ``events``), when no other event was added, edited or removed. The other
        leads' events are then not read in full (much faster; see docs/cli.md).

    Examples
    --------
    >>> import pyarrow as pa
    >>> model = {"name": "m", "fit": {"rules": [{"id": "ceo", "when": {"job_title": "CEO"},
    ...     "points": 10}]}}
    >>> leads = pa.table({"lead_id": ["1", "2"], "job_title": [" ceo", "Intern"]})
    >>> score(load_model(model), leads, as_of="2025-06-01").column("fit").to_pylist()
    [10.0, 0.0]
    """
    _no_cutoff_since(cutoff, since, new_events)
    opened = open_session(
        model, leads, events, as_of=as_of, engine=engine, cutoff=cutoff, db=db, since=since
    )
    with opened as session:
        expr, _ = session.results(explain, since, new_events)
        with enough_memory():
            table: pa.Table = session.con.to_pyarrow(expr)
        return table.select(expr.columns)


def _no_cutoff_since(
    cutoff: str | None, since: Source | None, new_events: Source | None = None
) -> None:
    if new_events is not None and since is None:
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            "New events (new_events, --new-events) tell an incremental run what was "
            "added since an earlier output, but no earlier output (since) was given.",
            hint="Pass the earlier output with --since, or score without --new-events.",
        )
    if cutoff is not None and since is not None:
        raise LeadscoreError(
            ErrorCode.BAD_ARGUMENT,
            "Incremental re-scoring (since) works at one instant T, not with per-lead cut-offs.",
            hint="Score with cutoff in a full run.",
        )


def write_scores(
    model: Model | str | Path,
    leads: Source,
    events: Source | None,
    out: str | Path,
    run_key: str | None = None,
    *,
    as_of: AsOf = None,
    engine: Engine = "duckdb",
    db: str | None = None,
    memory_limit: str | None = None,
    explain: bool = False,
    progress: Report | None = None,
    cutoff: str | None = None,
    since: Source | None = None,
    new_events: Source | None = None,
    planned: Callable[[RescorePlan], None] | None = None,
    keep_state: bool = False,
) -> Path:
    """The full run of :func:`leadscore.score_file`, kept under ``run_key`` when it can
    be replayed (:mod:`leadscore.engine.kept_runs`)."""
    _no_cutoff_since(cutoff, since, new_events)
    with kept_runs.recording(run_key is not None) as record:
        opened = open_session(
            model,
            leads,
            events,
            as_of=as_of,
            engine=engine,
            memory_limit=memory_limit,
            cutoff=cutoff,
            db=db,
            since=since,
        )
        with opened as session:
            results, plan = session.results(explain, since, new_events, keep_state)
            if plan is not None and planned is not None:
                planned(plan)
            path = write_table(session.con, results, out, progress)
            if session.written is not None:
                session.written(path)
    kept_runs.keep(record, run_key)
    return path


@dataclass(frozen=True)
class Contribution:
    """One line of an explanation: a rule and the points it gave."""

    section: str
    rule: str
    points: float
    description: str | None = None


@dataclass(frozen=True)
class Explanation:
    """The points of one lead, rule by rule (``leadscore explain``)."""

    lead_id: str
    fit: float
    engagement: float
    score: float
    grade: str | None
    level: int | None
    matrix: str | None
    stage: str | None
    top_interest: str | None
    interests: dict[str, float]
    disqualified_by: str | None
    contributions: list[Contribution] = field(default_factory=list)
    interest_contributions: list[Contribution] = field(default_factory=list)
    as_of: datetime | None = None
    # With merge_duplicates: the lead this one duplicates (its events count there),
    # and the duplicates whose events count on this lead.
    duplicate_of: str | None = None
    merged_duplicates: list[str] = field(default_factory=list)

    @property
    def duplicates_note(self) -> str | None:
        """What ``merge_duplicates`` did to this lead's events, in words."""
        if self.duplicate_of is not None:
            return f"a duplicate of {self.duplicate_of}: its events count on that lead"
        if self.merged_duplicates:
            return f"includes the events of its duplicates {', '.join(self.merged_duplicates)}"
        return None

    def to_dict(self) -> dict[str, Any]:
        def lines(items: list[Contribution]) -> list[dict[str, Any]]:
            return [
                {
                    "section": c.section,
                    "rule": c.rule,
                    "points": c.points,
                    "description": c.description,
                }
                for c in items
            ]

        return {
            "lead_id": self.lead_id,
            "as_of": self.as_of.isoformat() + "Z" if self.as_of else None,
            "fit": self.fit,
            "engagement": self.engagement,
            "score": self.score,
            "grade": self.grade,
            "level": self.level,
            "matrix": self.matrix,
            "stage": self.stage,
            "top_interest": self.top_interest,
            "interests": self.interests,
            "disqualified_by": self.disqualified_by,
            "explanation": lines(self.contributions),
            "interest_explanation": lines(self.interest_contributions),
            "duplicate_of": self.duplicate_of,
            "merged_duplicates": self.merged_duplicates,
        }


def explain(
    model: Model | str | Path,
    leads: Source,
    events: Source | None,
    lead_id: str,
    as_of: AsOf = None,
    *,
    engine: Engine = "duckdb",
    db: str | None = None,
) -> Explanation:
    """Explain one lead's score: every rule with a non-zero contribution, in model order."""
    wanted = str(lead_id).strip()
    with open_session(model, leads, events, as_of=as_of, engine=engine, db=db) as session:
        table, _ = session.results(explain=True)
        key = table.lead_id.cast("string").strip()
        rows = session.con.to_pyarrow(table.filter(key == wanted)).to_pylist()
        if not rows:
            raise LeadscoreError(
                ErrorCode.UNKNOWN_LEAD,
                f"No lead with lead_id {lead_id!r} in {session.inputs.leads_name}.",
                hint="Check the id; `leadscore top` lists the best leads with their ids.",
            )
        result = explanation_of(session.model, rows[0], session.as_of)
        if session.model.merge_duplicates:
            result = _with_duplicates(session, result)
    return result


def _with_duplicates(session: Session, result: Explanation) -> Explanation:
    """Say where a lead's events were counted (``merge_duplicates``)."""
    leads = session.scored_leads()
    ids = leads.lead_id.cast("string").strip()
    survivor = leads.duplicate_of.cast("string").strip()
    own = session.con.to_pyarrow(leads.filter(ids == result.lead_id).select(s=survivor))
    merged = session.con.to_pyarrow(leads.filter(survivor == result.lead_id).select(i=ids))
    return replace(
        result,
        duplicate_of=own.column("s")[0].as_py(),
        merged_duplicates=sorted(merged.column("i").to_pylist()),
    )


def explanation_of(model: Model, row: dict[str, Any], as_of: datetime | None = None) -> Explanation:
    """An :class:`Explanation` from one row of the compiled query."""
    sections: list[tuple[str, Any]] = [
        *(("fit", r) for r in model.fit.rules),
        *(("engagement", r) for r in model.engagement_rules),
        *(("inactivity", r) for r in model.inactivity_rules),
    ]
    lines = [
        Contribution(section, rule.id, row[rule_column(rule.id)], rule.description)
        for section, rule in sections
        if row[rule_column(rule.id)] != 0
    ]
    disqualified = row["disqualified_by"]
    if disqualified is not None:
        entry = next(d for d in model.disqualify if d.id == disqualified)
        lines.append(Contribution("disqualify", entry.id, 0.0, entry.description))
    interest_lines = [
        Contribution(f"interest:{i.id}", r.id, row[rule_column(r.id)], r.description)
        for i in model.interests
        for r in i.rules
        if row[rule_column(r.id)] != 0
    ]
    return Explanation(
        lead_id=str(row["lead_id"]),
        fit=row["fit"],
        engagement=row["engagement"],
        score=row["score"],
        grade=row["grade"],
        level=row["level"],
        matrix=row["matrix"],
        stage=row["stage"],
        top_interest=row["top_interest"],
        interests={i.id: row[interest_column(i.id)] for i in model.interests},
        disqualified_by=disqualified,
        contributions=lines,
        interest_contributions=interest_lines,
        as_of=as_of,
    )


def clean(leads: Source, out: str | Path | None = None) -> CleanReport:
    """The data-quality step alone (``leadscore clean``): derived fields and a summary.

    With ``out``, the leads with their derived fields are written there, atomically.
    """
    con = connect()
    try:
        where = describe(leads, "leads")
        table = read_table(con, leads, "leads", "leads")
        require_columns(table, LEAD_REQUIRED, where)
        table = normalise_timestamps(con, table, ["created_at"], where)
        report = quality.clean(table)
        if out is not None:
            write_table(con, report.table, out)
        return report
    finally:
        con.disconnect()
