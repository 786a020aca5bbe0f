/*
 * pg_shim.c
 *		A minimal PostgreSQL backend runtime for the fuzz harnesses: memory
 *		contexts, ereport and PG_TRY, StringInfo, text, encodings, a string
 *		hash table and an SPI that returns rows from the schema files.
 *
 * Functions the harnessed code references but never reaches with the
 * harnesses' inputs abort with their name (shim_unreachable), so a path
 * that starts to need them shows at once.  Compiled with the server headers
 * (not FRONTEND) and linked with libpgport and libpgcommon for snprintf,
 * qsort, UTF-8 verification and hash_bytes.
 */
#include "postgres.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "common/unicode_norm.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "pg_shim.h"

static void shim_unreachable(const char *function) pg_attribute_noreturn();

/* ---------------------------------------------------------------------
 * Memory contexts: each chunk is a malloc block in a doubly linked list.
 * --------------------------------------------------------------------- */

typedef struct ShimChunk
{
	struct ShimChunk *prev;
	struct ShimChunk *next;
	size_t		size;
	/* last, like the server's chunk headers (see GetMemoryChunkContext) */
	struct ShimContext *context;
} ShimChunk;

typedef struct ShimContext
{
	MemoryContextData header;
	ShimChunk  *chunks;
} ShimContext;

MemoryContext CurrentMemoryContext = NULL;
MemoryContext TopMemoryContext = NULL;
MemoryContext CacheMemoryContext = NULL;
MemoryContext ErrorContext = NULL;
MemoryContext shim_input_context = NULL;

static MemoryContext
shim_context_create(MemoryContext parent, const char *name)
{
	ShimContext *context = calloc(1, sizeof(ShimContext));

	if (context == NULL)
		abort();
	context->header.type = T_AllocSetContext;
	context->header.name = name;
	context->header.parent = parent;
	if (parent != NULL)
	{
		context->header.nextchild = parent->firstchild;
		if (parent->firstchild != NULL)
			parent->firstchild->prevchild = &context->header;
		parent->firstchild = &context->header;
	}
	return &context->header;
}

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name, Size minContextSize,
							  Size initBlockSize, Size maxBlockSize)
{
	return shim_context_create(parent, name);
}

/* Calls the reset callbacks of context, newest first, like the server. */
static void
shim_call_reset_callbacks(MemoryContext context)
{
	MemoryContextCallback *callback;

	while ((callback = context->reset_cbs) != NULL)
	{
		context->reset_cbs = callback->next;
		callback->func(callback->arg);
	}
}

void
MemoryContextRegisterResetCallback(MemoryContext context, MemoryContextCallback *callback)
{
	callback->next = context->reset_cbs;
	context->reset_cbs = callback;
}

static void
shim_free_chunks(ShimContext *context)
{
	ShimChunk  *chunk;

	shim_call_reset_callbacks(&context->header);
	chunk = context->chunks;

	while (chunk != NULL)
	{
		ShimChunk  *next = chunk->next;

		free(chunk);
		chunk = next;
	}
	context->chunks = NULL;
}

void
MemoryContextDelete(MemoryContext context)
{
	while (context->firstchild != NULL)
		MemoryContextDelete(context->firstchild);
	if (context->parent != NULL)
	{
		if (context->prevchild != NULL)
			context->prevchild->nextchild = context->nextchild;
		else
			context->parent->firstchild = context->nextchild;
		if (context->nextchild != NULL)
			context->nextchild->prevchild = context->prevchild;
	}
	shim_free_chunks((ShimContext *) context);
	free(context);
}

void
MemoryContextReset(MemoryContext context)
{
	while (context->firstchild != NULL)
		MemoryContextDelete(context->firstchild);
	shim_free_chunks((ShimContext *) context);
}

void
MemoryContextResetOnly(MemoryContext context)
{
	shim_free_chunks((ShimContext *) context);
}

