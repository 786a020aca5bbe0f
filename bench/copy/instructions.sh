#!/usr/bin/env bash
# Instructions per single-row INSERT, counted by valgrind's callgrind in a
# single-user backend: into public.bench_bare (the columns and indexes of
# claudecost.usage, no triggers), into claudecost.usage, and into
# claudecost.usage with three budgets that every row counts against.
# Instruction counts repeat exactly for the same build and input, so this
# complements bench/copy/run.sh on a machine whose load makes latencies vary.
#
# Each figure is (instructions for WARM + N inserts - instructions for WARM
# inserts) / N, so backend start and first-use caches cancel out.  The WARM
# inserts touch every rollup key once, so the measured inserts update
# existing rollup rows, as a long-running ledger does.
#
# Usage: bench/copy/instructions.sh   (env: N, default 200; WARM, default 250;
#        PG_CONFIG selects the PostgreSQL build, with claudecost installed)
# Needs valgrind.  Run as root (the backend then runs as postgres) or as the
# owner of a PostgreSQL installation.
set -euo pipefail
n=${N:-200}
warm=${WARM:-250}
bindir=$(${PG_CONFIG:-pg_config} --bindir)
# shellcheck source=bench/common/server-user.sh
. "$(cd "$(dirname "$0")" && pwd)/../common/server-user.sh"

as_server_user "$bindir/initdb" -D "$work/data" -A trust -U postgres >/dev/null

# Runs SQL from stdin in a single-user backend; prints what callgrind counted.
single_user() {
    local input=$work/input.sql
    cat > "$input"
    chmod 644 "$input"
    as_server_user bash -c "valgrind --tool=callgrind --callgrind-out-file=$work/callgrind.out \
        $bindir/postgres --single -D $work/data -c fsync=off -c jit=off postgres < $input" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# Recreates the extension, the bare table and, with "budgets", three budgets.
setup() {
    {
        echo "DROP EXTENSION IF EXISTS claudecost CASCADE;"
        echo "CREATE EXTENSION claudecost;"
        echo "DROP TABLE IF EXISTS public.bench_bare;"
        echo "CREATE TABLE public.bench_bare (LIKE claudecost.usage INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING INDEXES);"
        if [ "${1:-}" = budgets ]; then
            echo "SELECT claudecost.create_budget('bench global', 1000000000, 'monthly', starts_at => '2020-01-01');"
            echo "SELECT claudecost.create_budget('bench daily', 1000000000, 'daily', time_zone => 'Europe/Berlin', starts_at => '2020-01-01');"
            echo "SELECT claudecost.create_budget('bench sonnet', 1000000000, 'weekly', model => 'claude-sonnet-%', starts_at => '2020-01-01');"
        fi
    } | as_server_user "$bindir/postgres" --single -D "$work/data" postgres >/dev/null 2>&1
}

# One INSERT per line; 200 user and project combinations.
inserts() {
    local table=$1 count=$2 i
    for i in $(seq 1 "$count"); do
        echo "INSERT INTO $table (occurred_at, model, user_id, project_id, input_tokens, output_tokens, cache_read_tokens) VALUES (now(), 'claude-sonnet-4-5', 'user$((i % 50))', 'project$((i % 8))', $((1000 + i)), 200, 3000);"
    done
}

per_insert() {
    local table=$1 budgets=${2:-} base full
    setup "$budgets"
    base=$(inserts "$table" "$warm" | single_user)
    setup "$budgets"
    full=$(inserts "$table" $((warm + n)) | single_user)
    echo $(( (full - base) / n ))
}

bare=$(per_insert public.bench_bare)
usage=$(per_insert claudecost.usage)
budgets=$(per_insert claudecost.usage budgets)
echo "instructions per single-row INSERT (callgrind, $n inserts after $warm):"
echo "  bare table:                 $bare"
echo "  claudecost.usage:           $usage  ($(echo "scale=2; $usage / $bare" | bc)x bare)"
echo "  usage, three budgets apply: $budgets  ($(echo "scale=2; $budgets / $bare" | bc)x bare)"
