/*
 * tokenizer_core.c
 *		Encoding definitions and the pre-tokenize-then-merge driver.
 *
 * The patterns are tiktoken's (cl100k_base in the possessive form that
 * Python tiktoken 0.8 ships, which gives the same pieces without
 * backtracking), with one change: tiktoken's regex engine reads \s as the
 * Unicode White_Space property, while PCRE2 with PCRE2_UCP also counts
 * U+180E, so \s and \S are spelled out as the White_Space class.
 */
#include "tokenizer_core.h"

/* Unicode White_Space, the meaning of \s in tiktoken's regex engine. */
#define WS "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

static const char cl100k_pattern[] =
"'(?i:[sdmt]|ll|ve|re)"
"|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++"
"|\\p{N}{1,3}+"
"| ?[^" WS "\\p{L}\\p{N}]++[\\r\\n]*+"
"|[" WS "]++$"
"|[" WS "]*[\\r\\n]"
"|[" WS "]+(?![^" WS "])"
"|[" WS "]";

static const char o200k_pattern[] =
"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
"|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
"|\\p{N}{1,3}"
"| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n/]*"
"|[" WS "]*[\\r\\n]+"
"|[" WS "]+(?![^" WS "])"
"|[" WS "]+";

static const char claude_legacy_pattern[] =
"'s|'t|'re|'ve|'m|'ll|'d"
"| ?\\p{L}+"
"| ?\\p{N}+"
"| ?[^" WS "\\p{L}\\p{N}]+"
"|[" WS "]+(?![^" WS "])"
"|[" WS "]+";

/* The five special tokens of @anthropic-ai/tokenizer, encoded as in countTokens(). */
static const TokSpecial claude_legacy_specials[] = {
	{"<EOT>", 0},
	{"<META>", 1},
	{"<META_START>", 2},
	{"<META_END>", 3},
	{"<SOS>", 4},
};

const TokEncodingDef tok_encodings[] = {
	{"cl100k_base", &bpe_vocab_cl100k_base, cl100k_pattern, 0, 0, NULL},
	{"o200k_base", &bpe_vocab_o200k_base, o200k_pattern, 0, 0, NULL},
	{"claude_legacy", &bpe_vocab_claude_legacy, claude_legacy_pattern, 1,
	 (int) (sizeof(claude_legacy_specials) / sizeof(claude_legacy_specials[0])),
	claude_legacy_specials},
};

const int	tok_n_encodings = (int) (sizeof(tok_encodings) / sizeof(tok_encodings[0]));

const TokEncodingDef *
tok_find_encoding(const char *name)
{
	int			i;

	for (i = 0; i < tok_n_encodings; i++)
		if (strcmp(tok_encodings[i].name, name) == 0)
			return &tok_encodings[i];
	return NULL;
}

void
tok_set_match_limits(pcre2_match_context *match_context)
{
	pcre2_set_match_limit(match_context, UINT32_MAX);
}

/* Encodes one stretch without special tokens with the pattern and BPE. */
static int
encode_ordinary(const TokEncodingDef *def, const pcre2_code *code,
				pcre2_match_data *match_data, pcre2_match_context *match_context,
				BpeState *state,
				const unsigned char *text, size_t len, int *regex_error)
{
	PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(match_data);
	size_t		offset = 0;
	unsigned	pieces = 0;

	while (offset < len)
	{
		int			rc;
		int			result;

		rc = pcre2_match(code, text, len, offset, PCRE2_NO_UTF_CHECK, match_data, match_context);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0)
		{
			*regex_error = rc;
			return TOK_REGEX_ERROR;
		}
		/* Every alternative consumes at least one character. */
		result = bpe_encode_piece(def->vocab, state, text + ovector[0], ovector[1] - ovector[0]);
		if (result != BPE_OK)
			return result;
		offset = ovector[1];
		if (state->allocator->check_interrupts != NULL && (++pieces & 0x3ff) == 0)
			state->allocator->check_interrupts();
	}
	return BPE_OK;
}

/* Finds the leftmost input special token at or after text; NULL if none. */
static const unsigned char *
find_special(const TokEncodingDef *def, const unsigned char *text, size_t len,
			 const TokSpecial **found)
{
	const unsigned char *end = text + len;
	const unsigned char *p = text;

	while (p < end && (p = memchr(p, '<', (size_t) (end - p))) != NULL)
	{
		int			i;

		for (i = 0; i < def->n_input_specials; i++)
		{
			size_t		special_len = strlen(def->input_specials[i].text);

			if ((size_t) (end - p) >= special_len &&
				memcmp(p, def->input_specials[i].text, special_len) == 0)
			{
				*found = &def->input_specials[i];
				return p;
			}
		}
		p++;
	}
	return NULL;
}

int
tok_encode(const TokEncodingDef *def, const pcre2_code *code,
		   pcre2_match_data *match_data, pcre2_match_context *match_context,
		   BpeState *state, const unsigned char *text, size_t len, int *regex_error)
{
	const unsigned char *end = text + len;

	while (def->n_input_specials > 0)
	{
		const TokSpecial *special = NULL;
		const unsigned char *at = find_special(def, text, (size_t) (end - text), &special);
		int			result;

		if (at == NULL)
			break;
		result = encode_ordinary(def, code, match_data, match_context, state, text,
								 (size_t) (at - text), regex_error);
		if (result != BPE_OK)
			return result;
		bpe_emit(state, special->id);
		text = at + strlen(special->text);
	}
	return encode_ordinary(def, code, match_data, match_context, state, text,
						   (size_t) (end - text), regex_error);
}
