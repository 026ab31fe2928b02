/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  Shared memory of promscale_ha: the live lease state of every HA
 *	  cluster and the per-replica counters behind promscale_ha.replicas.
 *
 * Layout: a PhaShared header with one LWLock (named tranche "promscale_ha"),
 * the counters of promscale_ha.stats (atomics) and the worker's last run, a
 * hash table of PhaClusterState keyed by (database, cluster name)
 * (promscale_ha.ha_cluster_slots entries) and one of PhaReplicaState keyed by
 * (database, cluster, replica) (four per cluster slot).
 *
 * Locking protocol:
 *	- pha_shared->lock guards both hash tables and every field in them:
 *	  LW_SHARED to read, LW_EXCLUSIVE to insert, remove or change an entry.
 *	  It is held only for copies in and out, never across other locks or I/O.
 *	- The fields that say who leads (leader, lease_start, safe_floor, entry
 *	  existence) change only in a backend that holds the cluster's advisory
 *	  lock in ExclusiveLock mode (ha/lease.c), and are restored from an undo copy
 *	  if its transaction aborts.  Every write() holds that advisory lock in at
 *	  least ShareLock mode while it decides, so a decision never rests on
 *	  uncommitted state.
 *	- Heartbeats (last_write, last_sample, lease_until, counters) are applied
 *	  at commit by the backend that wrote the samples.
 *	- Hints: table_written, table_last_sample, last_prune, buffer_bytes,
 *	  refreshing_pid, leader_attempt and worker_latch are best-effort.  They are changed at once under the
 *	  LWLock, outside any transaction's undo, and a leader change may
 *	  overwrite them.  A lost or stale hint costs one extra (or one late)
 *	  ha_leases refresh or buffer prune, never a wrong decision: nothing that
 *	  decides who owns a sample reads them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

#include "guc.h"
#include "shmem.h"

PhaShared  *pha_shared = NULL;
HTAB	   *pha_clusters = NULL;
HTAB	   *pha_replicas = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
replica_slots(void)
{
	return (Size) pha_ha_cluster_slots * 4;
}

static void
pha_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(PhaShared)));
	RequestAddinShmemSpace(hash_estimate_size(pha_ha_cluster_slots, sizeof(PhaClusterState)));
	RequestAddinShmemSpace(hash_estimate_size(replica_slots(), sizeof(PhaReplicaState)));
	RequestNamedLWLockTranche("promscale_ha", 1);
}

static void
pha_shmem_startup(void)
{
	bool		found;
	HASHCTL		ctl;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pha_shared = ShmemInitStruct("promscale_ha", sizeof(PhaShared), &found);
	if (!found)
	{
		pg_atomic_uint64 *c = (pg_atomic_uint64 *) &pha_shared->counters;

		memset(pha_shared, 0, sizeof(PhaShared));
		pha_shared->lock = &(GetNamedLWLockTranche("promscale_ha"))->lock;
		for (size_t i = 0; i < sizeof(PhaCounters) / sizeof(pg_atomic_uint64); i++)
			pg_atomic_init_u64(&c[i], 0);
	}

	ctl.keysize = sizeof(PhaClusterKey);
	ctl.entrysize = sizeof(PhaClusterState);
	pha_clusters = ShmemInitHash("promscale_ha clusters", pha_ha_cluster_slots,
								 pha_ha_cluster_slots, &ctl, HASH_ELEM | HASH_BLOBS);
	ctl.keysize = sizeof(PhaReplicaKey);
	ctl.entrysize = sizeof(PhaReplicaState);
	pha_replicas = ShmemInitHash("promscale_ha replicas", replica_slots(), replica_slots(),
								 &ctl, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

void
pha_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pha_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pha_shmem_startup;
}

void
pha_cluster_key(const char *cluster, PhaClusterKey *key)
{
	memset(key, 0, sizeof(*key));
	key->dbid = MyDatabaseId;
	strlcpy(key->name, cluster, PHA_NAME_LEN);
}

void
pha_replica_key(const char *cluster, const char *replica, PhaReplicaKey *key)
{
	memset(key, 0, sizeof(*key));
	key->dbid = MyDatabaseId;
	strlcpy(key->cluster, cluster, PHA_NAME_LEN);
	strlcpy(key->replica, replica, PHA_NAME_LEN);
}

void
pha_shmem_require(const char *what)
{
	if (pha_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs promscale_ha loaded at server start", what),
				 errhint("Add promscale_ha to shared_preload_libraries in postgresql.conf and restart PostgreSQL.")));
}

void
pha_shmem_wake_worker(void)
{
	Latch	   *latch;

	if (pha_shared == NULL)
		return;
	/* a stale pointer is harmless: a PGPROC latch stays valid shared memory */
	latch = pha_shared->worker_latch;
	if (latch != NULL)
		SetLatch(latch);
}
