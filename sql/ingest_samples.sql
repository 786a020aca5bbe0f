-- The bundled Claude Code sample sessions: ingest gives per-model request
-- counts, token sums and costs equal to an independent recount, and loading
-- them again, or in another order, changes nothing.  Also claudecost.ingest_lines.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Raw lines of every sample session file, as the loader copies them.
CREATE TEMP TABLE staging (line_number bigint GENERATED ALWAYS AS IDENTITY, line text);
CREATE TEMP TABLE session_line (file text, line_number bigint, line text);
CREATE FUNCTION pg_temp.take_staging(file text) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO session_line SELECT file, line_number, line FROM staging;
    TRUNCATE staging RESTART IDENTITY;
    SELECT count(*) FROM session_line s WHERE s.file = take_staging.file;
$$;
\copy staging (line) FROM 'data/samples/claude-code/projects/-Users-USER2-dev-ai-music/fed8ce56-bc79-401f-a83e-af084253362f.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('sniffly/fed8ce56');
\copy staging (line) FROM 'data/samples/claude-code/projects/-Users-USER2-dev-ai-music/ff71dbed-a4f2-4284-a4fc-fe2fb90de929.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('sniffly/ff71dbed');
\copy staging (line) FROM 'data/samples/claude-code/projects/-home-USER-projects-spotter-worktrees-spotter-4te/ae4a77f8-aedd-4bc1-888f-c94edc91af04/subagents/agent-aac57f5.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('spotter/subagents/agent-aac57f5');
\copy staging (line) FROM 'data/samples/claude-code/projects/-home-USER-projects-spotter-worktrees-spotter-4te/ae4a77f8-aedd-4bc1-888f-c94edc91af04/subagents/agent-acompact-946d2b.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('spotter/subagents/agent-acompact-946d2b');
\copy staging (line) FROM 'data/samples/claude-code/projects/-home-USER-projects-spotter/short.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('spotter/short');
\copy staging (line) FROM 'data/samples/claude-code/projects/-home-USER-projects-spotter/subagent.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('spotter/subagent');
\copy staging (line) FROM 'data/samples/claude-code/projects/-home-USER-projects-spotter/tool_heavy.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('spotter/tool_heavy');
\copy staging (line) FROM 'data/samples/claude-code/projects/sample-project/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('viewer/1af7fc5e');
\copy staging (line) FROM 'data/samples/claude-code/projects/sample-project/agent-test-hash-123.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT pg_temp.take_staging('viewer/agent-test-hash-123');

-- Contents of the lines: split responses and usage repeated in progress lines.
SELECT count(*) AS lines,
       count(*) FILTER (WHERE line::jsonb ->> 'type' = 'assistant') AS assistant_lines,
       count(DISTINCT line::jsonb -> 'message' ->> 'id')
           FILTER (WHERE line::jsonb ->> 'type' = 'assistant') AS distinct_responses,
       count(*) FILTER (WHERE line::jsonb -> 'data' ->> 'type' = 'agent_progress'
                          AND line::jsonb -> 'data' -> 'message' -> 'message' ? 'usage')
           AS progress_lines_with_usage
FROM session_line;

\i tools/session-recount.sql

-- The independent recount, per model.
SELECT * FROM recount_by_model ORDER BY model COLLATE "C";

-- Load 1: every file in file order, through claudecost.ingest_lines.
CREATE TEMP VIEW lines_in_file_order AS
SELECT row_number() OVER (ORDER BY file, line_number) AS line_number, line FROM session_line;
SELECT * FROM claudecost.ingest_lines('lines_in_file_order', 'samples');
SELECT * FROM recount_mismatch;
SELECT model, requests, output_tokens, total_cost FROM ingest_by_model ORDER BY model COLLATE "C";
CREATE TEMP TABLE first_load AS
SELECT request_id, model, occurred_at, project_id, session_id, input_tokens, output_tokens,
       cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, web_search_requests,
       total_cost
FROM claudecost.usage;

-- Load 2: the same lines again change no row.
SELECT * FROM claudecost.ingest_lines('lines_in_file_order', 'samples');
SELECT * FROM recount_mismatch;

-- Load 3: into an empty table, every line in reverse order.
DELETE FROM claudecost.usage;
CREATE TEMP VIEW lines_reversed AS
SELECT row_number() OVER (ORDER BY file DESC, line_number DESC) AS line_number, line
FROM session_line;
SELECT lines, errors FROM claudecost.ingest_lines('lines_reversed', 'samples');
SELECT * FROM recount_mismatch;

-- Load 4: into an empty table, lines shuffled (ordered by a hash).  Line
-- numbers step by 100, so ingest_lines, which groups lines 1-1000,
-- 1001-2000 and so on, sends about ten lines per chunk and the lines of one
-- response land in different chunks.
DELETE FROM claudecost.usage;
CREATE TEMP VIEW lines_shuffled AS
SELECT 100 * row_number() OVER (ORDER BY md5(line), file, line_number) AS line_number, line
FROM session_line;
SELECT lines, errors FROM claudecost.ingest_lines('lines_shuffled', 'samples');
SELECT * FROM recount_mismatch;

-- The hourly rollup followed every insert and update (updates that move a
-- response to an earlier occurred_at included), and the per-model report
-- agrees with the recount.
SELECT count(*) AS rollup_differences FROM claudecost.verify_rollups();
SELECT r.model, r.requests, c.requests AS report_requests, r.total_cost,
       c.total_cost AS report_total_cost
