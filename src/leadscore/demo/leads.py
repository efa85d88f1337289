"""The demo's leads: people at companies (buying committees) or on free mail, with the
flaws of real lead lists (SPEC §2): odd case and padding, gaps, typos, duplicates."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pyarrow as pa

from leadscore.demo.sampling import (
    Bools,
    Column,
    Floats,
    Ints,
    Texts,
    WordLists,
    blanked,
    choice,
    integers,
    missing,
    numbered,
    rank,
    recased,
    strings,
    words,
)
from leadscore.demo.vocabulary import (
    COMPANY_ENDINGS,
    COMPANY_STEMS,
    COMPETITOR_DOMAIN,
    DISPOSABLE_DOMAINS,
    FIRST_NAMES,
    INDUSTRIES,
    LANGUAGES,
    LAST_NAMES,
    LOCALES,
    ROLE_LOCALS,
    SENIORITIES,
    SENIORITY_WEIGHTS,
    SOURCES,
    TITLES,
    Locale,
)

Columns = dict[str, Column]


class Kind(IntEnum):
    """What a lead is there to show; the quotas below, the rest are ordinary."""

    ORDINARY = 0
    HOT = 1  # senior, target company, recent buying signals
    STUDENT = 2
    COMPETITOR = 3
    DISPOSABLE = 4  # throw-away mailbox
    MALFORMED = 5  # e-mail with a typo
    TEST = 6  # @example.com
    DUPLICATE = 7  # the same person again, e-mail in other case or with spaces


QUOTAS = (  # kind, share of all leads, at least this many
    (Kind.HOT, 0.025, 3),
    (Kind.STUDENT, 0.04, 2),
    (Kind.COMPETITOR, 0.0015, 2),
    (Kind.DISPOSABLE, 0.004, 2),
    (Kind.MALFORMED, 0.006, 2),
    (Kind.TEST, 0.002, 1),
    (Kind.DUPLICATE, 0.01, 2),
)


def _ascii(word: str) -> str:
    """A name as it appears in an e-mail address: ASCII, lower case, letters only."""
    plain = unicodedata.normalize("NFKD", word.lower().replace("ß", "ss"))
    return "".join(c for c in plain if c.isascii() and c.isalnum())


def _cities(locale: Locale) -> list[tuple[str, list[str]]]:
    pairs = [item.split(": ") for item in locale.cities.split("; ")]
    return [(city, [code.replace("_", " ") for code in codes.split()]) for city, codes in pairs]


_LANGUAGE = np.array([LANGUAGES.index(locale.language) for locale in LOCALES], dtype=np.int64)
_LOCALE_WEIGHTS = [locale.weight for locale in LOCALES]
_FIRST = WordLists([FIRST_NAMES[lang].split() for lang in LANGUAGES])
_LAST = WordLists([LAST_NAMES[lang].split() for lang in LANGUAGES])
_FIRST_ASCII = words([_ascii(w) for w in _FIRST.values])
_INITIAL = words([w[:1] for w in _FIRST_ASCII])
_LAST_ASCII = words([_ascii(w) for w in _LAST.values])
_TITLES = WordLists([titles.split("|") for lang in LANGUAGES for titles in TITLES[lang]])
_COUNTRY = WordLists([locale.countries.split("|") for locale in LOCALES])
_FREE_MAIL = WordLists([locale.free_mail.split("|") for locale in LOCALES])
_LEGAL = WordLists([locale.legal.split("|") for locale in LOCALES])
_CITY = WordLists([[city for city, _ in _cities(locale)] for locale in LOCALES])
_STEMS, _ENDINGS = words(COMPANY_STEMS.split()), words(COMPANY_ENDINGS.split())
_POSTAL = WordLists([codes for locale in LOCALES for _, codes in _cities(locale)])


def lead_kinds(rng: np.random.Generator, n: int) -> Ints:
    """Which of ``n`` leads are hot, students, competitors, ... (see :data:`QUOTAS`)."""
    kinds = np.full(n, Kind.ORDINARY, dtype=np.int64)
    order = rng.permutation(n)
    start = 0
    for kind, share, least in QUOTAS:
        count = min(n - start, max(least, round(share * n)))
        kinds[order[start : start + count]] = kind
        start += count
    return kinds


@dataclass(frozen=True)
class _Accounts:
    """Companies: locale, industry, firmographics, name, domain, e-mail pattern."""

    locale: Ints
    industry: Ints
    size: Floats
    revenue: Floats
    company: Texts
    domain: Texts
    pattern: Ints
    hot: Ints  # the hot leads' accounts: target industries, mid-sized or larger


def _accounts(rng: np.random.Generator, n_acc: int, n_hot: int) -> _Accounts:
    locale = choice(rng, _LOCALE_WEIGHTS, n_acc)
    industry = choice(rng, [w for _, w in INDUSTRIES], n_acc)
    size = np.maximum(2.0, np.rint(rng.lognormal(3.9, 1.5, n_acc)))
    hot = rng.choice(n_acc, size=min(n_acc, max(1, n_hot // 3)), replace=False)
    industry[hot] = rng.integers(0, 4, len(hot))  # the target industries come first
    size[hot] = rng.integers(80, 4000, len(hot))
    revenue = np.round(size * rng.lognormal(11.9, 0.5, n_acc), -3)
    stem = rng.permutation(n_acc)
    stems, endings = len(_STEMS), len(_ENDINGS)
    name = (
        _STEMS[stem % stems]
        + _ENDINGS[stem // stems % endings]
        + np.where(stem >= stems * endings, numbered(stem // (stems * endings) + 1), "")
    )
    tld = np.where(rng.random(n_acc) < 0.3, ".com", words([lc.tld for lc in LOCALES])[locale])
    company = name + _LEGAL.values[_LEGAL.pick(rng, locale)]
    domain = recased(name, "lower") + tld
    pattern = rng.integers(0, 4, n_acc)
    return _Accounts(locale, industry, size, revenue, company, domain, pattern, hot)


def lead_columns(rng: np.random.Generator, kinds: Ints) -> tuple[Columns, Ints]:
    """Every lead column but ``created_at``, and the lead each duplicate copies (else -1)."""
    n, rows = len(kinds), np.arange(len(kinds))
    hot = kinds == Kind.HOT
    acc = _accounts(rng, max(1, n // 6), int(hot.sum()))
    # An account (a few big buying committees; the hot leads' ones), or free mail.
    n_acc = len(acc.locale)
    u = rng.random(n)
    spread = np.where(rng.random(n) < 0.6, u, u**1.6)
    lead_acc = rng.permutation(n_acc)[np.minimum((spread * n_acc).astype(np.int64), n_acc - 1)]
    lead_acc[hot] = acc.hot[rng.integers(0, len(acc.hot), int(hot.sum()))]
    free_share = np.select(
        [kinds == Kind.ORDINARY, kinds == Kind.STUDENT, kinds == Kind.MALFORMED], [0.27, 0.8, 0.2]
    )
    corp = np.isin(kinds, [Kind.ORDINARY, Kind.HOT, Kind.STUDENT, Kind.MALFORMED, Kind.DUPLICATE])
    corp &= rng.random(n) >= free_share
    loc = np.where(corp, acc.locale[lead_acc], choice(rng, _LOCALE_WEIGHTS, n))
    first_i, last_i = _FIRST.pick(rng, _LANGUAGE[loc]), _LAST.pick(rng, _LANGUAGE[loc])
    domain = np.where(corp, acc.domain[lead_acc], _FREE_MAIL.values[_FREE_MAIL.pick(rng, loc, 1.8)])
    lead_id = np.char.zfill(numbered(rows + 1).astype(str), max(5, len(str(n))))
    columns: Columns = {
        "lead_id": words(np.char.add("L", lead_id)),
        "email": _emails(
            rng, kinds, corp, (first_i, last_i), pattern=acc.pattern[lead_acc], domain=domain
        ),
        "first_name": _FIRST.values[first_i],
        "last_name": _LAST.values[last_i],
        "job_title": _job_titles(rng, kinds, loc),
        **_firmographics(rng, kinds, corp, acc, lead_acc),
        **_places(rng, loc, hot),
        "source": words([s for s, _ in SOURCES])[choice(rng, [w for _, w in SOURCES], n)],
    }
    test = kinds == Kind.TEST
    columns["first_name"][test], columns["last_name"][test] = "Test", "Lead"
    for name, share in (("first_name", 0.01), ("last_name", 0.02), ("source", 0.03)):
        columns[name][(rng.random(n) < share) & ~hot] = None
    return columns, _duplicate(rng, kinds, columns)


def _emails(
    rng: np.random.Generator,
    kinds: Ints,
    corp: Bools,
    names: tuple[Ints, Ints],
    *,
    pattern: Ints,
    domain: Texts,
) -> Texts:
    """The company's pattern or a free-mail address (namesakes numbered), role
    addresses, and those of competitors, throw-away users, testers and typos."""
    n, rows = len(kinds), np.arange(len(kinds))
    first, last = _FIRST_ASCII[names[0]], _LAST_ASCII[names[1]]
    patterns = np.stack([first + "." + last, _INITIAL[names[0]] + last, first, first + "_" + last])
    number = np.where(rng.random(n) < 0.5, "", numbered(rng.integers(1, 99, n)))
    local = np.where(corp, patterns[pattern, rows], first + "." + last + number)
    namesake = rank(local + "@" + domain)
    local = local + np.where(namesake > 0, numbered(namesake + 1), "")
    role = corp & (kinds == Kind.ORDINARY) & (rng.random(n) < 0.02)
    local[role] = words(ROLE_LOCALS)[rng.integers(0, len(ROLE_LOCALS), int(role.sum()))]
    typos = np.stack([local + "." + domain, local + "@", local + "@@" + domain,
                      first + " " + last + "@" + domain, "@" + domain])  # fmt: skip
    email: Texts = np.select(
        [kinds == Kind.COMPETITOR, kinds == Kind.DISPOSABLE, kinds == Kind.TEST,
         kinds == Kind.MALFORMED],
        [first + "." + last + "@" + COMPETITOR_DOMAIN,
         first + number + "7@" + words(DISPOSABLE_DOMAINS)[rows % len(DISPOSABLE_DOMAINS)],
         words(["test@example.com", "demo.lead@example.com"])[rows % 2],
         typos[rng.integers(0, len(typos), n), rows]],
        local + "@" + domain,
    )  # fmt: skip
    email[(kinds == Kind.ORDINARY) & (rng.random(n) < 0.005)] = None
    return email


def _job_titles(rng: np.random.Generator, kinds: Ints, loc: Ints) -> Texts:
    """Titles by seniority in the lead's language (or English); odd case, padding, gaps."""
    n, hot = len(kinds), kinds == Kind.HOT
    seniority = choice(rng, SENIORITY_WEIGHTS, n)
    seniority[hot] = choice(rng, (0.4, 0.25, 0.35), int(hot.sum()))  # c_level, vp, director
    seniority[kinds == Kind.STUDENT] = SENIORITIES.index("student")
    language = np.where(rng.random(n) < 0.25, 0, _LANGUAGE[loc])  # English is everywhere
    title = _TITLES.values[_TITLES.pick(rng, language * len(SENIORITIES) + seniority)]
    r = rng.random(n)
    title = np.select(
        [r < 0.03, r < 0.05, r < 0.07],
        [recased(title, "upper"), recased(title, "lower"), " " + title + "  "],
        title,
    )
    title[(r >= 0.07) & (r < 0.12) & ~hot] = None
    return title


