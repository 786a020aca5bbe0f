-- Times claudecost.optimize_prompt on prompts without line breaks against
-- the same prompts with a line break after every sentence, whose edits were
-- already measured in windows of one line.  Run with
--   psql -X -q -f bench/optimizer/long_line.sql
-- on a database where claudecost is installed.
\set ON_ERROR_STOP on
SET max_parallel_workers_per_gather = 0;
SET jit = off;

-- Best wall-clock seconds of three runs of optimize_prompt(prompt).
CREATE FUNCTION pg_temp.best_seconds(prompt text) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz;
    best numeric;
BEGIN
    FOR i IN 1..3 LOOP
        started := clock_timestamp();
        PERFORM claudecost.optimize_prompt(prompt);
        best := least(best, extract(epoch FROM clock_timestamp() - started));
    END LOOP;
    RETURN best;
END
$$;

SELECT claudecost.optimize_prompt('warm up') IS NOT NULL AS warm;

SELECT sentence, repetitions, kb,
       round(one_line * 1000) AS one_line_ms,
       round(lines * 1000) AS lines_ms,
       round(one_line / lines, 2) AS one_line_over_lines
FROM (SELECT sentence, repetitions,
             round(octet_length(repeat(sentence, repetitions)) / 1024.0) AS kb,
             pg_temp.best_seconds(repeat(sentence, repetitions)) AS one_line,
             pg_temp.best_seconds(repeat(rtrim(sentence) || E'\n', repetitions)) AS lines
      FROM (VALUES ('please ', 4000), ('please ', 16000), ('please do x. ', 16000),
                   ('please do x. ', 110000)) AS s(sentence, repetitions)) AS t;
