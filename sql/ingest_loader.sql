-- tools/claudecost-load, run from the source tree against the test database.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- The loader connects with the PG* environment, pointed at this database.
-- Its output (stdout and stderr) is captured and echoed, so that it lands
-- in order in the test output.
SELECT current_database() AS test_database \gset
\setenv PGDATABASE :test_database

-- A Claude Code projects directory (sub-agent logs included), JSONL of API
-- responses, batch results, an SSE stream file and a pretty-printed JSON file.
\set loader_output `tools/claudecost-load data/samples/claude-code/projects data/samples/api/messages.jsonl data/samples/batch/results.jsonl data/samples/api/stream-1.sse data/samples/openai/openrouter-response.json data/samples/errors 2>&1; echo "exit status $?"`
\echo :loader_output
SELECT source, count(*) AS requests, sum(output_tokens) AS output_tokens
FROM (SELECT metadata ->> 'source' AS source, output_tokens FROM claudecost.usage) AS u
GROUP BY source ORDER BY source COLLATE "C";
SELECT count(*) AS sub_agent_requests FROM claudecost.usage
WHERE (metadata ->> 'isSidechain')::boolean;

-- Loading everything again changes nothing.
\set loader_output `tools/claudecost-load -v data/samples/claude-code/projects data/samples/api/messages.jsonl data/samples/batch/results.jsonl 2>&1; echo "exit status $?"`
\echo :loader_output

-- The default path is ${CLAUDE_CONFIG_DIR:-$HOME/.claude}/projects; options
-- set user, project and tags.
DELETE FROM claudecost.usage;
\set loader_output `CLAUDE_CONFIG_DIR=data/samples/claude-code tools/claudecost-load --user regress_carol --project demo --tag laptop --tag "it's" 2>&1; echo "exit status $?"`
\echo :loader_output
SELECT user_id, project_id, tags, count(*) AS requests FROM claudecost.usage GROUP BY 1, 2, 3;

-- Bad lines are listed with file, line, SQLSTATE and message; the other
-- lines load and the exit status is 3.
\set loader_output `tools/claudecost-load data/test/bad-lines.jsonl 2>&1; echo "exit status $?"`
\echo :loader_output
SELECT request_id, input_tokens, metadata FROM claudecost.usage
WHERE request_id LIKE 'msg_loader_%' ORDER BY request_id COLLATE "C";
SELECT file_name, line_number, sqlstate, message FROM claudecost.ingest_error ORDER BY id;

-- Usage errors.
\set loader_output `tools/claudecost-load data/test/no-such-file.jsonl 2>&1; echo "exit status $?"`
\echo :loader_output
\set loader_output `tools/claudecost-load --bogus  2>&1; echo "exit status $?"`
\echo :loader_output

-- A line that is exactly \. (COPY's end-of-data marker) is an ordinary bad
-- line: the lines after it load.  A line with the \copy delimiter and quote
-- bytes (0x01, 0x02) reaches ingest unchanged: it fails because JSON strings
-- cannot hold raw control characters, and the detail gives the offset of
-- the 0x01 byte in the line.
DELETE FROM claudecost.ingest_error;
\set loader_output `tools/claudecost-load data/test/end-marker.jsonl 2>&1; echo "exit status $?"`
\echo :loader_output
SELECT request_id, input_tokens
FROM claudecost.usage WHERE request_id LIKE 'msg_marker_%' ORDER BY request_id COLLATE "C";

-- A file name with a quote loads like any other.
\set loader_output `tools/claudecost-load "data/test/it's quoted.jsonl" 2>&1; echo "exit status $?"`
\echo :loader_output
SELECT request_id, input_tokens FROM claudecost.usage WHERE request_id LIKE 'msg_quote_%';

-- Lines that are not valid UTF-8 (an ISO-8859-1 byte, an overlong form, a
-- NUL byte) are recorded with SQLSTATE 22021 and their line number; the
-- other lines and the next files load, and the exit status is 3.  A file
-- read as one payload (.sse) is not ingested when a line of it is invalid.
\set loader_output `tools/claudecost-load data/test/bad-utf8.jsonl data/test/bad-utf8.sse data/test/end-marker.jsonl "data/test/it's quoted.jsonl" 2>&1; echo "exit status $?"`
\echo :loader_output
SELECT request_id, input_tokens FROM claudecost.usage WHERE request_id LIKE 'msg_utf8_%'
ORDER BY request_id COLLATE "C";
SELECT file_name, line_number, sqlstate, message, detail FROM claudecost.ingest_error
ORDER BY id;
