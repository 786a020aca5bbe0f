/*
 * ingest_formats.c
 *		Readers for the record formats that claudecost.ingest accepts: a
 *		Messages API message, a Message Batches result line, a Claude Code
 *		session log line and an OpenAI-compatible chat completion.
 *
 * Each reader fills a UsageRecord and returns false when the record bills
 * nothing (a non-assistant log line, an API error line, a failed batch
 * request, a 0/0 continuation message).  metadata gets ids, versions and
 * flags, never message content.
 */
#include "postgres.h"

#include "ingest.h"

/*
 * Reads a Messages API message (id, model, usage).  delta_usage, when not
 * NULL, is a stream's last message_delta usage, overlaid on the message's
 * usage field by field.
 */
bool
read_api_message(const cJSON *message, const char *prefix,
				 const cJSON *delta_usage, const char *delta_prefix,
				 UsageRecord *rec)
{
	char	   *usage_prefix = psprintf("%susage.", prefix);
	cJSON	   *usage_block;
	ApiUsage	usage;

	rec->request_id = json_require_string(message, prefix, "id");
	rec->model = json_require_string(message, prefix, "model");
	usage_block = json_require_object(message, prefix, "usage");

	memset(&usage, 0, sizeof(usage));
	usage_overlay(&usage, usage_block, usage_prefix);
	if (delta_usage != NULL)
		usage_overlay(&usage, delta_usage, delta_prefix);
	usage_apply(&usage, rec, usage_prefix);

	return !record_is_zero(rec);
}

/*
 * Reads a Message Batches results line {custom_id, result: {type, message |
 * error}}.  Only succeeded requests bill, always at the batch tier: older
 * result files carry no service_tier at all.
 */
bool
read_batch_result(const cJSON *line, UsageRecord *rec)
{
	cJSON	   *result;
	const char *result_type;
	cJSON	   *message;
	bool		billable;

	meta_add_string(rec, "custom_id", json_require_string(line, "", "custom_id"));
	result = json_require_object(line, "", "result");
	result_type = json_require_string(result, "result.", "type");
	if (strcmp(result_type, "succeeded") != 0)
		return false;

	message = json_require_object(result, "result.", "message");
	rec->service_tier = "batch";
	billable = read_api_message(message, "result.message.", NULL, NULL, rec);
	rec->service_tier = "batch";
	return billable;
}

/*
 * Reads a Claude Code session log line (a JSONL file under ~/.claude/projects) or a
 * `claude -p --output-format stream-json` event.  Only assistant lines bill.
 * Usage embedded in progress lines repeats the sub-agent's own log and is
 * skipped; API errors are logged as assistant lines with isApiErrorMessage
 * and model "<synthetic>" and bill nothing.
 */
bool
read_claude_code_line(const cJSON *line, UsageRecord *rec)
{
	cJSON	   *type_item = json_get_member(line, "type");
	cJSON	   *message;
	const char *model;
	const char *timestamp;
	const char *session_id;
	bool		flag;
	cJSON	   *cost;

	/* Lines of the first releases have no type; their usage lines have a message. */
	if (type_item != NULL &&
		!(cJSON_IsString(type_item) && strcmp(type_item->valuestring, "assistant") == 0))
		return false;
	if (json_get_bool(line, "", "isApiErrorMessage", &flag) && flag)
		return false;

	message = json_get_object(line, "", "message");
	if (type_item == NULL && (message == NULL || json_get_member(message, "usage") == NULL))
		return false;
	if (message == NULL)
		message = json_require_object(line, "", "message");

	model = json_get_string(message, "message.", "model");
	if (model != NULL && strcmp(model, "<synthetic>") == 0)
		return false;

	if (!read_api_message(message, "message.", NULL, NULL, rec))
		return false;

	timestamp = json_get_string(line, "", "timestamp");
	if (timestamp != NULL)
	{
		rec->occurred_at = parse_timestamp(timestamp, "", "timestamp");
		rec->has_occurred_at = true;
	}

	session_id = json_get_string(line, "", "sessionId");
	if (session_id == NULL)
		session_id = json_get_string(line, "", "session_id");
	rec->session_id = session_id;
	rec->project_id = json_get_string(line, "", "cwd");

	meta_add_string(rec, "requestId", json_get_string(line, "", "requestId"));
	meta_add_string(rec, "uuid", json_get_string(line, "", "uuid"));
	meta_add_string(rec, "version", json_get_string(line, "", "version"));
	meta_add_string(rec, "gitBranch", json_get_string(line, "", "gitBranch"));
	if (json_get_bool(line, "", "isSidechain", &flag))
		meta_add_bool(rec, "isSidechain", flag);
	meta_add_string(rec, "agentId", json_get_string(line, "", "agentId"));
	meta_add_string(rec, "entrypoint", json_get_string(line, "", "entrypoint"));

	/* Claude Code's own estimate, written by early 2025 releases. */
	cost = json_get_member(line, "costUSD");
	if (cost != NULL && cJSON_IsNumber(cost))
		meta_add_number(rec, "costUSD", cost->valuedouble);

	return true;
}

