#!/usr/bin/env bash
# Cost of the usage triggers on write paths, measured against a bare table
# with the same columns and indexes in the same run:
#   1. COPY of ROWS synthetic usage rows (default 1,000,000) shaped by real
#      traces, into claudecost.usage (pricing row trigger + rollup statement
#      trigger) and into the bare table; best of RUNS runs each.
#   2. Single-row INSERT latency with pgbench, one client, both tables; then
#      with the budget triggers disabled, and with three budgets that apply
#      to every row (the budget trigger then updates their counters).
# Usage: bench/copy/run.sh [TRACE_DIR]   (default data/traces; psql connects
# with the PG* variables, and the extension is recreated in that database.)
set -euo pipefail
trace_dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)/data/traces}
rows=${ROWS:-1000000}
runs=${RUNS:-3}
inserts=${INSERTS:-20000}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
DROP TABLE IF EXISTS public.bench_bare;
CREATE TABLE public.bench_bare (LIKE claudecost.usage INCLUDING DEFAULTS INCLUDING IDENTITY
                                INCLUDING CONSTRAINTS INCLUDING INDEXES);
SQL
"$here/../common/load-trace-shapes.sh" "$trace_dir" >/dev/null

# Rows spread evenly over 30 days.  50 users, each in one of 8 projects,
# send 80 % of their requests to a main model and the rest to a second one
# (user and model are pseudo-random functions of the row number).
psql -X -q -v ON_ERROR_STOP=1 -c "COPY (
    WITH r AS (
        SELECT g, (g * 7919) % 50 AS usr, (g * 104729) % 10 AS dice FROM generate_series(1::bigint, $rows) AS g
    )
    SELECT 'bench-' || g, timestamptz '2026-11-01 00:00+00' + (g * (2592000.0 / $rows)) * interval '1 second',
           (ARRAY['claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-opus-5-5', 'claude-sonnet-4-6',
                  'claude-haiku-4-5', 'claude-opus-4-6'])[1 + (usr + CASE WHEN dice < 8 THEN 0 ELSE 1 END) % 6],
           'user' || usr, 'project' || usr % 8,
           s.input_tokens, s.output_tokens, s.cache_write_5m_tokens, s.cache_read_tokens
    FROM r
    JOIN public.bench_trace_shape s ON s.id = 1 + g % (SELECT count(*) FROM public.bench_trace_shape)
) TO STDOUT" > "$work/rows.tsv"

columns="request_id, occurred_at, model, user_id, project_id, input_tokens, output_tokens, cache_write_5m_tokens, cache_read_tokens"

copy_seconds() {
    local table=$1 start end
    psql -X -q -c "TRUNCATE $table" -c "CHECKPOINT" >/dev/null
    [ "$table" = claudecost.usage ] && psql -X -q -c "TRUNCATE claudecost.usage_hourly" >/dev/null
    start=$(date +%s.%N)
    psql -X -q -v ON_ERROR_STOP=1 -c "COPY $table ($columns) FROM STDIN" < "$work/rows.tsv"
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

best() { sort -n | head -n 1; }

bare_runs=(); usage_runs=()
for _ in $(seq "$runs"); do
    bare_runs+=("$(copy_seconds public.bench_bare)")
    usage_runs+=("$(copy_seconds claudecost.usage)")
done
bare=$(printf '%s\n' "${bare_runs[@]}" | best)
usage=$(printf '%s\n' "${usage_runs[@]}" | best)
differences=$(psql -X -q -At -c "SELECT count(*) FROM claudecost.verify_rollups()")
unpriced=$(psql -X -q -At -c "SELECT count(*) FROM claudecost.usage WHERE total_cost IS NULL")

cat > "$work/insert_usage.sql" <<'SQL'
\set g random(1, 40000)
INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens, cache_read_tokens)
VALUES (now(), 'claude-sonnet-5-5', 'user' || :g % 50, 'project' || :g % 8, 1000 + :g, 200, 3000);
SQL
sed 's/claudecost\.usage/public.bench_bare/' "$work/insert_usage.sql" > "$work/insert_bare.sql"

latency_ms() {
    pgbench -n -c 1 -t "$inserts" -f "$1" 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p'
}
latency_runs_bare=(); latency_runs_usage=()
for _ in $(seq "$runs"); do
    latency_runs_bare+=("$(latency_ms "$work/insert_bare.sql")")
    latency_runs_usage+=("$(latency_ms "$work/insert_usage.sql")")
done
latency_bare=$(printf '%s\n' "${latency_runs_bare[@]}" | best)
latency_usage=$(printf '%s\n' "${latency_runs_usage[@]}" | best)

# The same with only the pricing and rollup triggers, to show what the
# budget trigger adds when no budget exists.
optional_triggers=$(psql -X -q -At -c "SELECT string_agg(tgname, ' ') FROM pg_trigger
    WHERE tgrelid = 'claudecost.usage'::regclass AND NOT tgisinternal
      AND tgname NOT IN ('usage_price') AND tgname NOT LIKE 'usage_rollup_%'")
for trigger in $optional_triggers; do
    psql -X -q -c "ALTER TABLE claudecost.usage DISABLE TRIGGER $trigger"
done
latency_runs_core=()
for _ in $(seq "$runs"); do
    latency_runs_core+=("$(latency_ms "$work/insert_usage.sql")")
done
for trigger in $optional_triggers; do
    psql -X -q -c "ALTER TABLE claudecost.usage ENABLE TRIGGER $trigger"
done
latency_core=$(printf '%s\n' "${latency_runs_core[@]}" | best)

# Three budgets that every inserted row counts against.
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT claudecost.create_budget('bench global', 1000000000, 'monthly', starts_at => '2020-01-01');
SELECT claudecost.create_budget('bench daily', 1000000000, 'daily', time_zone => 'Europe/Berlin',
                                starts_at => '2020-01-01');
SELECT claudecost.create_budget('bench sonnet', 1000000000, 'weekly', model => 'claude-sonnet-%',
                                starts_at => '2020-01-01');
SQL
latency_runs_budgets=()
for _ in $(seq "$runs"); do
    latency_runs_budgets+=("$(latency_ms "$work/insert_usage.sql")")
done
latency_budgets=$(printf '%s\n' "${latency_runs_budgets[@]}" | best)

echo "rows copied:                  $rows (best of $runs runs, each run truncates first)"
echo "bare COPY:                    ${bare} s  ($(echo "$rows / $bare" | bc) rows/s)"
echo "usage COPY (all triggers):    ${usage} s  ($(echo "$rows / $usage" | bc) rows/s)"
echo "COPY throughput ratio:        $(echo "scale=3; $bare / $usage" | bc) of bare (target >= 0.5)"
echo "rollup differences after COPY: $differences, unpriced rows: $unpriced"
echo "single-row INSERT, bare:      ${latency_bare} ms (best of $runs x $inserts)"
echo "single-row INSERT, usage:     ${latency_usage} ms"
echo "INSERT latency ratio:         $(echo "scale=3; $latency_usage / $latency_bare" | bc)x bare (target <= 1.3)"
echo "single-row INSERT, usage with pricing and rollup triggers only: ${latency_core} ms"
echo "  ratio:                      $(echo "scale=3; $latency_core / $latency_bare" | bc)x bare (other triggers: ${optional_triggers:-none})"
echo "single-row INSERT, usage with three budgets applying: ${latency_budgets} ms"
echo "  ratio:                      $(echo "scale=3; $latency_budgets / $latency_bare" | bc)x bare"
