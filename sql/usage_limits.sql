-- Input limits of the usage ledger and of report periods: occurred_at range,
-- report period length, size of key text columns and per-row token totals.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- SQLSTATE raised by a statement, or 'ok'.
CREATE FUNCTION pg_temp.sqlstate_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

------------------------------------------------------------------------
-- occurred_at range: [1970-01-01, 2200-01-01) UTC
------------------------------------------------------------------------

-- A budget is present: its trigger subtracted infinite timestamps before.
SELECT claudecost.create_budget('regress_limits', 100, 'monthly') > 0 AS budget_created;
INSERT INTO claudecost.usage (model, input_tokens, occurred_at) VALUES ('claude-opus-4-1', 1, 'infinity');
INSERT INTO claudecost.usage (model, input_tokens, occurred_at) VALUES ('claude-opus-4-1', 1, '-infinity');
INSERT INTO claudecost.usage (model, input_tokens, occurred_at) VALUES ('claude-opus-4-1', 1, '294276-01-01 00:00+00');
INSERT INTO claudecost.usage (model, input_tokens, occurred_at) VALUES ('claude-opus-4-1', 1, '1969-12-31 23:59:59.999999+00');
INSERT INTO claudecost.usage (model, input_tokens, occurred_at) VALUES ('claude-opus-4-1', 1, '2200-01-01 00:00+00');
SELECT v AS occurred_at, pg_temp.sqlstate_of(format(
           'INSERT INTO claudecost.usage (model, input_tokens, occurred_at) VALUES (%L, 1, %L)',
           'claude-opus-4-1', v)) AS sqlstate
FROM unnest(ARRAY['infinity', '-infinity', '294276-01-01 00:00+00', '1969-12-31 23:59:59.999999+00',
                  '2200-01-01 00:00+00', '1970-01-01 00:00+00', '2199-12-31 23:59:59.999999+00']) v;
-- The first and last instants of the range are stored and priced.
SELECT occurred_at AT TIME ZONE 'UTC' AS occurred_at_utc, total_cost IS NOT NULL AS priced
FROM claudecost.usage ORDER BY occurred_at;

-- An UPDATE cannot move a row out of the range.
UPDATE claudecost.usage SET occurred_at = 'infinity' WHERE occurred_at < '1971-01-01';

-- ingest() checks the timestamp of a Claude Code log line against the same
-- range before the trigger runs, and names the JSON field.
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1","message":{"id":"msg_year_2300","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":1}},"requestId":"req_year_2300","uuid":"u1","timestamp":"2300-01-01T00:00:00.000Z"}');

-- The CHECK constraint holds the same bounds when triggers do not run.
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'usage_occurred_at_range';
SET session_replication_role = replica;
SELECT pg_temp.sqlstate_of($$INSERT INTO claudecost.usage (model, occurred_at) VALUES ('claude-opus-4-1', 'infinity')$$)
    AS without_triggers;
RESET session_replication_role;

-- cost_trends spans the stored days: with a row on the first and on the
-- last day of the range it has one row per day, each UTC day once.
SELECT count(*) AS days, min(day), max(day), count(DISTINCT day) = count(*) AS days_unique,
       ('2199-12-31'::date - '1970-01-01'::date) + 1 AS days_in_range
FROM claudecost.cost_trends;
SELECT * FROM claudecost.verify() WHERE NOT ok;

------------------------------------------------------------------------
-- Report periods of at most 36525 days (100 years)
------------------------------------------------------------------------

TRUNCATE claudecost.usage;
SELECT claudecost.generate_usage_report('0001-01-01', '9999-12-31');
SELECT claudecost.report_html('1000-01-01', '9999-12-31');
SELECT claudecost.export_usage_report('0001-01-01 00:00+00', '9999-12-31 00:00+00');
SELECT count(*) FROM claudecost.report_daily('0001-01-01', '9999-12-31');
SELECT count(*) FROM claudecost.report_days('0001-01-01', '9999-12-31', 'UTC');
SELECT claudecost.report_cost_trends('0001-01-01', 'infinity');
-- Exactly 36525 days is accepted, one microsecond more is not.
SELECT count(*) AS days FROM claudecost.report_daily('2000-01-01 00:00+00', '2100-01-01 00:00+00');
SELECT count(*) AS days FROM claudecost.report_days('2000-01-01 00:00+00', '2100-01-01 00:00+00', 'UTC');
SELECT jsonb_array_length(claudecost.generate_usage_report('2000-01-01 00:00+00', '2100-01-01 00:00+00')->'daily_usage')
    AS report_days;
