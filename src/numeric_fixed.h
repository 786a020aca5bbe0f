/*
 * numeric_fixed.h
 *		Exact fixed-point copies of numeric amounts.
 */
#ifndef NUMERIC_FIXED_H
#define NUMERIC_FIXED_H

#include "utils/numeric.h"

/*
 * An amount as a count of 10^-20 units, or no value when the amount has no
 * exact fixed form.  Every valid amount is less than 10^37 units in
 * magnitude, so the sum of two valid amounts cannot overflow.
 */
typedef struct FixedAmount
{
	bool		valid;
#ifdef HAVE_INT128
	int128		units;
#endif
} FixedAmount;

extern FixedAmount fixed_from_numeric(Numeric num);
extern int	fixed_cmp_products(FixedAmount a, FixedAmount b, FixedAmount c, FixedAmount d);

#ifdef HAVE_INT128

/* 10^37 units: no valid amount reaches it. */
#define FIXED_UNITS_BOUND ((int128) 10000000000000000000ULL * 1000000000000000000LL)

static inline FixedAmount
fixed_zero(void)
{
	FixedAmount result = {true, 0};

	return result;
}

/* a + b; invalid when either input is invalid or the sum reaches 10^37 units. */
static inline FixedAmount
fixed_add(FixedAmount a, FixedAmount b)
{
	FixedAmount result = {false, 0};

	if (!a.valid || !b.valid)
		return result;
	result.units = a.units + b.units;
	result.valid = result.units < FIXED_UNITS_BOUND && result.units > -FIXED_UNITS_BOUND;
	return result;
}

/* Sign of a - b, for valid amounts. */
static inline int
fixed_cmp(FixedAmount a, FixedAmount b)
{
	Assert(a.valid && b.valid);
	return (a.units > b.units) - (a.units < b.units);
}

#else							/* !HAVE_INT128: no amount has a fixed form */

static inline FixedAmount
fixed_zero(void)
{
	FixedAmount result = {false};

	return result;
}

static inline FixedAmount
fixed_add(FixedAmount a, FixedAmount b)
{
	return fixed_zero();
}

static inline int
fixed_cmp(FixedAmount a, FixedAmount b)
{
	elog(ERROR, "fixed-point amounts need a 128-bit integer type");
	return 0;
}

#endif							/* HAVE_INT128 */

#endif
