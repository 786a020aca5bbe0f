/*
 * ingest.c
 *		claudecost.ingest(payload, user_id, project_id, tags): turns raw Claude
 *		API and log JSON into usage rows.
 *
 * The payload is either SSE (it starts with an SSE field such as "event:" or
 * "data:"), one or more complete streams giving one record per
 * message_start, or a sequence of JSON values: one object, a JSON array of
 * objects, or several objects one after the other (JSONL).
 * Each object's format is detected from its keys; see ingest_object.  Every
 * record is parsed in a memory context that is reset after it is read, so a
 * large JSONL payload needs memory for one parse tree at a time plus the
 * batch of extracted rows (see ingest_batch.c).
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "ingest.h"

PG_FUNCTION_INFO_V1(claudecost_ingest);

/* What is being ingested, for errcontext: one record, or a batch upsert. */
typedef struct IngestPosition
{
	const char *format;
	int			offset;
	int			batch_records;	/* > 0 while a batch is upserted */
} IngestPosition;

static void
ingest_error_context(void *arg)
{
	IngestPosition *position = (IngestPosition *) arg;

	if (position->batch_records > 0)
		errcontext("upsert of %d usage records read from the usage payload",
				   position->batch_records);
	else
		errcontext("%s at byte offset %d of the usage payload",
				   position->format, position->offset);
}

/* Claude Code log line types that carry no sessionId on some versions. */
static bool
is_claude_code_type(const char *type)
{
	static const char *const types[] = {
		"assistant", "user", "system", "summary", "progress",
		"file-history-snapshot", "queue-operation", "result"
	};

	for (int i = 0; i < (int) lengthof(types); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

/* Raises the error for a JSON value of no accepted format. */
static void
unrecognized_record(const cJSON *value)
{
	StringInfoData keys;
	int			n = 0;

	initStringInfo(&keys);
	if (cJSON_IsObject(value))
	{
		const cJSON *member;

		cJSON_ArrayForEach(member, value)
		{
			if (n++ == 8)
			{
				appendStringInfoString(&keys, " and more");
				break;
			}
			appendStringInfo(&keys, "%s\"%s\"", n > 1 ? ", " : "", member->string);
		}
	}

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized usage record format"),
			 cJSON_IsObject(value)
			 ? errdetail("The JSON object has the keys %s.", n > 0 ? keys.data : "(none)")
			 : errdetail("The JSON value is not an object."),
			 errhint("claudecost.ingest accepts a Messages API response, a complete SSE stream, "
					 "a Message Batches results line, a Claude Code session log line and an "
					 "OpenAI-compatible chat completion.")));
}

/*
 * Upserts rec when billable and returns the rows inserted or updated; with a
 * batch, adds rec to it instead and returns 0 (batch_flush counts the rows).
 */
static uint64
ingest_record(UsageRecord *rec, bool billable, const IngestArgs *args)
{
	if (!billable)
		return 0;
	if (args->batch != NULL)
	{
		batch_add(args->batch, rec);
		return 0;
	}
	return insert_usage(rec, args);
}

/* Upserts the records collected so far. */
static uint64
flush_batch(const IngestArgs *args, IngestPosition *position)
{
	uint64		rows;

	position->batch_records = args->batch->count;
	rows = batch_flush(args->batch, args);
	position->batch_records = 0;
	return rows;
}

/*
 * Detects the format of one JSON object and ingests it.  Records that bill
 * nothing by nature (API error bodies, count_tokens results) return 0.
 */
static uint64
ingest_object(const cJSON *value, const IngestArgs *args, IngestPosition *position)
{
	UsageRecord rec;
	cJSON	   *type_item;
	const char *type = NULL;
	const char *object_name = NULL;

	if (!cJSON_IsObject(value))
		unrecognized_record(value);

	type_item = json_get_member(value, "type");
	if (type_item != NULL && cJSON_IsString(type_item))
		type = type_item->valuestring;
	if (cJSON_IsString(json_get_member(value, "object")))
		object_name = json_get_member(value, "object")->valuestring;

	if (json_get_member(value, "custom_id") != NULL && json_get_member(value, "result") != NULL)
	{
		position->format = "Message Batches result line";
		record_init(&rec, SOURCE_BATCH_RESULT);
		return ingest_record(&rec, read_batch_result(value, &rec), args);
	}
	if (type != NULL && strcmp(type, "message") == 0)
	{
		position->format = "Messages API response";
		record_init(&rec, SOURCE_API_RESPONSE);
		return ingest_record(&rec, read_api_message(value, "", NULL, NULL, &rec), args);
	}
	if (type != NULL && strcmp(type, "error") == 0)
		return 0;				/* API error body: nothing was billed */
	if (json_get_member(value, "choices") != NULL ||
		(object_name != NULL && strncmp(object_name, "chat.completion", 15) == 0))
	{
		position->format = "OpenAI-compatible response";
		record_init(&rec, SOURCE_OPENAI);
		return ingest_record(&rec, read_openai_response(value, &rec), args);
	}
	if (json_get_member(value, "sessionId") != NULL ||
		json_get_member(value, "session_id") != NULL ||
		(type != NULL && is_claude_code_type(type)))
	{
		position->format = "Claude Code session line";
		record_init(&rec, SOURCE_CLAUDE_CODE);
		return ingest_record(&rec, read_claude_code_line(value, &rec), args);
	}
	/* A count_tokens result is free; a bare usage block is not one. */
	if (json_get_member(value, "input_tokens") != NULL &&
		json_get_member(value, "output_tokens") == NULL &&
		json_get_member(value, "model") == NULL && json_get_member(value, "id") == NULL)
		return 0;

	unrecognized_record(value);
	return 0;					/* not reached */
}

