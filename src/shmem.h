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
#include "storage/lwlock.h"
#include "utils/hsearch.h"

#include "group.h"

/* Live state of one cluster: a cache of its ha_leases row plus heartbeats. */
typedef struct PhaClusterState
{
	char		name[PHA_NAME_LEN]; /* hash key */
	char		leader[PHA_NAME_LEN];
	int64		lease_start;	/* ms; PG_INT64_MIN = -infinity */
	int64		lease_until;	/* reservation, as written in ha_leases */
	int64		last_sample;	/* leader's newest committed sample, ms */
	int64		safe_floor;		/* a new period never starts before this */
	TimestampTz leader_since;
	TimestampTz last_write;		/* leader's last committed write */
	TimestampTz table_written;	/* last write of the ha_leases row */
	TimestampTz last_prune;		/* last prune of its replay buffer */
	int			refreshing_pid; /* backend writing the row now, or 0 */
	int64		leader_changes;
} PhaClusterState;

typedef struct PhaReplicaKey
{
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

typedef struct PhaShared
{
	LWLock	   *lock;
} PhaShared;

extern PhaShared *pha_shared;
extern HTAB *pha_clusters;
extern HTAB *pha_replicas;

extern void pha_shmem_init(void);

/* Error out, with a hint, unless the library was preloaded. */
extern void pha_shmem_require(const char *what);

#endif							/* PHA_SHMEM_H */
