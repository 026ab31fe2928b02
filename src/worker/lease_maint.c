/*-------------------------------------------------------------------------
 *
 * lease_maint.c
 *	  The background worker's duties on leases: load them into shared
 *	  memory at start, write heartbeats back to ha_leases, fail over a
 *	  silent leader without waiting for traffic, forget idle clusters.
 *
 * Each change happens in its own transaction, under the same advisory locks
 * as write() takes (lease.c): ExclusiveLock to load, take over or remove a
 * cluster, ShareLock to write a heartbeat.  So the worker and any number of
 * writers agree exactly as writers agree among themselves.  Candidates are
 * found by scanning shared memory, outside any transaction; each is
 * re-checked under its lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "ingest.h"
#include "ha/lease.h"
#include "ha/lease_state.h"
#include "worker/lease_maint.h"
#include "shmem.h"
#include "timeconv.h"
#include "sql.h"

/* A transaction of the lease duties; ERROR if the extension went away. */
static MemoryContext
begin_xact(const char *what)
{
	MemoryContext caller = pha_xact_begin(what);

	(void) pha_lease_state_check_relid();
	return caller;
}

/* Names of this database's clusters in shared memory (palloc'd). */
static List *
shm_clusters(void)
{
	HASH_SEQ_STATUS seq;
	PhaClusterState *e;
	List	   *names = NIL;

	LWLockAcquire(pha_shared->lock, LW_SHARED);
	hash_seq_init(&seq, pha_clusters);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->key.dbid == MyDatabaseId)
			names = lappend(names, pstrdup(e->key.name));
	LWLockRelease(pha_shared->lock);
	return names;
}

/* Names from a one-column query, copied into the caller's context. */
static List *
query_names(const char *what, const char *sql, int nargs, Oid *types, Datum *values)
{
	MemoryContext caller = begin_xact(what);
	List	   *names = NIL;
	int			rc;

	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(rc));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		MemoryContext old = MemoryContextSwitchTo(caller);

		names = lappend(names, pstrdup(v));
		MemoryContextSwitchTo(old);
	}
	pha_xact_end(caller);
	return names;
}

int
pha_maint_load_leases(void)
{
	List	   *names = query_names("promscale_ha: list leases",
									"SELECT cluster_name FROM promscale_ha.ha_leases ORDER BY 1",
									0, NULL, NULL);
	ListCell   *lc;
	int			n = 0;

	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		PhaClusterState st;
		MemoryContext caller;

		CHECK_FOR_INTERRUPTS();
		caller = begin_xact("promscale_ha: load a lease");
		pha_cluster_lock(name, ExclusiveLock);
		if (!pha_read_cluster(name, &st) &&
			pha_load_from_table(name, GetCurrentTimestamp(), &st))
		{
			pha_write_cluster(&st);
			n++;
		}
		pha_xact_end(caller);
	}
	return n;
}

int
pha_maint_flush_heartbeats(TimestampTz now)
{
	static SPIPlanPtr plan = NULL;
	List	   *names = shm_clusters();
	ListCell   *lc;
	int			n = 0;

	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		PhaClusterState st;
		Oid			types[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		v[4];
		char		nulls[4] = "    ";
		PhaClusterKey key;
		PhaClusterState *e;
		MemoryContext caller;

		if (!pha_read_cluster(name, &st) ||
			(st.last_write <= st.table_written &&
			 (st.last_sample < st.lease_start || st.last_sample <= st.table_last_sample)) ||
			now - st.table_written < (int64) pha_lease_refresh_ms * 1000)
			continue;
		caller = begin_xact("promscale_ha: heartbeat");
		pha_cluster_lock(name, ShareLock);
		if (pha_read_cluster(name, &st))
		{
			v[0] = CStringGetTextDatum(name);
			v[1] = CStringGetTextDatum(st.leader);
			v[2] = TimestampTzGetDatum(st.last_write);
			v[3] = pha_ms_datum(st.last_sample);
			if (st.last_sample < st.lease_start || st.last_sample == PG_INT64_MIN)
				nulls[3] = 'n';
			pha_sql_run(&plan, "UPDATE promscale_ha.ha_leases"
						" SET last_write = greatest(last_write, $3),"
						"     last_sample_time = greatest(last_sample_time, $4)"
						" WHERE cluster_name = $1 AND leader_name = $2",
						4, types, v, nulls, SPI_OK_UPDATE);
			n += (int) SPI_processed;
		}
		pha_xact_end(caller);

		/* only a timing hint: losing it to a race costs one extra refresh */
		pha_cluster_key(name, &key);
		LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
		e = hash_search(pha_clusters, &key, HASH_FIND, NULL);
		if (e)
		{
			e->table_written = Max(e->table_written, now);
			if (nulls[3] != 'n')
				e->table_last_sample = Max(e->table_last_sample, st.last_sample);
		}
		LWLockRelease(pha_shared->lock);
	}
	return n;
}

