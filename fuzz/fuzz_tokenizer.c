/*
 * fuzz_tokenizer.c
 *		libFuzzer harness: encode/decode round trip of the tokenizer.
 *
 * The first input byte picks the encoding (byte % 3) and, when its top four
 * bits are set, repeats the rest to about 32 KB, which sends long pieces
 * through the region merge (pieces of 24 KB or more); the rest,
 * with invalid UTF-8 bytes replaced by '?', is the text.  The harness aborts
 * (so libFuzzer reports a crash) when
 *	- decoding the ids does not give back the text (its NFKC form for
 *	  claude_legacy),
 *	- the merge algorithms (scan, binary heap, bucket queue, regions)
 *	  disagree on any id, or
 *	- counting without storing ids gives another number.
 * Built with ASan, UBSan and LeakSanitizer by tools/fuzz-tokenizer.sh.
 */
#include "postgres_fe.h"

#include <stdio.h>
#include <stdlib.h>

#include "standalone.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const encodings[] = {"cl100k_base", "o200k_base", "claude_legacy"};

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_sequence(const unsigned char *s, size_t n)
{
	size_t		len;
	size_t		i;
	uint32_t	c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
		(len == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	return len;
}

static void
fail(const char *what, const char *encoding, size_t len)
{
	fprintf(stderr, "tokenizer mismatch: %s (%s, %zu bytes)\n", what, encoding, len);
	abort();
}

static void
encode_with(StandaloneEncoding *enc, BpeState *state, int merge_mode, int store_ids,
			const char *text, size_t len)
{
	bpe_state_init(state, &standalone_allocator, store_ids);
	state->merge_mode = merge_mode;
	standalone_encode(enc, state, text, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *encoding;
	StandaloneEncoding *enc;
	char	   *text;
	size_t		len = 0;
	size_t		i;
	size_t		copies = 1;
	BpeState	reference;
	BpeState	other;
	const char *expected;
	size_t		expected_len;
	char	   *decoded;
	size_t		decoded_len = 0;
	int			mode;

	if (size == 0)
		return 0;
	encoding = encodings[data[0] % 3];
	enc = standalone_encoding(encoding);
	if ((data[0] & 0xF0) == 0xF0 && size > 1)
		copies = 32 * 1024 / (size - 1) + 1;

	text = malloc((size - 1) * copies + 1);
	for (i = 1; i < size;)
	{
		size_t		n = utf8_sequence(data + i, size - i);

		if (n == 0)
		{
			text[len++] = '?';
			i++;
			continue;
		}
		memcpy(text + len, data + i, n);
		len += n;
		i += n;
	}
	for (i = 1; i < copies; i++)
		memcpy(text + i * len, text, len);
	len *= copies;
	text[len] = '\0';

	encode_with(enc, &reference, BPE_MERGE_AUTO, 1, text, len);

	/* round trip */
	expected = text;
	expected_len = len;
	if (enc->def->nfkc)
		expected = standalone_nfkc(text, len, &expected_len);
	decoded = malloc(expected_len + 1);
	for (i = 0; i < reference.count; i++)
	{
		size_t		token_len;
		const unsigned char *bytes = bpe_token_bytes(enc->def->vocab, reference.ids[i], &token_len);

		if (bytes == NULL)
			fail("invalid id", encoding, len);
		if (decoded_len + token_len > expected_len)
			fail("decoded text longer than the input", encoding, len);
		memcpy(decoded + decoded_len, bytes, token_len);
		decoded_len += token_len;
	}
	if (decoded_len != expected_len || memcmp(decoded, expected, expected_len) != 0)
		fail("decode(encode(text)) differs from the text", encoding, len);
	free(decoded);
	if (expected != text)
		pfree((void *) expected);

	/* every merge algorithm gives the same ids; the scan is quadratic, so only short texts */
	for (mode = BPE_MERGE_SCAN; mode <= BPE_MERGE_QUEUE; mode++)
	{
		if (mode == BPE_MERGE_SCAN && len > 4096)
			continue;
		encode_with(enc, &other, mode, 1, text, len);
		if (other.count != reference.count || (reference.count > 0 &&
			memcmp(other.ids, reference.ids, reference.count * sizeof(uint32_t)) != 0))
			fail(mode == BPE_MERGE_SCAN ? "scan merge differs" :
				 mode == BPE_MERGE_HEAP ? "heap merge differs" : "queue merge differs",
				 encoding, len);
		bpe_state_free(&other);
	}

	/* counting without ids */
	encode_with(enc, &other, BPE_MERGE_AUTO, 0, text, len);
	if (other.count != reference.count)
		fail("count differs from the number of ids", encoding, len);
	bpe_state_free(&other);

	bpe_state_free(&reference);
	free(text);
	return 0;
}
