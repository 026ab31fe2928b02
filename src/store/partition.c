/*-------------------------------------------------------------------------
 *
 * partition.c
 *	  Time partitions of promscale_ha.samples: coverage check and creation.
 *
 * Partitions are aligned on the Unix epoch, promscale_ha.partition_interval
 * wide, and named after their start (UTC).  Any timestamp can be written: the
 * partition for it is created inside the writing transaction.
 *
 * Hot path: each backend remembers the time ranges it has seen covered, so a
 * request whose samples fall in known partitions costs no catalog access.  A
 * miss opens the parent with AccessShareLock and binary-searches its
 * partition bounds in the relcache.  Only when no partition covers the time
 * is the AccessShareLock dropped (if this transaction took it just now) and
 * AccessExclusiveLock taken -- what CREATE TABLE ... PARTITION OF takes anyway
 * -- so concurrent creators queue instead of deadlocking on a lock upgrade;
 * whoever comes second re-checks and finds the partition made.  A new
 * partition never overlaps an existing one: after a change of the interval
 * its range is clipped to the gap it fills.
 *
 * Each partition has its own unique index on (series_id, time), made here
 * with it; the parent has none (since 0.2.0).  Uniqueness per partition is
 * uniqueness overall, as time is the partition key, and INSERT ... ON
 * CONFLICT DO NOTHING uses the partition's index.  An index on the parent --
 * a member of the extension -- would make pg_restore fail: CREATE EXTENSION
 * makes it, the dump's ATTACH PARTITION then builds each partition's index,
 * and the dump's own CREATE INDEX for it finds the name taken.
 *
 * The remembered ranges are forgotten on any relcache invalidation of the
 * parent (a partition created, detached or dropped anywhere) and at abort.
 *
 * Compression (compress.c) turns a whole partition into chunks and drops it,
 * holding ShareRowExclusiveLock on it meanwhile.  So a writer locks every partition its
 * rows fall in (RowExclusiveLock) before it looks for those rows in the
 * chunks, and if one of them was dropped while it waited, it starts over:
 * the range is then compressed, and the rows go to a new partition after the
 * chunk check.  Either the compression sees the writer's rows, or the writer
 * sees the compression's chunks; never neither.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "store/partition.h"
#include "timeconv.h"

#define MAX_KNOWN 64

typedef struct KnownRange
{
	int64		lo;				/* inclusive, ms */
	int64		hi;				/* exclusive, ms */
	Oid			oid;			/* the partition (when covered) */
} KnownRange;

static KnownRange known[MAX_KNOWN];
static int	nknown = 0;
static Oid	known_parent = InvalidOid;
static uint64 known_generation = 0;	/* bumped whenever the ranges are forgotten */

static void
partition_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == known_parent)
	{
		nknown = 0;
		known_generation++;
	}
}

static void
partition_xact_cb(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		nknown = 0;
}

static void
partition_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		nknown = 0;
}

void
pha_partition_init(void)
{
	CacheRegisterRelcacheCallback(partition_relcache_cb, (Datum) 0);
	RegisterXactCallback(partition_xact_cb, NULL);
	RegisterSubXactCallback(partition_subxact_cb, NULL);
}

static bool
known_lookup(int64 t, KnownRange *out)
{
	for (int i = 0; i < nknown; i++)
	{
		if (t >= known[i].lo && t < known[i].hi)
		{
			*out = known[i];
			return true;
		}
	}
	return false;
}

static void
known_add(KnownRange r)
{
	if (nknown == MAX_KNOWN)
		nknown = 0;				/* simple and rare: start over */
	known[nknown++] = r;
}

/* Value of a range bound in ms; MINVALUE/MAXVALUE bounds become int64 extremes. */
static int64
bound_ms(PartitionBoundInfo bi, int i)
{
	if (bi->kind != NULL && bi->kind[i][0] == PARTITION_RANGE_DATUM_MINVALUE)
		return PG_INT64_MIN;
	if (bi->kind != NULL && bi->kind[i][0] == PARTITION_RANGE_DATUM_MAXVALUE)
		return PG_INT64_MAX;
	return pha_tstz_to_ms(DatumGetTimestampTz(bi->datums[i][0]));
}

