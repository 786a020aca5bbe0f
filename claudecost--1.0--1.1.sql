-- claudecost 1.0 -> 1.1: upgrade script.
--
-- Every change made to schema/ since 1.0 appears here as well, in the same
-- order.  tools/test-suites.d/upgrade compares an upgraded catalog with a
-- fresh 1.1 install.

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION claudecost UPDATE TO '1.1'" to load this file. \quit

-- The rollup trigger (claudecost.usage_rollup(), in C) now maintains the
-- analytics rollups as well, with a one-row path for single-row statements;
-- the PL/pgSQL analytics trigger and its statement generator go.
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
