-- generate_usage_report(): totals against raw rows, zero days, time zones,
-- trends and optimization opportunities.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- January 2026: five days, 2026-01-07 without usage, one unpriced model,
-- one request at 23:30 UTC and one at 18:45 UTC (00:15 in Kolkata).
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id,
                              input_tokens, output_tokens, cache_write_5m_tokens, cache_read_tokens)
VALUES ('r01', '2026-01-04 23:59:59', 'claude-sonnet-4-5', 'u1', 'p1', 1000, 100, 0, 0),
       ('r02', '2026-01-05 10:00', 'claude-sonnet-4-5', 'u1', 'p1', 1000, 500, 0, 0),
       ('r03', '2026-01-05 11:20', 'claude-haiku-4-5', 'u2', 'p1', 2000, 100, 0, 0),
       ('r04', '2026-01-06 09:00', 'claude-opus-4-5', 'u1', 'p2', 3000, 200, 1000, 4000),
       ('r05', '2026-01-06 09:30', 'claude-opus-4-5', 'u3', 'p2', 1500, 50, 0, 2000),
       ('r06', '2026-01-08 18:45', 'claude-haiku-4-5', 'u3', 'p2', 700, 70, 0, 0),
       ('r07', '2026-01-08 23:30', 'claude-sonnet-4-5', 'u2', 'p2', 1200, 300, 0, 0),
       ('r08', '2026-01-09 12:00', 'claude-haiku-4-5', 'u1', NULL, 400, 40, 0, 0),
       ('r09', '2026-01-09 13:00', 'claude-unreleased-test-model', NULL, 'p1', 100, 10, 0, 0),
       ('r10', '2026-01-10 00:00', 'claude-haiku-4-5', 'u1', 'p1', 1000, 100, 0, 0);

SELECT jsonb_pretty(claudecost.generate_usage_report('2026-01-05', '2026-01-10') - 'optimization_opportunities');

-- Totals equal aggregates over the raw rows of the same period.
WITH r AS (SELECT claudecost.generate_usage_report('2026-01-05', '2026-01-10') AS j),
raw AS (
    SELECT count(*) AS requests,
           sum(input_tokens + output_tokens + cache_write_5m_tokens + cache_write_1h_tokens
               + cache_read_tokens) AS tokens,
           sum(total_cost) AS cost
    FROM claudecost.usage
    WHERE occurred_at >= '2026-01-05' AND occurred_at < '2026-01-10'
)
SELECT (r.j->>'total_requests')::bigint = raw.requests AS requests_match,
       (r.j->>'total_tokens')::numeric = raw.tokens AS tokens_match,
       (r.j->>'total_cost')::numeric = raw.cost AS cost_match
FROM r, raw;

-- A period that does not start or end at UTC midnight combines whole days
-- of the daily rollup with the edge hours of the hourly rollup: totals equal
-- the raw rows whose hour starts in the period.
SELECT p.start_time, p.end_time,
       (r.j->>'total_requests')::bigint = raw.requests AS requests_match,
       (r.j->>'total_cost')::numeric = raw.cost AS cost_match,
       (SELECT sum((d->>'cost')::numeric) FROM jsonb_array_elements(r.j->'daily_usage') d) = raw.cost
           AS daily_sum_matches
FROM (VALUES ('2026-01-05 10:30'::timestamptz, '2026-01-09 12:00'::timestamptz),
             ('2026-01-05 11:00', '2026-01-06 09:00'),
             ('2026-01-08 18:30', '2026-01-08 23:00')) p(start_time, end_time)
CROSS JOIN LATERAL (SELECT claudecost.generate_usage_report(p.start_time, p.end_time, 'Asia/Kolkata') AS j) r
CROSS JOIN LATERAL (
    SELECT count(*) AS requests, coalesce(sum(total_cost), 0) AS cost FROM claudecost.usage
    WHERE date_trunc('hour', occurred_at, 'UTC') >= p.start_time
      AND date_trunc('hour', occurred_at, 'UTC') < p.end_time) raw
ORDER BY p.start_time;

