/*
 * budget_check.c
 *		claudecost.budget_check: the allow / warn / block decision for one
 *		request against every budget that applies to it.
 *
 * The check runs on every API request, so it avoids SQL on its path:
 *
 * - The definitions of the enabled budgets (scope, period, time zone, first
 *   threshold, limit in USD, hard or soft) are loaded with SPI on first use
 *   and kept per backend in a memory context of their own.  A statement
 *   trigger on claudecost.budget and claudecost.exchange_rate
 *   (claudecost.budget_definitions_changed) sends a relcache invalidation
 *   for its table.  The callback registered here then marks the cache
 *   stale, and the next check reloads it.  Each check first accepts pending
 *   invalidations, so it sees every definition committed before it started.
 * - Period boundaries are computed in C with the same rule and the same
 *   timestamp functions as claudecost.budget_bucket and
 *   claudecost.budget_period_end (calendar periods start at the first
 *   instant of their local day, so DST days are 23 or 25 hours).
 * - Spend counters and live holds are read with index scans of the primary
 *   keys of claudecost.budget_spend and claudecost.budget_hold, all under
 *   one snapshot, so a settlement that commits meanwhile is counted once.
 *   The usage history is never read.
 *
 * Money is numeric.  Sums and comparisons of amounts below 10^16 with at
 * most 20 decimal places run in exact 128-bit fixed point (numeric_fixed.c).
 * Other amounts and the messages use numeric, so results are identical to
 * the SQL definitions.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "claudecost.h"
#include "numeric_fixed.h"
#include "pricing.h"

typedef enum BudgetPeriod
{
	PERIOD_DAILY,
	PERIOD_WEEKLY,
	PERIOD_MONTHLY,
	PERIOD_QUARTERLY,
	PERIOD_ANNUAL,
	PERIOD_CUSTOM,
	PERIOD_ROLLING
} BudgetPeriod;

/* Actions in the order of claudecost.budget_action: a higher one binds. */
typedef enum BudgetAction
{
	ACTION_ALLOW,
	ACTION_WARN,
	ACTION_BLOCK
} BudgetAction;

static const char *const action_labels[] = {"allow", "warn", "block"};

/*
 * Heap TID of a budget_spend row as the primary key index gave it (the root
 * of its HOT chain), for the key (budget_id, period_start), in relation
 * file file.  Counter updates change no indexed column, so they stay on
 * that chain, and the next check fetches the row without an index descent.
 */
typedef struct CounterTid
{
	bool		valid;
	ItemPointerData tid;
	TimestampTz period_start;
	Oid			file;
} CounterTid;

/* One enabled budget, as loaded from claudecost.budget and its exchange rate. */
typedef struct BudgetDef
{
	int64		id;
	char	   *name;
	text	   *name_text;		/* name as a text datum */
	Numeric		amount;			/* in currency */
	char	   *currency;
	text	   *currency_text;
	text	   *within_message; /* the message of an allow decision */
	bool		is_usd;
	bool		is_utc;			/* time_zone is exactly 'UTC' */
	Numeric		usd_per_unit;
	Numeric		limit_usd;		/* amount * usd_per_unit */
	FixedAmount limit_fixed;	/* limit_usd in fixed form, when it has one */
	char	   *user_id;		/* scope; NULL matches everything */
	char	   *project_id;
	text	   *model;			/* LIKE pattern */
	char	   *api_key_id;
	char	   *tag;
	BudgetPeriod period;
	Interval	period_length;	/* custom and rolling only */
	text	   *time_zone;
	TimestampTz starts_at;
	bool		has_ends_at;
	TimestampTz ends_at;
	Numeric		warn_usd;		/* warn_at[1] * limit_usd, or NULL */
	FixedAmount warn_fixed;		/* warn_usd in fixed form, when it has one */
	bool		hard_limit;

	/*
	 * The period of the last check, reused while as_of stays in
	 * [cached_from, cached_to): every as_of in a calendar period, or in the
	 * last UTC hour of a rolling window, has the same bounds.
	 */
	bool		period_cached;
	TimestampTz cached_from;
	TimestampTz cached_to;
	TimestampTz cached_first_bucket;
	TimestampTz cached_bucket;
	TimestampTz cached_period_start;
	TimestampTz cached_period_end;

	/* Where this budget's counter row of the current bucket was found. */
	CounterTid	spend_row;

	/*
	 * Rolling windows only: the sum of the window's closed hours (all but
	 * the last), reused while the late-change marker row is the same
	 * version.  See rolling_spend.
	 */
	CounterTid	marker_row;
	bool		closed_valid;
	TimestampTz closed_first;
	TimestampTz closed_last;
	Numeric		closed_sum;		/* in cache_context */
	ItemPointerData marker_version;
	TransactionId marker_xmin;
	bool		horizon_set;
	TimestampTz horizon_hour;	/* the UTC hour horizon_xid was read in */
	TransactionId horizon_xid;
} BudgetDef;

/*
 * State of one applicable budget during a check, in USD.  The projected
 * spend is compared in fixed form when all its parts have one.  Its numeric
 * sum is computed only when some part has none, and for messages.
 */
typedef struct BudgetState
{
	BudgetDef  *def;
	TimestampTz period_start;
	TimestampTz period_end;
	TimestampTz first_bucket;	/* the counter rows of the period */
	TimestampTz last_bucket;
	Numeric		spent_usd;
	Numeric		reserved_usd;
	Numeric		estimate_usd;	/* the request's estimate, or 0 */
	Numeric		projected_usd;	/* spent + reserved + estimate; NULL until needed */
	FixedAmount projected_fixed;	/* the same sum in fixed form, when it has one */
	bool		wants_holds;	/* the real clock is in the period */
	BudgetAction action;
} BudgetState;

static MemoryContext cache_context = NULL;
static bool cache_valid = false;
/*
 * Role that loaded the cache.  Row-level security on claudecost.budget can
 * show each role other budgets, so a different role reloads them.
 */
static Oid	cache_user = InvalidOid;
/* Whether row-level security on claudecost.budget was on when the cache was loaded. */
static bool cache_row_security = false;
/* Counts invalidations, so that one arriving during a load is not lost. */
static uint64 invalidation_count = 0;

static BudgetDef *budgets = NULL;
static int	budget_count = 0;
static int64 all_budget_count = 0;	/* enabled or not */
static int	rolling_budget_count = 0;	/* enabled */
static TupleDesc decision_desc = NULL;
static Oid	action_oids[3];

static Oid	budget_relid = InvalidOid;
static Oid	rate_relid = InvalidOid;
static Oid	spend_relid = InvalidOid;
static Oid	spend_index = InvalidOid;
static Oid	hold_relid = InvalidOid;
static Oid	hold_index = InvalidOid;
static AttrNumber spend_budget_att;
static AttrNumber spend_start_att;
static AttrNumber spend_spent_att;
static AttrNumber hold_amount_att;
static AttrNumber hold_expires_att;

/*
 * The role last found to have SELECT on the four tables a check reads, so
 * that its next checks skip pg_class_aclcheck.  GRANT and REVOKE on those
 * tables change their pg_class rows, which sends a relcache invalidation.
 * Changes to roles and role memberships send syscache invalidations.
 * Both reset it.
 */
static Oid	select_allowed_role = InvalidOid;

/* Relcache callback: marks the cache stale when a table it depends on changes. */
static void
budget_cache_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == budget_relid || relid == rate_relid ||
		relid == spend_relid || relid == spend_index ||
		relid == hold_relid || relid == hold_index)
	{
		cache_valid = false;
		invalidation_count++;
		select_allowed_role = InvalidOid;
	}
}

/*
 * Syscache callback for pg_authid and pg_auth_members: privileges may have
 * changed, and with row-level security on claudecost.budget, so may the
 * budgets a role sees (membership, BYPASSRLS).
 */
