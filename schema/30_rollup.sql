-- Hourly rollup of the usage ledger.
--
-- One row per UTC hour and report dimensions.  Statement-level triggers with
-- transition tables keep it exact on INSERT, UPDATE (reprice included) and
-- DELETE of usage, so reports read a table whose size grows with hours x
-- dimensions, not with requests.  Dimensions that are NULL in usage are
-- stored as '' here, so the key can be a plain unique constraint.  The
-- report views turn them back into NULL.

CREATE TABLE claudecost.usage_hourly (
    hour timestamptz NOT NULL,
    project_id text NOT NULL,
    model text NOT NULL,
    user_id text NOT NULL,
    api_key_id text NOT NULL,
    workspace_id text NOT NULL,
    service_tier text NOT NULL,
    -- '0-200k' or '200k-1M' (long-context tier applied), as in the Admin API.
    context_window text NOT NULL,
    inference_geo text NOT NULL,
    speed text NOT NULL,
    requests bigint NOT NULL DEFAULT 0,
    -- Requests whose total_cost is NULL (no price in force).
    unpriced_requests bigint NOT NULL DEFAULT 0,
    input_tokens numeric NOT NULL DEFAULT 0,
    output_tokens numeric NOT NULL DEFAULT 0,
    cache_write_5m_tokens numeric NOT NULL DEFAULT 0,
    cache_write_1h_tokens numeric NOT NULL DEFAULT 0,
    cache_read_tokens numeric NOT NULL DEFAULT 0,
    web_search_requests bigint NOT NULL DEFAULT 0,
    web_fetch_requests bigint NOT NULL DEFAULT 0,
    input_cost numeric NOT NULL DEFAULT 0,
    output_cost numeric NOT NULL DEFAULT 0,
    cache_write_cost numeric NOT NULL DEFAULT 0,
    cache_read_cost numeric NOT NULL DEFAULT 0,
    tool_cost numeric NOT NULL DEFAULT 0,
    total_cost numeric NOT NULL DEFAULT 0,
    CONSTRAINT usage_hourly_key UNIQUE (hour, project_id, model, user_id, api_key_id,
                                        workspace_id, service_tier, context_window,
                                        inference_geo, speed)
)
-- Every usage statement updates rollup rows in place; free space on each
-- page lets those updates stay heap-only, without a new index entry.
WITH (fillfactor = 70);

COMMENT ON TABLE claudecost.usage_hourly IS
    'Exact hourly rollup of claudecost.usage (UTC hours), maintained by statement triggers';

