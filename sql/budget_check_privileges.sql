-- budget_check needs SELECT on budget, exchange_rate, budget_spend and
-- budget_hold.  A session remembers the role that passed that check, so
-- GRANT, REVOKE and role membership changes between checks must still
-- apply to the next check.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
DROP ROLE IF EXISTS regress_bcp_member;
DROP ROLE IF EXISTS regress_bcp_group;
DROP ROLE IF EXISTS regress_bcp_outsider;
RESET client_min_messages;
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never

SELECT claudecost.create_budget('privileges', 10, 'daily', starts_at => '2026-01-01') IS NOT NULL AS created;
CREATE ROLE regress_bcp_member;
CREATE ROLE regress_bcp_group;
GRANT USAGE ON SCHEMA claudecost TO regress_bcp_member, regress_bcp_group;
GRANT EXECUTE ON FUNCTION claudecost.budget_check(numeric, text, text, text, text, text[], timestamptz)
   TO regress_bcp_member;
GRANT SELECT ON claudecost.budget, claudecost.exchange_rate, claudecost.budget_spend,
                claudecost.budget_hold TO regress_bcp_member;

-- Direct grants.
SET ROLE regress_bcp_member;
SELECT action, budget_name FROM claudecost.budget_check(1, as_of => '2026-05-01');
SELECT action, budget_name FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;
REVOKE SELECT ON claudecost.budget_hold FROM regress_bcp_member;
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;
GRANT SELECT ON claudecost.budget_hold TO regress_bcp_member;
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;
REVOKE SELECT ON claudecost.exchange_rate FROM regress_bcp_member;
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;

-- Privileges through membership in a group role.
REVOKE SELECT ON claudecost.budget, claudecost.budget_spend, claudecost.budget_hold FROM regress_bcp_member;
GRANT SELECT ON claudecost.budget, claudecost.exchange_rate, claudecost.budget_spend,
                claudecost.budget_hold TO regress_bcp_group;
GRANT regress_bcp_group TO regress_bcp_member;
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;
REVOKE regress_bcp_group FROM regress_bcp_member;
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;
GRANT regress_bcp_group TO regress_bcp_member;
ALTER ROLE regress_bcp_member NOINHERIT;
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;
ALTER ROLE regress_bcp_member INHERIT;

-- Switching roles inside one session: the second role is checked on its own.
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;
CREATE ROLE regress_bcp_outsider;
GRANT USAGE ON SCHEMA claudecost TO regress_bcp_outsider;
GRANT EXECUTE ON FUNCTION claudecost.budget_check(numeric, text, text, text, text, text[], timestamptz)
   TO regress_bcp_outsider;
SET ROLE regress_bcp_outsider;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;

-- A revoke from the group applies to its member's next check.
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;
REVOKE SELECT ON claudecost.budget_spend FROM regress_bcp_group;
SET ROLE regress_bcp_member;
SELECT action FROM claudecost.budget_check(1, as_of => '2026-05-01');
RESET ROLE;

SET client_min_messages = warning;
DROP OWNED BY regress_bcp_member, regress_bcp_group, regress_bcp_outsider;
DROP ROLE regress_bcp_member;
DROP ROLE regress_bcp_group;
DROP ROLE regress_bcp_outsider;
DROP EXTENSION claudecost CASCADE;
