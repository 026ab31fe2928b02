/*-------------------------------------------------------------------------
 *
 * matchers.c
 *	  Prometheus label matchers -> a parameterised condition over
 *	  promscale_ha.series s.
 *
 * Conditions (Prometheus' semantics: an absent label has the value ""):
 *
 *	 __name__ = "v"      s.metric_name = $n              (btree)
 *	 name = "v"          s.labels @> $j, $j = {"name": "v"} as jsonb  (GIN)
 *	 name = ""           NOT (s.labels ? $k)             (series without it)
 *	 name != "v"         NOT (s.labels @> $j)            (absent counts as "")
 *	 name != ""          s.labels ? $k                   (series with it)
 *	 name =~ re          COALESCE(s.labels->>$k, '') COLLATE "C" ~ $re
 *	 name !~ re          ... !~ $re
 *
 * with __name__ read from metric_name in every form.  A regex that is only
 * a set of literals, a|b|c (wire/regex.h; Grafana's multi-value variables
 * send these), is an equality test instead, as Prometheus does too:
 *
 *	 __name__ =~ a|b     s.metric_name = ANY($arr)       (btree)
 *	 name =~ a|b         COALESCE(s.labels->>$k, '') = ANY($arr)
 *	                       AND (s.labels @> $j1 OR s.labels @> $j2)   (GIN, BitmapOr)
 *	 name =~ a|          COALESCE(s.labels->>$k, '') = ANY($arr)  ("" in the set)
 *	 name !~ a|b, a|     NOT (COALESCE(s.labels->>$k, '') = ANY($arr))
 *	 __name__ !~ a|b     NOT (s.metric_name = ANY($arr))
 *
 * The two halves of name =~ a|b say the same thing (a label's value is a
 * string): the containments let a selective set use the GIN index, and when
 * the set takes a large part of the series the planner scans them all and
 * tests the equality first (its estimated cost is below the containments'
 * from 3 values on, equal at 2, where the order written decides), which
 * rejects a series with one lookup where the containments took one per
 * value (18 values over 16,410 series: 28 ms -> 12 ms).  No index serves a negation, so it takes the equality.
 *
 * Every name, value and pattern is a parameter: no user text is spliced
 * into the statement.
 *
 * Regexes: $re is the matcher's RE2 pattern translated by wire/regex.c into
 * a PostgreSQL ARE of the same meaning under the "C" collation (what it
 * translates, what it refuses and why are listed there).  A refused pattern
 * is an error, SQLSTATE 2201B naming the matcher, rather than a pattern run
 * differently.  The ARE is compiled here too, so that an error of
 * PostgreSQL's regex engine also names the matcher and comes before any row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "regex/regex.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "store/matchers.h"
#include "wire/regex.h"

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

/* Blocks of the regex translator's arena: palloc, in the caller's context. */
static void *
arena_block(void *ctx, size_t size)
{
	return palloc(size);
}

/* Room for `extra` more parameters. */
static void
reserve(PhaMatcherSql *out, int extra)
{
	if (out->nargs + extra <= out->cap)
		return;
	out->cap = Max(out->cap * 2, out->nargs + extra);
	out->types = repalloc(out->types, sizeof(Oid) * out->cap);
	out->values = repalloc(out->values, sizeof(Datum) * out->cap);
}

static int
add_datum(PhaMatcherSql *out, int first_param, Datum value, Oid type)
{
	reserve(out, 1);
	out->values[out->nargs] = value;
	out->types[out->nargs] = type;
	out->nargs++;
	return first_param + out->nargs - 1;
}

static int
add_param(PhaMatcherSql *out, int first_param, const char *text)
{
	return add_datum(out, first_param, CStringGetTextDatum(text), TEXTOID);
}

