-- Budget definitions, calendar periods, scopes and budget_check decisions.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never

-- Test prices: regress-model costs 1 USD per MTok (1 token = 0.000001 USD),
-- regress-cent 0.01 USD per MTok (1 token = 0.00000001 USD).
INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('regress-model', 1, 1, '2000-01-01'), ('regress-cent', 0.01, 0.01, '2000-01-01');

-- Records one usage row of cost USD (regress-model) and returns its cost.
CREATE FUNCTION pg_temp.spend(cost numeric, at timestamptz, project text DEFAULT NULL, usr text DEFAULT NULL,
                              mdl text DEFAULT 'regress-model', tag_list text[] DEFAULT NULL)
RETURNS numeric LANGUAGE sql AS $$
INSERT INTO claudecost.usage (occurred_at, model, project_id, user_id, tags, input_tokens)
VALUES (at, mdl, project, usr, tag_list, (cost * 1000000)::bigint)
RETURNING total_cost
$$;

--
-- Invalid definitions
--
SELECT claudecost.create_budget('bad', 0, 'daily');
SELECT claudecost.create_budget('bad', 10, 'fortnightly');
SELECT claudecost.create_budget('bad', 10, 'daily', time_zone => 'Mars/Olympus');
SELECT claudecost.create_budget('bad', 10, 'daily', warn_at => '{0.5,1}');
SELECT claudecost.create_budget('bad', 10, 'daily', warn_at => '{0}');
SELECT claudecost.create_budget('bad', 10, 'daily', currency => 'EUR');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT claudecost.create_budget('bad', 10, 'custom');
SELECT claudecost.create_budget('bad', 10, 'custom', period_length => '1 month');
SELECT claudecost.create_budget('bad', 10, 'rolling', period_length => '90 minutes');
SELECT claudecost.create_budget('bad', 10, 'monthly', period_length => '1 day');
SELECT claudecost.create_budget('', 10, 'daily');
SELECT claudecost.create_budget('bad', 10, 'daily', starts_at => '2026-02-01', ends_at => '2026-01-01');
SELECT count(*) AS budgets FROM claudecost.budget;

--
-- Currency: EUR works once its rate is stored
--
INSERT INTO claudecost.exchange_rate (currency, usd_per_unit) VALUES ('EUR', 1.25);
SELECT claudecost.create_budget('euro', 8, 'annual', currency => 'EUR', project_id => 'eu',
                                starts_at => '2026-01-01') AS euro \gset
SELECT pg_temp.spend(5, '2026-06-01', 'eu');
-- 5 USD of 8 EUR = 10 USD: 4 EUR spent, a 4 EUR (5 USD) request fits exactly.
SELECT action, spent, remaining, limit_amount, currency
  FROM claudecost.budget_check(5, project_id => 'eu', as_of => '2026-06-02');
SELECT action, spent, remaining, message
  FROM claudecost.budget_check(5.01, project_id => 'eu', as_of => '2026-06-02');
SELECT claudecost.delete_budget(:euro);
SELECT claudecost.delete_budget(:euro);

--
-- Calendar periods in a non-UTC zone across DST changes
--
SELECT claudecost.create_budget('berlin-daily', 100, 'daily', time_zone => 'Europe/Berlin',
                                starts_at => '2026-01-01') AS berlin \gset
-- Spring forward (2026-03-29) is a 23 hour day, fall back (2026-10-25) a 25 hour day.
SELECT d AS as_of, period_start, period_end, period_end - period_start AS length
  FROM unnest(ARRAY['2026-03-28 12:00', '2026-03-29 12:00', '2026-10-25 12:00']::timestamptz[]) d,
       claudecost.budget_check(0, as_of => d)
 ORDER BY d;
SELECT claudecost.delete_budget(:berlin);

SELECT claudecost.create_budget('ny-monthly', 100, 'monthly', time_zone => 'America/New_York',
                                warn_at => '{}', starts_at => '2026-01-01') AS ny \gset
