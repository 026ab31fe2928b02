/*-------------------------------------------------------------------------
 *
 * compress_read.c
 *	  A head partition's rows grouped by series, read for compression in
 *	  sequential passes over its heap.
 *
 * Reading a partition in (series, time) order through its unique index
 * fetches one heap page per row: a page holds one scrape of ~150 series, so
 * every page is visited ~150 times, out of order (three quarters of
 * compression's CPU).  Here each pass reads the heap once in physical order
 * and keeps the rows of the series it owns (series_id % passes) in one
 * array pair per series; after the pass each series is sorted by time if its
 * rows were not in time order (late writes, space reused after a delete),
 * cut to whole milliseconds, and handed to the caller, in series_id order.
 *
 * Memory: a row costs 16 bytes in its series' arrays, at most 32 with their
 * growth by doubling; the passes are as many as keep that within
 * maintenance_work_mem, rows counted from the heap's size (an upper bound).
 * Past PHA_READ_MAX_PASSES passes the caller reads in index order instead
 * (7.9M rows in cache: 1 pass 3.1 s of CPU, 4 passes 3.2, 8 passes 4.9, the
 * index 7.5).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "store/chunk_io.h"
#include "store/compress_read.h"
#include "timeconv.h"

/* (series_id, time, value): header + 3 x 8 bytes, plus its line pointer */
#define ROW_BYTES_ON_PAGE	(MAXALIGN(SizeofHeapTupleHeader + 3 * sizeof(int64)) + sizeof(ItemIdData))
#define ROWS_PER_PAGE		((BLCKSZ - SizeOfPageHeaderData) / ROW_BYTES_ON_PAGE)
#define ROW_BYTES_IN_MEMORY	32

/* One series' rows of the current pass. */
typedef struct SeriesRows
{
	int64		sid;
	int64	   *t;				/* microseconds while read, ms when handed on */
	double	   *v;
	int			n;
	int			cap;
	bool		unsorted;
	char		status;			/* simplehash's */
} SeriesRows;

#define SH_PREFIX		rows
#define SH_ELEMENT_TYPE	SeriesRows
#define SH_KEY_TYPE		int64
#define SH_KEY			sid
#define SH_HASH_KEY(tb, key)	murmurhash32((uint32) (key) ^ (uint32) ((uint64) (key) >> 32))
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* The column of the partition named name, which must be of type type. */
static AttrNumber
column(Relation rel, const char *name, Oid type)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			if (att->atttypid != type)
				elog(ERROR, "column \"%s\" of \"%s\" has type %s, not %s", name,
					 RelationGetRelationName(rel), format_type_be(att->atttypid),
					 format_type_be(type));
			return att->attnum;
		}
	}
	elog(ERROR, "\"%s\" has no column \"%s\"", RelationGetRelationName(rel), name);
	return InvalidAttrNumber;	/* keep the compiler quiet */
}

static void
append(MemoryContext cxt, SeriesRows *s, int64 t, double v)
{
	if (s->n == s->cap)
	{
		if (s->cap >= INT_MAX / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("series %lld has too many rows in one head partition to compress",
							(long long) s->sid)));
		s->cap = s->cap ? s->cap * 2 : 64;
		if (s->t == NULL)
		{
			s->t = MemoryContextAllocHuge(cxt, s->cap * sizeof(int64));
			s->v = MemoryContextAllocHuge(cxt, s->cap * sizeof(double));
		}
		else
		{
			s->t = repalloc_huge(s->t, s->cap * sizeof(int64));
			s->v = repalloc_huge(s->v, s->cap * sizeof(double));
		}
	}
	if (s->n > 0 && t < s->t[s->n - 1])
		s->unsorted = true;
	s->t[s->n] = t;
	s->v[s->n] = v;
	s->n++;
}