/*
 * Is t covered by a partition of rel?  Either way *range is set: the covering
 * partition's bounds, or the gap between partitions that contains t.
 */
static bool
covered(Relation rel, int64 t, KnownRange *range)
{
	PartitionKey key = RelationGetPartitionKey(rel);
	PartitionDesc pd = RelationGetPartitionDesc(rel, true);
	PartitionBoundInfo bi = pd->boundinfo;
	Datum		v;
	bool		is_equal;
	int			off;

	range->lo = PG_INT64_MIN;
	range->hi = PG_INT64_MAX;
	if (bi == NULL || bi->ndatums == 0)
		return false;
	v = pha_ms_datum(t);
	off = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, bi, 1, &v,
										&is_equal);
	if (off >= 0)
		range->lo = bound_ms(bi, off);
	if (off + 1 < bi->ndatums)
		range->hi = bound_ms(bi, off + 1);
	range->oid = bi->indexes[off + 1] >= 0 ? pd->oids[bi->indexes[off + 1]] : InvalidOid;
	return bi->indexes[off + 1] >= 0;
}

static bool
holds_lock_on(Oid relid)
{
	LOCKTAG		tag;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	return LockHeldByMe(&tag, AccessShareLock) ||
		LockHeldByMe(&tag, RowExclusiveLock) ||
		LockHeldByMe(&tag, AccessExclusiveLock);
}

