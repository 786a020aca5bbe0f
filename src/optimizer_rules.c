/*
 * optimizer_rules.c
 *		Per-backend cache of the prompt optimizer's rules and markers, the
 *		validation trigger of claudecost.optimizer_rule and the statement
 *		trigger that makes every backend drop its cache after a change.
 *
 * DML on a table sends no relcache invalidation by itself, so the statement
 * trigger sends one for the changed table.  The callback registered here
 * only marks the cache stale, because it may run at any catalog access.  The
 * next optimizer_rules_get frees the stale cache and loads a new one.  A transaction sees its own rule
 * changes from its next command on, and other sessions from their next
 * transaction on.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "claudecost.h"
#include "optimizer_rules.h"

static MemoryContext rule_context = NULL;
static OptimizerRuleSet *rule_set = NULL;
static bool rule_set_valid = false;
static Oid	rule_relid = InvalidOid;
static Oid	marker_relid = InvalidOid;

/* Marks the cache stale when a rule or marker table (or every relation) changes. */
static void
optimizer_rules_invalidate(Datum argument, Oid relid)
{
	if (relid == InvalidOid || relid == rule_relid || relid == marker_relid)
		rule_set_valid = false;
}

void
optimizer_rules_init(void)
{
	CacheRegisterRelcacheCallback(optimizer_rules_invalidate, (Datum) 0);
}

static OptimizerBuiltin
builtin_for_type(const char *rule_type)
{
	if (strcmp(rule_type, "remove_redundancy") == 0)
		return OPTIMIZER_REPEATED_SENTENCES;
	if (strcmp(rule_type, "token_efficient_format") == 0)
		return OPTIMIZER_COMPACT_JSON;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("rule type \"%s\" has no built-in algorithm", rule_type),
			 errhint("Give the rule a pattern, or use rule type remove_redundancy or token_efficient_format.")));
	return OPTIMIZER_PATTERN;	/* keep compiler quiet */
}

/*
 * Checks that every reference in replacement ($n, ${n}, ${name}, $$) names a
 * capture group of code.  what names the rule in the error.
 */
static void
validate_replacement(pcre2_code *code, const char *replacement, const char *what)
{
	uint32		capture_count;
	const char *p = replacement;

	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &capture_count);
	while ((p = strchr(p, '$')) != NULL)
	{
		const char *reference = p;

		p++;
		if (*p == '$')
		{
			p++;
			continue;
		}
		if (isdigit((unsigned char) *p))
		{
			long		group = strtol(p, (char **) &p, 10);

			if (group > (long) capture_count)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
						 errmsg("replacement of %s refers to group %ld, but the pattern has %u groups",
								what, group, capture_count)));
			continue;
		}
		if (*p == '{')
		{
			const char *close = strchr(p, '}');
			char	   *name;

			if (close == NULL || close == p + 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
						 errmsg("invalid group reference in replacement of %s at offset %d",
								what, (int) (reference - replacement)),
						 errhint("Write ${n} or ${name} with a closing brace, or $$ for a dollar sign.")));
			name = pnstrdup(p + 1, close - p - 1);
			if (strspn(name, "0123456789") == strlen(name))
			{
				if (atol(name) > (long) capture_count)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
							 errmsg("replacement of %s refers to group %s, but the pattern has %u groups",
									what, name, capture_count)));
			}
			else if (pcre2_substring_number_from_name(code, (PCRE2_SPTR) name) < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
						 errmsg("replacement of %s refers to group \"%s\", which the pattern does not define",
								what, name)));
			p = close + 1;
			continue;
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("invalid group reference in replacement of %s at offset %d",
						what, (int) (reference - replacement)),
				 errhint("Write $n, ${n} or ${name}, or $$ for a dollar sign.")));
	}
}

/* Appends capture group number group of the last match, if it matched. */
static void
append_group(StringInfo output, const char *subject, PCRE2_SIZE *ovector,
			 uint32 pairs, long group)
{
	if (group >= 0 && (uint32) group < pairs && ovector[2 * group] != PCRE2_UNSET)
		appendBinaryStringInfo(output, subject + ovector[2 * group],
							   ovector[2 * group + 1] - ovector[2 * group]);
}

void
optimizer_rule_expand(const OptimizerRule *rule, const char *subject, StringInfo output)
{
	PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(rule->match_data);
	uint32		pairs = pcre2_get_ovector_count(rule->match_data);
	const char *p = rule->replacement;

	/* References were checked by validate_replacement when the row was stored. */
	while (*p)
	{
		const char *dollar = strchr(p, '$');

		if (dollar == NULL)
		{
			appendStringInfoString(output, p);
			break;
		}
		appendBinaryStringInfo(output, p, dollar - p);
		p = dollar + 1;
		if (*p == '$')
		{
			appendStringInfoChar(output, '$');
			p++;
		}
		else if (isdigit((unsigned char) *p))
			append_group(output, subject, ovector, pairs, strtol(p, (char **) &p, 10));
		else if (*p == '{')
		{
			const char *close = strchr(p, '}');
			char	   *name = pnstrdup(p + 1, close - p - 1);

			if (strspn(name, "0123456789") == strlen(name))
				append_group(output, subject, ovector, pairs, atol(name));
			else
				append_group(output, subject, ovector, pairs,
							 pcre2_substring_number_from_name(rule->code, (PCRE2_SPTR) name));
			pfree(name);
			p = close + 1;
		}
	}
}

static char *
copy_text_column(HeapTuple tuple, TupleDesc descriptor, int column)
{
	char	   *value = SPI_getvalue(tuple, descriptor, column);

	return value ? MemoryContextStrdup(rule_context, value) : NULL;
}

