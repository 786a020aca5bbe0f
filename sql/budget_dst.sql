-- Budget periods across DST changes.  Every period contains the timestamps
-- assigned to it, and consecutive periods tile time.  Calendar periods start
-- at the first instant of their local day, and custom periods of hours and
-- minutes step in elapsed time.  budget_check (C) computes the same periods
-- as claudecost.budget_state (SQL).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
\set SHOW_CONTEXT never

-- An hourly budget in Berlin over the night the clocks fall back: local
-- 02:00-03:00 occurs twice (00:00-01:00 and 01:00-02:00 UTC), and each UTC
-- hour is its own period.
SELECT claudecost.create_budget('hourly berlin', 1, 'custom', period_length => '1 hour',
       time_zone => 'Europe/Berlin', starts_at => '2026-10-25 00:00+02');
INSERT INTO claudecost.usage (model, input_tokens, occurred_at) VALUES
  ('claude-sonnet-4-5', 100000, '2026-10-25 00:30+00'), ('claude-sonnet-4-5', 100000, '2026-10-25 01:30+00');
SELECT budget_id, period_start, spent FROM claudecost.budget_spend ORDER BY period_start;
SELECT action, period_start, period_end, spent
  FROM claudecost.budget_check(0.5, as_of => '2026-10-25 00:30+00');
SELECT action, period_start, period_end, spent
  FROM claudecost.budget_check(0.5, as_of => '2026-10-25 01:30+00');
SELECT count(*) AS counter_mismatches FROM claudecost.verify_budget_spend();
SELECT claudecost.delete_budget(1);
DELETE FROM claudecost.usage;

-- Havana moves its clocks at local midnight.  On 2026-11-01 midnight occurs
-- at 04:00 and again at 05:00 UTC: the day starts at the first, so 04:30 is
-- in it and the day is 25 hours.  On 2026-03-08 midnight is skipped: the
-- day starts at 05:00 UTC, which is 01:00 local, and is 23 hours.
SELECT claudecost.budget_bucket('daily', NULL, 'America/Havana', '2026-01-01', '2026-11-01 04:30+00') AS havana_nov_1_start,
       claudecost.budget_period_end('daily', NULL, 'America/Havana', '2026-01-01', '2026-11-01 04:00+00') AS havana_nov_1_end,
       claudecost.budget_bucket('monthly', NULL, 'America/Havana', '2026-01-01', '2026-11-01 04:30+00') AS havana_november_start,
       claudecost.budget_period_end('monthly', NULL, 'America/Havana', '2026-01-01', '2026-10-01 04:00+00') AS havana_october_end;
SELECT claudecost.budget_bucket('daily', NULL, 'America/Havana', '2026-01-01', '2026-03-08 04:59:59+00') AS havana_mar_7_start,
       claudecost.budget_bucket('daily', NULL, 'America/Havana', '2026-01-01', '2026-03-08 05:00+00') AS havana_mar_8_start,
       claudecost.budget_period_end('daily', NULL, 'America/Havana', '2026-01-01', '2026-03-08 05:00+00') AS havana_mar_8_end;

-- One budget per zone and period kind, each alone in its project scope.
-- Custom periods step from 02:15 local time, which Berlin, New York and
-- Lord Howe skip in spring and Berlin repeats in autumn.  Lord_Howe moves
-- its clocks by 30 minutes, Chatham (UTC+12:45) by an hour at 02:45, and
-- Kolkata (UTC+05:30) and UTC not at all.
CREATE TEMP TABLE zones (zone text PRIMARY KEY);
INSERT INTO zones VALUES ('UTC'), ('Europe/Berlin'), ('America/Havana'), ('America/New_York'),
                         ('Australia/Lord_Howe'), ('Asia/Kolkata'), ('Pacific/Chatham');
CREATE TEMP TABLE kinds (period text, period_length interval);
INSERT INTO kinds VALUES ('daily', NULL), ('weekly', NULL), ('monthly', NULL), ('quarterly', NULL),
                         ('annual', NULL), ('custom', '1 hour'), ('custom', '30 minutes'),
                         ('custom', '45 minutes'), ('custom', '36 hours'), ('custom', '1 day'),
                         ('custom', '1 day 30 minutes'), ('custom', '2 days'), ('rolling', '3 hours');
-- Inserted in one statement: 91 create_budget calls took most of this
-- test's run time.
INSERT INTO claudecost.budget (name, amount, project_id, period, period_length, time_zone, starts_at)
SELECT z.zone || ' ' || k.period || coalesce(' ' || k.period_length::text, ''), 100,
       z.zone || ' ' || k.period || coalesce(' ' || k.period_length::text, ''),
       k.period, k.period_length, z.zone, timezone(z.zone, timestamp '2025-12-31 02:15')
  FROM zones z CROSS JOIN kinds k;
