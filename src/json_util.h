/*
 * json_util.h
 *		cJSON with PostgreSQL memory and errors: parsing with byte offsets and
 *		typed field getters that name the offending field.
 */
#ifndef JSON_UTIL_H
#define JSON_UTIL_H

#include <cjson/cJSON.h>

/*
 * Routes cJSON's allocations to palloc in CurrentMemoryContext, so that an
 * error raised half-way leaks nothing and a context reset frees every node.
 * Cheap; called at the start of each SQL-callable function that parses.
 */
extern void json_util_init_hooks(void);

/*
 * Parses one JSON value from the length bytes at start (start[length] must be
 * the buffer's terminating NUL), which points into a buffer that begins at base.  On success *end points just after the value.
 * Passing the length keeps parsing a long JSONL payload record by record
 * linear (cJSON_ParseWithOpts would measure the rest of the string each time).  Malformed
 * JSON raises ERRCODE_INVALID_TEXT_REPRESENTATION naming what, with the byte
 * offset base_offset + (error position - base) in the detail, so callers
 * that parse a copy can report offsets in the original input.
 */
extern cJSON *json_util_parse(const char *base, int base_offset, const char *start,
							  size_t length, const char **end, const char *what);

/*
 * Field getters.  prefix is the JSON path of obj followed by a dot ("" at
 * the top level, "message.usage." below), used in error messages only.
 * The json_get_* functions return NULL/false when the field is absent or JSON
 * null, and raise ERRCODE_INVALID_PARAMETER_VALUE when it has another type.
 * The json_require_* functions also raise ERRCODE_NULL_VALUE_NOT_ALLOWED
 * when it is absent or null.
 */
extern cJSON *json_get_object(const cJSON *obj, const char *prefix, const char *key);
extern cJSON *json_require_object(const cJSON *obj, const char *prefix, const char *key);
extern const char *json_get_string(const cJSON *obj, const char *prefix, const char *key);
extern const char *json_require_string(const cJSON *obj, const char *prefix, const char *key);
extern bool json_get_bool(const cJSON *obj, const char *prefix, const char *key, bool *value);

/*
 * Token counts: a JSON number that is a non-negative integer of at most
 * 2^53 (the largest integer a JSON number carries exactly in cJSON's double).
 */
extern bool json_get_count(const cJSON *obj, const char *prefix, const char *key, int64 *value);
extern int64 json_require_count(const cJSON *obj, const char *prefix, const char *key);

/* Returns the member key, or NULL when absent or JSON null (no type check). */
extern cJSON *json_get_member(const cJSON *obj, const char *key);

#endif							/* JSON_UTIL_H */
