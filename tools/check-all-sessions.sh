#!/usr/bin/env bash
# check-all-sessions.sh: ingest every Claude Code session log below a
# directory and compare the result with an independent recount.
#
# Usage: tools/check-all-sessions.sh DIRECTORY
#
# Creates a scratch database (claudecost_check_<pid>, dropped at the end)
# on the server that the PG* environment variables select, loads every
# *.jsonl file below DIRECTORY with tools/claudecost-load, and compares the
# per-model request counts, token sums and costs of claudecost.usage with
# tools/session-recount.sql, which parses the same lines with jsonb and
# never calls claudecost.ingest.  Then it loads everything again (nothing
# may change) and once more into an empty table in reverse line order
# (the figures may not change), and checks the hourly rollup against the
# ledger.  Exits 0 when every comparison agrees.
# Not part of `make installcheck`: the directory is not shipped.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: tools/check-all-sessions.sh DIRECTORY" >&2
    exit 1
fi
dir=$1
tools=$(cd "$(dirname "$0")" && pwd)
db=claudecost_check_$$

createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
psql -X -q -d "$db" -c 'CREATE EXTENSION claudecost'

mapfile -t files < <(find "$dir" -type f -name '*.jsonl' -not -name '_*' | LC_ALL=C sort)
echo "files: ${#files[@]} ($(printf '%s\n' "${files[@]}" | grep -c /subagents/ || true) in subagents/)"

start=$(date +%s%N)
"$tools/claudecost-load" -d "$db" "${files[@]}"
end=$(date +%s%N)
echo "first load: $(( (end - start) / 1000000 )) ms"
echo "second load (replay):"
"$tools/claudecost-load" -d "$db" "${files[@]}"

script=$(mktemp)
trap 'rm -f "$script"; dropdb --if-exists "$db"' EXIT
{
    echo '\set ON_ERROR_STOP 1'
    echo 'CREATE TEMP TABLE staging (line_number bigint GENERATED ALWAYS AS IDENTITY, line text);'
    echo 'CREATE TEMP TABLE session_line (file text, line_number bigint, line text);'
    for file in "${files[@]}"; do
        echo "\\copy staging (line) FROM '$file' WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
        echo "INSERT INTO session_line SELECT '${file//\'/\'\'}', line_number, line FROM staging;"
        echo 'TRUNCATE staging RESTART IDENTITY;'
    done
    echo "\\i $tools/session-recount.sql"
    cat <<'SQL'
\pset footer off
SELECT count(*) AS lines,
       count(*) FILTER (WHERE line::jsonb ->> 'type' = 'assistant') AS assistant_lines,
       count(DISTINCT line::jsonb -> 'message' ->> 'id')
           FILTER (WHERE line::jsonb ->> 'type' = 'assistant') AS distinct_responses,
       count(*) FILTER (WHERE line::jsonb -> 'data' ->> 'type' = 'agent_progress'
                          AND line::jsonb -> 'data' -> 'message' -> 'message' ? 'usage')
           AS progress_lines_with_usage
FROM session_line WHERE line ~ '\S';
\echo independent recount per model:
SELECT * FROM recount_by_model ORDER BY model COLLATE "C";
\echo ingested per model:
SELECT * FROM ingest_by_model ORDER BY model COLLATE "C";
SELECT count(*) AS mismatches_after_two_loads FROM recount_mismatch \gset
\echo mismatches after two loads: :mismatches_after_two_loads
DELETE FROM claudecost.usage;
CREATE TEMP VIEW lines_reversed AS
SELECT row_number() OVER (ORDER BY file DESC, line_number DESC) AS line_number, line
FROM session_line;
SELECT lines, rows_changed, errors FROM claudecost.ingest_lines('lines_reversed', 'reversed');
SELECT count(*) AS mismatches_after_reverse_load FROM recount_mismatch \gset
\echo mismatches after a reverse-order load: :mismatches_after_reverse_load
SELECT sum(total_cost) AS total_cost, count(*) FILTER (WHERE total_cost IS NULL) AS unpriced
FROM claudecost.usage;
SELECT count(*) AS rollup_differences FROM claudecost.verify_rollups() \gset
\echo hourly rollup keys that differ from the ledger: :rollup_differences
SELECT (:mismatches_after_two_loads + :mismatches_after_reverse_load + :rollup_differences) = 0
       AS agree \gset
\if :agree
\echo OK: ingest agrees with the independent recount
\else
\echo FAILED: see the mismatching models above
SELECT * FROM recount_mismatch;
\quit 2
\endif
SQL
} > "$script"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$script"
