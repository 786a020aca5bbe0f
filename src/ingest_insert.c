/*
 * ingest_insert.c
 *		Upserting an ingested record into claudecost.usage.
 *
 * The INSERT runs through SPI with a plan prepared once per backend.  On a
 * request_id conflict each counter becomes the larger of the stored and the
 * new value and occurred_at the earlier of the two, and the row is updated
 * only when one of them changes.  So replaying a record changes nothing (no
 * row update, no rollup work), the largest snapshot of a response wins
 * whatever the order of arrival, and duplicates are never summed.  metadata
 * is the one of the record that last changed the row.  A lookup before the
 * upsert skips records that the stored row already covers.  The pricing
 * trigger on usage prices the inserted or updated row.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ingest.h"

#define INSERT_NARGS 18
#define BATCH_NARGS 19

#define USAGE_COLUMNS \
" (request_id, occurred_at, model, user_id, project_id, session_id, tags," \
"  service_tier, inference_geo, speed, input_tokens, output_tokens," \
"  cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens," \
"  web_search_requests, web_fetch_requests, metadata)"

/*
 * Largest counters and earliest occurred_at win.  No update when nothing
 * grows, unless the stored row is a cut stream (stream_complete false) and
 * the new record is complete: then only its metadata changes.
 */
#define ON_CONFLICT_MERGE \
" ON CONFLICT (request_id) DO UPDATE SET" \
"  input_tokens = GREATEST(u.input_tokens, EXCLUDED.input_tokens)," \
"  output_tokens = GREATEST(u.output_tokens, EXCLUDED.output_tokens)," \
"  cache_write_5m_tokens = GREATEST(u.cache_write_5m_tokens, EXCLUDED.cache_write_5m_tokens)," \
"  cache_write_1h_tokens = GREATEST(u.cache_write_1h_tokens, EXCLUDED.cache_write_1h_tokens)," \
"  cache_read_tokens = GREATEST(u.cache_read_tokens, EXCLUDED.cache_read_tokens)," \
"  web_search_requests = GREATEST(u.web_search_requests, EXCLUDED.web_search_requests)," \
"  web_fetch_requests = GREATEST(u.web_fetch_requests, EXCLUDED.web_fetch_requests)," \
"  occurred_at = LEAST(u.occurred_at, EXCLUDED.occurred_at)," \
"  metadata = EXCLUDED.metadata" \
" WHERE EXCLUDED.input_tokens OPERATOR(pg_catalog.>) u.input_tokens" \
"  OR EXCLUDED.output_tokens OPERATOR(pg_catalog.>) u.output_tokens" \
"  OR EXCLUDED.cache_write_5m_tokens OPERATOR(pg_catalog.>) u.cache_write_5m_tokens" \
"  OR EXCLUDED.cache_write_1h_tokens OPERATOR(pg_catalog.>) u.cache_write_1h_tokens" \
"  OR EXCLUDED.cache_read_tokens OPERATOR(pg_catalog.>) u.cache_read_tokens" \
"  OR EXCLUDED.web_search_requests OPERATOR(pg_catalog.>) u.web_search_requests" \
"  OR EXCLUDED.web_fetch_requests OPERATOR(pg_catalog.>) u.web_fetch_requests" \
"  OR EXCLUDED.occurred_at OPERATOR(pg_catalog.<) u.occurred_at" \
"  OR (u.metadata OPERATOR(pg_catalog.@>) '{\"stream_complete\": false}'::pg_catalog.jsonb" \
"   AND NOT EXCLUDED.metadata OPERATOR(pg_catalog.@>) '{\"stream_complete\": false}'::pg_catalog.jsonb)"

static const char *const insert_sql =
"INSERT INTO claudecost.usage AS u" USAGE_COLUMNS
" VALUES ($1, coalesce($2, pg_catalog.now()), $3, $4, $5, $6, $7,"
"  coalesce($8, 'standard'), $9, $10, $11, $12, $13, $14, $15, $16, $17,"
"  $18::pg_catalog.jsonb)"
ON_CONFLICT_MERGE;

