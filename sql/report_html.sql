-- report_html(): one self-contained page with the daily cost chart by
-- model, project and user bars, budget gauges and opportunities.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET timezone = 'UTC';

INSERT INTO claudecost.usage (occurred_at, model, user_id, project_id, input_tokens, output_tokens)
VALUES ('2026-01-05 10:00', 'claude-sonnet-4-5', 'u1', 'p<1>', 1000000, 0),
       ('2026-01-05 11:00', 'claude-haiku-4-5', 'u2', 'p<1>', 1000000, 0),
       ('2026-01-06 10:00', 'claude-haiku-4-5', 'u2', 'p&2', 2000000, 0),
       ('2026-01-07 10:00', 'claude-haiku-4-5', NULL, 'p&2', 1000000, 0);

CREATE TEMP TABLE page AS SELECT claudecost.report_html('2026-01-05', '2026-01-08') AS html;

SELECT left(html, 15) AS doctype,
       html LIKE '%<script%' AS has_script,
       html ~ '(src|href)=' AS has_links,
       (SELECT count(*) FROM regexp_matches(html, '<svg ', 'g')) AS svg_count
FROM page;

-- One series per model, ordered by cost; bars scaled to the costliest day
-- (2026-01-05, USD 7: 240 px, from y = 10 to the axis at y = 250), the
-- haiku bar stacked on the sonnet bar (USD 6, long-context input rate).
SELECT m[1] AS series, m[2] AS fill
FROM page, regexp_matches(html, '<g class="series" data-series="([^"]*)" fill="([^"]*)">', 'g') m;
SELECT m[1] AS x, m[2] AS y, m[3] AS height, m[4] AS date, m[5] AS cost
FROM page, regexp_matches(html, '<rect x="([^"]*)" y="([^"]*)" width="[^"]*" height="([^"]*)" data-date="([^"]*)" data-cost="([^"]*)">', 'g') m;

-- Project and user bars, labels escaped, requests without a user shown as (none).
SELECT m[1] AS label, m[2] AS cost
FROM page, regexp_matches(html, '<g class="bar" data-label="([^"]*)" data-cost="([^"]*)">', 'g') m;

-- Opportunities list.
SELECT m[1] AS opportunity
FROM page, regexp_matches(html, '<li class="opportunity" data-type="([^"]*)">', 'g') m;

-- No budgets: a note instead of gauges.
SELECT html LIKE '%<p class="no-budgets">No budgets.</p>%' AS no_budgets_note FROM page;

-- A budget from claudecost.create_budget shows as a gauge.  Its current
-- period is the month of now(), after all usage above, so it is at 0%.
SELECT claudecost.create_budget(name => 'regress monthly', amount => 10, period => 'monthly',
                                starts_at => '2026-01-01') > 0 AS budget_created;
SELECT budget_name, status, spent_amount, usage_percentage FROM claudecost.budget_report;
SELECT m[1] AS status, m[2] AS budget, m[3] AS label, m[4] AS width
FROM claudecost.report_html('2026-01-05', '2026-01-08') h,
     regexp_matches(h, '<div class="gauge ([a-z]*)" data-budget="([^"]*)"><span>([^<]*)</span><svg[^>]*><rect[^>]*/><rect class="gauge-fill" x="0" y="0" width="([^"]*)"', 'g') m;

-- Budget gauges, rendered from claudecost.budget_report (replaced here by
-- fixed rows with the same columns): width is the usage percentage of 300 px,
-- capped at 100%.
CREATE OR REPLACE VIEW claudecost.budget_report AS
SELECT * FROM (VALUES
    (1::bigint, 'team <a>'::text, '2026-01-01'::timestamptz, '2026-02-01'::timestamptz, 100::numeric,
     40::numeric, 60::numeric, 40::numeric, 'ok'::text, 'USD'::text),
    (2, 'opus', '2026-01-01', '2026-02-01', 10, 9, 1, 90, 'warning', 'USD'),
    (3, 'global', '2026-01-01', '2026-02-01', 10, 15, -5, 150, 'exceeded', 'EUR'))
    AS b(budget_id, budget_name, period_start, period_end, budget_amount, spent_amount,
         remaining_amount, usage_percentage, status, currency);
SELECT m[1] AS status, m[2] AS budget, m[3] AS label, m[4] AS width, m[5] AS fill
FROM claudecost.report_html('2026-01-05', '2026-01-08') h,
     regexp_matches(h, '<div class="gauge ([a-z]*)" data-budget="([^"]*)"><span>([^<]*)</span><svg[^>]*><rect[^>]*/><rect class="gauge-fill" x="0" y="0" width="([^"]*)" height="18" fill="([^"]*)"', 'g') m;

-- An empty period renders with an empty chart.
SELECT html LIKE '%<svg class="daily-cost"%' AS has_chart,
       html LIKE '%<g class="series"%' AS has_series,
       html LIKE '%<p class="no-opportunities">None found.</p>%' AS no_opportunities
FROM (SELECT claudecost.report_html('2026-03-01', '2026-03-03', 'Asia/Kolkata') AS html) p;

\set SHOW_CONTEXT never
SELECT claudecost.report_html('2026-01-08', '2026-01-05');
