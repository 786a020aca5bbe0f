-- claudecost.ingest_lines: a staging table that it cannot read line by line
-- (NULL, no such relation, missing or mistyped columns, lines without a
-- number) raises a typed error before any line is ingested.  It used to
-- raise an error quoting the internal query, or to lose lines without a
-- trace.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Runs query and returns the SQLSTATE, message, detail and hint of the
-- error it raises, or its result as text.
CREATE FUNCTION pg_temp.outcome(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    result text;
    error_state text;
    error_message text;
    error_detail text;
    error_hint text;
BEGIN
    EXECUTE query INTO result;
    RETURN result;
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

\set line_ok '{"id":"msg_L1","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":7}}'
\set line_ok2 '{"id":"msg_L2","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":6,"output_tokens":8}}'

-- Lines whose line_number is NULL were grouped into a chunk that failed and
-- then matched no line number when retried one by one: both lines below
-- were counted, and neither stored nor recorded.
CREATE TEMP TABLE unnumbered (line_number bigint, line text);
INSERT INTO unnumbered VALUES (NULL, :'line_ok'), (NULL, 'garbage');
SELECT pg_temp.outcome($$SELECT claudecost.ingest_lines('unnumbered', 'unnumbered.jsonl')::text$$);
SELECT pg_temp.outcome($$SELECT claudecost.ingest_lines('unnumbered', 'unnumbered.jsonl', whole_file => true)::text$$);
-- One unnumbered line among numbered ones stops the call before the
-- numbered lines are ingested, so nothing is stored.
CREATE TEMP TABLE partly_numbered (line_number bigint, line text);
INSERT INTO partly_numbered VALUES (1, :'line_ok'), (2, :'line_ok2'), (NULL, 'garbage');
SELECT pg_temp.outcome($$SELECT claudecost.ingest_lines('partly_numbered', 'partly.jsonl')::text$$);
SELECT count(*) AS rows_stored FROM claudecost.usage;
SELECT count(*) AS errors_recorded FROM claudecost.ingest_error;
-- Numbered, the same lines load: the bad one is recorded with its number.
UPDATE partly_numbered SET line_number = 3 WHERE line_number IS NULL;
SELECT * FROM claudecost.ingest_lines('partly_numbered', 'partly.jsonl');
SELECT request_id, input_tokens, output_tokens FROM claudecost.usage ORDER BY request_id COLLATE "C";
SELECT file_name, line_number, sqlstate, message FROM claudecost.ingest_error;

-- The errors raised for staging relations it cannot read.
CREATE TEMP SEQUENCE staging_sequence;
CREATE TEMP TABLE no_columns (a int);
CREATE TEMP TABLE no_line (line_number bigint, text_line text);
CREATE TEMP TABLE dropped_line (line_number bigint, line text);
ALTER TABLE dropped_line DROP COLUMN line;
CREATE TEMP TABLE numeric_numbers (line_number numeric, line text);
CREATE TEMP TABLE jsonb_lines (line_number bigint, line jsonb);
SELECT label, pg_temp.outcome(query) AS outcome
FROM (VALUES
    (1, 'NULL', $$SELECT claudecost.ingest_lines(NULL)::text$$),
    (2, 'NULL, whole file', $$SELECT claudecost.ingest_lines(NULL, 'file.jsonl', whole_file => true)::text$$),
    (3, 'no such name', $$SELECT claudecost.ingest_lines('no_such_staging')::text$$),
    (4, 'no such OID', $$SELECT claudecost.ingest_lines(0::regclass)::text$$),
    (5, 'a sequence', $$SELECT claudecost.ingest_lines('staging_sequence')::text$$),
    (6, 'neither column', $$SELECT claudecost.ingest_lines('no_columns')::text$$),
    (7, 'no line column', $$SELECT claudecost.ingest_lines('no_line')::text$$),
    (8, 'line column dropped', $$SELECT claudecost.ingest_lines('dropped_line')::text$$),
    (9, 'numeric line_number', $$SELECT claudecost.ingest_lines('numeric_numbers')::text$$),
    (10, 'jsonb line', $$SELECT claudecost.ingest_lines('jsonb_lines')::text$$)
) AS cases(n, label, query)
ORDER BY n;

-- Accepted: integer and varchar columns, and a view that renames columns.
DELETE FROM claudecost.usage;
DELETE FROM claudecost.ingest_error;
CREATE TEMP TABLE small_numbers (line_number integer, line varchar);
INSERT INTO small_numbers VALUES (1, :'line_ok'), (2, '');
SELECT * FROM claudecost.ingest_lines('small_numbers');
CREATE TEMP TABLE raw_lines (n bigint, body text);
INSERT INTO raw_lines VALUES (1, :'line_ok2');
CREATE TEMP VIEW raw_lines_view AS SELECT n AS line_number, body AS line FROM raw_lines;
SELECT * FROM claudecost.ingest_lines('raw_lines_view');
SELECT request_id, input_tokens, output_tokens FROM claudecost.usage ORDER BY request_id COLLATE "C";
