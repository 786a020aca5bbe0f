/*
 * standalone.h
 *		The tokenizer outside PostgreSQL: malloc allocator, pattern cache and
 *		NFKC, shared by the standalone benchmark and the fuzz harness.
 */
#ifndef STANDALONE_H
#define STANDALONE_H

#include "tokenizer_core.h"

typedef struct StandaloneEncoding
{
	const TokEncodingDef *def;
	pcre2_code *code;
	pcre2_match_data *match_data;
	pcre2_match_context *match_context;
} StandaloneEncoding;

/* Compiles the pattern of the named encoding; exits on an unknown name. */
extern StandaloneEncoding *standalone_encoding(const char *name);

/*
 * Encodes text (NFKC first when the encoding requires it) into state, which
 * the caller initialized with standalone_allocator.  Exits on any error.
 */
extern void standalone_encode(StandaloneEncoding *enc, BpeState *state,
							  const char *text, size_t len);

/* Returns the NFKC form of text (text itself when unchanged). */
extern const char *standalone_nfkc(const char *text, size_t len, size_t *out_len);

extern const BpeAllocator standalone_allocator;

#endif							/* STANDALONE_H */
