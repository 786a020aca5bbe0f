-- claudecost.ingest is idempotent: replays change nothing, and the largest
-- snapshot of a response wins whatever the order of arrival.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- One Claude Code response logged as three lines (one per content block)
-- with the provisional output counts 1 and 8 and the final count 441.
CREATE TEMP TABLE split_line (n integer PRIMARY KEY, output_tokens integer, line text);
INSERT INTO split_line
SELECT n, output_tokens, pg_catalog.format(
    '{"parentUuid":"p%s","isSidechain":false,"cwd":"/home/USER/projects/spotter","sessionId":"55604662-cf2a-4331-851a-ec234028f8ca","version":"2.1.38","gitBranch":"master","message":{"model":"claude-opus-4-6","id":"msg_01SplitResponse","type":"message","role":"assistant","content":[{"type":"text","text":"block %s"}],"stop_reason":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":2000,"cache_read_input_tokens":15000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":2000},"output_tokens":%s,"service_tier":"standard","inference_geo":"not_available"}},"requestId":"req_011Split","type":"assistant","uuid":"u%s","timestamp":"2026-02-10T21:12:0%s.000Z"}',
    n, n, output_tokens, n, n)
FROM (VALUES (1, 1), (2, 8), (3, 441)) AS v(n, output_tokens);

-- Every order of the three lines, each order played twice in a row.
CREATE TEMP TABLE split_result (arrival text, returns text, row_count bigint,
                                output_tokens bigint, occurred_at_utc timestamp,
                                total_cost numeric);
DO $$
DECLARE
    arrival integer[];
    line_no integer;
    returns text;
BEGIN
    FOREACH arrival SLICE 1 IN ARRAY ARRAY[[1,2,3],[1,3,2],[2,1,3],[2,3,1],[3,1,2],[3,2,1]]
    LOOP
        DELETE FROM claudecost.usage;
        returns := '';
        FOR round IN 1..2 LOOP
            FOREACH line_no IN ARRAY arrival LOOP
                returns := returns || claudecost.ingest(
                    (SELECT line FROM split_line s WHERE s.n = line_no));
            END LOOP;
        END LOOP;
        INSERT INTO split_result
        SELECT (SELECT string_agg(s.output_tokens::text, ',' ORDER BY a.ord)
                FROM unnest(arrival) WITH ORDINALITY AS a(n, ord)
                JOIN split_line s ON s.n = a.n),
               returns, count(*), max(u.output_tokens),
               max(u.occurred_at) AT TIME ZONE 'UTC', max(u.total_cost)
        FROM claudecost.usage u;
    END LOOP;
END
$$;
-- returns: rows changed per call (first round, then the replay round).
SELECT * FROM split_result ORDER BY arrival COLLATE "C";
SELECT request_id, input_tokens, output_tokens, cache_write_1h_tokens, cache_read_tokens
FROM claudecost.usage;

-- The row is priced once, on the final counts.
SELECT total_cost = claudecost.cost('claude-opus-4-6', 3, 441, 0, 2000, 15000, 0, 'standard',
                                    '2026-02-10 21:12:01+00')
       AS split_cost_matches
FROM claudecost.usage;

-- A replay updates no row: xmin stays the same.
CREATE TEMP TABLE before_replay AS SELECT id, xmin::text AS row_version FROM claudecost.usage;
SELECT claudecost.ingest(line) FROM split_line ORDER BY n;
SELECT count(*) AS rows_rewritten
FROM claudecost.usage u JOIN before_replay b USING (id)
WHERE u.xmin::text <> b.row_version;

-- An API response replayed after a streamed copy of itself with a smaller
-- provisional output: the larger count stays.
SELECT claudecost.ingest('{"type":"message","id":"msg_replay","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":10,"output_tokens":50}}');
SELECT claudecost.ingest(E'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_replay","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":10,"output_tokens":1}}}\n\n');
SELECT output_tokens FROM claudecost.usage WHERE request_id = 'msg_replay';

-- The three lines in one JSONL payload, in both orders: merged before the
-- upsert into one row (output 441, earliest timestamp, metadata of the
-- final line); the payload counts one row changed.
DELETE FROM claudecost.usage;
SELECT claudecost.ingest(string_agg(line, E'\n' ORDER BY n)) AS rows_changed FROM split_line;
SELECT output_tokens, occurred_at AT TIME ZONE 'UTC' AS occurred_at_utc, metadata ->> 'uuid' AS uuid
FROM claudecost.usage WHERE request_id = 'msg_01SplitResponse';
DELETE FROM claudecost.usage;
SELECT claudecost.ingest(string_agg(line, E'\n' ORDER BY n DESC)) AS rows_changed FROM split_line;
SELECT output_tokens, occurred_at AT TIME ZONE 'UTC' AS occurred_at_utc, metadata ->> 'uuid' AS uuid
FROM claudecost.usage WHERE request_id = 'msg_01SplitResponse';
-- Replaying the payload, or its lines one by one, changes nothing.
SELECT claudecost.ingest(string_agg(line, E'\n' ORDER BY n)) AS rows_changed FROM split_line;
SELECT sum(claudecost.ingest(line)) AS rows_changed FROM split_line;

-- A payload with an earlier provisional line and a new response: the stored
-- row takes the earlier timestamp, the new response is inserted.
DELETE FROM claudecost.usage;
SELECT claudecost.ingest(line) FROM split_line WHERE n = 3;
SELECT claudecost.ingest((SELECT line FROM split_line WHERE n = 1) || E'\n'
    || '{"type":"message","id":"msg_batch_new","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}')
    AS rows_changed;
SELECT request_id, output_tokens FROM claudecost.usage ORDER BY request_id COLLATE "C";
SELECT occurred_at AT TIME ZONE 'UTC' AS occurred_at_utc FROM claudecost.usage
WHERE request_id = 'msg_01SplitResponse';

-- An error raised while a batch is upserted names the batch in its context
-- (the line about the payload; the other context lines quote the INSERT).
CREATE FUNCTION pg_temp.ingest_error_context(payload text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    context text;
BEGIN
    PERFORM claudecost.ingest(payload);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS context = PG_EXCEPTION_CONTEXT;
    RETURN SQLERRM || ' | ' || (SELECT c FROM regexp_split_to_table(context, E'\n') AS c
                                WHERE c LIKE '%usage payload%');
END
$$;
SELECT pg_temp.ingest_error_context(E'{"type":"message","id":"msg_b1","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}\n{"type":"message","id":"msg_b2","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2,"service_tier":"flex"}}')
    AS error;
SELECT count(*) AS rows_after_failed_batch FROM claudecost.usage WHERE request_id IN ('msg_b1', 'msg_b2');
