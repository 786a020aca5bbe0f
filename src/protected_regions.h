/*
 * protected_regions.h
 *		Detection of the parts of a prompt that the optimizer never rewrites.
 *
 * A protected region is a byte range of UTF-8 text: code (fenced and
 * inline), text between user-configured markers, XML/HTML tags with their
 * attributes, the whole content of data elements such as <document>, URLs,
 * file paths, JSON values and quoted strings.  Regions are sorted by start
 * offset and never overlap.
 */
#ifndef PROTECTED_REGIONS_H
#define PROTECTED_REGIONS_H

typedef enum ProtectedKind
{
	PROTECTED_MARKER,			/* between a user-configured marker pair */
	PROTECTED_CODE_BLOCK,		/* ``` or ~~~ fenced code */
	PROTECTED_INLINE_CODE,		/* `code` */
	PROTECTED_XML_COMMENT,		/* <!-- ... --> or <![CDATA[ ... ]]> */
	PROTECTED_XML_ELEMENT,		/* a data element with its content */
	PROTECTED_XML_TAG,			/* one start or end tag with its attributes */
	PROTECTED_URL,
	PROTECTED_PATH,
	PROTECTED_JSON,				/* a JSON object or array */
	PROTECTED_QUOTED			/* text in quotation marks */
} ProtectedKind;

typedef struct ProtectedRegion
{
	int			start;			/* byte offset of the first byte */
	int			end;			/* byte offset just past the last byte */
	ProtectedKind kind;
} ProtectedRegion;

/* A user-configured pair of literal markers; both are non-empty. */
typedef struct ProtectedMarker
{
	const char *open;
	int			open_length;
	const char *close;
	int			close_length;
} ProtectedMarker;

/*
 * Finds the protected regions of text (length bytes of UTF-8).  Returns a
 * palloc'd array sorted by start and sets *count.  An unclosed fence, marker
 * or data element protects everything up to the end of the text.
 */
extern ProtectedRegion *protected_regions_find(const char *text, int length,
											   const ProtectedMarker *markers,
											   int marker_count, int *count);

/* Name of a kind as shown by claudecost.protected_regions(). */
extern const char *protected_kind_name(ProtectedKind kind);

/*
 * Returns the end offset of the JSON value (RFC 8259) that starts at
 * text[start], or -1 when no valid value starts there.
 */
extern int json_value_end(const char *text, int length, int start);

/*
 * Appends to output the JSON value text[start, end) without the whitespace
 * between tokens.  String contents, numbers and literals are copied byte for
 * byte.  The range must contain a valid value (see json_value_end).
 */
struct StringInfoData;
extern void json_compact(const char *text, int start, int end,
						 struct StringInfoData *output);

#endif							/* PROTECTED_REGIONS_H */
