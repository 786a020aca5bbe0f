/*
 * budget_trigger.c
 *		Statement trigger that keeps the budget spend counters equal to the
 *		ledger and settles the reservations that usage rows carry.
 *
 * For every budget whose scope and time range contain a changed usage row,
 * the row's signed total cost is added to the counter of the budget's
 * period (claudecost.budget_apply_spend, which also records thresholds
 * reached).  Disabled budgets count too, so that enabling one again finds
 * an exact counter.  A row that carries a new reservation_id settles that
 * reservation (claudecost.budget_settle).
 *
 * Most installations write far more usage rows than they have budgets, and
 * many have none.  Before it touches SPI, the trigger checks the per-backend
 * budget cache for any budget and scans the rows for a reservation_id, so a
 * statement with nothing to do costs no query.  The statements
 * that do the work are prepared once per backend and event kind and kept.
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "claudecost.h"
#include "transition_rows.h"

typedef enum BudgetEvent
{
	BUDGET_INSERT,
	BUDGET_UPDATE,
	BUDGET_DELETE,
	BUDGET_EVENT_COUNT
} BudgetEvent;

/* Signed row source of each event, over the transition tables named by the triggers. */
static const char *const spend_sources[BUDGET_EVENT_COUNT] = {
	"SELECT 1 AS sign, n.* FROM new_rows n",
	"SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o",
	"SELECT -1 AS sign, o.* FROM old_rows o"
};

/*
 * Pairs each priced row r of the source with every budget b whose scope and
 * time range contain it.  Both statements below count rows this way.
 */
#define ROWS_AND_BUDGETS \
"FROM (%s) r" \
" JOIN claudecost.budget b" \
"   ON r.occurred_at >= b.starts_at" \
"  AND (b.ends_at IS NULL OR r.occurred_at < b.ends_at)" \
"  AND claudecost.budget_scope_matches(b.user_id, b.project_id, b.model, b.api_key_id, b.tag," \
"                                      r.user_id, r.project_id, r.model, r.api_key_id, r.tags)" \
" WHERE r.total_cost IS NOT NULL"

/* Per budget and period, the signed sum of the total costs of the rows it covers. */
static const char spend_template[] =
"SELECT claudecost.budget_apply_spend(ARRAY("
"  SELECT ROW(x.budget_id, x.period_start, pg_catalog.sum(x.amount))::claudecost.budget_spend_delta"
"  FROM (SELECT b.id AS budget_id,"
"               claudecost.budget_bucket(b.period, b.period_length, b.time_zone, b.starts_at,"
"                                        r.occurred_at) AS period_start,"
"               r.sign * r.total_cost AS amount "
ROWS_AND_BUDGETS ") x"
"  GROUP BY x.budget_id, x.period_start"
"  HAVING pg_catalog.sum(x.amount) <> 0))";

/*
 * Late-change markers: the counter row at period_start -infinity of every
 * rolling budget that a row of an hour before the current one counts for is
 * written again (its spent stays 0).  budget_check keeps the sum of a
 * window's past hours while the marker keeps its row version.  Runs after
 * the counters, so rows are locked in the order counters, then markers.
 */
static const char marker_template[] =
"INSERT INTO claudecost.budget_spend AS s (budget_id, period_start, spent)"
" SELECT DISTINCT b.id, '-infinity'::timestamptz, 0::numeric "
ROWS_AND_BUDGETS
"   AND b.period = 'rolling'"
"   AND r.occurred_at < pg_catalog.date_trunc('hour', pg_catalog.clock_timestamp(), 'UTC')"
" ORDER BY 1"
" ON CONFLICT (budget_id, period_start) DO UPDATE SET spent = s.spent";

/*
 * Reservations to settle: the reservation_id of every inserted row, and of
 * every updated row that did not carry it before (a repricing keeps it).
 * A row settles only a reservation made for its own project or for no
 * project: the trigger runs as the extension owner, so without that test a
 * tenant could settle another tenant's hold with a row of its own.
 */