static void
role_privileges_invalidate(Datum arg, int cache_id, uint32 hash_value)
{
	select_allowed_role = InvalidOid;
	if (cache_row_security)
	{
		cache_valid = false;
		invalidation_count++;
	}
}

/* Registers the invalidation callbacks of the budget cache and the privilege check. */
void
budget_check_init(void)
{
	CacheRegisterRelcacheCallback(budget_cache_invalidate, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, role_privileges_invalidate, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, role_privileges_invalidate, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMMEMROLE, role_privileges_invalidate, (Datum) 0);
}

/* Makes the text datums of b that decisions return, in the cache. */
static void
cache_decision_texts(BudgetDef *b)
{
	MemoryContext old_context = MemoryContextSwitchTo(cache_context);

	b->name_text = cstring_to_text(b->name);
	b->currency_text = cstring_to_text(b->currency);
	b->within_message = cstring_to_text(psprintf("within budget \"%s\"", b->name));
	MemoryContextSwitchTo(old_context);
}

/* Copies a text column into the cache as a C string, or NULL. */
static char *
cache_cstring(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);

	if (isnull)
		return NULL;
	return MemoryContextStrdup(cache_context, TextDatumGetCString(value));
}

/* Copies a text column into the cache as a detoasted text, or NULL. */
static text *
cache_text(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);
	text	   *t;
	text	   *copy;

	if (isnull)
		return NULL;
	t = DatumGetTextPP(value);
	copy = MemoryContextAlloc(cache_context, VARSIZE_ANY_EXHDR(t) + VARHDRSZ);
	SET_VARSIZE(copy, VARSIZE_ANY_EXHDR(t) + VARHDRSZ);
	memcpy(VARDATA(copy), VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	return copy;
}

/* Copies a numeric column into the cache, or NULL. */
static Numeric
cache_numeric(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);
	MemoryContext old_context;
	Numeric		copy;

	if (isnull)
		return NULL;
	old_context = MemoryContextSwitchTo(cache_context);
	copy = DatumGetNumericCopy(value);
	MemoryContextSwitchTo(old_context);
	return copy;
}

/* Maps a period name of claudecost.budget to its kind. */
static BudgetPeriod
parse_period(const char *period)
{
	if (strcmp(period, "daily") == 0)
		return PERIOD_DAILY;
	if (strcmp(period, "weekly") == 0)
		return PERIOD_WEEKLY;
	if (strcmp(period, "monthly") == 0)
		return PERIOD_MONTHLY;
	if (strcmp(period, "quarterly") == 0)
		return PERIOD_QUARTERLY;
	if (strcmp(period, "annual") == 0)
		return PERIOD_ANNUAL;
	if (strcmp(period, "custom") == 0)
		return PERIOD_CUSTOM;
	if (strcmp(period, "rolling") == 0)
		return PERIOD_ROLLING;
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid budget period \"%s\"", period),
			 errdetail("The budget_period_check constraint allows only the known periods.")));
	return PERIOD_DAILY;		/* keep the compiler quiet */
}

/* Resolves a column of a claudecost table by name. */
static AttrNumber
column_number(Oid relid, const char *column)
{
	AttrNumber	attnum = get_attnum(relid, column);

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of a claudecost budget table does not exist", column)));
	return attnum;
}

/* Checks that column is key column position of a primary key index; the scans key on it. */
static void
check_index_column(Oid indexid, const char *column, AttrNumber position)
{
	if (get_attnum(indexid, column) != position)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" does not have \"%s\" as key column %d",
						get_rel_name(indexid), column, position)));
}

/* Whether row-level security is enabled on a relation. */
static bool
relation_row_security(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		enabled;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	enabled = ((Form_pg_class) GETSTRUCT(tuple))->relrowsecurity;
	ReleaseSysCache(tuple);
	return enabled;
}

/* Resolves a claudecost relation by name. */
static Oid
claudecost_relid(Oid namespace_oid, const char *name)
{
	Oid			relid = get_relname_relid(name, namespace_oid);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"claudecost.%s\" does not exist", name)));
	return relid;
}

/* Keeps the result type of budget_check and the labels of its action enum. */
static void
load_decision_type(FunctionCallInfo fcinfo)
{
	TupleDesc	result_desc;
	MemoryContext old_context;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning a record called in a context that cannot accept it")));
	old_context = MemoryContextSwitchTo(cache_context);
	decision_desc = BlessTupleDesc(CreateTupleDescCopy(result_desc));
	MemoryContextSwitchTo(old_context);
	for (i = 0; i < 3; i++)
		action_oids[i] = DatumGetObjectId(DirectFunctionCall2(enum_in,
															  CStringGetDatum(action_labels[i]),
															  ObjectIdGetDatum(TupleDescAttr(decision_desc, 0)->atttypid)));
}

/*
 * Loads the enabled budgets, the number of all budgets and the relation
 * ids.  The result type of budget_check is loaded again after this.
 */
static void
load_budgets(void)
{
	uint64		started = invalidation_count;
	Oid			namespace_oid;
	TupleDesc	desc;
	bool		isnull_count;
	int			i;

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(TopMemoryContext, "claudecost budget cache",
											  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(cache_context);
	budgets = NULL;
	budget_count = 0;
	rolling_budget_count = 0;
	decision_desc = NULL;

	namespace_oid = get_namespace_oid("claudecost", false);
	budget_relid = claudecost_relid(namespace_oid, "budget");
	rate_relid = claudecost_relid(namespace_oid, "exchange_rate");
	spend_relid = claudecost_relid(namespace_oid, "budget_spend");
	spend_index = claudecost_relid(namespace_oid, "budget_spend_pkey");
	hold_relid = claudecost_relid(namespace_oid, "budget_hold");
	hold_index = claudecost_relid(namespace_oid, "budget_hold_pkey");
	check_index_column(spend_index, "budget_id", 1);
	check_index_column(spend_index, "period_start", 2);
	spend_budget_att = column_number(spend_relid, "budget_id");
	spend_start_att = column_number(spend_relid, "period_start");
	spend_spent_att = column_number(spend_relid, "spent");
	check_index_column(hold_index, "budget_id", 1);
	hold_amount_att = column_number(hold_relid, "amount");
	hold_expires_att = column_number(hold_relid, "expires_at");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT b.id, b.name, b.amount, b.currency, x.usd_per_unit,"
					" b.amount OPERATOR(pg_catalog.*) x.usd_per_unit, b.user_id, b.project_id, b.model,"
					" b.api_key_id, b.tag, b.period, b.period_length, b.time_zone,"
					" b.starts_at, b.ends_at, b.warn_at[1] OPERATOR(pg_catalog.*) (b.amount OPERATOR(pg_catalog.*) x.usd_per_unit), b.hard_limit"
					" FROM claudecost.budget b"
					" JOIN claudecost.exchange_rate x ON x.currency OPERATOR(pg_catalog.=) b.currency"
					" WHERE b.enabled ORDER BY b.id",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read claudecost.budget");
	desc = SPI_tuptable->tupdesc;
	budgets = MemoryContextAllocZero(cache_context, sizeof(BudgetDef) * Max(SPI_processed, 1));
	for (i = 0; i < (int) SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		BudgetDef  *b = &budgets[i];
		bool		isnull;
		Datum		value;
		char	   *period;

		b->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		b->name = cache_cstring(tuple, desc, 2);
		b->amount = cache_numeric(tuple, desc, 3);
		b->currency = cache_cstring(tuple, desc, 4);
		cache_decision_texts(b);
		b->is_usd = strcmp(b->currency, "USD") == 0;
		b->usd_per_unit = cache_numeric(tuple, desc, 5);
		b->limit_usd = cache_numeric(tuple, desc, 6);
		b->user_id = cache_cstring(tuple, desc, 7);
		b->project_id = cache_cstring(tuple, desc, 8);
		b->model = cache_text(tuple, desc, 9);
		b->api_key_id = cache_cstring(tuple, desc, 10);
		b->tag = cache_cstring(tuple, desc, 11);
		period = TextDatumGetCString(SPI_getbinval(tuple, desc, 12, &isnull));
		b->period = parse_period(period);
		if (b->period == PERIOD_ROLLING)
			rolling_budget_count++;
		value = SPI_getbinval(tuple, desc, 13, &isnull);
		if (!isnull)
			b->period_length = *DatumGetIntervalP(value);
		b->time_zone = cache_text(tuple, desc, 14);
		b->is_utc = VARSIZE_ANY_EXHDR(b->time_zone) == 3 && memcmp(VARDATA_ANY(b->time_zone), "UTC", 3) == 0;
		b->starts_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 15, &isnull));
		value = SPI_getbinval(tuple, desc, 16, &isnull);
		b->has_ends_at = !isnull;
		if (!isnull)
			b->ends_at = DatumGetTimestampTz(value);
		b->warn_usd = cache_numeric(tuple, desc, 17);
		b->limit_fixed = fixed_from_numeric(b->limit_usd);
		if (b->warn_usd != NULL)
			b->warn_fixed = fixed_from_numeric(b->warn_usd);
		b->hard_limit = DatumGetBool(SPI_getbinval(tuple, desc, 18, &isnull));
	}
	budget_count = (int) SPI_processed;

	/* Disabled budgets keep counting spend, so the usage trigger needs them too. */
	if (SPI_execute("SELECT pg_catalog.count(*) FROM claudecost.budget", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count claudecost.budget");
	all_budget_count = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull_count));
	SPI_finish();

	/* An invalidation received while loading leaves the cache stale. */
	cache_valid = (invalidation_count == started);
	cache_user = GetUserId();
	cache_row_security = relation_row_security(budget_relid);
}

