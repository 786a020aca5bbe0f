/*
 * standalone.c
 *		The tokenizer outside PostgreSQL: malloc allocator, pattern cache and
 *		NFKC, shared by the standalone benchmark and the fuzz harness.
 */
#include "postgres_fe.h"

#include <stdio.h>
#include <stdlib.h>

#include "standalone.h"
#include "tokenizer_nfkc.h"

static void *
standalone_realloc(void *context, void *pointer, size_t size)
{
	void	   *result = realloc(pointer, size);

	if (result == NULL)
	{
		fprintf(stderr, "out of memory allocating %zu bytes\n", size);
		abort();
	}
	return result;
}

static void
standalone_free(void *context, void *pointer)
{
	free(pointer);
}

const BpeAllocator standalone_allocator = {standalone_realloc, standalone_free, NULL, NULL};

StandaloneEncoding *
standalone_encoding(const char *name)
{
	static StandaloneEncoding cache[8];
	const TokEncodingDef *def = tok_find_encoding(name);
	int			index;
	int			error_code;
	PCRE2_SIZE	error_offset;

	if (def == NULL)
	{
		fprintf(stderr, "unrecognized encoding \"%s\"\n", name);
		exit(2);
	}
	index = (int) (def - tok_encodings);
	if (cache[index].def != NULL)
		return &cache[index];
	cache[index].def = def;
	cache[index].code = pcre2_compile((PCRE2_SPTR) def->pattern, PCRE2_ZERO_TERMINATED,
									  TOK_PATTERN_OPTIONS, &error_code, &error_offset, NULL);
	if (cache[index].code == NULL)
	{
		fprintf(stderr, "pattern of %s does not compile: error %d at %zu\n",
				name, error_code, (size_t) error_offset);
		exit(2);
	}
	if (pcre2_jit_compile(cache[index].code, PCRE2_JIT_COMPLETE) != 0)
		fprintf(stderr, "warning: no JIT for %s\n", name);
	cache[index].match_data = pcre2_match_data_create_from_pattern(cache[index].code, NULL);
	cache[index].match_context = pcre2_match_context_create(NULL);
	tok_set_match_limits(cache[index].match_context);
	return &cache[index];
}

const char *
standalone_nfkc(const char *text, size_t len, size_t *out_len)
{
	const char *normalized;
	int			result = tok_nfkc(text, len, (size_t) 0x3fffffff, &normalized, out_len);

	if (result != TOK_NFKC_OK)
	{
		fprintf(stderr, "NFKC normalization failed with code %d\n", result);
		exit(2);
	}
	return normalized;
}

void
standalone_encode(StandaloneEncoding *enc, BpeState *state, const char *text, size_t len)
{
	const char *input = text;
	size_t		input_len = len;
	int			regex_error = 0;
	int			result;

	if (enc->def->nfkc)
		input = standalone_nfkc(text, len, &input_len);
	result = tok_encode(enc->def, enc->code, enc->match_data, enc->match_context, state,
						(const unsigned char *) input, input_len, &regex_error);
	if (result != BPE_OK)
	{
		fprintf(stderr, "encoding failed with code %d (PCRE2 error %d)\n", result, regex_error);
		exit(2);
	}
	if (input != text)
		pfree((void *) input);
}
