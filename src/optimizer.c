/*
 * optimizer.c
 *		claudecost.optimize_prompt: rewrites a prompt with the rules of
 *		claudecost.optimizer_rule and reports each saving measured with the
 *		exact tokenizer.
 *
 * The prompt is edited one candidate edit at a time, going forward through
 * the text (see Optimizer in optimizer.h for how the text is stored).  Each
 * candidate is measured by counting tokens before and after it and applied
 * only when it saves at least one token, so the savings of the applied edits
 * telescope: their sum is exactly count(prompt) - count(optimized text).
 *
 * Counting the whole text for every candidate would be quadratic, so an
 * edit is measured on a window around it that starts and ends at a line
 * start whose first byte is an ASCII letter or digit, or at an ASCII space
 * after an ASCII letter or digit.  The pre-tokenizer patterns of
 * cl100k_base, o200k_base and the legacy Claude tokenizer start a piece at
 * both.  Token counts therefore add up across such boundaries;
 * is_window_boundary and is_word_boundary give the details.  The word
 * boundaries keep windows short inside long lines.  The result is still checked: when the windowed
 * savings do not add up to the difference of the whole-text counts, the
 * prompt is optimized again measuring the whole text per edit.
 * claudecost.optimizer_measure_whole_text measures that way from the start.
 *
 * Edits never touch protected regions (see protected_regions.c), except
 * that token_efficient_format rewrites the whitespace between the tokens of
 * a JSON value that spans several lines.  Rules run in passes, with the
 * regions recomputed on the current text before each pass, until a pass
 * changes nothing.  Running the optimizer on its own output repeats that
 * last pass, so it returns the text unchanged.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "claudecost.h"
#include "optimizer.h"

/* claudecost.optimizer_measure_whole_text: count the whole prompt per edit. */
static bool measure_whole_text = false;

/* Passes after which the optimizer stops even if the text still changes. */
#define MAX_PASSES 16

/*
 * The next three sizes can be set at compile time: tools/fuzz.sh makes them
 * small so that short inputs take every path.
 */

/* Minimum number of bytes optimizer_materialize_more copies at a time. */
#ifndef MATERIALIZE_STEP
#define MATERIALIZE_STEP 64
#endif

/*
 * Bytes after the search position that a pattern rule first matches against.
 * The matcher reports when a match could run past them, and the search
 * repeats on twice as many.
 */
#ifndef PATTERN_LOOKAHEAD
#define PATTERN_LOOKAHEAD 64
#endif

/*
 * An edit that ends before fresh_start moves the text after it when that is
 * at most this long, and hands it to rest otherwise.  Prompts up to this
 * long are thus edited in place and matched whole, which measured as fast
 * as matching them in lookahead steps or faster.
 */
#ifndef MAX_MOVED_TAIL
#define MAX_MOVED_TAIL 16384
#endif

/* Work of the last optimize_prompt call in this backend, for optimizer_last_work. */
static int64 last_tokenizer_calls = 0;
static int64 last_bytes_tokenized = 0;
static int64 last_boundary_bytes_scanned = 0;
static int64 last_bytes_moved = 0;
static bool last_remeasured = false;

static int64
count_tokens(Optimizer *optimizer, const char *text, int length)
{
	optimizer->tokenizer_calls++;
	optimizer->bytes_tokenized += length;
	return tokenizer_count(optimizer->encoding, text, length);
}

/*
 * Whether p is a window boundary: the start or end of the text, or the start
 * of a line whose first byte is an ASCII letter or digit.  With
 * newline_ends_whitespace (the cl100k_base and o200k_base patterns end a
 * whitespace run at its last newline), also the start of an indented line
 * that is not blank.  Without it (the legacy pattern turns "  \n" at the end
 * of a window into one piece but "  " and "\n" before a letter), the line
 * break must follow a byte that is not whitespace.
 */