void
MemoryContextDeleteChildren(MemoryContext context)
{
	while (context->firstchild != NULL)
		MemoryContextDelete(context->firstchild);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	ShimContext *shim = (ShimContext *) context;
	ShimChunk  *chunk;

	if (!((flags & MCXT_ALLOC_HUGE) != 0 ? AllocHugeSizeIsValid(size) : AllocSizeIsValid(size)))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	chunk = malloc(sizeof(ShimChunk) + size);
	if (chunk == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on request of size %zu.", size)));
	chunk->context = shim;
	chunk->size = size;
	chunk->prev = NULL;
	chunk->next = shim->chunks;
	if (shim->chunks != NULL)
		shim->chunks->prev = chunk;
	shim->chunks = chunk;
	if (flags & MCXT_ALLOC_ZERO)
		memset(chunk + 1, 0, size);
	return chunk + 1;
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return MemoryContextAllocExtended(context, size, 0);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return MemoryContextAllocExtended(context, size, MCXT_ALLOC_ZERO);
}

void *
MemoryContextAllocZeroAligned(MemoryContext context, Size size)
{
	return MemoryContextAllocExtended(context, size, MCXT_ALLOC_ZERO);
}

void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return MemoryContextAllocExtended(context, size, MCXT_ALLOC_HUGE);
}

void *
palloc(Size size)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size, 0);
}

void *
palloc0(Size size)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size, MCXT_ALLOC_ZERO);
}

void *
palloc_extended(Size size, int flags)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size, flags);
}

void
pfree(void *pointer)
{
	ShimChunk  *chunk = (ShimChunk *) pointer - 1;
	ShimContext *context = chunk->context;

	if (chunk->prev != NULL)
		chunk->prev->next = chunk->next;
	else
		context->chunks = chunk->next;
	if (chunk->next != NULL)
		chunk->next->prev = chunk->prev;
	free(chunk);
}

static void *
shim_repalloc(void *pointer, Size size, int flags)
{
	ShimChunk  *chunk = (ShimChunk *) pointer - 1;
	void	   *result = MemoryContextAllocExtended(&chunk->context->header, size, flags);

	memcpy(result, pointer, Min(size, chunk->size));
	pfree(pointer);
	return result;
}

void *
repalloc(void *pointer, Size size)
{
	return shim_repalloc(pointer, size, 0);
}

void *
repalloc_huge(void *pointer, Size size)
{
	return shim_repalloc(pointer, size, MCXT_ALLOC_HUGE);
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	size_t		len = strlen(string);
	char	   *copy = MemoryContextAlloc(context, len + 1);

	memcpy(copy, string, len + 1);
	return copy;
}

char *
pstrdup(const char *string)
{
	return MemoryContextStrdup(CurrentMemoryContext, string);
}

char *
pnstrdup(const char *string, Size len)
{
	char	   *copy;

	len = strnlen(string, len);
	copy = palloc(len + 1);
	memcpy(copy, string, len);
	copy[len] = '\0';
	return copy;
}

char *
psprintf(const char *fmt,...)
{
	StringInfoData buffer;
	va_list		args;

	initStringInfo(&buffer);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buffer, fmt, args);
		va_end(args);
		if (needed == 0)
			return buffer.data;
		enlargeStringInfo(&buffer, needed);
	}
}

/* ---------------------------------------------------------------------
 * ereport, elog and PG_TRY
 * --------------------------------------------------------------------- */

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;
volatile sig_atomic_t InterruptPending = false;
ShimError	shim_last_error;

/* The report being built: level, SQLSTATE and text. */
static int	report_level;
static int	report_code;
static char report_message[512];
static char report_context[512];
static int	report_depth;

bool
errstart(int elevel, const char *domain)
{
	if (elevel < ERROR)
		return false;
	if (report_depth++ > 0)
	{
		fprintf(stderr, "pg_shim: ERROR raised while reporting \"%s\"\n", report_message);
		abort();
	}
	report_level = elevel;
	report_code = 0;
	report_message[0] = '\0';
	report_context[0] = '\0';
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	report_code = sqlerrcode;
	return 0;
}

/* Formats fmt into the report buffer buffer (of size 512). */
static void
shim_format(char *buffer, const char *fmt, va_list args)
{
	vsnprintf(buffer, 512, fmt, args);
}

int
errmsg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	shim_format(report_message, fmt, args);
	va_end(args);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	shim_format(report_message, fmt, args);
	va_end(args);
	return 0;
}

int
errmsg_plural(const char *fmt_singular, const char *fmt_plural, unsigned long n,...)
{
	va_list		args;

	va_start(args, n);
	shim_format(report_message, n == 1 ? fmt_singular : fmt_plural, args);
	va_end(args);
	return 0;
}

