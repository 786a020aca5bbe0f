-- claudecost.verify(): every rollup, budget counter and hold agrees with the
-- raw usage rows, and each kind of damage is reported by its own check.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never

-- Checks that fail; an empty result means every check is ok.
CREATE VIEW pg_temp.failing AS
SELECT check_name, expected, actual FROM claudecost.verify() WHERE NOT ok;

-- An empty ledger is consistent.
SELECT * FROM claudecost.verify();

-- Budgets of every period kind, one scoped by project, one by model, one
-- rolling, one disabled, one in another time zone.
SELECT claudecost.create_budget('global', 1000, 'monthly', starts_at => '2026-01-01') IS NOT NULL AS created;
SELECT claudecost.create_budget('web', 50, 'daily', project_id => 'web', time_zone => 'Europe/Berlin',
                                starts_at => '2026-01-01') IS NOT NULL AS created;
SELECT claudecost.create_budget('opus', 200, 'weekly', model => 'claude-opus-%',
                                starts_at => '2026-01-01') IS NOT NULL AS created;
SELECT claudecost.create_budget('rolling', 20, 'rolling', period_length => '6 hours', user_id => 'user1',
                                starts_at => '2026-01-01') IS NOT NULL AS created;
SELECT claudecost.create_budget('off', 5, 'annual', tag => 'batch', hard_limit => false,
                                starts_at => '2026-01-01') IS NOT NULL AS created;
SELECT claudecost.disable_budget(id) FROM claudecost.budget WHERE name = 'off';

-- Rows over several days: repeated prompts, long-context requests just over
-- the threshold, tags, an unknown model (unpriced) and several tiers.
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, tags, service_tier,
                              input_tokens, output_tokens, cache_write_5m_tokens, cache_read_tokens,
                              prompt_hash)
SELECT 'v' || g,
       timestamptz '2026-03-01 00:00+00' + g * interval '53 minutes',
       (ARRAY['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-6', 'claude-nova-9'])[1 + g % 4],
       'user' || g % 3, (ARRAY['web', 'api', NULL])[1 + g % 3],
       CASE WHEN g % 4 = 0 THEN ARRAY['batch'] END,
       (ARRAY['standard', 'batch'])[1 + g % 2],
       CASE WHEN g % 8 = 0 THEN 205000 ELSE 1000 + g END, 50 * g, g % 7 * 100, g % 5 * 1000,
       'prompt' || g % 6
FROM generate_series(1, 300) AS g;

-- Reservations: one settled by a usage row, one released, one still held.
SELECT claudecost.budget_reserve(project_id => 'web', estimated_cost => 0.5) AS settled_id \gset
SELECT claudecost.budget_reserve(project_id => 'web', estimated_cost => 0.25) AS released_id \gset
SELECT claudecost.budget_reserve(project_id => 'api', estimated_cost => 0.125) AS held_id \gset
INSERT INTO claudecost.usage (request_id, model, project_id, input_tokens, reservation_id)
VALUES ('v-reserved', 'claude-haiku-4-5', 'web', 4000, :settled_id);
SELECT claudecost.budget_release(:released_id);
SELECT status, count(*) FROM claudecost.budget_reservation GROUP BY status ORDER BY status COLLATE "C";

-- Updates, deletes and a reprice move figures between keys.
UPDATE claudecost.usage SET project_id = 'web', occurred_at = occurred_at + interval '2 hours'
WHERE request_id LIKE 'v1%';
DELETE FROM claudecost.usage WHERE request_id LIKE 'v2_';
SELECT claudecost.add_price('claude-nova-9', input_per_mtok => 2, output_per_mtok => 8,
                            effective_from => '2026-01-01') IS NOT NULL AS priced;
SELECT claudecost.reprice() > 0 AS repriced;

