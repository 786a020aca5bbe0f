-- Prompt optimizer: recorded savings and the savings view.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Recording returns the optimization with the id of the stored row.
SELECT r->'optimization_id' AS optimization_id, r->'estimated_tokens' AS estimated,
       r->'optimized_tokens' AS optimized, r->>'optimized_text' AS optimized_text
FROM claudecost.record_prompt_optimization(
    'Please make sure you just   use tabs in order to indent.',
    'claude-sonnet-4-5-20250929', 'alice', 'web') AS r;

SELECT claudecost.record_prompt_optimization(body, model, user_id, project_id) IS NOT NULL AS recorded
FROM (VALUES
    ('In order to win, basically try.', 'claude-sonnet-4-5', 'bob', 'web'),
    ('Due to the fact that it rains, stay in.', 'claude-opus-4-1-20250805', 'alice', 'web'),
    ('Due to the fact that it rains, stay in.', 'claude-opus-4-1-20250805', 'carol', 'batch'),
    ('Nothing to shorten here.', 'claude-opus-4-1-20250805', 'carol', 'batch'),
    ('Just   do it.', 'my-private-model', 'dave', NULL),
    (E'Data:\n{\n  "a": [1, 2]\n}', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'erin', 'batch')
) AS p(body, model, user_id, project_id)
ORDER BY body COLLATE "C", model COLLATE "C", user_id COLLATE "C";

-- Stored rows: counts only, with the prompt's SHA-256.
SELECT user_id, project_id, model, encoding, original_tokens, optimized_tokens, tokens_saved,
       suggestion_count, length(prompt_hash) AS hash_length
FROM claudecost.prompt_optimization
ORDER BY id;

-- The stored counts are those optimize_prompt returns.
SELECT prompt_hash = encode(sha256(convert_to('Nothing to shorten here.', 'UTF8')), 'hex') AS hash_matches,
       original_tokens = claudecost.token_count('Nothing to shorten here.') AS count_matches,
       tokens_saved = 0 AS nothing_saved
FROM claudecost.prompt_optimization WHERE user_id = 'carol' AND suggestion_count = 0;

-- Tokens and dollars saved by project and model.  Dollars are the input
-- price of the model (USD per MTok) times the tokens saved.  An unpriced
-- model has NULL dollars, and an alias or gateway name is priced as its model.
SELECT project_id, model, prompts, original_tokens, optimized_tokens, tokens_saved, usd_saved
FROM claudecost.prompt_optimization_savings
ORDER BY project_id COLLATE "C" NULLS LAST, model COLLATE "C";

SELECT s.model, s.usd_saved = s.tokens_saved * p.input_per_mtok / 1000000 AS at_input_price
FROM claudecost.prompt_optimization_savings s
JOIN claudecost.price p ON p.model = 'claude-opus-4-1-20250805' AND p.speed = 'standard'
                       AND p.effective_to IS NULL
WHERE s.model = 'claude-opus-4-1-20250805'
ORDER BY s.project_id COLLATE "C";

-- Errors: the model is required; a NULL prompt records nothing.
SELECT claudecost.record_prompt_optimization('Just do it.', NULL);
SELECT claudecost.record_prompt_optimization(NULL, 'claude-sonnet-4-5') IS NULL AS null_prompt;
SELECT claudecost.record_prompt_optimization('Just do it.', 'claude-sonnet-4-5', encoding => 'gpt2');
SELECT count(*) AS rows_stored FROM claudecost.prompt_optimization;
