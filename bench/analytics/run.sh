#!/bin/sh
# Analytics benchmark: the 30-day usage report from the rollups versus the
# same figures from raw usage rows, at 10^6 and at 10^7 ledger rows.
#
# Run from the repository root against a server where claudecost is
# installed (psql settings in PGHOST, PGPORT, PGUSER):
#   bench/analytics/run.sh [SMALL_ROWS [LARGE_ROWS]]
# Creates the database claudecost_bench (dropped first if it exists) and
# prints a summary with the ratios at the end.  10^7 rows need about 6 GB of
# disk and take tens of minutes to load through the usage triggers.
set -eu

SMALL=${1:-1000000}
LARGE=${2:-10000000}
BATCH=500000
DB=claudecost_bench
OUT=bench/out/analytics
mkdir -p "$OUT"

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f bench/analytics/setup.sql

# Load rows (loaded, target] through the usage triggers, one transaction
# per batch; prints the load rate.
load() {
    from=$1
    to=$2
    started=$(date +%s)
    while [ "$from" -lt "$to" ]; do
        last=$((from + BATCH))
        if [ "$last" -gt "$to" ]; then last=$to; fi
        psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "SET synchronous_commit = off" \
            -c "SELECT bench_load($((from + 1)), $last)" >/dev/null
        from=$last
    done
    seconds=$(( $(date +%s) - started ))
    echo "loaded rows $1..$2 in ${seconds}s ($(( ($2 - $1) / (seconds > 0 ? seconds : 1) )) rows/s)"
    psql -X -q -d "$DB" -c "VACUUM ANALYZE"
}

measure() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -v label="$1" -f bench/analytics/measure.sql | tee "$OUT/measure-$1.txt"
}

load 0 "$SMALL"
measure "$SMALL"
load "$SMALL" "$LARGE"
measure "$LARGE"

value() { grep -o "$2=[^ ]*" "$OUT/measure-$1.txt" | cut -d= -f2; }
psql -X -A -t -d "$DB" -c "SELECT format(
    E'summary: report at %s rows %s ms, at %s rows %s ms (ratio %s, target <= 1.5)\n'
    || E'summary: raw rows at %s rows %s ms: rollup report %s times faster (target >= 50)\n'
    || E'summary: raw rows at %s rows %s ms: rollup report %s times faster\n'
    || E'summary: same figures from rollup and raw rows: %s at %s rows, %s at %s rows',
    $SMALL, $(value "$SMALL" report_ms), $LARGE, $(value "$LARGE" report_ms),
    round($(value "$LARGE" report_ms) / $(value "$SMALL" report_ms), 2),
    $LARGE, $(value "$LARGE" raw_ms), round($(value "$LARGE" raw_ms) / $(value "$LARGE" report_ms), 1),
    $SMALL, $(value "$SMALL" raw_ms), round($(value "$SMALL" raw_ms) / $(value "$SMALL" report_ms), 1),
    '$(value "$SMALL" same_figures)', $SMALL, '$(value "$LARGE" same_figures)', $LARGE)" | tee "$OUT/summary.txt"

# The speedup means nothing unless both sides computed the same figures.
if [ "$(value "$SMALL" same_figures)" != t ] || [ "$(value "$LARGE" same_figures)" != t ]; then
    echo "FAIL: the rollup report and the raw-row baseline disagree" >&2
    exit 1
fi