/* Skips JSON white space (and a UTF-8 byte order mark at the start). */
static const char *
skip_space(const char *p)
{
	if ((unsigned char) p[0] == 0xEF && (unsigned char) p[1] == 0xBB &&
		(unsigned char) p[2] == 0xBF)
		p += 3;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * Ingests every JSON value of payload, with a memory context reset after
 * each.  The records are upserted in batches of up to BATCH_MAX_RECORDS.
 */
static uint64
ingest_json_sequence(const char *payload, size_t payload_len, const char *start,
					 const IngestArgs *args, MemoryContext record_context,
					 IngestPosition *position)
{
	uint64		rows = 0;
	const char *p = start;
	const char *payload_end = payload + payload_len;

	while (*p != '\0')
	{
		MemoryContext old_context;
		const char *end;
		cJSON	   *value;

		CHECK_FOR_INTERRUPTS();
		position->format = "JSON record";
		position->offset = (int) (p - payload);

		old_context = MemoryContextSwitchTo(record_context);
		value = json_util_parse(payload, 0, p, payload_end - p, &end, "usage payload");
		if (cJSON_IsArray(value))
		{
			const cJSON *element;

			cJSON_ArrayForEach(element, value)
			{
				CHECK_FOR_INTERRUPTS();
				rows += ingest_object(element, args, position);
				if (args->batch->count >= BATCH_MAX_RECORDS)
					rows += flush_batch(args, position);
			}
		}
		else
			rows += ingest_object(value, args, position);
		MemoryContextSwitchTo(old_context);
		MemoryContextReset(record_context);

		if (args->batch->count >= BATCH_MAX_RECORDS)
			rows += flush_batch(args, position);
		p = skip_space(end);
	}
	return rows + flush_batch(args, position);
}

/*
 * claudecost.ingest(payload text, user_id text, project_id text, tags text[])
 * returns integer: the number of usage rows inserted or updated.
 */
Datum
claudecost_ingest(PG_FUNCTION_ARGS)
{
	char	   *payload;
	const char *start;
	IngestArgs	args;
	IngestPosition position;
	ErrorContextCallback callback;
	MemoryContext record_context;
	uint64		rows = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	payload = text_to_cstring(PG_GETARG_TEXT_PP(0));
	args.user_id = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	args.project_id = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2);
	args.tags_null = PG_ARGISNULL(3);
	args.tags = args.tags_null ? (Datum) 0 : PG_GETARG_DATUM(3);
	args.batch = NULL;

	start = skip_space(payload);
	if (*start == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("usage payload is empty")));

	json_util_init_hooks();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	record_context = AllocSetContextCreate(CurrentMemoryContext,
										   "claudecost ingest record",
										   ALLOCSET_DEFAULT_SIZES);
	position.format = "JSON record";
	position.offset = (int) (start - payload);
	position.batch_records = 0;
	callback.callback = ingest_error_context;
	callback.arg = &position;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	if (sse_detect(start))
	{
		MemoryContext old_context = MemoryContextSwitchTo(record_context);

		position.format = "SSE stream";
		rows = read_sse_stream(payload, &args);
		MemoryContextSwitchTo(old_context);
	}
	else
	{
		UsageBatch	batch;

		batch_init(&batch, CurrentMemoryContext);
		args.batch = &batch;
		rows = ingest_json_sequence(payload, strlen(payload), start, &args,
									record_context, &position);
	}

	error_context_stack = callback.previous;
	SPI_finish();

	if (rows > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ingested row count does not fit an integer: " UINT64_FORMAT, rows)));
	PG_RETURN_INT32((int32) rows);
}
