/*-------------------------------------------------------------------------
 *
 * compress_read.c
 *	  A head partition's rows grouped by series, read for compression by
 *	  one scan of its heap.
 *
 * Reading a partition in (series, time) order through its unique index
 * fetches one heap page per row: a page holds one scrape of ~150 series, so
 * every page is visited ~150 times, out of order (three quarters of
 * compression's CPU, as earlier builds did it).  Here the heap is read once in
 * physical order and each series' rows are collected in one array pair
 * (a hash table by series_id); then each series is sorted by time if its
 * rows were not in time order (late writes, space reused after a delete),
 * cut to whole milliseconds, and handed to the caller, in series_id order.
 *
 * Memory: a row costs 16 bytes in its series' arrays, at most 32 with their
 * growth by doubling.  When the heap's size says its rows may not fit
 * maintenance_work_mem that way, the scan writes each row (24 bytes) to the
 * temporary file of its batch (series_id % batches, as many batches as keep
 * one within maintenance_work_mem), and the batches are then collected and
 * handed on one after the other: the heap is still read once, and the
 * temporary files take what does not fit (as a hash join's batches do).
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
#include "storage/buffile.h"
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
/* most batch files of one partition (each holds an 8 kB buffer while written) */
#define MAX_BATCHES			1024

/* One series' rows of the current batch. */
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
	AttrNumber	a = get_attnum(RelationGetRelid(rel), name);
	Oid			found;

	if (a == InvalidAttrNumber)
		elog(ERROR, "\"%s\" has no column \"%s\"", RelationGetRelationName(rel), name);
	found = TupleDescAttr(RelationGetDescr(rel), a - 1)->atttypid;
	if (found != type)
		elog(ERROR, "column \"%s\" of \"%s\" has type %s, not %s", name,
			 RelationGetRelationName(rel), format_type_be(found), format_type_be(type));
	return a;
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

/* Series being collected: a hash table of array pairs in cxt. */
typedef struct Collect
{
	MemoryContext cxt;
	rows_hash  *h;
} Collect;

/* A row as spilled to a batch file. */
typedef struct SpilledRow
{
	int64		sid;
	int64		t;
	double		v;
} SpilledRow;

static void
collect_begin(Collect *c, MemoryContext cxt)
{
	c->cxt = cxt;
	c->h = rows_create(cxt, 1024, NULL);
}

static inline void
collect_row(Collect *c, int64 sid, TimestampTz t, double v)
{
	bool		found;
	SeriesRows *s = rows_insert(c->h, sid, &found);

	if (!found)
	{
		s->t = NULL;
		s->v = NULL;
		s->n = s->cap = 0;
		s->unsorted = false;
	}
	append(c->cxt, s, t, v);
}

/* Hand the collected series to fn in series_id order. */
static void
collect_emit(Collect *c, PhaSeriesRowsFn fn, void *arg)
{
	SeriesRows **order = MemoryContextAlloc(c->cxt, Max(c->h->members, 1) * sizeof(SeriesRows *));
	rows_iterator it;
	SeriesRows *s;
	int			count = 0;

	rows_start_iterate(c->h, &it);
	while ((s = rows_iterate(c->h, &it)) != NULL)
		order[count++] = s;
	qsort(order, count, sizeof(SeriesRows *), cmp_sid);
	for (int i = 0; i < count; i++)
	{
		finish(order[i]);
		fn(arg, order[i]->sid, order[i]->t, order[i]->v, order[i]->n);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Read the heap once, from its first page (no synchronized scan: rows then
 * come mostly in time order): into c when files is NULL, else each row to
 * the batch file of its series (created on first use in file_cxt).
 */
static void
scan_heap(Relation rel, Snapshot snap, const AttrNumber *att, Collect *c,
		  BufFile **files, int batches, MemoryContext file_cxt)
{
	TupleDesc	desc = RelationGetDescr(rel);
	TableScanDesc scan;
	HeapTuple	tup;

	scan = heap_beginscan(rel, snap, 0, NULL, NULL,
						  SO_TYPE_SEQSCAN | SO_ALLOW_STRAT | SO_ALLOW_PAGEMODE);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		null0,
					null1,
					null2;
		SpilledRow	row;

		CHECK_FOR_INTERRUPTS();
		row.sid = DatumGetInt64(heap_getattr(tup, att[0], desc, &null0));
		row.t = DatumGetTimestampTz(heap_getattr(tup, att[1], desc, &null1));
		row.v = DatumGetFloat8(heap_getattr(tup, att[2], desc, &null2));
		if (null0 || null1 || null2)
			elog(ERROR, "a row of \"%s\" has a null column", RelationGetRelationName(rel));
		if (files == NULL)
			collect_row(c, row.sid, row.t, row.v);
		else
		{
			int			b = (int) ((uint64) row.sid % (uint64) batches);

			if (files[b] == NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(file_cxt);

				files[b] = BufFileCreateTemp(false);
				MemoryContextSwitchTo(old);
			}
			BufFileWrite(files[b], &row, sizeof(row));
		}
	}
	heap_endscan(scan);
}

/* Collect the rows of one batch file into c, and close it. */
static void
read_batch(BufFile *file, Collect *c)
{
	SpilledRow	rows[256];

	if (BufFileSeek(file, 0, 0, SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not rewind a temporary file of compression: %m")));
	for (;;)
	{
		size_t		got = BufFileRead(file, rows, sizeof(rows));

		if (got % sizeof(SpilledRow) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read a temporary file of compression: %zu bytes left over",
							got % sizeof(SpilledRow))));
		for (size_t i = 0; i < got / sizeof(SpilledRow); i++)
			collect_row(c, rows[i].sid, rows[i].t, rows[i].v);
		CHECK_FOR_INTERRUPTS();
		if (got < sizeof(rows))
			break;
	}
	BufFileClose(file);
}

int
pha_read_partition_by_series(Relation rel, Snapshot snap, PhaSeriesRowsFn fn, void *arg)
{
	double		rows = (double) RelationGetNumberOfBlocks(rel) * ROWS_PER_PAGE;
	double		budget = (double) maintenance_work_mem * 1024.0 / ROW_BYTES_IN_MEMORY;
	int			batches = (int) Min(Max(ceil(rows / budget), 1), MAX_BATCHES);
	AttrNumber	att[3];
	MemoryContext cxt;
	MemoryContext file_cxt;
	BufFile   **files;
	Collect		c;

	att[0] = column(rel, "series_id", INT8OID);
	att[1] = column(rel, "time", TIMESTAMPTZOID);
	att[2] = column(rel, "value", FLOAT8OID);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha compress read",
								ALLOCSET_DEFAULT_SIZES);
	if (batches == 1)
	{
		collect_begin(&c, cxt);
		scan_heap(rel, snap, att, &c, NULL, 1, NULL);
		collect_emit(&c, fn, arg);
		MemoryContextDelete(cxt);
		return 1;
	}
	file_cxt = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha compress batches",
									 ALLOCSET_DEFAULT_SIZES);
	files = MemoryContextAllocZero(file_cxt, batches * sizeof(BufFile *));
	scan_heap(rel, snap, att, NULL, files, batches, file_cxt);
	for (int b = 0; b < batches; b++)
	{
		if (files[b] == NULL)
			continue;
		collect_begin(&c, cxt);
		read_batch(files[b], &c);
		files[b] = NULL;
		collect_emit(&c, fn, arg);
		MemoryContextReset(cxt);
	}
	MemoryContextDelete(file_cxt);
	MemoryContextDelete(cxt);
	return batches;
}
