-- claudecost.ingest: input that cJSON would read wrongly (\u0000 escapes,
-- counts from 2^53, deep nesting), timestamps without a time zone, several
-- SSE streams in one payload and a cut stream completed later.
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
    error_hint text;
BEGIN
    RETURN 'rows ' || claudecost.ingest(payload);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS
        error_state = RETURNED_SQLSTATE,
        error_message = MESSAGE_TEXT,
        error_detail = PG_EXCEPTION_DETAIL,
        error_hint = PG_EXCEPTION_HINT;
    RETURN error_state || ' ' || error_message
        || coalesce(' | ' || NULLIF(error_detail, ''), '')
        || coalesce(' | ' || NULLIF(error_hint, ''), '');
END
$$;

-- Turns the two characters \n of a psql variable into line feeds.
CREATE FUNCTION pg_temp.lines(value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.replace(value, '\n', pg_catalog.chr(10)) $$;

-- \u0000 in a string is rejected as jsonb rejects it, instead of cutting the
-- string short (two ids would otherwise merge into "msg_z").
SELECT claudecost.ingest('{"type":"message","id":"msg_z\u0000A","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT pg_temp.ingest_outcome('{"type":"message","id":"msg_z\u0000B","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT pg_temp.ingest_outcome('{"type":"message","id":"msg_model_nul","model":"claude-haiku-4-5\u0000-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
-- Three backslashes: an escaped backslash, then the escape \u0000.
SELECT pg_temp.ingest_outcome('{"type":"message","id":"msg_z\\\u0000C","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
-- The offset counts from the start of the payload, in JSONL and in SSE.
SELECT pg_temp.ingest_outcome(E'{"type":"message","id":"msg_nul_ok","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}\n{"type":"message","id":"msg_z\\u0000D","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT pg_temp.ingest_outcome(E'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_z\\u0000E","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}}\n\n');
-- An escaped backslash followed by the text u0000 is an ordinary string.
SELECT pg_temp.ingest_outcome('{"type":"message","id":"msg_z\\u0000F","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
-- Other escapes of control characters are kept.
SELECT pg_temp.ingest_outcome('{"type":"message","id":"msg_z\u0001G","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT request_id, pg_catalog.length(request_id) AS length FROM claudecost.usage
ORDER BY request_id COLLATE "C";

-- Counts from 2^53 on are rejected: doubles cannot hold them exactly, and
-- 9007199254740993 would be stored as 9007199254740992.
SELECT pg_temp.ingest_outcome('{"type":"message","id":"msg_2p53_plus1","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":9007199254740993,"output_tokens":2}}');
SELECT pg_temp.ingest_outcome('{"type":"message","id":"msg_2p53","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":9007199254740992}}');
SELECT pg_temp.ingest_outcome('{"type":"message","id":"msg_2p53_minus1","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":9007199254740991}}');
SELECT request_id, output_tokens FROM claudecost.usage WHERE request_id LIKE 'msg_2p53%'
ORDER BY request_id COLLATE "C";
DELETE FROM claudecost.usage;

-- Nesting deeper than cJSON's limit of 1,000 levels names the limit.
SELECT pg_temp.ingest_outcome(pg_catalog.repeat('[', 1001) || pg_catalog.repeat(']', 1001));
SELECT pg_temp.ingest_outcome('{"a":' || pg_catalog.repeat('{"b":', 1000) || '1' || pg_catalog.repeat('}', 1001));
-- 1,000 levels parse; the value is then of no accepted format.
SELECT pg_temp.ingest_outcome(pg_catalog.repeat('[', 1000) || pg_catalog.repeat(']', 1000));

-- Claude Code timestamps must be ISO-8601 with a time zone.
CREATE TEMP TABLE timestamp_case (n int, value text);
INSERT INTO timestamp_case VALUES
    (1, '2025-06-02T18:46:59.937Z'),
    (2, '2025-06-02T20:46:59+02:00'),
    (3, '2025-06-02T13:16-05:30'),
    (4, 'infinity'),
    (5, 'now'),
    (6, '2025-06-02T18:46:59'),
    (7, '2025-06-02 18:46:59Z'),
    (8, '2025-06-02T18:46:59+0200'),
    (9, '2025-06-02T18:46:59z'),
    (10, '2025-06-02T18:46:59.Z'),
    (11, '2025-13-02T18:46:59Z'),
    (12, '2025-06-02T18:46:59Z '),
    (13, '');
SELECT n, value, pg_temp.ingest_outcome(pg_catalog.format(
    '{"type":"assistant","sessionId":"s1","timestamp":%s,"message":{"id":"msg_ts_%s","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}}',
    pg_catalog.to_json(value), n)) AS outcome
FROM timestamp_case ORDER BY n;
SELECT request_id, occurred_at FROM claudecost.usage ORDER BY request_id COLLATE "C";
-- The error names the field and the value.
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1","timestamp":"now","message":{"id":"msg_ts_now","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}}');
SELECT claudecost.ingest('{"type":"assistant","sessionId":"s1","timestamp":"2025-13-02T18:46:59Z","message":{"id":"msg_ts_month","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}}');
DELETE FROM claudecost.usage;

-- Two complete SSE streams in one payload give two rows.
\set stream_a 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_multi_a","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":10,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":20}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
\set stream_b 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_multi_b","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":30,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":40}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
\set stream_c_cut 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_multi_c","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":50,"output_tokens":3}}}\n\n'
\set stream_d_error 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_multi_d","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":70,"output_tokens":1}}}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
SELECT claudecost.ingest(pg_temp.lines(:'stream_a') || pg_temp.lines(:'stream_b'));
SELECT request_id, model, input_tokens, output_tokens, metadata FROM claudecost.usage
ORDER BY request_id COLLATE "C";
-- A cut stream, a stream that failed and a complete one: the cut one is
-- stored with provisional counts, the failed one bills nothing.
SELECT claudecost.ingest(pg_temp.lines(:'stream_c_cut') || pg_temp.lines(:'stream_d_error') || pg_temp.lines(:'stream_a'));
SELECT request_id, input_tokens, output_tokens, metadata FROM claudecost.usage
ORDER BY request_id COLLATE "C";
-- The same streams again change nothing.
SELECT claudecost.ingest(pg_temp.lines(:'stream_a') || pg_temp.lines(:'stream_b'));
-- An error event before any message_start still bills nothing.
SELECT claudecost.ingest(E'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
DELETE FROM claudecost.usage;

-- A cut stream whose complete stream has the same counters: the complete
-- stream clears stream_complete (single-record path with its lookup).
\set cut_start 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_cut_same","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":12,"output_tokens":7}}}\n\n'
\set same_end 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
SELECT claudecost.ingest(pg_temp.lines(:'cut_start'));
SELECT request_id, output_tokens, metadata FROM claudecost.usage;
SELECT claudecost.ingest(pg_temp.lines(:'cut_start') || pg_temp.lines(:'same_end'));
SELECT request_id, output_tokens, metadata FROM claudecost.usage;
-- Replaying the complete stream, or the cut one, changes nothing after that.
SELECT claudecost.ingest(pg_temp.lines(:'cut_start') || pg_temp.lines(:'same_end'));
SELECT claudecost.ingest(pg_temp.lines(:'cut_start'));
SELECT request_id, output_tokens, metadata FROM claudecost.usage;

-- The same in a multi-record payload, which skips the lookup: the upsert
-- itself updates a cut stream's row to a complete record's metadata.
DELETE FROM claudecost.usage;
SELECT claudecost.ingest(pg_temp.lines(:'cut_start'));
SELECT claudecost.ingest('{"type":"message","id":"msg_cut_same","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":12,"output_tokens":7}}
{"type":"message","id":"msg_cut_other","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT request_id, output_tokens, metadata FROM claudecost.usage ORDER BY request_id COLLATE "C";

-- A stream cut inside a data: line ends in incomplete JSON: the call fails
-- and stores nothing, not even the complete stream before it.
DELETE FROM claudecost.usage;
SELECT pg_temp.ingest_outcome(pg_temp.lines(:'stream_a') || pg_temp.lines(:'cut_start') || E'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tok');
SELECT count(*) AS rows_stored FROM claudecost.usage;
