"""``country_code`` (SPEC §2): ISO 3166-1 alpha-2 from a country name or code in
English, Spanish, Catalan, Italian, Portuguese, French or German, else from the
phone number's country calling code.

Names come from ``pycountry`` (ISO 3166-1 names and their translations shipped
with it) plus ``data/country_aliases.csv`` for everyday names that ISO does not
use ("USA", "UK", "Holland", "EEUU", "Turkey", regions such as "Catalunya").
Calling codes come from ``phonenumbers``' metadata; a code shared by several
territories gives its main one (+44 is GB, +7 is RU), except +1 where the area
code decides (+1 416 is CA).
"""

from __future__ import annotations

import csv
import gettext
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

import ibis
import ibis.expr.types as ir
import phonenumbers
import pycountry
from unidecode import unidecode

from leadscore.quality.titles import LANGUAGES

_NANP = "1"
_NON_GEOGRAPHIC = "001"
_MIN_PHONE_DIGITS = 7


def normalise_name(value: str) -> str:
    """Lower-case ASCII words of a country name (``"Españа "`` -> ``"espana"``)."""
    words = re.findall(r"[a-z0-9]+", unidecode(value).lower())
    if len(words) > 1 and words[0] in {"the", "la", "el", "les", "le", "l", "il", "o", "a"}:
        words = words[1:]
    return " ".join(words)


def _iso_names() -> Iterable[tuple[str, str]]:
    """``(name, alpha_2)`` for every ISO name, English first, then translations."""
    translators = [gettext.NullTranslations()] + [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        for language in (*LANGUAGES[1:], "pt_BR")
    ]
    for translator in translators:
        for country in pycountry.countries:
            for field in ("name", "official_name", "common_name"):
                name = getattr(country, field, None)
                if name:
                    yield translator.gettext(name), country.alpha_2


@cache
def country_names() -> dict[str, str]:
    """Normalised country name or code -> ISO alpha-2."""
    names: dict[str, str] = {}
    raw = resources.files("leadscore.quality").joinpath("data").joinpath("country_aliases.csv")
    lines = [line for line in raw.read_text("utf-8").splitlines() if not line.startswith("#")]
    for row in csv.DictReader(lines):
        names[normalise_name(row["alias"])] = row["alpha_2"]
    for country in pycountry.countries:
        names.setdefault(country.alpha_2.lower(), country.alpha_2)
        names.setdefault(country.alpha_3.lower(), country.alpha_2)
    # "Bolivia, Plurinational State of" is also "Bolivia", unless that is ambiguous.
    short: dict[str, set[str]] = {}
    for name, code in _iso_names():
        names.setdefault(normalise_name(name), code)
        for part in (name.split(",")[0], re.sub(r"\s*\(.*?\)", "", name)):
            short.setdefault(normalise_name(part), set()).add(code)
    for name, codes in short.items():
        if len(codes) == 1 and name:
            names.setdefault(name, codes.pop())
    names.pop("", None)
    return names


def code_for_country(value: str) -> str | None:
    """ISO alpha-2 of a country name or code, or None.

    Examples
    --------
    >>> [code_for_country(v) for v in ("España", "Espanya", "Spagna", "ESP", "Deutschland")]
    ['ES', 'ES', 'ES', 'ES', 'DE']
    >>> code_for_country("Atlantis") is None
    True
    """
    return country_names().get(normalise_name(value[:200]))


def _nanp_region(area_code: str) -> str:
    """The region of a +1 area code, from a sample number in it."""
    number = phonenumbers.parse(f"+1{area_code}2345678")
    return phonenumbers.region_code_for_number(number) or "US"


@cache
def calling_code_regions() -> dict[str, str]:
    """The first digits of an international number -> alpha-2.

    Keys are the first three digits (calling codes form a prefix code, so three
    digits always decide it), or four for +1, whose area code decides.
    """
    codes: dict[str, str] = {}
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        region = phonenumbers.region_code_for_country_code(code)
        if str(code) != _NANP and region not in (None, "ZZ", _NON_GEOGRAPHIC):
            codes[str(code)] = region
    regions = {
        f"{n:03d}": codes[key]
        for n in range(1000)
        for key in (f"{n:03d}"[:1], f"{n:03d}"[:2], f"{n:03d}")
        if key in codes
    }
    for area in range(200, 1000):
        regions[f"1{area}"] = _nanp_region(str(area))
    return regions


def phone_prefix(phone: ir.StringValue) -> ir.StringValue:
    """The calling-code key of an international phone number (``+`` or ``00``)."""
    all_digits = phone.re_replace(r"[^0-9]", "")
    start = phone.re_extract(r"^[^0-9+]*([0-9+]{0,2})", 1)
    digits = ibis.cases(
        (start.startswith("+"), all_digits),
        (start == "00", all_digits.substr(2)),
        else_=ibis.null("string"),
    )
    return ibis.cases(
        (digits.length() < _MIN_PHONE_DIGITS, ibis.null("string")),
        (digits.startswith(_NANP), digits.substr(0, 4)),
        else_=digits.substr(0, 3),
    )
