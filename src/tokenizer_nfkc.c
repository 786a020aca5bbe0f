/*
 * tokenizer_nfkc.c
 *		NFKC normalization of UTF-8 text of any size, in bounded chunks.
 *
 * PostgreSQL's unicode_normalize() works on a NUL-terminated array of code
 * points and allocates several times its input, so a text of a few hundred
 * megabytes would exceed the 1 GB allocation limit.  The text is therefore
 * normalized in chunks of about CHUNK_CHARS code points, cut just before a
 * code point that can neither combine with nor reorder around what precedes
 * it: an ASCII character, a CJK unified ideograph or a precomposed Hangul
 * syllable.  Each is a starter (canonical combining class 0) that is its own
 * NFKC form and is never the second code point of a canonical composition,
 * so normalizing the chunks apart gives the same result as normalizing the
 * whole.  Compiled with FRONTEND defined, this file links against
 * libpgcommon for the standalone benchmark and fuzz harness.
 */
#ifdef FRONTEND
#include "postgres_fe.h"
#define repalloc_huge repalloc
#else
#include "postgres.h"
#endif

#include "common/unicode_norm.h"
#include "mb/pg_wchar.h"

#include "tokenizer_nfkc.h"

#define CHUNK_CHARS (64 * 1024)

/* True when normalization may cut the text just before code point c. */
static inline bool
is_chunk_boundary(pg_wchar c)
{
	return c < 0x80 ||
		(c >= 0x4E00 && c <= 0x9FFF) ||
		(c >= 0xAC00 && c <= 0xD7A3);
}

/*
 * True for code points that are their own NFKC form, are starters and never
 * compose with a neighbour of this set: ASCII, the ideographic full stop
 * and comma, hiragana and katakana letters, CJK unified ideographs and
 * Hangul syllables.  A chunk made only of these is already normalized.
 */
static inline bool
is_stable(pg_wchar c)
{
	return c < 0x80 ||
		(c >= 0x3001 && c <= 0x3002) ||
		(c >= 0x3041 && c <= 0x3096) ||
		(c >= 0x30A1 && c <= 0x30FA) ||
		(c >= 0x4E00 && c <= 0x9FFF) ||
		(c >= 0xAC00 && c <= 0xD7A3);
}

typedef struct OutputBuffer
{
	char	   *data;
	size_t		len;
	size_t		capacity;
	size_t		max;
} OutputBuffer;

/* Appends bytes; returns false when the buffer would exceed its maximum. */
static bool
output_append(OutputBuffer *buffer, const char *bytes, size_t len)
{
	if (len > buffer->max - buffer->len)
		return false;
	if (buffer->len + len > buffer->capacity)
	{
		size_t		capacity = buffer->capacity;

		while (capacity < buffer->len + len)
			capacity *= 2;
		if (capacity > buffer->max)
			capacity = buffer->max;
		buffer->data = repalloc_huge(buffer->data, capacity);
		buffer->capacity = capacity;
	}
	memcpy(buffer->data + buffer->len, bytes, len);
	buffer->len += len;
	return true;
}

/* Normalizes code points chars[0 .. n) and appends the UTF-8 result. */
static bool
normalize_chunk(OutputBuffer *buffer, pg_wchar *chars, size_t n,
				const char *original, size_t original_len)
{
	pg_wchar   *normalized;
	unsigned char utf8[8];
	bool		ok = true;
	size_t		i;

	for (i = 0; i < n && is_stable(chars[i]); i++)
		;
	if (i == n)
		return output_append(buffer, original, original_len);

	chars[n] = 0;
#ifdef FRONTEND
	(void) original;
	(void) original_len;
#else
	if (unicode_is_normalized_quickcheck(UNICODE_NFKC, chars) == UNICODE_NORM_QC_YES)
		return output_append(buffer, original, original_len);
#endif
	normalized = unicode_normalize(UNICODE_NFKC, chars);
	for (i = 0; ok && normalized[i] != 0; i++)
	{
		unsigned char *end = unicode_to_utf8(normalized[i], utf8);

		ok = output_append(buffer, (const char *) utf8,
						   (size_t) pg_utf_mblen(utf8));
		(void) end;
	}
	pfree(normalized);
	return ok;
}

int
tok_nfkc(const char *text, size_t len, size_t max_output,
		 const char **out, size_t *out_len)
{
	const unsigned char *bytes = (const unsigned char *) text;
	OutputBuffer buffer;
	pg_wchar   *chars;
	size_t		chars_capacity = CHUNK_CHARS + 1;
	size_t		i;
	size_t		chunk_start;
	size_t		n_chars;
	int			result = TOK_NFKC_OK;

	/* ASCII is its own NFKC form. */
	for (i = 0; i < len && bytes[i] < 0x80; i++)
		;
	if (i == len)
	{
		*out = text;
		*out_len = len;
		return TOK_NFKC_OK;
	}

	buffer.capacity = len + 16 < max_output ? len + 16 : max_output;
	buffer.data = palloc_extended(buffer.capacity, MCXT_ALLOC_HUGE);
	buffer.len = 0;
	buffer.max = max_output;
	chars = palloc(chars_capacity * sizeof(pg_wchar));

	/* Copy the ASCII prefix, minus its last character, which may be a base for what follows. */
	if (i > 1 && !output_append(&buffer, text, i - 1))
		result = TOK_NFKC_TOO_LARGE;
	chunk_start = i > 0 ? i - 1 : 0;
	i = chunk_start;
	n_chars = 0;
	while (result == TOK_NFKC_OK && i < len)
	{
		pg_wchar	c = utf8_to_unicode(bytes + i);

		if (n_chars >= CHUNK_CHARS && is_chunk_boundary(c))
		{
			if (!normalize_chunk(&buffer, chars, n_chars, text + chunk_start, i - chunk_start))
				result = TOK_NFKC_TOO_LARGE;
			chunk_start = i;
			n_chars = 0;
		}
		if (n_chars + 1 >= chars_capacity)
		{
			if (n_chars >= TOK_NFKC_MAX_RUN)
			{
				result = TOK_NFKC_RUN_TOO_LONG;
				break;
			}
			chars_capacity *= 2;
			chars = repalloc(chars, chars_capacity * sizeof(pg_wchar));
		}
		chars[n_chars++] = c;
		i += pg_utf_mblen(bytes + i);
	}
	if (result == TOK_NFKC_OK && n_chars > 0 &&
		!normalize_chunk(&buffer, chars, n_chars, text + chunk_start, len - chunk_start))
		result = TOK_NFKC_TOO_LARGE;
	pfree(chars);
	if (result != TOK_NFKC_OK)
	{
		pfree(buffer.data);
		return result;
	}
	*out = buffer.data;
	*out_len = buffer.len;
	return TOK_NFKC_OK;
}
