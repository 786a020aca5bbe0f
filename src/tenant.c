/*
 * tenant.c
 *		Trigger support for tenant isolation (claudecost.project_member).
 *
 * Row-level security on claudecost.budget shows a role only the budgets of
 * its projects, and src/budget_check.c caches the budgets that the current
 * role can see.  A change of project membership changes that set, so the
 * statement trigger on claudecost.project_member sends a relcache
 * invalidation for claudecost.budget, which makes every session reload its
 * cached budgets.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(claudecost_project_member_changed);

/* Statement trigger on claudecost.project_member: makes every session reload its budgets. */
Datum
claudecost_project_member_changed(PG_FUNCTION_ARGS)
{
	Oid			budget_relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.project_member_changed() must be called as a trigger")));

	budget_relid = get_relname_relid("budget", get_namespace_oid("claudecost", false));
	if (OidIsValid(budget_relid))
		CacheInvalidateRelcacheByRelid(budget_relid);
	return PointerGetDatum(NULL);
}
