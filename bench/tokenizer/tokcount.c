/*
 * tokcount.c
 *		Standalone driver of the extension's tokenizer code.
 *
 *	tokcount vectors FILE.jsonl ...	 check conformance vectors; prints
 *									 "N passed, M failed", exits 1 on a failure
 *	tokcount linear ENCODING PROSE_FILE
 *									 time 1 MB of prose against 1 MB inputs
 *									 without spaces or of one repeated
 *									 character; exits 1 when any of them
 *									 takes more than 3 times as long
 *	tokcount count ENCODING FILE [REPEAT]
 *									 count tokens of FILE REPEAT times and print
 *									 "tokens bytes seconds MB/s"
 *
 * A vector line is {"encoding": ..., "text": ..., "ids": [...], "count": N}.
 * A vector passes when the ids and count are identical and the ids decode to
 * the text (to its NFKC form for an encoding that normalizes).
 */
#include "postgres_fe.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "standalone.h"

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *file = fopen(path, "rb");
	char	   *data;
	long		size;

	if (file == NULL)
	{
		perror(path);
		exit(2);
	}
	fseek(file, 0, SEEK_END);
	size = ftell(file);
	fseek(file, 0, SEEK_SET);
	data = malloc((size_t) size + 1);
	if (fread(data, 1, (size_t) size, file) != (size_t) size)
	{
		perror(path);
		exit(2);
	}
	data[size] = '\0';
	fclose(file);
	*len = (size_t) size;
	return data;
}

/* Checks one vector; prints the reason and returns false on a mismatch. */
static bool
check_vector(cJSON *vector, int line_number)
{
	const char *encoding = cJSON_GetStringValue(cJSON_GetObjectItem(vector, "encoding"));
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(vector, "text"));
	cJSON	   *ids = cJSON_GetObjectItem(vector, "ids");
	cJSON	   *count = cJSON_GetObjectItem(vector, "count");
	StandaloneEncoding *enc;
	BpeState	state;
	int			mode;
	size_t		expected_count;
	size_t		i;
	bool		ok = true;
	const char *expected_text;
	size_t		expected_len;
	char	   *decoded;
	size_t		decoded_len = 0;

	if (encoding == NULL || text == NULL || !cJSON_IsArray(ids) || !cJSON_IsNumber(count))
	{
		fprintf(stderr, "line %d: malformed vector\n", line_number);
		return false;
	}
	enc = standalone_encoding(encoding);
	bpe_state_init(&state, &standalone_allocator, 1);
	standalone_encode(enc, &state, text, strlen(text));
	expected_count = (size_t) cJSON_GetArraySize(ids);
	if (state.count != expected_count || state.count != (size_t) count->valuedouble)
	{
		fprintf(stderr, "line %d (%s): %zu ids, expected %zu\n", line_number, encoding,
				state.count, expected_count);
		ok = false;
	}
	for (i = 0; ok && i < expected_count; i++)
	{
		if (state.ids[i] != (uint32_t) cJSON_GetArrayItem(ids, (int) i)->valuedouble)
		{
			fprintf(stderr, "line %d (%s): id %zu is %u, expected %d\n", line_number,
					encoding, i, state.ids[i], (int) cJSON_GetArrayItem(ids, (int) i)->valuedouble);
			ok = false;
		}
	}

	/* round trip */
	expected_text = text;
	expected_len = strlen(text);
	if (enc->def->nfkc)
		expected_text = standalone_nfkc(text, strlen(text), &expected_len);
	decoded = malloc(expected_len * 2 + 1024 * state.count + 1);
	for (i = 0; i < state.count; i++)
	{
		size_t		token_len;
		const unsigned char *bytes = bpe_token_bytes(enc->def->vocab, state.ids[i], &token_len);

		memcpy(decoded + decoded_len, bytes, token_len);
		decoded_len += token_len;
	}
	if (decoded_len != expected_len || memcmp(decoded, expected_text, decoded_len) != 0)
	{
		fprintf(stderr, "line %d (%s): decode(encode(text)) differs from the text\n",
				line_number, encoding);
		ok = false;
	}
	free(decoded);
	if (expected_text != text)
		pfree((void *) expected_text);

	/* every merge algorithm must give the same ids */
	for (mode = BPE_MERGE_SCAN; mode <= BPE_MERGE_QUEUE; mode++)
	{
		BpeState	other;

		bpe_state_init(&other, &standalone_allocator, 1);
		other.merge_mode = mode;
		standalone_encode(enc, &other, text, strlen(text));
		if (other.count != state.count ||
			memcmp(other.ids, state.ids, state.count * sizeof(uint32_t)) != 0)
		{
			fprintf(stderr, "line %d (%s): merge mode %d gives other ids\n",
					line_number, encoding, mode);
			ok = false;
		}
		bpe_state_free(&other);
	}
	bpe_state_free(&state);
	return ok;
}

