#!/usr/bin/env bash
# Checks that 1 MB inputs without a space or of one repeated character
# encode within 3 times the CPU time of 1 MB of prose, in all three
# encodings.  The inputs are one letter, random mixed-case or lowercase
# letters, digits, punctuation, spaces, newlines, one CJK ideograph, and
# runs of one letter or of spaces with another character about every 2 KB.
set -euo pipefail
cd "$(dirname "$0")/../.."
pg_config=${PG_CONFIG:-pg_config}
server_include=$($pg_config --includedir-server)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
make -s src/vocab_cl100k_base.c src/vocab_o200k_base.c src/vocab_claude_legacy.c PG_CONFIG="$pg_config"
gcc -O2 -DFRONTEND -Isrc -I"$server_include" -I"$(dirname "$server_include")/internal" \
    -o "$out/tokcount" bench/tokenizer/tokcount.c bench/tokenizer/standalone.c \
    src/bpe.c src/tokenizer_core.c src/tokenizer_nfkc.c src/vocab_*.c \
    -L"$($pg_config --pkglibdir)" -lpgcommon -lpgport $(pkg-config --libs libpcre2-8 libcjson)
status=0
for encoding in cl100k_base o200k_base claude_legacy; do
    echo "### $encoding"
    "$out/tokcount" linear "$encoding" /usr/share/common-licenses/GPL-3 || status=1
done
exit $status
