-- BI views, exports and materialized monthly summaries; late rows and
-- reprice() show in every report at once, materialized views after
-- refresh_reports().
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never

INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, input_tokens, output_tokens)
VALUES ('v1', '2026-01-05 10:00', 'claude-sonnet-4-5', 'u1', 'p1', 1000, 100),
       ('v2', '2026-01-05 22:00', 'claude-haiku-4-5', 'u2', 'p1', 2000, 200),
       ('v3', '2026-01-07 09:00', 'claude-sonnet-4-5', NULL, 'p2', 3000, 300),
       ('v4', '2026-02-01 12:00', 'claude-haiku-4-5', 'u1', NULL, 4000, 400);
SELECT claudecost.refresh_reports();

SELECT * FROM claudecost.daily_cost_by_model ORDER BY day, model COLLATE "C";
SELECT * FROM claudecost.daily_cost_by_user ORDER BY day, user_id COLLATE "C";
SELECT * FROM claudecost.daily_cost_by_project ORDER BY day, project_id COLLATE "C";
SELECT hour, project_id, model, user_id, service_tier, context_window, inference_geo, requests, total_cost
FROM claudecost.hourly_usage ORDER BY hour, model COLLATE "C";
SELECT * FROM claudecost.cost_trends WHERE day < '2026-01-10' ORDER BY day;
SELECT * FROM claudecost.monthly_cost_by_model ORDER BY month, model COLLATE "C";
SELECT * FROM claudecost.monthly_cost_by_user ORDER BY month, user_id COLLATE "C";
SELECT * FROM claudecost.monthly_cost_by_project ORDER BY month, project_id COLLATE "C";

-- Figures of every report and view that the late row and the reprice
-- below must change, as one row per source.
CREATE TEMP VIEW january AS
SELECT 'generate_usage_report' AS source,
       (claudecost.generate_usage_report('2026-01-01', '2026-02-01')->>'total_cost')::numeric AS cost,
       (claudecost.generate_usage_report('2026-01-01', '2026-02-01')->>'total_requests')::bigint AS requests
UNION ALL
SELECT 'export_usage_report json',
       (claudecost.export_usage_report('2026-01-01', '2026-02-01')::jsonb->>'total_cost')::numeric,
       (claudecost.export_usage_report('2026-01-01', '2026-02-01')::jsonb->>'total_requests')::bigint
UNION ALL
SELECT 'export_usage_report csv', sum(split_part(l.line, ',', 10)::numeric), sum(split_part(l.line, ',', 3)::bigint)
FROM regexp_split_to_table(claudecost.export_usage_report('2026-01-01', '2026-02-01', 'csv'), E'\r\n')
     WITH ORDINALITY AS l(line, n)
WHERE l.n > 1 AND l.line <> ''
UNION ALL
SELECT 'report_html project bars', sum(m[1]::numeric), NULL
FROM regexp_matches(split_part(split_part(claudecost.report_html('2026-01-01', '2026-02-01'),
                                          '<svg class="project-cost"', 2), '</svg>', 1),
                    'data-cost="([^"]*)"', 'g') m
