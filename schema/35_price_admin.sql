-- Price administration: add a price, reprice the ledger, list unpriced rows.

CREATE FUNCTION claudecost.add_price(
    model text,
    input_per_mtok numeric,
    output_per_mtok numeric,
    cache_write_5m_per_mtok numeric DEFAULT NULL,
    cache_write_1h_per_mtok numeric DEFAULT NULL,
    cache_read_per_mtok numeric DEFAULT NULL,
    effective_from timestamptz DEFAULT now(),
    speed text DEFAULT 'standard',
    long_context_threshold bigint DEFAULT NULL,
    long_input_per_mtok numeric DEFAULT NULL,
    long_output_per_mtok numeric DEFAULT NULL,
    batch_multiplier numeric DEFAULT 0.5,
    us_geo_multiplier numeric DEFAULT NULL,
    web_search_per_1k numeric DEFAULT 10,
    source text DEFAULT NULL,
    notes text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    derived boolean := cache_write_5m_per_mtok IS NULL
                       OR cache_write_1h_per_mtok IS NULL
                       OR cache_read_per_mtok IS NULL;
    next_start timestamptz;
    new_id bigint;
BEGIN
    IF model IS NULL OR model = '' THEN
        RAISE EXCEPTION 'missing model'
            USING ERRCODE = 'not_null_violation',
                  DETAIL = 'A price needs the model id it applies to.';
    END IF;
    IF speed IS NULL OR effective_from IS NULL THEN
        RAISE EXCEPTION 'missing speed or effective_from for model "%"', model
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Omit them for the defaults: speed ''standard'', effective_from now().';
    END IF;
    IF input_per_mtok IS NULL OR output_per_mtok IS NULL THEN
        RAISE EXCEPTION 'missing input or output price for model "%"', model
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Pass input_per_mtok and output_per_mtok in USD per million tokens.';
    END IF;
    IF EXISTS (SELECT 1 FROM claudecost.price p
               WHERE p.model = add_price.model AND p.speed = add_price.speed
                 AND p.effective_from = add_price.effective_from) THEN
        RAISE EXCEPTION 'a % price for model "%" already starts at %', speed, model, effective_from
            USING ERRCODE = 'unique_violation',
                  HINT = 'Update that row in claudecost.price, or pass another effective_from.';
    END IF;

    -- A later price, if any, ends the new one; the price in force at
    -- effective_from ends where the new one starts.
    SELECT min(p.effective_from) INTO next_start
    FROM claudecost.price p
    WHERE p.model = add_price.model AND p.speed = add_price.speed
      AND p.effective_from > add_price.effective_from;

    UPDATE claudecost.price p
    SET effective_to = add_price.effective_from
    WHERE p.model = add_price.model AND p.speed = add_price.speed
      AND p.effective_from < add_price.effective_from
      AND (p.effective_to IS NULL OR p.effective_to > add_price.effective_from);

    -- Standard cache multipliers of the input price: 5-minute write 1.25x,
    -- 1-hour write 2x, read 0.1x.
    INSERT INTO claudecost.price AS p (
        model, speed, input_per_mtok, output_per_mtok,
        cache_write_5m_per_mtok, cache_write_1h_per_mtok, cache_read_per_mtok,
        long_context_threshold, long_input_per_mtok, long_output_per_mtok,
        long_cache_write_5m_per_mtok, long_cache_write_1h_per_mtok, long_cache_read_per_mtok,
        batch_multiplier, us_geo_multiplier, web_search_per_1k,
        effective_from, effective_to, cache_prices_derived, source, confidence, notes)
    VALUES (
        model, speed, input_per_mtok, output_per_mtok,
        coalesce(cache_write_5m_per_mtok, input_per_mtok * 1.25),
        coalesce(cache_write_1h_per_mtok, input_per_mtok * 2),
        coalesce(cache_read_per_mtok, input_per_mtok * 0.1),
        long_context_threshold, long_input_per_mtok, long_output_per_mtok,
        long_input_per_mtok * 1.25, long_input_per_mtok * 2, long_input_per_mtok * 0.1,
        batch_multiplier, us_geo_multiplier, web_search_per_1k,
        effective_from, next_start, derived, source, 'custom', notes)
    RETURNING p.id INTO new_id;
    RETURN new_id;
END;
$$;

COMMENT ON FUNCTION claudecost.add_price(text, numeric, numeric, numeric, numeric, numeric, timestamptz, text, bigint, numeric, numeric, numeric, numeric, numeric, text, text) IS
    'Adds a price (USD per million tokens) from effective_from and closes the price it replaces';

CREATE FUNCTION claudecost.reprice(since timestamptz DEFAULT '-infinity', model text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed bigint;
    resolved text := claudecost.resolve_model(model);
BEGIN
    -- This lock waits until writers that priced rows with the old catalog
    -- commit, so the UPDATE below reads their rows.  It also blocks new
    -- writers and other reprice() calls until this transaction ends.
    LOCK TABLE claudecost.usage IN SHARE ROW EXCLUSIVE MODE;

    -- Only rows whose price or cost would change are updated, so the rollup
    -- triggers see exactly the changed rows and the count is exact.
    UPDATE claudecost.usage u
    SET price_id = NULL
    WHERE u.occurred_at >= reprice.since
      AND (reprice.model IS NULL OR u.model = reprice.model
           OR claudecost.resolve_model(u.model) = resolved)
      AND (u.price_id IS DISTINCT FROM
               claudecost.price_id_for(u.model, u.occurred_at, coalesce(u.speed, 'standard'))
           OR u.total_cost IS DISTINCT FROM
               claudecost.cost(u.model, u.input_tokens, u.output_tokens,
                               u.cache_write_5m_tokens, u.cache_write_1h_tokens,
                               u.cache_read_tokens, u.web_search_requests, u.service_tier,
                               u.occurred_at, u.inference_geo, u.speed));
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END;
$$;

COMMENT ON FUNCTION claudecost.reprice(timestamptz, text) IS
    'Prices again the usage rows whose price or cost changed; returns how many rows changed';

CREATE VIEW claudecost.unpriced_usage AS
SELECT u.id, u.request_id, u.occurred_at, u.model,
       claudecost.resolve_model(u.model) AS resolved_model,
       CASE
           WHEN claudecost.resolve_model(u.model) IS NULL THEN 'unrecognized model'
           WHEN claudecost.price_id_for(u.model, u.occurred_at, coalesce(u.speed, 'standard')) IS NULL
               THEN 'no price in force at occurred_at'
           ELSE 'the price has no rate for a token class this request used'
       END AS reason,
       u.user_id, u.project_id, u.service_tier, u.speed,
       u.input_tokens, u.output_tokens, u.cache_write_5m_tokens, u.cache_write_1h_tokens,
       u.cache_read_tokens
FROM claudecost.usage u
WHERE u.total_cost IS NULL;

COMMENT ON VIEW claudecost.unpriced_usage IS
    'Usage rows kept without a cost, with the reason; claudecost.reprice() prices them once a price exists';