/*
 * True when the cache must be loaded again: it is stale, or row-level
 * security on claudecost.budget may show the current role other budgets
 * than the role that loaded it.
 *
 * NOTE: while row-level security is on, a session that alternates
 * budget_check() as a tenant with usage inserts, whose budget trigger runs
 * as the extension owner, loads the budgets again at each switch.
 */
static bool
cache_needs_load(void)
{
	return !cache_valid || (cache_row_security && cache_user != GetUserId());
}

/* Interval of a calendar period: 1 day, 7 days, 1, 3 or 12 months. */
static Interval
calendar_length(BudgetPeriod period)
{
	Interval	length;

	memset(&length, 0, sizeof(length));
	switch (period)
	{
		case PERIOD_DAILY:
			length.day = 1;
			break;
		case PERIOD_WEEKLY:
			length.day = 7;
			break;
		case PERIOD_MONTHLY:
			length.month = 1;
			break;
		case PERIOD_QUARTERLY:
			length.month = 3;
			break;
		default:
			length.month = 12;
			break;
	}
	return length;
}

/* date_trunc unit of a calendar period */
static const char *
calendar_unit(BudgetPeriod period)
{
	switch (period)
	{
		case PERIOD_DAILY:
			return "day";
		case PERIOD_WEEKLY:
			return "week";
		case PERIOD_MONTHLY:
			return "month";
		case PERIOD_QUARTERLY:
			return "quarter";
		default:
			return "year";
	}
}

/* date_trunc(unit, local), for a timestamp without time zone */
static Timestamp
trunc_in_zone(const char *unit, Timestamp local)
{
	return DatumGetTimestamp(DirectFunctionCall2(timestamp_trunc,
												 PointerGetDatum(cstring_to_text(unit)),
												 TimestampGetDatum(local)));
}

/* timezone(zone, ts): local wall-clock time of ts in the budget's zone. */
static Timestamp
local_time(const BudgetDef *b, TimestampTz ts)
{
	if (b->is_utc)
		return ts;
	return DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, PointerGetDatum(b->time_zone),
												 TimestampTzGetDatum(ts)));
}

/*
 * timezone(zone, local): the instant of a wall-clock time in the budget's
 * zone.  PostgreSQL takes the later instant of a repeated time and reads a
 * skipped time with the offset in force before the change.
 */
static TimestampTz
instant_of(const BudgetDef *b, Timestamp local)
{
	if (b->is_utc)
		return local;
	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, PointerGetDatum(b->time_zone),
												   TimestampGetDatum(local)));
}

/* local + length (or - when negate), for a timestamp without time zone */
static Timestamp
local_plus(Timestamp local, const Interval *length, bool negate)
{
	return DatumGetTimestamp(DirectFunctionCall2(negate ? timestamp_mi_interval : timestamp_pl_interval,
												 TimestampGetDatum(local),
												 IntervalPGetDatum(length)));
}

/* timestamptz + interval (or - when negate), in the session time zone as in SQL. */
static TimestampTz
instant_plus(TimestampTz ts, const Interval *length, bool negate)
{
	return DatumGetTimestampTz(DirectFunctionCall2(negate ? timestamptz_mi_interval : timestamptz_pl_interval,
												   TimestampTzGetDatum(ts),
												   IntervalPGetDatum(length)));
}

/*
 * First instant at which the budget's wall clock shows local, as
 * claudecost.budget_local_start: the earlier instant when the clocks fall
 * back over local, otherwise instant_of.  The wall-clock time a day earlier
 * plus 24 elapsed hours is the earlier instant when the change lies between.
 */
static TimestampTz
local_start(const BudgetDef *b, Timestamp local)
{
	Interval	day;
	Interval	hours;
	TimestampTz earlier;

	if (b->is_utc)
		return local;
	memset(&day, 0, sizeof(day));
	day.day = 1;
	memset(&hours, 0, sizeof(hours));
	hours.time = USECS_PER_DAY;
	earlier = instant_plus(instant_of(b, local_plus(local, &day, true)), &hours, false);
	if (local_time(b, earlier) == local)
		return earlier;
	return instant_of(b, local);
}

/*
 * Whether a custom period steps in elapsed time (period_length without days;
 * budget_validate rejects months) instead of local wall-clock time.
 */
static bool
steps_elapsed_time(const BudgetDef *b)
{
	return b->period == PERIOD_CUSTOM && b->period_length.day == 0;
}

/* a - floor(a / b) * b, for b > 0 */
static int64
floor_mod(int64 a, int64 b)
{
	int64		r = a % b;

	return r < 0 ? r + b : r;
}

/*
 * Local wall-clock start of the calendar or day-stepped custom period whose
 * local range contains local, and the period's local length.
 */
static Timestamp
local_period_origin(const BudgetDef *b, Timestamp local, Interval *step)
{
	if (b->period == PERIOD_CUSTOM)
	{
		Timestamp	local_starts_at = local_time(b, b->starts_at);
		int64		length = b->period_length.day * USECS_PER_DAY + b->period_length.time;
		int64		elapsed = local - local_starts_at;
		Interval   *offset;

		*step = b->period_length;
		offset = DatumGetIntervalP(DirectFunctionCall2(interval_mul,
													   IntervalPGetDatum(&b->period_length),
													   Float8GetDatum((float8) ((elapsed - floor_mod(elapsed, length)) / length))));
		return local_plus(local_starts_at, offset, false);
	}
	*step = calendar_length(b->period);
	return trunc_in_zone(calendar_unit(b->period), local);
}

/*
 * Start of the period (the UTC hour for rolling budgets) that contains ts;
 * the same computation as claudecost.budget_bucket.  The local period that
 * contains the wall-clock time of ts starts at local_start of its origin.
 * Where the clocks jump over that start or back across it, ts can lie
 * before it or past the next start, so the neighbor is taken instead.
 */
static TimestampTz
budget_bucket(const BudgetDef *b, TimestampTz ts)
{
	Timestamp	origin;
	Interval	step;
	TimestampTz start;
	TimestampTz next;

	if (TIMESTAMP_NOT_FINITE(ts))
		return ts;
	if (b->period == PERIOD_ROLLING)
	{
		/* date_trunc('hour', ts, 'UTC'): UTC has no offset changes. */
		return ts - (ts % USECS_PER_HOUR + USECS_PER_HOUR) % USECS_PER_HOUR;
	}
	if (steps_elapsed_time(b))
		return ts - floor_mod(ts - b->starts_at, b->period_length.time);

	origin = local_period_origin(b, local_time(b, ts), &step);
	start = local_start(b, origin);
	if (start > ts)
		return local_start(b, local_plus(origin, &step, true));
	next = local_start(b, local_plus(origin, &step, false));
	if (next <= ts)
		return next;
	return start;
}

