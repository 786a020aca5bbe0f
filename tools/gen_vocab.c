/*
 * gen_vocab.c
 *		Build-time generator of the compiled-in BPE vocabulary tables.
 *
 * Usage: gen_vocab NAME VOCAB.tiktoken OUTPUT.c [ID=TEXT ...]
 *
 * Reads a vocabulary in tiktoken's plain format (one "base64(bytes) rank"
 * line per mergeable token, the rank being the token id) and writes a C file
 * defining `const BpeVocab bpe_vocab_NAME`: the token bytes as one string
 * blob with offsets by id, and an open-addressing hash table of the
 * mergeable ids plus a direct table of two-byte tokens, so a backend maps read-only data and builds nothing at run
 * time.  It also writes the merge table: for every token of three bytes or
 * more, the pair of token ids that BPE joins to make it, found by running
 * BPE on the token's bytes, with a Bloom filter of those pairs.  Each ID=TEXT argument adds a special token to the decode table
 * only.  The generator rejects duplicate ids or byte strings, and a
 * vocabulary missing a single byte, since BPE could not encode that byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"

typedef struct Token
{
	unsigned char *bytes;
	size_t		len;
	int			special;
} Token;

static void
fail(const char *message, const char *detail)
{
	fprintf(stderr, "gen_vocab: %s%s%s\n", message, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static int
base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes standard base64 with padding; returns the decoded length. */
static size_t
base64_decode(const char *text, size_t len, unsigned char *out)
{
	size_t		n = 0;
	unsigned	accumulator = 0;
	int			bits = 0;
	size_t		i;

	for (i = 0; i < len && text[i] != '='; i++)
	{
		int			value = base64_value((unsigned char) text[i]);

		if (value < 0)
			fail("invalid base64 character in token", text);
		accumulator = (accumulator << 6) | (unsigned) value;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[n++] = (unsigned char) (accumulator >> bits);
		}
	}
	return n;
}

static void
write_blob(FILE *out, const Token *tokens, size_t n_ids)
{
	size_t		column = 0;
	size_t		id;

	fputs("static const unsigned char vocab_blob[] =\n\"", out);
	for (id = 0; id < n_ids; id++)
	{
		size_t		i;

		for (i = 0; i < tokens[id].len; i++)
		{
			unsigned char c = tokens[id].bytes[i];

			/* Octal escapes have at most three digits, so they never swallow a following digit. */
			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?')
			{
				fputc(c, out);
				column += 1;
			}
			else
			{
				fprintf(out, "\\%03o", c);
				column += 4;
			}
			if (column >= 100)
			{
				fputs("\"\n\"", out);
				column = 0;
			}
		}
	}
	fputs("\";\n\n", out);
}

static void
write_uint32_array(FILE *out, const char *name, const uint32_t *values, size_t n)
{
	size_t		i;

	fprintf(out, "static const uint32_t %s[%zu] = {\n", name, n);
	for (i = 0; i < n; i++)
		fprintf(out, "%u,%s", values[i], (i % 16 == 15) ? "\n" : "");
	fputs("\n};\n\n", out);
}


/*
 * The last merge of BPE run on the bytes of token id, as (left, right), or
 * false when that run does not end in the single token id.  Only such a
 * token can be a part while a longer piece is merged, and only from this
 * pair: a part is the BPE merge of its own bytes, because no merge joined
 * across its ends before it was complete (see bpe_merge_rank in bpe.h).
 */