SELECT count(*) AS budgets FROM claudecost.budget;

-- Instants every 15 minutes from 12 hours before to 12 hours after each
-- 2026 DST change of the zone (of Berlin for UTC and Kolkata), and two
-- hours either side of the local start of each quarter.
CREATE TEMP TABLE changes (zone text, change timestamptz);
INSERT INTO changes VALUES
    ('Europe/Berlin', '2026-03-29 01:00'), ('Europe/Berlin', '2026-10-25 01:00'),
    ('UTC', '2026-03-29 01:00'), ('UTC', '2026-10-25 01:00'),
    ('Asia/Kolkata', '2026-03-29 01:00'), ('Asia/Kolkata', '2026-10-25 01:00'),
    ('America/Havana', '2026-03-08 05:00'), ('America/Havana', '2026-11-01 05:00'),
    ('America/New_York', '2026-03-08 07:00'), ('America/New_York', '2026-11-01 06:00'),
    ('Australia/Lord_Howe', '2026-04-04 15:00'), ('Australia/Lord_Howe', '2026-10-03 15:30'),
    ('Pacific/Chatham', '2026-04-04 14:00'), ('Pacific/Chatham', '2026-09-26 14:00');
CREATE TEMP TABLE instants (zone text, t timestamptz, PRIMARY KEY (zone, t));
INSERT INTO instants
SELECT DISTINCT zone, t FROM (
    SELECT c.zone, generate_series(c.change - interval '12 hours', c.change + interval '12 hours', '15 minutes') AS t
      FROM changes c
    UNION ALL
    SELECT z.zone, generate_series(timezone(z.zone, q) - interval '2 hours',
                                   timezone(z.zone, q) + interval '2 hours', '15 minutes')
      FROM zones z
     CROSS JOIN unnest(ARRAY[timestamp '2026-04-01', '2026-07-01', '2026-10-01', '2027-01-01']) q) s;

-- Each change lies in its window: the UTC offset differs 12 hours before
-- and 12 hours after it, except in UTC and Kolkata.
SELECT c.zone, c.change,
       timezone(c.zone, c.change - interval '12 hours') - (c.change - interval '12 hours')::timestamp AS offset_before,
       timezone(c.zone, c.change + interval '12 hours') - (c.change + interval '12 hours')::timestamp AS offset_after
  FROM changes c
 ORDER BY c.zone COLLATE "C", c.change;

-- The period of every budget at every instant of its zone, from the C
-- check, the SQL budget_state, and the C check at the period end (the next
-- period) and just before it (the same period).
CREATE TEMP TABLE periods AS
SELECT b.name, b.period, b.period_length, b.time_zone, b.starts_at, i.t,
       c.period_start AS c_start, c.period_end AS c_end,
       s.period_start AS s_start, s.period_end AS s_end,
       claudecost.budget_bucket(b.period, b.period_length, b.time_zone, b.starts_at, i.t) AS bucket,
       n.period_start AS next_start, p.period_start AS last_instant_start
  FROM claudecost.budget b
  JOIN instants i ON i.zone = b.time_zone
 CROSS JOIN LATERAL claudecost.budget_check(0, project_id => b.project_id, as_of => i.t) c
  LEFT JOIN LATERAL claudecost.budget_state(i.t, NULL, b.project_id, NULL, NULL, NULL) s ON true
 CROSS JOIN LATERAL claudecost.budget_check(0, project_id => b.project_id, as_of => c.period_end) n
 CROSS JOIN LATERAL claudecost.budget_check(0, project_id => b.project_id,
                                            as_of => c.period_end - interval '1 microsecond') p;

-- Every count of violations below must be 0.
SELECT count(*) AS checks,
       count(*) FILTER (WHERE c_start IS NULL OR c_end IS NULL) AS no_period,
       count(*) FILTER (WHERE NOT (c_start <= t)) AS start_after_ts,
       count(*) FILTER (WHERE NOT (t < c_end)) AS end_not_after_ts,
       count(*) FILTER (WHERE (c_start, c_end) IS DISTINCT FROM (s_start, s_end)) AS c_sql_mismatches
  FROM periods;
-- Calendar and custom periods tile time: the next period starts at the end
-- of this one, and the instant before the end is still in this one.  A
-- rolling window slides, so its UTC hour buckets are checked instead.
SELECT count(*) FILTER (WHERE period <> 'rolling') AS tiled_checks,
       count(*) FILTER (WHERE period <> 'rolling' AND next_start IS DISTINCT FROM c_end) AS next_not_at_end,
       count(*) FILTER (WHERE period <> 'rolling' AND last_instant_start IS DISTINCT FROM c_start) AS end_not_contiguous,
       count(*) FILTER (WHERE period <> 'rolling' AND bucket IS DISTINCT FROM c_start) AS bucket_not_start,
       count(*) FILTER (WHERE period = 'rolling'
                          AND NOT (bucket <= t AND t < bucket + interval '1 hour'
                                   AND claudecost.budget_bucket(period, period_length, time_zone, starts_at,
                                                                bucket + interval '1 hour')
                                       = bucket + interval '1 hour')) AS rolling_hour_violations
  FROM periods;