/* Detail and hint text is formatted (so its arguments are checked) and dropped. */
int
errdetail(const char *fmt,...)
{
	char		buffer[512];
	va_list		args;

	va_start(args, fmt);
	shim_format(buffer, fmt, args);
	va_end(args);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	char		buffer[512];
	va_list		args;

	va_start(args, fmt);
	shim_format(buffer, fmt, args);
	va_end(args);
	return 0;
}

int
errhint(const char *fmt,...)
{
	char		buffer[512];
	va_list		args;

	va_start(args, fmt);
	shim_format(buffer, fmt, args);
	va_end(args);
	return 0;
}

int
errcontext_msg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	shim_format(report_context, fmt, args);
	va_end(args);
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}

int
errposition(int cursorpos)
{
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	ErrorContextCallback *callback;

	/* Like the server, let every context callback add its line. */
	for (callback = error_context_stack; callback != NULL; callback = callback->previous)
		callback->callback(callback->arg);

	shim_last_error.sqlerrcode = report_code == 0 ? ERRCODE_INTERNAL_ERROR : report_code;
	snprintf(shim_last_error.message, sizeof(shim_last_error.message), "%s", report_message);
	report_depth = 0;
	if (report_level >= FATAL || PG_exception_stack == NULL)
	{
		fprintf(stderr, "pg_shim: %s outside any error handler at %s:%d: %s\n",
				report_level >= FATAL ? "FATAL" : "ERROR", filename, lineno, report_message);
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		abort();
	siglongjmp(*PG_exception_stack, 1);
}

void
FlushErrorState(void)
{
	report_depth = 0;
}

void
ProcessInterrupts(void)
{
	InterruptPending = false;
}

/* Stack address at shim_try, and the depth allowed below it. */
static char *stack_base = NULL;
#define SHIM_MAX_STACK_DEPTH (2 * 1024 * 1024)

void
check_stack_depth(void)
{
	char		here;

	if (stack_base != NULL && stack_base - &here > SHIM_MAX_STACK_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("stack depth limit exceeded")));
}

bool
stack_is_too_deep(void)
{
	char		here;

	return stack_base != NULL && stack_base - &here > SHIM_MAX_STACK_DEPTH;
}

bool
shim_try(void (*function) (void *), void *argument)
{
	sigjmp_buf *saved_stack = PG_exception_stack;
	ErrorContextCallback *saved_context = error_context_stack;
	MemoryContext saved_memory = CurrentMemoryContext;
	char		here;
	sigjmp_buf	handler;
	bool		ok;

	if (stack_base == NULL)
		stack_base = &here;
	if (sigsetjmp(handler, 0) == 0)
	{
		PG_exception_stack = &handler;
		function(argument);
		ok = true;
	}
	else
	{
		ok = false;
		if (ERRCODE_TO_CATEGORY(shim_last_error.sqlerrcode) == ERRCODE_INTERNAL_ERROR)
		{
			fprintf(stderr, "internal error (SQLSTATE %s): %s\n",
					unpack_sql_state(shim_last_error.sqlerrcode), shim_last_error.message);
			abort();
		}
	}
	PG_exception_stack = saved_stack;
	error_context_stack = saved_context;
	CurrentMemoryContext = saved_memory;
	return ok;
}

char *
unpack_sql_state(int sql_state)
{
	static char buffer[12];

	for (int i = 0; i < 5; i++)
	{
		buffer[i] = PGUNSIXBIT(sql_state);
		sql_state >>= 6;
	}
	buffer[5] = '\0';
	return buffer;
}

void
shim_init(void)
{
	if (TopMemoryContext != NULL)
		return;
	TopMemoryContext = shim_context_create(NULL, "TopMemoryContext");
	CacheMemoryContext = shim_context_create(TopMemoryContext, "CacheMemoryContext");
	ErrorContext = shim_context_create(TopMemoryContext, "ErrorContext");
	shim_input_context = shim_context_create(TopMemoryContext, "fuzz input");
	CurrentMemoryContext = shim_input_context;
}

void
shim_end_input(void)
{
	CurrentMemoryContext = shim_input_context;
	MemoryContextReset(shim_input_context);
}

/* ---------------------------------------------------------------------
 * StringInfo (the server's semantics, including the 1 GB limit)
 * --------------------------------------------------------------------- */

