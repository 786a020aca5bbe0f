/*
 * numeric_fixed.c
 *		Exact fixed-point copies of numeric amounts, for fast comparisons.
 *
 * budget_check adds and compares a few USD amounts per budget on every
 * request.  Each numeric operation allocates its result and costs several
 * hundred instructions.  An amount held as a 128-bit count of 10^-20 units
 * gives the same sums and comparisons exactly, without allocation.
 *
 * An amount has a fixed form when it is finite, less than 10^16 in magnitude
 * and has at most 20 decimal places.  Callers keep the numeric and use it
 * for any amount without one, so results never depend on the form.
 * Without a 128-bit integer type no amount has a fixed form.
 *
 * The decoder reads the stored numeric format of PostgreSQL's numeric.c,
 * which pg_upgrade requires to stay the same across major versions.  The
 * varlena data begins with a 16-bit header.  Its top two bits are 10 for
 * the short form and 11 for NaN and the infinities.  A short header contains
 * the sign (0x2000), the display scale and a 7-bit signed weight (0x007F).
 * A long header contains the sign (0x4000) and the display scale, and a 16-bit
 * weight follows it.  The digits follow as 16-bit base-10000 digits, most
 * significant first.  The first digit is worth 10000^weight, and numeric's
 * own functions store no leading or trailing zero digits.
 */
#include "postgres.h"

#include "numeric_fixed.h"

#define NUMERIC_FLAG_MASK		0xC000
#define NUMERIC_FLAG_NEGATIVE	0x4000
#define NUMERIC_FLAG_SHORT		0x8000
#define NUMERIC_FLAG_SPECIAL	0xC000
#define NUMERIC_SHORT_NEGATIVE	0x2000
#define NUMERIC_SHORT_WEIGHT_SIGN	0x0040
#define NUMERIC_SHORT_WEIGHT_MASK	0x003F

/* Base-10000 digits after the decimal point that a fixed amount keeps: 10^-20 units. */
#define FIXED_FRACTION_DIGITS	5
/* Base-10000 digits before the decimal point: amounts below 10^16. */
#define FIXED_INTEGER_DIGITS	4

#ifdef HAVE_INT128

static uint16
read_uint16(const char *p)
{
	uint16		value;

	memcpy(&value, p, sizeof(value));
	return value;
}

/* Amount num in 10^-20 units; invalid when num has no fixed form. */
FixedAmount
fixed_from_numeric(Numeric num)
{
	FixedAmount result = {false, 0};
	const char *data;
	uint16		header;
	bool		negative;
	int			weight;
	int			ndigits;
	int			last_weight;
	int128		units = 0;
	int			i;

	/* A toasted value is read by numeric's own functions instead. */
	if (VARATT_IS_EXTERNAL(num) || VARATT_IS_COMPRESSED(num))
		return result;

	data = VARDATA_ANY(num);
	header = read_uint16(data);
	if ((header & NUMERIC_FLAG_MASK) == NUMERIC_FLAG_SPECIAL)
		return result;
	if (header & NUMERIC_FLAG_SHORT)
	{
		negative = (header & NUMERIC_SHORT_NEGATIVE) != 0;
		weight = (header & NUMERIC_SHORT_WEIGHT_MASK);
		if (header & NUMERIC_SHORT_WEIGHT_SIGN)
			weight |= ~NUMERIC_SHORT_WEIGHT_MASK;
		data += sizeof(uint16);
		ndigits = (VARSIZE_ANY_EXHDR(num) - sizeof(uint16)) / sizeof(uint16);
	}
	else
	{
		negative = (header & NUMERIC_FLAG_MASK) == NUMERIC_FLAG_NEGATIVE;
		weight = (int16) read_uint16(data + sizeof(uint16));
		data += 2 * sizeof(uint16);
		ndigits = (VARSIZE_ANY_EXHDR(num) - 2 * sizeof(uint16)) / sizeof(uint16);
	}

	if (ndigits == 0)
	{
		result.valid = true;
		return result;
	}
	last_weight = weight - (ndigits - 1);
	if (weight >= FIXED_INTEGER_DIGITS || last_weight < -FIXED_FRACTION_DIGITS)
		return result;

	for (i = 0; i < ndigits; i++)
	{
		uint16		digit = read_uint16(data + i * sizeof(uint16));

		if (digit >= 10000)
			return result;
		units = units * 10000 + digit;
	}
	for (i = last_weight; i > -FIXED_FRACTION_DIGITS; i--)
		units *= 10000;

	result.valid = true;
	result.units = negative ? -units : units;
	return result;
}

/* The 256-bit product of x and y as high and low halves. */
static void
multiply_wide(uint128 x, uint128 y, uint128 *high, uint128 *low)
{
	uint64		x0 = (uint64) x;
	uint64		x1 = (uint64) (x >> 64);
	uint64		y0 = (uint64) y;
	uint64		y1 = (uint64) (y >> 64);
	uint128		p00 = (uint128) x0 * y0;
	uint128		p01 = (uint128) x0 * y1;
	uint128		p10 = (uint128) x1 * y0;
	uint128		p11 = (uint128) x1 * y1;
	uint128		middle = (p00 >> 64) + (uint64) p01 + (uint64) p10;

	*low = (uint128) (uint64) p00 | (middle << 64);
	*high = p11 + (p01 >> 64) + (p10 >> 64) + (middle >> 64);
}

static int
sign_of(int128 value)
{
	return (value > 0) - (value < 0);
}

static uint128
magnitude(int128 value)
{
	return value < 0 ? -(uint128) value : (uint128) value;
}

/*
 * Sign of a x b - c x d, for valid amounts.  The products need up to 246
 * bits, so their magnitudes are compared as 256-bit numbers.
 */
int
fixed_cmp_products(FixedAmount a, FixedAmount b, FixedAmount c, FixedAmount d)
{
	int			left_sign = sign_of(a.units) * sign_of(b.units);
	int			right_sign = sign_of(c.units) * sign_of(d.units);
	uint128		left_high;
	uint128		left_low;
	uint128		right_high;
	uint128		right_low;
	int			magnitude_cmp;

	Assert(a.valid && b.valid && c.valid && d.valid);
	if (left_sign != right_sign || left_sign == 0)
		return (left_sign > right_sign) - (left_sign < right_sign);

	multiply_wide(magnitude(a.units), magnitude(b.units), &left_high, &left_low);
	multiply_wide(magnitude(c.units), magnitude(d.units), &right_high, &right_low);
	if (left_high != right_high)
		magnitude_cmp = left_high > right_high ? 1 : -1;
	else
		magnitude_cmp = (left_low > right_low) - (left_low < right_low);
	return left_sign * magnitude_cmp;
}

#else							/* !HAVE_INT128 */

FixedAmount
fixed_from_numeric(Numeric num)
{
	FixedAmount result = {false};

	return result;
}

int
fixed_cmp_products(FixedAmount a, FixedAmount b, FixedAmount c, FixedAmount d)
{
	elog(ERROR, "fixed-point amounts need a 128-bit integer type");
	return 0;
}

#endif							/* HAVE_INT128 */
