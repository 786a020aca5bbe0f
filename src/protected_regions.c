/*
 * protected_regions.c
 *		Detection of the parts of a prompt that the optimizer never rewrites.
 *
 * One left-to-right pass over the bytes.  At each position the detectors are
 * tried in a fixed order: markers, fenced code, inline code, XML, JSON,
 * quotes, then URL and path.  The first that recognizes a region claims it
 * and the scan resumes after it.  Regions therefore never overlap, and an
 * outer construct wins: a URL inside inline code is part of the code region.
 *
 * Only ASCII bytes and the lead bytes of a few quotation marks start a
 * region, so multi-byte UTF-8 text is stepped over without decoding.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "protected_regions.h"

/*
 * Elements whose content is data rather than instructions: the element and
 * everything in it is protected.  Other tags protect only themselves, so the
 * text of <instructions> and similar elements can still be optimized.
 */
static const char *const data_elements[] = {
	"article", "code", "context", "data", "doc", "document", "document_content",
	"documents", "email", "example", "examples", "file", "files", "input",
	"output", "pre", "quote", "sample", "samples", "script", "snippet",
	"source", "style", "transcript"
};

/* File name extensions that mark a bare word as a file name (main.py). */
static const char *const file_extensions[] = {
	"bash", "c", "cc", "cfg", "conf", "cpp", "cs", "css", "csv", "env", "go",
	"h", "hpp", "html", "ini", "ipynb", "java", "js", "json", "jsonl", "jsx",
	"kt", "lock", "log", "md", "mjs", "php", "pl", "py", "rb", "rs", "scss",
	"sh", "sql", "svg", "swift", "toml", "ts", "tsx", "txt", "xml", "yaml",
	"yml", "zsh"
};

/* A quotation mark pair; single_quote marks the ambiguous ASCII apostrophe. */
typedef struct QuotePair
{
	const char *open;
	const char *close;
} QuotePair;

static const QuotePair quote_pairs[] = {
	{"\"", "\""},
	{"\xE2\x80\x9C", "\xE2\x80\x9D"},	/* “ ” */
	{"\xE2\x80\x9E", "\xE2\x80\x9C"},	/* „ “ (German) */
	{"\xE2\x80\x98", "\xE2\x80\x99"},	/* ‘ ’ */
	{"\xC2\xAB", "\xC2\xBB"},	/* « » */
	{"\xE3\x80\x8C", "\xE3\x80\x8D"},	/* 「 」 */
	{"\xE3\x80\x8E", "\xE3\x80\x8F"},	/* 『 』 */
};

/* Quoted strings longer than this are not treated as one quotation. */
#define MAX_QUOTE_BYTES 4000

typedef struct RegionList
{
	ProtectedRegion *items;
	int			count;
	int			capacity;
} RegionList;

static void
add_region(RegionList *list, int start, int end, ProtectedKind kind)
{
	if (list->count == list->capacity)
	{
		list->capacity *= 2;
		list->items = repalloc(list->items, sizeof(ProtectedRegion) * list->capacity);
	}
	list->items[list->count].start = start;
	list->items[list->count].end = end;
	list->items[list->count].kind = kind;
	list->count++;
}

static bool
is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Bytes that may appear in a file path or file name. */
static inline bool
is_path_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || c == '_' || c == '.' || c == '~' || c == '@' ||
		c == '+' || c == '%' || c == '-' || c == '/' || c == '\\';
}

static bool
starts_with(const char *text, int length, int pos, const char *prefix)
{
	int			n = strlen(prefix);

	return length - pos >= n && memcmp(text + pos, prefix, n) == 0;
}

/* Offset of the first occurrence of needle at or after pos, or -1. */
static int
find_from(const char *text, int length, int pos, const char *needle, int needle_length)
{
	while (pos + needle_length <= length)
	{
		const char *hit = memchr(text + pos, needle[0], length - pos - needle_length + 1);

		if (hit == NULL)
			return -1;
		pos = hit - text;
		if (memcmp(text + pos, needle, needle_length) == 0)
			return pos;
		pos++;
	}
	return -1;
}