static bool
is_window_boundary(const char *text, int length, int p, bool newline_ends_whitespace)
{
	int			q = p;

	if (p == 0 || p >= length)
		return true;
	if (text[p - 1] != '\n')
		return false;
	if (!newline_ends_whitespace)
		return isalnum((unsigned char) text[p]) && (p < 2 || !isspace((unsigned char) text[p - 2]));
	if (isalnum((unsigned char) text[p]))
		return true;
	while (q < length && (text[q] == ' ' || text[q] == '\t'))
		q++;
	return q > p && q < length && !isspace((unsigned char) text[q]);
}

/*
 * Whether a piece of every pre-tokenizer pattern starts at p because p is an
 * ASCII space after an ASCII letter or digit.  No alternative of the
 * cl100k_base, o200k_base or claude_legacy pattern matches a letter or digit
 * followed by white space: letter runs, digit runs and the contractions end
 * with a letter or digit, and the other alternatives contain none.  So a
 * piece ends at p however the text goes on after p, and one starts at p
 * however the text before p reads.  NFKC, which claude_legacy applies first,
 * keeps both ASCII bytes and never joins across them.  Such a cut bounds the
 * window of an edit inside a long line.
 */
static bool
is_word_boundary(const char *text, int p)
{
	return p > 0 && text[p] == ' ' && isalnum((unsigned char) text[p - 1]) &&
		!((unsigned char) text[p - 1] & 0x80);
}

/* Copies bytes from rest to text up to upto at least (see optimizer.h). */
void
optimizer_materialize_more(Optimizer *optimizer, int upto)
{
	const char *source = optimizer->rest.data + optimizer->rest_start;
	int			available = optimizer->rest.len - optimizer->rest_start;
	int			count = Min(Max(upto - optimizer->text.len, MATERIALIZE_STEP), available);

	/* Never stop inside a UTF-8 character: the matcher gets valid UTF-8. */
	while (count < available && ((unsigned char) source[count] & 0xC0) == 0x80)
		count++;
	appendBinaryStringInfo(&optimizer->text, source, count);
	optimizer->rest_start += count;
	optimizer->bytes_moved += count;
}

/*
 * Whether p is a window boundary (see is_window_boundary), after copying the
 * spaces and tabs that start at p and the byte after them into text.
 */
static bool
is_materialized_window_boundary(Optimizer *optimizer, int length, int p)
{
	int			q = p;

	optimizer_materialize(optimizer, q + 1);
	while (q < length && (optimizer->text.data[q] == ' ' || optimizer->text.data[q] == '\t'))
		optimizer_materialize(optimizer, ++q + 1);
	return is_window_boundary(optimizer->text.data, length, p, optimizer->newline_ends_whitespace);
}

/*
 * Start of the measuring window of an edit that starts at start: the last
 * line boundary or word boundary before it.  Both bytes that decide a word
 * boundary lie before start, so the edit leaves the boundary in place.
 */
static int
window_start(Optimizer *optimizer, int length, int start)
{
	for (int p = start - 1; p > 0; p--)
	{
		optimizer->boundary_bytes_scanned++;
		if (is_word_boundary(optimizer->text.data, p) ||
			(optimizer->text.data[p - 1] == '\n' &&
			 is_materialized_window_boundary(optimizer, length, p)))
			return p;
	}
	return 0;
}

/*
 * End of the measuring window of an edit that ends at end: the first line
 * boundary or word boundary after it, at end + 1 at the earliest, so that
 * both bytes that decide a word boundary lie after the edit.
 */
static int
window_end(Optimizer *optimizer, int length, int end)
{
	for (int p = end + 1; p < length; p++)
	{
		optimizer->boundary_bytes_scanned++;
		optimizer_materialize(optimizer, p + 1);
		if (is_word_boundary(optimizer->text.data, p) ||
			(optimizer->text.data[p - 1] == '\n' &&
			 is_materialized_window_boundary(optimizer, length, p)))
			return p;
	}
	return length;
}

/*
 * Replaces text[start, end) with replacement in the text, where end is at
 * most text.len.
 */
