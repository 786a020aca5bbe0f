#!/usr/bin/env bash
# Instructions per budget_check, counted by valgrind's callgrind in a
# single-user backend, against a prepared SELECT 1 in the same run.
# Instruction counts repeat exactly for the same build and data, so this
# complements bench/budget/check.sh on a machine whose load makes
# throughput vary.
#
# The database contains the budgets of budgets.sql, 100,000 usage rows over the
# two years before now and one row at now.  Each figure is (instructions for
# WARM + N executions - instructions for WARM executions) / N of one
# prepared statement, so backend start and first-use caches cancel out.
#
# Usage: bench/budget/instructions.sh   (env: N, default 300; WARM, default
#        100; PG_CONFIG selects the PostgreSQL build, with claudecost
#        installed)
# Needs valgrind.  Run as root (the backend then runs as postgres) or as the
# owner of a PostgreSQL installation.
set -euo pipefail
n=${N:-300}
warm=${WARM:-100}
here=$(cd "$(dirname "$0")" && pwd)
bindir=$(${PG_CONFIG:-pg_config} --bindir)
# shellcheck source=bench/common/server-user.sh
. "$here/../common/server-user.sh"

# Runs the SQL on stdin in a single-user backend, statement by statement.
single_user() {
    local input=$work/input.sql
    cat > "$input"
    chmod 644 "$input"
    as_server_user bash -c "$bindir/postgres --single -D $work/data -c fsync=off postgres < $input" >/dev/null 2>&1
}

# Prints the instructions of COUNT executions of the prepared SQL.
executions() {
    local sql=$1 count=$2 input=$work/input.sql
    { echo "PREPARE q AS $sql"; for _ in $(seq 1 "$count"); do echo "EXECUTE q;"; done; } > "$input"
    chmod 644 "$input"
    as_server_user bash -c "valgrind --tool=callgrind --callgrind-out-file=$work/callgrind.out \
        $bindir/postgres --single -D $work/data -c fsync=off -c jit=off postgres < $input" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

per_execution() {
    local base full
    base=$(executions "$1" "$warm")
    full=$(executions "$1" $((warm + n)))
    echo $(( (full - base) / n ))
}

as_server_user "$bindir/initdb" -D "$work/data" -A trust -U postgres >/dev/null
{
    echo "CREATE EXTENSION claudecost;"
    # One statement per line, as the single-user backend reads them.
    grep -v '^--' "$here/budgets.sql" | tr '\n' ' ' | sed 's/;/;\n/g'
    echo "INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens) SELECT now() - interval '730 days' * random(), 'bench-model', 'u' || (i % 100 + 1), 'p' || (i % 10 + 1), 1000 + i % 5000, 200 + i % 700 FROM generate_series(1, 100000) i;"
    echo "INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens) VALUES (now(), 'bench-model', 'u1', 'p1', 1000, 200);"
    echo "VACUUM ANALYZE;"
} | single_user

select1=$(per_execution "SELECT 1;")
five=$(per_execution "SELECT action FROM claudecost.budget_check(0.01, 'u1', 'p1', 'bench-model');")
two=$(per_execution "SELECT action FROM claudecost.budget_check(0.01, 'u2', 'p99', 'other-model');")
none=$(per_execution "SELECT action FROM claudecost.budget_check(0.01, 'u1', 'p1', 'bench-model', as_of => '2019-12-31');")
echo "instructions per execution: SELECT 1 $select1"
echo "budget_check, five budgets apply: $five ($(awk -v a="$five" -v b="$select1" 'BEGIN { printf "%.2f", a / b }') x SELECT 1)"
echo "budget_check, two budgets apply: $two ($(awk -v a="$two" -v b="$select1" 'BEGIN { printf "%.2f", a / b }') x SELECT 1)"
echo "budget_check, no budget applies (as_of before every budget): $none ($(awk -v a="$none" -v b="$select1" 'BEGIN { printf "%.2f", a / b }') x SELECT 1)"