static int
line_end(const char *text, int length, int pos)
{
	const char *newline = memchr(text + pos, '\n', length - pos);

	return newline ? newline - text : length;
}

/*
 * Fenced code block starting at the line that begins at pos: up to three
 * spaces, then three or more backticks or tildes.  Returns the end of the
 * closing fence line (without its newline), the text length when the fence
 * is never closed, or -1 when no fence starts here.
 */
static int
scan_code_fence(const char *text, int length, int pos)
{
	int			indent = 0;
	int			run = 0;
	char		fence;
	int			line;

	while (indent < 3 && pos + indent < length && text[pos + indent] == ' ')
		indent++;
	pos += indent;
	if (pos >= length || (text[pos] != '`' && text[pos] != '~'))
		return -1;
	fence = text[pos];
	while (pos + run < length && text[pos + run] == fence)
		run++;
	if (run < 3)
		return -1;

	line = line_end(text, length, pos);
	while (line < length)
	{
		int			start = line + 1;
		int			p = start;
		int			close_run = 0;

		CHECK_FOR_INTERRUPTS();
		while (p - start < 3 && p < length && text[p] == ' ')
			p++;
		while (p + close_run < length && text[p + close_run] == fence)
			close_run++;
		line = line_end(text, length, start);
		if (close_run >= run)
		{
			int			q = p + close_run;

			while (q < line && (text[q] == ' ' || text[q] == '\t'))
				q++;
			if (q == line)
				return line;
		}
	}
	return length;
}

/*
 * Inline code: a run of n backticks closed by the next run of exactly n
 * backticks within the same paragraph.  Returns the end or -1.
 */
static int
scan_inline_code(const char *text, int length, int pos)
{
	int			run = 0;
	int			p;

	while (pos + run < length && text[pos + run] == '`')
		run++;
	p = pos + run;
	while (p < length)
	{
		if (text[p] == '\n' && p + 1 < length && text[p + 1] == '\n')
			return -1;
		if (text[p] == '`')
		{
			int			close_run = 0;

			while (p + close_run < length && text[p + close_run] == '`')
				close_run++;
			if (close_run == run)
				return p + close_run;
			p += close_run;
			continue;
		}
		p++;
	}
	return -1;
}

/*
 * XML/HTML tag at pos ('<').  Returns the end of the tag or -1, and sets
 * *name_start, *name_length, *closing and *self_closing.
 */
static int
scan_tag(const char *text, int length, int pos, int *name_start, int *name_length,
		 bool *closing, bool *self_closing)
{
	int			p = pos + 1;

	*closing = false;
	*self_closing = false;
	if (p < length && text[p] == '/')
	{
		*closing = true;
		p++;
	}
	if (p >= length || !(isalpha((unsigned char) text[p]) || text[p] == '_'))
		return -1;
	*name_start = p;
	while (p < length && (isalnum((unsigned char) text[p]) || strchr("_:.-", text[p]) != NULL))
		p++;
	*name_length = p - *name_start;

	for (;;)
	{
		bool		had_space = false;

		CHECK_FOR_INTERRUPTS();
		while (p < length && isspace((unsigned char) text[p]))
		{
			had_space = true;
			p++;
		}
		if (p >= length)
			return -1;
		if (text[p] == '>')
			return p + 1;
		if (text[p] == '/' && !*closing && p + 1 < length && text[p + 1] == '>')
		{
			*self_closing = true;
			return p + 2;
		}
		/* An attribute must be separated from the name or previous one. */
		if (*closing || !had_space)
			return -1;
		if (!(isalpha((unsigned char) text[p]) || strchr("_:@", text[p]) != NULL))
			return -1;
		while (p < length && (isalnum((unsigned char) text[p]) || strchr("_:.-@", text[p]) != NULL))
			p++;
		while (p < length && isspace((unsigned char) text[p]))
			p++;
		if (p < length && text[p] == '=')
		{
			p++;
			while (p < length && isspace((unsigned char) text[p]))
				p++;
			if (p >= length)
				return -1;
			if (text[p] == '"' || text[p] == '\'')
			{
				const char *close = memchr(text + p + 1, text[p], length - p - 1);

				if (close == NULL)
					return -1;
				p = close - text + 1;
			}
			else
			{
				int			value_start = p;

				while (p < length && !isspace((unsigned char) text[p]) &&
					   strchr("\"'=<>`", text[p]) == NULL)
					p++;
				if (p == value_start)
					return -1;
			}
		}
	}
}

