/*
 * protected_json.c
 *		Recognition and compaction of JSON values embedded in prompt text.
 *
 * The scanner is a strict RFC 8259 recognizer over bytes: it never decodes
 * strings or numbers, so compaction copies every value byte for byte and
 * only drops the whitespace between tokens.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "protected_regions.h"

static int	scan_value(const char *text, int length, int pos, int depth);

static bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
skip_space(const char *text, int length, int pos)
{
	while (pos < length && is_json_space(text[pos]))
		pos++;
	return pos;
}

/* Returns the offset past the closing quote of the string at pos, or -1. */
static int
scan_string(const char *text, int length, int pos)
{
	pos++;						/* opening quote */
	while (pos < length)
	{
		unsigned char c = (unsigned char) text[pos];

		if (c == '"')
			return pos + 1;
		if (c < 0x20)
			return -1;
		if (c == '\\')
		{
			if (pos + 1 >= length)
				return -1;
			switch (text[pos + 1])
			{
				case '"':
				case '\\':
				case '/':
				case 'b':
				case 'f':
				case 'n':
				case 'r':
				case 't':
					pos += 2;
					break;
				case 'u':
					for (int i = 2; i < 6; i++)
					{
						if (pos + i >= length || !isxdigit((unsigned char) text[pos + i]))
							return -1;
					}
					pos += 6;
					break;
				default:
					return -1;
			}
			continue;
		}
		pos++;
	}
	return -1;
}

static int
scan_digits(const char *text, int length, int pos)
{
	int			start = pos;

	while (pos < length && isdigit((unsigned char) text[pos]))
		pos++;
	return pos > start ? pos : -1;
}

/* Returns the offset past the number at pos, or -1. */
static int
scan_number(const char *text, int length, int pos)
{
	if (text[pos] == '-')
		pos++;
	if (pos < length && text[pos] == '0')
		pos++;
	else if ((pos = scan_digits(text, length, pos)) < 0)
		return -1;
	if (pos < length && text[pos] == '.')
	{
		if ((pos = scan_digits(text, length, pos + 1)) < 0)
			return -1;
	}
	if (pos < length && (text[pos] == 'e' || text[pos] == 'E'))
	{
		pos++;
		if (pos < length && (text[pos] == '+' || text[pos] == '-'))
			pos++;
		if ((pos = scan_digits(text, length, pos)) < 0)
			return -1;
	}
	return pos;
}

static int
scan_literal(const char *text, int length, int pos, const char *literal)
{
	int			n = strlen(literal);

	if (length - pos >= n && memcmp(text + pos, literal, n) == 0)
		return pos + n;
	return -1;
}

/* Scans the members of an object or the elements of an array. */
static int
scan_container(const char *text, int length, int pos, int depth)
{
	char		close = text[pos] == '{' ? '}' : ']';
	bool		object = close == '}';

	pos = skip_space(text, length, pos + 1);
	if (pos < length && text[pos] == close)
		return pos + 1;
	for (;;)
	{
		if (object)
		{
			if (pos >= length || text[pos] != '"')
				return -1;
			if ((pos = scan_string(text, length, pos)) < 0)
				return -1;
			pos = skip_space(text, length, pos);
			if (pos >= length || text[pos] != ':')
				return -1;
			pos = skip_space(text, length, pos + 1);
		}
		if ((pos = scan_value(text, length, pos, depth + 1)) < 0)
			return -1;
		pos = skip_space(text, length, pos);
		if (pos >= length)
			return -1;
		if (text[pos] == close)
			return pos + 1;
		if (text[pos] != ',')
			return -1;
		pos = skip_space(text, length, pos + 1);
	}
}

static int
scan_value(const char *text, int length, int pos, int depth)
{
	CHECK_FOR_INTERRUPTS();
	/* Deeper nesting than this is not a prompt's embedded JSON. */
	if (depth > 256 || pos >= length)
		return -1;
	switch (text[pos])
	{
		case '{':
		case '[':
			return scan_container(text, length, pos, depth);
		case '"':
			return scan_string(text, length, pos);
		case 't':
			return scan_literal(text, length, pos, "true");
		case 'f':
			return scan_literal(text, length, pos, "false");
		case 'n':
			return scan_literal(text, length, pos, "null");
		default:
			if (text[pos] == '-' || isdigit((unsigned char) text[pos]))
				return scan_number(text, length, pos);
			return -1;
	}
}

int
json_value_end(const char *text, int length, int start)
{
	return scan_value(text, length, start, 0);
}

void
json_compact(const char *text, int start, int end, StringInfo output)
{
	int			pos = start;

	while (pos < end)
	{
		if (text[pos] == '"')
		{
			int			string_end = scan_string(text, end, pos);

			Assert(string_end > 0);
			appendBinaryStringInfo(output, text + pos, string_end - pos);
			pos = string_end;
		}
		else
		{
			if (!is_json_space(text[pos]))
				appendStringInfoChar(output, text[pos]);
			pos++;
		}
	}
}
