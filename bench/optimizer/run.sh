#!/usr/bin/env bash
# Benchmark of claudecost.optimize_prompt on prompts built from real Claude
# Code session transcripts.
#
# Usage: bench/optimizer/run.sh [SESSIONS_DIR] [PROMPTS] [ROUNDS]
#   SESSIONS_DIR  directory searched for Claude Code session files (*.jsonl,
#                 the layout of ~/.claude/projects).  Empty or omitted: the 24
#                 transcripts of data/claude-code-sessions.tar.xz, extracted
#                 to a temporary directory that is removed on exit
#   PROMPTS       number of prompts to build (default 10000)
#   ROUNDS        timed runs of each measured query; the best is reported
#                 (default 3)
#
# Connects with the usual libpq variables (PGHOST, PGPORT, PGUSER) to a
# server where claudecost is installed, and recreates the database
# claudecost_bench there.  Exits non-zero when a check fails.
set -euo pipefail

sessions_dir=${1:-}
prompts=${2:-10000}
rounds=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
database=claudecost_bench

if [ -z "$sessions_dir" ]; then
    archive=$here/../../data/claude-code-sessions.tar.xz
    sessions_dir=$(mktemp -d)
    trap 'rm -rf "$sessions_dir"' EXIT
    trap 'exit 1' HUP INT TERM
    tar -xJf "$archive" -C "$sessions_dir"
elif [ ! -d "$sessions_dir" ]; then
    echo "$0: session directory not found: $sessions_dir" >&2
    echo "usage: $0 [SESSIONS_DIR] [PROMPTS] [ROUNDS]" >&2
    exit 2
fi

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database"
psql -X -q -d "$database" -c "CREATE EXTENSION claudecost" \
    -c "CREATE TABLE bench_raw_line (line text)"

# One JSONL line per row: CSV mode with quote and delimiter bytes that do not
# occur in JSON text keeps backslashes and quotes as they are.
find "$sessions_dir" -name '*.jsonl' ! -name '_*' -print0 | sort -z | xargs -0 cat |
    psql -X -q -d "$database" \
        -c "\\copy bench_raw_line (line) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"

PGOPTIONS="-c bench.prompts=$prompts" psql -X -q -d "$database" -f "$here/corpus.sql"
PGOPTIONS="-c bench.rounds=$rounds" psql -X -q -d "$database" -f "$here/measure.sql"
