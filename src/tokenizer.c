/*
 * tokenizer.c
 *		Token counting, encoding and decoding from SQL and from C.
 *
 * Each encoding's pre-tokenizer pattern is compiled (and JIT-compiled) on
 * first use in a backend and kept in TokenizerContext for the life of the
 * backend; the vocabularies are static tables in the library.  Text in a
 * database encoding other than UTF-8 is converted to UTF-8 on the way in
 * and decoded text converted back on the way out.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pcre2_util.h"
#include "tokenizer.h"
#include "tokenizer_core.h"
#include "tokenizer_nfkc.h"

/*
 * Maximum length of a pre-tokenized piece, in bytes.  A piece is a run
 * without a pre-tokenizer break (no spaces, one script, ...).  Regions keep
 * the merge memory small, but when no safe cut is found the whole piece is
 * merged at once with about 20 bytes of scratch memory per byte, so this
 * bounds that memory at about 320 MB.
 */
#define TOKENIZER_MAX_PIECE (16 * 1024 * 1024)

struct TokenizerEncoding
{
	const TokEncodingDef *def;
	pcre2_code *code;
	pcre2_match_data *match_data;
	pcre2_match_context *match_context;
};

static TokenizerEncoding encodings[8];
static MemoryContext TokenizerContext = NULL;

static void *
tokenizer_realloc(void *context, void *pointer, size_t size)
{
	if (pointer == NULL)
		return MemoryContextAllocExtended((MemoryContext) context, size, MCXT_ALLOC_HUGE);
	return repalloc_huge(pointer, size);
}

static void
tokenizer_free(void *context, void *pointer)
{
	pfree(pointer);
}

static void
tokenizer_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/* Comma-separated names of the encodings, for hints. */
static char *
encoding_names(void)
{
	StringInfoData names;
	int			i;

	initStringInfo(&names);
	for (i = 0; i < tok_n_encodings; i++)
		appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", tok_encodings[i].name);
	return names.data;
}

const TokenizerEncoding *
tokenizer_lookup(const char *name)
{
	const TokEncodingDef *def = tok_find_encoding(name);
	TokenizerEncoding *enc;

	if (def == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized token encoding \"%s\"", name),
				 errhint("Valid encodings are: %s.", encoding_names())));

	enc = &encodings[def - tok_encodings];
	if (enc->code == NULL)
	{
		char		what[64];

		if (TokenizerContext == NULL)
			TokenizerContext = AllocSetContextCreate(TopMemoryContext,
													 "claudecost tokenizer",
													 ALLOCSET_SMALL_SIZES);
		snprintf(what, sizeof(what), "pre-tokenizer of %s", def->name);
		enc->match_data = NULL;
		enc->code = pcre2_util_compile(def->pattern, PCRE2_DOLLAR_ENDONLY, TokenizerContext, what);
		enc->match_data = pcre2_util_match_data(enc->code, TokenizerContext);
		enc->match_context = pcre2_match_context_create(
			pcre2_util_general_context(TokenizerContext));
		tok_set_match_limits(enc->match_context);
		enc->def = def;
	}
	return enc;
}

/*
 * Encodes len bytes of server-encoded text into state, which the caller has
 * initialized; raises on invalid input or a piece too long to merge.
 */
