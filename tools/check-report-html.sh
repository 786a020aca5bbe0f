#!/bin/sh
# Render claudecost.report_html() of the installed extension in headless
# Chromium and check the page: no console messages (the page has no scripts,
# so any message is a parse or rendering error) and the expected SVG series.
#
# Needs psql connection settings in the environment (PGHOST, PGPORT, PGUSER)
# for a server where claudecost is installed, and Debian's chromium.
# Creates and drops a scratch database.  Exit status 0 when every check
# passes.
set -eu

CHROMIUM=${CHROMIUM:-chromium}
DB=claudecost_html_check_$$
WORK=$(mktemp -d)
FAILURES=0

cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    FAILURES=$((FAILURES + 1))
}

# Render one HTML file with a fresh profile; DOM to $2, log to $3.
render() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run \
        --user-data-dir="$WORK/profile-$(basename "$1")" --enable-logging=stderr --v=0 \
        --dump-dom "file://$1" >"$2" 2>"$3"
}

# Negative control: a page with an invalid SVG length must be caught, or
# the console check below proves nothing.
printf '<!DOCTYPE html><html><body><svg><rect width="10" height="-5"/></svg></body></html>' >"$WORK/bad.html"
render "$WORK/bad.html" "$WORK/bad.dom" "$WORK/bad.log"
if ! grep -q ':CONSOLE' "$WORK/bad.log"; then
    fail "chromium logged no console message for an invalid SVG length; the console check cannot work"
fi

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION claudecost;
-- Two weeks of traffic on three models, four projects, six users, with
-- requests without a user (a batch_processing opportunity).
INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens)
SELECT '2026-01-01'::timestamptz + i * interval '41 minutes',
       (ARRAY['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-5'])[i % 3 + 1],
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'user-' || (i % 6) END,
       'project <' || (i % 4) || '> & "co"',
       1000 + i, 50 + i % 400
FROM generate_series(1, 480) i;
DO $$
BEGIN
    IF to_regprocedure('claudecost.create_budget(text,numeric,text,text,text,text,text,text,text,text,numeric[],boolean,timestamptz,interval,timestamptz)') IS NOT NULL THEN
        PERFORM claudecost.create_budget(name => 'monthly total', amount => 100, period => 'monthly',
                                         starts_at => '2026-01-01');
    END IF;
END
$$;
SQL

psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" \
    -c "SELECT claudecost.report_html('2026-01-01', '2026-01-15', 'Europe/Berlin')" >"$WORK/report.html"
render "$WORK/report.html" "$WORK/report.dom" "$WORK/report.log"

if grep ':CONSOLE' "$WORK/report.log" >&2; then
    fail "console messages while rendering the report"
fi
if ! grep -q '</svg>' "$WORK/report.dom"; then
    fail "rendered DOM has no SVG"
fi

# Expected series: models with cost, and the number of local days each has
# a bar on.
psql -X -A -t -F ' ' -q -v ON_ERROR_STOP=1 -d "$DB" >"$WORK/expected" <<'SQL'
SELECT model, count(DISTINCT (hour AT TIME ZONE 'Europe/Berlin')::date)
FROM claudecost.usage_hourly
WHERE hour >= '2026-01-01' AND hour < '2026-01-15' AND total_cost > 0
GROUP BY model ORDER BY model COLLATE "C";
SQL
if [ ! -s "$WORK/expected" ]; then
    fail "no expected series; the scratch data has no cost"
fi

# One line per SVG group, so that a series' rectangles are on its line.
sed 's/<g /\n<g /g; s/<\/svg>/\n<\/svg>/g' "$WORK/report.dom" >"$WORK/groups"
while read -r model days; do
    line=$(grep -F "<g class=\"series\" data-series=\"$model\"" "$WORK/groups" || true)
    if [ -z "$line" ]; then
        fail "no series for model $model"
        continue
    fi
    rects=$(printf '%s\n' "$line" | grep -o '<rect ' | wc -l)
    if [ "$rects" -ne "$days" ]; then
        fail "series $model has $rects bars, expected $days"
    fi
done <"$WORK/expected"

series=$(grep -c '^<g class="series"' "$WORK/groups" || true)
if [ "$series" -ne "$(wc -l <"$WORK/expected")" ]; then
    fail "$series series in the chart, expected $(wc -l <"$WORK/expected")"
fi
for project in 0 1 2 3; do
    if ! grep -qF "data-label=\"project &lt;$project&gt; &amp; &quot;co&quot;\"" "$WORK/groups"; then
        fail "no escaped bar for project <$project> & \"co\""
    fi
done
if ! grep -q '<svg class="user-cost"' "$WORK/report.dom"; then
    fail "no user cost chart"
fi
if ! grep -q 'class="opportunity" data-type="batch_processing"' "$WORK/report.dom"; then
    fail "no batch_processing opportunity in the list"
fi

budgets=$(psql -X -A -t -q -d "$DB" -c "SELECT count(*) FROM claudecost.budget_report")
gauges=$(grep -o '<div class="gauge ' "$WORK/report.dom" | wc -l)
if [ "$gauges" -ne "$budgets" ]; then
    fail "$gauges budget gauges, expected $budgets"
fi
if [ "$budgets" -eq 0 ] && ! grep -q 'class="no-budgets"' "$WORK/report.dom"; then
    fail "no budgets and no \"No budgets\" note"
fi

if grep -qE '(src|href)="(https?:)?//' "$WORK/report.html"; then
    fail "the page refers to a network resource"
fi

if [ "$FAILURES" -ne 0 ]; then
    echo "check-report-html: $FAILURES check(s) failed" >&2
    exit 1
fi
echo "check-report-html: ok ($series series, $budgets budget gauges)"
