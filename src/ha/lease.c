/*-------------------------------------------------------------------------
 *
 * lease.c
 *	  Election of one leader per HA cluster, inside the database.
 *
 * Model.  A cluster's leadership periods are spans of *sample time* that
 * cover all time without overlap or hole (promscale_ha.ha_leases_logs): the
 * first leader owns (-infinity, ...), each later one starts right after the
 * last sample its predecessor stored.  An HA sample is stored iff its replica
 * owned the cluster's period containing the sample's timestamp.  The current
 * leader owns [lease_start, infinity); promscale_ha.ha_leases holds its row.
 *
 * Decision per (cluster, replica) group of a request, under the cluster's
 * advisory lock (ShareLock normally, ExclusiveLock to change the leader):
 *	- unknown cluster: the first writer becomes leader ('first writer');
 *	- the replica leads: it owns [lease_start, inf) and its past periods;
 *	- the leader has not written for promscale_ha.failover_timeout (wall
 *	  clock): this replica takes over ('failover').  Its period starts after
 *	  the old leader's newest stored sample; the driver (ingest.c) then
 *	  replays its buffered requests, per series only the samples newer than
 *	  the newest stored one, and pha_lease_reserve covers them;
 *	- otherwise it follows: only samples in its own past periods are kept,
 *	  and the driver puts its payload in the replay buffer for a takeover.
 * The election only decides: it returns a verdict per group (request.h) and
 * moves no samples.
 *
 * Why the locks: every write() holds the cluster's advisory lock at least in
 * ShareLock mode until commit, and a leader change needs ExclusiveLock.  So a
 * takeover waits for the old leader's in-flight writes (their samples are then
 * counted in last_sample, so the new period starts after them), and for the
 * followers' in-flight buffer inserts (so the replay sees them); a write that
 * starts during a takeover waits for it and then sees the new leader.  Two
 * first writers or two would-be successors serialize on ExclusiveLock and the
 * second sees the first's result.  Lock waits obey lock_timeout; such errors
 * are retryable (class 55/40), never silent drops.
 *
 * Hot path: a leader's write reads shared memory (shmem.c) and takes the
 * ShareLock; ha_leases is written only when its reservation (lease_until) is
 * passed or promscale_ha.lease_refresh has elapsed, by one backend at a time.
 * lease_until is kept ahead of every stored sample of the leader, so after a
 * crash (shared memory lost) a new leader starting there never overlaps.
 *
 * Companions: lease_state.c (shared entries, undo at abort, heartbeats at
 * commit), replay.c (the followers' buffer), lease_maint.c (the worker).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "ha/lease.h"
#include "ha/lease_state.h"
#include "shmem.h"
#include "sql.h"
#include "stats.h"
#include "timeconv.h"

/* field4 of our advisory lock tags; pg_advisory_lock() uses 1 and 2 */
#define PHA_LOCK_CLASS 0x5048

/*-------------------------------------------------------------------------
 * Locks and SQL
 *-------------------------------------------------------------------------
 */

static void
cluster_locktag(const char *cluster, LOCKTAG *tag)
{
	uint64		h = hash_bytes_extended((const unsigned char *) cluster, strlen(cluster), 0);

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) (h >> 32), (uint32) h, PHA_LOCK_CLASS);
}

void
pha_cluster_lock(const char *cluster, LOCKMODE mode)
{
	LOCKTAG		tag;

	cluster_locktag(cluster, &tag);
	(void) LockAcquire(&tag, mode, false, false);
}

static int64
get_ms(int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? PG_INT64_MIN : pha_tstz_to_ms(DatumGetTimestampTz(d));
}

