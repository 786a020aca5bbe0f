/*
 * ingest_batch.c
 *		Collecting the records of a multi-record payload (JSONL, a JSON
 *		array) so that they are upserted with one statement per batch.
 *
 * One statement per batch instead of one per record matters because the
 * statement-level triggers on usage (the hourly rollup) run once per
 * statement.  A statement cannot update one row twice, so records with the
 * same request_id are merged here first.  The merge uses
 * the upsert's rule: the largest value of each counter and the earliest
 * occurred_at.  The other fields come from the record with the largest
 * output_tokens (the first such record on a tie).
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "ingest.h"

/* Empties the batch and frees its memory. */
static void
batch_reset(UsageBatch *batch)
{
	MemoryContextReset(batch->context);
	batch->capacity = 64;
	batch->count = 0;
	batch->records = MemoryContextAlloc(batch->context,
										sizeof(UsageRecord) * batch->capacity);
}

void
batch_init(UsageBatch *batch, MemoryContext parent)
{
	batch->context = AllocSetContextCreate(parent, "claudecost ingest batch",
										   ALLOCSET_DEFAULT_SIZES);
	batch_reset(batch);
}

/* Copies a string into the batch context; NULL stays NULL. */
static const char *
batch_strdup(UsageBatch *batch, const char *value)
{
	return value ? MemoryContextStrdup(batch->context, value) : NULL;
}

/*
 * Copies rec into the batch.  The copy keeps the scalar fields and copies
 * of the strings, so the caller may free everything rec points to.
 */
void
batch_add(UsageBatch *batch, UsageRecord *rec)
{
	UsageRecord *copy;
	const char *metadata = record_metadata(rec);

	if (batch->count == batch->capacity)
	{
		batch->capacity *= 2;
		batch->records = repalloc(batch->records, sizeof(UsageRecord) * batch->capacity);
	}

	copy = &batch->records[batch->count++];
	memcpy(copy, rec, sizeof(UsageRecord));
	memset(&copy->metadata, 0, sizeof(copy->metadata));
	memset(&copy->assumed, 0, sizeof(copy->assumed));
	copy->request_id = batch_strdup(batch, rec->request_id);
	copy->model = batch_strdup(batch, rec->model);
	copy->project_id = batch_strdup(batch, rec->project_id);
	copy->session_id = batch_strdup(batch, rec->session_id);
	copy->service_tier = batch_strdup(batch, rec->service_tier);
	copy->inference_geo = batch_strdup(batch, rec->inference_geo);
	copy->speed = batch_strdup(batch, rec->speed);
	copy->metadata_text = batch_strdup(batch, metadata);
}

/* Orders records by request_id, then by position in the payload. */
static int
batch_compare(const void *a, const void *b)
{
	const UsageRecord *left = *(const UsageRecord *const *) a;
	const UsageRecord *right = *(const UsageRecord *const *) b;
	int			result = strcmp(left->request_id, right->request_id);

	if (result != 0)
		return result;
	return (left > right) - (left < right);
}

/* Folds duplicate into kept (same request_id, duplicate later in the payload). */
static void
batch_merge(UsageRecord *kept, const UsageRecord *duplicate)
{
	UsageRecord merged;

	/* The fields other than counters and time come from the larger output. */
	merged = (duplicate->output_tokens > kept->output_tokens) ? *duplicate : *kept;

	merged.input_tokens = Max(kept->input_tokens, duplicate->input_tokens);
	merged.output_tokens = Max(kept->output_tokens, duplicate->output_tokens);
	merged.cache_write_5m_tokens = Max(kept->cache_write_5m_tokens, duplicate->cache_write_5m_tokens);
	merged.cache_write_1h_tokens = Max(kept->cache_write_1h_tokens, duplicate->cache_write_1h_tokens);
	merged.cache_read_tokens = Max(kept->cache_read_tokens, duplicate->cache_read_tokens);
	merged.web_search_requests = Max(kept->web_search_requests, duplicate->web_search_requests);
	merged.web_fetch_requests = Max(kept->web_fetch_requests, duplicate->web_fetch_requests);

	/* A record without a timestamp is inserted at now(), later than any real one. */
	merged.has_occurred_at = kept->has_occurred_at || duplicate->has_occurred_at;
	if (kept->has_occurred_at && duplicate->has_occurred_at)
		merged.occurred_at = Min(kept->occurred_at, duplicate->occurred_at);
	else if (kept->has_occurred_at)
		merged.occurred_at = kept->occurred_at;
	else
		merged.occurred_at = duplicate->occurred_at;

	*kept = merged;
}

/*
 * Upserts the collected records, merged by request_id, and empties the
 * batch.  Returns the number of rows inserted or updated.
 */
uint64
batch_flush(UsageBatch *batch, const IngestArgs *args)
{
	UsageRecord **order;
	UsageRecord *merged;
	int			count = 0;
	uint64		rows;
	MemoryContext old_context;

	if (batch->count == 0)
		return 0;

	/* The statement's parameter arrays are freed with the batch. */
	old_context = MemoryContextSwitchTo(batch->context);
	if (batch->count == 1)
	{
		/* The single-record path first checks the stored row. */
		rows = insert_usage(&batch->records[0], args);
		MemoryContextSwitchTo(old_context);
		batch_reset(batch);
		return rows;
	}

	order = MemoryContextAlloc(batch->context, sizeof(UsageRecord *) * batch->count);
	for (int i = 0; i < batch->count; i++)
		order[i] = &batch->records[i];
	qsort(order, batch->count, sizeof(UsageRecord *), batch_compare);

	merged = MemoryContextAlloc(batch->context, sizeof(UsageRecord) * batch->count);
	for (int i = 0; i < batch->count; i++)
	{
		if (count > 0 && strcmp(merged[count - 1].request_id, order[i]->request_id) == 0)
			batch_merge(&merged[count - 1], order[i]);
		else
			merged[count++] = *order[i];
	}

	/*
	 * One request_id per record: the write statement could not tell which
	 * of two records of one request_id to apply.  insert_usage_batch takes
	 * the request_ids' advisory locks in one order for every batch.
	 */
	rows = insert_usage_batch(merged, count, args);
	MemoryContextSwitchTo(old_context);
	batch_reset(batch);
	return rows;
}
