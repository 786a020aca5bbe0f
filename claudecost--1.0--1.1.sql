-- claudecost 1.0 -> 1.1: upgrade script.
--
-- Every change made to schema/ since 1.0 appears here as well, in the same
-- order.  tools/test-suites.d/upgrade compares an upgraded catalog with a
-- fresh 1.1 install.

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION claudecost UPDATE TO '1.1'" to load this file. \quit

-- The rollup trigger (claudecost.usage_rollup(), in C) now maintains the
-- analytics rollups as well, with a one-row path for single-row statements.
-- The PL/pgSQL analytics trigger and its statement generator are dropped.
DROP TRIGGER usage_analytics_insert ON claudecost.usage;
DROP TRIGGER usage_analytics_update ON claudecost.usage;
DROP TRIGGER usage_analytics_delete ON claudecost.usage;
DROP TRIGGER usage_analytics_truncate ON claudecost.usage;
DROP FUNCTION claudecost.usage_analytics_rollup();
DROP FUNCTION claudecost.usage_analytics_truncate();
DROP FUNCTION claudecost.usage_analytics_delta_sql(text);

-- The budget counters are kept by one C trigger function, which returns at
-- once when no budget exists and no row carries a reservation_id.
CREATE FUNCTION claudecost.usage_budget()
RETURNS trigger
AS 'MODULE_PATHNAME', 'claudecost_usage_budget'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

DROP TRIGGER usage_budget_insert ON claudecost.usage;
DROP TRIGGER usage_budget_update ON claudecost.usage;
DROP TRIGGER usage_budget_delete ON claudecost.usage;
DROP FUNCTION claudecost.usage_budget_insert();
DROP FUNCTION claudecost.usage_budget_update();
DROP FUNCTION claudecost.usage_budget_delete();

CREATE TRIGGER usage_budget_insert
    AFTER INSERT ON claudecost.usage
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.usage_budget();

CREATE TRIGGER usage_budget_update
    AFTER UPDATE ON claudecost.usage
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.usage_budget();

