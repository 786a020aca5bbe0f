-- Analytics and reporting: the full usage report, BI views, exports,
-- materialized monthly summaries, reconciliation with the Admin API cost
-- report and a self-contained HTML report.
--
-- Every report reads claudecost.usage_hourly (UTC hours).  A report in
-- another time zone attributes each hour bucket to the local day that
-- contains the start of the hour.  In a zone with a half-hour offset
-- (Asia/Kolkata, UTC+05:30) the bucket 18:00-19:00 UTC starts at 23:30
-- local time, so it belongs to that day, even for a request made at
-- 18:45 UTC (00:15 local).  A report period [start_time, end_time)
-- contains the hour buckets whose start lies in it.
--
-- Two features need row detail that the hourly rollup does not keep:
-- repeated prompts (usage.prompt_hash) and requests just over a
-- long-context threshold.  Small auxiliary rollups keep it:
-- usage_analytics_prompt per UTC day and prompt hash (a report counts the
-- days that start in its period) and usage_analytics_long_context per UTC
-- hour.  The rollup trigger of usage (claudecost.usage_rollup(), see
-- src/rollup_trigger.c) maintains them with usage_hourly.
--
-- Report functions run with jit = off and without parallel workers: they
-- read rollups of some thousand rows, where compiling expressions or
-- starting worker processes (some 15 ms) costs more than it saves.

------------------------------------------------------------------------
-- Auxiliary rollups
------------------------------------------------------------------------

-- Daily rollup of usage per UTC day, model, user, project and service tier
-- ('' for NULL), with every token and cost column of usage_hourly.  Reports
-- read it for the whole UTC days of a period and usage_hourly for the hours
-- at its edges, so a month is some thirty rows per dimension combination
-- instead of some seven hundred.
CREATE TABLE claudecost.usage_analytics_daily (
    day date NOT NULL,
    model text NOT NULL,
    user_id text NOT NULL,
    project_id text NOT NULL,
    service_tier text NOT NULL,
    requests bigint NOT NULL DEFAULT 0,
    unpriced_requests bigint NOT NULL DEFAULT 0,
    input_tokens numeric NOT NULL DEFAULT 0,
    output_tokens numeric NOT NULL DEFAULT 0,
    cache_write_5m_tokens numeric NOT NULL DEFAULT 0,
    cache_write_1h_tokens numeric NOT NULL DEFAULT 0,
    cache_read_tokens numeric NOT NULL DEFAULT 0,
    input_cost numeric NOT NULL DEFAULT 0,
    output_cost numeric NOT NULL DEFAULT 0,
    cache_write_cost numeric NOT NULL DEFAULT 0,
    cache_read_cost numeric NOT NULL DEFAULT 0,
    tool_cost numeric NOT NULL DEFAULT 0,
    total_cost numeric NOT NULL DEFAULT 0,
    CONSTRAINT usage_analytics_daily_key UNIQUE (day, model, user_id, project_id, service_tier)
)
-- Updated in place by every usage statement, as usage_hourly.
WITH (fillfactor = 70);

COMMENT ON TABLE claudecost.usage_analytics_daily IS
    'Exact rollup of claudecost.usage per UTC day, model, user, project and service tier, for reports';

-- Requests per project, UTC day, prompt hash and model; rows without a
-- prompt_hash are not counted.  A prompt counts as repeated within one
-- project: two projects sending the same prompt are two prompts.  project_id
-- is '' for rows without a project, as in usage_hourly, and comes last
-- because it was added in 1.1.  Reports do not read it: they read the per-day sums in
-- usage_analytics_prompt_day, whose size does not grow with the number of
-- distinct prompts.
CREATE TABLE claudecost.usage_analytics_prompt (
    day date NOT NULL,
    prompt_hash text NOT NULL,
    model text NOT NULL,
    requests bigint NOT NULL DEFAULT 0,
    input_tokens numeric NOT NULL DEFAULT 0,
    cache_read_tokens numeric NOT NULL DEFAULT 0,
    input_cost numeric NOT NULL DEFAULT 0,
    total_cost numeric NOT NULL DEFAULT 0,
    project_id text NOT NULL DEFAULT '',
    CONSTRAINT usage_analytics_prompt_key UNIQUE (project_id, day, prompt_hash, model)
);

COMMENT ON TABLE claudecost.usage_analytics_prompt IS
    'Requests, input tokens and USD cost per project, UTC day, prompt hash and model, for repeated-prompt analysis';

-- Per project, UTC day and model, sums over the prompts sent more than once
-- that day (n requests each): prompt_days counts them, repeats sums n - 1,
-- repeat_cost sums total cost x (n - 1) / n.  The uncached_* columns cover
-- the prompts whose input tokens exceed their cache-read tokens: input cost
-- x (n - 1) / n of the repeats and input cost / n of one request.
CREATE TABLE claudecost.usage_analytics_prompt_day (
    day date NOT NULL,
    model text NOT NULL,
    prompt_days bigint NOT NULL DEFAULT 0,
    repeats numeric NOT NULL DEFAULT 0,
    repeat_cost numeric NOT NULL DEFAULT 0,
    uncached_repeat_input_cost numeric NOT NULL DEFAULT 0,
    uncached_first_input_cost numeric NOT NULL DEFAULT 0,
    project_id text NOT NULL DEFAULT '',
    CONSTRAINT usage_analytics_prompt_day_key UNIQUE (project_id, day, model)
);

COMMENT ON TABLE claudecost.usage_analytics_prompt_day IS
    'Repeated prompts per project, UTC day and model: count, repeats and their USD cost, for reports';

-- Requests billed at a long-context tier whose prompt (input + cache writes
-- + cache reads) is at most 10% over the threshold of their price row.
-- base_cost is what the same tokens cost at the standard-context rates.
CREATE TABLE claudecost.usage_analytics_long_context (
    hour timestamptz NOT NULL,
    model text NOT NULL,
    long_context_threshold bigint NOT NULL,
    requests bigint NOT NULL DEFAULT 0,
    prompt_tokens numeric NOT NULL DEFAULT 0,
    total_cost numeric NOT NULL DEFAULT 0,
    base_cost numeric NOT NULL DEFAULT 0,
    project_id text NOT NULL DEFAULT '',
    CONSTRAINT usage_analytics_long_context_key UNIQUE (project_id, hour, model, long_context_threshold)
);

COMMENT ON TABLE claudecost.usage_analytics_long_context IS
    'Long-context requests at most 10% over the threshold, per project, UTC hour and model, with their cost at standard rates';

-- Repeated-prompt sums of one usage_analytics_prompt row (see
-- usage_analytics_prompt_day): prompt_days, repeats, repeat_cost,
-- uncached_repeat_input_cost, uncached_first_input_cost.  Not STRICT, so
-- that the planner can inline it into the trigger's statement.
CREATE FUNCTION claudecost.usage_analytics_repeat(requests numeric, input_tokens numeric,
                                                  cache_read_tokens numeric, input_cost numeric,
                                                  total_cost numeric)