-- Rollup key of one usage row: UTC hour and dimensions with NULL as ''.
-- The same expressions appear in every rollup statement below and in
-- claudecost.verify_rollups().
CREATE FUNCTION claudecost.rollup_hour(occurred_at timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT pg_catalog.date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' $$;

COMMENT ON FUNCTION claudecost.rollup_hour(timestamptz) IS
    'Start of the UTC hour that a usage row is rolled up into';

CREATE FUNCTION claudecost.rollup_context_window(long_context boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN long_context THEN '200k-1M' ELSE '0-200k' END $$;

-- Keeps usage_hourly and the analytics rollups (created further on) equal
-- to the ledger: see src/rollup_trigger.c.  The search_path is pinned
-- because the trigger plans SQL with unqualified built-in functions and
-- operators.  work_mem is raised so that the planner aggregates a large
-- COPY in a hash table.  It estimates one group per ten rows, so at 32 MB
-- it sorted a million-row COPY on disk instead and the COPY ran 25 %
-- slower.  Only statements of many rows use that much memory.
CREATE FUNCTION claudecost.usage_rollup()
RETURNS trigger
AS 'MODULE_PATHNAME', 'claudecost_usage_rollup'
LANGUAGE C
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET work_mem = '128MB';

CREATE TRIGGER usage_rollup_insert
    AFTER INSERT ON claudecost.usage
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.usage_rollup();
CREATE TRIGGER usage_rollup_update
    AFTER UPDATE ON claudecost.usage
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.usage_rollup();
CREATE TRIGGER usage_rollup_delete
    AFTER DELETE ON claudecost.usage
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.usage_rollup();
CREATE TRIGGER usage_rollup_truncate
    AFTER TRUNCATE ON claudecost.usage
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.usage_rollup();

-- Compares usage_hourly with an aggregate of the raw usage rows and returns
-- every key whose figures differ (no rows: the rollup is exact).  It scans
-- the whole ledger, so it is for tests and audits, not for reports.
CREATE FUNCTION claudecost.verify_rollups()
RETURNS TABLE (hour timestamptz, project_id text, model text, user_id text,
               api_key_id text, workspace_id text, service_tier text, context_window text,
               inference_geo text, speed text, rollup_requests bigint,
               raw_requests bigint, rollup_total_cost numeric, raw_total_cost numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH raw AS (
        SELECT claudecost.rollup_hour(u.occurred_at) AS hour, coalesce(u.project_id, '') AS project_id,
               u.model, coalesce(u.user_id, '') AS user_id, coalesce(u.api_key_id, '') AS api_key_id,
               coalesce(u.workspace_id, '') AS workspace_id, u.service_tier,
               claudecost.rollup_context_window(u.long_context) AS context_window,
               coalesce(u.inference_geo, '') AS inference_geo, coalesce(u.speed, '') AS speed,
               count(*) AS requests, count(*) FILTER (WHERE u.total_cost IS NULL) AS unpriced_requests,
               sum(u.input_tokens) AS input_tokens, sum(u.output_tokens) AS output_tokens,
               sum(u.cache_write_5m_tokens) AS cache_write_5m_tokens,
               sum(u.cache_write_1h_tokens) AS cache_write_1h_tokens,
               sum(u.cache_read_tokens) AS cache_read_tokens,
               sum(u.web_search_requests) AS web_search_requests,
               sum(u.web_fetch_requests) AS web_fetch_requests,
               coalesce(sum(u.input_cost), 0) AS input_cost, coalesce(sum(u.output_cost), 0) AS output_cost,
               coalesce(sum(u.cache_write_cost), 0) AS cache_write_cost,
               coalesce(sum(u.cache_read_cost), 0) AS cache_read_cost,
               coalesce(sum(u.tool_cost), 0) AS tool_cost, coalesce(sum(u.total_cost), 0) AS total_cost
        FROM claudecost.usage u
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    ),
    rollup AS (
        SELECT * FROM claudecost.usage_hourly WHERE requests <> 0
    )
    SELECT coalesce(r.hour, x.hour), coalesce(r.project_id, x.project_id), coalesce(r.model, x.model),
           coalesce(r.user_id, x.user_id), coalesce(r.api_key_id, x.api_key_id),
           coalesce(r.workspace_id, x.workspace_id), coalesce(r.service_tier, x.service_tier),
           coalesce(r.context_window, x.context_window), coalesce(r.inference_geo, x.inference_geo),
           coalesce(r.speed, x.speed), r.requests, x.requests, r.total_cost, x.total_cost
    FROM rollup r
    FULL JOIN raw x USING (hour, project_id, model, user_id, api_key_id, workspace_id,
                           service_tier, context_window, inference_geo, speed)
    WHERE r.requests IS DISTINCT FROM x.requests
       OR r.unpriced_requests IS DISTINCT FROM x.unpriced_requests
       OR r.input_tokens IS DISTINCT FROM x.input_tokens
       OR r.output_tokens IS DISTINCT FROM x.output_tokens
       OR r.cache_write_5m_tokens IS DISTINCT FROM x.cache_write_5m_tokens
       OR r.cache_write_1h_tokens IS DISTINCT FROM x.cache_write_1h_tokens
       OR r.cache_read_tokens IS DISTINCT FROM x.cache_read_tokens
       OR r.web_search_requests IS DISTINCT FROM x.web_search_requests
       OR r.web_fetch_requests IS DISTINCT FROM x.web_fetch_requests
       OR r.input_cost IS DISTINCT FROM x.input_cost
       OR r.output_cost IS DISTINCT FROM x.output_cost
       OR r.cache_write_cost IS DISTINCT FROM x.cache_write_cost
       OR r.cache_read_cost IS DISTINCT FROM x.cache_read_cost
       OR r.tool_cost IS DISTINCT FROM x.tool_cost
       OR r.total_cost IS DISTINCT FROM x.total_cost
$$;

COMMENT ON FUNCTION claudecost.verify_rollups() IS
    'Rollup keys whose usage_hourly figures differ from the raw usage rows; empty when exact';