FROM recount_by_model r FULL JOIN claudecost.cost_by_model c USING (model)
WHERE r.requests IS DISTINCT FROM c.requests OR r.total_cost IS DISTINCT FROM c.total_cost
   OR r.output_tokens IS DISTINCT FROM c.output_tokens;

-- Every row is the same as after the first load, whatever the order.
SELECT count(*) AS rows_differing FROM (
    (SELECT request_id, model, occurred_at, project_id, session_id, input_tokens, output_tokens,
            cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens,
            web_search_requests, total_cost
     FROM claudecost.usage
     EXCEPT SELECT * FROM first_load)
    UNION ALL
    (SELECT * FROM first_load
     EXCEPT SELECT request_id, model, occurred_at, project_id, session_id, input_tokens,
                   output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
                   cache_read_tokens, web_search_requests, total_cost
     FROM claudecost.usage)
) AS differing;

-- Every response with 1-hour cache writes was read from the split.
SELECT count(*) AS responses_with_1h_writes FROM claudecost.usage WHERE cache_write_1h_tokens > 0;

-- ingest_lines: a bad line is recorded and the load goes on.
TRUNCATE staging RESTART IDENTITY;
INSERT INTO staging (line) VALUES
    ('{"type":"message","id":"msg_lines_1","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}'),
    ('{"type":"message","id":"msg_lines_2","model":'),
    (''),
    (NULL),
    ('{"type":"message","id":"msg_lines_3","usage":{"input_tokens":1,"output_tokens":2}}'),
    ('{"type":"message","id":"msg_lines_4","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1,"output_tokens":2}}');
SELECT * FROM claudecost.ingest_lines('staging', 'inline.jsonl', 'regress_bob', 'p1', ARRAY['t1']);
SELECT file_name, line_number, sqlstate, message, detail
FROM claudecost.ingest_error ORDER BY id;
SELECT request_id, user_id, project_id, tags FROM claudecost.usage
WHERE request_id LIKE 'msg_lines_%' ORDER BY request_id COLLATE "C";

-- whole_file: the lines of an SSE stream file form one payload.
TRUNCATE staging RESTART IDENTITY;
\copy staging (line) FROM 'data/samples/api/stream-1.sse' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT * FROM claudecost.ingest_lines('staging', 'stream-1.sse', whole_file => true);
SELECT request_id, model, input_tokens, output_tokens, metadata ->> 'source' AS source
FROM claudecost.usage WHERE metadata ->> 'source' = 'sse_stream';
-- A whole file that fails is recorded without a line number.
TRUNCATE staging RESTART IDENTITY;
INSERT INTO staging (line) VALUES ('event: ping'), ('data: {"type": "ping"}');
SELECT * FROM claudecost.ingest_lines('staging', 'ping.sse', whole_file => true);
SELECT file_name, line_number, sqlstate, message FROM claudecost.ingest_error
WHERE file_name = 'ping.sse';

-- The other sample files.  Records that bill nothing insert nothing and
-- raise nothing: error bodies, failed batch requests, failed Claude Code
-- calls, count_tokens results, a stream that failed.
DELETE FROM claudecost.usage;
TRUNCATE staging RESTART IDENTITY;
\copy staging (line) FROM 'data/samples/errors/error-records.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
\copy staging (line) FROM 'data/samples/errors/count-tokens.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT * FROM claudecost.ingest_lines('staging', 'errors');
TRUNCATE staging RESTART IDENTITY;
\copy staging (line) FROM 'data/samples/errors/stream-error.sse' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT * FROM claudecost.ingest_lines('staging', 'stream-error.sse', whole_file => true);
SELECT count(*) AS rows_from_free_records FROM claudecost.usage;

-- Recorded API responses against a jsonb recount (0/0 messages bill nothing).
TRUNCATE staging RESTART IDENTITY;
\copy staging (line) FROM 'data/samples/api/messages.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT * FROM claudecost.ingest_lines('staging', 'messages.jsonl');
SELECT 'recount' AS side, count(*) AS requests, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(web_search) AS web_search_requests
FROM (SELECT (line::jsonb -> 'usage' ->> 'input_tokens')::bigint AS input_tokens,
             (line::jsonb -> 'usage' ->> 'output_tokens')::bigint AS output_tokens,
             coalesce((line::jsonb -> 'usage' -> 'server_tool_use' ->> 'web_search_requests')::int, 0)
                 AS web_search
      FROM staging) AS response
WHERE input_tokens + output_tokens > 0
UNION ALL
SELECT 'ingest', count(*), sum(input_tokens), sum(output_tokens), sum(web_search_requests)
FROM claudecost.usage;

-- Batch results: the two succeeded lines of each capture, at the batch tier.
TRUNCATE staging RESTART IDENTITY;
\copy staging (line) FROM 'data/samples/batch/results.jsonl' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT * FROM claudecost.ingest_lines('staging', 'results.jsonl');
SELECT request_id, model, service_tier, input_tokens, output_tokens, total_cost,
       metadata ->> 'custom_id' AS custom_id
FROM claudecost.usage WHERE metadata ->> 'source' = 'batch_result'
ORDER BY request_id COLLATE "C";

-- A pretty-printed gateway response file is one payload.
TRUNCATE staging RESTART IDENTITY;
\copy staging (line) FROM 'data/samples/openai/openrouter-response.json' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT * FROM claudecost.ingest_lines('staging', 'openrouter-response.json', whole_file => true);
SELECT request_id, model, input_tokens, output_tokens, total_cost,
       metadata ->> 'gateway_cost' AS gateway_cost
FROM claudecost.usage WHERE metadata ->> 'source' = 'openai_compatible';
