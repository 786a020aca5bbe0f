-- Builds bench_prompt: prompts of 2-8 KB assembled from the text of real
-- Claude Code sessions loaded into bench_raw_line (one JSONL line per row).
--
-- Segments are user turns, tool results, sub-agent instructions (the prompt
-- of Task tool calls) and the system reminders Claude Code injects into user
-- turns.  Each prompt starts with an instruction or system-reminder segment.
-- Distinct random segments follow, separated by a blank line, until the
-- prompt reaches its target size, drawn uniformly from 2-8 KB.  A prompt over
-- 8 KB is cut at a line end.  setseed makes the corpus the same on every run
-- over the same data.
\set ON_ERROR_STOP on

CREATE FUNCTION pg_temp.try_jsonb(line text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN line::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

CREATE TABLE bench_line AS
SELECT pg_temp.try_jsonb(line) AS d FROM bench_raw_line;

CREATE TABLE bench_segment AS
WITH content AS (
    SELECT d->>'type' AS line_type, d->'message'->'content' AS c
    FROM bench_line
    WHERE d IS NOT NULL AND d->>'type' IN ('user', 'assistant')
), block AS (
    SELECT 'user' AS kind, c #>> '{}' AS body
    FROM content WHERE line_type = 'user' AND jsonb_typeof(c) = 'string'
    UNION ALL
    SELECT CASE WHEN b->>'type' = 'text' THEN 'user' ELSE 'tool_result' END,
           CASE WHEN b->>'type' = 'text' THEN b->>'text'
                WHEN jsonb_typeof(b->'content') = 'string' THEN b->>'content'
                ELSE (SELECT string_agg(x->>'text', E'\n')
                      FROM jsonb_array_elements(b->'content') x WHERE x->>'type' = 'text')
           END
    FROM content, jsonb_array_elements(c) b
    WHERE line_type = 'user' AND jsonb_typeof(c) = 'array' AND b->>'type' IN ('text', 'tool_result')
    UNION ALL
    SELECT 'instructions', b->'input'->>'prompt'
    FROM content, jsonb_array_elements(c) b
    WHERE line_type = 'assistant' AND jsonb_typeof(c) = 'array'
      AND b->>'type' = 'tool_use' AND b->'input' ? 'prompt'
), distinct_block AS (
    SELECT DISTINCT ON (md5(body)) kind, body
    FROM block
    WHERE body IS NOT NULL AND octet_length(body) >= 40
    ORDER BY md5(body), kind
)
SELECT row_number() OVER (ORDER BY md5(body)) AS id,
       CASE WHEN kind = 'instructions' OR body LIKE '%<system-reminder>%' THEN 'system' ELSE kind END AS kind,
       body
FROM distinct_block;

-- The longest prefix of text that has at most max_bytes bytes, ending at a
-- line end when one lies beyond min_bytes.
CREATE FUNCTION pg_temp.clip(text text, max_bytes int, min_bytes int) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    prefix text := left(text, max_bytes);
    line_end int;
BEGIN
    WHILE octet_length(prefix) > max_bytes LOOP
        prefix := left(prefix, length(prefix) - greatest(1, (octet_length(prefix) - max_bytes) / 4));
    END LOOP;
    line_end := length(prefix) - strpos(reverse(prefix), E'\n') + 1;
    IF strpos(prefix, E'\n') > 0 AND octet_length(left(prefix, line_end - 1)) >= min_bytes THEN
        prefix := left(prefix, line_end - 1);
    END IF;
    RETURN prefix;
END
$$;

CREATE TABLE bench_prompt (id int PRIMARY KEY, body text NOT NULL);

DO $$
DECLARE
    heads text[] := ARRAY(SELECT body FROM bench_segment WHERE kind = 'system' ORDER BY id);
    parts text[] := ARRAY(SELECT body FROM bench_segment ORDER BY id);
    prompt_count int := current_setting('bench.prompts')::int;
    target int;
    prompt text;
    part int;
    used int[];
BEGIN
    IF coalesce(array_length(heads, 1), 0) = 0 OR coalesce(array_length(parts, 1), 0) = 0 THEN
        RAISE EXCEPTION 'no usable session text was loaded';
    END IF;
    PERFORM setseed(0.2026);
    FOR i IN 1..prompt_count LOOP
        target := 2048 + floor(random() * 6145)::int;
        prompt := pg_temp.clip(heads[1 + floor(random() * array_length(heads, 1))::int], 6144, 0);
        used := '{}';
        WHILE octet_length(prompt) < target LOOP
            -- No segment twice in one prompt, so repetition comes from the sessions.
            part := 1 + floor(random() * array_length(parts, 1))::int;
            CONTINUE WHEN part = ANY (used);
            used := used || part;
            prompt := prompt || E'\n\n' || parts[part];
        END LOOP;
        INSERT INTO bench_prompt VALUES (i, pg_temp.clip(prompt, 8192, 2048));
    END LOOP;
END
$$;

SELECT (SELECT count(*) FROM bench_segment) AS segments,
       (SELECT count(*) FROM bench_segment WHERE kind = 'system') AS system_segments,
       count(*) AS prompts,
       min(octet_length(body)) AS min_bytes,
       max(octet_length(body)) AS max_bytes,
       round(avg(octet_length(body))) AS avg_bytes,
       round(sum(octet_length(body)) / 1048576.0, 1) AS total_mb
FROM bench_prompt;
