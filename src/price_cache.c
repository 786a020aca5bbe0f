/*
 * price_cache.c
 *		Per-backend cache of the price catalog, model aliases and patterns.
 *
 * The catalog is small (tens of rows), so it is loaded whole with SPI on
 * first use and kept in a memory context of its own: prices sorted by
 * (model, speed, effective_from) and searched with bsearch, aliases sorted
 * by name, rewrite patterns compiled once with PCRE2 (JIT).  Resolved model
 * names are memoized in a hash table.
 *
 * DML on a table sends no relcache invalidation by itself, so a statement
 * trigger on each catalog table (claudecost.price_catalog_changed) sends one
 * for its table.  The callback registered here marks the cache stale; it is
 * rebuilt on the next lookup.  Other sessions receive the invalidation when
 * the writing transaction commits, the writing session at its next command.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "claudecost.h"
#include "pcre2_util.h"
#include "price_cache.h"

/* Longest model name whose resolution is memoized; longer names are resolved each time. */
#define RESOLVED_NAME_MAX 256

typedef struct ModelAlias
{
	const char *alias;
	const char *model;
} ModelAlias;

typedef struct ModelPattern
{
	pcre2_code *code;
	const char *replacement;
} ModelPattern;

typedef struct ResolvedName
{
	char		name[RESOLVED_NAME_MAX];	/* hash key */
	const char *model;			/* NULL when unknown */
} ResolvedName;

static MemoryContext cache_context = NULL;
static bool cache_valid = false;

static PriceEntry *prices = NULL;
static int	price_count = 0;
static ModelAlias *aliases = NULL;
static int	alias_count = 0;
static ModelPattern *patterns = NULL;
static int	pattern_count = 0;
static HTAB *resolved_names = NULL;

static Oid	price_relid = InvalidOid;
static Oid	alias_relid = InvalidOid;
static Oid	pattern_relid = InvalidOid;

static void
price_cache_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == price_relid ||
		relid == alias_relid || relid == pattern_relid)
		cache_valid = false;
}

void
price_cache_init(void)
{
	CacheRegisterRelcacheCallback(price_cache_invalidate, (Datum) 0);
}

/*
 * Column copies go to cache_context explicitly: SPI_execute returns with
 * the SPI procedure context current, which SPI_finish frees.
 */

/* Copies a numeric column value into the cache, or NULL for SQL NULL. */
static Numeric
copy_numeric(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);

	MemoryContext old_context;
	Numeric		copy;

	if (isnull)
		return NULL;
	old_context = MemoryContextSwitchTo(cache_context);
	copy = DatumGetNumericCopy(value);
	MemoryContextSwitchTo(old_context);
	return copy;
}

static char *
copy_text(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);

	MemoryContext old_context;
	char	   *copy;

	if (isnull)
		return NULL;
	old_context = MemoryContextSwitchTo(cache_context);
	copy = TextDatumGetCString(value);
	MemoryContextSwitchTo(old_context);
	return copy;
}

static void
load_prices(void)
{
	TupleDesc	desc;
	int			i;

	SPI_execute("SELECT id, model, speed OPERATOR(pg_catalog.=) 'fast', effective_from, effective_to,"
				" input_per_mtok, output_per_mtok, cache_write_5m_per_mtok,"
				" cache_write_1h_per_mtok, cache_read_per_mtok,"
				" coalesce(long_context_threshold, 0), long_input_per_mtok,"
				" long_output_per_mtok, long_cache_write_5m_per_mtok,"
				" long_cache_write_1h_per_mtok, long_cache_read_per_mtok,"
				" batch_multiplier, us_geo_multiplier, web_search_per_1k, currency"
				" FROM claudecost.price"
				" ORDER BY model COLLATE pg_catalog.\"C\", speed OPERATOR(pg_catalog.=) 'fast', effective_from",
				true, 0);
	desc = SPI_tuptable->tupdesc;
	price_count = (int) SPI_processed;
	prices = MemoryContextAllocZero(cache_context, sizeof(PriceEntry) * Max(price_count, 1));

	for (i = 0; i < price_count; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		PriceEntry *entry = &prices[i];
		bool		isnull;
		int			class;

		entry->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		entry->model = copy_text(tuple, desc, 2);
		entry->fast = DatumGetBool(SPI_getbinval(tuple, desc, 3, &isnull));
		entry->effective_from = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
		entry->effective_to = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 5, &isnull));
		entry->has_effective_to = !isnull;
		for (class = 0; class < PRICE_CLASS_COUNT; class++)
		{
			entry->rate[class] = copy_numeric(tuple, desc, 6 + class);
			entry->long_rate[class] = copy_numeric(tuple, desc, 12 + class);
		}
		entry->long_context_threshold = DatumGetInt64(SPI_getbinval(tuple, desc, 11, &isnull));
		entry->batch_multiplier = copy_numeric(tuple, desc, 17);
		entry->us_geo_multiplier = copy_numeric(tuple, desc, 18);
		entry->web_search_per_1k = copy_numeric(tuple, desc, 19);
		entry->currency = copy_text(tuple, desc, 20);
	}
}