static const char *const settle_statements[BUDGET_EVENT_COUNT] = {
	"SELECT claudecost.budget_settle(ARRAY("
	"  SELECT DISTINCT n.reservation_id FROM new_rows n"
	"  JOIN claudecost.budget_reservation r ON r.id = n.reservation_id"
	"  WHERE r.project_id IS NULL OR r.project_id = n.project_id))",
	"SELECT claudecost.budget_settle(ARRAY("
	"  SELECT DISTINCT n.reservation_id FROM new_rows n"
	"  JOIN claudecost.budget_reservation r ON r.id = n.reservation_id"
	"  LEFT JOIN old_rows o ON o.id = n.id"
	"  WHERE (r.project_id IS NULL OR r.project_id = n.project_id)"
	"    AND n.reservation_id IS DISTINCT FROM o.reservation_id))",
	NULL
};

static SPIPlanPtr spend_plans[BUDGET_EVENT_COUNT];
static SPIPlanPtr marker_plans[BUDGET_EVENT_COUNT];
static SPIPlanPtr settle_plans[BUDGET_EVENT_COUNT];

/*
 * Runs a kept statement, preparing it on first use from format with source
 * (may be NULL); expected_rc is SPI's result code for its kind.
 */
static void
execute_kept(SPIPlanPtr *plan, const char *format, const char *source, int expected_rc)
{
	int			rc;

	if (*plan == NULL)
	{
		SPIPlanPtr	prepared = SPI_prepare(source == NULL ? format : psprintf(format, source), 0, NULL);

		if (prepared == NULL)
			elog(ERROR, "SPI_prepare failed for the usage budget trigger: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(prepared);
		*plan = prepared;
	}
	rc = SPI_execute_plan(*plan, NULL, NULL, false, 0);
	if (rc != expected_rc)
		elog(ERROR, "usage budget statement failed: %s", SPI_result_code_string(rc));
}

/* True when a row of the new transition table carries a reservation_id. */
static bool
carries_reservation(TriggerData *trigger_data)
{
	Relation	usage = trigger_data->tg_relation;
	TransitionScan scan;
	int			attnum;
	bool		found = false;

	if (transition_row_count(trigger_data->tg_newtable) == 0)
		return false;
	attnum = SPI_fnumber(RelationGetDescr(usage), "reservation_id");
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"reservation_id\" of relation \"usage\" does not exist")));

	transition_scan_begin(&scan, trigger_data->tg_newtable, RelationGetDescr(usage));
	while (!found && transition_scan_next(&scan))
	{
		bool		isnull;

		(void) slot_getattr(scan.slot, attnum, &isnull);
		found = !isnull;
	}
	transition_scan_end(&scan);
	return found;
}

PG_FUNCTION_INFO_V1(claudecost_usage_budget);

/* Trigger function claudecost.usage_budget(): applies one statement's change to the budgets. */
Datum
claudecost_usage_budget(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;
	BudgetEvent event;
	bool		spend;
	bool		settle;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigger_data->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigger_data->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.usage_budget() must be an AFTER statement trigger")));
	if (TRIGGER_FIRED_BY_INSERT(trigger_data->tg_event))
		event = BUDGET_INSERT;
	else if (TRIGGER_FIRED_BY_UPDATE(trigger_data->tg_event))
		event = BUDGET_UPDATE;
	else if (TRIGGER_FIRED_BY_DELETE(trigger_data->tg_event))
		event = BUDGET_DELETE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.usage_budget() must fire on INSERT, UPDATE or DELETE")));

	if (transition_row_count(trigger_data->tg_newtable) == 0 &&
		transition_row_count(trigger_data->tg_oldtable) == 0)
		return PointerGetDatum(NULL);

	spend = budget_any_defined();
	settle = event != BUDGET_DELETE && carries_reservation(trigger_data);
	if (!spend && !settle)
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_register_trigger_data(trigger_data) < 0)
		elog(ERROR, "SPI_register_trigger_data failed");

	if (spend)
	{
		execute_kept(&spend_plans[event], spend_template, spend_sources[event], SPI_OK_SELECT);
		if (budget_any_rolling())
			execute_kept(&marker_plans[event], marker_template, spend_sources[event], SPI_OK_INSERT);
	}
	if (settle)
		execute_kept(&settle_plans[event], settle_statements[event], NULL, SPI_OK_SELECT);

	SPI_finish();
	return PointerGetDatum(NULL);
}
