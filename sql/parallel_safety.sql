-- A PL/pgSQL EXCEPTION block starts a subtransaction, which PostgreSQL
-- refuses during a parallel query, so no function with one may be marked
-- PARALLEL SAFE or RESTRICTED, and neither may a function that calls one.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

WITH RECURSIVE handlers AS (
    SELECT p.oid, p.proname
    FROM pg_proc p
    WHERE p.pronamespace = 'claudecost'::regnamespace
      AND p.prosrc ~* '\mEXCEPTION\s+WHEN\M'
),
callers AS (
    SELECT oid, proname FROM handlers
    UNION
    SELECT p.oid, p.proname
    FROM pg_proc p
    JOIN callers c ON p.prosrc ~ ('claudecost\.' || c.proname || '\s*\(')
    WHERE p.pronamespace = 'claudecost'::regnamespace
)
SELECT p.oid::regprocedure AS function, p.proparallel
FROM callers c
JOIN pg_proc p ON p.oid = c.oid
ORDER BY p.oid::regprocedure::text COLLATE "C";

-- Such a function called in a query that could run in parallel is planned
-- without workers, and the report runs.
CREATE TABLE public.parallel_probe AS SELECT g FROM generate_series(1, 20000) AS g;
ANALYZE public.parallel_probe;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM public.parallel_probe
WHERE g = 1 AND claudecost.generate_usage_report('2026-01-01', '2026-01-02') IS NOT NULL;
SELECT count(*) FROM public.parallel_probe
WHERE g = 1 AND claudecost.generate_usage_report('2026-01-01', '2026-01-02') IS NOT NULL;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE public.parallel_probe;
