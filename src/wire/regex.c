/*-------------------------------------------------------------------------
 *
 * regex.c
 *	  Prometheus regular expressions (RE2 syntax, as Go's regexp reads it)
 *	  -> PostgreSQL regular expressions (ARE) of the same meaning.
 *
 * Prometheus anchors a matcher's regex as ^(?:re)$ and runs it with Go's
 * regexp.  PostgreSQL's ARE reads many patterns the same but not all, so the
 * pattern is parsed here and written out again in a form whose meaning is
 * RE2's, token by token; what cannot be written so is refused (a status and
 * the reason) rather than run differently:
 *
 *	 translated:  .  ->  [^\n] (any character with (?s));  ^ $ -> line anchors
 *				  with (?m) (lookaround on \n);  \d \s \w and POSIX classes
 *				  -> explicit ASCII sets (RE2's \s has no \v, ARE's has);
 *				  \b \B -> \y \Y;  \A \z -> \A \Z;  \Q..\E, \xHH, \x{H..},
 *				  octal \0.. and \1nn, \a\f\t\n\r\v -> character escapes;
 *				  capturing and named groups (?P<n>..) (?<n>..) -> (?:..);
 *				  flag groups (?i) (?m) (?s) (?U), (?flags:re), (?-flags);
 *				  (?i) is applied here, by Go's simple case folding of ASCII
 *				  letters (k also matches U+212A KELVIN SIGN, s U+017F LONG S),
 *				  so ARE's own (locale-dependent) case folding is never used;
 *				  lazy quantifiers and (?U) keep their meaning (a whole-string
 *				  match exists or not whatever the greediness);  every class
 *				  becomes an explicit set of code points.
 *	 refused:     \C (a single byte), \pN \p{..} \PN (Unicode classes: ARE has
 *				  none), back-references \1..\9 (ARE would read them; RE2 has
 *				  none), lookaround and comments (?= (?! (?<= (?#, \Z, unknown
 *				  escapes, repetition counts over 255 (ARE's limit; RE2's is
 *				  1000), a repeated assertion (^*), non-ASCII letters or
 *				  classes under (?i) (folding them needs Unicode's tables), and
 *				  everything Go's parser rejects (missing or nested repetition
 *				  operands, unbalanced parentheses or brackets, bad ranges).
 *
 * The ARE is meant to run with the "C" collation, where ARE's classes are
 * ASCII only, as RE2's are; the translation never relies on ARE's classes
 * anyway.  The ARE is ASCII text: every character but an ASCII letter or
 * digit is written as an escape.
 *
 * Plain C with no PostgreSQL header (see decode.h): memory comes from the
 * caller's PhaArena (the output buffer and the code point sets grow by
 * doubling; the arena frees nothing), errors are a status plus a reason.
 * Recursion is bounded by MAX_DEPTH nested groups.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/regex.h"

#define MAX2(a, b)	((a) > (b) ? (a) : (b))
#define MIN2(a, b)	((a) < (b) ? (a) : (b))
#define MAX_CP		0x10FFFF
#define KELVIN		0x212A
#define LONG_S		0x17F
#define ARE_DUPMAX	255			/* PostgreSQL's RE_DUP_MAX */
#define GO_DUPMAX	1000		/* Go's regexp/syntax limit */
#define MAX_DEPTH	200			/* nesting of groups; Go allows 1000 */

/* ---- the parser's state and memory ----------------------------------------------------- */

typedef struct Re2Parser
{
	const unsigned char *p;
	const unsigned char *end;
	bool		fold;			/* (?i) */
	bool		multiline;		/* (?m) */
	bool		dotnl;			/* (?s) */
	int			depth;
	PhaArena   *arena;			/* every allocation */
	bool		oom;			/* an allocation failed: the result is void */
	char	   *out;			/* the ARE written so far, NUL-terminated */
	size_t		out_len;
	size_t		out_cap;
	const char *why;			/* set on rejection */
} Re2Parser;

/*
 * Grow an array of the arena to hold want bytes (doubling; the old copy stays
 * in the arena, which frees nothing).  False, with ps->oom set, on failure.
 */
