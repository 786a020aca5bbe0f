/*
 * json_util.c
 *		cJSON with PostgreSQL memory and errors.
 *
 * cJSON allocates through hooks set to palloc, so parse trees live in the
 * caller's memory context: callers reset that context instead of calling
 * cJSON_Delete, and an ereport half-way through a parse leaks nothing.
 * cJSON limits nesting to CJSON_NESTING_LIMIT (1000) levels, which bounds
 * its recursion; json_util_parse also checks the stack before parsing.
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"

#include "json_util.h"

/* Largest integer that a double represents exactly: 2^53. */
#define JSON_MAX_EXACT_INTEGER 9007199254740992.0

/* Bytes of input quoted in a parse error detail. */
#define JSON_ERROR_SNIPPET 40

static void *
json_palloc(size_t size)
{
	return palloc(size);
}

static void
json_pfree(void *pointer)
{
	if (pointer != NULL)
		pfree(pointer);
}

void
json_util_init_hooks(void)
{
	cJSON_Hooks hooks;

	hooks.malloc_fn = json_palloc;
	hooks.free_fn = json_pfree;
	cJSON_InitHooks(&hooks);
}

cJSON *
json_util_parse(const char *base, int base_offset, const char *start,
				size_t length, const char **end, const char *what)
{
	cJSON	   *value;
	const char *error_at = NULL;

	check_stack_depth();
	/* Like cJSON_ParseWithOpts, count the terminating NUL in the length. */
	value = cJSON_ParseWithLengthOpts(start, length + 1, &error_at, false);
	if (value == NULL)
	{
		int			offset;
		int			snippet_len;

		if (error_at == NULL)
			error_at = cJSON_GetErrorPtr();
		if (error_at == NULL || error_at < base)
			error_at = start;
		if (error_at > start + length)
			error_at = start + length;
		offset = base_offset + (int) (error_at - base);
		snippet_len = pg_mbcliplen(error_at, (int) Min(start + length - error_at, 4 * JSON_ERROR_SNIPPET),
								   JSON_ERROR_SNIPPET);

		if (error_at == start + length)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid JSON in %s", what),
					 errdetail("The input ends at byte offset %d in the middle of a JSON value.",
							   offset)));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid JSON in %s", what),
				 errdetail("Parsing failed at byte offset %d, at \"%.*s\".",
						   offset, snippet_len, error_at)));
	}
	*end = error_at;
	return value;
}

cJSON *
json_get_member(const cJSON *obj, const char *key)
{
	cJSON	   *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (item == NULL || cJSON_IsNull(item))
		return NULL;
	return item;
}

/* Names the JSON type of item for error messages. */
static const char *
json_type_name(const cJSON *item)
{
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsArray(item))
		return "an array";
	if (cJSON_IsObject(item))
		return "an object";
	return "null";
}

static void json_type_error(const cJSON *item, const char *prefix, const char *key,
							const char *expected) pg_attribute_noreturn();
static void json_missing_error(const char *prefix, const char *key) pg_attribute_noreturn();

/* Raises the error for a field of the wrong JSON type. */
static void
json_type_error(const cJSON *item, const char *prefix, const char *key,
				const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("field \"%s%s\" must be %s, not %s",
					prefix, key, expected, json_type_name(item))));
}

/* Raises the error for a required field that is absent or null. */
static void
json_missing_error(const char *prefix, const char *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("missing field \"%s%s\"", prefix, key)));
}

cJSON *
json_get_object(const cJSON *obj, const char *prefix, const char *key)
{
	cJSON	   *item = json_get_member(obj, key);

	if (item != NULL && !cJSON_IsObject(item))
		json_type_error(item, prefix, key, "an object");
	return item;
}

cJSON *
json_require_object(const cJSON *obj, const char *prefix, const char *key)
{
	cJSON	   *item = json_get_object(obj, prefix, key);

	if (item == NULL)
		json_missing_error(prefix, key);
	return item;
}

const char *
json_get_string(const cJSON *obj, const char *prefix, const char *key)
{
	cJSON	   *item = json_get_member(obj, key);

	if (item == NULL)
		return NULL;
	if (!cJSON_IsString(item))
		json_type_error(item, prefix, key, "a string");
	return item->valuestring;
}

const char *
json_require_string(const cJSON *obj, const char *prefix, const char *key)
{
	const char *value = json_get_string(obj, prefix, key);

	if (value == NULL)
		json_missing_error(prefix, key);
	if (value[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("field \"%s%s\" must not be empty", prefix, key)));
	return value;
}

bool
json_get_bool(const cJSON *obj, const char *prefix, const char *key, bool *value)
{
	cJSON	   *item = json_get_member(obj, key);

	if (item == NULL)
		return false;
	if (!cJSON_IsBool(item))
		json_type_error(item, prefix, key, "a boolean");
	*value = cJSON_IsTrue(item);
	return true;
}

bool
json_get_count(const cJSON *obj, const char *prefix, const char *key, int64 *value)
{
	cJSON	   *item = json_get_member(obj, key);
	double		number;

	if (item == NULL)
		return false;
	if (!cJSON_IsNumber(item))
		json_type_error(item, prefix, key, "a number");

	number = item->valuedouble;
	if (number < 0 || number != floor(number))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("field \"%s%s\" must be a non-negative integer, not %.17g",
						prefix, key, number)));
	if (number > JSON_MAX_EXACT_INTEGER)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field \"%s%s\" is out of range: %.17g", prefix, key, number),
				 errdetail("Token counts above 2^53 cannot be read exactly from JSON.")));
	*value = (int64) number;
	return true;
}

int64
json_require_count(const cJSON *obj, const char *prefix, const char *key)
{
	int64		value;

	if (!json_get_count(obj, prefix, key, &value))
		json_missing_error(prefix, key);
	return value;
}
