/*
 * ingest_record.c
 *		Building a UsageRecord: metadata JSON and timestamps.
 *
 * metadata is written as JSON text with escape_json and cast to jsonb by the
 * INSERT, so no content of the source record is copied unless a reader adds
 * it on purpose: readers add ids, versions and flags only.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "ingest.h"

/*
 * Timestamps read from records must fall in [1970-01-01T00:00:00Z,
 * 2200-01-01T00:00:00Z), the range that the CHECK constraint on
 * claudecost.usage.occurred_at accepts.  A value outside is a broken clock
 * or a unit error (milliseconds read as seconds), and rejecting it here
 * names the field it came from.
 */
#define UNIX_EPOCH_SECONDS ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)
#define MAX_UNIX_SECONDS INT64CONST(7258118399)	/* 2199-12-31T23:59:59Z */
#define MIN_OCCURRED_AT (-UNIX_EPOCH_SECONDS * USECS_PER_SEC)
#define END_OCCURRED_AT ((MAX_UNIX_SECONDS + 1 - UNIX_EPOCH_SECONDS) * USECS_PER_SEC)

void
record_init(UsageRecord *rec, const char *source)
{
	memset(rec, 0, sizeof(UsageRecord));
	initStringInfo(&rec->metadata);
	initStringInfo(&rec->assumed);
	appendStringInfoString(&rec->metadata, "{\"source\": ");
	escape_json(&rec->metadata, source);
}

/* Appends the separator and the quoted key of a new metadata member. */
static void
meta_add_key(UsageRecord *rec, const char *key)
{
	appendStringInfoString(&rec->metadata, ", ");
	escape_json(&rec->metadata, key);
	appendStringInfoString(&rec->metadata, ": ");
}

/* Adds key: value when value is not NULL. */
void
meta_add_string(UsageRecord *rec, const char *key, const char *value)
{
	if (value == NULL)
		return;
	meta_add_key(rec, key);
	escape_json(&rec->metadata, value);
}

void
meta_add_bool(UsageRecord *rec, const char *key, bool value)
{
	meta_add_key(rec, key);
	appendStringInfoString(&rec->metadata, value ? "true" : "false");
}

void
meta_add_int(UsageRecord *rec, const char *key, int64 value)
{
	meta_add_key(rec, key);
	appendStringInfo(&rec->metadata, INT64_FORMAT, value);
}

/*
 * Adds a number reported by another system (a gateway's cost).  It is kept
 * for reference only and never priced, so 15 significant digits, which
 * reproduce any decimal of up to 15 digits, are enough.
 */
void
meta_add_number(UsageRecord *rec, const char *key, double value)
{
	meta_add_key(rec, key);
	appendStringInfo(&rec->metadata, "%.15g", value);
}

/* Records that a default was applied for an absent field. */
void
record_assume(UsageRecord *rec, const char *what)
{
	if (rec->assumed.len > 0)
		appendStringInfoString(&rec->assumed, ", ");
	escape_json(&rec->assumed, what);
}

/* Closes (once) and returns the metadata JSON object text. */
const char *
record_metadata(UsageRecord *rec)
{
	if (rec->metadata_text != NULL)
		return rec->metadata_text;
	if (rec->assumed.len > 0)
		appendStringInfo(&rec->metadata, ", \"assumed\": [%s]", rec->assumed.data);
	appendStringInfoChar(&rec->metadata, '}');
	rec->metadata_text = rec->metadata.data;
	return rec->metadata_text;
}

/* Adds the field name to errors raised while parsing a timestamp. */
static void
timestamp_error_context(void *arg)
{
	errcontext("while parsing field \"%s\"", (const char *) arg);
}