/*
 * Many rows in one statement, one array per column; $2, $3 and $4 are the
 * caller's user_id, project_id and tags.  The rows must have distinct
 * request_ids, because ON CONFLICT DO UPDATE cannot change a row twice.
 */
static const char *const batch_insert_sql =
"INSERT INTO claudecost.usage AS u" USAGE_COLUMNS
" SELECT r.request_id, coalesce(r.occurred_at, pg_catalog.now()), r.model, $2,"
"  coalesce($3, r.project_id), r.session_id, $4, coalesce(r.service_tier, 'standard'),"
"  r.inference_geo, r.speed, r.input_tokens, r.output_tokens, r.cache_write_5m_tokens,"
"  r.cache_write_1h_tokens, r.cache_read_tokens, r.web_search_requests,"
"  r.web_fetch_requests, r.metadata::pg_catalog.jsonb"
" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($5), pg_catalog.unnest($6),"
"  pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9),"
"  pg_catalog.unnest($10), pg_catalog.unnest($11), pg_catalog.unnest($12),"
"  pg_catalog.unnest($13), pg_catalog.unnest($14), pg_catalog.unnest($15),"
"  pg_catalog.unnest($16), pg_catalog.unnest($17), pg_catalog.unnest($18),"
"  pg_catalog.unnest($19))"
"  AS r(request_id, occurred_at, model, project_id, session_id, service_tier,"
"  inference_geo, speed, input_tokens, output_tokens, cache_write_5m_tokens,"
"  cache_write_1h_tokens, cache_read_tokens, web_search_requests,"
"  web_fetch_requests, metadata)"
ON_CONFLICT_MERGE;

static const char *const lookup_sql =
"SELECT input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,"
"  cache_read_tokens, web_search_requests, web_fetch_requests, occurred_at,"
"  metadata OPERATOR(pg_catalog.@>) '{\"stream_complete\": false}'::pg_catalog.jsonb"
" FROM claudecost.usage WHERE request_id OPERATOR(pg_catalog.=) $1";

/* Prepared once per backend; the plan cache re-plans them after DDL on usage. */
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr batch_insert_plan = NULL;
static SPIPlanPtr lookup_plan = NULL;

/* Prepares and keeps a plan.  Requires an SPI connection. */
static SPIPlanPtr
prepare_kept_plan(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed for \"%s\"", sql);
	return plan;
}

/* Returns column i of the first result row as an int64 (0 when NULL). */
static int64
result_int64(int i)
{
	bool		isnull;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i, &isnull);

	if (isnull)
		return 0;
	if (TupleDescAttr(SPI_tuptable->tupdesc, i - 1)->atttypid == INT4OID)
		return DatumGetInt32(value);
	return DatumGetInt64(value);
}

/* True when the looked-up row is marked stream_complete = false. */
static bool
stored_row_is_cut_stream(void)
{
	bool		isnull;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 9, &isnull);

	return !isnull && DatumGetBool(value);
}

/*
 * True when a stored row already has counters at least as large as rec's
 * and an occurred_at no later, and is not a cut stream that rec completes,
 * so that the upsert would change nothing.
 * Skipping it saves a statement, and with it the statement-level triggers
 * on usage.  Under concurrency this is only a shortcut: counters never
 * decrease, so a row seen here can only have grown since.
 */
static bool
stored_row_covers(const UsageRecord *rec)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	int			rc;
	bool		isnull;
	Datum		stored_at;
	bool		covered;

	if (lookup_plan == NULL)
		lookup_plan = prepare_kept_plan(lookup_sql, 1, types);

	values[0] = CStringGetTextDatum(rec->request_id);
	rc = SPI_execute_plan(lookup_plan, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed for the usage lookup: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed == 0)
		covered = false;
	else if (!rec->stream_incomplete && stored_row_is_cut_stream())
		covered = false;
	else if (rec->input_tokens > result_int64(1) ||
			 rec->output_tokens > result_int64(2) ||
			 rec->cache_write_5m_tokens > result_int64(3) ||
			 rec->cache_write_1h_tokens > result_int64(4) ||
			 rec->cache_read_tokens > result_int64(5) ||
			 rec->web_search_requests > result_int64(6) ||
			 rec->web_fetch_requests > result_int64(7))
		covered = false;
	else
	{
		/* A record without a timestamp is inserted at now(), never earlier. */
		stored_at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8, &isnull);
		covered = !(rec->has_occurred_at && !isnull &&
					rec->occurred_at < DatumGetTimestampTz(stored_at));
	}

	SPI_freetuptable(SPI_tuptable);
	return covered;
}

