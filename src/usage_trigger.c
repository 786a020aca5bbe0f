/*
 * usage_trigger.c
 *		BEFORE ROW trigger that validates and prices claudecost.usage rows.
 *
 * Validation raises a typed error naming the column and the value.  A row
 * whose model or price is unknown is kept with NULL cost columns: it is
 * listed by claudecost.unpriced_usage until claudecost.reprice() finds a
 * price for it.  Cost columns written by the caller are always replaced.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "pricing.h"

/* Columns the trigger writes, in the order of the values it builds. */
static const char *const output_columns[] = {
	"price_id", "long_context", "input_cost", "output_cost", "cache_write_cost",
	"cache_read_cost", "tool_cost", "total_cost", "currency"
};

#define OUTPUT_COLUMN_COUNT lengthof(output_columns)

static int
column_number(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"usage\" does not exist", name)));
	return attnum;
}

/* Reads a bigint or integer column (NULL reads as 0) and rejects negatives. */
static int64
read_count(HeapTuple tuple, TupleDesc desc, const char *name)
{
	int			attnum = column_number(desc, name);
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, attnum, &isnull);
	int64		count;

	if (isnull)
		return 0;
	if (TupleDescAttr(desc, attnum - 1)->atttypid == INT4OID)
		count = DatumGetInt32(value);
	else
		count = DatumGetInt64(value);
	pricing_check_count(name, count);
	return count;
}

static char *
read_text(HeapTuple tuple, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column_number(desc, name), &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

static void
read_usage_counts(HeapTuple tuple, TupleDesc desc, UsageCounts *counts)
{
	char	   *service_tier = read_text(tuple, desc, "service_tier");
	int64		web_search_requests;

	counts->input_tokens = read_count(tuple, desc, "input_tokens");
	counts->output_tokens = read_count(tuple, desc, "output_tokens");
	counts->cache_write_5m_tokens = read_count(tuple, desc, "cache_write_5m_tokens");
	counts->cache_write_1h_tokens = read_count(tuple, desc, "cache_write_1h_tokens");
	counts->cache_read_tokens = read_count(tuple, desc, "cache_read_tokens");
	web_search_requests = read_count(tuple, desc, "web_search_requests");
	(void) read_count(tuple, desc, "web_fetch_requests");
	counts->web_search_requests = (int32) web_search_requests;

	counts->service_tier = pricing_parse_service_tier(service_tier ? service_tier : "standard");
	counts->us_geo = pricing_parse_inference_geo_is_us(read_text(tuple, desc, "inference_geo"));
	counts->fast = pricing_parse_speed_is_fast(read_text(tuple, desc, "speed"));
}

static char *
read_model(HeapTuple tuple, TupleDesc desc)
{
	char	   *model = read_text(tuple, desc, "model");

	if (model == NULL || model[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("missing model"),
				 errdetail("Every usage row needs the id of the model that served the request.")));
	return model;
}

/* Builds the new tuple with the cost columns of cost (all NULL when unpriced). */
static HeapTuple
set_cost_columns(HeapTuple tuple, TupleDesc desc, const PriceEntry *price,
				 const UsageCost *cost)
{
	int			attnums[OUTPUT_COLUMN_COUNT];
	Datum		values[OUTPUT_COLUMN_COUNT];
	bool		nulls[OUTPUT_COLUMN_COUNT];
	int			i;

	for (i = 0; i < (int) OUTPUT_COLUMN_COUNT; i++)
	{
		attnums[i] = column_number(desc, output_columns[i]);
		nulls[i] = (price == NULL);
		values[i] = (Datum) 0;
	}
	if (price != NULL)
	{
		values[0] = Int64GetDatum(price->id);
		values[1] = BoolGetDatum(cost->long_context);
		values[2] = NumericGetDatum(cost->input_cost);
		values[3] = NumericGetDatum(cost->output_cost);
		values[4] = NumericGetDatum(cost->cache_write_cost);
		values[5] = NumericGetDatum(cost->cache_read_cost);
		values[6] = NumericGetDatum(cost->tool_cost);
		values[7] = NumericGetDatum(cost->total_cost);
		values[8] = CStringGetTextDatum(price->currency);
	}
	return heap_modify_tuple_by_cols(tuple, desc, OUTPUT_COLUMN_COUNT, attnums, values, nulls);
}

PG_FUNCTION_INFO_V1(claudecost_usage_price);

/* Trigger function claudecost.usage_price(): validates and prices one row. */
Datum
claudecost_usage_price(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tuple;
	UsageCounts counts;
	UsageCost	cost;
	const PriceEntry *price = NULL;
	bool		isnull;
	Datum		occurred_at;
	char	   *model;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigger_data->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigger_data->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigger_data->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.usage_price() must be a BEFORE INSERT OR UPDATE row trigger")));

	desc = RelationGetDescr(trigger_data->tg_relation);
	tuple = TRIGGER_FIRED_BY_UPDATE(trigger_data->tg_event) ?
		trigger_data->tg_newtuple : trigger_data->tg_trigtuple;

	model = read_model(tuple, desc);
	read_usage_counts(tuple, desc, &counts);

	/* A NULL occurred_at is left for the NOT NULL constraint to reject. */
	occurred_at = SPI_getbinval(tuple, desc, column_number(desc, "occurred_at"), &isnull);
	if (!isnull)
		price = pricing_price_request(model, DatumGetTimestampTz(occurred_at), &counts, &cost);

	return PointerGetDatum(set_cost_columns(tuple, desc, price, &cost));
}
