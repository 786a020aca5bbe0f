/*
 * optimizer_builtins.c
 *		The built-in algorithms of the prompt optimizer, selected by rule rows
 *		with a NULL pattern: JSON compaction (token_efficient_format) and
 *		removal of repeated sentences (remove_redundancy).
 *
 * Both edit the text only through optimizer_try_edit, so every edit they
 * make is measured and kept only when it saves tokens.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "optimizer.h"

/*
 * Byte pos of the current text, copied into optimizer->text first.  The
 * caller makes sure that pos is inside the text.
 */
static inline char
text_byte(Optimizer *optimizer, int pos)
{
	optimizer_materialize(optimizer, pos + 1);
	return optimizer->text.data[pos];
}

/* Sentences shorter than this are never removed as repetitions. */
#define MIN_REPEATED_SENTENCE_WORDS 4
#define MIN_REPEATED_SENTENCE_BYTES 20

/* Compacts every pretty-printed JSON value whose compact form saves tokens. */
void
optimizer_compact_json_values(Optimizer *optimizer, const OptimizerRule *rule)
{
	StringInfoData compact;

	initStringInfo(&compact);
	for (int i = 0; i < optimizer->region_count; i++)
	{
		ProtectedRegion *region = optimizer_region(optimizer, i);

		CHECK_FOR_INTERRUPTS();
		optimizer_materialize(optimizer, region->end);

		/*
		 * Only pretty-printed values (spanning lines) are compacted; JSON
		 * written on one line is left byte for byte as the author wrote it.
		 */
		if (region->kind != PROTECTED_JSON ||
			memchr(optimizer->text.data + region->start, '\n', region->end - region->start) == NULL)
			continue;
		resetStringInfo(&compact);
		json_compact(optimizer->text.data, region->start, region->end, &compact);
		if (optimizer_try_edit(optimizer, rule, region->start, region->end, compact.data, compact.len))
			region->end = region->start + compact.len;
	}
	pfree(compact.data);
}

/* A sentence in a normalized form (ASCII lower case, single spaces) with its hash. */
typedef struct SeenSentence
{
	uint32		hash;
	char	   *normalized;
} SeenSentence;

static char *
normalize_sentence(const char *text, int start, int end, int *words)
{
	StringInfoData normalized;
	bool		in_space = false;
	bool		in_word = false;

	initStringInfo(&normalized);
	*words = 0;
	for (int i = start; i < end; i++)
	{
		unsigned char c = (unsigned char) text[i];

		if (isspace(c))
		{
			in_space = true;
			in_word = false;
			continue;
		}
		if (in_space && normalized.len > 0)
			appendStringInfoChar(&normalized, ' ');
		in_space = false;
		if (isalnum(c) || c >= 0x80)
		{
			if (!in_word)
				(*words)++;
			in_word = true;
		}
		else
			in_word = false;
		appendStringInfoChar(&normalized, pg_ascii_tolower(c));
	}
	return normalized.data;
}

/*
 * Whether text[start, end) reads as a prose sentence: it ends with . ! or ?
 * and has none of the characters that mark code or data ({ } ; = < > | \ $).
 * Repeated lines of code or logs that are not fenced must stay.
 */
static bool
is_prose_sentence(const char *text, int start, int end)
{
	if (strchr(".!?", text[end - 1]) == NULL)
		return false;
	for (int i = start; i < end; i++)
	{
		if (strchr("{};=<>|\\$", text[i]) != NULL)
			return false;
	}
	return true;
}

/*
 * Removes later copies of a prose sentence that appeared before in the
 * unprotected text.  A sentence ends at ". ", "! " or "? ", or at one of
 * these marks at the end of a line.  A line without such an end is not a
 * sentence, nor is a fragment that runs into a protected region, so neither
 * is ever removed.
 */