/* Add spans of the replica's past periods that meet [lo, hi). */
static void
add_past_periods(PhaGroup *g, int64 lo, int64 hi)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[4];

	if (lo >= hi)
		return;
	v[0] = CStringGetTextDatum(g->in.cluster);
	v[1] = CStringGetTextDatum(g->in.replica);
	v[2] = pha_ms_datum(lo);
	v[3] = pha_ms_datum(hi);
	pha_sql_run(&plan, "SELECT lease_start, lease_until FROM promscale_ha.ha_leases_logs"
			" WHERE cluster_name = $1 AND leader_name = $2"
			"   AND lease_start < $4 AND lease_until > $3 ORDER BY lease_start",
			4, types, v, NULL, SPI_OK_SELECT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		n1,
					n2;
		Datum		s = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &n1);
		Datum		u = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &n2);
		PhaSpan    *sp;

		g->v.spans = repalloc(g->v.spans, (g->v.nspans + 1) * sizeof(PhaSpan));
		sp = &g->v.spans[g->v.nspans++];
		sp->lo = pha_tstz_to_ms(DatumGetTimestampTz(s));
		sp->hi = Min(pha_tstz_to_ms(DatumGetTimestampTz(u)), hi);
	}
}

/* Load the cluster's ha_leases row into st; false when there is none. */
bool
pha_load_from_table(const char *cluster, TimestampTz now, PhaClusterState *st)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	bool		isnull;
	char	   *leader;

	v[0] = CStringGetTextDatum(cluster);
	pha_sql_run(&plan, "SELECT leader_name, lease_start, lease_until, leader_since, last_write,"
			" last_sample_time FROM promscale_ha.ha_leases WHERE cluster_name = $1",
			1, types, v, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	memset(st, 0, sizeof(*st));
	pha_cluster_key(cluster, &st->key);
	leader = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	strlcpy(st->leader, leader, PHA_NAME_LEN);
	st->lease_start = get_ms(2, &isnull);
	st->lease_until = get_ms(3, &isnull);
	st->leader_since = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
														 SPI_tuptable->tupdesc, 4, &isnull));
	st->last_sample = get_ms(6, &isnull);
	st->table_last_sample = st->last_sample;
	/* samples up to the reservation may be stored: never start before it */
	st->safe_floor = st->lease_until;
	/* a leader known only from the table gets a full timeout to show up */
	st->last_write = now;
	st->table_written = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 5, &isnull));
	return true;
}

/*
 * The reservation written to ha_leases for a leader about to store samples up
 * to t: t plus one lease_refresh, so the row need not be rewritten for every
 * request.  This is the crash-safety rule: ha_leases.lease_until is always
 * ahead of every sample the leader may have stored, so after a crash (shared
 * memory and its last_sample lost) a successor's period starts at or after
 * lease_until (safe_floor) and can never overlap what the old leader stored.
 */
static int64
reservation(int64 t)
{
	if (t == PG_INT64_MIN)
		return PG_INT64_MIN;
	return Min(t, PHA_MAX_MS - pha_lease_refresh_ms) + pha_lease_refresh_ms;
}

