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
#include "utils/builtins.h"

#include "ingest.h"

#define INSERT_NARGS 18

static const char *const insert_sql =
"INSERT INTO claudecost.usage AS u"
" (request_id, occurred_at, model, user_id, project_id, session_id, tags,"
"  service_tier, inference_geo, speed, input_tokens, output_tokens,"
"  cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens,"
"  web_search_requests, web_fetch_requests, metadata)"
" VALUES ($1, coalesce($2, pg_catalog.now()), $3, $4, $5, $6, $7,"
"  coalesce($8, 'standard'), $9, $10, $11, $12, $13, $14, $15, $16, $17,"
"  $18::pg_catalog.jsonb)"
" ON CONFLICT (request_id) DO UPDATE SET"
"  input_tokens = GREATEST(u.input_tokens, EXCLUDED.input_tokens),"
"  output_tokens = GREATEST(u.output_tokens, EXCLUDED.output_tokens),"
"  cache_write_5m_tokens = GREATEST(u.cache_write_5m_tokens, EXCLUDED.cache_write_5m_tokens),"
"  cache_write_1h_tokens = GREATEST(u.cache_write_1h_tokens, EXCLUDED.cache_write_1h_tokens),"
"  cache_read_tokens = GREATEST(u.cache_read_tokens, EXCLUDED.cache_read_tokens),"
"  web_search_requests = GREATEST(u.web_search_requests, EXCLUDED.web_search_requests),"
"  web_fetch_requests = GREATEST(u.web_fetch_requests, EXCLUDED.web_fetch_requests),"
"  occurred_at = LEAST(u.occurred_at, EXCLUDED.occurred_at),"
"  metadata = EXCLUDED.metadata"
" WHERE EXCLUDED.input_tokens OPERATOR(pg_catalog.>) u.input_tokens"
"  OR EXCLUDED.output_tokens OPERATOR(pg_catalog.>) u.output_tokens"
"  OR EXCLUDED.cache_write_5m_tokens OPERATOR(pg_catalog.>) u.cache_write_5m_tokens"
"  OR EXCLUDED.cache_write_1h_tokens OPERATOR(pg_catalog.>) u.cache_write_1h_tokens"
"  OR EXCLUDED.cache_read_tokens OPERATOR(pg_catalog.>) u.cache_read_tokens"
"  OR EXCLUDED.web_search_requests OPERATOR(pg_catalog.>) u.web_search_requests"
"  OR EXCLUDED.web_fetch_requests OPERATOR(pg_catalog.>) u.web_fetch_requests"
"  OR EXCLUDED.occurred_at OPERATOR(pg_catalog.<) u.occurred_at";

static const char *const lookup_sql =
"SELECT input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,"
"  cache_read_tokens, web_search_requests, web_fetch_requests, occurred_at"
" FROM claudecost.usage WHERE request_id OPERATOR(pg_catalog.=) $1";

/* Prepared once per backend; the plan cache re-plans them after DDL on usage. */
static SPIPlanPtr insert_plan = NULL;
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

/*
 * True when a stored row already has counters at least as large as rec's
 * and an occurred_at no later, so that the upsert would change nothing.
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

	if (lookup_plan == NULL)
		lookup_plan = prepare_kept_plan(lookup_sql, 1, types);

	values[0] = CStringGetTextDatum(rec->request_id);
	rc = SPI_execute_plan(lookup_plan, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed for the usage lookup: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;

	if (rec->input_tokens > result_int64(1) ||
		rec->output_tokens > result_int64(2) ||
		rec->cache_write_5m_tokens > result_int64(3) ||
		rec->cache_write_1h_tokens > result_int64(4) ||
		rec->cache_read_tokens > result_int64(5) ||
		rec->web_search_requests > result_int64(6) ||
		rec->web_fetch_requests > result_int64(7))
		return false;

	/* A record without a timestamp is inserted at now(), never earlier. */
	stored_at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8, &isnull);
	if (rec->has_occurred_at && !isnull && rec->occurred_at < DatumGetTimestampTz(stored_at))
		return false;
	return true;
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
