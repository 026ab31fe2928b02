/*-------------------------------------------------------------------------
 *
 * matchers.c
 *	  Prometheus label matchers -> a parameterised condition over
 *	  promscale_ha.series s, and the RE2 -> ARE translation of regex matchers.
 *
 * Conditions (Prometheus' semantics: an absent label has the value ""):
 *
 *	 __name__ = "v"      s.metric_name = $n              (btree)
 *	 name = "v"          s.labels @> jsonb_build_object($k, $v)   (GIN)
 *	 name = ""           NOT (s.labels ? $k)             (series without it)
 *	 name != "v"         NOT (s.labels @> ...)           (absent counts as "")
 *	 name != ""          s.labels ? $k                   (series with it)
 *	 name =~ re          COALESCE(s.labels->>$k, '') COLLATE "C" ~ $re
 *	 name !~ re          ... !~ $re
 *
 * with __name__ read from metric_name in every form.  Every name, value and
 * pattern is a parameter: no user text is spliced into the statement.
 *
 * Regexes.  Prometheus anchors a matcher's regex as ^(?:re)$ and runs it with
 * Go's regexp (RE2 syntax).  PostgreSQL's ARE reads many patterns the same but
 * not all, so the pattern is parsed here and written out again in a form
 * whose meaning is RE2's, token by token; what cannot be written so is
 * rejected (SQLSTATE 2201B, naming the matcher) rather than run differently:
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
 *	 rejected:    \C (a single byte), \pN \p{..} \PN (Unicode classes: ARE has
 *				  none), back-references \1..\9 (ARE would read them; RE2 has
 *				  none), lookaround and comments (?= (?! (?<= (?#, \Z, unknown
 *				  escapes, repetition counts over 255 (ARE's limit; RE2's is
 *				  1000), a repeated assertion (^*), non-ASCII letters or
 *				  classes under (?i) (folding them needs Unicode's tables), and
 *				  everything Go's parser rejects (missing or nested repetition
 *				  operands, unbalanced parentheses or brackets, bad ranges).
 *
 * The pattern runs with the "C" collation, where ARE's classes are ASCII
 * only, as RE2's are; the translation never relies on ARE's classes anyway.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "regex/regex.h"
#include "utils/builtins.h"

#include "store/matchers.h"

#define MAX_CP		0x10FFFF
#define KELVIN		0x212A
#define LONG_S		0x17F
#define ARE_DUPMAX	255			/* PostgreSQL's RE_DUP_MAX */
#define GO_DUPMAX	1000		/* Go's regexp/syntax limit */
#define MAX_DEPTH	200			/* nesting of groups; Go allows 1000 */

/* ---- code point sets ------------------------------------------------------------------ */

typedef struct CpRange
{
	int32		lo;
	int32		hi;
} CpRange;

typedef struct CpSet
{
	CpRange    *r;
	int			n;
	int			cap;
} CpSet;

static void
set_add(CpSet *s, int32 lo, int32 hi)
{
	if (s->n == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 8;
		s->r = s->r ? repalloc(s->r, s->cap * sizeof(CpRange)) : palloc(s->cap * sizeof(CpRange));
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
			s->r[k].hi = Max(s->r[k].hi, s->r[i].hi);
		else
			s->r[++k] = s->r[i];
	}
	s->n = k + 1;
}

/* The complement over 0..U+10FFFF (set normalized first). */
static void
set_negate(CpSet *s)
{
	CpSet		out = {0};
	int32		next = 0;

	set_normalize(s);
	for (int i = 0; i < s->n; i++)
	{
		if (s->r[i].lo > next)
			set_add(&out, next, s->r[i].lo - 1);
		next = s->r[i].hi + 1;
	}
	if (next <= MAX_CP)
		set_add(&out, next, MAX_CP);
	if (s->r)
		pfree(s->r);
	*s = out;
}

