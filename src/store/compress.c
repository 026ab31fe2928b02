/*-------------------------------------------------------------------------
 *
 * compress.c
 *	  Head partitions -> per-series compressed chunks, one partition per
 *	  call, in the caller's transaction.
 *
 * For one partition of samples_head, range [lo, hi):
 *	1. ShareRowExclusiveLock on the partition (bounded by
 *	   compress_lock_timeout): late writes into this range and another
 *	   compression of it wait; readers do not.  Writers lock their partitions
 *	   before their chunk check (partition.c), so each late row is either read
 *	   here -- with a snapshot taken after the lock, hence READ COMMITTED only
 *	   -- or checked against the chunks written here.
 *	2. Its rows are read series by series, in time order, by one scan of
 *	   its heap (compress_read.c; what does not fit maintenance_work_mem
 *	   goes through temporary files), with a snapshot taken after the lock;
 *	   when the range was compressed before (late data), the series' chunks
 *	   in the range are taken out (DELETE ... RETURNING) and merged, the
 *	   chunk's value winning a repeated time.  Each series becomes chunks of at most
 *	   PHA_CHUNK_MAX_SAMPLES that never cross a UTC day (chunk_io.c), in
 *	   promscale_ha.chunk_format, inserted a thousand at a time.
 *	3. The partition is emptied (TRUNCATE: AccessExclusiveLock on it alone,
 *	   bounded by compress_lock_timeout) and compressed_ranges records the
 *	   range; samples_head's relcache entry is invalidated, so writers look
 *	   at their partitions and the compressed horizon (late.c) again.
 *	4. At the end of the call, the emptied partitions -- and empty ones left
 *	   by an earlier call -- are dropped if samples_head's AccessExclusiveLock
 *	   can be had without queueing for it (asked again for up to 50 ms);
 *	   else they stay, empty, until a later call.
 *	   Never waiting for samples_head is what keeps writers and compression
 *	   from deadlocking: a writer locks samples_head first and then its
 *	   partitions, so one that writes late rows into the partition being
 *	   compressed holds samples_head while it waits for that partition.
 *	   (Dropping in step 3, as 0.2.0 did, waited for samples_head while
 *	   holding the partition: the deadlock detector then failed the write.)
 * All in one transaction: a reader sees every sample exactly once, in the
 * rows before the commit and in the chunks after (a READ COMMITTED reader
 * locks the partitions before it takes its snapshot); a crash or an error
 * leaves the partition as it was.  Memory: one batch of series (bounded by
 * maintenance_work_mem), one series and one insert batch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "sql.h"
#include "store/chunk_io.h"
#include "store/compress.h"
#include "store/compress_read.h"
#include "store/partition.h"
#include "store/store.h"
#include "timeconv.h"

#define INSERT_CHUNKS	1000

/* Chunk rows waiting for one INSERT. */
typedef struct ChunkBatch
{
	MemoryContext cxt;
	Datum		sid[INSERT_CHUNKS];
	Datum		tmin[INSERT_CHUNKS];
	Datum		tmax[INSERT_CHUNKS];
	Datum		n[INSERT_CHUNKS];
	Datum		data[INSERT_CHUNKS];
	int			count;
} ChunkBatch;

/* The compression of one partition under way. */
typedef struct Job
{
	int64		lo;
	int64		hi;
	bool		merge;			/* the range has chunks already */
	int64		sid;			/* series being collected */
	int64	   *t;
	double	   *v;
	int			n;
	MemoryContext series_cxt;
	ChunkBatch	batch;
	PhaCompressed *res;
} Job;

