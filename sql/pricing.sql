-- Pricing: claudecost.cost(), model resolution, price history, add_price().
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Shipped catalog: every CSV row, graded and sourced.
SELECT count(*) AS prices, count(DISTINCT model) AS models,
       count(*) FILTER (WHERE source IS NULL) AS without_source
FROM claudecost.price;
SELECT confidence, count(*) FROM claudecost.price GROUP BY confidence ORDER BY confidence COLLATE "C";

-- Sonnet 3.7: cache writes are billed as writes, not also as input.
SELECT claudecost.cost('claude-3-7-sonnet-20250219', 3, 550, 12304) AS sonnet_37;
-- Haiku 3.5 at the cut price: input 4, cache read 2,455, output 23.
SELECT claudecost.cost('claude-3-5-haiku-20241022', 4, 23, 0, 0, 2455) AS haiku_35;
-- Sonnet 4 with 3 web searches at $10 per 1,000.
SELECT claudecost.cost('claude-sonnet-4-20250514', 1000, 500, web_search_requests => 3) AS sonnet_4_search;
-- Sonnet 4 in the 1M beta: 210,000 prompt tokens > 200,000, every token at the long rate.
SELECT claudecost.cost('claude-sonnet-4-20250514', 50000, 10000, 60000, 0, 100000,
                       occurred_at => '2025-10-15 12:00+00') AS sonnet_4_long;
-- Exactly at the threshold stays in the base tier (strictly greater switches).
SELECT claudecost.cost('claude-sonnet-4-20250514', 200000, 0, occurred_at => '2025-10-15') AS at_threshold,
       claudecost.cost('claude-sonnet-4-20250514', 200001, 0, occurred_at => '2025-10-15') AS over_threshold;
-- Haiku 5.5 two bands at 100,000 prompt tokens, output included in the high band.
SELECT claudecost.cost('claude-haiku-5-5', 100000, 1000, occurred_at => '2026-11-01') AS low_band,
       claudecost.cost('claude-haiku-5-5', 100001, 1000, occurred_at => '2026-11-01') AS high_band;
-- 1-hour cache writes at the 1-hour rate ($6), 5-minute ones at $3.75 (Sonnet 4.5).
SELECT claudecost.cost('claude-sonnet-4-5-20250929', 0, 0, 1000000, 0) AS write_5m,
       claudecost.cost('claude-sonnet-4-5-20250929', 0, 0, 0, 1000000) AS write_1h;
-- Batch halves every token charge, cache included; web search is not discounted.
-- Priority tier has no list price of its own: standard rates.
SELECT claudecost.cost('claude-sonnet-4-5-20250929', 10000, 10000, 10000, 10000, 10000,
                       2, 'batch') AS batch,
       claudecost.cost('claude-sonnet-4-5-20250929', 10000, 10000, 10000, 10000, 10000,
                       2, 'standard') AS standard,
       claudecost.cost('claude-sonnet-4-5-20250929', 10000, 10000, 10000, 10000, 10000,
                       2, 'priority') AS priority;
-- Data residency: inference_geo 'us' is x1.1 on Opus 4.6 and later, ignored before.
SELECT claudecost.cost('claude-opus-4-6', 1000000, 0, occurred_at => '2026-06-01', inference_geo => 'us') AS opus_46_us,
       claudecost.cost('claude-opus-4-6', 1000000, 0, occurred_at => '2026-06-01', inference_geo => 'global') AS opus_46_global,
       claudecost.cost('claude-opus-4-5', 1000000, 0, occurred_at => '2026-06-01', inference_geo => 'us') AS opus_45_us;
-- Long context, batch and data residency stack (Opus 4.6 before 1M GA).
SELECT claudecost.cost('claude-opus-4-6', 300000, 1000, 0, 0, 0, 0, 'batch', '2026-02-20', 'us') AS stacked;
-- Fast mode is its own price row; a model without one is unpriced in fast mode.
SELECT claudecost.cost('claude-opus-4-8', 1000000, 1000000, occurred_at => '2026-06-01', speed => 'fast') AS opus_48_fast,
       claudecost.cost('claude-opus-4-8', 1000000, 1000000, occurred_at => '2026-06-01', speed => 'standard') AS opus_48_standard,
       claudecost.cost('claude-sonnet-5', 1000, 1000, occurred_at => '2026-08-01', speed => 'fast') AS sonnet_5_fast;
