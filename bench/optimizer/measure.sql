-- Times claudecost.optimize_prompt over bench_prompt in one backend.  The
-- baseline is counting the tokens of the same prompts, the least work an
-- optimizer that measures its savings must do.  Then checks on every prompt
-- that the savings are positive and add up exactly, and that the output is a
-- fixed point.
\set ON_ERROR_STOP on
SET max_parallel_workers_per_gather = 0;
SET jit = off;

-- Best wall-clock times, in seconds, of rounds alternating runs of the
-- baseline and of the optimizer.  Alternating makes both see the same load
-- on a shared machine.
CREATE FUNCTION pg_temp.best_seconds(rounds int, OUT count_seconds numeric, OUT optimize_seconds numeric)
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz;
BEGIN
    FOR i IN 1..rounds LOOP
        started := clock_timestamp();
        PERFORM sum(claudecost.token_count(body)) FROM bench_prompt;
        count_seconds := least(count_seconds, extract(epoch FROM clock_timestamp() - started));
        started := clock_timestamp();
        PERFORM sum((claudecost.optimize_prompt(body)->>'optimized_tokens')::int) FROM bench_prompt;
        optimize_seconds := least(optimize_seconds, extract(epoch FROM clock_timestamp() - started));
    END LOOP;
END
$$;

-- Warm-up: load the rules and the tokenizer in this backend.
SELECT claudecost.optimize_prompt(body) IS NOT NULL AS warm FROM bench_prompt WHERE id = 1;

CREATE TEMP TABLE bench_elapsed AS
SELECT t.count_seconds, t.optimize_seconds,
       (SELECT sum(octet_length(body)) FROM bench_prompt) / 1048576.0 AS megabytes
FROM pg_temp.best_seconds(current_setting('bench.rounds')::int) AS t;

CREATE TEMP TABLE bench_result AS
SELECT id, claudecost.optimize_prompt(body) AS r FROM bench_prompt;

\echo
\echo === throughput (one backend, best of bench.rounds runs) ===
SELECT (SELECT count(*) FROM bench_prompt) AS prompts,
       round(megabytes, 1) AS mb,
       round(optimize_seconds, 2) AS optimize_s,
       round(megabytes / optimize_seconds, 2) AS optimize_mb_per_s,
       round(count_seconds, 2) AS token_count_s,
       round(megabytes / count_seconds, 2) AS token_count_mb_per_s,
       round(optimize_seconds / count_seconds, 1) AS optimize_over_count
FROM bench_elapsed;

\echo === savings (cl100k_base) ===
SELECT round(avg(100.0 * ((r->>'estimated_tokens')::int - (r->>'optimized_tokens')::int)
                 / (r->>'estimated_tokens')::int), 2) AS avg_saving_pct,
       round(100.0 * sum((r->>'estimated_tokens')::int - (r->>'optimized_tokens')::int)
             / sum((r->>'estimated_tokens')::int), 2) AS total_saving_pct,
       sum((r->>'estimated_tokens')::int) AS tokens_before,
       sum((r->>'optimized_tokens')::int) AS tokens_after,
       count(*) FILTER (WHERE r->'savings_percentage' <> 'null') AS prompts_changed,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY (r->>'savings_percentage')::numeric)::numeric, 2)
           AS median_saving_pct_changed
FROM bench_result;

\echo === savings by suggestion type ===
SELECT s->>'suggestion_type' AS suggestion_type,
       sum((s->>'occurrences')::int) AS edits,
       sum((s->>'token_savings')::int) AS tokens_saved
FROM bench_result, jsonb_array_elements(r->'optimization_suggestions') s
GROUP BY 1 ORDER BY 3 DESC;

\echo === checks (every count must be 0) ===
CREATE TEMP TABLE bench_check AS
SELECT
    (SELECT count(*) FROM bench_result, jsonb_array_elements(r->'optimization_suggestions') s
     WHERE (s->>'token_savings')::int <= 0) AS nonpositive_suggestions,
    (SELECT count(*) FROM bench_result
     WHERE coalesce((SELECT sum((s->>'token_savings')::int)
                     FROM jsonb_array_elements(r->'optimization_suggestions') s), 0)
           <> (r->>'estimated_tokens')::int - (r->>'optimized_tokens')::int) AS savings_not_adding_up,
    (SELECT count(*) FROM bench_result
     WHERE (r->>'optimized_tokens')::int <> claudecost.token_count(r->>'optimized_text')) AS wrong_optimized_count,
    (SELECT count(*) FROM bench_result
     WHERE claudecost.optimize_prompt(r->>'optimized_text')->>'optimized_text'
           <> r->>'optimized_text') AS not_idempotent;
SELECT * FROM bench_check;

-- Windowed measurement against counting the whole prompt per edit, for the
-- first 100 prompts in each encoding.
CREATE TEMP TABLE bench_windowed AS
SELECT p.id, e.encoding, claudecost.optimize_prompt(p.body, e.encoding) AS r
FROM bench_prompt p, unnest(ARRAY['cl100k_base', 'o200k_base', 'claude_legacy']) AS e(encoding)
WHERE p.id <= 100;
SET claudecost.optimizer_measure_whole_text = on;
CREATE TEMP TABLE bench_whole_text_check AS
SELECT count(*) FILTER (WHERE claudecost.optimize_prompt(p.body, w.encoding) <> w.r) AS whole_text_differs
FROM bench_windowed w JOIN bench_prompt p USING (id);
RESET claudecost.optimizer_measure_whole_text;
SELECT * FROM bench_whole_text_check;

DO $$
BEGIN
    IF (SELECT nonpositive_suggestions + savings_not_adding_up + wrong_optimized_count + not_idempotent
        FROM bench_check) > 0 OR (SELECT whole_text_differs FROM bench_whole_text_check) > 0 THEN
        RAISE EXCEPTION 'optimizer benchmark check failed';
    END IF;
END
$$;
