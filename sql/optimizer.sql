-- Prompt optimizer: result shape, measured savings, idempotence, rules table,
-- rule validation, cache invalidation, markers, batch form.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Prompts covering every rule type, several edits per line and per prompt.
CREATE TEMP TABLE prompt (name text PRIMARY KEY, body text NOT NULL);
INSERT INTO prompt VALUES
    ('fillers', 'Please make sure you just   use tabs. In order to do this, basically read the configuration first.'),
    ('repeated', E'Always use tabs for indentation. Keep functions short.\nAlways use tabs for indentation.\nWrite tests for every change you make to the code.\n\n\n\nWrite tests for every change you make to the code.'),
    ('verbose', E'Due to the fact that the build is slow, it is important to note that we will, at this point in time, run tests in the event that a large number of files change.   \nYou should always reply in English.\nI would like you to summarize the report as soon as possible.'),
    ('json', E'Use this config:\n{\n    "name": "demo",\n    "tags": [\n        "a",\n        "b"\n    ],\n    "nested": {"deep": true, "n": 1.5e3}\n}\nThen stop.'),
    ('mixed', E'  Your task is to review the pull request. Really, very carefully.\n\n```sh\nmake   check\n```\nRemember to run `make  check` and whether or not it passes, report on a daily basis.'),
    ('capitals', E'JUST DO IT. In Order To win, Basically try. Please Note that it works.'),
    ('nothing', 'Summarize the attached report in three bullet points.'),
    ('empty', '');

-- Shape of one result.
SELECT jsonb_pretty(claudecost.optimize_prompt(body)) FROM prompt WHERE name = 'fillers';

-- Every suggestion of every prompt, in the order the edits were applied.
SELECT p.name, s.ordinality, s.suggestion->>'suggestion_type' AS type,
       s.suggestion->>'impact' AS impact, s.suggestion->>'original_segment' AS original,
       s.suggestion->>'suggested_segment' AS suggested,
       (s.suggestion->>'token_savings')::int AS saved, (s.suggestion->>'occurrences')::int AS n
FROM prompt p,
     jsonb_array_elements(claudecost.optimize_prompt(p.body)->'optimization_suggestions')
         WITH ORDINALITY AS s(suggestion, ordinality)
ORDER BY p.name COLLATE "C", s.ordinality;

-- Optimized texts.
SELECT name, claudecost.optimize_prompt(body)->>'optimized_text' AS optimized_text,
       claudecost.optimize_prompt(body)->'savings_percentage' AS savings_percentage
FROM prompt ORDER BY name COLLATE "C";

-- Savings are measured with the tokenizer: the token counts are those of
-- token_count, every listed saving is positive, and the savings add up to
-- the difference exactly.
CREATE TEMP TABLE result AS
    SELECT p.name, e.encoding, claudecost.optimize_prompt(p.body, e.encoding) AS r
    FROM prompt p,
         unnest(ARRAY['cl100k_base', 'o200k_base', 'claude_legacy']) AS e(encoding);
SELECT name, encoding,
       (r->>'estimated_tokens')::int AS estimated,
       (r->>'optimized_tokens')::int AS optimized,
       (r->>'estimated_tokens')::int = claudecost.token_count(r->>'text', encoding)
           AS estimated_is_count,
       (r->>'optimized_tokens')::int = claudecost.token_count(r->>'optimized_text', encoding)
           AS optimized_is_count,
       coalesce((SELECT sum((s->>'token_savings')::int)
                 FROM jsonb_array_elements(r->'optimization_suggestions') s), 0)
           = (r->>'estimated_tokens')::int - (r->>'optimized_tokens')::int AS savings_add_up,
       (SELECT coalesce(bool_and((s->>'token_savings')::int > 0), true)
        FROM jsonb_array_elements(r->'optimization_suggestions') s) AS all_positive
FROM result ORDER BY name COLLATE "C", encoding COLLATE "C";