/* Returns the upsert plan.  Requires an SPI connection. */
static SPIPlanPtr
get_insert_plan(void)
{
	Oid			types[INSERT_NARGS] = {
		TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID,
		TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID,
		INT8OID, INT8OID, INT8OID,
		INT4OID, INT4OID, TEXTOID
	};

	if (insert_plan == NULL)
		insert_plan = prepare_kept_plan(insert_sql, INSERT_NARGS, types);
	return insert_plan;
}

/* Sets parameter i to a text value, or to NULL. */
static void
set_text(Datum *values, char *nulls, int i, const char *value)
{
	if (value == NULL)
		nulls[i] = 'n';
	else
		values[i] = CStringGetTextDatum(value);
}

/*
 * Upserts rec and returns the number of rows inserted or updated (0 or 1).
 * Requires an SPI connection.  The caller's project_id overrides the one
 * read from the record.
 */
uint64
insert_usage(UsageRecord *rec, const IngestArgs *args)
{
	Datum		values[INSERT_NARGS];
	char		nulls[INSERT_NARGS];
	int			rc;

	if (stored_row_covers(rec))
		return 0;

	memset(nulls, ' ', sizeof(nulls));

	set_text(values, nulls, 0, rec->request_id);
	if (rec->has_occurred_at)
		values[1] = TimestampTzGetDatum(rec->occurred_at);
	else
		nulls[1] = 'n';
	set_text(values, nulls, 2, rec->model);

	if (args->user_id != NULL)
		values[3] = PointerGetDatum(args->user_id);
	else
		nulls[3] = 'n';
	if (args->project_id != NULL)
		values[4] = PointerGetDatum(args->project_id);
	else
		set_text(values, nulls, 4, rec->project_id);
	set_text(values, nulls, 5, rec->session_id);
	if (!args->tags_null)
		values[6] = args->tags;
	else
		nulls[6] = 'n';

	set_text(values, nulls, 7, rec->service_tier);
	set_text(values, nulls, 8, rec->inference_geo);
	set_text(values, nulls, 9, rec->speed);
	values[10] = Int64GetDatum(rec->input_tokens);
	values[11] = Int64GetDatum(rec->output_tokens);
	values[12] = Int64GetDatum(rec->cache_write_5m_tokens);
	values[13] = Int64GetDatum(rec->cache_write_1h_tokens);
	values[14] = Int64GetDatum(rec->cache_read_tokens);
	values[15] = Int32GetDatum((int32) rec->web_search_requests);
	values[16] = Int32GetDatum((int32) rec->web_fetch_requests);
	set_text(values, nulls, 17, record_metadata(rec));

	rc = SPI_execute_plan(get_insert_plan(), values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed for the usage upsert: %s",
			 SPI_result_code_string(rc));
	return SPI_processed;
}

/* Builds a one-dimensional array of count elements of type element_type. */
static Datum
build_array(Datum *elements, bool *nulls, int count, Oid element_type)
{
	int			dims[1] = {count};
	int			lower_bounds[1] = {1};
	int16		length;
	bool		by_value;
	char		align;

	get_typlenbyvalalign(element_type, &length, &by_value, &align);
	return PointerGetDatum(construct_md_array(elements, nulls, 1, dims, lower_bounds,
											  element_type, length, by_value, align));
}