static void
tokenizer_encode(const TokenizerEncoding *enc, BpeState *state, const char *text, size_t len)
{
	const char *utf8 = text;
	size_t		utf8_len = len;
	int			regex_error = 0;
	int			result;

	if (len > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text of %zu bytes is too long to tokenize", len),
				 errdetail("The maximum is %zu bytes.", (size_t) MaxAllocSize)));

	if (GetDatabaseEncoding() != PG_UTF8)
	{
		utf8 = (const char *) pg_do_encoding_conversion((unsigned char *) text, (int) len,
														GetDatabaseEncoding(), PG_UTF8);
		if (utf8 != text)
			utf8_len = strlen(utf8);
	}
	/* PCRE2 runs without its own UTF-8 check, so a C caller's bytes are checked here. */
	(void) pg_verify_mbstr(PG_UTF8, utf8, (int) utf8_len, false);

	if (enc->def->nfkc)
	{
		const char *normalized;
		size_t		normalized_len;

		result = tok_nfkc(utf8, utf8_len, MaxAllocSize - VARHDRSZ, &normalized, &normalized_len);
		if (result == TOK_NFKC_TOO_LARGE)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("NFKC normalization of a text of %zu bytes exceeds the maximum text size", len),
					 errdetail("Encoding %s normalizes the text to NFKC first, which can make it longer; the result may not exceed %zu bytes.",
							   enc->def->name, (size_t) (MaxAllocSize - VARHDRSZ))));
		if (result == TOK_NFKC_RUN_TOO_LONG)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("text contains more than %d characters in a row without an ASCII character, CJK ideograph or Hangul syllable",
							TOK_NFKC_MAX_RUN),
					 errdetail("Encoding %s normalizes the text to NFKC in chunks that end before such a character.",
							   enc->def->name)));
		utf8 = normalized;
		utf8_len = normalized_len;
	}

	state->max_piece_len = TOKENIZER_MAX_PIECE;
	result = tok_encode(enc->def, enc->code, enc->match_data, enc->match_context, state,
						(const unsigned char *) utf8, utf8_len, &regex_error);
	if (result == BPE_PIECE_TOO_LONG)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text contains a piece of more than %d bytes without a pre-tokenizer break",
						TOKENIZER_MAX_PIECE),
				 errdetail("Encoding %s merges each run of letters, digits, punctuation or white space separately, and such a run may not exceed %d bytes.",
						   enc->def->name, TOKENIZER_MAX_PIECE)));
	if (result == TOK_REGEX_ERROR)
	{
		PCRE2_UCHAR message[256];

		pcre2_get_error_message(regex_error, message, sizeof(message));
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("pre-tokenizer of %s failed: %s", enc->def->name, (char *) message)));
	}
}

int64
tokenizer_count(const TokenizerEncoding *enc, const char *text, size_t len)
{
	BpeAllocator allocator = {tokenizer_realloc, tokenizer_free, tokenizer_check_interrupts,
	CurrentMemoryContext};
	BpeState	state;

	bpe_state_init(&state, &allocator, 0);
	tokenizer_encode(enc, &state, text, len);
	bpe_state_free(&state);
	return (int64) state.count;
}

/* Resolves the encoding argument of a SQL function. */
static const TokenizerEncoding *
encoding_argument(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(argno));

	return tokenizer_lookup(name);
}

PG_FUNCTION_INFO_V1(claudecost_token_count);

/* token_count(text, encoding): number of tokens of the text. */
Datum
claudecost_token_count(PG_FUNCTION_ARGS)
{
	text	   *input = PG_GETARG_TEXT_PP(0);
	const TokenizerEncoding *enc = encoding_argument(fcinfo, 1);
	int64		count = tokenizer_count(enc, VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input));

	/* A token has at least one byte, so the count of a text fits in int4. */
	PG_RETURN_INT32((int32) count);
}

PG_FUNCTION_INFO_V1(claudecost_token_encode);

/* token_encode(text, encoding): token ids of the text. */
Datum
claudecost_token_encode(PG_FUNCTION_ARGS)
{
	text	   *input = PG_GETARG_TEXT_PP(0);
	const TokenizerEncoding *enc = encoding_argument(fcinfo, 1);
	BpeAllocator allocator = {tokenizer_realloc, tokenizer_free, tokenizer_check_interrupts,
	CurrentMemoryContext};
	BpeState	state;
	ArrayType  *result;
	size_t		bytes;

	bpe_state_init(&state, &allocator, 1);
	/* Stop storing ids at the array size limit, but count on for the message. */
	state.max_ids = Min((size_t) MaxArraySize,
						(MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(int32));
	tokenizer_encode(enc, &state, VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input));

	if (state.count == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(INT4OID));
	bytes = ARR_OVERHEAD_NONULLS(1) + state.count * sizeof(int32);
	if (state.ids_overflow || state.count > MaxArraySize || bytes > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text of %zu tokens is too long to return as an array",
						state.count),
				 errdetail("An array of token ids may not exceed %zu bytes, about %zu ids.",
						   (size_t) MaxAllocSize,
						   (size_t) (MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(int32)),
				 errhint("Use claudecost.token_count() to count the tokens of a long text.")));

	/* Build the array in place: token ids are non-negative and below 2^31. */
	result = (ArrayType *) palloc(bytes);
	SET_VARSIZE(result, bytes);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = INT4OID;
	*ARR_DIMS(result) = (int) state.count;
	*ARR_LBOUND(result) = 1;
	memcpy((char *) result + ARR_OVERHEAD_NONULLS(1), state.ids, state.count * sizeof(int32));
	bpe_state_free(&state);
	PG_RETURN_ARRAYTYPE_P(result);
}

