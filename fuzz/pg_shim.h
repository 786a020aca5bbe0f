/*
 * pg_shim.h
 *		The part of the PostgreSQL backend that the fuzz harnesses need to run
 *		claudecost's C code in an ordinary process: memory contexts, ereport,
 *		StringInfo, text datums and an SPI that returns rows read from the
 *		extension's own schema files.
 *
 * Every palloc'd chunk is its own malloc block, so AddressSanitizer sees
 * each chunk's bounds and every use after a context reset.  An ERROR jumps
 * to the innermost PG_TRY (or shim_try) like in the server.
 */
#ifndef PG_SHIM_H
#define PG_SHIM_H

#include "postgres.h"

/* The ERROR that ended the last shim_try that failed. */
typedef struct ShimError
{
	int			sqlerrcode;
	char		message[512];
} ShimError;

extern ShimError shim_last_error;

/* Sets up the top, cache and per-input memory contexts; call once. */
extern void shim_init(void);

/*
 * Runs function(argument) with an error handler.  Returns true when it
 * returned and false when it raised an ERROR (details in shim_last_error).
 * Aborts, so libFuzzer reports a crash, when the ERROR carries an internal
 * SQLSTATE (class XX, as elog(ERROR) gives): every error that input can
 * cause must have a typed SQLSTATE.
 */
extern bool shim_try(void (*function) (void *), void *argument);

/* Context that shim_end_input resets; CurrentMemoryContext after shim_init. */
extern MemoryContext shim_input_context;

/* Frees everything allocated in shim_input_context. */
extern void shim_end_input(void);

/* Calls every registered relcache callback as for a change of every relation. */
extern void shim_invalidate_all(void);

/* Returns a palloc'd text datum holding len bytes of data. */
extern text *shim_text(const char *data, size_t len);

/*
 * Rows that SPI_execute returns for a query that starts with query_prefix.
 * types gives one letter per column: 'i' int8, 'b' boolean, 't' text and
 * 'n' a column read as SQL NULL (numeric columns the harnesses do not need).
 * values[row * column_count + column] is a C string or NULL for SQL NULL.
 */
typedef struct ShimTable
{
	const char *query_prefix;
	const char *types;
	int			column_count;
	int			row_count;
	char	  **values;
} ShimTable;

/* Registers a table for SPI_execute; the pointer must stay valid. */
extern void shim_spi_register(ShimTable *table);

/*
 * Reads the rows of the first "INSERT INTO table (columns) VALUES" statement
 * in the SQL file path and returns the named columns (comma-separated) of
 * every row, in file order, as malloc'd strings.  Understands '...' with ''
 * escapes, E'...' with backslash escapes, NULL, numbers and booleans.
 * Exits with a message when the file or the statement is missing.
 */
extern char **shim_read_sql_rows(const char *path, const char *table, const char *columns,
								 int *row_count);

/* Directory of the project's schema/ files: $CLAUDECOST_SCHEMA_DIR or "schema". */
extern const char *shim_schema_path(const char *file);

/*
 * Copies size bytes of data as text of a UTF8 database: each byte that does
 * not start a valid UTF-8 sequence, and each NUL, becomes '?'.  Sets *length.
 */
extern char *shim_utf8_text(const uint8_t *data, size_t size, size_t *length);

#endif							/* PG_SHIM_H */