/*
 * End (exclusive) of the period that starts at period_start, as
 * claudecost.budget_period_end: the start of the next period.
 */
static TimestampTz
budget_period_end(const BudgetDef *b, TimestampTz period_start)
{
	Timestamp	origin;
	Interval	step;

	if (TIMESTAMP_NOT_FINITE(period_start))
		return period_start;
	if (b->period == PERIOD_ROLLING)
		return period_start + USECS_PER_HOUR;
	if (steps_elapsed_time(b))
		return instant_plus(period_start, &b->period_length, false);
	origin = local_period_origin(b, local_time(b, period_start), &step);
	return local_start(b, local_plus(origin, &step, false));
}

/* Sets the spend window and period of b at as_of, as claudecost.budget_state does. */
static void
compute_budget_period(const BudgetDef *b, TimestampTz as_of, TimestampTz *first_bucket,
			  TimestampTz *bucket, TimestampTz *period_start, TimestampTz *period_end)
{
	Interval	hour;

	memset(&hour, 0, sizeof(hour));
	hour.time = USECS_PER_HOUR;
	*bucket = budget_bucket(b, as_of);
	if (b->period == PERIOD_ROLLING)
	{
		*first_bucket = instant_plus(instant_plus(*bucket, &b->period_length, true), &hour, false);
		*period_start = *first_bucket;
		*period_end = instant_plus(*bucket, &hour, false);
	}
	else
	{
		*first_bucket = *bucket;
		*period_start = *bucket;
		*period_end = budget_period_end(b, *bucket);
	}
}

/*
 * compute_budget_period with the bounds of the previous call kept in b.
 * Consecutive periods tile time, so every as_of in [bucket, period end) has
 * the same bounds.
 */
static void
budget_period(BudgetDef *b, TimestampTz as_of, TimestampTz *first_bucket,
			  TimestampTz *bucket, TimestampTz *period_start, TimestampTz *period_end)
{
	if (!(b->period_cached && as_of >= b->cached_from && as_of < b->cached_to))
	{
		compute_budget_period(b, as_of, &b->cached_first_bucket, &b->cached_bucket,
							  &b->cached_period_start, &b->cached_period_end);
		b->cached_from = b->cached_bucket;
		b->cached_to = b->cached_period_end;
		b->period_cached = !TIMESTAMP_NOT_FINITE(as_of) &&
			as_of >= b->cached_from && as_of < b->cached_to;
	}
	*first_bucket = b->cached_first_bucket;
	*bucket = b->cached_bucket;
	*period_start = b->cached_period_start;
	*period_end = b->cached_period_end;
}

/* True when the text argument equals the scope value (NULL never matches). */
static bool
scope_equal(const char *scope, text *value)
{
	if (scope == NULL)
		return true;
	if (value == NULL)
		return false;
	return strlen(scope) == VARSIZE_ANY_EXHDR(value) &&
		memcmp(scope, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)) == 0;
}

/* True when tags contains tag (tags NULL or holding only other values never match). */
static bool
tags_contain(const char *tag, ArrayType *tags)
{
	Datum	   *elems;
	bool	   *nulls;
	int			count;
	int			i;

	if (tag == NULL)
		return true;
	if (tags == NULL)
		return false;
	deconstruct_array(tags, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
	for (i = 0; i < count; i++)
		if (!nulls[i] && scope_equal(tag, DatumGetTextPP(elems[i])))
			return true;
	return false;
}

/* claudecost.budget_scope_matches for one budget and a request scope. */
static bool
scope_matches(const BudgetDef *b, text *user_id, text *project_id, text *model,
			  text *api_key_id, ArrayType *tags)
{
	if (!scope_equal(b->user_id, user_id) || !scope_equal(b->project_id, project_id) ||
		!scope_equal(b->api_key_id, api_key_id))
		return false;
	if (b->model != NULL)
	{
		if (model == NULL)
			return false;
		if (!DatumGetBool(DirectFunctionCall2Coll(textlike, DEFAULT_COLLATION_OID,
												  PointerGetDatum(model), PointerGetDatum(b->model))))
			return false;
	}
	return tags_contain(b->tag, tags);
}

/* Numeric 0, allocated once; numerics are never modified in place. */
static Numeric
numeric_zero(void)
{
	static Numeric zero = NULL;

	if (zero == NULL)
	{
		MemoryContext old_context = MemoryContextSwitchTo(TopMemoryContext);

		zero = int64_to_numeric(0);
		MemoryContextSwitchTo(old_context);
	}
	return zero;
}

static Numeric
num_add(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(a), NumericGetDatum(b)));
}

static Numeric
num_sub(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_sub, NumericGetDatum(a), NumericGetDatum(b)));
}

static Numeric
num_mul(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_mul, NumericGetDatum(a), NumericGetDatum(b)));
}

static Numeric
num_div(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_div, NumericGetDatum(a), NumericGetDatum(b)));
}

static int
num_cmp(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a), NumericGetDatum(b)));
}

static Numeric
num_round(Numeric a, int scale)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_round, NumericGetDatum(a), Int32GetDatum(scale)));
}

/* Output form of a numeric, or "" for NULL as format('%s') prints it. */
static const char *
num_text(Numeric a)
{
	if (a == NULL)
		return "";
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(a)));
}

/* claudecost.budget_from_usd: a USD amount in the budget's currency. */
static Numeric
from_usd(const BudgetDef *b, Numeric usd)
{
	if (usd == NULL || b->is_usd)
		return usd;
	return DatumGetNumeric(DirectFunctionCall1(numeric_trim_scale,
											   NumericGetDatum(num_round(num_div(usd, b->usd_per_unit), 10))));
}

/*
 * A counter table read during one check.  The heap is opened at once.  The
 * primary key index and its scan are opened only when a lookup needs them
 * and are then restarted for each budget, so each is set up once at most.
 */
typedef struct CounterScan
{
	Relation	heap;
	Oid			index_oid;
	int			nkeys;
	Relation	index;			/* NULL until first needed */
	IndexScanDesc scan;			/* NULL until first needed */
	IndexFetchTableData *fetch; /* TID fetches of a heap that is not heapam */
	bool		heapam;			/* the heap uses PostgreSQL's heap access method */
	Buffer		buffer;			/* pinned by the last heapam TID fetch, or invalid */
	TupleTableSlot *slot;		/* NULL until first needed */
	Snapshot	snapshot;
	BlockNumber nblocks;		/* heap size, measured on first use */
} CounterScan;

/* The columns of a counter row that a check uses. */
typedef struct CounterRow
{
	Numeric		spent;			/* copied; the shared zero for NULL */
	ItemPointerData version;	/* TID of the visible row version */
	TransactionId xmin;			/* of that version */
} CounterRow;

/* Opens heap relid for lookups under snapshot through index indexid with nkeys keys. */
static void
counter_scan_open(CounterScan *cs, Oid relid, Oid indexid, Snapshot snapshot, int nkeys)
{
	memset(cs, 0, sizeof(*cs));
	cs->heap = table_open(relid, AccessShareLock);
	cs->index_oid = indexid;
	cs->nkeys = nkeys;
	cs->heapam = cs->heap->rd_tableam == GetHeapamTableAmRoutine();
	cs->buffer = InvalidBuffer;
	cs->snapshot = snapshot;
	cs->nblocks = InvalidBlockNumber;
}

/* The tuple slot of cs, made on first use. */
static TupleTableSlot *
counter_slot(CounterScan *cs)
{
	if (cs->slot == NULL)
		cs->slot = table_slot_create(cs->heap, NULL);
	return cs->slot;
}

