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
CREATE POLICY tenant_isolation ON claudecost.usage_analytics_prompt
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
CREATE POLICY tenant_isolation ON claudecost.usage_analytics_prompt_day
    USING ((SELECT claudecost.tenant_unrestricted())
           OR project_id OPERATOR(pg_catalog.=) ANY ((SELECT claudecost.tenant_projects())::pg_catalog.text[]));
CREATE POLICY tenant_isolation ON claudecost.usage_analytics_long_context
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

-- Rejected ingest lines have no project: only unrestricted roles read
-- them.  Tenants still write ingest_error through ingest_lines.
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
