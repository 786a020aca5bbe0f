#!/usr/bin/env bash
# Builds the libFuzzer harnesses of claudecost's C code (ASan, UBSan,
# LeakSanitizer) and runs each for SECONDS seconds (default 60).
#
# Usage: tools/fuzz.sh [SECONDS] [HARNESS...]
# Harnesses: tokenizer (tools/fuzz-tokenizer.sh), ingest, model_pattern,
# optimizer; all four when none is named.  Exits non-zero on the first
# crash, leak, sanitizer report or failed check; the failing input is left
# in fuzz/crash-* (or leak-*, timeout-*), and fuzz/build/fuzz_NAME FILE
# runs it again.  Each harness keeps the inputs it found in fuzz/corpus-NAME/
# and starts from them next time, plus the seeds of fuzz/seeds/NAME/ and
# the sample files under data/.
# Needs clang, libclang-rt-14-dev (or the runtime of the installed clang),
# libpcre2-dev, libcjson-dev and postgresql-server-dev-15.
set -euo pipefail
seconds=${1:-60}
shift || true
harnesses=("$@")
[ "${#harnesses[@]}" -gt 0 ] || harnesses=(tokenizer ingest model_pattern optimizer)
cd "$(dirname "$0")/.."

pg_config=${PG_CONFIG:-pg_config}
server_include=$($pg_config --includedir-server)
pg_libdir=$($pg_config --pkglibdir)		# libpgcommon.a and libpgport.a
cc=${CLANG:-$(command -v clang || command -v clang-14 || echo clang)}
build=fuzz/build
mkdir -p "$build"
export CLAUDECOST_SCHEMA_DIR=$PWD/schema

flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Wno-ignored-attributes"
includes="-Isrc -Ifuzz -I$server_include -I$(dirname "$server_include")/internal
    $(pkg-config --cflags libpcre2-8 libcjson)"
libs="-L$pg_libdir -lpgcommon -lpgport $(pkg-config --libs libcjson libpcre2-8)"

# Builds fuzz/build/fuzz_NAME from the harness, the shim and the given sources.
build_harness() {
    local name=$1
    shift
    # shellcheck disable=SC2086
    $cc $flags $includes -o "$build/fuzz_$name" "fuzz/fuzz_$name.c" fuzz/pg_shim.c "$@" $libs
}

# Copies the seeds of a harness into its working corpus.
seed_corpus() {
    local name=$1
    mkdir -p "fuzz/corpus-$name"
    if [ -d "fuzz/seeds/$name" ]; then
        cp fuzz/seeds/"$name"/* "fuzz/corpus-$name/"
    fi
}

# Seeds of the ingest harness from data/: each sample file, and each of the
# first lines of every JSONL sample as its own input.
seed_ingest() {
    local file n
    seed_corpus ingest
    for file in data/samples/api/*.sse data/samples/errors/*.sse data/test/*.sse \
                data/samples/openai/*.json; do
        cp "$file" "fuzz/corpus-ingest/data-$(basename "$file")"
    done
    find data/samples data/test -name '*.jsonl' | sort | while read -r file; do
        n=0
        head -n 6 "$file" | while IFS= read -r line; do
            n=$((n + 1))
            [ "${#line}" -le 8192 ] || continue
            printf '%s\n' "$line" > "fuzz/corpus-ingest/data-$(basename "$file" .jsonl)-$n"
        done
        head -c 8192 "$file" > "fuzz/corpus-ingest/data-$(basename "$file" .jsonl)-head"
    done
}

run_harness() {
    local name=$1
    shift
    echo "=== fuzz $name: $seconds s"
    "$build/fuzz_$name" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix=fuzz/ "$@" "fuzz/corpus-$name" 2>&1 \
        | { grep -Ev '^(#[0-9]+\s+(NEW|REDUCE|pulse)|"|###### )' || true; }
    # The status of the harness, not of grep: with pipefail a "|| true"
    # after the whole pipeline would reset PIPESTATUS and hide a crash.
    return "${PIPESTATUS[0]}"
}

for harness in "${harnesses[@]}"; do
    case $harness in
        tokenizer)
            tools/fuzz-tokenizer.sh "$seconds" 2>&1 | grep -Ev '^#[0-9]+\s+(NEW|REDUCE|pulse)'
            [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
            ;;
        ingest)
            build_harness ingest src/ingest.c src/ingest_formats.c src/ingest_usage.c \
                src/ingest_record.c src/ingest_sse.c src/ingest_batch.c src/json_util.c \
                src/json_syntax.c
            seed_ingest
            run_harness ingest -max_len=16384 -dict=fuzz/seeds/ingest.dict || exit 1
            ;;
        model_pattern)
            build_harness model_pattern src/price_cache.c src/pcre2_util.c
            seed_corpus model_pattern
            run_harness model_pattern -max_len=1024 || exit 1
            ;;
        optimizer)
            make -s src/vocab_cl100k_base.c src/vocab_o200k_base.c src/vocab_claude_legacy.c \
                PG_CONFIG="$pg_config"
            for vocab in cl100k_base o200k_base claude_legacy; do
                if [ ! -f "$build/vocab_$vocab.o" ] || [ "src/vocab_$vocab.c" -nt "$build/vocab_$vocab.o" ]; then
                    $cc -O1 -c -Isrc -o "$build/vocab_$vocab.o" "src/vocab_$vocab.c"
                fi
            done
            # The frontend libpgcommon returns malloc'd NFKC results: see pg_shim.c.
            # shellcheck disable=SC2086
            $cc $flags -Dunicode_normalize=shim_unicode_normalize -c $includes \
                -o "$build/tokenizer_nfkc.o" src/tokenizer_nfkc.c
            # Small text buffer sizes make short inputs split the text, match in
            # lookahead steps and retry partial matches (see src/optimizer.c).
            build_harness optimizer -DMATERIALIZE_STEP=4 -DPATTERN_LOOKAHEAD=8 -DMAX_MOVED_TAIL=32 \
                src/optimizer.c src/optimizer_builtins.c \
                src/optimizer_rules.c src/protected_regions.c src/protected_json.c \
                src/pcre2_util.c src/tokenizer.c src/tokenizer_core.c src/bpe.c \
                "$build/tokenizer_nfkc.o" "$build"/vocab_*.o
            seed_corpus optimizer
            run_harness optimizer -max_len=4096 || exit 1
            ;;
        *)
            echo "fuzz: unrecognized harness \"$harness\"" >&2
            exit 2
            ;;
    esac
done
