#!/usr/bin/env bash
# Crash consistency check.  Several clients write to the ledger at once
# (single-row INSERT, multi-row INSERT, claudecost.ingest() of real API
# responses, budget_reserve then an INSERT that settles the hold on a hard
# budget, or budget_release).  Each client writes the request_id of every
# transaction whose COMMIT the server acknowledged to its log.  Mid-run every
# server process is killed with SIGKILL, the server restarts and recovers
# from the WAL, and the check then requires:
#   - claudecost.verify(): every rollup, budget counter and hold agrees with
#     the raw rows;
#   - every acknowledged request_id is in claudecost.usage, once;
#   - the hard budget was not overspent;
#   - amcheck finds no corrupt heap page or B-tree index in the schema;
#   - no client saw an error other than the lost connection;
#   - a reservation and an insert still work after the restart.
# ROUNDS rounds run on the same data, so later rounds recover on top of
# earlier recoveries.
#
# The check kills its server, so it starts its own cluster (initdb, pg_ctl)
# in a temporary directory and ignores the PG* variables.  It uses the
# PostgreSQL binaries of `pg_config --bindir` (or PG_BINDIR), in which
# claudecost and amcheck (postgresql-15) must be installed.  As root, the
# server runs as the postgres user.  SIGKILL loses no page cache, so this
# tests WAL replay after a process crash; a power loss also tests fsync.
#
# Usage: tools/crash-check.sh [ROUNDS]     (default 3)
#   CLIENTS (default 4) writers per round; KEEP=1 keeps the cluster directory.
# Exits 0 when every round passes; prints one line per round.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
rounds=${1:-3}
clients=${CLIENTS:-4}
bindir=${PG_BINDIR:-$(pg_config --bindir)}
work=$(mktemp -d /tmp/claudecost-crash.XXXXXX)
chmod 755 "$work"
mkdir "$work/run" "$work/logs"

export PGHOST=$work/run PGPORT=${CRASH_PORT:-$((20000 + $$ % 20000))} PGUSER=postgres PGDATABASE=crash
unset PGPASSWORD PGSERVICE PGOPTIONS
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)

# initdb and postgres refuse to run as root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
[ "$(id -u)" -eq 0 ] && chown -R postgres "$work"

cleanup() {
    as_owner "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then
        echo "crash-check: cluster kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

as_owner "$bindir/initdb" -D "$work/data" -A trust -U postgres --no-sync >/dev/null
# Frequent checkpoints, so that crashes also fall between a checkpoint and
# the WAL written after it.  fsync and synchronous_commit keep their
# defaults (on): an acknowledged commit must survive.
cat >> "$work/data/postgresql.conf" <<EOF
port = $PGPORT
listen_addresses = ''
unix_socket_directories = '$work/run'
checkpoint_timeout = 30s
max_wal_size = 64MB
log_min_messages = warning
EOF

start_server() {
    # After a crash pg_ctl warns that "another server might be running": expected.
    as_owner "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 120 start >/dev/null 2>&1 \
        || { tail -n 20 "$work/server.log" >&2; return 1; }
}

# Prints the ids of the processes whose parent is $1 (read from /proc, so
# that the check needs no procps).
child_pids() {
    local status key value pid
    for status in /proc/[0-9]*/status; do
        pid=
        while read -r key value; do
            case $key in
                Pid:) pid=$value ;;
                PPid:) [ "$value" = "$1" ] && echo "$pid"; break ;;
            esac
        done < "$status" 2>/dev/null || true
    done
}

# Kills the postmaster and every child with SIGKILL.  The postmaster is
# stopped first so that it cannot start a new child between the listing and
# the kill, and the restart waits until every old process is gone (the new
# server refuses to start while one is still attached to the shared memory).
crash_server() {
    local postmaster pids pid
    postmaster=$(head -n 1 "$work/data/postmaster.pid")
    kill -STOP "$postmaster"
    pids="$postmaster $(child_pids "$postmaster" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    for pid in $pids; do
        while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    done
}

start_server
"$bindir/createdb" crash
"${psql[@]}" -o /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION claudecost;
CREATE EXTENSION amcheck;
-- 1 USD per million tokens: a row of n input tokens costs n / 10^6 USD.
INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('crash-model', 1, 1, '2000-01-01');
SELECT claudecost.create_budget('all', 1000000, 'monthly', hard_limit => false,
                                starts_at => now() - interval '40 days');
SELECT claudecost.create_budget('per user', 100, 'rolling', period_length => '24 hours', user_id => 'user1',
                                hard_limit => false, starts_at => now() - interval '40 days');
