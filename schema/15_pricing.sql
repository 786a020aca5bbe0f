-- Pricing functions over the catalog (C, src/cost.c and src/price_cache.c).

CREATE FUNCTION claudecost.price_catalog_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'claudecost_price_catalog_changed'
LANGUAGE C;

-- Every session drops its cached catalog when one of these tables changes.
CREATE TRIGGER price_catalog_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON claudecost.price
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.price_catalog_changed();
CREATE TRIGGER model_alias_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON claudecost.model_alias
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.price_catalog_changed();
CREATE TRIGGER model_pattern_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON claudecost.model_pattern
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.price_catalog_changed();

CREATE FUNCTION claudecost.validate_model_pattern()
RETURNS trigger
AS 'MODULE_PATHNAME', 'claudecost_validate_model_pattern'
LANGUAGE C;

-- An invalid PCRE2 pattern is rejected when it is written, not when a usage row needs it.
CREATE TRIGGER model_pattern_validate
    BEFORE INSERT OR UPDATE OF pattern, replacement ON claudecost.model_pattern
    FOR EACH ROW EXECUTE FUNCTION claudecost.validate_model_pattern();

CREATE FUNCTION claudecost.cost(
    model text,
    input_tokens bigint,
    output_tokens bigint,
    cache_write_5m_tokens bigint DEFAULT 0,
    cache_write_1h_tokens bigint DEFAULT 0,
    cache_read_tokens bigint DEFAULT 0,
    web_search_requests integer DEFAULT 0,
    service_tier text DEFAULT 'standard',
    occurred_at timestamptz DEFAULT now(),
    inference_geo text DEFAULT NULL,
    speed text DEFAULT NULL)
RETURNS numeric
AS 'MODULE_PATHNAME', 'claudecost_cost'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION claudecost.cost(text, bigint, bigint, bigint, bigint, bigint, integer, text, timestamptz, text, text) IS
    'Exact USD cost of one request with the price in force at occurred_at; NULL when unpriced';

CREATE FUNCTION claudecost.resolve_model(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'claudecost_resolve_model'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION claudecost.resolve_model(text) IS
    'Catalog model id that a client or gateway model name is priced as; NULL when unrecognized';

CREATE FUNCTION claudecost.price_id_for(model text, occurred_at timestamptz, speed text DEFAULT 'standard')
RETURNS bigint
AS 'MODULE_PATHNAME', 'claudecost_price_id_for'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION claudecost.price_id_for(text, timestamptz, text) IS
    'Id of the claudecost.price row in force for a model at a time; NULL when there is none';
