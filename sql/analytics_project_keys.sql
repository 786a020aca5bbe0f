-- The prompt and long-context rollups are keyed by project ('' for none):
-- a prompt counts as repeated within one project, and the reports sum the
-- rows of all projects.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- One prompt sent twice by project A, once by B and once without project,
-- on one day; two long-context requests of A and B in one hour.
INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens, output_tokens,
                              prompt_hash)
VALUES ('a1', '2026-03-02 10:00', 'claude-sonnet-4-5', 'A', 5000, 100, 'shared'),
       ('a2', '2026-03-02 10:20', 'claude-sonnet-4-5', 'A', 5000, 100, 'shared'),
       ('b1', '2026-03-02 11:00', 'claude-sonnet-4-5', 'B', 5000, 100, 'shared'),
       ('n1', '2026-03-02 12:00', 'claude-sonnet-4-5', NULL, 5000, 100, 'shared'),
       ('la', '2026-03-02 13:05', 'claude-sonnet-4-5', 'A', 205000, 100, NULL),
       ('lb', '2026-03-02 13:10', 'claude-sonnet-4-5', 'B', 210000, 100, NULL);

SELECT project_id, day, prompt_hash, model, requests
FROM claudecost.usage_analytics_prompt
ORDER BY project_id COLLATE "C";
SELECT project_id, day, model, prompt_days, repeats
FROM claudecost.usage_analytics_prompt_day
WHERE prompt_days <> 0
ORDER BY project_id COLLATE "C";
SELECT project_id, hour, model, long_context_threshold, requests
FROM claudecost.usage_analytics_long_context
ORDER BY project_id COLLATE "C";

-- The report counts one repeat (A's), not three, and both long-context
-- requests.
SELECT o->>'type' AS type, o->>'description' AS description
FROM jsonb_array_elements(claudecost.usage_opportunities('2026-03-01', '2026-04-01')) o
WHERE o->>'type' IN ('repeated_prompts', 'long_context_threshold')
ORDER BY o->>'type' COLLATE "C";

SELECT count(*) AS analytics_differences FROM claudecost.verify_analytics_rollups();
SELECT count(*) AS long_context_differences FROM claudecost.verify_long_context_rollup();

-- Moving rows between projects moves their figures between keys.
UPDATE claudecost.usage SET project_id = 'A' WHERE request_id IN ('b1', 'n1');
UPDATE claudecost.usage SET project_id = 'A' WHERE request_id = 'lb';
SELECT project_id, requests FROM claudecost.usage_analytics_prompt WHERE requests <> 0
ORDER BY project_id COLLATE "C";
SELECT project_id, prompt_days, repeats FROM claudecost.usage_analytics_prompt_day WHERE prompt_days <> 0
ORDER BY project_id COLLATE "C";
SELECT project_id, requests FROM claudecost.usage_analytics_long_context WHERE requests <> 0
ORDER BY project_id COLLATE "C";
SELECT count(*) AS analytics_differences FROM claudecost.verify_analytics_rollups();
SELECT count(*) AS long_context_differences FROM claudecost.verify_long_context_rollup();

-- A corrupted project key is reported with its project.
UPDATE claudecost.usage_analytics_prompt SET requests = requests + 1 WHERE project_id = 'A';
SELECT rollup, key FROM claudecost.verify_analytics_rollups() ORDER BY rollup COLLATE "C", key COLLATE "C";
