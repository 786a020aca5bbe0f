/*
 * rollup_trigger.c
 *		Statement trigger that keeps claudecost.usage_hourly equal to the ledger.
 *
 * One trigger function serves AFTER INSERT, UPDATE, DELETE and TRUNCATE
 * statements of claudecost.usage.  It reads the statement's transition tables and upserts
 * the signed sum of the change per rollup key: INSERT adds the new rows,
 * UPDATE adds the new versions and subtracts the old ones, DELETE subtracts.
 *
 * The upsert is one SQL template, prepared once per backend and event kind
 * and kept (SPI_keepplan), so a single-row INSERT pays for an execution, not
 * for planning.  A statement that changed no row returns before SPI is
 * touched, which keeps replays of INSERT ... ON CONFLICT cheap.
 *
 * Keys are aggregated first, then upserted in sorted order, so concurrent
 * statements lock rollup rows in the same order and cannot deadlock each
 * other.  Keys whose figures all sum to zero (an UPDATE that changed no
 * rolled-up column) are skipped.
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/tuplestore.h"

typedef enum RollupEvent
{
	ROLLUP_INSERT,
	ROLLUP_UPDATE,
	ROLLUP_DELETE,
	ROLLUP_EVENT_COUNT
} RollupEvent;

/* Signed row source of each event, over the transition tables named by the triggers. */
static const char *const rollup_sources[ROLLUP_EVENT_COUNT] = {
	"SELECT 1 AS sign, n.* FROM new_rows n",
	"SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o",
	"SELECT -1 AS sign, o.* FROM old_rows o"
};

/*
 * The key expressions must stay identical to those of
 * claudecost.verify_rollups(): UTC hour, and '' for NULL dimensions.
 */
static const char rollup_template[] =
"INSERT INTO claudecost.usage_hourly AS h "
"SELECT * FROM ("
"  SELECT claudecost.rollup_hour(d.occurred_at), coalesce(d.project_id, ''), d.model,"
"         coalesce(d.user_id, ''), coalesce(d.api_key_id, ''), coalesce(d.workspace_id, ''),"
"         d.service_tier, claudecost.rollup_context_window(d.long_context),"
"         coalesce(d.inference_geo, ''), coalesce(d.speed, ''),"
"         pg_catalog.sum(d.sign) AS requests,"
"         coalesce(pg_catalog.sum(d.sign) FILTER (WHERE d.total_cost IS NULL), 0) AS unpriced_requests,"
"         pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.input_tokens) AS input_tokens,"
"         pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.output_tokens) AS output_tokens,"
"         pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.cache_write_5m_tokens) AS cache_write_5m_tokens,"
"         pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.cache_write_1h_tokens) AS cache_write_1h_tokens,"
"         pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.cache_read_tokens) AS cache_read_tokens,"
"         pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.web_search_requests) AS web_search_requests,"
"         pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.web_fetch_requests) AS web_fetch_requests,"
"         coalesce(pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.input_cost), 0) AS input_cost,"
"         coalesce(pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.output_cost), 0) AS output_cost,"
"         coalesce(pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.cache_write_cost), 0) AS cache_write_cost,"
"         coalesce(pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.cache_read_cost), 0) AS cache_read_cost,"
"         coalesce(pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.tool_cost), 0) AS tool_cost,"
"         coalesce(pg_catalog.sum(d.sign OPERATOR(pg_catalog.*) d.total_cost), 0) AS total_cost"
"  FROM (%s) d"
"  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
"  OFFSET 0) AS delta "
"WHERE delta.requests OPERATOR(pg_catalog.<>) 0 OR delta.unpriced_requests OPERATOR(pg_catalog.<>) 0"
"   OR delta.input_tokens OPERATOR(pg_catalog.<>) 0 OR delta.output_tokens OPERATOR(pg_catalog.<>) 0"
"   OR delta.cache_write_5m_tokens OPERATOR(pg_catalog.<>) 0 OR delta.cache_write_1h_tokens OPERATOR(pg_catalog.<>) 0"
"   OR delta.cache_read_tokens OPERATOR(pg_catalog.<>) 0 OR delta.web_search_requests OPERATOR(pg_catalog.<>) 0"
"   OR delta.web_fetch_requests OPERATOR(pg_catalog.<>) 0 OR delta.input_cost OPERATOR(pg_catalog.<>) 0 OR delta.output_cost OPERATOR(pg_catalog.<>) 0"
"   OR delta.cache_write_cost OPERATOR(pg_catalog.<>) 0 OR delta.cache_read_cost OPERATOR(pg_catalog.<>) 0 OR delta.tool_cost OPERATOR(pg_catalog.<>) 0"
"   OR delta.total_cost OPERATOR(pg_catalog.<>) 0 "
"ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 "
"ON CONFLICT ON CONSTRAINT usage_hourly_key DO UPDATE SET"
"  requests = h.requests OPERATOR(pg_catalog.+) excluded.requests,"
"  unpriced_requests = h.unpriced_requests OPERATOR(pg_catalog.+) excluded.unpriced_requests,"
"  input_tokens = h.input_tokens OPERATOR(pg_catalog.+) excluded.input_tokens,"
"  output_tokens = h.output_tokens OPERATOR(pg_catalog.+) excluded.output_tokens,"
"  cache_write_5m_tokens = h.cache_write_5m_tokens OPERATOR(pg_catalog.+) excluded.cache_write_5m_tokens,"
"  cache_write_1h_tokens = h.cache_write_1h_tokens OPERATOR(pg_catalog.+) excluded.cache_write_1h_tokens,"
"  cache_read_tokens = h.cache_read_tokens OPERATOR(pg_catalog.+) excluded.cache_read_tokens,"
"  web_search_requests = h.web_search_requests OPERATOR(pg_catalog.+) excluded.web_search_requests,"
"  web_fetch_requests = h.web_fetch_requests OPERATOR(pg_catalog.+) excluded.web_fetch_requests,"
"  input_cost = h.input_cost OPERATOR(pg_catalog.+) excluded.input_cost,"
"  output_cost = h.output_cost OPERATOR(pg_catalog.+) excluded.output_cost,"
"  cache_write_cost = h.cache_write_cost OPERATOR(pg_catalog.+) excluded.cache_write_cost,"
"  cache_read_cost = h.cache_read_cost OPERATOR(pg_catalog.+) excluded.cache_read_cost,"
"  tool_cost = h.tool_cost OPERATOR(pg_catalog.+) excluded.tool_cost,"
"  total_cost = h.total_cost OPERATOR(pg_catalog.+) excluded.total_cost";