StringInfo
makeStringInfo(void)
{
	StringInfo	info = palloc(sizeof(StringInfoData));

	initStringInfo(info);
	return info;
}

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen;

	if (needed < 0)
		elog(ERROR, "invalid string enlargement request size: %d", needed);
	if (((Size) needed) >= (MaxAllocSize - (Size) str->len))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory"),
				 errdetail("Cannot enlarge string buffer containing %d bytes by %d more bytes.",
						   str->len, needed)));
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	if (newlen > (int) MaxAllocSize)
		newlen = (int) MaxAllocSize;
	str->data = repalloc(str->data, newlen);
	str->maxlen = newlen;
}

int
appendStringInfoVA(StringInfo str, const char *fmt, va_list args)
{
	int			avail = str->maxlen - str->len;
	size_t		nprinted;

	if (avail < 16)
		return 32;
	nprinted = pvsnprintf(str->data + str->len, (size_t) avail, fmt, args);
	if (nprinted < (size_t) avail)
	{
		str->len += (int) nprinted;
		return 0;
	}
	str->data[str->len] = '\0';
	return (int) nprinted;
}

size_t
pvsnprintf(char *buf, size_t len, const char *fmt, va_list args)
{
	int			nprinted = vsnprintf(buf, len, fmt, args);

	if (nprinted < 0)
		elog(ERROR, "vsnprintf failed: %m with format string \"%s\"", fmt);
	if ((size_t) nprinted < len)
		return (size_t) nprinted;
	if ((size_t) nprinted >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory")));
	return nprinted + 1;
}

void
appendStringInfo(StringInfo str, const char *fmt,...)
{
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(str, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(str, needed);
	}
}

void
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendBinaryStringInfoNT(StringInfo str, const char *data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
}

void
appendStringInfoString(StringInfo str, const char *s)
{
	appendBinaryStringInfo(str, s, strlen(s));
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	if (str->len + 1 >= str->maxlen)
		enlargeStringInfo(str, 1);
	str->data[str->len] = ch;
	str->len++;
	str->data[str->len] = '\0';
}

void
appendStringInfoSpaces(StringInfo str, int count)
{
	if (count > 0)
	{
		enlargeStringInfo(str, count);
		memset(str->data + str->len, ' ', count);
		str->len += count;
		str->data[str->len] = '\0';
	}
}

/* Same escaping as the server's escape_json (utils/adt/json.c). */
void
escape_json(StringInfo buf, const char *str)
{
	const char *p;

	appendStringInfoCharMacro(buf, '"');
	for (p = str; *p; p++)
	{
		switch (*p)
		{
			case '\b':
				appendStringInfoString(buf, "\\b");
				break;
			case '\f':
				appendStringInfoString(buf, "\\f");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			default:
				if ((unsigned char) *p < ' ')
					appendStringInfo(buf, "\\u%04x", (int) *p);
				else
					appendStringInfoCharMacro(buf, *p);
				break;
		}
	}
	appendStringInfoCharMacro(buf, '"');
}

/* ---------------------------------------------------------------------
 * text and fmgr
 * --------------------------------------------------------------------- */

text *
shim_text(const char *data, size_t len)
{
	text	   *result = palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), data, len);
	return result;
}

text *
cstring_to_text(const char *s)
{
	return shim_text(s, strlen(s));
}

text *
cstring_to_text_with_len(const char *s, int len)
{
	return shim_text(s, len);
}

char *
text_to_cstring(const text *t)
{
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *result = palloc(len + 1);

	memcpy(result, VARDATA_ANY(t), len);
	result[len] = '\0';
	return result;
}

struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_EXTENDED(datum))
		shim_unreachable("pg_detoast_datum of a toasted value");
	return datum;
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	return pg_detoast_datum(datum);
}

struct varlena *
pg_detoast_datum_copy(struct varlena *datum)
{
	struct varlena *copy = palloc(VARSIZE_ANY(datum));

	memcpy(copy, datum, VARSIZE_ANY(datum));
	return copy;
}

/*
 * Only timestamptz_in (ingest) and jsonb_in (optimizer) are called this way.
 * A timestamp reads as 0, because the harnesses check the text before it
 * reaches the server's datetime parser; a jsonb result must be valid JSON,
 * which the harness that calls it checks (see shim_jsonb_in_hook).
 */
void		(*shim_jsonb_in_hook) (const char *json) = NULL;