static void
batch_flush(ChunkBatch *b)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {INT8ARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
	INT4ARRAYOID, BYTEAARRAYOID};
	Datum		args[5];
	MemoryContext old;

	if (b->count == 0)
		return;
	old = MemoryContextSwitchTo(b->cxt);
	args[0] = PointerGetDatum(construct_array(b->sid, b->count, INT8OID, 8, true, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(b->tmin, b->count, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(b->tmax, b->count, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE));
	args[3] = PointerGetDatum(construct_array(b->n, b->count, INT4OID, 4, true, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_array(b->data, b->count, BYTEAOID, -1, false, TYPALIGN_INT));
	MemoryContextSwitchTo(old);
	pha_sql_run(&plan, "INSERT INTO promscale_ha.chunks (series_id, min_time, max_time, samples, data)"
				" SELECT * FROM unnest($1, $2, $3, $4, $5)",
				5, types, args, NULL, SPI_OK_INSERT);
	b->count = 0;
	MemoryContextReset(b->cxt);
}

/* Cut n sorted samples of series sid into chunks and queue them. */
static void
queue_chunks(Job *j, int64 sid, const int64 *t, const double *v, int n)
{
	int			off = 0;

	while (off < n)
	{
		int			k = pha_chunk_cut(t + off, n - off, pha_chunk_format);
		ChunkBatch *b = &j->batch;
		MemoryContext old = MemoryContextSwitchTo(b->cxt);
		bytea	   *data = pha_chunk_write(pha_chunk_format, t + off, v + off, k);

		MemoryContextSwitchTo(old);
		b->sid[b->count] = Int64GetDatum(sid);
		b->tmin[b->count] = pha_ms_datum(t[off]);
		b->tmax[b->count] = pha_ms_datum(t[off + k - 1]);
		b->n[b->count] = Int32GetDatum(k);
		b->data[b->count] = PointerGetDatum(data);
		b->count++;
		j->res->chunks++;
		j->res->bytes_after += VARSIZE(data);
		if (b->count == INSERT_CHUNKS)
			batch_flush(b);
		off += k;
	}
}

/*
 * Take the chunks series sid has in the job's range out of the table and
 * merge their samples with the collected rows (the chunk wins a repeated
 * time); the merged samples replace j->t/j->v.
 */
static void
merge_existing(Job *j)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[3];
	int64	   *ot = NULL;
	double	   *ov = NULL;
	int			on = 0;
	int64	   *mt;
	double	   *mv;
	int			a = 0,
				b = 0,
				m = 0;
	SPITupleTable *tt;
	uint64		nchunks;

	args[0] = Int64GetDatum(j->sid);
	args[1] = pha_ms_datum(j->lo);
	args[2] = pha_ms_datum(j->hi);
	pha_sql_run(&plan, "DELETE FROM promscale_ha.chunks WHERE series_id = $1 AND max_time >= $2"
				" AND max_time < $3 + interval '1 day' AND min_time < $3"
				" RETURNING min_time, max_time, samples, data",
				3, types, args, NULL, SPI_OK_DELETE_RETURNING);
	tt = SPI_tuptable;
	nchunks = SPI_processed;
	if (nchunks == 0)
		return;
	for (uint64 r = 0; r < nchunks; r++)
	{
		bool		isnull;
		int			n = DatumGetInt32(SPI_getbinval(tt->vals[r], tt->tupdesc, 3, &isnull));

		on += n;
	}
	ot = palloc(Max(on, 1) * sizeof(int64));
	ov = palloc(Max(on, 1) * sizeof(double));
	on = 0;
	for (uint64 r = 0; r < nchunks; r++)
	{
		HeapTuple	tup = tt->vals[r];
		bool		isnull;
		int64		lo = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tup, tt->tupdesc, 1, &isnull)));
		int64		hi = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tup, tt->tupdesc, 2, &isnull)));
		int			n = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 3, &isnull));
		bytea	   *data = DatumGetByteaPP(SPI_getbinval(tup, tt->tupdesc, 4, &isnull));
		PhaChunkSamples c;

		pha_chunk_read(data, j->sid, lo, hi, n, &c);
		memcpy(ot + on, c.t, c.n * sizeof(int64));
		memcpy(ov + on, c.v, c.n * sizeof(double));
		on += c.n;
		j->res->chunks--;
		j->res->bytes_after -= VARSIZE_ANY(data);
	}
	pha_sort_samples(ot, ov, on);

	mt = palloc((on + j->n) * sizeof(int64));
	mv = palloc((on + j->n) * sizeof(double));
	while (a < on || b < j->n)
	{
		if (b >= j->n || (a < on && ot[a] <= j->t[b]))
		{
			if (b < j->n && ot[a] == j->t[b])
				b++;			/* stored first: the chunk's value wins */
			mt[m] = ot[a];
			mv[m++] = ov[a++];
		}
		else
		{
			mt[m] = j->t[b];
			mv[m++] = j->v[b++];
		}
	}
	j->res->samples -= j->n;
	j->res->samples += m - on;	/* only what is new */
	j->t = mt;
	j->v = mv;
	j->n = m;
}

/* The collected series is complete: merge, cut, queue; start afresh. */
static void
series_done(Job *j)
{
	MemoryContext old;

	if (j->n == 0)
		return;
	old = MemoryContextSwitchTo(j->series_cxt);
	j->res->samples += j->n;
	if (j->merge)
		merge_existing(j);
	queue_chunks(j, j->sid, j->t, j->v, j->n);
	MemoryContextSwitchTo(old);
	MemoryContextReset(j->series_cxt);
	j->n = 0;
	j->t = NULL;
	j->v = NULL;
}

