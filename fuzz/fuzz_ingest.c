/*
 * fuzz_ingest.c
 *		libFuzzer harness: claudecost.ingest() on arbitrary payloads.
 *
 * Runs the real claudecost_ingest (src/ingest*.c, src/json_util.c and
 * src/json_syntax.c: format detection, JSON and SSE parsing, field
 * mapping, batching) on the input, turned into valid UTF-8 without NUL
 * bytes as a text value of a UTF8 database always is.  Only the SPI upsert of src/ingest_insert.c is
 * replaced: insert_usage and insert_usage_batch here check each record
 * that would be stored.  The harness aborts (libFuzzer reports a crash) when
 *	- ingest raises an ERROR with an internal SQLSTATE (class XX),
 *	- a record has no request_id or model, a negative count, or a web
 *	  search or fetch count that does not fit the integer column,
 *	- a text field of a record is not valid UTF-8,
 *	- the metadata text of a record is not valid JSON, or
 *	- the returned row count differs from the records the upserts took,
 * and ASan, UBSan and LeakSanitizer report memory errors, undefined
 * behaviour and leaks.  Built by tools/fuzz.sh.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"

#include "ingest.h"
#include "pg_shim.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern Datum claudecost_ingest(PG_FUNCTION_ARGS);

/* Records the stand-in upserts took in this input. */
static uint64 records_stored;

static void
fail(const char *what, const char *value)
{
	fprintf(stderr, "ingest fuzz: %s: \"%.200s\"\n", what, value ? value : "(null)");
	abort();
}

/* Checks that a text field of a record could be stored in a UTF8 database. */
static void
check_text(const char *field, const char *value)
{
	if (value != NULL &&
		pg_encoding_verifymbstr(PG_UTF8, value, strlen(value)) != (int) strlen(value))
		fail(field, value);
}

/* Checks one record that would be upserted. */
static void
check_record(UsageRecord *rec)
{
	const char *metadata = record_metadata(rec);
	cJSON	   *parsed;

	if (rec->request_id == NULL || rec->request_id[0] == '\0')
		fail("record without request_id", rec->model);
	if (rec->model == NULL || rec->model[0] == '\0')
		fail("record without model", rec->request_id);
	if (rec->input_tokens < 0 || rec->output_tokens < 0 || rec->cache_write_5m_tokens < 0 ||
		rec->cache_write_1h_tokens < 0 || rec->cache_read_tokens < 0 ||
		rec->web_search_requests < 0 || rec->web_fetch_requests < 0)
		fail("negative count", rec->request_id);
	if (rec->web_search_requests > PG_INT32_MAX || rec->web_fetch_requests > PG_INT32_MAX)
		fail("server tool count does not fit integer", rec->request_id);
	check_text("request_id is not UTF-8", rec->request_id);
	check_text("model is not UTF-8", rec->model);
	check_text("project_id is not UTF-8", rec->project_id);
	check_text("session_id is not UTF-8", rec->session_id);
	check_text("service_tier is not UTF-8", rec->service_tier);
	check_text("inference_geo is not UTF-8", rec->inference_geo);
	check_text("speed is not UTF-8", rec->speed);
	check_text("metadata is not UTF-8", metadata);

	parsed = cJSON_ParseWithOpts(metadata, NULL, true);
	if (parsed == NULL || !cJSON_IsObject(parsed))
		fail("metadata is not a JSON object", metadata);
	records_stored++;
}

/* Stand-in for the SPI upsert of one record (src/ingest_insert.c). */
uint64
insert_usage(UsageRecord *rec, const IngestArgs *args)
{
	check_record(rec);
	return 1;
}

/* Stand-in for the SPI upsert of a batch (src/ingest_insert.c). */
uint64
insert_usage_batch(const UsageRecord *records, int count, const IngestArgs *args)
{
	for (int i = 0; i < count; i++)
		check_record((UsageRecord *) &records[i]);
	return count;
}

/* Payload text and the row count ingest returned. */
typedef struct IngestCall
{
	text	   *payload;
	int32		rows;
} IngestCall;

static void
call_ingest(void *argument)
{
	IngestCall *call = argument;
	LOCAL_FCINFO(fcinfo, 4);

	InitFunctionCallInfoData(*fcinfo, NULL, 4, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = PointerGetDatum(call->payload);
	fcinfo->args[0].isnull = false;
	for (int i = 1; i < 4; i++)
	{
		fcinfo->args[i].value = (Datum) 0;
		fcinfo->args[i].isnull = true;
	}
	call->rows = DatumGetInt32(claudecost_ingest(fcinfo));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	IngestCall	call;
	char	   *payload;
	size_t		length;

	shim_init();
	payload = shim_utf8_text(data, size, &length);
	call.payload = shim_text(payload, length);
	call.rows = -1;
	records_stored = 0;

	if (shim_try(call_ingest, &call) && (uint64) call.rows != records_stored)
	{
		char		counts[64];

		snprintf(counts, sizeof(counts), "%d returned, %llu stored",
				 call.rows, (unsigned long long) records_stored);
		fail("row count differs from the records stored", counts);
	}
	shim_end_input();
	return 0;
}
