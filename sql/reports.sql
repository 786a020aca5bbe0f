-- First reports: views over the rollup and the jsonb summaries.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id,
                              input_tokens, output_tokens, cache_write_5m_tokens,
                              cache_write_1h_tokens, cache_read_tokens, web_search_requests)
VALUES ('a1', '2026-03-01 09:00+00', 'claude-sonnet-4-6', 'alice', 'web', 1000, 500, 2000, 0, 10000, 1),
       ('a2', '2026-03-01 23:30+00', 'claude-sonnet-4-6', 'alice', 'web', 2000, 100, 0, 4000, 0, 0),
       ('b1', '2026-03-02 00:10+00', 'claude-haiku-4-5', 'bob', 'web', 500, 50, 0, 0, 0, 0),
       ('b2', '2026-03-02 12:00+00', 'claude-haiku-4-5', 'bob', NULL, 700, 70, 0, 0, 3000, 0),
       ('n1', '2026-03-02 13:00+00', 'claude-nova-9', NULL, 'batch-jobs', 100, 10, 0, 0, 0, 0);

SELECT * FROM claudecost.daily_usage ORDER BY day, model COLLATE "C", user_id COLLATE "C";
SELECT * FROM claudecost.cost_by_model ORDER BY model COLLATE "C";
SELECT * FROM claudecost.cost_by_user ORDER BY user_id COLLATE "C" NULLS LAST;
SELECT * FROM claudecost.cost_by_project ORDER BY project_id COLLATE "C" NULLS LAST;

-- The views agree with raw aggregates.
SELECT (SELECT sum(total_cost) FROM claudecost.daily_usage)
       = (SELECT sum(total_cost) FROM claudecost.usage) AS daily_total_matches,
       (SELECT sum(requests) FROM claudecost.cost_by_user) = (SELECT count(*) FROM claudecost.usage)
       AS user_requests_match;

SELECT jsonb_pretty(claudecost.get_token_usage());
SELECT jsonb_pretty(claudecost.get_token_usage(user_id => 'alice'));
SELECT jsonb_pretty(claudecost.get_token_usage(project_id => 'web'));
SELECT jsonb_pretty(claudecost.get_token_usage(user_id => 'nobody'));
SELECT jsonb_pretty(claudecost.get_cost_breakdown());

-- Late rows and deletes show in every view at once.
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, input_tokens)
VALUES ('late', '2025-12-31 23:00+00', 'claude-haiku-4-5', 'alice', 1000000);
DELETE FROM claudecost.usage WHERE request_id = 'b1';
SELECT day, model, user_id, requests, total_cost FROM claudecost.daily_usage
ORDER BY day, model COLLATE "C", user_id COLLATE "C";
SELECT model, requests, total_cost FROM claudecost.cost_by_model ORDER BY model COLLATE "C";

-- An alias and its dated id are one model; a model without any price has NULL cost, not 0.
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens)
VALUES ('alias1', '2026-03-03 10:00+00', 'claude-haiku-4-5-20251001', 1000),
       ('alias2', '2026-03-03 10:00+00', 'anthropic/claude-haiku-4.5', 1000);
SELECT model, requests, unpriced_requests, total_cost FROM claudecost.cost_by_model
ORDER BY model COLLATE "C";
SELECT day, model, requests, input_cost, total_cost FROM claudecost.daily_usage
WHERE model IN ('claude-nova-9', 'claude-haiku-4-5-20251001') ORDER BY day, model COLLATE "C";