RETURNS numeric[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN requests OPERATOR(pg_catalog.>) 1 THEN
               ARRAY[1, requests OPERATOR(pg_catalog.-) 1,
                     (total_cost OPERATOR(pg_catalog.*) (requests OPERATOR(pg_catalog.-) 1))
                         OPERATOR(pg_catalog./) requests,
                     CASE WHEN input_tokens OPERATOR(pg_catalog.>) cache_read_tokens
                          THEN (input_cost OPERATOR(pg_catalog.*) (requests OPERATOR(pg_catalog.-) 1))
                               OPERATOR(pg_catalog./) requests
                          ELSE 0 END,
                     CASE WHEN input_tokens OPERATOR(pg_catalog.>) cache_read_tokens
                          THEN input_cost OPERATOR(pg_catalog./) requests ELSE 0 END]
           ELSE ARRAY[0, 0, 0, 0, 0]::pg_catalog.numeric[] END
$$;

-- Compares the analytics rollups with aggregates of the raw usage rows, and
-- usage_analytics_prompt_day with a recomputation from
-- usage_analytics_prompt.  Returns every key whose figures differ, so no
-- rows means they are exact.  A key ends with its project unless that is
-- ''.  It scans the whole ledger: for tests and audits, not for reports.
CREATE FUNCTION claudecost.verify_analytics_rollups()
RETURNS TABLE (rollup text, key text, stored text, expected text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH daily_raw AS (
        SELECT (u.occurred_at AT TIME ZONE 'UTC')::date AS day, u.model, coalesce(u.user_id, '') AS user_id,
               coalesce(u.project_id, '') AS project_id, u.service_tier,
               count(*) AS requests, count(*) FILTER (WHERE u.total_cost IS NULL) AS unpriced_requests,
               sum(u.input_tokens::numeric + u.output_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens
                   + u.cache_read_tokens) AS tokens,
               coalesce(sum(u.input_cost), 0) AS input_cost, coalesce(sum(u.cache_write_cost), 0) AS cache_write_cost,
               coalesce(sum(u.tool_cost), 0) AS tool_cost, coalesce(sum(u.total_cost), 0) AS total_cost
        FROM claudecost.usage u
        GROUP BY 1, 2, 3, 4, 5
    ),
    daily_stored AS (
        SELECT a.day, a.model, a.user_id, a.project_id, a.service_tier, a.requests, a.unpriced_requests,
               a.input_tokens + a.output_tokens + a.cache_write_5m_tokens + a.cache_write_1h_tokens
               + a.cache_read_tokens AS tokens,
               a.input_cost, a.cache_write_cost, a.tool_cost, a.total_cost
        FROM claudecost.usage_analytics_daily a
        WHERE a.requests <> 0
    ),
    prompt_raw AS (
        SELECT coalesce(u.project_id, '') AS project_id, (u.occurred_at AT TIME ZONE 'UTC')::date AS day,
               u.prompt_hash, u.model, count(*) AS requests,
               sum(u.input_tokens) AS input_tokens, sum(u.cache_read_tokens) AS cache_read_tokens,
               coalesce(sum(u.input_cost), 0) AS input_cost, coalesce(sum(u.total_cost), 0) AS total_cost
        FROM claudecost.usage u
        WHERE u.prompt_hash IS NOT NULL
        GROUP BY 1, 2, 3, 4
    ),
    prompt_day_expected AS (
        SELECT a.project_id, a.day, a.model, sum(x.sums[1]) AS prompt_days, sum(x.sums[2]) AS repeats,
               sum(x.sums[3]) AS repeat_cost, sum(x.sums[4]) AS uncached_repeat_input_cost,
               sum(x.sums[5]) AS uncached_first_input_cost
        FROM claudecost.usage_analytics_prompt a
        CROSS JOIN LATERAL (SELECT claudecost.usage_analytics_repeat(a.requests, a.input_tokens,
                                                                     a.cache_read_tokens, a.input_cost,
                                                                     a.total_cost) AS sums) x
        GROUP BY a.project_id, a.day, a.model
        HAVING sum(x.sums[1]) <> 0
    )
    SELECT 'usage_analytics_daily',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.model, r.model), coalesce(s.user_id, r.user_id),
                     coalesce(s.project_id, r.project_id), coalesce(s.service_tier, r.service_tier)),
           row(s.requests, s.unpriced_requests, s.tokens, s.input_cost, s.cache_write_cost, s.tool_cost,
               s.total_cost)::text,
           row(r.requests, r.unpriced_requests, r.tokens, r.input_cost, r.cache_write_cost, r.tool_cost,
               r.total_cost)::text
    FROM daily_stored s
    FULL JOIN daily_raw r USING (day, model, user_id, project_id, service_tier)
    WHERE row(s.requests, s.unpriced_requests, s.tokens, s.input_cost, s.cache_write_cost, s.tool_cost, s.total_cost)
          IS DISTINCT FROM
          row(r.requests, r.unpriced_requests, r.tokens, r.input_cost, r.cache_write_cost, r.tool_cost, r.total_cost)
    UNION ALL
    SELECT 'usage_analytics_prompt',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.prompt_hash, r.prompt_hash), coalesce(s.model, r.model),
                     NULLIF(coalesce(s.project_id, r.project_id), '')),
           row(s.requests, s.input_tokens, s.cache_read_tokens, s.input_cost, s.total_cost)::text,
           row(r.requests, r.input_tokens, r.cache_read_tokens, r.input_cost, r.total_cost)::text
    FROM (SELECT * FROM claudecost.usage_analytics_prompt a WHERE a.requests <> 0) s
    FULL JOIN prompt_raw r USING (project_id, day, prompt_hash, model)
    WHERE row(s.requests, s.input_tokens, s.cache_read_tokens, s.input_cost, s.total_cost)
          IS DISTINCT FROM row(r.requests, r.input_tokens, r.cache_read_tokens, r.input_cost, r.total_cost)
    UNION ALL
    SELECT 'usage_analytics_prompt_day',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.model, r.model), NULLIF(coalesce(s.project_id, r.project_id), '')),
           row(s.prompt_days, s.repeats, s.repeat_cost, s.uncached_repeat_input_cost,
               s.uncached_first_input_cost)::text,
           row(r.prompt_days, r.repeats, r.repeat_cost, r.uncached_repeat_input_cost,
               r.uncached_first_input_cost)::text
    FROM (SELECT * FROM claudecost.usage_analytics_prompt_day a WHERE a.prompt_days <> 0) s
    FULL JOIN prompt_day_expected r USING (project_id, day, model)
    WHERE row(s.prompt_days, s.repeats, s.repeat_cost, s.uncached_repeat_input_cost, s.uncached_first_input_cost)
          IS DISTINCT FROM
          row(r.prompt_days, r.repeats, r.repeat_cost, r.uncached_repeat_input_cost, r.uncached_first_input_cost)
$$;

COMMENT ON FUNCTION claudecost.verify_analytics_rollups() IS
    'Keys whose analytics rollup figures differ from the raw usage rows; empty when exact';


------------------------------------------------------------------------
-- Helpers
------------------------------------------------------------------------

