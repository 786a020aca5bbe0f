#!/usr/bin/env bash
# bench/budget/check.sh: cost of claudecost.budget_check.
#
# Usage: bench/budget/check.sh [SMALL_ROWS] [LARGE_ROWS] [SECONDS] [ROUNDS]
#        (defaults 100000, 10000000, 20, 5)
#
# Builds two scratch databases (claudecost_budget_check_<rows>_<pid>,
# dropped at the end) on the server that the PG* variables select, each with
# the budgets of budgets.sql and SMALL_ROWS or LARGE_ROWS usage rows spread
# over the two years before now (100 users, 10 projects) and one at now,
# inserted through the pricing, rollup and budget triggers.  Then measures,
# in the same run:
#   throughput  pgbench -M prepared -c 8 -j 2 -T SECONDS of budget_check
#               against SELECT 1 on the small database, ROUNDS runs of
#               each, alternating; the median ratio is the result;
#   latency     pgbench -M prepared -c 1 -T SECONDS of budget_check on each
#               database (small, large, small, large; the mean of each pair).
# The check binds five budgets (global, project, user, model pattern,
# rolling 24 hours).  The throughput is measured again for a scope that only
# the global and the rolling budget cover (check-two.pgbench), and as of a
# time before every budget starts (check-none.pgbench).  No budget applies
# then and no table is read, so that ratio is the cost of the call itself:
# the executor's function scan of a 7-argument function that returns an
# 11-column row.  Not part of any test.
set -euo pipefail

small=${1:-100000}
large=${2:-10000000}
seconds=${3:-20}
rounds=${4:-5}
here=$(cd "$(dirname "$0")" && pwd)
dbs=()
cleanup() { for d in "${dbs[@]}"; do dropdb --if-exists "$d"; done; }
trap cleanup EXIT

# Creates database DB with the benchmark budgets and ROWS usage rows.
build() {
    local db=$1 rows=$2
    createdb "$db"
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION claudecost' -f "$here/budgets.sql" >/dev/null
    local chunk=1000000 done=0 n started
    started=$(date +%s)
    while [ "$done" -lt "$rows" ]; do
        n=$(( rows - done < chunk ? rows - done : chunk ))
        psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "
            INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens)
            SELECT now() - interval '730 days' * random(), 'bench-model', 'u' || (i % 100 + 1),
                   'p' || (i % 10 + 1), 1000 + i % 5000, 200 + i % 700
              FROM generate_series($((done + 1)), $((done + n))) i"
        done=$(( done + n ))
    done
    # A live ledger has spend in the current hour and day: the row that
    # follows a check.
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "
        INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens)
        VALUES (now(), 'bench-model', 'u1', 'p1', 1000, 200)"
    psql -X -q -d "$db" -c 'VACUUM ANALYZE' >/dev/null
    echo "built $db: $rows usage rows in $(( $(date +%s) - started )) s," \
         "$(psql -X -At -d "$db" -c 'SELECT count(*) FROM claudecost.budget_spend') counter rows"
}

# Prints the tps or the average latency (ms) of a pgbench run.
run() {
    local what=$1 clients=$2 db=$3 file=$4 out
    out=$(pgbench -n -M prepared -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" -T "$seconds" -f "$file" "$db" 2>&1)
    if [ "$what" = tps ]; then
        sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<< "$out"
    else
        sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<< "$out"
    fi
}

db_small=claudecost_budget_check_${small}_$$
db_large=claudecost_budget_check_${large}_$$
dbs=("$db_small" "$db_large")
build "$db_small" "$small"
build "$db_large" "$large"

# Throughput ratio of pgbench script FILE to SELECT 1 on the small database.
# Runs alternate, SELECT 1 first and last.  Each run of FILE is divided by
# the mean of the SELECT 1 runs around it, so load that changes during the
# benchmark moves both.  Prints every ratio and the median.
throughput() {
    local file=$1 label=$2 before after check ratios=() i
    before=$(run tps 8 "$db_small" "$here/select1.pgbench")
    for i in $(seq 1 "$rounds"); do
        check=$(run tps 8 "$db_small" "$file")
        after=$(run tps 8 "$db_small" "$here/select1.pgbench")
        ratios+=("$(awk -v c="$check" -v a="$before" -v b="$after" 'BEGIN { printf "%.3f", 2 * c / (a + b) }')")
        echo "  round $i: SELECT 1 $before and $after tps, $label $check tps"
        before=$after
    done
    echo "throughput ratio, 8 clients, $label: median $(printf '%s\n' "${ratios[@]}" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')" \
        "of ${ratios[*]}"
}

throughput "$here/check.pgbench" "budget_check, five budgets apply"
throughput "$here/check-two.pgbench" "budget_check, two budgets apply (global monthly, rolling 24 hours)"
throughput "$here/check-none.pgbench" "budget_check, no budget applies (as_of before every budget)"

s1=$(run latency 1 "$db_small" "$here/check.pgbench")
l1=$(run latency 1 "$db_large" "$here/check.pgbench")
s2=$(run latency 1 "$db_small" "$here/check.pgbench")
l2=$(run latency 1 "$db_large" "$here/check.pgbench")
ls=$(awk -v a="$s1" -v b="$s2" 'BEGIN { printf "%.4f", (a + b) / 2 }')
ll=$(awk -v a="$l1" -v b="$l2" 'BEGIN { printf "%.4f", (a + b) / 2 }')
echo "latency, 1 client: $small rows $ls ms ($s1, $s2), $large rows $ll ms ($l1, $l2)," \
     "ratio $(awk -v a="$ll" -v b="$ls" 'BEGIN { printf "%.3f", a / b }')"