static bool
grow(Re2Parser *ps, void **buf, size_t used, size_t *cap, size_t want)
{
	size_t		ncap = *cap ? *cap : 64;
	void	   *nbuf;

	if (want <= *cap)
		return true;
	while (ncap < want)
		ncap *= 2;
	nbuf = ps->oom ? NULL : pha_arena_alloc(ps->arena, ncap);
	if (nbuf == NULL)
	{
		ps->oom = true;
		return false;
	}
	if (used > 0)
		memcpy(nbuf, *buf, used);
	*buf = nbuf;
	*cap = ncap;
	return true;
}

/* Append n bytes to the output (nothing once an allocation has failed). */
static void
out_mem(Re2Parser *ps, const char *s, size_t n)
{
	void	   *buf = ps->out;

	if (!grow(ps, &buf, ps->out_len, &ps->out_cap, ps->out_len + n + 1))
		return;
	ps->out = buf;
	memcpy(ps->out + ps->out_len, s, n);
	ps->out_len += n;
	ps->out[ps->out_len] = '\0';
}

static void
out_str(Re2Parser *ps, const char *s)
{
	out_mem(ps, s, strlen(s));
}

static void
out_char(Re2Parser *ps, char c)
{
	out_mem(ps, &c, 1);
}

/* A short formatted piece: an escape or a repetition count. */
static void
out_fmt(Re2Parser *ps, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

static void
out_fmt(Re2Parser *ps, const char *fmt,...)
{
	char		buf[32];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_mem(ps, buf, (size_t) n < sizeof(buf) ? (size_t) n : sizeof(buf) - 1);
}

/* ---- code point sets ------------------------------------------------------------------ */

typedef struct CpRange
{
	int32_t		lo;
	int32_t		hi;
} CpRange;

typedef struct CpSet
{
	CpRange    *r;
	int			n;
	int			cap;
} CpSet;

/* Add lo..hi to s (unsorted; nothing once an allocation has failed). */
static void
set_add(Re2Parser *ps, CpSet *s, int32_t lo, int32_t hi)
{
	if (s->n == s->cap)
	{
		void	   *r = s->r;
		size_t		cap = (size_t) s->cap * sizeof(CpRange);

		if (!grow(ps, &r, (size_t) s->n * sizeof(CpRange), &cap,
				  (size_t) (s->cap ? s->cap * 2 : 8) * sizeof(CpRange)))
			return;
		s->r = r;
		s->cap = (int) (cap / sizeof(CpRange));
	}
	s->r[s->n].lo = lo;
	s->r[s->n].hi = hi;
	s->n++;
}

static int
cp_range_cmp(const void *a, const void *b)
{
	const CpRange *x = a;
	const CpRange *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sort and merge overlapping or adjacent ranges. */
static void
set_normalize(CpSet *s)
{
	int			k = 0;

	if (s->n == 0)
		return;
	qsort(s->r, s->n, sizeof(CpRange), cp_range_cmp);
	for (int i = 1; i < s->n; i++)
	{
		if (s->r[i].lo <= s->r[k].hi + 1)
			s->r[k].hi = MAX2(s->r[k].hi, s->r[i].hi);
		else
			s->r[++k] = s->r[i];
	}
	s->n = k + 1;
}

/* The complement over 0..U+10FFFF (set normalized first). */
static void
set_negate(Re2Parser *ps, CpSet *s)
{
	CpSet		out = {0};
	int32_t		next = 0;

	set_normalize(s);
	for (int i = 0; i < s->n; i++)
	{
		if (s->r[i].lo > next)
			set_add(ps, &out, next, s->r[i].lo - 1);
		next = s->r[i].hi + 1;
	}
	if (next <= MAX_CP)
		set_add(ps, &out, next, MAX_CP);
	*s = out;					/* the old ranges stay in the arena */
}

static bool
set_has(const CpSet *s, int32_t c)
{
	for (int i = 0; i < s->n; i++)
		if (s->r[i].lo <= c && c <= s->r[i].hi)
			return true;
	return false;
}

/*
 * Go's simple case folding, for sets of ASCII code points plus the two
 * non-ASCII members of ASCII letters' orbits.  False when the set holds any
 * other non-ASCII code point: folding that needs Unicode's tables.
 */
static bool
set_fold(Re2Parser *ps, CpSet *s)
{
	int			n = s->n;
	bool		k,
				sl;

	for (int i = 0; i < n; i++)
	{
		int32_t		lo = s->r[i].lo,
					hi = s->r[i].hi;

		if (hi >= 0x80)
		{
			if (lo == hi && (lo == KELVIN || lo == LONG_S))
				continue;
			return false;
		}
		/* the other case of every letter in lo..hi */
		if (MAX2(lo, 'a') <= MIN2(hi, 'z'))
			set_add(ps, s, MAX2(lo, 'a') - 32, MIN2(hi, 'z') - 32);
		if (MAX2(lo, 'A') <= MIN2(hi, 'Z'))
			set_add(ps, s, MAX2(lo, 'A') + 32, MIN2(hi, 'Z') + 32);
	}
	k = set_has(s, 'k') || set_has(s, KELVIN);
	sl = set_has(s, 's') || set_has(s, LONG_S);
	if (k)
	{
		set_add(ps, s, 'k', 'k');
		set_add(ps, s, 'K', 'K');
		set_add(ps, s, KELVIN, KELVIN);
	}
	if (sl)
	{
		set_add(ps, s, 's', 's');
		set_add(ps, s, 'S', 'S');
		set_add(ps, s, LONG_S, LONG_S);
	}
	set_normalize(s);
	return true;
}

/* ---- the translator ------------------------------------------------------------------- */

/* What the last item of a sequence was, for the repetition rules. */
typedef enum LastItem
{
	LAST_NONE,					/* nothing to repeat (start, after | or a flag group) */
	LAST_ATOM,
	LAST_ASSERTION,
	LAST_REPEAT
} LastItem;

static bool parse_alternation(Re2Parser *ps);

/* Reject with a reason; always false, to be returned. */
static bool
reject(Re2Parser *ps, const char *why)
{
	if (ps->why == NULL)
		ps->why = why;
	return false;
}

/*
 * Decode one UTF-8 code point, by its lead byte as PostgreSQL's pg_utf_mblen()
 * and utf8_to_unicode() read it.  A lead byte of no sequence, or a sequence
 * cut by the end, is taken as one code point of that byte's value: the
 * meaning of invalid UTF-8 is not defined, but nothing is read past the end.
 */
static int32_t
next_cp(Re2Parser *ps)
{
	const unsigned char *s = ps->p;
	int			len;
	int32_t		c;

	if ((s[0] & 0xE0) == 0xC0)
		len = 2;
	else if ((s[0] & 0xF0) == 0xE0)
		len = 3;
	else if ((s[0] & 0xF8) == 0xF0)
		len = 4;
	else
		len = 1;
	if (len == 1 || len > ps->end - s)
	{
		ps->p++;
		return s[0];
	}
	if (len == 2)
		c = ((s[0] & 0x1F) << 6) | (s[1] & 0x3F);
	else if (len == 3)
		c = ((s[0] & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
	else
		c = ((s[0] & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
	ps->p += len;
	return c;
}

/* One code point as an ARE character escape (plain when an ASCII alphanumeric). */
static void
emit_cp(Re2Parser *ps, int32_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		out_char(ps, (char) c);
	else if (c < 0x10000)
		out_fmt(ps, "\\u%04X", (unsigned) c);
	else
		out_fmt(ps, "\\U%08X", (unsigned) c);
}

/* A set as a bracket expression of escapes; an empty set matches nothing. */
static void
emit_set(Re2Parser *ps, CpSet *s)
{
	set_normalize(s);
	/* text never holds NUL: leave it out, so that no \u0000 reaches the ARE */
	if (s->n > 0 && s->r[0].lo == 0)
	{
		if (s->r[0].hi == 0)
		{
			memmove(s->r, s->r + 1, (s->n - 1) * sizeof(CpRange));
			s->n--;
		}
		else
			s->r[0].lo = 1;
	}
	if (s->n == 0)
	{
		out_str(ps, "[^\\u0001-\\U0010FFFF]");
		return;
	}
	out_char(ps, '[');
	for (int i = 0; i < s->n; i++)
	{
		emit_cp(ps, s->r[i].lo);
		if (s->r[i].hi > s->r[i].lo)
		{
			out_char(ps, '-');
			emit_cp(ps, s->r[i].hi);
		}
	}
	out_char(ps, ']');
}

/* One literal character, case-folded under (?i). */
static bool
emit_literal(Re2Parser *ps, int32_t c)
{
	if (ps->fold && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					 c == KELVIN || c == LONG_S))
	{
		CpSet		s = {0};

		set_add(ps, &s, c, c);
		set_fold(ps, &s);
		emit_set(ps, &s);
		return true;
	}
	if (ps->fold && c >= 0x80)
		return reject(ps, "case-insensitive matching (?i) of a non-ASCII character is not supported");
	emit_cp(ps, c);
	return true;
}

/* ASCII class tables: Perl \d \s \w and the POSIX [:name:] classes of RE2. */
typedef struct AsciiClass
{
	const char *name;
	const char *ranges;			/* pairs lo,hi */
} AsciiClass;

static const AsciiClass posix_classes[] = {
	{"alnum", "09AZaz"},
	{"alpha", "AZaz"},
	{"ascii", "\x01\x7f"},		/* \x00 added below */
	{"blank", "\t\t  "},
	{"cntrl", "\x01\x1f\x7f\x7f"},	/* \x00 added below */
	{"digit", "09"},
	{"graph", "!~"},
	{"lower", "az"},
	{"print", " ~"},
	{"punct", "!/:@[`{~"},
	{"space", "\t\r  "},		/* \t \n \v \f \r and space */
	{"upper", "AZ"},
	{"word", "09AZ__az"},
	{"xdigit", "09AFaf"},
	{NULL, NULL}
};

static void
add_ascii_class(Re2Parser *ps, CpSet *s, const AsciiClass *cls)
{
	for (const char *r = cls->ranges; r[0] && r[1]; r += 2)
		set_add(ps, s, (unsigned char) r[0], (unsigned char) r[1]);
	if (strcmp(cls->name, "ascii") == 0 || strcmp(cls->name, "cntrl") == 0)
		set_add(ps, s, 0, 0);
}

/* Perl class letter -> its set (folded under (?i)), negated for \D \S \W; false if c is none. */
static bool
perl_class(Re2Parser *ps, char c, CpSet *s)
{
	CpSet		t = {0};
	bool		neg = (c == 'D' || c == 'S' || c == 'W');

	switch (c)
	{
		case 'd':
		case 'D':
			set_add(ps, &t, '0', '9');
			break;
		case 's':
		case 'S':
			set_add(ps, &t, '\t', '\n');	/* RE2: [\t\n\f\r ], no \v */
			set_add(ps, &t, '\f', '\r');
			set_add(ps, &t, ' ', ' ');
			break;
		case 'w':
		case 'W':
			set_add(ps, &t, '0', '9');
			set_add(ps, &t, 'A', 'Z');
			set_add(ps, &t, '_', '_');
			set_add(ps, &t, 'a', 'z');
			break;
		default:
			return false;
	}
	if (ps->fold)
		set_fold(ps, &t);
	if (neg)
		set_negate(ps, &t);
	for (int i = 0; i < t.n; i++)
		set_add(ps, s, t.r[i].lo, t.r[i].hi);
	return true;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A character escape after the backslash (ps->p at the letter), as Go's
 * parseEscape reads it: octal, hex, \a\f\t\n\r\v, escaped punctuation.
 * Returns the code point, or -1 with ps->why set.
 */
static int32_t
parse_char_escape(Re2Parser *ps)
{
	int			c;

	if (ps->p >= ps->end)
		return reject(ps, "trailing backslash at end of expression"), -1;
	c = *ps->p;
	if (c >= '1' && c <= '7' && (ps->p + 1 >= ps->end || ps->p[1] < '0' || ps->p[1] > '7'))
		return reject(ps, "back-references (\\1 to \\9) are not supported"), -1;
	if (c == '8' || c == '9')
		return reject(ps, "back-references (\\1 to \\9) are not supported"), -1;
	if (c >= '0' && c <= '7')
	{
		int32_t		v = c - '0';

		ps->p++;
		for (int i = 0; i < 2 && ps->p < ps->end && *ps->p >= '0' && *ps->p <= '7'; i++)
			v = v * 8 + (*ps->p++ - '0');
		return v;
	}
	ps->p++;
	switch (c)
	{
		case 'x':
			{
				int32_t		v = 0;

				if (ps->p < ps->end && *ps->p == '{')
				{
					int			digits = 0;

					ps->p++;
					while (ps->p < ps->end && hexval(*ps->p) >= 0)
					{
						v = v * 16 + hexval(*ps->p++);
						if (v > MAX_CP)
							return reject(ps, "invalid escape sequence \\x{...}: over U+10FFFF"), -1;
						digits++;
					}
					if (digits == 0 || ps->p >= ps->end || *ps->p != '}')
						return reject(ps, "invalid escape sequence \\x{...}"), -1;
					ps->p++;
					return v;
				}
				if (ps->end - ps->p < 2 || hexval(ps->p[0]) < 0 || hexval(ps->p[1]) < 0)
					return reject(ps, "invalid escape sequence \\x: two hex digits expected"), -1;
				v = hexval(ps->p[0]) * 16 + hexval(ps->p[1]);
				ps->p += 2;
				return v;
			}
		case 'a':
			return 7;
		case 'f':
			return '\f';
		case 't':
			return '\t';
		case 'n':
			return '\n';
		case 'r':
			return '\r';
		case 'v':
			return '\v';
		case 'C':
			return reject(ps, "\\C (any single byte) is not supported"), -1;
		case 'p':
		case 'P':
			return reject(ps, "Unicode character classes (\\p, \\P) are not supported"), -1;
		default:
			if (c < 0x80 && !isalnum(c))
				return c;
			return reject(ps, "invalid or unsupported escape sequence"), -1;
	}
}

/* One character of a bracket expression, escaped or not, into *c; false when refused. */
static bool
parse_class_char(Re2Parser *ps, int32_t *c)
{
	if (ps->p[0] != '\\')
	{
		*c = next_cp(ps);
		return true;
	}
	ps->p++;
	*c = parse_char_escape(ps);
	return *c >= 0;
}

/* One item of a bracket expression into s: a POSIX class, a Perl class, a char or range. */
static bool
parse_class_item(Re2Parser *ps, CpSet *s)
{
	int32_t		lo,
				hi;

	if (ps->end - ps->p >= 2 && ps->p[0] == '[' && ps->p[1] == ':')
	{
		const unsigned char *close = NULL;

		for (const unsigned char *q = ps->p + 2; q + 1 < ps->end; q++)
			if (q[0] == ':' && q[1] == ']')
			{
				close = q;
				break;
			}
		if (close)
		{
			const char *name = (const char *) ps->p + 2;
			size_t		len = close - (ps->p + 2);
			bool		neg = len > 0 && name[0] == '^';
			CpSet		t = {0};

			if (neg)
			{
				name++;
				len--;
			}
			for (const AsciiClass *cls = posix_classes; cls->name; cls++)
				if (strlen(cls->name) == len && strncmp(cls->name, name, len) == 0)
				{
					add_ascii_class(ps, &t, cls);
					if (ps->fold)
						set_fold(ps, &t);
					if (neg)
						set_negate(ps, &t);
					for (int i = 0; i < t.n; i++)
						set_add(ps, s, t.r[i].lo, t.r[i].hi);
					ps->p = close + 2;
					return true;
				}
			return reject(ps, "invalid character class range [:name:]");
		}
	}
	if (ps->p[0] == '\\' && ps->p + 1 < ps->end)
	{
		if (perl_class(ps, ps->p[1], s))
		{
			ps->p += 2;
			return true;
		}
		if (ps->p[1] == 'p' || ps->p[1] == 'P')
			return reject(ps, "Unicode character classes (\\p, \\P) are not supported");
	}
	/* a character, perhaps the start of a range */
	if (!parse_class_char(ps, &lo))
		return false;
	hi = lo;
	if (ps->end - ps->p >= 2 && ps->p[0] == '-' && ps->p[1] != ']')
	{
		ps->p++;
		if (!parse_class_char(ps, &hi))
			return false;
		if (hi < lo)
			return reject(ps, "invalid character class range");
	}
	{
		CpSet		t = {0};

		set_add(ps, &t, lo, hi);
		if (ps->fold && !set_fold(ps, &t))
			return reject(ps, "case-insensitive matching (?i) of non-ASCII characters is not supported");
		for (int i = 0; i < t.n; i++)
			set_add(ps, s, t.r[i].lo, t.r[i].hi);
	}
	return true;
}

/* A bracket expression (ps->p after the '['), emitted as an explicit set. */
static bool
parse_class(Re2Parser *ps)
{
	CpSet		s = {0};
	bool		neg = false;
	bool		first = true;

	if (ps->p < ps->end && *ps->p == '^')
	{
		neg = true;
		ps->p++;
	}
	while (ps->p < ps->end && (*ps->p != ']' || first))
	{
		first = false;
		if (!parse_class_item(ps, &s))
			return false;
	}
	if (ps->p >= ps->end)
		return reject(ps, "missing closing ]");
	ps->p++;
	if (neg)
		set_negate(ps, &s);
	emit_set(ps, &s);
	return true;
}

/* {n}, {n,} or {n,m} at ps->p; false (nothing consumed) if not one: then '{' is literal. */
static bool
parse_repeat_braces(Re2Parser *ps, int *min, int *max)
{
	const unsigned char *q = ps->p + 1;
	long		n = 0,
				m;
	int			digits = 0;

	while (q < ps->end && *q >= '0' && *q <= '9')
	{
		if (n <= 100000)
			n = n * 10 + (*q - '0');
		q++;
		digits++;
	}
	if (digits == 0 || q >= ps->end)
		return false;
	m = n;
	if (*q == ',')
	{
		q++;
		if (q < ps->end && *q == '}')
			m = -1;
		else
		{
			m = 0;
			digits = 0;
			while (q < ps->end && *q >= '0' && *q <= '9')
			{
				if (m <= 100000)
					m = m * 10 + (*q - '0');
				q++;
				digits++;
			}
			if (digits == 0)
				return false;
		}
	}
	if (q >= ps->end || *q != '}')
		return false;
	ps->p = q + 1;
	*min = (int) MIN2(n, INT_MAX);
	*max = (int) MIN2(m, INT_MAX);
	return true;
}

/* A group after its '(' (and after "?:" or a name), with flags restored at its end. */
static bool
parse_group_body(Re2Parser *ps)
{
	bool		fold = ps->fold,
				ml = ps->multiline,
				dot = ps->dotnl;

	if (++ps->depth > MAX_DEPTH)
		return reject(ps, "expression nests too deeply");
	out_str(ps, "(?:");
	if (!parse_alternation(ps))
		return false;
	if (ps->p >= ps->end || *ps->p != ')')
		return reject(ps, "missing closing )");
	ps->p++;
	out_char(ps, ')');
	ps->depth--;
	ps->fold = fold;
	ps->multiline = ml;
	ps->dotnl = dot;
	return true;
}

/*
 * "(?" seen: a named group, a flag group (?flags) or (?flags:re).  *last
 * becomes LAST_NONE after (?flags), which repeats nothing.
 */
static bool
parse_paren_q(Re2Parser *ps, LastItem *last)
{
	bool		neg = false,
				any = false,
				sign_last = false;
	bool		fold = ps->fold,
				ml = ps->multiline,
				dot = ps->dotnl;

	if (ps->p < ps->end && (*ps->p == 'P' || *ps->p == '<'))
	{
		const unsigned char *q = ps->p + (*ps->p == 'P' ? 1 : 0);
		const unsigned char *name;

		if (q >= ps->end || *q != '<' || (q + 1 < ps->end && (q[1] == '=' || q[1] == '!')))
			return reject(ps, "lookbehind and other (?... group forms are not supported");
		name = ++q;
		while (q < ps->end && (isalnum(*q) || *q == '_'))
			q++;
		if (q == name || q >= ps->end || *q != '>')
			return reject(ps, "invalid named capture");
		ps->p = q + 1;
		*last = LAST_ATOM;
		return parse_group_body(ps);
	}
	while (ps->p < ps->end)
	{
		unsigned char c = *ps->p++;

		switch (c)
		{
			case 'i':
				fold = !neg;
				any = true;
				sign_last = false;
				continue;
			case 'm':
				ml = !neg;
				any = true;
				sign_last = false;
				continue;
			case 's':
				dot = !neg;
				any = true;
				sign_last = false;
				continue;
			case 'U':			/* ungreedy: no effect on whether a whole string matches */
				any = true;
				sign_last = false;
				continue;
			case '-':
				if (neg)
					return reject(ps, "invalid or unsupported Perl syntax in flags");
				neg = true;
				sign_last = true;
				any = false;
				continue;
			case ':':
			case ')':
				if (sign_last || (neg && !any))
					return reject(ps, "invalid or unsupported Perl syntax in flags");
				if (c == ')')
				{
					ps->fold = fold;
					ps->multiline = ml;
					ps->dotnl = dot;
					*last = LAST_NONE;
					return true;
				}
				else
				{
					bool		sf = ps->fold,
								sm = ps->multiline,
								sd = ps->dotnl;
					bool		ok;

					ps->fold = fold;
					ps->multiline = ml;
					ps->dotnl = dot;
					ok = parse_group_body(ps);
					ps->fold = sf;
					ps->multiline = sm;
					ps->dotnl = sd;
					*last = LAST_ATOM;
					return ok;
				}
			default:
				if (isalpha(c))
					return reject(ps, "unknown flag: only i, m, s and U are flags");
				return reject(ps, "lookaround, comments and other (?... group forms are not supported");
		}
	}
	return reject(ps, "missing closing )");
}

/* A quantifier after an item: checks Go's rules, writes it greedy. */
static bool
parse_quantifier(Re2Parser *ps, LastItem *last)
{
	unsigned char c = *ps->p;
	int			min = 0,
				max = 0;

	if (*last == LAST_NONE)
		return reject(ps, "missing argument to repetition operator");
	if (*last == LAST_REPEAT)
		return reject(ps, "invalid nested repetition operator");
	if (*last == LAST_ASSERTION)
		return reject(ps, "a repeated assertion (^, $, \\b, \\A, \\z) is not supported");
	if (c == '{')
	{
		parse_repeat_braces(ps, &min, &max);
		if (min > GO_DUPMAX || max > GO_DUPMAX || (max >= 0 && max < min))
			return reject(ps, "invalid repeat count");
		if (min > ARE_DUPMAX || max > ARE_DUPMAX)
			return reject(ps, "repeat counts over 255 are not supported");
		if (max < 0)
			out_fmt(ps, "{%d,}", min);
		else if (max == min)
			out_fmt(ps, "{%d}", min);
		else
			out_fmt(ps, "{%d,%d}", min, max);
	}
	else
	{
		ps->p++;
		out_char(ps, (char) c);
	}
	if (ps->p < ps->end && *ps->p == '?')
		ps->p++;				/* lazy: same match or no match as greedy */
	*last = LAST_REPEAT;
	return true;
}

/* A sequence of items up to '|', ')' or the end. */
static bool
parse_sequence(Re2Parser *ps)
{
	LastItem	last = LAST_NONE;

	while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')')
	{
		unsigned char c = *ps->p;

		if (c == '*' || c == '+' || c == '?')
		{
			if (!parse_quantifier(ps, &last))
				return false;
			continue;
		}
		if (c == '{')
		{
			int			a,
						b;
			const unsigned char *save = ps->p;
			bool		is_repeat = parse_repeat_braces(ps, &a, &b);

			ps->p = save;
			if (is_repeat)
			{
				if (!parse_quantifier(ps, &last))
					return false;
				continue;
			}
			/* not {n}, {n,} or {n,m}: a literal '{', below */
		}

		switch (c)
		{
			case '(':
				ps->p++;
				if (ps->p < ps->end && *ps->p == '?')
				{
					ps->p++;
					if (!parse_paren_q(ps, &last))
						return false;
				}
				else
				{
					if (!parse_group_body(ps))
						return false;
					last = LAST_ATOM;
				}
				continue;
			case '[':
				ps->p++;
				if (!parse_class(ps))
					return false;
				last = LAST_ATOM;
				continue;
			case '.':
				ps->p++;
				out_str(ps, ps->dotnl ? "[\\u0001-\\U0010FFFF]" : "[^\\u000A]");
				last = LAST_ATOM;
				continue;
			case '^':
				ps->p++;
				out_str(ps, ps->multiline ? "(?:^|(?<=\\u000A))" : "^");
				last = LAST_ASSERTION;
				continue;
			case '$':
				ps->p++;
				out_str(ps, ps->multiline ? "(?:$|(?=\\u000A))" : "$");
				last = LAST_ASSERTION;
				continue;
			case '\\':
				if (ps->p + 1 >= ps->end)
					return reject(ps, "trailing backslash at end of expression");
				switch (ps->p[1])
				{
					case 'A':
					case 'z':
					case 'b':
					case 'B':
						out_str(ps,
								ps->p[1] == 'A' ? "\\A" : ps->p[1] == 'z' ? "\\Z" :
								ps->p[1] == 'b' ? "\\y" : "\\Y");
						ps->p += 2;
						last = LAST_ASSERTION;
						continue;
					case 'Q':
						ps->p += 2;
						while (ps->p < ps->end)
						{
							if (ps->end - ps->p >= 2 && ps->p[0] == '\\' && ps->p[1] == 'E')
							{
								ps->p += 2;
								break;
							}
							if (!emit_literal(ps, next_cp(ps)))
								return false;
							last = LAST_ATOM;
						}
						continue;
					default:
						{
							CpSet		s = {0};

							if (perl_class(ps, ps->p[1], &s))
							{
								ps->p += 2;
								emit_set(ps, &s);
								last = LAST_ATOM;
								continue;
							}
						}
						break;
				}
				{
					int32_t		ch;

					ps->p++;
					ch = parse_char_escape(ps);
					if (ch < 0 || !emit_literal(ps, ch))
						return false;
					last = LAST_ATOM;
				}
				continue;
			default:
				if (!emit_literal(ps, next_cp(ps)))
					return false;
				last = LAST_ATOM;
				continue;
		}
	}
	return true;
}

/* Sequences separated by '|'. */
static bool
parse_alternation(Re2Parser *ps)
{
	for (;;)
	{
		if (!parse_sequence(ps))
			return false;
		if (ps->p < ps->end && *ps->p == '|')
		{
			ps->p++;
			out_char(ps, '|');
			continue;
		}
		return true;
	}
}

/* See regex.h. */
PhaRegexStatus
pha_re2_to_are(const char *re, size_t len, PhaArena *arena, char **are, const char **why)
{
	Re2Parser	ps = {0};
	const char *refused = NULL;

	ps.p = (const unsigned char *) re;
	ps.end = ps.p + len;
	ps.arena = arena;
	*are = NULL;
	out_str(&ps, "^(?:");
	if (!parse_alternation(&ps))
		refused = ps.why ? ps.why : "invalid regular expression";
	else if (ps.p < ps.end)
		refused = "unexpected )";
	else
		out_str(&ps, ")$");
	if (ps.oom)
	{
		*why = "out of memory";
		return PHA_REGEX_NO_MEMORY;
	}
	if (refused)
	{
		*why = refused;
		return PHA_REGEX_REFUSED;
	}
	*are = ps.out;
	*why = NULL;
	return PHA_REGEX_OK;
}

/* ---- sets of literals ----------------------------------------------------------------- */

static bool
is_ascii_punct(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && !isalnum(c);
}

bool
pha_re2_literal_set(const char *re, size_t len, PhaArena *arena, char ***items, size_t *n)
{
	const unsigned char *u = (const unsigned char *) re;
	size_t		count = 1;
	char	   *buf;
	char	  **list;
	size_t		k = 0;
	size_t		o = 0;

	*items = NULL;
	*n = 0;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = u[i];

		if (c == '\\')
		{
			if (i + 1 >= len || !is_ascii_punct(u[i + 1]))
				return false;
			i++;
		}
		else if (c == '|')
			count++;
		else if (c < 0x20 || c > 0x7e || strchr(".+*?()[]{}^$", c) != NULL)
			return false;
	}
	buf = pha_arena_alloc(arena, len + 1);
	list = pha_arena_alloc(arena, count * sizeof(char *));
	if (buf == NULL || list == NULL)
		return false;
	list[k++] = buf;
	for (size_t i = 0; i < len; i++)
	{
		if (u[i] == '\\')
			buf[o++] = (char) u[++i];
		else if (u[i] == '|')
		{
			buf[o++] = '\0';
			list[k++] = buf + o;
		}
		else
			buf[o++] = (char) u[i];
	}
	buf[o] = '\0';
	*items = list;
	*n = count;
	return true;
}
