/*
 * pcre2_util.c
 *		PCRE2 compilation and substitution with PostgreSQL memory and errors.
 *
 * PCRE2 allocates through a general context whose allocator is palloc in a
 * caller-chosen memory context, so an error raised half-way never leaks
 * malloc'd memory and a cache reset frees every compiled pattern at once.
 */
#include "postgres.h"

#include <ctype.h>

#include "mb/pg_wchar.h"

#include "pcre2_util.h"

static void *
pcre2_palloc(PCRE2_SIZE size, void *context)
{
	return MemoryContextAlloc((MemoryContext) context, size);
}

static void
pcre2_pfree(void *pointer, void *context)
{
	if (pointer != NULL)
		pfree(pointer);
}

/*
 * Frees a compiled pattern when its memory context is reset or deleted.
 * pcre2_jit_compile puts the machine code in executable pages that PCRE2
 * maps itself, outside the general context, and only pcre2_code_free
 * unmaps them: without this callback every cache reload leaked them.
 */
static void
pcre2_util_free_code(void *arg)
{
	pcre2_code_free((pcre2_code *) arg);
}

pcre2_general_context *
pcre2_util_general_context(MemoryContext context)
{
	return pcre2_general_context_create(pcre2_palloc, pcre2_pfree, context);
}

pcre2_code *
pcre2_util_compile(const char *pattern, uint32 extra_options,
				   MemoryContext context, const char *what)
{
	pcre2_general_context *general;
	pcre2_compile_context *compile_context;
	pcre2_code *code;
	MemoryContextCallback *free_callback;
	int			error_code;
	PCRE2_SIZE	error_offset;

	general = pcre2_util_general_context(context);
	compile_context = pcre2_compile_context_create(general);
	code = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
						 PCRE2_UTF | PCRE2_UCP | extra_options,
						 &error_code, &error_offset, compile_context);
	if (code == NULL)
	{
		PCRE2_UCHAR message[256];

		pcre2_get_error_message(error_code, message, sizeof(message));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("invalid regular expression in %s: %s", what, (char *) message),
				 errdetail("PCRE2 reported the error at offset %zu of pattern \"%s\".",
						   (size_t) error_offset, pattern)));
	}

	free_callback = MemoryContextAlloc(context, sizeof(MemoryContextCallback));
	free_callback->func = pcre2_util_free_code;
	free_callback->arg = code;
	MemoryContextRegisterResetCallback(context, free_callback);

	/* JIT is an optimization only: a platform without it still matches. */
	(void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

pcre2_match_data *
pcre2_util_match_data(pcre2_code *code, MemoryContext context)
{
	pcre2_general_context *general;

	general = pcre2_util_general_context(context);
	return pcre2_match_data_create_from_pattern(code, general);
}

char *
pcre2_util_substitute_all(pcre2_code *code, const char *subject,
						  const char *replacement)
{
	size_t		subject_length = strlen(subject);
	PCRE2_SIZE	output_length = subject_length * 2 + strlen(replacement) + 64;
	int			rc;

	for (;;)
	{
		PCRE2_UCHAR *output;

		if (output_length > PCRE2_UTIL_MAX_OUTPUT)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("replacement \"%s\" makes a string longer than %d bytes",
							replacement, PCRE2_UTIL_MAX_OUTPUT),
					 errhint("Check the rules in claudecost.model_pattern for replacements that repeat the match.")));
		output = palloc(output_length);

		rc = pcre2_substitute(code, (PCRE2_SPTR) subject, subject_length, 0,
							  PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
							  NULL, NULL, (PCRE2_SPTR) replacement,
							  PCRE2_ZERO_TERMINATED, output, &output_length);
		if (rc > 0)
			return (char *) output;
		pfree(output);
		if (rc == 0)
			return NULL;
		if (rc != PCRE2_ERROR_NOMEMORY)
		{
			PCRE2_UCHAR message[256];

			pcre2_get_error_message(rc, message, sizeof(message));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
					 errmsg("could not apply replacement \"%s\": %s",
							replacement, (char *) message)));
		}
		/* output_length now holds the size PCRE2 needs; try again. */
	}
}

/* Length of the group name starting at name (letters, digits, underscores). */
static size_t
group_name_length(const char *name)
{
	size_t		length = 0;

	while (name[length] == '_' || isalnum((unsigned char) name[length]))
		length++;
	return length;
}

static void
reject_replacement(const char *replacement, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
			 errmsg("invalid replacement \"%s\": %s", replacement, reason),
			 errhint("Use $$ for a dollar sign and $N, ${N}, $name or ${name} for a group of the pattern.")));
}

/* Checks that a group reference (number or name) exists in code. */
static void
check_group_reference(pcre2_code *code, const char *replacement, const char *reference,
					  size_t length)
{
	uint32		capture_count = 0;
	char	   *name = pnstrdup(reference, length);

	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &capture_count);
	if (isdigit((unsigned char) name[0]))
	{
		long		group = strtol(name, NULL, 10);

		if (group > (long) capture_count)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
					 errmsg("replacement \"%s\" refers to group %ld, but the pattern has %u groups",
							replacement, group, capture_count)));
	}
	else if (pcre2_substring_number_from_name(code, (PCRE2_SPTR) name) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("replacement \"%s\" refers to group \"%s\", which the pattern does not name",
						replacement, name)));
}

void
pcre2_util_check_replacement(pcre2_code *code, const char *replacement)
{
	const char *p = replacement;

	while ((p = strchr(p, '$')) != NULL)
	{
		const char *reference;
		size_t		length;

		p++;
		if (*p == '$')
		{
			p++;				/* "$$" is a literal dollar sign */
			continue;
		}

		if (*p == '{')
		{
			const char *close = strchr(p, '}');

			reference = p + 1;
			if (close == NULL)
				reject_replacement(replacement, "\"${\" without a closing \"}\"");
			length = close - reference;
			if (length == 0 || group_name_length(reference) != length)
				reject_replacement(replacement, "\"${...}\" must hold a group number or name");
			p = close + 1;
		}
		else
		{
			reference = p;
			length = isdigit((unsigned char) *p) ? strspn(p, "0123456789") : group_name_length(p);
			if (length == 0)
				reject_replacement(replacement, "\"$\" must be followed by \"$\", a group number or a group name");
			p += length;
		}
		check_group_reference(code, replacement, reference, length);
	}
}

/* Text of the database encoding as UTF-8 for PCRE2, or NULL when it cannot be. */
char *
pcre2_util_to_utf8(const char *text)
{
	int			length = strlen(text);

	/*
	 * SQL_ASCII stores bytes without an encoding, so there is nothing to
	 * convert from.  Bytes that are not valid UTF-8 cannot be matched.
	 */
	if (GetDatabaseEncoding() == PG_SQL_ASCII)
		return pg_verify_mbstr(PG_UTF8, text, length, true) ? (char *) text : NULL;
	return pg_server_to_any(text, length, PG_UTF8);
}

/* UTF-8 text from PCRE2 in the database encoding. */
char *
pcre2_util_from_utf8(const char *text)
{
	return pg_any_to_server(text, strlen(text), PG_UTF8);
}
