-- Tenant isolation: with row-level security on, a member of project A sees
-- only A's usage, rollups, reports and budgets, cannot write usage for B and
-- cannot spend against B's budgets.  The triggers that maintain rollups and
-- budget counters keep working for tenants.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
DROP ROLE IF EXISTS regress_tenant_a;
DROP ROLE IF EXISTS regress_tenant_b;
DROP ROLE IF EXISTS regress_tenant_none;
DROP ROLE IF EXISTS regress_tenant_admin;
DROP ROLE IF EXISTS regress_team_a;
RESET client_min_messages;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
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
SELECT claudecost.grant_roles();

-- Project A belongs to a team role; regress_tenant_a is in the team.
CREATE ROLE regress_team_a NOLOGIN;
CREATE ROLE regress_tenant_a IN ROLE claudecost_writer, regress_team_a;
CREATE ROLE regress_tenant_b IN ROLE claudecost_writer;
CREATE ROLE regress_tenant_none IN ROLE claudecost_reader;
CREATE ROLE regress_tenant_admin IN ROLE claudecost_admin;

INSERT INTO claudecost.price (model, input_per_mtok, output_per_mtok, effective_from)
VALUES ('regress-model', 3, 15, '2025-01-01');
SELECT claudecost.create_budget('global', 100, 'monthly', starts_at => '2025-01-01', warn_at => '{}') AS global_id,
       claudecost.create_budget('budget A', 10, 'monthly', project_id => 'A', starts_at => '2025-01-01',
                                warn_at => '{}') AS a_id,
       claudecost.create_budget('budget B', 1, 'monthly', project_id => 'B', starts_at => '2025-01-01',
                                warn_at => '{}') AS b_id;

-- 1,000,000 input tokens cost 3 USD.
INSERT INTO claudecost.usage (request_id, occurred_at, model, user_id, project_id, input_tokens, prompt_hash)
VALUES ('a1', '2025-03-02 10:00', 'regress-model', 'alice', 'A', 1000000, 'h1'),
       ('a2', '2025-03-02 11:00', 'regress-model', 'alice', 'A', 500000, 'h1'),
       ('b1', '2025-03-02 10:30', 'regress-model', 'bob', 'B', 1000000, 'h2'),
       ('n1', '2025-03-02 12:00', 'regress-model', 'nobody', NULL, 1000000, NULL);
INSERT INTO claudecost.project_member (role_name, project_id)
VALUES ('regress_team_a', 'A'), ('regress_tenant_b', 'B');

SET ROLE regress_tenant_admin;
SELECT claudecost.enable_tenant_isolation();
SELECT claudecost.tenant_isolation_enabled();
RESET ROLE;

-- Every isolated table has row-level security on.
SELECT t::text COLLATE "C" AS isolated_table, c.relrowsecurity
FROM unnest(claudecost.tenant_isolated_tables()) t
JOIN pg_catalog.pg_class c ON c.oid = t
ORDER BY 1;

-- Tenant A: its own rows only, in the ledger, the rollups and the views.
SET ROLE regress_tenant_a;
SELECT claudecost.tenant_projects(), claudecost.tenant_unrestricted();
SELECT * FROM claudecost.project_member;
SELECT request_id, project_id, total_cost FROM claudecost.usage ORDER BY request_id COLLATE "C";
SELECT hour, project_id, requests, total_cost FROM claudecost.usage_hourly ORDER BY hour;
SELECT day, project_id, requests, total_cost FROM claudecost.usage_analytics_daily;
SELECT count(*) AS prompt_rows FROM claudecost.usage_analytics_prompt;
SELECT count(*) AS long_context_rows FROM claudecost.usage_analytics_long_context;
SELECT project_id, requests, total_cost FROM claudecost.cost_by_project;
SELECT user_id, total_cost FROM claudecost.cost_by_user;
SELECT day, total_cost FROM claudecost.daily_usage;
SELECT count(*) AS hourly_rows, sum(total_cost) AS hourly_cost FROM claudecost.hourly_usage;
SELECT * FROM claudecost.get_token_usage();
SELECT r->>'total_requests' AS total_requests, r->>'total_cost' AS total_cost,
       r->'project_breakdown' AS projects
FROM claudecost.generate_usage_report('2025-03-01', '2025-04-01') r;
SELECT claudecost.export_usage_report('2025-03-01', '2025-04-01', 'csv');
SELECT count(*) FROM claudecost.monthly_cost_by_project;

