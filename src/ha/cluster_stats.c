/*-------------------------------------------------------------------------
 *
 * cluster_stats.c
 *	  Per (cluster, replica) counters in shared memory, behind
 *	  promscale_ha.cluster_stats(), and the warning about series that carry
 *	  the cluster label but no replica label.
 *
 * The table is a shared hash of promscale_ha.max_tracked_replicas entries
 * (fixed at server start) keyed by (database, cluster, replica); the entry
 * with an empty replica holds the cluster's samples that arrived without
 * the replica label.  When it is full, updates for new keys are dropped and
 * counted (pha_cluster_stats_overflow, the column tracked_replicas_overflow
 * of promscale_ha.stats).  Entries are kept until the server restarts.
 *
 * Hot path: a backend accumulates into a small local list -- per series
 * only for series without the replica label (one compare with the previous
 * one's cluster), per group once per request -- and moves the list into
 * shared memory at commit, under this file's own LWLock taken once per
 * transaction.  An aborted (sub)transaction counts nothing.
 *
 * The warning: at most once a minute per cluster (by promscale_ha's wall
 * clock, pha_now, so that tests can move it), the time of the last one kept
 * in the cluster's shared entry at once, whatever becomes of the
 * transaction.  Without shared memory nothing is counted nor warned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "ha/cluster_stats.h"
#include "shmem.h"
#include "stats.h"

/* Least time between two warnings about one cluster, microseconds. */
#define WARN_INTERVAL_US	(60 * USECS_PER_SEC)

/* Most distinct keys a transaction keeps before it counts overflow instead. */
#define PENDING_MAX			256

typedef struct CsEntry
{
	PhaReplicaKey key;			/* replica "" = series without the replica label */
	int64		samples_accepted;
	int64		samples_deduplicated;
	int64		samples_future_dropped;
	int64		samples_without_replica;
	int64		requests;
	TimestampTz last_write;
	TimestampTz last_warning;
} CsEntry;

typedef struct CsShared
{
	LWLock	   *lock;
	pg_atomic_uint64 overflow;
} CsShared;

typedef struct Pending
{
	PhaReplicaKey key;
	int64		accepted;
	int64		deduplicated;
	int64		future;
	int64		without_replica;
	int64		requests;
	int64		unwarned;		/* without_replica since the last warning check */
	TimestampTz at;
	SubTransactionId subid;
} Pending;

static CsShared *cs_shared = NULL;
static HTAB *cs_table = NULL;

static shmem_request_hook_type prev_request_hook = NULL;
static shmem_startup_hook_type prev_startup_hook = NULL;

static Pending *pending = NULL;
static int	npending = 0;
static int64 pending_overflow = 0;
static int	last_no_replica = -1;	/* index of the last no-replica row used */

PG_FUNCTION_INFO_V1(pha_cluster_stats);

/*-------------------------------------------------------------------------
 * Shared memory
 *-------------------------------------------------------------------------
 */

static void
cs_shmem_request(void)
{
	if (prev_request_hook)
		prev_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CsShared)));
	RequestAddinShmemSpace(hash_estimate_size(pha_max_tracked_replicas, sizeof(CsEntry)));
	RequestNamedLWLockTranche("promscale_ha cluster stats", 1);
}

