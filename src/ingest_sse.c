/*
 * ingest_sse.c
 *		Reading complete server-sent events streams of the Messages API.
 *
 * A stream is message_start, content block events and pings, message_delta,
 * message_stop.  message_start's usage contains the input and cache counts and
 * a provisional output count; message_delta's usage is cumulative (newer
 * streams repeat every count, older ones send output_tokens only).  The
 * final usage is message_start's usage overlaid field by field with the last
 * message_delta's usage, never their sum.
 * A payload may contain several streams in a row: each message_start starts
 * a new message, and every message gives its own record.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "ingest.h"

/* True when the payload starts (after white space) with an SSE field. */
bool
sse_detect(const char *text)
{
	return strncmp(text, "event:", 6) == 0 || strncmp(text, "data:", 5) == 0 ||
		strncmp(text, "id:", 3) == 0 || strncmp(text, "retry:", 6) == 0 ||
		text[0] == ':';
}

/* Events of the current message that matter for usage. */
typedef struct SseState
{
	cJSON	   *start_message;	/* message_start.message */
	cJSON	   *delta_usage;	/* usage of the last message_delta */
	bool		saw_stop;
	bool		saw_error;
	const IngestArgs *args;		/* where finished messages go */
	uint64	   *rows;			/* rows inserted or updated so far */
} SseState;

static uint64 sse_finish_message(const SseState *state, const IngestArgs *args);

/*
 * Dispatches one event's JSON data.  A message_start after another message
 * finishes that message first, so a payload of several streams gives one
 * record per message.
 */
static void
sse_event(SseState *state, cJSON *event)
{
	const char *type;

	if (!cJSON_IsObject(event))
		return;
	type = json_get_string(event, "", "type");
	if (type == NULL)
		return;

	if (strcmp(type, "message_start") == 0)
	{
		cJSON	   *message = json_require_object(event, "message_start.", "message");

		if (state->start_message != NULL)
			*state->rows += sse_finish_message(state, state->args);
		state->start_message = message;
		state->delta_usage = NULL;
		state->saw_stop = false;
		state->saw_error = false;
	}
	else if (strcmp(type, "message_delta") == 0)
	{
		cJSON	   *usage = json_get_object(event, "message_delta.", "usage");

		if (usage != NULL)
			state->delta_usage = usage;
	}
	else if (strcmp(type, "message_stop") == 0)
		state->saw_stop = true;
	else if (strcmp(type, "error") == 0)
		state->saw_error = true;
}

/*
 * Parses the data of one event.  data contains the event's data lines joined
 * by newlines, and data_offset is the byte offset in the payload where the
 * first line's value starts.  Error offsets are exact within that first
 * line; for data split over several lines they ignore the "data:" prefixes
 * of the later lines.  Data that is not a JSON object (OpenAI's "[DONE]")
 * is ignored.
 */
static void
sse_dispatch(SseState *state, StringInfo data, int data_offset)
{
	const char *end;
	cJSON	   *event;
	int			i = 0;

	while (i < data->len && (data->data[i] == ' ' || data->data[i] == '\t'))
		i++;
	if (i >= data->len || data->data[i] != '{')
		return;

	event = json_util_parse(data->data, data_offset, data->data + i, data->len - i, &end,
							"SSE event data");
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (*end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid JSON in SSE event data"),
				 errdetail("Unexpected data after the JSON value at byte offset %d.",
						   data_offset + (int) (end - data->data)),
				 errhint("Events of an SSE stream are separated by blank lines.")));
	sse_event(state, event);
}

/*
 * Builds the record of the message that the events in state describe and
 * upserts it.  Returns the rows inserted or updated: 0 when the message
 * bills nothing (it failed with an error event before any message_delta,
 * or its usage is zero).  A message cut before message_delta is read from
 * message_start's provisional usage and marked stream_complete = false in
 * metadata; ingesting the complete stream later raises the counts to the
 * final ones and clears the mark.
 */
static uint64
sse_finish_message(const SseState *state, const IngestArgs *args)
{
	UsageRecord rec;

	/*
	 * NOTE: the API documents no usage for a stream that fails after
	 * message_start, so such a stream is not billed here.
	 */
	if (state->saw_error && state->delta_usage == NULL)
		return 0;

	record_init(&rec, SOURCE_SSE_STREAM);
	if (!state->saw_stop || state->delta_usage == NULL)
	{
		meta_add_bool(&rec, "stream_complete", false);
		rec.stream_incomplete = true;
	}
	if (!read_api_message(state->start_message, "message_start.message.",
						  state->delta_usage, "message_delta.usage.", &rec))
		return 0;
	return insert_usage(&rec, args);
}

/*
 * Reads the SSE stream in payload and upserts one record per message.  A
 * payload may contain several streams one after the other: each
 * message_start begins a new message, and the events up to the next one
 * belong to it.  Returns the rows inserted or updated.
 */
uint64
read_sse_stream(const char *payload, const IngestArgs *args)
{
	SseState	state;
	StringInfoData data;
	int			data_offset = -1;
	const char *line = payload;
	uint64		rows = 0;

	memset(&state, 0, sizeof(state));
	state.args = args;
	state.rows = &rows;
	initStringInfo(&data);

	for (;;)
	{
		const char *newline = strchr(line, '\n');
		int			len = newline ? (int) (newline - line) : (int) strlen(line);

		CHECK_FOR_INTERRUPTS();
		if (len > 0 && line[len - 1] == '\r')
			len--;

		if (len == 0)
		{
			/* A blank line ends an event. */
			if (data_offset >= 0)
				sse_dispatch(&state, &data, data_offset);
			resetStringInfo(&data);
			data_offset = -1;
		}
		else if (len >= 5 && strncmp(line, "data:", 5) == 0)
		{
			int			skip = (len > 5 && line[5] == ' ') ? 6 : 5;

			if (data_offset >= 0)
				appendStringInfoChar(&data, '\n');
			else
				data_offset = (int) (line - payload) + skip;
			appendBinaryStringInfo(&data, line + skip, len - skip);
		}
		/* event:, id:, retry: and comments carry nothing usage needs. */

		if (newline == NULL)
			break;
		line = newline + 1;
	}
	if (data_offset >= 0)
		sse_dispatch(&state, &data, data_offset);

	if (state.start_message != NULL)
		rows += sse_finish_message(&state, args);
	else if (!state.saw_error)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("missing event \"message_start\" in SSE stream"),
				 errdetail("Usage is read from the message_start and message_delta events.")));
	return rows;
}
