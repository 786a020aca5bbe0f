/*
 * fuzz_optimizer.c
 *		libFuzzer harness: the prompt optimizer (protected regions and rule
 *		application) on arbitrary prompts.
 *
 * The first input byte picks the encoding (byte % 3: cl100k_base,
 * o200k_base, claude_legacy); the rest, turned into valid UTF-8 without NUL
 * bytes, is the prompt.  The harness runs the real claudecost_optimize_prompt
 * with the shipped rules and markers of schema/80_optimizer.sql, loaded by
 * the real src/optimizer_rules.c through the stand-in SPI.  It aborts when
 *	- an ERROR carries an internal SQLSTATE,
 *	- protected_regions_find returns regions out of the text, unsorted or
 *	  overlapping,
 *	- the result is not valid UTF-8 or not a JSON object, or
 *	- optimized_tokens exceeds estimated_tokens (every edit must save),
 * and ASan, UBSan and LeakSanitizer report memory errors, undefined
 * behaviour and leaks.  Built by tools/fuzz.sh.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "optimizer_rules.h"
#include "pg_shim.h"
#include "protected_regions.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern Datum claudecost_optimize_prompt(PG_FUNCTION_ARGS);
extern void optimizer_init(void);
extern void (*shim_jsonb_in_hook) (const char *json);

static const char *const encodings[] = {"cl100k_base", "o200k_base", "claude_legacy"};

static ShimTable rules = {"SELECT id, rule_type, impact, description, pattern, replacement",
"itttttt", 6};
static ShimTable markers = {"SELECT open_marker, close_marker FROM claudecost.optimizer_marker",
"tt", 2};
static char **rule_seed_rows;

static void
fail(const char *what, const char *value)
{
	fprintf(stderr, "optimizer fuzz: %s: \"%.300s\"\n", what, value ? value : "(null)");
	abort();
}

/* Priority of the sorted rule row at position (its id is the row number in the file). */
static const char *
priority_of(char **values, int position)
{
	return rule_seed_rows[6 * (atoi(values[6 * position]) - 1)];
}

/* Loads the shipped rules in (priority, id) order and the shipped markers; once. */
static void
load_rules(void)
{
	int			count;
	char	  **values;

	shim_init();
	rule_seed_rows = shim_read_sql_rows(shim_schema_path("80_optimizer.sql"),
										"claudecost.optimizer_rule",
										"priority,rule_type,impact,description,pattern,replacement",
										&count);
	/* Rows as the rule query returns them: (id, ...) in (priority, id) order. */
	values = malloc(sizeof(char *) * 6 * count);
	for (int i = 0; i < count; i++)
	{
		char	   *id = malloc(16);
		int			position = i;

		/* Insertion sort by priority; equal priorities keep file (id) order. */
		while (position > 0 &&
			   atoi(rule_seed_rows[6 * i]) < atoi(priority_of(values, position - 1)))
		{
			for (int c = 0; c < 6; c++)
				values[6 * position + c] = values[6 * (position - 1) + c];
			position--;
		}
		snprintf(id, 16, "%d", i + 1);
		values[6 * position] = id;
		for (int c = 1; c < 6; c++)
			values[6 * position + c] = rule_seed_rows[6 * i + c];
	}
	rules.values = values;
	rules.row_count = count;
	markers.values = shim_read_sql_rows(shim_schema_path("80_optimizer.sql"),
										"claudecost.optimizer_marker",
										"open_marker,close_marker", &markers.row_count);
	shim_spi_register(&rules);
	shim_spi_register(&markers);
	optimizer_init();
}

/* Checks the jsonb text that optimize_prompt returns. */
static void
check_result(const char *json)
{
	cJSON	   *result;
	cJSON	   *estimated;
	cJSON	   *optimized;

	if (pg_encoding_verifymbstr(PG_UTF8, json, strlen(json)) != (int) strlen(json))
		fail("result is not UTF-8", json);
	result = cJSON_Parse(json);
	if (result == NULL || !cJSON_IsObject(result))
		fail("result is not a JSON object", json);
	estimated = cJSON_GetObjectItemCaseSensitive(result, "estimated_tokens");
	optimized = cJSON_GetObjectItemCaseSensitive(result, "optimized_tokens");
	if (!cJSON_IsNumber(estimated) || !cJSON_IsNumber(optimized))
		fail("result lacks token counts", json);
	if (optimized->valuedouble > estimated->valuedouble)
		fail("optimized text has more tokens than the prompt", json);
	cJSON_Delete(result);
}

typedef struct OptimizeCall
{
	text	   *prompt;
	text	   *encoding;
	const char *prompt_cstring;
	int			length;
} OptimizeCall;

static void
call_optimize(void *argument)
{
	OptimizeCall *call = argument;
	LOCAL_FCINFO(fcinfo, 2);

	InitFunctionCallInfoData(*fcinfo, NULL, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = PointerGetDatum(call->prompt);
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = PointerGetDatum(call->encoding);
	fcinfo->args[1].isnull = false;
	(void) claudecost_optimize_prompt(fcinfo);
}

static void
call_protected_regions(void *argument)
{
	OptimizeCall *call = argument;
	const OptimizerRuleSet *rule_set = optimizer_rules_get();
	ProtectedRegion *regions;
	int			count;

	regions = protected_regions_find(call->prompt_cstring, call->length, rule_set->markers,
									 rule_set->marker_count, &count);
	for (int i = 0; i < count; i++)
	{
		if (regions[i].start < 0 || regions[i].start > regions[i].end ||
			regions[i].end > call->length)
			fail("protected region outside the text", call->prompt_cstring);
		if (i > 0 && regions[i].start < regions[i - 1].end)
			fail("protected regions overlap or are unsorted", call->prompt_cstring);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	OptimizeCall call;
	char	   *prompt;
	size_t		length;

	if (rule_seed_rows == NULL)
	{
		load_rules();
		shim_jsonb_in_hook = check_result;
	}
	if (size == 0)
		return 0;
	prompt = shim_utf8_text(data + 1, size - 1, &length);
	call.prompt = shim_text(prompt, length);
	call.encoding = cstring_to_text(encodings[data[0] % 3]);
	call.prompt_cstring = prompt;
	call.length = (int) length;

	shim_try(call_protected_regions, &call);
	shim_try(call_optimize, &call);
	shim_end_input();
	return 0;
}
