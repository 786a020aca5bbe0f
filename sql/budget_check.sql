-- budget_check (C) against the SQL definitions it replaces: periods in
-- several time zones around DST changes and calendar boundaries, spend
-- windows of rolling budgets, currencies, the binding order, and reloads of
-- the cached definitions after changes in the same session.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never

INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('regress-model', 1, 1, '2000-01-01');
INSERT INTO claudecost.exchange_rate (currency, usd_per_unit) VALUES ('EUR', 1.0823);

-- One budget per zone and period kind, each alone in its project scope.
-- Lord_Howe moves its clocks by 30 minutes; Asuncion has changed its
-- clocks at local midnight.
CREATE TEMP TABLE zones (zone text PRIMARY KEY);
INSERT INTO zones VALUES ('UTC'), ('Europe/Berlin'), ('America/New_York'),
                         ('Australia/Lord_Howe'), ('America/Asuncion');
CREATE TEMP TABLE kinds (period text, period_length interval);
INSERT INTO kinds VALUES ('daily', NULL), ('weekly', NULL), ('monthly', NULL), ('quarterly', NULL),
                         ('annual', NULL), ('custom', '36 hours'), ('custom', '1 day 30 minutes'),
                         ('rolling', '7 days'), ('rolling', '5 hours');
SELECT count(claudecost.create_budget(
           z.zone || ' ' || k.period || coalesce(' ' || k.period_length::text, ''),
           100, k.period, currency => 'EUR',
           project_id => z.zone || ' ' || k.period || coalesce(' ' || k.period_length::text, ''),
           time_zone => z.zone, period_length => k.period_length,
           starts_at => '2025-12-30 13:45', warn_at => '{0.5}')) AS budgets
  FROM zones z CROSS JOIN kinds k;

-- Spend every 3 hours 10 minutes in every scope through 2026.
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
SELECT t, 'regress-model', b.project_id, 1000 + (extract(epoch FROM t)::bigint / 60) % 977
  FROM claudecost.budget b
 CROSS JOIN generate_series(timestamptz '2025-12-29', '2027-01-02', '3 hours 10 minutes') t;

-- Instants: every 37 minutes in four days around each 2026 DST change of
-- these zones and around the turn of the year, plus every 5 hours 11
-- minutes through the year.
CREATE TEMP TABLE instants (t timestamptz PRIMARY KEY);
INSERT INTO instants
SELECT DISTINCT t FROM (
    SELECT generate_series(c - interval '2 days', c + interval '2 days', '37 minutes') AS t
      FROM unnest(ARRAY[timestamptz '2026-03-08 07:00', '2026-03-29 01:00', '2026-04-05 15:00',
                        '2026-10-04 16:00', '2026-10-25 01:00', '2026-11-01 06:00',
                        '2026-03-22 03:00', '2026-10-04 04:00', '2027-01-01 00:00',
                        '2025-12-31 12:00']) c
    UNION ALL
    SELECT generate_series(timestamptz '2025-12-30 13:45', '2027-01-01', '5 hours 11 minutes')) s;

-- Every check compared with claudecost.budget_state, the SQL that
-- get_budget_status and budget_reserve use: period, spend and holds.
CREATE TEMP TABLE compared AS
SELECT b.name, i.t, d.budget_id AS c_id, d.period_start AS c_start, d.period_end AS c_end,
       d.spent AS c_spent, d.reserved AS c_reserved, d.limit_amount AS c_limit,
       s.budget_id AS s_id, s.period_start AS s_start, s.period_end AS s_end,
       CASE WHEN s.budget_id IS NOT NULL THEN claudecost.budget_from_usd(s.spent_usd, s.currency) END AS s_spent,
       CASE WHEN s.budget_id IS NOT NULL THEN claudecost.budget_from_usd(s.reserved_usd, s.currency) END AS s_reserved,
       s.amount AS s_limit
  FROM claudecost.budget b
 CROSS JOIN instants i
 CROSS JOIN LATERAL claudecost.budget_check(0, project_id => b.project_id, as_of => i.t) d
  LEFT JOIN LATERAL claudecost.budget_state(i.t, NULL, b.project_id, NULL, NULL, NULL) s ON true;

SELECT count(*) AS checks,
       count(*) FILTER (WHERE c_id IS NOT NULL) AS applied,
       count(DISTINCT c_spent) > 1000 AS spend_varies,
       count(*) FILTER (WHERE (c_id, c_start, c_end, c_spent, c_reserved, c_limit)
                              IS DISTINCT FROM (s_id, s_start, s_end, s_spent, s_reserved, s_limit)) AS mismatches
  FROM compared;
