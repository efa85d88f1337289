"""``seniority`` and ``job_function`` from a job title (SPEC §2), in seven languages.

The vocabulary is data: one CSV file per language in ``titles/`` (``en, es, ca,
it, pt, fr, de``), each row a phrase with the seniority and/or function it
signals. A title is normalised (Unicode NFKC, accents removed with ``unidecode``,
lower case, punctuation dropped, dotted acronyms joined: ``C.E.O.`` -> ``ceo``),
each word is reduced to a known form when it is a feminine or plural variant
(``directora`` -> ``director``, ``Leiterin`` -> ``leiter``), and the longest
phrases are matched from left to right. Words of German compounds are matched by
``*suffix`` and ``prefix*`` rows (``Vertriebsleiter`` = ``vertriebs*`` +
``*leiter``).

Resolution:

- seniority: a phrase flagged ``override`` decides (``assistant to``, ``intern``:
  "Assistant to the CEO" is not c_level, "Marketing Intern" is a student);
  otherwise the highest seniority found (``Sales Director`` -> director);
- job_function: the first function found in the title, except functions flagged
  ``weak`` (``executive`` of ``CEO``, ``education`` of ``student``), used only
  when there is no other; ``other`` when the title was understood but names no
  function;
- nothing understood gives ``unknown``, never a guess.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from unidecode import unidecode

LANGUAGES = ("en", "es", "ca", "it", "pt", "fr", "de")
SENIORITIES = ("c_level", "vp", "director", "manager", "individual", "student", "unknown")
FUNCTIONS = (
    "executive", "sales", "marketing", "engineering", "it", "operations", "finance", "hr",
    "legal", "product", "design", "support", "education", "other", "unknown",
)  # fmt: skip
UNKNOWN = "unknown"
_RANK = {name: rank for rank, name in enumerate(reversed(SENIORITIES))}
_MAX_TITLE = 1000  # characters read from a title; job titles are short
_WORD = re.compile(r"[a-z0-9]+")
# Feminine and plural forms reduced to the listed form, tried in order.
_VARIANTS = (
    ("innen", ""), ("in", ""), ("trice", "tore"), ("trice", "teur"), ("euse", "eur"),
    ("essa", "e"), ("ffe", "f"), ("ora", "or"), ("ada", "ado"), ("ada", "at"),
    ("a", "o"), ("a", "e"), ("a", ""), ("e", ""), ("es", ""), ("s", ""),
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One vocabulary row: what a phrase says about seniority and function."""

    seniority: str | None
    function: str | None
    override: bool = False
    weak: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """The merged vocabulary of all languages."""

    phrases: dict[tuple[str, ...], Entry]
    suffixes: tuple[tuple[str, Entry], ...]
    prefixes: tuple[tuple[str, Entry], ...]
    words: frozenset[str]
    lemmas: dict[str, str]
    longest: int


def _read_rows(language: str) -> Iterable[list[str]]:
    path = resources.files("leadscore.quality").joinpath("titles").joinpath(f"{language}.csv")
    lines = path.read_text("utf-8").splitlines()
    data = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    rows = csv.reader(data)
    header = next(rows)
    if header != ["phrase", "seniority", "function", "flags"]:
        raise ValueError(f"titles/{language}.csv: unexpected header {header}")
    return rows


def _entry(language: str, row: list[str]) -> tuple[str, Entry]:
    phrase, seniority, function, flags = (cell.strip() for cell in row)
    flag_set = set(flags.split())
    if seniority and seniority not in SENIORITIES:
        raise ValueError(f"titles/{language}.csv: {phrase!r}: unknown seniority {seniority!r}")
    if function and function not in FUNCTIONS:
        raise ValueError(f"titles/{language}.csv: {phrase!r}: unknown function {function!r}")
    if not flag_set <= {"override", "weak"}:
        raise ValueError(f"titles/{language}.csv: {phrase!r}: unknown flags {flags!r}")
    entry = Entry(seniority or None, function or None, "override" in flag_set, "weak" in flag_set)
    return phrase, entry