-- report_daily reads whole UTC days from the daily rollup and only the
-- hours that fall on another local date from the hourly rollup; it equals
-- a grouping of every hour bucket by local date, for zones west and east
-- of UTC, with half-hour offsets and across a DST change.
SELECT z.tz, count(*) AS periods,
       bool_and((SELECT array_agg(row(d.day, d.requests, d.cost) ORDER BY d.day)
                 FROM claudecost.report_daily(p.start_time, p.end_time, z.tz) d
                 WHERE d.requests <> 0)
                IS NOT DISTINCT FROM
                (SELECT array_agg(row(x.day, x.requests, x.cost) ORDER BY x.day)
                 FROM (SELECT (h.hour AT TIME ZONE z.tz)::date AS day, sum(h.requests)::bigint AS requests,
                              sum(h.total_cost) AS cost
                       FROM claudecost.usage_hourly h
                       WHERE h.hour >= p.start_time AND h.hour < p.end_time
                       GROUP BY 1 HAVING sum(h.requests) <> 0) x)) AS same_days
FROM unnest(ARRAY['UTC', 'America/Los_Angeles', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Kathmandu',
                  'Pacific/Chatham']) AS z(tz),
     (VALUES ('2026-01-04'::timestamptz, '2026-01-11'::timestamptz),
             ('2026-01-05 10:30', '2026-01-09 12:00'),
             ('2026-01-06 09:15', '2026-01-06 09:45'),
             ('2025-10-20', '2026-04-01')) p(start_time, end_time)
GROUP BY z.tz
ORDER BY z.tz COLLATE "C";

-- Every model, user and project figure equals the raw aggregate.
WITH r AS (SELECT claudecost.generate_usage_report('2026-01-05', '2026-01-10') AS j),
raw AS (
    SELECT * FROM claudecost.usage
    WHERE occurred_at >= '2026-01-05' AND occurred_at < '2026-01-10'
)
SELECT 'model' AS breakdown, count(*) AS entries,
       bool_and(e->'cost' = (SELECT to_jsonb(coalesce(sum(total_cost), 0)) FROM raw WHERE model = e->>'model')
                AND (e->>'requests')::bigint = (SELECT count(*) FROM raw WHERE model = e->>'model'))
           AS all_match
FROM r, jsonb_array_elements(r.j->'model_breakdown') e
UNION ALL
SELECT 'user', count(*),
       bool_and(e->'cost' = (SELECT to_jsonb(coalesce(sum(total_cost), 0)) FROM raw
                             WHERE user_id IS NOT DISTINCT FROM e->>'user_id')
                AND (e->>'requests')::bigint = (SELECT count(*) FROM raw
                                                WHERE user_id IS NOT DISTINCT FROM e->>'user_id'))
FROM r, jsonb_array_elements(r.j->'user_breakdown') e
UNION ALL
SELECT 'project', count(*),
       bool_and(e->'cost' = (SELECT to_jsonb(coalesce(sum(total_cost), 0)) FROM raw
                             WHERE project_id IS NOT DISTINCT FROM e->>'project_id')
                AND (e->>'tokens')::numeric = (SELECT sum(input_tokens + output_tokens + cache_write_5m_tokens
                                                          + cache_write_1h_tokens + cache_read_tokens)
                                               FROM raw WHERE project_id IS NOT DISTINCT FROM e->>'project_id'))
FROM r, jsonb_array_elements(r.j->'project_breakdown') e;

-- The 23:30 UTC request of 2026-01-08 is on 2026-01-08 in UTC and New York
-- but on 2026-01-09 in Tokyo.  In Kolkata (UTC+05:30) the 18:00 UTC hour
-- starts at 23:30 local time, so the 18:45 UTC request (00:15 local on
-- 2026-01-09) is reported on 2026-01-08.
SELECT tz, d->>'date' AS date, d->'requests' AS requests, d->'cost' AS cost
FROM unnest(ARRAY['UTC', 'America/New_York', 'Asia/Tokyo', 'Asia/Kolkata']) WITH ORDINALITY AS z(tz, n),
     jsonb_array_elements(claudecost.generate_usage_report(
         '2026-01-08 00:00'::timestamp AT TIME ZONE tz,
         '2026-01-10 00:00'::timestamp AT TIME ZONE tz, tz)->'daily_usage') d