-- Price history: the Haiku 3.5 launch price before the cut, the cut price after it.
SELECT claudecost.cost('claude-3-5-haiku-20241022', 1000000, 0, occurred_at => '2024-11-20') AS launch,
       claudecost.cost('claude-3-5-haiku-20241022', 1000000, 0, occurred_at => '2024-12-02') AS after_cut;
-- Before a model's first price there is no price.
SELECT claudecost.cost('claude-opus-4-6', 1, 1, occurred_at => '2025-01-01') AS before_launch;
-- A token class the price does not offer leaves the request unpriced (no cache for Claude 3 Sonnet).
SELECT claudecost.cost('claude-3-sonnet-20240229', 10, 10, occurred_at => '2024-06-01') AS plain,
       claudecost.cost('claude-3-sonnet-20240229', 10, 10, 10, occurred_at => '2024-06-01') AS with_cache_write;
-- Unknown model: NULL, never 0.
SELECT claudecost.cost('claude-nova-9', 1000, 1000) IS NULL AS unknown_is_null;
SELECT claudecost.cost(NULL, 1, 1) IS NULL AS null_model_is_null;
-- Zero tokens cost exactly zero.
SELECT claudecost.cost('claude-sonnet-4-5', 0, 0) AS zero;

-- Model names from clients and gateways.
SELECT name, claudecost.resolve_model(name) AS model
FROM unnest(ARRAY[
    'claude-sonnet-4-5-20250929',
    'claude-sonnet-4-5',
    'claude-3-5-sonnet-latest',
    'anthropic.claude-3-5-sonnet-20241022-v2:0',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'global.anthropic.claude-opus-4-6-v1',
    'eu.anthropic.claude-haiku-4-5-20251001-v1:0',
    'anthropic.claude-v2:1',
    'claude-3-5-sonnet-v2@20241022',
    'claude-sonnet-4@20250514',
    'claude-opus-4-1@20250805',
    'anthropic/claude-sonnet-4',
    'anthropic/claude-3.5-sonnet',
    'anthropic/claude-3.7-sonnet:thinking',
    'anthropic/claude-sonnet-4.5',
    'bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0',
    'claude-nova-9',
    '<synthetic>']) AS name
ORDER BY name COLLATE "C";
SELECT claudecost.cost('anthropic.claude-3-7-sonnet-20250219-v1:0', 3, 550, 12304) AS bedrock_sonnet_37;

-- Invalid arguments.
SELECT claudecost.cost('claude-sonnet-4-5', -1, 0);
SELECT claudecost.cost('claude-sonnet-4-5', 0, 0, 0, 0, -5);
SELECT claudecost.cost('claude-sonnet-4-5', 1, 1, service_tier => 'flex');
SELECT claudecost.cost('claude-sonnet-4-5', 1, 1, inference_geo => 'eu');
SELECT claudecost.cost('claude-sonnet-4-5', 1, 1, speed => 'turbo');
SELECT claudecost.cost('claude-sonnet-4-5', 9223372036854775807, 0, 9223372036854775807);

-- add_price(): a custom model, cache prices derived from the input price.
SELECT claudecost.add_price('claude-nova-9', 2, 8, effective_from => '2026-01-01') > 0 AS added;
SELECT model, input_per_mtok, output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok,
       cache_read_per_mtok, cache_prices_derived, effective_from, effective_to, confidence
FROM claudecost.price WHERE model = 'claude-nova-9';
SELECT claudecost.cost('claude-nova-9', 1000000, 1000000, 1000000, 1000000, 1000000,
                       occurred_at => '2026-02-01') AS nova;