void
optimizer_remove_repeated_sentences(Optimizer *optimizer, const OptimizerRule *rule)
{
	SeenSentence *seen;
	int			seen_count = 0;
	int			seen_capacity = 16;
	int			pos = 0;
	int			region = 0;

	seen = palloc(sizeof(SeenSentence) * seen_capacity);
	while (pos < optimizer_length(optimizer))
	{
		int			length = optimizer_length(optimizer);
		int			span_end;
		int			sentence_start = pos;
		bool		edited = false;

		region = optimizer_region_after(optimizer, pos, region);
		if (region < optimizer->region_count && optimizer_region(optimizer, region)->start <= pos)
		{
			pos = optimizer_region(optimizer, region)->end;
			continue;
		}
		span_end = region < optimizer->region_count ? optimizer_region(optimizer, region)->start : length;

		while (sentence_start < span_end && !edited)
		{
			int			end;
			int			previous;
			bool		genuine_start;
			char	   *normalized;
			int			words;
			uint32		hash;
			bool		found = false;

			CHECK_FOR_INTERRUPTS();
			while (sentence_start < span_end &&
				   isspace((unsigned char) text_byte(optimizer, sentence_start)))
				sentence_start++;
			if (sentence_start >= span_end)
				break;

			/* The sentence must follow a sentence end or a line break in this span. */
			previous = sentence_start - 1;
			while (previous >= pos && (text_byte(optimizer, previous) == ' ' ||
									   text_byte(optimizer, previous) == '\t'))
				previous--;
			genuine_start = sentence_start == 0 ||
				(previous >= pos && strchr(".!?\n", text_byte(optimizer, previous)) != NULL);

			end = sentence_start;
			while (end < span_end && text_byte(optimizer, end) != '\n')
			{
				if (strchr(".!?", text_byte(optimizer, end)) != NULL &&
					(end + 1 >= length || isspace((unsigned char) text_byte(optimizer, end + 1))))
				{
					end++;
					break;
				}
				end++;
			}
			/* A fragment that runs into a protected region is not a sentence. */
			if (end == span_end && span_end < length)
				break;

			optimizer_materialize(optimizer, end);
			normalized = normalize_sentence(optimizer->text.data, sentence_start, end, &words);
			if (!genuine_start || words < MIN_REPEATED_SENTENCE_WORDS ||
				end - sentence_start < MIN_REPEATED_SENTENCE_BYTES ||
				!is_prose_sentence(optimizer->text.data, sentence_start, end))
			{
				pfree(normalized);
				sentence_start = end;
				continue;
			}

			hash = hash_bytes((const unsigned char *) normalized, strlen(normalized));
			for (int i = 0; i < seen_count && !found; i++)
				found = seen[i].hash == hash && strcmp(seen[i].normalized, normalized) == 0;
			if (!found)
			{
				if (seen_count == seen_capacity)
				{
					seen_capacity *= 2;
					seen = repalloc(seen, sizeof(SeenSentence) * seen_capacity);
				}
				seen[seen_count].hash = hash;
				seen[seen_count].normalized = normalized;
				seen_count++;
				sentence_start = end;
				continue;
			}
			pfree(normalized);

			{
				int			remove_start = sentence_start;
				int			remove_end = end;

				/* Take the spaces before it, and its line break when it is a whole line. */
				while (remove_start > pos && (text_byte(optimizer, remove_start - 1) == ' ' ||
											  text_byte(optimizer, remove_start - 1) == '\t'))
					remove_start--;
				if ((remove_start == 0 || text_byte(optimizer, remove_start - 1) == '\n') &&
					remove_end < span_end && text_byte(optimizer, remove_end) == '\n')
					remove_end++;
				else if (remove_start > pos && text_byte(optimizer, remove_start - 1) == '\n' &&
						 remove_end == length)
					remove_start--; /* the last line: take the line break before it */
				else if (remove_start == 0 || text_byte(optimizer, remove_start - 1) == '\n')
				{
					/* First sentence of a line: take the spaces after it instead. */
					while (remove_end < span_end && (text_byte(optimizer, remove_end) == ' ' ||
													 text_byte(optimizer, remove_end) == '\t'))
						remove_end++;
				}
				if (optimizer_try_edit(optimizer, rule, remove_start, remove_end, "", 0))
				{
					pos = remove_start;
					edited = true;
				}
				else
					sentence_start = end;
			}
		}
		if (!edited)
			pos = span_end;
	}
}