char *
pha_partition_name(int64 lo_ms, int64 hi_ms)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int64		day = INT64CONST(86400000);

	if (timestamp2tm(pha_ms_to_tstz(lo_ms), NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for a partition: %lld ms", (long long) lo_ms)));
	if (lo_ms % day == 0 && (hi_ms - lo_ms) % day == 0)
		return psprintf("samples_%04d%02d%02d", tm.tm_year, tm.tm_mon, tm.tm_mday);
	return psprintf("samples_%04d%02d%02d_%02d%02d%02d", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Has the partitioned table an index (the 0.1.0 schema)?  The caller locks it. */
static bool
parent_has_indexes(Oid parent)
{
	Relation	rel = table_open(parent, NoLock);
	bool		has = RelationGetIndexList(rel) != NIL;

	table_close(rel, NoLock);
	return has;
}

static void
create_partition(Oid parent, int64 lo, int64 hi)
{
	char	   *name = pha_partition_name(lo, hi);
	char	   *sql;
	int			rc;

	sql = psprintf("CREATE TABLE promscale_ha.%s PARTITION OF %s"
				   " FOR VALUES FROM ('epoch'::timestamptz + interval '1 millisecond' * " INT64_FORMAT ")"
				   " TO ('epoch'::timestamptz + interval '1 millisecond' * " INT64_FORMAT ")",
				   quote_identifier(name),
				   quote_qualified_identifier("promscale_ha", get_rel_name(parent)), lo, hi);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute(sql, false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "creating partition %s failed: %s", name, SPI_result_code_string(rc));

	/*
	 * Its unique index, under the name PostgreSQL would give it.  Since 0.2.0
	 * the parent has no index of its own (see the file header); a database
	 * still at 0.1.0 has one, which made this index already.
	 */
	if (!parent_has_indexes(parent))
	{
		sql = psprintf("CREATE UNIQUE INDEX %s ON promscale_ha.%s (series_id, time)",
					   quote_identifier(psprintf("%s_series_id_time_idx", name)),
					   quote_identifier(name));
		rc = SPI_execute(sql, false, 0);
		if (rc != SPI_OK_UTILITY)
			elog(ERROR, "indexing partition %s failed: %s", name, SPI_result_code_string(rc));
	}
	SPI_finish();
	ereport(DEBUG1, (errmsg_internal("promscale_ha: created partition %s", name)));
}

/* Cover t: learn its partition, or create one. */
static void
ensure_one(Oid relid, int64 t, KnownRange *out)
{
	bool		held = holds_lock_on(relid);
	Relation	rel;
	KnownRange	gap;
	int64		width = (int64) pha_partition_interval_s * 1000;
	int64		lo,
				hi;

	rel = table_open(relid, AccessShareLock);
	if (covered(rel, t, out))
	{
		table_close(rel, NoLock);
		known_add(*out);
		return;
	}
	table_close(rel, NoLock);
	if (!held)
		UnlockRelationOid(relid, AccessShareLock);

	LockRelationOid(relid, AccessExclusiveLock);
	rel = table_open(relid, NoLock);
	if (covered(rel, t, &gap))
	{
		table_close(rel, NoLock);
		*out = gap;
		known_add(*out);
		return;
	}
	table_close(rel, NoLock);

	/* floor division, also for times before 1970 */
	lo = t / width * width;
	if (t < 0 && lo != t)
		lo -= width;
	hi = lo + width;
	lo = Max(lo, gap.lo);
	hi = Min(hi, gap.hi);
	create_partition(relid, lo, hi);
	rel = table_open(relid, NoLock);
	if (!covered(rel, t, out))
		elog(ERROR, "partition for %lld ms not found after creating it", (long long) t);
	table_close(rel, NoLock);
	known_add(*out);
}

/* Cover every time with a partition (made as needed); collect their OIDs. */
static int
cover_all(Oid samples_relid, const int64 *times_ms, int n, Oid *oids, int maxoids)
{
	KnownRange	cur = {1, 0, InvalidOid};	/* empty */
	int			noids = 0;

	for (int i = 0; i < n; i++)
	{
		int64		t = times_ms[i];

		if (t >= cur.lo && t < cur.hi)
			continue;
		if (!known_lookup(t, &cur))
			ensure_one(samples_relid, t, &cur);
		if (noids < maxoids)
		{
			bool		seen = false;

			for (int k = 0; k < noids && !seen; k++)
				seen = oids[k] == cur.oid;
			if (!seen)
				oids[noids++] = cur.oid;
		}
	}
	return noids;
}

void
pha_partitions_ensure(Oid samples_relid, const int64 *times_ms, int n)
{
	Oid			oids[MAX_KNOWN];

	if (samples_relid != known_parent)
	{
		nknown = 0;
		known_parent = samples_relid;
	}
	for (;;)
	{
		uint64		generation = known_generation;
		int			noids = cover_all(samples_relid, times_ms, n, oids, MAX_KNOWN);

		/*
		 * Lock them as COPY would, but now, before the chunk check; a lock
		 * wait on a partition being compressed ends with its drop, which
		 * bumps the generation: then look again.  (A request over more than
		 * MAX_KNOWN partitions -- a backfill -- locks the first ones only;
		 * COPY locks the rest.)
		 */
		for (int k = 0; k < noids; k++)
			LockRelationOid(oids[k], RowExclusiveLock);
		if (generation == known_generation)
			return;
		CHECK_FOR_INTERRUPTS();
	}
}

bool
pha_partition_known(int64 t, PhaPartitionInfo *out)
{
	KnownRange	r;

	if (!known_lookup(t, &r) || !OidIsValid(r.oid))
		return false;
	out->oid = r.oid;
	out->lo = r.lo;
	out->hi = r.hi;
	return true;
}

int
pha_partitions_list(Oid samples_relid, PhaPartitionInfo **out)
{
	Relation	rel = table_open(samples_relid, AccessShareLock);
	PartitionDesc pd = RelationGetPartitionDesc(rel, true);
	PartitionBoundInfo bi = pd->boundinfo;
	PhaPartitionInfo *p = palloc(Max(pd->nparts, 1) * sizeof(PhaPartitionInfo));
	int			n = 0;

	for (int i = 0; bi != NULL && i + 1 < bi->ndatums; i++)
	{
		if (bi->indexes[i + 1] < 0)
			continue;
		p[n].oid = pd->oids[bi->indexes[i + 1]];
		p[n].lo = bound_ms(bi, i);
		p[n].hi = bound_ms(bi, i + 1);
		n++;
	}
	table_close(rel, NoLock);
	*out = p;
	return n;
}
