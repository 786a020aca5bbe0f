/*
 * json_syntax.c
 *		Strict checks of JSON strings, numbers and white space, for the tokens
 *		that cJSON accepts but RFC 8259 and PostgreSQL's jsonb reject.
 *
 * cJSON 1.7 reads "\uZZZZ" as the code point 0 (its parse_hex4 returns 0 on
 * a non-hex digit), which ends the decoded C string, so "msg_A\uZZZZone" and
 * "msg_A\uZZZZtwo" both become "msg_A".  It also takes raw control
 * characters inside strings, numbers such as 01, 1. and 1.e5 (it hands them
 * to strtod), and any byte up to 0x20 as white space.  json_check_tokens
 * rejects all of these, with messages modelled on jsonb's, in one pass
 * over the text that cJSON parsed.  cJSON itself still rejects structural
 * errors, invalid escape letters and unpaired surrogates.  This pass
 * reports those escape errors too, with a precise message, when it reaches
 * them first.
 *
 * Most of a usage record is string content, so strings are scanned 16 bytes
 * at a time (8 without SSE2) for a quote, a backslash or a control
 * character.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"

#include "json_syntax.h"

/* Bytes of a token quoted in an error detail. */
#define JSON_TOKEN_SNIPPET 40

#ifdef __SSE2__
#include <emmintrin.h>
#else
/* A 64-bit word with every byte set to b. */
#define BYTES_OF(b) (UINT64CONST(0x0101010101010101) * (uint8) (b))

/* True when a byte of word is below n, for n <= 128 (exact, no false positives). */
#define HAS_BYTE_BELOW(word, n) \
	((((word) - BYTES_OF(n)) & ~(word) & BYTES_OF(0x80)) != 0)

/* True when a byte of word equals b. */
#define HAS_BYTE(word, b) HAS_BYTE_BELOW((word) ^ BYTES_OF(b), 1)
#endif

/* JSON white space: space, tab, line feed and carriage return. */
static inline bool
json_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline bool
json_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Characters that jsonb's lexer counts as part of a token after a number. */
static inline bool
json_is_token_char(unsigned char c)
{
	return json_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		c == '_' || c >= 0x80;
}

static inline int
json_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Byte offset of p in the caller's input, for error details. */
static inline int
json_offset(const JsonTextPosition *position, const char *p)
{
	return position->base_offset + (int) (p - position->base);
}

static void json_escape_error(const JsonTextPosition *position, const char *escape,
							  const char *limit, const char *reason) pg_attribute_noreturn();

/* Raises the error for an invalid \u escape; reason is a clause saying why. */
static void
json_escape_error(const JsonTextPosition *position, const char *escape,
				  const char *limit, const char *reason)
{
	int			length = 2;

	/* Show the escape up to its four digits, but not the closing quote. */
	while (length < 6 && escape + length < limit && escape[length] != '"')
		length++;
	length = pg_mbcliplen(escape, length, length);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid JSON in %s", position->what),
			 errdetail("Escape sequence \"%.*s\" at byte offset %d is invalid because %s.",
					   length, escape, json_offset(position, escape), reason)));
}

/*
 * Returns the UTF-16 code unit of the \u escape at escape (a backslash), or
 * raises the error for an escape without four hex digits before limit.
 */
static int
json_read_hex4(const JsonTextPosition *position, const char *escape, const char *limit)
{
	int			value = 0;

	for (int i = 2; i < 6; i++)
	{
		int			digit = escape + i < limit ? json_hex_value((unsigned char) escape[i]) : -1;

		if (digit < 0)
			json_escape_error(position, escape, limit,
							  "\"\\u\" must be followed by four hexadecimal digits");
		value = value * 16 + digit;
	}
	return value;
}

static void json_invalid_escape(const JsonTextPosition *position, const char *escape,
								const char *limit) pg_attribute_noreturn();

/* Raises the error for a backslash followed by a character that starts no escape. */
static void
json_invalid_escape(const JsonTextPosition *position, const char *escape, const char *limit)
{
	/* Show the whole character after the backslash. */
	int			length = 1 + pg_encoding_mblen(GetDatabaseEncoding(), escape + 1);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid JSON in %s", position->what),
			 errdetail("Escape sequence \"%.*s\" at byte offset %d is invalid.",
					   (int) Min(length, limit - escape), escape,
					   json_offset(position, escape)),
			 errhint("JSON strings accept the escapes \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t and \\u followed by four hexadecimal digits.")));
}

/*
 * Returns the first byte in [p, limit) that is '"', '\\' or a control
 * character, or limit.  With SSE2 (every x86-64 CPU) it tests 16 bytes at a
 * time, otherwise 8.
 */
static inline const char *
json_find_string_special(const char *p, const char *limit)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i backslash = _mm_set1_epi8('\\');
	const __m128i control_max = _mm_set1_epi8(0x1F);

	while (limit - p >= 16)
	{
		__m128i		bytes = _mm_loadu_si128((const __m128i *) p);

		/* min(byte, 0x1F) == byte exactly when byte <= 0x1F, unsigned. */
		__m128i		special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote),
														_mm_cmpeq_epi8(bytes, backslash)),
										   _mm_cmpeq_epi8(_mm_min_epu8(bytes, control_max), bytes));
		int			mask = _mm_movemask_epi8(special);

		if (mask != 0)
			return p + pg_rightmost_one_pos32((uint32) mask);
		p += 16;
	}
