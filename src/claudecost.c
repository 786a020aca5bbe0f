/*
 * claudecost.c
 *		Module entry point: registers the GUCs and caches of each subsystem.
 */
#include "postgres.h"

#include "fmgr.h"

#include "claudecost.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Called once per backend when the library is loaded. */
void
_PG_init(void)
{
	price_cache_init();
	budget_guc_init();
	budget_check_init();
	optimizer_init();
}
