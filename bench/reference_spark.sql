-- Hand-written Spark SQL query of ../shared/bench/model.yaml (SPEC.md §3): the
-- yardstick of `leadscore score --engine spark` in `make bench`. Same model, same
-- results as bench/reference.sql (DuckDB), written the way one would for Spark 4.
--
-- Inputs: temporary views `leads` and `events` over the Parquet files, `events` with
-- its row position in the file as `file_row_number` (bench/reference_spark.py makes
-- them: `SELECT *, _metadata.row_index AS file_row_number FROM parquet.`...``), and a
-- session variable with the instant T:
--   DECLARE OR REPLACE VARIABLE as_of TIMESTAMP DEFAULT TIMESTAMP '2025-06-01 00:00:00Z';
-- The last statement is the query; the ones before it are settings. Statements end
-- with ';' at the end of a line, and no ';' appears anywhere else.
--
-- What differs from the DuckDB query, and why:
-- - No top-n aggregate: the n-th most recent event of a `min_count: n` rule is
--   try_element_at(array_sort(collect_list(age) FILTER (...)), n): collect_list skips
--   NULLs, try_element_at gives NULL when there are fewer than n (ANSI mode is on).
-- - Ages are exact microseconds (unix_micros); the decay weight divides them as
--   DOUBLE (a BIGINT / DECIMAL division would be DECIMAL and round).
-- - The (type, url) pairs are joined with the null-safe `<=>` and broadcast.
--
-- Units: 1 day = 86,400,000,000 us; half-life 30 d = 2,592,000,000,000 us;
-- window 365 d = 31,536,000,000,000 us; inactivity 60 d = 5,184,000,000,000 us and
-- 180 d = 15,552,000,000,000 us.

-- SPEC "trimmed, lower-cased; blank is missing": spaces, tabs, CR and LF removed,
-- Unicode lower-case, '' -> NULL.
CREATE OR REPLACE TEMPORARY FUNCTION norm(s STRING) RETURNS STRING
RETURN nullif(lower(trim(BOTH ' \t\r\n' FROM s)), '');