/* The index scan of cs, begun on first use. */
static IndexScanDesc
counter_index_scan(CounterScan *cs)
{
	if (cs->scan == NULL)
	{
		cs->index = index_open(cs->index_oid, AccessShareLock);
		cs->scan = index_beginscan(cs->heap, cs->index, cs->snapshot, cs->nkeys, 0);
	}
	return cs->scan;
}

/* Heap size of cs in blocks, measured once per check. */
static BlockNumber
counter_heap_blocks(CounterScan *cs)
{
	if (cs->nblocks == InvalidBlockNumber)
		cs->nblocks = RelationGetNumberOfBlocks(cs->heap);
	return cs->nblocks;
}

/*
 * Ends the scans and closes the relations.  Their locks are kept until the
 * end of the transaction, as the executor keeps the locks of the tables
 * a query reads.
 */
static void
counter_scan_close(CounterScan *cs)
{
	if (BufferIsValid(cs->buffer))
		ReleaseBuffer(cs->buffer);
	if (cs->fetch != NULL)
		table_index_fetch_end(cs->fetch);
	if (cs->scan != NULL)
	{
		index_endscan(cs->scan);
		index_close(cs->index, NoLock);
	}
	if (cs->slot != NULL)
		ExecDropSingleTupleTableSlot(cs->slot);
	table_close(cs->heap, NoLock);
}

/* Fills row from the counter row in cs->slot. */
static void
slot_counter_row(CounterScan *cs, CounterRow *row)
{
	bool		isnull;
	Datum		spent = slot_getattr(cs->slot, spend_spent_att, &isnull);

	row->spent = isnull ? numeric_zero() : DatumGetNumericCopy(spent);
	row->version = cs->slot->tts_tid;
	row->xmin = DatumGetTransactionId(slot_getsysattr(cs->slot, MinTransactionIdAttributeNumber, &isnull));
}

/*
 * Fetches the version of the HOT chain at tid that the snapshot sees, as
 * heapam's index fetch does but without a tuple slot, and fills row when
 * its key is (budget_id, period_start).  The buffer stays pinned in
 * cs->buffer until the next fetch, so that fetch skips the buffer lookup
 * when it reads the same block.
 */
static bool
fetch_heapam(CounterScan *cs, ItemPointer tid, int64 budget_id, TimestampTz period_start,
			 CounterRow *row)
{
	TupleDesc	desc = RelationGetDescr(cs->heap);
	Buffer		previous = cs->buffer;
	HeapTupleData tuple;
	bool		all_dead = false;
	bool		found;
	bool		isnull;
	bool		spent_null = true;
	Datum		spent = (Datum) 0;

	cs->buffer = ReleaseAndReadBuffer(cs->buffer, cs->heap, ItemPointerGetBlockNumber(tid));
	if (cs->buffer != previous)
		heap_page_prune_opt(cs->heap, cs->buffer);

	LockBuffer(cs->buffer, BUFFER_LOCK_SHARE);
	found = heap_hot_search_buffer(tid, cs->heap, cs->buffer, cs->snapshot, &tuple, &all_dead, true);
	if (found)
	{
		Datum		key = heap_getattr(&tuple, spend_budget_att, desc, &isnull);

		found = !isnull && DatumGetInt64(key) == budget_id;
	}
	if (found)
	{
		Datum		key = heap_getattr(&tuple, spend_start_att, desc, &isnull);

		found = !isnull && DatumGetTimestampTz(key) == period_start;
	}
	if (found)
	{
		spent = heap_getattr(&tuple, spend_spent_att, desc, &spent_null);
		row->version = tuple.t_self;
		row->xmin = HeapTupleHeaderGetXmin(tuple.t_data);
	}
	LockBuffer(cs->buffer, BUFFER_LOCK_UNLOCK);

	/* The pin keeps the tuple in place while spent is copied. */
	if (found)
		row->spent = spent_null ? numeric_zero() : DatumGetNumericCopy(spent);
	return found;
}

/*
 * Fills row and returns true when the row at the TID remembered for
 * (budget_id, period_start) is still that row and a version of it is visible.
 * The key is checked because a TID can be reused once VACUUM removes a
 * dead chain.  Under SERIALIZABLE the index scan runs instead, so that it
 * takes its predicate locks.
 */
static bool
fetch_remembered(CounterScan *cs, const CounterTid *remembered, int64 budget_id,
				 TimestampTz period_start, CounterRow *row)
{
	ItemPointerData tid = remembered->tid;
	TupleTableSlot *slot;
	bool		call_again = false;
	bool		all_dead = false;
	bool		isnull;
	Datum		value;

	if (!remembered->valid || remembered->period_start != period_start ||
		remembered->file != cs->heap->rd_node.relNode || IsolationIsSerializable())
		return false;

	/* VACUUM may have truncated the table since the TID was found. */
	if (ItemPointerGetBlockNumber(&tid) >= counter_heap_blocks(cs))
		return false;

	if (cs->heapam)
		return fetch_heapam(cs, &tid, budget_id, period_start, row);

	/* NOTE: no test covers this path: PostgreSQL 15 ships no other table access method. */
	slot = counter_slot(cs);
	if (cs->scan == NULL && cs->fetch == NULL)
		cs->fetch = table_index_fetch_begin(cs->heap);
	if (!table_index_fetch_tuple(cs->scan != NULL ? cs->scan->xs_heapfetch : cs->fetch, &tid,
								 cs->snapshot, slot, &call_again, &all_dead))
		return false;
	value = slot_getattr(slot, spend_budget_att, &isnull);
	if (isnull || DatumGetInt64(value) != budget_id)
		return false;
	value = slot_getattr(slot, spend_start_att, &isnull);
	if (isnull || DatumGetTimestampTz(value) != period_start)
		return false;
	slot_counter_row(cs, row);
	return true;
}

/* Starts an index scan of the counters of budget_id from first to last bucket. */
static IndexScanDesc
counter_range_scan(CounterScan *cs, int64 budget_id, TimestampTz first, TimestampTz last)
{
	IndexScanDesc scan = counter_index_scan(cs);
	ScanKeyData key[3];

	/* Keys on the columns of budget_spend_pkey: (budget_id, period_start). */
	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(budget_id));
	ScanKeyInit(&key[1], 2, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
				TimestampTzGetDatum(first));
	ScanKeyInit(&key[2], 2, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE,
				TimestampTzGetDatum(last));
	index_rescan(scan, key, 3, NULL, 0);
	return scan;
}

/*
 * Reads the counter row (budget_id, period_start) into row, at the TID in
 * *remembered when that is still the row, else through the index, and
 * then remembers its TID.  False when no version of the row is visible.
 */
static bool
read_counter(CounterScan *cs, int64 budget_id, TimestampTz period_start, CounterTid *remembered,
			 CounterRow *row)
{
	IndexScanDesc scan;
	ItemPointerData root;

	if (fetch_remembered(cs, remembered, budget_id, period_start, row))
		return true;

	/*
	 * Fetching rewrites xs_heaptid to the visible member of the HOT chain,
	 * so the root, which the next fetch must start from, is kept first.
	 */
	scan = counter_range_scan(cs, budget_id, period_start, period_start);
	for (;;)
	{
		ItemPointer tid = index_getnext_tid(scan, ForwardScanDirection);

		if (tid == NULL)
			return false;
		root = *tid;
		if (index_fetch_heap(scan, counter_slot(cs)))
			break;
	}
	slot_counter_row(cs, row);
	remembered->tid = root;
	remembered->period_start = period_start;
	remembered->file = cs->heap->rd_node.relNode;
	remembered->valid = true;
	return true;
}

/* a + b, where either may be the shared zero. */
static Numeric
num_add_nonzero(Numeric a, Numeric b)
{
	if (a == numeric_zero())
		return b;
	if (b == numeric_zero())
		return a;
	return num_add(a, b);
}

