-- Token estimates for Claude models: estimate_tokens, estimate_prompt_cost
-- and calibrate().
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Shipped families, tried in priority order.
SELECT family, model_pattern, priority, base_encoding, factor, uncertainty, exact
FROM claudecost.token_calibration
ORDER BY priority;

-- Model names, catalog ids and gateway spellings map to a family.
SELECT name, (claudecost.token_calibration_for(name)).family
FROM pg_catalog.unnest(ARRAY[
    'claude-instant-1.2', 'claude-2.1', 'anthropic.claude-v2:1',
    'claude-3-opus-20240229', 'claude-3-5-sonnet@20240620', 'anthropic.claude-3-5-sonnet-20240620-v1:0',
    'claude-haiku-4-5-20251001', 'claude-opus-4-20250514', 'claude-opus-4-6', 'claude-sonnet-4-5',
    'claude-opus-4-7', 'us.anthropic.claude-opus-4-7-v1:0', 'claude-opus-4-8', 'claude-sonnet-5',
    'claude-fable-5', 'claude-mythos-preview', 'claude-next', 'gpt-4o']) WITH ORDINALITY AS m(name, n)
ORDER BY n;

CREATE TEMP TABLE prompt (label text, input text);
INSERT INTO prompt VALUES
    ('english', 'Summarize the following report in three sentences, keeping every number exact.'),
    ('code', E'def mean(xs):\n    return sum(xs) / len(xs) if xs else 0.0\n'),
    ('cjk', E'\u8bf7\u628a\u4e0b\u9762\u7684\u6587\u7ae0\u7ffb\u8bd1\u6210\u82f1\u6587\u3002'),
    ('empty', '');

-- estimate = ceil(exact legacy count * factor); Claude 2 is exact.
SELECT p.label, m.model,
       claudecost.token_count(p.input, 'claude_legacy') AS legacy_count,
       claudecost.estimate_tokens(p.input, m.model) AS estimate,
       claudecost.estimate_tokens(p.input, m.model)
           = ceil(claudecost.token_count(p.input, 'claude_legacy')
                  * (claudecost.token_calibration_for(m.model)).factor) AS matches_rule
FROM prompt AS p
CROSS JOIN (VALUES ('claude-2.1'), ('claude-sonnet-4-5'), ('claude-opus-4-7')) AS m(model)
ORDER BY p.label COLLATE "C", m.model COLLATE "C";

-- estimate_prompt_cost: the whole object, and its cost equals cost() of the estimated tokens.
SELECT claudecost.estimate_prompt_cost(input, 'claude-sonnet-4-5', 200)
FROM prompt WHERE label = 'english';
SELECT claudecost.estimate_prompt_cost(input, 'claude-2.1') ->> 'exact' AS claude_2_exact
FROM prompt WHERE label = 'english';
SELECT p.label, m.model,
       (claudecost.estimate_prompt_cost(p.input, m.model, 500) ->> 'estimated_cost')::numeric
           = claudecost.cost(m.model, claudecost.estimate_tokens(p.input, m.model), 500) AS cost_matches
FROM prompt AS p
CROSS JOIN (VALUES ('claude-3-opus-20240229'), ('claude-haiku-4-5-20251001'),
                   ('claude-opus-4-7'), ('claude-sonnet-4-5')) AS m(model)
ORDER BY p.label COLLATE "C", m.model COLLATE "C";
-- A Claude model without a price: estimated tokens, but no cost.
SELECT claudecost.estimate_prompt_cost('hello', 'claude-next') - 'uncertainty' AS unpriced;

-- Errors.
SELECT claudecost.estimate_tokens('hello', 'gpt-4o');
SELECT :'LAST_ERROR_SQLSTATE' AS unrecognized_model_sqlstate;
SELECT claudecost.estimate_prompt_cost('hello', 'gpt-4o');
SELECT claudecost.estimate_prompt_cost('hello', 'claude-sonnet-4-5', -1);
SELECT claudecost.calibrate(NULL, 0);

-- calibrate(): 30 Sonnet 4.5 rows whose real count is 1.25 times the
-- estimate, 3 outliers at 10 times, and 5 Opus 4.7 rows (too few).
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens, cache_read_tokens,
                              output_tokens, estimated_input_tokens)
SELECT 'cal-sonnet-' || i, '2026-03-01 00:00+00', 'claude-sonnet-4-5-20250929',
       (1000 + 8 * i) * 5 / 4 - 100, 100, 10, 1000 + 8 * i
FROM pg_catalog.generate_series(1, 30) AS i;
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens, output_tokens,
                              estimated_input_tokens)
SELECT 'cal-outlier-' || i, '2026-03-01 00:00+00', 'claude-sonnet-4-5', 10000, 10, 1000
FROM pg_catalog.generate_series(1, 3) AS i;
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens, output_tokens,
                              estimated_input_tokens)
SELECT 'cal-opus-' || i, '2026-03-01 00:00+00', 'claude-opus-4-7', 1300, 10, 1000
FROM pg_catalog.generate_series(1, 5) AS i;
-- A row without an estimate is ignored.
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens, output_tokens)
VALUES ('cal-no-estimate', '2026-03-01 00:00+00', 'claude-sonnet-4-5', 999, 1);

SELECT * FROM claudecost.calibrate() ORDER BY family COLLATE "C";

-- The fitted factor is 1.10 * 1.25 and is now used for the family.
SELECT family, factor, sample_count, uncertainty, fitted_at IS NOT NULL AS fitted, shipped, source
FROM claudecost.token_calibration
WHERE NOT shipped
ORDER BY family COLLATE "C";
SELECT (claudecost.token_calibration_for('claude-sonnet-4-5')).factor AS sonnet_factor,
       claudecost.estimate_tokens(input, 'claude-sonnet-4-5')
           = ceil(claudecost.token_count(input, 'claude_legacy') * 1.375) AS uses_new_factor
FROM prompt WHERE label = 'english';

-- Each call is recorded.
SELECT family, model_pattern, samples, outliers, observed_ratio, old_factor, new_factor, applied, reason
FROM claudecost.token_calibration_run
ORDER BY family COLLATE "C";

-- Rows estimated before the fit are not used again; a pattern limits the rows.
SELECT * FROM claudecost.calibrate();
SELECT * FROM claudecost.calibrate('opus', 5);
SELECT family, factor FROM claudecost.token_calibration WHERE NOT shipped ORDER BY family COLLATE "C";
