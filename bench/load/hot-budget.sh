#!/usr/bin/env bash
# Insert rate of CLIENTS concurrent single-row INSERTs (one distinct user,
# project and model hour key per client) with no budget, with one budget
# per client's project (no shared counter row), with one global budget
# (one counter row that every insert updates), and without and with that
# budget under synchronous_commit = off.  Each case runs DURATION seconds (default
# 30) with pgbench; the ratio against the no-budget case shows how much
# the shared counter row serializes the writers.
# Usage: bench/load/hot-budget.sh   (CLIENTS=8 DURATION=30; creates and
# drops the database claudecost_hot_budget on the server of the PG*
# variables).  Not part of any test run.
set -euo pipefail
clients=${CLIENTS:-8}
duration=${DURATION:-30}
db=claudecost_hot_budget
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PGDATABASE=$db

dropdb --if-exists "$db"
createdb "$db"
psql -X -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION claudecost"

# :client_id keeps each client on its own rollup keys, so only a budget
# counter is shared.
cat > "$work/insert.pgbench" <<'SQL'
INSERT INTO claudecost.usage (model, user_id, project_id, input_tokens, output_tokens)
VALUES ('claude-sonnet-4-6', 'user' || :client_id, 'project' || :client_id, 1000, 100);
SQL

tps() {
    pgbench -n -c "$clients" -j 2 -T "$duration" -f "$work/insert.pgbench" 2>/dev/null \
        | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

no_budget=$(tps)
# As many budgets and counter rows, one per client's project: the same
# trigger work, nothing shared.
psql -X -q -o /dev/null -c "SELECT claudecost.create_budget('project' || c, 1000000000, 'monthly', project_id => 'project' || c, hard_limit => false) FROM generate_series(0, $clients - 1) c"
own_budget=$(tps)
psql -X -q -o /dev/null -c "SELECT claudecost.delete_budget(id) FROM claudecost.budget"
psql -X -q -o /dev/null -c "SELECT claudecost.create_budget('global', 1000000000, 'monthly', hard_limit => false)"
global_budget=$(tps)
psql -X -q -c "ALTER DATABASE $db SET synchronous_commit = off"
global_async=$(tps)
psql -X -q -o /dev/null -c "SELECT claudecost.delete_budget(id) FROM claudecost.budget"
no_budget_async=$(tps)

echo "$clients clients, $duration s each, single-row INSERT:"
echo "  no budget:                              $no_budget tps"
echo "  one budget per client:                  $own_budget tps ($(echo "scale=2; $own_budget / $no_budget" | bc) of no budget)"
echo "  one global budget:                      $global_budget tps ($(echo "scale=2; $global_budget / $no_budget" | bc) of no budget)"
echo "  no budget, synchronous_commit = off:    $no_budget_async tps"
echo "  global budget, synchronous_commit = off: $global_async tps ($(echo "scale=2; $global_async / $no_budget_async" | bc) of no budget)"
failed=$(psql -X -At -c "SELECT count(*) FROM claudecost.verify() WHERE NOT ok")
echo "verify(): $failed checks failed"
dropdb "$db"
[ "$failed" -eq 0 ]
