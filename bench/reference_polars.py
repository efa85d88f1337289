"""The bench model (../shared/bench/model.yaml) written by hand with Polars' lazy API.

    python bench/reference_polars.py --leads L.parquet --events E.parquet --out O.parquet

The same rules and results as the hand-written DuckDB query (bench/reference.sql), so
that `make bench` can put leadscore's DuckDB time next to what a Polars user would
write (target: leadscore <= 0.8x Polars). Prints one JSON line on stdout:
``{"seconds": ..., "rows": ...}``, the time of building and collecting the plan and
writing the result (the import excluded). POLARS_MAX_THREADS limits its threads.

Written the way the DuckDB query is: conditions on `type` and `url` tested once per
distinct pair and joined back; one group-by per lead for the plain, `once` and
`min_count` rules; one (lead, session) pre-aggregation for `distinct: session_id`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

import polars as pl

AS_OF = "2025-06-01T00:00:00Z"
DAY_US = 86_400_000_000
HALF_LIFE_US = 30 * DAY_US
WINDOW_US = 365 * DAY_US


def as_of_us(as_of: str) -> int:
    """T in microseconds since the epoch (exact: integer arithmetic)."""
    instant = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    epoch = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    delta = instant - epoch
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def norm(name: str) -> pl.Expr:
    """SPEC: trimmed (spaces, tabs, CR, LF), Unicode lower-case; blank is missing."""
    text = pl.col(name).str.strip_chars(" \t\r\n").str.to_lowercase()
    return pl.when(text != "").then(text)


def weight(age: pl.Expr) -> pl.Expr:
    """w(e) = 0.5 ^ (age / half_life), age in microseconds."""
    return pl.lit(0.5).pow(age.cast(pl.Float64) / HALF_LIFE_US)


def number(name: str) -> pl.Expr:
    """A float column with NaN as missing (SPEC), as Polars orders NaN above numbers."""
    return pl.when(~pl.col(name).is_nan()).then(pl.col(name))


def any_of(*conditions: pl.Expr) -> pl.Expr:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result | condition
    return result


def points(condition: pl.Expr, value: float) -> pl.Expr:
    """`value` when the condition holds; a null condition does not hold."""
    return pl.when(condition).then(pl.lit(value)).otherwise(pl.lit(0.0))


def nth_smallest(values: pl.Expr, n: int) -> pl.Expr:
    """The n-th smallest non-null value of the group, null when there are fewer."""
    present = values.drop_nulls()
    return pl.when(present.len() >= n).then(present.bottom_k(n).max())


def kept_events(events: pl.LazyFrame, as_of: int) -> pl.LazyFrame:
    """Events after the global event_id de-dup, within 0 <= age < window (SPEC §3)."""
    timestamp_us = pl.col("timestamp").dt.epoch("us")
    repeated = (
        events.filter(pl.col("event_id").is_not_null())
        .group_by("event_id")
        .agg(pl.len().alias("copies"))
        .filter(pl.col("copies") > 1)
        .select("event_id")
    )
    # of the copies, the earliest counts; ties (identical copies) by file position
    kept = (
        events.join(repeated, on="event_id", how="semi")
        .group_by("event_id")
        .agg(pl.col("row").sort_by(["timestamp", "row"]).first().alias("keep_row"))
    )
    return (
        events.join(kept, on="event_id", how="left")
        .filter(pl.col("keep_row").is_null() | (pl.col("row") == pl.col("keep_row")))
        .filter((timestamp_us <= as_of) & (timestamp_us > as_of - WINDOW_US))
        .select(
            "lead_id",
            "type",
            "url",
            number("percent").alias("pct"),
            "session_id",
            "campaign",
            (pl.lit(as_of) - timestamp_us).alias("age"),
        )
    )


def pair_flags(events: pl.LazyFrame) -> pl.LazyFrame:
    """Every condition on `type` and `url`, once per distinct pair of the file."""
    t, u = pl.col("t"), pl.col("u")

    def has(text: str) -> pl.Expr:
        return u.str.contains(text, literal=True)

    def page(condition: pl.Expr) -> pl.Expr:
        return ((t == "page_view") & condition).fill_null(False)

    flags = {
        "pv": t == "page_view",
        "vp": t == "video_play",
        "eo": t == "email_open",
        "ec": t == "email_click",
        "webinar": t == "webinar",
        "demo": t == "demo_request",
        "unsub": t == "unsubscribe",
        "web_visit": t.is_in(["page_view", "form_submit", "demo_request"]),
        "pricing": page(has("/pricing")),
        "contact_page": page(has("/contact")),
        "brochure": ((t == "download") & u.str.ends_with(".pdf")).fill_null(False),
        "price_list": ((t == "download") & has("price-list")).fill_null(False),
        # not_contains is "present and not containing": a missing url fails it
        "form": ((t == "form_submit") & ~has("/newsletter")).fill_null(False),
        "newsletter": ((t == "form_submit") & has("/newsletter")).fill_null(False),
        "careers": page(has("/careers")),
        "shop": page(u.str.starts_with("https://shop.")),
        "lathe_page": (
            t.is_in(["page_view", "email_click"])
            & any_of(has("/lathes"), has("/tornos"), has("/torni"))
        ).fill_null(False),
        "lathe_video": ((t == "video_play") & has("lathes")).fill_null(False),
        "lathe_catalogue": ((t == "download") & has("lathes-catalogue")).fill_null(False),
        "robot_page": (t.is_in(["page_view", "email_click"]) & has("/robotic-lines")).fill_null(
            False
        ),
        "robot_video": ((t == "video_play") & has("robotic")).fill_null(False),
        "robot_brochure": ((t == "download") & has("robotic")).fill_null(False),
        "support_page": page(has("/support/")),
        "spare_parts": page(u.str.starts_with("https://shop.acme-lathes.com")),
        "session_type": t.is_in(["page_view", "video_play", "download"]),
    }
    return (
        events.select("type", "url")
        .unique()
        .with_columns(norm("type").alias("t"), norm("url").alias("u"))
        .select("type", "url", *(expr.fill_null(False).alias(k) for k, expr in flags.items()))
    )


def per_lead(fev: pl.LazyFrame) -> pl.LazyFrame:
    """One pass per lead: sums, `once` (the most recent event's weight), min_count."""
    w, age, pct, c = pl.col("w"), pl.col("age"), pl.col("pct"), pl.col

    def total(condition: pl.Expr) -> pl.Expr:
        return w.filter(condition).sum()

    def once(condition: pl.Expr) -> pl.Expr:
        return w.filter(condition).max()

    return fev.group_by("lead_id").agg(
        total(c("pv")).alias("page_view"),
        total(c("pricing")).alias("pricing_page"),
        once(c("contact_page")).alias("contact_page"),
        total(c("vp") & (pct >= 75)).alias("video_watched"),
        total(c("vp") & (pct >= 10) & (pct < 75)).alias("video_sampled"),
        total(c("vp") & (pct <= 5)).alias("video_skipped"),
        total(c("eo")).alias("email_open"),
        total(c("ec")).alias("email_click"),
        nth_smallest(age.filter(c("eo") | c("ec")), 5).alias("email_engaged_age"),
        total(c("brochure")).alias("brochure"),
        once(c("price_list")).alias("price_list"),
        total(c("form")).alias("form"),
        once(c("newsletter")).alias("newsletter_signup"),
        once(c("webinar")).alias("webinar_once"),
        once(c("demo")).alias("demo_once"),
        once(c("careers")).alias("job_seeker"),
        total(c("shop")).alias("shop_visitor"),
        once(c("unsub")).alias("unsubscribed"),
        age.min().alias("last_event_age"),
        age.filter(c("web_visit")).min().alias("last_web_visit_age"),
        total(c("lathe_page")).alias("lathe_pages"),
        total(c("lathe_video") & (pct >= 50)).alias("lathe_videos"),
        once(c("lathe_catalogue")).alias("lathe_catalogue"),
        total(c("robot_page")).alias("robot_pages"),
        total(c("robot_video")).alias("robot_video"),
        once(c("robot_brochure")).alias("robot_brochure"),
        once(c("webinar") & (c("campaign_norm") == "webinar-robot-cells")).alias("robot_webinar"),
        total(c("support_page")).alias("manuals"),
        total(c("spare_parts")).alias("spare_parts"),
    )


def per_lead_sessions(fev: pl.LazyFrame) -> pl.LazyFrame:
    """`distinct: session_id`: per session (normalized; missing is not in M) the most
    recent event of each rule, then per lead the n-th most recent session."""
    age = pl.col("age")
    sessions = (
        fev.filter(pl.col("session_type") & pl.col("session_id").is_not_null())
        .with_columns(norm("session_id").alias("session"))
        .filter(pl.col("session").is_not_null())
        .group_by("lead_id", "session")
        .agg(
            age.filter(pl.col("pv")).min().alias("pv_age"),
            age.min().alias("deep_age"),
            age.filter(pl.col("support_page")).min().alias("support_age"),
        )
    )
    return sessions.group_by("lead_id").agg(
        weight(pl.col("pv_age")).sum().alias("active_sessions"),
        nth_smallest(pl.col("pv_age"), 3).alias("returning_age"),
        nth_smallest(pl.col("deep_age"), 10).alias("deep_age"),
        nth_smallest(pl.col("support_age"), 2).alias("support_sessions_age"),
    )


def fit_and_disqualify(leads: pl.LazyFrame) -> pl.LazyFrame:
    """Fit points and the first disqualify entry that holds, from the raw lead columns."""
    jt, ind, ctry, src, em, ph = (pl.col(n) for n in ("jt", "ind", "ctry", "src", "em", "ph"))
    size, revenue = pl.col("company_size"), number("annual_revenue")
    director_general = [
        "director general",
        "directora general",
        "directeur général",
        "diretor geral",
    ]
    c_level = [
        *["ceo", "chief executive officer", "cfo", "cto", "coo", "founder", "owner"],
        *["managing director", "director general", "directora general", "conseller delegat"],
        *["consejero delegado", "amministratore delegato", "directeur général", "pdg"],
        *["geschäftsführer", "diretor geral", "propietario"],
    ]
    students = ["student", "estudiante", "estudiant", "studente", "étudiant", "intern"]
    target = ["manufacturing", "automotive", "aerospace", "metalworking"]
    adjacent = ["energy", "food & beverage", "construction", "logistics"]
    home = ["spain", "españa", "espanya", "es", "italy", "italia", "it", "portugal", "pt"]
    home += ["france", "fr", "germany", "deutschland", "de"]
    free = any_of(
        em.str.ends_with("@gmail.com"),
        em.str.contains("@yahoo.", literal=True),
        em.str.contains("@hotmail.", literal=True),
        em.str.contains("@outlook.", literal=True),
        em.str.contains("@gmx.", literal=True),
        em.str.ends_with("@web.de"),
        em.str.ends_with("@libero.it"),
        em.str.ends_with("@icloud.com"),
    )
    fit = [
        points(jt.is_in(c_level) | jt.str.starts_with("chief"), 25),
        points(
            any_of(
                *(jt.str.starts_with(p) for p in ("vp", "head of", "director", "directeur")),
                *(jt.str.starts_with(p) for p in ("direttore", "diretor")),
                jt.str.contains("vice president", literal=True),
                jt.str.contains("leiter", literal=True),
                jt.str.ends_with("director"),
            )
            & ~jt.is_in(director_general).fill_null(False),
            15,
        ),
        points(
            any_of(
                jt.str.contains("manager", literal=True),
                *(jt.str.starts_with(p) for p in ("jefe", "responsabile", "responsable", "cap de")),
                jt == "gerente",
            ),
            8,
        ),
        points(jt.is_in([*students, "becario", "praktikant"]), -30),
        points(jt.is_null(), -5),
        points(ind.is_in(target), 15),
        points(ind.is_in(adjacent), 5),
        points(ind.is_not_null() & ~ind.is_in([*target, *adjacent, "consulting"]), -10),
        points(size.is_between(50, 999), 10),
        points(size >= 1000, 15),
        points(size < 10, -5),
        points(revenue > 10_000_000, 5),
        points(ctry.is_in(home), 10),
        points(src.is_in(["trade_show", "referral", "partner", "webinar"]), 5),
        points(src == "purchased_list", -5),
        points(src.is_not_null() & (src != "unknown"), 1),
        points(em.str.contains("@", literal=True) & ~free.fill_null(False), 5),
        points(
            any_of(*(em.str.starts_with(p) for p in ("info@", "sales@", "admin@", "contact@"))), -5
        ),
        points(ph.is_not_null() & ph.str.starts_with("+"), 2),
    ]
    disposable = ("@mailinator.com", "@guerrillamail.com", "@10minutemail.com", "@yopmail.com")
    disqualified_by = (
        pl.when(em.str.ends_with("@rival-machines.com"))
        .then(pl.lit("competitor"))
        .when(em.is_null())
        .then(pl.lit("no-email"))
        .when(
            any_of(
                ~em.str.contains("@", literal=True),
                em.str.ends_with("@"),
                em.str.starts_with("@"),
                em.str.contains("@@", literal=True),
            )
        )
        .then(pl.lit("malformed-email"))
        .when(em.str.ends_with("@example.com"))
        .then(pl.lit("test-lead"))
        .when(any_of(*(em.str.ends_with(d) for d in disposable)))
        .then(pl.lit("disposable"))
    )
    return leads.with_columns(
        pl.sum_horizontal(fit).alias("fit"), disqualified_by.alias("disqualified_by")
    )


def capped(cap: float, value: pl.Expr) -> pl.Expr:
    """`max_points: cap` for positive points."""
    return pl.min_horizontal(pl.lit(cap), value)


def plan(leads_path: str | Path, events_path: str | Path, as_of: str = AS_OF) -> pl.LazyFrame:
    """The lazy query: every lead's result, as bench/reference.sql gives it."""
    t = as_of_us(as_of)
    events = pl.scan_parquet(events_path, row_index_name="row")
    flags = pair_flags(events)
    fev = (
        kept_events(events, t)
        .join(flags, on=["type", "url"], how="inner", nulls_equal=True)
        .with_columns(weight(pl.col("age")).alias("w"), norm("campaign").alias("campaign_norm"))
    )
    created_us = pl.col("created_at").dt.epoch("us")
    leads = pl.scan_parquet(leads_path).with_columns(
        norm("job_title").alias("jt"),
        norm("industry").alias("ind"),
        norm("country").alias("ctry"),
        norm("source").alias("src"),
        norm("email").alias("em"),
        norm("phone").alias("ph"),
    )
    a = per_lead(fev)
    s = per_lead_sessions(fev)
    scored = (
        fit_and_disqualify(leads)
        .join(a, on="lead_id", how="left")
        .join(s, on="lead_id", how="left")
    )
    zero = 0.0

    def got(name: str) -> pl.Expr:
        return pl.col(name).fill_null(zero)

    def decayed(name: str) -> pl.Expr:
        return weight(pl.col(name)).fill_null(zero)

    def inactive(last_age: str, days: int, value: float) -> pl.Expr:
        active = (pl.col(last_age) < days * DAY_US).fill_null(False)
        created = (created_us > t - days * DAY_US).fill_null(False)
        return pl.when(active | created).then(pl.lit(zero)).otherwise(pl.lit(value))

    engagement = pl.sum_horizontal(
        capped(25, 1 * got("page_view")),
        capped(30, 5 * got("pricing_page")),
        8 * got("contact_page"),
        10 * decayed("returning_age"),
        capped(20, 2 * got("active_sessions")),
        15 * decayed("deep_age"),
        capped(20, 4 * got("video_watched")),
        capped(5, 1 * got("video_sampled")),
        pl.max_horizontal(pl.lit(-3.0), -0.5 * got("video_skipped")),
        capped(5, 0.5 * got("email_open")),
        capped(15, 3 * got("email_click")),
        5 * decayed("email_engaged_age"),
        capped(20, 5 * got("brochure")),
        10 * got("price_list"),
        capped(30, 10 * got("form")),
        2 * got("newsletter_signup"),
        10 * got("webinar_once"),
        30 * got("demo_once"),
        -10 * got("job_seeker"),
        capped(5, 1 * got("shop_visitor")),
        -40 * got("unsubscribed"),
        inactive("last_event_age", 60, -10),
        inactive("last_web_visit_age", 180, -5),
    )
    lathes = pl.sum_horizontal(
        capped(20, got("lathe_pages")), 3 * got("lathe_videos"), 5 * got("lathe_catalogue")
    )
    robotics = pl.sum_horizontal(
        capped(20, got("robot_pages")),
        2 * got("robot_video"),
        5 * got("robot_brochure"),
        5 * got("robot_webinar"),
    )
    service = pl.sum_horizontal(
        capped(10, got("manuals")),
        capped(10, 2 * got("spare_parts")),
        3 * decayed("support_sessions_age"),
    )
    scored = scored.with_columns(
        pl.col("fit").cast(pl.Float64),
        engagement.alias("engagement"),
        lathes.alias("interest_lathes"),
        robotics.alias("interest_robotics"),
        service.alias("interest_service"),
    )
    fit, eng = pl.col("fit"), pl.col("engagement")
    scored = scored.with_columns(
        pl.when(fit >= 50)
        .then(pl.lit("A"))
        .when(fit >= 30)
        .then(pl.lit("B"))
        .when(fit >= 10)
        .then(pl.lit("C"))
        .otherwise(pl.lit("D"))
        .alias("grade"),
        pl.when(eng >= 40)
        .then(pl.lit(1, pl.Int32))
        .when(eng >= 15)
        .then(pl.lit(2, pl.Int32))
        .when(eng >= 3)
        .then(pl.lit(3, pl.Int32))
        .otherwise(pl.lit(4, pl.Int32))
        .alias("level"),
        (fit + eng).clip(0, 100).alias("score"),
    )
    grade, level, score = pl.col("grade"), pl.col("level"), pl.col("score")
    il, ir, isv = pl.col("interest_lathes"), pl.col("interest_robotics"), pl.col("interest_service")
    nurture_ok = pl.col("ph").is_not_null() | ~(pl.col("src") == "purchased_list").fill_null(False)
    return scored.select(
        "lead_id",
        "fit",
        "grade",
        "engagement",
        "level",
        (grade + level.cast(pl.String)).alias("matrix"),
        "score",
        pl.when(pl.col("disqualified_by").is_not_null())
        .then(pl.lit("disqualified"))
        .when((score >= 70) & grade.is_in(["A", "B"]) & (eng >= 30))
        .then(pl.lit("SQL"))
        .when((score >= 50) & (fit >= 20))
        .then(pl.lit("MQL"))
        .when(level.is_in([1, 2]) & nurture_ok)
        .then(pl.lit("nurture"))
        .otherwise(pl.lit("lead"))
        .alias("stage"),
        # the highest positive interest; ties go to the first declared
        pl.when((il > 0) & (il >= ir) & (il >= isv))
        .then(pl.lit("lathes"))
        .when((ir > 0) & (ir >= isv))
        .then(pl.lit("robotics"))
        .when(isv > 0)
        .then(pl.lit("service"))
        .alias("top_interest"),
        "interest_lathes",
        "interest_robotics",
        "interest_service",
        "disqualified_by",
    )


def score_to_parquet(
    leads: str | Path, events: str | Path, out: str | Path, as_of: str = AS_OF
) -> dict[str, float]:
    """Write every lead's result to `out` (Parquet); time planning, collecting, writing."""
    start = time.perf_counter()
    frame = plan(leads, events, as_of).collect()
    frame.write_parquet(out)
    return {"seconds": time.perf_counter() - start, "rows": float(frame.height)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--as-of", default=AS_OF)
    args = parser.parse_args(argv)
    json.dump(score_to_parquet(args.leads, args.events, args.out, args.as_of), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