ORDER BY n, date;

-- Local days with their hours: Kolkata days start at 18:30 UTC, so the
-- hour buckets starting at 19:00 UTC and later are in the period.
SELECT claudecost.generate_usage_report('2026-01-08 18:30', '2026-01-09 18:30', 'Asia/Kolkata')
       -> 'daily_usage' AS kolkata_2026_01_09;

-- A known linear series: 1, 2, 3, 4 and 5 USD on five days (haiku 4.5 input
-- at 1 USD per million tokens): slope 1 USD per day, average 3, growth
-- rate 1/3 of the average per day.
INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens)
SELECT '2026-02-01 12:00'::timestamptz + (i - 1) * interval '1 day', 'claude-haiku-4-5', 'u1', 'p1',
       i * 1000000, 0
FROM generate_series(1, 5) i;
SELECT jsonb_pretty(claudecost.generate_usage_report('2026-02-01', '2026-02-06')->'cost_trends');
-- Three days of the series (3, 4, 5): growth 1/4 of the average per day.
-- A period from 23:00 has two days (0, 5).  An empty period has no growth
-- rate and no peak day.
SELECT claudecost.generate_usage_report('2026-02-03', '2026-02-06')->'cost_trends'->'growth_rate' AS rising,
       claudecost.report_cost_trends('2026-02-04 23:00', '2026-02-06') AS partial,
       claudecost.generate_usage_report('2026-02-10', '2026-02-12')->'cost_trends' AS empty;

-- An empty period: zeros, zero days listed.
SELECT jsonb_pretty(claudecost.generate_usage_report('2026-02-10', '2026-02-12'));

-- Opportunities: each day of March 2026 has data crafted for one kind;
-- 2026-03-09 has none of them.  All rows carry a user, use one model,
-- write no cache, have no prompt_hash and similar sizes unless the day
-- is about that.
INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens,
                              cache_write_5m_tokens, cache_read_tokens, prompt_hash)
-- 2026-03-02: short output from opus 4.5 while haiku 4.5 is in use.
SELECT '2026-03-02 10:00'::timestamptz, 'claude-opus-4-5', 'u1', 'p1', 1000, 100, 0, 0, NULL::text FROM generate_series(1, 5)
UNION ALL SELECT '2026-03-02 11:00', 'claude-haiku-4-5', 'u1', 'p1', 1000, 100, 0, 0, NULL
-- 2026-03-03: user u9 sends 50,000-token prompts, others 1,000.
UNION ALL SELECT '2026-03-03 10:00', 'claude-haiku-4-5', 'u9', 'p1', 50000, 100, 0, 0, NULL FROM generate_series(1, 10)
UNION ALL SELECT '2026-03-03 10:00', 'claude-haiku-4-5', 'u' || (i % 3), 'p1', 1000, 100, 0, 0, NULL
          FROM generate_series(1, 30) i
-- 2026-03-04: cache writes that are never read.
UNION ALL SELECT '2026-03-04 10:00', 'claude-haiku-4-5', 'u1', 'p1', 1000, 100, 20000, 0, NULL FROM generate_series(1, 3)
-- 2026-03-05: the same prompt four times, uncached.
UNION ALL SELECT '2026-03-05 10:00', 'claude-haiku-4-5', 'u1', 'p1', 5000, 100, 0, 0, 'sha256:aa' FROM generate_series(1, 4)
UNION ALL SELECT '2026-03-05 11:00', 'claude-haiku-4-5', 'u1', 'p1', 5000, 100, 0, 0, 'sha256:bb'
-- 2026-03-06: standard-tier requests without an end user.
UNION ALL SELECT '2026-03-06 10:00', 'claude-haiku-4-5', NULL, 'p1', 1000, 100, 0, 0, NULL FROM generate_series(1, 4)
-- 2026-03-07: prompts 5% over sonnet 4.5's 200,000-token threshold.
UNION ALL SELECT '2026-03-07 10:00', 'claude-sonnet-4-5', 'u1', 'p1', 210000, 100, 0, 0, NULL FROM generate_series(1, 2)
-- 2026-03-08: far over the threshold (not "just over"), one user.
UNION ALL SELECT '2026-03-08 10:00', 'claude-sonnet-4-5', 'u1', 'p1', 400000, 100, 0, 0, NULL
-- 2026-03-09: none of the above; cache writes that are read back, distinct
-- prompts, batch-tier jobs are counted separately below.
UNION ALL SELECT '2026-03-09 10:00', 'claude-haiku-4-5', 'u' || (i % 4), 'p' || (i % 2), 1000, 100,
                 CASE WHEN i = 1 THEN 2000 ELSE 0 END, CASE WHEN i > 1 THEN 2000 ELSE 0 END,
                 'sha256:' || i
          FROM generate_series(1, 12) i;
INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens, service_tier)
VALUES ('2026-03-09 11:00', 'claude-haiku-4-5', NULL, 'p1', 1000, 100, 'batch');

SELECT d::date AS day, o->>'type' AS type, o->'potential_savings' AS savings, o->>'effort' AS effort,
       o->>'description' AS description
FROM generate_series('2026-03-02'::timestamptz, '2026-03-09', interval '1 day') d
LEFT JOIN LATERAL jsonb_array_elements(
    claudecost.generate_usage_report(d, d + interval '1 day')->'optimization_opportunities') o ON true
ORDER BY day, o->>'type' COLLATE "C";

-- Each element has every key, and savings are numbers.
SELECT DISTINCT (SELECT array_agg(k ORDER BY k COLLATE "C") FROM jsonb_object_keys(o) k) AS keys,
       jsonb_typeof(o->'potential_savings') AS savings_type,
       jsonb_typeof(o->'recommendations') AS recommendations_type
FROM jsonb_array_elements(claudecost.usage_opportunities('2026-03-02', '2026-03-09')) o;

-- Savings figures checked by hand.
-- Downgrade: 5 opus requests of 1000 in/100 out cost 5 x 0.0075; at haiku
-- rates 5 x 0.0015: savings 0.03.
-- Batch: 4 haiku requests of 1000 in/100 out cost 4 x 0.0015; half: 0.003.
-- Long context: 2 x (210000 x 6 + 100 x 22.5) / 1e6 = 2.5245 versus
-- 2 x (210000 x 3 + 100 x 15) / 1e6 = 1.263: savings 1.2615.
SELECT o->>'type' AS type, o->'potential_savings' AS savings
FROM jsonb_array_elements(claudecost.usage_opportunities('2026-03-02', '2026-03-03')
                          || claudecost.usage_opportunities('2026-03-06', '2026-03-07')
                          || claudecost.usage_opportunities('2026-03-07', '2026-03-08')) o
ORDER BY o->>'type' COLLATE "C";

-- Repeated prompts are counted per UTC day; a period counts the days that
-- start in it, so a period from 06:00 leaves 2026-03-05 out.
SELECT o->>'type' AS type FROM jsonb_array_elements(claudecost.usage_opportunities('2026-03-05', '2026-03-05 12:00')) o
ORDER BY o->>'type' COLLATE "C";
SELECT claudecost.usage_opportunities('2026-03-05 06:00', '2026-03-06 06:00') AS from_0600;

-- Deleting the repeated prompts removes their opportunities at once.
DELETE FROM claudecost.usage WHERE prompt_hash = 'sha256:aa';
SELECT claudecost.usage_opportunities('2026-03-05', '2026-03-06') AS after_delete;

-- Invalid arguments.
\set SHOW_CONTEXT never
SELECT claudecost.generate_usage_report('2026-01-10', '2026-01-05');
SELECT claudecost.generate_usage_report('2026-01-05', '2026-01-05');
SELECT claudecost.generate_usage_report('2026-01-05', 'infinity');
SELECT claudecost.generate_usage_report('2026-01-05', '2026-01-10', 'Mars/Olympus_Mons');
SELECT claudecost.generate_usage_report('2026-01-05', NULL);
