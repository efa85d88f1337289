"""What a lead's result was computed from, in one number (``score --since``).

A lead's result at T depends on the model, the lead columns the model reads, the
events of the lead the model can see at T (de-duplicated, of the types it names,
within its look-back), and on T itself. The ``fingerprint`` column hashes the
first three; incremental re-scoring (``leadscore.incremental``) re-scores a lead
when its fingerprint changed or when T moved in a way that can change its result.

The events enter as a digest: their number and the sum of one hash per event
(modulo a prime, so the sum fits 64 bits), which any added, removed or edited
event changes. Hashes are the engine's own, so a fingerprint is only compared
with one computed by the same engine.

The number has three parts: 31 bits hash the model and the lead's fields (the
*lead part*, ``fingerprint // 2**32``), 31 bits the events' digest, and the last
bit says whether the lead shares an ``event_id`` with another lead (``SHARES``;
de-duplication is global, so such a lead's result depends on the other's events).
A run told which events are new (``--new-events``) compares the lead part alone,
and so finds the leads whose fields changed without reading the other leads'
events; the last bit tells it which re-scored leads need other leads' copies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from leadscore.engine.events import LEAD, Copies, sharing_leads
from leadscore.model import Model

FINGERPRINT = "fingerprint"
AS_OF = "as_of"
EVENT_COUNT = "_events_n"
EVENT_SUM = "_events_h"
SHARES = "_shares"  # the lead holds an event_id that another lead holds too
# Bump when a change of the product changes results for the same inputs: the
# fingerprints of earlier outputs then differ, and `--since` re-scores everything.
SEMANTICS = 3  # 2: the fingerprint's lead and event parts; 3: its SHARES bit
_PRIME = 1_000_000_007
_SEPARATOR = "\x1f"
LEAD_PART = 2**32  # fingerprint = lead part × LEAD_PART + events part


def row_hash(values: Sequence[ir.Value], engine: str) -> ir.IntegerValue:
    """One 64-bit (Spark: 32-bit) hash of several values, null-aware, per row."""
    if engine == "postgres":  # PostgreSQL hashes text, not records, through ibis
        texts = [v.cast("string").fill_null("\x01") for v in values]
        joined: ir.StringValue = ibis.literal(_SEPARATOR).join(texts)
        return joined.hash()
    return ibis.struct({f"f{i}": v for i, v in enumerate(values)}).hash()


# ``value`` is left unannotated: ibis then takes any type (here a struct).
@ibis.udf.scalar.builtin(name="hash")  # type: ignore[untyped-decorator]
def _duckdb_hash(value) -> dt.UInt64:  # type: ignore[no-untyped-def]
    """DuckDB's 64-bit hash, unsigned (ibis' ``hash()`` converts it through a bit string)."""


def event_hash(values: Sequence[ir.Value], engine: str) -> ir.IntegerValue:
    """One hash per event, in ``[0, _PRIME)``, for the digest's sum."""
    if engine == "duckdb":  # millions of rows: no conversion to a signed number first
        struct = ibis.struct({f"f{i}": v for i, v in enumerate(values)})
        small: ir.IntegerValue = (_duckdb_hash(struct) % _PRIME).cast("int64")
        return small
    return row_hash(values, engine) % _PRIME


def model_key(model: Model) -> int:
    """A number that changes with every change of the model (descriptions included)."""
    text = f"{SEMANTICS}:{model!r}".encode()  # pydantic repr: every field, in order
    return int.from_bytes(hashlib.sha256(text).digest()[:7], "big")


def event_digest(
    events: ir.Table, model: Model, engine: str, where: ir.BooleanValue | None = None
) -> dict[str, ir.Scalar]:
    """Aggregates of prepared events (one group per lead) that change with any event
    (of those ``where`` holds)."""
    properties = sorted(model.event_properties())
    names = [LEAD, "timestamp", "etype", *(["event_id"] if "event_id" in events.columns else [])]
    names += [p for p in properties if p in events.columns and p not in names]
    one = event_hash([events[n] for n in names], engine)
    return {EVENT_COUNT: events.count(where=where), EVENT_SUM: one.sum(where=where)}


def lead_fingerprint(model: Model, table: ir.Table, engine: str) -> ir.IntegerValue:
    """The fingerprint of each lead of ``table`` (leads left-joined with their digest
    and, when events have ids, ``SHARES``)."""
    digest = [
        table[c].fill_null(0) if c in table.columns else ibis.literal(0, type="int64")
        for c in (EVENT_COUNT, EVENT_SUM)
    ]
    shares = table[SHARES].ifelse(1, 0) if SHARES in table.columns else 0
    events = _modulo(row_hash(digest, engine), LEAD_PART // 2) * 2 + shares
    result: ir.IntegerValue = lead_part(model, table, engine) * LEAD_PART + events
    return result


def lead_part(model: Model, table: ir.Table, engine: str) -> ir.IntegerValue:
    """The fingerprint's part from the model and the lead's fields, in [0, 2**31)."""
    read = model.lead_fields() | {"lead_id", "created_at", "duplicate_of"}
    columns = [table[c] for c in table.columns if c in read]
    key = ibis.literal(model_key(model), type="int64")
    return _modulo(row_hash([key, *columns], engine), 2**31)


def previous_lead_part(fingerprint: ir.IntegerValue) -> ir.IntegerValue:
    """The lead part of a fingerprint written by an earlier run."""
    result: ir.IntegerValue = fingerprint // LEAD_PART
    return result


def with_shares(
    table: ir.Table, ids: Copies, key: Callable[[ir.Column], ir.Value]
) -> tuple[ir.Table, ir.Table]:
    """``table`` (leads keyed in ``lead_key``) with ``SHARES``, and the keys of
    every lead sharing an id, known or not (``_shared``): see ``sharing_leads``."""
    shared = sharing_leads(ids, key)
    table = table.left_join(shared, table[LEAD] == shared._shared)
    table = table.mutate(**{SHARES: table._sharing.fill_null(False)})
    return table.drop("_shared", "_sharing"), shared


def previous_shares(fingerprint: ir.IntegerValue) -> ir.BooleanValue:
    """Whether the lead shared an ``event_id`` with another lead in an earlier run."""
    result: ir.BooleanValue = _modulo(fingerprint, 2) == 1
    return result


def _modulo(value: ir.IntegerValue, modulus: int) -> ir.IntegerValue:
    """``value`` (a signed hash) in [0, modulus), on every engine's ``%``."""
    number = value.cast("int64")
    result: ir.IntegerValue = ((number % modulus) + modulus) % modulus
    return result
