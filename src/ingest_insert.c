/*
 * ingest_insert.c
 *		Writing an ingested record into claudecost.usage: update the stored
 *		row of its request_id, or insert one.
 *
 * Merge rule: each counter becomes the larger of the stored and the new
 * value and occurred_at the earlier of the two, and the row is updated only
 * when one of them changes.  So replaying a record changes nothing (no row
 * update, no rollup work), the largest snapshot of a response wins whatever
 * the order of arrival, and duplicates are never summed.  metadata is the
 * one of the record that last changed the row.  The pricing trigger on usage
 * prices the inserted or updated row.
 *
 * Locking rule: before it writes a request_id, ingest takes a
 * transaction-level advisory lock on (INGEST_LOCK_CLASS, hashtext(request_id))
 * and looks the request_id up under it.  Concurrent ingests of one
 * request_id therefore run one after the other, and the second one finds
 * the row of the first.  A replay that finds a row covering it writes nothing and
 * takes no lock.  This needs no unique index on request_id alone, so it
 * works unchanged on the plain ledger (UNIQUE (request_id)), on a ledger
 * partitioned by occurred_at (UNIQUE (request_id, occurred_at)) and on one
 * keyed by tenant (UNIQUE (project_id, request_id)).  On the last two,
 * INSERT ... ON CONFLICT (request_id) raises 42P10.  A plain INSERT by an
 * application takes no such lock: when it inserts a request_id that an ingest
 * writes at the same time, one of them fails with a unique violation (23505)
 * on the plain ledger, and both rows are kept on the other two.
 *
 * NOTE: two request_ids whose hashtext values are equal share a lock, so
 * their ingests wait for each other although they touch different rows.
 *
 * Under REPEATABLE READ and SERIALIZABLE the lookup reads the latest
 * committed rows and the write checks them against the transaction
 * snapshot, as the foreign key checks do: a row committed after the
 * snapshot is found, and updating it raises a serialization failure
 * (40001) instead of inserting a duplicate.
 *
 * Statements run through SPI with plans prepared once per backend.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "ingest.h"

/*
 * First key of the ingest advisory locks ("ccin" in ASCII), so that they do
 * not collide with the advisory locks of applications that use other class
 * ids.  docs/architecture.md gives the value for SQL callers.
 */
#define INGEST_LOCK_CLASS 1667459438

#define INSERT_NARGS 18
#define UPDATE_NARGS 20
#define BATCH_NARGS 19

#define USAGE_COLUMNS \
" (request_id, occurred_at, model, user_id, project_id, session_id, tags," \
"  service_tier, inference_geo, speed, input_tokens, output_tokens," \
"  cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens," \
"  web_search_requests, web_fetch_requests, metadata)"

/*
 * The merge of a record r into the stored row u: largest counters and
 * earliest occurred_at win.  MERGE_CHANGES is true when the merge changes
 * the row, or when the stored row is a cut stream (stream_complete false)
 * and the new record is complete: then only its metadata changes.
 */
#define MERGE_SET \
"  input_tokens = GREATEST(u.input_tokens, r.input_tokens)," \
"  output_tokens = GREATEST(u.output_tokens, r.output_tokens)," \
"  cache_write_5m_tokens = GREATEST(u.cache_write_5m_tokens, r.cache_write_5m_tokens)," \
"  cache_write_1h_tokens = GREATEST(u.cache_write_1h_tokens, r.cache_write_1h_tokens)," \
"  cache_read_tokens = GREATEST(u.cache_read_tokens, r.cache_read_tokens)," \
"  web_search_requests = GREATEST(u.web_search_requests, r.web_search_requests)," \
"  web_fetch_requests = GREATEST(u.web_fetch_requests, r.web_fetch_requests)," \
"  occurred_at = LEAST(u.occurred_at, r.occurred_at)," \
"  metadata = r.metadata"