static void
cs_shmem_startup(void)
{
	bool		found;
	HASHCTL		ctl;

	if (prev_startup_hook)
		prev_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cs_shared = ShmemInitStruct("promscale_ha cluster stats", sizeof(CsShared), &found);
	if (!found)
	{
		cs_shared->lock = &(GetNamedLWLockTranche("promscale_ha cluster stats"))->lock;
		pg_atomic_init_u64(&cs_shared->overflow, 0);
	}
	ctl.keysize = sizeof(PhaReplicaKey);
	ctl.entrysize = sizeof(CsEntry);
	cs_table = ShmemInitHash("promscale_ha cluster stats table", pha_max_tracked_replicas,
							 pha_max_tracked_replicas, &ctl, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

void
pha_cluster_stats_shmem_init(void)
{
	prev_request_hook = shmem_request_hook;
	shmem_request_hook = cs_shmem_request;
	prev_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cs_shmem_startup;
}

/*
 * The shared entry of key, made (zeroed) when missing; NULL when the table is
 * full.  A shared hash table grows past its declared size into spare shared
 * memory, so the bound is counted here.  Caller holds cs_shared->lock
 * exclusively.
 */
static CsEntry *
entry_enter(const PhaReplicaKey *key)
{
	bool		found;
	CsEntry    *e = hash_search(cs_table, key, HASH_FIND, NULL);

	if (e != NULL)
		return e;
	if (hash_get_num_entries(cs_table) >= pha_max_tracked_replicas)
		return NULL;
	e = hash_search(cs_table, key, HASH_ENTER_NULL, &found);
	if (e != NULL && !found)
		memset((char *) e + sizeof(PhaReplicaKey), 0, sizeof(CsEntry) - sizeof(PhaReplicaKey));
	return e;
}

int64
pha_cluster_stats_overflow(void)
{
	return cs_shared ? (int64) pg_atomic_read_u64(&cs_shared->overflow) : 0;
}

/*-------------------------------------------------------------------------
 * The transaction's pending counts
 *-------------------------------------------------------------------------
 */

static void
reset_pending(void)
{
	npending = 0;
	pending_overflow = 0;
	last_no_replica = -1;
}

/* Move the pending counts into shared memory (at commit). */
static void
flush_pending(void)
{
	int64		lost = pending_overflow;

	LWLockAcquire(cs_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < npending; i++)
	{
		Pending    *p = &pending[i];
		CsEntry    *e = entry_enter(&p->key);

		if (e == NULL)
		{
			lost++;
			continue;
		}
		e->samples_accepted += p->accepted;
		e->samples_deduplicated += p->deduplicated;
		e->samples_future_dropped += p->future;
		e->samples_without_replica += p->without_replica;
		e->requests += p->requests;
		e->last_write = Max(e->last_write, p->at);
	}
	LWLockRelease(cs_shared->lock);
	if (lost > 0)
		pg_atomic_fetch_add_u64(&cs_shared->overflow, (uint64) lost);
}

static void
cs_xact_cb(XactEvent event, void *arg)
{
	if (npending == 0 && pending_overflow == 0)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			flush_pending();
			reset_pending();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			reset_pending();
			break;
		default:
			break;
	}
}

/* A subtransaction aborted: forget what it and its children counted. */
static void
cs_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
			  SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (npending > 0 && pending[npending - 1].subid >= mySubid)
		npending--;
	last_no_replica = -1;
}

void
pha_cluster_stats_init(void)
{
	RegisterXactCallback(cs_xact_cb, NULL);
	RegisterSubXactCallback(cs_subxact_cb, NULL);
	pha_stats_set_overflow_reader(pha_cluster_stats_overflow);
}

/* The pending row of key in this subtransaction, added when missing; NULL when full. */
static Pending *
pending_row(const PhaReplicaKey *key, int *index)
{
	SubTransactionId subid = GetCurrentSubTransactionId();

	for (int i = npending - 1; i >= 0; i--)
	{
		if (pending[i].subid == subid && memcmp(&pending[i].key, key, sizeof(*key)) == 0)
		{
			*index = i;
			return &pending[i];
		}
	}
	if (npending == PENDING_MAX)
	{
		pending_overflow++;
		return NULL;
	}
	if (pending == NULL)
		pending = MemoryContextAlloc(TopMemoryContext, PENDING_MAX * sizeof(Pending));
	memset(&pending[npending], 0, sizeof(Pending));
	pending[npending].key = *key;
	pending[npending].subid = subid;
	*index = npending;
	return &pending[npending++];
}

void
pha_cluster_stats_no_replica(const char *cluster, size_t len, int64 n)
{
	PhaReplicaKey key;
	Pending    *p;
	int			i;

	if (cs_shared == NULL)
		return;
	if (len >= PHA_NAME_LEN)
		len = pg_mbcliplen(cluster, (int) len, PHA_NAME_LEN - 1);
	if (last_no_replica >= 0 && last_no_replica < npending)
	{
		p = &pending[last_no_replica];
		if (p->key.replica[0] == '\0' && strncmp(p->key.cluster, cluster, len) == 0 &&
			p->key.cluster[len] == '\0' && p->subid == GetCurrentSubTransactionId())
		{
			p->without_replica += n;
			p->unwarned += n;
			return;
		}
	}
	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	memcpy(key.cluster, cluster, len);
	p = pending_row(&key, &i);
	if (p == NULL)
		return;
	last_no_replica = i;
	p->without_replica += n;
	p->unwarned += n;
}

/*
 * Log the warning for each cluster with samples lacking the replica label
 * in this request, unless one was logged for it in the last minute.
 */
