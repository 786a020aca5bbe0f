-- Schema properties that time partitioning and Citus rely on
-- (docs/scaling.md): keys, key types, qualified names in function bodies
-- and the tenant column of the tables Citus would distribute.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Tables of the extension, as a view so the checks below read plainly.
CREATE VIEW pg_temp.extension_table AS
SELECT c.oid, c.relname
FROM pg_class c
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'claudecost'
WHERE c.relkind IN ('r', 'p');

-- Every table has a primary key or a unique key of NOT NULL columns, so
-- each row can be addressed (logical replication, Citus, partition moves).
SELECT t.relname AS table_without_key
FROM pg_temp.extension_table t
WHERE NOT EXISTS (
    SELECT 1 FROM pg_constraint k
    WHERE k.conrelid = t.oid AND k.contype IN ('p', 'u')
      AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = t.oid AND a.attnum = ANY (k.conkey) AND NOT a.attnotnull))
ORDER BY t.relname::text COLLATE "C";

-- No identity or sequence-backed column narrower than bigint.
SELECT t.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_temp.extension_table t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE (a.attidentity <> '' OR pg_get_serial_sequence(t.oid::regclass::text, a.attname) IS NOT NULL)
  AND a.atttypid <> 'bigint'::regtype;

-- Every foreign key column has the type of the column it references.
SELECT k.conname, format_type(a.atttypid, a.atttypmod) AS type, format_type(r.atttypid, r.atttypmod) AS referenced_type
FROM pg_constraint k
JOIN pg_temp.extension_table t ON t.oid = k.conrelid
CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS c(attnum, refattnum)
JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = c.attnum
JOIN pg_attribute r ON r.attrelid = k.confrelid AND r.attnum = c.refattnum
WHERE k.contype = 'f' AND a.atttypid <> r.atttypid;

-- SQL and PL/pgSQL bodies name every table and view of the schema with the
-- schema, so they work under any search_path and on a Citus worker.
-- (SQL run by C functions through SPI is not checked here.)
CREATE FUNCTION pg_temp.unqualified_references()
RETURNS TABLE (function_name name, relation_name name)
LANGUAGE sql AS $$
    SELECT p.proname, c.relname
    FROM pg_proc p
    JOIN pg_language l ON l.oid = p.prolang AND l.lanname IN ('sql', 'plpgsql')
    CROSS JOIN pg_class c
    WHERE p.pronamespace = 'claudecost'::regnamespace
      AND c.relnamespace = 'claudecost'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
      AND p.prosrc ~* ('(from|join|into|update|table)\s+' || c.relname || '\M')
    ORDER BY p.proname::text COLLATE "C", c.relname::text COLLATE "C"
$$;
SELECT * FROM pg_temp.unqualified_references();

-- The check finds an unqualified name.
BEGIN;
CREATE FUNCTION claudecost.regress_unqualified() RETURNS bigint
LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT count(*) FROM usage_hourly); END $$;
SELECT * FROM pg_temp.unqualified_references();
ROLLBACK;

-- The tenant column of the tables that the Citus recipe distributes:
-- present everywhere and NOT NULL in the rollups, where every unique key
-- contains it.  In usage it is nullable and outside the keys until
-- tools/citus-keys.sql changes that (docs/scaling.md).
CREATE TEMP VIEW tenant_key AS
SELECT t.relname AS table_name, k.conname AS key_name,
       a.attnotnull AS project_id_not_null,
       a.attnum = ANY (k.conkey) AS project_id_in_key
FROM pg_temp.extension_table t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = 'project_id'
JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype IN ('p', 'u')
WHERE t.relname IN ('usage', 'usage_hourly', 'usage_analytics_daily', 'usage_analytics_prompt',
                    'usage_analytics_prompt_day', 'usage_analytics_long_context');
SELECT * FROM pg_temp.tenant_key ORDER BY table_name::text COLLATE "C", key_name::text COLLATE "C";

-- After tools/citus-keys.sql every key contains project_id.
\set ECHO none
\set QUIET on
\i tools/citus-keys.sql
\set QUIET off
\set ECHO all
SELECT * FROM pg_temp.tenant_key ORDER BY table_name::text COLLATE "C", key_name::text COLLATE "C";
