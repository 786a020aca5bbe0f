/*
 * json_syntax.h
 *		Strict checks of JSON tokens that cJSON accepts but RFC 8259 and
 *		PostgreSQL's jsonb reject.
 */
#ifndef JSON_SYNTAX_H
#define JSON_SYNTAX_H

/* Where checked text sits in the caller's input, for error details. */
typedef struct JsonTextPosition
{
	const char *base;			/* start of the buffer the text is in */
	int			base_offset;	/* byte offset of base in the caller's input */
	const char *what;			/* the input, as in "invalid JSON in usage payload" */
} JsonTextPosition;

/*
 * Checks every string and number that starts in [start, stop) and the bytes
 * between them.  A token that starts before stop is read to its end, at most
 * up to limit.  Raises ERRCODE_INVALID_TEXT_REPRESENTATION for
 *	- an escape that is not \", \\, \/, \b, \f, \n, \r, \t or \u with four
 *	  hex digits, and an unpaired UTF-16 surrogate escape;
 *	- a control character (U+0000 to U+001F) inside a string;
 *	- a number outside -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, or
 *	  one followed by a letter, digit or '_' (01, 1., 1x);
 *	- a control character other than tab, line feed and carriage return
 *	  outside strings;
 * and ERRCODE_UNTRANSLATABLE_CHARACTER for \u0000, which text cannot hold.
 * Structure (brackets, commas, colons, literals) is left to cJSON.
 */
extern void json_check_tokens(const JsonTextPosition *position, const char *start,
							  const char *stop, const char *limit);

#endif							/* JSON_SYNTAX_H */