static void
splice_text(Optimizer *optimizer, int start, int end, const char *replacement,
			int replacement_length)
{
	StringInfo	text = &optimizer->text;
	int			shift = replacement_length - (end - start);
	int			tail = text->len - end;

	if (end >= optimizer->fresh_start)
	{
		/* The bytes after end are still in rest: take them from there later. */
		optimizer->rest_start -= tail;
		text->len = start;
		appendBinaryStringInfo(text, replacement, replacement_length);
		optimizer->fresh_start = text->len;
	}
	else if (tail <= MAX_MOVED_TAIL || optimizer->rest_start < optimizer->rest.len)
	{
		/*
		 * NOTE: with bytes left in rest, an edit that ends before fresh_start
		 * moves the whole tail.  The rules never make one, because each of
		 * their edits starts at or after the end of the previous one.
		 */
		if (shift > 0)
			enlargeStringInfo(text, shift);
		memmove(text->data + end + shift, text->data + end, tail + 1);
		memcpy(text->data + start, replacement, replacement_length);
		text->len += shift;
		optimizer->fresh_start += shift;
		optimizer->bytes_moved += tail;
	}
	else
	{
		/*
		 * All of the text is in text: make its buffer rest, starting at the
		 * tail, and copy the part before the edit to a new text.
		 */
		StringInfoData old_text = *text;

		*text = optimizer->rest;
		optimizer->rest = old_text;
		optimizer->rest_start = end;
		resetStringInfo(text);
		appendBinaryStringInfo(text, optimizer->rest.data, start);
		appendBinaryStringInfo(text, replacement, replacement_length);
		optimizer->fresh_start = text->len;
		optimizer->bytes_moved += start;
	}
}

static void
record_suggestion(Optimizer *optimizer, const OptimizerRule *rule, const char *original,
				  int original_length, const char *suggested, int suggested_length,
				  int64 token_savings)
{
	uint32		hash = hash_bytes((const unsigned char *) original, original_length) ^
		hash_bytes((const unsigned char *) suggested, suggested_length);
	Suggestion *suggestion;

	/* NOTE: linear in the number of distinct suggestions of one prompt. */
	for (int i = 0; i < optimizer->suggestion_count; i++)
	{
		suggestion = &optimizer->suggestions[i];
		if (suggestion->hash == hash && suggestion->rule == rule &&
			strlen(suggestion->original) == (size_t) original_length &&
			strlen(suggestion->suggested) == (size_t) suggested_length &&
			memcmp(suggestion->original, original, original_length) == 0 &&
			memcmp(suggestion->suggested, suggested, suggested_length) == 0)
		{
			suggestion->token_savings += token_savings;
			suggestion->occurrences++;
			return;
		}
	}

	if (optimizer->suggestion_count == optimizer->suggestion_capacity)
	{
		optimizer->suggestion_capacity *= 2;
		optimizer->suggestions = repalloc(optimizer->suggestions,
										  sizeof(Suggestion) * optimizer->suggestion_capacity);
	}
	suggestion = &optimizer->suggestions[optimizer->suggestion_count++];
	suggestion->rule = rule;
	suggestion->original = pnstrdup(original, original_length);
	suggestion->suggested = pnstrdup(suggested, suggested_length);
	suggestion->hash = hash;
	suggestion->token_savings = token_savings;
	suggestion->occurrences = 1;
}

/*
 * Moves the regions that start at or after end by shift.  The shift of the
 * regions from region_shift_from on is only recorded, so an edit costs
 * O(log regions) plus the regions before region_shift_from that it moves.
 */
static void
shift_regions(Optimizer *optimizer, int end, int shift)
{
	int			low = 0;
	int			high = optimizer->region_count;

	/* Binary search for the first region that starts at or after end. */
	while (low < high)
	{
		int			middle = low + (high - low) / 2;
		int			start = optimizer->regions[middle].start +
			(middle >= optimizer->region_shift_from ? optimizer->region_shift : 0);

		if (start >= end)
			high = middle;
		else
			low = middle + 1;
	}
	if (low > optimizer->region_shift_from)
		optimizer_settle_regions(optimizer, low - 1);
	for (int i = low; i < optimizer->region_shift_from; i++)
	{
		optimizer->regions[i].start += shift;
		optimizer->regions[i].end += shift;
	}
	optimizer->region_shift += shift;
}