UNION ALL
SELECT 'daily_cost_by_model', sum(total_cost), sum(requests) FROM claudecost.daily_cost_by_model
WHERE day >= '2026-01-01' AND day < '2026-02-01'
UNION ALL
SELECT 'daily_cost_by_user', sum(total_cost), sum(requests) FROM claudecost.daily_cost_by_user
WHERE day >= '2026-01-01' AND day < '2026-02-01'
UNION ALL
SELECT 'daily_cost_by_project', sum(total_cost), sum(requests) FROM claudecost.daily_cost_by_project
WHERE day >= '2026-01-01' AND day < '2026-02-01'
UNION ALL
SELECT 'hourly_usage', sum(total_cost), sum(requests) FROM claudecost.hourly_usage
WHERE hour >= '2026-01-01' AND hour < '2026-02-01'
UNION ALL
SELECT 'daily_usage', sum(total_cost), sum(requests) FROM claudecost.daily_usage
WHERE day >= '2026-01-01' AND day < '2026-02-01'
UNION ALL
SELECT 'cost_trends', sum(total_cost), sum(requests) FROM claudecost.cost_trends
WHERE day >= '2026-01-01' AND day < '2026-02-01'
UNION ALL
SELECT 'admin_cost_report', trim_scale(sum(amount) / 100), NULL FROM claudecost.admin_cost_report
WHERE day >= '2026-01-01' AND day < '2026-02-01'
UNION ALL
SELECT 'monthly_cost_by_model (materialized)', sum(total_cost), sum(requests)
FROM claudecost.monthly_cost_by_model WHERE month = '2026-01-01'
UNION ALL
SELECT 'monthly_cost_by_user (materialized)', sum(total_cost), sum(requests)
FROM claudecost.monthly_cost_by_user WHERE month = '2026-01-01'
UNION ALL
SELECT 'monthly_cost_by_project (materialized)', sum(total_cost), sum(requests)
FROM claudecost.monthly_cost_by_project WHERE month = '2026-01-01'
-- The cost_by_* views cover all months: January plus the February request
-- v4 (USD 0.006).
UNION ALL
SELECT 'cost_by_model (all months)', sum(total_cost), sum(requests) FROM claudecost.cost_by_model
UNION ALL
SELECT 'cost_by_user (all months)', sum(total_cost), sum(requests) FROM claudecost.cost_by_user
UNION ALL
SELECT 'cost_by_project (all months)', sum(total_cost), sum(requests) FROM claudecost.cost_by_project;

SELECT * FROM january;

-- A late row: a request of 2026-01-06 ingested now.  Plain views and
-- reports change at once; materialized views still show the old figures.
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, input_tokens, output_tokens)
VALUES ('late', '2026-01-06 08:00', 'claude-opus-4-5', 'u3', 'p3', 10000, 1000);
SELECT * FROM january;
SELECT day, requests, total_cost, cost_7day_average, change_from_previous_day
FROM claudecost.cost_trends WHERE day BETWEEN '2026-01-05' AND '2026-01-07' ORDER BY day;

-- Reprice: a corrected sonnet 4.5 price from 2026-01-01.
SELECT claudecost.add_price('claude-sonnet-4-5-20250929', 2, 10, effective_from => '2026-01-01') > 0 AS price_added;
SELECT claudecost.reprice('2026-01-01') AS repriced_rows;
SELECT * FROM january;

-- After refresh_reports() the materialized views agree.
SELECT claudecost.refresh_reports();
SELECT * FROM january;
SELECT count(DISTINCT (cost, requests)) = 1 AS all_sources_agree
FROM january WHERE source NOT IN ('admin_cost_report', 'report_html project bars')
                   AND source NOT LIKE '%(all months)';
SELECT bool_and(cost = (r->>'total_cost')::numeric AND requests = (r->>'total_requests')::bigint)
           AS all_months_match_report
FROM january, claudecost.generate_usage_report('2026-01-01', '2026-03-01') AS r
WHERE source LIKE '%(all months)';

-- Deleting a row is reflected as well.
DELETE FROM claudecost.usage WHERE request_id = 'late';
SELECT claudecost.refresh_reports();
SELECT count(DISTINCT (cost, requests)) = 1 AS all_sources_agree_after_delete,
       min(requests) AS requests
FROM january WHERE source NOT IN ('admin_cost_report', 'report_html project bars')
                   AND source NOT LIKE '%(all months)';

-- Export: CSV with a header, one record per local day and model, CRLF
-- line ends and RFC 4180 quoting of a model name with a comma and quotes.
INSERT INTO claudecost.usage (occurred_at, model, user_id, input_tokens, output_tokens)
VALUES ('2026-01-05 23:30', 'gateway "eu", claude', 'u1', 10, 1);
SELECT replace(claudecost.export_usage_report('2026-01-05', '2026-01-08', 'csv'), E'\r\n', E'\\r\\n\n') AS csv;
SELECT replace(claudecost.export_usage_report('2026-01-05', '2026-01-08', 'csv', 'Asia/Tokyo'), E'\r\n', E'\\r\\n\n') AS csv_tokyo;
SELECT claudecost.export_usage_report('2026-03-01', '2026-03-02', 'csv') AS csv_empty_period;
SELECT claudecost.export_usage_report('2026-01-05', '2026-01-08', 'json')::jsonb
       = claudecost.generate_usage_report('2026-01-05', '2026-01-08') AS json_is_the_report;