/* Reads the enabled rules and markers into a fresh rule_context. */
static void
load_rule_set(void)
{
	Oid			namespace;
	uint64		count;

	if (rule_context != NULL)
		MemoryContextDelete(rule_context);
	rule_context = NULL;
	rule_set = NULL;

	namespace = get_namespace_oid("claudecost", false);
	rule_relid = get_relname_relid("optimizer_rule", namespace);
	marker_relid = get_relname_relid("optimizer_marker", namespace);

	rule_context = AllocSetContextCreate(CacheMemoryContext, "claudecost optimizer rules",
										 ALLOCSET_SMALL_SIZES);
	rule_set = MemoryContextAllocZero(rule_context, sizeof(OptimizerRuleSet));
	rule_set_valid = true;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (SPI_execute("SELECT id, rule_type, impact, description, pattern, replacement "
					"FROM claudecost.optimizer_rule WHERE enabled "
					"ORDER BY priority, id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read claudecost.optimizer_rule");
	count = SPI_processed;
	rule_set->rules = MemoryContextAllocZero(rule_context, sizeof(OptimizerRule) * Max(count, 1));
	for (uint64 i = 0; i < count; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	descriptor = SPI_tuptable->tupdesc;
		OptimizerRule *rule = &rule_set->rules[i];
		bool		is_null;
		char	   *pattern;

		rule->id = DatumGetInt64(SPI_getbinval(tuple, descriptor, 1, &is_null));
		rule->rule_type = copy_text_column(tuple, descriptor, 2);
		rule->impact = copy_text_column(tuple, descriptor, 3);
		rule->description = copy_text_column(tuple, descriptor, 4);
		pattern = SPI_getvalue(tuple, descriptor, 5);
		if (pattern == NULL)
			rule->builtin = builtin_for_type(rule->rule_type);
		else
		{
			char		what[64];

			snprintf(what, sizeof(what), "optimizer rule %lld", (long long) rule->id);
			rule->builtin = OPTIMIZER_PATTERN;
			rule->code = pcre2_util_compile(pattern, 0, rule_context, what);
			rule->match_data = pcre2_util_match_data(rule->code, rule_context);
			rule->replacement = copy_text_column(tuple, descriptor, 6);
			if (rule->replacement == NULL)
				rule->replacement = "";
		}
	}
	rule_set->rule_count = (int) count;

	if (SPI_execute("SELECT open_marker, close_marker FROM claudecost.optimizer_marker "
					"WHERE enabled ORDER BY id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read claudecost.optimizer_marker");
	count = SPI_processed;
	rule_set->markers = MemoryContextAllocZero(rule_context, sizeof(ProtectedMarker) * Max(count, 1));
	for (uint64 i = 0; i < count; i++)
	{
		ProtectedMarker *marker = &rule_set->markers[i];

		marker->open = copy_text_column(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		marker->close = copy_text_column(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		marker->open_length = strlen(marker->open);
		marker->close_length = strlen(marker->close);
	}
	rule_set->marker_count = (int) count;

	SPI_finish();
}

const OptimizerRuleSet *
optimizer_rules_get(void)
{
	if (!rule_set_valid || rule_set == NULL)
	{
		PG_TRY();
		{
			load_rule_set();
		}
		PG_CATCH();
		{
			/* Leave no half-built set behind. */
			rule_set_valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return rule_set;
}

PG_FUNCTION_INFO_V1(claudecost_optimizer_rule_validate);

/*
 * BEFORE INSERT OR UPDATE row trigger of claudecost.optimizer_rule: compiles
 * the pattern and checks the group references of the replacement, so an
 * invalid rule is rejected when it is stored, not when a prompt is optimized.
 */
Datum
claudecost_optimizer_rule_validate(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	descriptor;
	char	   *pattern;
	char	   *replacement;
	MemoryContext check_context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigger_data->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.optimizer_rule_validate must be called as a row trigger")));

	tuple = TRIGGER_FIRED_BY_UPDATE(trigger_data->tg_event) ?
		trigger_data->tg_newtuple : trigger_data->tg_trigtuple;
	descriptor = trigger_data->tg_relation->rd_att;
	pattern = SPI_getvalue(tuple, descriptor, SPI_fnumber(descriptor, "pattern"));
	replacement = SPI_getvalue(tuple, descriptor, SPI_fnumber(descriptor, "replacement"));

	if (pattern != NULL)
	{
		pcre2_code *code;
		char		what[64];
		bool		is_null;
		Datum		id = SPI_getbinval(tuple, descriptor, SPI_fnumber(descriptor, "id"), &is_null);

		if (is_null)
			snprintf(what, sizeof(what), "optimizer rule");
		else
			snprintf(what, sizeof(what), "optimizer rule %lld", (long long) DatumGetInt64(id));
		check_context = AllocSetContextCreate(CurrentMemoryContext, "optimizer rule check",
											  ALLOCSET_SMALL_SIZES);
		code = pcre2_util_compile(pattern, 0, check_context, what);
		validate_replacement(code, replacement ? replacement : "", what);
		MemoryContextDelete(check_context);
	}
	return PointerGetDatum(tuple);
}

PG_FUNCTION_INFO_V1(claudecost_optimizer_rules_changed);

/*
 * AFTER statement trigger of claudecost.optimizer_rule and
 * claudecost.optimizer_marker: sends a relcache invalidation for the table,
 * which makes every backend reload the rule set on its next use.
 */
Datum
claudecost_optimizer_rules_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.optimizer_rules_changed must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigger_data->tg_relation));
	return PointerGetDatum(NULL);
}