-- Real Messages API responses; each ingest gives one a new message id.
CREATE TABLE public.crash_payload (n integer GENERATED ALWAYS AS IDENTITY, body text, message_id text);
\copy public.crash_payload (body) FROM '$repo/data/samples/api/messages.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
UPDATE public.crash_payload SET message_id = body::jsonb ->> 'id';
-- Returns the reservation id, or 0 when the hard budget blocks the request.
CREATE FUNCTION public.crash_reserve(project text, estimate numeric) RETURNS bigint
LANGUAGE plpgsql AS \$\$
BEGIN
    RETURN claudecost.budget_reserve(project_id => project, estimated_cost => estimate);
EXCEPTION WHEN SQLSTATE 'CC001' THEN
    RETURN 0;
END
\$\$;
SQL
payloads=$("${psql[@]}" -At -c "SELECT count(*) FROM public.crash_payload")

# Writes the psql script of one client for one round: TRANSACTIONS
# transactions in a fixed rotation of kinds.  Query results go to /dev/null;
# \echo writes each acknowledged request_id to the client's stdout only
# after its COMMIT returned.
client_script() {
    local client=$1 round=$2
    awk -v c="$client" -v r="$round" -v n="${TRANSACTIONS:-20000}" -v payloads="$payloads" '
    BEGIN {
        print "\\o /dev/null"
        for (i = 1; i <= n; i++) {
            id = "c" c "r" r "-" i
            user = "user" (i % 7)
            project = "p" (i % 5)
            minutes = (i * 37 + c * 11) % 3000
            kind = i % 6
            if (kind == 0) {
                printf "INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, tags, input_tokens, output_tokens, cache_read_tokens, prompt_hash) VALUES (\047%s\047, now() - interval \047%d minutes\047, \047claude-sonnet-4-6\047, \047%s\047, \047%s\047, \047{t%d}\047, %d, %d, %d, \047h%d\047);\n", id, minutes, user, project, i % 3, 1000 + i % 9000, 10 + i % 900, (i % 4) * 1000, i % 50
                print "\\echo " id
            } else if (kind == 1) {
                # a response without billable usage stores no row
                printf "SELECT claudecost.ingest(replace(p.body, p.message_id, \047msg_%s\047), user_id => \047%s\047, project_id => \047ingest\047) > 0 AS stored FROM public.crash_payload p WHERE p.n = %d \\gset\n", id, user, 1 + i % payloads
                print "\\if :stored"
                print "\\echo msg_" id
                print "\\endif"
            } else if (kind == 2) {
                printf "INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, input_tokens, output_tokens) SELECT \047%s-\047 || g, now() - g * interval \0477 minutes\047, (ARRAY[\047claude-haiku-4-5\047, \047claude-opus-4-6\047, \047claude-nova-9\047])[1 + g %% 3], \047%s\047, \047%s\047, 100 * g, 10 * g FROM generate_series(1, 20) g;\n", id, user, project
                for (g = 1; g <= 20; g++) print "\\echo " id "-" g
            } else if (kind == 3 || kind == 5) {
                # reserve, then settle with a real cost of 60-100 % of the
                # estimate, or (one in four) release the hold
                estimate = 5 + i % 45
                printf "SELECT r > 0 AS reserved, r AS rid FROM public.crash_reserve(\047reserved%d\047, %d * 0.0001) r \\gset\n", r, estimate
                print "\\if :reserved"
                if (i % 4 == 3) {
                    print "SELECT claudecost.budget_release(:rid);"
                } else {
                    printf "INSERT INTO claudecost.usage (request_id, model, user_id, project_id, input_tokens, reservation_id) VALUES (\047%s\047, \047crash-model\047, \047%s\047, \047reserved%d\047, %d, :rid);\n", id, user, r, estimate * 100 * (6 + i % 5) / 10
                    print "\\echo " id
                }
                print "\\endif"
            } else {
                # one transaction of several statements
                print "BEGIN;"
                printf "INSERT INTO claudecost.usage (request_id, model, user_id, project_id, input_tokens, output_tokens) VALUES (\047%s-a\047, \047claude-sonnet-4-6\047, \047%s\047, \047%s\047, %d, 5);\n", id, user, project, 500 + i
                printf "SELECT claudecost.ingest(replace(p.body, p.message_id, \047msg_%s-b\047), project_id => \047%s\047) > 0 AS stored FROM public.crash_payload p WHERE p.n = %d \\gset\n", id, project, 1 + (i * 7) % payloads
                printf "UPDATE claudecost.usage SET output_tokens = output_tokens + 1 WHERE request_id = \047%s-a\047;\n", id
                print "COMMIT;"
                print "\\echo " id "-a"
                print "\\if :stored"
                print "\\echo msg_" id "-b"
                print "\\endif"
            }
        }
    }'
}

