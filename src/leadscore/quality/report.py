"""``leadscore clean``: the derived leads plus a summary of the problems found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
from rich.console import Group, RenderableType
from rich.table import Table

from leadscore.quality import columns, countries, email, fuzzy
from leadscore.quality.derive import COMPLETENESS_FIELDS, derive
from leadscore.quality.titles import UNKNOWN, classify_title

WELL_KNOWN_FIELDS = (
    "email", "first_name", "last_name", "job_title", "company", "company_domain",
    "account_id", "industry", "company_size", "annual_revenue", "country",
    "postal_code", "city", "age", "phone", "source", "created_at",
)  # fmt: skip
TOP = 20


@dataclass(frozen=True)
class CleanReport:
    """What :func:`clean` found: counts for people, ``to_dict`` for machines.

    ``table`` is the leads with their derived fields, ready to be written.
    """

    table: ir.Table
    rows: int
    emails: dict[str, int]
    unknown_titles: int
    top_unknown_titles: list[tuple[str, int]]
    unknown_countries: int
    top_unknown_countries: list[tuple[str, int]]
    without_country_code: int
    duplicates: int
    duplicate_groups: int
    probable_duplicates: list[fuzzy.ProbableDuplicate] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (``leadscore clean --json``)."""
        return {
            "rows": self.rows,
            "emails": dict(self.emails),
            "titles": {
                "unknown": self.unknown_titles,
                "top_unknown": [{"title": t, "count": n} for t, n in self.top_unknown_titles],
            },
            "countries": {
                "unknown": self.unknown_countries,
                "top_unknown": [{"country": c, "count": n} for c, n in self.top_unknown_countries],
                "without_country_code": self.without_country_code,
            },
            "duplicates": {
                "exact": self.duplicates,
                "groups": self.duplicate_groups,
                "probable": len(self.probable_duplicates),
                "probable_pairs": [p.to_dict() for p in self.probable_duplicates[:1000]],
            },
            "missing": dict(self.missing),
        }

    def __rich__(self) -> RenderableType:
        """Tables for a terminal (``rich.print(report)``)."""
        summary = Table(title=f"leadscore clean: {self.rows:,} leads", show_header=False)
        summary.add_column("check")
        summary.add_column("leads", justify="right")
        for name, count in self.emails.items():
            summary.add_row(f"e-mail {name.replace('_', ' ')}", f"{count:,}")
        summary.add_row("unknown job titles", f"{self.unknown_titles:,}")
        summary.add_row("unknown countries", f"{self.unknown_countries:,}")
        summary.add_row("no country code", f"{self.without_country_code:,}")
        summary.add_row("duplicates (same e-mail)", f"{self.duplicates:,}")
        summary.add_row(
            "probable duplicate pairs (name + company)", f"{len(self.probable_duplicates):,}"
        )
        parts: list[RenderableType] = [summary]
        for title, rows, label in (
            ("Most frequent unknown job titles", self.top_unknown_titles, "job_title"),
            ("Most frequent unknown countries", self.top_unknown_countries, "country"),
        ):
            if rows:
                table = Table(title=title)
                table.add_column(label)
                table.add_column("leads", justify="right")
                for value, count in rows:
                    table.add_row(value, f"{count:,}")
                parts.append(table)
        missing = Table(title="Missing fields")
        missing.add_column("field")
        missing.add_column("leads", justify="right")
        for name, count in self.missing.items():
            missing.add_row(name, f"{count:,}")
        parts.append(missing)
        return Group(*parts)


def _counts(leads: ir.Table, name: str) -> list[tuple[str, int]]:
    """Leads per distinct trimmed value of a raw column, most frequent first."""
    value = columns.text(leads, name)
    counts = leads.select(v=value).filter(ibis._.v.notnull()).group_by("v").agg(n=ibis._.count())
    rows = counts.order_by([ibis.desc("n"), "v"]).to_pyarrow().to_pylist()
    return [(str(row["v"]), int(row["n"])) for row in rows]


