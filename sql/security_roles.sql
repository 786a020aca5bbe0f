-- Roles and privileges: what claudecost_reader, claudecost_writer and
-- claudecost_admin may do, and that a role holding none of them can do
-- nothing, even with USAGE on the schema.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
DROP ROLE IF EXISTS regress_sec_nobody;
DROP ROLE IF EXISTS regress_sec_reader;
DROP ROLE IF EXISTS regress_sec_writer;
DROP ROLE IF EXISTS regress_sec_admin;
RESET client_min_messages;
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never

-- The claudecost_* roles are cluster-wide, so they are created here only
-- when missing, as docs/security.md shows, and stay afterwards.
DO $$
BEGIN
    IF pg_catalog.to_regrole('claudecost_reader') IS NULL THEN
        CREATE ROLE claudecost_reader NOLOGIN;
    END IF;
    IF pg_catalog.to_regrole('claudecost_writer') IS NULL THEN
        CREATE ROLE claudecost_writer NOLOGIN IN ROLE claudecost_reader;
    END IF;
    IF pg_catalog.to_regrole('claudecost_admin') IS NULL THEN
        CREATE ROLE claudecost_admin NOLOGIN IN ROLE claudecost_writer;
    END IF;
END
$$;
SET client_min_messages = warning;
GRANT claudecost_reader TO claudecost_writer;
GRANT claudecost_writer TO claudecost_admin;
RESET client_min_messages;

-- Roles created after the extension get their privileges from grant_roles().
SELECT claudecost.grant_roles();

CREATE ROLE regress_sec_nobody;
CREATE ROLE regress_sec_reader IN ROLE claudecost_reader;
CREATE ROLE regress_sec_writer IN ROLE claudecost_writer;
CREATE ROLE regress_sec_admin IN ROLE claudecost_admin;

-- PUBLIC gets nothing: no schema access, no function, no table.
SELECT n.nspacl::text LIKE '%=U%' AND n.nspacl::text NOT LIKE '%,=U%' AND n.nspacl::text NOT LIKE '{=U%'
       AS schema_granted_to_roles_only
FROM pg_catalog.pg_namespace n WHERE n.nspname = 'claudecost';
SELECT p.oid::regprocedure AS public_function
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'claudecost'::regnamespace
  AND has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY 1::text COLLATE "C";

-- Each function belongs to exactly one level: reader, writer (on top of
-- reader) or admin (on top of writer), or to none (internal and trigger
-- functions, which only the extension owner runs).
SELECT * FROM (
    SELECT CASE WHEN has_function_privilege('claudecost_reader', p.oid, 'EXECUTE') THEN 'reader'
                WHEN has_function_privilege('claudecost_writer', p.oid, 'EXECUTE') THEN 'writer'
                WHEN has_function_privilege('claudecost_admin', p.oid, 'EXECUTE') THEN 'admin'
                ELSE 'none' END AS level,
           count(*) AS functions,
           string_agg(p.proname, ', ' ORDER BY p.proname COLLATE "C")
               FILTER (WHERE NOT has_function_privilege('claudecost_reader', p.oid, 'EXECUTE')) AS names
    FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = 'claudecost'::regnamespace
    GROUP BY 1
) AS levels
ORDER BY level COLLATE "C";

-- Table privileges beyond SELECT, per role.
SELECT * FROM (
    SELECT c.relname AS relation,
           concat_ws(' ',
               CASE WHEN has_table_privilege('claudecost_writer', c.oid, 'INSERT') THEN 'INSERT' END,
               CASE WHEN has_table_privilege('claudecost_writer', c.oid, 'UPDATE') THEN 'UPDATE'
                    WHEN has_any_column_privilege('claudecost_writer', c.oid, 'UPDATE') THEN 'UPDATE(columns)' END,
               CASE WHEN has_table_privilege('claudecost_writer', c.oid, 'DELETE') THEN 'DELETE' END) AS writer,
           concat_ws(' ',
               CASE WHEN has_table_privilege('claudecost_admin', c.oid, 'INSERT') THEN 'INSERT' END,
               CASE WHEN has_table_privilege('claudecost_admin', c.oid, 'UPDATE') THEN 'UPDATE' END,
               CASE WHEN has_table_privilege('claudecost_admin', c.oid, 'DELETE') THEN 'DELETE' END) AS admin
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = 'claudecost'::regnamespace AND c.relkind IN ('r', 'v', 'm')
      AND (has_any_column_privilege('claudecost_admin', c.oid, 'INSERT, UPDATE')
           OR has_table_privilege('claudecost_admin', c.oid, 'DELETE'))
) AS privileges
ORDER BY relation COLLATE "C";

-- Every table and view is readable by readers, by no one else by default.
SELECT count(*) FILTER (WHERE has_table_privilege('claudecost_reader', c.oid, 'SELECT')) AS reader_reads,
       count(*) FILTER (WHERE has_table_privilege('public', c.oid, 'SELECT')) AS public_reads,
       count(*) AS relations
FROM pg_catalog.pg_class c
WHERE c.relnamespace = 'claudecost'::regnamespace AND c.relkind IN ('r', 'v', 'm');

-- A role without the claudecost_* roles cannot even reach the schema.
SET ROLE regress_sec_nobody;
SELECT count(*) FROM claudecost.usage;
SELECT claudecost.add_price('regress-model', 1, 2);
SELECT claudecost.reprice();
RESET ROLE;

