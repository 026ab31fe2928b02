/*-------------------------------------------------------------------------
 *
 * store.c
 *	  Batched insert of one request's samples into promscale_ha.samples_head,
 *	  the row tier of promscale_ha.samples.
 *
 * First the partitions are covered and locked (partition.c), and rows of
 * compressed time that a chunk holds already are dropped (late.c).  Then all
 * rows of a request go in one batch, by one of two paths:
 *
 *	- fast path, inside a subtransaction: the rows straight into their
 *	  partitions as COPY would store them (head_insert.c: heap multi-inserts,
 *	  then the index entries), or, where that path does not apply (triggers,
 *	  row-level security, unknown columns, many partitions), PostgreSQL's own
 *	  COPY FROM machinery (BeginCopyFrom with an in-memory data source in
 *	  binary format).  The unique index on (series_id, time) rejects a
 *	  repeated sample with 23505;
 *	- only then, slow path: the subtransaction is rolled back and the rows go
 *	  in again with INSERT ... SELECT FROM unnest() ON CONFLICT DO NOTHING,
 *	  which skips the repeats (first value wins) and settles concurrent
 *	  inserts of the same key without errors.
 *
 * A retried request takes both paths; every other request only the first,
 * which skips ON CONFLICT's index probe per row.  Measured on 10,000-sample
 * requests: INSERT ... ON CONFLICT alone ran at 0.33x of a plain binary COPY
 * of the same rows; figures of this path are in README.md ("Storage choices").
 *
 * Values travel as float8 Datums and are stored as their 8 bytes, so NaN
 * payloads (the Prometheus stale marker) stay bit-exact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "store/head_insert.h"
#include "store/late.h"
#include "store/partition.h"
#include "store/store.h"
#include "sql.h"
#include "timeconv.h"

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr newest_plan = NULL;

static int64 insert_on_conflict(PhaRows *rows);

/*
 * The binary COPY stream fed to CopyFrom, made on the fly from the row arrays
 * through a small staging buffer, so the stream never exists whole in memory.
 */
#define STAGE_SIZE	(64 * 1024)
#define ROW_SIZE	38			/* int16 field count + 3 x (int32 length + 8 bytes) */

typedef struct CopySource
{
	PhaRows    *rows;
	const int  *order;			/* rows in (series_id, time) order */
	int			next;			/* next position in order */
	bool		header_done;
	bool		trailer_done;
	size_t		stage_len;
	size_t		stage_pos;
	char		stage[STAGE_SIZE];
} CopySource;

static CopySource *copy_src = NULL;

static inline char *
put_be64(char *p, uint64 v)
{
	uint32		len = pg_hton32(8);

	v = pg_hton64(v);
	memcpy(p, &len, 4);
	memcpy(p + 4, &v, 8);
	return p + 12;
}

/* Encode the next rows (and the header first, the trailer last) into the stage. */
static void
copy_refill(CopySource *src)
{
	static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0";
	char	   *p = src->stage;
	char	   *end = src->stage + STAGE_SIZE;
	uint16		nfields = pg_hton16(3);

	if (!src->header_done)
	{
		memcpy(p, header, sizeof(header));
		p += sizeof(header);
		src->header_done = true;
	}
	while (src->next < src->rows->n && end - p >= ROW_SIZE)
	{
		int			i = src->order[src->next++];
		uint64		v;

		memcpy(p, &nfields, 2);
		p += 2;
		p = put_be64(p, (uint64) src->rows->series_id[i]);
		p = put_be64(p, (uint64) pha_ms_to_tstz(src->rows->time_ms[i]));
		memcpy(&v, &src->rows->value[i], 8);
		p = put_be64(p, v);
	}
	if (src->next == src->rows->n && !src->trailer_done && end - p >= 2)
	{
		uint16		trailer = 0xFFFF;

		memcpy(p, &trailer, 2);
		p += 2;
		src->trailer_done = true;
	}
	src->stage_len = p - src->stage;
	src->stage_pos = 0;
}

static int
copy_read_cb(void *outbuf, int minread, int maxread)
{
	CopySource *src = copy_src;
	size_t		total = 0;

	while (total < (size_t) maxread)
	{
		size_t		n;

		if (src->stage_pos == src->stage_len)
		{
			if (src->trailer_done)
				break;
			copy_refill(src);
		}
		n = Min((size_t) maxread - total, src->stage_len - src->stage_pos);
		memcpy((char *) outbuf + total, src->stage + src->stage_pos, n);
		src->stage_pos += n;
		total += n;
	}
	return (int) total;
}

