/*
 * rollup_statements.c
 *		The set-based statements that apply a statement's change of
 *		claudecost.usage to the rollups.
 *
 * Each statement reads a signed row source over the trigger's transition
 * tables (new rows +1, old rows -1), aggregates it per rollup key and
 * upserts the sums in sorted key order, so concurrent statements lock
 * rollup rows in the same order and cannot deadlock each other.  The key
 * expressions must stay identical to those of rollup_row.c and of
 * claudecost.verify_rollups() and claudecost.verify_analytics_rollups().
 *
 * Plans are prepared once per backend, statement and event kind, and kept.
 * The OFFSET 0 fences make the planner aggregate first and sort only the
 * aggregated keys.
 */
#include "postgres.h"

#include "executor/spi.h"

#include "rollup_statements.h"

/* Signed row source of each event, over the transition tables named by the triggers. */
static const char *const row_sources[ROLLUP_EVENT_COUNT] = {
	"SELECT 1 AS sign, n.* FROM new_rows n",
	"SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o",
	"SELECT -1 AS sign, o.* FROM old_rows o"
};

/*
 * usage_hourly per UTC hour and dimension ('' for NULL).  Keys whose figures
 * all sum to zero (an UPDATE that changed no rolled-up column) are skipped.
 */
static const char hourly_template[] =
"INSERT INTO claudecost.usage_hourly AS h "
"SELECT * FROM ("
"  SELECT claudecost.rollup_hour(d.occurred_at), coalesce(d.project_id, ''), d.model,"
"         coalesce(d.user_id, ''), coalesce(d.api_key_id, ''), coalesce(d.workspace_id, ''),"
"         d.service_tier, claudecost.rollup_context_window(d.long_context),"
"         coalesce(d.inference_geo, ''), coalesce(d.speed, ''),"
"         sum(d.sign) AS requests,"
"         coalesce(sum(d.sign) FILTER (WHERE d.total_cost IS NULL), 0) AS unpriced_requests,"
"         sum(d.sign * d.input_tokens) AS input_tokens,"
"         sum(d.sign * d.output_tokens) AS output_tokens,"
"         sum(d.sign * d.cache_write_5m_tokens) AS cache_write_5m_tokens,"
"         sum(d.sign * d.cache_write_1h_tokens) AS cache_write_1h_tokens,"
"         sum(d.sign * d.cache_read_tokens) AS cache_read_tokens,"
"         sum(d.sign * d.web_search_requests) AS web_search_requests,"
"         sum(d.sign * d.web_fetch_requests) AS web_fetch_requests,"
"         coalesce(sum(d.sign * d.input_cost), 0) AS input_cost,"
"         coalesce(sum(d.sign * d.output_cost), 0) AS output_cost,"
"         coalesce(sum(d.sign * d.cache_write_cost), 0) AS cache_write_cost,"
"         coalesce(sum(d.sign * d.cache_read_cost), 0) AS cache_read_cost,"
"         coalesce(sum(d.sign * d.tool_cost), 0) AS tool_cost,"
"         coalesce(sum(d.sign * d.total_cost), 0) AS total_cost"
"  FROM (%s) d"
"  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
"  OFFSET 0) AS delta "
"WHERE delta.requests <> 0 OR delta.unpriced_requests <> 0"
"   OR delta.input_tokens <> 0 OR delta.output_tokens <> 0"
"   OR delta.cache_write_5m_tokens <> 0 OR delta.cache_write_1h_tokens <> 0"
"   OR delta.cache_read_tokens <> 0 OR delta.web_search_requests <> 0"
"   OR delta.web_fetch_requests <> 0 OR delta.input_cost <> 0 OR delta.output_cost <> 0"
"   OR delta.cache_write_cost <> 0 OR delta.cache_read_cost <> 0 OR delta.tool_cost <> 0"
"   OR delta.total_cost <> 0 "
"ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 "
"ON CONFLICT ON CONSTRAINT usage_hourly_key DO UPDATE SET"
"  requests = h.requests + excluded.requests,"
"  unpriced_requests = h.unpriced_requests + excluded.unpriced_requests,"
"  input_tokens = h.input_tokens + excluded.input_tokens,"
"  output_tokens = h.output_tokens + excluded.output_tokens,"
"  cache_write_5m_tokens = h.cache_write_5m_tokens + excluded.cache_write_5m_tokens,"
"  cache_write_1h_tokens = h.cache_write_1h_tokens + excluded.cache_write_1h_tokens,"
"  cache_read_tokens = h.cache_read_tokens + excluded.cache_read_tokens,"
"  web_search_requests = h.web_search_requests + excluded.web_search_requests,"
"  web_fetch_requests = h.web_fetch_requests + excluded.web_fetch_requests,"
"  input_cost = h.input_cost + excluded.input_cost,"
"  output_cost = h.output_cost + excluded.output_cost,"
"  cache_write_cost = h.cache_write_cost + excluded.cache_write_cost,"
"  cache_read_cost = h.cache_read_cost + excluded.cache_read_cost,"
"  tool_cost = h.tool_cost + excluded.tool_cost,"
"  total_cost = h.total_cost + excluded.total_cost";