-- Budgets: A sees the global budget and its own, with their counters.
SELECT name, project_id FROM claudecost.budget ORDER BY id;
SELECT b.name, s.spent FROM claudecost.budget_spend s JOIN claudecost.budget b ON b.id = s.budget_id
ORDER BY b.id;
SELECT budget_name FROM claudecost.budget_status ORDER BY budget_id;
RESET ROLE;

-- Tenant B in the same session sees its own project only, and its budget
-- check binds budget B: the cached budgets were reloaded for this role.
SET ROLE regress_tenant_b;
SELECT request_id, project_id FROM claudecost.usage ORDER BY request_id COLLATE "C";
SELECT action, budget_name, spent FROM claudecost.budget_check(0.5, project_id => 'B', as_of => '2025-03-15');
RESET ROLE;

-- A role change reloads the budgets cached for a role: with BYPASSRLS,
-- tenant A's check for B binds B's budget, and without it the global one.
SET ROLE regress_tenant_a;
SELECT action, budget_name FROM claudecost.budget_check(0.5, project_id => 'B', as_of => '2025-03-15');
RESET ROLE;
ALTER ROLE regress_tenant_a BYPASSRLS;
SET ROLE regress_tenant_a;
SELECT action, budget_name FROM claudecost.budget_check(0.5, project_id => 'B', as_of => '2025-03-15');
RESET ROLE;
ALTER ROLE regress_tenant_a NOBYPASSRLS;
SET ROLE regress_tenant_a;
SELECT action, budget_name FROM claudecost.budget_check(0.5, project_id => 'B', as_of => '2025-03-15');
RESET ROLE;

-- Tenant A cannot write usage for B or without a project.
SET ROLE regress_tenant_a;
INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens)
VALUES ('a-for-b', '2025-03-03 10:00', 'regress-model', 'B', 1000);
INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens)
VALUES ('a-for-none', '2025-03-03 10:00', 'regress-model', NULL, 1000);
SELECT claudecost.ingest('{"id": "msg_a_for_b", "type": "message", "model": "regress-model",
                           "usage": {"input_tokens": 1000, "output_tokens": 10}}', project_id => 'B');
-- A replay of B's request id cannot take over B's row.
INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens)
VALUES ('b1', '2025-03-02 10:30', 'regress-model', 'A', 2000000)
ON CONFLICT (request_id) DO UPDATE SET input_tokens = excluded.input_tokens;

-- Budget checks for B do not see B's budgets: only the global one applies.
SELECT action, budget_name, spent FROM claudecost.budget_check(0.5, project_id => 'B', as_of => '2025-03-15');
-- A reservation for B is rejected; one for A holds against A and global.
SELECT claudecost.budget_reserve(project_id => 'B', estimated_cost => 0.5);
SELECT claudecost.budget_reserve(project_id => 'A', estimated_cost => 0.5) > 0 AS reserved;
SELECT b.name, h.amount FROM claudecost.budget_hold h JOIN claudecost.budget b ON b.id = h.budget_id
ORDER BY b.id;

-- A's own usage is recorded, priced and rolled up by the owner's triggers,
-- which also update rows A cannot see (the global budget counter).
INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens)
VALUES ('a3', '2025-03-02 10:15', 'regress-model', 'A', 1000000);
SELECT claudecost.ingest('{"type": "assistant", "sessionId": "s1", "timestamp": "2025-03-02T11:30:00Z",
                           "message": {"id": "msg_a4", "model": "regress-model",
                                       "usage": {"input_tokens": 1000000, "output_tokens": 0}}}',
                         project_id => 'A');
SELECT hour, requests, total_cost FROM claudecost.usage_hourly ORDER BY hour, total_cost;
-- A tenant's loader records rejected lines it cannot read back.
CREATE TEMP TABLE staging (line_number bigint, line text);
INSERT INTO staging VALUES (1, 'not json');
SELECT * FROM claudecost.ingest_lines('staging', 'a.jsonl', project_id => 'A');
SELECT count(*) AS visible_errors FROM claudecost.ingest_error;
DROP TABLE staging;
RESET ROLE;
SELECT file_name, line_number, sqlstate FROM claudecost.ingest_error;