-- A new price closes the previous one at its effective_from.
SELECT claudecost.add_price('claude-nova-9', 1, 4, 1.5, 2.5, 0.05, effective_from => '2026-06-01') > 0 AS added;
-- A price added before an existing later one ends where the later one starts.
SELECT claudecost.add_price('claude-nova-9', 3, 9, effective_from => '2026-03-01') > 0 AS added;
SELECT input_per_mtok, cache_prices_derived, effective_from, effective_to
FROM claudecost.price WHERE model = 'claude-nova-9' ORDER BY effective_from;
SELECT claudecost.cost('claude-nova-9', 1000000, 0, occurred_at => '2026-02-01') AS january_price,
       claudecost.cost('claude-nova-9', 1000000, 0, occurred_at => '2026-03-01') AS march_price,
       claudecost.cost('claude-nova-9', 1000000, 0, occurred_at => '2026-07-01') AS june_price;
-- Errors of add_price().
SELECT claudecost.add_price('claude-nova-9', 1, 4, effective_from => '2026-06-01');
SELECT claudecost.add_price('', 1, 4);
SELECT claudecost.add_price('claude-nova-9', NULL, 4);
SELECT claudecost.add_price('claude-nova-9', -1, 4, effective_from => '2027-01-01');
SELECT claudecost.add_price('claude-nova-9', 1, 4, effective_from => '2027-01-01', speed => 'warp');

-- Aliases and patterns take effect at once.
INSERT INTO claudecost.model_alias (alias, model) VALUES ('nova', 'claude-nova-9');
SELECT claudecost.resolve_model('nova') AS alias_resolved;
INSERT INTO claudecost.model_pattern (priority, pattern, replacement, description)
VALUES (5, '^acme-gw:(.*)$', '$1', 'in-house gateway prefix');
SELECT claudecost.resolve_model('acme-gw:claude-sonnet-4-5') AS pattern_resolved;
-- An invalid pattern is rejected on insert with PCRE2's message and offset.
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('^claude-(', '$1');
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('^claude-(.*)$', '$9');
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('^claude-(.*)$', '${1}$$');
SELECT count(*) AS patterns FROM claudecost.model_pattern;

-- An unknown argument gives an unknown cost; NULL inference_geo and speed mean "none".
SELECT claudecost.cost('claude-sonnet-4-5', NULL, 1) IS NULL AS null_input,
       claudecost.cost('claude-sonnet-4-5', 1, 1, service_tier => NULL) IS NULL AS null_tier,
       claudecost.cost('claude-sonnet-4-5', 1, 1, occurred_at => NULL) IS NULL AS null_time,
       claudecost.cost('claude-sonnet-4-5', 1, 1, inference_geo => NULL, speed => NULL) AS null_geo_speed;

-- Prices must be finite and plausible; multipliers positive.
SELECT claudecost.add_price('claude-bad-1', 'NaN', 1, effective_from => '2026-01-01');
SELECT claudecost.add_price('claude-bad-2', 1, 'Infinity', effective_from => '2026-01-01');
SELECT claudecost.add_price('claude-bad-3', 1, 1, batch_multiplier => -1, effective_from => '2026-01-01');
SELECT claudecost.add_price('claude-bad-4', 1, 1, us_geo_multiplier => 0, effective_from => '2026-01-01');
SELECT claudecost.add_price('claude-bad-5', 1, 1, effective_from => 'infinity');
SELECT claudecost.add_price('claude-bad-6', 1, 1, effective_from => NULL);
SELECT claudecost.add_price('claude-bad-7', 1, 1, speed => NULL);
SELECT count(*) AS bad_prices FROM claudecost.price WHERE model LIKE 'claude-bad-%';

-- Replacements are checked when a rule is written.
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('(?<n>a)', '${m}');
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('(?<n>a)', '$m');
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('(a)', '$');
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('(a)', '${1');
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('(a)', '${}');
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('a\C', '');
INSERT INTO claudecost.model_pattern (pattern, replacement) VALUES ('(?<n>a)', '${n}-$n-$1-$$');
-- A rule that keeps growing the name stops with a typed error, not an allocation failure.
BEGIN;
INSERT INTO claudecost.model_pattern (priority, pattern, replacement)
SELECT i, '.', '$0$0$0$0' FROM generate_series(1, 12) AS i;
SELECT claudecost.resolve_model(repeat('a', 100));
ROLLBACK;
