/*
 * cost.c
 *		SQL functions over the pricing code: cost(), resolve_model(), price_id_for().
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pricing.h"

static int64
count_argument(FunctionCallInfo fcinfo, int argno, const char *name)
{
	int64		value = PG_GETARG_INT64(argno);

	pricing_check_count(name, value);
	return value;
}

PG_FUNCTION_INFO_V1(claudecost_cost);

/*
 * claudecost.cost(model, input, output, 5m writes, 1h writes, cache reads,
 * web searches, service_tier, occurred_at, inference_geo, speed): total USD
 * of one request, or NULL when the model has no price in force or an
 * argument other than inference_geo and speed is NULL.
 */
Datum
claudecost_cost(PG_FUNCTION_ARGS)
{
	UsageCounts counts;
	UsageCost	cost;
	char	   *model;
	TimestampTz occurred_at;

	int			argno;

	/*
	 * An unknown model, count, tier or time gives an unknown cost.  NULL
	 * inference_geo and speed (arguments 9 and 10) mean "none" and are valid.
	 */
	for (argno = 0; argno <= 8; argno++)
	{
		if (PG_ARGISNULL(argno))
			PG_RETURN_NULL();
	}
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));

	memset(&counts, 0, sizeof(counts));
	counts.input_tokens = count_argument(fcinfo, 1, "input_tokens");
	counts.output_tokens = count_argument(fcinfo, 2, "output_tokens");
	counts.cache_write_5m_tokens = count_argument(fcinfo, 3, "cache_write_5m_tokens");
	counts.cache_write_1h_tokens = count_argument(fcinfo, 4, "cache_write_1h_tokens");
	counts.cache_read_tokens = count_argument(fcinfo, 5, "cache_read_tokens");
	counts.web_search_requests = PG_GETARG_INT32(6);
	pricing_check_count("web_search_requests", counts.web_search_requests);
	counts.service_tier = pricing_parse_service_tier(text_to_cstring(PG_GETARG_TEXT_PP(7)));
	occurred_at = PG_GETARG_TIMESTAMPTZ(8);
	counts.us_geo = pricing_parse_inference_geo_is_us(PG_ARGISNULL(9) ? NULL
													  : text_to_cstring(PG_GETARG_TEXT_PP(9)));
	counts.fast = pricing_parse_speed_is_fast(PG_ARGISNULL(10) ? NULL
											  : text_to_cstring(PG_GETARG_TEXT_PP(10)));

	if (pricing_price_request(model, occurred_at, &counts, &cost) == NULL)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(cost.total_cost);
}

PG_FUNCTION_INFO_V1(claudecost_resolve_model);

/* claudecost.resolve_model(name): the catalog model id a name is priced as, or NULL. */
Datum
claudecost_resolve_model(PG_FUNCTION_ARGS)
{
	const char *model = price_cache_resolve_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (model == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(model));
}

PG_FUNCTION_INFO_V1(claudecost_price_id_for);

/* claudecost.price_id_for(model, occurred_at, speed): id of the price in force, or NULL. */
Datum
claudecost_price_id_for(PG_FUNCTION_ARGS)
{
	const char *model = price_cache_resolve_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	bool		fast;
	const PriceEntry *price;

	if (model == NULL)
		PG_RETURN_NULL();
	fast = pricing_parse_speed_is_fast(PG_ARGISNULL(2) ? NULL
									   : text_to_cstring(PG_GETARG_TEXT_PP(2)));
	price = price_cache_lookup(model, PG_GETARG_TIMESTAMPTZ(1), fast);
	if (price == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(price->id);
}