/* Register a new cluster with g's replica as its first leader. */
static void
first_writer(PhaRequest *req, PhaGroup *g, PhaClusterState *st)
{
	static SPIPlanPtr count_plan = NULL;
	static SPIPlanPtr ins_plan = NULL;
	static SPIPlanPtr log_plan = NULL;
	Oid			types[5] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[5];

	if (pha_max_clusters > 0)
	{
		bool		isnull;

		pha_sql_run(&count_plan, "SELECT count(*) FROM promscale_ha.ha_leases", 0, NULL, NULL, NULL,
				SPI_OK_SELECT);
		if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										&isnull)) >= pha_max_clusters)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many HA clusters: cannot add cluster \"%s\"", g->in.cluster),
					 errdetail("promscale_ha.max_clusters is %d.", pha_max_clusters),
					 errhint("Raise promscale_ha.max_clusters, or remove idle clusters from promscale_ha.ha_leases.")));
	}
	memset(st, 0, sizeof(*st));
	pha_cluster_key(g->in.cluster, &st->key);
	strlcpy(st->leader, g->in.replica, PHA_NAME_LEN);
	/* a cluster removed as idle and back again continues its history */
	{
		static SPIPlanPtr hist_plan = NULL;
		Oid			htypes[1] = {TEXTOID};
		Datum		hv[1];
		bool		isnull;

		hv[0] = CStringGetTextDatum(g->in.cluster);
		pha_sql_run(&hist_plan, "SELECT max(lease_until) FROM promscale_ha.ha_leases_logs"
					" WHERE cluster_name = $1", 1, htypes, hv, NULL, SPI_OK_SELECT);
		st->lease_start = get_ms(1, &isnull);
	}
	st->lease_until = reservation(Max(g->in.nsamples > 0 ? g->in.tmax : pha_tstz_to_ms(req->now),
									  st->lease_start));
	st->last_sample = PG_INT64_MIN;
	st->table_last_sample = PG_INT64_MIN;
	st->safe_floor = st->lease_start;
	st->leader_since = st->last_write = st->table_written = req->now;
	st->leader_attempt = 0;
	st->leader_changes = 1;
	pha_stats_leader_change();

	v[0] = CStringGetTextDatum(g->in.cluster);
	v[1] = CStringGetTextDatum(g->in.replica);
	v[2] = pha_ms_datum(st->lease_start);
	v[3] = pha_ms_datum(st->lease_until);
	v[4] = TimestampTzGetDatum(req->now);
	pha_sql_run(&ins_plan, "INSERT INTO promscale_ha.ha_leases (cluster_name, leader_name,"
			" lease_start, lease_until, leader_since, last_write) VALUES ($1, $2, $3, $4, $5, $5)",
			5, types, v, NULL, SPI_OK_INSERT);
	pha_sql_run(&log_plan, "INSERT INTO promscale_ha.ha_leases_logs (cluster_name, leader_name,"
			" lease_start, lease_until, reason, changed_at)"
			" VALUES ($1, $2, $3, 'infinity', 'first writer', $5)",
			5, types, v, NULL, SPI_OK_INSERT);
	pha_write_cluster(st);
	pha_shmem_wake_worker();	/* a new failover deadline */
}

/*
 * g's replica becomes leader of st's cluster: close the old period right
 * after the old leader's newest stored sample, open the new one.  Replaying
 * its buffered payloads is the driver's part (the verdict says took_over).
 */
static void
take_over(PhaRequest *req, PhaGroup *g, PhaClusterState *st, const char *reason)
{
	static SPIPlanPtr close_plan = NULL;
	static SPIPlanPtr drop_plan = NULL;
	static SPIPlanPtr log_plan = NULL;
	static SPIPlanPtr upd_plan = NULL;
	Oid			types[6] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
	Datum		v[6];
	int64		start;

	start = st->last_sample == PG_INT64_MIN ? PG_INT64_MIN : st->last_sample + 1;
	start = Max(start, st->safe_floor);
	start = Max(start, st->lease_start);

	v[0] = CStringGetTextDatum(g->in.cluster);
	v[1] = CStringGetTextDatum(g->in.replica);
	v[2] = pha_ms_datum(start);
	v[3] = pha_ms_datum(st->lease_start);
	v[4] = TimestampTzGetDatum(req->now);
	v[5] = CStringGetTextDatum(reason);
	if (start > st->lease_start)
		pha_sql_run(&close_plan, "UPDATE promscale_ha.ha_leases_logs SET lease_until = $3"
				" WHERE cluster_name = $1 AND lease_start = $4",
				4, types, v, NULL, SPI_OK_UPDATE);
	else						/* the old period stored nothing: it vanishes */
		pha_sql_run(&drop_plan, "DELETE FROM promscale_ha.ha_leases_logs"
				" WHERE cluster_name = $1 AND lease_start = $4",
				4, types, v, NULL, SPI_OK_DELETE);
	pha_sql_run(&log_plan, "INSERT INTO promscale_ha.ha_leases_logs (cluster_name, leader_name,"
			" lease_start, lease_until, reason, changed_at)"
			" VALUES ($1, $2, $3, 'infinity', $6, $5)",
			6, types, v, NULL, SPI_OK_INSERT);

	/* the replayed samples' reservation, if beyond this, is pha_lease_reserve's */
	st->lease_until = reservation(Max(g->in.nsamples > 0 ? g->in.tmax : PG_INT64_MIN,
									  Max(start, pha_tstz_to_ms(req->now))));
	v[3] = pha_ms_datum(st->lease_until);
	pha_sql_run(&upd_plan, "UPDATE promscale_ha.ha_leases SET leader_name = $2, lease_start = $3,"
			" lease_until = $4, leader_since = $5, last_write = $5, last_sample_time = NULL"
			" WHERE cluster_name = $1",
			5, types, v, NULL, SPI_OK_UPDATE);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("lease of cluster \"%s\" vanished during a takeover", g->in.cluster),
				 errhint("Retry the request.")));

	strlcpy(st->leader, g->in.replica, PHA_NAME_LEN);
	st->lease_start = start;
	st->last_sample = start == PG_INT64_MIN ? PG_INT64_MIN : start - 1;
	st->table_last_sample = PG_INT64_MIN;
	st->safe_floor = start;
	st->leader_since = st->last_write = st->table_written = req->now;
	st->leader_attempt = 0;		/* the old leader's attempts are not the new one's */
	st->leader_changes++;
	pha_write_cluster(st);
	pha_stats_leader_change();
	pha_shmem_wake_worker();	/* a new failover deadline */

	g->v.is_leader = true;
	g->v.took_over = true;
	g->v.start = start;
	ereport(LOG,
			(errmsg("promscale_ha: replica \"%s\" now leads cluster \"%s\" (%s)",
					g->in.replica, g->in.cluster, reason)));
}