-- With USAGE on the schema granted by mistake it still cannot read, price or reprice.
GRANT USAGE ON SCHEMA claudecost TO regress_sec_nobody;
SET ROLE regress_sec_nobody;
SELECT count(*) FROM claudecost.usage;
SELECT claudecost.add_price('regress-model', 1, 2);
SELECT claudecost.reprice();
INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('regress-model', 1, 2, '2025-01-01');
UPDATE claudecost.price SET input_per_mtok = 0;
SELECT claudecost.cost('claude-3-haiku-20240307', 1000, 1000);
SELECT claudecost.grant_roles();
SELECT claudecost.enable_tenant_isolation();
SELECT claudecost.budget_reserve(project_id => 'web', estimated_cost => 1);
RESET ROLE;
REVOKE USAGE ON SCHEMA claudecost FROM regress_sec_nobody;

-- The admin sets prices, budgets and rules.
SET ROLE regress_sec_admin;
SELECT claudecost.add_price('regress-model', 3, 15, effective_from => '2025-01-01') > 0 AS price_added;
INSERT INTO claudecost.model_alias (alias, model) VALUES ('regress-alias', 'regress-model');
SELECT claudecost.create_budget('regress web', 1, 'monthly', project_id => 'web',
                                starts_at => '2025-01-01') > 0 AS budget_created;
INSERT INTO claudecost.optimizer_rule (rule_type, impact, description, pattern, replacement)
VALUES ('abbreviate_phrase', 'low', 'regress rule', 'regress-(\d+)', 'r$1') RETURNING enabled;
RESET ROLE;

-- The writer records usage and spends against budgets.
SET ROLE regress_sec_writer;
INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens, output_tokens)
VALUES ('regress-w1', '2025-03-01 10:00', 'regress-alias', 'web', 1000000, 0);
SELECT claudecost.ingest('{"id": "msg_regress_w2", "type": "message", "model": "regress-model",
                           "usage": {"input_tokens": 1000, "output_tokens": 100}}',
                         project_id => 'web') AS ingested;
SELECT action, budget_name FROM claudecost.budget_check(1, project_id => 'web', as_of => '2025-03-15');
SELECT claudecost.budget_reserve(project_id => 'api', estimated_cost => 1) > 0 AS reserved;
SELECT claudecost.budget_release(r.id) AS released
FROM claudecost.budget_reservation r WHERE r.project_id = 'api';
-- The writer cannot rewrite costs, delete rows, or touch rollups, counters or prices.
UPDATE claudecost.usage SET total_cost = 0;
DELETE FROM claudecost.usage;
UPDATE claudecost.usage_hourly SET total_cost = 0;
INSERT INTO claudecost.budget_spend (budget_id, period_start, spent) VALUES (1, '2025-03-01', -100);
DELETE FROM claudecost.budget_event;
UPDATE claudecost.price SET input_per_mtok = 0;
SELECT claudecost.add_price('regress-model', 0, 0);
SELECT claudecost.reprice();
SELECT claudecost.create_budget('regress mine', 1000, 'monthly');
SELECT claudecost.refresh_reports();
RESET ROLE;

-- The writer's inserts were priced with the alias and kept the rollups
-- and the budget counter exact, through the owner's triggers.
SELECT request_id, model, total_cost FROM claudecost.usage ORDER BY request_id COLLATE "C";
SELECT count(*) AS rollup_differences FROM claudecost.verify_rollups();
SELECT count(*) AS analytics_differences FROM claudecost.verify_analytics_rollups();
SELECT b.name, s.spent FROM claudecost.budget_spend s JOIN claudecost.budget b ON b.id = s.budget_id
ORDER BY s.spent;

-- The reader reads reports and prices but writes nothing.
SET ROLE regress_sec_reader;
SELECT project_id, requests, total_cost FROM claudecost.cost_by_project ORDER BY project_id COLLATE "C";
SELECT claudecost.cost('regress-model', 1000000, 0) AS cost;
SELECT claudecost.token_count('hello world') AS tokens;
SELECT budget_name FROM claudecost.budget_report;
SELECT count(*) AS monthly_rows FROM claudecost.monthly_cost_by_project;
INSERT INTO claudecost.usage (model, input_tokens) VALUES ('regress-model', 1);
SELECT claudecost.ingest('{}');
SELECT claudecost.budget_check(1, project_id => 'web');
SELECT claudecost.add_price('regress-model', 0, 0);
RESET ROLE;

-- The admin reprices and refreshes the reports.
SET ROLE regress_sec_admin;
SELECT claudecost.add_price('regress-model', 6, 30, effective_from => '2025-02-01') > 0 AS price_added;
SELECT claudecost.reprice() AS repriced;
SELECT claudecost.refresh_reports();
SELECT project_id, total_cost FROM claudecost.monthly_cost_by_project ORDER BY project_id COLLATE "C", total_cost;
RESET ROLE;
SELECT count(*) AS rollup_differences FROM claudecost.verify_rollups();

-- A new install grants to the roles that exist, without grant_roles().
SET client_min_messages = warning;
DROP EXTENSION claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SELECT has_function_privilege('claudecost_admin', 'claudecost.reprice(timestamptz, text)', 'EXECUTE') AS admin_reprices,
       has_function_privilege('claudecost_writer', 'claudecost.reprice(timestamptz, text)', 'EXECUTE') AS writer_reprices,
       has_function_privilege('claudecost_writer', 'claudecost.ingest(text, text, text, text[])', 'EXECUTE') AS writer_ingests,
       has_table_privilege('claudecost_reader', 'claudecost.usage', 'SELECT') AS reader_reads,
       has_table_privilege('claudecost_reader', 'claudecost.usage', 'INSERT') AS reader_inserts;

DROP ROLE regress_sec_nobody;
DROP ROLE regress_sec_reader;
DROP ROLE regress_sec_writer;
DROP ROLE regress_sec_admin;
