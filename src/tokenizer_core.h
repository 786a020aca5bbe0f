/*
 * tokenizer_core.h
 *		Encoding definitions and the pre-tokenize-then-merge driver.
 *
 * Plain C plus PCRE2, shared by the extension, the standalone benchmark and
 * the fuzz harness.  The caller compiles the pattern (with its own
 * allocator) and applies NFKC normalization when the definition asks for it.
 */
#ifndef TOKENIZER_CORE_H
#define TOKENIZER_CORE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "bpe.h"

/* Options to compile every tokenizer pattern with. */
#define TOK_PATTERN_OPTIONS (PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY)

typedef struct TokSpecial
{
	const char *text;
	uint32_t	id;
} TokSpecial;

typedef struct TokEncodingDef
{
	const char *name;
	const BpeVocab *vocab;
	const char *pattern;		/* PCRE2 syntax */
	int			nfkc;			/* normalize to NFKC before encoding */
	int			n_input_specials;	/* special tokens recognized in the input */
	const TokSpecial *input_specials;
} TokEncodingDef;

extern const TokEncodingDef tok_encodings[];
extern const int tok_n_encodings;

/* Returns the definition named name, or NULL. */
extern const TokEncodingDef *tok_find_encoding(const char *name);

/* Result codes of tok_encode, beyond BPE_OK and BPE_PIECE_TOO_LONG. */
#define TOK_REGEX_ERROR 2

/*
 * Encodes len bytes of valid UTF-8 (already NFKC-normalized when def->nfkc)
 * into state.  Input special tokens become their ids; the pattern is applied
 * to each stretch between them on its own, as tiktoken does.  match_context
 * comes from tok_set_match_limits.  On
 * TOK_REGEX_ERROR, *regex_error holds PCRE2's error code.  The text must have
 * been validated: PCRE2 is called with PCRE2_NO_UTF_CHECK.
 */
extern int	tok_encode(const TokEncodingDef *def, const pcre2_code *code,
					   pcre2_match_data *match_data, pcre2_match_context *match_context,
					   BpeState *state, const unsigned char *text, size_t len,
					   int *regex_error);

/*
 * Sets the limits a match context needs for these patterns.  The o200k_base
 * pattern backtracks once over a run of capital letters, one step per
 * character, so PCRE2's default match limit of ten million steps would
 * reject a run of ten million capitals; the limit is raised to the maximum,
 * and the work stays linear in the run.
 */
extern void tok_set_match_limits(pcre2_match_context *match_context);

#endif							/* TOKENIZER_CORE_H */