#define MERGE_CHANGES \
" (r.input_tokens OPERATOR(pg_catalog.>) u.input_tokens" \
"  OR r.output_tokens OPERATOR(pg_catalog.>) u.output_tokens" \
"  OR r.cache_write_5m_tokens OPERATOR(pg_catalog.>) u.cache_write_5m_tokens" \
"  OR r.cache_write_1h_tokens OPERATOR(pg_catalog.>) u.cache_write_1h_tokens" \
"  OR r.cache_read_tokens OPERATOR(pg_catalog.>) u.cache_read_tokens" \
"  OR r.web_search_requests OPERATOR(pg_catalog.>) u.web_search_requests" \
"  OR r.web_fetch_requests OPERATOR(pg_catalog.>) u.web_fetch_requests" \
"  OR r.occurred_at OPERATOR(pg_catalog.<) u.occurred_at" \
"  OR (u.metadata OPERATOR(pg_catalog.@>) '{\"stream_complete\": false}'::pg_catalog.jsonb" \
"   AND NOT r.metadata OPERATOR(pg_catalog.@>) '{\"stream_complete\": false}'::pg_catalog.jsonb))"

/*
 * The project_id of a record without one: NULL, or '' where usage.project_id
 * is NOT NULL (a ledger keyed by tenant, see tools/citus-keys.sql).  The
 * subquery runs at most once per statement, and only when a record has no
 * project.
 */
#define PROJECT_WHEN_NONE \
"(SELECT '' FROM pg_catalog.pg_attribute a" \
" WHERE a.attrelid OPERATOR(pg_catalog.=) 'claudecost.usage'::pg_catalog.regclass" \
"  AND a.attname OPERATOR(pg_catalog.=) 'project_id' AND a.attnotnull)"

/* One record as a row r: the parameters of insert_sql and update_sql. */
#define SINGLE_RECORD \
" SELECT $1 AS request_id, coalesce($2, pg_catalog.now()) AS occurred_at, $3 AS model," \
"  $4 AS user_id, $5 AS project_id, $6 AS session_id, $7 AS tags," \
"  coalesce($8, 'standard') AS service_tier, $9 AS inference_geo, $10 AS speed," \
"  $11 AS input_tokens, $12 AS output_tokens, $13 AS cache_write_5m_tokens," \
"  $14 AS cache_write_1h_tokens, $15 AS cache_read_tokens, $16 AS web_search_requests," \
"  $17 AS web_fetch_requests, $18::pg_catalog.jsonb AS metadata"

static const char *const insert_sql =
"INSERT INTO claudecost.usage" USAGE_COLUMNS
" VALUES ($1, coalesce($2, pg_catalog.now()), $3, $4, coalesce($5, " PROJECT_WHEN_NONE "), $6, $7,"
"  coalesce($8, 'standard'), $9, $10, $11, $12, $13, $14, $15, $16, $17,"
"  $18::pg_catalog.jsonb)";

/*
 * Merges the record into the stored row found by the lookup: $19 is its id
 * and $20 its occurred_at, which selects one partition of a partitioned
 * ledger.
 */
static const char *const update_sql =
"UPDATE claudecost.usage AS u SET" MERGE_SET
" FROM (" SINGLE_RECORD ") AS r"
" WHERE u.request_id OPERATOR(pg_catalog.=) $1 AND u.id OPERATOR(pg_catalog.=) $19"
"  AND u.occurred_at OPERATOR(pg_catalog.=) $20 AND" MERGE_CHANGES;

/*
 * The records of a batch as rows r, from one array per column; $2, $3 and
 * $4 are the caller's user_id, project_id and tags.  The records have
 * distinct request_ids.
 */
