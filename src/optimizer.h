/*
 * optimizer.h
 *		State of one prompt optimization, shared by the optimizer's engine
 *		(optimizer.c) and its built-in algorithms (optimizer_builtins.c).
 */
#ifndef OPTIMIZER_H
#define OPTIMIZER_H

#include "lib/stringinfo.h"

#include "optimizer_rules.h"
#include "protected_regions.h"
#include "tokenizer.h"

/* Applied edits with the same rule, original and replacement. */
typedef struct Suggestion
{
	const OptimizerRule *rule;
	char	   *original;
	char	   *suggested;
	uint32		hash;
	int64		token_savings;
	int			occurrences;
} Suggestion;

typedef struct Optimizer
{
	const TokenizerEncoding *encoding;
	const OptimizerRuleSet *rule_set;

	/*
	 * The current text is text.data[0, text.len) followed by
	 * rest.data[rest_start, rest.len).  Edits go forward through the text, so
	 * an edit appends its replacement to text and skips the replaced bytes of
	 * rest instead of moving the rest of the text.  optimizer_materialize
	 * copies bytes from rest to text as they are read.  The bytes
	 * text.data[fresh_start, text.len) are a copy of the bytes of rest just
	 * before rest_start, so an edit that ends at or after fresh_start can
	 * hand the bytes after it back to rest by moving rest_start back.
	 */
	StringInfoData text;
	StringInfoData rest;
	int			rest_start;
	int			fresh_start;
	ProtectedRegion *regions;
	int			region_count;
	/* regions[i] for i >= region_shift_from still need region_shift added. */
	int			region_shift_from;
	int			region_shift;
	Suggestion *suggestions;
	int			suggestion_count;
	int			suggestion_capacity;
	bool		newline_ends_whitespace;	/* see is_window_boundary */
	bool		whole_text;		/* measure each edit on the whole text */
	int64		whole_text_tokens;	/* token count of text when whole_text */
	bool		changed;		/* an edit was applied in this pass */
	/* Token count of text[cached_from, cached_to), while window_cached. */
	bool		window_cached;
	int			cached_from;
	int			cached_to;
	int64		cached_tokens;
	StringInfoData scratch;
	/* Work counters, reported by claudecost.optimizer_last_work. */
	int64		tokenizer_calls;
	int64		bytes_tokenized;
	int64		boundary_bytes_scanned;
	int64		bytes_moved;	/* bytes of the text copied or moved to apply edits */
} Optimizer;

/* Length of the current text. */
static inline int
optimizer_length(const Optimizer *optimizer)
{
	return optimizer->text.len + optimizer->rest.len - optimizer->rest_start;
}

extern void optimizer_materialize_more(Optimizer *optimizer, int upto);

/*
 * Makes text.data hold the current text up to upto (or all of it when it is
 * shorter).  This can reallocate text.data, so pointers into it must be read
 * again after a call.
 */
static inline void
optimizer_materialize(Optimizer *optimizer, int upto)
{
	if (upto > optimizer->text.len && optimizer->rest_start < optimizer->rest.len)
		optimizer_materialize_more(optimizer, upto);
}

/*
 * Replaces text[start, end) with replacement when that saves tokens.  Regions
 * that start at or after end move with the text.  Returns whether the edit
 * was applied.  An edit that starts at or after the end of the previous
 * applied edit costs time linear in its size and its measuring window.  An
 * edit before that also moves the text between the two.
 */
extern bool optimizer_try_edit(Optimizer *optimizer, const OptimizerRule *rule, int start,
							   int end, const char *replacement, int replacement_length);

extern void optimizer_settle_regions(Optimizer *optimizer, int i);

/* Region i, with its offsets in the current text. */
static inline ProtectedRegion *
optimizer_region(Optimizer *optimizer, int i)
{
	if (i >= optimizer->region_shift_from)
		optimizer_settle_regions(optimizer, i);
	return &optimizer->regions[i];
}

/* Index of the first region that ends after pos, from hint on. */
extern int	optimizer_region_after(Optimizer *optimizer, int pos, int hint);

/* Built-in algorithms (optimizer_builtins.c). */
extern void optimizer_compact_json_values(Optimizer *optimizer, const OptimizerRule *rule);
extern void optimizer_remove_repeated_sentences(Optimizer *optimizer, const OptimizerRule *rule);

#endif							/* OPTIMIZER_H */