@cache
def vocabulary() -> Vocabulary:
    """Load and merge the per-language vocabulary files (once)."""
    raw: list[tuple[list[str], Entry]] = []
    suffixes: dict[str, Entry] = {}
    prefixes: dict[str, Entry] = {}
    for language in LANGUAGES:
        for row in _read_rows(language):
            phrase, entry = _entry(language, row)
            if phrase.startswith("*"):
                suffixes.setdefault(_plain(phrase[1:]), entry)
            elif phrase.endswith("*"):
                prefixes.setdefault(_plain(phrase[:-1]), entry)
            else:
                raw.append((_words(phrase), entry))
    words = frozenset(word for phrase, _ in raw for word in phrase)
    singles = {phrase[0]: entry for phrase, entry in reversed(raw) if len(phrase) == 1}
    lemmas: dict[str, str] = {}
    for word in words:
        reduced = _reduce(word, words)
        # A listed form is only merged into another one that means the same.
        if reduced != word and singles.get(word, singles.get(reduced)) == singles.get(reduced):
            lemmas[word] = reduced
    phrases: dict[tuple[str, ...], Entry] = {}
    for listed, entry in raw:
        phrases.setdefault(tuple(lemmas.get(word, word) for word in listed), entry)
    return Vocabulary(
        phrases=phrases,
        # Longest affixes first, so "*sachbearbeiter" wins over "*bearbeiter".
        suffixes=tuple(sorted(suffixes.items(), key=lambda item: -len(item[0]))),
        prefixes=tuple(sorted(prefixes.items(), key=lambda item: -len(item[0]))),
        words=words,
        lemmas=lemmas,
        longest=max(len(phrase) for phrase in phrases),
    )


def _plain(value: str) -> str:
    """NFKC, accents removed, lower case."""
    return unidecode(unicodedata.normalize("NFKC", value)).lower()


def _words(value: str) -> list[str]:
    """Words of a text; runs of single letters (``c.e.o``, ``r&d``) are joined."""
    words: list[str] = []
    run: list[str] = []
    for word in _WORD.findall(_plain(value)):
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        words.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        words.append(word)
    words.extend(["".join(run)] if len(run) > 1 else run)
    return words


def _reduce(word: str, known: frozenset[str]) -> str:
    """A known masculine/singular variant of a word, else the word itself."""
    for ending, replacement in _VARIANTS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            candidate = word[: -len(ending)] + replacement
            if candidate in known:
                return candidate
    return word


def _known_form(word: str, vocab: Vocabulary) -> str:
    """The listed form of a word: itself, or its masculine/singular variant."""
    if word not in vocab.words:
        word = _reduce(word, vocab.words)
    return vocab.lemmas.get(word, word)


def _compound(word: str, vocab: Vocabulary) -> list[Entry]:
    """Entries of a German-style compound word: its prefix and its suffix."""
    bases = (word, word[:-2]) if word.endswith("in") else (word,)
    prefix = next(
        (e for base in bases for p, e in vocab.prefixes if base.startswith(p) and base != p), None
    )
    suffix = next(
        (e for base in bases for s, e in vocab.suffixes if base.endswith(s) and base != s), None
    )
    return [entry for entry in (prefix, suffix) if entry is not None]


def matches(title: str) -> list[Entry]:
    """The vocabulary entries found in a title, in reading order."""
    vocab = vocabulary()
    words = [_known_form(word, vocab) for word in _words(title[:_MAX_TITLE])]
    found: list[Entry] = []
    position = 0
    while position < len(words):
        for size in range(min(vocab.longest, len(words) - position), 0, -1):
            entry = vocab.phrases.get(tuple(words[position : position + size]))
            if entry is not None:
                found.append(entry)
                position += size
                break
        else:
            found.extend(_compound(words[position], vocab))
            position += 1
    return found


@lru_cache(maxsize=65536)
def classify_title(title: str) -> tuple[str, str]:
    """``(seniority, job_function)`` of a job title.

    Parameters
    ----------
    title
        A job title in any of the seven languages, any case, with or without
        accents.

    Returns
    -------
    tuple of str
        One of :data:`SENIORITIES` and one of :data:`FUNCTIONS`.

    Examples
    --------
    >>> classify_title("Directora de Marketing")
    ('director', 'marketing')
    >>> classify_title("Assistant to the CEO")
    ('individual', 'other')
    >>> classify_title("Geschäftsführer"), classify_title("zzz")
    (('c_level', 'executive'), ('unknown', 'unknown'))
    """
    found = matches(title)
    ranked = [entry for entry in found if entry.seniority]
    overrides = [entry for entry in ranked if entry.override]
    if overrides:
        seniority = overrides[0].seniority or UNKNOWN
    elif ranked:
        seniority = max((entry.seniority or UNKNOWN for entry in ranked), key=_RANK.__getitem__)
    else:
        seniority = UNKNOWN
    strong = [entry.function for entry in found if entry.function and not entry.weak]
    weak = [entry.function for entry in found if entry.function and entry.weak]
    functions = strong or weak or ["other" if found else UNKNOWN]
    function = functions[0] or UNKNOWN
    return seniority, function