/* Applies an edit that saves tokens (see optimizer.h). */
bool
optimizer_try_edit(Optimizer *optimizer, const OptimizerRule *rule, int start, int end,
				   const char *replacement, int replacement_length)
{
	StringInfo	text = &optimizer->text;
	StringInfo	scratch = &optimizer->scratch;
	int			length = optimizer_length(optimizer);
	int64		before;
	int64		after;
	int			window_from;
	int			window_to;
	int			shift = replacement_length - (end - start);

	optimizer_materialize(optimizer, end);
	if (end - start == replacement_length && memcmp(text->data + start, replacement, replacement_length) == 0)
		return false;

	if (optimizer->whole_text)
	{
		window_from = 0;
		window_to = length;
		optimizer_materialize(optimizer, length);
		before = optimizer->whole_text_tokens;
	}
	else
	{
		window_from = window_start(optimizer, length, start);
		window_to = window_end(optimizer, length, end);
		optimizer_materialize(optimizer, window_to);
		if (optimizer->window_cached && optimizer->cached_from == window_from &&
			optimizer->cached_to == window_to)
			before = optimizer->cached_tokens;
		else
		{
			before = count_tokens(optimizer, text->data + window_from, window_to - window_from);
			optimizer->window_cached = true;
			optimizer->cached_from = window_from;
			optimizer->cached_to = window_to;
			optimizer->cached_tokens = before;
		}
	}

	resetStringInfo(scratch);
	appendBinaryStringInfo(scratch, text->data + window_from, start - window_from);
	appendBinaryStringInfo(scratch, replacement, replacement_length);
	appendBinaryStringInfo(scratch, text->data + end, window_to - end);
	after = count_tokens(optimizer, scratch->data, scratch->len);
	if (after >= before)
		return false;

	record_suggestion(optimizer, rule, text->data + start, end - start,
					  replacement, replacement_length, before - after);

	splice_text(optimizer, start, end, replacement, replacement_length);

	shift_regions(optimizer, end, shift);
	if (optimizer->whole_text)
		optimizer->whole_text_tokens = after;
	else
	{
		/* The window now contains the edited text, whose count is known. */
		optimizer->cached_from = window_from;
		optimizer->cached_to = window_to + shift;
		optimizer->cached_tokens = after;
	}
	optimizer->changed = true;
	return true;
}

/* Adds the recorded shift to the regions up to i (see optimizer.h). */
void
optimizer_settle_regions(Optimizer *optimizer, int i)
{
	for (; optimizer->region_shift_from <= i; optimizer->region_shift_from++)
	{
		ProtectedRegion *region = &optimizer->regions[optimizer->region_shift_from];

		region->start += optimizer->region_shift;
		region->end += optimizer->region_shift;
	}
}

/* Index of the first region that ends after pos, from hint on. */
int
optimizer_region_after(Optimizer *optimizer, int pos, int hint)
{
	int			i = hint;

	while (i < optimizer->region_count && optimizer_region(optimizer, i)->end <= pos)
		i++;
	return i;
}

/* Offset of the byte after the UTF-8 character that starts at pos. */
static int
next_character(const char *text, int length, int pos)
{
	pos++;
	while (pos < length && ((unsigned char) text[pos] & 0xC0) == 0x80)
		pos++;
	return pos;
}

/* Whether pos starts the text, a line or a sentence (after . ! ? or :). */
static bool
at_sentence_start(const char *text, int pos)
{
	while (pos > 0 && (text[pos - 1] == ' ' || text[pos - 1] == '\t'))
		pos--;
	return pos == 0 || strchr("\n.!?:", text[pos - 1]) != NULL;
}

