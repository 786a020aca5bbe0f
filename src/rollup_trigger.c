/*
 * rollup_trigger.c
 *		Statement trigger that keeps the rollups equal to the ledger.
 *
 * One trigger function serves AFTER INSERT, UPDATE, DELETE and TRUNCATE
 * statements of claudecost.usage and maintains every rollup: usage_hourly,
 * usage_analytics_daily, and the prompt and long-context rollups.  INSERT
 * adds the new rows, UPDATE adds the new versions and subtracts the old
 * ones, DELETE subtracts, TRUNCATE empties the rollups.
 *
 * An INSERT or DELETE of one row, the common case, goes through
 * rollup_row.c: one kept statement with the row's figures as parameters.
 * Every other statement runs the set-based statements of
 * rollup_statements.c over the transition tables.  The prompt and
 * long-context statements run only when a row has a prompt_hash or a
 * long_context flag, which the trigger checks first.
 *
 * Both paths write the rollups in one table order (prompt, long context,
 * daily, hourly), so concurrent writers lock rollup rows in the same order.
 * A statement that changed no row returns before SPI is touched, which keeps
 * replayed ingests cheap.
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "rollup_row.h"
#include "rollup_statements.h"
#include "transition_rows.h"

/* True when a row of table has a prompt_hash or a long_context flag. */
static bool
table_has_detail(Relation usage, Tuplestorestate *table)
{
	TransitionScan scan;
	bool		found = false;

	if (transition_row_count(table) == 0)
		return false;

	transition_scan_begin(&scan, table, RelationGetDescr(usage));
	while (!found && transition_scan_next(&scan))
		found = rollup_row_has_detail(usage, scan.slot);
	transition_scan_end(&scan);
	return found;
}

/* Registers the transition tables for the set-based statements, once. */
static void
register_transition_tables(TriggerData *trigger_data, bool *registered)
{
	int			rc;

	if (*registered)
		return;
	rc = SPI_register_trigger_data(trigger_data);
	if (rc < 0)
		elog(ERROR, "SPI_register_trigger_data failed: %s", SPI_result_code_string(rc));
	*registered = true;
}

/* Runs the prompt and long-context statements over the transition tables. */
static void
apply_detail(TriggerData *trigger_data, RollupEvent event, bool *registered)
{
	register_transition_tables(trigger_data, registered);
	rollup_statement_execute(ROLLUP_PROMPT, event);
	rollup_statement_execute(ROLLUP_LONG_CONTEXT, event);
}

/* Applies the one row that an INSERT added or a DELETE removed. */
static void
apply_one_row(TriggerData *trigger_data, RollupEvent event)
{
	Relation	usage = trigger_data->tg_relation;
	bool		inserted = event == ROLLUP_INSERT;
	bool		registered = false;
	TransitionScan scan;

	transition_scan_begin(&scan, inserted ? trigger_data->tg_newtable : trigger_data->tg_oldtable,
						  RelationGetDescr(usage));
	if (transition_scan_next(&scan))
	{
		if (rollup_row_has_detail(usage, scan.slot))
			apply_detail(trigger_data, event, &registered);
		rollup_row_apply(usage, scan.slot, inserted ? 1 : -1);
	}
	transition_scan_end(&scan);
}

/* Applies a statement's change with the set-based statements. */
static void
apply_statement(TriggerData *trigger_data, RollupEvent event)
{
	Relation	usage = trigger_data->tg_relation;
	bool		registered = false;

	if (table_has_detail(usage, trigger_data->tg_newtable) ||
		table_has_detail(usage, trigger_data->tg_oldtable))
		apply_detail(trigger_data, event, &registered);

	register_transition_tables(trigger_data, &registered);
	rollup_statement_execute(ROLLUP_DAILY, event);
	rollup_statement_execute(ROLLUP_HOURLY, event);
}

/* After TRUNCATE of the ledger no figure is left: empties every rollup. */
static void
clear_rollups(void)
{
	static const char *const rollups[] = {
		"claudecost.usage_analytics_prompt", "claudecost.usage_analytics_prompt_day",
		"claudecost.usage_analytics_long_context", "claudecost.usage_analytics_daily",
		"claudecost.usage_hourly"
	};
	size_t		i;

	for (i = 0; i < lengthof(rollups); i++)
	{
		int			rc = SPI_execute(psprintf("DELETE FROM %s", rollups[i]), false, 0);

		if (rc != SPI_OK_DELETE)
			elog(ERROR, "could not empty %s: %s", rollups[i], SPI_result_code_string(rc));
	}
}

/* The event kind of a trigger call; raises an error for anything but a statement trigger on usage. */
static RollupEvent
rollup_event(FunctionCallInfo fcinfo, bool *truncate)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigger_data->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigger_data->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.usage_rollup() must be an AFTER statement trigger")));

	*truncate = TRIGGER_FIRED_BY_TRUNCATE(trigger_data->tg_event);
	if (*truncate || TRIGGER_FIRED_BY_INSERT(trigger_data->tg_event))
		return ROLLUP_INSERT;
	if (TRIGGER_FIRED_BY_UPDATE(trigger_data->tg_event))
		return ROLLUP_UPDATE;
	if (TRIGGER_FIRED_BY_DELETE(trigger_data->tg_event))
		return ROLLUP_DELETE;
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("claudecost.usage_rollup() must fire on INSERT, UPDATE, DELETE or TRUNCATE")));
	return ROLLUP_INSERT;		/* keep the compiler quiet */
}

PG_FUNCTION_INFO_V1(claudecost_usage_rollup);

/* Trigger function claudecost.usage_rollup(): applies one statement's change to the rollups. */
Datum
claudecost_usage_rollup(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;
	bool		truncate;
	RollupEvent event = rollup_event(fcinfo, &truncate);
	int64		rows;

	rows = transition_row_count(trigger_data->tg_newtable) +
		transition_row_count(trigger_data->tg_oldtable);
	if (!truncate && rows == 0)
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (truncate)
		clear_rollups();
	else if (event != ROLLUP_UPDATE && rows == 1)
		apply_one_row(trigger_data, event);
	else
		apply_statement(trigger_data, event);

	SPI_finish();
	return PointerGetDatum(NULL);
}
