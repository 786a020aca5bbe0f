/*
 * json_syntax_bench.c
 *		Time of json_check_tokens (src/json_syntax.c) against cJSON's own
 *		parse of the same lines, measured in one process.
 *
 * Usage: json_syntax_bench ROUNDS FILE...
 *
 * Reads every line of the files (JSONL) into memory and times, ROUNDS times
 * each in alternation (best run reported):
 *	parse      cJSON_ParseWithLengthOpts and cJSON_Delete of every line, as
 *	           json_util_parse calls it;
 *	nul_scan   the check that json_check_tokens replaced: a memchr walk over
 *	           the backslashes of each line looking for \u0000;
 *	check      json_check_tokens over each line.
 * Lines that cJSON or the check rejects are counted and left out.  Runs the
 * server's C file in an ordinary process through fuzz/pg_shim.c; built by
 * bench/json_syntax/run.sh.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "json_syntax.h"
#include "pg_shim.h"

typedef struct Line
{
	char	   *text;
	size_t		length;
} Line;

static Line *lines;
static int	line_count;
static int	line_capacity;
static size_t total_bytes;

/* Time of the monotonic clock in milliseconds. */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Appends every non-blank line of path to lines. */
static void
read_lines(const char *path)
{
	FILE	   *file = fopen(path, "r");
	char	   *buffer = NULL;
	size_t		capacity = 0;
	ssize_t		length;

	if (file == NULL)
	{
		perror(path);
		exit(1);
	}
	while ((length = getline(&buffer, &capacity, file)) > 0)
	{
		while (length > 0 && (buffer[length - 1] == '\n' || buffer[length - 1] == '\r'))
			buffer[--length] = '\0';
		if (length == 0)
			continue;
		if (line_count == line_capacity)
		{
			line_capacity = line_capacity ? line_capacity * 2 : 1024;
			lines = realloc(lines, line_capacity * sizeof(Line));
		}
		lines[line_count].text = strndup(buffer, length);
		lines[line_count].length = length;
		line_count++;
		total_bytes += length;
	}
	free(buffer);
	fclose(file);
}

/* The \u0000 scan that json_check_tokens replaced, as a baseline. */
static bool
nul_escape_scan(const char *start, const char *end)
{
	const char *p = start;

	while (p < end && (p = memchr(p, '\\', end - p)) != NULL)
	{
		if (end - p >= 6 && memcmp(p + 1, "u0000", 5) == 0)
			return true;
		p += 2;
	}
	return false;
}

typedef struct CheckCall
{
	const Line *line;
} CheckCall;

static void
call_check(void *argument)
{
	const Line *line = ((CheckCall *) argument)->line;
	JsonTextPosition position;

	position.base = line->text;
	position.base_offset = 0;
	position.what = "benchmark line";
	json_check_tokens(&position, line->text, line->text + line->length,
					  line->text + line->length);
}

int
main(int argc, char **argv)
{
	int			rounds;
	double		best_parse = 1e300;
	double		best_scan = 1e300;
	double		best_check = 1e300;
	int			parse_rejected = 0;
	int			check_rejected = 0;
	bool	   *usable;

	if (argc < 3 || (rounds = atoi(argv[1])) < 1)
	{
		fprintf(stderr, "usage: json_syntax_bench ROUNDS FILE...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		read_lines(argv[i]);
	shim_init();

	/* Lines that either parser rejects are left out of the timings. */
	usable = calloc(line_count, sizeof(bool));
	for (int i = 0; i < line_count; i++)
	{
		cJSON	   *value = cJSON_ParseWithLengthOpts(lines[i].text, lines[i].length + 1, NULL, false);
		CheckCall	call = {&lines[i]};

		if (value == NULL)
			parse_rejected++;
		else if (!shim_try(call_check, &call))
			check_rejected++;
		else
			usable[i] = true;
		cJSON_Delete(value);
		shim_end_input();
	}

	for (int round = 0; round < rounds; round++)
	{
		double		started;
		int			found = 0;

		started = now_ms();
		for (int i = 0; i < line_count; i++)
			if (usable[i])
				cJSON_Delete(cJSON_ParseWithLengthOpts(lines[i].text, lines[i].length + 1, NULL, false));
		best_parse = Min(best_parse, now_ms() - started);

		started = now_ms();
		for (int i = 0; i < line_count; i++)
			if (usable[i])
				found += nul_escape_scan(lines[i].text, lines[i].text + lines[i].length);
		best_scan = Min(best_scan, now_ms() - started);
		if (found != 0)
			fprintf(stderr, "unexpected \\u0000 in a usable line\n");

		started = now_ms();
		for (int i = 0; i < line_count; i++)
			if (usable[i])
			{
				JsonTextPosition position = {lines[i].text, 0, "benchmark line"};

				json_check_tokens(&position, lines[i].text, lines[i].text + lines[i].length,
								  lines[i].text + lines[i].length);
			}
		best_check = Min(best_check, now_ms() - started);
	}

	printf("lines: %d (%d rejected by cJSON, %d by the check), %.1f MB, rounds: %d\n",
		   line_count, parse_rejected, check_rejected, total_bytes / 1e6, rounds);
	printf("%-9s %10s %10s %14s\n", "test", "best_ms", "MB_per_s", "vs_cjson_parse");
	printf("%-9s %10.2f %10.0f %14.3f\n", "parse", best_parse, total_bytes / 1e3 / best_parse, 1.0);
	printf("%-9s %10.2f %10.0f %14.3f\n", "nul_scan", best_scan, total_bytes / 1e3 / best_scan,
		   best_scan / best_parse);
	printf("%-9s %10.2f %10.0f %14.3f\n", "check", best_check, total_bytes / 1e3 / best_check,
		   best_check / best_parse);
	return 0;
}
