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
#include "common/int.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "access/detoast.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "claudecost.h"
#include "pricing.h"

/*
 * Column numbers by name, looked up once per backend and relation: the
 * lookup is a linear scan of the tuple descriptor, too slow to repeat for
 * every row of a large COPY.
 */
#define MAX_CACHED_COLUMNS 32

typedef struct ColumnCache
{
	Oid			relid;
	int			natts;
	int			count;
	const char *names[MAX_CACHED_COLUMNS];
	int			attnums[MAX_CACHED_COLUMNS];
} ColumnCache;

static ColumnCache column_cache;

static int
column_number(TupleDesc desc, const char *name)
{
	int			attnum;
	int			i;

	for (i = 0; i < column_cache.count; i++)
	{
		/*
		 * Names are string literals of this file, compared by address; a
		 * literal the compiler did not merge only takes another entry.
		 */
		if (column_cache.names[i] == name)
			return column_cache.attnums[i];
	}

	attnum = SPI_fnumber(desc, name);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"usage\" does not exist", name)));
	if (column_cache.count < MAX_CACHED_COLUMNS)
	{
		column_cache.names[column_cache.count] = name;
		column_cache.attnums[column_cache.count] = attnum;
		column_cache.count++;
	}
	return attnum;
}

/* Forgets the cached column numbers when the trigger fires on another relation or layout. */
static void
reset_column_cache(Relation relation)
{
	if (column_cache.relid == RelationGetRelid(relation) &&
		column_cache.natts == RelationGetDescr(relation)->natts)
		return;
	column_cache.relid = RelationGetRelid(relation);
	column_cache.natts = RelationGetDescr(relation)->natts;
	column_cache.count = 0;
}

/*
 * The row being priced, deformed once: reading columns one by one with
 * SPI_getbinval walks the tuple again for every column after a NULL.
 */
typedef struct UsageRow
{
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
} UsageRow;

static Datum
row_value(const UsageRow *row, const char *name, bool *isnull)
{
	int			attnum = column_number(row->desc, name);

	*isnull = row->nulls[attnum - 1];
	return row->values[attnum - 1];
}

/* Reads a bigint or integer column (NULL reads as 0) and rejects negatives. */
static int64
read_count(const UsageRow *row, const char *name)
{
	int			attnum = column_number(row->desc, name);
	Datum		value = row->values[attnum - 1];
	int64		count;

	if (row->nulls[attnum - 1])
		return 0;
	if (TupleDescAttr(row->desc, attnum - 1)->atttypid == INT4OID)
		count = DatumGetInt32(value);
	else
		count = DatumGetInt64(value);
	pricing_check_count(name, count);
	return count;
}

static char *
read_text(const UsageRow *row, const char *name)
{
	bool		isnull;
	Datum		value = row_value(row, name, &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

/*
 * Range of occurred_at: [1970-01-01, 2200-01-01) UTC.  Reports build one row
 * per day or hour between the first and the last usage, so a single row at
 * infinity or in year 294276 made them run without end.  The CHECK
 * constraint usage_occurred_at_range in schema/20_usage.sql states the same
 * bounds; this check runs first and gives the typed error.
 */
#define OCCURRED_AT_MIN_YEAR 1970
#define OCCURRED_AT_END_YEAR 2200

/* Rejects an occurred_at outside [1970-01-01, 2200-01-01) UTC, infinities included. */
static void
check_occurred_at(TimestampTz occurred_at)
{
	TimestampTz min_time = (TimestampTz) (date2j(OCCURRED_AT_MIN_YEAR, 1, 1) - POSTGRES_EPOCH_JDATE) *
		USECS_PER_DAY;
	TimestampTz end_time = (TimestampTz) (date2j(OCCURRED_AT_END_YEAR, 1, 1) - POSTGRES_EPOCH_JDATE) *
		USECS_PER_DAY;

	if (occurred_at >= min_time && occurred_at < end_time)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("occurred_at out of range: \"%s\"", timestamptz_to_str(occurred_at)),
			 errdetail("Column occurred_at of claudecost.usage accepts times from %d-01-01 00:00:00 UTC up to, not including, %d-01-01 00:00:00 UTC.",
					   OCCURRED_AT_MIN_YEAR, OCCURRED_AT_END_YEAR),
			 errhint("Pass the time the API request was made, or omit occurred_at to store now().")));
}

/*
 * Text columns that rollup keys or unique indexes contain, each limited to
 * USAGE_KEY_TEXT_MAX_BYTES (512) bytes.  A btree entry can be at most 2704
 * bytes.  The key of usage_hourly has five of these columns (project_id,
 * model, user_id, api_key_id, workspace_id), and five values of 512
 * incompressible bytes still fit with the hour and the short columns.
 */

static const char *const usage_key_text_columns[] = {
	"request_id", "model", "user_id", "project_id", "api_key_id", "workspace_id", "prompt_hash"
};

/* Rejects a key text column longer than USAGE_KEY_TEXT_MAX_BYTES bytes. */
static void
check_key_text_lengths(const UsageRow *row)
{
	Size		i;

	for (i = 0; i < lengthof(usage_key_text_columns); i++)
	{
		const char *name = usage_key_text_columns[i];
		bool		isnull;
		Datum		value = row_value(row, name, &isnull);
		Size		size;

		if (isnull)
			continue;
		/* The size of the value once decompressed, read without detoasting it. */
		size = toast_raw_datum_size(value) - VARHDRSZ;
		if (size > USAGE_KEY_TEXT_MAX_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("value too long for column \"%s\" of claudecost.usage", name),
					 errdetail("The value has %zu bytes, and the column accepts at most %d bytes because rollup keys contain it.",
							   (size_t) size, USAGE_KEY_TEXT_MAX_BYTES),
					 errhint("Store a shorter identifier, such as a hash of the value.")));
	}
}