-- A single edit's saving is the token difference of the two texts.
SELECT r->'optimization_suggestions'->0->>'token_savings' AS saving,
       claudecost.token_count('Read the file in order to start.')
           - claudecost.token_count('Read the file to start.') AS difference
FROM (SELECT claudecost.optimize_prompt('Read the file in order to start.') AS r) x;

-- An intensifier after a negation changes the meaning, so it stays.
SELECT claudecost.optimize_prompt(
    'Test not just the code but the docs. I don''t really like it. It is never really done. It is NOT very good. It is very good.')->>'optimized_text'
    AS negations_kept;

-- An edit that saves nothing is neither applied nor listed: "for example"
-- and "e.g." cost the same here.
SELECT claudecost.optimize_prompt('Name a fruit, for example an apple.') AS no_saving;

-- Idempotent: optimizing the optimized text changes nothing.
SELECT name, encoding,
       claudecost.optimize_prompt(r->>'optimized_text', encoding)->>'optimized_text'
           = r->>'optimized_text' AS same_text,
       jsonb_array_length(claudecost.optimize_prompt(r->>'optimized_text', encoding)
                          ->'optimization_suggestions') AS suggestions
FROM result ORDER BY name COLLATE "C", encoding COLLATE "C";

-- Measuring every edit on the whole prompt gives the same results.
SET claudecost.optimizer_measure_whole_text = on;
SELECT name, encoding, claudecost.optimize_prompt(p.body, encoding) = r AS same_result
FROM result JOIN prompt p USING (name)
ORDER BY name COLLATE "C", encoding COLLATE "C";
RESET claudecost.optimizer_measure_whole_text;

-- Errors.
SELECT claudecost.optimize_prompt('x', 'gpt2');
SELECT claudecost.optimize_prompt(NULL) IS NULL AS null_prompt;

-- An invalid pattern is rejected on insert with PCRE2's message and offset.
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, description)
VALUES ('simplify_phrasing', '(?i)\bin (order to', 'to', 'broken');
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, description)
VALUES ('simplify_phrasing', 'a[b', 'c', 'broken class');
UPDATE claudecost.optimizer_rule SET pattern = '\bprior to(' WHERE description LIKE 'Shorten "prior to"%';
-- Group references in the replacement must exist.
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, description)
VALUES ('simplify_phrasing', '(a)(b)', '$3', 'missing group');
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, description)
VALUES ('simplify_phrasing', '(?<word>a)', '${other}', 'missing name');
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, description)
VALUES ('simplify_phrasing', 'a', 'cost $x', 'bare dollar');
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, description)
VALUES ('simplify_phrasing', 'a', '${1', 'unclosed brace');
-- The SQLSTATEs of these errors.
DO $$
BEGIN
    INSERT INTO claudecost.optimizer_rule (rule_type, pattern, description)
    VALUES ('remove_filler', 'a(', 'broken');
EXCEPTION WHEN invalid_regular_expression THEN
    RAISE NOTICE 'pattern: SQLSTATE %', SQLSTATE;
END
$$;
DO $$
BEGIN
    INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, description)
    VALUES ('remove_filler', 'a', '$1', 'missing group');
EXCEPTION WHEN invalid_regular_expression THEN
    RAISE NOTICE 'replacement: SQLSTATE %', SQLSTATE;
END
$$;
DO $$
BEGIN
    PERFORM claudecost.optimize_prompt('x', 'gpt2');
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'encoding: SQLSTATE %', SQLSTATE;
END
$$;
-- Only the built-in rule types may omit the pattern.
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, description)
VALUES ('remove_filler', NULL, 'no pattern');
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, description)
VALUES ('shorten', 'x', 'unknown type');
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, impact, description)
VALUES ('remove_filler', 'x', 'huge', 'unknown impact');
INSERT INTO claudecost.optimizer_marker (open_marker, close_marker) VALUES ('', 'x');

