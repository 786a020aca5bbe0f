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
	StringInfoData text;
	ProtectedRegion *regions;
	int			region_count;
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
	int64		bytes_moved;	/* by splicing edits into the text */
} Optimizer;

/*
 * Replaces text[start, end) with replacement when that saves tokens.  Regions
 * that start at or after end move with the text.  Returns whether the edit
 * was applied.
 */
extern bool optimizer_try_edit(Optimizer *optimizer, const OptimizerRule *rule, int start,
							   int end, const char *replacement, int replacement_length);

/* Index of the first region that ends after pos, from hint on. */
extern int	optimizer_region_after(const Optimizer *optimizer, int pos, int hint);

/* Built-in algorithms (optimizer_builtins.c). */
extern void optimizer_compact_json_values(Optimizer *optimizer, const OptimizerRule *rule);
extern void optimizer_remove_repeated_sentences(Optimizer *optimizer, const OptimizerRule *rule);

#endif							/* OPTIMIZER_H */
