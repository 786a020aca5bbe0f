-- Benchmark database: the extension, the trace distributions and the
-- functions that generate usage rows and time the reports.
SET client_min_messages = warning;
CREATE EXTENSION claudecost;

-- Request shapes from three real traces.  The Azure LLM inference 2023
-- code and conversation traces give input and output tokens.  The Mooncake
-- FAST'25 conversation trace adds prefix-cached tokens and a prompt prefix
-- id.
CREATE TABLE bench_trace_azure (arrived text, input_tokens bigint, output_tokens bigint);
\copy bench_trace_azure FROM 'data/traces/AzureLLMInferenceTrace_code.csv' WITH (FORMAT csv, HEADER)
\copy bench_trace_azure FROM 'data/traces/AzureLLMInferenceTrace_conv.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE bench_trace_mooncake (timestamp_ms bigint, input_tokens bigint, output_tokens bigint,
                                   cached_tokens bigint, prefix_block bigint);
\copy bench_trace_mooncake FROM 'data/traces/mooncake_conversation_usage.csv' WITH (FORMAT csv, HEADER)

CREATE TABLE bench_trace (
    n integer PRIMARY KEY,
    input_tokens bigint, output_tokens bigint, cache_read_tokens bigint, prompt_hash text);
INSERT INTO bench_trace
SELECT row_number() OVER (ORDER BY source, k), input_tokens, output_tokens, cache_read_tokens, prompt_hash
FROM (
    SELECT 1 AS source, row_number() OVER () AS k, a.input_tokens, a.output_tokens,
           0::bigint AS cache_read_tokens, NULL::text AS prompt_hash
    FROM bench_trace_azure a
    UNION ALL
    SELECT 2, row_number() OVER (ORDER BY m.timestamp_ms), m.input_tokens - m.cached_tokens, m.output_tokens,
           m.cached_tokens, 'prefix-' || m.prefix_block
    FROM bench_trace_mooncake m
) t;
ANALYZE bench_trace;

-- Inserts usage rows first .. last of the synthetic ledger.  Row g gets a
-- trace request picked by a multiplicative hash and a time spread by another
-- hash over 60 days, so any prefix of the rows covers the whole span.  Its
-- user is drawn with a skew towards low ids.  A user always has the same
-- project, API key, workspace and main model, and one in ten requests uses
-- haiku.  Users 15, 30, 45 and 60 are service accounts (no user id), with
-- half of their work on the batch tier.
CREATE FUNCTION bench_load(first bigint, last bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, api_key_id, workspace_id,
                                  service_tier, input_tokens, output_tokens, cache_read_tokens, prompt_hash)
    SELECT timestamptz '2026-09-01 00:00+00' + ((g * 7919) % 5184000) * interval '1 second',
           CASE WHEN g % 10 = 0 THEN 'claude-haiku-4-5'
                WHEN u % 10 < 2 THEN 'claude-opus-4-5'
                WHEN u % 10 < 6 THEN 'claude-sonnet-4-5'
                ELSE 'claude-haiku-4-5' END,
           CASE WHEN u % 15 = 0 THEN NULL ELSE 'user-' || u END,
           'project-' || (u % 12), 'key-' || u, 'wrkspc-' || (u % 3),
           CASE WHEN u % 15 = 0 AND g % 2 = 0 THEN 'batch' ELSE 'standard' END,
           t.input_tokens, t.output_tokens, t.cache_read_tokens, t.prompt_hash
    FROM generate_series(first, last) g
    CROSS JOIN LATERAL (SELECT 1 + ((g * 2654435761) % 1000003) * ((g * 40503) % 1000003) % 60 AS u0) r0
    CROSS JOIN LATERAL (SELECT CASE WHEN g % 3 = 0 THEN 1 + (g * 97) % 60 ELSE 1 + r0.u0 % 20 END AS u) r
    JOIN bench_trace t ON t.n = 1 + (g * 104729) % (SELECT count(*) FROM bench_trace)
$$;