-- A rule change is seen at once: the first call caches the rules, the
-- insert, update and delete each invalidate the cache.
SELECT claudecost.optimize_prompt('Utilize the hammer.')->>'optimized_text' AS before_insert;
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, impact, description)
VALUES ('simplify_phrasing', '(?i)\butilize\b', 'use', 'medium', 'Shorten "utilize" to "use"');
SELECT claudecost.optimize_prompt('Utilize the hammer.')->>'optimized_text' AS after_insert;
SELECT claudecost.optimize_prompt('Utilize the hammer.')->'optimization_suggestions'->0 AS custom_rule;
UPDATE claudecost.optimizer_rule SET enabled = false WHERE pattern = '(?i)\butilize\b';
SELECT claudecost.optimize_prompt('Utilize the hammer.')->>'optimized_text' AS after_disable;
UPDATE claudecost.optimizer_rule SET enabled = true, replacement = 'employ'
WHERE pattern = '(?i)\butilize\b';
SELECT claudecost.optimize_prompt('Utilize the hammer.')->>'optimized_text' AS after_update;
DELETE FROM claudecost.optimizer_rule WHERE pattern = '(?i)\butilize\b';
SELECT claudecost.optimize_prompt('Utilize the hammer.')->>'optimized_text' AS after_delete;
-- A rolled-back change is forgotten.
BEGIN;
INSERT INTO claudecost.optimizer_rule (rule_type, pattern, replacement, description)
VALUES ('simplify_phrasing', '(?i)\butilize\b', 'use', 'temporary');
SELECT claudecost.optimize_prompt('Utilize the hammer.')->>'optimized_text' AS inside_transaction;
ROLLBACK;
SELECT claudecost.optimize_prompt('Utilize the hammer.')->>'optimized_text' AS after_rollback;
-- Disabling a built-in stops it.
UPDATE claudecost.optimizer_rule SET enabled = false WHERE rule_type = 'token_efficient_format';
SELECT claudecost.optimize_prompt(E'Data:\n{\n  "a": 1\n}\n')->>'optimized_text' AS json_kept;
UPDATE claudecost.optimizer_rule SET enabled = true WHERE rule_type = 'token_efficient_format';
SELECT claudecost.optimize_prompt(E'Data:\n{\n  "a": 1\n}\n')->>'optimized_text' AS json_compacted;

-- User-configured markers protect what is between them, and are seen at once.
SELECT claudecost.optimize_prompt('Really do it. [[keep]]Really do it.[[/keep]]')->>'optimized_text'
    AS without_marker;
INSERT INTO claudecost.optimizer_marker (open_marker, close_marker, description)
VALUES ('[[keep]]', '[[/keep]]', 'test marker');
SELECT claudecost.optimize_prompt('Really do it. [[keep]]Really do it.[[/keep]]')->>'optimized_text'
    AS with_marker;
SELECT claudecost.optimize_prompt(E'<!-- no-optimize -->\nIn order to   win.\n<!-- /no-optimize -->\nIn order to win.')->>'optimized_text'
    AS shipped_marker;

-- Batch form, and the function over a table of prompts.
SELECT ordinality, result->>'optimized_text' AS optimized_text,
       (result->>'estimated_tokens')::int - (result->>'optimized_tokens')::int AS saved
FROM claudecost.optimize_prompts(ARRAY['In order to go, go.', NULL, 'Just   wait.'])
ORDER BY ordinality;
SELECT count(*) AS prompts, sum((r->>'estimated_tokens')::int - (r->>'optimized_tokens')::int) AS saved
FROM (SELECT claudecost.optimize_prompt(body) AS r FROM prompt) x;
SELECT sum((o.result->>'estimated_tokens')::int) = sum((r.r->>'estimated_tokens')::int) AS batch_matches_single
FROM claudecost.optimize_prompts(ARRAY(SELECT body FROM prompt ORDER BY name)) o
JOIN (SELECT row_number() OVER (ORDER BY name) AS n, claudecost.optimize_prompt(body) AS r FROM prompt) r
  ON r.n = o.ordinality;