static int
run_vectors(int n_files, char **files)
{
	int			passed = 0;
	int			failed = 0;
	int			f;

	for (f = 0; f < n_files; f++)
	{
		size_t		len;
		char	   *data = read_file(files[f], &len);
		char	   *line = data;
		int			line_number = 0;

		while (line < data + len)
		{
			char	   *end = strchr(line, '\n');
			cJSON	   *vector;

			if (end == NULL)
				end = data + len;
			*end = '\0';
			line_number++;
			if (*line != '\0')
			{
				vector = cJSON_Parse(line);
				if (vector != NULL && check_vector(vector, line_number))
					passed++;
				else
				{
					if (vector == NULL)
						fprintf(stderr, "%s:%d: invalid JSON\n", files[f], line_number);
					failed++;
				}
				cJSON_Delete(vector);
			}
			line = end + 1;
		}
		free(data);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}

static int
run_count(const char *encoding, const char *path, int repeat)
{
	StandaloneEncoding *enc = standalone_encoding(encoding);
	size_t		len;
	char	   *data = read_file(path, &len);
	struct timespec start;
	struct timespec end;
	size_t		tokens = 0;
	double		seconds;
	int			r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (r = 0; r < repeat; r++)
	{
		BpeState	state;

		bpe_state_init(&state, &standalone_allocator, 0);
		standalone_encode(enc, &state, data, len);
		tokens = state.count;
		bpe_state_free(&state);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	seconds = (double) (end.tv_sec - start.tv_sec) + (double) (end.tv_nsec - start.tv_nsec) / 1e9;
	printf("%zu %zu %.6f %.2f\n", tokens, len, seconds / repeat,
		   (double) len * repeat / seconds / 1e6);
	free(data);
	return 0;
}

/* Minimum CPU seconds of encoding text, over repeat runs. */
static double
min_cpu_seconds(StandaloneEncoding *enc, const char *text, size_t len, int repeat, size_t *tokens)
{
	double		best = 1e30;
	int			r;

	for (r = 0; r < repeat; r++)
	{
		struct timespec start;
		struct timespec end;
		BpeState	state;
		double		seconds;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
		bpe_state_init(&state, &standalone_allocator, 0);
		standalone_encode(enc, &state, text, len);
		*tokens = state.count;
		bpe_state_free(&state);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &end);
		seconds = (double) (end.tv_sec - start.tv_sec) + (double) (end.tv_nsec - start.tv_nsec) / 1e9;
		if (seconds < best)
			best = seconds;
	}
	return best;
}

/*
 * Compares 1 MB of prose with 1 MB inputs that are one pre-tokenizer piece
 * each (or nearly), where a quadratic merge would take minutes.
 */
static int
run_linear(const char *encoding, const char *prose_path)
{
	const size_t size = 1000000;
	StandaloneEncoding *enc = standalone_encoding(encoding);
	size_t		prose_len;
	char	   *prose_file = read_file(prose_path, &prose_len);
	char	   *prose = malloc(size + 1);
	char	   *input = malloc(size + 1);
	const char *names[] = {"one letter repeated", "random letters", "random lowercase",
		"random digits", "random punctuation", "spaces", "newlines", "CJK ideograph repeated",
	"one letter, rare other", "spaces, rare tab"};
	const int	n_kinds = (int) (sizeof(names) / sizeof(names[0]));
	double		prose_seconds;
	size_t		tokens;
	uint32_t	seed = 12345;
	int			failed = 0;
	size_t		i;
	int			kind;

	if (prose_len == 0)
	{
		fprintf(stderr, "%s is empty\n", prose_path);
		return 2;
	}
	for (i = 0; i < size; i++)
		prose[i] = prose_file[i % prose_len];
	/* end on a character boundary */
	while (size > 0 && (prose[size - 1] & 0xC0) == 0x80)
		prose[size - 1] = ' ';
	prose_seconds = min_cpu_seconds(enc, prose, size, 11, &tokens);
	printf("%-24s %8.2f ms %8zu tokens\n", "prose", prose_seconds * 1e3, tokens);

	for (kind = 0; kind < n_kinds; kind++)
	{
		double		seconds;
		double		ratio;

		for (i = 0; i < size; i++)
		{
			seed = seed * 1103515245u + 12345u;
			switch (kind)
			{
				case 0:
					input[i] = 'a';
					break;
				case 1:
					input[i] = (char) ((seed >> 16) % 2 ? 'a' + (seed >> 8) % 26 : 'A' + (seed >> 8) % 26);
					break;
				case 2:
					/* one piece in every encoding, with more merges than mixed case */
					input[i] = (char) ('a' + (seed >> 8) % 26);
					break;
				case 3:
					input[i] = (char) ('0' + (seed >> 16) % 10);
					break;
				case 4:
					input[i] = "!#$%&()*+,-./:;<=>?@[]^_{|}~"[(seed >> 16) % 28];
					break;
				case 5:
					input[i] = ' ';
					break;
				case 6:
					input[i] = '\n';
					break;
				case 7:
					/* U+4E2D, three bytes */
					input[i] = "\xe4\xb8\xad"[i % 3];
					break;
				case 8:

					/*
					 * a run of one letter whose regions differ, so each is
					 * merged and none is copied from the one before
					 */
					input[i] = (seed >> 16) % 2048 == 0 ? 'b' : 'a';
					break;
				case 9:
					input[i] = (seed >> 16) % 2048 == 0 ? '\t' : ' ';
					break;
			}
		}
		seconds = min_cpu_seconds(enc, input, kind == 7 ? size - size % 3 : size, 11, &tokens);
		ratio = seconds / prose_seconds;
		printf("%-24s %8.2f ms %8zu tokens %6.2fx prose%s\n", names[kind], seconds * 1e3, tokens,
			   ratio, ratio > 3.0 ? "  FAIL: more than 3x" : "");
		if (ratio > 3.0)
			failed++;
	}
	free(prose_file);
	free(prose);
	free(input);
	printf("%d passed, %d failed\n", n_kinds - failed, failed);
	return failed > 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "linear") == 0)
		return run_linear(argv[2], argv[3]);
	if (argc >= 3 && strcmp(argv[1], "vectors") == 0)
		return run_vectors(argc - 2, argv + 2);
	if (argc >= 4 && strcmp(argv[1], "count") == 0)
		return run_count(argv[2], argv[3], argc >= 5 ? atoi(argv[4]) : 1);
	fprintf(stderr, "usage: tokcount vectors FILE.jsonl ... | tokcount linear ENCODING PROSE_FILE | tokcount count ENCODING FILE [REPEAT]\n");
	return 2;
}
