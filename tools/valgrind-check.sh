#!/usr/bin/env bash
# Runs the pg_regress and isolation suites (make installcheck) against a
# scratch cluster whose postgres runs under valgrind memcheck, then prints
# every valgrind error whose stack contains claudecost.so and their count.
# Exits 0 when that count is 0, 1 when it is not, 2 on a setup failure.
#
# Usage: tools/valgrind-check.sh [PORT]       (default port 5499)
#        REGRESS="ingest optimizer" tools/valgrind-check.sh   (those tests only,
#        no isolation tests unless ISOLATION names some)
# PG_CONFIG selects the PostgreSQL whose postgres runs (and where the
# extension must already be installed: make install PG_CONFIG=...).
# Needs valgrind.  Run as root (the server then runs as the postgres user)
# or as an ordinary user.  The run takes about 25 times as long as a plain
# make installcheck, so it is not part of tools/test.sh.
# The logs stay in tmp_valgrind/ (one file per process), or in
# $VALGRIND_WORK when set.  The server listens on a Unix socket in that
# directory only.
set -uo pipefail
cd "$(dirname "$0")/.."

port=${1:-5499}
pg_config=${PG_CONFIG:-pg_config}
bindir=$($pg_config --bindir)
work=${VALGRIND_WORK:-$PWD/tmp_valgrind}
data=$work/data
logs=$work/logs

if ! command -v valgrind >/dev/null; then
    echo "valgrind-check: valgrind is not installed" >&2
    exit 2
fi

# Runs a command as the postgres user when called as root.
as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}

rm -rf "$work"
mkdir -p "$data" "$logs"
[ "$(id -u)" = 0 ] && chown -R postgres "$work"

as_server_user "$bindir/initdb" -D "$data" -A trust -U postgres >"$work/initdb.log" 2>&1 || {
    cat "$work/initdb.log" >&2
    exit 2
}

# Every backend is a fork of the postmaster, which valgrind follows; the
# suppression file hides known reports of PostgreSQL itself.  JIT is off
# because LLVM's generated code only adds noise.
as_server_user valgrind --trace-children=yes --track-origins=yes \
    --leak-check=no --error-limit=no --num-callers=40 \
    --suppressions="$PWD/tools/valgrind.supp" --log-file="$logs/%p.log" \
    "$bindir/postgres" -D "$data" -p "$port" -k "$work" \
    -c listen_addresses= -c jit=off -c max_connections=40 \
    -c shared_buffers=32MB -c fsync=off \
    >"$work/server.log" 2>&1 &

for _ in $(seq 1 120); do
    "$bindir/pg_isready" -q -h "$work" -p "$port" && break
    sleep 1
done
if ! "$bindir/pg_isready" -q -h "$work" -p "$port"; then
    echo "valgrind-check: the server did not start; see $work/server.log" >&2
    exit 2
fi

start=$(date +%s)
# pcre2_jit_memory measures the backend's resident memory, which valgrind's
# own bookkeeping inflates, so it is left out of the default selection.
default_regress=$(ls sql/*.sql | sed 's|^sql/||; s|\.sql$||' | grep -vx pcre2_jit_memory | tr '\n' ' ')
if [ -n "${REGRESS:-}" ]; then
    selection=(REGRESS="$REGRESS" ISOLATION="${ISOLATION:-}")
else
    selection=(REGRESS="$default_regress")
    [ -n "${ISOLATION:-}" ] && selection+=(ISOLATION="$ISOLATION")
fi
PGHOST=$work PGPORT=$port PGUSER=postgres make installcheck PG_CONFIG="$pg_config" \
    "${selection[@]}" >"$work/installcheck.log" 2>&1
regress_status=$?
elapsed=$(( $(date +%s) - start ))

as_server_user "$bindir/pg_ctl" -D "$data" -m fast -w -t 300 stop >/dev/null

# A valgrind error is the block of lines from its first line to the next
# line that holds only the process prefix; keep those naming claudecost.so.
awk '
    /^==[0-9]+== [^ ]/ && !in_block { block = $0; in_block = 1; next }
    /^==[0-9]+== $/ && in_block {
        if (block ~ /claudecost\.so/) { print block "\n"; count++ }
        in_block = 0; next
    }
    in_block { block = block "\n" $0 }
    END { printf "%d\n", count > "/dev/stderr" }
' "$logs"/*.log >"$work/claudecost-errors.txt" 2>"$work/claudecost-error-count"
errors=$(cat "$work/claudecost-error-count")
all_errors=$(grep -h 'ERROR SUMMARY' "$logs"/*.log | awk '{ n += $4 } END { print n + 0 }')

cat "$work/claudecost-errors.txt"
grep -E 'tests passed|tests failed|failed \(ignoring\)' "$work/installcheck.log"
echo "valgrind-check: make installcheck exited $regress_status after ${elapsed} s"
echo "valgrind-check: $errors valgrind errors with claudecost.so in the stack," \
     "$all_errors in all (logs in $logs)"
[ "$errors" -eq 0 ]