/* A series read by compress_read.c: merge, cut, queue. */
static void
series_rows(void *arg, int64 sid, int64 *t, double *v, int n)
{
	Job		   *j = (Job *) arg;

	j->sid = sid;
	j->t = t;
	j->v = v;
	j->n = n;
	series_done(j);
}

static int64
query_int8(const char *sql, Oid type, Datum arg)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute_with_args(sql, 1, &type, &arg, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "\"%s\" failed", sql);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * Read the partition's rows into the job, series by series, with a fresh
 * snapshot taken after the caller's lock.
 */
static void
read_rows(Job *j, Oid relid, const char *qualname)
{
	Relation	rel = table_open(relid, NoLock);
	Snapshot	snap;
	int			batches;

	/* as SPI would: this statement's own earlier rows are read (and emptied) too */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetTransactionSnapshot());
	batches = pha_read_partition_by_series(rel, snap, series_rows, j);

	UnregisterSnapshot(snap);
	table_close(rel, NoLock);
	batch_flush(&j->batch);
	ereport(DEBUG1,
			(errmsg_internal("promscale_ha: read %s in %d batch%s", qualname, batches,
							 batches == 1 ? " (in memory)" : "es (temporary files)")));
}

/* The partition's quoted qualified name, or NULL when it is gone. */
static char *
partition_qualname(Oid oid)
{
	char	   *relname = get_rel_name(oid);

	return relname ? quote_qualified_identifier("promscale_ha", relname) : NULL;
}

/*
 * Does the partition hold no row?  Not read-only: a fresh snapshot, taken
 * after the caller's lock, so that a row committed while it waited counts
 * (an "empty" partition is dropped).
 */
