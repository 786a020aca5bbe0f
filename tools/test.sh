#!/usr/bin/env bash
# Builds and installs claudecost, then runs every test suite against a
# scratch PostgreSQL 15 cluster (pg_virtualenv) and ends with the line
# "N passed, N failed".  Exits non-zero when any test failed.
#
# Suites: pg_regress and isolation tests (make installcheck), plus the extra
# checks listed in tools/test-suites.d/ (each an executable that exits 0 on
# success), which need the extension installed.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh || exit 1
make -s || exit 1
make -s install || exit 1

log=$(mktemp)
# pg_virtualenv starts a throw-away cluster and sets PGHOST, PGPORT, PGUSER
# and PGPASSWORD for the command it runs.
pg_virtualenv -t -v 15 make installcheck 2>&1 | tee "$log"
regress_status=${PIPESTATUS[0]}

passed=$(grep -Ec '\.\.\. ok|^ok [0-9]+ ' "$log")
failed=$(grep -Ec '\.\.\. FAILED|^not ok [0-9]+ ' "$log")
if [ "$regress_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # pg_regress itself failed (no server, no test ran): count it.
    failed=1
fi
if [ -f regression.diffs ] && [ "$failed" -gt 0 ]; then
    echo "--- regression.diffs (first 200 lines)"
    head -n 200 regression.diffs
fi

for suite in tools/test-suites.d/*; do
    [ -x "$suite" ] || continue
    echo "=== $(basename "$suite")"
    # Through a pipe: a suite's child process then cannot seek or truncate
    # the caller's output file.
    pg_virtualenv -t -v 15 "$suite" 2>&1 | cat
    if [ "${PIPESTATUS[0]}" -eq 0 ]; then
        passed=$((passed + 1))
    else
        echo "FAILED: $(basename "$suite")"
        failed=$((failed + 1))
    fi
done

rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
