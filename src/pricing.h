/*
 * pricing.h
 *		Exact cost of one request from a price entry and its token counts.
 */
#ifndef PRICING_H
#define PRICING_H

#include "price_cache.h"

typedef enum ServiceTier
{
	SERVICE_TIER_STANDARD,
	SERVICE_TIER_PRIORITY,
	SERVICE_TIER_BATCH
} ServiceTier;

/* What one request used, in the Messages API's disjoint token classes. */
typedef struct UsageCounts
{
	int64		input_tokens;
	int64		output_tokens;
	int64		cache_write_5m_tokens;
	int64		cache_write_1h_tokens;
	int64		cache_read_tokens;
	int32		web_search_requests;
	ServiceTier service_tier;
	bool		us_geo;			/* inference_geo = 'us' */
	bool		fast;			/* speed = 'fast' */
} UsageCounts;

/* Cost of one request in USD, each part exact numeric. */
typedef struct UsageCost
{
	bool		priced;			/* false: some charged part has no price */
	const char *unpriced_reason;	/* set when !priced */
	bool		long_context;
	Numeric		input_cost;
	Numeric		output_cost;
	Numeric		cache_write_cost;
	Numeric		cache_read_cost;
	Numeric		tool_cost;
	Numeric		total_cost;
} UsageCost;

/* Parsers shared by the trigger and the SQL functions; each raises a typed error. */
extern ServiceTier pricing_parse_service_tier(const char *value);
extern bool pricing_parse_inference_geo_is_us(const char *value);
extern bool pricing_parse_speed_is_fast(const char *value);
extern void pricing_check_count(const char *column, int64 value);

/*
 * Prices counts with price (which must be the entry in force for the
 * request).  The result is allocated in the current memory context.
 */
extern void pricing_compute(const PriceEntry *price, const UsageCounts *counts,
							UsageCost *cost);

/*
 * Resolves model, finds the price in force at occurred_at and prices
 * counts.  Returns the price entry, or NULL (cost->priced false) when the
 * model or a price for that date is unknown.
 */
extern const PriceEntry *pricing_price_request(const char *model, TimestampTz occurred_at,
											   const UsageCounts *counts, UsageCost *cost);

#endif							/* PRICING_H */
