/*
 * pricing.c
 *		Exact cost of one request from a price entry and its token counts.
 *
 * Every charge is tokens x rate (USD per million tokens) x multipliers,
 * computed in numeric and scaled by 10^-6, so no value is ever rounded.
 * The rules, in the order they apply:
 *   - long context: when input + cache writes + cache reads is strictly
 *     greater than the price's threshold, every class, output included,
 *     uses the long-context rates;
 *   - batch: every token charge times batch_multiplier (0.5), cache included;
 *   - data residency: inference_geo = 'us' multiplies every token charge by
 *     us_geo_multiplier (1.1) where the model has one;
 *   - web search: web_search_per_1k USD per 1,000 searches, not discounted;
 *   - fast mode is a separate price entry chosen by the caller;
 *   - priority tier has no list price, so it is priced at standard rates.
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "pricing.h"

/* Constants built once per backend, in TopMemoryContext. */
static Numeric numeric_zero = NULL;
static Numeric numeric_one;
static Numeric numeric_per_million;
static Numeric numeric_per_thousand;

static const char *const price_class_names[PRICE_CLASS_COUNT] = {
	"input", "output", "5-minute cache write", "1-hour cache write", "cache read"
};

ServiceTier
pricing_parse_service_tier(const char *value)
{
	if (strcmp(value, "standard") == 0)
		return SERVICE_TIER_STANDARD;
	if (strcmp(value, "priority") == 0)
		return SERVICE_TIER_PRIORITY;
	if (strcmp(value, "batch") == 0)
		return SERVICE_TIER_BATCH;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid service_tier \"%s\"", value),
			 errhint("Valid values are \"standard\", \"priority\" and \"batch\".")));
	return SERVICE_TIER_STANDARD;	/* keep compiler quiet */
}

bool
pricing_parse_inference_geo_is_us(const char *value)
{
	if (value == NULL || strcmp(value, "global") == 0)
		return false;
	if (strcmp(value, "us") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid inference_geo \"%s\"", value),
			 errhint("Valid values are \"global\", \"us\" and NULL.")));
	return false;
}

bool
pricing_parse_speed_is_fast(const char *value)
{
	if (value == NULL || strcmp(value, "standard") == 0)
		return false;
	if (strcmp(value, "fast") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid speed \"%s\"", value),
			 errhint("Valid values are \"standard\", \"fast\" and NULL.")));
	return false;
}

void
pricing_check_count(const char *column, int64 value)
{
	if (value < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("invalid %s: " INT64_FORMAT, column, value),
				 errdetail("Token and request counts cannot be negative.")));
}

static Numeric
numeric_from_int64(int64 value)
{
	return DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(value)));
}

static Numeric
numeric_from_cstring(const char *value)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(value),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

static Numeric
multiply(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_mul, NumericGetDatum(a),
											   NumericGetDatum(b)));
}

static Numeric
add(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(a),
											   NumericGetDatum(b)));
}

/* Drops trailing fractional zeros, so 0.054399000 prints as 0.054399. */
static Numeric
trim_scale(Numeric value)
{
	return DatumGetNumeric(DirectFunctionCall1(numeric_trim_scale, NumericGetDatum(value)));
}

/*
 * Charge of one token class in USD: tokens x rate x multiplier / 10^6.  A
 * class with no tokens costs 0 even without a rate; tokens without a rate
 * leave the request unpriced.
 */
static Numeric
charge_tokens(int64 tokens, Numeric rate, Numeric multiplier, Numeric per_million,
			  const char *class_name, UsageCost *cost)
{
	Numeric		charge;

	if (tokens == 0)
		return numeric_zero;
	if (rate == NULL)
	{
		cost->priced = false;
		cost->unpriced_reason = psprintf("no %s price", class_name);
		return NULL;
	}
	charge = multiply(numeric_from_int64(tokens), rate);
	if (multiplier != numeric_one)
		charge = multiply(charge, multiplier);
	return trim_scale(multiply(charge, per_million));
}

static bool
is_long_context(const PriceEntry *price, const UsageCounts *counts)
{
	int64		prompt_tokens;

	if (price->long_context_threshold <= 0)
		return false;
	if (pg_add_s64_overflow(counts->input_tokens, counts->cache_write_5m_tokens, &prompt_tokens) ||
		pg_add_s64_overflow(prompt_tokens, counts->cache_write_1h_tokens, &prompt_tokens) ||
		pg_add_s64_overflow(prompt_tokens, counts->cache_read_tokens, &prompt_tokens))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("prompt token total out of range"),
				 errdetail("The sum of input, cache write and cache read tokens exceeds the bigint range.")));
	return prompt_tokens > price->long_context_threshold;
}

