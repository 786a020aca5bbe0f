/*
 * rollup_row.c
 *		Applying one claudecost.usage row to the daily and hourly rollups.
 *
 * Most statements on the ledger change one row: an app's INSERT, one
 * ingested response.  For them the set-based rollup statements cost more to
 * start (transition-table scans, aggregates, sorts) than to run.  This path
 * computes the row's rollup keys and signed figures in C and passes them as
 * parameters of one kept statement that upserts usage_analytics_daily and
 * usage_hourly, so the executor only evaluates parameters.
 *
 * The keys and figures must stay identical to those of the set-based
 * statements (rollup_statements.c) and of the verify functions: UTC hour and
 * UTC day, '' for NULL dimensions, NULL costs counted as 0 and as one
 * unpriced request.
 *
 * The daily rollup is the main statement and the hourly one a WITH clause
 * that nothing reads, so the executor runs the daily upsert first and the
 * hourly one when it finishes: the same table order as the set-based path,
 * so that writers on either path lock rollup rows in one order.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "rollup_row.h"

/* The usage columns this file reads, in the order of column_names. */
typedef enum RowColumn
{
	COL_OCCURRED_AT,
	COL_PROJECT_ID,
	COL_MODEL,
	COL_USER_ID,
	COL_API_KEY_ID,
	COL_WORKSPACE_ID,
	COL_SERVICE_TIER,
	COL_LONG_CONTEXT,
	COL_INFERENCE_GEO,
	COL_SPEED,
	COL_PROMPT_HASH,
	COL_INPUT_TOKENS,
	COL_OUTPUT_TOKENS,
	COL_CACHE_WRITE_5M_TOKENS,
	COL_CACHE_WRITE_1H_TOKENS,
	COL_CACHE_READ_TOKENS,
	COL_WEB_SEARCH_REQUESTS,
	COL_WEB_FETCH_REQUESTS,
	COL_INPUT_COST,
	COL_OUTPUT_COST,
	COL_CACHE_WRITE_COST,
	COL_CACHE_READ_COST,
	COL_TOOL_COST,
	COL_TOTAL_COST,
	COL_COUNT
} RowColumn;

static const char *const column_names[COL_COUNT] = {
	"occurred_at", "project_id", "model", "user_id", "api_key_id", "workspace_id",
	"service_tier", "long_context", "inference_geo", "speed", "prompt_hash",
	"input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
	"cache_read_tokens", "web_search_requests", "web_fetch_requests", "input_cost",
	"output_cost", "cache_write_cost", "cache_read_cost", "tool_cost", "total_cost"
};

/*
 * Parameters: $1 hour, $2 project, $3 model, $4 user, $5 API key,
 * $6 workspace, $7 service tier, $8 context window, $9 inference geo,
 * $10 speed, $11 requests, $12 unpriced requests, $13-$17 input, output,
 * 5-minute write, 1-hour write and cache-read tokens, $18-$19 web search and
 * fetch requests, $20-$25 input, output, cache write, cache read, tool and
 * total cost, $26 UTC day.
 */
#define ROW_PARAMS 26

static const Oid row_param_types[ROW_PARAMS] = {
	TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, INT8OID, INT8OID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID,
	NUMERICOID, INT8OID, INT8OID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID,
	NUMERICOID, NUMERICOID, DATEOID
};

