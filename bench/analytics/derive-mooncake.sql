-- Derives data/traces/mooncake_conversation_usage.csv from Mooncake's
-- conversation_trace.jsonl (FAST'25 release), one line per request.  Each
-- line has the arrival (ms), the input and output tokens and the prompt
-- tokens that a prefix cache would have served.  The last column is the
-- hash id of the last block of that cached prefix, which identifies the
-- shared prompt prefix (empty when nothing was cached).
--
-- A request's cached prefix is its leading run of 512-token blocks whose
-- hash id appeared in an earlier request, capped at its input length.
--
-- Usage (from the repository root):
--   psql -v trace=PATH/conversation_trace.jsonl -f bench/analytics/derive-mooncake.sql
CREATE TEMP TABLE mooncake_line (line_number bigserial, line jsonb);
\set copy_command '\\copy mooncake_line (line) FROM ' :'trace'
:copy_command

CREATE TEMP TABLE mooncake_block AS
SELECT l.line_number AS request, b.position, b.hash_id,
       min(l.line_number) OVER (PARTITION BY b.hash_id) < l.line_number AS seen_before
FROM mooncake_line l,
     jsonb_array_elements_text(l.line->'hash_ids') WITH ORDINALITY AS b(hash_id, position);

CREATE TEMP TABLE mooncake_prefix AS
SELECT b.request, coalesce(min(b.position) FILTER (WHERE NOT b.seen_before), max(b.position) + 1) - 1
           AS cached_blocks
FROM mooncake_block b
GROUP BY b.request;

\copy (SELECT (l.line->>'timestamp')::bigint AS timestamp_ms, (l.line->>'input_length')::bigint AS input_tokens, (l.line->>'output_length')::bigint AS output_tokens, least((l.line->>'input_length')::bigint, 512 * coalesce(p.cached_blocks, 0)) AS cached_tokens, CASE WHEN p.cached_blocks > 0 THEN l.line->'hash_ids'->>(p.cached_blocks::int - 1) END AS prefix_block FROM mooncake_line l LEFT JOIN mooncake_prefix p ON p.request = l.line_number ORDER BY l.line_number) TO 'data/traces/mooncake_conversation_usage.csv' WITH (FORMAT csv, HEADER)