/*
 * The replica of the cluster that wrote last, after the leader's last write.
 * It need not be writing still: if it is silent too, the next replica to
 * write takes over from it after another timeout, as from any leader.
 */
static bool
best_candidate(const PhaClusterState *st, TimestampTz now, char *out)
{
	HASH_SEQ_STATUS seq;
	PhaReplicaState *r;
	TimestampTz best = 0;

	LWLockAcquire(pha_shared->lock, LW_SHARED);
	hash_seq_init(&seq, pha_replicas);
	while ((r = hash_seq_search(&seq)) != NULL)
	{
		if (r->key.dbid != MyDatabaseId || strcmp(r->key.cluster, st->key.name) != 0 ||
			strcmp(r->key.replica, st->leader) == 0)
			continue;
		if (r->last_write <= st->last_write)
			continue;
		if (r->last_write > best)
		{
			best = r->last_write;
			strlcpy(out, r->key.replica, PHA_NAME_LEN);
		}
	}
	LWLockRelease(pha_shared->lock);
	return best != 0;
}

int
pha_maint_failover_silent(TimestampTz now)
{
	List	   *names = shm_clusters();
	ListCell   *lc;
	int			n = 0;

	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		PhaClusterState st;
		char		candidate[PHA_NAME_LEN];
		MemoryContext caller;

		if (!pha_read_cluster(name, &st) || !pha_leader_silent(&st, now) ||
			!best_candidate(&st, now, candidate))
			continue;
		caller = begin_xact("promscale_ha: failover");
		n += pha_ingest_force_leader(name, candidate, "failover") ? 1 : 0;
		pha_xact_end(caller);
	}
	return n;
}

int
pha_maint_remove_idle(TimestampTz now)
{
	static SPIPlanPtr close_plan = NULL;
	static SPIPlanPtr del_plan = NULL;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		v[1];
	List	   *names;
	ListCell   *lc;
	int			n = 0;

	if (pha_cluster_idle_timeout_s == 0)
		return 0;
	v[0] = TimestampTzGetDatum(now - (int64) pha_cluster_idle_timeout_s * USECS_PER_SEC);
	names = query_names("promscale_ha: list idle clusters",
						"SELECT cluster_name FROM promscale_ha.ha_leases WHERE last_write < $1"
						" ORDER BY 1", 1, types, v);
	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		PhaClusterState st;
		Oid			ntypes[1] = {TEXTOID};
		Datum		nv[1];
		bool		live;
		MemoryContext caller;

		caller = begin_xact("promscale_ha: remove an idle cluster");
		pha_cluster_lock(name, ExclusiveLock);
		live = pha_read_cluster(name, &st);
		/* the table lags the shared heartbeats: trust the newer */
		if (!live || now - st.last_write >= (int64) pha_cluster_idle_timeout_s * USECS_PER_SEC)
		{
			nv[0] = CStringGetTextDatum(name);
			pha_sql_run(&close_plan, "UPDATE promscale_ha.ha_leases_logs g"
						" SET lease_until = l.lease_until FROM promscale_ha.ha_leases l"
						" WHERE l.cluster_name = $1 AND g.cluster_name = $1"
						"   AND g.lease_until = 'infinity' AND g.lease_start < l.lease_until",
						1, ntypes, nv, NULL, SPI_OK_UPDATE);
			pha_sql_run(&del_plan, "DELETE FROM promscale_ha.ha_leases WHERE cluster_name = $1",
						1, ntypes, nv, NULL, SPI_OK_DELETE);
			if (live)
				pha_remove_cluster(name);
			ereport(LOG, (errmsg("promscale_ha: forgot idle cluster \"%s\"", name)));
			n++;
		}
		pha_xact_end(caller);
	}
	return n;
}

int64
pha_maint_next_failover_us(TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	PhaClusterState *e;
	int64		next = PG_INT64_MAX;
	int64		timeout = (int64) pha_failover_timeout_ms * 1000;

	LWLockAcquire(pha_shared->lock, LW_SHARED);
	hash_seq_init(&seq, pha_clusters);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		int64		due = Max(e->last_write, e->leader_attempt) + timeout - now;

		if (e->key.dbid == MyDatabaseId && due > 0)
			next = Min(next, due);
	}
	LWLockRelease(pha_shared->lock);
	return next;
}