/* Array of a text field of every record (NULL elements where the field is NULL). */
static Datum
text_column(const UsageRecord *records, int count, size_t field_offset)
{
	Datum	   *elements = palloc(sizeof(Datum) * count);
	bool	   *nulls = palloc(sizeof(bool) * count);

	for (int i = 0; i < count; i++)
	{
		const char *value = *(const char *const *) ((const char *) &records[i] + field_offset);

		nulls[i] = (value == NULL);
		elements[i] = value ? CStringGetTextDatum(value) : (Datum) 0;
	}
	return build_array(elements, nulls, count, TEXTOID);
}

/* Array of an int64 field of every record, as int8 or int4 elements. */
static Datum
count_column(const UsageRecord *records, int count, size_t field_offset, Oid element_type)
{
	Datum	   *elements = palloc(sizeof(Datum) * count);

	for (int i = 0; i < count; i++)
	{
		int64		value = *(const int64 *) ((const char *) &records[i] + field_offset);

		elements[i] = (element_type == INT4OID) ? Int32GetDatum((int32) value)
			: Int64GetDatum(value);
	}
	return build_array(elements, NULL, count, element_type);
}

/*
 * Upserts count records with distinct request_ids in one statement and
 * returns the number of rows inserted or updated.  Requires an SPI
 * connection.  Unlike insert_usage, it does not look up stored rows first:
 * rows that would not change cost one conflict check each, not a statement.
 */
uint64
insert_usage_batch(const UsageRecord *records, int count, const IngestArgs *args)
{
	Oid			types[BATCH_NARGS] = {
		TEXTARRAYOID, TEXTOID, TEXTOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
		INT4ARRAYOID, INT4ARRAYOID, TEXTARRAYOID
	};
	Datum		values[BATCH_NARGS];
	char		nulls[BATCH_NARGS];
	Datum	   *times = palloc(sizeof(Datum) * count);
	bool	   *time_nulls = palloc(sizeof(bool) * count);
	int			rc;

	if (batch_insert_plan == NULL)
		batch_insert_plan = prepare_kept_plan(batch_insert_sql, BATCH_NARGS, types);

	memset(nulls, ' ', sizeof(nulls));
	for (int i = 0; i < count; i++)
	{
		time_nulls[i] = !records[i].has_occurred_at;
		times[i] = TimestampTzGetDatum(records[i].occurred_at);
	}

	values[0] = text_column(records, count, offsetof(UsageRecord, request_id));
	if (args->user_id != NULL)
		values[1] = PointerGetDatum(args->user_id);
	else
		nulls[1] = 'n';
	if (args->project_id != NULL)
		values[2] = PointerGetDatum(args->project_id);
	else
		nulls[2] = 'n';
	if (!args->tags_null)
		values[3] = args->tags;
	else
		nulls[3] = 'n';
	values[4] = build_array(times, time_nulls, count, TIMESTAMPTZOID);
	values[5] = text_column(records, count, offsetof(UsageRecord, model));
	values[6] = text_column(records, count, offsetof(UsageRecord, project_id));
	values[7] = text_column(records, count, offsetof(UsageRecord, session_id));
	values[8] = text_column(records, count, offsetof(UsageRecord, service_tier));
	values[9] = text_column(records, count, offsetof(UsageRecord, inference_geo));
	values[10] = text_column(records, count, offsetof(UsageRecord, speed));
	values[11] = count_column(records, count, offsetof(UsageRecord, input_tokens), INT8OID);
	values[12] = count_column(records, count, offsetof(UsageRecord, output_tokens), INT8OID);
	values[13] = count_column(records, count, offsetof(UsageRecord, cache_write_5m_tokens), INT8OID);
	values[14] = count_column(records, count, offsetof(UsageRecord, cache_write_1h_tokens), INT8OID);
	values[15] = count_column(records, count, offsetof(UsageRecord, cache_read_tokens), INT8OID);
	values[16] = count_column(records, count, offsetof(UsageRecord, web_search_requests), INT4OID);
	values[17] = count_column(records, count, offsetof(UsageRecord, web_fetch_requests), INT4OID);
	values[18] = text_column(records, count, offsetof(UsageRecord, metadata_text));

	rc = SPI_execute_plan(batch_insert_plan, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed for the usage batch upsert: %s",
			 SPI_result_code_string(rc));
	return SPI_processed;
}
