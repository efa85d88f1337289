"""The derived lead fields of SPEC §2, built as one Ibis expression.

Knowledge that needs Python (title vocabulary, ``email-validator``, country
names, free-mail and disposable lists) is computed over the *distinct* values
of the input column, executed by the backend, and joined back as a memtable;
everything else is plain Ibis, so the same code runs on DuckDB, PostgreSQL or
Spark. An input column named like a derived field wins cell by cell (SPEC §3).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadscore.engine import kept_runs
from leadscore.quality import columns, countries, email, titles

DERIVED_FIELDS: tuple[str, ...] = (
    "email_domain",
    "email_valid",
    "email_is_free",
    "email_is_disposable",
    "email_is_role",
    "seniority",
    "job_function",
    "country_code",
    "profile_completeness",
    "account_key",
    "duplicate_of",
)
COMPLETENESS_FIELDS = (
    "email", "first_name", "last_name", "job_title", "company",
    "industry", "company_size", "country", "phone",
)  # fmt: skip
# Input order of the leads (unique numbers), for ties of duplicate_of. An engine
# should number the leads itself in this column (e.g. DuckDB's file_row_number):
# otherwise it is added with ROW_NUMBER() OVER (), which keeps the reading order
# but makes the backend read the leads on one thread.
ROW_ORDER_COLUMN = "__leadscore_row"
DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "email_is_free": ("email_domain",),
    "email_is_disposable": ("email_domain",),
    "account_key": ("email_domain", "email_is_free", "email_is_disposable"),
    "duplicate_of": ("email_valid",),
}
_BOOLEAN = {"email_valid", "email_is_free", "email_is_disposable", "email_is_role"}


def requested_fields(fields: Iterable[str] | None) -> tuple[str, ...]:
    """The requested derived fields plus those they depend on, in SPEC order."""
    wanted = set(DERIVED_FIELDS if fields is None else fields)
    unknown = sorted(wanted - set(DERIVED_FIELDS))
    if unknown:
        hints = [difflib.get_close_matches(name, DERIVED_FIELDS, n=1) for name in unknown]
        hint = "; ".join(
            f"{n!r}: did you mean {h[0]!r}?" for n, h in zip(unknown, hints, strict=True) if h
        )
        raise ValueError(
            f"unknown derived field(s) {unknown}; known: {list(DERIVED_FIELDS)}. {hint}"
        )
    pending = list(wanted)
    while pending:
        for dependency in DEPENDENCIES.get(pending.pop(), ()):
            if dependency not in wanted:
                wanted.add(dependency)
                pending.append(dependency)
    return tuple(name for name in DERIVED_FIELDS if name in wanted)


def _override(table: ir.Table, name: str, id_type: ibis.DataType | None = None) -> ir.Value:
    """The input column ``name`` read in the derived field's type, null where blank."""
    if name in _BOOLEAN:
        return columns.as_boolean(table, name)
    if name == "profile_completeness":
        return columns.as_float(table, name)
    value = columns.text(table, name)
    if name == "duplicate_of" and id_type is not None and not id_type.is_string():
        return value.try_cast(id_type)
    return value


def _final(table: ir.Table, source: ir.Table, name: str, derived: ir.Value) -> ir.Value:
    """``derived``, unless the input has a non-blank cell of the same name."""
    if name not in source.columns:
        return derived
    id_type = source.lead_id.type() if "lead_id" in source.columns else None
    return ibis.coalesce(_override(table, name, id_type), derived)


def _domain(table: ir.Table) -> ir.StringValue:
    """The final ``email_domain`` of a table passed through ``split_address``."""
    if "email_domain" not in table.columns:
        return table[email.DOMAIN]
    return ibis.coalesce(columns.text(table, "email_domain"), table[email.DOMAIN])


def _distinct(table: ir.Table, value: ir.Value) -> list[str]:
    """Distinct non-null values of an expression over ``table``, from the backend."""
    kept_runs.unreplayable()  # the SQL then holds data: a kept run could not replay it
    selected = table.select(v=value)
    values = selected.filter(selected.v.notnull()).distinct().v
    return [str(item) for item in values.to_pyarrow().to_pylist()]


