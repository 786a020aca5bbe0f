#!/usr/bin/env bash
# Tokenizer benchmark: count throughput of the extension's tokenizer code
# (standalone harness and SQL) against npm @anysphere/tiktoken-node (native
# tiktoken) and npm tiktoken (WASM) on four ~10 MB corpora, the linearity
# check on 1 MB inputs without breaks, and the cost of the first call in a
# fresh backend.  Needs gcc, libpcre2-dev, libcjson-dev,
# postgresql-server-dev-15, nodejs and npm, and a running server with the
# extension installed (PGHOST/PGPORT/PGUSER as for psql; a superuser, since
# the corpora are read with pg_read_file).  Exits non-zero when any count
# differs between implementations or a check fails.
#
# Usage: bench/tokenizer/run.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
repeat=${1:-3}
corpora=english,code,cjk,whitespace
encodings=cl100k_base,o200k_base
pg_config=${PG_CONFIG:-pg_config}
server_include=$($pg_config --includedir-server)
pg_libdir=$($pg_config --pkglibdir)   # libpgcommon.a (NFKC) is here on Debian
failed=0

make -C ../.. src/vocab_cl100k_base.c src/vocab_o200k_base.c src/vocab_claude_legacy.c >/dev/null
gcc -O2 -Wall -Wextra -Werror -Wno-unused-parameter -DFRONTEND -I../../src -I"$server_include" \
    -I"$(dirname "$server_include")/internal" -o tokcount tokcount.c standalone.c \
    ../../src/bpe.c ../../src/tokenizer_core.c ../../src/tokenizer_nfkc.c ../../src/vocab_*.c \
    -L"$pg_libdir" -lpgcommon -lpgport $(pkg-config --libs libpcre2-8 libcjson)
[ -d node_modules/@anysphere/tiktoken-node ] || npm install --no-audit --no-fund >/dev/null
[ -f corpus/whitespace.txt ] || node make-corpora.js