-- Custom periods without days last exactly their length in elapsed time,
-- so a repeated local hour is a period of its own.
SELECT count(*) AS elapsed_checks,
       count(*) FILTER (WHERE c_end - c_start <> period_length) AS wrong_length
  FROM periods
 WHERE period = 'custom' AND extract(day FROM period_length) = 0;
-- Calendar periods start at the first instant of a local day: the local
-- date changes at their start.
SELECT count(*) AS calendar_checks,
       count(*) FILTER (WHERE timezone(time_zone, c_start - interval '1 microsecond')::date
                              >= timezone(time_zone, c_start)::date) AS start_not_first_instant
  FROM periods
 WHERE period IN ('daily', 'weekly', 'monthly', 'quarterly', 'annual');
-- The calendar periods that do not start at 00:00 local time: only where
-- midnight is skipped.
SELECT DISTINCT name COLLATE "C" AS name, c_start, timezone(time_zone, c_start) AS local_start
  FROM periods
 WHERE period IN ('daily', 'weekly', 'monthly', 'quarterly', 'annual')
   AND timezone(time_zone, c_start)::time <> '00:00'
 ORDER BY 1, 2;
-- Daily periods on the DST change days are 23 or 25 hours (23.5 and 24.5
-- on Lord Howe).
SELECT DISTINCT name COLLATE "C" AS name, timezone(time_zone, c_start)::date AS local_day, c_end - c_start AS length
  FROM periods
 WHERE period = 'daily' AND c_end - c_start <> interval '24 hours'
 ORDER BY 1, 2;
-- Custom periods of whole days that do not start at 02:15 local time, the
-- local time of starts_at: only where 02:15 is skipped.
SELECT DISTINCT name COLLATE "C" AS name, c_start, timezone(time_zone, c_start) AS local_start
  FROM periods
 WHERE period = 'custom' AND period_length IN ('1 day', '2 days')
   AND timezone(time_zone, c_start)::time <> '02:15'
 ORDER BY 1, 2;
-- Berlin's hourly periods around the repeated hour: 02:15 local time
-- starts two periods, one per UTC hour.
SELECT DISTINCT c_start, c_end, timezone(time_zone, c_start) AS local_start
  FROM periods
 WHERE name = 'Europe/Berlin custom 01:00:00' AND t >= '2026-10-24 23:00' AND t < '2026-10-25 03:00'
 ORDER BY c_start;
-- Berlin's custom periods of a day when 02:15 repeats: the period starts
-- at the first 02:15 and lasts 25 hours.
SELECT DISTINCT c_start, c_end, timezone(time_zone, c_start) AS local_start, c_end - c_start AS length
  FROM periods
 WHERE name = 'Europe/Berlin custom 1 day' AND t >= '2026-10-24 00:00' AND t < '2026-10-26 00:00'
 ORDER BY c_start;

-- Counters written by version 1.0 with its rule are recounted by the
-- update.  1.0 put both UTC hours of Berlin's repeated local hour in one
-- period, and Havana's 04:30 UTC on 2026-11-01 in a day starting after it.
SET client_min_messages = warning;
DROP EXTENSION claudecost CASCADE;
CREATE EXTENSION claudecost VERSION '1.0';
RESET client_min_messages;
SELECT claudecost.create_budget('hourly berlin', 1, 'custom', period_length => '1 hour',
       time_zone => 'Europe/Berlin', starts_at => '2026-10-25 00:00+02');
SELECT claudecost.create_budget('daily havana', 1, 'daily', time_zone => 'America/Havana',
       starts_at => '2026-10-01');
INSERT INTO claudecost.usage (model, input_tokens, occurred_at) VALUES
  ('claude-sonnet-4-5', 100000, '2026-10-25 00:30+00'), ('claude-sonnet-4-5', 100000, '2026-10-25 01:30+00'),
  ('claude-sonnet-4-5', 100000, '2026-11-01 04:30+00');
SELECT budget_id, period_start, spent FROM claudecost.budget_spend ORDER BY budget_id, period_start;
ALTER EXTENSION claudecost UPDATE TO '1.1';
SELECT budget_id, period_start, spent FROM claudecost.budget_spend ORDER BY budget_id, period_start;
SELECT count(*) AS counter_mismatches FROM claudecost.verify_budget_spend();
