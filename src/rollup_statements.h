/*
 * rollup_statements.h
 *		Set-based statements that apply a statement's change of
 *		claudecost.usage to the rollups.
 */
#ifndef ROLLUP_STATEMENTS_H
#define ROLLUP_STATEMENTS_H

typedef enum RollupEvent
{
	ROLLUP_INSERT,
	ROLLUP_UPDATE,
	ROLLUP_DELETE,
	ROLLUP_EVENT_COUNT
} RollupEvent;

/* In the order the trigger runs them, which fixes the order of row locks. */
typedef enum RollupStatement
{
	ROLLUP_PROMPT,
	ROLLUP_LONG_CONTEXT,
	ROLLUP_DAILY,
	ROLLUP_HOURLY,
	ROLLUP_STATEMENT_COUNT
} RollupStatement;

extern void rollup_statement_execute(RollupStatement statement, RollupEvent event);

#endif							/* ROLLUP_STATEMENTS_H */
