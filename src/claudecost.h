/*
 * claudecost.h
 *		Declarations shared between the subsystems of the extension.
 */
#ifndef CLAUDECOST_H
#define CLAUDECOST_H

/* Per-subsystem initialization, called from _PG_init. */
extern void price_cache_init(void);
extern void budget_guc_init(void);
extern void budget_check_init(void);
extern void optimizer_init(void);

/* Budgets (budget_check.c): whether any budget exists, enabled or not. */
extern bool budget_any_defined(void);

/* Budgets (budget_check.c): whether an enabled rolling budget exists. */
extern bool budget_any_rolling(void);

/*
 * Maximum size in bytes of the usage text columns that rollup keys or unique
 * indexes contain (model, user_id, project_id, ...): see usage_trigger.c.
 */
#define USAGE_KEY_TEXT_MAX_BYTES 512

#endif							/* CLAUDECOST_H */
