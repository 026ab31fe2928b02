/*-------------------------------------------------------------------------
 *
 * textbuf.h
 *	  A growable text buffer (malloc) with the escapes of the Prometheus
 *	  text format and of HTML, for ha_metrics.c and status_page.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_TEXTBUF_H
#define FE_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * data is NUL-terminated while failed is false; after a failed allocation
 * every call is a no-op and failed stays true (the caller checks it once).
 */
typedef struct FeTextBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} FeTextBuf;

/* Append formatted text. */
extern void fe_tb_printf(FeTextBuf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Append n bytes as they are. */
extern void fe_tb_append(FeTextBuf *b, const char *s, size_t n);

/* Append s as a label value of the text format: \ " and newline escaped. */
extern void fe_tb_label_value(FeTextBuf *b, const char *s);

/* Append s escaped for HTML text and attribute values (& < > " '). */
extern void fe_tb_html(FeTextBuf *b, const char *s);

/* Append a sample value as the text format writes it (+Inf, -Inf, NaN). */
extern void fe_tb_value(FeTextBuf *b, double v);

/* Hand the text over (the caller frees it); NULL if an allocation failed. */
extern char *fe_tb_take(FeTextBuf *b, size_t *len);

/* Free what the buffer holds. */
extern void fe_tb_free(FeTextBuf *b);

#endif							/* FE_TEXTBUF_H */
