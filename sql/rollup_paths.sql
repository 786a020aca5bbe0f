-- Single-row statements take a one-row path through the rollup trigger and
-- larger statements a set-based one; both must give the rollups of the raw
-- rows, with every kind of row: unpriced, long context, repeated prompts,
-- NULL dimensions, web requests and 1-hour cache writes.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

CREATE TEMP TABLE sample AS
SELECT g,
       timestamptz '2026-03-01 23:00+00' + (g * interval '13 minutes') AS occurred_at,
       (ARRAY['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-nova-9', 'claude-sonnet-4-5'])[1 + g % 4] AS model,
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'user' || (g % 3) END AS user_id,
       CASE WHEN g % 6 = 0 THEN NULL ELSE 'project' || (g % 2) END AS project_id,
       CASE WHEN g % 4 = 0 THEN 'key1' END AS api_key_id,
       CASE WHEN g % 9 = 0 THEN 'ws1' END AS workspace_id,
       (ARRAY['standard', 'batch', 'priority'])[1 + g % 3] AS service_tier,
       CASE WHEN g % 7 = 0 THEN 'us' END AS inference_geo,
       CASE WHEN g % 8 = 0 THEN 'fast' END AS speed,
       CASE WHEN g % 3 = 0 THEN 'prompt' || (g % 4) END AS prompt_hash,
       -- Every tenth Sonnet 4.5 row is just over 200,000 prompt tokens.
       CASE WHEN g % 10 = 3 THEN 205000 ELSE 100 * g END AS input_tokens,
       10 * g AS output_tokens, g % 11 * 50 AS cache_write_5m_tokens,
       g % 13 * 20 AS cache_write_1h_tokens, g % 17 * 100 AS cache_read_tokens,
       g % 3 AS web_search_requests, g % 2 AS web_fetch_requests
FROM generate_series(1, 60) AS g;

-- One row per statement: the one-row path.
DO $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT * FROM pg_temp.sample ORDER BY g LOOP
        INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, api_key_id,
                                      workspace_id, service_tier, inference_geo, speed, prompt_hash,
                                      input_tokens, output_tokens, cache_write_5m_tokens,
                                      cache_write_1h_tokens, cache_read_tokens, web_search_requests,
                                      web_fetch_requests)
        VALUES ('single-' || s.g, s.occurred_at, s.model, s.user_id, s.project_id, s.api_key_id,
                s.workspace_id, s.service_tier, s.inference_geo, s.speed, s.prompt_hash,
                s.input_tokens, s.output_tokens, s.cache_write_5m_tokens, s.cache_write_1h_tokens,
                s.cache_read_tokens, s.web_search_requests, s.web_fetch_requests);
    END LOOP;
END
$$;

-- The same rows again in one statement: the set-based path.
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, api_key_id,
                              workspace_id, service_tier, inference_geo, speed, prompt_hash,
                              input_tokens, output_tokens, cache_write_5m_tokens,
                              cache_write_1h_tokens, cache_read_tokens, web_search_requests,
                              web_fetch_requests)
SELECT 'multi-' || g, occurred_at, model, user_id, project_id, api_key_id, workspace_id,
       service_tier, inference_geo, speed, prompt_hash, input_tokens, output_tokens,
       cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, web_search_requests,
       web_fetch_requests
FROM pg_temp.sample;

SELECT count(*) FILTER (WHERE long_context) AS long_context_rows,
       count(*) FILTER (WHERE total_cost IS NULL) AS unpriced_rows,
       count(*) FILTER (WHERE prompt_hash IS NOT NULL) AS prompt_rows
FROM claudecost.usage;

-- Both paths added the same figures: every rollup holds exactly twice the
-- figures of one copy of the sample.
SELECT sum(requests) AS requests, sum(unpriced_requests) AS unpriced, sum(input_tokens) AS input_tokens,
       sum(web_fetch_requests) AS web_fetch, sum(total_cost) AS total_cost
FROM claudecost.usage_hourly;
SELECT sum(requests) AS requests, sum(total_cost) AS total_cost FROM claudecost.usage_analytics_daily;
SELECT sum(requests) AS requests FROM claudecost.usage_analytics_prompt;
SELECT sum(requests) AS requests, sum(base_cost) AS base_cost FROM claudecost.usage_analytics_long_context;
SELECT count(*) AS hourly_differences FROM claudecost.verify_rollups();
SELECT count(*) AS analytics_differences FROM claudecost.verify_analytics_rollups();

-- Single-row deletes take the one-row path with the sign reversed.
DO $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT g FROM pg_temp.sample WHERE g % 2 = 0 ORDER BY g LOOP
        DELETE FROM claudecost.usage WHERE request_id = 'single-' || s.g;
    END LOOP;
END
$$;
SELECT count(*) AS hourly_differences FROM claudecost.verify_rollups();
SELECT count(*) AS analytics_differences FROM claudecost.verify_analytics_rollups();

-- A single-row UPDATE takes the set-based path.
UPDATE claudecost.usage SET output_tokens = output_tokens + 1, prompt_hash = 'prompt9'
WHERE request_id = 'single-1';
SELECT count(*) AS hourly_differences FROM claudecost.verify_rollups();
SELECT count(*) AS analytics_differences FROM claudecost.verify_analytics_rollups();

-- Deleting everything row by row leaves every figure at zero.
DO $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT id FROM claudecost.usage ORDER BY id LOOP
        DELETE FROM claudecost.usage WHERE id = s.id;
    END LOOP;
END
$$;
SELECT count(*) FILTER (WHERE requests <> 0 OR total_cost <> 0 OR input_tokens <> 0) AS nonzero_hourly
FROM claudecost.usage_hourly;
SELECT count(*) FILTER (WHERE requests <> 0 OR total_cost <> 0) AS nonzero_daily
FROM claudecost.usage_analytics_daily;
SELECT count(*) AS hourly_differences FROM claudecost.verify_rollups();
SELECT count(*) AS analytics_differences FROM claudecost.verify_analytics_rollups();

-- TRUNCATE empties every rollup.
INSERT INTO claudecost.usage (occurred_at, model, input_tokens, prompt_hash)
VALUES ('2026-03-02 10:00+00', 'claude-haiku-4-5', 5, 'p');
TRUNCATE claudecost.usage;
SELECT (SELECT count(*) FROM claudecost.usage_hourly) AS hourly,
       (SELECT count(*) FROM claudecost.usage_analytics_daily) AS daily,
       (SELECT count(*) FROM claudecost.usage_analytics_prompt) AS prompt,
       (SELECT count(*) FROM claudecost.usage_analytics_prompt_day) AS prompt_day,
       (SELECT count(*) FROM claudecost.usage_analytics_long_context) AS long_context;