def clean(leads: ir.Table) -> CleanReport:
    """Derive every field of SPEC §2 and summarise the data-quality problems.

    Parameters
    ----------
    leads
        The leads, on any Ibis backend.

    Returns
    -------
    CleanReport
        The derived table (``report.table``) and the counts of invalid, free,
        disposable and role e-mails, unknown titles and countries (with the most
        frequent ones), duplicates (exact by e-mail; probable by fuzzy name and
        company, listed, not merged) and missing fields.

    Examples
    --------
    >>> import ibis
    >>> leads = ibis.memtable({"lead_id": [1, 2], "email": ["a@x.io", " A@X.io"],
    ...                        "job_title": ["Jefe de planta", "Wizard"]})
    >>> report = clean(leads)
    >>> report.duplicates, report.top_unknown_titles
    (1, [('Wizard', 1)])
    """
    table = derive(leads)
    title = columns.text(table, "job_title")
    counts = {
        "rows": table.count(),
        "missing": columns.text(table, "email").isnull().sum(),
        "invalid": (table.email_valid == False).sum(),  # noqa: E712 (null is not invalid)
        "free": table.email_is_free.sum(),
        "disposable": table.email_is_disposable.sum(),
        "role": table.email_is_role.sum(),
        "unknown_titles": (title.notnull() & (table.seniority == "unknown")).sum(),
        "without_country_code": table.country_code.isnull().sum(),
        "duplicates": table.duplicate_of.notnull().sum(),
        "duplicate_groups": table.duplicate_of.nunique(),
    }
    reported = [n for n in WELL_KNOWN_FIELDS if n in leads.columns or n in COMPLETENESS_FIELDS]
    for name in reported:
        if name in leads.columns:
            counts[f"missing:{name}"] = (~columns.present(table, name)).cast("int64").sum()
        else:
            counts[f"missing:{name}"] = table.count()
    row = (
        table.aggregate(**{k: v.fill_null(0) for k, v in counts.items()})
        .to_pyarrow()
        .to_pylist()[0]
    )
    # Unknown titles and countries are found once per distinct value, in Python.
    top_titles = [(t, n) for t, n in _counts(leads, "job_title") if classify_title(t)[0] == UNKNOWN]
    unknown_countries = [
        (c, n) for c, n in _counts(leads, "country") if countries.code_for_country(c) is None
    ]
    return CleanReport(
        table=table,
        rows=int(row["rows"]),
        emails={k: int(row[k]) for k in ("missing", "invalid", "free", "disposable", "role")},
        unknown_titles=int(row["unknown_titles"]),
        top_unknown_titles=top_titles[:TOP],
        unknown_countries=sum(n for _, n in unknown_countries),
        top_unknown_countries=unknown_countries[:TOP],
        without_country_code=int(row["without_country_code"]),
        duplicates=int(row["duplicates"]),
        duplicate_groups=int(row["duplicate_groups"]),
        probable_duplicates=_probable(leads),
        missing={name: int(row[f"missing:{name}"]) for name in reported},
    )


def _probable(leads: ir.Table) -> list[fuzzy.ProbableDuplicate]:
    """Probable duplicates among the leads that have a name and a company."""
    if "lead_id" not in leads.columns or "company" not in leads.columns:
        return []
    parts = email.split_address(leads)
    wanted = parts.select(
        id=parts.lead_id,
        first=columns.text(parts, "first_name"),
        last=columns.text(parts, "last_name"),
        company=columns.text(parts, "company"),
        mailbox=email.mailbox_key(parts),
    ).filter(ibis._.company.notnull() & (ibis._.first.notnull() | ibis._.last.notnull()))
    data = wanted.to_pyarrow().to_pydict()
    return fuzzy.probable_duplicates(
        data["id"], data["first"], data["last"], data["company"], data["mailbox"]
    )