static void
warn_missing_replica(TimestampTz now)
{
	char	  **names = NULL;
	int64	   *counts = NULL;
	int			nwarn = 0;
	bool		any = false;

	for (int i = 0; i < npending && !any; i++)
		any = pending[i].unwarned > 0;
	if (!any)
		return;
	names = palloc(npending * sizeof(char *));
	counts = palloc(npending * sizeof(int64));
	LWLockAcquire(cs_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < npending; i++)
	{
		Pending    *p = &pending[i];
		CsEntry    *e;

		if (p->unwarned == 0)
			continue;
		e = entry_enter(&p->key);
		if (e != NULL &&
			(e->last_warning == 0 || now < e->last_warning ||
			 now - e->last_warning >= WARN_INTERVAL_US))
		{
			e->last_warning = now;
			names[nwarn] = p->key.cluster;
			counts[nwarn++] = p->unwarned;
		}
		p->unwarned = 0;
	}
	LWLockRelease(cs_shared->lock);
	for (int i = 0; i < nwarn; i++)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%lld samples of cluster \"%s\" arrived without the replica label \"%s\"",
						(long long) counts[i], names[i], pha_replica_label),
				 errdetail("Series with the cluster label \"%s\" but no replica label are stored "
						   "as sent, without HA de-duplication: the replicas of an HA pair then "
						   "store the same series twice.",
						   pha_cluster_label),
				 errhint("Give each replica a unique \"%s\" label, or set "
						 "promscale_ha.replica_label to the label it sends; vmagent drops labels "
						 "that start with \"__\", so use -remoteWrite.label=replica=NAME with "
						 "promscale_ha.replica_label = 'replica'.  Logged at most once a minute "
						 "per cluster; counted in promscale_ha.cluster_stats.",
						 pha_replica_label)));
	pfree(names);
	pfree(counts);
}

void
pha_cluster_stats_record(PhaRequest *req)
{
	if (cs_shared == NULL)
		return;
	if (req->payload != NULL)
	{
		for (int i = 0; i < req->ngroups; i++)
		{
			PhaGroup   *g = &req->groups[i];
			PhaReplicaKey key;
			Pending    *p;
			int			index;

			if (!g->v.decided)
				continue;
			pha_replica_key(g->in.cluster, g->in.replica, &key);
			p = pending_row(&key, &index);
			if (p == NULL)
				continue;
			p->accepted += g->out.accepted;
			p->deduplicated += g->out.deduplicated;
			p->future += g->in.future;
			p->requests++;
			p->at = Max(p->at, req->now);
		}
	}
	for (int i = 0; i < npending; i++)
		if (pending[i].unwarned > 0)
			pending[i].at = Max(pending[i].at, req->now);
	warn_missing_replica(req->now);
}

/*-------------------------------------------------------------------------
 * promscale_ha.cluster_stats()
 *-------------------------------------------------------------------------
 */

Datum
pha_cluster_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	CsEntry    *e;
	CsEntry    *copy;
	long		max;
	long		n = 0;

	pha_shmem_require("promscale_ha.cluster_stats()");
	InitMaterializedSRF(fcinfo, 0);
	LWLockAcquire(cs_shared->lock, LW_SHARED);
	max = hash_get_num_entries(cs_table);
	copy = palloc(Max(max, 1) * sizeof(CsEntry));
	hash_seq_init(&seq, cs_table);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (n < max && e->key.dbid == MyDatabaseId)
			copy[n++] = *e;
	LWLockRelease(cs_shared->lock);

	for (long i = 0; i < n; i++)
	{
		Datum		v[9];
		bool		nulls[9] = {0};

		v[0] = CStringGetTextDatum(copy[i].key.cluster);
		v[1] = CStringGetTextDatum(copy[i].key.replica);
		nulls[1] = (copy[i].key.replica[0] == '\0');
		v[2] = Int64GetDatum(copy[i].samples_accepted);
		v[3] = Int64GetDatum(copy[i].samples_deduplicated);
		v[4] = Int64GetDatum(copy[i].samples_future_dropped);
		v[5] = Int64GetDatum(copy[i].samples_without_replica);
		v[6] = Int64GetDatum(copy[i].requests);
		v[7] = TimestampTzGetDatum(copy[i].last_write);
		nulls[7] = (copy[i].last_write == 0);
		v[8] = TimestampTzGetDatum(copy[i].last_warning);
		nulls[8] = (copy[i].last_warning == 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}
