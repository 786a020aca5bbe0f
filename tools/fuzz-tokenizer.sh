#!/usr/bin/env bash
# Builds the tokenizer fuzz harness (libFuzzer, ASan, UBSan, LeakSanitizer)
# and runs it for SECONDS seconds (default 60).  Exits non-zero on a crash,
# leak, sanitizer report or round-trip mismatch; the failing input is left
# in fuzz/crash-* for reproduction with `fuzz/fuzz_tokenizer fuzz/crash-...`.
# Needs clang, libclang-rt-14-dev (or the runtime of the installed clang),
# libpcre2-dev and postgresql-server-dev-15.
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/.."

pg_config=${PG_CONFIG:-pg_config}
server_include=$($pg_config --includedir-server)
pg_libdir=$($pg_config --pkglibdir)		# libpgcommon.a and libpgport.a
cc=${CLANG:-$(command -v clang || command -v clang-14 || echo clang)}
build=fuzz/build
mkdir -p "$build" fuzz/corpus

make -s src/vocab_cl100k_base.c src/vocab_o200k_base.c src/vocab_claude_legacy.c PG_CONFIG="$pg_config"

# The vocabularies are data only: compile them once without instrumentation.
for vocab in cl100k_base o200k_base claude_legacy; do
    if [ ! -f "$build/vocab_$vocab.o" ] || [ "src/vocab_$vocab.c" -nt "$build/vocab_$vocab.o" ]; then
        $cc -O1 -c -Isrc -o "$build/vocab_$vocab.o" "src/vocab_$vocab.c"
    fi
done

flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -DFRONTEND"
$cc $flags -Isrc -Ibench/tokenizer -I"$server_include" -I"$(dirname "$server_include")/internal" \
    -o fuzz/fuzz_tokenizer fuzz/fuzz_tokenizer.c bench/tokenizer/standalone.c \
    src/bpe.c src/tokenizer_core.c src/tokenizer_nfkc.c "$build"/vocab_*.o \
    -L"$pg_libdir" -lpgcommon -lpgport $(pkg-config --libs libpcre2-8)

# Seeds: one file per case; the first byte picks the encoding (byte % 3) and,
# when its top four bits are set, repetition to about 32 KB.
seed() { printf "$2" > "fuzz/corpus/seed-$1"; }
seed prose '\000The lighthouse keeper wrote three lines, then crossed one out.'
seed contractions '\001I'"'"'m sure they'"'"'RE here; we'"'"'ll see'"'"'s'
seed code '\002int main(void)\n{\n\treturn 0;\n}\n'
seed cjk '\000\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c \xec\x95\x88\xeb\x85\x95'
seed emoji '\001\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd'
seed whitespace '\002a \xc2\xa0b\xe3\x80\x80c\xc2\x85d\xe1\xa0\x8ee\xef\xbb\xbff\n\n  \t\r\n'
seed specials '\002<EOT><META_START>x<|endoftext|><SOS'
seed nfkc '\002\xef\xac\x81 \xe2\x84\xa2 \xef\xbc\xab cafe\xcc\x81'
seed digits '\0001234567890 3.14159 \xd9\xa1\xd9\xa2\xd9\xa3'
seed long-letters '\360abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
seed long-spaces '\361                                '
seed long-digits '\3620123456789'

fuzz/fuzz_tokenizer -max_total_time="$seconds" -max_len=4096 -timeout=20 -rss_limit_mb=4096 \
    -dict=fuzz/tokenizer.dict -print_final_stats=1 -artifact_prefix=fuzz/ fuzz/corpus
