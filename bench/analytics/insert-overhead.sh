#!/bin/sh
# Cost of the analytics triggers on single-row INSERTs: pgbench latency of
# one-row inserts with the usage_analytics_insert trigger disabled and then
# enabled, ROUNDS times each, in the scratch database claudecost_bench_insert.
# Run from the repository root with psql settings in the environment.
#   bench/analytics/insert-overhead.sh [ROUNDS [SECONDS]]
set -eu
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-8}
DB=claudecost_bench_insert
SCRIPT=$(mktemp)
trap 'rm -f "$SCRIPT"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"' EXIT

cat >"$SCRIPT" <<'SQL'
INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens, prompt_hash)
VALUES ('2026-01-05'::timestamptz + random() * interval '30 days', 'claude-haiku-4-5',
        'u' || (random() * 20)::int, 'p1', 1000, 100, 'h' || (random() * 100)::int);
SQL

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION claudecost"

latency() {
    pgbench -n -c 1 -T "$SECONDS_PER_RUN" -f "$SCRIPT" "$DB" 2>&1 | sed -n 's/^latency average = //p'
}

i=0
while [ "$i" -lt "$ROUNDS" ]; do
    psql -X -q -d "$DB" -c "ALTER TABLE claudecost.usage DISABLE TRIGGER usage_analytics_insert"
    without=$(latency)
    psql -X -q -d "$DB" -c "ALTER TABLE claudecost.usage ENABLE TRIGGER usage_analytics_insert"
    with=$(latency)
    echo "round $((i + 1)): without analytics triggers $without, with $with"
    i=$((i + 1))
done
# The rows inserted with the trigger disabled are missing from the analytics
# rollups by design; only the timings matter here.