/* (series_id, time), then position: a stable order, so the first of equal rows wins. */
static int
cmp_rows(const void *a, const void *b, void *arg)
{
	const PhaRows *rows = (const PhaRows *) arg;
	int			i = *(const int *) a;
	int			j = *(const int *) b;

	if (rows->series_id[i] != rows->series_id[j])
		return rows->series_id[i] < rows->series_id[j] ? -1 : 1;
	if (rows->time_ms[i] != rows->time_ms[j])
		return rows->time_ms[i] < rows->time_ms[j] ? -1 : 1;
	return (i > j) - (i < j);
}

/*
 * order[] := the rows' positions in (series_id, time) order, the first of
 * equal rows first (what cmp_rows gives).  A stable radix sort by series_id
 * (11 bits a pass, as many passes as the ids' range needs): a request's
 * series come in no order of their ids, and qsort's comparisons were 3% of a
 * leader's CPU.  Each series' samples usually come in time order already;
 * when some do not, qsort finishes the job.
 */
#define RADIX_BITS	11
static void
sort_rows(const PhaRows *rows, int *order)
{
	int			n = rows->n;
	int64		lo = PG_INT64_MAX,
				hi = PG_INT64_MIN;
	uint64		range;
	int		   *tmp;
	int		   *src = order;
	int		   *dst;
	bool		in_order = true;

	for (int i = 0; i < n; i++)
	{
		order[i] = i;
		lo = Min(lo, rows->series_id[i]);
		hi = Max(hi, rows->series_id[i]);
		if (i > 0 && in_order &&
			(rows->series_id[i - 1] > rows->series_id[i] ||
			 (rows->series_id[i - 1] == rows->series_id[i] &&
			  rows->time_ms[i - 1] > rows->time_ms[i])))
			in_order = false;
	}
	if (in_order)
		return;
	range = (uint64) hi - (uint64) lo;
	tmp = palloc_extended(n * sizeof(int), MCXT_ALLOC_HUGE);
	dst = tmp;
	for (int shift = 0; shift < 64 && (range >> shift) != 0; shift += RADIX_BITS)
	{
		int			count[(1 << RADIX_BITS) + 1] = {0};
		int		   *swap;

		for (int i = 0; i < n; i++)
			count[(((uint64) rows->series_id[src[i]] - (uint64) lo) >> shift &
				   ((1 << RADIX_BITS) - 1)) + 1]++;
		for (int d = 0; d < (1 << RADIX_BITS); d++)
			count[d + 1] += count[d];
		for (int i = 0; i < n; i++)
			dst[count[((uint64) rows->series_id[src[i]] - (uint64) lo) >> shift &
					  ((1 << RADIX_BITS) - 1)]++] = src[i];
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != order)
		memcpy(order, src, n * sizeof(int));
	pfree(tmp);
	for (int i = 1; i < n; i++)
	{
		if (rows->series_id[order[i - 1]] == rows->series_id[order[i]] &&
			rows->time_ms[order[i - 1]] > rows->time_ms[order[i]])
		{
			qsort_arg(order, n, sizeof(int), cmp_rows, (void *) rows);
			return;
		}
	}
}

/* COPY rows[order[]] into samples_head; errors (23505 on a repeat) propagate. */
static int64
copy_rows(Oid relid, PhaRows *rows, const int *order)
{
	Relation	rel = table_open(relid, RowExclusiveLock);
	ParseState *pstate = make_parsestate(NULL);
	ParseNamespaceItem *nsitem;
	CopyFromState cstate;
	int64		stored;
	List	   *options = list_make1(makeDefElem("format", (Node *) makeString("binary"), -1));

	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	ExecCheckRTPerms(pstate->p_rtable, true);

	copy_src = palloc0(sizeof(CopySource));
	copy_src->rows = rows;
	copy_src->order = order;
	cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, copy_read_cb, NIL, options);
	stored = (int64) CopyFrom(cstate);
	EndCopyFrom(cstate);
	pfree(copy_src);
	copy_src = NULL;
	table_close(rel, NoLock);
	return stored;
}

/*
 * Store the rows in (series_id, time) order -- the order of the unique index,
 * which makes its insertions cheaper (measured in test/bench/RESULTS.md,
 * section 1): straight into the partitions when head_insert.c can, else by
 * COPY.  Errors (23505 on a repeat) propagate.
 */
static int64
insert_rows(Oid relid, PhaRows *rows)
{
	int		   *order = palloc_extended(Max(rows->n, 1) * sizeof(int), MCXT_ALLOC_HUGE);
	int64		stored;

	sort_rows(rows, order);
	stored = pha_head_insert(relid, rows, order);
	if (stored < 0)
		stored = copy_rows(relid, rows, order);
	pfree(order);
	return stored;
}

/* What try_insert hands to insert_rows through pha_try_unless_duplicate. */
typedef struct InsertTry
{
	Oid			relid;
	PhaRows    *rows;
	int64		stored;
} InsertTry;