#define BATCH_RECORDS \
"  SELECT r.request_id, coalesce(r.occurred_at, pg_catalog.now()) AS occurred_at, r.model," \
"   $2 AS user_id, coalesce($3, r.project_id, " PROJECT_WHEN_NONE ") AS project_id," \
"   r.session_id, $4 AS tags," \
"   coalesce(r.service_tier, 'standard') AS service_tier, r.inference_geo, r.speed," \
"   r.input_tokens, r.output_tokens, r.cache_write_5m_tokens, r.cache_write_1h_tokens," \
"   r.cache_read_tokens, r.web_search_requests, r.web_fetch_requests," \
"   r.metadata::pg_catalog.jsonb AS metadata" \
"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($5), pg_catalog.unnest($6)," \
"   pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9)," \
"   pg_catalog.unnest($10), pg_catalog.unnest($11), pg_catalog.unnest($12)," \
"   pg_catalog.unnest($13), pg_catalog.unnest($14), pg_catalog.unnest($15)," \
"   pg_catalog.unnest($16), pg_catalog.unnest($17), pg_catalog.unnest($18)," \
"   pg_catalog.unnest($19))" \
"   AS r(request_id, occurred_at, model, project_id, session_id, service_tier," \
"   inference_geo, speed, input_tokens, output_tokens, cache_write_5m_tokens," \
"   cache_write_1h_tokens, cache_read_tokens, web_search_requests," \
"   web_fetch_requests, metadata)"

#define BATCH_INSERT \
"  INSERT INTO claudecost.usage" USAGE_COLUMNS \
"  SELECT r.request_id, r.occurred_at, r.model, r.user_id, r.project_id, r.session_id, r.tags," \
"   r.service_tier, r.inference_geo, r.speed, r.input_tokens, r.output_tokens," \
"   r.cache_write_5m_tokens, r.cache_write_1h_tokens, r.cache_read_tokens," \
"   r.web_search_requests, r.web_fetch_requests, r.metadata"

#define BATCH_UPDATE \
"  UPDATE claudecost.usage AS u SET" MERGE_SET

/* How many of the batch's request_ids ($1) are stored. */
static const char *const batch_lookup_sql =
"SELECT pg_catalog.count(*) FROM pg_catalog.unnest($1) AS k(request_id)"
" WHERE EXISTS (SELECT FROM claudecost.usage u"
"               WHERE u.request_id OPERATOR(pg_catalog.=) k.request_id)";

/* A batch of which no request_id is stored. */
static const char *const batch_insert_sql =
BATCH_INSERT " FROM (" BATCH_RECORDS ") AS r ORDER BY r.request_id";

/* A batch of which every request_id is stored. */
static const char *const batch_update_sql =
BATCH_UPDATE " FROM (" BATCH_RECORDS ") AS r"
" WHERE u.request_id OPERATOR(pg_catalog.=) r.request_id AND" MERGE_CHANGES;

/*
 * A batch of which some request_ids are stored: those update their row, the
 * others are inserted.  Both parts read the rows as they were before the
 * statement, so no record is both updated and inserted.
 */
static const char *const batch_mixed_sql =
"WITH r AS (" BATCH_RECORDS "),"
"updated AS (" BATCH_UPDATE
"  FROM r WHERE u.request_id OPERATOR(pg_catalog.=) r.request_id AND" MERGE_CHANGES
"  RETURNING 1"
"),"
"inserted AS (" BATCH_INSERT
"  FROM r"
"  WHERE NOT EXISTS (SELECT FROM claudecost.usage s"
"                    WHERE s.request_id OPERATOR(pg_catalog.=) r.request_id)"
"  ORDER BY r.request_id"
"  RETURNING 1"
")"
" SELECT (SELECT pg_catalog.count(*) FROM updated)"
"  OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM inserted)";

/* The stored row of a request_id: any one of them when a ledger keyed by tenant has several. */
static const char *const lookup_sql =
"SELECT input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,"
"  cache_read_tokens, web_search_requests, web_fetch_requests, occurred_at,"
"  metadata OPERATOR(pg_catalog.@>) '{\"stream_complete\": false}'::pg_catalog.jsonb, id"
" FROM claudecost.usage WHERE request_id OPERATOR(pg_catalog.=) $1"
" LIMIT 1";

/* Prepared once per backend; the plan cache re-plans them after DDL on usage. */
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr update_plan = NULL;
static SPIPlanPtr batch_lookup_plan = NULL;
static SPIPlanPtr batch_insert_plan = NULL;
static SPIPlanPtr batch_update_plan = NULL;
static SPIPlanPtr batch_mixed_plan = NULL;
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

/* hashtext(request_id): the second key of its ingest advisory lock. */
static int32
request_id_lock_key(const char *request_id)
{
	return DatumGetInt32(DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID,
												 CStringGetTextDatum(request_id)));
}

