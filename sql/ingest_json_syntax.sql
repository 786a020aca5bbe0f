-- claudecost.ingest: JSON that cJSON reads but RFC 8259 and jsonb reject
-- (\u without four hex digits, unpaired surrogates, raw control characters,
-- numbers such as 01) fails with 22P02 instead of being read wrongly.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Returns the SQLSTATE, message, detail and hint of the error that
-- ingesting payload raises, or the rows changed when it raises none.
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

-- Returns the SQLSTATE of the error that reading value as jsonb raises, or
-- 'ok'.
CREATE FUNCTION pg_temp.jsonb_outcome(value text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM value::jsonb;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

-- cJSON decodes \uZZZZ to a NUL byte that ends the string.  Without the
-- check, the first two responses merged into one row "msg_A", the model
-- lost its suffix and "batch\uQQQQ" was read as the half-price batch tier.
SELECT claudecost.ingest('{"id":"msg_A\uZZZZone","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":100,"output_tokens":2}}');
SELECT pg_temp.ingest_outcome('{"id":"msg_A\uZZZZtwo","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":7}}');
SELECT pg_temp.ingest_outcome('{"id":"msg_B","type":"message","model":"claude-opus-4-1\uXYZW-cheap","usage":{"input_tokens":5,"output_tokens":7}}');
SELECT pg_temp.ingest_outcome('{"id":"msg_C","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":7,"service_tier":"batch\uQQQQ"}}');
-- A count with a leading zero was read by strtod as 100.
SELECT pg_temp.ingest_outcome('{"id":"msg_D","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":0100,"output_tokens":7}}');
SELECT count(*) AS rows_stored FROM claudecost.usage;

-- The offset counts from the start of the payload, in JSONL and in SSE, and
-- an error in the second record rolls back the first.
SELECT pg_temp.ingest_outcome('{"id":"msg_E1","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":1,"output_tokens":2}}
{"id":"msg_E2\uD800","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT pg_temp.ingest_outcome(pg_catalog.replace('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_F\u12G4","model":"claude-sonnet-4-5","usage":{"input_tokens":1,"output_tokens":2}}}\n\n', '\n', pg_catalog.chr(10)));
SELECT count(*) AS rows_stored FROM claudecost.usage;

-- The loader's path: each such line fails on its own and is recorded, and
-- the valid line between them loads.
CREATE TEMP TABLE staging (line_number bigint, line text);
INSERT INTO staging VALUES
    (1, '{"id":"msg_A\uZZZZone","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":100,"output_tokens":2}}'),
    (2, '{"id":"msg_A\uZZZZtwo","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":7}}'),
    (3, '{"id":"msg_G","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":7}}'),
    (4, '{"id":"msg_C","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":7,"service_tier":"batch\uQQQQ"}}'),
    (5, '{"id":"msg_H","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":7,"note":"tab' || pg_catalog.chr(9) || 'here"}}');
SELECT * FROM claudecost.ingest_lines('staging', 'escapes.jsonl');
SELECT line_number, sqlstate, message, detail FROM claudecost.ingest_error ORDER BY line_number;
SELECT request_id, model, service_tier, input_tokens, output_tokens FROM claudecost.usage
ORDER BY request_id COLLATE "C";
DELETE FROM claudecost.usage;
DELETE FROM claudecost.ingest_error;

-- ingest accepts a JSON value exactly when jsonb does.  Each value is
-- ingested inside an API error body, which bills nothing.
CREATE TEMP TABLE json_case (n int, value text);
INSERT INTO json_case VALUES
    (1, '"\uZZZZ"'),
    (2, '"\u12"'),
    (3, '"\u00e9 \u00E9"'),
    (4, '"\uD83D\uDE00"'),
    (5, '"\uD800"'),
    (6, '"\uD800x"'),
    (7, '"\uD800\u0041"'),
    (8, '"\uD800\uD800"'),
    (9, '"\uDC00"'),
    (10, '"\uD800\n"'),
    (11, '"\x"'),
    (12, '"\é"'),
    (13, '"\u0000"'),
    (14, '"a\\uZZZZ"'),
    (15, '"\/ \b \f \n \r \t \" \\"'),
    (16, '"tab' || pg_catalog.chr(9) || '"'),
    (17, '"line' || pg_catalog.chr(10) || 'feed"'),
    (18, '"unit' || pg_catalog.chr(31) || 'separator"'),
    (19, '"delete' || pg_catalog.chr(127) || '"'),
    (20, '01'),
    (21, '-01'),
    (22, '1.'),
    (23, '1.e5'),
    (24, '.5'),
    (25, '+1'),
    (26, '-'),
    (27, '1e'),
    (28, '1e+'),
    (29, '0x10'),
    (30, '12abc'),
    (31, '[0, -0, 12, -1.5e-3, 2E+10, 1e999, 0.25]'),
    (32, pg_catalog.chr(1) || '1'),
    (33, pg_catalog.chr(12) || '1'),
    (34, pg_catalog.chr(9) || pg_catalog.chr(13) || pg_catalog.chr(10) || ' 1'),
    (35, '{"a":[true,false,null],"b":{}}');
SELECT n, pg_temp.jsonb_outcome(value) AS jsonb,
       pg_temp.ingest_outcome(pg_catalog.format('{"type":"error","value":%s}', value)) AS ingest
FROM json_case ORDER BY n;
-- No value where the two disagree.
SELECT n, value FROM json_case
WHERE (pg_temp.jsonb_outcome(value) = 'ok')
   <> (pg_temp.ingest_outcome(pg_catalog.format('{"type":"error","value":%s}', value)) = 'rows 0')
   OR (pg_temp.jsonb_outcome(value) <> 'ok'
       AND pg_temp.jsonb_outcome(value)
           <> pg_catalog.left(pg_temp.ingest_outcome(pg_catalog.format('{"type":"error","value":%s}', value)), 5))
ORDER BY n;

-- A control character other than tab, line feed and carriage return is no
-- white space between records either.
SELECT pg_temp.ingest_outcome('{"type":"error"}' || pg_catalog.chr(11) || '{"type":"error"}');