def _firmographics(
    rng: np.random.Generator, kinds: Ints, corp: Bools, acc: _Accounts, lead_acc: Ints
) -> Columns:
    """Company, domain, account, industry, size and revenue: the account's for company
    leads, typed in by some free-mail leads, made up for the competitor and tester."""
    n, hot = len(kinds), kinds == Kind.HOT
    typed = ~corp & (kinds != Kind.TEST) & (rng.random(n) < 0.25)
    account_id = words(np.char.add("ACC-", np.char.zfill((lead_acc + 1).astype(str), 5)))
    own = choice(rng, [w for _, w in INDUSTRIES], n)
    industry = words([name for name, _ in INDUSTRIES])[np.where(corp, acc.industry[lead_acc], own)]
    r = rng.random(n)
    industry = np.where(r < 0.06, recased(industry, "capitalize"), industry)
    industry[((r > 0.94) | (~corp & (r > 0.5))) & ~hot] = None
    size = np.where(corp | typed, acc.size[lead_acc], np.nan)
    size[(rng.random(n) < 0.08) & ~hot] = np.nan
    revenue = np.where(corp & ((rng.random(n) < 0.7) | hot), acc.revenue[lead_acc], np.nan)
    columns: Columns = {
        "company": blanked(acc.company[lead_acc], ~(corp | typed)),
        "company_domain": blanked(acc.domain[lead_acc], ~corp),
        "account_id": blanked(account_id, ~corp | (rng.random(n) < 0.15)),
        "industry": industry,
        "company_size": size,
        "annual_revenue": revenue,
    }
    made_up = {
        Kind.COMPETITOR: ("Rival Corp Ltd", COMPETITOR_DOMAIN, None, "software", 420.0, 61e6),
        Kind.TEST: ("Example Ltd", "example.com", None, None, np.nan, np.nan),
    }
    for kind, values in made_up.items():
        for column, value in zip(columns.values(), values, strict=True):
            column[kinds == kind] = value
    return columns