/*
 * Spend of the rolling window of b from first to last hour, at clock.
 *
 * Summing the window reads one counter row per hour.  Hours before the
 * current one change only through late writes (rows for a past hour,
 * updates, deletes, recounts), and those also write the budget's
 * late-change marker again: the counter row at period_start '-infinity'
 * (spent 0) that claudecost.create_budget adds.
 * So the sum of the closed hours is kept, with the version of the marker
 * it was read with, and reused while the marker is the same version: a
 * check then reads two rows, the marker and the current hour.
 *
 * A write into the hour that was current when it ran did not touch the
 * marker, and may commit after that hour has closed.  Its transaction
 * had an id before this backend first saw the clock in the new hour
 * (horizon_xid).  A sum is therefore kept and reused only under a snapshot
 * whose xmin is at least horizon_xid, where every such transaction has
 * ended and its rows are in the sum.  Checks as of another time, and SERIALIZABLE
 * transactions, read every hour.
 */
static Numeric
rolling_spend(CounterScan *cs, BudgetDef *b, TimestampTz first, TimestampTz last,
			  TimestampTz clock_hour)
{
	bool		reusable = false;
	ItemPointerData version;
	TransactionId version_xmin = InvalidTransactionId;
	Numeric		closed = numeric_zero();
	Numeric		current = numeric_zero();
	CounterRow	row;
	IndexScanDesc scan;
	TupleTableSlot *slot;

	ItemPointerSetInvalid(&version);
	if (last == clock_hour && !IsolationIsSerializable())
	{
		if (!b->horizon_set || b->horizon_hour != last)
		{
			b->horizon_hour = last;
			b->horizon_xid = ReadNextTransactionId();
			b->horizon_set = true;
			b->closed_valid = false;
		}
		reusable = TransactionIdFollowsOrEquals(cs->snapshot->xmin, b->horizon_xid) &&
			read_counter(cs, b->id, DT_NOBEGIN, &b->marker_row, &row);
	}
	if (reusable)
	{
		version = row.version;
		version_xmin = row.xmin;
		if (b->closed_valid && b->closed_first == first && b->closed_last == last &&
			ItemPointerEquals(&b->marker_version, &version) && b->marker_xmin == version_xmin)
		{
			if (read_counter(cs, b->id, last, &b->spend_row, &row))
				current = row.spent;
			return num_add_nonzero(b->closed_sum, current);
		}
	}

	scan = counter_range_scan(cs, b->id, first, last);
	slot = counter_slot(cs);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		start = slot_getattr(slot, spend_start_att, &isnull);
		Datum		spent = slot_getattr(slot, spend_spent_att, &isnull);

		CHECK_FOR_INTERRUPTS();
		if (isnull)
			continue;
		if (DatumGetTimestampTz(start) == last)
			current = DatumGetNumericCopy(spent);
		else
			closed = closed == numeric_zero() ? DatumGetNumericCopy(spent)
				: num_add(closed, DatumGetNumeric(spent));
	}

	if (reusable)
	{
		MemoryContext old_context = MemoryContextSwitchTo(cache_context);

		b->closed_sum = closed == numeric_zero() ? closed : DatumGetNumericCopy(NumericGetDatum(closed));
		MemoryContextSwitchTo(old_context);
		b->closed_first = first;
		b->closed_last = last;
		b->marker_version = version;
		b->marker_xmin = version_xmin;
		b->closed_valid = true;
	}
	return num_add_nonzero(closed, current);
}

/*
 * Sum of the spend counters of budget b from first to last bucket.  Only a
 * rolling window spans several buckets.  Any other period has one counter
 * row, read at its remembered TID.
 */
static Numeric
sum_spend(CounterScan *cs, BudgetDef *b, TimestampTz first, TimestampTz last,
		  TimestampTz clock_hour)
{
	CounterRow	row;

	if (first != last)
	{
		Assert(b->period == PERIOD_ROLLING);
		return rolling_spend(cs, b, first, last, clock_hour);
	}
	return read_counter(cs, b->id, last, &b->spend_row, &row) ? row.spent : numeric_zero();
}

/*
 * Adds the holds unexpired at clock to the states that count holds
 * (wants_holds), which are in ascending budget id order.  One scan of
 * budget_hold_pkey over the id range of those budgets; the budget id is
 * read from the index entry, so entries of other budgets in the range cost
 * no heap access.  Live holds are few: settled and released ones are
 * deleted, expired ones by the next reservation.  An empty heap file has no
 * hold to count: a row visible to the snapshot was written into a block
 * that existed before the snapshot was taken, so installations that never
 * reserve skip the index.
 */
static void
add_holds(CounterScan *cs, BudgetState *states, int count, TimestampTz clock)
{
	ScanKeyData key[2];
	ItemPointer tid;
	IndexScanDesc scan;
	int			first = -1;
	int			last = -1;
	int			i;

	for (i = 0; i < count; i++)
	{
		if (!states[i].wants_holds)
			continue;
		if (first < 0)
			first = i;
		last = i;
	}
	if (first < 0 || counter_heap_blocks(cs) == 0)
		return;

	ScanKeyInit(&key[0], 1, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(states[first].def->id));
	ScanKeyInit(&key[1], 1, BTLessEqualStrategyNumber, F_INT8LE, Int64GetDatum(states[last].def->id));
	scan = counter_index_scan(cs);
	scan->xs_want_itup = true;
	index_rescan(scan, key, 2, NULL, 0);
	i = first;
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		int64		budget_id = DatumGetInt64(index_getattr(scan->xs_itup, 1,
															scan->xs_itupdesc, &isnull));
		Datum		expires_at;
		Datum		amount;

		CHECK_FOR_INTERRUPTS();
		while (i <= last && states[i].def->id < budget_id)
			i++;
		if (i > last)
			break;
		if (states[i].def->id != budget_id || !states[i].wants_holds)
			continue;
		/* An MVCC snapshot sees at most one version of the row behind an entry. */
		if (!index_fetch_heap(scan, counter_slot(cs)))
			continue;
		expires_at = slot_getattr(cs->slot, hold_expires_att, &isnull);
		if (isnull || DatumGetTimestampTz(expires_at) <= clock)
			continue;
		amount = slot_getattr(cs->slot, hold_amount_att, &isnull);
		if (isnull)
			continue;
		states[i].reserved_usd = num_add(states[i].reserved_usd, DatumGetNumeric(amount));
	}
}

/* Raises the permission error that reading table relid with SELECT would raise. */
static void
check_select(Oid relid)
{
	AclResult	result = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

	if (result != ACLCHECK_OK)
		aclcheck_error(result, OBJECT_TABLE, get_rel_name(relid));
}

/* claudecost.budget_unpriced_message */
static char *
unpriced_message(text *model)
{
	if (model == NULL)
		return pstrdup("estimated cost is unknown; set claudecost.budget_allow_unpriced to allow requests without a price");
	return psprintf("no price for model \"%s\"; set claudecost.budget_allow_unpriced to allow unpriced models",
					text_to_cstring(model));
}

/*
 * Fills states with the enabled budgets whose scope matches the request and
 * whose starts_at and ends_at contain as_of, with their periods, in
 * ascending id order.  Returns their number.
 */
static int
applicable_budgets(BudgetState *states, text *user_id, text *project_id, text *model,
				   text *api_key_id, ArrayType *tags, TimestampTz as_of)
{
	int			count = 0;
	int			i;

	for (i = 0; i < budget_count; i++)
	{
		BudgetDef  *b = &budgets[i];
		BudgetState *s = &states[count];

		if (b->starts_at > as_of || (b->has_ends_at && as_of >= b->ends_at))
			continue;
		if (!scope_matches(b, user_id, project_id, model, api_key_id, tags))
			continue;
		s->def = b;
		budget_period(b, as_of, &s->first_bucket, &s->last_bucket, &s->period_start, &s->period_end);
		count++;
	}
	return count;
}

