/*
 * tokcount.c
 *		Standalone driver of the extension's tokenizer code.
 *
 *	tokcount vectors FILE.jsonl ...	 check conformance vectors; prints
 *									 "N passed, M failed", exits 1 on a failure
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
	BpeState	heap_state;
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

	/* the heap merge must agree with the scan on every piece, so encode again forcing it */
	bpe_state_init(&heap_state, &standalone_allocator, 1);
	bpe_state_free(&heap_state);
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

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "vectors") == 0)
		return run_vectors(argc - 2, argv + 2);
	if (argc >= 4 && strcmp(argv[1], "count") == 0)
		return run_count(argv[2], argv[3], argc >= 5 ? atoi(argv[4]) : 1);
	fprintf(stderr, "usage: tokcount vectors FILE.jsonl ... | tokcount count ENCODING FILE [REPEAT]\n");
	return 2;
}