SELECT claudecost.csv_field(v) FROM (VALUES ('plain'), ('a,b'), ('say "hi"'), (E'two\nlines'), (NULL)) t(v);

-- The views read as CSV through COPY.
COPY (SELECT day, model, requests, total_cost FROM claudecost.daily_cost_by_model
      WHERE day = '2026-01-05' ORDER BY model COLLATE "C") TO STDOUT WITH (FORMAT csv, HEADER);

-- Budget status: budget_report has the same columns with or without the
-- budget tables and reads claudecost.budget_status when it exists.
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'claudecost.budget_report'::regclass AND attnum > 0 ORDER BY attnum;
SELECT (to_regclass('claudecost.budget_status') IS NOT NULL)
       = EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
                 WHERE r.ev_class = 'claudecost.budget_report'::regclass
                   AND d.refobjid = to_regclass('claudecost.budget_status')) AS budget_report_follows_budget_status;

-- Invalid export format.
SELECT claudecost.export_usage_report('2026-01-05', '2026-01-08', 'xml');
SELECT claudecost.export_usage_report('2026-01-05', '2026-01-08', NULL);
SELECT claudecost.export_usage_report('2026-01-08', '2026-01-05', 'csv');

-- The report's daily rollup and repeated-prompt sums equal aggregates of
-- the raw rows after the inserts, the reprice and the delete above.
INSERT INTO claudecost.usage (occurred_at, model, user_id, input_tokens, output_tokens, prompt_hash)
VALUES ('2026-01-05 09:00', 'claude-haiku-4-5', 'u1', 500, 10, 'sha256:x'),
       ('2026-01-05 10:00', 'claude-haiku-4-5', 'u2', 500, 10, 'sha256:x'),
       ('2026-01-05 11:00', 'claude-haiku-4-5', 'u2', 500, 10, 'sha256:x'),
       ('2026-01-05 12:00', 'claude-sonnet-4-5', 'u2', 500, 10, 'sha256:x');
UPDATE claudecost.usage SET prompt_hash = 'sha256:y' WHERE occurred_at = '2026-01-05 11:00';
UPDATE claudecost.usage SET prompt_hash = 'sha256:x' WHERE occurred_at = '2026-01-05 11:00';
DELETE FROM claudecost.usage WHERE occurred_at = '2026-01-05 09:00';
SELECT count(*) AS daily_rollup_differences
FROM (SELECT day, model, user_id, project_id, service_tier, requests, total_cost, input_tokens
      FROM claudecost.usage_analytics_daily WHERE requests <> 0
      EXCEPT
      SELECT (occurred_at AT TIME ZONE 'UTC')::date, model, coalesce(user_id, ''), coalesce(project_id, ''),
             service_tier, count(*), coalesce(sum(total_cost), 0), sum(input_tokens)
      FROM claudecost.usage GROUP BY 1, 2, 3, 4, 5) x;
SELECT p.day, p.model, p.prompt_days, p.repeats, p.repeat_cost,
       p.repeat_cost = (SELECT sum(total_cost) * 1 / 2 FROM claudecost.usage
                        WHERE prompt_hash = 'sha256:x' AND model = p.model) AS repeat_cost_matches
FROM claudecost.usage_analytics_prompt_day p WHERE p.prompt_days <> 0 ORDER BY p.day, p.model COLLATE "C";

-- The analytics rollups agree with the raw rows after every change above.
SELECT * FROM claudecost.verify_analytics_rollups();
-- A damaged rollup row is reported.
UPDATE claudecost.usage_analytics_daily SET total_cost = total_cost + 1
WHERE day = '2026-01-07' AND model = 'claude-sonnet-4-5';
SELECT rollup, key FROM claudecost.verify_analytics_rollups();

-- TRUNCATE of the ledger empties the analytics rollups as well.
TRUNCATE claudecost.usage;
SELECT (SELECT count(*) FROM claudecost.usage_analytics_daily) AS daily_rows,
       (SELECT count(*) FROM claudecost.usage_analytics_prompt) AS prompt_rows,
       (SELECT count(*) FROM claudecost.usage_analytics_prompt_day) AS prompt_day_rows,
       (SELECT count(*) FROM claudecost.usage_analytics_long_context) AS long_context_rows;
SELECT count(*) AS differences FROM claudecost.verify_analytics_rollups();
