-- Converts claudecost.usage into a table partitioned by month of
-- occurred_at, in one transaction (ACCESS EXCLUSIVE lock on usage: writers
-- wait until it commits).  docs/scaling.md explains each step.
--
-- Requires psql variables first_month and last_month (dates: the first and
-- the last month to create a partition for; a DEFAULT partition takes any
-- other row).
--
-- What changes:
--   - the primary key becomes (id, occurred_at) and the unique request_id
--     becomes UNIQUE (request_id, occurred_at), because every unique index
--     of a partitioned table must contain the partition key;
--   - the triggers are created again on the partitioned table with the
--     definitions they had (pg_get_triggerdef): the BEFORE ROW pricing
--     trigger is cloned to each partition, the statement triggers with
--     transition tables fire once per statement on the parent;
--   - the rows are copied with session_replication_role = replica, so no
--     trigger fires: they are priced and already in every rollup and
--     counter, which are keyed by row values, not by table;
--   - views that read usage (unpriced_usage) are pointed at the new table.
-- claudecost.ingest() needs no unique index on request_id alone: it looks
-- the request_id up under an advisory lock (src/ingest_insert.c), so it
-- works on the partitioned table unchanged, replays included.
\set ON_ERROR_STOP on
BEGIN;
LOCK TABLE claudecost.usage IN ACCESS EXCLUSIVE MODE;

-- Definitions to re-create, read before the rename so they name claudecost.usage.
SET LOCAL search_path = pg_catalog;
CREATE TEMP TABLE saved_trigger ON COMMIT DROP AS
SELECT t.tgname, pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger t
WHERE t.tgrelid = 'claudecost.usage'::regclass AND NOT t.tgisinternal;
CREATE TEMP TABLE saved_view ON COMMIT DROP AS
SELECT DISTINCT v.oid::regclass::text AS view_name, pg_get_viewdef(v.oid) AS definition
FROM pg_depend d
JOIN pg_rewrite r ON r.oid = d.objid
JOIN pg_class v ON v.oid = r.ev_class
WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'claudecost.usage'::regclass
  AND v.oid <> 'claudecost.usage'::regclass AND v.relkind = 'v';

ALTER TABLE claudecost.usage RENAME TO usage_unpartitioned;
ALTER TABLE claudecost.usage_unpartitioned RENAME CONSTRAINT usage_request_id_key TO usage_unpartitioned_request_id_key;
ALTER TABLE claudecost.usage_unpartitioned RENAME CONSTRAINT usage_pkey TO usage_unpartitioned_pkey;
ALTER INDEX claudecost.usage_occurred_at_idx RENAME TO usage_unpartitioned_occurred_at_idx;
ALTER INDEX claudecost.usage_unpriced_idx RENAME TO usage_unpartitioned_unpriced_idx;

-- Same columns, defaults, identity, CHECK constraints and comments.
CREATE TABLE claudecost.usage (
    LIKE claudecost.usage_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS
        INCLUDING COMMENTS INCLUDING STORAGE,
    CONSTRAINT usage_pkey PRIMARY KEY (id, occurred_at),
    CONSTRAINT usage_request_id_key UNIQUE (request_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX usage_occurred_at_idx ON claudecost.usage (occurred_at);
CREATE INDEX usage_unpriced_idx ON claudecost.usage (occurred_at) WHERE total_cost IS NULL;

-- One partition per month, and a DEFAULT partition for anything else.
SELECT format('CREATE TABLE claudecost.usage_%s PARTITION OF claudecost.usage FOR VALUES FROM (%L) TO (%L)',
              to_char(m, 'YYYYMM'), m, m + interval '1 month')
FROM generate_series(date_trunc('month', :'first_month'::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                     date_trunc('month', :'last_month'::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                     interval '1 month') AS m
\gexec
CREATE TABLE claudecost.usage_default PARTITION OF claudecost.usage DEFAULT;

-- The rows, without firing any trigger (see above).
SET LOCAL session_replication_role = replica;
INSERT INTO claudecost.usage OVERRIDING SYSTEM VALUE SELECT * FROM claudecost.usage_unpartitioned;
SET LOCAL session_replication_role = origin;
SELECT setval(pg_get_serial_sequence('claudecost.usage', 'id'),
              greatest((SELECT max(id) FROM claudecost.usage), 1));

-- Triggers and views on the new table.
ALTER EXTENSION claudecost DROP TABLE claudecost.usage_unpartitioned;
ALTER EXTENSION claudecost DROP SEQUENCE claudecost.usage_id_seq;
SELECT definition FROM saved_trigger
\gexec
SELECT format('CREATE OR REPLACE VIEW %s AS %s', view_name, definition) FROM saved_view
\gexec
DROP TABLE claudecost.usage_unpartitioned;
-- LIKE ... INCLUDING IDENTITY made a new sequence while the old name was taken.
SELECT format('ALTER SEQUENCE %s RENAME TO usage_id_seq', pg_get_serial_sequence('claudecost.usage', 'id'))
WHERE pg_get_serial_sequence('claudecost.usage', 'id') <> 'claudecost.usage_id_seq'
\gexec
ANALYZE claudecost.usage;
COMMIT;