SELECT pg_temp.sqlstate_of($$SELECT claudecost.generate_usage_report('2000-01-01 00:00+00', '2100-01-01 00:00:00.000001+00')$$)
    AS one_microsecond_more;

------------------------------------------------------------------------
-- Key text columns: at most 512 bytes
------------------------------------------------------------------------

-- 512 bytes in each of the seven columns at once fit the rollup indexes.
INSERT INTO claudecost.usage (request_id, model, user_id, project_id, api_key_id, workspace_id, prompt_hash,
                              input_tokens, occurred_at)
SELECT left(x, 512), 'claude-sonnet-4-5' || left(x, 512 - 17), left(md5('u') || x, 512),
       left(md5('p') || x, 512), left(md5('k') || x, 512), left(md5('w') || x, 512), left(md5('h') || x, 512),
       1, '2026-01-01 00:00+00'
FROM (SELECT string_agg(md5(i::text), '') AS x FROM generate_series(1, 20) i) s;
SELECT octet_length(model) AS model_bytes, octet_length(user_id) AS user_id_bytes FROM claudecost.usage;
SELECT * FROM claudecost.verify() WHERE NOT ok;

-- 513 bytes are rejected, naming the column.
INSERT INTO claudecost.usage (model, input_tokens, user_id)
SELECT 'claude-sonnet-4-5', 1, string_agg(md5(i::text), '') FROM generate_series(1, 100) i;
INSERT INTO claudecost.usage (model, input_tokens) VALUES (repeat('m', 100000), 1);
-- A name longer than any storable model resolves to no model, without
-- running the rewrite rules on it.
SELECT claudecost.resolve_model(repeat('m', 100000)) IS NULL AS long_name_unknown;
SELECT c AS column_name, pg_temp.sqlstate_of(format(
           'INSERT INTO claudecost.usage (model, input_tokens, %I) VALUES (%L, 1, repeat(%L, 513))',
           c, 'claude-sonnet-4-5', 'x')) AS bytes_513,
       pg_temp.sqlstate_of(format(
           'INSERT INTO claudecost.usage (model, input_tokens, %I) VALUES (%L, 1, repeat(%L, 512))',
           c, 'claude-sonnet-4-5', 'y')) AS bytes_512
FROM unnest(ARRAY['request_id', 'user_id', 'project_id', 'api_key_id', 'workspace_id', 'prompt_hash']) c;
-- The limit is in bytes: 257 two-byte characters are 514 bytes.
INSERT INTO claudecost.usage (model, input_tokens, project_id) VALUES ('claude-sonnet-4-5', 1, repeat('é', 257));
-- ingest() goes through the same check.
SELECT claudecost.ingest(format('{"type":"message","id":"msg_long_model","model":"%s","usage":{"input_tokens":1,"output_tokens":1}}',
                                repeat('m', 600)));

------------------------------------------------------------------------
-- Token totals: the five counts of a row add up within bigint
------------------------------------------------------------------------

TRUNCATE claudecost.usage;
INSERT INTO claudecost.usage (model, input_tokens, output_tokens)
VALUES ('claude-opus-4-1', 4611686018427387904, 4611686018427387904);
-- The largest total that fits is stored and verify() agrees with it.
INSERT INTO claudecost.usage (model, input_tokens, output_tokens)
VALUES ('claude-opus-4-1', 4611686018427387904, 4611686018427387903);
SELECT input_tokens + output_tokens AS total_tokens FROM claudecost.usage;
SELECT * FROM claudecost.verify() WHERE NOT ok;
-- A row stored without triggers (before this check existed) no longer
-- breaks the checks: they sum in numeric and report the missing rollup.
SET session_replication_role = replica;
INSERT INTO claudecost.usage (model, input_tokens, output_tokens, occurred_at)
VALUES ('claude-opus-4-1', 4611686018427387904, 4611686018427387904, '2026-02-01 00:00+00');
RESET session_replication_role;
SELECT rollup, stored, expected FROM claudecost.verify_analytics_rollups() ORDER BY rollup COLLATE "C";
