#!/usr/bin/env bash
# Tests the time-partitioning recipe (partition-usage.sql) at scale and
# measures the single-node figures of docs/scaling.md:
#   1. loads ROWS usage rows (default 10,000,000) spread over MONTHS months
#      (default 10): the first million by COPY from a file, the rest by
#      INSERT ... SELECT of a million rows per statement, all through the
#      triggers; prints rows/s and table + index size per million rows;
#   2. times the reports (generate_usage_report of one month,
#      get_cost_breakdown, the daily_cost_by_model view), claudecost.verify()
#      and single-row INSERT latency (pgbench, one client);
#   3. applies partition-usage.sql (monthly partitions) and times it;
#   4. repeats step 2 on the partitioned table, shows partition pruning and
#      that claudecost.ingest() of a response and its replay store one row.
# Exits 1 when verify() finds a difference before or after the conversion,
# when a report differs between the two, or when an ingested response and
# its replay do not give one row on the partitioned table.
# Usage: bench/partition/run.sh   (ROWS=10000000 MONTHS=10; the database
# claudecost_partition is created and dropped on the server of the PG*
# variables).  Not part of any test run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rows=${ROWS:-10000000}
months=${MONTHS:-10}
db=claudecost_partition
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export PGDATABASE=$db

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
run_ms() {
    local start
    start=$(date +%s%N)
    psql -X -q -o /dev/null -v ON_ERROR_STOP=1 "$@"
    ms_since "$start"
}

dropdb --if-exists "$db"
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION claudecost"

# A million rows per chunk, spread over the months from 2026-01-01 UTC.
# 200 users in 12 projects, each user with a main model and (one request in
# five) a second one; request shapes vary with the row number.
chunk=1000000
chunks=$(( (rows + chunk - 1) / chunk ))
generate_chunk() {
    local k=$1
    cat <<SQL
SELECT 'r$k-' || g, timestamptz '2026-01-01 00:00+00'
           + (($k * $chunk + g) * ($months * 30 * 86400.0 / $rows)) * interval '1 second',
       (ARRAY['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-6', 'claude-sonnet-5-5'])
           [1 + (g % 200 + CASE WHEN g % 5 = 0 THEN 1 ELSE 0 END) % 4],
       'user' || g % 200, 'project' || g % 200 % 12, 'key' || g % 200 % 40,
       100 + (g * 7919) % 30000, 10 + (g * 104729) % 3000, (g % 7) * 1000, 'prompt' || g % 5000
FROM generate_series(1::bigint, least($chunk, $rows - $k * $chunk)) g
SQL
}
columns="request_id, occurred_at, model, user_id, project_id, api_key_id, input_tokens, output_tokens, cache_read_tokens, prompt_hash"

psql -X -q -v ON_ERROR_STOP=1 -c "COPY ($(generate_chunk 0)) TO STDOUT" > "$work/chunk0.tsv"
copy_ms=$(run_ms -c "COPY claudecost.usage ($columns) FROM STDIN" < "$work/chunk0.tsv")
echo "COPY of $(wc -l < "$work/chunk0.tsv") rows: $copy_ms ms ($(( $(wc -l < "$work/chunk0.tsv") * 1000 / copy_ms )) rows/s)"
rm -f "$work/chunk0.tsv"
start=$(date +%s%N)
for k in $(seq 1 $((chunks - 1))); do
    psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO claudecost.usage ($columns) $(generate_chunk "$k")"
done
if [ "$chunks" -gt 1 ]; then
    insert_ms=$(ms_since "$start")
    echo "INSERT ... SELECT of $((rows - chunk)) rows in $((chunks - 1)) statements: $insert_ms ms" \
         "($(( (rows - chunk) * 1000 / insert_ms )) rows/s)"
fi
psql -X -q -c "VACUUM ANALYZE"

psql -X -At -F ' ' <<SQL
SELECT 'size per million rows: usage table ' || pg_size_pretty(pg_table_size('claudecost.usage') * 1000000 / count(*))
       || ', its indexes ' || pg_size_pretty(pg_indexes_size('claudecost.usage') * 1000000 / count(*))
       || ', total ' || pg_size_pretty(pg_total_relation_size('claudecost.usage') * 1000000 / count(*))
FROM claudecost.usage;
SELECT 'rollups for ' || (SELECT count(*) FROM claudecost.usage) || ' rows: ' || string_agg(c.relname || ' ' || pg_size_pretty(pg_total_relation_size(c.oid)) || ' (' || c.reltuples::bigint || ' rows)', ', ' ORDER BY c.relname)
FROM pg_class c
WHERE c.relnamespace = 'claudecost'::regnamespace AND c.relkind = 'r'
  AND (c.relname LIKE 'usage_hourly' OR c.relname LIKE 'usage_analytics%' OR c.relname = 'budget_spend');
