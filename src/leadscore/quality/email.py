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


def domain_of(email: ir.StringValue) -> ir.StringValue:
    """``email_domain``: after the last ``@``, lower-cased and trimmed; null without one."""
    after = email.re_extract(r"@([^@]*)$", 1).lower().re_replace(r"^[ \t\r\n]+|[ \t\r\n]+$", "")
    return email.contains("@").ifelse(after.nullif(""), ibis.null("string"))  # type: ignore[no-any-return]


def local_part_of(email: ir.StringValue) -> ir.StringValue:
    """The part before the last ``@``; null without one."""
    return email.contains("@").ifelse(  # type: ignore[no-any-return]
        email.re_extract(r"^(.*)@[^@]*$", 1), ibis.null("string")
    )


def plain_valid(email: ir.StringValue) -> ir.BooleanValue:
    """Whether an address is plain ASCII, within length limits and not reserved.

    Such addresses are valid without asking ``email-validator``.
    """
    local = local_part_of(email)
    reserved = domain_of(email).re_search(_RESERVED.pattern)
    return (  # type: ignore[no-any-return]
        email.re_search(PLAIN_ADDRESS)
        & ~email.contains("--")
        & (email.length() <= 254)
        & (local.length() <= 64)
        & ~reserved
    ).fill_null(False)


def is_role(email: ir.StringValue) -> ir.BooleanValue:
    """``email_is_role``: the local part, without ``+tag``, is a role name."""
    local = local_part_of(email).lower().re_replace(r"\+.*$", "")
    roles = sorted(role_local_parts())
    return local.isnull().ifelse(ibis.null("boolean"), local.isin(roles))  # type: ignore[no-any-return]


def mailbox_key(email: ir.StringValue) -> ir.StringValue:
    """The normalised mailbox of SPEC §3 ``duplicate_of``.

    Lower-cased; gmail.com and googlemail.com are one mailbox whose local part
    ignores dots and a ``+tag``.
    """
    lowered = email.lower()
    domain = domain_of(lowered)
    local = local_part_of(lowered)
    gmail_local = local.re_replace(r"\+.*$", "").replace(".", "")
    return domain.isin(_GMAIL).ifelse(gmail_local + "@gmail.com", lowered)  # type: ignore[no-any-return]


def classify_domains(domains: Iterable[str]) -> dict[str, tuple[bool, bool]]:
    """``(is_free, is_disposable)`` for each distinct domain."""
    return {d: (is_free_domain(d), is_disposable_domain(d)) for d in domains}
