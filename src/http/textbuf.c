/*-------------------------------------------------------------------------
 *
 * textbuf.c
 *	  A growable text buffer (malloc) with the escapes of the Prometheus
 *	  text format and of HTML.
 *
 * Growth doubles the capacity; a failed allocation frees the text and makes
 * the buffer inert, so a caller builds a whole page or exposition with no
 * check per call and looks at the result once (fe_tb_take).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

/* Make room for n more bytes and the NUL; false (and inert) when out of memory. */
static bool
reserve(FeTextBuf *b, size_t n)
{
	size_t		want;
	char	   *p;

	if (b->failed)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	want = b->cap ? b->cap : 4096;
	while (want < b->len + n + 1)
		want *= 2;
	p = realloc(b->data, want);
	if (p == NULL)
	{
		free(b->data);
		b->data = NULL;
		b->len = b->cap = 0;
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = want;
	return true;
}

void
fe_tb_append(FeTextBuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
fe_tb_printf(FeTextBuf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t) n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void
fe_tb_label_value(FeTextBuf *b, const char *s)
{
	for (const char *p = s; *p; p++)
	{
		if (*p == '\\')
			fe_tb_append(b, "\\\\", 2);
		else if (*p == '"')
			fe_tb_append(b, "\\\"", 2);
		else if (*p == '\n')
			fe_tb_append(b, "\\n", 2);
		else
			fe_tb_append(b, p, 1);
	}
}

void
fe_tb_html(FeTextBuf *b, const char *s)
{
	for (const char *p = s; *p; p++)
	{
		switch (*p)
		{
			case '&':
				fe_tb_append(b, "&amp;", 5);
				break;
			case '<':
				fe_tb_append(b, "&lt;", 4);
				break;
			case '>':
				fe_tb_append(b, "&gt;", 4);
				break;
			case '"':
				fe_tb_append(b, "&quot;", 6);
				break;
			case '\'':
				fe_tb_append(b, "&#39;", 5);
				break;
			default:
				fe_tb_append(b, p, 1);
		}
	}
}

void
fe_tb_value(FeTextBuf *b, double v)
{
	if (isnan(v))
		fe_tb_append(b, "NaN", 3);
	else if (isinf(v))
		fe_tb_printf(b, "%sInf", v > 0 ? "+" : "-");
	else if (v > -1e15 && v < 1e15 && v == (double) (long long) v)
		fe_tb_printf(b, "%lld", (long long) v);
	else
		fe_tb_printf(b, "%.17g", v);
}

char *
fe_tb_take(FeTextBuf *b, size_t *len)
{
	char	   *s;

	if (b->failed || !reserve(b, 0))
		return NULL;
	s = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
fe_tb_free(FeTextBuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
