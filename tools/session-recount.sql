-- Independent recount of Claude Code session logs, without claudecost.ingest.
--
-- Input: a table session_line (file text, line_number bigint, line text)
-- holding the raw log lines.  Output: temporary views
--   recount_response  one row per billable response (message id), counters
--                     deduplicated by maximum, priced with claudecost.cost;
--   recount_by_model  requests, token sums and cost per model;
--   ingest_by_model   the same figures read from claudecost.usage;
--   recount_mismatch  models whose figures differ (empty when they agree).
-- Used by sql/ingest_samples.sql and tools/check-all-sessions.sh.

CREATE TEMP VIEW recount_line AS
SELECT j -> 'message' ->> 'id' AS message_id,
       j -> 'message' ->> 'model' AS model,
       j -> 'message' -> 'usage' AS usage,
       (j ->> 'timestamp')::timestamptz AS occurred_at
FROM (SELECT line::jsonb AS j FROM session_line WHERE line ~ '\S') AS parsed
WHERE j ->> 'type' = 'assistant'
  AND NOT coalesce((j ->> 'isApiErrorMessage')::boolean, false)
  AND j -> 'message' ->> 'model' IS DISTINCT FROM '<synthetic>';

CREATE TEMP VIEW recount_response AS
SELECT message_id, model, occurred_at, input_tokens, output_tokens, w5m, w1h, cache_read,
       web_search, service_tier, inference_geo, speed,
       claudecost.cost(model, input_tokens, output_tokens, w5m, w1h, cache_read,
                       web_search, service_tier, occurred_at, inference_geo, speed) AS cost
FROM (
    SELECT message_id,
           min(model) AS model,
           min(occurred_at) AS occurred_at,
           max((usage ->> 'input_tokens')::bigint) AS input_tokens,
           max((usage ->> 'output_tokens')::bigint) AS output_tokens,
           -- Without the 5m/1h split every cache write is a 5-minute write.
           max(CASE WHEN usage ? 'cache_creation'
                    THEN (usage -> 'cache_creation' ->> 'ephemeral_5m_input_tokens')::bigint
                    ELSE coalesce((usage ->> 'cache_creation_input_tokens')::bigint, 0) END) AS w5m,
           max(coalesce((usage -> 'cache_creation' ->> 'ephemeral_1h_input_tokens')::bigint, 0)) AS w1h,
           max(coalesce((usage ->> 'cache_read_input_tokens')::bigint, 0)) AS cache_read,
           max(coalesce((usage -> 'server_tool_use' ->> 'web_search_requests')::integer, 0)) AS web_search,
           min(coalesce(usage ->> 'service_tier', 'standard')) AS service_tier,
           min(nullif(nullif(usage ->> 'inference_geo', ''), 'not_available')) AS inference_geo,
           min(usage ->> 'speed') AS speed
    FROM recount_line
    GROUP BY message_id
) AS response
WHERE input_tokens + output_tokens + w5m + w1h + cache_read + web_search > 0;

CREATE TEMP VIEW recount_by_model AS
SELECT model, count(*) AS requests, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(w5m) AS cache_write_5m_tokens,
       sum(w1h) AS cache_write_1h_tokens, sum(cache_read) AS cache_read_tokens,
       sum(cost) AS total_cost
FROM recount_response
GROUP BY model;

CREATE TEMP VIEW ingest_by_model AS
SELECT model, count(*) AS requests, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cache_write_5m_tokens) AS cache_write_5m_tokens,
       sum(cache_write_1h_tokens) AS cache_write_1h_tokens, sum(cache_read_tokens) AS cache_read_tokens,
       sum(total_cost) AS total_cost
FROM claudecost.usage
GROUP BY model;

CREATE TEMP VIEW recount_mismatch AS
(SELECT 'recount' AS side, * FROM recount_by_model EXCEPT SELECT 'recount', * FROM ingest_by_model)
UNION ALL
(SELECT 'ingest', * FROM ingest_by_model EXCEPT SELECT 'ingest', * FROM recount_by_model);