-- 23:30 local on the last day of a month belongs to that month, also on the
-- month whose first day has the DST change (2026-11-01).
SELECT pg_temp.spend(1, '2026-10-31 23:30 America/New_York');
SELECT pg_temp.spend(2, '2026-11-30 23:30 America/New_York');
-- A spend at exactly the boundary (local midnight) belongs to the next period.
SELECT pg_temp.spend(4, '2026-12-01 00:00 America/New_York');
SELECT period_start AT TIME ZONE 'America/New_York' AS local_start, spent
  FROM claudecost.budget_spend WHERE budget_id = :ny ORDER BY period_start;
SELECT d AT TIME ZONE 'America/New_York' AS local_as_of, spent,
       period_start AT TIME ZONE 'America/New_York' AS local_start,
       period_end AT TIME ZONE 'America/New_York' AS local_end
  FROM unnest(ARRAY['2026-10-31 23:59:59.999999 America/New_York', '2026-11-01 00:00 America/New_York',
                    '2026-11-30 23:59:59.999999 America/New_York', '2026-12-01 00:00 America/New_York']::timestamptz[]) d,
       claudecost.budget_check(0, as_of => d)
 ORDER BY d;
SELECT claudecost.delete_budget(:ny);

-- Half-open daily period in UTC: midnight starts the next day.
SELECT claudecost.create_budget('utc-daily', 100, 'daily', warn_at => '{}', starts_at => '2026-01-01') AS utcd \gset
SELECT pg_temp.spend(3, '2026-05-01 00:00');
SELECT pg_temp.spend(5, '2026-04-30 23:59:59.999999');
SELECT d AS as_of, spent, period_start, period_end
  FROM unnest(ARRAY['2026-04-30 12:00', '2026-05-01 00:00']::timestamptz[]) d,
       claudecost.budget_check(0, as_of => d)
 ORDER BY d;
SELECT claudecost.delete_budget(:utcd);

-- Weekly (ISO, Monday), quarterly, annual, custom and rolling periods.
SELECT claudecost.create_budget('weekly', 100, 'weekly', time_zone => 'Asia/Kolkata', starts_at => '2026-01-01') AS w \gset
SELECT claudecost.create_budget('quarterly', 100, 'quarterly', time_zone => 'Australia/Sydney', starts_at => '2026-01-01') AS q \gset
SELECT claudecost.create_budget('annual', 100, 'annual', starts_at => '2026-01-01') AS a \gset
-- Ten local days from Wednesday 2026-03-25 09:00 Berlin, across the DST change.
SELECT claudecost.create_budget('custom', 100, 'custom', period_length => '10 days', time_zone => 'Europe/Berlin',
                                starts_at => '2026-03-25 09:00 Europe/Berlin') AS c \gset
SELECT claudecost.create_budget('rolling', 100, 'rolling', period_length => '24 hours', starts_at => '2026-01-01') AS r \gset
SELECT b.name, period_start, period_end
  FROM claudecost.budget b,
       claudecost.get_budget_status(b.id, '2026-04-05 08:59:59 Europe/Berlin') s0,
       LATERAL (SELECT (s0 ->> 'period_start')::timestamptz AS period_start,
                       (s0 ->> 'period_end')::timestamptz AS period_end) s
 ORDER BY b.name COLLATE "C";
SELECT (claudecost.get_budget_status(:c, '2026-04-04 09:00 Europe/Berlin') ->> 'period_start')::timestamptz
       AT TIME ZONE 'Europe/Berlin' AS custom_second_period;
-- The rolling window counts whole UTC hours: the current one and the 23 before.
SELECT pg_temp.spend(1, '2026-04-03 09:59');
SELECT pg_temp.spend(2, '2026-04-03 10:00');
SELECT pg_temp.spend(4, '2026-04-04 09:30');
SELECT d AS as_of, (s ->> 'spent_amount')::numeric AS spent, s ->> 'period_start' AS period_start
  FROM unnest(ARRAY['2026-04-04 09:59', '2026-04-04 10:00', '2026-04-05 09:59', '2026-04-05 10:00']::timestamptz[]) d,
       claudecost.get_budget_status(:r, d) s
 ORDER BY d;
SELECT claudecost.delete_budget(id) FROM claudecost.budget ORDER BY id;
DELETE FROM claudecost.usage;

