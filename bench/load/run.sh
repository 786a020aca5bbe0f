#!/usr/bin/env bash
# Sustained mixed load: CLIENTS pgbench clients for SECONDS seconds, each
# transaction one of four scripts picked by weight:
#   insert.pgbench  single-row INSERT of a usage row              (weight 40)
#   ingest.pgbench  claudecost.ingest() of a real API response    (weight 30)
#   budget.pgbench  budget_check, budget_reserve, settling INSERT (weight 20)
#   report.pgbench  generate_usage_report, get_cost_breakdown or
#                   the daily_cost_by_model view                  (weight 10)
# The database starts with ROWS usage rows (default 1,000,000) spread over
# the 30 days before the run, nine budgets (a global soft one, four hard per
# project, a rolling per user, three small hard ones that block) and the 23
# Messages API responses of data/samples/api.
#
# Prints per-script transactions, tps and latency, pgbench failures and
# aborted clients, deadlocks counted by pg_stat_database, errors in the
# server log (LOG_FILE, when given: every database of the server logs there,
# so nothing else should run meanwhile) and claudecost.verify() at the end.
# Exits 1 when any transaction failed, a deadlock or a logged error occurred
# or verify() found a difference.
#
# Usage: bench/load/run.sh   (DURATION=600 CLIENTS=8 ROWS=1000000 LOG_FILE=...)
# Creates and drops the database claudecost_load on the server that the PG*
# variables select.  Not part of any test run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
duration=${DURATION:-600}
clients=${CLIENTS:-8}
rows=${ROWS:-1000000}
db=claudecost_load
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dropdb --if-exists "$db"
createdb "$db"
export PGDATABASE=$db

psql -X -q -o /dev/null -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION claudecost;
SELECT claudecost.create_budget('global', 100000000, 'monthly', hard_limit => false,
                                starts_at => now() - interval '60 days');
SELECT claudecost.create_budget('project' || p, 1000000, 'monthly', project_id => 'project' || p,
                                starts_at => now() - interval '60 days')
FROM generate_series(0, 3) p;
SELECT claudecost.create_budget('rolling user1', 1000, 'rolling', period_length => '24 hours',
                                user_id => 'user1', hard_limit => false, starts_at => now() - interval '60 days');
-- Small hard budgets that block most reservations of their project.
SELECT claudecost.create_budget('tight' || p, 5, 'daily', project_id => 'project' || p,
                                starts_at => now() - interval '60 days')
FROM generate_series(9, 11) p;

CREATE TABLE public.load_payload (n integer GENERATED ALWAYS AS IDENTITY, body text, message_id text);
\copy public.load_payload (body) FROM '$repo/data/samples/api/messages.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
UPDATE public.load_payload SET message_id = body::jsonb ->> 'id';

-- Returns the reservation id, or 0 when a hard budget blocks the request.
CREATE FUNCTION public.load_reserve(project text, estimate numeric) RETURNS bigint
LANGUAGE plpgsql AS \$\$
BEGIN
    RETURN claudecost.budget_reserve(project_id => project, estimated_cost => estimate);
EXCEPTION WHEN SQLSTATE 'CC001' THEN
    RETURN 0;
END
\$\$;
SQL

# The ledger before the run: ROWS rows over the last 30 days, one
# statement (the statement triggers run once).
start=$(date +%s%N)
psql -X -q -v ON_ERROR_STOP=1 -c "
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, api_key_id,
                              input_tokens, output_tokens, cache_read_tokens, prompt_hash)
SELECT 'seed-' || g, now() - interval '30 days' + g * (interval '30 days' / $rows),
       (ARRAY['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-6', 'claude-sonnet-5-5'])[1 + g % 4],
       'user' || g % 200, 'project' || g % 200 % 12, 'key' || g % 200 % 40,
       100 + g % 20000, 10 + g % 2000, g % 7 * 1000, 'prompt' || g % 500
FROM generate_series(1, $rows) g"
psql -X -q -c "VACUUM ANALYZE"
seed_ms=$(( ($(date +%s%N) - start) / 1000000 ))