static SPIPlanPtr rollup_plans[ROLLUP_EVENT_COUNT];

static int64
transition_row_count(Tuplestorestate *table)
{
	return table == NULL ? 0 : tuplestore_tuple_count(table);
}

/* Returns the kept plan of an event kind, preparing it on first use. */
static SPIPlanPtr
rollup_plan(RollupEvent event)
{
	SPIPlanPtr	plan;

	if (rollup_plans[event] != NULL)
		return rollup_plans[event];

	plan = SPI_prepare(psprintf(rollup_template, rollup_sources[event]), 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for the usage rollup: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	rollup_plans[event] = plan;
	return plan;
}

/* After TRUNCATE of the ledger no figure is left: empties usage_hourly. */
static Datum
clear_rollup(void)
{
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute("DELETE FROM claudecost.usage_hourly", false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "could not empty the usage rollup: %s", SPI_result_code_string(rc));
	SPI_finish();
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(claudecost_usage_rollup);

/* Trigger function claudecost.usage_rollup(): applies one statement's change to usage_hourly. */
Datum
claudecost_usage_rollup(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;
	RollupEvent event;
	int			rc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigger_data->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigger_data->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.usage_rollup() must be an AFTER statement trigger")));

	if (TRIGGER_FIRED_BY_TRUNCATE(trigger_data->tg_event))
		return clear_rollup();

	if (TRIGGER_FIRED_BY_INSERT(trigger_data->tg_event))
		event = ROLLUP_INSERT;
	else if (TRIGGER_FIRED_BY_UPDATE(trigger_data->tg_event))
		event = ROLLUP_UPDATE;
	else if (TRIGGER_FIRED_BY_DELETE(trigger_data->tg_event))
		event = ROLLUP_DELETE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.usage_rollup() must fire on INSERT, UPDATE, DELETE or TRUNCATE")));

	if (transition_row_count(trigger_data->tg_newtable) == 0 &&
		transition_row_count(trigger_data->tg_oldtable) == 0)
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_register_trigger_data(trigger_data);
	if (rc < 0)
		elog(ERROR, "SPI_register_trigger_data failed: %s", SPI_result_code_string(rc));

	rc = SPI_execute_plan(rollup_plan(event), NULL, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "usage rollup upsert failed: %s", SPI_result_code_string(rc));

	SPI_finish();
	return PointerGetDatum(NULL);
}