def _email_distincts(src: ir.Table, addresses: bool, domains: bool) -> tuple[list[str], list[str]]:
    """Addresses the query cannot judge, and the final domains; distinct, in one scan."""
    if not addresses and not domains:
        return [], []
    kept_runs.unreplayable()  # the SQL then holds data: a kept run could not replay it
    parts = email.split_address(src)
    pairs = parts.select(
        a=email.validity_in_query(parts).isnull().ifelse(parts[email.ADDRESS], ibis.null("string"))
        if addresses
        else ibis.null("string"),
        d=_domain(parts) if domains else ibis.null("string"),
    ).distinct()
    data = pairs.to_pyarrow().to_pydict()
    return (
        sorted({str(v) for v in data["a"] if v is not None}),
        sorted({str(v) for v in data["d"] if v is not None}),
    )


def _email_fields(t: ir.Table, src: ir.Table, fields: tuple[str, ...]) -> ir.Table:
    if "email_domain" in fields:
        t = t.mutate(email_domain=_final(t, src, "email_domain", t[email.DOMAIN]))
    flagged = "email_is_free" in fields or "email_is_disposable" in fields
    others, domains = _email_distincts(src, "email_valid" in fields, flagged)
    if "email_valid" in fields:
        rows = {value: (email.is_valid_address(value),) for value in others}
        t = columns.lookup(t, t[email.ADDRESS], rows, {"__lsq_valid": pa.bool_()})
        # Addresses the query cannot decide are all in the lookup.
        valid = ibis.coalesce(email.validity_in_query(t), t.__lsq_valid)
        t = t.mutate(email_valid=_final(t, src, "email_valid", valid)).drop("__lsq_valid")
    if flagged:
        flags = email.classify_domains(domains)
        schema = {"__lsq_free": pa.bool_(), "__lsq_disposable": pa.bool_()}
        t = columns.lookup(t, t.email_domain, flags, schema)
        for name, flag in (
            ("email_is_free", t.__lsq_free),
            ("email_is_disposable", t.__lsq_disposable),
        ):
            if name in fields:
                derived = t.email_domain.isnull().ifelse(
                    ibis.null("boolean"), flag.fill_null(False)
                )
                t = t.mutate(**{name: _final(t, src, name, derived)})
        t = t.drop(*schema)
    if "email_is_role" in fields:
        t = t.mutate(email_is_role=_final(t, src, "email_is_role", email.is_role(t)))
    return t


def _title_fields(t: ir.Table, src: ir.Table, fields: tuple[str, ...]) -> ir.Table:
    wanted = [name for name in ("seniority", "job_function") if name in fields]
    if not wanted:
        return t
    rows = {
        title: titles.classify_title(title)
        for title in _distinct(src, columns.text(src, "job_title"))
    }
    schema = {"__lsq_seniority": pa.string(), "__lsq_job_function": pa.string()}
    t = columns.lookup(t, columns.text(t, "job_title"), rows, schema)
    for name in wanted:
        derived = t[f"__lsq_{name}"].fill_null(titles.UNKNOWN)
        t = t.mutate(**{name: _final(t, src, name, derived)})
    return t.drop(*schema)


def _country_field(t: ir.Table, src: ir.Table, fields: tuple[str, ...]) -> ir.Table:
    if "country_code" not in fields:
        return t
    names = _distinct(src, columns.text(src, "country"))
    by_name = {name: (countries.code_for_country(name),) for name in names}
    t = columns.lookup(t, columns.text(t, "country"), by_name, {"__lsq_by_name": pa.string()})
    by_phone = {key: (code,) for key, code in countries.calling_code_regions().items()}
    prefix = t.__lsq_by_name.isnull().ifelse(
        countries.phone_prefix(columns.text(t, "phone")), ibis.null("string")
    )
    t = columns.lookup(t, prefix, by_phone, {"__lsq_by_phone": pa.string()})
    derived = ibis.coalesce(t.__lsq_by_name, t.__lsq_by_phone)
    t = t.mutate(country_code=_final(t, src, "country_code", derived))
    return t.drop("__lsq_by_name", "__lsq_by_phone")


def _completeness(t: ir.Table, src: ir.Table, fields: tuple[str, ...]) -> ir.Table:
    if "profile_completeness" not in fields:
        return t
    shares = [columns.present(t, name).cast("float64") for name in COMPLETENESS_FIELDS]
    derived = sum(shares[1:], shares[0]) / float(len(COMPLETENESS_FIELDS))
    return t.mutate(profile_completeness=_final(t, src, "profile_completeness", derived))