WITH
-- ------------------------------------------------------------------ event_id de-dup
-- SPEC: de-duplication is global and first (before the as-of, window, type filters
-- and before dropping events of unknown leads); of events sharing an event_id only
-- the earliest counts; an event without event_id always counts. Ties between copies
-- with the same earliest timestamp (the SPEC expects copies to be identical) are
-- broken by position in the file, so the result never depends on the plan.
repeated_ids AS (
    -- A window over all ids ordered globally would run in one task; a grouped count
    -- is spread over every core.
    SELECT event_id
    FROM events
    WHERE event_id IS NOT NULL
    GROUP BY event_id
    HAVING count(*) > 1
),
kept_copy AS (
    SELECT event_id, min(named_struct('ts', `timestamp`, 'row', file_row_number)).row AS keep_row
    FROM events
    LEFT SEMI JOIN repeated_ids USING (event_id)
    GROUP BY event_id
),
-- ------------------------------------------------------------------ events in scope
-- 0 <= age < window (365 d). Events after T have age < 0; an event exactly 365 d old
-- is outside, one at T is inside with age 0. The inactivity rules look at events of
-- any age >= 0, but only ask whether one is younger than 60 or 180 days, both inside
-- the window, so the window filter loses nothing they need.
ev AS (
    SELECT
        e.lead_id,
        e.type,
        e.url,
        -- a float NaN is a missing value (SPEC, edge cases); Spark orders NaN above
        -- every number (and NaN = NaN), so `NaN >= 75` would be true without this.
        CASE WHEN NOT isnan(e.percent) THEN e.percent END AS pct,
        e.session_id,
        e.campaign,
        unix_micros(as_of) - unix_micros(e.`timestamp`) AS age
    FROM events AS e
    LEFT JOIN kept_copy AS k ON k.event_id = e.event_id
    WHERE (k.event_id IS NULL OR k.keep_row = e.file_row_number)
      AND unix_micros(e.`timestamp`) <= unix_micros(as_of)
      AND unix_micros(e.`timestamp`) > unix_micros(as_of) - 31536000000000
),
-- ------------------------------------------------------------------ (type, url) tests
-- Every event condition that reads only `type` and `url`, evaluated once per distinct
-- pair. Types compare as trimmed, lower-cased text; string tests trim spaces, tabs,
-- CR and LF and lower-case both sides; a missing (null or blank) url fails every
-- test, `not_contains` included ("present and not containing").
pair AS (
    -- every pair of the file, de-dup and window aside: a superset of the pairs in ev
    -- is as good for the join, and cheaper than filtering first. The join reads it
    -- broadcast (a hint below): it has a few dozen rows.
    SELECT type, url, norm(type) AS t, norm(url) AS u
    FROM (SELECT DISTINCT type, url FROM events)
),
pair_flags AS (
    SELECT
        type,
        url,
        t = 'page_view' AS pv,
        t = 'video_play' AS vp,
        t = 'download' AS dl,
        t = 'email_open' AS eo,
        t = 'email_click' AS ec,
        t = 'webinar' AS webinar,
        t = 'demo_request' AS demo,
        t = 'unsubscribe' AS unsub,
        t IN ('page_view', 'form_submit', 'demo_request') AS web_visit,
        coalesce(t = 'page_view' AND contains(u, '/pricing'), false) AS pricing,
        coalesce(t = 'page_view' AND contains(u, '/contact'), false) AS contact_page,
        coalesce(t = 'download' AND endswith(u, '.pdf'), false) AS brochure,
        coalesce(t = 'download' AND contains(u, 'price-list'), false) AS price_list,
        coalesce(t = 'form_submit' AND NOT contains(u, '/newsletter'), false) AS form,
        coalesce(t = 'form_submit' AND contains(u, '/newsletter'), false) AS newsletter,
        coalesce(t = 'page_view' AND contains(u, '/careers'), false) AS careers,
        coalesce(t = 'page_view' AND startswith(u, 'https://shop.'), false) AS shop,
        coalesce(
            t IN ('page_view', 'email_click')
            AND (contains(u, '/lathes') OR contains(u, '/tornos') OR contains(u, '/torni')),
            false
        ) AS lathe_page,
        coalesce(t = 'video_play' AND contains(u, 'lathes'), false) AS lathe_video,
        coalesce(t = 'download' AND contains(u, 'lathes-catalogue'), false) AS lathe_catalogue,
        coalesce(t IN ('page_view', 'email_click') AND contains(u, '/robotic-lines'), false)
            AS robot_page,
        coalesce(t = 'video_play' AND contains(u, 'robotic'), false) AS robot_video,
        coalesce(t = 'download' AND contains(u, 'robotic'), false) AS robot_brochure,
        coalesce(t = 'page_view' AND contains(u, '/support/'), false) AS support_page,
        coalesce(t = 'page_view' AND startswith(u, 'https://shop.acme-lathes.com'), false)
            AS spare_parts,
        t IN ('page_view', 'video_play', 'download') AS session_type
    FROM pair
),
fev AS (
    SELECT /*+ BROADCAST(f) */
        e.lead_id,
        e.age,
        -- w(e) = 0.5 ^ (age / half_life), age in microseconds
        pow(0.5D, CAST(e.age AS DOUBLE) / 2592000000000D) AS w,
        e.pct,
        e.campaign,
        e.session_id,
        f.*
    FROM ev AS e
    JOIN pair_flags AS f ON e.type <=> f.type AND e.url <=> f.url
),
-- ------------------------------------------------------------------ one pass per lead
-- Sums for plain rules, max(w) for `once` (w of the most recent event), the n-th of
-- the sorted ages for `min_count: n` (the n-th most recent event; NULL when fewer).
-- Every value may be NULL for a lead without matching events: COALESCE before a cap,
-- since LEAST(cap, NULL) is the cap.
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
        try_element_at(array_sort(collect_list(age) FILTER (WHERE eo OR ec)), 5)
            AS email_engaged_age,
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
            WHERE webinar AND norm(campaign) = 'webinar-robot-cells'
        ) AS robot_webinar,
        sum(w) FILTER (WHERE support_page) AS manuals,
        sum(w) FILTER (WHERE spare_parts) AS spare_parts
    FROM fev
    GROUP BY lead_id
),
-- ------------------------------------------------------------------ distinct: session_id
-- M keeps, per distinct session (trimmed, lower-cased; blank or null = missing, not in
-- M), only the most recent event of M: its youngest age, per rule.
per_session AS (
    SELECT
        lead_id,
        min(age) FILTER (WHERE pv) AS pv_age,
        min(age) AS deep_age,
        min(age) FILTER (WHERE support_page) AS support_age
    FROM fev
    WHERE session_type AND session_id IS NOT NULL AND norm(session_id) IS NOT NULL
    GROUP BY lead_id, norm(session_id)
),
per_lead_sessions AS (
    SELECT
        lead_id,
        sum(pow(0.5D, CAST(pv_age AS DOUBLE) / 2592000000000D)) AS active_sessions,
        try_element_at(array_sort(collect_list(pv_age)), 3) AS returning_age,
        try_element_at(array_sort(collect_list(deep_age)), 10) AS deep_age,
        try_element_at(array_sort(collect_list(support_age)), 2)
            AS support_sessions_age
    FROM per_session
    GROUP BY lead_id
),
-- ------------------------------------------------------------------ lead fields
-- Trimmed (spaces, tabs, CR, LF), lower-cased; blank = missing = NULL. A test on NULL
-- is NULL, which CASE treats as false; `not` and the negated tests are written with
-- coalesce(.., false) so that a missing value negates to true only under `not`
-- (`ne`/`not_in`/`not_contains` are "present and not ...").
lead AS (
    SELECT
        lead_id,
        norm(job_title) AS jt,
        norm(industry) AS ind,
        norm(country) AS ctry,
        norm(source) AS src,
        norm(email) AS em,
        norm(phone) AS ph,
        company_size AS size,
        CASE WHEN NOT isnan(annual_revenue) THEN annual_revenue END AS revenue,
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
        + 10 * coalesce(pow(0.5D, CAST(s.returning_age AS DOUBLE) / 2592000000000D), 0)
        + least(20, 2 * coalesce(s.active_sessions, 0))
        + 15 * coalesce(pow(0.5D, CAST(s.deep_age AS DOUBLE) / 2592000000000D), 0)
        + least(20, 4 * coalesce(a.video_watched, 0))
        + least(5, 1 * coalesce(a.video_sampled, 0))
        + greatest(-3, -0.5 * coalesce(a.video_skipped, 0))
        + least(5, 0.5 * coalesce(a.email_open, 0))
        + least(15, 3 * coalesce(a.email_click, 0))
        + 5 * coalesce(pow(0.5D, CAST(a.email_engaged_age AS DOUBLE) / 2592000000000D), 0)
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
                    unix_micros(l.created_at) > unix_micros(as_of) - 5184000000000,
                    false
                )
            THEN 0 ELSE -10
          END
        + CASE
            WHEN coalesce(a.last_web_visit_age < 15552000000000, false)
                OR coalesce(
                    unix_micros(l.created_at) > unix_micros(as_of) - 15552000000000,
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
        + 3 * coalesce(pow(0.5D, CAST(s.support_sessions_age AS DOUBLE) / 2592000000000D), 0)
        AS interest_service
    FROM lead AS l
    LEFT JOIN per_lead AS a ON a.lead_id = l.lead_id
    LEFT JOIN per_lead_sessions AS s ON s.lead_id = l.lead_id
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
            ) OR startswith(jt, 'chief')
            THEN 25 ELSE 0
        END
        + CASE
            WHEN (
                startswith(jt, 'vp') OR contains(jt, 'vice president')
                OR startswith(jt, 'head of') OR startswith(jt, 'director')
                OR startswith(jt, 'directeur') OR startswith(jt, 'direttore')
                OR startswith(jt, 'diretor') OR contains(jt, 'leiter')
                OR endswith(jt, 'director')
            ) AND NOT coalesce(
                jt IN ('director general', 'directora general', 'directeur général',
                       'diretor geral'),
                false
            )
            THEN 15 ELSE 0
        END
        + CASE
            WHEN contains(jt, 'manager') OR startswith(jt, 'jefe')
                OR startswith(jt, 'responsabile') OR startswith(jt, 'responsable')
                OR startswith(jt, 'cap de') OR jt = 'gerente'
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
            WHEN contains(em, '@') AND NOT coalesce(
                endswith(em, '@gmail.com') OR contains(em, '@yahoo.')
                OR contains(em, '@hotmail.') OR contains(em, '@outlook.')
                OR contains(em, '@gmx.') OR endswith(em, '@web.de')
                OR endswith(em, '@libero.it') OR endswith(em, '@icloud.com'),
                false
            )
            THEN 5 ELSE 0
        END
        + CASE
            WHEN startswith(em, 'info@') OR startswith(em, 'sales@')
                OR startswith(em, 'admin@') OR startswith(em, 'contact@')
            THEN -5 ELSE 0
        END
        + CASE WHEN ph IS NOT NULL AND startswith(ph, '+') THEN 2 ELSE 0 END
        AS fit,
        -- the first `disqualify` entry that holds, in model order
        CASE
            WHEN endswith(em, '@rival-machines.com') THEN 'competitor'
            WHEN em IS NULL THEN 'no-email'
            WHEN NOT contains(em, '@') OR endswith(em, '@') OR startswith(em, '@')
                OR contains(em, '@@')
            THEN 'malformed-email'
            WHEN endswith(em, '@example.com') THEN 'test-lead'
            WHEN endswith(em, '@mailinator.com') OR endswith(em, '@guerrillamail.com')
                OR endswith(em, '@10minutemail.com') OR endswith(em, '@yopmail.com')
            THEN 'disposable'
        END AS disqualified_by
    FROM lead
),
scored AS (
    SELECT
        f.lead_id,
        CAST(f.fit AS DOUBLE) AS fit,
        CASE WHEN f.fit >= 50 THEN 'A' WHEN f.fit >= 30 THEN 'B' WHEN f.fit >= 10 THEN 'C'
             ELSE 'D' END AS grade,
        e.engagement,
        CASE WHEN e.engagement >= 40 THEN 1 WHEN e.engagement >= 15 THEN 2
             WHEN e.engagement >= 3 THEN 3 ELSE 4 END AS level,
        greatest(0, least(100, f.fit + e.engagement)) AS score,
        e.interest_lathes,
        e.interest_robotics,
        e.interest_service,
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
    grade || CAST(level AS STRING) AS matrix,
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
