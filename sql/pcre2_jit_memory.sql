-- Reloading the price cache frees the JIT code of its compiled patterns:
-- 500 reloads used to leak about 5 MB of executable pages per backend.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

CREATE FUNCTION pg_temp.backend_rss_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT substring(pg_catalog.pg_read_file('/proc/' || pg_catalog.pg_backend_pid() || '/status')
                     FROM 'VmRSS:\s*(\d+) kB')::bigint
$$;

-- Warm up: load the cache once and let the allocator settle.
DO $$
BEGIN
    FOR i IN 1..50 LOOP
        PERFORM claudecost.resolve_model('gateway/claude-' || i);
        UPDATE claudecost.model_alias SET shipped = shipped WHERE alias = 'claude-sonnet-4-5';
    END LOOP;
END $$;
SELECT pg_temp.backend_rss_kb() AS rss_before \gset

-- Each UPDATE invalidates the cache, so each resolve_model recompiles every pattern.
DO $$
BEGIN
    FOR i IN 1..500 LOOP
        PERFORM claudecost.resolve_model('gateway/claude-' || i);
        UPDATE claudecost.model_alias SET shipped = shipped WHERE alias = 'claude-sonnet-4-5';
    END LOOP;
END $$;
SELECT pg_temp.backend_rss_kb() - :rss_before < 2048 AS rss_growth_below_2mb;
