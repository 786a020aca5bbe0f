-- First reports: plain views over usage_hourly with stable column names
-- for BI tools, and two jsonb summaries.  Days are UTC days.

-- Models are grouped by the catalog id they resolve to (an alias and its
-- dated id are one model); unknown names are kept as written.  Cost columns
-- are NULL when no request of the group has a price.
CREATE VIEW claudecost.daily_usage AS
SELECT (h.hour AT TIME ZONE 'UTC')::date AS day,
       coalesce(claudecost.resolve_model(h.model), h.model) AS model,
       NULLIF(h.user_id, '') AS user_id,
       NULLIF(h.project_id, '') AS project_id,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens) AS input_tokens,
       sum(h.output_tokens) AS output_tokens,
       sum(h.cache_write_5m_tokens) AS cache_write_5m_tokens,
       sum(h.cache_write_1h_tokens) AS cache_write_1h_tokens,
       sum(h.cache_read_tokens) AS cache_read_tokens,
       sum(h.web_search_requests)::bigint AS web_search_requests,
       sum(h.web_fetch_requests)::bigint AS web_fetch_requests,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.input_cost) END AS input_cost,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.output_cost) END AS output_cost,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.cache_write_cost) END AS cache_write_cost,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.cache_read_cost) END AS cache_read_cost,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.tool_cost) END AS tool_cost,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.total_cost) END AS total_cost
FROM claudecost.usage_hourly h
GROUP BY 1, 2, 3, 4
HAVING sum(h.requests) <> 0;

COMMENT ON VIEW claudecost.daily_usage IS
    'Requests, tokens and USD cost per UTC day, model, user and project';

-- Shared shape of the three cost_by_* views: one dimension, all figures.
CREATE VIEW claudecost.cost_by_model AS
SELECT coalesce(claudecost.resolve_model(h.model), h.model) AS model,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens) AS input_tokens,
       sum(h.output_tokens) AS output_tokens,
       sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS cache_write_tokens,
       sum(h.cache_read_tokens) AS cache_read_tokens,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.total_cost) END AS total_cost,
       min(h.hour) FILTER (WHERE h.requests <> 0) AS first_hour,
       max(h.hour) FILTER (WHERE h.requests <> 0) AS last_hour
FROM claudecost.usage_hourly h
GROUP BY 1
HAVING sum(h.requests) <> 0;

COMMENT ON VIEW claudecost.cost_by_model IS 'All-time requests, tokens and USD cost per model';

CREATE VIEW claudecost.cost_by_user AS
SELECT NULLIF(h.user_id, '') AS user_id,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens) AS input_tokens,
       sum(h.output_tokens) AS output_tokens,
       sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS cache_write_tokens,
       sum(h.cache_read_tokens) AS cache_read_tokens,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.total_cost) END AS total_cost,
       min(h.hour) FILTER (WHERE h.requests <> 0) AS first_hour,
       max(h.hour) FILTER (WHERE h.requests <> 0) AS last_hour
FROM claudecost.usage_hourly h
GROUP BY h.user_id
HAVING sum(h.requests) <> 0;

COMMENT ON VIEW claudecost.cost_by_user IS 'All-time requests, tokens and USD cost per user';

CREATE VIEW claudecost.cost_by_project AS
SELECT NULLIF(h.project_id, '') AS project_id,
       sum(h.requests)::bigint AS requests,
       sum(h.unpriced_requests)::bigint AS unpriced_requests,
       sum(h.input_tokens) AS input_tokens,
       sum(h.output_tokens) AS output_tokens,
       sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS cache_write_tokens,
       sum(h.cache_read_tokens) AS cache_read_tokens,
       CASE WHEN sum(h.requests) <> sum(h.unpriced_requests) THEN sum(h.total_cost) END AS total_cost,
       min(h.hour) FILTER (WHERE h.requests <> 0) AS first_hour,
       max(h.hour) FILTER (WHERE h.requests <> 0) AS last_hour
FROM claudecost.usage_hourly h
GROUP BY h.project_id
HAVING sum(h.requests) <> 0;

COMMENT ON VIEW claudecost.cost_by_project IS 'All-time requests, tokens and USD cost per project';