/* Leader's progress into ha_leases when its reservation or refresh is due. */
static void
maybe_refresh(PhaRequest *req, PhaGroup *g, PhaClusterState *st, PhaBeat *beat)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		v[5];
	char		nulls[5] = "     ";
	int64		newest = Max(g->in.nsamples > 0 ? g->in.tmax : PG_INT64_MIN, g->out.replay_max);
	bool		needed = newest != PG_INT64_MIN && newest >= st->lease_until;
	bool		due = req->now - st->table_written >= (int64) pha_lease_refresh_ms * 1000;

	if (!needed && !due)
		return;
	if (!needed)
	{
		/* a heartbeat only: one backend at a time is enough */
		bool		mine = false;
		PhaClusterState *e;

		LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
		e = hash_search(pha_clusters, &st->key, HASH_FIND, NULL);
		if (e && e->refreshing_pid == 0)
		{
			e->refreshing_pid = MyProcPid;
			mine = true;
		}
		LWLockRelease(pha_shared->lock);
		if (!mine)
			return;
		beat->refreshing = true;
	}
	beat->new_until = reservation(Max(newest, pha_tstz_to_ms(req->now)));
	v[0] = CStringGetTextDatum(g->in.cluster);
	v[1] = CStringGetTextDatum(g->in.replica);
	v[2] = pha_ms_datum(beat->new_until);
	v[3] = TimestampTzGetDatum(req->now);
	v[4] = pha_ms_datum(Max(st->last_sample, newest));
	if (v[4] == pha_ms_datum(PG_INT64_MIN))
		nulls[4] = 'n';
	pha_sql_run(&plan, "UPDATE promscale_ha.ha_leases SET lease_until = greatest(lease_until, $3),"
			" last_write = greatest(last_write, $4),"
			" last_sample_time = greatest(last_sample_time, $5)"
			" WHERE cluster_name = $1 AND leader_name = $2",
			5, types, v, nulls, SPI_OK_UPDATE);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("lease of cluster \"%s\" changed outside promscale_ha", g->in.cluster),
				 errhint("Retry the request; use promscale_ha.set_leader() to change leaders.")));
	beat->refreshed = true;
}

bool
pha_leader_silent(const PhaClusterState *st, TimestampTz now)
{
	/* its attempts count: during an outage a leader that keeps trying is alive */
	return now - Max(st->last_write, st->leader_attempt) >= (int64) pha_failover_timeout_ms * 1000;
}

