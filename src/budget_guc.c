/*
 * budget_guc.c
 *		Settings of the budget subsystem.
 *
 * The budget functions are SQL and PL/pgSQL (schema/70_budget.sql); they read
 * these settings with current_setting().  Defining them here gives them a
 * type, a default and documentation once the library is loaded.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "claudecost.h"

/* When true, budget_check lets a model without a price pass as cost 0. */
static bool budget_allow_unpriced = false;

/* Registers claudecost.budget_allow_unpriced. */
void
budget_guc_init(void)
{
	DefineCustomBoolVariable("claudecost.budget_allow_unpriced",
							 "Lets budget_check allow a request for a model that has no price.",
							 "When off (the default), a request whose cost cannot be computed is blocked. "
							 "When on, its estimate counts as 0 USD.",
							 &budget_allow_unpriced,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}