/*
 * Keeps the case of a rewritten word: an all-capital match gives an
 * all-capital replacement, a capitalized match a capitalized replacement.
 * When a capitalized word that starts a sentence is removed (the
 * replacement has no letter), the next word is capitalized instead, and
 * *end grows to include that word.  That is skipped when the word's first
 * letter is protected, that is, at or after limit (the next region's start).
 */
static void
keep_case(const char *text, int start, int *end, int limit, StringInfo replacement)
{
	int			letters = 0;
	int			capitals = 0;
	int			first_letter = -1;
	bool		replacement_has_letter = false;

	for (int i = start; i < *end; i++)
	{
		if (isalpha((unsigned char) text[i]))
		{
			if (first_letter < 0)
				first_letter = i;
			letters++;
			if (isupper((unsigned char) text[i]))
				capitals++;
		}
	}
	if (first_letter < 0 || !isupper((unsigned char) text[first_letter]))
		return;

	for (int i = 0; i < replacement->len; i++)
	{
		if (isalpha((unsigned char) replacement->data[i]))
		{
			replacement_has_letter = true;
			break;
		}
	}

	if (replacement_has_letter)
	{
		for (int i = 0; i < replacement->len; i++)
		{
			char	   *c = &replacement->data[i];

			if (!isalpha((unsigned char) *c))
				continue;
			if (letters >= 2 && capitals == letters)
				*c = pg_ascii_toupper((unsigned char) *c);
			else
			{
				*c = pg_ascii_toupper((unsigned char) *c);
				break;
			}
		}
	}
	else if (first_letter == start && at_sentence_start(text, start) &&
			 *end < limit && islower((unsigned char) text[*end]))
	{
		appendStringInfoChar(replacement, pg_ascii_toupper((unsigned char) text[*end]));
		(*end)++;
		/* Take the rest of that word too, so the suggestion shows whole words. */
		while (*end < limit && (isalnum((unsigned char) text[*end]) ||
								(unsigned char) text[*end] >= 0x80))
		{
			appendStringInfoChar(replacement, text[*end]);
			(*end)++;
		}
	}
}

