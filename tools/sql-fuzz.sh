#!/usr/bin/env bash
# Sends mutated usage JSON through claudecost.ingest() and ingest_lines(),
# and random text through token_count(), token_encode() and
# optimize_prompt(), in a UTF8, a SQL_ASCII and a LATIN1 database of the
# server that PGHOST/PGPORT/PGUSER select (which must have claudecost
# installed).  Fails when a call raises an internal error (SQLSTATE class
# XX) or loses the connection, when the postmaster restarted (a backend
# crashed), or when the rows of a good ingest done first changed.
#
# Usage: tools/sql-fuzz.sh [SEED] [CASES]     (defaults 1 and 400)
# The same SEED gives the same inputs; they are kept in the directory the
# script prints (kept on failure, or always with SQL_FUZZ_KEEP=1), so a
# failing case can be sent again with psql.
set -uo pipefail
seed=${1:-1}
cases=${2:-400}
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/claudecost-sql-fuzz.XXXXXX)
chmod 755 "$work"
echo "sql-fuzz: seed $seed, $cases cases per database, inputs in $work"
failed=0

# Mutation bases: real records of every format.  The good ingest uses
# data/samples/api/messages.jsonl, whose ids no base shares.
{
    head -n 20 data/samples/claude-code/projects/sample-project/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl
    cat data/samples/batch/results.jsonl data/samples/errors/*.jsonl data/test/*.jsonl
    tr -d '\n' < data/samples/openai/openrouter-response.json; echo
} | awk 'length($0) <= 20000' > "$work/bases"
for sse in data/samples/api/stream-*.sse data/samples/errors/stream-error.sse; do
    cp "$sse" "$work/sse-$(basename "$sse")"
done

# Writes case files $work/case-N: JSON mutations (truncation, type swaps,
# huge and negative numbers, deep nesting, invalid UTF-8, \u0000, lone
# surrogates) and random bytes for the text functions.
LC_ALL=C awk -v seed="$seed" -v cases="$cases" -v dir="$work" '
    function pick(n) { return int(rand() * n) + 1 }
    function random_bytes(n,   s, i, b) {
        s = ""
        for (i = 0; i < n; i++) {
            b = pick(255)
            if (b == 92 || b == 39) b = 32
            s = s sprintf("%c", b)
        }
        return s
    }
    function replace_number(line, value) {
        if (match(line, /:[0-9]+/) == 0) return line value
        return substr(line, 1, RSTART) value substr(line, RSTART + RLENGTH)
    }
    function nest(n,   left, right, i) {
        left = ""; right = ""
        for (i = 0; i < n; i++) { left = left "["; right = right "]" }
        return "{\"type\":\"message\",\"id\":\"msg_deep\",\"model\":\"m\",\"usage\":" left "1" right "}"
    }
    BEGIN {
        srand(seed)
        numbers[1] = "1e400"; numbers[2] = "9223372036854775808"; numbers[3] = "9223372036854775807"
        numbers[4] = "18446744073709551616"; numbers[5] = "-1"; numbers[6] = "-0"; numbers[7] = "1.5"
        numbers[8] = "1e-400"; numbers[9] = "9007199254740993"; numbers[10] = "4294967297"
        numbers[11] = "\"12\""; numbers[12] = "{}"; numbers[13] = "[]"; numbers[14] = "null"
        numbers[15] = "true"; numbers[16] = "-1e400"; numbers[17] = "2147483648"
        strings[1] = "\"a\\u0000b\""; strings[2] = "\"\\ud800\""; strings[3] = "\"\\udc00x\""
        strings[4] = "\"\\ud800\\u0041\""; strings[5] = "\"\xff\xfe\""; strings[6] = "\"\xc3\""
        strings[7] = "\"\xed\xa0\x80\""; strings[8] = "123"; strings[9] = "[\"x\"]"; strings[10] = "\"\""
    }
    { bases[++base_count] = $0 }
    END {
        for (c = 1; c <= cases; c++) {
            line = bases[pick(base_count)]
            kind = pick(9)
            if (kind == 1) out = substr(line, 1, pick(length(line)))
            else if (kind == 2) out = replace_number(line, numbers[pick(17)])
            else if (kind == 3) { out = line; gsub(/"[a-z_]+_tokens":[0-9]+/, "&" "0000000000000000000", out) }
            else if (kind == 4) {
                out = line
                if (match(out, /"(model|id|requestId|type|timestamp|service_tier)":"[^"]*"/))
                    out = substr(out, 1, RSTART - 1) substr(out, RSTART, index(substr(out, RSTART), ":")) strings[pick(10)] substr(out, RSTART + RLENGTH)
            }
            else if (kind == 5) out = nest(pick(3) == 1 ? 100000 : pick(2000))
            else if (kind == 6) { p = pick(length(line)); out = substr(line, 1, p) random_bytes(pick(4)) substr(line, p + 1) }
            else if (kind == 7) { out = line "\n" line "\n" substr(line, 1, pick(length(line))) }
            else if (kind == 8) out = "[" line "," line "]"
            else out = random_bytes(pick(300))
            printf "%s", out > (dir "/case-" c)
            close(dir "/case-" c)
            printf "%s", random_bytes(pick(2000)) > (dir "/text-" c)
            close(dir "/text-" c)
        }
    }' "$work/bases" || { echo "sql-fuzz: could not write the cases"; exit 1; }

# Runs the cases in one database; prints every line that names a failure.
fuzz_database() {
    local db=$1 encoding=$2 script="$work/$1.sql" out="$work/$1.out"
    local text_encoding=$encoding

    [ "$encoding" = UTF8 ] && text_encoding=LATIN1

    dropdb --if-exists "$db" >/dev/null 2>&1
    if ! createdb -E "$encoding" -T template0 --locale=C "$db"; then
        echo "sql-fuzz: could not create database $db"
        return 1
    fi
    {
        echo '\set VERBOSITY sqlstate'
        echo 'SET client_min_messages = warning;'
        echo 'CREATE EXTENSION claudecost;'
        echo '\set good `cat data/samples/api/messages.jsonl`'
        echo "SELECT claudecost.ingest(:'good') AS good_rows;"
        echo "CREATE TABLE good AS SELECT request_id, model, input_tokens, output_tokens, total_cost FROM claudecost.usage;"
        echo "SELECT pg_postmaster_start_time() AS started \\gset"
        echo "CREATE TABLE staging (line_number bigint, line text);"
        for c in $(seq 1 "$cases"); do
            # As hex, converted by the server: psql cannot quote invalid
            # multibyte text.  Invalid UTF-8 then fails in convert_from with
            # 22021 in the UTF8 database; random text is read as LATIN1 there
            # so that it reaches the functions.
            echo "\\set h \`od -An -v -tx1 $work/case-$c | tr -d ' \\\\n'\`"
            echo "\\set th \`od -An -v -tx1 $work/text-$c | tr -d ' \\\\n'\`"
            echo "\\echo case $c"
            echo "SELECT convert_from(decode(:'h', 'hex'), '$encoding') AS p \\gset"
            echo "SELECT convert_from(decode(:'th', 'hex'), '$text_encoding') AS t \\gset"
            echo "SELECT claudecost.ingest(:'p') IS NOT NULL AS ingested;"
            echo "TRUNCATE staging; INSERT INTO staging SELECT n, l FROM regexp_split_to_table(:'p', E'\\n') WITH ORDINALITY AS s(l, n);"
            echo "SELECT lines >= 0 FROM claudecost.ingest_lines('staging', 'case-$c');"
            echo "SELECT claudecost.token_count(:'t', (ARRAY['cl100k_base','o200k_base','claude_legacy'])[$c % 3 + 1]) >= 0 AS counted;"
            echo "SELECT cardinality(claudecost.token_encode(:'t')) >= 0 AS encoded;"
            echo "SELECT claudecost.optimize_prompt(:'t' || :'p') IS NOT NULL AS optimized;"
        done
        for sse in "$work"/sse-*; do
            for cut in 17 101 333 777; do
                echo "\\set p \`head -c $cut $sse\`"
                echo "SELECT claudecost.ingest(:'p') IS NOT NULL AS ingested;"
            done
        done
        echo "\\echo final checks"
        echo "SELECT pg_postmaster_start_time() = :'started'::timestamptz AS same_postmaster;"
        echo "SELECT count(*) AS good_rows_changed FROM good g LEFT JOIN claudecost.usage u USING (request_id)
              WHERE u.request_id IS NULL OR (g.model, g.input_tokens, g.output_tokens, g.total_cost)
                    IS DISTINCT FROM (u.model, u.input_tokens, u.output_tokens, u.total_cost);"
        echo "SELECT count(*) > 0 AS has_good_rows FROM good;"
    } > "$script"

    PGCLIENTENCODING=$encoding psql -X -q -d "$db" -f "$script" > "$out" 2>&1
    echo "sql-fuzz: $db ($encoding): $(grep -c '^case ' "$out") cases," \
         "$(grep -c 'ERROR:' "$out") typed errors"
    # An internal error, a lost connection or a crash, with the case before it.
    grep -B 3 -E 'ERROR:  XX|FATAL|PANIC|server closed|connection to server|terminat' "$out" && return 1
    grep -A 2 -E 'same_postmaster|good_rows_changed|has_good_rows' "$out" > "$work/$db.final"
    if ! grep -q 'final checks' "$out" ||
       [ "$(sed -n '/same_postmaster/{n;n;p}' "$out" | tr -d ' ')" != t ] ||
       [ "$(sed -n '/good_rows_changed/{n;n;p}' "$out" | tr -d ' ')" != 0 ] ||
       [ "$(sed -n '/has_good_rows/{n;n;p}' "$out" | tr -d ' ')" != t ]; then
        echo "sql-fuzz: final checks failed in $db:"
        cat "$work/$db.final"
        return 1
    fi
    return 0
}

start=$(date +%s)
fuzz_database claudecost_fuzz_utf8 UTF8 || failed=1
fuzz_database claudecost_fuzz_ascii SQL_ASCII || failed=1
fuzz_database claudecost_fuzz_latin1 LATIN1 || failed=1
echo "sql-fuzz: $(( $(date +%s) - start )) s"
if [ "$failed" -eq 0 ] && [ -z "${SQL_FUZZ_KEEP:-}" ]; then
    for db in claudecost_fuzz_utf8 claudecost_fuzz_ascii claudecost_fuzz_latin1; do
        dropdb --if-exists "$db"
    done
    rm -rf "$work"
    echo "sql-fuzz: passed"
fi
exit "$failed"