#else
	while (limit - p >= 8)
	{
		uint64		word;

		memcpy(&word, p, sizeof(word));
		if (HAS_BYTE_BELOW(word, 0x20) || HAS_BYTE(word, '"') || HAS_BYTE(word, '\\'))
			break;
		p += 8;
	}
#endif
	for (; p < limit; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '"' || c == '\\' || c < 0x20)
			return p;
	}
	return limit;
}

/*
 * Checks the string whose opening quote is at p and returns the position
 * after its closing quote, or limit when the string is not closed (cJSON
 * then reports where the text ends).
 */
static const char *
json_check_string(const JsonTextPosition *position, const char *p, const char *limit)
{
	p++;
	for (;;)
	{
		unsigned char c;
		int			code;

		p = json_find_string_special(p, limit);
		if (p >= limit)
			return limit;

		c = (unsigned char) *p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid JSON in %s", position->what),
					 errdetail("Character with value 0x%02x at byte offset %d must be escaped.",
							   c, json_offset(position, p)),
					 errhint("Write control characters in JSON strings as escapes such as \\n or \\u001f.")));

		/* An escape sequence: a backslash at p. */
		if (p + 1 >= limit)
			return limit;
		if (p[1] != 'u')
		{
			if (p[1] == '\0' || strchr("\"\\/bfnrt", p[1]) == NULL)
				json_invalid_escape(position, p, limit);
			p += 2;
			continue;
		}

		code = json_read_hex4(position, p, limit);
		if (code == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
					 errmsg("unsupported Unicode escape sequence"),
					 errdetail("\\u0000 cannot be converted to text (byte offset %d).",
							   json_offset(position, p))));
		if (code >= 0xDC00 && code <= 0xDFFF)
			json_escape_error(position, p, limit,
							  "a Unicode low surrogate must follow a high surrogate");
		if (code >= 0xD800 && code <= 0xDBFF)
		{
			/* A high surrogate: the next escape must be a low surrogate. */
			const char *high = p;
			int			low = -1;

			p += 6;
			if (p >= limit)
				return limit;
			if (limit - p >= 2 && p[0] == '\\' && p[1] == 'u')
				low = json_read_hex4(position, p, limit);
			if (low < 0xDC00 || low > 0xDFFF)
				json_escape_error(position, high, limit,
								  "a Unicode high surrogate must be followed by a low surrogate");
		}
		p += 6;
	}
}

/*
 * Checks the number that starts at p (a digit or '-') against the JSON
 * grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and returns the
 * position after it.  As in jsonb, letters, digits and '_' right after a
 * number make the whole run one invalid token, so 01 and 1x are rejected.
 */
static const char *
json_check_number(const JsonTextPosition *position, const char *p, const char *limit)
{
	const char *token = p;
	bool		valid = true;

	if (*p == '-')
		p++;
	if (p < limit && *p == '0')
		p++;
	else if (p < limit && json_is_digit(*p))
	{
		while (p < limit && json_is_digit(*p))
			p++;
	}
	else
		valid = false;

	if (valid && p < limit && *p == '.')
	{
		p++;
		if (p >= limit || !json_is_digit(*p))
			valid = false;
		while (p < limit && json_is_digit(*p))
			p++;
	}
	if (valid && p < limit && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (p < limit && (*p == '+' || *p == '-'))
			p++;
		if (p >= limit || !json_is_digit(*p))
			valid = false;
		while (p < limit && json_is_digit(*p))
			p++;
	}
	if (p < limit && json_is_token_char((unsigned char) *p))
	{
		valid = false;
		while (p < limit && json_is_token_char((unsigned char) *p))
			p++;
	}

	if (!valid)
	{
		int			length = pg_mbcliplen(token, (int) (p - token), JSON_TOKEN_SNIPPET);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid JSON in %s", position->what),
				 errdetail("Token \"%.*s\" at byte offset %d is invalid.",
						   length, token, json_offset(position, token)),
				 errhint("JSON numbers have no leading zeros and need digits after a decimal point and after an exponent, as in 0, 12, -1.5 and 2e10.")));
	}
	return p;
}

void
json_check_tokens(const JsonTextPosition *position, const char *start, const char *stop,
				  const char *limit)
{
	const char *p = start;

	stop = Min(stop, limit);
	while (p < stop)
	{
		unsigned char c = (unsigned char) *p;

		CHECK_FOR_INTERRUPTS();
		if (c == '"')
			p = json_check_string(position, p, limit);
		else if (c == '-' || json_is_digit(c))
			p = json_check_number(position, p, limit);
		else if (c < 0x20 && !json_is_space(c))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid JSON in %s", position->what),
					 errdetail("Character with value 0x%02x at byte offset %d is not allowed outside a string.",
							   c, json_offset(position, p)),
					 errhint("JSON allows only space, tab, line feed and carriage return between values.")));
		else
			p++;
	}
}