static void
insert_try(void *arg)
{
	InsertTry  *t = arg;

	t->stored = insert_rows(t->relid, t->rows);
}

/* Try the batch path in a subtransaction; -1 if a repeated sample stopped it. */
static int64
try_insert(Oid relid, PhaRows *rows)
{
	InsertTry	t = {relid, rows, -1};

	if (pha_try_unless_duplicate(insert_try, &t))
		return t.stored;
	copy_src = NULL;			/* left in the request's memory, unused by the fallback */
	return -1;
}

int64
pha_store_rows(PhaRows *rows)
{
	Oid			relid;
	int64		stored;

	if (rows->n == 0)
		return 0;
	relid = pha_samples_relid();
	pha_partitions_ensure(relid, rows->time_ms, rows->n);
	/* samples of compressed time: those already in a chunk are not stored again */
	pha_late_drop_stored(rows);
	if (rows->n == 0)
		return 0;
	stored = try_insert(relid, rows);
	if (stored >= 0)
		return stored;
	return insert_on_conflict(rows);
}

/* The slow path: skip rows whose (series_id, time) is stored already. */
static int64
insert_on_conflict(PhaRows *rows)
{
	Datum	   *ids;
	Datum	   *times;
	Datum	   *values;
	Datum		args[3];
	int64		stored;

	/* int8 and float8 are pass-by-value: the Datum arrays are the data */
	ids = palloc(rows->n * sizeof(Datum));
	times = palloc(rows->n * sizeof(Datum));
	values = palloc(rows->n * sizeof(Datum));
	for (int i = 0; i < rows->n; i++)
	{
		ids[i] = Int64GetDatum(rows->series_id[i]);
		times[i] = pha_ms_datum(rows->time_ms[i]);
		values[i] = Float8GetDatum(rows->value[i]);
	}
	args[0] = PointerGetDatum(construct_array(ids, rows->n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(times, rows->n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(values, rows->n, FLOAT8OID, 8, true, TYPALIGN_DOUBLE));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID};
		static Oid	plan_relid = InvalidOid;
		Oid			relid = pha_samples_relid();
		char	   *sql;

		/* the table's name: samples_head, or samples in a database still at 0.1.0 */
		if (relid != plan_relid && insert_plan != NULL)
		{
			SPI_freeplan(insert_plan);
			insert_plan = NULL;
		}
		plan_relid = relid;
		sql = psprintf("INSERT INTO %s (series_id, time, value) SELECT * FROM unnest($1, $2, $3)"
					   " ON CONFLICT DO NOTHING",
					   quote_qualified_identifier("promscale_ha", get_rel_name(relid)));
		pha_sql_run(&insert_plan, sql, 3, types, args, NULL, SPI_OK_INSERT);
	}
	stored = (int64) SPI_processed;
	SPI_finish();
	return stored;
}

int64 *
pha_store_newest(const int64 *ids, const bool *want, int n, int64 from_ms, int64 **before)
{
	int64	   *newest = palloc(Max(n, 1) * sizeof(int64));
	int64	   *prev = palloc(Max(n, 1) * sizeof(int64));
	int		   *pos = palloc(Max(n, 1) * sizeof(int));
	Datum	   *d = palloc(Max(n, 1) * sizeof(Datum));
	int			m = 0;
	Datum		args[2];

	*before = prev;
	for (int i = 0; i < n; i++)
	{
		newest[i] = prev[i] = PG_INT64_MIN;
		if (want[i])
		{
			pos[m] = i;
			d[m++] = Int64GetDatum(ids[i]);
		}
	}
	if (m == 0)
		return newest;
	args[0] = PointerGetDatum(construct_array(d, m, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[1] = pha_ms_datum(from_ms);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		Oid			types[2] = {INT8ARRAYOID, TIMESTAMPTZOID};

		/* two index probes per series, on the partitions from $2 on only */
		pha_sql_run(&newest_plan, "SELECT s.ord::int4, n.t, (SELECT max(time) FROM promscale_ha.samples"
					"   WHERE series_id = s.id AND time >= $2 AND time < n.t)"
					" FROM unnest($1) WITH ORDINALITY AS s(id, ord),"
					" LATERAL (SELECT max(time) AS t FROM promscale_ha.samples"
					"   WHERE series_id = s.id AND time >= $2) n", 2, types, args, NULL,
					SPI_OK_SELECT);
	}
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int			ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
													  1, &isnull));
		Datum		t = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull);
		bool		pnull;
		Datum		p = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3, &pnull);

		if (isnull || ord < 1 || ord > m)
			continue;
		newest[pos[ord - 1]] = pha_tstz_to_ms(DatumGetTimestampTz(t));
		if (!pnull)
			prev[pos[ord - 1]] = pha_tstz_to_ms(DatumGetTimestampTz(p));
	}
	SPI_finish();
	return newest;
}