static bool
partition_is_empty(const char *qualname)
{
	if (SPI_execute(psprintf("SELECT 1 FROM %s LIMIT 1", qualname), false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", qualname);
	return SPI_processed == 0;
}

/*
 * Compress one partition and empty it; false if it vanished meanwhile or
 * held no row (then nothing is recorded).  Either way, a partition left
 * empty is appended to *emptied (OIDs) for drop_emptied.
 */
static bool
compress_partition(const PhaPartitionInfo *p, PhaCompressed *res, List **emptied)
{
	static SPIPlanPtr range_plan = NULL;
	Oid			types[7] = {TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID, INT8OID};
	Datum		args[7];
	char	   *qualname;
	Job			j;

	memset(res, 0, sizeof(*res));
	res->lo = p->lo;
	res->hi = p->hi;
	/* self-exclusive (two compressions never overlap), lets readers in */
	LockRelationOid(p->oid, ShareRowExclusiveLock);
	qualname = partition_qualname(p->oid);
	if (qualname == NULL)
		return false;			/* dropped while we waited */
	if (partition_is_empty(qualname))
	{
		*emptied = lappend_oid(*emptied, p->oid);	/* left by an earlier call */
		return false;
	}

	memset(&j, 0, sizeof(j));
	j.lo = p->lo;
	j.hi = p->hi;
	j.res = res;
	j.series_cxt = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha compress series",
										 ALLOCSET_DEFAULT_SIZES);
	j.batch.cxt = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha compress batch",
										ALLOCSET_DEFAULT_SIZES);
	res->bytes_before = query_int8("SELECT pg_total_relation_size($1)", OIDOID,
								   ObjectIdGetDatum(p->oid));
	args[0] = pha_ms_datum(p->lo);
	args[1] = pha_ms_datum(p->hi);
	{
		Oid			t2[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};

		if (SPI_execute_with_args("SELECT 1 FROM promscale_ha.compressed_ranges"
								  " WHERE range_start < $2 AND range_end > $1 LIMIT 1",
								  2, t2, args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "compressed_ranges lookup failed");
		j.merge = SPI_processed > 0;
	}

	read_rows(&j, p->oid, qualname);

	if (SPI_execute(psprintf("TRUNCATE %s", qualname), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not empty %s", qualname);
	*emptied = lappend_oid(*emptied, p->oid);
	args[2] = Int64GetDatum(res->samples);
	args[3] = Int64GetDatum(res->chunks);
	args[4] = Int64GetDatum(res->bytes_before);
	args[5] = Int64GetDatum(res->bytes_after);
	pha_sql_run(&range_plan, "INSERT INTO promscale_ha.compressed_ranges AS r (range_start, range_end,"
				" compressed_at, samples, chunks, bytes_before, bytes_after)"
				" VALUES ($1, $2, now(), $3, $4, $5, $6)"
				" ON CONFLICT (range_start) DO UPDATE SET range_end = greatest(r.range_end, $2),"
				"   compressed_at = now(), samples = r.samples + $3, chunks = r.chunks + $4,"
				"   bytes_before = r.bytes_before + $5, bytes_after = r.bytes_after + $6",
				6, types, args, NULL, SPI_OK_INSERT);
	MemoryContextDelete(j.series_cxt);
	MemoryContextDelete(j.batch.cxt);
	ereport(DEBUG1,
			(errmsg_internal("promscale_ha: compressed %s: %lld samples, %lld bytes -> %lld",
							 qualname, (long long) res->samples, (long long) res->bytes_before,
							 (long long) res->bytes_after)));
	return true;
}

/*
 * Lock relid in mode if that can be had within about DROP_TRY_MS, asking
 * again every millisecond rather than queueing: a queued request for
 * samples_head could close a cycle with a writer (see the file's header),
 * while a lock held for a moment (another backend's lookup, a short read)
 * should not leave an emptied partition behind.
 */
#define DROP_TRY_MS		50

static bool
lock_without_queueing(Oid relid, LOCKMODE mode)
{
	for (int i = 0; i < DROP_TRY_MS; i++)
	{
		if (ConditionalLockRelationOid(relid, mode))
			return true;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(1000L);
	}
	return ConditionalLockRelationOid(relid, mode);
}

/*
 * Drop the partitions in emptied (held ShareRowExclusiveLock or more) if
 * samples_head and each of them can be locked AccessExclusiveLock without
 * queueing (lock_without_queueing);
 * what cannot be dropped now stays empty for a later call.  Writers see the
 * change either way: samples_head's relcache entry is invalidated.
 */
static void
drop_emptied(Oid parent, List *emptied)
{
	ListCell   *lc;

	if (emptied == NIL)
		return;
	CacheInvalidateRelcacheByRelid(parent);
	if (!lock_without_queueing(parent, AccessExclusiveLock))
	{
		ereport(DEBUG1,
				(errmsg_internal("promscale_ha: samples_head is in use: %d emptied partitions are dropped later",
								 list_length(emptied))));
		return;
	}
	foreach(lc, emptied)
	{
		Oid			oid = lfirst_oid(lc);
		char	   *qualname;

		if (!lock_without_queueing(oid, AccessExclusiveLock))
			continue;			/* read on its own: dropped later */
		qualname = partition_qualname(oid);
		if (qualname == NULL)
			continue;
		if (SPI_execute(psprintf("DROP TABLE %s", qualname), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not drop %s", qualname);
	}
}

int
pha_compress_older_than(int64 cutoff_ms, int max, PhaCompressed *out)
{
	PhaPartitionInfo *parts;
	int			nparts;
	int			done = 0;
	int			nest;
	char		timeout[32];
	List	   *emptied = NIL;
	Oid			parent = pha_samples_relid();

	/* rows committed while we waited for a lock must be read: fresh snapshots */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("compression must run in a READ COMMITTED transaction"),
				 errhint("Call promscale_ha.compress_now() outside REPEATABLE READ and SERIALIZABLE transactions.")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nparts = pha_partitions_list(parent, &parts);

	/* lock waits bounded; the caller's setting comes back at the end */
	nest = NewGUCNestLevel();
	snprintf(timeout, sizeof(timeout), "%d", pha_compress_lock_timeout_ms);
	(void) set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	for (int i = 0; i < nparts && done < max; i++)
	{
		if (parts[i].hi > cutoff_ms)
			break;				/* in time order: the rest are newer */
		CHECK_FOR_INTERRUPTS();
		if (compress_partition(&parts[i], &out[done], &emptied))
			done++;
	}
	drop_emptied(parent, emptied);
	AtEOXact_GUC(true, nest);
	SPI_finish();
	return done;
}

int64
pha_compress_oldest_head_end(void)
{
	PhaPartitionInfo *parts;
	int			n = pha_partitions_list(pha_samples_relid(), &parts);
	int64		end = PG_INT64_MAX;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 0; i < n && end == PG_INT64_MAX; i++)
	{
		char	   *qualname;

		/* one being compressed right now (locked) is behind; never wait for it */
		if (!ConditionalLockRelationOid(parts[i].oid, AccessShareLock))
		{
			end = parts[i].hi;
			break;
		}
		/* an emptied partition waiting for its drop is not behind */
		qualname = partition_qualname(parts[i].oid);
		if (qualname != NULL && !partition_is_empty(qualname))
			end = parts[i].hi;
	}
	SPI_finish();
	return end;
}
