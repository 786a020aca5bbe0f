-- claudecost.ingest: timestamps read from records (a gateway's created, a
-- Claude Code timestamp) must fall in 1970..2199 UTC, the range of
-- claudecost.usage.occurred_at, and the error names the field.  A time zone
-- offset beyond 15:59 hours raises 22009 naming the field.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;
SET TimeZone = 'UTC';

-- Returns the SQLSTATE, message and detail of the error that ingesting
-- payload raises, or the rows changed when it raises none.
CREATE FUNCTION pg_temp.ingest_outcome(payload text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    error_state text;
    error_message text;
    error_detail text;
BEGIN
    RETURN 'rows ' || claudecost.ingest(payload);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS
        error_state = RETURNED_SQLSTATE,
        error_message = MESSAGE_TEXT,
        error_detail = PG_EXCEPTION_DETAIL;
    RETURN error_state || ' ' || error_message
        || coalesce(' | ' || NULLIF(error_detail, ''), '');
END
$$;

-- An OpenAI-compatible created of 9223372036854 seconds was stored in the
-- year 294247; the error names the field.
SELECT claudecost.ingest('{"id":"gen-far","object":"chat.completion","created":9223372036854,"model":"claude-sonnet-4-5","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}');
-- created, in Unix seconds, at and beyond each end of the range.
CREATE TEMP TABLE created_case (n int, created text);
INSERT INTO created_case VALUES
    (1, '0'),
    (2, '1764892800'),
    (3, '7258118399'),
    (4, '7258118400'),
    (8, '253402300799'),
    (5, '1764892800000'),
    (6, '9223372036854'),
    (7, '-1');
SELECT n, created, pg_temp.ingest_outcome(pg_catalog.format(
    '{"id":"gen-%s","object":"chat.completion","created":%s,"model":"claude-sonnet-4-5","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}',
    n, created)) AS outcome
FROM created_case ORDER BY n;
SELECT request_id, occurred_at FROM claudecost.usage ORDER BY request_id COLLATE "C";
DELETE FROM claudecost.usage;

-- Claude Code timestamps, at and beyond each end of the range and with
-- offsets at and beyond timestamptz's limit.
CREATE TEMP TABLE timestamp_case (n int, value text);
INSERT INTO timestamp_case VALUES
    (1, '1970-01-01T00:00:00Z'),
    (2, '1969-12-31T23:59:59.999999Z'),
    (3, '1970-01-01T00:30:00+01:00'),
    (4, '0001-01-01T00:00:00Z'),
    (5, '2199-12-31T23:59:59.999999Z'),
    (6, '2199-12-31T23:00:00-05:00'),
    (13, '9999-12-31T23:59:59Z'),
    (7, '2025-06-02T18:46:59+15:59'),
    (8, '2025-06-02T18:46:59-15:59'),
    (9, '2025-06-02T18:46:59+16:00'),
    (10, '2025-06-02T18:46:59+99:00'),
    (11, '2025-06-02T18:46:59-05:60'),
    (12, '0000-01-01T00:00:00Z');
SELECT n, value, pg_temp.ingest_outcome(pg_catalog.format(
    '{"type":"assistant","sessionId":"s1","timestamp":%s,"message":{"id":"msg_ts_%s","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}}',
    pg_catalog.to_json(value), n)) AS outcome
FROM timestamp_case ORDER BY n;
SELECT request_id, occurred_at FROM claudecost.usage ORDER BY request_id COLLATE "C";
-- The message names the field and the context names the record.
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1","timestamp":"2025-06-02T18:46:59+99:00","message":{"id":"msg_ts_offset","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}}');
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1","timestamp":"1969-07-20T20:17:40Z","message":{"id":"msg_ts_early","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}}');
