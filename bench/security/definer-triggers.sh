#!/usr/bin/env bash
# bench/security/definer-triggers.sh: cost of running the statement
# triggers that maintain rollups and budget counters (usage_rollup,
# usage_budget) as SECURITY DEFINER, against the same triggers as SECURITY
# INVOKER, measured in the same database in alternating rounds.
#
# Usage: bench/security/definer-triggers.sh [ROUNDS] [ROWS]
#
# Each round inserts ROWS single-row statements, each committed on its own
# (synchronous_commit off), with one budget defined so that the budget
# trigger does its work.  Prints the median microseconds per INSERT of each
# mode and their ratio.  Runs in a scratch database (claudecost_bench_<pid>,
# dropped at the end) on the server that the PG* environment variables
# select.  Not part of any test.
set -euo pipefail

rounds=${1:-8}
rows=${2:-2000}
db=claudecost_bench_$$

createdb "$db"
script=$(mktemp)
trap 'rm -f "$script"; dropdb --if-exists "$db"' EXIT

{
    cat <<'EOF'
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET synchronous_commit = off;
CREATE EXTENSION claudecost;
SELECT claudecost.create_budget('bench', 1000000, 'monthly', starts_at => '2025-01-01') AS budget_id \gset
CREATE PROCEDURE insert_rows(n integer, prefix text) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens, output_tokens)
        VALUES (prefix || ':' || i, '2025-03-02 10:00'::timestamptz + i * interval '1 second',
                'claude-3-haiku-20240307', 'p' || (i % 10), 1000, 100);
        COMMIT;
    END LOOP;
END
$$;
CREATE TABLE round_time (mode text, ms float8);
EOF
    echo "CALL insert_rows($rows, 'warm');"
    for round in $(seq 1 "$rounds"); do
        if [ $((round % 2)) = 0 ]; then mode=DEFINER; else mode=INVOKER; fi
        cat <<EOF
ALTER FUNCTION claudecost.usage_rollup() SECURITY $mode;
ALTER FUNCTION claudecost.usage_budget() SECURITY $mode;
SELECT clock_timestamp() AS started \gset
CALL insert_rows($rows, '$mode$round');
INSERT INTO round_time SELECT '$mode', extract(epoch FROM clock_timestamp() - :'started'::timestamptz) * 1000;
EOF
    done
    cat <<EOF
WITH m AS (
    SELECT mode, (percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric * 1000 / $rows AS us
    FROM round_time GROUP BY mode
)
SELECT round(d.us, 1) AS definer_us_per_insert, round(i.us, 1) AS invoker_us_per_insert,
       round(d.us / i.us, 3) AS ratio
FROM m d, m i WHERE d.mode = 'DEFINER' AND i.mode = 'INVOKER';
EOF
} > "$script"

psql -X -q -d "$db" -f "$script"
