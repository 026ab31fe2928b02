/*-------------------------------------------------------------------------
 *
 * read_series.c
 *	  Remote read's series selection: a query's matchers -> a cursor over the
 *	  matching series in Prometheus' order, fetched a batch at a time.
 *
 * The condition is store/matchers.c's (indexed for equality matchers on
 * promscale_ha.series).  Each row is the series id and its sort key,
 * promscale_ha.label_sort_key(labels): name \0 value \0 ... over the labels
 * sorted by name bytewise.  Prometheus orders series by labels.Compare
 * (name, value, name, ..., the shorter set first), which is the byte order
 * of that key because no label holds a NUL (jsonb cannot), so the statement
 * ends in ORDER BY the key: the executor's sort, bounded by work_mem, gives
 * the global order however many series match.  The labels sent are read
 * back from the same key, so the series is sent as it was sorted.
 *
 * The key is built in C (one walk of the jsonb, a sort of its few pairs)
 * instead of the SQL it replaces (jsonb_each_text, two array_agg and a
 * string_agg per series), which was a tenth of a 2,000-series read.
 *
 * The cursor is an SPI portal opened read-only on the statement's snapshot;
 * it outlives each call's SPI connection and is closed at its end, or by
 * pha_series_close when the statement stops early.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/portal.h"

#include "guc.h"
#include "store/read_series.h"
#include "store/matchers.h"

PG_FUNCTION_INFO_V1(pha_label_sort_key);

/* One label of a jsonb being turned into a key (points into the jsonb). */
typedef struct KeyPair
{
	const char *name;
	int			name_len;
	const char *value;
	int			value_len;
} KeyPair;

/* qsort: names bytewise, a prefix first (names of one object are distinct). */
static int
pair_cmp(const void *a, const void *b)
{
	const KeyPair *x = a;
	const KeyPair *y = b;
	int			c = memcmp(x->name, y->name, Min(x->name_len, y->name_len));

	if (c != 0)
		return c;
	return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

Datum
pha_label_sort_key(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	int			cap = JB_ROOT_IS_OBJECT(jb) ? (int) JB_ROOT_COUNT(jb) : 0;
	KeyPair    *pairs = palloc(sizeof(KeyPair) * Max(cap, 1));
	int			n = 0;
	Size		len = 0;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	bytea	   *key;
	char	   *p;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("labels must be a jsonb object")));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			if (n >= cap)
				elog(ERROR, "jsonb object holds more keys than its header says");
			pairs[n].name = v.val.string.val;
			pairs[n].name_len = v.val.string.len;
		}
		else if (tok == WJB_VALUE)
		{
			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("label \"%.*s\" is not a string", pairs[n].name_len,
								pairs[n].name)));
			pairs[n].value = v.val.string.val;
			pairs[n].value_len = v.val.string.len;
			len += pairs[n].name_len + pairs[n].value_len + 2;
			n++;
		}
	}
	qsort(pairs, n, sizeof(KeyPair), pair_cmp);

	key = palloc(VARHDRSZ + len);
	SET_VARSIZE(key, VARHDRSZ + len);
	p = VARDATA(key);
	for (int i = 0; i < n; i++)
	{
		memcpy(p, pairs[i].name, pairs[i].name_len);
		p += pairs[i].name_len;
		*p++ = '\0';
		memcpy(p, pairs[i].value, pairs[i].value_len);
		p += pairs[i].value_len;
		*p++ = '\0';
	}
	pfree(pairs);
	PG_RETURN_BYTEA_P(key);
}

/*
 * Kept plans of the series statement, one per text (the matchers' shape:
 * their values are parameters), most recently used first.  Planning the
 * statement was a tenth of a one-series read; the plan cache revalidates a
 * kept plan after DDL, and chooses between custom and generic plans as for
 * any prepared statement (a custom plan while it is worth the planning).
 */
#define SERIES_PLANS	32

typedef struct SeriesPlan
{
	char	   *sql;			/* NULL: an empty slot */
	int			nargs;
	Oid		   *types;
	SPIPlanPtr	plan;
} SeriesPlan;

static SeriesPlan series_plans[SERIES_PLANS];
static MemoryContext series_plans_cxt = NULL;