Datum
DirectFunctionCall1Coll(PGFunction func, Oid collation, Datum arg1)
{
	if (func == jsonb_in)
	{
		if (shim_jsonb_in_hook != NULL)
			shim_jsonb_in_hook(DatumGetCString(arg1));
		return PointerGetDatum(cstring_to_text(DatumGetCString(arg1)));
	}
	shim_unreachable("DirectFunctionCall1Coll");
}

Datum
DirectFunctionCall3Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2, Datum arg3)
{
	if (func == timestamptz_in)
		return TimestampTzGetDatum(0);
	shim_unreachable("DirectFunctionCall3Coll");
}

Datum
timestamptz_in(PG_FUNCTION_ARGS)
{
	shim_unreachable("timestamptz_in");
}

Datum
jsonb_in(PG_FUNCTION_ARGS)
{
	shim_unreachable("jsonb_in");
}

/* ---------------------------------------------------------------------
 * Encodings: the harnesses run as in a UTF8 database.
 * --------------------------------------------------------------------- */

int
GetDatabaseEncoding(void)
{
	return PG_UTF8;
}

const char *
GetDatabaseEncodingName(void)
{
	return "UTF8";
}

int
pg_mbcliplen(const char *mbstr, int len, int limit)
{
	int			clen = 0;

	while (len > 0 && *mbstr)
	{
		int			l = pg_utf_mblen((const unsigned char *) mbstr);

		if (clen + l > limit)
			break;
		clen += l;
		if (clen == limit)
			break;
		len -= l;
		mbstr += l;
	}
	return clen;
}

bool
pg_verify_mbstr(int encoding, const char *mbstr, int len, bool noError)
{
	int			valid = pg_encoding_verifymbstr(encoding, mbstr, len);

	if (valid == len)
		return true;
	if (noError)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("invalid byte sequence for encoding \"UTF8\"")));
}

unsigned char *
pg_do_encoding_conversion(unsigned char *src, int len, int src_encoding, int dest_encoding)
{
	if (src_encoding == dest_encoding)
		return src;
	shim_unreachable("pg_do_encoding_conversion");
}

/* The database is UTF8, so text converts to and from UTF-8 unchanged. */
char *
pg_server_to_any(const char *s, int len, int encoding)
{
	if (encoding == PG_UTF8)
		return (char *) s;
	shim_unreachable("pg_server_to_any");
}

char *
pg_any_to_server(const char *s, int len, int encoding)
{
	if (encoding == PG_UTF8)
		return (char *) s;
	shim_unreachable("pg_any_to_server");
}

char *
shim_utf8_text(const uint8_t *data, size_t size, size_t *length)
{
	char	   *text = palloc(size + 1);
	size_t		n = 0;

	for (size_t i = 0; i < size;)
	{
		int			len = pg_utf_mblen(data + i);

		if (data[i] != 0 && (size_t) len <= size - i &&
			pg_utf8_islegal(data + i, len))
		{
			memcpy(text + n, data + i, len);
			n += len;
			i += len;
		}
		else
		{
			text[n++] = '?';
			i++;
		}
	}
	text[n] = '\0';
	*length = n;
	return text;
}


/*
 * libpgcommon as built for frontends has no quick check and returns
 * malloc'd results; src/tokenizer_nfkc.c is compiled with unicode_normalize
 * renamed to this function, which returns a palloc'd copy, so its pfree is
 * right.  "Maybe" sends every string through the full normalization.
 */
UnicodeNormalizationQC
unicode_is_normalized_quickcheck(UnicodeNormalizationForm form, const pg_wchar *input)
{
	return UNICODE_NORM_QC_MAYBE;
}

pg_wchar *
shim_unicode_normalize(UnicodeNormalizationForm form, const pg_wchar *input)
{
	pg_wchar   *normalized = unicode_normalize(form, input);
	size_t		n = 0;
	pg_wchar   *copy;

	if (normalized == NULL)
		return NULL;
	while (normalized[n] != 0)
		n++;
	copy = palloc((n + 1) * sizeof(pg_wchar));
	memcpy(copy, normalized, (n + 1) * sizeof(pg_wchar));
	free(normalized);
	return copy;
}

/* ---------------------------------------------------------------------
 * A string-keyed hash table: a list, enough for the caches the harnessed
 * code keeps per input.
 * --------------------------------------------------------------------- */