static int
canonical_split(const BpeVocab *vocab, size_t id, uint32_t *left, uint32_t *right)
{
	const unsigned char *bytes = vocab->blob + vocab->offsets[id];
	size_t		len = vocab->offsets[id + 1] - vocab->offsets[id];
	size_t	   *start = malloc((len + 1) * sizeof(size_t));
	uint32_t   *part = malloc(len * sizeof(uint32_t));
	uint32_t   *rank = malloc(len * sizeof(uint32_t));
	size_t		n = len;		/* parts */
	size_t		i;
	int			found = 0;

	for (i = 0; i < len; i++)
	{
		start[i] = i;
		part[i] = vocab->byte_ids[bytes[i]];
	}
	start[len] = len;
	rank[len - 1] = BPE_NO_RANK;
	for (i = 0; i + 1 < n; i++)
		rank[i] = bpe_rank(vocab, bytes + start[i], start[i + 2] - start[i]);
	while (n > 1)
	{
		uint32_t	min_rank = BPE_NO_RANK;
		size_t		at = 0;

		for (i = 0; i + 1 < n; i++)
		{
			if (rank[i] < min_rank)
			{
				min_rank = rank[i];
				at = i;
			}
		}
		if (min_rank == BPE_NO_RANK)
			break;
		if (n == 2)
		{
			*left = part[0];
			*right = part[1];
			found = (min_rank == id);
			break;
		}
		part[at] = min_rank;
		memmove(part + at + 1, part + at + 2, (n - at - 2) * sizeof(uint32_t));
		memmove(start + at + 1, start + at + 2, (n - at - 1) * sizeof(size_t));
		memmove(rank + at + 1, rank + at + 2, (n - at - 2) * sizeof(uint32_t));
		n--;
		if (at + 1 < n)
			rank[at] = bpe_rank(vocab, bytes + start[at], start[at + 2] - start[at]);
		if (at > 0)
			rank[at - 1] = bpe_rank(vocab, bytes + start[at - 1], start[at + 1] - start[at - 1]);
	}
	free(start);
	free(part);
	free(rank);
	return found;
}