def _account_key(t: ir.Table, src: ir.Table, fields: tuple[str, ...]) -> ir.Table:
    if "account_key" not in fields:
        return t
    company_domain = (
        ~t.email_is_free.fill_null(False) & ~t.email_is_disposable.fill_null(False)
    ).ifelse(t.email_domain, ibis.null("string"))
    derived = ibis.coalesce(columns.text(t, "account_id"), company_domain)
    return t.mutate(account_key=_final(t, src, "account_key", derived))


def _created_at(t: ir.Table) -> ir.TimestampValue:
    """``created_at`` as a timestamp, null when missing or unreadable."""
    if "created_at" not in t.columns:
        return ibis.null("timestamp")
    col = t.created_at
    dtype = col.type()
    if dtype.is_timestamp():
        return col
    if dtype.is_date():
        return col.cast("timestamp")
    if dtype.is_string():
        return columns.trimmed(col).try_cast("timestamp")
    return ibis.null("timestamp")


def _duplicate_of(
    t: ir.Table, ranked: ir.Table, src: ir.Table, fields: tuple[str, ...]
) -> ir.Table:
    if "duplicate_of" not in fields:
        return t
    if "lead_id" not in t.columns:
        raise ValueError("duplicate_of needs a lead_id column; the leads have none")
    # Ranked on a narrow table (row, key, date, id): a window over every lead
    # column would sort all of them.
    row = ROW_ORDER_COLUMN
    valid = ranked.filter(ranked.email_valid.fill_null(False))
    narrow = valid.select(
        __lsq_row=valid[row], __lsq_mailbox=email.mailbox_key(valid),
        __lsq_created=_created_at(valid), __lsq_id=valid.lead_id,
    )  # fmt: skip
    created = narrow.__lsq_created
    window = ibis.window(
        group_by=narrow.__lsq_mailbox, order_by=[created.isnull(), created, narrow.__lsq_row]
    )
    copies = (
        narrow.mutate(
            __lsq_original=narrow.__lsq_id.first().over(window),
            __lsq_rank=ibis.row_number().over(window),
        )
        .filter(ibis._.__lsq_rank > 0)
        .select("__lsq_row", "__lsq_original")
    )
    t = t.left_join(copies, t[row] == copies.__lsq_row).drop("__lsq_row")
    t = t.mutate(duplicate_of=_final(t, src, "duplicate_of", t.__lsq_original))
    return t.drop("__lsq_original")


def derive(leads: ir.Table, fields: Iterable[str] | None = None) -> ir.Table:
    """Add the derived lead fields of SPEC §2 to a leads table.

    Parameters
    ----------
    leads
        The leads, on any Ibis backend. Missing well-known columns count as
        null; text and typed columns are both accepted.
    fields
        The derived fields wanted (default: all of :data:`DERIVED_FIELDS`).
        Fields they depend on are added too.

    Returns
    -------
    ibis.Table
        ``leads`` with the derived columns; an input column of the same name
        wins cell by cell (a blank cell falls back to the derived value).

    Examples
    --------
    >>> import ibis
    >>> leads = ibis.memtable({"lead_id": [1], "email": [" Ana@Acme.ES "], "job_title": ["CEO"]})
    >>> row = derive(leads, ["account_key", "seniority"]).to_pyarrow().to_pylist()[0]
    >>> row["account_key"], row["seniority"], row["email_is_free"]
    ('acme.es', 'c_level', False)
    """
    wanted = requested_fields(fields)
    t = leads
    if "duplicate_of" in wanted and ROW_ORDER_COLUMN not in leads.columns:
        t = t.mutate(**{ROW_ORDER_COLUMN: ibis.row_number()})
    t = email.split_address(t)
    t = _email_fields(t, leads, wanted)
    ranked = t  # duplicates are ranked on this narrower plan, before the other joins
    for step in (_title_fields, _country_field, _completeness, _account_key):
        t = step(t, leads, wanted)
    t = _duplicate_of(t, ranked, leads, wanted)
    kept = [name for name in leads.columns if name not in wanted]
    return t.select(*kept, *wanted)
