/*-------------------------------------------------------------------------
 *
 * lease_state.c
 *	  The election's view of shared memory (shmem.c): reading a cluster's
 *	  entry, changing it so that an abort undoes the change, and heartbeats
 *	  and counters applied at commit.
 *
 * Changes of who leads are made by a backend holding the cluster's advisory
 * lock in ExclusiveLock mode (lease.c); before its first change of an entry in
 * a (sub)transaction, a copy is kept, and the xact/subxact callbacks put the
 * copies back if it aborts.  Heartbeats (last write, last sample, reservation,
 * per-replica counters) are queued per request and applied at commit only, so
 * an aborted write never counts as a sign of life.  pha_shared->lock is taken
 * only around the copies.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "guc.h"
#include "ha/lease_state.h"

/* A cluster entry as it was before this (sub)transaction changed it. */
typedef struct UndoEntry
{
	PhaClusterState old;
	bool		existed;
	SubTransactionId subid;
} UndoEntry;


static UndoEntry *undo = NULL;
static int	nundo = 0,
			maxundo = 0;
static PhaBeat *beats = NULL;
static int	nbeats = 0,
			maxbeats = 0;

static void *
grow(void *arr, int *max, Size elem)
{
	int			newmax = Max(16, *max * 2);
	void	   *p = arr ? repalloc(arr, newmax * elem)
		: MemoryContextAlloc(TopMemoryContext, newmax * elem);

	*max = newmax;
	return p;
}

/*-------------------------------------------------------------------------
 * Shared-memory access
 *-------------------------------------------------------------------------
 */

/* ha_leases of the extension as it exists now; shared state of another is stale. */
static Oid	cur_leases_relid = InvalidOid;

/* Look up ha_leases; shared entries loaded from a dropped one are ignored. */
Oid
pha_lease_state_check_relid(void)
{
	Oid			nsp = get_namespace_oid("promscale_ha", true);

	cur_leases_relid = OidIsValid(nsp) ? get_relname_relid("ha_leases", nsp) : InvalidOid;
	if (!OidIsValid(cur_leases_relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table promscale_ha.ha_leases does not exist"),
				 errhint("Run CREATE EXTENSION promscale_ha.")));
	return cur_leases_relid;
}

bool
pha_read_cluster(const char *cluster, PhaClusterState *out)
{
	PhaClusterState *e;
	PhaClusterKey key;
	bool		valid;

	pha_cluster_key(cluster, &key);
	LWLockAcquire(pha_shared->lock, LW_SHARED);
	e = hash_search(pha_clusters, &key, HASH_FIND, NULL);
	valid = e != NULL && e->leases_relid == cur_leases_relid;
	if (valid)
		*out = *e;
	LWLockRelease(pha_shared->lock);
	return valid;
}

/* Remember how the entry looked before the first change in this subxact. */
static void
save_undo(const char *cluster)
{
	SubTransactionId subid = GetCurrentSubTransactionId();
	PhaClusterState *e;
	PhaClusterKey key;

	for (int i = 0; i < nundo; i++)
		if (undo[i].subid == subid && strcmp(undo[i].old.key.name, cluster) == 0)
			return;
	if (nundo == maxundo)
		undo = grow(undo, &maxundo, sizeof(UndoEntry));
	memset(&undo[nundo], 0, sizeof(UndoEntry));
	pha_cluster_key(cluster, &key);
	LWLockAcquire(pha_shared->lock, LW_SHARED);
	e = hash_search(pha_clusters, &key, HASH_FIND, NULL);
	if (e)
		undo[nundo].old = *e;
	else
		undo[nundo].old.key = key;
	undo[nundo].existed = (e != NULL);
	LWLockRelease(pha_shared->lock);
	undo[nundo].subid = subid;
	nundo++;
}

/* Write st into shared memory (caller holds the ExclusiveLock advisory lock). */
void
pha_write_cluster(PhaClusterState *st)
{
	PhaClusterState *e;
	bool		found;

	st->leases_relid = cur_leases_relid;
	save_undo(st->key.name);
	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	e = hash_search(pha_clusters, &st->key, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		LWLockRelease(pha_shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many HA clusters for shared memory"),
				 errdetail("promscale_ha.ha_cluster_slots is %d.", pha_ha_cluster_slots),
				 errhint("Raise promscale_ha.ha_cluster_slots and restart PostgreSQL.")));
	}
	*e = *st;
	LWLockRelease(pha_shared->lock);
}

/* Forget a cluster (caller holds its ExclusiveLock); restored if we abort. */
void
pha_remove_cluster(const char *cluster)
{
	PhaClusterKey key;
	HASH_SEQ_STATUS seq;
	PhaReplicaState *r;

	save_undo(cluster);
	pha_cluster_key(cluster, &key);
	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	hash_search(pha_clusters, &key, HASH_REMOVE, NULL);
	hash_seq_init(&seq, pha_replicas);
	while ((r = hash_seq_search(&seq)) != NULL)
		if (r->key.dbid == key.dbid && strcmp(r->key.cluster, cluster) == 0)
			hash_search(pha_replicas, &r->key, HASH_REMOVE, NULL);
	LWLockRelease(pha_shared->lock);
}