def _places(rng: np.random.Generator, loc: Ints, hot: Bools) -> Columns:
    """Country spelt in several languages, postal code, city and phone; some missing."""
    n = len(loc)
    city_i = _CITY.pick(rng, loc)
    low, high = (np.array([lc.phone_digits[i] for lc in LOCALES], dtype=np.int64) for i in (0, 1))
    digits = numbered(rng.integers(low[loc], high[loc]))
    prefix = words([lc.phone + " " for lc in LOCALES])[loc]
    columns: Columns = {
        "country": _COUNTRY.values[_COUNTRY.pick(rng, loc, skew=2.0)],
        "postal_code": _POSTAL.values[_POSTAL.pick(rng, city_i)],
        "city": _CITY.values[city_i],
        "phone": np.where(rng.random(n) < 0.1, digits, prefix + digits),
    }
    for column, share in zip(columns.values(), (0.04, 0.15, 0.08, 0.35), strict=True):
        column[(rng.random(n) < share) & ~hot] = None
    return columns


def _duplicate(rng: np.random.Generator, kinds: Ints, columns: Columns) -> Ints:
    """Make each duplicate a copy of an ordinary lead, its e-mail in other case or with
    spaces, from another source; returns the copied lead per lead (else -1)."""
    original = np.full(len(kinds), -1, dtype=np.int64)
    dup = np.flatnonzero(kinds == Kind.DUPLICATE)
    pool = np.flatnonzero((kinds == Kind.ORDINARY) & ~missing(columns["email"]))
    if not len(dup) or not len(pool):
        return original
    src = original[dup] = pool[rng.integers(0, len(pool), len(dup))]
    for name, column in columns.items():
        if name not in ("lead_id", "email", "source"):
            column[dup] = column[src]
    email = columns["email"][src]
    variants = np.stack([recased(email, "upper"), " " + email + " ", recased(email, "capitalize")])
    columns["email"][dup] = variants[rng.integers(0, len(variants), len(dup)), np.arange(len(dup))]
    return original