static void
load_aliases(void)
{
	int			i;

	SPI_execute("SELECT alias, model FROM claudecost.model_alias"
				" ORDER BY alias COLLATE pg_catalog.\"C\"", true, 0);
	alias_count = (int) SPI_processed;
	aliases = MemoryContextAllocZero(cache_context, sizeof(ModelAlias) * Max(alias_count, 1));
	for (i = 0; i < alias_count; i++)
	{
		aliases[i].alias = copy_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		aliases[i].model = copy_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}
}

/* Converts a model_pattern column to UTF-8 for PCRE2 and rejects SQL_ASCII bytes that are not UTF-8. */
static char *
model_pattern_utf8(const char *text)
{
	char	   *utf8 = pcre2_util_to_utf8(text);

	if (utf8 == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid UTF-8 in claudecost.model_pattern value \"%s\"", text),
				 errdetail("Model patterns are matched as UTF-8 text.")));
	return utf8;
}

/* Compiles a model_pattern pattern, converted to UTF-8, in context. */
static pcre2_code *
compile_model_pattern(const char *pattern, MemoryContext context, const char *what)
{
	return pcre2_util_compile(model_pattern_utf8(pattern), PCRE2_NEVER_BACKSLASH_C, context, what);
}

static void
load_patterns(void)
{
	int			i;

	SPI_execute("SELECT id, pattern, replacement FROM claudecost.model_pattern"
				" ORDER BY priority, id", true, 0);
	pattern_count = (int) SPI_processed;
	patterns = MemoryContextAllocZero(cache_context, sizeof(ModelPattern) * Max(pattern_count, 1));
	for (i = 0; i < pattern_count; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 1, &isnull));
		char	   *what = psprintf("claudecost.model_pattern row %lld", (long long) id);

		patterns[i].code = compile_model_pattern(copy_text(tuple, SPI_tuptable->tupdesc, 2),
												 cache_context, what);
		patterns[i].replacement =
			MemoryContextStrdup(cache_context,
								model_pattern_utf8(copy_text(tuple, SPI_tuptable->tupdesc, 3)));
	}
}