/* Undo the changes of an aborted (sub)transaction, newest first. */
static void
apply_undo(SubTransactionId from)
{
	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	while (nundo > 0 && undo[nundo - 1].subid >= from)
	{
		UndoEntry  *u = &undo[--nundo];

		if (u->existed)
		{
			PhaClusterState *e = hash_search(pha_clusters, &u->old.key, HASH_ENTER_NULL, NULL);

			if (e)
				*e = u->old;
		}
		else
			hash_search(pha_clusters, &u->old.key, HASH_REMOVE, NULL);
	}
	LWLockRelease(pha_shared->lock);
}

/* At commit: heartbeats and counters into shared memory; refresh flags off. */
static void
apply_beats(bool commit, SubTransactionId from)
{
	int			keep = 0;

	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nbeats; i++)
	{
		PhaBeat	   *b = &beats[i];
		PhaClusterState *c;
		PhaReplicaState *r;
		PhaClusterKey ckey;

		if (!commit && b->subid < from)
		{
			beats[keep++] = *b;
			continue;
		}
		memset(&ckey, 0, sizeof(ckey));
		ckey.dbid = b->key.dbid;
		strlcpy(ckey.name, b->key.cluster, PHA_NAME_LEN);
		c = hash_search(pha_clusters, &ckey, HASH_FIND, NULL);
		if (c && b->refreshing && c->refreshing_pid == MyProcPid)
			c->refreshing_pid = 0;
		if (!commit)
			continue;
		if (c && b->leader && strcmp(c->leader, b->key.replica) == 0)
		{
			c->last_write = Max(c->last_write, b->now);
			c->last_sample = Max(c->last_sample, b->max_t);
			c->lease_until = Max(c->lease_until, b->new_until);
			if (b->refreshed)
			{
				c->table_written = Max(c->table_written, b->now);
				c->table_last_sample = Max(c->table_last_sample, b->max_t);
			}
		}
		r = hash_search(pha_replicas, &b->key, HASH_ENTER_NULL, NULL);
		if (r == NULL)
			continue;			/* counters are best effort when full */
		if (r->requests == 0 && r->last_write == 0)
		{
			r->last_sample = PG_INT64_MIN;
			r->samples_accepted = r->samples_deduplicated = r->samples_future_dropped = 0;
		}
		r->last_sample = Max(r->last_sample, b->sent_max);
		r->last_write = Max(r->last_write, b->now);
		r->samples_accepted += b->accepted;
		r->samples_deduplicated += b->deduplicated;
		r->samples_future_dropped += b->future;
		r->requests++;
	}
	LWLockRelease(pha_shared->lock);
	nbeats = commit ? 0 : keep;
}

static void
lease_xact_cb(XactEvent event, void *arg)
{
	if (pha_shared == NULL)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			nundo = 0;
			if (nbeats > 0)
				apply_beats(true, InvalidSubTransactionId);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (nundo > 0)
				apply_undo(InvalidSubTransactionId);
			if (nbeats > 0)
				apply_beats(false, InvalidSubTransactionId);
			nundo = 0;
			nbeats = 0;
			break;
		default:
			break;
	}
}

static void
lease_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	if (pha_shared == NULL || event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (nundo > 0)
		apply_undo(mySubid);
	if (nbeats > 0)
		apply_beats(false, mySubid);
}

void
pha_lease_state_init(void)
{
	RegisterXactCallback(lease_xact_cb, NULL);
	RegisterSubXactCallback(lease_subxact_cb, NULL);
}

int
pha_lease_state_new_beat(PhaRequest *req, PhaGroup *g)
{
	PhaBeat    *b;

	if (nbeats == maxbeats)
		beats = grow(beats, &maxbeats, sizeof(PhaBeat));
	b = &beats[nbeats];
	memset(b, 0, sizeof(PhaBeat));
	pha_replica_key(g->in.cluster, g->in.replica, &b->key);
	b->max_t = PG_INT64_MIN;
	b->sent_max = PG_INT64_MIN;
	b->new_until = PG_INT64_MIN;
	b->now = req->now;
	b->subid = GetCurrentSubTransactionId();
	return nbeats++;
}

PhaBeat *
pha_lease_state_beat(int i)
{
	Assert(i >= 0 && i < nbeats);
	return &beats[i];
}

void
pha_lease_state_record(PhaRequest *req)
{
	for (int i = 0; i < req->ngroups; i++)
	{
		PhaGroup   *g = &req->groups[i];
		PhaBeat    *b;

		if (!g->v.decided)
			continue;
		b = pha_lease_state_beat(g->v.beat);
		b->max_t = g->out.max_stored_t;
		b->sent_max = g->in.nsamples > 0 ? g->in.tmax : PG_INT64_MIN;
		b->accepted = g->out.accepted;
		b->deduplicated = g->out.deduplicated;
		b->future = g->in.future;
	}
}

void
pha_lease_state_attempt(PhaRequest *req)
{
	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < req->ngroups; i++)
	{
		PhaGroup   *g = &req->groups[i];
		PhaClusterKey key;
		PhaClusterState *e;

		pha_cluster_key(g->in.cluster, &key);
		e = hash_search(pha_clusters, &key, HASH_FIND, NULL);
		if (e != NULL && strcmp(e->leader, g->in.replica) == 0)
			e->leader_attempt = Max(e->leader_attempt, req->now);
	}
	LWLockRelease(pha_shared->lock);
}
