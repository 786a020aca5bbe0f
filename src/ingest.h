/*
 * ingest.h
 *		One usage record extracted from a Claude API or log JSON record, and
 *		the format readers that fill it.
 */
#ifndef INGEST_H
#define INGEST_H

#include "lib/stringinfo.h"
#include "utils/timestamp.h"

#include "json_util.h"

/*
 * Usage block of a Messages API message, with a presence flag per field so
 * that a stream's message_delta usage can overlay its message_start usage
 * field by field.
 */
typedef struct ApiUsage
{
	bool		has_input;
	int64		input;
	bool		has_output;
	int64		output;
	bool		has_cache_creation;
	int64		cache_creation;
	bool		has_write_5m;
	int64		write_5m;
	bool		has_write_1h;
	int64		write_1h;
	bool		has_cache_read;
	int64		cache_read;
	bool		has_web_search;
	int64		web_search;
	bool		has_web_fetch;
	int64		web_fetch;
	bool		has_thinking;
	int64		thinking;
	const char *service_tier;
	const char *inference_geo;
	const char *speed;
} ApiUsage;

/* One row for claudecost.usage; NULL strings mean "column default". */
typedef struct UsageRecord
{
	const char *request_id;
	bool		has_occurred_at;
	TimestampTz occurred_at;
	const char *model;
	const char *project_id;
	const char *session_id;
	const char *service_tier;
	const char *inference_geo;
	const char *speed;
	int64		input_tokens;
	int64		output_tokens;
	int64		cache_write_5m_tokens;
	int64		cache_write_1h_tokens;
	int64		cache_read_tokens;
	int64		web_search_requests;
	int64		web_fetch_requests;
	/* A stream cut before its end: a stored row marked so may be completed. */
	bool		stream_incomplete;
	/* JSON object text for the metadata column, built by the meta_* helpers. */
	StringInfoData metadata;
	/* Defaults applied for absent fields, listed in metadata.assumed. */
	StringInfoData assumed;
	/* The finished metadata JSON text, set by record_metadata. */
	const char *metadata_text;
} UsageRecord;

/*
 * Records of one payload waiting to be upserted with one statement, merged
 * by request_id (see batch_add).  Lives in its own memory context.
 */
typedef struct UsageBatch
{
	MemoryContext context;
	UsageRecord *records;
	int			count;
	int			capacity;
} UsageBatch;

/* Records per batch statement. */
#define BATCH_MAX_RECORDS 1000

/* Caller-supplied attribution (ingest() arguments) and where records go. */
typedef struct IngestArgs
{
	text	   *user_id;
	text	   *project_id;
	Datum		tags;
	bool		tags_null;
	/* When not NULL, records are collected here instead of upserted one by one. */
	UsageBatch *batch;
} IngestArgs;

/* Names of the accepted formats, as stored in metadata.source. */
#define SOURCE_API_RESPONSE "api_response"
#define SOURCE_SSE_STREAM "sse_stream"
#define SOURCE_BATCH_RESULT "batch_result"
#define SOURCE_CLAUDE_CODE "claude_code"
#define SOURCE_OPENAI "openai_compatible"

/* ingest_record.c: building a record. */
extern void record_init(UsageRecord *rec, const char *source);
extern void meta_add_string(UsageRecord *rec, const char *key, const char *value);
extern void meta_add_bool(UsageRecord *rec, const char *key, bool value);
extern void meta_add_int(UsageRecord *rec, const char *key, int64 value);
extern void meta_add_number(UsageRecord *rec, const char *key, double value);
extern void record_assume(UsageRecord *rec, const char *what);
extern const char *record_metadata(UsageRecord *rec);
extern TimestampTz parse_timestamp(const char *value, const char *prefix, const char *key);
extern TimestampTz unix_seconds_to_timestamp(int64 seconds, const char *prefix, const char *key);

/* ingest_usage.c: Messages API usage blocks. */
extern void usage_overlay(ApiUsage *usage, const cJSON *block, const char *prefix);
extern void usage_apply(const ApiUsage *usage, UsageRecord *rec, const char *prefix);
extern bool record_is_zero(const UsageRecord *rec);

/* ingest_formats.c: one function per format; false means "bills nothing". */
extern bool read_api_message(const cJSON *message, const char *prefix,
							 const cJSON *delta_usage, const char *delta_prefix,
							 UsageRecord *rec);
extern bool read_batch_result(const cJSON *line, UsageRecord *rec);
extern bool read_claude_code_line(const cJSON *line, UsageRecord *rec);
extern bool read_openai_response(const cJSON *response, UsageRecord *rec);

/* ingest_sse.c: a complete server-sent events stream. */
extern bool sse_detect(const char *text);
extern uint64 read_sse_stream(const char *payload, const IngestArgs *args);

/* ingest_batch.c: collecting the records of a multi-record payload. */
extern void batch_init(UsageBatch *batch, MemoryContext parent);
extern void batch_add(UsageBatch *batch, UsageRecord *rec);
extern uint64 batch_flush(UsageBatch *batch, const IngestArgs *args);

/* ingest_insert.c: upsert into claudecost.usage through SPI. */
extern uint64 insert_usage(UsageRecord *rec, const IngestArgs *args);
extern uint64 insert_usage_batch(const UsageRecord *records, int count,
								 const IngestArgs *args);

#endif							/* INGEST_H */