/* The kept plan of sql with these argument types, prepared at its first use. */
static SPIPlanPtr
series_plan(const char *sql, int nargs, const Oid *types)
{
	SeriesPlan	hit;
	SPIPlanPtr	plan;
	int			i;

	for (i = 0; i < SERIES_PLANS && series_plans[i].sql != NULL; i++)
	{
		if (series_plans[i].nargs == nargs && strcmp(series_plans[i].sql, sql) == 0 &&
			memcmp(series_plans[i].types, types, sizeof(Oid) * nargs) == 0)
		{
			hit = series_plans[i];
			memmove(&series_plans[1], &series_plans[0], sizeof(SeriesPlan) * i);
			series_plans[0] = hit;
			return hit.plan;
		}
	}
	plan = SPI_prepare_cursor(sql, nargs, (Oid *) types, CURSOR_OPT_NO_SCROLL);
	if (plan == NULL)
		elog(ERROR, "could not prepare the series statement: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep the series statement's plan");
	if (series_plans_cxt == NULL)
		series_plans_cxt = AllocSetContextCreate(TopMemoryContext, "promscale_ha series plans",
												 ALLOCSET_SMALL_SIZES);
	/* the least recently used one makes room */
	i = Min(i, SERIES_PLANS - 1);
	if (series_plans[i].sql != NULL)
	{
		SPI_freeplan(series_plans[i].plan);
		pfree(series_plans[i].sql);
		pfree(series_plans[i].types);
	}
	memmove(&series_plans[1], &series_plans[0], sizeof(SeriesPlan) * i);
	series_plans[0].sql = MemoryContextStrdup(series_plans_cxt, sql);
	series_plans[0].nargs = nargs;
	series_plans[0].types = MemoryContextAlloc(series_plans_cxt, sizeof(Oid) * Max(nargs, 1));
	memcpy(series_plans[0].types, types, sizeof(Oid) * nargs);
	series_plans[0].plan = plan;
	return plan;
}

void
pha_series_open(PhaSeriesCursor *cur, Prometheus__LabelMatcher **matchers, size_t n_matchers,
				MemoryContext keep_cxt)
{
	PhaMatcherSql m;
	StringInfoData sql;
	Portal		portal;

	pha_matchers_sql(matchers, n_matchers, pha_replica_label, 1, &m);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT s.id, promscale_ha.label_sort_key(s.labels) AS k "
					 "FROM promscale_ha.series s WHERE %s ORDER BY 2", m.where.data);
	portal = SPI_cursor_open(NULL, series_plan(sql.data, m.nargs, m.types), m.values, NULL, true);
	if (portal == NULL)
		elog(ERROR, "could not open the series cursor: %s",
			 SPI_result_code_string(SPI_result));
	cur->portal = MemoryContextStrdup(keep_cxt, portal->name);
}

/* Split a sort key (name \0 value \0 ...) into labels pointing into it. */
static void
key_labels(PhaReadSeries *s, const char *k, Size len)
{
	int			nul = 0;
	int			i = 0;
	const char *p = k;
	const char *end = k + len;

	for (Size j = 0; j < len; j++)
		nul += k[j] == '\0';
	if (nul % 2 != 0 || (len > 0 && k[len - 1] != '\0'))
		elog(ERROR, "series %lld: malformed label sort key", (long long) s->id);
	s->n_labels = nul / 2;
	s->labels = palloc(sizeof(PhaReadLabel) * Max(s->n_labels, 1));
	while (p < end)
	{
		size_t		nl = strlen(p);
		size_t		vl = strlen(p + nl + 1);

		s->labels[i].name = (const uint8_t *) p;
		s->labels[i].name_len = nl;
		s->labels[i].value = (const uint8_t *) (p + nl + 1);
		s->labels[i].value_len = vl;
		p += nl + vl + 2;
		i++;
	}
}

int
pha_series_fetch(PhaSeriesCursor *cur, int max, MemoryContext cxt, PhaReadSeries **out)
{
	Portal		portal = GetPortalByName(cur->portal);
	MemoryContext old;
	int			n;

	if (!PortalIsValid(portal))
		elog(ERROR, "series cursor \"%s\" is gone", cur->portal);
	SPI_cursor_fetch(portal, true, max);
	n = (int) SPI_processed;
	if (n == 0)
	{
		SPI_freetuptable(SPI_tuptable);
		pha_series_close(cur);
		*out = NULL;
		return 0;
	}
	old = MemoryContextSwitchTo(cxt);
	*out = palloc(sizeof(PhaReadSeries) * n);
	for (int i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		PhaReadSeries *s = &(*out)[i];
		bytea	   *k;

		/* id is the primary key; the key of a jsonb object is never NULL */
		s->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		k = DatumGetByteaPCopy(SPI_getbinval(tup, desc, 2, &isnull));
		key_labels(s, VARDATA(k), VARSIZE(k) - VARHDRSZ);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

void
pha_series_close(PhaSeriesCursor *cur)
{
	if (cur->portal)
	{
		Portal		p = GetPortalByName(cur->portal);

		if (PortalIsValid(p))
			SPI_cursor_close(p);
		pfree(cur->portal);
		cur->portal = NULL;
	}
}
