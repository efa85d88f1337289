"""Probable duplicates: the same person under two e-mails, by fuzzy name and company.

``leadscore clean`` lists them without merging them (issue 4). Leads are compared
only within blocks (same normalised company and the same first or last two
letters of the name; or same normalised name and the same first letters of the
company), with ``rapidfuzz``, so the cost grows with
the size of the blocks, not with the square of the number of leads.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from unidecode import unidecode

NAME_THRESHOLD = 90.0
COMPANY_THRESHOLD = 90.0
MAX_BLOCK = 5000  # larger blocks (a placeholder company such as "n/a") are skipped
# Legal forms dropped from the end of a company name (ES, CA, IT, PT, FR, DE, EN).
_LEGAL_FORMS = frozenset(
    {
        "sl", "slu", "sa", "sau", "sll", "srl", "srls", "spa", "sas", "sarl", "sasu", "eurl",
        "sc", "scp", "gmbh", "ag", "kg", "ohg", "ug", "ev", "inc", "llc", "ltd", "limited", "co",
        "corp", "corporation", "plc", "bv", "nv", "lda", "ltda", "me", "epp", "cia", "company",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ProbableDuplicate:
    """Two leads that look like the same person at the same company."""

    lead_id: object
    other_id: object
    name_score: float
    company_score: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "lead_id": self.lead_id,
            "other_id": self.other_id,
            "name_score": round(self.name_score, 1),
            "company_score": round(self.company_score, 1),
        }


def _words(value: str | None) -> list[str]:
    """Lower-case ASCII words; dotted initials are joined (``S.L.U.`` -> ``slu``)."""
    text = unidecode(value or "").lower()
    text = re.sub(r"\b([a-z])\.(?=[a-z]\b)", r"\1", text)
    return re.findall(r"[a-z0-9]+", text)


@lru_cache(maxsize=1 << 18)
def company_key(company: str | None) -> str:
    """A company name without punctuation, accents and legal form (``ACME, S.L.`` -> ``acme``)."""
    words = _words(company)
    while len(words) > 1 and words[-1] in _LEGAL_FORMS:
        words.pop()
    return " ".join(words)


@lru_cache(maxsize=1 << 18)
def name_key(first: str | None, last: str | None) -> str:
    """A person's name as sorted lower-case ASCII words."""
    return " ".join(sorted(_words(first) + _words(last)))


def _compare(
    members: list[int],
    names: list[str],
    firms: list[str],
    mailboxes: Sequence[object],
    found: dict[tuple[int, int], ProbableDuplicate],
    ids: Sequence[object],
) -> None:
    """Add the probable duplicates among one block's members to ``found``."""
    if len(members) < 2 or len(members) > MAX_BLOCK:
        return
    choices = [names[i] for i in members]
    for position, i in enumerate(members[:-1]):
        rest = choices[position + 1 :]
        hits = process.extract(
            names[i], rest, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_THRESHOLD, limit=None
        )
        for _, name_score, offset in hits:
            j = members[position + 1 + offset]
            same_mailbox = mailboxes[i] is not None and mailboxes[i] == mailboxes[j]
            company_score = fuzz.token_set_ratio(firms[i], firms[j])
            if same_mailbox or company_score < COMPANY_THRESHOLD or (i, j) in found:
                continue
            found[(i, j)] = ProbableDuplicate(ids[i], ids[j], name_score, company_score)


def probable_duplicates(
    ids: Sequence[object],
    first_names: Sequence[str | None],
    last_names: Sequence[str | None],
    companies: Sequence[str | None],
    mailboxes: Sequence[object],
) -> list[ProbableDuplicate]:
    """Pairs of leads with similar names at similar companies, best first.

    Pairs with the same normalised mailbox are exact duplicates (``duplicate_of``)
    and are not repeated here.

    Examples
    --------
    >>> pairs = probable_duplicates(
    ...     [1, 2, 3], ["José", "Jose", "Ana"], ["García", "Garcia", "Puig"],
    ...     ["Acme S.L.", "ACME", "Acme"], ["j@acme.es", "jgarcia@acme.es", "a@acme.es"])
    >>> [(p.lead_id, p.other_id) for p in pairs]
    [(1, 2)]
    """
    names = [name_key(f, last) for f, last in zip(first_names, last_names, strict=True)]
    firms = [company_key(c) for c in companies]
    by_company: dict[str, list[int]] = defaultdict(list)
    by_name: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, (name, firm) in enumerate(zip(names, firms, strict=True)):
        if name and firm:
            by_company[firm].append(index)
            by_name[(name, firm[:3])].append(index)
    blocks: list[list[int]] = list(by_name.values())
    for members in by_company.values():
        # Within a company, names are compared when they share their first or
        # their last two letters: a typo rarely touches both ends of a name.
        ends: dict[tuple[bool, str], list[int]] = defaultdict(list)
        for index in members:
            ends[(True, names[index][:2])].append(index)
            ends[(False, names[index][-2:])].append(index)
        blocks.extend(ends.values())
    found: dict[tuple[int, int], ProbableDuplicate] = {}
    for block in blocks:
        if len(block) > 1:
            _compare(sorted(block), names, firms, mailboxes, found, ids)
    return sorted(found.values(), key=lambda p: -(p.name_score + p.company_score))