--
-- Scope nesting: every applicable budget binds, the strictest wins
--
SELECT claudecost.create_budget('global', 100, 'monthly', warn_at => '{}', starts_at => '2026-01-01') AS g \gset
SELECT claudecost.create_budget('project p1', 20, 'monthly', project_id => 'p1', warn_at => '{}',
                                starts_at => '2026-01-01') AS p1 \gset
SELECT claudecost.create_budget('alice in p1', 5, 'monthly', project_id => 'p1', user_id => 'alice',
                                warn_at => '{}', starts_at => '2026-01-01') AS alice \gset
SELECT claudecost.create_budget('opus models', 50, 'monthly', model => 'claude-opus-%', warn_at => '{}',
                                starts_at => '2026-01-01') AS opus \gset
SELECT claudecost.create_budget('tag batch', 3, 'monthly', tag => 'batch', warn_at => '{}',
                                starts_at => '2026-01-01') AS batch \gset
SELECT pg_temp.spend(4, '2026-07-02', 'p1', 'alice');
SELECT pg_temp.spend(10, '2026-07-03', 'p1', 'bob');
SELECT pg_temp.spend(2, '2026-07-04', 'p2', 'alice', tag_list => '{batch,nightly}');
SELECT b.name, s.spent FROM claudecost.budget_spend s JOIN claudecost.budget b ON b.id = s.budget_id
 ORDER BY b.name COLLATE "C";
-- alice in p1: her own budget has 1 left, p1 has 6, global 84.
SELECT action, budget_name, spent, remaining FROM claudecost.budget_check(1, 'alice', 'p1', as_of => '2026-07-10');
SELECT action, budget_name, spent, remaining FROM claudecost.budget_check(2, 'alice', 'p1', as_of => '2026-07-10');
-- bob in p1: only p1 and global apply.
SELECT action, budget_name, remaining FROM claudecost.budget_check(6, 'bob', 'p1', as_of => '2026-07-10');
SELECT action, budget_name, remaining FROM claudecost.budget_check(7, 'bob', 'p1', as_of => '2026-07-10');
-- alice outside p1 is not under "alice in p1".
SELECT action, budget_name, remaining FROM claudecost.budget_check(7, 'alice', 'p2', as_of => '2026-07-10');
-- A tagged request: the tag budget has 1 left.
SELECT action, budget_name, remaining
  FROM claudecost.budget_check(1.5, 'carol', 'p3', tags => '{nightly,batch}', as_of => '2026-07-10');
-- Model patterns: an opus request counts against the opus budget too.
SELECT action, budget_name, remaining
  FROM claudecost.budget_check(60, model => 'claude-opus-4-1', as_of => '2026-07-10');
SELECT action, budget_name, remaining
  FROM claudecost.budget_check(60, model => 'claude-sonnet-4-5', as_of => '2026-07-10');
-- Nothing applies before starts_at: no budget binds.
SELECT action, budget_id, message FROM claudecost.budget_check(1000, as_of => '2025-12-31');
-- Disabled budgets do not bind; their counters keep counting.
SELECT claudecost.disable_budget(:alice);
SELECT action, budget_name FROM claudecost.budget_check(2, 'alice', 'p1', as_of => '2026-07-10');
SELECT pg_temp.spend(0.5, '2026-07-05', 'p1', 'alice');
SELECT claudecost.update_budget(:alice, enabled => true);
SELECT action, budget_name, spent, remaining FROM claudecost.budget_check(0.5, 'alice', 'p1', as_of => '2026-07-10');
SELECT action, budget_name, spent, remaining FROM claudecost.budget_check(0.6, 'alice', 'p1', as_of => '2026-07-10');

-- Counters follow UPDATE (a repriced or corrected row) and DELETE.
UPDATE claudecost.usage SET input_tokens = 1000000 WHERE user_id = 'bob';
UPDATE claudecost.usage SET project_id = 'p9' WHERE user_id = 'alice' AND project_id = 'p1' AND input_tokens = 500000;
SELECT b.name, s.spent FROM claudecost.budget_spend s JOIN claudecost.budget b ON b.id = s.budget_id
 ORDER BY b.name COLLATE "C";
