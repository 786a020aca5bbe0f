-- reconcile() against the documented Admin API cost report, and the
-- admin_cost_report view it compares with.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
\set cost_report `cat data/admin-api/cost_report_documented.json`

-- The documented report: 2025-08-01, claude-opus-5, uncached input,
-- 123.78912 cents.  Opus 5 had no public price on that day; a negotiated
-- input rate of USD 4.80 per million tokens makes the amount exactly
-- 257,894 input tokens (257894 x 4.80 / 1e6 = 1.2378912 USD).
SELECT claudecost.add_price('claude-opus-5', 4.80, 24, effective_from => '2025-08-01') > 0 AS price_added;
INSERT INTO claudecost.usage (occurred_at, model, workspace_id, input_tokens, output_tokens)
VALUES ('2025-08-01 09:15', 'claude-opus-5', 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', 200000, 0),
       ('2025-08-01 17:40', 'claude-opus-5', 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', 57894, 0),
       -- Outside the report's days: not compared.
       ('2025-08-02 08:00', 'claude-opus-5', 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', 1000, 0);

SELECT * FROM claudecost.admin_cost_report ORDER BY day, model COLLATE "C", token_type COLLATE "C";

-- Matching ledger: zero difference.
SELECT * FROM claudecost.reconcile(:'cost_report'::jsonb);

-- A deliberate mismatch: one more request on 2025-08-01, and a sonnet
-- request the report does not contain.
INSERT INTO claudecost.usage (occurred_at, model, workspace_id, input_tokens, output_tokens)
VALUES ('2025-08-01 20:00', 'claude-opus-5', 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', 1000, 10),
       ('2025-08-01 21:00', 'claude-sonnet-4-20250514', 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', 1000, 100);
SELECT * FROM claudecost.reconcile(:'cost_report'::jsonb);

-- A report line the ledger lacks, over two pages, and a bucket without
-- results (the day is compared and the ledger has no cost on it).
SELECT * FROM claudecost.reconcile(jsonb_build_array(
    :'cost_report'::jsonb,
    '{"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
                "results": [{"amount": "0.5", "model": "claude-haiku-4-5-20251001", "cost_type": "tokens",
                             "token_type": "output_tokens", "currency": "USD"}]},
               {"starting_at": "2025-08-05T00:00:00Z", "ending_at": "2025-08-06T00:00:00Z", "results": []}],
      "has_more": false, "next_page": null}'::jsonb));

-- Cache writes are split into 5-minute and 1-hour writes by their rates;
-- web search is its own cost type; gateway spellings report the model id.
INSERT INTO claudecost.usage (occurred_at, model, workspace_id, input_tokens, output_tokens,
                              cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, inference_geo)
VALUES ('2026-03-01 10:00', 'anthropic.claude-haiku-4-5-20251001-v1:0', NULL, 0, 0, 1000000, 1000000, 3, 'us');
SELECT * FROM claudecost.admin_cost_report WHERE day = '2026-03-01'
ORDER BY cost_type COLLATE "C", token_type COLLATE "C";
SELECT sum(amount) / 100 = (SELECT sum(total_cost) FROM claudecost.usage WHERE occurred_at >= '2026-03-01')
       AS view_total_equals_ledger
FROM claudecost.admin_cost_report WHERE day = '2026-03-01';

-- Invalid reports.
SELECT * FROM claudecost.reconcile(NULL);
SELECT * FROM claudecost.reconcile('{"results": []}');
SELECT * FROM claudecost.reconcile('[{"data": []}, 3]');
SELECT * FROM claudecost.reconcile('{"data": [{"results": []}]}');
SELECT * FROM claudecost.reconcile('{"data": [{"starting_at": "2025-08-01T00:00:00Z", "results": [{"model": "m", "amount": "12,5"}]}]}');

-- A report in another currency is refused; the ledger is in USD.
SELECT * FROM claudecost.reconcile('{"data": [{"starting_at": "2025-08-01T00:00:00Z", "results": [{"model": "m", "amount": "12.5", "currency": "EUR"}]}]}');

-- A report that names a model by an alias or an undated id is compared
-- with the ledger rows of the model it resolves to.
INSERT INTO claudecost.usage (occurred_at, model, input_tokens, output_tokens)
VALUES ('2026-04-01 10:00', 'claude-sonnet-4-5-20250929', 100000, 0);
SELECT * FROM claudecost.reconcile(
    '{"data": [{"starting_at": "2026-04-01T00:00:00Z", "ending_at": "2026-04-02T00:00:00Z",
                "results": [{"amount": "30", "model": "claude-sonnet-4-5", "cost_type": "tokens",
                             "token_type": "uncached_input_tokens", "currency": "USD"}]}]}');