/* Applies a PCRE2 rule to every unprotected match in the text. */
static void
apply_pattern_rule(Optimizer *optimizer, const OptimizerRule *rule)
{
	StringInfoData replacement;
	int			pos = 0;
	int			region = 0;
	int			lookahead = PATTERN_LOOKAHEAD;

	initStringInfo(&replacement);
	while (pos < optimizer_length(optimizer))
	{
		const char *text;
		int			length = optimizer_length(optimizer);
		bool		complete;
		PCRE2_SIZE *ovector;
		int			rc;
		int			match_start;
		int			match_end;
		int			limit;

		CHECK_FOR_INTERRUPTS();

		/*
		 * Match against the text up to pos + lookahead.  Unless that is all of
		 * the text, a partial match (one that reached the end of the bytes
		 * given, including a lookahead or \b or $ there) may differ on the
		 * whole text, so the search repeats with twice the lookahead.  No match
		 * means that no match starts before the end of the bytes given, so
		 * the search goes on from there.
		 */
		optimizer_materialize(optimizer, pos < length - lookahead ? pos + lookahead : length);
		text = optimizer->text.data;
		complete = optimizer->text.len == length;
		rc = pcre2_match(rule->code, (PCRE2_SPTR) text, optimizer->text.len, pos,
						 PCRE2_NO_UTF_CHECK | (complete ? 0 : PCRE2_PARTIAL_HARD),
						 rule->match_data, NULL);
		/*
		 * A match that reaches the end of the bytes given is retried too: an
		 * attempt that starts there has read nothing, so the matcher does not
		 * report it as partial.
		 */
		if (!complete && (rc == PCRE2_ERROR_PARTIAL || rc == PCRE2_ERROR_NOMATCH ||
						  (rc >= 0 && pcre2_get_ovector_pointer(rule->match_data)[1] >=
						   (PCRE2_SIZE) optimizer->text.len)))
		{
			if (rc == PCRE2_ERROR_NOMATCH)
				pos = optimizer->text.len;
			if (lookahead <= INT_MAX / 2)
				lookahead *= 2;
			continue;
		}
		lookahead = PATTERN_LOOKAHEAD;
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0)
		{
			PCRE2_UCHAR message[256];

			pcre2_get_error_message(rc, message, sizeof(message));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
					 errmsg("could not match optimizer rule %lld: %s",
							(long long) rule->id, (char *) message)));
		}
		ovector = pcre2_get_ovector_pointer(rule->match_data);
		match_start = (int) ovector[0];
		match_end = (int) ovector[1];
		if (match_end <= match_start)
		{
			pos = next_character(text, optimizer->text.len, Max(match_start, pos));
			continue;
		}

		/* Skip matches inside or across a protected region. */
		region = optimizer_region_after(optimizer, match_start, region);
		limit = region < optimizer->region_count ? optimizer_region(optimizer, region)->start : length;
		if (region < optimizer->region_count && optimizer_region(optimizer, region)->start <= match_start)
		{
			pos = optimizer_region(optimizer, region)->end;
			continue;
		}
		if (match_end > limit)
		{
			pos = next_character(text, optimizer->text.len, match_start);
			continue;
		}

		/* Copy the word after the match, which keep_case can take, into text. */
		for (int p = match_end; p < limit; p++)
		{
			optimizer_materialize(optimizer, p + 1);
			if (!isalnum((unsigned char) optimizer->text.data[p]) &&
				(unsigned char) optimizer->text.data[p] < 0x80)
				break;
		}
		text = optimizer->text.data;

		resetStringInfo(&replacement);
		optimizer_rule_expand(rule, text, &replacement);
		keep_case(text, match_start, &match_end, limit, &replacement);
		if (optimizer_try_edit(optimizer, rule, match_start, match_end, replacement.data, replacement.len))
			pos = match_start + replacement.len;
		else
			pos = match_end;
	}
	pfree(replacement.data);
}


/* Runs the rules in passes until a pass changes nothing. */
static void
optimize_text(Optimizer *optimizer)
{
	for (int pass = 0; pass < MAX_PASSES; pass++)
	{
		const OptimizerRuleSet *rule_set = optimizer->rule_set;

		optimizer->regions = protected_regions_find(optimizer->text.data, optimizer->text.len,
													rule_set->markers, rule_set->marker_count,
													&optimizer->region_count);
		optimizer->region_shift_from = 0;
		optimizer->region_shift = 0;
		optimizer->changed = false;
		for (int i = 0; i < rule_set->rule_count; i++)
		{
			const OptimizerRule *rule = &rule_set->rules[i];

			switch (rule->builtin)
			{
				case OPTIMIZER_PATTERN:
					apply_pattern_rule(optimizer, rule);
					break;
				case OPTIMIZER_REPEATED_SENTENCES:
					optimizer_remove_repeated_sentences(optimizer, rule);
					break;
				case OPTIMIZER_COMPACT_JSON:
					optimizer_compact_json_values(optimizer, rule);
					break;
			}
			/* The next rule and protected_regions_find read text.data whole. */
			optimizer_materialize(optimizer, INT_MAX);
		}
		pfree(optimizer->regions);
		optimizer->regions = NULL;
		if (!optimizer->changed)
			return;
	}
	/* NOTE: output of a prompt that needs more passes may not be a fixed point. */
}

static void
optimizer_reset(Optimizer *optimizer, const char *prompt, int length, int64 prompt_tokens)
{
	resetStringInfo(&optimizer->text);
	appendBinaryStringInfo(&optimizer->text, prompt, length);
	resetStringInfo(&optimizer->rest);
	optimizer->rest_start = 0;
	optimizer->fresh_start = length;
	for (int i = 0; i < optimizer->suggestion_count; i++)
	{
		pfree(optimizer->suggestions[i].original);
		pfree(optimizer->suggestions[i].suggested);
	}
	optimizer->suggestion_count = 0;
	optimizer->whole_text_tokens = prompt_tokens;
	optimizer->window_cached = false;
}