-- Any mismatch, for the diff.
SELECT name, t, c_start, s_start, c_end, s_end, c_spent, s_spent
  FROM compared
 WHERE (c_id, c_start, c_end, c_spent, c_reserved, c_limit)
       IS DISTINCT FROM (s_id, s_start, s_end, s_spent, s_reserved, s_limit)
 ORDER BY name COLLATE "C", t
 LIMIT 5;

-- At 'infinity' the periods of calendar and rolling budgets are infinite,
-- as in SQL.
SELECT b.name, d.period_start = s.period_start AS same_start, d.period_end = s.period_end AS same_end,
       d.period_start, d.period_end
  FROM claudecost.budget b
 CROSS JOIN LATERAL claudecost.budget_check(0, project_id => b.project_id, as_of => 'infinity') d
 CROSS JOIN LATERAL claudecost.budget_state('infinity', NULL, b.project_id, NULL, NULL, NULL) s
 WHERE b.time_zone IN ('UTC', 'Europe/Berlin') AND b.period IN ('daily', 'rolling')
 ORDER BY b.name COLLATE "C";

-- Period lengths around the Berlin DST changes: 23 and 25 hour days.
SELECT period_start, period_end, period_end - period_start AS length
  FROM claudecost.budget_check(0, project_id => 'Europe/Berlin daily', as_of => '2026-03-29 12:00');
SELECT period_start, period_end, period_end - period_start AS length
  FROM claudecost.budget_check(0, project_id => 'Europe/Berlin daily', as_of => '2026-10-25 12:00');

--
-- Binding order: every applicable budget of a scope against the SQL order
-- (block, then warn, then least headroom relative to the limit, then id).
--
DELETE FROM claudecost.budget;
SELECT claudecost.create_budget('tie a', 10, 'daily', starts_at => '2026-01-01', warn_at => '{}');
SELECT claudecost.create_budget('tie b', 20, 'daily', starts_at => '2026-01-01', warn_at => '{}');
SELECT claudecost.create_budget('soft', 8, 'daily', starts_at => '2026-01-01', hard_limit => false);
SELECT claudecost.create_budget('eur', 9, 'daily', currency => 'EUR', starts_at => '2026-01-01', warn_at => '{0.9}');
INSERT INTO claudecost.usage (occurred_at, model, input_tokens) VALUES ('2026-05-01 10:00', 'regress-model', 5000000);
CREATE TEMP TABLE estimates (e numeric);
INSERT INTO estimates VALUES (0), (1), (2.5), (3), (3.1), (4.6), (4.74), (4.75), (5), (5.0001), (15), (15.0001);
SELECT e, d.action, d.budget_name, d.spent, d.reserved, d.remaining, d.message
  FROM estimates, LATERAL claudecost.budget_check(e, as_of => '2026-05-01 12:00') d
 ORDER BY e;
-- The same decisions from budget_state in SQL.  The share of the limit
-- left is compared to 40 decimal places: numeric division at its default
-- scale rounds shares that differ after the 20th place to the same value.
SELECT e.e, (SELECT s.budget_name
               FROM claudecost.budget_state('2026-05-01 12:00', NULL, NULL, NULL, NULL, NULL) s
              ORDER BY CASE WHEN s.spent_usd + s.reserved_usd + e.e > s.limit_usd
                            THEN CASE WHEN s.hard_limit THEN 2 ELSE 1 END
                            WHEN cardinality(s.warn_at) > 0
                                 AND s.spent_usd + s.reserved_usd + e.e >= s.warn_at[1] * s.limit_usd THEN 1
                            ELSE 0 END DESC,
                       div((s.limit_usd - s.spent_usd - s.reserved_usd - e.e) * 1e40, s.limit_usd), s.budget_id
              LIMIT 1) AS sql_binding
  FROM estimates e
 ORDER BY e.e;

--
-- The cached definitions follow changes made earlier in the session, and
-- changes rolled back.
--
SELECT action, budget_name, limit_amount FROM claudecost.budget_check(1, as_of => '2026-05-01 12:00');
SELECT claudecost.update_budget(id, amount => 100) FROM claudecost.budget WHERE name = 'tie a';
SELECT action, budget_name, limit_amount FROM claudecost.budget_check(1, as_of => '2026-05-01 12:00');
BEGIN;
SELECT claudecost.disable_budget(id) FROM claudecost.budget WHERE name <> 'eur';
SELECT action, budget_name, limit_amount, currency FROM claudecost.budget_check(1, as_of => '2026-05-01 12:00');
UPDATE claudecost.exchange_rate SET usd_per_unit = 0.5 WHERE currency = 'EUR';
SELECT action, budget_name, spent, limit_amount, currency FROM claudecost.budget_check(1, as_of => '2026-05-01 12:00');
ROLLBACK;
SELECT action, budget_name, limit_amount FROM claudecost.budget_check(1, as_of => '2026-05-01 12:00');
SELECT claudecost.delete_budget(id) FROM claudecost.budget;
SELECT action, budget_name, message FROM claudecost.budget_check(1, as_of => '2026-05-01 12:00');

