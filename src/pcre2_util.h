/*
 * pcre2_util.h
 *		PCRE2 compilation and substitution with PostgreSQL memory and errors.
 */
#ifndef PCRE2_UTIL_H
#define PCRE2_UTIL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "utils/memutils.h"

/* Longest string a substitution may produce, in bytes. */
#define PCRE2_UTIL_MAX_OUTPUT (64 * 1024)

/*
 * Compiles a UTF-8 pattern with PCRE2_UTF | PCRE2_UCP plus extra_options, JIT
 * compiled when the platform supports it.  The code is allocated in context
 * and lives until that context is reset, which also frees its JIT code.  An invalid pattern raises
 * ERRCODE_INVALID_REGULAR_EXPRESSION naming what (e.g. "model pattern 3"),
 * PCRE2's message and the offset.
 */
extern pcre2_code *pcre2_util_compile(const char *pattern, uint32 extra_options,
									  MemoryContext context, const char *what);

/* PCRE2 general context whose allocations are palloc'd in context. */
extern pcre2_general_context *pcre2_util_general_context(MemoryContext context);

/* Match data sized for code, allocated in context. */
extern pcre2_match_data *pcre2_util_match_data(pcre2_code *code, MemoryContext context);

/*
 * Replaces every match of code in subject with replacement (PCRE2's
 * substitution syntax: $1, ${name}).  Returns a palloc'd string in the
 * current memory context, or NULL when the pattern does not match.
 */
extern char *pcre2_util_substitute_all(pcre2_code *code, const char *subject,
									   const char *replacement);

/*
 * Rejects a replacement whose syntax PCRE2 would refuse or that refers to a
 * group the pattern does not have, so the mistake shows when the rule is
 * written rather than when a usage row needs it.
 */
extern void pcre2_util_check_replacement(pcre2_code *code, const char *replacement);

/*
 * PCRE2 runs in UTF mode, so patterns and subjects are UTF-8 whatever the
 * database encoding.  pcre2_util_to_utf8 converts text of the database
 * encoding (the same pointer when it is UTF-8 already) and returns NULL for
 * bytes that are not valid UTF-8 in an SQL_ASCII database.
 * pcre2_util_from_utf8 converts a match or substitution result back.
 */
extern char *pcre2_util_to_utf8(const char *text);
extern char *pcre2_util_from_utf8(const char *text);

#endif							/* PCRE2_UTIL_H */