static void
append_json_string(StringInfo output, const char *key, const char *value)
{
	escape_json(output, key);
	appendStringInfoChar(output, ':');
	if (value == NULL)
		appendStringInfoString(output, "null");
	else
		escape_json(output, value);
}

/*
 * Savings as a percentage of prompt_tokens rounded half up to two decimals,
 * computed in integers so the value is exact.
 */
static void
append_percentage(StringInfo output, int64 saved, int64 prompt_tokens)
{
	int64		hundredths = (saved * 20000 / prompt_tokens + 1) / 2;

	appendStringInfo(output, "%lld.%02lld", (long long) (hundredths / 100),
					 (long long) (hundredths % 100));
}

static Datum
build_result(Optimizer *optimizer, const char *prompt, int64 prompt_tokens, int64 optimized_tokens)
{
	StringInfoData json;

	initStringInfo(&json);
	appendStringInfoChar(&json, '{');
	append_json_string(&json, "text", prompt);
	appendStringInfo(&json, ",\"estimated_tokens\":%lld", (long long) prompt_tokens);
	appendStringInfoString(&json, ",\"optimization_suggestions\":[");
	for (int i = 0; i < optimizer->suggestion_count; i++)
	{
		Suggestion *suggestion = &optimizer->suggestions[i];

		if (i > 0)
			appendStringInfoChar(&json, ',');
		appendStringInfoChar(&json, '{');
		append_json_string(&json, "suggestion_type", suggestion->rule->rule_type);
		appendStringInfoChar(&json, ',');
		append_json_string(&json, "description", suggestion->rule->description);
		appendStringInfoChar(&json, ',');
		append_json_string(&json, "impact", suggestion->rule->impact);
		appendStringInfoChar(&json, ',');
		append_json_string(&json, "original_segment", suggestion->original);
		appendStringInfoChar(&json, ',');
		append_json_string(&json, "suggested_segment", suggestion->suggested);
		appendStringInfo(&json, ",\"token_savings\":%lld,\"occurrences\":%d,\"rule_id\":%lld}",
						 (long long) suggestion->token_savings, suggestion->occurrences,
						 (long long) suggestion->rule->id);
	}
	appendStringInfoString(&json, "],");
	append_json_string(&json, "optimized_text", optimizer->text.data);
	appendStringInfo(&json, ",\"optimized_tokens\":%lld,\"savings_percentage\":",
					 (long long) optimized_tokens);
	if (optimizer->suggestion_count == 0 || prompt_tokens == 0)
		appendStringInfoString(&json, "null");
	else
		append_percentage(&json, prompt_tokens - optimized_tokens, prompt_tokens);
	appendStringInfoChar(&json, '}');

	return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data));
}

/* Defines the optimizer's setting and its rule cache; called from _PG_init. */
void
optimizer_init(void)
{
	DefineCustomBoolVariable("claudecost.optimizer_measure_whole_text",
							 "Measures every optimizer edit on the whole prompt instead of a window of lines.",
							 "A diagnostic that gives the result of the windowed measurement in time quadratic in the prompt length.",
							 &measure_whole_text, false, PGC_USERSET, 0, NULL, NULL, NULL);
	optimizer_rules_init();
}

PG_FUNCTION_INFO_V1(claudecost_optimize_prompt);

