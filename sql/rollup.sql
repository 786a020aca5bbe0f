-- The hourly rollup stays equal to the raw rows through inserts, updates,
\set SHOW_CONTEXT never
-- deletes, reprice and COPY.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- A deterministic mix of models, users, projects, tiers and hours.
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, api_key_id,
                              service_tier, inference_geo, input_tokens, output_tokens,
                              cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens,
                              web_search_requests)
SELECT 'r' || g,
       timestamptz '2026-03-01 00:00+00' + (g * interval '37 minutes'),
       (ARRAY['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-6', 'claude-nova-9'])[1 + g % 4],
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'user' || (g % 3) END,
       'project' || (g % 2),
       'key' || (g % 2),
       (ARRAY['standard', 'batch', 'priority'])[1 + g % 3],
       CASE WHEN g % 7 = 0 THEN 'us' END,
       100 * g, 10 * g, g % 11 * 50, g % 13 * 20, g % 17 * 1000, g % 3
FROM generate_series(1, 400) AS g;
SELECT count(*) AS rollup_rows, sum(requests) AS requests, sum(unpriced_requests) AS unpriced
FROM claudecost.usage_hourly;
SELECT count(*) AS differences FROM claudecost.verify_rollups();

-- One statement that inserts several rows into one key adds them once each.
INSERT INTO claudecost.usage (occurred_at, model, input_tokens)
SELECT '2026-03-05 10:15+00', 'claude-haiku-4-5', 10 FROM generate_series(1, 3);
SELECT requests, input_tokens FROM claudecost.usage_hourly
WHERE hour = '2026-03-05 10:00+00' AND model = 'claude-haiku-4-5' AND project_id = '';

-- Updates move figures between keys (user, hour) and change costs.
UPDATE claudecost.usage SET user_id = 'user9' WHERE request_id LIKE 'r1%';
UPDATE claudecost.usage SET occurred_at = occurred_at + interval '3 hours', output_tokens = output_tokens + 1
WHERE request_id LIKE 'r2%';
-- Deletes subtract.
DELETE FROM claudecost.usage WHERE request_id LIKE 'r3%';

-- An update that changes no rolled-up figure rewrites no rollup row.
SELECT pg_catalog.txid_current() AS before_update \gset
UPDATE claudecost.usage SET metadata = '{"note": "reviewed"}' WHERE request_id LIKE 'r4%';
SELECT count(*) AS rollup_rows_rewritten FROM claudecost.usage_hourly
WHERE xmin::text::bigint > :before_update;
-- A statement that changes no row does not touch the rollup either.
DELETE FROM claudecost.usage WHERE request_id = 'no such row';
SELECT count(*) AS differences FROM claudecost.verify_rollups();

-- A price for the unknown model, then reprice(): rollup costs follow.
SELECT sum(unpriced_requests) AS unpriced_before FROM claudecost.usage_hourly;
SELECT claudecost.add_price('claude-nova-9', 2, 8, effective_from => '2026-01-01') > 0 AS added;
SELECT claudecost.reprice() > 0 AS repriced;
SELECT sum(unpriced_requests) AS unpriced_after,
       sum(total_cost) = (SELECT sum(total_cost) FROM claudecost.usage) AS cost_matches
FROM claudecost.usage_hourly;
SELECT count(*) AS differences FROM claudecost.verify_rollups();

-- COPY goes through the same triggers.
COPY claudecost.usage (request_id, occurred_at, model, user_id, input_tokens, output_tokens) FROM stdin;
copy1	2026-03-10 01:00:00+00	claude-sonnet-4-6	carol	1000	100
copy2	2026-03-10 01:30:00+00	claude-sonnet-4-6	carol	2000	200
copy3	2026-03-10 02:00:00+00	claude-nova-9	\N	3000	300
\.
SELECT requests, input_tokens, output_tokens, total_cost FROM claudecost.usage_hourly
WHERE hour = '2026-03-10 01:00+00' AND user_id = 'carol';
SELECT count(*) AS differences FROM claudecost.verify_rollups();

-- Hours are UTC whatever the session time zone, including half-hour offsets.
SET TimeZone = 'Asia/Kolkata';
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens)
VALUES ('kolkata', '2026-03-11 05:45:00+05:30', 'claude-haiku-4-5', 1);
SELECT hour AT TIME ZONE 'UTC' AS utc_hour FROM claudecost.usage_hourly h
JOIN claudecost.usage u ON u.request_id = 'kolkata' AND h.hour = claudecost.rollup_hour(u.occurred_at)
  AND h.model = u.model AND h.user_id = '' AND h.input_tokens = 1;
RESET TimeZone;

-- A mismatch planted directly in the rollup is reported.
UPDATE claudecost.usage_hourly SET requests = requests + 1
WHERE hour = '2026-03-10 01:00+00' AND user_id = 'carol';
SELECT model, user_id, rollup_requests, raw_requests FROM claudecost.verify_rollups();

-- Deleting everything leaves no figures behind.
DELETE FROM claudecost.usage;
SELECT count(*) FILTER (WHERE requests <> 0 OR total_cost <> 0 OR input_tokens <> 0) AS nonzero_rows
FROM claudecost.usage_hourly
WHERE NOT (hour = '2026-03-10 01:00+00' AND user_id = 'carol');

-- The rollup trigger function refuses to run anywhere else.
CREATE TABLE public.not_usage (model text);
CREATE TRIGGER wrong_level AFTER INSERT ON public.not_usage
    FOR EACH ROW EXECUTE FUNCTION claudecost.usage_rollup();
INSERT INTO public.not_usage VALUES ('x');
DROP TABLE public.not_usage;

-- TRUNCATE of the ledger empties the rollup.
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens)
VALUES ('t1', '2026-03-12 10:00+00', 'claude-haiku-4-5', 100);
TRUNCATE claudecost.usage;
SELECT count(*) AS rollup_rows FROM claudecost.usage_hourly;
SELECT count(*) AS differences FROM claudecost.verify_rollups();