--
-- Reading budgets needs SELECT on the budget tables, as the SQL did.
--
SELECT claudecost.create_budget('global', 10, 'daily', starts_at => '2026-01-01');
CREATE ROLE regress_budget_outsider;
GRANT USAGE ON SCHEMA claudecost TO regress_budget_outsider;
SET ROLE regress_budget_outsider;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01 12:00');
RESET ROLE;
REVOKE USAGE ON SCHEMA claudecost FROM regress_budget_outsider;
DROP ROLE regress_budget_outsider;

--
-- A calendar period's counter row is fetched again at the TID of the last
-- check.  The spend stays right when the row is updated in place, deleted
-- and inserted again by a recount, moved by VACUUM FULL, removed with its
-- table truncated, and when a transaction deletes it and rolls back.
--
SELECT claudecost.delete_budget(id) FROM claudecost.budget;
INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('tid-model', 1, 1, '2020-01-01');
SELECT claudecost.create_budget('tid daily', 10, 'daily', project_id => 'tid', starts_at => '2026-01-01') AS tid_budget \gset
-- The checked spend, and whether the SQL definition agrees.
CREATE FUNCTION pg_temp.tid_spend(OUT budget_name text, OUT spent numeric, OUT matches_state boolean)
LANGUAGE sql AS $$
    SELECT d.budget_name, d.spent, d.spent = s.spent_usd
      FROM claudecost.budget_check(0, project_id => 'tid', as_of => '2026-05-01 12:00') d
      LEFT JOIN claudecost.budget_state('2026-05-01 12:00', NULL, 'tid', NULL, NULL, NULL) s ON true
$$;
SELECT * FROM pg_temp.tid_spend();
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
VALUES ('2026-05-01 08:00', 'tid-model', 'tid', 1000000);
SELECT * FROM pg_temp.tid_spend();
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
VALUES ('2026-05-01 09:00', 'tid-model', 'tid', 500000);
SELECT * FROM pg_temp.tid_spend();
SELECT claudecost.budget_recount(:tid_budget);
SELECT * FROM pg_temp.tid_spend();
VACUUM FULL claudecost.budget_spend;
SELECT * FROM pg_temp.tid_spend();
BEGIN;
DELETE FROM claudecost.usage WHERE project_id = 'tid' AND occurred_at = '2026-05-01 09:00';
SELECT * FROM pg_temp.tid_spend();
ROLLBACK;
SELECT * FROM pg_temp.tid_spend();
DELETE FROM claudecost.budget_spend;
VACUUM claudecost.budget_spend;
SELECT pg_catalog.pg_relation_size('claudecost.budget_spend') AS spend_table_bytes;
SELECT * FROM pg_temp.tid_spend();
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
VALUES ('2026-05-01 10:00', 'tid-model', 'tid', 250000);
SELECT * FROM pg_temp.tid_spend();
SELECT claudecost.delete_budget(:tid_budget);

--
-- A rolling window checked as of now keeps the sum of its past hours while
-- the budget's late-change marker keeps its row version.  Rows written into
-- a past hour, updated, deleted or recounted change the marker, so every
-- check below agrees with the SQL definition.
--
SELECT claudecost.create_budget('window now', 1000, 'rolling', project_id => 'win-now',
                                period_length => '24 hours', starts_at => now() - interval '3 days') AS win_budget \gset
SELECT period_start, spent FROM claudecost.budget_spend WHERE budget_id = :win_budget;
CREATE FUNCTION pg_temp.window_spend(OUT spent numeric, OUT matches_state boolean)
LANGUAGE sql AS $$
    SELECT d.spent, d.spent = s.spent_usd
      FROM claudecost.budget_check(0, project_id => 'win-now') d
      LEFT JOIN claudecost.budget_state(now(), NULL, 'win-now', NULL, NULL, NULL) s ON true
$$;
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
VALUES (now(), 'tid-model', 'win-now', 1000000);
SELECT * FROM pg_temp.window_spend();
SELECT * FROM pg_temp.window_spend();
SELECT * FROM pg_temp.window_spend();
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
VALUES (now() - interval '2 hours', 'tid-model', 'win-now', 2000000);
SELECT * FROM pg_temp.window_spend();
SELECT * FROM pg_temp.window_spend();
UPDATE claudecost.usage SET input_tokens = 4000000
 WHERE project_id = 'win-now' AND input_tokens = 2000000;
