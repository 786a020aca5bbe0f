#!/usr/bin/env bash
# Quick-start demo: installs what is missing, builds and installs claudecost,
# starts a scratch PostgreSQL 15 cluster, creates the extension, loads the
# bundled sample usage files (data/samples) and prints the cost report.
# The scratch cluster is removed when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
make -s
make -s install

# pg_virtualenv runs the inner script against a throw-away cluster.
pg_virtualenv -t -v 15 bash -c '
set -euo pipefail
psql -X -q -c "CREATE EXTENSION claudecost"
tools/claudecost-load data/samples
psql -X -f tools/report.sql
'
