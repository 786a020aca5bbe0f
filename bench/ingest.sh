#!/usr/bin/env bash
# bench/ingest.sh: throughput of claudecost.ingest on Claude Code session
# logs, against a baseline that parses the same lines with jsonb in SQL and
# inserts the deduplicated rows with one INSERT ... SELECT.
#
# Usage: bench/ingest.sh DIRECTORY [ROUNDS]
#
# Loads every *.jsonl file below DIRECTORY into a staging table of a scratch
# database (claudecost_bench_<pid>, dropped at the end) on the server that
# the PG* environment variables select, then times, ROUNDS times each (best
# run reported):
#   ingest        SELECT claudecost.ingest(line) for every line, into an empty ledger;
#   replay        the same again over the full ledger (every line a no-op);
#   ingest_lines  claudecost.ingest_lines (the loader's path: JSONL chunks of
#                 1,000 lines, one upsert statement each), into an empty ledger;
#   baseline      jsonb parse + dedup by message id + INSERT, into an empty ledger.
# Both write through the pricing and rollup triggers.  Not part of any test.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
    echo "usage: bench/ingest.sh DIRECTORY [ROUNDS]" >&2
    exit 1
fi
dir=$1
rounds=${2:-3}
tools=$(cd "$(dirname "$0")/../tools" && pwd)
db=claudecost_bench_$$

createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
psql -X -q -d "$db" -c 'CREATE EXTENSION claudecost'

script=$(mktemp)
trap 'rm -f "$script"; dropdb --if-exists "$db"' EXIT
{
    echo '\set ON_ERROR_STOP 1'
    echo 'CREATE TABLE staging (line_number bigint GENERATED ALWAYS AS IDENTITY, line text);'
    echo 'CREATE TABLE session_line (file text, line_number bigint, line text);'
    find "$dir" -type f -name '*.jsonl' -not -name '_*' | LC_ALL=C sort | while IFS= read -r file; do
        echo "\\copy staging (line) FROM '$file' WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
    done
    echo "INSERT INTO session_line SELECT 'all', line_number, line FROM staging WHERE line IS NOT NULL;"
    echo 'ANALYZE session_line;'
    echo "\\i $tools/session-recount.sql"
    cat <<'SQL'
CREATE TEMP TABLE timing (test text, ms numeric);
CREATE VIEW lines_in_order AS SELECT line_number, line FROM session_line;
CREATE FUNCTION pg_temp.elapsed_ms(started timestamptz) RETURNS numeric
LANGUAGE sql AS $$ SELECT round(extract(epoch FROM clock_timestamp() - started) * 1000, 1) $$;
SQL
    for _ in $(seq "$rounds"); do
        cat <<'SQL'
TRUNCATE claudecost.usage;
SELECT clock_timestamp() AS started \gset
SELECT sum(claudecost.ingest(line)) FROM (SELECT line FROM session_line ORDER BY line_number) s \gset
INSERT INTO timing VALUES ('ingest', pg_temp.elapsed_ms(:'started'));
SELECT clock_timestamp() AS started \gset
SELECT sum(claudecost.ingest(line)) FROM (SELECT line FROM session_line ORDER BY line_number) s \gset
INSERT INTO timing VALUES ('replay', pg_temp.elapsed_ms(:'started'));
TRUNCATE claudecost.usage;
SELECT clock_timestamp() AS started \gset
SELECT * FROM claudecost.ingest_lines('lines_in_order') \gset
INSERT INTO timing VALUES ('ingest_lines', pg_temp.elapsed_ms(:'started'));
TRUNCATE claudecost.usage;
SELECT clock_timestamp() AS started \gset
INSERT INTO claudecost.usage (request_id, occurred_at, model, input_tokens, output_tokens,
    cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, web_search_requests,
    service_tier, inference_geo, speed)
SELECT message_id, occurred_at, model, input_tokens, output_tokens, w5m, w1h, cache_read,
       web_search, service_tier, inference_geo, speed
FROM recount_response
ON CONFLICT (request_id) DO NOTHING;
INSERT INTO timing VALUES ('baseline', pg_temp.elapsed_ms(:'started'));
SQL
    done
    cat <<'SQL'
SELECT count(*) AS lines, pg_size_pretty(sum(octet_length(line))) AS size FROM session_line \gset
\echo lines: :lines, size: :size, rounds: ROUNDS
SELECT test, min(ms) AS best_ms,
       round((SELECT count(*) FROM session_line) / (min(ms) / 1000)) AS lines_per_s
FROM timing GROUP BY test ORDER BY test;
SELECT round((SELECT min(ms) FROM timing WHERE test = 'ingest')
             / (SELECT min(ms) FROM timing WHERE test = 'baseline'), 2) AS ingest_vs_baseline,
       round((SELECT min(ms) FROM timing WHERE test = 'ingest_lines')
             / (SELECT min(ms) FROM timing WHERE test = 'baseline'), 2) AS ingest_lines_vs_baseline,
       round((SELECT min(ms) FROM timing WHERE test = 'replay')
             / (SELECT min(ms) FROM timing WHERE test = 'ingest'), 2) AS replay_vs_ingest;
SQL
} | sed "s/ROUNDS/$rounds/" > "$script"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$script"