-- Returns end_time after checking that [start_time, end_time) has finite
-- bounds and spans at most 36525 days (100 Julian years).  Reports build one
-- row per local day and one per UTC hour of their period (876,600 hours in
-- 100 years), and a period such as [0001-01-01, 9999-12-31) filled the
-- temporary file space.  The SQL functions that build a day or hour series
-- pass their end bound through it.
CREATE FUNCTION claudecost.report_period_end(start_time timestamptz, end_time timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_catalog.isfinite(start_time) OR NOT pg_catalog.isfinite(end_time) THEN
        RAISE EXCEPTION 'invalid report period [%, %)', start_time, end_time
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A report period needs finite bounds.';
    END IF;
    IF EXTRACT(epoch FROM end_time) - EXTRACT(epoch FROM start_time) > 36525 * 86400::numeric THEN
        RAISE EXCEPTION 'report period [%, %) is too long', start_time, end_time
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('A report period spans at most 36525 days (100 years), and this one spans %s days.',
                                             pg_catalog.floor((EXTRACT(epoch FROM end_time)
                                                               - EXTRACT(epoch FROM start_time)) / 86400)),
                  HINT = 'Split the period into reports of at most 100 years.';
    END IF;
    RETURN end_time;
END;
$$;

COMMENT ON FUNCTION claudecost.report_period_end(timestamptz, timestamptz) IS
    'end_time, after checking that the report period has finite bounds and spans at most 36525 days (100 years)';

-- Raises an error unless [start_time, end_time) is a non-empty period of at
-- most 100 years (see report_period_end) and time_zone is a time zone name PostgreSQL recognizes.  PARALLEL UNSAFE, as
-- every function that calls it: its EXCEPTION block starts a
-- subtransaction, which a parallel query cannot.
CREATE FUNCTION claudecost.report_check_period(start_time timestamptz, end_time timestamptz,
                                               time_zone text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF start_time IS NULL OR end_time IS NULL OR time_zone IS NULL THEN
        RAISE EXCEPTION 'report period and time zone must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(start_time) OR NOT pg_catalog.isfinite(end_time) THEN
        RAISE EXCEPTION 'invalid report period [%, %)', start_time, end_time
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A report period needs finite bounds.';
    END IF;
    IF end_time <= start_time THEN
        RAISE EXCEPTION 'invalid report period [%, %)', start_time, end_time
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass an end_time later than start_time.';
    END IF;
    PERFORM claudecost.report_period_end(start_time, end_time);
    -- Converting a time checks the name the way every report uses it;
    -- scanning pg_timezone_names would read the whole zone database.
    BEGIN
        PERFORM start_time AT TIME ZONE time_zone;
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'unrecognized time zone "%"', time_zone
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a name from pg_timezone_names, such as Europe/Berlin.';
    END;
END;
$$;

-- One field of a CSV record as RFC 4180 writes it: quoted when it contains
-- a comma, a double quote, CR or LF, with inner quotes doubled.
CREATE FUNCTION claudecost.csv_field(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value IS NULL THEN ''
        WHEN value OPERATOR(pg_catalog.~) '[",\r\n]'
            THEN '"' OPERATOR(pg_catalog.||) pg_catalog.replace(value, '"', '""') OPERATOR(pg_catalog.||) '"'
        ELSE value
    END
$$;

COMMENT ON FUNCTION claudecost.csv_field(text) IS
    'A value as one RFC 4180 CSV field, quoted when needed; NULL becomes an empty field';

-- Text with the five HTML special characters escaped.
CREATE FUNCTION claudecost.html_escape(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(coalesce(value, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
           '"', '&quot;'), '''', '&#39;')
$$;

COMMENT ON FUNCTION claudecost.html_escape(text) IS
    'Text with &, <, >, double and single quotes escaped for HTML; NULL becomes an empty string';

------------------------------------------------------------------------
-- Optimization opportunities
------------------------------------------------------------------------

-- Rollup rows of a period for reports: usage_analytics_daily for the whole
-- UTC days inside [start_time, end_time) and usage_hourly for the hours
-- before the first and after the last whole day.  bucket is the start of
-- the day or hour.
CREATE FUNCTION claudecost.report_rows(start_time timestamptz, end_time timestamptz)
RETURNS TABLE (bucket timestamptz, model text, user_id text, project_id text, service_tier text,
               requests bigint, unpriced_requests bigint, input_tokens numeric, output_tokens numeric,
               cache_write_5m_tokens numeric, cache_write_1h_tokens numeric, cache_read_tokens numeric,
               input_cost numeric, output_cost numeric, cache_write_cost numeric,
               cache_read_cost numeric, tool_cost numeric, total_cost numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $$
    -- first_day and last_day: the first and the end of the whole UTC days
    -- in the period.  They are written out in each condition (not joined
    -- from a CTE) so that the planner scans usage_hourly's index ranges.
    SELECT a.day::timestamp AT TIME ZONE 'UTC', a.model, a.user_id, a.project_id, a.service_tier,
           a.requests, a.unpriced_requests, a.input_tokens, a.output_tokens, a.cache_write_5m_tokens,
           a.cache_write_1h_tokens, a.cache_read_tokens, a.input_cost, a.output_cost,
           a.cache_write_cost, a.cache_read_cost, a.tool_cost, a.total_cost
    FROM claudecost.usage_analytics_daily a
    WHERE a.day >= (start_time AT TIME ZONE 'UTC' - interval '1 microsecond')::date + 1
      AND a.day < (end_time AT TIME ZONE 'UTC')::date
      AND a.requests <> 0
    UNION ALL
    -- Hours before the first whole day, or the whole period without one.
    SELECT h.hour, h.model, h.user_id, h.project_id, h.service_tier,
           h.requests, h.unpriced_requests, h.input_tokens, h.output_tokens, h.cache_write_5m_tokens,
           h.cache_write_1h_tokens, h.cache_read_tokens, h.input_cost, h.output_cost,
           h.cache_write_cost, h.cache_read_cost, h.tool_cost, h.total_cost
    FROM claudecost.usage_hourly h
    WHERE h.hour >= start_time
      AND h.hour < least(end_time,
                         pg_catalog.date_trunc('day', start_time - interval '1 microsecond', 'UTC') + interval '1 day')
      AND h.requests <> 0
    UNION ALL
    -- Hours after the last whole day.
    SELECT h.hour, h.model, h.user_id, h.project_id, h.service_tier,
           h.requests, h.unpriced_requests, h.input_tokens, h.output_tokens, h.cache_write_5m_tokens,
           h.cache_write_1h_tokens, h.cache_read_tokens, h.input_cost, h.output_cost,
           h.cache_write_cost, h.cache_read_cost, h.tool_cost, h.total_cost
    FROM claudecost.usage_hourly h
    WHERE h.hour >= greatest(pg_catalog.date_trunc('day', end_time, 'UTC'),
                             pg_catalog.date_trunc('day', start_time - interval '1 microsecond', 'UTC')
                             + interval '1 day')
      AND h.hour < end_time
      AND h.requests <> 0
$$;

COMMENT ON FUNCTION claudecost.report_rows(timestamptz, timestamptz) IS
    'Rollup rows of a period for reports: daily rows for its whole UTC days, hourly rows for the hours at its edges';

-- Savings opportunities found in the usage of [start_time, end_time), as a
-- jsonb array sorted by potential_savings (USD, largest first).  Each
-- element has type, description, potential_savings, savings_basis (how the
-- figure was computed), effort and recommendations.  The figures are
-- estimates from the rollups: they re-rate tokens with the published rates
-- and ignore effects such as longer output from a smaller model.
CREATE FUNCTION claudecost.usage_opportunities(start_time timestamptz, end_time timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $$
    WITH h AS (
        SELECT r.*, r.bucket AS hour,
               r.input_tokens + r.output_tokens + r.cache_write_5m_tokens
               + r.cache_write_1h_tokens + r.cache_read_tokens AS tokens
        FROM claudecost.report_rows(start_time, end_time) r
    ),
    -- Prompts sent more than once on one UTC day (same prompt_hash and
    -- model), over the days that start in the period.  Repeats on
    -- different days are not counted: the prompt cache lives 5 minutes or
    -- 1 hour, and per-day sums keep this part independent of the number
    -- of distinct prompts.
    prompt AS (
        SELECT a.model, a.day::timestamp AT TIME ZONE 'UTC' AS first_hour, a.prompt_days, a.repeats,
               a.repeat_cost, a.uncached_repeat_input_cost, a.uncached_first_input_cost
        FROM claudecost.usage_analytics_prompt_day a
        WHERE a.day >= (start_time AT TIME ZONE 'UTC' - interval '1 microsecond')::date + 1
          AND a.day < (end_time AT TIME ZONE 'UTC' - interval '1 microsecond')::date + 1
          AND a.prompt_days <> 0
    ),
    -- Standard-speed price periods of every model in the period, keyed by
    -- the model name as usage spells it.  Joining on the period is the
    -- set form of claudecost.price_id_for().
    rate AS (
        SELECT m.model, p.effective_from, coalesce(p.effective_to, 'infinity') AS effective_to,
               p.input_per_mtok, p.output_per_mtok,
               coalesce(p.cache_write_5m_per_mtok, p.input_per_mtok) AS cache_write_5m_per_mtok,
               coalesce(p.cache_write_1h_per_mtok, p.input_per_mtok) AS cache_write_1h_per_mtok,
               coalesce(p.cache_read_per_mtok, p.input_per_mtok) AS cache_read_per_mtok,
               p.batch_multiplier
        FROM (SELECT DISTINCT h.model FROM h UNION SELECT pr.model FROM prompt pr) m
        JOIN claudecost.price p ON p.model = claudecost.resolve_model(m.model) AND p.speed = 'standard'
    ),
    -- Models used in the period with their standard input rate at first use.
    used_model AS (
        SELECT h.model, min(h.hour) AS first_hour
        FROM h WHERE h.total_cost > 0 GROUP BY h.model
    ),
    model_rate AS (
        SELECT m.model, r.input_per_mtok
        FROM used_model m
        JOIN rate r ON r.model = m.model AND m.first_hour >= r.effective_from AND m.first_hour < r.effective_to
    ),
    cheapest AS (
        SELECT r.model, r.input_per_mtok FROM model_rate r
        ORDER BY r.input_per_mtok, r.model COLLATE "C" LIMIT 1
    ),
    -- Rollup rows (a UTC day, or an hour at the period's edges) of a model
    -- at least 3x the cheapest model's input rate that average at most 500
    -- output tokens per request.  The cheaper
    -- model, already in use, could likely produce such short output.
    downgrade AS (
        SELECT h.model, c.model AS cheaper_model, sum(h.requests) AS requests,
               sum(h.total_cost) AS cost,
               sum(h.total_cost - h.tool_cost
                   - (h.input_tokens * p.input_per_mtok + h.output_tokens * p.output_per_mtok
                      + h.cache_write_5m_tokens * p.cache_write_5m_per_mtok
                      + h.cache_write_1h_tokens * p.cache_write_1h_per_mtok
                      + h.cache_read_tokens * p.cache_read_per_mtok)
                     / 1000000
                     * CASE WHEN h.service_tier = 'batch' THEN coalesce(p.batch_multiplier, 1) ELSE 1 END)
                   AS savings
        FROM h
        JOIN model_rate r ON r.model = h.model
        CROSS JOIN cheapest c
        JOIN rate p ON p.model = c.model AND h.hour >= p.effective_from AND h.hour < p.effective_to
        WHERE r.input_per_mtok >= 3 * c.input_per_mtok
          AND h.output_tokens <= 500 * h.requests
          AND h.unpriced_requests = 0
        GROUP BY h.model, c.model
    ),
    overall AS (
        SELECT sum(h.tokens) / NULLIF(sum(h.requests), 0) AS tokens_per_request FROM h
    ),
    -- Users and projects with at least 10 requests averaging more than
    -- twice the tokens per request of the whole period.
    heavy AS (
        SELECT 'user' AS scope, h.user_id AS id, sum(h.requests) AS requests,
               sum(h.tokens) / sum(h.requests) AS tokens_per_request, sum(h.total_cost) AS cost
        FROM h GROUP BY h.user_id
        UNION ALL
        SELECT 'project', h.project_id, sum(h.requests),
               sum(h.tokens) / sum(h.requests), sum(h.total_cost)
        FROM h GROUP BY h.project_id
    ),
    heavy_selected AS (
        SELECT x.*, x.cost * (1 - o.tokens_per_request / x.tokens_per_request) AS savings
        FROM heavy x CROSS JOIN overall o
        WHERE x.id <> '' AND x.requests >= 10 AND x.tokens_per_request > 2 * o.tokens_per_request
    ),
    -- Cache writes per model with fewer tokens read than written: the
    -- write premium over plain input of the unread share is lost.
    cache_write AS (
        SELECT h.model,
               sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS written,
               sum(h.cache_read_tokens) AS read,
               sum(h.cache_write_cost
                   - (h.cache_write_5m_tokens + h.cache_write_1h_tokens) * p.input_per_mtok / 1000000
                     * CASE WHEN h.service_tier = 'batch' THEN coalesce(p.batch_multiplier, 1) ELSE 1 END)
                   AS premium
        FROM h
        JOIN rate p ON p.model = h.model AND h.hour >= p.effective_from AND h.hour < p.effective_to
        WHERE h.cache_write_5m_tokens + h.cache_write_1h_tokens > 0
        GROUP BY h.model
    ),
    unread_write AS (
        SELECT w.*, w.premium * (1 - w.read / w.written) AS savings
        FROM cache_write w
        WHERE w.read < w.written AND w.premium > 0
    ),
    -- Repeated prompts whose input is mostly uncached: every repeat could
    -- read the prompt from the cache (read rate instead of input rate) after
    -- one 5-minute cache write (write premium over input once).
    cacheable AS (
        SELECT sum(pr.uncached_repeat_input_cost * (1 - p.cache_read_per_mtok / p.input_per_mtok)
                   - pr.uncached_first_input_cost * (p.cache_write_5m_per_mtok / p.input_per_mtok - 1))
                   AS savings
        FROM prompt pr
        JOIN rate p ON p.model = pr.model AND pr.first_hour >= p.effective_from
                   AND pr.first_hour < p.effective_to
        WHERE p.input_per_mtok > 0
    ),
    repeated AS (
        SELECT sum(pr.prompt_days) AS prompt_days, sum(pr.repeats) AS repeats,
               sum(pr.repeat_cost) AS savings
        FROM prompt pr
    ),
    -- Standard-tier requests without an end user (pipelines, jobs) on
    -- models offered on the Batch API: the batch discount applies to the
    -- token charges, not to server tools.
    batchable AS (
        SELECT sum(h.requests) AS requests,
               sum((h.total_cost - h.tool_cost) * (1 - p.batch_multiplier)) AS savings
        FROM h
        JOIN rate p ON p.model = h.model AND h.hour >= p.effective_from AND h.hour < p.effective_to
        WHERE h.service_tier = 'standard' AND h.user_id = '' AND p.batch_multiplier IS NOT NULL
    ),
    just_over AS (
        SELECT sum(l.requests) AS requests, sum(l.total_cost - l.base_cost) AS savings,
               min(l.long_context_threshold) AS threshold
        FROM claudecost.usage_analytics_long_context l
        WHERE l.hour >= start_time AND l.hour < end_time AND l.requests <> 0
    ),
    opportunity AS (
        SELECT 'model_downgrade' AS type,
               pg_catalog.format('%s requests to %s averaged at most 500 output tokens per rollup bucket; %s, already in use, is at most a third of its input price.',
                                 d.requests, d.model, d.cheaper_model) AS description,
               d.savings AS potential_savings,
               pg_catalog.format('Cost of those requests minus the same token counts at %s''s rates in force at the start of each bucket.',
                                 d.cheaper_model) AS savings_basis,
               'medium' AS effort,
               pg_catalog.jsonb_build_array(
                   pg_catalog.format('Route short-answer work (classification, extraction, routing) from %s to %s.', d.model, d.cheaper_model),
                   'Compare answers of both models on a sample before switching.') AS recommendations
        FROM downgrade d WHERE d.savings > 0
        UNION ALL
        SELECT 'high_tokens_per_request',
               pg_catalog.format('%s %s averages %s tokens per request, more than twice the average of %s.',
                                 s.scope, s.id, pg_catalog.round(s.tokens_per_request),
                                 pg_catalog.round(o.tokens_per_request)),
               s.savings,
               pg_catalog.format('Cost of the %s scaled down to the average tokens per request: cost x (1 - average / %s tokens per request).',
                                 s.scope, s.scope),
               'medium',
               pg_catalog.jsonb_build_array(
                   'Trim conversation history or summarize it before resending.',
                   'Move stable instructions and documents into a cached prompt prefix.',
                   'Set max_tokens to what the task needs.')
        FROM heavy_selected s CROSS JOIN overall o WHERE s.savings > 0
        UNION ALL
        SELECT 'unread_cache_writes',
               pg_catalog.format('%s wrote %s prompt tokens to the cache and read %s back.',
                                 w.model, w.written, w.read),
               w.savings,
               'Cache write premium over the input rate, times the share of written tokens never read: premium x (1 - read / written).',
               'low',
               pg_catalog.jsonb_build_array(
                   'Put cache_control only on prefixes that are reused within the cache lifetime.',
                   'Use the 5-minute cache instead of the 1-hour cache when reuse is quick.')
        FROM unread_write w WHERE w.savings > 0
        UNION ALL
        SELECT 'cacheable_input',
               'Prompts repeated within one UTC day were sent as uncached input.',
               c.savings,
               'Input cost of each repeat at the input rate minus the cache read rate, less one 5-minute cache write premium per prompt.',
               'low',
               pg_catalog.jsonb_build_array(
                   'Mark the repeated prompt prefix with cache_control.',
                   'Keep the cached prefix byte-identical across requests.')
        FROM cacheable c WHERE c.savings > 0
        UNION ALL
        SELECT 'repeated_prompts',
               pg_catalog.format('Prompts repeated within one UTC day: %s prompt and day pairs, %s repeats with the same prompt_hash and model.',
                                 r.prompt_days, r.repeats),
               r.savings,
               'Average cost per request of each repeated prompt times its repeats.',
               'medium',
               pg_catalog.jsonb_build_array(
                   'Cache answers to identical deterministic prompts in the application.',
                   'Check clients for retries that resend a request that succeeded.')
        FROM repeated r WHERE r.savings > 0
        UNION ALL
        SELECT 'batch_processing',
               pg_catalog.format('%s standard-tier requests had no end user and could run on the Message Batches API.',
                                 b.requests),
               b.savings,
               'Token cost of those requests times (1 - batch multiplier of their price).',
               'low',
               pg_catalog.jsonb_build_array(
                   'Send offline jobs (evaluations, backfills, reports) through the Message Batches API.',
                   'Set user_id on interactive requests so that they are not counted here.')
        FROM batchable b WHERE b.savings > 0
        UNION ALL
        SELECT 'long_context_threshold',
               pg_catalog.format('%s requests were at most 10%% over a long-context threshold (%s prompt tokens) and were billed at long-context rates for all their tokens.',
                                 j.requests, j.threshold),
               j.savings,
               'Cost of those requests minus the same tokens at the standard-context rates.',
               'medium',
               pg_catalog.jsonb_build_array(
                   'Trim the prompt below the threshold (drop old turns, shorter documents).',
                   'Split the work into two requests under the threshold.')
        FROM just_over j WHERE j.savings > 0
    )
    SELECT coalesce(pg_catalog.jsonb_agg(
               pg_catalog.jsonb_build_object(
                   'type', o.type,
                   'description', o.description,
                   'potential_savings', pg_catalog.round(o.potential_savings, 6),
                   'savings_basis', o.savings_basis,
                   'effort', o.effort,
                   'recommendations', o.recommendations)
               ORDER BY o.potential_savings DESC, o.type COLLATE "C", o.description COLLATE "C"),
           '[]'::jsonb)
    FROM opportunity o
$$;

COMMENT ON FUNCTION claudecost.usage_opportunities(timestamptz, timestamptz) IS
    'Estimated savings opportunities in the usage of a period, as a jsonb array sorted by potential savings';

------------------------------------------------------------------------
-- Full usage report
------------------------------------------------------------------------

-- Local days of a report period: from the day of start_time to the day of
-- the last instant before end_time, in time_zone.
CREATE FUNCTION claudecost.report_days(start_time timestamptz, end_time timestamptz, time_zone text)
RETURNS TABLE (day_number integer, day date)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (d.n - 1)::integer, d.day::date
    FROM pg_catalog.generate_series((start_time AT TIME ZONE time_zone)::date::timestamp,
                                    ((claudecost.report_period_end(start_time, end_time) - interval '1 microsecond')
                                     AT TIME ZONE time_zone)::date::timestamp,
                                    interval '1 day') WITH ORDINALITY AS d(day, n)
$$;

COMMENT ON FUNCTION claudecost.report_days(timestamptz, timestamptz, text) IS
    'Local days of a report period in a time zone, numbered from 0';

-- Requests, tokens and USD cost per local day of a period, zero days
-- included.  A UTC hour whose local date is its UTC date is counted through
-- usage_analytics_daily; only the other hours (the |offset| hours of each
-- day that belong to a neighbouring local day) and the hours at the edges
-- of the period are read from usage_hourly, so a month in Europe/Berlin
-- reads some 60 hours of hourly rows instead of 720.
CREATE FUNCTION claudecost.report_daily(start_time timestamptz, end_time timestamptz,
                                        time_zone text DEFAULT 'UTC')
RETURNS TABLE (day_number integer, day date, requests bigint, tokens numeric, cost numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $$
    WITH bounds AS (
        SELECT pg_catalog.date_trunc('day', start_time - interval '1 microsecond', 'UTC') + interval '1 day'
                   AS first_day,
               greatest(pg_catalog.date_trunc('day', end_time, 'UTC'),
                        pg_catalog.date_trunc('day', start_time - interval '1 microsecond', 'UTC')
                                   + interval '1 day') AS last_day
    ),
    -- Hour buckets of the period that usage_analytics_daily cannot place:
    -- outside the whole UTC days, or on another local date than UTC date.
    special_hour AS (
        SELECT g.hour, g.hour >= b.first_day AND g.hour < b.last_day AS in_whole_day
        FROM bounds b,
             pg_catalog.generate_series(pg_catalog.date_trunc('hour', start_time - interval '1 microsecond', 'UTC')
                                        + interval '1 hour',
                                        claudecost.report_period_end(start_time, end_time) - interval '1 microsecond',
                                        interval '1 hour') AS g(hour)
        WHERE g.hour < b.first_day OR g.hour >= b.last_day
           OR (g.hour AT TIME ZONE time_zone)::date <> (g.hour AT TIME ZONE 'UTC')::date
    ),
    special_total AS (
        SELECT s.hour, s.in_whole_day, sum(h.requests) AS requests,
               sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens
                   + h.cache_write_1h_tokens + h.cache_read_tokens) AS tokens,
               sum(h.total_cost) AS cost
        FROM special_hour s
        JOIN claudecost.usage_hourly h ON h.hour = s.hour
        GROUP BY s.hour, s.in_whole_day
    ),
    part AS (
        -- Whole UTC days, on their UTC date.
        SELECT a.day, sum(a.requests) AS requests,
               sum(a.input_tokens + a.output_tokens + a.cache_write_5m_tokens
                   + a.cache_write_1h_tokens + a.cache_read_tokens) AS tokens,
               sum(a.total_cost) AS cost
        FROM claudecost.usage_analytics_daily a, bounds b
        WHERE a.day >= (b.first_day AT TIME ZONE 'UTC')::date AND a.day < (b.last_day AT TIME ZONE 'UTC')::date
        GROUP BY a.day
        UNION ALL
        -- Hours of whole days that belong to another local day, taken out
        -- of their UTC date ...
        SELECT (t.hour AT TIME ZONE 'UTC')::date, -t.requests, -t.tokens, -t.cost
        FROM special_total t
        WHERE t.in_whole_day
        UNION ALL
        -- ... and every special hour added to its local date.
        SELECT (t.hour AT TIME ZONE time_zone)::date, t.requests, t.tokens, t.cost
        FROM special_total t
    ),
    -- A day whose parts cancel out has no requests; its sums are written
    -- as plain zeros, not as zeros with the scale of the cancelled costs.
    local_day AS (
        SELECT p.day, sum(p.requests) AS requests, sum(p.tokens) AS tokens, sum(p.cost) AS cost
        FROM part p
        GROUP BY p.day
        HAVING sum(p.requests) <> 0
    )
    SELECT d.day_number, d.day, coalesce(l.requests, 0)::bigint, coalesce(l.tokens, 0), coalesce(l.cost, 0)
    FROM claudecost.report_days(start_time, end_time, time_zone) d
    LEFT JOIN local_day l ON l.day = d.day
$$;

COMMENT ON FUNCTION claudecost.report_daily(timestamptz, timestamptz, text) IS
    'Requests, tokens and USD cost per local day of a period, zero days included; each UTC hour counts on the local day of its start';

-- Trend figures of a daily cost series (days in order): averages, a 30-day
-- projection and the least-squares slope, all in exact numeric arithmetic.
CREATE FUNCTION claudecost.report_trend_figures(days date[], costs numeric[])
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH d AS (
        SELECT (x.n - 1)::numeric AS day_number, x.day, x.cost
        FROM unnest(days, costs) WITH ORDINALITY AS x(day, cost, n)
    ),
    s AS (
        SELECT count(*)::numeric AS n, sum(d.day_number) AS sx, sum(d.cost) AS sy,
               sum(d.day_number * d.day_number) AS sxx, sum(d.day_number * d.cost) AS sxy
        FROM d
    ),
    fit AS (
        SELECT s.n, s.sy / NULLIF(s.n, 0) AS daily_average,
               CASE WHEN s.n > 1 THEN (s.n * s.sxy - s.sx * s.sy) / (s.n * s.sxx - s.sx * s.sx) ELSE 0 END
                   AS slope
        FROM s
    ),
    peak AS (
        SELECT d.day, d.cost FROM d ORDER BY d.cost DESC, d.day LIMIT 1
    )
    SELECT pg_catalog.jsonb_build_object(
        'days', f.n,
        'daily_average', pg_catalog.round(f.daily_average, 6),
        'weekly_average', pg_catalog.round(f.daily_average * 7, 6),
        'monthly_projection', pg_catalog.round(f.daily_average * 30, 6),
        'daily_trend', pg_catalog.round(f.slope, 6),
        'growth_rate', CASE WHEN f.daily_average > 0
                            THEN pg_catalog.round(f.slope / f.daily_average * 100, 4) END,
        'peak_day', CASE WHEN p.cost > 0 THEN pg_catalog.to_char(p.day, 'YYYY-MM-DD') END,
        'peak_cost', p.cost)
    FROM fit f LEFT JOIN peak p ON true
$$;

COMMENT ON FUNCTION claudecost.report_trend_figures(date[], numeric[]) IS
    'Averages, 30-day projection, least-squares daily trend, growth rate and peak of a daily USD cost series';

-- Trend figures of the local daily costs of a period.
CREATE FUNCTION claudecost.report_cost_trends(start_time timestamptz, end_time timestamptz,
                                              time_zone text DEFAULT 'UTC')
RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $$
    SELECT claudecost.report_trend_figures(array_agg(d.day ORDER BY d.day), array_agg(d.cost ORDER BY d.day))
    FROM claudecost.report_daily(start_time, end_time, time_zone) d
$$;

COMMENT ON FUNCTION claudecost.report_cost_trends(timestamptz, timestamptz, text) IS
    'Daily and weekly cost averages, 30-day projection, least-squares daily trend and growth rate (percent of the daily average per day), and peak day';

CREATE FUNCTION claudecost.generate_usage_report(start_time timestamptz, end_time timestamptz,
                                                 time_zone text DEFAULT 'UTC')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    report jsonb;
BEGIN
    PERFORM claudecost.report_check_period(start_time, end_time, time_zone);

    WITH h AS MATERIALIZED (
        SELECT r.model, NULLIF(r.user_id, '') AS user_id, NULLIF(r.project_id, '') AS project_id,
               r.requests, r.unpriced_requests, r.total_cost,
               r.input_tokens + r.output_tokens + r.cache_write_5m_tokens
               + r.cache_write_1h_tokens + r.cache_read_tokens AS tokens
        FROM claudecost.report_rows(generate_usage_report.start_time, generate_usage_report.end_time) r
    ),
    total AS (
        SELECT coalesce(sum(h.requests), 0) AS requests,
               coalesce(sum(h.unpriced_requests), 0) AS unpriced_requests,
               coalesce(sum(h.tokens), 0) AS tokens, coalesce(sum(h.total_cost), 0) AS cost
        FROM h
    ),
    by_model AS (
        SELECT h.model, sum(h.requests) AS requests, sum(h.tokens) AS tokens, sum(h.total_cost) AS cost
        FROM h GROUP BY h.model
    ),
    by_user AS (
        SELECT h.user_id, sum(h.requests) AS requests, sum(h.tokens) AS tokens, sum(h.total_cost) AS cost
        FROM h GROUP BY h.user_id
    ),
    by_project_user AS MATERIALIZED (
        SELECT h.project_id, h.user_id, sum(h.requests) AS requests, sum(h.total_cost) AS cost,
               pg_catalog.row_number() OVER (PARTITION BY h.project_id
                                             ORDER BY sum(h.total_cost) DESC, h.user_id COLLATE "C")
                   AS rank
        FROM h GROUP BY h.project_id, h.user_id
    ),
    by_project AS (
        SELECT h.project_id, sum(h.requests) AS requests, sum(h.tokens) AS tokens, sum(h.total_cost) AS cost
        FROM h GROUP BY h.project_id
    ),
    daily AS MATERIALIZED (
        SELECT d.day, d.requests, d.tokens, d.cost
        FROM claudecost.report_daily(generate_usage_report.start_time, generate_usage_report.end_time,
                                     generate_usage_report.time_zone) d
    )
    SELECT pg_catalog.jsonb_build_object(
        'period_start', generate_usage_report.start_time,
        'period_end', generate_usage_report.end_time,
        'time_zone', generate_usage_report.time_zone,
        'currency', 'USD',
        'total_requests', t.requests,
        'unpriced_requests', t.unpriced_requests,
        'total_tokens', t.tokens,
        'total_cost', t.cost,
        'average_tokens_per_request',
            CASE WHEN t.requests > 0 THEN pg_catalog.round(t.tokens / t.requests, 2) ELSE 0 END,
        'average_cost_per_request',
            CASE WHEN t.requests > 0 THEN pg_catalog.round(t.cost / t.requests, 6) ELSE 0 END,
        'model_breakdown', coalesce((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'model', m.model, 'requests', m.requests, 'tokens', m.tokens, 'cost', m.cost,
                       'percentage_of_total',
                       CASE WHEN t.cost > 0 THEN pg_catalog.round(m.cost / t.cost * 100, 2) ELSE 0 END)
                   ORDER BY m.cost DESC, m.model COLLATE "C")
            FROM by_model m), '[]'),
        'user_breakdown', coalesce((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'user_id', u.user_id, 'requests', u.requests, 'tokens', u.tokens, 'cost', u.cost,
                       'average_tokens_per_request', pg_catalog.round(u.tokens / u.requests, 2))
                   ORDER BY u.cost DESC, u.user_id COLLATE "C")
            FROM by_user u), '[]'),
        'project_breakdown', coalesce((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'project_id', p.project_id, 'requests', p.requests, 'tokens', p.tokens,
                       'cost', p.cost,
                       'top_users', (
                           SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                      'user_id', pu.user_id, 'requests', pu.requests, 'cost', pu.cost)
                                  ORDER BY pu.rank)
                           FROM by_project_user pu
                           WHERE pu.project_id IS NOT DISTINCT FROM p.project_id AND pu.rank <= 5))
                   ORDER BY p.cost DESC, p.project_id COLLATE "C")
            FROM by_project p), '[]'),
        'daily_usage', (
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'date', pg_catalog.to_char(d.day, 'YYYY-MM-DD'), 'requests', d.requests,
                       'tokens', d.tokens, 'cost', d.cost)
                   ORDER BY d.day)
            FROM daily d),
        'cost_trends', (
            SELECT claudecost.report_trend_figures(pg_catalog.array_agg(d.day ORDER BY d.day),
                                                   pg_catalog.array_agg(d.cost ORDER BY d.day))
            FROM daily d),
        'optimization_opportunities', claudecost.usage_opportunities(generate_usage_report.start_time,
                                                                     generate_usage_report.end_time))
    INTO report
    FROM total t;

    RETURN report;
END;
$$;

COMMENT ON FUNCTION claudecost.generate_usage_report(timestamptz, timestamptz, text) IS
    'Usage report of [start_time, end_time) as jsonb: totals, breakdowns by model, user, project and local day, cost trends and optimization opportunities';

------------------------------------------------------------------------
-- Views for BI tools (UTC days and months)
------------------------------------------------------------------------

CREATE VIEW claudecost.daily_cost_by_model AS
SELECT (h.hour AT TIME ZONE 'UTC')::date AS day,
       h.model,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens) AS input_tokens,
       sum(h.output_tokens) AS output_tokens,
       sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS cache_write_tokens,
       sum(h.cache_read_tokens) AS cache_read_tokens,
       sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens + h.cache_write_1h_tokens
           + h.cache_read_tokens) AS total_tokens,
       sum(h.total_cost) AS total_cost
FROM claudecost.usage_hourly h
GROUP BY 1, 2
HAVING sum(h.requests) <> 0;

COMMENT ON VIEW claudecost.daily_cost_by_model IS
    'Requests, tokens and USD cost per UTC day and model';

CREATE VIEW claudecost.daily_cost_by_user AS
SELECT (h.hour AT TIME ZONE 'UTC')::date AS day,
       NULLIF(h.user_id, '') AS user_id,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens) AS input_tokens,
       sum(h.output_tokens) AS output_tokens,
       sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS cache_write_tokens,
       sum(h.cache_read_tokens) AS cache_read_tokens,
       sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens + h.cache_write_1h_tokens
           + h.cache_read_tokens) AS total_tokens,
       sum(h.total_cost) AS total_cost
FROM claudecost.usage_hourly h
GROUP BY 1, 2
HAVING sum(h.requests) <> 0;

COMMENT ON VIEW claudecost.daily_cost_by_user IS
    'Requests, tokens and USD cost per UTC day and user (NULL: requests without a user)';

CREATE VIEW claudecost.daily_cost_by_project AS
SELECT (h.hour AT TIME ZONE 'UTC')::date AS day,
       NULLIF(h.project_id, '') AS project_id,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens) AS input_tokens,
       sum(h.output_tokens) AS output_tokens,
       sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS cache_write_tokens,
       sum(h.cache_read_tokens) AS cache_read_tokens,
       sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens + h.cache_write_1h_tokens
           + h.cache_read_tokens) AS total_tokens,
       sum(h.total_cost) AS total_cost
FROM claudecost.usage_hourly h
GROUP BY 1, 2
HAVING sum(h.requests) <> 0;

COMMENT ON VIEW claudecost.daily_cost_by_project IS
    'Requests, tokens and USD cost per UTC day and project (NULL: requests without a project)';

CREATE VIEW claudecost.hourly_usage AS
SELECT h.hour,
       NULLIF(h.project_id, '') AS project_id,
       h.model,
       NULLIF(h.user_id, '') AS user_id,
       NULLIF(h.api_key_id, '') AS api_key_id,
       NULLIF(h.workspace_id, '') AS workspace_id,
       h.service_tier,
       h.context_window,
       NULLIF(h.inference_geo, '') AS inference_geo,
       NULLIF(h.speed, '') AS speed,
       h.requests,
       h.unpriced_requests,
       h.input_tokens,
       h.output_tokens,
       h.cache_write_5m_tokens,
       h.cache_write_1h_tokens,
       h.cache_read_tokens,
       h.web_search_requests,
       h.web_fetch_requests,
       h.input_cost,
       h.output_cost,
       h.cache_write_cost,
       h.cache_read_cost,
       h.tool_cost,
       h.total_cost
FROM claudecost.usage_hourly h
WHERE h.requests <> 0;

COMMENT ON VIEW claudecost.hourly_usage IS
    'Requests, tokens and USD cost per UTC hour and every rollup dimension (NULL where usage had none)';

-- Every UTC day from the first to the last day with usage, zero days
-- included, with a trailing 7-day average.  The zero days are generated only
-- between 1970-01-01 and 2199-12-31, the range that the constraint
-- usage_occurred_at_range allows, so the view has at most 84,006 rows.
-- Days with usage outside that range (rows stored before the constraint
-- existed) are listed without zero days around them.
CREATE VIEW claudecost.cost_trends AS
WITH daily AS (
    SELECT (h.hour AT TIME ZONE 'UTC')::date AS day, sum(h.requests)::bigint AS requests,
           sum(h.total_cost) AS total_cost
    FROM claudecost.usage_hourly h
    GROUP BY 1
    HAVING sum(h.requests) <> 0
),
days AS (
    SELECT d::date AS day
    FROM (SELECT min(daily.day) AS first_day, max(daily.day) AS last_day FROM daily
          WHERE daily.day >= '1970-01-01' AND daily.day < '2200-01-01') r,
         pg_catalog.generate_series(r.first_day::timestamp, r.last_day::timestamp, interval '1 day') d
),
series AS (
    SELECT days.day, coalesce(daily.requests, 0) AS requests, coalesce(daily.total_cost, 0) AS total_cost
    FROM days FULL JOIN daily USING (day)
)
SELECT s.day,
       s.requests,
       s.total_cost,
       pg_catalog.round(avg(s.total_cost) OVER w7, 6) AS cost_7day_average,
       s.total_cost - pg_catalog.lag(s.total_cost) OVER w AS change_from_previous_day,
       sum(s.total_cost) OVER (PARTITION BY pg_catalog.date_trunc('month', s.day) ORDER BY s.day)
           AS month_to_date_cost
FROM series s
WINDOW w AS (ORDER BY s.day), w7 AS (ORDER BY s.day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW);

COMMENT ON VIEW claudecost.cost_trends IS
    'USD cost per UTC day with zero days, trailing 7-day average, day-over-day change and month-to-date total';

-- Budget status for reports.  The view reads claudecost.budget_status when
-- the budget tables are installed and has no rows otherwise, with the same
-- columns either way.
DO $$
BEGIN
    IF pg_catalog.to_regclass('claudecost.budget_status') IS NOT NULL THEN
        EXECUTE $v$
            CREATE VIEW claudecost.budget_report AS
            SELECT s.budget_id::bigint AS budget_id, s.budget_name::text AS budget_name,
                   s.period_start::timestamptz AS period_start, s.period_end::timestamptz AS period_end,
                   s.budget_amount::numeric AS budget_amount, s.spent_amount::numeric AS spent_amount,
                   s.remaining_amount::numeric AS remaining_amount,
                   s.usage_percentage::numeric AS usage_percentage,
                   CASE WHEN s.is_exceeded THEN 'exceeded' WHEN s.is_warning THEN 'warning' ELSE 'ok' END
                       AS status,
                   s.currency::text AS currency
            FROM claudecost.budget_status s
            WHERE s.enabled $v$;
    ELSE
        EXECUTE $v$
            CREATE VIEW claudecost.budget_report AS
            SELECT NULL::bigint AS budget_id, NULL::text AS budget_name,
                   NULL::timestamptz AS period_start, NULL::timestamptz AS period_end,
                   NULL::numeric AS budget_amount, NULL::numeric AS spent_amount,
                   NULL::numeric AS remaining_amount, NULL::numeric AS usage_percentage,
                   NULL::text AS status, NULL::text AS currency
            WHERE false $v$;
    END IF;
END
$$;

COMMENT ON VIEW claudecost.budget_report IS
    'Enabled budgets with spend in their current period and status ok, warning or exceeded; empty without budgets';

------------------------------------------------------------------------
-- Admin API cost report shape and reconciliation
------------------------------------------------------------------------

-- The ledger in the shape of Anthropic's Admin API cost report: one row per
-- UTC day, workspace, model, cost type, token type, context window, service
-- tier and inference geo, amount in US cents.  Cache write cost is split
-- into 5-minute and 1-hour writes by the rates of the price in force at the
-- start of each hour.  A NULL inference_geo is reported as 'global', the
-- API default.
CREATE VIEW claudecost.admin_cost_report AS
WITH h AS (
    SELECT (h.hour AT TIME ZONE 'UTC')::date AS day,
           NULLIF(h.workspace_id, '') AS workspace_id,
           coalesce(claudecost.resolve_model(h.model), h.model) AS model,
           h.context_window, h.service_tier,
           coalesce(NULLIF(h.inference_geo, ''), 'global') AS inference_geo,
           h.input_cost, h.output_cost, h.cache_read_cost, h.tool_cost,
           CASE WHEN h.cache_write_cost = 0 THEN 0
                ELSE h.cache_write_cost * h.cache_write_5m_tokens * coalesce(p.cache_write_5m_per_mtok, 1)
                     / NULLIF(h.cache_write_5m_tokens * coalesce(p.cache_write_5m_per_mtok, 1)
                              + h.cache_write_1h_tokens * coalesce(p.cache_write_1h_per_mtok, 1), 0)
           END AS cache_write_5m_cost,
           h.cache_write_cost
    FROM claudecost.usage_hourly h
    LEFT JOIN claudecost.price p
      ON p.id = claudecost.price_id_for(h.model, h.hour, coalesce(NULLIF(h.speed, ''), 'standard'))
    WHERE h.requests <> 0
),
line AS (
    SELECT h.day, h.workspace_id, h.model, x.cost_type, x.token_type, h.context_window,
           h.service_tier, h.inference_geo, x.cost
    FROM h
    CROSS JOIN LATERAL (VALUES
        ('tokens', 'uncached_input_tokens', h.input_cost),
        ('tokens', 'output_tokens', h.output_cost),
        ('tokens', 'cache_read_input_tokens', h.cache_read_cost),
        ('tokens', 'cache_creation.ephemeral_5m_input_tokens', coalesce(h.cache_write_5m_cost, 0)),
        ('tokens', 'cache_creation.ephemeral_1h_input_tokens',
         h.cache_write_cost - coalesce(h.cache_write_5m_cost, 0)),
        ('web_search', NULL, h.tool_cost)) AS x(cost_type, token_type, cost)
)
SELECT l.day, l.workspace_id, l.model, l.cost_type, l.token_type, l.context_window, l.service_tier,
       l.inference_geo, pg_catalog.trim_scale(sum(l.cost) * 100) AS amount, 'USD'::text AS currency
FROM line l
GROUP BY l.day, l.workspace_id, l.model, l.cost_type, l.token_type, l.context_window, l.service_tier,
         l.inference_geo
HAVING sum(l.cost) <> 0;

COMMENT ON VIEW claudecost.admin_cost_report IS
    'Ledger cost per UTC day, workspace, model, cost type, token type, context window, service tier and inference geo, in US cents as in the Admin API cost report';

-- Result lines of a list of Admin API cost report pages: bucket day (UTC),
-- model and amount (cents, as text).  A bucket without results gives one
-- line with NULL model and amount, so that its day is still compared.
CREATE FUNCTION claudecost.reconcile_lines(pages jsonb)
RETURNS TABLE (day date, model text, amount text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ((b->>'starting_at')::timestamptz AT TIME ZONE 'UTC')::date, r->>'model', r->>'amount'
    FROM jsonb_array_elements(pages) pg,
         jsonb_array_elements(pg->'data') b
         LEFT JOIN LATERAL jsonb_array_elements(coalesce(b->'results', '[]')) r ON true
$$;

-- Compares a downloaded Admin API cost report with the ledger, per UTC day
-- and model.  cost_report is one response ({"data": [...]}) or an array of
-- paginated responses, with amounts as decimal strings in cents.  Only the
-- days of the report's buckets are compared.
CREATE FUNCTION claudecost.reconcile(cost_report jsonb)
RETURNS TABLE (day date, model text, report_amount numeric, ledger_amount numeric,
               difference numeric, status text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pages jsonb;
    bad record;
BEGIN
    IF cost_report IS NULL THEN
        RAISE EXCEPTION 'cost report must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    pages := CASE jsonb_typeof(cost_report) WHEN 'array' THEN cost_report
                                            ELSE jsonb_build_array(cost_report) END;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(pages) pg
               WHERE jsonb_typeof(pg) <> 'object' OR jsonb_typeof(pg->'data') IS DISTINCT FROM 'array') THEN
        RAISE EXCEPTION 'invalid cost report'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A cost report is an object with a "data" array, or an array of such objects.';
    END IF;

    SELECT r->>'currency' AS currency INTO bad
    FROM jsonb_array_elements(pages) pg,
         jsonb_array_elements(pg->'data') b,
         jsonb_array_elements(coalesce(b->'results', '[]')) r
    WHERE r->>'currency' IS DISTINCT FROM 'USD' AND r ? 'currency'
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unsupported currency "%" in cost report', bad.currency
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The ledger is kept in USD and compared in US cents.',
                  HINT = 'Download the cost report in USD.';
    END IF;

    SELECT l.day, l.amount INTO bad FROM claudecost.reconcile_lines(pages) l
    WHERE l.day IS NULL
       OR (l.amount IS NOT NULL AND l.amount !~ '^-?[0-9]+(\.[0-9]+)?$')
    LIMIT 1;
    IF FOUND AND bad.day IS NULL THEN
        RAISE EXCEPTION 'missing starting_at in cost report bucket'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Each bucket of a cost report needs its starting_at time.';
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'invalid amount "%" in cost report', bad.amount
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Amounts are decimal strings in US cents, such as "123.78912".';
    END IF;

    RETURN QUERY
    WITH report AS (
        -- Model names as the ledger view gives them: aliases and dated ids
        -- resolve to the priced model.
        SELECT l.day, coalesce(claudecost.resolve_model(l.model), l.model) AS model,
               sum(l.amount::numeric) AS amount
        FROM claudecost.reconcile_lines(pages) l
        WHERE l.amount IS NOT NULL
        GROUP BY 1, 2
    ),
    report_day AS (
        SELECT DISTINCT l.day FROM claudecost.reconcile_lines(pages) l
    ),
    ledger AS (
        SELECT a.day, a.model, sum(a.amount) AS amount
        FROM claudecost.admin_cost_report a
        WHERE a.day IN (SELECT d.day FROM report_day d)
        GROUP BY a.day, a.model
    )
    SELECT x.line_day, x.line_model, x.report_cents, x.ledger_cents,
           pg_catalog.trim_scale(x.ledger_cents - x.report_cents),
           CASE WHEN x.in_report AND NOT x.in_ledger THEN 'missing_in_ledger'
                WHEN x.in_ledger AND NOT x.in_report THEN 'missing_in_report'
                WHEN x.report_cents = x.ledger_cents THEN 'match'
                ELSE 'mismatch' END
    FROM (
        SELECT coalesce(r.day, g.day) AS line_day, coalesce(r.model, g.model) AS line_model,
               pg_catalog.trim_scale(coalesce(r.amount, 0)) AS report_cents,
               pg_catalog.trim_scale(coalesce(g.amount, 0)) AS ledger_cents,
               r.day IS NOT NULL AS in_report, g.day IS NOT NULL AS in_ledger
        FROM report r
        FULL JOIN ledger g ON g.day = r.day AND g.model IS NOT DISTINCT FROM r.model
    ) x
    ORDER BY x.line_day, x.line_model COLLATE "C";
END;
$$;

COMMENT ON FUNCTION claudecost.reconcile(jsonb) IS
    'Per UTC day and model: Admin API cost report amount, ledger amount and difference in US cents, with status match, mismatch, missing_in_ledger or missing_in_report';

------------------------------------------------------------------------
-- Exports
------------------------------------------------------------------------

CREATE FUNCTION claudecost.export_usage_report(start_time timestamptz, end_time timestamptz,
                                               format text DEFAULT 'json', time_zone text DEFAULT 'UTC')
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    csv text;
BEGIN
    IF format IS NULL OR format NOT IN ('json', 'csv') THEN
        RAISE EXCEPTION 'unrecognized export format "%"', coalesce(format, 'null')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass json or csv.';
    END IF;
    IF format = 'json' THEN
        RETURN claudecost.generate_usage_report(start_time, end_time, time_zone)::text;
    END IF;

    PERFORM claudecost.report_check_period(start_time, end_time, time_zone);
    -- One record per local day and model, CRLF line ends as in RFC 4180.
    SELECT string_agg(line, E'\r\n' ORDER BY n, day, model COLLATE "C") || E'\r\n' INTO csv
    FROM (
        SELECT 0 AS n, NULL::date AS day, NULL::text AS model,
               'date,model,requests,unpriced_requests,input_tokens,output_tokens,cache_write_tokens,cache_read_tokens,total_tokens,cost' AS line
        UNION ALL
        SELECT 1, x.day, x.model,
               concat_ws(',', to_char(x.day, 'YYYY-MM-DD'), claudecost.csv_field(x.model), x.requests,
                         x.unpriced_requests, x.input_tokens, x.output_tokens, x.cache_write_tokens,
                         x.cache_read_tokens, x.total_tokens, x.cost)
        FROM (
            SELECT (h.hour AT TIME ZONE export_usage_report.time_zone)::date AS day, h.model,
                   sum(h.requests) AS requests, sum(h.unpriced_requests) AS unpriced_requests,
                   sum(h.input_tokens) AS input_tokens, sum(h.output_tokens) AS output_tokens,
                   sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS cache_write_tokens,
                   sum(h.cache_read_tokens) AS cache_read_tokens,
                   sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens
                       + h.cache_write_1h_tokens + h.cache_read_tokens) AS total_tokens,
                   sum(h.total_cost) AS cost
            FROM claudecost.usage_hourly h
            WHERE h.hour >= start_time AND h.hour < end_time
            GROUP BY 1, 2
            HAVING sum(h.requests) <> 0
        ) x
    ) lines;
    RETURN csv;
END;
$$;

COMMENT ON FUNCTION claudecost.export_usage_report(timestamptz, timestamptz, text, text) IS
    'Usage report of a period as json (generate_usage_report) or as RFC 4180 CSV with one record per local day and model';

------------------------------------------------------------------------
-- Materialized monthly summaries
------------------------------------------------------------------------

CREATE MATERIALIZED VIEW claudecost.monthly_cost_by_model AS
SELECT pg_catalog.date_trunc('month', h.hour AT TIME ZONE 'UTC')::date AS month,
       h.model,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens + h.cache_write_1h_tokens
           + h.cache_read_tokens) AS total_tokens,
       sum(h.input_cost) AS input_cost,
       sum(h.output_cost) AS output_cost,
       sum(h.cache_write_cost) AS cache_write_cost,
       sum(h.cache_read_cost) AS cache_read_cost,
       sum(h.tool_cost) AS tool_cost,
       sum(h.total_cost) AS total_cost
FROM claudecost.usage_hourly h
GROUP BY 1, 2
HAVING sum(h.requests) <> 0;

CREATE UNIQUE INDEX monthly_cost_by_model_key ON claudecost.monthly_cost_by_model (month, model);

COMMENT ON MATERIALIZED VIEW claudecost.monthly_cost_by_model IS
    'Requests, tokens and USD cost per UTC month and model; current after claudecost.refresh_reports()';

CREATE MATERIALIZED VIEW claudecost.monthly_cost_by_user AS
SELECT pg_catalog.date_trunc('month', h.hour AT TIME ZONE 'UTC')::date AS month,
       NULLIF(h.user_id, '') AS user_id,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens + h.cache_write_1h_tokens
           + h.cache_read_tokens) AS total_tokens,
       sum(h.total_cost) AS total_cost
FROM claudecost.usage_hourly h
GROUP BY 1, 2
HAVING sum(h.requests) <> 0;

CREATE UNIQUE INDEX monthly_cost_by_user_key ON claudecost.monthly_cost_by_user (month, user_id);

COMMENT ON MATERIALIZED VIEW claudecost.monthly_cost_by_user IS
    'Requests, tokens and USD cost per UTC month and user; current after claudecost.refresh_reports()';

CREATE MATERIALIZED VIEW claudecost.monthly_cost_by_project AS
SELECT pg_catalog.date_trunc('month', h.hour AT TIME ZONE 'UTC')::date AS month,
       NULLIF(h.project_id, '') AS project_id,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens + h.cache_write_1h_tokens
           + h.cache_read_tokens) AS total_tokens,
       sum(h.total_cost) AS total_cost
FROM claudecost.usage_hourly h
GROUP BY 1, 2
HAVING sum(h.requests) <> 0;

CREATE UNIQUE INDEX monthly_cost_by_project_key ON claudecost.monthly_cost_by_project (month, project_id);

COMMENT ON MATERIALIZED VIEW claudecost.monthly_cost_by_project IS
    'Requests, tokens and USD cost per UTC month and project; current after claudecost.refresh_reports()';

-- Refreshes the monthly materialized views without blocking readers.
CREATE FUNCTION claudecost.refresh_reports()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY claudecost.monthly_cost_by_model;
    REFRESH MATERIALIZED VIEW CONCURRENTLY claudecost.monthly_cost_by_user;
    REFRESH MATERIALIZED VIEW CONCURRENTLY claudecost.monthly_cost_by_project;
END;
$$;

COMMENT ON FUNCTION claudecost.refresh_reports() IS
    'Refreshes the monthly_cost_by_* materialized views concurrently (readers are not blocked)';

------------------------------------------------------------------------
-- Self-contained HTML report
------------------------------------------------------------------------

-- Fill colour of the n-th series (1-based), cycling through eight colours.
CREATE FUNCTION claudecost.report_color(n bigint)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT (ARRAY['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#9c755f'])
           [((n OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.%) 8) OPERATOR(pg_catalog.+) 1]
$$;

-- Horizontal bar chart (inline SVG) of labelled USD amounts, largest first.
CREATE FUNCTION claudecost.report_html_bars(chart_class text, labels text[], amounts numeric[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH item AS (
        SELECT l.label, l.amount, l.n,
               max(l.amount) OVER () AS top
        FROM unnest(labels, amounts) WITH ORDINALITY AS l(label, amount, n)
    )
    SELECT format('<svg class="%s" xmlns="http://www.w3.org/2000/svg" width="760" height="%s" role="img">',
                  chart_class, 24 * greatest(count(*), 1) + 8)
           || coalesce(string_agg(format(
                  '<g class="bar" data-label="%1$s" data-cost="%2$s"><text x="0" y="%3$s">%1$s</text>'
                  || '<rect x="220" y="%4$s" width="%5$s" height="16" fill="%6$s"><title>%1$s: USD %2$s</title></rect>'
                  || '<text x="%7$s" y="%3$s">USD %8$s</text></g>',
                  claudecost.html_escape(coalesce(i.label, '(none)')), i.amount,
                  24 * i.n - 4, 24 * i.n - 16,
                  CASE WHEN i.top > 0 THEN round(i.amount / i.top * 440, 2) ELSE 0 END,
                  claudecost.report_color(i.n),
                  CASE WHEN i.top > 0 THEN round(i.amount / i.top * 440, 2) ELSE 0 END + 226,
                  round(i.amount, 2)), '' ORDER BY i.n), '')
           || '</svg>'
    FROM item i
$$;

CREATE FUNCTION claudecost.report_html(start_time timestamptz, end_time timestamptz,
                                       time_zone text DEFAULT 'UTC')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    report jsonb;
    day_count integer;
    top_cost numeric;
    chart text;
    legend text;
    budgets text;
    opportunities text;
    bar_width numeric;
BEGIN
    report := claudecost.generate_usage_report(start_time, end_time, time_zone);

    -- Daily cost stacked by model: one <g class="series"> per model, one
    -- <rect> per local day with cost, bars scaled to the costliest day.
    SELECT count(*), max(d.cost) INTO day_count, top_cost
    FROM claudecost.report_daily(start_time, end_time, time_zone) d;
    bar_width := round(720.0 / day_count, 2);

    WITH cell AS (
        SELECT h.model, (h.hour AT TIME ZONE time_zone)::date AS day, sum(h.total_cost) AS cost
        FROM claudecost.usage_hourly h
        WHERE h.hour >= start_time AND h.hour < end_time AND h.requests <> 0
        GROUP BY 1, 2
        HAVING sum(h.total_cost) > 0
    ),
    model_rank AS (
        SELECT c.model, row_number() OVER (ORDER BY sum(c.cost) DESC, c.model COLLATE "C") AS rank
        FROM cell c GROUP BY c.model
    ),
    placed AS (
        SELECT c.model, r.rank, c.day, d.day_number, c.cost,
               coalesce(sum(c.cost) OVER (PARTITION BY c.day ORDER BY r.rank
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS below
        FROM cell c
        JOIN model_rank r USING (model)
        JOIN claudecost.report_daily(start_time, end_time, time_zone) d ON d.day = c.day
    ),
    series AS (
        SELECT p.model, p.rank,
               string_agg(format('<rect x="%s" y="%s" width="%s" height="%s" data-date="%s" data-cost="%s"><title>%s %s: USD %s</title></rect>',
                                 40 + p.day_number * bar_width + 1,
                                 round(250 - (p.below + p.cost) / top_cost * 240, 2),
                                 greatest(bar_width - 2, 1),
                                 round(p.cost / top_cost * 240, 2),
                                 to_char(p.day, 'YYYY-MM-DD'), p.cost,
                                 to_char(p.day, 'YYYY-MM-DD'), claudecost.html_escape(p.model),
                                 round(p.cost, 4)),
                          '' ORDER BY p.day) AS rects
        FROM placed p GROUP BY p.model, p.rank
    )
    SELECT string_agg(format('<g class="series" data-series="%s" fill="%s">%s</g>',
                             claudecost.html_escape(s.model), claudecost.report_color(s.rank), s.rects),
                      '' ORDER BY s.rank),
           string_agg(format('<li><span class="swatch" style="background:%s"></span>%s</li>',
                             claudecost.report_color(s.rank), claudecost.html_escape(s.model)),
                      '' ORDER BY s.rank)
    INTO chart, legend
    FROM series s;

    chart := '<svg class="daily-cost" xmlns="http://www.w3.org/2000/svg" width="780" height="290" role="img">'
             || '<line x1="40" y1="250" x2="760" y2="250" stroke="#555"/>'
             || format('<text x="0" y="14">USD %s</text>', round(coalesce(top_cost, 0), 2))
             || coalesce(chart, '')
             || (SELECT string_agg(format('<text x="%s" y="270" font-size="10">%s</text>',
                                          40 + d.day_number * bar_width, to_char(d.day, 'MM-DD')),
                                   '' ORDER BY d.day)
                 FROM claudecost.report_daily(start_time, end_time, time_zone) d
                 WHERE d.day_number % greatest(day_count / 10, 1) = 0)
             || '</svg>';

    -- Budget gauges: one bar per budget, filled to its usage percentage.
    SELECT string_agg(format(
               '<div class="gauge %1$s" data-budget="%2$s"><span>%2$s: %3$s%% of %4$s %5$s (%1$s)</span>'
               || '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="18" role="img">'
               || '<rect x="0" y="0" width="300" height="18" fill="#ddd"/>'
               || '<rect class="gauge-fill" x="0" y="0" width="%6$s" height="18" fill="%7$s"/></svg></div>',
               claudecost.html_escape(b.status), claudecost.html_escape(b.budget_name),
               round(coalesce(b.usage_percentage, 0), 1), b.budget_amount, claudecost.html_escape(b.currency),
               round(least(greatest(coalesce(b.usage_percentage, 0), 0), 100) * 3, 2),
               CASE b.status WHEN 'exceeded' THEN '#e15759' WHEN 'warning' THEN '#edc948' ELSE '#59a14f' END),
               '' ORDER BY b.budget_name COLLATE "C")
    INTO budgets
    FROM claudecost.budget_report b;

    SELECT string_agg(format('<li class="opportunity" data-type="%s"><strong>%s</strong>: USD %s, effort %s. %s'
                             || '<br><small>%s</small><ul>%s</ul></li>',
                             claudecost.html_escape(o->>'type'), claudecost.html_escape(o->>'type'),
                             round((o->>'potential_savings')::numeric, 2),
                             claudecost.html_escape(o->>'effort'), claudecost.html_escape(o->>'description'),
                             claudecost.html_escape(o->>'savings_basis'),
                             (SELECT string_agg('<li>' || claudecost.html_escape(r) || '</li>', '')
                              FROM jsonb_array_elements_text(o->'recommendations') r)),
                      '' ORDER BY n)
    INTO opportunities
    FROM jsonb_array_elements(report->'optimization_opportunities') WITH ORDINALITY AS x(o, n);

    RETURN '<!DOCTYPE html>' || E'\n'
        || '<html lang="en"><head><meta charset="utf-8">'
        || format('<title>Claude usage report %s to %s</title>',
                  claudecost.html_escape(report->>'period_start'), claudecost.html_escape(report->>'period_end'))
        || '<style>body{font-family:sans-serif;margin:2em;color:#222}svg text{font-size:12px;fill:#222}'
        || '.legend{list-style:none;padding:0}.legend li{display:inline-block;margin-right:1em}'
        || '.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}'
        || 'table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}</style></head><body>'
        || format('<h1>Claude usage report</h1><p>%s to %s (%s)</p>',
                  claudecost.html_escape(report->>'period_start'), claudecost.html_escape(report->>'period_end'),
                  claudecost.html_escape(time_zone))
        || format('<table class="totals"><tr><th>Requests</th><th>Tokens</th><th>Cost (USD)</th><th>Unpriced requests</th></tr>'
                  || '<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr></table>',
                  report->>'total_requests', report->>'total_tokens',
                  round((report->>'total_cost')::numeric, 2), report->>'unpriced_requests')
        || '<h2>Daily cost by model</h2>' || chart
        || '<ul class="legend">' || coalesce(legend, '') || '</ul>'
        || '<h2>Cost by project</h2>'
        || (SELECT claudecost.report_html_bars('project-cost', array_agg(p->>'project_id' ORDER BY n),
                                               array_agg((p->>'cost')::numeric ORDER BY n))
            FROM jsonb_array_elements(report->'project_breakdown') WITH ORDINALITY AS x(p, n))
        || '<h2>Cost by user</h2>'
        || (SELECT claudecost.report_html_bars('user-cost', array_agg(u->>'user_id' ORDER BY n),
                                               array_agg((u->>'cost')::numeric ORDER BY n))
            FROM jsonb_array_elements(report->'user_breakdown') WITH ORDINALITY AS x(u, n))
        || '<h2>Budgets</h2>'
        || coalesce('<div class="budgets">' || budgets || '</div>', '<p class="no-budgets">No budgets.</p>')
        || '<h2>Optimization opportunities</h2>'
        || coalesce('<ol class="opportunities">' || opportunities || '</ol>',
                    '<p class="no-opportunities">None found.</p>')
        || '</body></html>' || E'\n';
END;
$$;

COMMENT ON FUNCTION claudecost.report_html(timestamptz, timestamptz, text) IS
    'Self-contained HTML page (inline SVG, no scripts or network) with daily cost by model, cost by project and user, budget gauges and optimization opportunities';