typedef struct ShimHashEntry
{
	struct ShimHashEntry *next;
	/* entry data follows, MAXALIGNed */
	double		align;
} ShimHashEntry;

struct HTAB
{
	MemoryContext context;
	Size		keysize;
	Size		entrysize;
	ShimHashEntry *entries;
};

HTAB *
hash_create(const char *tabname, long nelem, const HASHCTL *info, int flags)
{
	MemoryContext context = (flags & HASH_CONTEXT) ? info->hcxt : TopMemoryContext;
	HTAB	   *table = MemoryContextAllocZero(context, sizeof(HTAB));

	if ((flags & HASH_STRINGS) == 0)
		shim_unreachable("hash_create without HASH_STRINGS");
	table->context = context;
	table->keysize = info->keysize;
	table->entrysize = info->entrysize;
	return table;
}

void *
hash_search(HTAB *hashp, const void *keyPtr, HASHACTION action, bool *foundPtr)
{
	ShimHashEntry *entry;

	for (entry = hashp->entries; entry != NULL; entry = entry->next)
	{
		char	   *key = (char *) (entry + 1);

		if (strncmp(key, keyPtr, hashp->keysize - 1) == 0)
		{
			if (foundPtr)
				*foundPtr = true;
			return key;
		}
	}
	if (foundPtr)
		*foundPtr = false;
	if (action == HASH_FIND)
		return NULL;
	if (action != HASH_ENTER)
		shim_unreachable("hash_search action");
	entry = MemoryContextAllocZero(hashp->context, sizeof(ShimHashEntry) + hashp->entrysize);
	strlcpy((char *) (entry + 1), keyPtr, hashp->keysize);
	entry->next = hashp->entries;
	hashp->entries = entry;
	return entry + 1;
}

/* ---------------------------------------------------------------------
 * Catalog lookups, invalidation and GUCs: the harnesses have one backend.
 * --------------------------------------------------------------------- */

Oid
get_namespace_oid(const char *nspname, bool missing_ok)
{
	return 16384;
}

Oid
get_relname_relid(const char *relname, Oid relnamespace)
{
	return 16385 + (Oid) (strlen(relname) % 64);
}

#define SHIM_MAX_CALLBACKS 8

static RelcacheCallbackFunction relcache_callbacks[SHIM_MAX_CALLBACKS];
static int	relcache_callback_count = 0;

void
CacheRegisterRelcacheCallback(RelcacheCallbackFunction func, Datum arg)
{
	if (relcache_callback_count == SHIM_MAX_CALLBACKS)
		abort();
	relcache_callbacks[relcache_callback_count++] = func;
}

void
shim_invalidate_all(void)
{
	for (int i = 0; i < relcache_callback_count; i++)
		relcache_callbacks[i] ((Datum) 0, InvalidOid);
}

void
CacheInvalidateRelcacheByRelid(Oid relid)
{
	shim_unreachable("CacheInvalidateRelcacheByRelid");
}

void
DefineCustomBoolVariable(const char *name, const char *short_desc, const char *long_desc,
						 bool *valueAddr, bool bootValue, GucContext context, int flags,
						 GucBoolCheckHook check_hook, GucBoolAssignHook assign_hook,
						 GucShowHook show_hook)
{
	*valueAddr = bootValue;
}

/* ---------------------------------------------------------------------
 * SPI: rows registered by the harness, chosen by the query's prefix.
 * --------------------------------------------------------------------- */

#define SHIM_MAX_TABLES 8

static ShimTable *spi_tables[SHIM_MAX_TABLES];
static int	spi_table_count = 0;
static ShimTable *spi_current = NULL;
uint64		SPI_processed = 0;
SPITupleTable *SPI_tuptable = NULL;

void
shim_spi_register(ShimTable *table)
{
	if (spi_table_count == SHIM_MAX_TABLES)
		abort();
	spi_tables[spi_table_count++] = table;
}

int
SPI_connect(void)
{
	return SPI_OK_CONNECT;
}

int
SPI_finish(void)
{
	return SPI_OK_FINISH;
}

