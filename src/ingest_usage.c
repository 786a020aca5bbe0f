/*
 * ingest_usage.c
 *		Reading the usage block of a Messages API message.
 *
 * The input, cache write and cache read counts of the Messages API are
 * disjoint, and so are the usage columns, so they map one to one.  Fields
 * that the API added over time may be absent.  Without the cache_creation
 * split every cache write counts as a 5-minute write, the only kind before
 * 1-hour writes existed.  Without service_tier the tier is standard, and
 * without server_tool_use there were no server tool calls.  The first two
 * defaults are listed in metadata.assumed.
 */
#include "postgres.h"

#include "ingest.h"

/*
 * Reads the fields present in block into usage, leaving absent ones as they
 * are.  Reading message_start's usage and then message_delta's usage into the
 * same ApiUsage gives the overlay a stream needs: message_delta counts are
 * cumulative, so they replace, never add to, the earlier values.
 */
void
usage_overlay(ApiUsage *usage, const cJSON *block, const char *prefix)
{
	cJSON	   *split;
	cJSON	   *tools;
	cJSON	   *details;
	const char *value;

	usage->has_input |= json_get_count(block, prefix, "input_tokens", &usage->input);
	usage->has_output |= json_get_count(block, prefix, "output_tokens", &usage->output);
	usage->has_cache_creation |= json_get_count(block, prefix, "cache_creation_input_tokens",
												&usage->cache_creation);
	usage->has_cache_read |= json_get_count(block, prefix, "cache_read_input_tokens",
											&usage->cache_read);

	split = json_get_object(block, prefix, "cache_creation");
	if (split != NULL)
	{
		char	   *split_prefix = psprintf("%scache_creation.", prefix);

		usage->has_write_5m |= json_get_count(split, split_prefix, "ephemeral_5m_input_tokens",
											  &usage->write_5m);
		usage->has_write_1h |= json_get_count(split, split_prefix, "ephemeral_1h_input_tokens",
											  &usage->write_1h);
	}

	tools = json_get_object(block, prefix, "server_tool_use");
	if (tools != NULL)
	{
		char	   *tools_prefix = psprintf("%sserver_tool_use.", prefix);

		usage->has_web_search |= json_get_count(tools, tools_prefix, "web_search_requests",
												&usage->web_search);
		usage->has_web_fetch |= json_get_count(tools, tools_prefix, "web_fetch_requests",
											   &usage->web_fetch);
	}

	details = json_get_object(block, prefix, "output_tokens_details");
	if (details != NULL)
		usage->has_thinking |= json_get_count(details, psprintf("%soutput_tokens_details.", prefix),
											  "thinking_tokens", &usage->thinking);

	if ((value = json_get_string(block, prefix, "service_tier")) != NULL)
		usage->service_tier = value;
	if ((value = json_get_string(block, prefix, "inference_geo")) != NULL)
		usage->inference_geo = value;
	if ((value = json_get_string(block, prefix, "speed")) != NULL)
		usage->speed = value;
}

/* Raises the error for a server tool count that does not fit an integer column. */
static int64
server_tool_count(int64 value, const char *prefix, const char *key)
{
	if (value > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field \"%sserver_tool_use.%s\" is out of range: " INT64_FORMAT,
						prefix, key, value)));
	return value;
}

/*
 * Copies usage into the record's columns.  input_tokens and output_tokens
 * are required; prefix names the usage block in errors.
 */
void
usage_apply(const ApiUsage *usage, UsageRecord *rec, const char *prefix)
{
	if (!usage->has_input)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("missing field \"%sinput_tokens\"", prefix)));
	if (!usage->has_output)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("missing field \"%soutput_tokens\"", prefix)));

	rec->input_tokens = usage->input;
	rec->output_tokens = usage->output;
	rec->cache_read_tokens = usage->has_cache_read ? usage->cache_read : 0;

	if (usage->has_write_5m || usage->has_write_1h)
	{
		rec->cache_write_5m_tokens = usage->has_write_5m ? usage->write_5m : 0;
		rec->cache_write_1h_tokens = usage->has_write_1h ? usage->write_1h : 0;
	}
	else if (usage->has_cache_creation)
	{
		rec->cache_write_5m_tokens = usage->cache_creation;
		if (usage->cache_creation > 0)
			record_assume(rec, "cache_write=5m");
	}

	if (usage->has_web_search)
		rec->web_search_requests = server_tool_count(usage->web_search, prefix,
													 "web_search_requests");
	if (usage->has_web_fetch)
		rec->web_fetch_requests = server_tool_count(usage->web_fetch, prefix,
													"web_fetch_requests");

	/* A reader that knows the tier (batch results) sets it beforehand. */
	if (usage->service_tier != NULL)
		rec->service_tier = usage->service_tier;
	else if (rec->service_tier == NULL)
		record_assume(rec, "service_tier=standard");

	/* "not_available" and "" mean no data residency choice: store NULL. */
	if (usage->inference_geo != NULL &&
		usage->inference_geo[0] != '\0' &&
		strcmp(usage->inference_geo, "not_available") != 0)
		rec->inference_geo = usage->inference_geo;

	if (usage->speed != NULL)
		rec->speed = usage->speed;

	if (usage->has_thinking)
		meta_add_int(rec, "thinking_tokens", usage->thinking);
}

/* True when the record carries no billable quantity (0/0 continuations). */
bool
record_is_zero(const UsageRecord *rec)
{
	return rec->input_tokens == 0 && rec->output_tokens == 0 &&
		rec->cache_write_5m_tokens == 0 && rec->cache_write_1h_tokens == 0 &&
		rec->cache_read_tokens == 0 && rec->web_search_requests == 0;
}
