/*
 * fuzz_model_pattern.c
 *		libFuzzer harness: model rewrite patterns and model name resolution.
 *
 * The input is "pattern NUL replacement NUL name" (missing parts are empty),
 * each part turned into valid UTF-8 without NUL bytes.  The harness
 *	1. validates the pattern and replacement as the model_pattern row
 *	   trigger does (pcre2_util_compile with PCRE2_NEVER_BACKSLASH_C, then
 *	   pcre2_util_check_replacement), and when both pass, applies the rule
 *	   to the name (pcre2_util_substitute_all);
 *	2. resolves the name with the real price cache (src/price_cache.c),
 *	   loaded through the stand-in SPI from the shipped prices, aliases and
 *	   patterns of schema/11_price_seed.sql and schema/12_model_pattern.sql,
 *	   with the fuzzed rule first when it passed validation.
 * It aborts when an ERROR carries an internal SQLSTATE, when a substitution
 * result is not valid UTF-8 or longer than PCRE2_UTIL_MAX_OUTPUT, or when
 * resolution returns a name that has no price.  Built by tools/fuzz.sh.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "mb/pg_wchar.h"

#include "pcre2_util.h"
#include "pg_shim.h"
#include "price_cache.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern void price_cache_init(void);

static ShimTable prices = {"SELECT id, model, speed OPERATOR(pg_catalog.=) 'fast'", "itb", 3};
static ShimTable aliases = {"SELECT alias, model FROM claudecost.model_alias", "tt", 2};
static ShimTable patterns = {"SELECT id, pattern, replacement FROM claudecost.model_pattern",
"itt", 3};

/* Shipped pattern rows (id, pattern, replacement), after the fuzzed one. */
static char **shipped_patterns;
static int	shipped_pattern_count;

/* Rows as read from the schema files, kept so LeakSanitizer sees them. */
static char **price_seed_rows;
static char **pattern_seed_rows;

static void
fail(const char *what, const char *value)
{
	fprintf(stderr, "model pattern fuzz: %s: \"%.200s\"\n", what, value ? value : "(null)");
	abort();
}

/* Builds the stand-in catalog tables from the shipped rows; once. */
static void
load_catalog(void)
{
	int			count;
	char	  **price_values;
	char	  **pattern_rows;

	shim_init();

	/* Prices sorted by model (the cache's ORDER BY model COLLATE "C"). */
	price_seed_rows = shim_read_sql_rows(shim_schema_path("11_price_seed.sql"),
										 "claudecost.price", "model,speed", &count);
	price_values = malloc(sizeof(char *) * 3 * count);
	for (int i = 0; i < count; i++)
	{
		char	   *id = malloc(16);

		snprintf(id, 16, "%d", i + 1);
		price_values[3 * i] = id;
		price_values[3 * i + 1] = price_seed_rows[2 * i];
		price_values[3 * i + 2] = strcmp(price_seed_rows[2 * i + 1], "fast") == 0 ? "t" : "f";
	}
	for (int i = 1; i < count; i++)
		for (int j = i; j > 0 && strcmp(price_values[3 * j - 2], price_values[3 * j + 1]) > 0; j--)
			for (int k = 0; k < 3; k++)
			{
				char	   *swap = price_values[3 * j + k];

				price_values[3 * j + k] = price_values[3 * (j - 1) + k];
				price_values[3 * (j - 1) + k] = swap;
			}
	prices.row_count = count;
	prices.values = price_values;

	aliases.values = shim_read_sql_rows(shim_schema_path("11_price_seed.sql"),
										"claudecost.model_alias", "alias,model", &aliases.row_count);

	pattern_seed_rows = shim_read_sql_rows(shim_schema_path("12_model_pattern.sql"),
										   "claudecost.model_pattern", "pattern,replacement",
										   &shipped_pattern_count);
	pattern_rows = malloc(sizeof(char *) * 3 * (shipped_pattern_count + 1));
	for (int i = 0; i < shipped_pattern_count; i++)
	{
		char	   *id = malloc(16);

		snprintf(id, 16, "%d", i + 1);
		pattern_rows[3 * (i + 1)] = id;
		pattern_rows[3 * (i + 1) + 1] = pattern_seed_rows[2 * i];
		pattern_rows[3 * (i + 1) + 2] = pattern_seed_rows[2 * i + 1];
	}
	pattern_rows[0] = "0";
	shipped_patterns = pattern_rows;
	patterns.values = pattern_rows;

	shim_spi_register(&prices);
	shim_spi_register(&aliases);
	shim_spi_register(&patterns);
	price_cache_init();
}

typedef struct PatternCase
{
	char	   *pattern;
	char	   *replacement;
	char	   *name;
	pcre2_code *code;
	char	   *rewritten;
	const char *resolved;
} PatternCase;

static void
validate_rule(void *argument)
{
	PatternCase *c = argument;

	c->code = pcre2_util_compile(c->pattern, PCRE2_NEVER_BACKSLASH_C, CurrentMemoryContext,
								 "claudecost.model_pattern");
	pcre2_util_check_replacement(c->code, c->replacement);
}

static void
apply_rule(void *argument)
{
	PatternCase *c = argument;

	c->rewritten = pcre2_util_substitute_all(c->code, c->name, c->replacement);
}

static void
resolve(void *argument)
{
	PatternCase *c = argument;

	c->resolved = price_cache_resolve_model(c->name);
}

/* Returns the next NUL-separated part of *data as UTF-8 text. */
static char *
next_part(const uint8_t **data, size_t *size)
{
	const uint8_t *end = memchr(*data, '\0', *size);
	size_t		part = end ? (size_t) (end - *data) : *size;
	size_t		length;
	char	   *text = shim_utf8_text(*data, part, &length);

	*data += end ? part + 1 : part;
	*size -= end ? part + 1 : part;
	return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PatternCase c;
	bool		valid;

	if (shipped_patterns == NULL)
		load_catalog();
	memset(&c, 0, sizeof(c));
	c.pattern = next_part(&data, &size);
	c.replacement = next_part(&data, &size);
	c.name = next_part(&data, &size);

	valid = shim_try(validate_rule, &c);
	if (valid && shim_try(apply_rule, &c) && c.rewritten != NULL)
	{
		size_t		length = strlen(c.rewritten);

		if (length > PCRE2_UTIL_MAX_OUTPUT)
			fail("substitution longer than the limit", c.rewritten);
		if (pg_encoding_verifymbstr(PG_UTF8, c.rewritten, length) != (int) length)
			fail("substitution is not UTF-8", c.rewritten);
	}

	/* The fuzzed rule goes first when the trigger would have accepted it. */
	shipped_patterns[1] = c.pattern;
	shipped_patterns[2] = c.replacement;
	patterns.values = valid ? shipped_patterns : shipped_patterns + 3;
	patterns.row_count = shipped_pattern_count + (valid ? 1 : 0);
	shim_invalidate_all();
	if (shim_try(resolve, &c) && c.resolved != NULL)
	{
		bool		priced = false;

		for (int i = 0; i < prices.row_count && !priced; i++)
			priced = strcmp(prices.values[3 * i + 1], c.resolved) == 0;
		if (!priced)
			fail("resolved to a model without a price", c.resolved);
	}

	/* The cache holds the fuzzed strings: drop it before they are freed. */
	shim_invalidate_all();
	shim_end_input();
	return 0;
}