static bool
is_data_element(const char *name, int name_length)
{
	for (size_t i = 0; i < lengthof(data_elements); i++)
	{
		if ((int) strlen(data_elements[i]) == name_length &&
			pg_strncasecmp(data_elements[i], name, name_length) == 0)
			return true;
	}
	return false;
}

/*
 * End of the element whose start tag ends at pos: the end of the matching
 * end tag, counting nested elements of the same name, or the text length.
 */
static int
scan_element_end(const char *text, int length, int pos, const char *name, int name_length)
{
	int			depth = 1;

	while (pos < length)
	{
		const char *lt = memchr(text + pos, '<', length - pos);
		int			tag_end;
		int			tag_name;
		int			tag_name_length;
		bool		closing;
		bool		self_closing;

		CHECK_FOR_INTERRUPTS();
		if (lt == NULL)
			break;
		pos = lt - text;
		tag_end = scan_tag(text, length, pos, &tag_name, &tag_name_length, &closing, &self_closing);
		if (tag_end < 0)
		{
			pos++;
			continue;
		}
		if (tag_name_length == name_length &&
			pg_strncasecmp(text + tag_name, name, name_length) == 0 && !self_closing)
		{
			depth += closing ? -1 : 1;
			if (depth == 0)
				return tag_end;
		}
		pos = tag_end;
	}
	return length;
}

/* Comment, CDATA section, tag or whole data element at pos ('<'). */
static int
scan_markup(const char *text, int length, int pos, ProtectedKind *kind)
{
	int			tag_end;
	int			name;
	int			name_length;
	bool		closing;
	bool		self_closing;

	if (starts_with(text, length, pos, "<!--") || starts_with(text, length, pos, "<![CDATA["))
	{
		bool		comment = text[pos + 2] == '-';
		const char *terminator = comment ? "-->" : "]]>";
		int			close = find_from(text, length, pos + 4, terminator, 3);

		*kind = PROTECTED_XML_COMMENT;
		return close < 0 ? length : close + 3;
	}

	tag_end = scan_tag(text, length, pos, &name, &name_length, &closing, &self_closing);
	if (tag_end < 0)
		return -1;
	if (!closing && !self_closing && is_data_element(text + name, name_length))
	{
		*kind = PROTECTED_XML_ELEMENT;
		return scan_element_end(text, length, tag_end, text + name, name_length);
	}
	*kind = PROTECTED_XML_TAG;
	return tag_end;
}

/*
 * URL starting at pos (scheme://, www. or mailto:).  Trailing sentence
 * punctuation and unbalanced closing brackets are left out.
 */
static int
scan_url(const char *text, int length, int pos)
{
	int			p = pos;
	int			parens = 0;
	int			brackets = 0;
	int			end;

	if (starts_with(text, length, pos, "www."))
		p = pos + 4;
	else if (starts_with(text, length, pos, "mailto:"))
		p = pos + 7;
	else
	{
		while (p < length && p - pos <= 16 &&
			   (isalnum((unsigned char) text[p]) || strchr("+.-", text[p]) != NULL))
			p++;
		if (p == pos || !isalpha((unsigned char) text[pos]) ||
			!starts_with(text, length, p, "://"))
			return -1;
		p += 3;
	}

	end = p;
	while (p < length)
	{
		unsigned char c = (unsigned char) text[p];

		if (isspace(c) || c < 0x20 || strchr("<>\"`", c) != NULL)
			break;
		if (c == '(')
			parens++;
		else if (c == '[')
			brackets++;
		else if (c == ')' && --parens < 0)
			break;
		else if (c == ']' && --brackets < 0)
			break;
		p++;
		/* Balanced brackets belong to the URL; sentence punctuation may not. */
		if (strchr(".,;:!?'*", c) == NULL)
			end = p;
	}
	return end;
}

