-- Hand-written PostgreSQL query of ../shared/bench/model.yaml (SPEC.md §3): the
-- yardstick of `leadscore score --engine postgres` in `make bench`. Same model, same
-- results as bench/reference.sql (DuckDB), written the way one would for PostgreSQL.
--
-- Inputs: tables `leads` and `events` on the search_path (bench/reference_postgres.py
-- loads the Parquet files with COPY and sets it), and the instant T in the setting
-- `leadscore.as_of`:
--   SET leadscore.as_of = '2025-06-01 00:00:00+00';
-- The last statement is the query; the ones before it are settings. Statements end
-- with ';' at the end of a line, and no ';' appears anywhere else.
--
-- What differs from the DuckDB query, and why:
-- - No top-n aggregate: the n-th most recent event of a `min_count: n` rule is a
--   row_number() over just the rows of that rule (a few per lead). An aggregate with
--   ORDER BY inside would forbid PostgreSQL's hashed and parallel aggregation of the
--   main one-pass aggregate.
-- - PostgreSQL cannot hash-join on IS NOT DISTINCT FROM, so the (type, url) pairs are
--   keyed by coalesce(url, ''): a null and an empty url are both missing (they fail
--   every test alike), so one key for both loses nothing.
-- - String tests are LIKE patterns: none of the model's test values contains a LIKE
--   wildcard (`%`, `_`) or a backslash, so `LIKE '%x%'` is exactly `contains x`.
-- - Ages are exact microseconds from extract(epoch ...) (numeric, exact), then
--   float8 for the decay weight.
--
-- Units: 1 day = 86,400,000,000 us; half-life 30 d = 2,592,000,000,000 us; window and
-- inactivity periods are compared as timestamps (T - interval 'n days', exact in UTC).

