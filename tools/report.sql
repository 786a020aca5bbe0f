-- The report that tools/demo.sh prints after loading the sample data.
\pset footer off
\echo
\echo 'Cost by model (USD, all time)'
SELECT model, requests, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
       total_cost
FROM claudecost.cost_by_model
ORDER BY total_cost DESC, model COLLATE "C";

\echo 'Cost by project'
SELECT project_id, requests, total_cost
FROM claudecost.cost_by_project
ORDER BY total_cost DESC, project_id COLLATE "C";

\echo 'Daily usage (UTC)'
SELECT day, model, requests, input_tokens + output_tokens + cache_write_5m_tokens
       + cache_write_1h_tokens + cache_read_tokens AS tokens, total_cost
FROM claudecost.daily_usage
ORDER BY day, model COLLATE "C";

\echo 'Rows without a price'
SELECT model, reason, count(*) AS requests
FROM claudecost.unpriced_usage
GROUP BY model, reason
ORDER BY model COLLATE "C";

\echo 'Cost breakdown'
SELECT jsonb_pretty(claudecost.get_cost_breakdown() - 'by_day' - 'by_model') AS breakdown;