static const char row_sql[] =
"WITH hourly AS ("
"  INSERT INTO claudecost.usage_hourly AS h VALUES"
"    ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
"     $18, $19, $20, $21, $22, $23, $24, $25)"
"  ON CONFLICT ON CONSTRAINT usage_hourly_key DO UPDATE SET"
"    requests = h.requests + excluded.requests,"
"    unpriced_requests = h.unpriced_requests + excluded.unpriced_requests,"
"    input_tokens = h.input_tokens + excluded.input_tokens,"
"    output_tokens = h.output_tokens + excluded.output_tokens,"
"    cache_write_5m_tokens = h.cache_write_5m_tokens + excluded.cache_write_5m_tokens,"
"    cache_write_1h_tokens = h.cache_write_1h_tokens + excluded.cache_write_1h_tokens,"
"    cache_read_tokens = h.cache_read_tokens + excluded.cache_read_tokens,"
"    web_search_requests = h.web_search_requests + excluded.web_search_requests,"
"    web_fetch_requests = h.web_fetch_requests + excluded.web_fetch_requests,"
"    input_cost = h.input_cost + excluded.input_cost,"
"    output_cost = h.output_cost + excluded.output_cost,"
"    cache_write_cost = h.cache_write_cost + excluded.cache_write_cost,"
"    cache_read_cost = h.cache_read_cost + excluded.cache_read_cost,"
"    tool_cost = h.tool_cost + excluded.tool_cost,"
"    total_cost = h.total_cost + excluded.total_cost) "
"INSERT INTO claudecost.usage_analytics_daily AS a VALUES"
"  ($26, $3, $4, $2, $7, $11, $12, $13, $14, $15, $16, $17, $20, $21, $22, $23, $24, $25) "
"ON CONFLICT ON CONSTRAINT usage_analytics_daily_key DO UPDATE SET"
"  requests = a.requests + excluded.requests,"
"  unpriced_requests = a.unpriced_requests + excluded.unpriced_requests,"
"  input_tokens = a.input_tokens + excluded.input_tokens,"
"  output_tokens = a.output_tokens + excluded.output_tokens,"
"  cache_write_5m_tokens = a.cache_write_5m_tokens + excluded.cache_write_5m_tokens,"
"  cache_write_1h_tokens = a.cache_write_1h_tokens + excluded.cache_write_1h_tokens,"
"  cache_read_tokens = a.cache_read_tokens + excluded.cache_read_tokens,"
"  input_cost = a.input_cost + excluded.input_cost,"
"  output_cost = a.output_cost + excluded.output_cost,"
"  cache_write_cost = a.cache_write_cost + excluded.cache_write_cost,"
"  cache_read_cost = a.cache_read_cost + excluded.cache_read_cost,"
"  tool_cost = a.tool_cost + excluded.tool_cost,"
"  total_cost = a.total_cost + excluded.total_cost";

static SPIPlanPtr row_plan = NULL;

/* Column numbers of the usage table the plan was last used with. */
static Oid	columns_relid = InvalidOid;
static int	column_natts = 0;
static AttrNumber attnums[COL_COUNT];

/* Looks up the column numbers again when the usage table is another one. */
static void
resolve_columns(Relation usage)
{
	TupleDesc	desc = RelationGetDescr(usage);
	int			i;

	if (columns_relid == RelationGetRelid(usage) && column_natts == desc->natts)
		return;

	for (i = 0; i < COL_COUNT; i++)
	{
		attnums[i] = SPI_fnumber(desc, column_names[i]);
		if (attnums[i] <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"usage\" does not exist", column_names[i])));
	}
	columns_relid = RelationGetRelid(usage);
	column_natts = desc->natts;
}

static bool
column_null(TupleTableSlot *row, RowColumn column)
{
	return row->tts_isnull[attnums[column] - 1];
}

static Datum
column_value(TupleTableSlot *row, RowColumn column)
{
	return row->tts_values[attnums[column] - 1];
}

/*
 * True when the row feeds the prompt or long-context rollups, which only the
 * set-based statements maintain: it has a prompt_hash or a long_context flag.
 */
bool
rollup_row_has_detail(Relation usage, TupleTableSlot *row)
{
	resolve_columns(usage);
	slot_getallattrs(row);
	return !column_null(row, COL_PROMPT_HASH) ||
		(!column_null(row, COL_LONG_CONTEXT) && DatumGetBool(column_value(row, COL_LONG_CONTEXT)));
}

/* coalesce(text column, '') */
static Datum
key_text(TupleTableSlot *row, RowColumn column)
{
	static text *empty = NULL;

	if (!column_null(row, column))
		return column_value(row, column);
	if (empty == NULL)
		empty = (text *) MemoryContextAllocZero(TopMemoryContext, VARHDRSZ);
	SET_VARSIZE(empty, VARHDRSZ);
	return PointerGetDatum(empty);
}

/* sign * a bigint or integer token column, as numeric */
static Datum
signed_tokens(TupleTableSlot *row, RowColumn column, int sign)
{
	int64		count = TupleDescAttr(row->tts_tupleDescriptor, attnums[column] - 1)->atttypid == INT4OID
		? DatumGetInt32(column_value(row, column)) : DatumGetInt64(column_value(row, column));

	return DirectFunctionCall1(int8_numeric, Int64GetDatum(sign * count));
}