-- Token totals for one user and/or project (NULL = any), with the same
-- figures by model and by UTC day.
CREATE FUNCTION claudecost.get_token_usage(user_id text DEFAULT NULL, project_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH h AS (
        SELECT * FROM claudecost.usage_hourly h
        WHERE ($1 IS NULL OR h.user_id = $1)
          AND ($2 IS NULL OR h.project_id = $2)
          AND h.requests <> 0
    ),
    by_model AS (
        SELECT coalesce(claudecost.resolve_model(h.model), h.model) AS model,
               sum(h.requests) AS requests, sum(h.input_tokens) AS input_tokens,
               sum(h.output_tokens) AS output_tokens,
               sum(h.cache_write_5m_tokens + h.cache_write_1h_tokens) AS cache_write_tokens,
               sum(h.cache_read_tokens) AS cache_read_tokens, sum(h.total_cost) AS total_cost
        FROM h GROUP BY 1
    ),
    by_day AS (
        SELECT (h.hour AT TIME ZONE 'UTC')::date AS day, sum(h.requests) AS requests,
               sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens
                   + h.cache_write_1h_tokens + h.cache_read_tokens) AS total_tokens,
               sum(h.total_cost) AS total_cost
        FROM h GROUP BY 1
    )
    SELECT jsonb_build_object(
        'user_id', $1,
        'project_id', $2,
        'requests', coalesce(sum(h.requests), 0),
        'input_tokens', coalesce(sum(h.input_tokens), 0),
        'output_tokens', coalesce(sum(h.output_tokens), 0),
        'cache_write_5m_tokens', coalesce(sum(h.cache_write_5m_tokens), 0),
        'cache_write_1h_tokens', coalesce(sum(h.cache_write_1h_tokens), 0),
        'cache_read_tokens', coalesce(sum(h.cache_read_tokens), 0),
        'total_tokens', coalesce(sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens
                                     + h.cache_write_1h_tokens + h.cache_read_tokens), 0),
        'total_cost', coalesce(sum(h.total_cost), 0),
        'currency', 'USD',
        'by_model', coalesce((SELECT jsonb_agg(to_jsonb(m) ORDER BY m.model COLLATE "C") FROM by_model m), '[]'),
        'by_day', coalesce((SELECT jsonb_agg(to_jsonb(d) ORDER BY d.day) FROM by_day d), '[]'))
    FROM h
$$;

COMMENT ON FUNCTION claudecost.get_token_usage(text, text) IS
    'Token and cost totals for a user and/or project (NULL = all), by model and by UTC day, as jsonb';

-- USD cost split by token class, by model and by UTC day.
CREATE FUNCTION claudecost.get_cost_breakdown()
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH h AS (
        SELECT * FROM claudecost.usage_hourly h WHERE h.requests <> 0
    ),
    by_model AS (
        SELECT coalesce(claudecost.resolve_model(h.model), h.model) AS model,
               sum(h.requests) AS requests, sum(h.unpriced_requests) AS unpriced_requests,
               sum(h.input_cost) AS input_cost, sum(h.output_cost) AS output_cost,
               sum(h.cache_write_cost) AS cache_write_cost, sum(h.cache_read_cost) AS cache_read_cost,
               sum(h.tool_cost) AS tool_cost, sum(h.total_cost) AS total_cost
        FROM h GROUP BY 1
    ),
    by_day AS (
        SELECT (h.hour AT TIME ZONE 'UTC')::date AS day, sum(h.requests) AS requests,
               sum(h.total_cost) AS total_cost
        FROM h GROUP BY 1
    )
    SELECT jsonb_build_object(
        'currency', 'USD',
        'requests', coalesce(sum(h.requests), 0),
        'unpriced_requests', coalesce(sum(h.unpriced_requests), 0),
        'input_cost', coalesce(sum(h.input_cost), 0),
        'output_cost', coalesce(sum(h.output_cost), 0),
        'cache_write_cost', coalesce(sum(h.cache_write_cost), 0),
        'cache_read_cost', coalesce(sum(h.cache_read_cost), 0),
        'tool_cost', coalesce(sum(h.tool_cost), 0),
        'total_cost', coalesce(sum(h.total_cost), 0),
        'by_model', coalesce((SELECT jsonb_agg(to_jsonb(m) ORDER BY m.total_cost DESC, m.model COLLATE "C") FROM by_model m), '[]'),
        'by_day', coalesce((SELECT jsonb_agg(to_jsonb(d) ORDER BY d.day) FROM by_day d), '[]'))
    FROM h
$$;

COMMENT ON FUNCTION claudecost.get_cost_breakdown() IS
    'All-time USD cost by token class, by model and by UTC day, as jsonb';
