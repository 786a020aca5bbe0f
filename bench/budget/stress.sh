#!/usr/bin/env bash
# bench/budget/stress.sh: concurrent reserve -> usage -> settle against
# shared hard budgets; checks that no budget is overspent.
#
# Usage: bench/budget/stress.sh [CLIENTS] [REQUESTS]   (defaults 16, 100000)
#
# Creates a scratch database (claudecost_budget_stress_<pid>, dropped at the
# end) on the server that the PG* variables select, with one global budget
# of 2,000 USD and four project budgets of 600 USD (all hard).  Each pgbench
# transaction is one request, which reserves a random estimate of 0.01 to
# 0.05 USD for a random project.  When the reservation succeeds, the request
# inserts its usage row (real cost 50-100 % of the estimate) with the
# reservation id, which settles the hold.  Reserve and insert are separate
# transactions, as they are around a real API call.  The demand (about 2,250 USD) exceeds the
# global limit, so the limits bind during the run.
#
# Prints, per budget, the limit, the counter, a recount from usage and the
# overspend (spent - limit when positive); exits 1 unless every overspend is
# exactly 0 and every counter equals its recount.  Not part of any test.
set -euo pipefail

clients=${1:-16}
requests=${2:-100000}
per_client=$(( (requests + clients - 1) / clients ))
here=$(cd "$(dirname "$0")" && pwd)
db=claudecost_budget_stress_$$

createdb "$db"
# Commit durability is not what this measures; without waiting for WAL
# flushes the run takes minutes instead of a quarter of an hour.
psql -X -q -d "$db" -c "ALTER DATABASE $db SET synchronous_commit = off"
trap 'dropdb --if-exists "$db"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE EXTENSION claudecost;
INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('bench-model', 1, 1, '2000-01-01');
-- A 365 day custom period that contains the whole run.
SELECT claudecost.create_budget('global', 2000, 'custom', period_length => '365 days',
                                starts_at => now() - interval '1 hour');
SELECT claudecost.create_budget('project p' || i, 600, 'custom', project_id => 'p' || i,
                                period_length => '365 days', starts_at => now() - interval '1 hour')
  FROM generate_series(1, 4) i;
-- Returns the reservation id, or 0 when a hard budget blocks the request.
CREATE FUNCTION public.bench_reserve(project text, estimate numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    RETURN claudecost.budget_reserve(project_id => project, estimated_cost => estimate);
EXCEPTION WHEN SQLSTATE 'CC001' THEN
    RETURN 0;
END
$$;
SQL

# The pgbench output goes to a temporary file, not into the source tree.
log=$(mktemp)
pgbench -n -c "$clients" -j 2 -t "$per_client" -f "$here/stress.pgbench" "$db" > "$log" 2>&1 \
    || { cat "$log"; rm -f "$log"; exit 1; }
grep -E 'number of transactions actually processed|number of failed|tps' "$log"
rm -f "$log"

SQL_REPORT=$(cat <<'SQL'
\pset footer off
SELECT count(*) AS reservations,
       count(*) FILTER (WHERE status = 'settled') AS settled,
       count(*) FILTER (WHERE status = 'held') AS still_held
  FROM claudecost.budget_reservation;
CREATE TEMP TABLE report AS
SELECT b.name, b.amount AS limit_usd, coalesce(s.spent, 0) AS counter,
       (SELECT coalesce(sum(u.total_cost), 0) FROM claudecost.usage u
         WHERE b.project_id IS NULL OR u.project_id = b.project_id) AS recount,
       (SELECT coalesce(sum(h.amount), 0) FROM claudecost.budget_hold h
         WHERE h.budget_id = b.id AND h.expires_at > clock_timestamp()) AS held
  FROM claudecost.budget b LEFT JOIN claudecost.budget_spend s ON s.budget_id = b.id;
SELECT name, limit_usd, counter, recount, held, greatest(counter - limit_usd, 0) AS overspend
  FROM report ORDER BY name COLLATE "C";
SELECT CASE WHEN bool_and(counter <= limit_usd AND counter = recount) THEN 'PASS' ELSE 'FAIL' END AS result,
       sum(greatest(counter - limit_usd, 0)) AS total_overspend
  FROM report;
SQL
)
report=$(echo "$SQL_REPORT" | psql -X -q -v ON_ERROR_STOP=1 -d "$db")
echo "$report"
grep -q PASS <<< "$report"