-- The figures of generate_usage_report (totals, model, user and project
-- breakdowns with top users, local days, trend) computed from the raw usage
-- rows in one scan with grouping sets: the baseline that the rollups
-- replace.  The period bounds are whole UTC hours, so the occurred_at range
-- selects the same rows as the rollup's hour buckets.
CREATE FUNCTION bench_raw_report(start_time timestamptz, end_time timestamptz, time_zone text DEFAULT 'UTC')
RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH g AS MATERIALIZED (
        SELECT GROUPING(u.model, u.user_id, u.project_id, x.day) AS set_id,
               u.model, u.user_id, u.project_id, x.day,
               count(*) AS requests, sum(x.tokens) AS tokens, coalesce(sum(u.total_cost), 0) AS cost
        FROM claudecost.usage u
        CROSS JOIN LATERAL (
            SELECT (date_trunc('hour', u.occurred_at, 'UTC') AT TIME ZONE time_zone)::date AS day,
                   u.input_tokens + u.output_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens
                   + u.cache_read_tokens AS tokens) x
        WHERE u.occurred_at >= start_time AND u.occurred_at < end_time
        GROUP BY GROUPING SETS ((), (u.model), (u.user_id), (u.project_id), (u.project_id, u.user_id), (x.day))
    ),
    project_user AS (
        SELECT g.project_id, g.user_id, g.cost,
               row_number() OVER (PARTITION BY g.project_id ORDER BY g.cost DESC, g.user_id COLLATE "C") AS rank
        FROM g WHERE g.set_id = 9
    ),
    daily AS (
        SELECT d.day_number, d.day, coalesce(g.cost, 0) AS cost, coalesce(g.requests, 0) AS requests
        FROM claudecost.report_days(start_time, end_time, time_zone) d
        LEFT JOIN g ON g.set_id = 14 AND g.day = d.day
    ),
    s AS (SELECT count(*)::numeric AS n, sum(day_number)::numeric AS sx, sum(cost) AS sy,
                 sum(day_number::numeric * day_number) AS sxx, sum(day_number * cost) AS sxy FROM daily)
    SELECT jsonb_build_object(
        'total_requests', t.requests, 'total_tokens', t.tokens, 'total_cost', t.cost,
        'model_breakdown', (SELECT jsonb_agg(jsonb_build_object('model', g.model, 'cost', g.cost, 'requests', g.requests))
                            FROM g WHERE g.set_id = 7),
        'user_breakdown', (SELECT jsonb_agg(jsonb_build_object('user_id', g.user_id, 'cost', g.cost, 'requests', g.requests))
                           FROM g WHERE g.set_id = 11),
        'project_breakdown', (SELECT jsonb_agg(jsonb_build_object('project_id', g.project_id, 'cost', g.cost,
                                  'top_users', (SELECT jsonb_agg(pu.user_id ORDER BY pu.rank) FROM project_user pu
                                                WHERE pu.project_id IS NOT DISTINCT FROM g.project_id AND pu.rank <= 5)))
                              FROM g WHERE g.set_id = 13),
        'daily_usage', (SELECT jsonb_agg(jsonb_build_object('date', d.day, 'cost', d.cost, 'requests', d.requests) ORDER BY d.day) FROM daily d),
        'daily_trend', (SELECT (n * sxy - sx * sy) / nullif(n * sxx - sx * sx, 0) FROM s))
    FROM g t WHERE t.set_id = 15
$$;

-- Median wall-clock milliseconds of runs executions of a query (after one
-- warm-up run).
CREATE FUNCTION bench_time(query text, runs integer DEFAULT 5) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz;
    times numeric[] := '{}';
BEGIN
    EXECUTE query;
    FOR i IN 1 .. runs LOOP
        started := clock_timestamp();
        EXECUTE query;
        times := times || (extract(epoch FROM clock_timestamp() - started) * 1000)::numeric;
    END LOOP;
    RETURN (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 1) FROM unnest(times) x);
END;
$$;