/* Product of the batch and data-residency factors that apply to token charges. */
static Numeric
token_multiplier(const PriceEntry *price, const UsageCounts *counts, UsageCost *cost)
{
	Numeric		multiplier = numeric_one;

	if (counts->service_tier == SERVICE_TIER_BATCH)
	{
		if (price->batch_multiplier == NULL)
		{
			cost->priced = false;
			cost->unpriced_reason = "no Batch API price";
			return multiplier;
		}
		multiplier = multiply(multiplier, price->batch_multiplier);
	}
	if (counts->us_geo && price->us_geo_multiplier != NULL)
		multiplier = multiply(multiplier, price->us_geo_multiplier);
	return multiplier;
}

static void
ensure_constants(void)
{
	MemoryContext old_context;

	if (numeric_zero != NULL)
		return;
	old_context = MemoryContextSwitchTo(TopMemoryContext);
	numeric_one = numeric_from_int64(1);
	numeric_per_million = numeric_from_cstring("0.000001");
	numeric_per_thousand = numeric_from_cstring("0.001");
	numeric_zero = numeric_from_int64(0);
	MemoryContextSwitchTo(old_context);
}

void
pricing_compute(const PriceEntry *price, const UsageCounts *counts, UsageCost *cost)
{
	Numeric		per_million;
	Numeric		per_thousand;
	Numeric		const *rates;
	Numeric		multiplier;
	Numeric		cache_write_5m;
	Numeric		cache_write_1h;

	ensure_constants();
	per_million = numeric_per_million;
	per_thousand = numeric_per_thousand;

	memset(cost, 0, sizeof(*cost));
	cost->priced = true;
	cost->long_context = is_long_context(price, counts);
	rates = cost->long_context ? price->long_rate : price->rate;
	multiplier = token_multiplier(price, counts, cost);

	cost->input_cost = charge_tokens(counts->input_tokens, rates[PRICE_INPUT], multiplier,
									 per_million, price_class_names[PRICE_INPUT], cost);
	cost->output_cost = charge_tokens(counts->output_tokens, rates[PRICE_OUTPUT], multiplier,
									  per_million, price_class_names[PRICE_OUTPUT], cost);
	cache_write_5m = charge_tokens(counts->cache_write_5m_tokens, rates[PRICE_CACHE_WRITE_5M],
								   multiplier, per_million,
								   price_class_names[PRICE_CACHE_WRITE_5M], cost);
	cache_write_1h = charge_tokens(counts->cache_write_1h_tokens, rates[PRICE_CACHE_WRITE_1H],
								   multiplier, per_million,
								   price_class_names[PRICE_CACHE_WRITE_1H], cost);
	cost->cache_read_cost = charge_tokens(counts->cache_read_tokens, rates[PRICE_CACHE_READ],
										  multiplier, per_million,
										  price_class_names[PRICE_CACHE_READ], cost);
	if (!cost->priced)
		return;

	cost->cache_write_cost = add(cache_write_5m, cache_write_1h);
	if (counts->web_search_requests == 0)
		cost->tool_cost = numeric_zero;
	else
		cost->tool_cost = trim_scale(multiply(multiply(numeric_from_int64(counts->web_search_requests),
													   price->web_search_per_1k),
											  per_thousand));
	cost->total_cost = trim_scale(add(add(add(cost->input_cost, cost->output_cost),
										  add(cost->cache_write_cost, cost->cache_read_cost)),
									  cost->tool_cost));
}

const PriceEntry *
pricing_price_request(const char *model, TimestampTz occurred_at,
					  const UsageCounts *counts, UsageCost *cost)
{
	const char *resolved = price_cache_resolve_model(model);
	const PriceEntry *price;

	memset(cost, 0, sizeof(*cost));
	if (resolved == NULL)
	{
		cost->unpriced_reason = "unrecognized model";
		return NULL;
	}
	price = price_cache_lookup(resolved, occurred_at, counts->fast);
	if (price == NULL)
	{
		cost->unpriced_reason = counts->fast ? "no fast mode price in force"
			: "no price in force";
		return NULL;
	}
	pricing_compute(price, counts, cost);
	return cost->priced ? price : NULL;
}
