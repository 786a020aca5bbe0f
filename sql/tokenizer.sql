-- Tokenizer edge cases: token_count, token_encode and token_decode in the
-- three encodings, their errors and their size limits.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

CREATE TEMP TABLE sample (label text, input text);
INSERT INTO sample VALUES
    ('empty', ''),
    ('one space', ' '),
    ('space run', '          '),
    ('newline run', E'\n\n\n\n'),
    ('crlf and tabs', E'a\r\n\tb\t\t\r\n'),
    ('trailing blanks', E'end   \n  '),
    ('space before word', E'x    y'),
    ('unicode spaces', E'a\u00a0b\u2009c\u3000d\u0085e\u180ef\ufeffg'),
    ('contractions', E'I''m sure they''RE here, we''ll see, she''D go, it''s'),
    ('contraction edges', E'''s ''lll ''re''re ''''s'),
    ('curly apostrophe', E'don\u2019t'),
    ('digits', '1 12 123 1234 1234567 3.14159 -42 1,000,000'),
    ('non-ascii digits', E'\u0661\u0662\u0663 \u0967\u0968\u0969'),
    ('cjk', E'\u4f60\u597d\uff0c\u4e16\u754c\u3002\u3053\u3093\u306b\u3061\u306f \uc548\ub155\ud558\uc138\uc694'),
    ('emoji zwj family', E'\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466'),
    ('emoji skin tone flag', E'\U0001F44D\U0001F3FD \U0001F1EF\U0001F1F5'),
    ('combining marks nfc', E'caf\u00e9'),
    ('combining marks nfd', E'cafe\u0301'),
    ('leading combining mark', E'\u0301abc'),
    ('compatibility chars', E'\ufb01 \u2122 \uff2b \u212a \u00bd'),
    ('openai special text', '<|endoftext|> <|fim_prefix|>'),
    ('claude special text', '<EOT><META>x<META_START><META_END><SOS>'),
    ('garbled special text', '<EOT <META_STAR> <|endoftext| <sos>'),
    ('code', E'int main(void)\n{\n\treturn 0;\n}\n');

-- Counts in every encoding.
SELECT label,
       claudecost.token_count(input) AS cl100k,
       claudecost.token_count(input, 'o200k_base') AS o200k,
       claudecost.token_count(input, 'claude_legacy') AS claude_legacy
FROM sample
ORDER BY label COLLATE "C";

-- Ids in every encoding.
SELECT label,
       claudecost.token_encode(input, 'cl100k_base') AS cl100k,
       claudecost.token_encode(input, 'o200k_base') AS o200k,
       claudecost.token_encode(input, 'claude_legacy') AS claude_legacy
FROM sample
ORDER BY label COLLATE "C";

-- decode(encode(x)) = x, and = NFKC(x) for claude_legacy; count = length of the ids.
SELECT label
FROM sample
WHERE claudecost.token_decode(claudecost.token_encode(input, 'cl100k_base'), 'cl100k_base') <> input
   OR claudecost.token_decode(claudecost.token_encode(input, 'o200k_base'), 'o200k_base') <> input
   OR claudecost.token_decode(claudecost.token_encode(input, 'claude_legacy'), 'claude_legacy')
      <> normalize(input, NFKC)
   OR claudecost.token_count(input, 'o200k_base')
      <> pg_catalog.cardinality(claudecost.token_encode(input, 'o200k_base'))
ORDER BY label COLLATE "C";

-- NFKC makes the two spellings of café one text for claude_legacy only.
SELECT claudecost.token_encode(E'cafe\u0301', 'claude_legacy') =
       claudecost.token_encode(E'caf\u00e9', 'claude_legacy') AS legacy_same,
       claudecost.token_encode(E'cafe\u0301', 'cl100k_base') =
       claudecost.token_encode(E'caf\u00e9', 'cl100k_base') AS cl100k_same;

-- Special token ids decode to their text; each encoding has its own.
SELECT claudecost.token_decode('{100257,100258,100259,100260,100276}') AS cl100k,
       claudecost.token_decode('{199999,200018}', 'o200k_base') AS o200k,
       claudecost.token_decode('{0,1,2,3,4}', 'claude_legacy') AS claude_legacy,
       claudecost.token_decode('{}') AS empty;

-- Byte-level tokens join into valid UTF-8 only together.
SELECT claudecost.token_encode(E'\U0001F600') AS grinning_ids,
       claudecost.token_decode(claudecost.token_encode(E'\U0001F600')) AS grinning;

-- Long pieces (100 KB here) are merged in regions, exactly.
SELECT claudecost.token_count(pg_catalog.repeat('a', 100000)) AS a_run,
       claudecost.token_count(pg_catalog.repeat(' ', 100000), 'o200k_base') AS space_run,
       claudecost.token_count(pg_catalog.repeat('9', 100000), 'claude_legacy') AS digit_run,
       claudecost.token_decode(claudecost.token_encode(pg_catalog.repeat('ab', 50000)))
           = pg_catalog.repeat('ab', 50000) AS round_trip;