/* {"name": "value"} as a jsonb parameter, for s.labels @> (no function per row). */
static int
add_pair(PhaMatcherSql *out, int first_param, const char *name, const char *value)
{
	JsonbParseState *ps = NULL;
	JsonbValue	k,
				v;
	JsonbValue *obj;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	v.type = jbvString;
	v.val.string.val = (char *) value;
	v.val.string.len = strlen(value);
	(void) pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	(void) pushJsonbValue(&ps, WJB_KEY, &k);
	(void) pushJsonbValue(&ps, WJB_VALUE, &v);
	obj = pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
	return add_datum(out, first_param, JsonbPGetDatum(JsonbValueToJsonb(obj)), JSONBOID);
}

/* items[0..n) as a text[] parameter. */
static int
add_text_array(PhaMatcherSql *out, int first_param, char **items, size_t n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (size_t i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return add_datum(out, first_param,
					 PointerGetDatum(construct_array(d, (int) n, TEXTOID, -1, false, TYPALIGN_INT)),
					 TEXTARRAYOID);
}

/* A regex matcher whose pattern is the literal set items[0..n): an equality test. */
static void
literal_set_sql(PhaMatcherSql *out, int first_param, const char *name, bool is_name, bool pos,
				char **items, size_t n)
{
	bool		has_empty = false;
	int			k,
				v;

	for (size_t i = 0; i < n; i++)
		has_empty |= items[i][0] == '\0';
	appendStringInfoString(&out->where, pos ? " AND (" : " AND NOT (");
	if (is_name)
	{
		v = add_text_array(out, first_param, items, n);
		appendStringInfo(&out->where, "s.metric_name = ANY($%d)", v);
	}
	else
	{
		k = add_param(out, first_param, name);
		v = add_text_array(out, first_param, items, n);
		appendStringInfo(&out->where, "COALESCE(s.labels ->> $%d, '') = ANY($%d)", k, v);
		if (pos && !has_empty)
		{
			/* after the equality: a scan tests it first when the costs tie (2 values) */
			appendStringInfoString(&out->where, " AND (");
			for (size_t i = 0; i < n; i++)
				appendStringInfo(&out->where, "%ss.labels @> $%d", i > 0 ? " OR " : "",
								 add_pair(out, first_param, name, items[i]));
			appendStringInfoChar(&out->where, ')');
		}
	}
	appendStringInfoChar(&out->where, ')');
}

void
pha_matchers_sql(Prometheus__LabelMatcher **matchers, size_t n, const char *replica_label,
				 int first_param, PhaMatcherSql *out)
{
	PhaArena	arena;			/* the regex translations; a block only once needed */

	pha_arena_init(&arena, arena_block, NULL);
	initStringInfo(&out->where);
	appendStringInfoString(&out->where, "true");
	out->nargs = 0;
	out->cap = 2 * (int) n + 1;
	out->types = palloc(sizeof(Oid) * out->cap);
	out->values = palloc(sizeof(Datum) * out->cap);

	for (size_t i = 0; i < n; i++)
	{
		Prometheus__LabelMatcher *lm = matchers[i];
		char	   *name = pnstrdup((const char *) lm->name.data, lm->name.len);
		char	   *value = pnstrdup((const char *) lm->value.data, lm->value.len);
		int			type = (int) lm->type;
		bool		is_name = strcmp(name, "__name__") == 0;
		const char *subject;
		char	  **lits;
		size_t		nlits;
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
				v = add_pair(out, first_param, name, value);
				appendStringInfo(&out->where, " AND %ss.labels @> $%d%s",
								 eq ? "" : "NOT (", v, eq ? "" : ")");
			}
		}
		else if (pha_re2_literal_set(value, lm->value.len, &arena, &lits, &nlits))
			literal_set_sql(out, first_param, name, is_name,
							type == PROMETHEUS__LABEL_MATCHER__TYPE__RE, lits, nlits);
		else
		{
			const char *why;
			char	   *are;
			PhaRegexStatus rc = pha_re2_to_are(value, lm->value.len, &arena, &are, &why);
			ErrorContextCallback cb;
			MatcherErrCtx mctx = {name, value, type};

			if (rc == PHA_REGEX_NO_MEMORY)	/* palloc fails by ereport instead */
				elog(ERROR, "regex translation of label matcher %s%s\"%s\": %s",
					 name, op_names[type], value, why);
			if (rc != PHA_REGEX_OK)
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
