"""The demo's events: heavy-tailed activity per lead, fading into the past, web events
in visits, plus a few events after the as-of instant and a few resent copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from leadscore.demo.leads import Kind
from leadscore.demo.sampling import (
    Floats,
    Ints,
    Texts,
    blanked,
    coded,
    cumulative,
    draw,
    numbered,
    strings,
    words,
)
from leadscore.demo.vocabulary import (
    HISTORY_DAYS,
    NURTURE,
    SITE,
    TYPE_MIX,
    TYPES,
    URL_BOOSTS,
    URLS,
    WEB_TYPES,
    WEBINARS,
)

_DAY_US = 86_400_000_000
# Profiles of behaviour (rows of TYPE_MIX and URL_BOOSTS).
_ORDINARY, _KEEN, _JOB_SEEKER = 0, 1, 2


def _url_mixes() -> dict[int, tuple[Ints, Floats]]:
    """Per event type code: its URLs (indices into URLS) and their mix per profile."""
    mixes = {}
    for code, kind in enumerate(TYPES):
        index = np.array([i for i, url in enumerate(URLS) if url[0] == kind], dtype=np.int64)
        if len(index):
            boosts = [
                [float(np.prod([b for part, b in profile if part in URLS[i][1]])) for i in index]
                for profile in URL_BOOSTS
            ]
            mixes[code] = (index, cumulative(np.array([URLS[i][2] for i in index]) * boosts))
    return mixes


_TYPE_MIX = cumulative(TYPE_MIX)
_URL_MIX = _url_mixes()
_WEB_CODES = [TYPES.index(t) for t in WEB_TYPES]
_MAIL_CODES = [TYPES.index(t) for t in ("email_open", "email_click", "unsubscribe")]
_URL_TEXT = words([SITE + path for _, path, _, _ in URLS])
_URL_PRODUCT = words([product for *_, product in URLS])
_URL_INDEX = {(kind, path): i for i, (kind, path, _, _) in enumerate(URLS)}
_PLANTED = {  # a recent, telling visit of every hot lead and competitor
    Kind.HOT: [("page_view", "/pricing"), ("page_view", "/product/platform"),
               ("page_view", "/contact"), ("demo_request", "/demo")],
    Kind.COMPETITOR: [("page_view", "/pricing"), ("page_view", "/pricing?plan=enterprise"),
                      ("page_view", "/docs/api")],
}  # fmt: skip


@dataclass(frozen=True)
class _Events:
    """Events under construction: lead index, type code, URL index (-1: none yet),
    age in days before as_of, and visit number (-1: not in a web visit)."""

    lead: Ints
    type: Ints
    url: Ints
    age: Floats
    session: Ints

    @staticmethod
    def concat(parts: Sequence[_Events]) -> _Events:
        names = [f.name for f in fields(_Events)]
        return _Events(*(np.concatenate([getattr(p, name) for p in parts]) for name in names))


def _activity(rng: np.random.Generator, kinds: Ints, profile: Ints) -> tuple[Ints, Floats, Floats]:
    """Events per lead (heavy-tailed), days since the last one, and the look-back span."""
    n = len(kinds)
    light = np.isin(kinds, [Kind.DISPOSABLE, Kind.MALFORMED, Kind.TEST, Kind.DUPLICATE])
    scale = np.select([profile == _JOB_SEEKER, light], [4.0, 2.5], 8.5)
    counts = np.floor(np.minimum(rng.pareto(1.5, n), 30.0) * scale).astype(np.int64)
    counts[rng.random(n) < 0.12] = 0
    for kind, low, high in ((Kind.HOT, 5, 50), (Kind.COMPETITOR, 20, 60)):
        counts[kinds == kind] = rng.integers(low, high, int((kinds == kind).sum()))
    u = rng.random(n)
    recency = np.select(
        [u < 0.4, u < 0.75],
        [rng.exponential(10.0, n), rng.uniform(0, 90, n)],
        rng.uniform(0, HISTORY_DAYS, n),
    )
    span = np.exp(rng.uniform(np.log(2.0), np.log(150.0), n))
    keen = profile == _KEEN
    recency[keen] = np.minimum(rng.exponential(2.5, int(keen.sum())), 20.0)
    span[keen] = np.exp(rng.uniform(np.log(5.0), np.log(45.0), int(keen.sum())))
    return counts, recency, span


def _ages(rng: np.random.Generator, recency: Floats, span: Floats) -> Floats:
    """Days before as_of: the last activity plus an exponential look-back, within history."""
    age = recency + rng.exponential(1.0, len(recency)) * span
    over = age >= HISTORY_DAYS
    age[over] = recency[over] + rng.random(int(over.sum())) * (HISTORY_DAYS - recency[over])
    return age


def _random_events(rng: np.random.Generator, kinds: Ints, profile: Ints) -> _Events:
    """Each lead's events: types by profile, the web ones in visits of a few minutes."""
    n = len(kinds)
    counts, recency, span = _activity(rng, kinds, profile)
    lead = np.repeat(np.arange(n, dtype=np.int64), counts)
    kind = draw(rng, _TYPE_MIX, profile[lead])
    web = np.isin(kind, _WEB_CODES)
    web_lead = lead[web]
    per_lead = np.bincount(web_lead, minlength=n)
    visits = np.where(per_lead > 0, np.maximum(1, np.rint(per_lead / 3.5)), 0).astype(np.int64)
    visit_lead = np.repeat(np.arange(n), visits)
    visit_age = _ages(rng, recency[visit_lead], span[visit_lead])
    session = np.full(len(lead), -1, dtype=np.int64)
    nth = (rng.random(len(web_lead)) * visits[web_lead]).astype(np.int64)
    session[web] = (np.cumsum(visits) - visits)[web_lead] + nth
    age = _ages(rng, recency[lead], span[lead])
    age[web] = visit_age[session[web]] + rng.exponential(4 / 1440, len(web_lead))
    session[web & (rng.random(len(lead)) < 0.02)] = -1  # tracked server-side, no visit
    return _Events(lead, kind, np.full(len(lead), -1, dtype=np.int64), age, session)


