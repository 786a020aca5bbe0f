-- Re-keys claudecost.usage by tenant (project_id), as Citus needs before
-- create_distributed_table('claudecost.usage', 'project_id'): every unique
-- key of a distributed table must contain the distribution column, and a
-- row with a NULL distribution column cannot be routed.  Runs in one
-- transaction on a single node as well, where nothing else changes.
-- docs/scaling.md gives the Citus statements that follow it;
-- tools/test-suites.d/citus-keys tests it on a populated database.
--
-- What changes:
--   - project_id is NOT NULL DEFAULT '' ('' = no project, as in the
--     rollups); rows without a project get ''.  ingest() stores '' for a
--     record without a project; a plain INSERT that names project_id NULL
--     is rejected (23502);
--   - the primary key becomes (project_id, id);
--   - request_id is unique per project, UNIQUE (project_id, request_id).
--     ingest() still deduplicates by request_id across projects (it looks
--     the request_id up under its advisory lock, see src/ingest_insert.c),
--     through the plain index on request_id added here.  A plain INSERT
--     may store one request_id in two projects.
--
-- The analytics rollups already carry project_id in their keys.
-- Run: psql -v ON_ERROR_STOP=1 -f tools/citus-keys.sql
\set ON_ERROR_STOP on
BEGIN;
-- Writers wait until the change commits.
LOCK TABLE claudecost.usage IN ACCESS EXCLUSIVE MODE;

-- The rollups count NULL and '' as one project, so this UPDATE moves no
-- rollup figure.  The pricing trigger prices each updated row again, as for
-- any UPDATE, so a row whose price changed since it was stored gets the
-- cost that claudecost.reprice() would give it.
-- NOTE: a budget scoped to project '' would start to count these rows.
UPDATE claudecost.usage SET project_id = '' WHERE project_id IS NULL;
ALTER TABLE claudecost.usage ALTER COLUMN project_id SET DEFAULT '',
                             ALTER COLUMN project_id SET NOT NULL;

ALTER TABLE claudecost.usage DROP CONSTRAINT usage_pkey,
                             ADD CONSTRAINT usage_pkey PRIMARY KEY (project_id, id);
ALTER TABLE claudecost.usage DROP CONSTRAINT usage_request_id_key,
                             ADD CONSTRAINT usage_request_id_key UNIQUE (project_id, request_id);
-- ingest() looks a record up by request_id alone.
CREATE INDEX usage_request_id_idx ON claudecost.usage (request_id);
ANALYZE claudecost.usage;
COMMIT;