/* Reads an optional count below usage.<object>. */
static bool
openai_detail_count(const cJSON *usage, const char *object, const char *key, int64 *value)
{
	cJSON	   *details = json_get_object(usage, "usage.", object);

	if (details == NULL)
		return false;
	return json_get_count(details, psprintf("usage.%s.", object), key, value);
}

/*
 * Reads an OpenAI-compatible chat completion from a gateway (OpenRouter,
 * LiteLLM).  prompt_tokens includes cache reads and cache writes, so
 * input = prompt - cached - cache writes, clamped at 0.  Gateways report no
 * 5-minute/1-hour split, so cache writes count as 5-minute writes.  The cost
 * the gateway charged goes to metadata.gateway_cost, never to the cost
 * columns, which the pricing trigger fills.
 */
bool
read_openai_response(const cJSON *response, UsageRecord *rec)
{
	const char *object = json_get_string(response, "", "object");
	cJSON	   *usage = json_get_object(response, "", "usage");
	int64		prompt;
	int64		cached = 0;
	int64		cache_write = 0;
	int64		created;
	int64		reasoning;
	cJSON	   *number;
	bool		flag;

	/* Stream chunks carry usage on the last chunk only. */
	if (usage == NULL && object != NULL && strcmp(object, "chat.completion.chunk") == 0)
		return false;

	rec->request_id = json_require_string(response, "", "id");
	rec->model = json_require_string(response, "", "model");
	usage = json_require_object(response, "", "usage");

	prompt = json_require_count(usage, "usage.", "prompt_tokens");
	rec->output_tokens = json_require_count(usage, "usage.", "completion_tokens");

	/* LiteLLM passes Anthropic's own cache fields through when it has them. */
	if (!openai_detail_count(usage, "prompt_tokens_details", "cached_tokens", &cached))
		(void) json_get_count(usage, "usage.", "cache_read_input_tokens", &cached);
	if (!openai_detail_count(usage, "prompt_tokens_details", "cache_write_tokens", &cache_write))
		(void) json_get_count(usage, "usage.", "cache_creation_input_tokens", &cache_write);

	rec->cache_read_tokens = cached;
	rec->cache_write_5m_tokens = cache_write;
	if (cache_write > 0)
		record_assume(rec, "cache_write=5m");
	record_assume(rec, "service_tier=standard");

	if (prompt >= cached + cache_write)
		rec->input_tokens = prompt - cached - cache_write;
	else
	{
		rec->input_tokens = 0;
		meta_add_bool(rec, "input_clamped", true);
	}

	if (json_get_count(response, "", "created", &created))
	{
		rec->occurred_at = unix_seconds_to_timestamp(created, "", "created");
		rec->has_occurred_at = true;
	}

	meta_add_string(rec, "provider", json_get_string(response, "", "provider"));
	number = json_get_member(usage, "cost");
	if (number != NULL && cJSON_IsNumber(number))
		meta_add_number(rec, "gateway_cost", number->valuedouble);
	if (json_get_bool(usage, "usage.", "is_byok", &flag))
		meta_add_bool(rec, "is_byok", flag);
	if (openai_detail_count(usage, "completion_tokens_details", "reasoning_tokens", &reasoning))
		meta_add_int(rec, "reasoning_tokens", reasoning);

	return !record_is_zero(rec);
}
