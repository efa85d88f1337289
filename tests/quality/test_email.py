"""E-mail fields: domain, validity (email-validator, no DNS), free, disposable, role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from email_validator import validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.quality.conftest import derive_rows

from leadscore.quality.email import (
    PLAIN_ADDRESS,
    is_disposable_domain,
    is_free_domain,
    is_reserved_domain,
    is_valid_address,
)

EMAIL_FIELDS = [
    "email_domain",
    "email_valid",
    "email_is_free",
    "email_is_disposable",
    "email_is_role",
]


def _one(con: Any, address: str | None) -> dict[str, Any]:
    return derive_rows(con, {"lead_id": [1], "email": [address]}, EMAIL_FIELDS)[0]


@pytest.mark.parametrize(
    "address",
    ["ana.garcia@acme.es", "j+news@acme.com", "x@sub.acme.co.uk", " Padded@Acme.COM ",
     "o'brien@acme.ie", "josé@acme.es", "用户@例子.广告", "info@münchen.de", "a@xn--mnchen-3ya.de"],
)  # fmt: skip
def test_valid_addresses(con: Any, address: str) -> None:
    assert _one(con, address)["email_valid"] is True


@pytest.mark.parametrize(
    "address",
    ["no-at", "x@", "@acme.com", "x@@acme.com", "a b@acme.com", "a..b@acme.com", ".a@acme.com",
     "a@acme", "a@-acme.com", "a@acme..com", "a@example.com", "a@mail.example.com",
     "a@example.org", "a@host.test", "a@host.invalid", "a@localhost", "a@printer.local",
     "a@" + "b" * 64 + ".com", "\"quoted\"@acme.com", "Ana <a@acme.com>"],
)  # fmt: skip
def test_invalid_addresses(con: Any, address: str) -> None:
    assert _one(con, address)["email_valid"] is False


def test_query_fast_path_agrees_with_email_validator(con: Any) -> None:
    addresses = [
        "a@acme.es", "x" * 65 + "@acme.com", "a--b@acme.es", "a@b--c.es", "ü@acme.de",
        "a@acme.e", "a@acme.123", "A@ACME.ES", "a@sub.example.net", "a.@acme.es",
    ]  # fmt: skip
    rows = derive_rows(
        con, {"lead_id": list(range(len(addresses))), "email": addresses}, ["email_valid"]
    )
    assert [row["email_valid"] for row in rows] == [is_valid_address(a) for a in addresses]


def test_missing_email_is_null_not_invalid(con: Any) -> None:
    row = _one(con, "   ")
    assert row["email_valid"] is None
    assert row["email_domain"] is None
    assert row["email_is_free"] is None


@pytest.mark.parametrize(
    ("address", "domain"),
    [("a@Acme.COM", "acme.com"), ("x@@d", "d"), ("a@b@Corp.io", "corp.io"),
     ("a@ acme.com", "acme.com"), ("no-at", None), ("x@", None)],
)  # fmt: skip
def test_email_domain_after_last_at(con: Any, address: str, domain: str | None) -> None:
    assert _one(con, address)["email_domain"] == domain


@pytest.mark.parametrize(
    "domain",
    ["gmail.com", "googlemail.com", "yahoo.es", "yahoo.co.uk", "hotmail.fr", "outlook.com",
     "gmx.de", "gmx.net", "web.de", "libero.it", "orange.fr", "icloud.com", "sapo.pt",
     "telefonica.net", "uol.com.br", "t-online.de", "proton.me"],
)  # fmt: skip
def test_free_domains(domain: str) -> None:
    assert is_free_domain(domain)


@pytest.mark.parametrize(
    "domain", ["acme.es", "yahoo-fans.com", "mail.acme.com", "yahoo.acme.example.com"]
)
def test_company_domains_are_not_free(domain: str) -> None:
    assert not is_free_domain(domain)


@pytest.mark.parametrize("domain", ["mailinator.com", "yopmail.com", "sub.mailinator.com"])
def test_disposable_domains(domain: str) -> None:
    assert is_disposable_domain(domain)
    assert not is_disposable_domain("acme.es")
    assert not is_disposable_domain("gmail.com")


@pytest.mark.parametrize(
    ("address", "role"),
    [("info@acme.es", True), ("Sales+eu@acme.es", True), ("no-reply@acme.es", True),
     ("ventas@acme.es", True), ("vendite@acme.it", True), ("kontakt@acme.de", True),
     ("contact@acme.fr", True), ("ana.garcia@acme.es", False), ("infor@acme.es", False),
     ("no-at", None)],
)  # fmt: skip
def test_role_addresses(con: Any, address: str, role: bool | None) -> None:
    assert _one(con, address)["email_is_role"] is role


def test_flags_in_one_table(con: Any) -> None:
    rows = derive_rows(
        con,
        {"lead_id": [1, 2, 3], "email": ["a@gmail.com", "b@mailinator.com", "c@acme.es"]},
        EMAIL_FIELDS,
    )
    assert [(r["email_is_free"], r["email_is_disposable"]) for r in rows] == [
        (True, False), (False, True), (False, False)
    ]  # fmt: skip


def test_reserved_domains() -> None:
    assert is_reserved_domain("example.com")
    assert is_reserved_domain("EXAMPLE.NET")
    assert is_reserved_domain("a.b.test")
    assert not is_reserved_domain("example.company.com")
    assert not is_reserved_domain("mytest.com")


_ATOM = st.text(alphabet="abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=10)
_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(
    local=st.lists(_ATOM, min_size=1, max_size=3).map(".".join),
    labels=st.lists(_LABEL, min_size=1, max_size=3),
    tld=st.from_regex(r"[a-zA-Z]{2,6}", fullmatch=True),
)
def test_plain_addresses_are_accepted_by_email_validator(
    local: str, labels: list[str], tld: str
) -> None:
    # The in-query fast path must never call valid what email-validator rejects.
    address = f"{local}@{'.'.join(labels)}.{tld}"
    assert re.search(PLAIN_ADDRESS, address)
    if "--" in address or len(local) > 64 or is_reserved_domain(address.rsplit("@", 1)[1]):
        return
    validate_email(address, check_deliverability=False)
    assert is_valid_address(address)


_ADDRESSY = st.text(alphabet="ab.-+_@ üé例\t", min_size=0, max_size=16) | st.builds(
    "{}@{}".format, _ATOM, st.sampled_from(["example.com", "a.test", "b--c.es", "acme.es", "x"])
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_ADDRESSY, min_size=1, max_size=30))
def test_query_and_python_agree_on_any_address(con: Any, addresses: list[str]) -> None:
    rows = derive_rows(
        con, {"lead_id": list(range(len(addresses))), "email": addresses}, ["email_valid"]
    )
    for address, row in zip(addresses, rows, strict=True):
        trimmed = address.strip(" \t\r\n")
        expected = is_valid_address(trimmed) if trimmed else None
        assert row["email_valid"] is expected, address