/* sign * an integer request count, as bigint */
static Datum
signed_count(TupleTableSlot *row, RowColumn column, int sign)
{
	int64		count = TupleDescAttr(row->tts_tupleDescriptor, attnums[column] - 1)->atttypid == INT4OID
		? DatumGetInt32(column_value(row, column)) : DatumGetInt64(column_value(row, column));

	return Int64GetDatum(sign * count);
}

/* coalesce(sign * cost column, 0) */
static Datum
signed_cost(TupleTableSlot *row, RowColumn column, int sign)
{
	if (column_null(row, column))
		return DirectFunctionCall1(int8_numeric, Int64GetDatum(0));
	if (sign > 0)
		return column_value(row, column);
	return DirectFunctionCall1(numeric_uminus, column_value(row, column));
}

/* Returns the kept statement, preparing it on first use. */
static SPIPlanPtr
prepared_row_plan(void)
{
	SPIPlanPtr	plan;

	if (row_plan != NULL)
		return row_plan;
	plan = SPI_prepare(row_sql, ROW_PARAMS, (Oid *) row_param_types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for the usage row rollup: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	row_plan = plan;
	return plan;
}

/*
 * Adds one usage row (sign +1) or removes it (sign -1) from the daily and
 * hourly rollups.  The caller is connected to SPI.
 */
void
rollup_row_apply(Relation usage, TupleTableSlot *row, int sign)
{
	Datum		values[ROW_PARAMS];
	TimestampTz occurred_at;
	bool		long_context;
	int			rc;

	resolve_columns(usage);
	slot_getallattrs(row);

	occurred_at = DatumGetTimestampTz(column_value(row, COL_OCCURRED_AT));
	long_context = !column_null(row, COL_LONG_CONTEXT) &&
		DatumGetBool(column_value(row, COL_LONG_CONTEXT));

	/* In UTC the wall-clock time is the instant, so timestamp_trunc gives the UTC hour. */
	values[0] = DirectFunctionCall2(timestamp_trunc, PointerGetDatum(cstring_to_text("hour")),
									TimestampGetDatum(occurred_at));
	values[1] = key_text(row, COL_PROJECT_ID);
	values[2] = column_value(row, COL_MODEL);
	values[3] = key_text(row, COL_USER_ID);
	values[4] = key_text(row, COL_API_KEY_ID);
	values[5] = key_text(row, COL_WORKSPACE_ID);
	values[6] = column_value(row, COL_SERVICE_TIER);
	values[7] = CStringGetTextDatum(long_context ? "200k-1M" : "0-200k");
	values[8] = key_text(row, COL_INFERENCE_GEO);
	values[9] = key_text(row, COL_SPEED);
	values[10] = Int64GetDatum(sign);
	values[11] = Int64GetDatum(column_null(row, COL_TOTAL_COST) ? sign : 0);
	values[12] = signed_tokens(row, COL_INPUT_TOKENS, sign);
	values[13] = signed_tokens(row, COL_OUTPUT_TOKENS, sign);
	values[14] = signed_tokens(row, COL_CACHE_WRITE_5M_TOKENS, sign);
	values[15] = signed_tokens(row, COL_CACHE_WRITE_1H_TOKENS, sign);
	values[16] = signed_tokens(row, COL_CACHE_READ_TOKENS, sign);
	values[17] = signed_count(row, COL_WEB_SEARCH_REQUESTS, sign);
	values[18] = signed_count(row, COL_WEB_FETCH_REQUESTS, sign);
	values[19] = signed_cost(row, COL_INPUT_COST, sign);
	values[20] = signed_cost(row, COL_OUTPUT_COST, sign);
	values[21] = signed_cost(row, COL_CACHE_WRITE_COST, sign);
	values[22] = signed_cost(row, COL_CACHE_READ_COST, sign);
	values[23] = signed_cost(row, COL_TOOL_COST, sign);
	values[24] = signed_cost(row, COL_TOTAL_COST, sign);
	values[25] = DirectFunctionCall1(timestamp_date, TimestampGetDatum(occurred_at));

	rc = SPI_execute_plan(prepared_row_plan(), values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "usage row rollup failed: %s", SPI_result_code_string(rc));
}