DELETE FROM claudecost.usage WHERE tags @> '{batch}';
SELECT b.name, s.spent FROM claudecost.budget_spend s JOIN claudecost.budget b ON b.id = s.budget_id
 ORDER BY b.name COLLATE "C";
-- The counters equal a recount from usage.
SELECT b.name, s.spent, (SELECT coalesce(sum(u.total_cost), 0) FROM claudecost.usage u
                          WHERE claudecost.budget_scope_matches(b.user_id, b.project_id, b.model, b.api_key_id, b.tag,
                                                                u.user_id, u.project_id, u.model, u.api_key_id, u.tags)) AS recount
  FROM claudecost.budget_spend s JOIN claudecost.budget b ON b.id = s.budget_id
 ORDER BY b.name COLLATE "C";
-- A budget created after the spend counts the usage since its starts_at.
SELECT claudecost.create_budget('late p1', 100, 'monthly', project_id => 'p1', starts_at => '2026-07-03') AS late \gset
SELECT spent FROM claudecost.budget_spend WHERE budget_id = :late;
-- Usage from ends_at on does not count, and the budget stops applying;
-- moving ends_at recounts.
SELECT claudecost.create_budget('ending', 10, 'annual', warn_at => '{}', starts_at => '2026-01-01',
                                ends_at => '2026-07-05') AS ending \gset
SELECT spent FROM claudecost.budget_spend WHERE budget_id = :ending;
SELECT action, budget_name FROM claudecost.budget_check(6, as_of => '2026-07-04');
SELECT action, budget_name FROM claudecost.budget_check(6, as_of => '2026-07-05');
SELECT claudecost.update_budget(:ending, ends_at => '2026-07-10');
SELECT spent FROM claudecost.budget_spend WHERE budget_id = :ending;
SELECT claudecost.update_budget(:ending, ends_at => '2025-12-31');
SELECT claudecost.delete_budget(:ending);

-- Soft limit: warns and allows past the limit.
SELECT claudecost.update_budget(:p1, hard_limit => false);
SELECT action, budget_name, remaining, message FROM claudecost.budget_check(50, 'bob', 'p1', as_of => '2026-07-10');
SELECT claudecost.update_budget(:p1, hard_limit => true);
SELECT action, budget_name FROM claudecost.budget_check(50, 'bob', 'p1', as_of => '2026-07-10');

-- update_budget validation.
SELECT claudecost.update_budget(:p1, amount => -1);
SELECT claudecost.update_budget(:p1, warn_at => '{2}');
SELECT claudecost.update_budget(999999, amount => 1);
SELECT claudecost.update_budget(:p1, name => 'global');
SELECT claudecost.update_budget(:p1, currency => 'JPY');
SELECT claudecost.delete_budget(id) FROM claudecost.budget ORDER BY id;
DELETE FROM claudecost.usage;

--
-- Unknown model and the exact edge of the limit
--
SELECT claudecost.create_budget('edge', 1, 'daily', warn_at => '{}', starts_at => '2026-01-01') AS edge \gset
SELECT pg_temp.spend(0.99, '2026-08-01 10:00');
-- Exactly the limit is allowed; one hundred-millionth of a dollar more blocks.
SELECT action, remaining, message FROM claudecost.budget_check(0.01, as_of => '2026-08-01 12:00');
SELECT action, remaining, message FROM claudecost.budget_check(0.01000001, as_of => '2026-08-01 12:00');
-- The same through pricing: 1,000,000 regress-cent tokens cost exactly 0.01.
SELECT action FROM claudecost.budget_check('regress-cent', 1000000, 0, as_of => '2026-08-01 12:00');
SELECT action FROM claudecost.budget_check('regress-cent', 1000000, 1, as_of => '2026-08-01 12:00');
-- Spending exactly the limit leaves 0: a zero estimate passes, one token blocks.
SELECT pg_temp.spend(0.01, '2026-08-01 11:00');
SELECT action, spent, remaining FROM claudecost.budget_check('regress-cent', 0, 0, as_of => '2026-08-01 12:00');
SELECT action, spent, remaining FROM claudecost.budget_check('regress-cent', 1, 0, as_of => '2026-08-01 12:00');
SELECT (claudecost.get_budget_status(:edge, '2026-08-01 12:00') ->> 'is_exceeded')::boolean AS exceeded_at_limit;