/*
 * Reads the spend and the live holds of count states under one snapshot.
 * Without an applicable budget the counter and hold tables are not opened.
 */
static void
read_spend_and_holds(BudgetState *states, int count)
{
	TimestampTz clock = GetCurrentTimestamp();
	TimestampTz clock_hour = clock - (clock % USECS_PER_HOUR + USECS_PER_HOUR) % USECS_PER_HOUR;
	Snapshot	snapshot;
	CounterScan spend_scan;
	CounterScan hold_scan;
	int			i;

	if (count == 0)
		return;

	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	counter_scan_open(&spend_scan, spend_relid, spend_index, snapshot, 3);
	for (i = 0; i < count; i++)
	{
		BudgetState *s = &states[i];

		s->spent_usd = sum_spend(&spend_scan, s->def, s->first_bucket, s->last_bucket,
								 clock_hour);
		s->reserved_usd = numeric_zero();
		s->wants_holds = clock >= s->period_start && clock < s->period_end;
	}
	counter_scan_close(&spend_scan);

	counter_scan_open(&hold_scan, hold_relid, hold_index, snapshot, 2);
	add_holds(&hold_scan, states, count, clock);
	counter_scan_close(&hold_scan);
	UnregisterSnapshot(snapshot);
}

/* Spent + reserved + estimate of s as numeric, computed on first use. */
static Numeric
state_projected(BudgetState *s)
{
	Numeric		zero = numeric_zero();
	Numeric		sum = s->spent_usd;

	if (s->projected_usd != NULL)
		return s->projected_usd;

	/* Adding the shared zero (no holds, no estimate) would only copy. */
	if (s->reserved_usd != zero)
		sum = num_add(sum, s->reserved_usd);
	if (s->estimate_usd != zero)
		sum = num_add(sum, s->estimate_usd);
	s->projected_usd = sum;
	return sum;
}

/* Sign of the projected spend of s minus amount, where fixed is amount in fixed form or invalid. */
static int
projected_cmp(BudgetState *s, Numeric amount, FixedAmount fixed)
{
	if (s->projected_fixed.valid && fixed.valid)
		return fixed_cmp(s->projected_fixed, fixed);
	return num_cmp(state_projected(s), amount);
}

/*
 * Sign of headroom(b) - headroom(a), where headroom is limit - projected as
 * a share of the limit.  Limits are positive, so a has less headroom
 * exactly when projected(a) x limit(b) > projected(b) x limit(a): no
 * subtraction or division, and no multiplication for equal limits.
 */
static int
headroom_cmp(BudgetState *a, BudgetState *b)
{
	FixedAmount limit_a = a->def->limit_fixed;
	FixedAmount limit_b = b->def->limit_fixed;

	if (a->projected_fixed.valid && b->projected_fixed.valid && limit_a.valid && limit_b.valid)
	{
		if (fixed_cmp(limit_a, limit_b) == 0)
			return fixed_cmp(a->projected_fixed, b->projected_fixed);
		return fixed_cmp_products(a->projected_fixed, limit_b, b->projected_fixed, limit_a);
	}

	if (num_cmp(a->def->limit_usd, b->def->limit_usd) == 0)
		return num_cmp(state_projected(a), state_projected(b));
	return num_cmp(num_mul(state_projected(a), b->def->limit_usd),
				   num_mul(state_projected(b), a->def->limit_usd));
}

/* True when state a binds before b: higher action, then less headroom, then lower id. */
static bool
binds_before(BudgetState *a, BudgetState *b)
{
	int			c;

	if (a->action != b->action)
		return a->action > b->action;
	c = headroom_cmp(a, b);
	if (c != 0)
		return c > 0;
	return a->def->id < b->def->id;
}

/*
 * The message of a decision that state best binds, with its spent and
 * reserved amounts in the budget's currency.  unpriced_allowed: the
 * estimate is NULL and counts as 0.
 */
static text *
decision_message(BudgetState *best, Numeric spent, Numeric reserved, Numeric estimate,
				 text *model, bool unpriced_blocks, bool unpriced_allowed)
{
	const BudgetDef *b = best->def;
	char	   *message;

	if (unpriced_blocks)
		return cstring_to_text(unpriced_message(model));

	if (best->action == ACTION_BLOCK)
		message = psprintf("budget \"%s\" would be exceeded: %s spent, %s reserved, %s requested, limit %s %s",
						   b->name, num_text(spent), num_text(reserved),
						   num_text(from_usd(b, estimate)), num_text(b->amount), b->currency);
	else if (best->action == ACTION_WARN && projected_cmp(best, b->limit_usd, b->limit_fixed) > 0)
		message = psprintf("soft budget \"%s\" would be exceeded: %s spent, %s reserved, %s requested, limit %s %s",
						   b->name, num_text(spent), num_text(reserved),
						   num_text(from_usd(b, estimate)), num_text(b->amount), b->currency);
	else if (best->action == ACTION_WARN)
		message = psprintf("budget \"%s\" would reach %s%% of its limit of %s %s",
						   b->name,
						   num_text(num_round(num_mul(num_div(state_projected(best), b->limit_usd),
													  int64_to_numeric(100)), 2)),
						   num_text(b->amount), b->currency);
	else if (!unpriced_allowed)
		return b->within_message;
	else
		message = psprintf("within budget \"%s\"", b->name);

	if (unpriced_allowed)
		message = psprintf("%s (model \"%s\" has no price; counted as 0)", message,
						   model == NULL ? "" : text_to_cstring(model));
	return cstring_to_text(message);
}

/*
 * The decision for a request of estimate USD (NULL: no price known); the
 * same result as the former PL/pgSQL claudecost.budget_decide.
 */
