#!/usr/bin/env bash
# bench/budget/dst-all-zones.sh: budget periods around every UTC offset
# change of 2011 and 2026 in every time zone of the server's tz database.
#
# Usage: bench/budget/dst-all-zones.sh
#
# Builds a scratch database (claudecost_dst_all_zones_<pid>, dropped at the
# end) on the server that the PG* variables select.  It finds the offset
# changes on an hourly grid (2011 has Pacific/Apia skipping a whole day), and
# samples every 15 minutes from 26 hours before to 26 hours after each one.
# At each instant, for daily, monthly and custom periods of 1 hour, 1 day
# and 2 days, it checks that claudecost.budget_bucket and
# claudecost.budget_period_end give a period that contains the instant and
# that the next period starts at its end.  It also checks that budget_check
# (C) gives the same period.  Each count after "checks" must be 0, and the
# script exits 1 otherwise.  About 1.5 minutes; not part of any test, because
# sql/budget_dst.sql covers seven zones in the default run.
set -euo pipefail
db=claudecost_dst_all_zones_$$
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT

result=$(psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION claudecost;
SET TimeZone = 'UTC';

-- The last hour before each change of the UTC offset.
CREATE TEMP TABLE changes AS
SELECT z.name AS zone, h.t
  FROM pg_catalog.pg_timezone_names z
 CROSS JOIN LATERAL (SELECT generate_series(timestamptz '2011-01-01', '2011-12-31', '1 hour')
                     UNION ALL
                     SELECT generate_series(timestamptz '2026-01-01', '2026-12-31', '1 hour')) h(t)
 WHERE z.name NOT LIKE 'posix/%'
   AND timezone(z.name, h.t) - h.t::timestamp
       <> timezone(z.name, h.t + interval '1 hour') - (h.t + interval '1 hour')::timestamp;

CREATE TEMP TABLE kinds (period text, period_length interval);
INSERT INTO kinds VALUES ('daily', NULL), ('monthly', NULL), ('custom', '1 hour'),
                         ('custom', '1 day'), ('custom', '2 days');
INSERT INTO claudecost.budget (name, amount, project_id, period, period_length, time_zone, starts_at)
SELECT z.zone || ' ' || k.period || coalesce(' ' || k.period_length::text, ''), 100,
       z.zone || ' ' || k.period || coalesce(' ' || k.period_length::text, ''),
       k.period, k.period_length, z.zone, timezone(z.zone, timestamp '2010-12-31 00:15')
  FROM (SELECT DISTINCT zone FROM changes) z CROSS JOIN kinds k;

CREATE TEMP TABLE periods AS
SELECT b.name, b.period, b.period_length, b.time_zone, b.starts_at, s.t,
       claudecost.budget_bucket(b.period, b.period_length, b.time_zone, b.starts_at, s.t) AS period_start
  FROM changes c
  JOIN claudecost.budget b ON b.time_zone = c.zone
 CROSS JOIN LATERAL generate_series(c.t - interval '26 hours', c.t + interval '26 hours', '15 minutes') s(t);
ALTER TABLE periods ADD COLUMN period_end timestamptz;
UPDATE periods
   SET period_end = claudecost.budget_period_end(period, period_length, time_zone, starts_at, period_start);

SELECT (SELECT count(DISTINCT zone) FROM changes) AS zones,
       (SELECT count(*) FROM changes) AS changes,
       count(*) AS checks,
       count(*) FILTER (WHERE NOT (p.period_start <= p.t AND p.t < p.period_end)) AS not_contained,
       count(*) FILTER (WHERE claudecost.budget_bucket(p.period, p.period_length, p.time_zone, p.starts_at,
                                                       p.period_end) <> p.period_end) AS next_not_at_end,
       count(*) FILTER (WHERE claudecost.budget_bucket(p.period, p.period_length, p.time_zone, p.starts_at,
                                                       p.period_end - interval '1 microsecond')
                              <> p.period_start) AS gap_before_end,
       count(*) FILTER (WHERE (c.period_start, c.period_end) IS DISTINCT FROM (p.period_start, p.period_end))
           AS c_sql_mismatches
  FROM periods p
 CROSS JOIN LATERAL claudecost.budget_check(0, project_id => p.name, as_of => p.t) c;
SQL
)
read -r zones changes checks not_contained next_not_at_end gap_before_end mismatches <<< "$result"
echo "zones $zones, offset changes $changes, checks $checks"
echo "not contained $not_contained, next not at end $next_not_at_end, gap before end $gap_before_end, C/SQL mismatches $mismatches"
[ "$not_contained" = 0 ] && [ "$next_not_at_end" = 0 ] && [ "$gap_before_end" = 0 ] && [ "$mismatches" = 0 ]