static bool
set_has(const CpSet *s, int32 c)
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
set_fold(CpSet *s)
{
	int			n = s->n;
	bool		k,
				sl;

	for (int i = 0; i < n; i++)
	{
		int32		lo = s->r[i].lo,
					hi = s->r[i].hi;

		if (hi >= 0x80)
		{
			if (lo == hi && (lo == KELVIN || lo == LONG_S))
				continue;
			return false;
		}
		/* the other case of every letter in lo..hi */
		if (Max(lo, 'a') <= Min(hi, 'z'))
			set_add(s, Max(lo, 'a') - 32, Min(hi, 'z') - 32);
		if (Max(lo, 'A') <= Min(hi, 'Z'))
			set_add(s, Max(lo, 'A') + 32, Min(hi, 'Z') + 32);
	}
	k = set_has(s, 'k') || set_has(s, KELVIN);
	sl = set_has(s, 's') || set_has(s, LONG_S);
	if (k)
	{
		set_add(s, 'k', 'k');
		set_add(s, 'K', 'K');
		set_add(s, KELVIN, KELVIN);
	}
	if (sl)
	{
		set_add(s, 's', 's');
		set_add(s, 'S', 'S');
		set_add(s, LONG_S, LONG_S);
	}
	set_normalize(s);
	return true;
}

/* ---- the translator ------------------------------------------------------------------- */

typedef struct Re2Parser
{
	const unsigned char *p;
	const unsigned char *end;
	bool		fold;			/* (?i) */
	bool		multiline;		/* (?m) */
	bool		dotnl;			/* (?s) */
	int			depth;
	StringInfoData out;
	const char *why;			/* set on rejection */
} Re2Parser;

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

/* Decode one UTF-8 code point (the matcher was checked to be valid UTF-8). */
static int32
next_cp(Re2Parser *ps)
{
	const unsigned char *s = ps->p;
	int			len = pg_utf_mblen(s);
	int32		c;

	if (len <= 1 || s + len > ps->end)
	{
		ps->p++;
		return s[0];
	}
	c = utf8_to_unicode(s);
	ps->p += len;
	return c;
}

/* One code point as an ARE character escape (plain when an ASCII alphanumeric). */
static void
emit_cp(StringInfo out, int32 c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		appendStringInfoChar(out, (char) c);
	else if (c < 0x10000)
		appendStringInfo(out, "\\u%04X", (unsigned) c);
	else
		appendStringInfo(out, "\\U%08X", (unsigned) c);
}

/* A set as a bracket expression of escapes; an empty set matches nothing. */
static void
emit_set(StringInfo out, CpSet *s)
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
		appendStringInfoString(out, "[^\\u0001-\\U0010FFFF]");
		return;
	}
	appendStringInfoChar(out, '[');
	for (int i = 0; i < s->n; i++)
	{
		emit_cp(out, s->r[i].lo);
		if (s->r[i].hi > s->r[i].lo)
		{
			appendStringInfoChar(out, '-');
			emit_cp(out, s->r[i].hi);
		}
	}
	appendStringInfoChar(out, ']');
}

/* One literal character, case-folded under (?i). */
static bool
emit_literal(Re2Parser *ps, int32 c)
{
	if (ps->fold && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					 c == KELVIN || c == LONG_S))
	{
		CpSet		s = {0};

		set_add(&s, c, c);
		set_fold(&s);
		emit_set(&ps->out, &s);
		return true;
	}
	if (ps->fold && c >= 0x80)
		return reject(ps, "case-insensitive matching (?i) of a non-ASCII character is not supported");
	emit_cp(&ps->out, c);
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
add_ascii_class(CpSet *s, const AsciiClass *cls)
{
	for (const char *r = cls->ranges; r[0] && r[1]; r += 2)
		set_add(s, (unsigned char) r[0], (unsigned char) r[1]);
	if (strcmp(cls->name, "ascii") == 0 || strcmp(cls->name, "cntrl") == 0)
		set_add(s, 0, 0);
}