/* Takes the transaction-level ingest advisory lock of one key; waits for its holder. */
static void
lock_request_key(int32 key)
{
	DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(INGEST_LOCK_CLASS),
						Int32GetDatum(key));
}

/*
 * Runs a kept plan.  Under REPEATABLE READ and SERIALIZABLE it reads the
 * latest committed rows, and a write to a row that the transaction snapshot
 * does not see raises a serialization failure (see the file header).
 */
static int
execute_latest(SPIPlanPtr plan, Datum *values, const char *nulls, long count)
{
	if (!IsolationUsesXactSnapshot())
		return SPI_execute_plan(plan, values, nulls, false, count);

	CommandCounterIncrement();
	return SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(),
								GetTransactionSnapshot(), false, true, count);
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

/* The stored row of a request_id that a record is merged into. */
typedef struct StoredRow
{
	bool		found;
	bool		covers;			/* the merge would change nothing */
	int64		id;
	TimestampTz occurred_at;
} StoredRow;

/*
 * Looks up the stored row of rec's request_id.  It covers rec when its
 * counters are at least as large as rec's, its occurred_at is no later, and
 * it is not a cut stream that rec completes.  Skipping such a record saves
 * a statement, and with it the statement-level triggers on usage.
 */
static StoredRow
lookup_stored_row(const UsageRecord *rec)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	StoredRow	stored = {false, false, 0, 0};
	int			rc;
	bool		isnull;

	if (lookup_plan == NULL)
		lookup_plan = prepare_kept_plan(lookup_sql, 1, types);

	values[0] = CStringGetTextDatum(rec->request_id);
	rc = execute_latest(lookup_plan, values, NULL, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed for the usage lookup: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed == 0)
	{
		SPI_freetuptable(SPI_tuptable);
		return stored;
	}

	stored.found = true;
	stored.id = result_int64(10);
	stored.occurred_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 8, &isnull));
	if (!rec->stream_incomplete && stored_row_is_cut_stream())
		stored.covers = false;
	else if (rec->input_tokens > result_int64(1) ||
			 rec->output_tokens > result_int64(2) ||
			 rec->cache_write_5m_tokens > result_int64(3) ||
			 rec->cache_write_1h_tokens > result_int64(4) ||
			 rec->cache_read_tokens > result_int64(5) ||
			 rec->web_search_requests > result_int64(6) ||
			 rec->web_fetch_requests > result_int64(7))
		stored.covers = false;
	else
	{
		/* A record without a timestamp gets now(), never earlier than the stored row. */
		stored.covers = !(rec->has_occurred_at && rec->occurred_at < stored.occurred_at);
	}

	SPI_freetuptable(SPI_tuptable);
	return stored;
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

/* Fills parameters $1 to $18 of insert_sql and update_sql from rec and the caller's arguments. */
static void
set_record_params(Datum *values, char *nulls, UsageRecord *rec, const IngestArgs *args)
{
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
}

/* Parameter types of insert_sql ($1 to $18) and update_sql ($1 to $20). */
static Oid	record_param_types[UPDATE_NARGS] = {
	TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID,
	TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID,
	INT8OID, INT8OID, INT8OID,
	INT4OID, INT4OID, TEXTOID,
	INT8OID, TIMESTAMPTZOID
};

/*
 * Writes rec into usage and returns the number of rows inserted or updated
 * (0 or 1).  Requires an SPI connection.  The caller's project_id overrides
 * the one read from the record.
 */