-- The data set covers what each check reads.
SELECT (SELECT count(*) FROM claudecost.usage) AS usage_rows,
       (SELECT count(*) FROM claudecost.usage_analytics_long_context WHERE requests > 0) AS long_context_keys,
       (SELECT count(*) FROM claudecost.usage_analytics_prompt_day WHERE prompt_days > 0) AS repeated_prompt_days,
       (SELECT count(DISTINCT budget_id) FROM claudecost.budget_spend WHERE spent > 0) AS budgets_with_spend,
       (SELECT count(*) FROM claudecost.budget_hold) AS holds;
SELECT * FROM claudecost.verify();

-- budget_recount() writes the counters verify_budget_spend() recounts.
SELECT count(claudecost.budget_recount(id)) AS recounted FROM claudecost.budget;
SELECT * FROM pg_temp.failing;

-- Each kind of damage, rolled back after its check.
BEGIN;
UPDATE claudecost.usage_hourly SET requests = requests + 1
WHERE hour = (SELECT min(hour) FROM claudecost.usage_hourly);
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
UPDATE claudecost.usage_hourly SET total_cost = total_cost + 0.000001
WHERE hour = (SELECT max(hour) FROM claudecost.usage_hourly);
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
DELETE FROM claudecost.usage_analytics_daily WHERE day = '2026-03-02';
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
UPDATE claudecost.usage_analytics_prompt SET requests = requests + 1 WHERE day = '2026-03-03';
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
UPDATE claudecost.usage_analytics_prompt_day SET repeats = repeats + 1 WHERE day = '2026-03-04';
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
UPDATE claudecost.usage_analytics_long_context SET base_cost = base_cost * 2;
SELECT * FROM pg_temp.failing;
ROLLBACK;

-- A counter that is too high, and a counter that is missing.
BEGIN;
UPDATE claudecost.budget_spend SET spent = spent + 1
WHERE budget_id = (SELECT id FROM claudecost.budget WHERE name = 'global');
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
DELETE FROM claudecost.budget_spend
WHERE budget_id = (SELECT id FROM claudecost.budget WHERE name = 'rolling');
SELECT check_name FROM pg_temp.failing;
ROLLBACK;

-- The disabled budget keeps counting, so its counter is checked too.
BEGIN;
UPDATE claudecost.budget_spend SET spent = 0
WHERE budget_id = (SELECT id FROM claudecost.budget WHERE name = 'off');
SELECT check_name FROM pg_temp.failing;
ROLLBACK;

-- Holds: one left behind by a settled reservation, one whose amount differs
-- from its reservation, a usage row whose reservation was never settled.
BEGIN;
INSERT INTO claudecost.budget_hold (budget_id, reservation_id, amount, expires_at)
SELECT b.id, r.id, r.estimated_cost, r.expires_at
FROM claudecost.budget b, claudecost.budget_reservation r
WHERE b.name = 'global' AND r.id = :settled_id;
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
UPDATE claudecost.budget_hold SET amount = amount + 1 WHERE reservation_id = :held_id;
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
UPDATE claudecost.budget_reservation SET status = 'held', closed_at = NULL WHERE id = :settled_id;
SELECT * FROM pg_temp.failing;
ROLLBACK;

BEGIN;
DELETE FROM claudecost.budget_lock WHERE budget_id = (SELECT id FROM claudecost.budget WHERE name = 'web');
SELECT * FROM pg_temp.failing;
ROLLBACK;

-- A raw row changed behind the triggers' back shows in every rollup it feeds.
BEGIN;
ALTER TABLE claudecost.usage DISABLE TRIGGER USER;
UPDATE claudecost.usage SET input_tokens = input_tokens + 1, total_cost = total_cost + 1
WHERE request_id = 'v-reserved';
ALTER TABLE claudecost.usage ENABLE TRIGGER USER;
SELECT check_name FROM pg_temp.failing;
ROLLBACK;

-- TRUNCATE empties the ledger, every rollup and every counter together.
TRUNCATE claudecost.usage;
SELECT * FROM pg_temp.failing;