SQL

cat > "$work/insert.pgbench" <<'SQL'
\set u random(1, 200)
INSERT INTO claudecost.usage (model, user_id, project_id, input_tokens, output_tokens)
VALUES ('claude-sonnet-4-6', 'user' || :u, 'project' || :u % 12, 1000 + :u, 200);
SQL
report_month="'2026-03-01', '2026-04-01', 'Europe/Berlin'"
# Digest of the reports, taken right before and right after the conversion.
fingerprint() {
    # Separate statements: generate_usage_report() cannot run inside a
    # parallel query (it starts a subtransaction).
    psql -X -At -c "SELECT md5(claudecost.generate_usage_report($report_month)::text)" \
        -c "SELECT md5(claudecost.get_cost_breakdown()::text)" \
        -c "SELECT md5(string_agg(d::text, ',' ORDER BY d.day, d.model)) FROM claudecost.daily_cost_by_model d" \
        > "$work/reports.$1"
}
measure() {
    local label=$1
    echo "$label: generate_usage_report (one month): $(run_ms -c "SELECT claudecost.generate_usage_report($report_month)") ms," \
         "get_cost_breakdown: $(run_ms -c "SELECT claudecost.get_cost_breakdown()") ms," \
         "daily_cost_by_model (30 days): $(run_ms -c "SELECT * FROM claudecost.daily_cost_by_model WHERE day >= '2026-03-01' AND day < '2026-03-31'") ms," \
         "usage rows of one day: $(run_ms -c "SELECT count(*), sum(total_cost) FROM claudecost.usage WHERE occurred_at >= '2026-03-10' AND occurred_at < '2026-03-11'") ms"
    local start
    start=$(date +%s%N)
    psql -X -At -c "SELECT check_name || ' ' || expected || ' ' || actual || CASE WHEN ok THEN ' t' ELSE ' f' END FROM claudecost.verify()" \
        > "$work/verify.$label"
    echo "$label: verify(): $(ms_since "$start") ms, $(grep -c ' t$' "$work/verify.$label") of $(wc -l < "$work/verify.$label") checks ok"
    echo "$label: single-row INSERT: $(pgbench -n -c 1 -t 2000 -f "$work/insert.pgbench" 2>/dev/null \
        | sed -n 's/^latency average = \(.*\)$/\1/p') (pgbench, one client, 2,000 transactions)"
}

measure plain
fingerprint plain
start=$(date +%s%N)
psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -v first_month=2026-01-01 \
     -v last_month="$(date -u -d "2026-01-01 + $months months" +%F)" -f "$here/partition-usage.sql"
echo "conversion to $((months + 1)) monthly partitions + DEFAULT: $(ms_since "$start") ms"
fingerprint partitioned
psql -X -At -c "SELECT 'partitions: ' || count(*) FROM pg_inherits WHERE inhparent = 'claudecost.usage'::regclass"
measure partitioned

echo "partition pruning, one day of rows:"
psql -X -At -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM claudecost.usage WHERE occurred_at >= '2026-03-10' AND occurred_at < '2026-03-11'"
echo "claudecost.ingest() on the partitioned table, a response without a timestamp and its replay:"
response='{"type":"message","id":"msg_partition_1","model":"claude-haiku-4-5","usage":{"input_tokens":10,"output_tokens":5}}'
psql -X -At -v ON_ERROR_STOP=1 -v response="$response" > "$work/ingest" <<'SQL'
SELECT claudecost.ingest(:'response');
SELECT claudecost.ingest(:'response');
SELECT count(*) FROM claudecost.usage WHERE request_id = 'msg_partition_1';
SQL
echo "rows changed by the ingest and the replay, rows stored: $(paste -sd ' ' "$work/ingest")"

status=0
if [ "$(paste -sd ' ' "$work/ingest")" != "1 0 1" ]; then
    echo "FAILED: ingest and replay on the partitioned table: expected 1 0 1"; status=1
fi
for label in plain partitioned; do
    if grep -q ' f$' "$work/verify.$label"; then
        echo "FAILED: verify() on the $label table:"; grep ' f$' "$work/verify.$label"; status=1
    fi
done
if ! cmp -s "$work/reports.plain" "$work/reports.partitioned"; then
    echo "FAILED: the reports differ after the conversion"; status=1
else
    echo "reports identical before and after the conversion"
fi
dropdb "$db"
exit "$status"
