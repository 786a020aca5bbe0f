-- Times the 30-day report at the current ledger size and checks that the
-- rollup report and the raw-row baseline give the same figures.
-- psql variable: label (row count shown in the output).
\set period_start '''2026-09-29 00:00+00'''
\set period_end '''2026-10-29 00:00+00'''
SELECT :'label' AS ledger_rows,
       (SELECT count(*) FROM claudecost.usage) AS usage_rows,
       (SELECT count(*) FROM claudecost.usage_hourly) AS rollup_rows,
       (SELECT count(*) FROM claudecost.usage_analytics_prompt) AS prompt_rollup_rows,
       pg_size_pretty(pg_total_relation_size('claudecost.usage')) AS usage_size;

-- Same figures: totals, every breakdown cost and every daily cost.
WITH r AS (SELECT claudecost.generate_usage_report(:period_start, :period_end, 'Europe/Berlin') AS j),
     b AS (SELECT bench_raw_report(:period_start, :period_end, 'Europe/Berlin') AS j)
SELECT r.j->'total_requests' = b.j->'total_requests' AND r.j->'total_cost' = b.j->'total_cost'
       AND r.j->'total_tokens' = b.j->'total_tokens'
       AND (SELECT array_agg(e->'cost' ORDER BY e->>'model') FROM jsonb_array_elements(r.j->'model_breakdown') e)
           = (SELECT array_agg(e->'cost' ORDER BY e->>'model') FROM jsonb_array_elements(b.j->'model_breakdown') e)
       AND (SELECT array_agg(e->'cost' ORDER BY e->>'user_id') FROM jsonb_array_elements(r.j->'user_breakdown') e)
           = (SELECT array_agg(e->'cost' ORDER BY e->>'user_id') FROM jsonb_array_elements(b.j->'user_breakdown') e)
       AND (SELECT array_agg(e->'cost' ORDER BY e->>'date') FROM jsonb_array_elements(r.j->'daily_usage') e)
           = (SELECT array_agg(e->'cost' ORDER BY e->>'date') FROM jsonb_array_elements(b.j->'daily_usage') e)
       AND r.j->'cost_trends'->'daily_trend' = to_jsonb(round((b.j->>'daily_trend')::numeric, 6))
           AS same_figures,
       r.j->'total_requests' AS requests_in_period,
       jsonb_array_length(r.j->'optimization_opportunities') AS opportunities
FROM r, b \gset

\echo same_figures=:same_figures requests_in_period=:requests_in_period opportunities=:opportunities

SELECT bench_time(format('SELECT claudecost.generate_usage_report(%L, %L, %L)', :period_start, :period_end, 'Europe/Berlin'), 5) AS report_ms,
       bench_time(format('SELECT bench_raw_report(%L, %L, %L)', :period_start, :period_end, 'Europe/Berlin'), 2) AS raw_ms,
       bench_time(format('SELECT claudecost.report_html(%L, %L, %L)', :period_start, :period_end, 'Europe/Berlin'), 3) AS html_ms \gset
\echo report_ms=:report_ms raw_ms=:raw_ms html_ms=:html_ms