SELECT * FROM pg_temp.window_spend();
SELECT * FROM pg_temp.window_spend();
DELETE FROM claudecost.usage WHERE project_id = 'win-now' AND input_tokens = 4000000;
SELECT * FROM pg_temp.window_spend();
SELECT * FROM pg_temp.window_spend();
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
VALUES (now() - interval '3 hours', 'tid-model', 'win-now', 500000);
SELECT * FROM pg_temp.window_spend();
UPDATE claudecost.budget_spend SET spent = spent + 7
 WHERE budget_id = :win_budget AND period_start = date_trunc('hour', now() - interval '3 hours', 'UTC');
SELECT claudecost.budget_recount(:win_budget);
SELECT * FROM pg_temp.window_spend();
SELECT * FROM pg_temp.window_spend();
TRUNCATE claudecost.usage;
SELECT * FROM pg_temp.window_spend();
SELECT period_start, spent FROM claudecost.budget_spend WHERE budget_id = :win_budget;
SELECT claudecost.delete_budget(:win_budget);

--
-- Amounts below 10^16 with at most 20 decimal places are compared as
-- 128-bit fixed-point numbers, any other amount as numeric.  Both forms
-- allow spending exactly the limit and block the smallest amount more.
--
CREATE TEMP TABLE exact_limits (scope text, amount numeric);
INSERT INTO exact_limits VALUES ('20 places', 5.00000000000000000001), ('21 places', 5.000000000000000000001),
                                ('below 10^16', 9999999999999999), ('10^16', 10000000000000000),
                                ('10^16 and 21 places', 10000000000000000.000000000000000000001);
SELECT count(claudecost.create_budget('exact ' || scope, amount, 'daily', project_id => 'exact ' || scope,
                                      starts_at => '2026-01-01', warn_at => '{}')) AS budgets
  FROM exact_limits;
INSERT INTO claudecost.usage (occurred_at, model, project_id, input_tokens)
SELECT '2026-05-01 10:00', 'regress-model', 'exact ' || scope, 5000000 FROM exact_limits;
SELECT l.scope, x.over, d.action, d.spent, d.remaining
  FROM exact_limits l
 CROSS JOIN (VALUES (0), (1e-20), (1e-21), (1e-30)) x(over)
 CROSS JOIN LATERAL claudecost.budget_check(l.amount - 5 + x.over, project_id => 'exact ' || l.scope,
                                            as_of => '2026-05-01 12:00') d
 ORDER BY l.amount, x.over;
-- Estimates beyond the fixed range against a fixed limit.
SELECT e, d.action
  FROM (VALUES (0.000000000000000000009), (0.00000000000000000001), (0.000000000000000000011),
               (10000000000000000)) v(e)
 CROSS JOIN LATERAL claudecost.budget_check(e, project_id => 'exact 20 places', as_of => '2026-05-01 12:00') d
 ORDER BY e;
-- The binding order with one limit in each form: the 20 USD budget has
-- less headroom (15 of 20) than the 10^16 USD one.
SELECT claudecost.create_budget('mixed small', 20, 'daily', project_id => 'exact 10^16',
                                starts_at => '2026-01-01', warn_at => '{}') IS NOT NULL AS created;
SELECT d.action, d.budget_name, d.remaining
  FROM claudecost.budget_check(0, project_id => 'exact 10^16', as_of => '2026-05-01 12:00') d;
SELECT d.action, d.budget_name, d.remaining
  FROM claudecost.budget_check(15.000000000000000000001, project_id => 'exact 10^16', as_of => '2026-05-01 12:00') d;
-- Shares of the limit left that differ only after the 20th decimal place:
-- 'share b' has 1/3.00000000000000000001 left, less than the third that
-- 'share a' has, so it binds, and SQL agrees when it divides to 40 places.
SELECT count(claudecost.create_budget(n, l, 'daily', project_id => 'exact share',
                                      starts_at => '2026-01-01', warn_at => '{}')) AS budgets
  FROM (VALUES ('share a', 3), ('share b', 3.00000000000000000001)) v(n, l);
INSERT INTO claudecost.budget_spend (budget_id, period_start, spent)
SELECT b.id, '2026-05-01', CASE b.name WHEN 'share a' THEN 2 ELSE 2.00000000000000000001 END
  FROM claudecost.budget b WHERE b.project_id = 'exact share';
SELECT d.action, d.budget_name, d.remaining
  FROM claudecost.budget_check(0, project_id => 'exact share', as_of => '2026-05-01 12:00') d;
SELECT s.budget_name
  FROM claudecost.budget_state('2026-05-01 12:00', NULL, 'exact share', NULL, NULL, NULL) s
 ORDER BY div((s.limit_usd - s.spent_usd - s.reserved_usd) * 1e40, s.limit_usd), s.budget_id
 LIMIT 1;
