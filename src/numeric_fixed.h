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
extern FixedAmount fixed_zero(void);
extern FixedAmount fixed_add(FixedAmount a, FixedAmount b);
extern int	fixed_cmp(FixedAmount a, FixedAmount b);
extern int	fixed_cmp_products(FixedAmount a, FixedAmount b, FixedAmount c, FixedAmount d);

#endif
