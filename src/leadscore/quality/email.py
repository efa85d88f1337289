"""E-mail fields of SPEC §2: domain, validity, free, disposable and role addresses.

Validity is decided by ``email-validator`` (no DNS look-up). So that a million
leads do not cost a million Python calls, plain ASCII addresses that match
:data:`PLAIN_ADDRESS` (a pattern ``email-validator`` always accepts, checked by a
property test) are decided in the query; only the distinct other values go
through ``email-validator``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

import ibis
import ibis.expr.types as ir
from disposable_email_domains import allowlist, blocklist
from email_validator import EmailNotValidError, validate_email

from leadscore.quality import columns

# Domains that can never receive mail of a real lead: RFC 2606 / RFC 6761
# reserved names and email-validator's special-use names, with their subdomains.
RESERVED_DOMAINS = (
    "example.com",
    "example.net",
    "example.org",
    "example",
    "test",
    "invalid",
    "localhost",
    "local",
    "onion",
    "arpa",
)
_RESERVED = re.compile(r"(^|\.)(" + "|".join(re.escape(d) for d in RESERVED_DOMAINS) + r")\.?$")

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
PLAIN_ADDRESS = (
    rf"^{_ATEXT}+(\.{_ATEXT}+)*@([A-Za-z0-9]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}$"
)
_GMAIL = ("gmail.com", "googlemail.com")


def _data_lines(name: str) -> list[str]:
    """Non-comment, non-blank lines of a data file of this package."""
    raw = resources.files("leadscore.quality").joinpath("data").joinpath(name).read_text("utf-8")
    lines = (line.split("#", 1)[0].strip().lower() for line in raw.splitlines())
    return [line for line in lines if line]


@cache
def free_mail_domains() -> tuple[frozenset[str], frozenset[str]]:
    """Free-mail domains (exact) and brand names matched as ``brand.*``."""
    exact, brands = set(), set()
    for line in _data_lines("free_mail_domains.txt"):
        if line.endswith(".*"):
            brands.add(line[:-2])
        else:
            exact.add(line)
    return frozenset(exact), frozenset(brands)


@cache
def role_local_parts() -> frozenset[str]:
    """Local parts that name a role or a department, not a person."""
    return frozenset(_data_lines("role_local_parts.txt"))


def is_reserved_domain(domain: str) -> bool:
    """Whether ``domain`` is reserved (see :data:`RESERVED_DOMAINS`)."""
    return _RESERVED.search(domain.lower()) is not None


def is_free_domain(domain: str) -> bool:
    """Whether ``domain`` belongs to a free-mail provider (``yahoo.es``, ``gmx.de``...)."""
    exact, brands = free_mail_domains()
    domain = domain.lower().rstrip(".")
    if domain in exact:
        return True
    brand, _, suffix = domain.partition(".")
    # "yahoo.*" means the brand under a country or generic suffix: yahoo.es, yahoo.co.uk.
    return brand in brands and 0 < suffix.count(".") + 1 <= 2


def is_disposable_domain(domain: str) -> bool:
    """Whether ``domain`` or a parent domain is a throw-away mail provider."""
    labels = domain.lower().rstrip(".").split(".")
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in allowlist:
            return False
        if candidate in blocklist:
            return True
    return False


def is_valid_address(address: str) -> bool:
    """Whether a trimmed address is valid per SPEC §2 (syntax and not reserved).

    Examples
    --------
    >>> is_valid_address("ana@empresa.es"), is_valid_address("ana@example.com")
    (True, False)
    >>> is_valid_address("josé@correos.españa.es")
    True
    """
    try:
        result = validate_email(address, check_deliverability=False)
    except (EmailNotValidError, ValueError, UnicodeError):
        return False
    return not is_reserved_domain(result.ascii_domain or result.domain)


ADDRESS, LOCAL, DOMAIN = "__lsq_email", "__lsq_local", "__lsq_domain"


def split_address(table: ir.Table) -> ir.Table:
    """Add the trimmed address, its local part and its derived domain as columns.

    Staged as columns so that the backend computes each once per row. The
    domain is ``email_domain`` of SPEC §2: after the last ``@``, lower-cased
    and trimmed, null without an ``@``.
    """
    table = table.mutate(**{ADDRESS: columns.text(table, "email")})
    address = table[ADDRESS]
    after = address.reverse().find("@")  # characters after the last "@", -1 without one
    has_at = after >= 0
    local = address.substr(0, address.length() - after - 1)
    host = columns.trimmed(address.right(after).lower())
    return table.mutate(
        **{
            LOCAL: has_at.ifelse(local, ibis.null("string")),
            DOMAIN: has_at.ifelse(host, ibis.null("string")),
        }
    )


def validity_in_query(table: ir.Table) -> ir.BooleanValue:
    """``email_valid`` where the query can decide it, null where ``email-validator`` must.

    No ``@`` or a reserved domain is invalid; a plain ASCII address within the
    length limits is valid (``email-validator`` accepts every such address).
    """
    address, domain = table[ADDRESS], table[DOMAIN]
    plain = (
        address.re_search(PLAIN_ADDRESS)
        & ~address.contains("--")
        & (address.length() <= 254)
        & (table[LOCAL].length() <= 64)
    )
    return ibis.cases(
        (address.isnull(), ibis.null("boolean")),
        (domain.isnull(), False),
        (domain.re_search(_RESERVED.pattern), False),
        (plain, True),
        else_=ibis.null("boolean"),
    )


def is_role(table: ir.Table) -> ir.BooleanValue:
    """``email_is_role``: the local part, without ``+tag``, is a role name."""
    local = table[LOCAL].lower().re_replace(r"\+.*$", "")
    roles = sorted(role_local_parts())
    return local.isnull().ifelse(ibis.null("boolean"), local.isin(roles))


def mailbox_key(table: ir.Table) -> ir.StringValue:
    """The normalised mailbox of SPEC §3 ``duplicate_of``.

    Trimmed and lower-cased; gmail.com and googlemail.com are one mailbox whose
    local part ignores dots and a ``+tag``.
    """
    domain = table[DOMAIN]
    gmail_local = table[LOCAL].lower().re_replace(r"\+.*$", "").replace(".", "")
    return domain.isin(_GMAIL).ifelse(gmail_local + "@gmail.com", table[ADDRESS].lower())


def classify_domains(domains: Iterable[str]) -> dict[str, tuple[bool, bool]]:
    """``(is_free, is_disposable)`` for each distinct domain."""
    return {d: (is_free_domain(d), is_disposable_domain(d)) for d in domains}
