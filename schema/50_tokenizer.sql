-- Tokenizer: exact byte-pair encoding for cl100k_base and o200k_base
-- (tiktoken's encode_ordinary) and claude_legacy (@anthropic-ai/tokenizer's
-- countTokens: NFKC first, its five special tokens recognized).  See
-- src/tokenizer.c and docs/tokenizer.md.

CREATE FUNCTION claudecost.token_count(input text, encoding text DEFAULT 'cl100k_base')
RETURNS integer
AS 'MODULE_PATHNAME', 'claudecost_token_count'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION claudecost.token_count(text, text) IS
    'Number of tokens of the text in the encoding (cl100k_base, o200k_base or claude_legacy)';

CREATE FUNCTION claudecost.token_encode(input text, encoding text DEFAULT 'cl100k_base')
RETURNS integer[]
AS 'MODULE_PATHNAME', 'claudecost_token_encode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION claudecost.token_encode(text, text) IS
    'Token ids of the text in the encoding (cl100k_base, o200k_base or claude_legacy)';

CREATE FUNCTION claudecost.token_decode(ids integer[], encoding text DEFAULT 'cl100k_base')
RETURNS text
AS 'MODULE_PATHNAME', 'claudecost_token_decode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION claudecost.token_decode(integer[], text) IS
    'Text of the token ids in the encoding; raises on an invalid id or bytes that are not UTF-8';