-- A model with no price fails closed, even with no budget in scope.
SELECT action, budget_name, message FROM claudecost.budget_check('regress-unpriced', 10, 10, as_of => '2026-08-01 12:00');
SELECT action, budget_name, message FROM claudecost.budget_check(NULL::numeric, as_of => '2026-08-01 12:00');
SELECT action, budget_name, message FROM claudecost.budget_check('regress-unpriced', 10, 10, as_of => '2025-01-01');
SET claudecost.budget_allow_unpriced = on;
SELECT action, budget_name, message FROM claudecost.budget_check('regress-unpriced', 10, 10, as_of => '2026-08-01 12:00');
RESET claudecost.budget_allow_unpriced;
SELECT action FROM claudecost.budget_check('regress-unpriced', 10, 10, as_of => '2026-08-01 12:00');
SELECT claudecost.budget_check(-1);
SELECT claudecost.budget_check(1, as_of => NULL);

-- Amounts, rates and estimates must be finite: NaN would compare as larger
-- than every limit and Infinity as never reached.
SELECT claudecost.create_budget('nan', 'NaN', 'monthly');
SELECT claudecost.create_budget('infinite', 'Infinity', 'monthly');
SELECT claudecost.update_budget(:edge, amount => 'NaN');
SELECT claudecost.update_budget(:edge, name => '');
\set VERBOSITY terse
INSERT INTO claudecost.exchange_rate (currency, usd_per_unit) VALUES ('XNN', 'NaN');
INSERT INTO claudecost.exchange_rate (currency, usd_per_unit) VALUES ('XIN', 'Infinity');
INSERT INTO claudecost.budget (name, amount, period, starts_at) VALUES ('direct nan', 'NaN', 'monthly', '2026-01-01');
\set VERBOSITY default
SELECT claudecost.budget_check('NaN'::numeric);
SELECT claudecost.budget_check('Infinity'::numeric);
SELECT claudecost.budget_reserve(estimated_cost => 'NaN');
SELECT claudecost.budget_reserve(estimated_cost => 'Infinity');
SELECT claudecost.get_budget_status(:edge, NULL);

-- A model pattern ending with the LIKE escape character would make every
-- usage row fail to match it, so it is refused, and the usage table still
-- takes rows.
SELECT claudecost.create_budget('bad pattern', 10, 'monthly', model => E'claude-%\\');
\set VERBOSITY terse
INSERT INTO claudecost.budget (name, amount, period, model, starts_at) VALUES ('direct bad pattern', 10, 'monthly', E'claude-\\\\\\', '2026-01-01');
\set VERBOSITY default
SELECT claudecost.create_budget('escaped backslash', 10, 'monthly', model => E'claude-%\\\\', starts_at => '2026-01-01') > 0 AS created;
INSERT INTO claudecost.usage (occurred_at, model, input_tokens) VALUES ('2026-08-02', 'claude-sonnet-4-5', 10);
SELECT count(*) FROM claudecost.usage WHERE occurred_at = '2026-08-02';

-- A custom or rolling length is whole minutes, at least one, with no
-- negative part: each period gets its own counter row.
SELECT claudecost.create_budget('one second', 10, 'custom', period_length => '1 second');
SELECT claudecost.create_budget('microsecond', 10, 'custom', period_length => '1 microsecond');
SELECT claudecost.create_budget('ninety seconds', 10, 'custom', period_length => '90 seconds');
SELECT claudecost.create_budget('mixed signs', 10, 'custom', period_length => '1 day -1 hour');
SELECT claudecost.create_budget('negative day', 10, 'custom', period_length => '-1 day 30 hours');
SELECT claudecost.create_budget('two minutes', 10, 'custom', period_length => '120 seconds', starts_at => '2026-01-01') > 0 AS created;
SELECT claudecost.create_budget('thirty-six hours', 10, 'custom', period_length => '36 hours', starts_at => '2026-01-01') > 0 AS created;