-- NULL arguments give NULL.
SELECT claudecost.token_count(NULL) IS NULL AS count_null,
       claudecost.token_encode('x', NULL) IS NULL AS encode_null,
       claudecost.token_decode(NULL) IS NULL AS decode_null;

-- Errors.
SELECT claudecost.token_count('x', 'p50k_base');
SELECT :'LAST_ERROR_SQLSTATE' AS unrecognized_encoding_sqlstate;
SELECT claudecost.token_encode('x', '');
SELECT claudecost.token_decode('{1}', 'CL100K_BASE');
SELECT claudecost.token_decode('{100256}');
SELECT :'LAST_ERROR_SQLSTATE' AS invalid_id_sqlstate;
SELECT claudecost.token_decode('{15339,-1}');
SELECT claudecost.token_decode('{200019}', 'o200k_base');
SELECT claudecost.token_decode('{65000}', 'claude_legacy');
SELECT claudecost.token_decode('{15339,NULL}');
SELECT claudecost.token_decode('{{15339},{1917}}');
-- 171 is the byte 0xF0, the lead byte of a four-byte sequence.
SELECT claudecost.token_decode('{15339,171}');
SELECT claudecost.token_decode('{171,15339}');
SELECT :'LAST_ERROR_SQLSTATE' AS invalid_utf8_sqlstate;

-- Size limits: decoded text larger than 1 GB, a piece over 16 MB.
-- claude_legacy has a token of 1024 spaces; 1048576 of them decode to 1 GiB.
SELECT claudecost.token_decode(
           pg_catalog.array_fill((claudecost.token_encode(pg_catalog.repeat(' ', 1024), 'claude_legacy'))[1],
                                 ARRAY[1048576]),
           'claude_legacy');
SELECT :'LAST_ERROR_SQLSTATE' AS text_too_long_sqlstate;
SELECT claudecost.token_count(pg_catalog.repeat('a', 16 * 1024 * 1024 + 1));
SELECT :'LAST_ERROR_SQLSTATE' AS piece_too_long_sqlstate;
SELECT claudecost.token_count(pg_catalog.repeat('a', 16 * 1024 * 1024 + 1), 'claude_legacy');
SELECT claudecost.token_count(pg_catalog.repeat('A', 16 * 1024 * 1024 + 1), 'o200k_base');
-- o200k_base backtracks once over a run of capitals; 12 million exceed PCRE2's default match limit.
SELECT claudecost.token_count(pg_catalog.repeat('A', 12000000), 'o200k_base') AS capitals;

-- A long count is cancellable: the statement timeout fires inside the encoder.
CREATE TEMP TABLE big (t text);
ALTER TABLE big ALTER COLUMN t SET STORAGE EXTERNAL;
INSERT INTO big SELECT pg_catalog.repeat('hello world ', 6 * 1024 * 1024);
SET statement_timeout = '300ms';
SELECT claudecost.token_count(t) FROM big;
RESET statement_timeout;

-- A cancel also stops the merge inside one long piece.  The piece is first
-- counted without a timeout.  With a statement timeout of a tenth of that
-- time, the count must end in less than half of it, which it cannot do
-- unless the merge loops check for interrupts.  The piece is 16 MB of
-- letters a to p that do not repeat, because a run of one letter is merged
-- once and copied region by region, which leaves the merge loops little to
-- interrupt.
CREATE TEMP TABLE piece (t text);
ALTER TABLE piece ALTER COLUMN t SET STORAGE EXTERNAL;
INSERT INTO piece
SELECT pg_catalog.string_agg(pg_catalog.translate(pg_catalog.md5(i::text), '0123456789', 'ghijklmnop'), '')
FROM pg_catalog.generate_series(1, 500000) AS i;
CREATE FUNCTION pg_temp.timed_piece_count(OUT tokens integer, OUT elapsed_ms float8)
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := pg_catalog.clock_timestamp();
BEGIN
    SELECT claudecost.token_count(p.t) INTO tokens FROM piece AS p;
    elapsed_ms := extract(epoch FROM pg_catalog.clock_timestamp() - started) * 1000;
END
$$;
-- Returns the milliseconds until the count was cancelled, or NULL when it finished.
CREATE FUNCTION pg_temp.cancelled_piece_count() RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := pg_catalog.clock_timestamp();
BEGIN
    PERFORM claudecost.token_count(p.t) FROM piece AS p;
    RETURN NULL;
EXCEPTION WHEN query_canceled THEN
    RETURN extract(epoch FROM pg_catalog.clock_timestamp() - started) * 1000;
END
$$;
CREATE TEMP TABLE full_count AS SELECT * FROM pg_temp.timed_piece_count();
SELECT tokens FROM full_count;
SELECT pg_catalog.set_config('statement_timeout',
                             GREATEST(10, (elapsed_ms / 10)::integer)::text, false)
       IS NOT NULL AS timeout_set
FROM full_count;
SELECT c.elapsed_ms IS NOT NULL AS cancelled,
       c.elapsed_ms < f.elapsed_ms / 2 AS cancelled_early
FROM (SELECT pg_temp.cancelled_piece_count() AS elapsed_ms) AS c, full_count AS f;
RESET statement_timeout;