-- Every interval below is whole days of 24 h: pin UTC so that no DST rule applies.
SET TimeZone = 'UTC';
-- The de-dup hash aggregate over ~all-distinct ids and the per-lead aggregate spill to
-- disk at the default 4MB.
SET work_mem = '256MB';
-- The row estimates of CTE scans are poor (18 rows for 400,000), and JIT compilation
-- then spent 15 s of a 20 s run on the small size: off.
SET jit = off;
-- SPEC "trimmed, lower-cased; blank is missing". A SQL function this simple is
-- inlined by the planner, so it costs what the expression costs.
CREATE OR REPLACE FUNCTION pg_temp.norm(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN nullif(lower(btrim(s, E' \t\r\n')), '');

WITH
-- ------------------------------------------------------------------ event_id de-dup
-- SPEC: de-duplication is global and first (before the as-of, window, type filters
-- and before dropping events of unknown leads); of events sharing an event_id only
-- the earliest counts; an event without event_id always counts. Copies with the same
-- earliest timestamp are expected identical; the lowest ctid (the first loaded,
-- COPY keeps the file's order) is kept so that exactly one counts.
repeated_ids AS MATERIALIZED (
    SELECT event_id
    FROM events
    WHERE event_id IS NOT NULL
    GROUP BY event_id
    HAVING count(*) > 1
),
kept_copy AS MATERIALIZED (
    SELECT DISTINCT ON (e.event_id) e.event_id, e.ctid AS keep_ctid
    FROM events AS e
    JOIN repeated_ids AS r ON r.event_id = e.event_id
    ORDER BY e.event_id, e."timestamp", e.ctid
),
-- ------------------------------------------------------------------ events in scope
-- 0 <= age < window (365 d): T - 365 d < timestamp <= T. The inactivity rules look at
-- events of any age >= 0, but only ask whether one is younger than 60 or 180 days,
-- both inside the window, so the window filter loses nothing they need.
ev AS (
    SELECT
        e.lead_id,
        e.type,
        coalesce(e.url, '') AS url_key,
        -- a float NaN is a missing value (SPEC); PostgreSQL orders NaN above every
        -- number (and NaN = NaN), so `NaN >= 75` would be true without this.
        CASE WHEN e.percent <> 'NaN'::float8 THEN e.percent END AS pct,
        e.session_id,
        e.campaign,
        (extract(epoch FROM (SELECT current_setting('leadscore.as_of')::timestamptz) - e."timestamp")
            * 1000000)::bigint AS age
    FROM events AS e
    LEFT JOIN kept_copy AS k ON k.event_id = e.event_id
    WHERE (k.event_id IS NULL OR k.keep_ctid = e.ctid)
      AND e."timestamp" <= (SELECT current_setting('leadscore.as_of')::timestamptz)
      AND e."timestamp" > (SELECT current_setting('leadscore.as_of')::timestamptz) - interval '365 days'
),
-- ------------------------------------------------------------------ (type, url) tests
-- Every event condition that reads only `type` and `url`, evaluated once per distinct
-- pair. A missing (null or blank) url fails every test, `not_contains` included.
pair AS MATERIALIZED (
    SELECT type, url_key, pg_temp.norm(type) AS t, pg_temp.norm(url_key) AS u
    FROM (SELECT DISTINCT type, coalesce(url, '') AS url_key FROM events) AS d
),
pair_flags AS MATERIALIZED (
    SELECT
        type,
        url_key,
        t = 'page_view' AS pv,
        t = 'video_play' AS vp,
        t = 'download' AS dl,
        t = 'email_open' AS eo,
        t = 'email_click' AS ec,
        t = 'webinar' AS webinar,
        t = 'demo_request' AS demo,
        t = 'unsubscribe' AS unsub,
        t IN ('page_view', 'form_submit', 'demo_request') AS web_visit,
        coalesce(t = 'page_view' AND u LIKE '%/pricing%', false) AS pricing,
        coalesce(t = 'page_view' AND u LIKE '%/contact%', false) AS contact_page,
        coalesce(t = 'download' AND u LIKE '%.pdf', false) AS brochure,
        coalesce(t = 'download' AND u LIKE '%price-list%', false) AS price_list,
        coalesce(t = 'form_submit' AND u NOT LIKE '%/newsletter%', false) AS form,
        coalesce(t = 'form_submit' AND u LIKE '%/newsletter%', false) AS newsletter,
        coalesce(t = 'page_view' AND u LIKE '%/careers%', false) AS careers,
        coalesce(t = 'page_view' AND u LIKE 'https://shop.%', false) AS shop,
        coalesce(
            t IN ('page_view', 'email_click')
            AND (u LIKE '%/lathes%' OR u LIKE '%/tornos%' OR u LIKE '%/torni%'),
            false
        ) AS lathe_page,
        coalesce(t = 'video_play' AND u LIKE '%lathes%', false) AS lathe_video,
        coalesce(t = 'download' AND u LIKE '%lathes-catalogue%', false) AS lathe_catalogue,
        coalesce(t IN ('page_view', 'email_click') AND u LIKE '%/robotic-lines%', false)
            AS robot_page,
        coalesce(t = 'video_play' AND u LIKE '%robotic%', false) AS robot_video,
        coalesce(t = 'download' AND u LIKE '%robotic%', false) AS robot_brochure,
        coalesce(t = 'page_view' AND u LIKE '%/support/%', false) AS support_page,
        coalesce(t = 'page_view' AND u LIKE 'https://shop.acme-lathes.com%', false)
            AS spare_parts,
        coalesce(t IN ('page_view', 'video_play', 'download'), false) AS session_type
    FROM pair
),
fev AS MATERIALIZED (
    SELECT
        e.lead_id,
        e.age,
        -- w(e) = 0.5 ^ (age / half_life), age in microseconds
        power(0.5::float8, e.age::float8 / 2592000000000.0::float8) AS w,
        e.pct,
        e.campaign,
        e.session_id,
        f.*
    FROM ev AS e
    JOIN pair_flags AS f ON f.type = e.type AND f.url_key = e.url_key
),
-- ------------------------------------------------------------------ one pass per lead
-- Sums for plain rules, max(w) for `once` (w of the most recent event). Every value
-- may be NULL for a lead without matching events: COALESCE before a cap, since
-- LEAST(cap, NULL) is the cap.
per_lead AS (
    SELECT
        lead_id,
        sum(w) FILTER (WHERE pv) AS page_view,
        sum(w) FILTER (WHERE pricing) AS pricing_page,
        max(w) FILTER (WHERE contact_page) AS contact_page,
        sum(w) FILTER (WHERE vp AND pct >= 75) AS video_watched,
        sum(w) FILTER (WHERE vp AND pct >= 10 AND pct < 75) AS video_sampled,
        sum(w) FILTER (WHERE vp AND pct <= 5) AS video_skipped,
        sum(w) FILTER (WHERE eo) AS email_open,
        sum(w) FILTER (WHERE ec) AS email_click,
        sum(w) FILTER (WHERE brochure) AS brochure,
        max(w) FILTER (WHERE price_list) AS price_list,
        sum(w) FILTER (WHERE form) AS form,
        max(w) FILTER (WHERE newsletter) AS newsletter_signup,
        max(w) FILTER (WHERE webinar) AS webinar,
        max(w) FILTER (WHERE demo) AS demo,
        max(w) FILTER (WHERE careers) AS job_seeker,
        sum(w) FILTER (WHERE shop) AS shop_visitor,
        max(w) FILTER (WHERE unsub) AS unsubscribed,
        min(age) AS last_event_age,
        min(age) FILTER (WHERE web_visit) AS last_web_visit_age,
        sum(w) FILTER (WHERE lathe_page) AS lathe_pages,
        sum(w) FILTER (WHERE lathe_video AND pct >= 50) AS lathe_videos,
        max(w) FILTER (WHERE lathe_catalogue) AS lathe_catalogue,
        sum(w) FILTER (WHERE robot_page) AS robot_pages,
        sum(w) FILTER (WHERE robot_video) AS robot_video,
        max(w) FILTER (WHERE robot_brochure) AS robot_brochure,
        max(w) FILTER (
            WHERE webinar AND pg_temp.norm(campaign) = 'webinar-robot-cells'
        ) AS robot_webinar,
        sum(w) FILTER (WHERE support_page) AS manuals,
        sum(w) FILTER (WHERE spare_parts) AS spare_parts
    FROM fev
    GROUP BY lead_id
),
-- `min_count: 5` without distinct: the age of the 5th most recent e-mail event.
email_engaged AS (
    SELECT lead_id, age AS email_engaged_age
    FROM (
        SELECT lead_id, age, row_number() OVER (PARTITION BY lead_id ORDER BY age) AS n
        FROM fev
        WHERE eo OR ec
    ) AS ranked
    WHERE n = 5
),
-- ------------------------------------------------------------------ distinct: session_id
-- M keeps, per distinct session (trimmed, lower-cased; blank or null = missing, not in
-- M), only the most recent event of M: its youngest age, per rule.
per_session AS MATERIALIZED (
    SELECT
        lead_id,
        min(age) FILTER (WHERE pv) AS pv_age,
        min(age) AS deep_age,
        min(age) FILTER (WHERE support_page) AS support_age
    FROM fev
    WHERE session_type AND pg_temp.norm(session_id) IS NOT NULL
    GROUP BY lead_id, pg_temp.norm(session_id)
),
-- n-th most recent session per rule: a NULL age (the session has no event of the
-- rule) sorts last and is never the n-th of M, because n is checked against the
-- count of non-NULL ages.
session_ranks AS (
    SELECT
        lead_id,
        pv_age,
        deep_age,
        support_age,
        row_number() OVER (PARTITION BY lead_id ORDER BY pv_age NULLS LAST) AS pv_n,
        row_number() OVER (PARTITION BY lead_id ORDER BY deep_age NULLS LAST) AS deep_n,
        row_number() OVER (PARTITION BY lead_id ORDER BY support_age NULLS LAST) AS support_n
    FROM per_session
),
per_lead_sessions AS (
    SELECT
        lead_id,
        sum(power(0.5::float8, pv_age::float8 / 2592000000000.0::float8)) AS active_sessions,
        max(pv_age) FILTER (WHERE pv_n = 3) AS returning_age,
        max(deep_age) FILTER (WHERE deep_n = 10) AS deep_age,
        max(support_age) FILTER (WHERE support_n = 2) AS support_sessions_age
    FROM session_ranks
    GROUP BY lead_id
),
-- ------------------------------------------------------------------ lead fields
-- Trimmed, lower-cased; blank = missing = NULL. A test on NULL is NULL, which CASE
-- treats as false; `not` and the negated tests are written with coalesce(.., false)
-- so that a missing value negates to true only under `not`.
lead AS (
    SELECT
        lead_id,
        pg_temp.norm(job_title) AS jt,
        pg_temp.norm(industry) AS ind,
        pg_temp.norm(country) AS ctry,
        pg_temp.norm(source) AS src,
        pg_temp.norm(email) AS em,
        pg_temp.norm(phone) AS ph,
        company_size AS size,
        CASE WHEN annual_revenue <> 'NaN'::float8 THEN annual_revenue END AS revenue,
        created_at
    FROM leads
),
-- ------------------------------------------------------------------ rule contributions
engagement AS (
    SELECT
        l.lead_id,
        -- `max_points: c` bounds |contribution| by c keeping the sign: LEAST for
        -- positive points, GREATEST(-c, ..) for negative ones (video-skipped).
        least(25, 1 * coalesce(a.page_view, 0))
        + least(30, 5 * coalesce(a.pricing_page, 0))
        + 8 * coalesce(a.contact_page, 0)
        + 10 * coalesce(power(0.5::float8, s.returning_age::float8 / 2592000000000.0::float8), 0)
        + least(20, 2 * coalesce(s.active_sessions, 0))
        + 15 * coalesce(power(0.5::float8, s.deep_age::float8 / 2592000000000.0::float8), 0)
        + least(20, 4 * coalesce(a.video_watched, 0))
        + least(5, 1 * coalesce(a.video_sampled, 0))
        + greatest(-3, -0.5 * coalesce(a.video_skipped, 0))
        + least(5, 0.5 * coalesce(a.email_open, 0))
        + least(15, 3 * coalesce(a.email_click, 0))
        + 5 * coalesce(
            power(0.5::float8, ee.email_engaged_age::float8 / 2592000000000.0::float8), 0
        )
        + least(20, 5 * coalesce(a.brochure, 0))
        + 10 * coalesce(a.price_list, 0)
        + least(30, 10 * coalesce(a.form, 0))
        + 2 * coalesce(a.newsletter_signup, 0)
        + 10 * coalesce(a.webinar, 0)
        + 30 * coalesce(a.demo, 0)
        + -10 * coalesce(a.job_seeker, 0)
        + least(5, 1 * coalesce(a.shop_visitor, 0))
        + -40 * coalesce(a.unsubscribed, 0)
        -- inactivity: points when no event (of the listed types) has 0 <= age < days,
        -- unless created_at is known and later than T - days.
        + CASE
            WHEN coalesce(a.last_event_age < 5184000000000, false)
                OR coalesce(
                    l.created_at > (SELECT current_setting('leadscore.as_of')::timestamptz)
                        - interval '60 days',
                    false
                )
            THEN 0 ELSE -10
          END
        + CASE
            WHEN coalesce(a.last_web_visit_age < 15552000000000, false)
                OR coalesce(
                    l.created_at > (SELECT current_setting('leadscore.as_of')::timestamptz)
                        - interval '180 days',
                    false
                )
            THEN 0 ELSE -5
          END
        AS engagement,
        least(20, 1 * coalesce(a.lathe_pages, 0))
        + 3 * coalesce(a.lathe_videos, 0)
        + 5 * coalesce(a.lathe_catalogue, 0)
        AS interest_lathes,
        least(20, 1 * coalesce(a.robot_pages, 0))
        + 2 * coalesce(a.robot_video, 0)
        + 5 * coalesce(a.robot_brochure, 0)
        + 5 * coalesce(a.robot_webinar, 0)
        AS interest_robotics,
        least(10, 1 * coalesce(a.manuals, 0))
        + least(10, 2 * coalesce(a.spare_parts, 0))
        + 3 * coalesce(
            power(0.5::float8, s.support_sessions_age::float8 / 2592000000000.0::float8), 0
        )
        AS interest_service
    FROM lead AS l
    LEFT JOIN per_lead AS a ON a.lead_id = l.lead_id
    LEFT JOIN per_lead_sessions AS s ON s.lead_id = l.lead_id
    LEFT JOIN email_engaged AS ee ON ee.lead_id = l.lead_id
),
fit AS (
    SELECT
        lead_id,
        ph,
        src,
        CASE
            WHEN jt IN (
                'ceo', 'chief executive officer', 'cfo', 'cto', 'coo', 'founder', 'owner',
                'managing director', 'director general', 'directora general',
                'conseller delegat', 'consejero delegado', 'amministratore delegato',
                'directeur général', 'pdg', 'geschäftsführer', 'diretor geral', 'propietario'
            ) OR jt LIKE 'chief%'
            THEN 25 ELSE 0
        END
        + CASE
            WHEN (
                jt LIKE 'vp%' OR jt LIKE '%vice president%'
                OR jt LIKE 'head of%' OR jt LIKE 'director%'
                OR jt LIKE 'directeur%' OR jt LIKE 'direttore%'
                OR jt LIKE 'diretor%' OR jt LIKE '%leiter%'
                OR jt LIKE '%director'
            ) AND NOT coalesce(
                jt IN ('director general', 'directora general', 'directeur général',
                       'diretor geral'),
                false
            )
            THEN 15 ELSE 0
        END
        + CASE
            WHEN jt LIKE '%manager%' OR jt LIKE 'jefe%'
                OR jt LIKE 'responsabile%' OR jt LIKE 'responsable%'
                OR jt LIKE 'cap de%' OR jt = 'gerente'
            THEN 8 ELSE 0
        END
        + CASE
            WHEN jt IN ('student', 'estudiante', 'estudiant', 'studente', 'étudiant',
                        'intern', 'becario', 'praktikant')
            THEN -30 ELSE 0
        END
        + CASE WHEN jt IS NULL THEN -5 ELSE 0 END
        + CASE
            WHEN ind IN ('manufacturing', 'automotive', 'aerospace', 'metalworking')
            THEN 15 ELSE 0
        END
        + CASE
            WHEN ind IN ('energy', 'food & beverage', 'construction', 'logistics')
            THEN 5 ELSE 0
        END
        + CASE
            WHEN ind IS NOT NULL AND ind NOT IN (
                'manufacturing', 'automotive', 'aerospace', 'metalworking', 'energy',
                'food & beverage', 'construction', 'logistics', 'consulting'
            )
            THEN -10 ELSE 0
        END
        + CASE WHEN size BETWEEN 50 AND 999 THEN 10 ELSE 0 END
        + CASE WHEN size >= 1000 THEN 15 ELSE 0 END
        + CASE WHEN size < 10 THEN -5 ELSE 0 END
        + CASE WHEN revenue > 10000000 THEN 5 ELSE 0 END
        + CASE
            WHEN ctry IN ('spain', 'españa', 'espanya', 'es', 'italy', 'italia', 'it',
                          'portugal', 'pt', 'france', 'fr', 'germany', 'deutschland', 'de')
            THEN 10 ELSE 0
        END
        + CASE WHEN src IN ('trade_show', 'referral', 'partner', 'webinar') THEN 5 ELSE 0 END
        + CASE WHEN src = 'purchased_list' THEN -5 ELSE 0 END
        + CASE WHEN src IS NOT NULL AND src <> 'unknown' THEN 1 ELSE 0 END
        + CASE
            WHEN em LIKE '%@%' AND NOT coalesce(
                em LIKE '%@gmail.com' OR em LIKE '%@yahoo.%'
                OR em LIKE '%@hotmail.%' OR em LIKE '%@outlook.%'
                OR em LIKE '%@gmx.%' OR em LIKE '%@web.de'
                OR em LIKE '%@libero.it' OR em LIKE '%@icloud.com',
                false
            )
            THEN 5 ELSE 0
        END
        + CASE
            WHEN em LIKE 'info@%' OR em LIKE 'sales@%'
                OR em LIKE 'admin@%' OR em LIKE 'contact@%'
            THEN -5 ELSE 0
        END
        + CASE WHEN ph IS NOT NULL AND ph LIKE '+%' THEN 2 ELSE 0 END
        AS fit,
        -- the first `disqualify` entry that holds, in model order
        CASE
            WHEN em LIKE '%@rival-machines.com' THEN 'competitor'
            WHEN em IS NULL THEN 'no-email'
            WHEN em NOT LIKE '%@%' OR em LIKE '%@' OR em LIKE '@%' OR em LIKE '%@@%'
            THEN 'malformed-email'
            WHEN em LIKE '%@example.com' THEN 'test-lead'
            WHEN em LIKE '%@mailinator.com' OR em LIKE '%@guerrillamail.com'
                OR em LIKE '%@10minutemail.com' OR em LIKE '%@yopmail.com'
            THEN 'disposable'
        END AS disqualified_by
    FROM lead
),
scored AS (
    SELECT
        f.lead_id,
        f.fit::float8 AS fit,
        CASE WHEN f.fit >= 50 THEN 'A' WHEN f.fit >= 30 THEN 'B' WHEN f.fit >= 10 THEN 'C'
             ELSE 'D' END AS grade,
        e.engagement::float8 AS engagement,
        CASE WHEN e.engagement >= 40 THEN 1 WHEN e.engagement >= 15 THEN 2
             WHEN e.engagement >= 3 THEN 3 ELSE 4 END AS level,
        greatest(0, least(100, f.fit + e.engagement))::float8 AS score,
        e.interest_lathes::float8 AS interest_lathes,
        e.interest_robotics::float8 AS interest_robotics,
        e.interest_service::float8 AS interest_service,
        f.disqualified_by,
        f.ph,
        f.src
    FROM fit AS f
    JOIN engagement AS e ON e.lead_id = f.lead_id
)
SELECT
    lead_id,
    fit,
    grade,
    engagement,
    level,
    grade || level AS matrix,
    score,
    CASE
        WHEN disqualified_by IS NOT NULL THEN 'disqualified'
        WHEN score >= 70 AND grade IN ('A', 'B') AND engagement >= 30 THEN 'SQL'
        WHEN score >= 50 AND fit >= 20 THEN 'MQL'
        WHEN level IN (1, 2)
            AND (ph IS NOT NULL OR NOT coalesce(src = 'purchased_list', false))
        THEN 'nurture'
        ELSE 'lead'
    END AS stage,
    -- the highest positive interest; ties go to the first declared
    CASE
        WHEN interest_lathes > 0 AND interest_lathes >= interest_robotics
            AND interest_lathes >= interest_service
        THEN 'lathes'
        WHEN interest_robotics > 0 AND interest_robotics >= interest_service THEN 'robotics'
        WHEN interest_service > 0 THEN 'service'
    END AS top_interest,
    interest_lathes,
    interest_robotics,
    interest_service,
    disqualified_by
FROM scored;
