/*
 * json_util.c
 *		cJSON with PostgreSQL memory and errors.
 *
 * cJSON allocates through hooks set to palloc, so parse trees live in the
 * caller's memory context: callers reset that context instead of calling
 * cJSON_Delete, and an ereport half-way through a parse leaks nothing.
 * cJSON limits nesting to CJSON_NESTING_LIMIT (1000) levels, which bounds
 * its recursion; json_util_parse also checks the stack before parsing.
 * cJSON is lenient where PostgreSQL's jsonb is strict, and its "\uZZZZ"
 * and "\u0000" decode to a NUL byte that cuts the C string short, so
 * json_check_tokens (json_syntax.c) checks the tokens of the parsed text.
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"

#include "json_syntax.h"
#include "json_util.h"

/*
 * 2^53: from here on doubles cannot represent every integer, so a count read
 * as 9007199254740992 may be 9007199254740993 in the JSON text.
 */
#define JSON_MAX_EXACT_INTEGER 9007199254740992.0

/* Bytes of input quoted in a parse error detail. */
#define JSON_ERROR_SNIPPET 40

/*
 * Returns the nesting depth of arrays and objects at error_at, counting
 * brackets outside strings from start.  Used only to explain a parse error.
 */
static int
json_depth_at(const char *start, const char *error_at)
{
	int			depth = 0;
	bool		in_string = false;

	for (const char *p = start; p < error_at; p++)
	{
		if (in_string)
		{
			if (*p == '\\' && p + 1 < error_at)
				p++;
			else if (*p == '"')
				in_string = false;
		}
		else if (*p == '"')
			in_string = true;
		else if (*p == '[' || *p == '{')
			depth++;
		else if (*p == ']' || *p == '}')
			depth--;
	}
	return depth;
}

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
	JsonTextPosition position;

	position.base = base;
	position.base_offset = base_offset;
	position.what = what;

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
		/* A token error at or before error_at is the first error in the text. */
		json_check_tokens(&position, start, error_at + 1, start + length);

		snippet_len = pg_mbcliplen(error_at, (int) Min(start + length - error_at, 4 * JSON_ERROR_SNIPPET),
								   JSON_ERROR_SNIPPET);

		if (json_depth_at(start, error_at) >= CJSON_NESTING_LIMIT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid JSON in %s", what),
					 errdetail("Parsing failed at byte offset %d because the nesting limit of %d levels of arrays and objects was reached.",
							   offset, CJSON_NESTING_LIMIT),
					 errhint("Nest JSON arrays and objects fewer than %d levels deep.",
							 CJSON_NESTING_LIMIT)));
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
	json_check_tokens(&position, start, error_at, start + length);
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
	if (number >= JSON_MAX_EXACT_INTEGER)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field \"%s%s\" is out of range: %.17g", prefix, key, number),
				 errdetail("Counts of 2^53 (9007199254740992) or more cannot be read exactly because JSON numbers are read as doubles, so the value shown may be rounded.")));
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
