/*
 * tokenizer.h
 *		Exact byte-pair encoding (cl100k_base, o200k_base, claude_legacy).
 *
 * The vocabularies are compiled into the shared library as read-only tables,
 * and the pre-tokenizer patterns are JIT-compiled once per backend on first
 * use, so a lookup costs nothing after the first call in a backend.
 */
#ifndef TOKENIZER_H
#define TOKENIZER_H

/* One encoding: vocabulary, pre-tokenizer pattern and special tokens. */
typedef struct TokenizerEncoding TokenizerEncoding;

/*
 * Returns the encoding named name ("cl100k_base", "o200k_base",
 * "claude_legacy").  Raises ERRCODE_INVALID_PARAMETER_VALUE for any other
 * name, with a hint listing the valid names.
 */
extern const TokenizerEncoding *tokenizer_lookup(const char *name);

/*
 * Counts the tokens of len bytes of text in the database encoding, which
 * need not be NUL-terminated.  Text in an encoding other than UTF-8 is
 * converted to UTF-8 first.  Raises on invalid bytes, on a run of more than
 * 16 MB without a pre-tokenizer break, and on cancel (it checks for
 * interrupts).
 * cl100k_base and o200k_base treat special-token text as ordinary text
 * (tiktoken's encode_ordinary).  claude_legacy applies NFKC first and
 * encodes its five special tokens as single ids, as the countTokens()
 * function of @anthropic-ai/tokenizer does.
 */
extern int64 tokenizer_count(const TokenizerEncoding *enc, const char *text, size_t len);

#endif							/* TOKENIZER_H */