int
SPI_execute(const char *src, bool read_only, long tcount)
{
	for (int i = 0; i < spi_table_count; i++)
	{
		ShimTable  *table = spi_tables[i];

		if (strncmp(src, table->query_prefix, strlen(table->query_prefix)) == 0)
		{
			spi_current = table;
			SPI_tuptable = palloc0(sizeof(SPITupleTable));
			SPI_tuptable->vals = palloc(sizeof(HeapTuple) * Max(table->row_count, 1));
			for (int row = 0; row < table->row_count; row++)
				SPI_tuptable->vals[row] = (HeapTuple) (table->values + row * table->column_count);
			SPI_tuptable->tupdesc = (TupleDesc) table;
			SPI_processed = table->row_count;
			return SPI_OK_SELECT;
		}
	}
	fprintf(stderr, "pg_shim: no rows registered for the query \"%s\"\n", src);
	abort();
}

/* Returns the value of column (1-based) of a shim row, or NULL. */
static const char *
spi_value(HeapTuple tuple, TupleDesc desc, int column, char *type)
{
	ShimTable  *table = (ShimTable *) desc;
	char	  **row = (char **) tuple;

	if (column < 1 || column > table->column_count)
	{
		*type = 'n';
		return NULL;
	}
	*type = table->types[column - 1];
	return *type == 'n' ? NULL : row[column - 1];
}

char *
SPI_getvalue(HeapTuple tuple, TupleDesc tupdesc, int fnumber)
{
	char		type;
	const char *value = spi_value(tuple, tupdesc, fnumber, &type);

	return value == NULL ? NULL : pstrdup(value);
}

Datum
SPI_getbinval(HeapTuple tuple, TupleDesc tupdesc, int fnumber, bool *isnull)
{
	char		type;
	const char *value = spi_value(tuple, tupdesc, fnumber, &type);

	*isnull = value == NULL;
	if (value == NULL)
		return (Datum) 0;
	switch (type)
	{
		case 'i':
			return Int64GetDatum(strtoll(value, NULL, 10));
		case 'b':
			return BoolGetDatum(value[0] == 't');
		case 't':
			return PointerGetDatum(cstring_to_text(value));
	}
	shim_unreachable("SPI_getbinval of this column type");
}

int
SPI_fnumber(TupleDesc tupdesc, const char *fname)
{
	shim_unreachable("SPI_fnumber");
}

/* ---------------------------------------------------------------------
 * Reading rows from the schema files
 * --------------------------------------------------------------------- */

const char *
shim_schema_path(const char *file)
{
	static char path[1024];
	const char *dir = getenv("CLAUDECOST_SCHEMA_DIR");

	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "schema", file);
	return path;
}