/* Perl class letter -> its set, negated for \D \S \W; false if c is none. */
static bool
perl_class(char c, CpSet *s, bool fold)
{
	CpSet		t = {0};
	bool		neg = (c == 'D' || c == 'S' || c == 'W');

	switch (c)
	{
		case 'd':
		case 'D':
			set_add(&t, '0', '9');
			break;
		case 's':
		case 'S':
			set_add(&t, '\t', '\n');	/* RE2: [\t\n\f\r ], no \v */
			set_add(&t, '\f', '\r');
			set_add(&t, ' ', ' ');
			break;
		case 'w':
		case 'W':
			set_add(&t, '0', '9');
			set_add(&t, 'A', 'Z');
			set_add(&t, '_', '_');
			set_add(&t, 'a', 'z');
			break;
		default:
			return false;
	}
	if (fold)
		set_fold(&t);
	if (neg)
		set_negate(&t);
	for (int i = 0; i < t.n; i++)
		set_add(s, t.r[i].lo, t.r[i].hi);
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
static int32
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
		int32		v = c - '0';

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
				int32		v = 0;

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

/* One item of a bracket expression into s: a POSIX class, a Perl class, a char or range. */
static bool
parse_class_item(Re2Parser *ps, CpSet *s)
{
	int32		lo,
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
					add_ascii_class(&t, cls);
					if (ps->fold)
						set_fold(&t);
					if (neg)
						set_negate(&t);
					for (int i = 0; i < t.n; i++)
						set_add(s, t.r[i].lo, t.r[i].hi);
					ps->p = close + 2;
					return true;
				}
			return reject(ps, "invalid character class range [:name:]");
		}
	}
	if (ps->p[0] == '\\' && ps->p + 1 < ps->end)
	{
		if (perl_class(ps->p[1], s, ps->fold))
		{
			ps->p += 2;
			return true;
		}
		if (ps->p[1] == 'p' || ps->p[1] == 'P')
			return reject(ps, "Unicode character classes (\\p, \\P) are not supported");
	}
	/* a character, perhaps the start of a range */
	if (ps->p[0] == '\\')
	{
		ps->p++;
		lo = parse_char_escape(ps);
		if (lo < 0)
			return false;
	}
	else
		lo = next_cp(ps);
	hi = lo;
	if (ps->end - ps->p >= 2 && ps->p[0] == '-' && ps->p[1] != ']')
	{
		ps->p++;
		if (ps->p[0] == '\\')
		{
			ps->p++;
			hi = parse_char_escape(ps);
			if (hi < 0)
				return false;
		}
		else
			hi = next_cp(ps);
		if (hi < lo)
			return reject(ps, "invalid character class range");
	}
	{
		CpSet		t = {0};

		set_add(&t, lo, hi);
		if (ps->fold && !set_fold(&t))
			return reject(ps, "case-insensitive matching (?i) of non-ASCII characters is not supported");
		for (int i = 0; i < t.n; i++)
			set_add(s, t.r[i].lo, t.r[i].hi);
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
		set_negate(&s);
	emit_set(&ps->out, &s);
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
	*min = (int) Min(n, INT_MAX);
	*max = (int) Min(m, INT_MAX);
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
	appendStringInfoString(&ps->out, "(?:");
	if (!parse_alternation(ps))
		return false;
	if (ps->p >= ps->end || *ps->p != ')')
		return reject(ps, "missing closing )");
	ps->p++;
	appendStringInfoChar(&ps->out, ')');
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
			appendStringInfo(&ps->out, "{%d,}", min);
		else if (max == min)
			appendStringInfo(&ps->out, "{%d}", min);
		else
			appendStringInfo(&ps->out, "{%d,%d}", min, max);
	}
	else
	{
		ps->p++;
		appendStringInfoChar(&ps->out, (char) c);
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
				appendStringInfoString(&ps->out, ps->dotnl ? "[\\u0001-\\U0010FFFF]" : "[^\\u000A]");
				last = LAST_ATOM;
				continue;
			case '^':
				ps->p++;
				appendStringInfoString(&ps->out, ps->multiline ? "(?:^|(?<=\\u000A))" : "^");
				last = LAST_ASSERTION;
				continue;
			case '$':
				ps->p++;
				appendStringInfoString(&ps->out, ps->multiline ? "(?:$|(?=\\u000A))" : "$");
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
						appendStringInfoString(&ps->out,
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

							if (perl_class(ps->p[1], &s, ps->fold))
							{
								ps->p += 2;
								emit_set(&ps->out, &s);
								last = LAST_ATOM;
								continue;
							}
						}
						break;
				}
				{
					int32		ch;

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
			appendStringInfoChar(&ps->out, '|');
			continue;
		}
		return true;
	}
}

char *
pha_re2_to_are(const char *re, size_t len, const char **why)
{
	Re2Parser	ps = {0};

	ps.p = (const unsigned char *) re;
	ps.end = ps.p + len;
	initStringInfo(&ps.out);
	appendStringInfoString(&ps.out, "^(?:");
	if (!parse_alternation(&ps))
	{
		*why = ps.why ? ps.why : "invalid regular expression";
		return NULL;
	}
	if (ps.p < ps.end)
	{
		*why = "unexpected )";
		return NULL;
	}
	appendStringInfoString(&ps.out, ")$");
	*why = NULL;
	return ps.out.data;
}

