-- Hourly rollup of the usage ledger.
--
-- One row per UTC hour and report dimensions.  Statement-level triggers with
-- transition tables keep it exact on INSERT, UPDATE (reprice included) and
-- DELETE of usage, so reports read a table whose size grows with hours x
-- dimensions, not with requests.  Dimensions that are NULL in usage are
-- stored as '' here so that the key can be a plain unique constraint; the
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
);

COMMENT ON TABLE claudecost.usage_hourly IS
    'Exact hourly rollup of claudecost.usage (UTC hours), maintained by statement triggers';