/* The verdict for one group; force_reason set means set_leader(). */
static void
decide_group(PhaRequest *req, PhaGroup *g, const char *force_reason)
{
	PhaClusterState st;
	bool		found;
	bool		exclusive;
	bool		is_leader;

	found = pha_read_cluster(g->in.cluster, &st);
	exclusive = force_reason != NULL || !found ||
		(strcmp(st.leader, g->in.replica) != 0 && pha_leader_silent(&st, req->now) && g->in.nsamples > 0);
	pha_cluster_lock(g->in.cluster, exclusive ? ExclusiveLock : ShareLock);
	found = pha_read_cluster(g->in.cluster, &st);
	if (!exclusive && (!found || (strcmp(st.leader, g->in.replica) != 0 &&
								  pha_leader_silent(&st, req->now) && g->in.nsamples > 0)))
	{
		/* it changed while we waited: start over in exclusive mode */
		LOCKTAG		tag;

		cluster_locktag(g->in.cluster, &tag);
		LockRelease(&tag, ShareLock, false);
		pha_cluster_lock(g->in.cluster, ExclusiveLock);
		exclusive = true;
		found = pha_read_cluster(g->in.cluster, &st);
	}

	g->v.spans = MemoryContextAlloc(req->cxt, 4 * sizeof(PhaSpan));
	g->v.nspans = 0;
	g->v.beat = pha_lease_state_new_beat(req, g);

	if (!found && !pha_load_from_table(g->in.cluster, req->now, &st))
	{
		if (force_reason)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("HA cluster \"%s\" does not exist", g->in.cluster),
					 errhint("A cluster exists once one of its replicas has written.")));
		first_writer(req, g, &st);
	}
	else if (!found)
		pha_write_cluster(&st);		/* loaded from the table */

	is_leader = strcmp(st.leader, g->in.replica) == 0;
	if (!is_leader &&
		((force_reason && (strcmp(force_reason, "forced") == 0 || pha_leader_silent(&st, req->now))) ||
		 (exclusive && pha_leader_silent(&st, req->now) && g->in.nsamples > 0)))
	{
		take_over(req, g, &st, force_reason ? force_reason : "failover");
		is_leader = true;
	}

	if (is_leader)
	{
		g->v.is_leader = true;
		g->v.spans[0].lo = st.lease_start;
		g->v.spans[0].hi = PG_INT64_MAX;
		g->v.nspans = 1;
		if (g->in.nsamples > 0 && g->in.tmin < st.lease_start)
			add_past_periods(g, g->in.tmin, st.lease_start);
	}
	else if (g->in.nsamples > 0 && g->in.tmin < st.lease_start)
		add_past_periods(g, g->in.tmin, Min(g->in.tmax + 1, st.lease_start));
	pha_lease_state_beat(g->v.beat)->leader = g->v.is_leader;
	g->v.decided = true;
}

void
pha_lease_decide(PhaRequest *req)
{
	pha_shmem_require("HA de-duplication (a series with both HA labels)");
	pha_lease_state_check_relid();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int g = 0; g < req->ngroups; g++)
		if (!req->groups[g].v.decided)
			decide_group(req, &req->groups[g], NULL);
	SPI_finish();
}

void
pha_lease_force(PhaRequest *req, int group, const char *reason)
{
	pha_shmem_require("promscale_ha.set_leader()");
	pha_lease_state_check_relid();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	decide_group(req, &req->groups[group], reason);
	SPI_finish();
}

void
pha_lease_reserve(PhaRequest *req)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 0; i < req->ngroups; i++)
	{
		PhaGroup   *g = &req->groups[i];
		PhaClusterState st;

		/* the cluster's advisory lock, taken by the decision, is held until commit */
		if (g->v.decided && g->v.is_leader && pha_read_cluster(g->in.cluster, &st))
			maybe_refresh(req, g, &st, pha_lease_state_beat(g->v.beat));
	}
	SPI_finish();
}