/* True when p starts with n ASCII digits. */
static bool
has_digits(const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/*
 * True when value is an ISO-8601 timestamp with an explicit time zone:
 * YYYY-MM-DDTHH:MM[:SS[.fraction]] followed by Z or +hh:mm / -hh:mm.
 * timestamptz_in alone would also accept "now", "infinity" and timestamps
 * without a zone, which it reads in the session time zone.
 */
static bool
is_iso8601_with_zone(const char *value)
{
	const char *p = value;

	if (!has_digits(p, 4) || p[4] != '-' || !has_digits(p + 5, 2) || p[7] != '-' ||
		!has_digits(p + 8, 2) || p[10] != 'T' ||
		!has_digits(p + 11, 2) || p[13] != ':' || !has_digits(p + 14, 2))
		return false;
	p += 16;
	if (p[0] == ':')
	{
		if (!has_digits(p + 1, 2))
			return false;
		p += 3;
		if (p[0] == '.')
		{
			if (!has_digits(p + 1, 1))
				return false;
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (p[0] == 'Z')
		return p[1] == '\0';
	return (p[0] == '+' || p[0] == '-') && has_digits(p + 1, 2) && p[3] == ':' &&
		has_digits(p + 4, 2) && p[6] == '\0';
}

/*
 * Parses an ISO-8601 timestamp field that has an explicit time zone.  Other
 * text raises ERRCODE_INVALID_DATETIME_FORMAT naming the field.  An offset
 * beyond timestamptz_in's limit of 15:59 hours raises
 * ERRCODE_INVALID_TIME_ZONE_DISPLACEMENT_VALUE naming the field.  A
 * well-formed value with a field out of range (month 13) raises
 * timestamptz_in's ERRCODE_DATETIME_FIELD_OVERFLOW with the field in the
 * context; one outside 1970..2199 (UTC) raises the same SQLSTATE naming
 * the field.
 */
TimestampTz
parse_timestamp(const char *value, const char *prefix, const char *key)
{
	ErrorContextCallback callback;
	Datum		result;
	TimestampTz timestamp;
	size_t		length = strlen(value);

	if (!is_iso8601_with_zone(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("invalid timestamp in field \"%s%s\": \"%s\"", prefix, key, value),
				 errdetail("Timestamps must be ISO-8601 with a time zone, such as 2025-01-31T12:00:00Z or 2025-01-31T12:00:00.5+01:00.")));

	/* The value ends in Z or in an offset +hh:mm / -hh:mm. */
	if (value[length - 1] != 'Z')
	{
		const char *offset = value + length - 6;
		int			hours = (offset[1] - '0') * 10 + (offset[2] - '0');
		int			minutes = (offset[4] - '0') * 10 + (offset[5] - '0');

		if (hours > MAX_TZDISP_HOUR || minutes >= MINS_PER_HOUR)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TIME_ZONE_DISPLACEMENT_VALUE),
					 errmsg("time zone offset out of range in field \"%s%s\": \"%s\"",
							prefix, key, value),
					 errdetail("Offsets must be from -15:59 to +15:59, with minutes below 60.")));
	}

	callback.callback = timestamp_error_context;
	callback.arg = psprintf("%s%s", prefix, key);
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	result = DirectFunctionCall3(timestamptz_in, CStringGetDatum(value),
								 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));

	error_context_stack = callback.previous;
	timestamp = DatumGetTimestampTz(result);
	if (timestamp < MIN_OCCURRED_AT || timestamp >= END_OCCURRED_AT)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
				 errmsg("field \"%s%s\" is out of range: \"%s\"", prefix, key, value),
				 errdetail("Timestamps must be from 1970-01-01T00:00:00Z to 2199-12-31T23:59:59.999999Z.")));
	return timestamp;
}

/*
 * Converts the Unix time in seconds of a field to a timestamp.  Raises
 * ERRCODE_DATETIME_FIELD_OVERFLOW naming the field when it is outside
 * 1970..2199 (UTC).
 */
TimestampTz
unix_seconds_to_timestamp(int64 seconds, const char *prefix, const char *key)
{
	if (seconds < 0 || seconds > MAX_UNIX_SECONDS)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
				 errmsg("field \"%s%s\" is out of range: " INT64_FORMAT, prefix, key, seconds),
				 errdetail("Unix times must be from 0 (1970-01-01T00:00:00Z) to 7258118399 (2199-12-31T23:59:59Z) seconds.")));
	return (seconds - UNIX_EPOCH_SECONDS) * USECS_PER_SEC;
}
