#!/usr/bin/env bash
# bench/json_syntax/run.sh: cost of the strict JSON token check that
# claudecost.ingest runs on every record (src/json_syntax.c), against
# cJSON's parse of the same lines and against the \u0000 scan it replaced.
#
# Usage: bench/json_syntax/run.sh [DIRECTORY] [ROUNDS]
#
# DIRECTORY contains *.jsonl files (default: data/claude-code-sessions.tar.xz
# extracted to a temporary directory).  Builds the benchmark with the
# compiler optimisation of the extension (-O2) and prints, for the best of
# ROUNDS runs (default 20), the milliseconds and MB/s of each pass and its
# ratio to cJSON's parse.  CPU only: no server is needed.  Not part of any
# test.  Needs libcjson-dev and postgresql-server-dev-15 (libpgcommon).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${2:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -ge 1 ]; then
    dir=$1
else
    tar -xJf data/claude-code-sessions.tar.xz -C "$work"
    dir=$work
fi

pg_config=${PG_CONFIG:-pg_config}
server_include=$($pg_config --includedir-server)
cc=${CC:-cc}
# shellcheck disable=SC2046
$cc -O2 -Wall -Isrc -Ifuzz -I"$server_include" -I"$(dirname "$server_include")/internal" \
    $(pkg-config --cflags libcjson) -o "$work/json_syntax_bench" \
    bench/json_syntax/json_syntax_bench.c fuzz/pg_shim.c src/json_syntax.c \
    -L"$($pg_config --pkglibdir)" -lpgcommon -lpgport $(pkg-config --libs libcjson)

mapfile -d '' files < <(find "$dir" -type f -name '*.jsonl' -print0 | LC_ALL=C sort -z)
"$work/json_syntax_bench" "$rounds" "${files[@]}"
