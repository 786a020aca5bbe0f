-- Consistency checks: every derived figure against the raw usage rows.
--
-- The rollups (usage_hourly, usage_analytics_*) and the budget counters
-- (budget_spend) are kept by statement triggers inside the writer's
-- transaction, so in any snapshot they equal what the raw usage rows give.
-- claudecost.verify() checks that in one statement: after a crash and
-- recovery, after a restore, or under load.  Every function here is STABLE
-- and verify() is one SQL statement, so all its checks read one snapshot
-- and concurrent writers cannot cause a false mismatch.  The checks scan the
-- whole ledger, so they are for tests and audits, not for reports.

-- Budget counters recounted from the raw usage rows, as budget_recount()
-- writes them: per budget and period (UTC hour for rolling budgets), the
-- sum of total_cost of the priced rows in the budget's scope and time range,
-- disabled budgets included.  Returns every key whose stored counter
-- differs; a counter of 0 and a missing counter are equal.
CREATE FUNCTION claudecost.verify_budget_spend()
RETURNS TABLE (budget_id bigint, period_start timestamptz, stored_spent numeric, recounted_spent numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH recount AS (
        SELECT b.id AS budget_id,
               claudecost.budget_bucket(b.period, b.period_length, b.time_zone, b.starts_at,
                                        u.occurred_at) AS period_start,
               sum(u.total_cost) AS spent
        FROM claudecost.budget b
        JOIN claudecost.usage u
          ON u.occurred_at >= b.starts_at
         AND (b.ends_at IS NULL OR u.occurred_at < b.ends_at)
         AND claudecost.budget_scope_matches(b.user_id, b.project_id, b.model, b.api_key_id, b.tag,
                                             u.user_id, u.project_id, u.model, u.api_key_id, u.tags)
        WHERE u.total_cost IS NOT NULL
        GROUP BY 1, 2
        HAVING sum(u.total_cost) <> 0
    ),
    stored AS (
        SELECT s.budget_id, s.period_start, s.spent FROM claudecost.budget_spend s WHERE s.spent <> 0
    )
    SELECT coalesce(s.budget_id, r.budget_id), coalesce(s.period_start, r.period_start), s.spent, r.spent
    FROM stored s
    FULL JOIN recount r USING (budget_id, period_start)
    WHERE s.spent IS DISTINCT FROM r.spent
$$;

COMMENT ON FUNCTION claudecost.verify_budget_spend() IS
    'Budget counters whose budget_spend value differs from a recount of the raw usage rows; empty when exact';

-- Recomputes usage_analytics_long_context from the raw usage rows and their
-- price rows with the expressions of the rollup trigger (src/rollup_statements.c),
-- and returns every key whose figures differ.
CREATE FUNCTION claudecost.verify_long_context_rollup()
RETURNS TABLE (project_id text, hour timestamptz, model text, long_context_threshold bigint, stored text,
               expected text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH raw AS (
        SELECT coalesce(u.project_id, '') AS project_id, claudecost.rollup_hour(u.occurred_at) AS hour, u.model,
               p.long_context_threshold,
               count(*) AS requests,
               sum(u.input_tokens::numeric + u.cache_write_5m_tokens + u.cache_write_1h_tokens
                   + u.cache_read_tokens) AS prompt_tokens,
               sum(u.total_cost) AS total_cost,
               sum(coalesce(u.input_cost, 0) * p.input_per_mtok / p.long_input_per_mtok
                   + coalesce(u.output_cost, 0) * p.output_per_mtok / p.long_output_per_mtok
                   + coalesce(u.cache_write_cost, 0)
                     * coalesce(p.cache_write_5m_per_mtok / NULLIF(p.long_cache_write_5m_per_mtok, 0),
                                p.input_per_mtok / p.long_input_per_mtok)
                   + coalesce(u.cache_read_cost, 0)
                     * coalesce(p.cache_read_per_mtok / NULLIF(p.long_cache_read_per_mtok, 0),
                                p.input_per_mtok / p.long_input_per_mtok)
                   + coalesce(u.tool_cost, 0)) AS base_cost
        FROM claudecost.usage u
        JOIN claudecost.price p ON p.id = u.price_id
        WHERE u.long_context AND u.total_cost IS NOT NULL
          AND p.long_context_threshold IS NOT NULL AND p.long_input_per_mtok > 0
          AND p.long_output_per_mtok > 0
          AND u.input_tokens::numeric + u.cache_write_5m_tokens + u.cache_write_1h_tokens + u.cache_read_tokens
              <= p.long_context_threshold * 1.1
        GROUP BY 1, 2, 3, 4
    ),
    stored AS (
        SELECT a.project_id, a.hour, a.model, a.long_context_threshold, a.requests, a.prompt_tokens, a.total_cost,
               a.base_cost
        FROM claudecost.usage_analytics_long_context a
        WHERE a.requests <> 0
    )
    SELECT coalesce(s.project_id, r.project_id), coalesce(s.hour, r.hour), coalesce(s.model, r.model),
           coalesce(s.long_context_threshold, r.long_context_threshold),
           row(s.requests, s.prompt_tokens, s.total_cost, s.base_cost)::text,
           row(r.requests, r.prompt_tokens, r.total_cost, r.base_cost)::text
    FROM stored s
    FULL JOIN raw r USING (project_id, hour, model, long_context_threshold)
    WHERE row(s.requests, s.prompt_tokens, s.total_cost, s.base_cost)
          IS DISTINCT FROM row(r.requests, r.prompt_tokens, r.total_cost, r.base_cost)
$$;

COMMENT ON FUNCTION claudecost.verify_long_context_rollup() IS
    'Keys whose usage_analytics_long_context figures differ from the raw usage rows; empty when exact';

-- One row per check.  expected is what the raw rows (or the invariant)
-- give, actual is what the derived table stores; ok is expected = actual.
-- Checks:
--   usage_hourly requests / total_cost: ledger totals against rollup totals;
--   <rollup> keys differing: rows of verify_rollups(),
--     verify_analytics_rollups(), verify_long_context_rollup() and
--     verify_budget_spend();
--   budget_spend total: the recount total against the counters;
--   budget_hold of closed reservation: holds whose reservation is settled,
--     released or missing (settling and releasing delete the holds);
--   budget_hold differing from reservation: a hold whose amount or
--     expires_at is not its reservation's;
--   usage row with held reservation: a usage row carries a reservation_id
--     whose reservation is still held, so the insert did not settle it;
--   budget without budget_lock row: budget_reserve could not serialize on it.
CREATE FUNCTION claudecost.verify()
RETURNS TABLE (check_name text, expected text, actual text, ok boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH analytics AS (
        SELECT a.rollup, count(*) AS n FROM claudecost.verify_analytics_rollups() a GROUP BY a.rollup
    ),
    spend AS (
        SELECT count(*) AS keys_differing,
               coalesce(sum(v.stored_spent), 0) - coalesce(sum(v.recounted_spent), 0) AS difference
        FROM claudecost.verify_budget_spend() v
    ),
    checks (position, check_name, expected, actual) AS (
        SELECT 1, 'usage_hourly requests',
               (SELECT count(*) FROM claudecost.usage)::numeric,
               (SELECT coalesce(sum(h.requests), 0) FROM claudecost.usage_hourly h)::numeric
        UNION ALL
        SELECT 2, 'usage_hourly total_cost',
               (SELECT coalesce(sum(u.total_cost), 0) FROM claudecost.usage u),
               (SELECT coalesce(sum(h.total_cost), 0) FROM claudecost.usage_hourly h)
        UNION ALL
        SELECT 3, 'usage_hourly keys differing', 0, (SELECT count(*) FROM claudecost.verify_rollups())
        UNION ALL
        SELECT 4 + o, r || ' keys differing', 0, coalesce((SELECT a.n FROM analytics a WHERE a.rollup = r), 0)
        FROM unnest(ARRAY['usage_analytics_daily', 'usage_analytics_prompt', 'usage_analytics_prompt_day'])
             WITH ORDINALITY AS x (r, o)
        UNION ALL
        SELECT 8, 'usage_analytics_long_context keys differing', 0,
               (SELECT count(*) FROM claudecost.verify_long_context_rollup())
        UNION ALL
        SELECT 9, 'budget_spend keys differing', 0, (SELECT s.keys_differing FROM spend s)
        UNION ALL
        SELECT 10, 'budget_spend total',
               (SELECT coalesce(sum(s.spent), 0) FROM claudecost.budget_spend s) - (SELECT s.difference FROM spend s),
               (SELECT coalesce(sum(s.spent), 0) FROM claudecost.budget_spend s)
        UNION ALL
        SELECT 11, 'budget_hold of closed reservation', 0,
               (SELECT count(*) FROM claudecost.budget_hold h
                LEFT JOIN claudecost.budget_reservation r ON r.id = h.reservation_id
                WHERE r.status IS DISTINCT FROM 'held')
        UNION ALL
        SELECT 12, 'budget_hold differing from reservation', 0,
               (SELECT count(*) FROM claudecost.budget_hold h
                JOIN claudecost.budget_reservation r ON r.id = h.reservation_id
                WHERE h.amount <> r.estimated_cost OR h.expires_at <> r.expires_at)
        UNION ALL
        SELECT 13, 'usage row with held reservation', 0,
               (SELECT count(*) FROM claudecost.usage u
                JOIN claudecost.budget_reservation r ON r.id = u.reservation_id
                WHERE r.status = 'held')
        UNION ALL
        SELECT 14, 'budget without budget_lock row', 0,
               (SELECT count(*) FROM claudecost.budget b
                WHERE NOT EXISTS (SELECT 1 FROM claudecost.budget_lock l WHERE l.budget_id = b.id))
    )
    SELECT c.check_name, c.expected::text, c.actual::text, c.expected = c.actual
    FROM checks c
    ORDER BY c.position
$$;

COMMENT ON FUNCTION claudecost.verify() IS
    'Checks every rollup, budget counter and budget hold against the raw usage rows; one row per check, ok when they agree';