acked_total=0
for round in $(seq "$rounds"); do
    pids=()
    # A hard budget per round for the reserving clients, reached during the round.
    "${psql[@]}" -o /dev/null -c "SELECT claudecost.create_budget('reserved$round', 0.5, 'custom', project_id => 'reserved$round', period_length => '365 days', starts_at => now() - interval '1 hour')"
    for client in $(seq "$clients"); do
        client_script "$client" "$round" > "$work/logs/client$client.sql"
        "${psql[@]}" -f "$work/logs/client$client.sql" \
            > "$work/logs/acked-$round-$client.log" 2> "$work/logs/errors-$round-$client.log" &
        pids+=($!)
    done
    # Crash 4 to 12 seconds into the round.
    sleep "$((4 + RANDOM % 9)).$((RANDOM % 10))"
    crash_server
    for pid in "${pids[@]}"; do
        wait "$pid" || true
    done

    started=$(date +%s%N)
    start_server
    recovery_ms=$(( ($(date +%s%N) - started) / 1000000 ))

    # Errors other than the lost connection (psql reports it in these words).
    client_errors=$(cat "$work/logs/errors-$round-"*.log \
        | grep -v -e 'server closed the connection unexpectedly' \
                  -e 'This probably means the server terminated abnormally' \
                  -e 'before or while processing the request' \
                  -e 'connection to server was lost' \
                  -e 'terminating connection due to unexpected postmaster exit' \
                  -e 'no connection to the server' \
                  -e '^psql:.*: fatal: connection to server' \
                  -e '^[[:space:]]*$' || true)
    acked_round=$(cat "$work/logs/acked-$round-"*.log | wc -l)
    acked_total=$((acked_total + acked_round))

    result=$("${psql[@]}" -At -F ' ' <<SQL
CREATE TEMP TABLE acked (request_id text);
\copy acked FROM PROGRAM 'cat $work/logs/acked-*.log'
SELECT 'verify_failed=' || count(*) FILTER (WHERE NOT ok) FROM claudecost.verify();
SELECT 'missing=' || count(*) FROM acked a
 WHERE NOT EXISTS (SELECT 1 FROM claudecost.usage u WHERE u.request_id = a.request_id);
SELECT 'duplicate_acks=' || count(*) - count(DISTINCT request_id) FROM acked;
SELECT 'overspent=' || count(*) FROM claudecost.budget b
  JOIN claudecost.budget_spend s ON s.budget_id = b.id
 WHERE b.hard_limit AND s.spent > b.amount;
SELECT 'corrupt_pages=' || count(*)
  FROM pg_class c CROSS JOIN LATERAL verify_heapam(c.oid) v
 WHERE c.relnamespace = 'claudecost'::regnamespace AND c.relkind IN ('r', 'm');
SELECT 'indexes_checked=' || count(bt_index_check(c.oid, true))
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
 WHERE c.relnamespace = 'claudecost'::regnamespace AND a.amname = 'btree';
SELECT 'rows=' || count(*) FROM claudecost.usage;
-- Rows committed without an acknowledgement (in flight at the crash) and
-- the rows inserted after earlier restarts.
SELECT 'unacknowledged=' || count(*) FROM claudecost.usage u
 WHERE NOT EXISTS (SELECT 1 FROM acked a WHERE a.request_id = u.request_id);
SELECT 'held=' || count(*) FILTER (WHERE status = 'held') || ' settled=' || count(*) FILTER (WHERE status = 'settled')
       || ' released=' || count(*) FILTER (WHERE status = 'released') FROM claudecost.budget_reservation;
-- Writing still works: a reservation (or a block by the hard budget) and an insert.
SELECT 'after_restart=' || (public.crash_reserve('reserved$round', 0.0001) >= 0);
INSERT INTO claudecost.usage (request_id, model, input_tokens) VALUES ('after-$round', 'claude-haiku-4-5', 10);
SELECT 'verify_after_insert_failed=' || count(*) FILTER (WHERE NOT ok) FROM claudecost.verify();
SQL
)
    echo "crash-check round $round/$rounds: crashed after $acked_round acknowledged request_ids" \
         "($acked_total in all), recovery ${recovery_ms} ms;" $result
    for expect in verify_failed=0 missing=0 duplicate_acks=0 overspent=0 corrupt_pages=0 \
                  after_restart=true verify_after_insert_failed=0; do
        if ! grep -qw -- "$expect" <<< "$result"; then
            echo "crash-check: FAILED in round $round: expected $expect" >&2
            "${psql[@]}" -c "SELECT * FROM claudecost.verify() WHERE NOT ok" >&2 || true
            KEEP=1
            exit 1
        fi
    done
    if [ -n "$client_errors" ]; then
        echo "crash-check: FAILED in round $round: a client saw an error before the crash:" >&2
        head -n 20 <<< "$client_errors" >&2
        KEEP=1
        exit 1
    fi
    if [ "$acked_round" -eq 0 ]; then
        echo "crash-check: FAILED in round $round: no transaction committed before the crash" >&2
        exit 1
    fi
done
echo "crash-check: $rounds rounds passed"
