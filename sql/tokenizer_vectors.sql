-- Conformance of the tokenizer with tiktoken 1.0.22 (cl100k_base,
-- o200k_base: encode_ordinary) and @anthropic-ai/tokenizer 0.0.4
-- (claude_legacy: countTokens), on the vectors in data/tokenizer-vectors/.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS claudecost CASCADE;
CREATE EXTENSION claudecost;
RESET client_min_messages;

CREATE TEMP TABLE vector_line (line_number serial, line text);
-- CSV with quote and delimiter characters that JSON Lines never contain reads each line verbatim.
\copy vector_line (line) FROM 'data/tokenizer-vectors/cl100k_base.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
\copy vector_line (line) FROM 'data/tokenizer-vectors/o200k_base.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
\copy vector_line (line) FROM 'data/tokenizer-vectors/claude_legacy.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')

CREATE TEMP TABLE vector AS
SELECT line_number,
       v->>'encoding' AS encoding,
       v->>'text' AS input,
       ARRAY(SELECT pg_catalog.jsonb_array_elements_text(v->'ids')::integer) AS ids,
       (v->>'count')::integer AS expected_count
FROM (SELECT line_number, line::jsonb AS v FROM vector_line) AS parsed;

CREATE TEMP TABLE result AS
SELECT line_number, encoding, input, ids, expected_count,
       claudecost.token_encode(input, encoding) AS encoded,
       claudecost.token_count(input, encoding) AS counted
FROM vector;

-- Every vector: identical ids, identical count, and decode(encode(x)) = x
-- (the NFKC form of x for claude_legacy, which normalizes first).
SELECT encoding,
       count(*) AS cases,
       count(*) FILTER (WHERE encoded = ids) AS ids_equal,
       count(*) FILTER (WHERE counted = expected_count) AS counts_equal,
       count(*) FILTER (WHERE claudecost.token_decode(encoded, encoding) =
                        CASE WHEN encoding = 'claude_legacy'
                             THEN normalize(input, NFKC) ELSE input END) AS round_trips
FROM result
GROUP BY encoding
ORDER BY encoding COLLATE "C";

-- Any mismatch is listed here with its line.
SELECT line_number, encoding, pg_catalog.left(input, 40) AS input_start,
       pg_catalog.cardinality(ids) AS expected_ids, pg_catalog.cardinality(encoded) AS got_ids
FROM result
WHERE encoded IS DISTINCT FROM ids OR counted IS DISTINCT FROM expected_count
ORDER BY encoding COLLATE "C", line_number;
