/*
 * price_cache.h
 *		Per-backend cache of the price catalog, model aliases and patterns.
 */
#ifndef PRICE_CACHE_H
#define PRICE_CACHE_H

#include "datatype/timestamp.h"
#include "utils/numeric.h"

/* Token charge classes; each has a base and a long-context rate. */
typedef enum PriceClass
{
	PRICE_INPUT,
	PRICE_OUTPUT,
	PRICE_CACHE_WRITE_5M,
	PRICE_CACHE_WRITE_1H,
	PRICE_CACHE_READ,
	PRICE_CLASS_COUNT
} PriceClass;

/* One row of claudecost.price; rates are USD per million tokens. */
typedef struct PriceEntry
{
	int64		id;
	const char *model;
	bool		fast;
	TimestampTz effective_from;
	bool		has_effective_to;
	TimestampTz effective_to;
	Numeric		rate[PRICE_CLASS_COUNT];	/* NULL when not offered */
	int64		long_context_threshold; /* tokens; 0 when no long tier */
	Numeric		long_rate[PRICE_CLASS_COUNT];
	Numeric		batch_multiplier;	/* NULL: no Batch API for the model */
	Numeric		us_geo_multiplier;	/* NULL: no US-only uplift */
	Numeric		web_search_per_1k;	/* USD per 1,000 searches */
	const char *currency;
} PriceEntry;

/*
 * Resolves a model name as used by a client or gateway to a model id of the
 * catalog: exact id, then alias, then the rewrite patterns.  Returns NULL
 * when nothing matches.  The result lives in the cache; copy it to keep it
 * across a catalog change.
 */
extern const char *price_cache_resolve_model(const char *name);

/*
 * Returns the price in force for the resolved model at the given time and
 * speed (fast = fast mode), or NULL when there is none.
 */
extern const PriceEntry *price_cache_lookup(const char *model, TimestampTz at, bool fast);

#endif							/* PRICE_CACHE_H */