echo "## machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "## load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A count mbps
for corpus in ${corpora//,/ }; do
    for encoding in ${encodings//,/ }; do
        best=0
        for _ in $(seq "$repeat"); do
            read -r tokens _ _ rate < <(./tokcount count "$encoding" "corpus/$corpus.txt")
            best=$(awk -v a="$best" -v b="$rate" 'BEGIN { print (b > a) ? b : a }')
        done
        count[$corpus/$encoding/standalone]=$tokens
        mbps[$corpus/$encoding/standalone]=$best
    done
done

while read -r line; do
    key=$(node -e 'const r = JSON.parse(process.argv[1]); console.log(`${r.corpus}/${r.encoding}/${r.peer} ${r.count} ${r.mbps}`)' "$line")
    read -r k c m <<<"$key"
    count[$k]=$c
    mbps[$k]=$m
done < <(node peers.js "$corpora" "$encodings" "$repeat")

# SQL: one 10 MB value per corpus, and the same text in 4 KB rows.
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS claudecost_tokenizer_bench" \
    -c "CREATE DATABASE claudecost_tokenizer_bench" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d claudecost_tokenizer_bench >/dev/null <<SQL
CREATE EXTENSION claudecost;
CREATE TABLE corpus (name text PRIMARY KEY, body text);
ALTER TABLE corpus ALTER COLUMN body SET STORAGE EXTERNAL;
$(for corpus in ${corpora//,/ }; do
    echo "INSERT INTO corpus VALUES ('$corpus', pg_catalog.convert_from(pg_catalog.pg_read_binary_file('$here/corpus/$corpus.txt'), 'UTF8'));"
done)
-- 4 KB rows cut at line ends, so no row splits a character.
CREATE TABLE corpus_rows AS
SELECT c.name, r.n, r.line
FROM corpus AS c,
     LATERAL pg_catalog.regexp_split_to_table(c.body, E'(?<=\\n)(?=.)') WITH ORDINALITY AS r(line, n);
CREATE TABLE corpus_chunk AS
SELECT name, pg_catalog.string_agg(line, '' ORDER BY n) AS body
FROM (SELECT name, n, line, sum(pg_catalog.octet_length(line)) OVER (PARTITION BY name ORDER BY n) / 4096 AS chunk
      FROM corpus_rows) AS s
GROUP BY name, chunk;
ANALYZE corpus_chunk;
CREATE FUNCTION bench_count(corpus text, encoding text, chunked boolean, OUT tokens bigint, OUT seconds float8)
LANGUAGE plpgsql AS \$\$
DECLARE
    started timestamptz;
BEGIN
    started := pg_catalog.clock_timestamp();
    IF chunked THEN
        SELECT sum(claudecost.token_count(c.body, encoding)) INTO tokens FROM corpus_chunk AS c WHERE c.name = corpus;
    ELSE
        SELECT claudecost.token_count(c.body, encoding) INTO tokens FROM corpus AS c WHERE c.name = corpus;
    END IF;
    seconds := extract(epoch FROM pg_catalog.clock_timestamp() - started);
END
\$\$;
SQL
for corpus in ${corpora//,/ }; do
    for encoding in ${encodings//,/ }; do
        for mode in whole chunked; do
            chunked=$([ "$mode" = chunked ] && echo true || echo false)
            best=999999
            for _ in $(seq "$repeat"); do
                read -r tokens seconds < <(psql -X -A -t -F ' ' -d claudecost_tokenizer_bench \
                    -c "SELECT tokens, seconds FROM bench_count('$corpus', '$encoding', $chunked)")
                best=$(awk -v a="$best" -v b="$seconds" 'BEGIN { print (b < a) ? b : a }')
            done
            count[$corpus/$encoding/sql-$mode]=$tokens
            mbps[$corpus/$encoding/sql-$mode]=$(awk -v s="$best" 'BEGIN { printf "%.2f", 10.0 / s }')
        done
    done
done

echo
echo "| corpus | encoding | tokens | standalone MB/s | SQL MB/s (one 10 MB value) | SQL MB/s (4 KB rows) | tiktoken-node MB/s | tiktoken WASM MB/s | standalone ÷ native | SQL ÷ native | standalone ÷ WASM |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for corpus in ${corpora//,/ }; do
    for encoding in ${encodings//,/ }; do
        k=$corpus/$encoding
        # 4 KB rows are counted apart, so their sum may differ slightly from the whole text.
        for impl in sql-whole tiktoken-node tiktoken-wasm; do
            if [ "${count[$k/$impl]}" != "${count[$k/standalone]}" ]; then
                echo "FAIL: $k: $impl counts ${count[$k/$impl]} tokens, standalone ${count[$k/standalone]}"
                failed=1
            fi
        done
        awk -v c="$corpus" -v e="$encoding" -v t="${count[$k/standalone]}" -v s="${mbps[$k/standalone]}" \
            -v q="${mbps[$k/sql-whole]}" -v r="${mbps[$k/sql-chunked]}" -v n="${mbps[$k/tiktoken-node]}" \
            -v w="${mbps[$k/tiktoken-wasm]}" \
            'BEGIN { printf "| %s | %s | %d | %.1f | %.1f | %.1f | %.2f | %.2f | %.1fx | %.1fx | %.1fx |\n", c, e, t, s, q, r, n, w, s / n, q / n, s / w }'
    done
done

echo
# The prose is the GPL text (ASCII): the standalone harness normalizes
# non-ASCII text for claude_legacy with libpgcommon's frontend NFKC code,
# which lacks the server's lookup tables and is far slower.
echo "Linearity (1 MB without a break against 1 MB of prose, CPU time, best of 11):"
for encoding in cl100k_base o200k_base claude_legacy; do
    echo "### $encoding"
    ./tokcount linear "$encoding" /usr/share/common-licenses/GPL-3 || failed=1
done

echo
echo "First call in a fresh backend (median of 21 connections, ms):"
for encoding in cl100k_base o200k_base claude_legacy; do
    for _ in $(seq 21); do
        psql -X -d claudecost_tokenizer_bench <<SQL | awk '/^Time:/ { print $2 }' | paste -sd' '
\timing on
SELECT claudecost.resolve_model('x') IS NULL;
SELECT claudecost.token_count('hello world', '$encoding');
SELECT claudecost.token_count('hello world', '$encoding');
SQL
    done | awk '{ printf "%.3f %.3f\n", $2 - $3, $3 }' | sort -n | awk -v e="$encoding" '
        { extra[NR] = $1; repeated[NR] = $2 }
        END { m = int((NR + 1) / 2);
              printf "%s: first call costs %.3f ms more than a repeated call (median; library already loaded by another function)\n", e, extra[m];
              if (extra[m] > 2.0) { print "FAIL: first call costs more than 2 ms"; exit 1 } }' || failed=1
done

psql -X -q -d postgres -c "DROP DATABASE claudecost_tokenizer_bench"
exit $failed