/* usage_analytics_daily per UTC day, model, user, project and service tier. */
static const char daily_template[] =
"WITH d AS (%s) "
"INSERT INTO claudecost.usage_analytics_daily AS a "
"SELECT * FROM ( "
"    SELECT (d.occurred_at AT TIME ZONE 'UTC')::date, d.model, coalesce(d.user_id, ''), "
"           coalesce(d.project_id, ''), d.service_tier, "
"           sum(d.sign), coalesce(sum(d.sign) FILTER (WHERE d.total_cost IS NULL), 0), "
"           sum(d.sign * d.input_tokens), sum(d.sign * d.output_tokens), "
"           sum(d.sign * d.cache_write_5m_tokens), sum(d.sign * d.cache_write_1h_tokens), "
"           sum(d.sign * d.cache_read_tokens), "
"           coalesce(sum(d.sign * d.input_cost), 0), coalesce(sum(d.sign * d.output_cost), 0), "
"           coalesce(sum(d.sign * d.cache_write_cost), 0), coalesce(sum(d.sign * d.cache_read_cost), 0), "
"           coalesce(sum(d.sign * d.tool_cost), 0), coalesce(sum(d.sign * d.total_cost), 0) "
"    FROM d "
"    GROUP BY 1, 2, 3, 4, 5 "
"    OFFSET 0) AS delta "
"ORDER BY 1, 2, 3, 4, 5 "
"ON CONFLICT ON CONSTRAINT usage_analytics_daily_key DO UPDATE SET "
"    requests = a.requests + excluded.requests, "
"    unpriced_requests = a.unpriced_requests + excluded.unpriced_requests, "
"    input_tokens = a.input_tokens + excluded.input_tokens, "
"    output_tokens = a.output_tokens + excluded.output_tokens, "
"    cache_write_5m_tokens = a.cache_write_5m_tokens + excluded.cache_write_5m_tokens, "
"    cache_write_1h_tokens = a.cache_write_1h_tokens + excluded.cache_write_1h_tokens, "
"    cache_read_tokens = a.cache_read_tokens + excluded.cache_read_tokens, "
"    input_cost = a.input_cost + excluded.input_cost, "
"    output_cost = a.output_cost + excluded.output_cost, "
"    cache_write_cost = a.cache_write_cost + excluded.cache_write_cost, "
"    cache_read_cost = a.cache_read_cost + excluded.cache_read_cost, "
"    tool_cost = a.tool_cost + excluded.tool_cost, "
"    total_cost = a.total_cost + excluded.total_cost ";

/*
 * usage_analytics_prompt per project ('' for NULL), UTC day, prompt hash and
 * model, and the per-day repeat sums of usage_analytics_prompt_day, which
 * change by the new minus the old sums of each prompt row.  The old values
 * are the new ones (RETURNING, after the row lock) minus this statement's
 * delta, so concurrent statements add up.
 */
static const char prompt_template[] =
"WITH d AS (%s), "
"prompt_delta AS ( "
"    SELECT coalesce(d.project_id, '') AS project_id, (d.occurred_at AT TIME ZONE 'UTC')::date AS day, "
"           d.prompt_hash, d.model, "
"           sum(d.sign) AS requests, sum(d.sign * d.input_tokens) AS input_tokens, "
"           sum(d.sign * d.cache_read_tokens) AS cache_read_tokens, "
"           coalesce(sum(d.sign * d.input_cost), 0) AS input_cost, "
"           coalesce(sum(d.sign * d.total_cost), 0) AS total_cost "
"    FROM d "
"    WHERE d.prompt_hash IS NOT NULL "
"    GROUP BY 1, 2, 3, 4 "
"), "
"prompt AS ( "
"    INSERT INTO claudecost.usage_analytics_prompt AS a "
"        (project_id, day, prompt_hash, model, requests, input_tokens, cache_read_tokens, "
"         input_cost, total_cost) "
"    SELECT * FROM prompt_delta "
"    ORDER BY 1, 2, 3, 4 "
"    ON CONFLICT ON CONSTRAINT usage_analytics_prompt_key DO UPDATE SET "
"        requests = a.requests + excluded.requests, "
"        input_tokens = a.input_tokens + excluded.input_tokens, "
"        cache_read_tokens = a.cache_read_tokens + excluded.cache_read_tokens, "
"        input_cost = a.input_cost + excluded.input_cost, "
"        total_cost = a.total_cost + excluded.total_cost "
"    RETURNING a.project_id, a.day, a.prompt_hash, a.model, a.requests, a.input_tokens, a.cache_read_tokens, "
"              a.input_cost, a.total_cost "
"), "
"prompt_change AS MATERIALIZED ( "
"    SELECT p.project_id, p.day, p.model, "
"           claudecost.usage_analytics_repeat(p.requests, p.input_tokens, p.cache_read_tokens, "
"                                             p.input_cost, p.total_cost) AS new_sums, "
"           claudecost.usage_analytics_repeat(p.requests - x.requests, p.input_tokens - x.input_tokens, "
"                                             p.cache_read_tokens - x.cache_read_tokens, "
"                                             p.input_cost - x.input_cost, p.total_cost - x.total_cost) "
"               AS old_sums "
"    FROM prompt p "
"    JOIN prompt_delta x ON x.project_id = p.project_id AND x.day = p.day "
"                       AND x.prompt_hash = p.prompt_hash AND x.model = p.model "
") "
"INSERT INTO claudecost.usage_analytics_prompt_day AS a "
"    (project_id, day, model, prompt_days, repeats, repeat_cost, uncached_repeat_input_cost, "
"     uncached_first_input_cost) "
"SELECT c.project_id, c.day, c.model, sum(c.new_sums[1] - c.old_sums[1]), sum(c.new_sums[2] - c.old_sums[2]), "
"       sum(c.new_sums[3] - c.old_sums[3]), sum(c.new_sums[4] - c.old_sums[4]), "
"       sum(c.new_sums[5] - c.old_sums[5]) "
"FROM prompt_change c "
"GROUP BY 1, 2, 3 "
"ORDER BY 1, 2, 3 "
"ON CONFLICT ON CONSTRAINT usage_analytics_prompt_day_key DO UPDATE SET "
"    prompt_days = a.prompt_days + excluded.prompt_days, "
"    repeats = a.repeats + excluded.repeats, "
"    repeat_cost = a.repeat_cost + excluded.repeat_cost, "
"    uncached_repeat_input_cost = a.uncached_repeat_input_cost + excluded.uncached_repeat_input_cost, "
"    uncached_first_input_cost = a.uncached_first_input_cost + excluded.uncached_first_input_cost ";