-- B reserves, and A can neither see nor release B's reservation.
SET ROLE regress_tenant_b;
SELECT claudecost.budget_reserve(project_id => 'B', estimated_cost => 0, ttl => '1 hour') > 0 AS reserved;
RESET ROLE;
SELECT max(id) AS b_reservation FROM claudecost.budget_reservation WHERE project_id = 'B' \gset
SET ROLE regress_tenant_a;
SELECT count(*) AS visible_reservations_of_b FROM claudecost.budget_reservation WHERE project_id = 'B';
SELECT claudecost.budget_release(:b_reservation) AS released;
RESET ROLE;
SET ROLE regress_tenant_b;
SELECT claudecost.budget_release(:b_reservation) AS released;
RESET ROLE;

-- A row of A that carries the id of B's reservation does not settle it;
-- B's own row does.
SET ROLE regress_tenant_b;
SELECT claudecost.budget_reserve(project_id => 'B', estimated_cost => 0, ttl => '1 hour') AS b_held \gset
RESET ROLE;
SET ROLE regress_tenant_a;
INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens, reservation_id)
VALUES ('a-with-b-reservation', '2025-03-03 12:00', 'regress-model', 'A', 0, :b_held);
RESET ROLE;
SELECT status FROM claudecost.budget_reservation WHERE id = :b_held;
SET ROLE regress_tenant_b;
INSERT INTO claudecost.usage (request_id, occurred_at, model, project_id, input_tokens, reservation_id)
VALUES ('b-with-b-reservation', '2025-03-03 12:00', 'regress-model', 'B', 0, :b_held);
RESET ROLE;
SELECT status FROM claudecost.budget_reservation WHERE id = :b_held;

-- The superuser sees everything, and the rollups, analytics and counters
-- still equal the ledger.
SELECT request_id, project_id, total_cost FROM claudecost.usage ORDER BY request_id COLLATE "C";
SELECT count(*) AS rollup_differences FROM claudecost.verify_rollups();
SELECT count(*) AS analytics_differences FROM claudecost.verify_analytics_rollups();
SELECT b.name, s.spent FROM claudecost.budget_spend s JOIN claudecost.budget b ON b.id = s.budget_id
ORDER BY b.id, s.period_start;

-- A reader in no project sees nothing but global budgets.
SET ROLE regress_tenant_none;
SELECT count(*) AS usage_rows FROM claudecost.usage;
SELECT count(*) AS rollup_rows FROM claudecost.usage_hourly;
SELECT name FROM claudecost.budget ORDER BY id;
RESET ROLE;

-- The admin sees every project and every row.
SET ROLE regress_tenant_admin;
SELECT project_id, requests, total_cost FROM claudecost.cost_by_project ORDER BY project_id COLLATE "C";
SELECT count(*) AS prompt_rows FROM claudecost.usage_analytics_prompt;
RESET ROLE;

-- Removing A from the team takes effect at once, in the budget cache too.
SET ROLE regress_tenant_a;
SELECT action, budget_name FROM claudecost.budget_check(0, project_id => 'A', as_of => '2025-03-15');
RESET ROLE;
DELETE FROM claudecost.project_member WHERE role_name = 'regress_team_a';
SET ROLE regress_tenant_a;
SELECT action, budget_name FROM claudecost.budget_check(0, project_id => 'A', as_of => '2025-03-15');
SELECT count(*) AS usage_rows FROM claudecost.usage;
RESET ROLE;

-- Only the admin switches isolation; switched off, every reader sees every
-- project and the monthly views again.
SET ROLE regress_tenant_a;
SELECT claudecost.disable_tenant_isolation();
RESET ROLE;
SET ROLE regress_tenant_admin;
SELECT claudecost.disable_tenant_isolation();
RESET ROLE;
SET ROLE regress_tenant_a;
SELECT project_id, count(*) FROM claudecost.usage GROUP BY project_id ORDER BY project_id COLLATE "C";
SELECT count(*) AS monthly_rows FROM claudecost.monthly_cost_by_project;
RESET ROLE;

SET client_min_messages = warning;
DROP EXTENSION claudecost CASCADE;
RESET client_min_messages;
DROP ROLE regress_tenant_a;
DROP ROLE regress_tenant_b;
DROP ROLE regress_tenant_none;
DROP ROLE regress_tenant_admin;
DROP ROLE regress_team_a;