static Datum
budget_decide(FunctionCallInfo fcinfo, Numeric estimate, text *user_id, text *project_id,
			  text *model, text *api_key_id, ArrayType *tags, bool as_of_null, TimestampTz as_of)
{
	Datum		values[11];
	bool		nulls[11];
	bool		unpriced_allowed = false;
	bool		unpriced_blocks;
	Numeric		zero = numeric_zero();
	Numeric		estimate0;
	FixedAmount estimate_fixed;
	BudgetState best;
	bool		found = false;
	BudgetState *states;
	int			count;
	int			i;

	if (estimate != NULL &&
		(numeric_is_nan(estimate) || numeric_is_inf(estimate) || num_cmp(estimate, numeric_zero()) < 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid estimated_cost \"%s\"", num_text(estimate)),
				 errhint("Give the estimated cost of the request in USD, a finite amount of zero or more.")));
	if (as_of_null)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must not be NULL")));
	if (estimate == NULL)
	{
		const char *setting = GetConfigOption("claudecost.budget_allow_unpriced", true, false);

		if (setting != NULL && !parse_bool(setting, &unpriced_allowed))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for claudecost.budget_allow_unpriced: \"%s\"", setting)));
	}
	memset(&best, 0, sizeof(best));
	unpriced_blocks = estimate == NULL && !unpriced_allowed;
	estimate0 = estimate == NULL ? zero : estimate;
	estimate_fixed = estimate == NULL ? fixed_zero() : fixed_from_numeric(estimate);

	/*
	 * Take the definitions committed so far; the new command id makes the
	 * snapshot below see the writes of the statements before this one.
	 *
	 * NOTE: under REPEATABLE READ the counters and holds come from the
	 * transaction snapshot, but the cached definitions are the latest
	 * committed ones, where the SQL read them from the snapshot too.
	 */
	CommandCounterIncrement();
	AcceptInvalidationMessages();
	if (cache_needs_load())
		load_budgets();
	if (decision_desc == NULL)
		load_decision_type(fcinfo);
	if (select_allowed_role != GetUserId())
	{
		check_select(budget_relid);
		check_select(rate_relid);
		check_select(spend_relid);
		check_select(hold_relid);
		select_allowed_role = GetUserId();
	}

	states = palloc(sizeof(BudgetState) * Max(budget_count, 1));
	count = applicable_budgets(states, user_id, project_id, model, api_key_id, tags, as_of);
	read_spend_and_holds(states, count);

	for (i = 0; i < count; i++)
	{
		BudgetState *s = &states[i];
		const BudgetDef *b = s->def;

		s->estimate_usd = estimate0;
		s->projected_usd = NULL;
		s->projected_fixed = fixed_add(fixed_add(fixed_from_numeric(s->spent_usd),
												 s->reserved_usd == zero ? fixed_zero()
												 : fixed_from_numeric(s->reserved_usd)),
									   estimate_fixed);
		if (unpriced_blocks)
			s->action = ACTION_BLOCK;
		else if (projected_cmp(s, b->limit_usd, b->limit_fixed) > 0)
			s->action = b->hard_limit ? ACTION_BLOCK : ACTION_WARN;
		else if (b->warn_usd != NULL && projected_cmp(s, b->warn_usd, b->warn_fixed) >= 0)
			s->action = ACTION_WARN;
		else
			s->action = ACTION_ALLOW;
		if (!found || binds_before(s, &best))
		{
			best = *s;
			found = true;
		}
	}

	memset(nulls, true, sizeof(nulls));
	if (!found)
	{
		values[0] = ObjectIdGetDatum(action_oids[unpriced_blocks ? ACTION_BLOCK : ACTION_ALLOW]);
		nulls[0] = false;
		values[9] = CStringGetTextDatum(unpriced_blocks ? unpriced_message(model) : "no budget applies");
		nulls[9] = false;
	}
	else
	{
		const BudgetDef *b = best.def;
		Numeric		spent = from_usd(b, best.spent_usd);
		Numeric		reserved = from_usd(b, best.reserved_usd);
		Numeric		remaining = num_sub(b->amount, spent);

		if (reserved != zero)
			remaining = num_sub(remaining, reserved);

		values[0] = ObjectIdGetDatum(action_oids[best.action]);
		values[1] = Int64GetDatum(b->id);
		values[2] = PointerGetDatum(b->name_text);
		values[3] = NumericGetDatum(spent);
		values[4] = NumericGetDatum(reserved);
		values[5] = NumericGetDatum(remaining);
		values[6] = NumericGetDatum(b->amount);
		values[7] = TimestampTzGetDatum(best.period_start);
		values[8] = TimestampTzGetDatum(best.period_end);
		values[9] = PointerGetDatum(decision_message(&best, spent, reserved, estimate, model,
													 unpriced_blocks, unpriced_allowed));
		values[10] = PointerGetDatum(b->currency_text);
		memset(nulls, false, sizeof(nulls));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(decision_desc, values, nulls)));
}

/*
 * True when any budget exists, enabled or not, as of the invalidations
 * received so far.  The usage trigger skips budget work without one.
 */
bool
budget_any_defined(void)
{
	AcceptInvalidationMessages();
	if (cache_needs_load())
		load_budgets();
	return all_budget_count > 0;
}

/*
 * True when an enabled rolling budget exists, as of the invalidations
 * received so far.  Only then must the usage trigger write late-change
 * markers: a budget enabled later is loaded afresh, with no kept sum.
 */
bool
budget_any_rolling(void)
{
	AcceptInvalidationMessages();
	if (cache_needs_load())
		load_budgets();
	return rolling_budget_count > 0;
}

PG_FUNCTION_INFO_V1(claudecost_budget_bucket);

/*
 * claudecost.budget_bucket(period, period_length, time_zone, starts_at,
 * ts): start of the period of such a budget that contains ts.  The usage
 * triggers call it for every row and budget, so it shares the C rule of
 * budget_check instead of running PL/pgSQL.  NULL when ts, the period or
 * the zone is NULL, or a custom period lacks its length or start.
 */
Datum
claudecost_budget_bucket(PG_FUNCTION_ARGS)
{
	BudgetDef	b;
	text	   *time_zone;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(4))
		PG_RETURN_NULL();
	memset(&b, 0, sizeof(b));
	b.period = parse_period(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if ((b.period == PERIOD_CUSTOM || b.period == PERIOD_ROLLING) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (b.period == PERIOD_CUSTOM && PG_ARGISNULL(3))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(1))
		b.period_length = *PG_GETARG_INTERVAL_P(1);
	time_zone = PG_GETARG_TEXT_PP(2);
	b.time_zone = time_zone;
	b.is_utc = VARSIZE_ANY_EXHDR(time_zone) == 3 && memcmp(VARDATA_ANY(time_zone), "UTC", 3) == 0;
	if (!PG_ARGISNULL(3))
		b.starts_at = PG_GETARG_TIMESTAMPTZ(3);
	PG_RETURN_TIMESTAMPTZ(budget_bucket(&b, PG_GETARG_TIMESTAMPTZ(4)));
}

#define TEXT_ARG_OR_NULL(n) (PG_ARGISNULL(n) ? NULL : PG_GETARG_TEXT_PP(n))

PG_FUNCTION_INFO_V1(claudecost_budget_check);

/*
 * claudecost.budget_check(estimated_cost, user_id, project_id, model,
 * api_key_id, tags, as_of): decision for a request of estimated_cost USD.
 */
Datum
claudecost_budget_check(PG_FUNCTION_ARGS)
{
	return budget_decide(fcinfo,
						 PG_ARGISNULL(0) ? NULL : PG_GETARG_NUMERIC(0),
						 TEXT_ARG_OR_NULL(1), TEXT_ARG_OR_NULL(2), TEXT_ARG_OR_NULL(3),
						 TEXT_ARG_OR_NULL(4),
						 PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5),
						 PG_ARGISNULL(6), PG_ARGISNULL(6) ? 0 : PG_GETARG_TIMESTAMPTZ(6));
}

PG_FUNCTION_INFO_V1(claudecost_budget_check_tokens);

/*
 * claudecost.budget_check(model, input_tokens, max_output_tokens, user_id,
 * project_id, api_key_id, tags, as_of): prices the request as
 * claudecost.cost(model, input_tokens, max_output_tokens, occurred_at =>
 * as_of) does, then decides as the numeric form.
 */
Datum
claudecost_budget_check_tokens(PG_FUNCTION_ARGS)
{
	text	   *model = TEXT_ARG_OR_NULL(0);
	Numeric		estimate = NULL;

	if (model != NULL)
	{
		UsageCounts counts;
		UsageCost	cost;
		TimestampTz occurred_at = PG_ARGISNULL(7) ? GetCurrentTransactionStartTimestamp()
			: PG_GETARG_TIMESTAMPTZ(7);

		memset(&counts, 0, sizeof(counts));
		counts.input_tokens = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
		pricing_check_count("input_tokens", counts.input_tokens);
		counts.output_tokens = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2);
		pricing_check_count("output_tokens", counts.output_tokens);
		counts.service_tier = pricing_parse_service_tier("standard");
		counts.us_geo = pricing_parse_inference_geo_is_us(NULL);
		counts.fast = pricing_parse_speed_is_fast(NULL);
		if (pricing_price_request(text_to_cstring(model), occurred_at, &counts, &cost) != NULL)
			estimate = cost.total_cost;
	}
	return budget_decide(fcinfo, estimate,
						 TEXT_ARG_OR_NULL(3), TEXT_ARG_OR_NULL(4), model, TEXT_ARG_OR_NULL(5),
						 PG_ARGISNULL(6) ? NULL : PG_GETARG_ARRAYTYPE_P(6),
						 PG_ARGISNULL(7), PG_ARGISNULL(7) ? 0 : PG_GETARG_TIMESTAMPTZ(7));
}

PG_FUNCTION_INFO_V1(claudecost_budget_definitions_changed);

/* Statement trigger on claudecost.budget and exchange_rate: makes every session reload its budgets. */
Datum
claudecost_budget_definitions_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigger_data = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("claudecost.budget_definitions_changed() must be called as a trigger")));

	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigger_data->tg_relation));
	return PointerGetDatum(NULL);
}
