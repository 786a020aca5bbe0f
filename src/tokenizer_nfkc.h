/*
 * tokenizer_nfkc.h
 *		NFKC normalization of UTF-8 text of any size, in bounded chunks.
 */
#ifndef TOKENIZER_NFKC_H
#define TOKENIZER_NFKC_H

/* Result codes of tok_nfkc. */
#define TOK_NFKC_OK 0
#define TOK_NFKC_RUN_TOO_LONG 1 /* too many characters between chunk boundaries */
#define TOK_NFKC_TOO_LARGE 2	/* normalized text larger than max_output bytes */

/* Characters normalized at once between chunk boundaries, at most. */
#define TOK_NFKC_MAX_RUN (8 * 1024 * 1024)

/*
 * Normalizes len bytes of valid UTF-8 to NFKC.  Sets *out to text itself when
 * it is already normalized, otherwise to a palloc'd buffer, and *out_len to
 * its length.  Returns TOK_NFKC_TOO_LARGE when the result would exceed
 * max_output bytes.
 */
extern int	tok_nfkc(const char *text, size_t len, size_t max_output,
					 const char **out, size_t *out_len);

#endif							/* TOKENIZER_NFKC_H */