uint64
insert_usage(UsageRecord *rec, const IngestArgs *args)
{
	Datum		values[UPDATE_NARGS];
	char		nulls[UPDATE_NARGS];
	StoredRow	stored;
	int			rc;

	/*
	 * A replay usually finds a row that covers it, and then needs no lock:
	 * counters never decrease and occurred_at never moves later, so the row
	 * can only have grown since.  Otherwise look again under the lock.
	 */
	stored = lookup_stored_row(rec);
	if (stored.covers)
		return 0;
	lock_request_key(request_id_lock_key(rec->request_id));
	stored = lookup_stored_row(rec);
	if (stored.covers)
		return 0;

	memset(nulls, ' ', sizeof(nulls));
	set_record_params(values, nulls, rec, args);

	if (!stored.found)
	{
		if (insert_plan == NULL)
			insert_plan = prepare_kept_plan(insert_sql, INSERT_NARGS, record_param_types);
		rc = execute_latest(insert_plan, values, nulls, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_plan failed for the usage insert: %s",
				 SPI_result_code_string(rc));
		return SPI_processed;
	}

	values[18] = Int64GetDatum(stored.id);
	values[19] = TimestampTzGetDatum(stored.occurred_at);
	if (update_plan == NULL)
		update_plan = prepare_kept_plan(update_sql, UPDATE_NARGS, record_param_types);
	rc = execute_latest(update_plan, values, nulls, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_plan failed for the usage update: %s",
			 SPI_result_code_string(rc));
	return SPI_processed;
}

/* Orders int32 lock keys. */
static int
compare_lock_keys(const void *a, const void *b)
{
	int32		left = *(const int32 *) a;
	int32		right = *(const int32 *) b;

	return (left > right) - (left < right);
}

/*
 * Takes the ingest advisory locks of count records, each key once and in
 * ascending key order.  Every batch takes its keys in one order, so two
 * batches that share keys cannot deadlock on them, even when two request_ids
 * hash to one key.
 */
static void
lock_request_ids(const UsageRecord *records, int count)
{
	int32	   *keys = palloc(sizeof(int32) * count);

	for (int i = 0; i < count; i++)
		keys[i] = request_id_lock_key(records[i].request_id);
	qsort(keys, count, sizeof(int32), compare_lock_keys);
	for (int i = 0; i < count; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			lock_request_key(keys[i]);
	pfree(keys);
}

/*
 * Returns how many of the request_ids in an array are stored, so that a
 * batch of new records runs a plain INSERT and a replayed batch a plain
 * UPDATE, each cheaper than the statement that does both.
 */
static int64
count_stored_request_ids(Datum request_ids)
{
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1] = {request_ids};
	int64		stored;
	int			rc;

	if (batch_lookup_plan == NULL)
		batch_lookup_plan = prepare_kept_plan(batch_lookup_sql, 1, types);
	rc = execute_latest(batch_lookup_plan, values, NULL, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute_plan failed for the usage batch lookup: %s",
			 SPI_result_code_string(rc));
	stored = result_int64(1);
	SPI_freetuptable(SPI_tuptable);
	return stored;
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
 * Writes count records with distinct request_ids in one statement and
 * returns the number of rows inserted or updated.  Requires an SPI
 * connection.  Unlike insert_usage, it does not skip covered records before
 * the statement: a record that changes nothing costs one index lookup in
 * it, not a statement of its own.
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
	int			expected_rc;
	int64		stored;

	lock_request_ids(records, count);

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

	stored = count_stored_request_ids(values[0]);
	if (stored == 0)
	{
		if (batch_insert_plan == NULL)
			batch_insert_plan = prepare_kept_plan(batch_insert_sql, BATCH_NARGS, types);
		rc = execute_latest(batch_insert_plan, values, nulls, 0);
		expected_rc = SPI_OK_INSERT;
	}
	else if (stored == count)
	{
		if (batch_update_plan == NULL)
			batch_update_plan = prepare_kept_plan(batch_update_sql, BATCH_NARGS, types);
		rc = execute_latest(batch_update_plan, values, nulls, 0);
		expected_rc = SPI_OK_UPDATE;
	}
	else
	{
		if (batch_mixed_plan == NULL)
			batch_mixed_plan = prepare_kept_plan(batch_mixed_sql, BATCH_NARGS, types);
		rc = execute_latest(batch_mixed_plan, values, nulls, 0);
		expected_rc = SPI_OK_SELECT;
	}

	if (rc != expected_rc)
		elog(ERROR, "SPI_execute_plan failed for the usage batch write: %s",
			 SPI_result_code_string(rc));
	if (rc == SPI_OK_SELECT)
		return (uint64) result_int64(1);
	return SPI_processed;
}
