-- Optimizer work on prompts without line breaks grows linearly: each edit
-- is measured on a window cut at word ends, not on the whole line.  The
-- counts of claudecost.optimizer_last_work show it without timing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

-- Before any call in this session every count is zero.
SELECT * FROM claudecost.optimizer_last_work();

-- The same sentence repeated on one line, at four sizes.  Bytes tokenized
-- per input byte stay constant; counting the line for every edit would
-- make them grow with the repetitions.
CREATE TEMP TABLE work (repetitions int, bytes int, saved int, claimed int,
                        tokenizer_calls bigint, bytes_tokenized bigint,
                        boundary_bytes_scanned bigint);
DO $$
DECLARE
    n int;
    r jsonb;
BEGIN
    FOREACH n IN ARRAY ARRAY[250, 1000, 4000, 16000] LOOP
        r := claudecost.optimize_prompt(repeat('please do x. ', n));
        INSERT INTO work
        SELECT n, octet_length(repeat('please do x. ', n)),
               (r->>'estimated_tokens')::int - (r->>'optimized_tokens')::int,
               (SELECT sum((s->>'token_savings')::int)
                FROM jsonb_array_elements(r->'optimization_suggestions') s),
               w.tokenizer_calls, w.bytes_tokenized, w.boundary_bytes_scanned
        FROM claudecost.optimizer_last_work() w;
    END LOOP;
END
$$;
SELECT repetitions, bytes, saved, claimed = saved AS savings_add_up,
       tokenizer_calls, bytes_tokenized, boundary_bytes_scanned,
       round(bytes_tokenized::numeric / bytes, 2) AS tokenized_per_byte,
       bytes_tokenized < 4 * bytes AS linear
FROM work ORDER BY repetitions;

-- A long line mixing every kind of edit gives the same result measured in
-- windows and measured on the whole text, in every encoding.
CREATE TEMP TABLE line AS
SELECT string_agg(format('Item %s: please make sure you basically read the configuration in order to start, it is really   quick; '
                         'the data (%s rows) is "just" fine, ünïcödé 東京 x%s. ', i, i * 7, i), '')
           AS body
FROM generate_series(1, 60) i;
CREATE TEMP TABLE windowed AS
SELECT e.encoding, claudecost.optimize_prompt(body, e.encoding) AS r
FROM line, unnest(ARRAY['cl100k_base', 'o200k_base', 'claude_legacy']) AS e(encoding);
SET claudecost.optimizer_measure_whole_text = on;
SELECT w.encoding, position(E'\n' IN l.body) = 0 AS one_line,
       jsonb_array_length(w.r->'optimization_suggestions') AS suggestions,
       (w.r->>'estimated_tokens')::int - (w.r->>'optimized_tokens')::int AS saved,
       claudecost.optimize_prompt(l.body, w.encoding) = w.r AS same_as_whole_text
FROM windowed w, line l ORDER BY w.encoding COLLATE "C";
RESET claudecost.optimizer_measure_whole_text;

-- Random long lines of words, digits, punctuation, contractions, special
-- token look-alikes, combining marks and compatibility characters that NFKC
-- changes: every windowed measurement adds up, so the whole-text fallback
-- never runs.
SELECT setseed(0.5);
CREATE TEMP TABLE random_line AS
SELECT g, string_agg(
           (ARRAY['please', 'just', 'really', 'very', 'basically', 'in order to', 'it''s', 'don''t',
                  'x1', '42', ' ', '  ', '東京', 'ünï', 'ÄÖ', 'Ｆｕｌｌ', 'ﬁ', 'e' || chr(769),
                  chr(769), 'a' || chr(776), chr(12354) || chr(12441), 'ｶ' || chr(65438),
                  '1' || chr(8260) || '2', 'I''ll', 'WE''RE', '.', ',', '(', ')', '"', '''', '-',
                  '—', E'\t', 'HTML', 'CamelCase', '   ', 'be sure to', 'make sure you',
                  'a large number of', '<EOT>', '<META>', 'é', '𝔘', '٣', 'ǅ'])
               [1 + floor(random() * 46)::int]
           || CASE WHEN random() < 0.7 THEN ' ' ELSE '' END, '' ORDER BY w) AS body
FROM generate_series(1, 150) g, generate_series(1, 100) w
GROUP BY g;
CREATE TEMP TABLE random_result (g int, encoding text, suggestions int, remeasured boolean);
DO $$
DECLARE
    line record;
    encoding_name text;
BEGIN
    FOR line IN SELECT * FROM random_line ORDER BY g LOOP
        FOREACH encoding_name IN ARRAY ARRAY['cl100k_base', 'o200k_base', 'claude_legacy'] LOOP
            INSERT INTO random_result
            SELECT line.g, encoding_name,
                   jsonb_array_length(claudecost.optimize_prompt(line.body, encoding_name)
                                      ->'optimization_suggestions');
            UPDATE random_result r SET remeasured = w.remeasured
            FROM claudecost.optimizer_last_work() w
            WHERE r.g = line.g AND r.encoding = encoding_name;
        END LOOP;
    END LOOP;
END
$$;
SELECT encoding, count(*) AS prompts, sum(suggestions) > 0 AS edited,
       count(*) FILTER (WHERE remeasured) AS remeasured
FROM random_result GROUP BY encoding ORDER BY encoding COLLATE "C";

-- Many edits on one line: "please " is removed at every repetition.  Bytes
-- copied or moved per prompt byte stay flat as the prompt grows.  Moving the
-- rest of the text for every edit made them grow with the repetitions
-- (7,999.5 per byte at 16,000 repetitions).  The prompts are longer than
-- 16 KB, the most that one edit still moves.
CREATE TEMP TABLE edit_work (repetitions int, bytes int, suggestion_edits int, bytes_moved bigint);
DO $$
DECLARE
    n int;
    r jsonb;
BEGIN
    FOREACH n IN ARRAY ARRAY[4000, 16000, 64000] LOOP
        r := claudecost.optimize_prompt(repeat('please ', n));
        INSERT INTO edit_work
        SELECT n, octet_length(repeat('please ', n)),
               (SELECT sum((s->>'occurrences')::int)
                FROM jsonb_array_elements(r->'optimization_suggestions') s),
               w.bytes_moved
        FROM claudecost.optimizer_last_work() w;
    END LOOP;
END
$$;
SELECT repetitions, bytes, suggestion_edits, bytes_moved,
       round(bytes_moved::numeric / bytes, 1) AS moved_per_byte,
       bytes_moved < 40 * bytes AS linear
FROM edit_work ORDER BY repetitions;