/*
 * usage_analytics_long_context per project, UTC hour, model and threshold:
 * requests at most 10 % over the long-context threshold of their price row,
 * with each cost component scaled back from the long-context rate to the
 * standard rate of the same token class.
 */
static const char long_context_template[] =
"INSERT INTO claudecost.usage_analytics_long_context AS a "
"    (project_id, hour, model, long_context_threshold, requests, prompt_tokens, total_cost, "
"     base_cost) "
"SELECT * FROM ( "
"    SELECT coalesce(d.project_id, ''), claudecost.rollup_hour(d.occurred_at), d.model, "
"           p.long_context_threshold, "
"           sum(d.sign), "
"           sum(d.sign * (d.input_tokens + d.cache_write_5m_tokens + d.cache_write_1h_tokens "
"                         + d.cache_read_tokens)), "
"           sum(d.sign * d.total_cost), "
"           sum(d.sign * ( "
"               coalesce(d.input_cost, 0) * p.input_per_mtok / p.long_input_per_mtok "
"               + coalesce(d.output_cost, 0) * p.output_per_mtok / p.long_output_per_mtok "
"               + coalesce(d.cache_write_cost, 0) "
"                 * coalesce(p.cache_write_5m_per_mtok / NULLIF(p.long_cache_write_5m_per_mtok, 0), "
"                            p.input_per_mtok / p.long_input_per_mtok) "
"               + coalesce(d.cache_read_cost, 0) "
"                 * coalesce(p.cache_read_per_mtok / NULLIF(p.long_cache_read_per_mtok, 0), "
"                            p.input_per_mtok / p.long_input_per_mtok) "
"               + coalesce(d.tool_cost, 0))) "
"    FROM (%s) d "
"    JOIN claudecost.price p ON p.id = d.price_id "
"    WHERE d.long_context AND d.total_cost IS NOT NULL "
"      AND p.long_context_threshold IS NOT NULL AND p.long_input_per_mtok > 0 "
"      AND p.long_output_per_mtok > 0 "
"      AND d.input_tokens + d.cache_write_5m_tokens + d.cache_write_1h_tokens + d.cache_read_tokens "
"          <= p.long_context_threshold * 1.1 "
"    GROUP BY 1, 2, 3, 4 "
"    OFFSET 0) AS delta "
"ORDER BY 1, 2, 3, 4 "
"ON CONFLICT ON CONSTRAINT usage_analytics_long_context_key DO UPDATE SET "
"    requests = a.requests + excluded.requests, "
"    prompt_tokens = a.prompt_tokens + excluded.prompt_tokens, "
"    total_cost = a.total_cost + excluded.total_cost, "
"    base_cost = a.base_cost + excluded.base_cost ";

static const char *const templates[ROLLUP_STATEMENT_COUNT] = {
	prompt_template,
	long_context_template,
	daily_template,
	hourly_template
};

static SPIPlanPtr plans[ROLLUP_STATEMENT_COUNT][ROLLUP_EVENT_COUNT];

/*
 * Runs one rollup statement for a statement's transition tables.  The caller
 * is connected to SPI and has registered the trigger data.
 */
void
rollup_statement_execute(RollupStatement statement, RollupEvent event)
{
	SPIPlanPtr	plan = plans[statement][event];
	int			rc;

	if (plan == NULL)
	{
		plan = SPI_prepare(psprintf(templates[statement], row_sources[event]), 0, NULL);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for a usage rollup: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		plans[statement][event] = plan;
	}

	rc = SPI_execute_plan(plan, NULL, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "usage rollup upsert failed: %s", SPI_result_code_string(rc));
}