static void
read_usage_counts(const UsageRow *row, UsageCounts *counts)
{
	char	   *service_tier = read_text(row, "service_tier");

	counts->input_tokens = read_count(row, "input_tokens");
	counts->output_tokens = read_count(row, "output_tokens");
	counts->cache_write_5m_tokens = read_count(row, "cache_write_5m_tokens");
	counts->cache_write_1h_tokens = read_count(row, "cache_write_1h_tokens");
	counts->cache_read_tokens = read_count(row, "cache_read_tokens");
	counts->web_search_requests = (int32) read_count(row, "web_search_requests");
	(void) read_count(row, "web_fetch_requests");

	counts->service_tier = pricing_parse_service_tier(service_tier ? service_tier : "standard");
	counts->us_geo = pricing_parse_inference_geo_is_us(read_text(row, "inference_geo"));
	counts->fast = pricing_parse_speed_is_fast(read_text(row, "speed"));
}

/*
 * Rejects a row whose five token counts add up to more than the bigint
 * maximum.  Each count fits its bigint column, but the rollup trigger and
 * claudecost.verify() add them per row in bigint arithmetic.
 */
static void
check_token_total(const UsageCounts *counts)
{
	int64		total;

	if (pg_add_s64_overflow(counts->input_tokens, counts->output_tokens, &total) ||
		pg_add_s64_overflow(total, counts->cache_write_5m_tokens, &total) ||
		pg_add_s64_overflow(total, counts->cache_write_1h_tokens, &total) ||
		pg_add_s64_overflow(total, counts->cache_read_tokens, &total))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("token total of usage row out of range"),
				 errdetail("The sum of input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens and cache_read_tokens exceeds the bigint maximum " INT64_FORMAT ".",
						   PG_INT64_MAX)));
}

static char *
read_model(const UsageRow *row)
{
	char	   *model = read_text(row, "model");

	if (model == NULL || model[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("missing model"),
				 errdetail("Every usage row needs the id of the model that served the request.")));
	return model;
}

static void
set_column(UsageRow *row, const char *name, Datum value, bool isnull)
{
	int			attnum = column_number(row->desc, name);

	row->values[attnum - 1] = value;
	row->nulls[attnum - 1] = isnull;
}

/* Builds the new tuple with the cost columns of cost (all NULL when unpriced). */
static HeapTuple
form_priced_tuple(HeapTuple tuple, UsageRow *row, const PriceEntry *price,
				  const UsageCost *cost)
{
	bool		unpriced = (price == NULL);
	HeapTuple	result;

	set_column(row, "price_id", unpriced ? 0 : Int64GetDatum(price->id), unpriced);
	set_column(row, "long_context", unpriced ? 0 : BoolGetDatum(cost->long_context), unpriced);
	set_column(row, "input_cost", unpriced ? 0 : NumericGetDatum(cost->input_cost), unpriced);
	set_column(row, "output_cost", unpriced ? 0 : NumericGetDatum(cost->output_cost), unpriced);
	set_column(row, "cache_write_cost", unpriced ? 0 : NumericGetDatum(cost->cache_write_cost), unpriced);
	set_column(row, "cache_read_cost", unpriced ? 0 : NumericGetDatum(cost->cache_read_cost), unpriced);
	set_column(row, "tool_cost", unpriced ? 0 : NumericGetDatum(cost->tool_cost), unpriced);
	set_column(row, "total_cost", unpriced ? 0 : NumericGetDatum(cost->total_cost), unpriced);
	set_column(row, "currency", unpriced ? 0 : CStringGetTextDatum(price->currency), unpriced);

	/* Keep the identity of the original tuple, as heap_modify_tuple does. */
	result = heap_form_tuple(row->desc, row->values, row->nulls);
	result->t_data->t_ctid = tuple->t_data->t_ctid;
	result->t_self = tuple->t_self;
	result->t_tableOid = tuple->t_tableOid;
	return result;
}

PG_FUNCTION_INFO_V1(claudecost_usage_price);

/* Trigger function claudecost.usage_price(): validates and prices one row. */
Datum
claudecost_usage_price(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tuple;
	UsageRow	row;
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

	reset_column_cache(trigger_data->tg_relation);
	desc = RelationGetDescr(trigger_data->tg_relation);
	tuple = TRIGGER_FIRED_BY_UPDATE(trigger_data->tg_event) ?
		trigger_data->tg_newtuple : trigger_data->tg_trigtuple;

	row.desc = desc;
	row.values = palloc(sizeof(Datum) * desc->natts);
	row.nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, row.values, row.nulls);

	check_key_text_lengths(&row);
	model = read_model(&row);
	read_usage_counts(&row, &counts);
	check_token_total(&counts);

	/* A NULL occurred_at is left for the NOT NULL constraint to reject. */
	occurred_at = row_value(&row, "occurred_at", &isnull);
	if (!isnull)
	{
		check_occurred_at(DatumGetTimestampTz(occurred_at));
		price = pricing_price_request(model, DatumGetTimestampTz(occurred_at), &counts, &cost);
	}

	return PointerGetDatum(form_priced_tuple(tuple, &row, price, &cost));
}