int
main(int argc, char **argv)
{
	const char *name;
	FILE	   *in;
	FILE	   *out;
	char	   *line = NULL;
	size_t		line_capacity = 0;
	ssize_t		line_len;
	Token	   *tokens;
	size_t		capacity = 1 << 18;
	size_t		n_ids = 0;
	size_t		n_mergeable = 0;
	size_t		max_len = 0;
	uint32_t   *offsets;
	uint32_t   *slots;
	uint32_t   *pair_ids;
	uint32_t	byte_ids[256];
	static uint64_t bloom[BPE_BLOOM_WORDS];
	BpeVocab	vocab;
	unsigned char *blob;
	uint64_t   *merges;
	size_t		n_merge_slots;
	size_t		n_unreachable = 0;
	static uint64_t merge_filter[BPE_MERGE_FILTER_WORDS];
	size_t		n_slots;
	size_t		total = 0;
	size_t		id;
	int			i;
	int			byte_seen[256] = {0};

	if (argc < 4)
		fail("usage: gen_vocab NAME VOCAB.tiktoken OUTPUT.c [ID=TEXT ...]", NULL);
	name = argv[1];
	in = fopen(argv[2], "r");
	if (in == NULL)
		fail("could not open vocabulary file", argv[2]);
	tokens = calloc(capacity, sizeof(Token));

	while ((line_len = getline(&line, &line_capacity, in)) > 0)
	{
		char	   *space = strchr(line, ' ');
		char	   *end;
		unsigned long rank;

		if (space == NULL)
			fail("line without a space", line);
		rank = strtoul(space + 1, &end, 10);
		if (end == space + 1 || (*end != '\n' && *end != '\0'))
			fail("invalid rank", line);
		while (rank >= capacity)
		{
			tokens = realloc(tokens, capacity * 2 * sizeof(Token));
			memset(tokens + capacity, 0, capacity * sizeof(Token));
			capacity *= 2;
		}
		if (tokens[rank].bytes != NULL)
			fail("duplicate rank", line);
		tokens[rank].bytes = malloc((size_t) (space - line));
		tokens[rank].len = base64_decode(line, (size_t) (space - line), tokens[rank].bytes);
		if (tokens[rank].len == 0)
			fail("empty token", line);
		if (tokens[rank].len == 1)
			byte_seen[tokens[rank].bytes[0]] = 1;
		if (tokens[rank].len > max_len)
			max_len = tokens[rank].len;
		if (rank + 1 > n_ids)
			n_ids = rank + 1;
		n_mergeable++;
	}
	fclose(in);
	for (i = 0; i < 256; i++)
		if (!byte_seen[i])
			fail("vocabulary lacks a single-byte token", argv[2]);

	for (i = 4; i < argc; i++)
	{
		char	   *equals = strchr(argv[i], '=');
		unsigned long special_id;

		if (equals == NULL)
			fail("special token argument is not ID=TEXT", argv[i]);
		special_id = strtoul(argv[i], NULL, 10);
		while (special_id >= capacity)
		{
			tokens = realloc(tokens, capacity * 2 * sizeof(Token));
			memset(tokens + capacity, 0, capacity * sizeof(Token));
			capacity *= 2;
		}
		if (tokens[special_id].bytes != NULL)
			fail("special token id already used", argv[i]);
		tokens[special_id].bytes = (unsigned char *) strdup(equals + 1);
		tokens[special_id].len = strlen(equals + 1);
		tokens[special_id].special = 1;
		if (special_id + 1 > n_ids)
			n_ids = special_id + 1;
	}

	/* Offsets by id; an unused id gets an empty range. */
	offsets = malloc((n_ids + 1) * sizeof(uint32_t));
	for (id = 0; id < n_ids; id++)
	{
		offsets[id] = (uint32_t) total;
		total += tokens[id].len;
	}
	offsets[n_ids] = (uint32_t) total;

	/*
	 * Hash table about 60-80 % full: a probe sequence mostly stays in one cache
	 * line of 16 slots, and the smaller table stays in cache more often.
	 */
	n_slots = 1;
	while (n_slots * 4 < n_mergeable * 5)
		n_slots <<= 1;
	if (n_ids + 1 >= (1u << BPE_ID_BITS))
		fail("too many token ids for the slot encoding", argv[2]);
	slots = calloc(n_slots, sizeof(uint32_t));
	pair_ids = malloc(65536 * sizeof(uint32_t));
	memset(pair_ids, 0xff, 65536 * sizeof(uint32_t));
	for (id = 0; id < n_ids; id++)
	{
		uint32_t	slot;
		uint32_t	hash;
		uint64_t	full_hash;

		if (tokens[id].len == 0 || tokens[id].special)
			continue;
		full_hash = bpe_hash(tokens[id].bytes, tokens[id].len);
		hash = BPE_SLOT_HASH(full_hash);
		slot = hash & (uint32_t) (n_slots - 1);
		if (tokens[id].len >= 3)
		{
			uint32_t	low = (uint32_t) full_hash;

			bloom[(low >> 17) & (BPE_BLOOM_WORDS - 1)] |=
				(UINT64_C(1) << ((low >> 8) & 63)) | (UINT64_C(1) << ((low >> 14) & 63));
		}
		while (slots[slot] != 0)
		{
			const Token *other = &tokens[(slots[slot] & ((1u << BPE_ID_BITS) - 1)) - 1];

			if (other->len == tokens[id].len &&
				memcmp(other->bytes, tokens[id].bytes, other->len) == 0)
				fail("duplicate token bytes", argv[2]);
			slot = (slot + 1) & (uint32_t) (n_slots - 1);
		}
		slots[slot] = ((hash >> BPE_ID_BITS) << BPE_ID_BITS) | ((uint32_t) id + 1);
		if (tokens[id].len == 1)
			byte_ids[tokens[id].bytes[0]] = (uint32_t) id;
		if (tokens[id].len == 2)
			pair_ids[(tokens[id].bytes[0] << 8) | tokens[id].bytes[1]] = (uint32_t) id;
	}

	/*
	 * The merge table: for each token of three bytes or more that BPE can
	 * build, the pair of parts it is built from, at most 80 % full.
	 */
	blob = malloc(total + 1);
	for (id = 0; id < n_ids; id++)
		memcpy(blob + offsets[id], tokens[id].bytes, tokens[id].len);
	memset(&vocab, 0, sizeof(vocab));
	vocab.name = name;
	vocab.n_ids = (uint32_t) n_ids;
	vocab.max_token_len = (uint32_t) max_len;
	vocab.blob = blob;
	vocab.offsets = offsets;
	vocab.slots = slots;
	vocab.slot_mask = (uint32_t) (n_slots - 1);
	vocab.pair_ids = pair_ids;
	vocab.byte_ids = byte_ids;
	vocab.bloom = bloom;
	n_merge_slots = 1;
	while (n_merge_slots * 4 < n_mergeable * 5)
		n_merge_slots <<= 1;
	merges = calloc(n_merge_slots, sizeof(uint64_t));
	for (id = 0; id < n_ids; id++)
	{
		uint32_t	left;
		uint32_t	right;
		uint64_t	key;
		uint64_t	filter_hash;
		uint32_t	slot;

		if (tokens[id].len < 3 || tokens[id].special)
			continue;
		if (!canonical_split(&vocab, id, &left, &right))
		{
			n_unreachable++;
			continue;
		}
		key = ((uint64_t) left << BPE_ID_BITS) | right;
		slot = BPE_MERGE_SLOT(key) & (uint32_t) (n_merge_slots - 1);
		while (merges[slot] != 0)
			slot = (slot + 1) & (uint32_t) (n_merge_slots - 1);
		/* never 0, which marks an empty slot: token 0 is not two copies of itself */
		merges[slot] = (key << BPE_ID_BITS) | id;
		filter_hash = BPE_MERGE_FILTER_HASH(key);
		merge_filter[BPE_MERGE_FILTER_WORD(filter_hash)] |= BPE_MERGE_FILTER_BITS(filter_hash);
	}

	out = fopen(argv[3], "w");
	if (out == NULL)
		fail("could not create output file", argv[3]);
	fprintf(out, "/* Generated by tools/gen_vocab.c from %s; do not edit. */\n", argv[2]);
	fputs("#include <stddef.h>\n#include \"bpe.h\"\n\n", out);
	write_blob(out, tokens, n_ids);
	write_uint32_array(out, "vocab_offsets", offsets, n_ids + 1);
	write_uint32_array(out, "vocab_slots", slots, n_slots);
	write_uint32_array(out, "vocab_pair_ids", pair_ids, 65536);
	write_uint32_array(out, "vocab_byte_ids", byte_ids, 256);
	fprintf(out, "static const uint64_t vocab_bloom[%d] = {\n", BPE_BLOOM_WORDS);
	for (id = 0; id < BPE_BLOOM_WORDS; id++)
		fprintf(out, "0x%llx,%s", (unsigned long long) bloom[id], (id % 8 == 7) ? "\n" : "");
	fputs("\n};\n\n", out);
	fprintf(out, "/* %zu tokens of three bytes or more that BPE cannot build */\n", n_unreachable);
	fprintf(out, "static const uint64_t vocab_merges[%zu] = {\n", n_merge_slots);
	for (id = 0; id < n_merge_slots; id++)
	{
		if (merges[id] == 0)
			fputs("0,", out);
		else
			fprintf(out, "0x%llx,", (unsigned long long) merges[id]);
		if (id % 8 == 7)
			fputc('\n', out);
	}
	fputs("\n};\n\n", out);
	fprintf(out, "static const uint64_t vocab_merge_filter[%d] = {\n", BPE_MERGE_FILTER_WORDS);
	for (id = 0; id < BPE_MERGE_FILTER_WORDS; id++)
		fprintf(out, "0x%llx,%s", (unsigned long long) merge_filter[id], (id % 8 == 7) ? "\n" : "");
	fputs("\n};\n\n", out);
	fprintf(out, "const BpeVocab bpe_vocab_%s = {\n\t\"%s\", %zu, %zu,\n"
			"\tvocab_blob, vocab_offsets, vocab_slots, %zu, vocab_pair_ids, vocab_byte_ids,\n"
			"\tvocab_bloom, vocab_merges, %zu, vocab_merge_filter\n};\n",
			name, name, n_ids, max_len, n_slots - 1, n_merge_slots - 1);
	if (fclose(out) != 0)
		fail("could not write output file", argv[3]);
	return 0;
}