/* ---- matchers -> SQL ------------------------------------------------------------------ */

static const char *const op_names[] = {"=", "!=", "=~", "!~"};

/* Adds "matcher name=~"value"" to an error from compiling a translated regex. */
typedef struct MatcherErrCtx
{
	const char *name;
	const char *value;
	int			type;
} MatcherErrCtx;

static void
matcher_error_callback(void *arg)
{
	MatcherErrCtx *m = arg;

	errcontext("label matcher %s%s\"%s\"", m->name, op_names[m->type], m->value);
}

static int
add_param(PhaMatcherSql *out, int first_param, const char *text)
{
	out->values[out->nargs] = CStringGetTextDatum(text);
	out->types[out->nargs] = TEXTOID;
	out->nargs++;
	return first_param + out->nargs - 1;
}

void
pha_matchers_sql(Prometheus__LabelMatcher **matchers, size_t n, const char *replica_label,
				 int first_param, PhaMatcherSql *out)
{
	initStringInfo(&out->where);
	appendStringInfoString(&out->where, "true");
	out->nargs = 0;
	out->types = palloc(sizeof(Oid) * (2 * n + 1));
	out->values = palloc(sizeof(Datum) * (2 * n + 1));

	for (size_t i = 0; i < n; i++)
	{
		Prometheus__LabelMatcher *lm = matchers[i];
		char	   *name = pnstrdup((const char *) lm->name.data, lm->name.len);
		char	   *value = pnstrdup((const char *) lm->value.data, lm->value.len);
		int			type = (int) lm->type;
		bool		is_name = strcmp(name, "__name__") == 0;
		const char *subject;
		int			k,
					v;

		if (replica_label && replica_label[0] && strcmp(name, replica_label) == 0)
			continue;			/* never stored: every series "has" every replica */

		if (type == PROMETHEUS__LABEL_MATCHER__TYPE__EQ ||
			type == PROMETHEUS__LABEL_MATCHER__TYPE__NEQ)
		{
			bool		eq = type == PROMETHEUS__LABEL_MATCHER__TYPE__EQ;

			if (value[0] == '\0')
			{
				/* "" is the value of an absent label */
				if (is_name)
					appendStringInfoString(&out->where, eq ? " AND false" : "");
				else
				{
					k = add_param(out, first_param, name);
					appendStringInfo(&out->where, eq ? " AND NOT (s.labels ? $%d)" :
									 " AND s.labels ? $%d", k);
				}
			}
			else if (is_name)
			{
				v = add_param(out, first_param, value);
				appendStringInfo(&out->where, " AND s.metric_name %s $%d", eq ? "=" : "<>", v);
			}
			else
			{
				k = add_param(out, first_param, name);
				v = add_param(out, first_param, value);
				appendStringInfo(&out->where,
								 " AND %ss.labels @> pg_catalog.jsonb_build_object($%d, $%d)%s",
								 eq ? "" : "NOT (", k, v, eq ? "" : ")");
			}
		}
		else
		{
			const char *why;
			char	   *are = pha_re2_to_are(value, lm->value.len, &why);
			ErrorContextCallback cb;
			MatcherErrCtx mctx = {name, value, type};

			if (are == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
						 errmsg("invalid or unsupported regular expression in label matcher %s%s\"%s\"",
								name, op_names[type], value),
						 errdetail("%s.", why),
						 errhint("Matchers use RE2 syntax; what PostgreSQL's regular expressions would read differently is refused.")));
			/* compile now, so that an error names the matcher and comes before any row */
			cb.callback = matcher_error_callback;
			cb.arg = &mctx;
			cb.previous = error_context_stack;
			error_context_stack = &cb;
			(void) RE_compile_and_cache(cstring_to_text(are), REG_ADVANCED, C_COLLATION_OID);
			error_context_stack = cb.previous;

			if (is_name)
				subject = "s.metric_name";
			else
			{
				k = add_param(out, first_param, name);
				subject = psprintf("COALESCE(s.labels ->> $%d, '')", k);
			}
			v = add_param(out, first_param, are);
			appendStringInfo(&out->where, " AND %s COLLATE pg_catalog.\"C\" %s $%d", subject,
							 type == PROMETHEUS__LABEL_MATCHER__TYPE__RE ? "~" : "!~", v);
		}
	}
}
