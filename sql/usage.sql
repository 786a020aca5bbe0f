-- The usage ledger: validation and pricing by the row trigger, unpriced rows, reprice().
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Priced on insert; the trigger replaces any cost a client writes.
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id,
                              input_tokens, output_tokens, cache_write_5m_tokens, total_cost)
VALUES ('msg_a', '2025-03-01 10:00+00', 'claude-3-7-sonnet-20250219', 'alice', 'web',
        3, 550, 12304, 999);
SELECT request_id, price_id IS NOT NULL AS has_price, long_context, input_cost, output_cost,
       cache_write_cost, cache_read_cost, tool_cost, total_cost, currency
FROM claudecost.usage WHERE request_id = 'msg_a';

-- 1-hour writes at the 1-hour rate, web searches, a gateway model name.
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens, output_tokens,
                              cache_write_1h_tokens, web_search_requests)
VALUES ('msg_b', '2025-06-01 00:00+00', 'us.anthropic.claude-sonnet-4-20250514-v1:0',
        1000, 500, 100000, 3);
SELECT request_id, input_cost, output_cost, cache_write_cost, tool_cost, total_cost
FROM claudecost.usage WHERE request_id = 'msg_b';

-- Long context in the Sonnet 4 1M beta.
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens, output_tokens,
                              cache_write_5m_tokens, cache_read_tokens)
VALUES ('msg_c', '2025-10-15 12:00+00', 'claude-sonnet-4-20250514', 50000, 10000, 60000, 100000);
SELECT request_id, long_context, total_cost FROM claudecost.usage WHERE request_id = 'msg_c';

-- Batch tier and data residency columns.
INSERT INTO claudecost.usage (request_id, occurred_at, model, service_tier, inference_geo, speed,
                              input_tokens, output_tokens)
VALUES ('msg_d', '2026-06-01', 'claude-opus-4-8', 'batch', 'us', 'standard', 1000000, 0),
       ('msg_e', '2026-06-01', 'claude-opus-4-8', 'standard', 'global', 'fast', 1000000, 0);
SELECT request_id, total_cost FROM claudecost.usage WHERE request_id IN ('msg_d', 'msg_e')
ORDER BY request_id COLLATE "C";

-- An unknown model is kept with NULL costs and listed as unpriced, never priced at 0.
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, input_tokens, output_tokens)
VALUES ('msg_nova', '2026-02-10 08:00+00', 'claude-nova-9', 'bob', 1000000, 1000000);
SELECT request_id, price_id, input_cost, total_cost, currency
FROM claudecost.usage WHERE request_id = 'msg_nova';
-- A known model used before its first price is unpriced too.
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens)
VALUES ('msg_early', '2025-01-01', 'claude-opus-4-6', 10);
SELECT request_id, model, resolved_model, reason FROM claudecost.unpriced_usage
ORDER BY request_id COLLATE "C";

-- A price arrives: reprice() prices the row and reports how many changed.
SELECT claudecost.add_price('claude-nova-9', 2, 8, effective_from => '2026-01-01') > 0 AS added;
SELECT claudecost.reprice() AS repriced;
SELECT request_id, input_cost, output_cost, total_cost FROM claudecost.usage WHERE request_id = 'msg_nova';
SELECT request_id FROM claudecost.unpriced_usage ORDER BY request_id COLLATE "C";
-- Nothing left to change: a second reprice() changes no row.
SELECT claudecost.reprice() AS repriced_again;

-- A price change on a date: rows before it keep the old price, rows after get the new one.
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens)
VALUES ('nova_before', '2026-04-30 23:59:59+00', 'claude-nova-9', 1000000),
       ('nova_after', '2026-05-01 00:00:00+00', 'claude-nova-9', 1000000);
SELECT claudecost.add_price('claude-nova-9', 1, 4, effective_from => '2026-05-01 00:00+00') > 0 AS added;
SELECT claudecost.reprice(model => 'claude-nova-9') AS repriced;
SELECT request_id, total_cost FROM claudecost.usage
WHERE request_id IN ('msg_nova', 'nova_before', 'nova_after') ORDER BY request_id COLLATE "C";
-- reprice(since) leaves older rows alone.
UPDATE claudecost.price SET input_per_mtok = 1.5 WHERE model = 'claude-nova-9' AND input_per_mtok = 1;
SELECT claudecost.reprice(since => '2026-06-01') AS repriced_since_june;
SELECT claudecost.reprice(since => '2026-05-01') AS repriced_since_may;
SELECT request_id, total_cost FROM claudecost.usage
WHERE request_id IN ('nova_before', 'nova_after') ORDER BY request_id COLLATE "C";

-- Updating token counts prices the row again.
UPDATE claudecost.usage SET output_tokens = 1000 WHERE request_id = 'msg_a';
SELECT output_cost, total_cost FROM claudecost.usage WHERE request_id = 'msg_a';

-- Validation names the column and the value.
INSERT INTO claudecost.usage (model, input_tokens) VALUES ('claude-sonnet-4-5', -1);
INSERT INTO claudecost.usage (model, output_tokens) VALUES ('claude-sonnet-4-5', -2);
INSERT INTO claudecost.usage (model, cache_write_5m_tokens) VALUES ('claude-sonnet-4-5', -3);
INSERT INTO claudecost.usage (model, cache_write_1h_tokens) VALUES ('claude-sonnet-4-5', -4);
INSERT INTO claudecost.usage (model, cache_read_tokens) VALUES ('claude-sonnet-4-5', -5);
INSERT INTO claudecost.usage (model, web_search_requests) VALUES ('claude-sonnet-4-5', -6);
INSERT INTO claudecost.usage (model, web_fetch_requests) VALUES ('claude-sonnet-4-5', -7);
INSERT INTO claudecost.usage (model, input_tokens) VALUES ('claude-sonnet-4-5', 9223372036854775808);
INSERT INTO claudecost.usage (model, input_tokens, cache_read_tokens)
VALUES ('claude-sonnet-4-5', 9223372036854775807, 1);
INSERT INTO claudecost.usage (model) VALUES (NULL);
INSERT INTO claudecost.usage (model) VALUES ('');
INSERT INTO claudecost.usage (model, service_tier) VALUES ('claude-sonnet-4-5', 'flex');
INSERT INTO claudecost.usage (occurred_at, model, service_tier) VALUES ('2026-01-01 00:00+00', 'claude-sonnet-4-5', NULL);
INSERT INTO claudecost.usage (model, inference_geo) VALUES ('claude-sonnet-4-5', 'eu');
INSERT INTO claudecost.usage (model, speed) VALUES ('claude-sonnet-4-5', 'slow');
INSERT INTO claudecost.usage (model, occurred_at) VALUES ('claude-sonnet-4-5', NULL);
UPDATE claudecost.usage SET input_tokens = -1 WHERE request_id = 'msg_a';
-- request_id is unique when present.
INSERT INTO claudecost.usage (request_id, model) VALUES ('msg_a', 'claude-sonnet-4-5');
INSERT INTO claudecost.usage (request_id, model) VALUES (NULL, 'claude-sonnet-4-5'), (NULL, 'claude-sonnet-4-5');
-- No rejected row was stored.
SELECT count(*) AS rows FROM claudecost.usage;

-- The trigger functions refuse to run anywhere else.
CREATE TABLE public.not_usage (model text);
CREATE TRIGGER wrong_timing AFTER INSERT ON public.not_usage
    FOR EACH ROW EXECUTE FUNCTION claudecost.usage_price();
INSERT INTO public.not_usage VALUES ('x');
DROP TABLE public.not_usage;
SELECT claudecost.usage_price();