static void
create_resolved_names(void)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = RESOLVED_NAME_MAX;
	ctl.entrysize = sizeof(ResolvedName);
	ctl.hcxt = cache_context;
	resolved_names = hash_create("claudecost resolved model names", 64, &ctl,
								 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/* Rebuilds the cache from the catalog tables when it is stale. */
static void
price_cache_ensure_loaded(void)
{
	Oid			namespace_oid;
	MemoryContext old_context;

	if (cache_valid)
		return;

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(CacheMemoryContext,
											  "claudecost price cache",
											  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache_context);
	prices = NULL;
	aliases = NULL;
	patterns = NULL;
	resolved_names = NULL;
	price_count = alias_count = pattern_count = 0;

	namespace_oid = get_namespace_oid("claudecost", false);
	price_relid = get_relname_relid("price", namespace_oid);
	alias_relid = get_relname_relid("model_alias", namespace_oid);
	pattern_relid = get_relname_relid("model_pattern", namespace_oid);

	/* An invalidation that arrives while loading marks the new cache stale again. */
	cache_valid = true;

	PG_TRY();
	{
		old_context = CurrentMemoryContext;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		load_prices();
		load_aliases();
		load_patterns();
		create_resolved_names();
		SPI_finish();
		MemoryContextSwitchTo(old_context);
	}
	PG_CATCH();
	{
		cache_valid = false;
		PG_RE_THROW();
	}
	PG_END_TRY();
}

static int
compare_price_model(const void *key, const void *element)
{
	return strcmp((const char *) key, ((const PriceEntry *) element)->model);
}

static int
compare_alias(const void *key, const void *element)
{
	return strcmp((const char *) key, ((const ModelAlias *) element)->alias);
}

/* Returns the catalog's copy of name when it is a priced model id or an alias. */
static const char *
find_model_or_alias(const char *name)
{
	const PriceEntry *entry;
	const ModelAlias *alias;

	entry = bsearch(name, prices, price_count, sizeof(PriceEntry), compare_price_model);
	if (entry != NULL)
		return entry->model;
	alias = bsearch(name, aliases, alias_count, sizeof(ModelAlias), compare_alias);
	if (alias != NULL)
		return alias->model;
	return NULL;
}

/* Applies the rewrite patterns in priority order until a known name comes out. */
static const char *
resolve_with_patterns(const char *name)
{
	MemoryContext old_context = MemoryContextSwitchTo(cache_context);
	const char *candidate = pcre2_util_to_utf8(name);
	const char *model = NULL;
	int			i;

	/* A name that is not UTF-8 (SQL_ASCII bytes) matches no pattern, so it stays unknown. */
	if (candidate == NULL)
	{
		MemoryContextSwitchTo(old_context);
		return NULL;
	}

	for (i = 0; i < pattern_count && model == NULL; i++)
	{
		char	   *rewritten;

		CHECK_FOR_INTERRUPTS();
		rewritten = pcre2_util_substitute_all(patterns[i].code, candidate,
											  patterns[i].replacement);
		if (rewritten == NULL)
			continue;
		candidate = rewritten;
		model = find_model_or_alias(pcre2_util_from_utf8(candidate));
	}
	MemoryContextSwitchTo(old_context);
	return model;
}

const char *
price_cache_resolve_model(const char *name)
{
	ResolvedName *resolved;
	const char *model;
	bool		found;

	price_cache_ensure_loaded();

	model = find_model_or_alias(name);
	if (model != NULL)
		return model;

	/*
	 * No usage row can hold a longer name, so it names no model.  The rewrite
	 * rules are not tried: their output buffer is capped at 64 KB.
	 */
	if (strlen(name) > USAGE_KEY_TEXT_MAX_BYTES)
		return NULL;

	if (strlen(name) >= RESOLVED_NAME_MAX)
		return resolve_with_patterns(name);

	resolved = hash_search(resolved_names, name, HASH_FIND, NULL);
	if (resolved != NULL)
		return resolved->model;

	model = resolve_with_patterns(name);
	resolved = hash_search(resolved_names, name, HASH_ENTER, &found);
	resolved->model = model;
	return model;
}

const PriceEntry *
price_cache_lookup(const char *model, TimestampTz at, bool fast)
{
	const PriceEntry *best = NULL;
	int			low = 0;
	int			high = price_count;

	price_cache_ensure_loaded();

	/* Find the first entry of the model. */
	while (low < high)
	{
		int			middle = (low + high) / 2;

		if (strcmp(prices[middle].model, model) < 0)
			low = middle + 1;
		else
			high = middle;
	}

	/* Entries of one model and speed are sorted by effective_from: keep the last that started. */
	for (; low < price_count && strcmp(prices[low].model, model) == 0; low++)
	{
		const PriceEntry *entry = &prices[low];

		if (entry->fast != fast || entry->effective_from > at)
			continue;
		best = entry;
	}

	if (best != NULL && best->has_effective_to && at >= best->effective_to)
		return NULL;
	return best;
}

PG_FUNCTION_INFO_V1(claudecost_price_catalog_changed);

/* Statement trigger on the catalog tables: makes every session drop its cache. */
Datum
claudecost_price_catalog_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.price_catalog_changed() must be called as a trigger")));

	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigger_data->tg_relation));
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(claudecost_validate_model_pattern);

/* Row trigger on claudecost.model_pattern: compiles the pattern and tries the replacement. */
Datum
claudecost_validate_model_pattern(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	desc;
	char	   *pattern;
	char	   *replacement;
	pcre2_code *code;

	if (!CALLED_AS_TRIGGER(fcinfo) || TRIGGER_FIRED_BY_DELETE(trigger_data->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.validate_model_pattern() must be an INSERT OR UPDATE row trigger")));

	tuple = TRIGGER_FIRED_BY_UPDATE(trigger_data->tg_event) ?
		trigger_data->tg_newtuple : trigger_data->tg_trigtuple;
	desc = RelationGetDescr(trigger_data->tg_relation);
	pattern = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "pattern"));
	replacement = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "replacement"));

	/* NULLs are left for the NOT NULL constraints. */
	if (pattern != NULL && replacement != NULL)
	{
		code = compile_model_pattern(pattern, CurrentMemoryContext, "claudecost.model_pattern");
		pcre2_util_check_replacement(code, model_pattern_utf8(replacement));
	}
	return PointerGetDatum(tuple);
}