def _planted_events(rng: np.random.Generator, kinds: Ints, first_session: int) -> _Events:
    """A recent visit of every hot lead (and competitor), a few minutes long."""
    parts = []
    for kind, plan in _PLANTED.items():
        who = np.flatnonzero(kinds == kind)
        visit = np.repeat(np.arange(len(who), dtype=np.int64), len(plan))
        minutes_left = np.tile(np.arange(len(plan) - 1, -1, -1), len(who)) * 2.5
        codes = np.array([[TYPES.index(t), _URL_INDEX[t, url]] for t, url in plan], np.int64)
        parts.append(
            _Events(
                lead=who[visit],
                type=np.tile(codes[:, 0], len(who)),
                url=np.tile(codes[:, 1], len(who)),
                age=rng.uniform(0.05, 5.0, len(who))[visit] + minutes_left / 1440,
                session=first_session + visit,
            )
        )
        first_session += len(who)
    return _Events.concat(parts)


def event_table(
    rng: np.random.Generator, kinds: Ints, lead_ids: Texts, as_of_us: int
) -> tuple[pa.Table, Floats]:
    """The events (in time order, resent copies included) and, per lead, the age in
    days of its oldest event (0 without events)."""
    n = len(kinds)
    profile = np.select(
        [np.isin(kinds, [Kind.HOT, Kind.COMPETITOR]), kinds == Kind.STUDENT],
        [_KEEN, _JOB_SEEKER],
        _ORDINARY,
    )
    drawn = _random_events(rng, kinds, profile)
    planted = _planted_events(rng, kinds, int(drawn.session.max(initial=-1)) + 1)
    ev = _Events.concat([drawn, planted])
    size, keen = len(ev.lead), profile[ev.lead]
    for code, (index, mix) in _URL_MIX.items():
        rows = np.flatnonzero((ev.type == code) & (ev.url < 0))
        ev.url[rows] = index[draw(rng, mix, keen[rows])]
    percent = np.full(size, np.nan)
    video = np.flatnonzero(ev.type == TYPES.index("video_play"))
    watched = rng.random(len(video)) ** np.where(keen[video] == _KEEN, 0.6, 1.3)
    percent[video] = np.round(100.0 * watched, 1)  # one decimal: exactly 75.0 happens

    few = min(size, max(3, round(0.003 * size)))
    future = rng.choice(size, size=few, replace=False)
    ev.age[future] = -rng.uniform(0.01, 10.0, few)  # after as_of: scoring ignores them
    ts = as_of_us - np.rint(ev.age * _DAY_US).astype(np.int64) // 1000 * 1000
    oldest = np.zeros(n)
    np.maximum.at(oldest, ev.lead, ev.age)

    campaign = np.full(size, None, dtype=object)
    mail = np.flatnonzero(np.isin(ev.type, _MAIL_CODES))
    month = np.datetime_as_string(ts[mail].astype("datetime64[us]"), unit="M").astype(object)
    nurture = words(NURTURE)[rng.integers(0, len(NURTURE), len(mail))]
    campaign[mail] = np.where(rng.random(len(mail)) < 0.25, nurture, "newsletter-" + month)
    product = blanked(_URL_PRODUCT[ev.url], ev.url < 0)
    webinar = np.flatnonzero(ev.type == TYPES.index("webinar"))
    which = rng.integers(0, len(WEBINARS), len(webinar))
    campaign[webinar] = words([c for c, _ in WEBINARS])[which]
    product[webinar] = words([p for _, p in WEBINARS])[which]
    session_id = "v-" + numbered((ev.session * 7_919 + 104_729) % 9_999_991)

    # Time order, ids in that order (as a tracker assigns them), a few resent copies.
    order = np.argsort(ts, kind="stable")
    event_id = np.empty(size, dtype=np.int64)
    event_id[order] = 1_000_001 + np.arange(size)
    copies = np.ones(size, dtype=np.int64)
    copies[rng.choice(size, size=few, replace=False)] = 2
    table = pa.table(
        {
            "event_id": pa.array(event_id, pa.int64()),
            "lead_id": strings(lead_ids[ev.lead]),
            "type": coded(TYPES, ev.type),
            "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "url": coded(_URL_TEXT, ev.url),
            "percent": pa.array(percent, pa.float64(), mask=np.isnan(percent)),
            "session_id": strings(blanked(session_id, ev.session < 0)),
            "campaign": strings(campaign),
            "product": strings(product),
        }
    )
    return table.take(np.repeat(order, copies[order])), oldest