CREATE TRIGGER usage_budget_delete
    AFTER DELETE ON claudecost.usage
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.usage_budget();
-- ---------------------------------------------------------------------
-- Consistency checks: claudecost.verify() and its helpers (schema/94_verify.sql).
-- ---------------------------------------------------------------------

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
RETURNS TABLE (hour timestamptz, model text, long_context_threshold bigint, stored text, expected text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH raw AS (
        SELECT claudecost.rollup_hour(u.occurred_at) AS hour, u.model, p.long_context_threshold,
               count(*) AS requests,
               sum(u.input_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens
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
          AND u.input_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens + u.cache_read_tokens
              <= p.long_context_threshold * 1.1
        GROUP BY 1, 2, 3
    ),
    stored AS (
        SELECT a.hour, a.model, a.long_context_threshold, a.requests, a.prompt_tokens, a.total_cost,
               a.base_cost
        FROM claudecost.usage_analytics_long_context a
        WHERE a.requests <> 0
    )
    SELECT coalesce(s.hour, r.hour), coalesce(s.model, r.model),
           coalesce(s.long_context_threshold, r.long_context_threshold),
           row(s.requests, s.prompt_tokens, s.total_cost, s.base_cost)::text,
           row(r.requests, r.prompt_tokens, r.total_cost, r.base_cost)::text
    FROM stored s
    FULL JOIN raw r USING (hour, model, long_context_threshold)
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

------------------------------------------------------------------------
-- Security model (schema/95_security.sql and the changes it needs in the
-- earlier fragments)
------------------------------------------------------------------------

-- Functions that ran with the caller's search_path now pin it.
ALTER FUNCTION claudecost.budget_usd_rate(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_from_usd(numeric, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_validate(text, interval, text, numeric[], numeric, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_recount(bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.create_budget(text, numeric, text, text, text, text, text, text, text, text, numeric[], boolean, timestamptz, interval, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.update_budget(bigint, text, numeric, text, numeric[], boolean, boolean, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.disable_budget(bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.delete_budget(bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_apply_spend(claudecost.budget_spend_delta[]) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_settle(bigint[]) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_state(timestamptz, text, text, text, text, text[], bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_reserve(text, text, text, text, text[], numeric, interval) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_release(bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.get_budget_status(bigint, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.budget_forecast(bigint, integer, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.optimize_prompts(text[], text) SET search_path = pg_catalog, pg_temp;

-- Trigger functions that maintain shared rollups and budget counters run
-- as the extension owner, so tenants cannot write those tables directly.
ALTER FUNCTION claudecost.usage_budget() SECURITY DEFINER;
ALTER FUNCTION claudecost.usage_budget_truncate() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION claudecost.usage_rollup() SECURITY DEFINER;
-- REFRESH MATERIALIZED VIEW needs the owner of the views.
ALTER FUNCTION claudecost.refresh_reports() SECURITY DEFINER;

-- Inlinable SQL functions qualify their operators instead of pinning
-- search_path.

CREATE OR REPLACE FUNCTION claudecost.budget_bucket(period text, period_length interval, time_zone text,
                                         starts_at timestamptz, ts timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT CASE
    WHEN period OPERATOR(pg_catalog.=) 'daily' THEN pg_catalog.date_trunc('day', ts, time_zone)
    WHEN period OPERATOR(pg_catalog.=) 'weekly' THEN pg_catalog.date_trunc('week', ts, time_zone)
    WHEN period OPERATOR(pg_catalog.=) 'monthly' THEN pg_catalog.date_trunc('month', ts, time_zone)
    WHEN period OPERATOR(pg_catalog.=) 'quarterly' THEN pg_catalog.date_trunc('quarter', ts, time_zone)
    WHEN period OPERATOR(pg_catalog.=) 'annual' THEN pg_catalog.date_trunc('year', ts, time_zone)
    WHEN period OPERATOR(pg_catalog.=) 'custom' THEN
        pg_catalog.timezone(time_zone,
            pg_catalog.timezone(time_zone, starts_at)
            OPERATOR(pg_catalog.+) (period_length OPERATOR(pg_catalog.*) pg_catalog.floor(
                EXTRACT(epoch FROM (pg_catalog.timezone(time_zone, ts)
                                    OPERATOR(pg_catalog.-) pg_catalog.timezone(time_zone, starts_at)))
                OPERATOR(pg_catalog./) EXTRACT(epoch FROM period_length))::pg_catalog.float8))
    WHEN period OPERATOR(pg_catalog.=) 'rolling' THEN pg_catalog.date_trunc('hour', ts, 'UTC')
END
$$;

CREATE OR REPLACE FUNCTION claudecost.budget_period_end(period text, period_length interval, time_zone text,
                                             period_start timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT pg_catalog.timezone(time_zone, pg_catalog.timezone(time_zone, period_start) OPERATOR(pg_catalog.+) CASE
    WHEN period OPERATOR(pg_catalog.=) 'daily' THEN interval '1 day'
    WHEN period OPERATOR(pg_catalog.=) 'weekly' THEN interval '7 days'
    WHEN period OPERATOR(pg_catalog.=) 'monthly' THEN interval '1 month'
    WHEN period OPERATOR(pg_catalog.=) 'quarterly' THEN interval '3 months'
    WHEN period OPERATOR(pg_catalog.=) 'annual' THEN interval '1 year'
    WHEN period OPERATOR(pg_catalog.=) 'custom' THEN period_length
END)
$$;

CREATE OR REPLACE FUNCTION claudecost.budget_scope_matches(
    b_user_id text, b_project_id text, b_model text, b_api_key_id text, b_tag text,
    user_id text, project_id text, model text, api_key_id text, tags text[])
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT (b_user_id IS NULL OR b_user_id OPERATOR(pg_catalog.=) user_id)
   AND (b_project_id IS NULL OR b_project_id OPERATOR(pg_catalog.=) project_id)
   AND (b_model IS NULL OR model OPERATOR(pg_catalog.~~) b_model)
   AND (b_api_key_id IS NULL OR b_api_key_id OPERATOR(pg_catalog.=) api_key_id)
   AND (b_tag IS NULL OR b_tag OPERATOR(pg_catalog.=) ANY (tags))
$$;

CREATE OR REPLACE FUNCTION claudecost.csv_field(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value IS NULL THEN ''
        WHEN value OPERATOR(pg_catalog.~) '[",\r\n]'
            THEN '"' OPERATOR(pg_catalog.||) pg_catalog.replace(value, '"', '""') OPERATOR(pg_catalog.||) '"'
        ELSE value
    END
$$;

CREATE OR REPLACE FUNCTION claudecost.report_color(n bigint)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT (ARRAY['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#9c755f'])
           [((n OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.%) 8) OPERATOR(pg_catalog.+) 1]
$$;

CREATE OR REPLACE FUNCTION claudecost.usage_analytics_repeat(requests numeric, input_tokens numeric,
                                                  cache_read_tokens numeric, input_cost numeric,
                                                  total_cost numeric)
RETURNS numeric[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN requests OPERATOR(pg_catalog.>) 1 THEN
               ARRAY[1, requests OPERATOR(pg_catalog.-) 1,
                     (total_cost OPERATOR(pg_catalog.*) (requests OPERATOR(pg_catalog.-) 1))
                         OPERATOR(pg_catalog./) requests,
                     CASE WHEN input_tokens OPERATOR(pg_catalog.>) cache_read_tokens
                          THEN (input_cost OPERATOR(pg_catalog.*) (requests OPERATOR(pg_catalog.-) 1))
                               OPERATOR(pg_catalog./) requests
                          ELSE 0 END,
                     CASE WHEN input_tokens OPERATOR(pg_catalog.>) cache_read_tokens
                          THEN input_cost OPERATOR(pg_catalog./) requests ELSE 0 END]
           ELSE ARRAY[0, 0, 0, 0, 0]::pg_catalog.numeric[] END
$$;

-- Security model: roles, privileges and optional tenant isolation.
--
-- Roles.  Roles are cluster-wide, so the extension creates none.  It grants
-- to three roles when they exist (docs/security.md shows how to create them):
--   claudecost_reader  reports, views, rollups, prices, token counts;
--   claudecost_writer  records usage (INSERT, ingest) and spends against
--                      budgets (budget_check, budget_reserve, budget_release;
--                      a usage row with a reservation_id settles it);
--   claudecost_admin   prices, aliases, model patterns, budgets, exchange
--                      rates, optimizer rules, calibration, reprice,
--                      refresh_reports, project membership.
-- Privileges are granted to each role for its own part only, so writer is
-- expected to be a member of reader and admin a member of writer.
-- claudecost.grant_roles() grants them; the install and update scripts call
-- it, and an administrator calls it again after creating the roles later.
--
-- PUBLIC.  The schema grants nothing to PUBLIC, and EXECUTE on every
-- function of the extension is revoked from PUBLIC, so a role that holds
-- none of the three roles can neither read the ledger nor call a function,
-- even where someone grants USAGE on the schema.
--
-- Tenant isolation.  claudecost.enable_tenant_isolation() turns on the
-- row-level security policies below: a role then sees and writes only the
-- usage of the projects listed for it (or for a role it belongs to) in
-- claudecost.project_member.  Members of claudecost_admin, superusers,
-- roles with BYPASSRLS and the extension owner see every row.  The
-- statement triggers that maintain rollups and budget counters are
-- SECURITY DEFINER, so a tenant's insert updates shared rollup rows that
-- the tenant cannot read or write itself.

CREATE TABLE claudecost.project_member (
    -- A role name; membership in that role (directly or through other
    -- roles) gives access to the project.
    role_name text NOT NULL,
    project_id text NOT NULL,
    PRIMARY KEY (role_name, project_id)
);

COMMENT ON TABLE claudecost.project_member IS
    'Projects whose usage a role may see and write when tenant isolation is on';

SELECT pg_catalog.pg_extension_config_dump('claudecost.project_member', '');

-- Budgets visible to a role depend on its projects, and src/budget_check.c
-- caches the visible budgets per session: a change of membership makes
-- every session reload them (src/tenant.c).
CREATE FUNCTION claudecost.project_member_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'claudecost_project_member_changed'
LANGUAGE C;

CREATE TRIGGER project_member_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON claudecost.project_member
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.project_member_changed();

-- The policies call these two functions once per statement (as initplans),
-- with the privileges of the querying role.
CREATE FUNCTION claudecost.tenant_unrestricted()
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                   WHERE r.rolname OPERATOR(pg_catalog.=) 'claudecost_admin'
                     AND pg_catalog.pg_has_role(r.oid, 'USAGE'))
$$;

COMMENT ON FUNCTION claudecost.tenant_unrestricted() IS
    'True when the current role has the privileges of claudecost_admin, which sees every project under tenant isolation';

CREATE FUNCTION claudecost.tenant_projects()
RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(pg_catalog.array_agg(DISTINCT m.project_id ORDER BY m.project_id), '{}')
    FROM claudecost.project_member m
    JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
    WHERE pg_catalog.pg_has_role(r.oid, 'USAGE')
$$;

COMMENT ON FUNCTION claudecost.tenant_projects() IS
    'Projects whose usage the current role may see and write under tenant isolation';

-- Membership rows are always filtered: a role sees the rows of the roles
-- whose privileges it has, claudecost_admin sees all.
ALTER TABLE claudecost.project_member ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_member_own ON claudecost.project_member
    USING ((SELECT claudecost.tenant_unrestricted())
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                      WHERE r.rolname OPERATOR(pg_catalog.=) project_member.role_name
                        AND pg_catalog.pg_has_role(r.oid, 'USAGE')));

-- Tables with a project_id: a row is visible and writable when its project
-- is one of the role's.  A row without project is visible to unrestricted
-- roles only.
CREATE POLICY tenant_isolation ON claudecost.usage
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
CREATE POLICY tenant_isolation ON claudecost.usage_hourly
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
CREATE POLICY tenant_isolation ON claudecost.usage_analytics_daily
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
CREATE POLICY tenant_isolation ON claudecost.prompt_optimization
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
-- NOTE: a usage row settles the reservation whose id it carries whatever
-- the project of either, because the settling trigger runs as the owner.
CREATE POLICY tenant_isolation ON claudecost.budget_reservation
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));

-- Rollups keyed without a project (prompt repeats, long-context requests)
-- and rejected ingest lines cannot be split by tenant: only unrestricted
-- roles read them.  Tenants still write ingest_error through ingest_lines.
CREATE POLICY tenant_isolation ON claudecost.usage_analytics_prompt
    USING ((SELECT claudecost.tenant_unrestricted()));
CREATE POLICY tenant_isolation ON claudecost.usage_analytics_prompt_day
    USING ((SELECT claudecost.tenant_unrestricted()));
CREATE POLICY tenant_isolation ON claudecost.usage_analytics_long_context
    USING ((SELECT claudecost.tenant_unrestricted()));
CREATE POLICY tenant_isolation ON claudecost.ingest_error
    USING ((SELECT claudecost.tenant_unrestricted()));
CREATE POLICY tenant_insert ON claudecost.ingest_error
    FOR INSERT WITH CHECK (true);

-- A budget applies to a tenant when it is global (no project) or scoped to
-- one of its projects; its counters, holds, locks and events follow it.  So
-- budget_check and budget_reserve for another tenant's project do not see
-- that project's budgets, and a reservation for it fails the policy of
-- budget_reservation.
CREATE POLICY tenant_isolation ON claudecost.budget
    USING (project_id IS NULL
           OR (SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
CREATE POLICY tenant_isolation ON claudecost.budget_spend
    USING (EXISTS (SELECT 1 FROM claudecost.budget b WHERE b.id OPERATOR(pg_catalog.=) budget_spend.budget_id));
CREATE POLICY tenant_isolation ON claudecost.budget_hold
    USING (EXISTS (SELECT 1 FROM claudecost.budget b WHERE b.id OPERATOR(pg_catalog.=) budget_hold.budget_id));
CREATE POLICY tenant_isolation ON claudecost.budget_lock
    USING (EXISTS (SELECT 1 FROM claudecost.budget b WHERE b.id OPERATOR(pg_catalog.=) budget_lock.budget_id));
CREATE POLICY tenant_isolation ON claudecost.budget_event
    USING (EXISTS (SELECT 1 FROM claudecost.budget b WHERE b.id OPERATOR(pg_catalog.=) budget_event.budget_id));

-- Tables whose row-level security enable_tenant_isolation() switches on.
CREATE FUNCTION claudecost.tenant_isolated_tables()
RETURNS regclass[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['claudecost.usage', 'claudecost.usage_hourly', 'claudecost.usage_analytics_daily',
                 'claudecost.usage_analytics_prompt', 'claudecost.usage_analytics_prompt_day',
                 'claudecost.usage_analytics_long_context', 'claudecost.prompt_optimization',
                 'claudecost.ingest_error', 'claudecost.budget', 'claudecost.budget_spend',
                 'claudecost.budget_hold', 'claudecost.budget_lock', 'claudecost.budget_event',
                 'claudecost.budget_reservation']::pg_catalog.regclass[]
$$;

COMMENT ON FUNCTION claudecost.tenant_isolated_tables() IS
    'Tables whose rows are filtered by project when tenant isolation is on';

CREATE FUNCTION claudecost.tenant_isolation_enabled()
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.relrowsecurity FROM pg_catalog.pg_class c
    WHERE c.oid OPERATOR(pg_catalog.=) 'claudecost.usage'::pg_catalog.regclass
$$;

COMMENT ON FUNCTION claudecost.tenant_isolation_enabled() IS
    'True when claudecost.enable_tenant_isolation() is in effect';

-- Grants the privileges of each claudecost_* role that exists; roles that
-- do not exist yet are skipped.  Returns the roles that received grants.
-- Readers get SELECT on every table and view and EXECUTE on every function
-- that is neither a writer, an admin nor an internal function.  Under
-- tenant isolation the monthly materialized views, which row-level security
-- cannot filter, are left out.
CREATE FUNCTION claudecost.grant_roles()
RETURNS text[]
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    writer_functions text[] := ARRAY['ingest', 'ingest_lines', 'budget_check', 'budget_reserve',
                                     'budget_release', 'record_prompt_optimization'];
    admin_functions text[] := ARRAY['add_price', 'reprice', 'calibrate', 'create_budget', 'update_budget',
                                    'disable_budget', 'delete_budget', 'budget_recount', 'budget_validate',
                                    'refresh_reports', 'grant_roles', 'enable_tenant_isolation',
                                    'disable_tenant_isolation'];
    -- Called only by trigger functions, which run as the extension owner.
    internal_functions text[] := ARRAY['budget_apply_spend', 'budget_settle'];
    isolated boolean := claudecost.tenant_isolation_enabled();
    granted text[] := '{}';
    f record;
    rel record;
BEGIN
    IF pg_catalog.to_regrole('claudecost_reader') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA claudecost TO claudecost_reader;
        FOR rel IN
            SELECT c.oid::pg_catalog.regclass AS name, c.relkind
            FROM pg_catalog.pg_class c
            WHERE c.relnamespace OPERATOR(pg_catalog.=) 'claudecost'::pg_catalog.regnamespace
              AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,v,m}'::pg_catalog."char"[])
            ORDER BY 1
        LOOP
            IF rel.relkind OPERATOR(pg_catalog.<>) 'm' OR NOT isolated THEN
                EXECUTE pg_catalog.format('GRANT SELECT ON %s TO claudecost_reader', rel.name);
            END IF;
        END LOOP;
        FOR f IN
            SELECT p.oid::pg_catalog.regprocedure AS signature
            FROM pg_catalog.pg_proc p
            WHERE p.pronamespace OPERATOR(pg_catalog.=) 'claudecost'::pg_catalog.regnamespace
              AND p.prorettype OPERATOR(pg_catalog.<>) 'pg_catalog.trigger'::pg_catalog.regtype
              AND NOT p.proname::text OPERATOR(pg_catalog.=) ANY (writer_functions
                                                                 OPERATOR(pg_catalog.||) admin_functions
                                                                 OPERATOR(pg_catalog.||) internal_functions)
            ORDER BY 1
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO claudecost_reader', f.signature);
        END LOOP;
        granted := granted OPERATOR(pg_catalog.||) 'claudecost_reader'::text;
    END IF;

    IF pg_catalog.to_regrole('claudecost_writer') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA claudecost TO claudecost_writer;
        -- ingest() upserts: a replayed response may raise the token counts
        -- of its row, and a row may gain the reservation it settles.
        GRANT INSERT ON claudecost.usage TO claudecost_writer;
        GRANT UPDATE (occurred_at, input_tokens, output_tokens, cache_write_5m_tokens,
                      cache_write_1h_tokens, cache_read_tokens, web_search_requests,
                      web_fetch_requests, metadata, reservation_id)
            ON claudecost.usage TO claudecost_writer;
        GRANT INSERT ON claudecost.ingest_error TO claudecost_writer;
        GRANT INSERT ON claudecost.prompt_optimization TO claudecost_writer;
        GRANT INSERT, UPDATE ON claudecost.budget_reservation TO claudecost_writer;
        GRANT INSERT, DELETE ON claudecost.budget_hold TO claudecost_writer;
        -- budget_reserve locks the budget_lock rows of the budgets it holds against.
        GRANT UPDATE ON claudecost.budget_lock TO claudecost_writer;
        FOR f IN
            SELECT p.oid::pg_catalog.regprocedure AS signature
            FROM pg_catalog.pg_proc p
            WHERE p.pronamespace OPERATOR(pg_catalog.=) 'claudecost'::pg_catalog.regnamespace
              AND p.proname::text OPERATOR(pg_catalog.=) ANY (writer_functions)
            ORDER BY 1
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO claudecost_writer', f.signature);
        END LOOP;
        granted := granted OPERATOR(pg_catalog.||) 'claudecost_writer'::text;
    END IF;

    IF pg_catalog.to_regrole('claudecost_admin') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA claudecost TO claudecost_admin;
        GRANT INSERT, UPDATE, DELETE ON claudecost.price, claudecost.model_alias, claudecost.model_pattern,
            claudecost.token_calibration, claudecost.token_calibration_run, claudecost.optimizer_rule,
            claudecost.optimizer_marker, claudecost.exchange_rate, claudecost.budget,
            claudecost.budget_lock, claudecost.budget_spend, claudecost.project_member
            TO claudecost_admin;
        -- reprice() updates and locks the ledger; admins also correct or delete rows.
        GRANT UPDATE, DELETE ON claudecost.usage TO claudecost_admin;
        GRANT DELETE ON claudecost.ingest_error TO claudecost_admin;
        FOR f IN
            SELECT p.oid::pg_catalog.regprocedure AS signature
            FROM pg_catalog.pg_proc p
            WHERE p.pronamespace OPERATOR(pg_catalog.=) 'claudecost'::pg_catalog.regnamespace
              AND p.proname::text OPERATOR(pg_catalog.=) ANY (admin_functions)
            ORDER BY 1
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO claudecost_admin', f.signature);
        END LOOP;
        granted := granted OPERATOR(pg_catalog.||) 'claudecost_admin'::text;
    END IF;
    RETURN granted;
END
$$;

COMMENT ON FUNCTION claudecost.grant_roles() IS
    'Grants the privileges of claudecost_reader, claudecost_writer and claudecost_admin to those that exist; returns them';

-- Switches row-level security on for every table of tenant_isolated_tables()
-- and takes the monthly materialized views away from readers.
CREATE FUNCTION claudecost.enable_tenant_isolation()
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t pg_catalog.regclass;
BEGIN
    FOREACH t IN ARRAY claudecost.tenant_isolated_tables()
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    END LOOP;
    REVOKE SELECT ON claudecost.monthly_cost_by_model, claudecost.monthly_cost_by_user,
        claudecost.monthly_cost_by_project FROM PUBLIC;
    IF pg_catalog.to_regrole('claudecost_reader') IS NOT NULL THEN
        REVOKE SELECT ON claudecost.monthly_cost_by_model, claudecost.monthly_cost_by_user,
            claudecost.monthly_cost_by_project FROM claudecost_reader;
    END IF;
END
$$;

COMMENT ON FUNCTION claudecost.enable_tenant_isolation() IS
    'Turns on row-level security by project (claudecost.project_member) on the ledger, rollups and budgets';

CREATE FUNCTION claudecost.disable_tenant_isolation()
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t pg_catalog.regclass;
BEGIN
    FOREACH t IN ARRAY claudecost.tenant_isolated_tables()
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
    PERFORM claudecost.grant_roles();
END
$$;

COMMENT ON FUNCTION claudecost.disable_tenant_isolation() IS
    'Turns row-level security by project off again; every reader sees every project';

-- Views read the ledger with the privileges and row-level security of the
-- role that queries them, not of the extension owner.  CREATE OR REPLACE
-- VIEW without this option turns it off again; sql/security_search_path.sql
-- lists every view that lacks it.
ALTER VIEW claudecost.unpriced_usage SET (security_invoker = true);
ALTER VIEW claudecost.daily_usage SET (security_invoker = true);
ALTER VIEW claudecost.cost_by_model SET (security_invoker = true);
ALTER VIEW claudecost.cost_by_user SET (security_invoker = true);
ALTER VIEW claudecost.cost_by_project SET (security_invoker = true);
ALTER VIEW claudecost.budget_status SET (security_invoker = true);
ALTER VIEW claudecost.prompt_optimization_savings SET (security_invoker = true);
ALTER VIEW claudecost.daily_cost_by_model SET (security_invoker = true);
ALTER VIEW claudecost.daily_cost_by_user SET (security_invoker = true);
ALTER VIEW claudecost.daily_cost_by_project SET (security_invoker = true);
ALTER VIEW claudecost.hourly_usage SET (security_invoker = true);
ALTER VIEW claudecost.cost_trends SET (security_invoker = true);
ALTER VIEW claudecost.budget_report SET (security_invoker = true);
ALTER VIEW claudecost.admin_cost_report SET (security_invoker = true);

-- Nothing is callable by PUBLIC; grant_roles() gives each role its part.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA claudecost FROM PUBLIC;
SELECT claudecost.grant_roles();

-- The statements of these functions take an array parameter.  The plan
-- cache kept choosing custom plans for them, so every usage statement
-- planned the threshold query again.
ALTER FUNCTION claudecost.budget_apply_spend(claudecost.budget_spend_delta[])
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION claudecost.budget_settle(bigint[])
    SET plan_cache_mode = force_generic_plan;

-- An EXCEPTION block starts a subtransaction, which a parallel query
-- cannot: these functions were wrongly marked PARALLEL SAFE.
ALTER FUNCTION claudecost.report_check_period(timestamptz, timestamptz, text) PARALLEL UNSAFE;
ALTER FUNCTION claudecost.generate_usage_report(timestamptz, timestamptz, text) PARALLEL UNSAFE;
ALTER FUNCTION claudecost.export_usage_report(timestamptz, timestamptz, text, text) PARALLEL UNSAFE;

-- A hash aggregate for large statements: at 32 MB the planner sorted a
-- million-row COPY on disk instead.
ALTER FUNCTION claudecost.usage_rollup() SET work_mem = '128MB';

-- Rollup rows are updated in place by every usage statement; free space on
-- each page keeps those updates heap-only.  Applies to pages written from
-- now on.
ALTER TABLE claudecost.usage_hourly SET (fillfactor = 70);
ALTER TABLE claudecost.usage_analytics_daily SET (fillfactor = 70);

-- budget_check keeps the sum of a rolling window's past hours while the
-- budget's late-change marker, a budget_spend row at period_start
-- '-infinity', keeps its row version.  The usage triggers, recounts and
-- TRUNCATE write the marker again whenever a past hour changes.
CREATE OR REPLACE FUNCTION claudecost.budget_recount(budget_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    LOCK TABLE claudecost.usage IN SHARE MODE;
    DELETE FROM claudecost.budget_spend s WHERE s.budget_id = budget_recount.budget_id;
    INSERT INTO claudecost.budget_spend (budget_id, period_start, spent)
    SELECT b.id,
           claudecost.budget_bucket(b.period, b.period_length, b.time_zone, b.starts_at, u.occurred_at),
           pg_catalog.sum(u.total_cost)
      FROM claudecost.budget b
      JOIN claudecost.usage u
        ON u.occurred_at >= b.starts_at
       AND (b.ends_at IS NULL OR u.occurred_at < b.ends_at)
       AND claudecost.budget_scope_matches(b.user_id, b.project_id, b.model, b.api_key_id, b.tag,
                                           u.user_id, u.project_id, u.model, u.api_key_id, u.tags)
     WHERE b.id = budget_recount.budget_id
       AND u.total_cost IS NOT NULL
     GROUP BY 1, 2
     ORDER BY 1, 2;
    -- The late-change marker of a rolling budget (see src/budget_trigger.c).
    INSERT INTO claudecost.budget_spend (budget_id, period_start, spent)
    SELECT b.id, '-infinity', 0
      FROM claudecost.budget b
     WHERE b.id = budget_recount.budget_id AND b.period = 'rolling'
    ON CONFLICT ON CONSTRAINT budget_spend_pkey DO NOTHING;
END
$$;

CREATE OR REPLACE FUNCTION claudecost.usage_budget_truncate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM claudecost.budget_spend WHERE period_start <> '-infinity';
    -- A new version of each late-change marker: the past hours changed.
    UPDATE claudecost.budget_spend SET spent = 0 WHERE period_start = '-infinity';
    RETURN NULL;
END
$$;

COMMENT ON TABLE claudecost.budget_spend IS
    'USD spent per budget and period (per UTC hour for rolling budgets), kept by the usage_budget_* triggers; the row at period_start -infinity of a rolling budget marks late changes and is always 0';

INSERT INTO claudecost.budget_spend (budget_id, period_start, spent)
SELECT b.id, '-infinity', 0
  FROM claudecost.budget b
 WHERE b.period = 'rolling'
ON CONFLICT (budget_id, period_start) DO NOTHING;

-- Budget amounts, exchange rates and estimates must be finite, and a model
-- pattern must not end with the LIKE escape character, which made every
-- usage row that the triggers matched against it fail.
ALTER TABLE claudecost.budget
    DROP CONSTRAINT budget_amount_check,
    ADD CONSTRAINT budget_amount_check CHECK (amount > 0 AND amount < 'Infinity'),
    ADD CONSTRAINT budget_model_check CHECK (model !~ '(^|[^\\])(\\\\)*\\$');
ALTER TABLE claudecost.exchange_rate
    DROP CONSTRAINT exchange_rate_positive_check,
    ADD CONSTRAINT exchange_rate_positive_check CHECK (usd_per_unit > 0 AND usd_per_unit < 'Infinity');

CREATE OR REPLACE FUNCTION claudecost.budget_validate(period text, period_length interval, time_zone text,
                                           warn_at numeric[], amount numeric, currency text)
RETURNS numeric[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sorted numeric[];
BEGIN
    IF amount IS NULL OR amount <= 0 OR amount >= 'Infinity' THEN
        RAISE EXCEPTION 'invalid budget amount "%"', amount
            USING ERRCODE = '22023', HINT = 'Give a finite amount greater than zero.';
    END IF;
    PERFORM claudecost.budget_usd_rate(currency);
    IF period IS NULL OR period NOT IN ('daily', 'weekly', 'monthly', 'quarterly', 'annual', 'custom', 'rolling') THEN
        RAISE EXCEPTION 'invalid budget period "%"', period
            USING ERRCODE = '22023',
                  HINT = 'Use daily, weekly, monthly, quarterly, annual, custom or rolling.';
    END IF;
    IF period IN ('custom', 'rolling') THEN
        IF period_length IS NULL OR period_length <= interval '0'
           OR pg_catalog.date_part('month', period_length) <> 0
           OR pg_catalog.date_part('year', period_length) <> 0 THEN
            RAISE EXCEPTION 'invalid period_length "%" for a % budget', period_length, period
                USING ERRCODE = '22023',
                      HINT = 'Give a positive length in days, hours or minutes; use monthly, quarterly or annual for months.';
        END IF;
        IF period = 'rolling' AND EXTRACT(epoch FROM period_length) % 3600 <> 0 THEN
            RAISE EXCEPTION 'invalid period_length "%" for a rolling budget', period_length
                USING ERRCODE = '22023',
                      DETAIL = 'Rolling windows are counted in whole UTC hours.',
                      HINT = 'Give a whole number of hours, such as ''24 hours'' or ''7 days''.';
        END IF;
    ELSIF period_length IS NOT NULL THEN
        RAISE EXCEPTION 'period_length is only valid for custom and rolling budgets'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('A %s budget has a calendar length.', period),
                  HINT = 'Pass period_length => NULL.';
    END IF;
    IF time_zone IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = time_zone) THEN
        RAISE EXCEPTION 'invalid time zone "%"', time_zone
            USING ERRCODE = '22023',
                  HINT = 'Use a name from pg_timezone_names, such as ''Europe/Berlin''.';
    END IF;
    IF warn_at IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.unnest(warn_at) t WHERE t IS NULL OR t <= 0 OR t >= 1) THEN
        RAISE EXCEPTION 'invalid warn_at "%"', warn_at
            USING ERRCODE = '22023',
                  DETAIL = 'Each threshold is a fraction of the amount, greater than 0 and less than 1; reaching 1 is the limit itself.',
                  HINT = 'Pass thresholds such as ''{0.5,0.8}'', or ''{}'' for none.';
    END IF;
    SELECT coalesce(pg_catalog.array_agg(DISTINCT t ORDER BY t), '{}') INTO sorted FROM pg_catalog.unnest(warn_at) t;
    RETURN sorted;
END
$$;

CREATE OR REPLACE FUNCTION claudecost.create_budget(
    name text,
    amount numeric,
    period text,
    currency text DEFAULT 'USD',
    user_id text DEFAULT NULL,
    project_id text DEFAULT NULL,
    model text DEFAULT NULL,
    api_key_id text DEFAULT NULL,
    tag text DEFAULT NULL,
    time_zone text DEFAULT 'UTC',
    warn_at numeric[] DEFAULT '{0.8}',
    hard_limit boolean DEFAULT true,
    starts_at timestamptz DEFAULT now(),
    period_length interval DEFAULT NULL,
    ends_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    thresholds numeric[];
    new_id bigint;
BEGIN
    IF name IS NULL OR name = '' THEN
        RAISE EXCEPTION 'budget name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF create_budget.model ~ '(^|[^\\])(\\\\)*\\$' THEN
        RAISE EXCEPTION 'invalid model pattern "%"', create_budget.model
            USING ERRCODE = '22023',
                  DETAIL = 'A LIKE pattern must not end with its escape character, the backslash.',
                  HINT = 'Write two backslashes to match one.';
    END IF;
    thresholds := claudecost.budget_validate(period, period_length, time_zone, warn_at, amount, currency);
    IF starts_at IS NULL THEN
        RAISE EXCEPTION 'budget starts_at must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF ends_at IS NOT NULL AND ends_at <= starts_at THEN
        RAISE EXCEPTION 'budget ends_at "%" is not after starts_at "%"', ends_at, starts_at
            USING ERRCODE = '22023';
    END IF;

    INSERT INTO claudecost.budget (name, amount, currency, user_id, project_id, model, api_key_id, tag,
                                   period, period_length, time_zone, starts_at, ends_at, warn_at, hard_limit)
    VALUES (create_budget.name, create_budget.amount, create_budget.currency, create_budget.user_id,
            create_budget.project_id, create_budget.model, create_budget.api_key_id, create_budget.tag,
            create_budget.period, create_budget.period_length, create_budget.time_zone,
            create_budget.starts_at, create_budget.ends_at, thresholds, create_budget.hard_limit)
    RETURNING id INTO new_id;
    INSERT INTO claudecost.budget_lock (budget_id) VALUES (new_id);
    PERFORM claudecost.budget_recount(new_id);
    RETURN new_id;
END
$$;

CREATE OR REPLACE FUNCTION claudecost.update_budget(
    budget_id bigint,
    name text DEFAULT NULL,
    amount numeric DEFAULT NULL,
    currency text DEFAULT NULL,
    warn_at numeric[] DEFAULT NULL,
    hard_limit boolean DEFAULT NULL,
    enabled boolean DEFAULT NULL,
    ends_at timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b claudecost.budget;
    thresholds numeric[];
BEGIN
    SELECT * INTO b FROM claudecost.budget WHERE id = update_budget.budget_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'budget % not found', budget_id USING ERRCODE = 'P0002';
    END IF;
    IF update_budget.name = '' THEN
        RAISE EXCEPTION 'budget name must not be empty' USING ERRCODE = '22023';
    END IF;
    thresholds := claudecost.budget_validate(b.period, b.period_length, b.time_zone,
                                             coalesce(update_budget.warn_at, b.warn_at),
                                             coalesce(update_budget.amount, b.amount),
                                             coalesce(update_budget.currency, b.currency));
    IF update_budget.ends_at IS NOT NULL AND update_budget.ends_at <= b.starts_at THEN
        RAISE EXCEPTION 'budget ends_at "%" is not after starts_at "%"', update_budget.ends_at, b.starts_at
            USING ERRCODE = '22023';
    END IF;
    UPDATE claudecost.budget u
       SET name = coalesce(update_budget.name, u.name),
           amount = coalesce(update_budget.amount, u.amount),
           currency = coalesce(update_budget.currency, u.currency),
           warn_at = thresholds,
           hard_limit = coalesce(update_budget.hard_limit, u.hard_limit),
           enabled = coalesce(update_budget.enabled, u.enabled),
           ends_at = coalesce(update_budget.ends_at, u.ends_at),
           updated_at = now()
     WHERE u.id = update_budget.budget_id;
    IF update_budget.ends_at IS DISTINCT FROM b.ends_at AND update_budget.ends_at IS NOT NULL THEN
        PERFORM claudecost.budget_recount(update_budget.budget_id);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION claudecost.budget_reserve(
    user_id text DEFAULT NULL,
    project_id text DEFAULT NULL,
    model text DEFAULT NULL,
    api_key_id text DEFAULT NULL,
    tags text[] DEFAULT NULL,
    estimated_cost numeric DEFAULT NULL,
    ttl interval DEFAULT '10 minutes')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    clock timestamptz := pg_catalog.clock_timestamp();
    ids bigint[];
    lock_id bigint;
    r record;
    reservation bigint;
BEGIN
    IF estimated_cost IS NULL OR estimated_cost < 0 OR estimated_cost >= 'Infinity' THEN
        RAISE EXCEPTION 'invalid estimated_cost "%"', estimated_cost
            USING ERRCODE = '22023', HINT = 'Give the estimated cost of the request in USD, a finite amount of zero or more.';
    END IF;
    IF ttl IS NULL OR ttl <= interval '0' THEN
        RAISE EXCEPTION 'invalid ttl "%"', ttl
            USING ERRCODE = '22023', HINT = 'Give a positive interval, such as ''10 minutes''.';
    END IF;

    SELECT pg_catalog.array_agg(s.budget_id ORDER BY s.budget_id) INTO ids
      FROM claudecost.budget_state(clock, user_id, project_id, model, api_key_id, tags) s;

    -- Serialize reservations per budget, in id order so that two reservers
    -- of overlapping budget sets cannot deadlock.  The lock does not update
    -- the row, so waiters queue on it instead of racing through an update
    -- chain.  Under REPEATABLE READ or SERIALIZABLE the snapshot predates the
    -- lock, so the row is also updated: a reserver whose snapshot misses a
    -- concurrent hold then fails with a serialization error.
    PERFORM 1 FROM claudecost.budget_lock l
      WHERE l.budget_id = ANY (ids)
      ORDER BY l.budget_id
      FOR NO KEY UPDATE;
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        FOREACH lock_id IN ARRAY coalesce(ids, '{}')
        LOOP
            UPDATE claudecost.budget_lock l SET version = l.version + 1 WHERE l.budget_id = lock_id;
        END LOOP;
    END IF;

    -- A new statement, so under READ COMMITTED it sees every hold and spend
    -- committed by the reservers this one waited for.
    FOR r IN
        SELECT s.*
          FROM claudecost.budget_state(clock, user_id, project_id, model, api_key_id, tags) s
         WHERE s.hard_limit AND s.spent_usd + s.reserved_usd + estimated_cost > s.limit_usd
         ORDER BY s.budget_id
         LIMIT 1
    LOOP
        RAISE EXCEPTION 'budget "%" exceeded', r.budget_name
            USING ERRCODE = 'CC001',
                  DETAIL = pg_catalog.format('Spent %s, reserved %s, requested %s, limit %s %s in the current period.',
                                             claudecost.budget_from_usd(r.spent_usd, r.currency),
                                             claudecost.budget_from_usd(r.reserved_usd, r.currency),
                                             claudecost.budget_from_usd(estimated_cost, r.currency),
                                             r.amount, r.currency),
                  HINT = 'Wait for the next period, release unused reservations with claudecost.budget_release(), or raise the amount with claudecost.update_budget().';
    END LOOP;

    INSERT INTO claudecost.budget_reservation (estimated_cost, user_id, project_id, model, api_key_id, tags,
                                               created_at, expires_at)
    VALUES (estimated_cost, user_id, project_id, model, api_key_id, tags, clock, clock + ttl)
    RETURNING id INTO reservation;

    INSERT INTO claudecost.budget_hold (budget_id, reservation_id, amount, expires_at)
    SELECT b, reservation, estimated_cost, clock + ttl FROM pg_catalog.unnest(ids) b;

    -- Expired holds no longer count; drop them while their budgets are locked.
    DELETE FROM claudecost.budget_hold h
     WHERE h.budget_id = ANY (ids) AND h.expires_at <= clock;

    RETURN reservation;
END
$$;

CREATE OR REPLACE FUNCTION claudecost.get_budget_status(budget_id bigint, as_of timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    spent numeric;
    reserved numeric;
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be NULL' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO r FROM claudecost.budget_state(as_of, NULL, NULL, NULL, NULL, NULL, budget_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'budget % not found', budget_id USING ERRCODE = 'P0002';
    END IF;
    spent := claudecost.budget_from_usd(r.spent_usd, r.currency);
    reserved := claudecost.budget_from_usd(r.reserved_usd, r.currency);
    RETURN pg_catalog.jsonb_build_object(
        'budget_id', r.budget_id,
        'budget_name', r.budget_name,
        'period_start', r.period_start,
        'period_end', r.period_end,
        'budget_amount', r.amount,
        'spent_amount', spent,
        'reserved_amount', reserved,
        'remaining_amount', r.amount - spent - reserved,
        'usage_percentage', pg_catalog.round(r.spent_usd / r.limit_usd * 100, 2),
        'is_warning', pg_catalog.cardinality(r.warn_at) > 0 AND r.spent_usd >= r.warn_at[1] * r.limit_usd,
        'is_exceeded', r.spent_usd > r.limit_usd,
        'currency', r.currency);
END
$$;

-- reconcile() refuses a cost report in a currency other than USD, and
-- resolves the report's model names as the ledger view does.
CREATE OR REPLACE FUNCTION claudecost.reconcile(cost_report jsonb)
RETURNS TABLE (day date, model text, report_amount numeric, ledger_amount numeric,
               difference numeric, status text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pages jsonb;
    bad record;
BEGIN
    IF cost_report IS NULL THEN
        RAISE EXCEPTION 'cost report must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    pages := CASE jsonb_typeof(cost_report) WHEN 'array' THEN cost_report
                                            ELSE jsonb_build_array(cost_report) END;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(pages) pg
               WHERE jsonb_typeof(pg) <> 'object' OR jsonb_typeof(pg->'data') IS DISTINCT FROM 'array') THEN
        RAISE EXCEPTION 'invalid cost report'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A cost report is an object with a "data" array, or an array of such objects.';
    END IF;

    SELECT r->>'currency' AS currency INTO bad
    FROM jsonb_array_elements(pages) pg,
         jsonb_array_elements(pg->'data') b,
         jsonb_array_elements(coalesce(b->'results', '[]')) r
    WHERE r->>'currency' IS DISTINCT FROM 'USD' AND r ? 'currency'
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unsupported currency "%" in cost report', bad.currency
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The ledger is kept in USD and compared in US cents.',
                  HINT = 'Download the cost report in USD.';
    END IF;

    SELECT l.day, l.amount INTO bad FROM claudecost.reconcile_lines(pages) l
    WHERE l.day IS NULL
       OR (l.amount IS NOT NULL AND l.amount !~ '^-?[0-9]+(\.[0-9]+)?$')
    LIMIT 1;
    IF FOUND AND bad.day IS NULL THEN
        RAISE EXCEPTION 'missing starting_at in cost report bucket'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Each bucket of a cost report needs its starting_at time.';
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'invalid amount "%" in cost report', bad.amount
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Amounts are decimal strings in US cents, such as "123.78912".';
    END IF;

    RETURN QUERY
    WITH report AS (
        -- Model names as the ledger view gives them: aliases and dated ids
        -- resolve to the priced model.
        SELECT l.day, coalesce(claudecost.resolve_model(l.model), l.model) AS model,
               sum(l.amount::numeric) AS amount
        FROM claudecost.reconcile_lines(pages) l
        WHERE l.amount IS NOT NULL
        GROUP BY 1, 2
    ),
    report_day AS (
        SELECT DISTINCT l.day FROM claudecost.reconcile_lines(pages) l
    ),
    ledger AS (
        SELECT a.day, a.model, sum(a.amount) AS amount
        FROM claudecost.admin_cost_report a
        WHERE a.day IN (SELECT d.day FROM report_day d)
        GROUP BY a.day, a.model
    )
    SELECT x.line_day, x.line_model, x.report_cents, x.ledger_cents,
           pg_catalog.trim_scale(x.ledger_cents - x.report_cents),
           CASE WHEN x.in_report AND NOT x.in_ledger THEN 'missing_in_ledger'
                WHEN x.in_ledger AND NOT x.in_report THEN 'missing_in_report'
                WHEN x.report_cents = x.ledger_cents THEN 'match'
                ELSE 'mismatch' END
    FROM (
        SELECT coalesce(r.day, g.day) AS line_day, coalesce(r.model, g.model) AS line_model,
               pg_catalog.trim_scale(coalesce(r.amount, 0)) AS report_cents,
               pg_catalog.trim_scale(coalesce(g.amount, 0)) AS ledger_cents,
               r.day IS NOT NULL AS in_report, g.day IS NOT NULL AS in_ledger
        FROM report r
        FULL JOIN ledger g ON g.day = r.day AND g.model IS NOT DISTINCT FROM r.model
    ) x
    ORDER BY x.line_day, x.line_model COLLATE "C";
END;
$$;

-- ---------------------------------------------------------------------
-- Input limits: occurred_at range, report period length, per-row token
-- totals summed in numeric by the checks, and non-UTF-8 databases.
-- ---------------------------------------------------------------------

-- The constraint is added NOT VALID first, so that a ledger with rows
-- outside the range still updates.  When no row lies outside (min and max
-- read from usage_occurred_at_idx), VALIDATE scans the ledger once and marks
-- the constraint valid, as in a fresh install.  Otherwise a warning lists
-- how many rows lie outside.  They stay readable, every new or updated row
-- is checked, and VALIDATE CONSTRAINT succeeds once those rows are fixed.
ALTER TABLE claudecost.usage ADD CONSTRAINT usage_occurred_at_range
    CHECK (occurred_at >= '1970-01-01 00:00:00+00' AND occurred_at < '2200-01-01 00:00:00+00') NOT VALID;

DO $$
DECLARE
    outside bigint;
BEGIN
    IF (SELECT min(u.occurred_at) >= '1970-01-01 00:00:00+00' AND max(u.occurred_at) < '2200-01-01 00:00:00+00'
        FROM claudecost.usage u) IS NOT FALSE THEN
        ALTER TABLE claudecost.usage VALIDATE CONSTRAINT usage_occurred_at_range;
    ELSE
        SELECT count(*) INTO outside
        FROM claudecost.usage u
        WHERE NOT (u.occurred_at >= '1970-01-01 00:00:00+00' AND u.occurred_at < '2200-01-01 00:00:00+00');
        RAISE WARNING 'claudecost.usage has % rows with occurred_at outside [1970-01-01, 2200-01-01)', outside
            USING DETAIL = 'The constraint usage_occurred_at_range was added NOT VALID, so it checks only new and updated rows.',
                  HINT = 'Correct or delete those rows, then run ALTER TABLE claudecost.usage VALIDATE CONSTRAINT usage_occurred_at_range.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION claudecost.verify_analytics_rollups()
RETURNS TABLE (rollup text, key text, stored text, expected text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH daily_raw AS (
        SELECT (u.occurred_at AT TIME ZONE 'UTC')::date AS day, u.model, coalesce(u.user_id, '') AS user_id,
               coalesce(u.project_id, '') AS project_id, u.service_tier,
               count(*) AS requests, count(*) FILTER (WHERE u.total_cost IS NULL) AS unpriced_requests,
               sum(u.input_tokens::numeric + u.output_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens
                   + u.cache_read_tokens) AS tokens,
               coalesce(sum(u.input_cost), 0) AS input_cost, coalesce(sum(u.cache_write_cost), 0) AS cache_write_cost,
               coalesce(sum(u.tool_cost), 0) AS tool_cost, coalesce(sum(u.total_cost), 0) AS total_cost
        FROM claudecost.usage u
        GROUP BY 1, 2, 3, 4, 5
    ),
    daily_stored AS (
        SELECT a.day, a.model, a.user_id, a.project_id, a.service_tier, a.requests, a.unpriced_requests,
               a.input_tokens + a.output_tokens + a.cache_write_5m_tokens + a.cache_write_1h_tokens
               + a.cache_read_tokens AS tokens,
               a.input_cost, a.cache_write_cost, a.tool_cost, a.total_cost
        FROM claudecost.usage_analytics_daily a
        WHERE a.requests <> 0
    ),
    prompt_raw AS (
        SELECT (u.occurred_at AT TIME ZONE 'UTC')::date AS day, u.prompt_hash, u.model, count(*) AS requests,
               sum(u.input_tokens) AS input_tokens, sum(u.cache_read_tokens) AS cache_read_tokens,
               coalesce(sum(u.input_cost), 0) AS input_cost, coalesce(sum(u.total_cost), 0) AS total_cost
        FROM claudecost.usage u
        WHERE u.prompt_hash IS NOT NULL
        GROUP BY 1, 2, 3
    ),
    prompt_day_expected AS (
        SELECT a.day, a.model, sum(x.sums[1]) AS prompt_days, sum(x.sums[2]) AS repeats,
               sum(x.sums[3]) AS repeat_cost, sum(x.sums[4]) AS uncached_repeat_input_cost,
               sum(x.sums[5]) AS uncached_first_input_cost
        FROM claudecost.usage_analytics_prompt a
        CROSS JOIN LATERAL (SELECT claudecost.usage_analytics_repeat(a.requests, a.input_tokens,
                                                                     a.cache_read_tokens, a.input_cost,
                                                                     a.total_cost) AS sums) x
        GROUP BY a.day, a.model
        HAVING sum(x.sums[1]) <> 0
    )
    SELECT 'usage_analytics_daily',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.model, r.model), coalesce(s.user_id, r.user_id),
                     coalesce(s.project_id, r.project_id), coalesce(s.service_tier, r.service_tier)),
           row(s.requests, s.unpriced_requests, s.tokens, s.input_cost, s.cache_write_cost, s.tool_cost,
               s.total_cost)::text,
           row(r.requests, r.unpriced_requests, r.tokens, r.input_cost, r.cache_write_cost, r.tool_cost,
               r.total_cost)::text
    FROM daily_stored s
    FULL JOIN daily_raw r USING (day, model, user_id, project_id, service_tier)
    WHERE row(s.requests, s.unpriced_requests, s.tokens, s.input_cost, s.cache_write_cost, s.tool_cost, s.total_cost)
          IS DISTINCT FROM
          row(r.requests, r.unpriced_requests, r.tokens, r.input_cost, r.cache_write_cost, r.tool_cost, r.total_cost)
    UNION ALL
    SELECT 'usage_analytics_prompt',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.prompt_hash, r.prompt_hash), coalesce(s.model, r.model)),
           row(s.requests, s.input_tokens, s.cache_read_tokens, s.input_cost, s.total_cost)::text,
           row(r.requests, r.input_tokens, r.cache_read_tokens, r.input_cost, r.total_cost)::text
    FROM (SELECT * FROM claudecost.usage_analytics_prompt a WHERE a.requests <> 0) s
    FULL JOIN prompt_raw r USING (day, prompt_hash, model)
    WHERE row(s.requests, s.input_tokens, s.cache_read_tokens, s.input_cost, s.total_cost)
          IS DISTINCT FROM row(r.requests, r.input_tokens, r.cache_read_tokens, r.input_cost, r.total_cost)
    UNION ALL
    SELECT 'usage_analytics_prompt_day',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.model, r.model)),
           row(s.prompt_days, s.repeats, s.repeat_cost, s.uncached_repeat_input_cost,
               s.uncached_first_input_cost)::text,
           row(r.prompt_days, r.repeats, r.repeat_cost, r.uncached_repeat_input_cost,
               r.uncached_first_input_cost)::text
    FROM (SELECT * FROM claudecost.usage_analytics_prompt_day a WHERE a.prompt_days <> 0) s
    FULL JOIN prompt_day_expected r USING (day, model)
    WHERE row(s.prompt_days, s.repeats, s.repeat_cost, s.uncached_repeat_input_cost, s.uncached_first_input_cost)
          IS DISTINCT FROM
          row(r.prompt_days, r.repeats, r.repeat_cost, r.uncached_repeat_input_cost, r.uncached_first_input_cost)
$$;

CREATE OR REPLACE FUNCTION claudecost.verify_long_context_rollup()
RETURNS TABLE (hour timestamptz, model text, long_context_threshold bigint, stored text, expected text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH raw AS (
        SELECT claudecost.rollup_hour(u.occurred_at) AS hour, u.model, p.long_context_threshold,
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
        GROUP BY 1, 2, 3
    ),
    stored AS (
        SELECT a.hour, a.model, a.long_context_threshold, a.requests, a.prompt_tokens, a.total_cost,
               a.base_cost
        FROM claudecost.usage_analytics_long_context a
        WHERE a.requests <> 0
    )
    SELECT coalesce(s.hour, r.hour), coalesce(s.model, r.model),
           coalesce(s.long_context_threshold, r.long_context_threshold),
           row(s.requests, s.prompt_tokens, s.total_cost, s.base_cost)::text,
           row(r.requests, r.prompt_tokens, r.total_cost, r.base_cost)::text
    FROM stored s
    FULL JOIN raw r USING (hour, model, long_context_threshold)
    WHERE row(s.requests, s.prompt_tokens, s.total_cost, s.base_cost)
          IS DISTINCT FROM row(r.requests, r.prompt_tokens, r.total_cost, r.base_cost)
$$;

-- Returns end_time after checking that [start_time, end_time) has finite
-- bounds and spans at most 36525 days (100 Julian years).  Reports build one
-- row per local day and one per UTC hour of their period (876,600 hours in
-- 100 years), and a period such as [0001-01-01, 9999-12-31) filled the
-- temporary file space.  The SQL functions that build a day or hour series
-- pass their end bound through it.
CREATE FUNCTION claudecost.report_period_end(start_time timestamptz, end_time timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_catalog.isfinite(start_time) OR NOT pg_catalog.isfinite(end_time) THEN
        RAISE EXCEPTION 'invalid report period [%, %)', start_time, end_time
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A report period needs finite bounds.';
    END IF;
    IF EXTRACT(epoch FROM end_time) - EXTRACT(epoch FROM start_time) > 36525 * 86400::numeric THEN
        RAISE EXCEPTION 'report period [%, %) is too long', start_time, end_time
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('A report period spans at most 36525 days (100 years), and this one spans %s days.',
                                             pg_catalog.floor((EXTRACT(epoch FROM end_time)
                                                               - EXTRACT(epoch FROM start_time)) / 86400)),
                  HINT = 'Split the period into reports of at most 100 years.';
    END IF;
    RETURN end_time;
END;
$$;

COMMENT ON FUNCTION claudecost.report_period_end(timestamptz, timestamptz) IS
    'end_time, after checking that the report period has finite bounds and spans at most 36525 days (100 years)';

CREATE OR REPLACE FUNCTION claudecost.report_check_period(start_time timestamptz, end_time timestamptz,
                                               time_zone text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF start_time IS NULL OR end_time IS NULL OR time_zone IS NULL THEN
        RAISE EXCEPTION 'report period and time zone must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(start_time) OR NOT pg_catalog.isfinite(end_time) THEN
        RAISE EXCEPTION 'invalid report period [%, %)', start_time, end_time
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A report period needs finite bounds.';
    END IF;
    IF end_time <= start_time THEN
        RAISE EXCEPTION 'invalid report period [%, %)', start_time, end_time
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass an end_time later than start_time.';
    END IF;
    PERFORM claudecost.report_period_end(start_time, end_time);
    -- Converting a time checks the name the way every report uses it;
    -- scanning pg_timezone_names would read the whole zone database.
    BEGIN
        PERFORM start_time AT TIME ZONE time_zone;
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'unrecognized time zone "%"', time_zone
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a name from pg_timezone_names, such as Europe/Berlin.';
    END;
END;
$$;

CREATE OR REPLACE FUNCTION claudecost.report_days(start_time timestamptz, end_time timestamptz, time_zone text)
RETURNS TABLE (day_number integer, day date)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (d.n - 1)::integer, d.day::date
    FROM pg_catalog.generate_series((start_time AT TIME ZONE time_zone)::date::timestamp,
                                    ((claudecost.report_period_end(start_time, end_time) - interval '1 microsecond')
                                     AT TIME ZONE time_zone)::date::timestamp,
                                    interval '1 day') WITH ORDINALITY AS d(day, n)
$$;

CREATE OR REPLACE FUNCTION claudecost.report_daily(start_time timestamptz, end_time timestamptz,
                                        time_zone text DEFAULT 'UTC')
RETURNS TABLE (day_number integer, day date, requests bigint, tokens numeric, cost numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $$
    WITH bounds AS (
        SELECT pg_catalog.date_trunc('day', start_time - interval '1 microsecond', 'UTC') + interval '1 day'
                   AS first_day,
               greatest(pg_catalog.date_trunc('day', end_time, 'UTC'),
                        pg_catalog.date_trunc('day', start_time - interval '1 microsecond', 'UTC')
                                   + interval '1 day') AS last_day
    ),
    -- Hour buckets of the period that usage_analytics_daily cannot place:
    -- outside the whole UTC days, or on another local date than UTC date.
    special_hour AS (
        SELECT g.hour, g.hour >= b.first_day AND g.hour < b.last_day AS in_whole_day
        FROM bounds b,
             pg_catalog.generate_series(pg_catalog.date_trunc('hour', start_time - interval '1 microsecond', 'UTC')
                                        + interval '1 hour',
                                        claudecost.report_period_end(start_time, end_time) - interval '1 microsecond',
                                        interval '1 hour') AS g(hour)
        WHERE g.hour < b.first_day OR g.hour >= b.last_day
           OR (g.hour AT TIME ZONE time_zone)::date <> (g.hour AT TIME ZONE 'UTC')::date
    ),
    special_total AS (
        SELECT s.hour, s.in_whole_day, sum(h.requests) AS requests,
               sum(h.input_tokens + h.output_tokens + h.cache_write_5m_tokens
                   + h.cache_write_1h_tokens + h.cache_read_tokens) AS tokens,
               sum(h.total_cost) AS cost
        FROM special_hour s
        JOIN claudecost.usage_hourly h ON h.hour = s.hour
        GROUP BY s.hour, s.in_whole_day
    ),
    part AS (
        -- Whole UTC days, on their UTC date.
        SELECT a.day, sum(a.requests) AS requests,
               sum(a.input_tokens + a.output_tokens + a.cache_write_5m_tokens
                   + a.cache_write_1h_tokens + a.cache_read_tokens) AS tokens,
               sum(a.total_cost) AS cost
        FROM claudecost.usage_analytics_daily a, bounds b
        WHERE a.day >= (b.first_day AT TIME ZONE 'UTC')::date AND a.day < (b.last_day AT TIME ZONE 'UTC')::date
        GROUP BY a.day
        UNION ALL
        -- Hours of whole days that belong to another local day, taken out
        -- of their UTC date ...
        SELECT (t.hour AT TIME ZONE 'UTC')::date, -t.requests, -t.tokens, -t.cost
        FROM special_total t
        WHERE t.in_whole_day
        UNION ALL
        -- ... and every special hour added to its local date.
        SELECT (t.hour AT TIME ZONE time_zone)::date, t.requests, t.tokens, t.cost
        FROM special_total t
    ),
    -- A day whose parts cancel out has no requests; its sums are written
    -- as plain zeros, not as zeros with the scale of the cancelled costs.
    local_day AS (
        SELECT p.day, sum(p.requests) AS requests, sum(p.tokens) AS tokens, sum(p.cost) AS cost
        FROM part p
        GROUP BY p.day
        HAVING sum(p.requests) <> 0
    )
    SELECT d.day_number, d.day, coalesce(l.requests, 0)::bigint, coalesce(l.tokens, 0), coalesce(l.cost, 0)
    FROM claudecost.report_days(start_time, end_time, time_zone) d
    LEFT JOIN local_day l ON l.day = d.day
$$;

CREATE OR REPLACE VIEW claudecost.cost_trends AS
WITH daily AS (
    SELECT (h.hour AT TIME ZONE 'UTC')::date AS day, sum(h.requests)::bigint AS requests,
           sum(h.total_cost) AS total_cost
    FROM claudecost.usage_hourly h
    GROUP BY 1
    HAVING sum(h.requests) <> 0
),
days AS (
    SELECT d::date AS day
    FROM (SELECT min(daily.day) AS first_day, max(daily.day) AS last_day FROM daily
          WHERE daily.day >= '1970-01-01' AND daily.day < '2200-01-01') r,
         pg_catalog.generate_series(r.first_day::timestamp, r.last_day::timestamp, interval '1 day') d
),
series AS (
    SELECT days.day, coalesce(daily.requests, 0) AS requests, coalesce(daily.total_cost, 0) AS total_cost
    FROM days FULL JOIN daily USING (day)
)
SELECT s.day,
       s.requests,
       s.total_cost,
       pg_catalog.round(avg(s.total_cost) OVER w7, 6) AS cost_7day_average,
       s.total_cost - pg_catalog.lag(s.total_cost) OVER w AS change_from_previous_day,
       sum(s.total_cost) OVER (PARTITION BY pg_catalog.date_trunc('month', s.day) ORDER BY s.day)
           AS month_to_date_cost
FROM series s
WINDOW w AS (ORDER BY s.day), w7 AS (ORDER BY s.day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW);

-- CREATE OR REPLACE VIEW resets security_invoker, and a new function is
-- executable by PUBLIC until grant_roles() runs.
ALTER VIEW claudecost.cost_trends SET (security_invoker = true);
REVOKE ALL ON FUNCTION claudecost.report_period_end(timestamptz, timestamptz) FROM PUBLIC;
SELECT claudecost.grant_roles();

------------------------------------------------------------------------
-- Tenant column in the keys of the prompt and long-context rollups
------------------------------------------------------------------------

-- usage_analytics_prompt, usage_analytics_prompt_day and
-- usage_analytics_long_context get project_id ('' for no project) in their
-- unique keys, so that every rollup can be distributed by project.  The
-- rows stored so far mix projects, so the three rollups are rebuilt from
-- the ledger with the expressions of verify_analytics_rollups() and
-- verify_long_context_rollup().  The SHARE lock makes writers of usage wait
-- for the rebuild, which therefore sees every committed row.
LOCK TABLE claudecost.usage IN SHARE MODE;
TRUNCATE claudecost.usage_analytics_prompt, claudecost.usage_analytics_prompt_day,
    claudecost.usage_analytics_long_context;

ALTER TABLE claudecost.usage_analytics_prompt ADD COLUMN project_id text NOT NULL DEFAULT '',
    DROP CONSTRAINT usage_analytics_prompt_key,
    ADD CONSTRAINT usage_analytics_prompt_key UNIQUE (project_id, day, prompt_hash, model);
ALTER TABLE claudecost.usage_analytics_prompt_day ADD COLUMN project_id text NOT NULL DEFAULT '',
    DROP CONSTRAINT usage_analytics_prompt_day_key,
    ADD CONSTRAINT usage_analytics_prompt_day_key UNIQUE (project_id, day, model);
ALTER TABLE claudecost.usage_analytics_long_context ADD COLUMN project_id text NOT NULL DEFAULT '',
    DROP CONSTRAINT usage_analytics_long_context_key,
    ADD CONSTRAINT usage_analytics_long_context_key UNIQUE (project_id, hour, model, long_context_threshold);

INSERT INTO claudecost.usage_analytics_prompt
    (project_id, day, prompt_hash, model, requests, input_tokens, cache_read_tokens, input_cost, total_cost)
SELECT coalesce(u.project_id, ''), (u.occurred_at AT TIME ZONE 'UTC')::date, u.prompt_hash, u.model,
       count(*), sum(u.input_tokens), sum(u.cache_read_tokens),
       coalesce(sum(u.input_cost), 0), coalesce(sum(u.total_cost), 0)
FROM claudecost.usage u
WHERE u.prompt_hash IS NOT NULL
GROUP BY 1, 2, 3, 4;

INSERT INTO claudecost.usage_analytics_prompt_day
    (project_id, day, model, prompt_days, repeats, repeat_cost, uncached_repeat_input_cost,
     uncached_first_input_cost)
SELECT a.project_id, a.day, a.model, sum(x.sums[1]), sum(x.sums[2]), sum(x.sums[3]), sum(x.sums[4]),
       sum(x.sums[5])
FROM claudecost.usage_analytics_prompt a
CROSS JOIN LATERAL (SELECT claudecost.usage_analytics_repeat(a.requests, a.input_tokens,
                                                             a.cache_read_tokens, a.input_cost,
                                                             a.total_cost) AS sums) x
GROUP BY 1, 2, 3
HAVING sum(x.sums[1]) <> 0;

INSERT INTO claudecost.usage_analytics_long_context
    (project_id, hour, model, long_context_threshold, requests, prompt_tokens, total_cost, base_cost)
SELECT coalesce(u.project_id, ''), claudecost.rollup_hour(u.occurred_at), u.model, p.long_context_threshold,
       count(*),
       sum(u.input_tokens::numeric + u.cache_write_5m_tokens + u.cache_write_1h_tokens + u.cache_read_tokens),
       sum(u.total_cost),
       sum(coalesce(u.input_cost, 0) * p.input_per_mtok / p.long_input_per_mtok
           + coalesce(u.output_cost, 0) * p.output_per_mtok / p.long_output_per_mtok
           + coalesce(u.cache_write_cost, 0)
             * coalesce(p.cache_write_5m_per_mtok / NULLIF(p.long_cache_write_5m_per_mtok, 0),
                        p.input_per_mtok / p.long_input_per_mtok)
           + coalesce(u.cache_read_cost, 0)
             * coalesce(p.cache_read_per_mtok / NULLIF(p.long_cache_read_per_mtok, 0),
                        p.input_per_mtok / p.long_input_per_mtok)
           + coalesce(u.tool_cost, 0))
FROM claudecost.usage u
JOIN claudecost.price p ON p.id = u.price_id
WHERE u.long_context AND u.total_cost IS NOT NULL
  AND p.long_context_threshold IS NOT NULL AND p.long_input_per_mtok > 0
  AND p.long_output_per_mtok > 0
  AND u.input_tokens::numeric + u.cache_write_5m_tokens + u.cache_write_1h_tokens + u.cache_read_tokens
      <= p.long_context_threshold * 1.1
GROUP BY 1, 2, 3, 4;

COMMENT ON TABLE claudecost.usage_analytics_prompt IS
    'Requests, input tokens and USD cost per project, UTC day, prompt hash and model, for repeated-prompt analysis';
COMMENT ON TABLE claudecost.usage_analytics_prompt_day IS
    'Repeated prompts per project, UTC day and model: count, repeats and their USD cost, for reports';
COMMENT ON TABLE claudecost.usage_analytics_long_context IS
    'Long-context requests at most 10% over the threshold, per project, UTC hour and model, with their cost at standard rates';

-- Tenants now see the rows of their projects in these rollups, as in
-- usage_hourly.
ALTER POLICY tenant_isolation ON claudecost.usage_analytics_prompt
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
ALTER POLICY tenant_isolation ON claudecost.usage_analytics_prompt_day
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
ALTER POLICY tenant_isolation ON claudecost.usage_analytics_long_context
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));

-- The verify functions compare per project too.  verify_long_context_rollup()
-- returns the project as a new first column, so it is created again.
CREATE OR REPLACE FUNCTION claudecost.verify_analytics_rollups()
RETURNS TABLE (rollup text, key text, stored text, expected text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH daily_raw AS (
        SELECT (u.occurred_at AT TIME ZONE 'UTC')::date AS day, u.model, coalesce(u.user_id, '') AS user_id,
               coalesce(u.project_id, '') AS project_id, u.service_tier,
               count(*) AS requests, count(*) FILTER (WHERE u.total_cost IS NULL) AS unpriced_requests,
               sum(u.input_tokens::numeric + u.output_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens
                   + u.cache_read_tokens) AS tokens,
               coalesce(sum(u.input_cost), 0) AS input_cost, coalesce(sum(u.cache_write_cost), 0) AS cache_write_cost,
               coalesce(sum(u.tool_cost), 0) AS tool_cost, coalesce(sum(u.total_cost), 0) AS total_cost
        FROM claudecost.usage u
        GROUP BY 1, 2, 3, 4, 5
    ),
    daily_stored AS (
        SELECT a.day, a.model, a.user_id, a.project_id, a.service_tier, a.requests, a.unpriced_requests,
               a.input_tokens + a.output_tokens + a.cache_write_5m_tokens + a.cache_write_1h_tokens
               + a.cache_read_tokens AS tokens,
               a.input_cost, a.cache_write_cost, a.tool_cost, a.total_cost
        FROM claudecost.usage_analytics_daily a
        WHERE a.requests <> 0
    ),
    prompt_raw AS (
        SELECT coalesce(u.project_id, '') AS project_id, (u.occurred_at AT TIME ZONE 'UTC')::date AS day,
               u.prompt_hash, u.model, count(*) AS requests,
               sum(u.input_tokens) AS input_tokens, sum(u.cache_read_tokens) AS cache_read_tokens,
               coalesce(sum(u.input_cost), 0) AS input_cost, coalesce(sum(u.total_cost), 0) AS total_cost
        FROM claudecost.usage u
        WHERE u.prompt_hash IS NOT NULL
        GROUP BY 1, 2, 3, 4
    ),
    prompt_day_expected AS (
        SELECT a.project_id, a.day, a.model, sum(x.sums[1]) AS prompt_days, sum(x.sums[2]) AS repeats,
               sum(x.sums[3]) AS repeat_cost, sum(x.sums[4]) AS uncached_repeat_input_cost,
               sum(x.sums[5]) AS uncached_first_input_cost
        FROM claudecost.usage_analytics_prompt a
        CROSS JOIN LATERAL (SELECT claudecost.usage_analytics_repeat(a.requests, a.input_tokens,
                                                                     a.cache_read_tokens, a.input_cost,
                                                                     a.total_cost) AS sums) x
        GROUP BY a.project_id, a.day, a.model
        HAVING sum(x.sums[1]) <> 0
    )
    SELECT 'usage_analytics_daily',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.model, r.model), coalesce(s.user_id, r.user_id),
                     coalesce(s.project_id, r.project_id), coalesce(s.service_tier, r.service_tier)),
           row(s.requests, s.unpriced_requests, s.tokens, s.input_cost, s.cache_write_cost, s.tool_cost,
               s.total_cost)::text,
           row(r.requests, r.unpriced_requests, r.tokens, r.input_cost, r.cache_write_cost, r.tool_cost,
               r.total_cost)::text
    FROM daily_stored s
    FULL JOIN daily_raw r USING (day, model, user_id, project_id, service_tier)
    WHERE row(s.requests, s.unpriced_requests, s.tokens, s.input_cost, s.cache_write_cost, s.tool_cost, s.total_cost)
          IS DISTINCT FROM
          row(r.requests, r.unpriced_requests, r.tokens, r.input_cost, r.cache_write_cost, r.tool_cost, r.total_cost)
    UNION ALL
    SELECT 'usage_analytics_prompt',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.prompt_hash, r.prompt_hash), coalesce(s.model, r.model),
                     NULLIF(coalesce(s.project_id, r.project_id), '')),
           row(s.requests, s.input_tokens, s.cache_read_tokens, s.input_cost, s.total_cost)::text,
           row(r.requests, r.input_tokens, r.cache_read_tokens, r.input_cost, r.total_cost)::text
    FROM (SELECT * FROM claudecost.usage_analytics_prompt a WHERE a.requests <> 0) s
    FULL JOIN prompt_raw r USING (project_id, day, prompt_hash, model)
    WHERE row(s.requests, s.input_tokens, s.cache_read_tokens, s.input_cost, s.total_cost)
          IS DISTINCT FROM row(r.requests, r.input_tokens, r.cache_read_tokens, r.input_cost, r.total_cost)
    UNION ALL
    SELECT 'usage_analytics_prompt_day',
           concat_ws(' ', coalesce(s.day, r.day), coalesce(s.model, r.model), NULLIF(coalesce(s.project_id, r.project_id), '')),
           row(s.prompt_days, s.repeats, s.repeat_cost, s.uncached_repeat_input_cost,
               s.uncached_first_input_cost)::text,
           row(r.prompt_days, r.repeats, r.repeat_cost, r.uncached_repeat_input_cost,
               r.uncached_first_input_cost)::text
    FROM (SELECT * FROM claudecost.usage_analytics_prompt_day a WHERE a.prompt_days <> 0) s
    FULL JOIN prompt_day_expected r USING (project_id, day, model)
    WHERE row(s.prompt_days, s.repeats, s.repeat_cost, s.uncached_repeat_input_cost, s.uncached_first_input_cost)
          IS DISTINCT FROM
          row(r.prompt_days, r.repeats, r.repeat_cost, r.uncached_repeat_input_cost, r.uncached_first_input_cost)
$$;

DROP FUNCTION claudecost.verify_long_context_rollup();
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

REVOKE ALL ON FUNCTION claudecost.verify_long_context_rollup() FROM PUBLIC;
SELECT claudecost.grant_roles();

------------------------------------------------------------------------
-- claudecost.ingest_lines checks its staging table (schema/60_ingest.sql)
------------------------------------------------------------------------

-- A NULL staging table, a relation without the columns line_number and
-- line, and lines whose line_number is NULL (which were skipped without a
-- trace) raise typed errors before any line is ingested.
CREATE OR REPLACE FUNCTION claudecost.ingest_lines(
    staging regclass,
    file_name text DEFAULT NULL,
    user_id text DEFAULT NULL,
    project_id text DEFAULT NULL,
    tags text[] DEFAULT NULL,
    whole_file boolean DEFAULT false,
    OUT lines bigint,
    OUT rows_changed bigint,
    OUT errors bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chunk record;
    line_row record;
    error_state text;
    error_message text;
    error_detail text;
    relation_kind "char";
    column_name text;
    column_type regtype;
BEGIN
    IF staging IS NULL THEN
        RAISE EXCEPTION 'staging table cannot be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table or view that holds the lines, such as ''my_lines''::regclass.';
    END IF;
    SELECT c.relkind INTO relation_kind FROM pg_catalog.pg_class c WHERE c.oid = staging;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', staging::oid
            USING ERRCODE = 'undefined_table';
    END IF;
    IF relation_kind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'staging relation % is not a table or view', staging
            USING ERRCODE = 'wrong_object_type';
    END IF;
    FOREACH column_name IN ARRAY ARRAY['line_number', 'line'] LOOP
        SELECT a.atttypid::regtype INTO column_type
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = staging AND a.attname = column_name
           AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'staging table % needs the columns "line_number" and "line"', staging
                USING ERRCODE = 'undefined_column',
                      DETAIL = pg_catalog.format('It has no column "%s".', column_name),
                      HINT = 'Create it with the columns (line_number bigint, line text), numbered from 1, or pass a view that renames its columns.';
        END IF;
        IF (column_name = 'line_number'
            AND column_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype))
           OR (column_name = 'line'
               AND column_type NOT IN ('text'::regtype, 'character varying'::regtype)) THEN
            RAISE EXCEPTION 'column "%" of staging table % must be %, not %', column_name, staging,
                CASE column_name WHEN 'line' THEN 'text' ELSE 'an integer' END, column_type
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'Create it with the columns (line_number bigint, line text), numbered from 1, or pass a view that casts its columns.';
        END IF;
    END LOOP;

    lines := 0;
    rows_changed := 0;
    errors := 0;

    -- In chunks, the lines without a number form a group that sorts first.
    FOR chunk IN EXECUTE CASE WHEN whole_file
        THEN pg_catalog.format(
            'SELECT NULL::bigint AS first_line, NULL::bigint AS last_line, pg_catalog.count(*) AS n,'
            ' pg_catalog.count(*) FILTER (WHERE line_number IS NULL) AS unnumbered,'
            ' pg_catalog.string_agg(coalesce(line, ''''), E''\n'' ORDER BY line_number) AS payload'
            ' FROM %s', staging)
        ELSE pg_catalog.format(
            'SELECT pg_catalog.min(line_number) AS first_line, pg_catalog.max(line_number) AS last_line,'
            ' pg_catalog.count(*) AS n,'
            ' pg_catalog.count(*) FILTER (WHERE line_number IS NULL) AS unnumbered,'
            ' pg_catalog.string_agg(line, E''\n'' ORDER BY line_number) FILTER (WHERE line ~ ''\S'') AS payload'
            ' FROM %s GROUP BY (line_number - 1) / 1000 ORDER BY 1 NULLS FIRST', staging)
        END
    LOOP
        IF chunk.unnumbered > 0 THEN
            RAISE EXCEPTION 'staging table % has lines whose line_number is NULL', staging
                USING ERRCODE = 'null_value_not_allowed',
                      DETAIL = pg_catalog.format('Lines without a number: %s.  A line without a number can be neither retried alone nor recorded in claudecost.ingest_error, so no line was ingested.', chunk.unnumbered),
                      HINT = 'Number the lines from 1, for example with a column line_number bigint GENERATED ALWAYS AS IDENTITY.';
        END IF;
        lines := lines + chunk.n;
        CONTINUE WHEN chunk.payload IS NULL OR chunk.payload !~ '\S';

        BEGIN
            rows_changed := rows_changed
                + claudecost.ingest(chunk.payload, user_id, project_id, tags);
        EXCEPTION WHEN OTHERS THEN
            IF whole_file THEN
                GET STACKED DIAGNOSTICS
                    error_state = RETURNED_SQLSTATE,
                    error_message = MESSAGE_TEXT,
                    error_detail = PG_EXCEPTION_DETAIL;
                INSERT INTO claudecost.ingest_error (file_name, line_number, sqlstate, message, detail)
                VALUES (file_name, NULL, error_state, error_message, NULLIF(error_detail, ''));
                errors := errors + 1;
                CONTINUE;
            END IF;

            -- A line of this chunk failed: ingest its lines one by one.
            FOR line_row IN EXECUTE pg_catalog.format(
                'SELECT line_number, line FROM %s WHERE line_number BETWEEN $1 AND $2'
                ' ORDER BY line_number', staging)
                USING chunk.first_line, chunk.last_line
            LOOP
                CONTINUE WHEN line_row.line IS NULL OR line_row.line !~ '\S';
                BEGIN
                    rows_changed := rows_changed
                        + claudecost.ingest(line_row.line, user_id, project_id, tags);
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS
                        error_state = RETURNED_SQLSTATE,
                        error_message = MESSAGE_TEXT,
                        error_detail = PG_EXCEPTION_DETAIL;
                    INSERT INTO claudecost.ingest_error (file_name, line_number, sqlstate, message, detail)
                    VALUES (file_name, line_row.line_number, error_state, error_message,
                            NULLIF(error_detail, ''));
                    errors := errors + 1;
                END;
            END LOOP;
        END;
    END LOOP;
END
$$;
-- ---------------------------------------------------------------------
-- Budget periods contain their timestamps across DST changes
-- (schema/70_budget.sql).  A repeated local midnight starts its day at the
-- first of its two instants, and custom periods of hours and minutes step
-- in elapsed time, so a repeated local hour is its own period.
-- budget_period_end takes starts_at, because a custom period stepped in
-- local time ends at a start computed from it.
-- ---------------------------------------------------------------------
-- First instant at which the wall clock of time_zone shows local_time (see
-- schema/70_budget.sql).
CREATE FUNCTION claudecost.budget_local_start(time_zone text, local_time timestamp)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT CASE
    WHEN pg_catalog.timezone(time_zone,
             pg_catalog.timezone(time_zone, local_time OPERATOR(pg_catalog.-) interval '1 day')
             OPERATOR(pg_catalog.+) interval '24 hours') OPERATOR(pg_catalog.=) local_time
    THEN pg_catalog.timezone(time_zone, local_time OPERATOR(pg_catalog.-) interval '1 day')
         OPERATOR(pg_catalog.+) interval '24 hours'
    ELSE pg_catalog.timezone(time_zone, local_time)
END
$$;

-- Local wall-clock start of the calendar period, or of the custom period
-- stepped in local time, whose local range contains local_ts.  Such a
-- custom period steps period_length from the local time of starts_at;
-- floor(elapsed / length) is computed with div and mod because numeric
-- division rounds.
CREATE FUNCTION claudecost.budget_local_origin(period text, period_length interval, time_zone text,
                                               starts_at timestamptz, local_ts timestamp)
RETURNS timestamp
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT CASE
    WHEN period OPERATOR(pg_catalog.=) 'daily' THEN pg_catalog.date_trunc('day', local_ts)
    WHEN period OPERATOR(pg_catalog.=) 'weekly' THEN pg_catalog.date_trunc('week', local_ts)
    WHEN period OPERATOR(pg_catalog.=) 'monthly' THEN pg_catalog.date_trunc('month', local_ts)
    WHEN period OPERATOR(pg_catalog.=) 'quarterly' THEN pg_catalog.date_trunc('quarter', local_ts)
    WHEN period OPERATOR(pg_catalog.=) 'annual' THEN pg_catalog.date_trunc('year', local_ts)
    WHEN period OPERATOR(pg_catalog.=) 'custom' THEN
        pg_catalog.timezone(time_zone, starts_at) OPERATOR(pg_catalog.+) (period_length OPERATOR(pg_catalog.*) (
            pg_catalog.div(EXTRACT(epoch FROM local_ts OPERATOR(pg_catalog.-) pg_catalog.timezone(time_zone, starts_at)),
                           EXTRACT(epoch FROM period_length))
            OPERATOR(pg_catalog.-) CASE
                WHEN pg_catalog.mod(EXTRACT(epoch FROM local_ts OPERATOR(pg_catalog.-) pg_catalog.timezone(time_zone, starts_at)),
                                    EXTRACT(epoch FROM period_length)) OPERATOR(pg_catalog.<) 0
                THEN 1 ELSE 0 END)::pg_catalog.float8)
END
$$;

-- Local wall-clock length of a calendar period, or of a custom period
-- stepped in local time.
CREATE FUNCTION claudecost.budget_local_step(period text, period_length interval)
RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
    WHEN period OPERATOR(pg_catalog.=) 'daily' THEN interval '1 day'
    WHEN period OPERATOR(pg_catalog.=) 'weekly' THEN interval '7 days'
    WHEN period OPERATOR(pg_catalog.=) 'monthly' THEN interval '1 month'
    WHEN period OPERATOR(pg_catalog.=) 'quarterly' THEN interval '3 months'
    WHEN period OPERATOR(pg_catalog.=) 'annual' THEN interval '1 year'
    WHEN period OPERATOR(pg_catalog.=) 'custom' THEN period_length
END
$$;

-- Start of the period (the UTC hour for rolling budgets) that contains ts.
CREATE OR REPLACE FUNCTION claudecost.budget_bucket(period text, period_length interval, time_zone text,
                                         starts_at timestamptz, ts timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    length_seconds pg_catalog.numeric;
    remainder pg_catalog.numeric;
    local_ts pg_catalog.timestamp;
    origin pg_catalog.timestamp;
    step pg_catalog.interval;
    period_start pg_catalog.timestamptz;
    next_start pg_catalog.timestamptz;
BEGIN
    IF NOT pg_catalog.isfinite(ts) THEN
        RETURN ts;
    END IF;
    IF period OPERATOR(pg_catalog.=) 'rolling' THEN
        RETURN pg_catalog.date_trunc('hour', ts, 'UTC');
    END IF;
    IF period OPERATOR(pg_catalog.=) 'custom'
       AND pg_catalog.date_part('day', period_length) OPERATOR(pg_catalog.=) 0 THEN
        -- Elapsed time: ts minus the floor remainder of (ts - starts_at) by
        -- the length, exact in numeric seconds with microsecond digits.
        length_seconds := EXTRACT(epoch FROM period_length);
        remainder := pg_catalog.mod(EXTRACT(epoch FROM ts) OPERATOR(pg_catalog.-) EXTRACT(epoch FROM starts_at),
                                    length_seconds);
        IF remainder OPERATOR(pg_catalog.<) 0 THEN
            remainder := remainder OPERATOR(pg_catalog.+) length_seconds;
        END IF;
        RETURN ts OPERATOR(pg_catalog.-) (interval '1 microsecond' OPERATOR(pg_catalog.*)
                                          (remainder OPERATOR(pg_catalog.*) 1000000)::pg_catalog.float8);
    END IF;

    local_ts := pg_catalog.timezone(time_zone, ts);
    origin := claudecost.budget_local_origin(period, period_length, time_zone, starts_at, local_ts);
    step := claudecost.budget_local_step(period, period_length);
    period_start := claudecost.budget_local_start(time_zone, origin);
    IF period_start OPERATOR(pg_catalog.>) ts THEN
        RETURN claudecost.budget_local_start(time_zone, origin OPERATOR(pg_catalog.-) step);
    END IF;
    next_start := claudecost.budget_local_start(time_zone, origin OPERATOR(pg_catalog.+) step);
    IF next_start OPERATOR(pg_catalog.<=) ts THEN
        RETURN next_start;
    END IF;
    RETURN period_start;
END
$$;

DROP FUNCTION claudecost.budget_period_end(text, interval, text, timestamptz);

-- End (exclusive) of the period that starts at period_start: the start of
-- the next period, or the end of the UTC hour for a rolling budget.
CREATE FUNCTION claudecost.budget_period_end(period text, period_length interval, time_zone text,
                                             starts_at timestamptz, period_start timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    origin pg_catalog.timestamp;
BEGIN
    IF NOT pg_catalog.isfinite(period_start) THEN
        RETURN period_start;
    END IF;
    IF period OPERATOR(pg_catalog.=) 'rolling' THEN
        RETURN period_start OPERATOR(pg_catalog.+) interval '1 hour';
    END IF;
    IF period OPERATOR(pg_catalog.=) 'custom'
       AND pg_catalog.date_part('day', period_length) OPERATOR(pg_catalog.=) 0 THEN
        RETURN period_start OPERATOR(pg_catalog.+) period_length;
    END IF;
    origin := claudecost.budget_local_origin(period, period_length, time_zone, starts_at,
                                             pg_catalog.timezone(time_zone, period_start));
    RETURN claudecost.budget_local_start(time_zone,
                                         origin OPERATOR(pg_catalog.+) claudecost.budget_local_step(period, period_length));
END
$$;

CREATE OR REPLACE FUNCTION claudecost.budget_state(as_of timestamptz, user_id text, project_id text, model text,
                                        api_key_id text, tags text[], only_budget bigint DEFAULT NULL)
RETURNS TABLE (budget_id bigint, budget_name text, hard_limit boolean, warn_at numeric[], currency text,
               amount numeric, limit_usd numeric, period_start timestamptz, period_end timestamptz,
               spent_usd numeric, reserved_usd numeric)
LANGUAGE plpgsql VOLATILE
-- Making a custom plan for each call costs more than running the query.
SET plan_cache_mode = force_generic_plan
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
RETURN QUERY
SELECT b.id, b.name, b.hard_limit, b.warn_at, b.currency, b.amount,
       b.amount * x.usd_per_unit,
       p.period_start, p.period_end,
       coalesce((SELECT pg_catalog.sum(s.spent)
                   FROM claudecost.budget_spend s
                  WHERE s.budget_id = b.id
                    AND s.period_start >= p.first_bucket
                    AND s.period_start <= p.bucket), 0),
       CASE WHEN pg_catalog.clock_timestamp() >= p.period_start AND pg_catalog.clock_timestamp() < p.period_end
            THEN coalesce((SELECT pg_catalog.sum(h.amount)
                             FROM claudecost.budget_hold h
                            WHERE h.budget_id = b.id
                              AND h.expires_at > pg_catalog.clock_timestamp()), 0)
            ELSE 0 END
  FROM claudecost.budget b
  JOIN claudecost.exchange_rate x ON x.currency = b.currency
 CROSS JOIN LATERAL (
        SELECT q.bucket,
               CASE WHEN b.period = 'rolling' THEN q.bucket - b.period_length + interval '1 hour'
                    ELSE q.bucket END AS first_bucket,
               CASE WHEN b.period = 'rolling' THEN q.bucket - b.period_length + interval '1 hour'
                    ELSE q.bucket END AS period_start,
               CASE WHEN b.period = 'rolling' THEN q.bucket + interval '1 hour'
                    ELSE claudecost.budget_period_end(b.period, b.period_length, b.time_zone, b.starts_at, q.bucket)
               END AS period_end
          FROM (SELECT claudecost.budget_bucket(b.period, b.period_length, b.time_zone, b.starts_at, as_of)
                       AS bucket
                 -- OFFSET 0 keeps the subquery from being flattened, so the
                 -- period is computed once per budget instead of once per use.
                 OFFSET 0) q) p
 WHERE CASE WHEN only_budget IS NOT NULL THEN b.id = only_budget
            ELSE b.enabled
                 AND b.starts_at <= as_of AND (b.ends_at IS NULL OR as_of < b.ends_at)
                 AND claudecost.budget_scope_matches(b.user_id, b.project_id, b.model, b.api_key_id, b.tag,
                                                     budget_state.user_id, budget_state.project_id,
                                                     budget_state.model, budget_state.api_key_id,
                                                     budget_state.tags)
       END;
END
$$;

REVOKE ALL ON FUNCTION claudecost.budget_local_start(text, timestamp),
    claudecost.budget_local_origin(text, interval, text, timestamptz, timestamp),
    claudecost.budget_local_step(text, interval),
    claudecost.budget_period_end(text, interval, text, timestamptz, timestamptz) FROM PUBLIC;
SELECT claudecost.grant_roles();

-- Counters of calendar and custom budgets were bucketed by the old rule.
-- Rolling budgets count UTC hours, which did not change.
SELECT claudecost.budget_recount(b.id) FROM claudecost.budget b WHERE b.period <> 'rolling' ORDER BY b.id;

-- budget_bucket runs once per usage row and budget in the budget
-- triggers.  As PL/pgSQL it made a single-row INSERT with three budgets
-- about 9 % more expensive, so it is the C code that budget_check uses.
CREATE OR REPLACE FUNCTION claudecost.budget_bucket(period text, period_length interval, time_zone text,
                                                    starts_at timestamptz, ts timestamptz)
RETURNS timestamptz
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'claudecost_budget_bucket';

-- A custom or rolling period_length is whole minutes, at least one, with
-- no negative part: each period has its own counter row, so a length of a
-- second wrote one row per second.
CREATE OR REPLACE FUNCTION claudecost.budget_validate(period text, period_length interval, time_zone text,
                                           warn_at numeric[], amount numeric, currency text)
RETURNS numeric[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sorted numeric[];
BEGIN
    IF amount IS NULL OR amount <= 0 OR amount >= 'Infinity' THEN
        RAISE EXCEPTION 'invalid budget amount "%"', amount
            USING ERRCODE = '22023', HINT = 'Give a finite amount greater than zero.';
    END IF;
    PERFORM claudecost.budget_usd_rate(currency);
    IF period IS NULL OR period NOT IN ('daily', 'weekly', 'monthly', 'quarterly', 'annual', 'custom', 'rolling') THEN
        RAISE EXCEPTION 'invalid budget period "%"', period
            USING ERRCODE = '22023',
                  HINT = 'Use daily, weekly, monthly, quarterly, annual, custom or rolling.';
    END IF;
    IF period IN ('custom', 'rolling') THEN
        -- Whole minutes of at least one, with no negative part: every period
        -- has its own counter row, so a length of a second would write one
        -- row per second.
        IF period_length IS NULL OR period_length < interval '1 minute'
           OR pg_catalog.date_part('month', period_length) <> 0
           OR pg_catalog.date_part('year', period_length) <> 0
           OR pg_catalog.date_part('day', period_length) < 0
           OR pg_catalog.date_part('second', period_length) <> 0
           OR (period_length - pg_catalog.date_trunc('day', period_length)) < interval '0' THEN
            RAISE EXCEPTION 'invalid period_length "%" for a % budget', period_length, period
                USING ERRCODE = '22023',
                      HINT = 'Give a positive length in whole minutes, hours or days; use monthly, quarterly or annual for months.';
        END IF;
        IF period = 'rolling' AND EXTRACT(epoch FROM period_length) % 3600 <> 0 THEN
            RAISE EXCEPTION 'invalid period_length "%" for a rolling budget', period_length
                USING ERRCODE = '22023',
                      DETAIL = 'Rolling windows are counted in whole UTC hours.',
                      HINT = 'Give a whole number of hours, such as ''24 hours'' or ''7 days''.';
        END IF;
    ELSIF period_length IS NOT NULL THEN
        RAISE EXCEPTION 'period_length is only valid for custom and rolling budgets'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('A %s budget has a calendar length.', period),
                  HINT = 'Pass period_length => NULL.';
    END IF;
    IF time_zone IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = time_zone) THEN
        RAISE EXCEPTION 'invalid time zone "%"', time_zone
            USING ERRCODE = '22023',
                  HINT = 'Use a name from pg_timezone_names, such as ''Europe/Berlin''.';
    END IF;
    IF warn_at IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.unnest(warn_at) t WHERE t IS NULL OR t <= 0 OR t >= 1) THEN
        RAISE EXCEPTION 'invalid warn_at "%"', warn_at
            USING ERRCODE = '22023',
                  DETAIL = 'Each threshold is a fraction of the amount, greater than 0 and less than 1; reaching 1 is the limit itself.',
                  HINT = 'Pass thresholds such as ''{0.5,0.8}'', or ''{}'' for none.';
    END IF;
    SELECT coalesce(pg_catalog.array_agg(DISTINCT t ORDER BY t), '{}') INTO sorted FROM pg_catalog.unnest(warn_at) t;
    RETURN sorted;
END
$$;

-- Deleting a budget waits for the usage writes in progress and blocks new
-- ones until it commits, so a write never inserts a counter row for a
-- budget deleted meanwhile (schema/70_budget.sql explains why).
CREATE FUNCTION claudecost.budget_delete_lock()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    LOCK TABLE claudecost.usage IN SHARE MODE;
    RETURN NULL;
END
$$;

CREATE TRIGGER budget_delete_lock
    BEFORE DELETE ON claudecost.budget
    FOR EACH STATEMENT EXECUTE FUNCTION claudecost.budget_delete_lock();
REVOKE ALL ON FUNCTION claudecost.budget_delete_lock() FROM PUBLIC;