static bool
has_file_extension(const char *text, int start, int end)
{
	int			dot = end - 1;

	while (dot > start && text[dot] != '.' && text[dot] != '/')
		dot--;
	if (dot <= start || text[dot] != '.' || text[dot - 1] == '/')
		return false;
	for (size_t i = 0; i < lengthof(file_extensions); i++)
	{
		if ((int) strlen(file_extensions[i]) == end - dot - 1 &&
			pg_strncasecmp(file_extensions[i], text + dot + 1, end - dot - 1) == 0)
			return true;
	}
	return false;
}

/* Length of the opening quotation mark at pos, or 0. */
static int
quote_open_length(const char *text, int length, int pos)
{
	for (size_t i = 0; i < lengthof(quote_pairs); i++)
	{
		if (starts_with(text, length, pos, quote_pairs[i].open))
			return strlen(quote_pairs[i].open);
	}
	return 0;
}

/*
 * File path or file name: a run of path bytes that contains a slash or a
 * backslash (src/main.c, ~/.config, C:\Users), or that ends in a known file
 * extension (main.py).  Sets *run_end to the end of the run either way, so
 * the caller can step over a plain word in one move.
 */
static int
scan_path(const char *text, int length, int pos, int *run_end)
{
	int			p = pos;
	int			end;
	bool		separator = false;
	bool		alnum = false;
	bool		at_sign = false;

	/* Windows drive letter: C:\ */
	if (pos + 2 < length && isalpha((unsigned char) text[pos]) &&
		text[pos + 1] == ':' && text[pos + 2] == '\\')
	{
		p = pos + 3;
		separator = true;
	}
	/* Quotation marks end the run: Japanese text has no space before 「. */
	while (p < length && is_path_byte((unsigned char) text[p]) &&
		   !((unsigned char) text[p] >= 0xC2 && quote_open_length(text, length, p) > 0))
	{
		if (text[p] == '/' || text[p] == '\\')
			separator = true;
		else if (text[p] == '@' && alnum)
			at_sign = true;
		else if (isalnum((unsigned char) text[p]))
			alnum = true;
		p++;
	}
	*run_end = p;

	/* A sentence may end right after a path. */
	end = p;
	while (end > pos && strchr(".,-", text[end - 1]) != NULL)
		end--;
	if (!alnum || end == pos)
		return -1;
	if (separator || has_file_extension(text, pos, end))
		return end;
	/* An e-mail address: name@host.domain */
	if (at_sign && memchr(text + pos, '.', end - pos) != NULL && text[end - 1] != '@')
		return end;
	return -1;
}

/*
 * Quotation at pos.  The ASCII apostrophe opens a quotation only where it
 * cannot be one (not after a letter or digit) and closes only where it is
 * not followed by one, so "don't" and "users' files" are not quotations.
 */
static int
scan_quote(const char *text, int length, int pos)
{
	if (text[pos] == '\'')
	{
		int			p = pos + 1;

		if ((pos > 0 && is_word_byte((unsigned char) text[pos - 1])) ||
			p >= length || isspace((unsigned char) text[p]))
			return -1;
		for (; p < length && text[p] != '\n' && p - pos < MAX_QUOTE_BYTES; p++)
		{
			if (text[p] == '\'' && !isspace((unsigned char) text[p - 1]) &&
				(p + 1 >= length || !is_word_byte((unsigned char) text[p + 1])))
				return p + 1;
		}
		return -1;
	}

	for (size_t i = 0; i < lengthof(quote_pairs); i++)
	{
		const QuotePair *pair = &quote_pairs[i];
		int			open_length = strlen(pair->open);
		int			close_length = strlen(pair->close);
		int			p;

		if (!starts_with(text, length, pos, pair->open))
			continue;
		for (p = pos + open_length; p < length && p - pos < MAX_QUOTE_BYTES; p++)
		{
			/* A quotation does not run past the end of its paragraph. */
			if (text[p] == '\n' && p + 1 < length && text[p + 1] == '\n')
				return -1;
			if (starts_with(text, length, p, pair->close))
				return p + close_length;
		}
		return -1;
	}
	return -1;
}