/* Reads one SQL literal at *p into a malloc'd string (NULL for NULL). */
static char *
sql_literal(const char **p)
{
	const char *s = *p;
	bool		backslash = false;
	char	   *out;
	size_t		n = 0;

	if ((s[0] == 'E' || s[0] == 'e') && s[1] == '\'')
	{
		backslash = true;
		s++;
	}
	if (*s != '\'')
	{
		const char *start = s;

		while (*s && *s != ',' && *s != ')' && !isspace((unsigned char) *s))
			s++;
		*p = s;
		if (s - start == 4 && pg_strncasecmp(start, "NULL", 4) == 0)
			return NULL;
		return strndup(start, s - start);
	}
	out = malloc(strlen(s) + 1);
	for (s++; *s; s++)
	{
		if (*s == '\'' && s[1] == '\'')
			out[n++] = *++s;
		else if (*s == '\'')
			break;
		else if (backslash && *s == '\\' && s[1] != '\0')
		{
			s++;
			out[n++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s;
		}
		else
			out[n++] = *s;
	}
	out[n] = '\0';
	*p = *s ? s + 1 : s;
	return out;
}

char **
shim_read_sql_rows(const char *path, const char *table, const char *columns, int *row_count)
{
	FILE	   *file = fopen(path, "r");
	char	   *sql;
	long		size;
	char		header[256];
	const char *p;
	const char *list_end;
	int			wanted_count = 1;
	int		   *wanted;
	int			column_count = 0;
	char	  **rows = NULL;
	int			rows_size = 0;

	if (file == NULL)
	{
		fprintf(stderr, "pg_shim: cannot open %s (set CLAUDECOST_SCHEMA_DIR)\n", path);
		exit(2);
	}
	fseek(file, 0, SEEK_END);
	size = ftell(file);
	rewind(file);
	sql = malloc(size + 1);
	if (fread(sql, 1, size, file) != (size_t) size)
		exit(2);
	sql[size] = '\0';
	fclose(file);

	snprintf(header, sizeof(header), "INSERT INTO %s (", table);
	p = strstr(sql, header);
	if (p == NULL)
	{
		fprintf(stderr, "pg_shim: no \"%s\" in %s\n", header, path);
		exit(2);
	}
	p += strlen(header);
	list_end = strchr(p, ')');

	/* Position in the statement's column list of each wanted column. */
	for (const char *c = columns; *c; c++)
		wanted_count += *c == ',';
	wanted = malloc(sizeof(int) * wanted_count);
	for (int w = 0; w < wanted_count; w++)
	{
		const char *name = columns;
		size_t		name_len;

		for (int skip = 0; skip < w; skip++)
			name = strchr(name, ',') + 1;
		name_len = strcspn(name, ",");
		wanted[w] = -1;
		column_count = 0;
		for (const char *q = p; q < list_end;)
		{
			size_t		len;

			while (*q == ' ' || *q == ',')
				q++;
			len = strcspn(q, ", )");
			if (len == name_len && strncmp(q, name, len) == 0)
				wanted[w] = column_count;
			column_count++;
			q += len;
		}
		if (wanted[w] < 0)
		{
			fprintf(stderr, "pg_shim: no column %.*s in %s\n", (int) name_len, name, header);
			exit(2);
		}
	}

	p = strstr(list_end, "VALUES") + strlen("VALUES");
	*row_count = 0;
	for (;;)
	{
		char	  **values = calloc(column_count, sizeof(char *));

		while (isspace((unsigned char) *p))
			p++;
		if (*p != '(')
		{
			fprintf(stderr, "pg_shim: expected a row in %s near \"%.20s\"\n", path, p);
			exit(2);
		}
		p++;
		for (int c = 0; c < column_count; c++)
		{
			while (isspace((unsigned char) *p) || *p == ',')
				p++;
			values[c] = sql_literal(&p);
		}
		while (*p && *p != ')')
			p++;
		p++;
		if (*row_count == rows_size)
		{
			rows_size = rows_size * 2 + 16;
			rows = realloc(rows, sizeof(char *) * rows_size * wanted_count);
		}
		for (int w = 0; w < wanted_count; w++)
		{
			rows[*row_count * wanted_count + w] = values[wanted[w]];
			values[wanted[w]] = NULL;
		}
		for (int c = 0; c < column_count; c++)
			free(values[c]);
		free(values);
		(*row_count)++;
		while (isspace((unsigned char) *p))
			p++;
		if (*p != ',')
			break;
		p++;
	}
	free(wanted);
	free(sql);
	return rows;
}

/* ---------------------------------------------------------------------
 * Functions referenced by the harnessed files but never called by the
 * harnesses: each aborts with its name.
 * --------------------------------------------------------------------- */

static void
shim_unreachable(const char *function)
{
	fprintf(stderr, "pg_shim: %s is not available in the fuzz harness\n", function);
	abort();
}

int
ArrayGetNItems(int ndim, const int *dims)
{
	shim_unreachable("ArrayGetNItems");
}

bool
array_contains_nulls(ArrayType *array)
{
	shim_unreachable("array_contains_nulls");
}

ArrayType *
construct_empty_array(Oid elmtype)
{
	shim_unreachable("construct_empty_array");
}

TupleDesc
BlessTupleDesc(TupleDesc tupdesc)
{
	shim_unreachable("BlessTupleDesc");
}

Datum
HeapTupleHeaderGetDatum(HeapTupleHeader tuple)
{
	shim_unreachable("HeapTupleHeaderGetDatum");
}

void
InitMaterializedSRF(FunctionCallInfo fcinfo, bits32 flags)
{
	shim_unreachable("InitMaterializedSRF");
}

TypeFuncClass
get_call_result_type(FunctionCallInfo fcinfo, Oid *resultTypeId, TupleDesc *resultTupleDesc)
{
	shim_unreachable("get_call_result_type");
}

HeapTuple
heap_form_tuple(TupleDesc tupleDescriptor, Datum *values, bool *isnull)
{
	shim_unreachable("heap_form_tuple");
}

void
tuplestore_putvalues(Tuplestorestate *state, TupleDesc tdesc, Datum *values, bool *isnull)
{
	shim_unreachable("tuplestore_putvalues");
}