PG_FUNCTION_INFO_V1(claudecost_token_decode);

/* token_decode(ids, encoding): the text the token ids stand for. */
Datum
claudecost_token_decode(PG_FUNCTION_ARGS)
{
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(0);
	const TokenizerEncoding *enc = encoding_argument(fcinfo, 1);
	const BpeVocab *vocab = enc->def->vocab;
	int			n = ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids));
	const int32 *values;
	size_t		total = 0;
	char	   *utf8;
	size_t		at;
	int			valid;
	int			i;
	text	   *result;

	if (ARR_NDIM(ids) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("token id array must have one dimension, not %d", ARR_NDIM(ids))));
	if (ARR_HASNULL(ids) && array_contains_nulls(ids))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("token id array must not contain nulls")));
	/* ARR_DATA_PTR does not compile cleanly with -Wsign-compare. */
	values = (const int32 *) ((const char *) ids +
							  (ARR_HASNULL(ids) ? (size_t) ids->dataoffset
							   : (size_t) ARR_OVERHEAD_NONULLS(ARR_NDIM(ids))));

	/* Check every id and the output size before copying anything. */
	for (i = 0; i < n; i++)
	{
		size_t		len = 0;

		if (values[i] < 0 || bpe_token_bytes(vocab, (uint32_t) values[i], &len) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid token id %d for encoding %s", values[i], vocab->name),
					 errdetail("Element %d of the array is not a token of %s, whose ids run from 0 to %u with gaps.",
							   i + 1, vocab->name, vocab->n_ids - 1)));
		total += len;
		if (total > MaxAllocSize - VARHDRSZ)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("decoded text exceeds the maximum text size of %zu bytes",
							(size_t) (MaxAllocSize - VARHDRSZ)),
					 errdetail("The first %d token ids already decode to %zu bytes.", i + 1, total)));
		if ((i & 0xffff) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	result = (text *) palloc(total + VARHDRSZ);
	SET_VARSIZE(result, total + VARHDRSZ);
	utf8 = VARDATA(result);
	at = 0;
	for (i = 0; i < n; i++)
	{
		size_t		len;
		const unsigned char *bytes = bpe_token_bytes(vocab, (uint32_t) values[i], &len);

		memcpy(utf8 + at, bytes, len);
		at += len;
	}

	valid = pg_encoding_verifymbstr(PG_UTF8, utf8, (int) total);
	if ((size_t) valid != total)
	{
		size_t		end = 0;

		/* find the token whose bytes contain the first invalid byte */
		for (i = 0; i < n; i++)
		{
			size_t		len;

			(void) bpe_token_bytes(vocab, (uint32_t) values[i], &len);
			end += len;
			if (end > (size_t) valid)
				break;
		}
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("token ids do not decode to valid UTF-8"),
				 errdetail("The bytes of token id %d (element %d) start or complete an invalid UTF-8 sequence at byte %d of the decoded text.",
						   values[i], i + 1, valid)));
	}

	if (GetDatabaseEncoding() != PG_UTF8)
		PG_RETURN_TEXT_P(cstring_to_text((char *) pg_do_encoding_conversion((unsigned char *) utf8,
																			  (int) total, PG_UTF8,
																			  GetDatabaseEncoding())));
	PG_RETURN_TEXT_P(result);
}