stat_sql="SELECT deadlocks, xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()"
read -r deadlocks_before commits_before rollbacks_before < <(psql -X -At -F ' ' -c "$stat_sql")
log_lines_before=0
if [ -n "${LOG_FILE:-}" ]; then
    log_lines_before=$(wc -l < "$LOG_FILE")
fi

pgbench -n -c "$clients" -j 2 -T "$duration" -P 60 -r -l --log-prefix="$work/tx" \
    -f "$here/insert.pgbench@40" -f "$here/ingest.pgbench@30" \
    -f "$here/budget.pgbench@20" -f "$here/report.pgbench@10" > "$work/pgbench.out" 2> "$work/pgbench.err" \
    || { cat "$work/pgbench.out" "$work/pgbench.err"; exit 1; }

read -r deadlocks_after commits_after rollbacks_after < <(psql -X -At -F ' ' -c "$stat_sql")
logged_errors=unknown
if [ -n "${LOG_FILE:-}" ]; then
    # Every database of the server logs there, so run nothing else meanwhile.
    tail -n +"$((log_lines_before + 1))" "$LOG_FILE" | grep -E 'ERROR|FATAL|deadlock' > "$work/errors.log" || true
    logged_errors=$(wc -l < "$work/errors.log")
fi

echo "seed: $rows rows in ${seed_ms} ms; load: $clients clients, $duration s, 2 vCPU"
sed -n '/^number of transactions actually processed/,$p' "$work/pgbench.out"
# Latency percentiles per script from the transaction log (column 3: latency
# in microseconds, column 4: script number from 0).
cat "$work"/tx.* | awk '{ print $4, $3 }' | sort -k1,1n -k2,2n | awk '
    function flush() { if (n) printf "script %d: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n", s + 1, v[int(n * 0.5) + 1] / 1000, v[int(n * 0.95) + 1] / 1000, v[int(n * 0.99) + 1] / 1000, v[n] / 1000 }
    $1 != s { flush(); s = $1; n = 0 }
    { v[++n] = $2 }
    END { flush() }' s=-1
grep -E 'aborted|error' "$work/pgbench.err" | head -n 20 || true
echo "deadlocks (pg_stat_database): $((deadlocks_after - deadlocks_before))"
echo "rollbacks (pg_stat_database): $((rollbacks_after - rollbacks_before)) of $((commits_after - commits_before + rollbacks_after - rollbacks_before)) transactions"
echo "errors in the server log: $logged_errors"
[ -s "$work/errors.log" ] && sed 's/^[^]]*\] //' "$work/errors.log" | sort | uniq -c | sort -rn | head -n 10
psql -X -At -F ' ' -c "SELECT 'usage rows: ' || count(*) || ', usage_hourly rows: ' || (SELECT count(*) FROM claudecost.usage_hourly) || ', budget_spend rows: ' || (SELECT count(*) FROM claudecost.budget_spend) || ', reservations: ' || (SELECT count(*) FROM claudecost.budget_reservation) FROM claudecost.usage"
start=$(date +%s%N)
psql -X -c "SELECT * FROM claudecost.verify()" | tee "$work/verify.out"
echo "verify(): $(( ($(date +%s%N) - start) / 1000000 )) ms"

failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")
status=0
[ "${failed:-1}" -eq 0 ] || { echo "FAILED: $failed failed transactions"; status=1; }
grep -q 'aborted' "$work/pgbench.err" && { echo "FAILED: clients aborted"; status=1; }
[ "$((deadlocks_after - deadlocks_before))" -eq 0 ] || { echo "FAILED: deadlocks"; status=1; }
[ "$logged_errors" = unknown ] || [ "$logged_errors" -eq 0 ] || { echo "FAILED: errors in the server log"; status=1; }
grep -q ' f$' "$work/verify.out" && { echo "FAILED: verify() found a difference"; status=1; }
[ "$status" -eq 0 ] && echo "PASS: no failed transaction, no deadlock, no logged error, verify() all ok"
dropdb "$db"
exit "$status"