static bool
at_line_start(const char *text, int pos)
{
	return pos == 0 || text[pos - 1] == '\n';
}

ProtectedRegion *
protected_regions_find(const char *text, int length, const ProtectedMarker *markers,
					   int marker_count, int *count)
{
	RegionList	list;
	int			pos = 0;

	list.capacity = 16;
	list.count = 0;
	list.items = palloc(sizeof(ProtectedRegion) * list.capacity);

	while (pos < length)
	{
		unsigned char c = (unsigned char) text[pos];
		int			end = -1;
		ProtectedKind kind = PROTECTED_MARKER;

		CHECK_FOR_INTERRUPTS();

		for (int i = 0; i < marker_count && end < 0; i++)
		{
			const ProtectedMarker *marker = &markers[i];

			if (c == (unsigned char) marker->open[0] &&
				length - pos >= marker->open_length &&
				memcmp(text + pos, marker->open, marker->open_length) == 0)
			{
				int			close = find_from(text, length, pos + marker->open_length,
											  marker->close, marker->close_length);

				end = close < 0 ? length : close + marker->close_length;
				kind = PROTECTED_MARKER;
			}
		}

		if (end < 0 && at_line_start(text, pos) && (c == ' ' || c == '`' || c == '~'))
		{
			end = scan_code_fence(text, length, pos);
			kind = PROTECTED_CODE_BLOCK;
		}
		if (end < 0 && c == '`')
		{
			end = scan_inline_code(text, length, pos);
			kind = PROTECTED_INLINE_CODE;
			if (end < 0)
			{
				/* Step over the whole unmatched run of backticks. */
				while (pos < length && text[pos] == '`')
					pos++;
				continue;
			}
		}
		if (end < 0 && c == '<')
			end = scan_markup(text, length, pos, &kind);
		if (end < 0 && (c == '{' || c == '['))
		{
			end = json_value_end(text, length, pos);
			kind = PROTECTED_JSON;
		}
		if (end < 0 && (c == '"' || c == '\'' || c >= 0xC2))
		{
			end = scan_quote(text, length, pos);
			kind = PROTECTED_QUOTED;
		}
		if (end < 0 && is_path_byte(c) && (pos == 0 || !is_path_byte((unsigned char) text[pos - 1])))
		{
			int			run_end;

			end = scan_url(text, length, pos);
			kind = PROTECTED_URL;
			if (end < 0)
			{
				end = scan_path(text, length, pos, &run_end);
				kind = PROTECTED_PATH;
				if (end < 0)
				{
					/* A plain word: nothing in it can start a region. */
					pos = Max(run_end, pos + 1);
					continue;
				}
			}
		}

		if (end > pos)
		{
			add_region(&list, pos, end, kind);
			pos = end;
		}
		else
			pos++;
	}

	*count = list.count;
	return list.items;
}

const char *
protected_kind_name(ProtectedKind kind)
{
	switch (kind)
	{
		case PROTECTED_MARKER:
			return "marker";
		case PROTECTED_CODE_BLOCK:
			return "code_block";
		case PROTECTED_INLINE_CODE:
			return "inline_code";
		case PROTECTED_XML_COMMENT:
			return "xml_comment";
		case PROTECTED_XML_ELEMENT:
			return "xml_element";
		case PROTECTED_XML_TAG:
			return "xml_tag";
		case PROTECTED_URL:
			return "url";
		case PROTECTED_PATH:
			return "path";
		case PROTECTED_JSON:
			return "json";
		case PROTECTED_QUOTED:
			return "quoted";
	}
	return "unknown";
}
