/*
 * optimizer_rules.h
 *		Per-backend cache of the prompt optimizer's rules and markers.
 *
 * The enabled rows of claudecost.optimizer_rule (compiled PCRE2 patterns)
 * and claudecost.optimizer_marker are loaded on first use in a backend and
 * dropped when either table changes: a statement trigger on each table sends
 * a relcache invalidation, which every backend receives.
 */
#ifndef OPTIMIZER_RULES_H
#define OPTIMIZER_RULES_H

#include "pcre2_util.h"
#include "protected_regions.h"

/* Algorithms that a rule row with a NULL pattern selects. */
typedef enum OptimizerBuiltin
{
	OPTIMIZER_PATTERN,			/* not a built-in: a PCRE2 rewrite */
	OPTIMIZER_REPEATED_SENTENCES,	/* remove_redundancy */
	OPTIMIZER_COMPACT_JSON		/* token_efficient_format */
} OptimizerBuiltin;

typedef struct OptimizerRule
{
	int64		id;
	const char *rule_type;		/* suggestion_type of its suggestions */
	const char *impact;			/* high, medium or low */
	const char *description;
	OptimizerBuiltin builtin;
	pcre2_code *code;			/* NULL for a built-in */
	pcre2_match_data *match_data;
	const char *replacement;
} OptimizerRule;

typedef struct OptimizerRuleSet
{
	OptimizerRule *rules;		/* enabled rules in (priority, id) order */
	int			rule_count;
	ProtectedMarker *markers;
	int			marker_count;
} OptimizerRuleSet;

/*
 * Returns the cached rule set, loading it when missing or invalidated.  An
 * invalidation only marks the set stale, so the result stays valid until
 * the next call of optimizer_rules_get in this backend.
 */
extern const OptimizerRuleSet *optimizer_rules_get(void);

/*
 * Appends the replacement of a rule for its last match (in rule->match_data)
 * against subject to output, expanding $n, ${n}, ${name} and $$.
 */
struct StringInfoData;
extern void optimizer_rule_expand(const OptimizerRule *rule, const char *subject,
								  struct StringInfoData *output);

/* Registers the invalidation callback; called by optimizer_init. */
extern void optimizer_rules_init(void);

#endif							/* OPTIMIZER_RULES_H */