/* Sort s by time, turn microseconds into ms dropping a repeated ms. */
static void
finish(SeriesRows *s)
{
	int			m = 0;

	if (s->unsorted)
		pha_sort_samples(s->t, s->v, s->n);
	for (int i = 0; i < s->n; i++)
	{
		int64		ms = pha_tstz_to_ms(s->t[i]);

		if (m > 0 && ms <= s->t[m - 1])
			continue;			/* sub-ms times written by hand: the first stays */
		s->t[m] = ms;
		s->v[m++] = s->v[i];
	}
	s->n = m;
}

static int
cmp_sid(const void *a, const void *b)
{
	int64		x = (*(SeriesRows *const *) a)->sid;
	int64		y = (*(SeriesRows *const *) b)->sid;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* One pass: the rows of series with series_id % passes == pass. */
static void
read_pass(Relation rel, Snapshot snap, int pass, int passes, const AttrNumber *att,
		  PhaSeriesRowsFn fn, void *arg, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	rows_hash  *h = rows_create(cxt, 1024, NULL);
	TupleDesc	desc = RelationGetDescr(rel);
	TableScanDesc scan;
	HeapTuple	tup;
	SeriesRows **order;
	rows_iterator it;
	SeriesRows *s;
	int			count = 0;

	/* from the first page on (no synchronized scan): rows mostly in time order */
	scan = heap_beginscan(rel, snap, 0, NULL, NULL,
						  SO_TYPE_SEQSCAN | SO_ALLOW_STRAT | SO_ALLOW_PAGEMODE);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		null0,
					null1,
					null2;
		int64		sid = DatumGetInt64(heap_getattr(tup, att[0], desc, &null0));
		TimestampTz t = DatumGetTimestampTz(heap_getattr(tup, att[1], desc, &null1));
		double		v = DatumGetFloat8(heap_getattr(tup, att[2], desc, &null2));
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (null0 || null1 || null2)
			elog(ERROR, "a row of \"%s\" has a null column", RelationGetRelationName(rel));
		if (passes > 1 && (uint64) sid % (uint64) passes != (uint64) pass)
			continue;
		s = rows_insert(h, sid, &found);
		if (!found)
		{
			s->t = NULL;
			s->v = NULL;
			s->n = s->cap = 0;
			s->unsorted = false;
		}
		append(cxt, s, t, v);
	}
	heap_endscan(scan);

	order = palloc(Max(h->members, 1) * sizeof(SeriesRows *));
	rows_start_iterate(h, &it);
	while ((s = rows_iterate(h, &it)) != NULL)
		order[count++] = s;
	qsort(order, count, sizeof(SeriesRows *), cmp_sid);
	MemoryContextSwitchTo(old);
	for (int i = 0; i < count; i++)
	{
		finish(order[i]);
		fn(arg, order[i]->sid, order[i]->t, order[i]->v, order[i]->n);
		CHECK_FOR_INTERRUPTS();
	}
}

int
pha_read_partition_by_series(Relation rel, Snapshot snap, PhaSeriesRowsFn fn, void *arg)
{
	double		rows = (double) RelationGetNumberOfBlocks(rel) * ROWS_PER_PAGE;
	double		budget = (double) maintenance_work_mem * 1024.0 / ROW_BYTES_IN_MEMORY;
	double		need = ceil(rows / budget);
	int			passes = (int) Max(need, 1);
	AttrNumber	att[3];
	MemoryContext cxt;

	if (need > PHA_READ_MAX_PASSES)
		return 0;
	att[0] = column(rel, "series_id", INT8OID);
	att[1] = column(rel, "time", TIMESTAMPTZOID);
	att[2] = column(rel, "value", FLOAT8OID);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha compress read",
								ALLOCSET_DEFAULT_SIZES);
	for (int pass = 0; pass < passes; pass++)
	{
		read_pass(rel, snap, pass, passes, att, fn, arg, cxt);
		MemoryContextReset(cxt);
	}
	MemoryContextDelete(cxt);
	return passes;
}