/* optimize_prompt(prompt text, encoding text) returns jsonb */
Datum
claudecost_optimize_prompt(PG_FUNCTION_ARGS)
{
	text	   *prompt_text = PG_GETARG_TEXT_PP(0);
	char	   *encoding_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *prompt = text_to_cstring(prompt_text);
	int			length = strlen(prompt);
	Optimizer	optimizer;
	int64		prompt_tokens;
	int64		optimized_tokens;
	int64		claimed = 0;
	bool		remeasured = false;

	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("prompt optimization requires a UTF8 database"),
				 errdetail("The database encoding is %s.", GetDatabaseEncodingName())));

	memset(&optimizer, 0, sizeof(optimizer));
	optimizer.encoding = tokenizer_lookup(encoding_name);
	optimizer.newline_ends_whitespace = strcmp(encoding_name, "claude_legacy") != 0;
	optimizer.rule_set = optimizer_rules_get();
	optimizer.suggestion_capacity = 16;
	optimizer.suggestions = palloc(sizeof(Suggestion) * optimizer.suggestion_capacity);
	initStringInfo(&optimizer.text);
	initStringInfo(&optimizer.rest);
	initStringInfo(&optimizer.scratch);

	prompt_tokens = count_tokens(&optimizer, prompt, length);
	optimizer.whole_text = measure_whole_text;
	optimizer_reset(&optimizer, prompt, length, prompt_tokens);
	optimize_text(&optimizer);
	optimized_tokens = count_tokens(&optimizer, optimizer.text.data, optimizer.text.len);
	for (int i = 0; i < optimizer.suggestion_count; i++)
		claimed += optimizer.suggestions[i].token_savings;

	if (!optimizer.whole_text && claimed != prompt_tokens - optimized_tokens)
	{
		/* A window boundary did not split the tokens cleanly: measure exactly. */
		elog(DEBUG1, "windowed token savings %lld differ from measured %lld; remeasuring",
			 (long long) claimed, (long long) (prompt_tokens - optimized_tokens));
		optimizer.whole_text = true;
		remeasured = true;
		optimizer_reset(&optimizer, prompt, length, prompt_tokens);
		optimize_text(&optimizer);
		optimized_tokens = optimizer.whole_text_tokens;
	}

	last_tokenizer_calls = optimizer.tokenizer_calls;
	last_bytes_tokenized = optimizer.bytes_tokenized;
	last_boundary_bytes_scanned = optimizer.boundary_bytes_scanned;
	last_bytes_moved = optimizer.bytes_moved;
	last_remeasured = remeasured;
	PG_RETURN_DATUM(build_result(&optimizer, prompt, prompt_tokens, optimized_tokens));
}

PG_FUNCTION_INFO_V1(claudecost_optimizer_last_work);

/*
 * optimizer_last_work() returns (tokenizer_calls, bytes_tokenized,
 * boundary_bytes_scanned, bytes_moved, remeasured) of the last
 * optimize_prompt call in this backend, zeros and false before the first.
 * remeasured is true when the windowed savings did not add up and the
 * prompt was optimized again measuring the whole text.  The counts show how the optimizer's
 * work grows with the prompt without timing it.
 */
Datum
claudecost_optimizer_last_work(PG_FUNCTION_ARGS)
{
	TupleDesc	descriptor;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &descriptor) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	values[0] = Int64GetDatum(last_tokenizer_calls);
	values[1] = Int64GetDatum(last_bytes_tokenized);
	values[2] = Int64GetDatum(last_boundary_bytes_scanned);
	values[3] = Int64GetDatum(last_bytes_moved);
	values[4] = BoolGetDatum(last_remeasured);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(descriptor), values, nulls)));
}

PG_FUNCTION_INFO_V1(claudecost_protected_regions);

/* protected_regions(prompt text) returns setof (kind text, region text) */
Datum
claudecost_protected_regions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *result_info = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *prompt = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const OptimizerRuleSet *rule_set = optimizer_rules_get();
	ProtectedRegion *regions;
	int			count;

	InitMaterializedSRF(fcinfo, 0);
	regions = protected_regions_find(prompt, strlen(prompt), rule_set->markers,
									 rule_set->marker_count, &count);
	for (int i = 0; i < count; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(protected_kind_name(regions[i].kind));
		values[1] = PointerGetDatum(cstring_to_text_with_len(prompt + regions[i].start,
															 regions[i].end - regions[i].start));
		tuplestore_putvalues(result_info->setResult, result_info->setDesc, values, nulls);
	}
	return (Datum) 0;
}
