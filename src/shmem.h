/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  Shared lease state of every HA cluster and replica.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_SHMEM_H
#define PHA_SHMEM_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/hsearch.h"


/* Longest cluster or replica name (bytes), so that they fit shared memory. */
#define PHA_NAME_LEN 128

/* Clusters are per database: two databases may use the same cluster name. */
typedef struct PhaClusterKey
{
	Oid			dbid;
	char		name[PHA_NAME_LEN]; /* zero-padded: the key is hashed as bytes */
} PhaClusterKey;

/* Live state of one cluster: a cache of its ha_leases row plus heartbeats. */
typedef struct PhaClusterState
{
	PhaClusterKey key;
	Oid			leases_relid;	/* ha_leases it was loaded from (DROP/CREATE) */
	char		leader[PHA_NAME_LEN];
	int64		lease_start;	/* ms; PG_INT64_MIN = -infinity */
	int64		lease_until;	/* reservation, as written in ha_leases */
	int64		last_sample;	/* leader's newest committed sample, ms */
	int64		safe_floor;		/* a new period never starts before this */
	TimestampTz leader_since;
	TimestampTz last_write;		/* leader's last committed write */
	/* hints: best-effort, see the protocol in shmem.c */
	TimestampTz table_written;	/* last write of the ha_leases row */
	int64		table_last_sample;	/* last_sample_time written there */
	TimestampTz last_prune;		/* last prune of its replay buffer */
	int64		buffer_bytes;	/* its replay buffer's payload bytes (approximate) */
	int			refreshing_pid; /* backend writing the row now, or 0 */
	TimestampTz leader_attempt; /* the leader's last write attempt, even failed */
	int64		leader_changes;
} PhaClusterState;

typedef struct PhaReplicaKey
{
	Oid			dbid;
	char		cluster[PHA_NAME_LEN];
	char		replica[PHA_NAME_LEN];
} PhaReplicaKey;

/* What one replica of a cluster has sent. */
typedef struct PhaReplicaState
{
	PhaReplicaKey key;
	int64		last_sample;
	TimestampTz last_write;
	int64		samples_accepted;
	int64		samples_deduplicated;
	int64		samples_future_dropped;
	int64		requests;
} PhaReplicaState;

/* Counters behind promscale_ha.stats, added at commit (stats.c). */
typedef struct PhaCounters
{
	pg_atomic_uint64 samples_written;
	pg_atomic_uint64 samples_deduplicated;
	pg_atomic_uint64 samples_future_dropped;
	pg_atomic_uint64 samples_already_stored;
	pg_atomic_uint64 samples_replayed;
	pg_atomic_uint64 requests_stored;
	pg_atomic_uint64 requests_deduplicated;
	pg_atomic_uint64 requests_partial;
	pg_atomic_uint64 requests_empty;
	pg_atomic_uint64 leader_changes;
	pg_atomic_uint64 worker_runs;
	pg_atomic_uint64 samples_compressed;
	pg_atomic_uint64 compress_bytes_before;
	pg_atomic_uint64 compress_bytes_after;
} PhaCounters;

typedef struct PhaShared
{
	LWLock	   *lock;
	PhaCounters counters;
	/* the worker's latch: set to wake it (a hint; see pha_shmem_wake_worker) */
	Latch	   *worker_latch;
	/* the worker's last run and error, under lock */
	int			worker_pid;
	TimestampTz worker_last_run;
	TimestampTz worker_last_error_at;
	char		worker_last_error[256];
	char		worker_last_error_sqlstate[6];
	char		worker_last_error_detail[256];
	int64		worker_memory_top;	/* bytes TopMemoryContext itself holds */
	int64		worker_memory_total;	/* bytes of all its memory contexts */
	TimestampTz compress_last_run;	/* the worker's last compression run */
	int64		compress_lag_s; /* oldest head partition past compress_after, s */
} PhaShared;

extern PhaShared *pha_shared;
extern HTAB *pha_clusters;
extern HTAB *pha_replicas;

extern void pha_shmem_init(void);

/* Zero-padded hash keys for this database. */
extern void pha_cluster_key(const char *cluster, PhaClusterKey *key);
extern void pha_replica_key(const char *cluster, const char *replica, PhaReplicaKey *key);

/* Error out, with a hint, unless the library was preloaded. */
extern void pha_shmem_require(const char *what);

/*
 * Wake the background worker now: a cluster appeared or changed leader, so
 * its next failover deadline may be sooner than its sleep.  No-op without
 * shared memory or before the worker has started.
 */
extern void pha_shmem_wake_worker(void);

#endif							/* PHA_SHMEM_H */