def created_at(
    rng: np.random.Generator, kinds: Ints, original: Ints, oldest: Floats, as_of_us: int
) -> Texts:
    """When each lead was created, as ISO 8601 text in UTC (as a CSV export has it): at
    its first activity (``oldest``, days before as_of), some long before, a duplicate
    after the lead it copies."""
    n = len(kinds)
    age = np.where(oldest > 0, oldest + rng.exponential(0.3, n), rng.uniform(1.0, 400.0, n))
    old = rng.random(n) < 0.15
    age[old] = np.maximum(age[old], rng.uniform(200.0, 730.0, int(old.sum())))
    dup = original >= 0
    age[dup] = age[original[dup]] * rng.uniform(0.1, 0.9, int(dup.sum()))
    seconds = as_of_us // 1_000_000 - np.rint(age * 86_400).astype(np.int64)
    stamps = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    text = words(np.char.add(stamps, "Z"))
    text[(rng.random(n) < 0.02) & (kinds != Kind.HOT)] = None
    return text


def lead_table(columns: Columns) -> pa.Table:
    """The leads as an Arrow table: texts as strings, numbers as nullable integers."""
    return pa.table(
        {
            name: integers(values) if values.dtype == np.float64 else strings(values)
            for name, values in columns.items()
        }
    )
