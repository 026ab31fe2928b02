/*-------------------------------------------------------------------------
 *
 * lease_state.h
 *	  The election's view of shared memory: transactional changes of the
 *	  cluster entries, heartbeats applied at commit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_LEASE_STATE_H
#define PHA_LEASE_STATE_H

#include "request.h"
#include "shmem.h"

/* Heartbeat and counters of one group, applied to shared memory at commit. */
typedef struct PhaBeat
{
	PhaReplicaKey key;
	bool		leader;
	int64		max_t;			/* newest sample stored (leader's heartbeat) */
	int64		sent_max;		/* newest sample sent (replica counters) */
	int64		new_until;		/* reservation written to ha_leases, or MIN */
	bool		refreshed;		/* this transaction wrote the ha_leases row */
	bool		refreshing;		/* we set refreshing_pid */
	int64		accepted;
	int64		deduplicated;
	int64		future;
	TimestampTz now;
	SubTransactionId subid;
} PhaBeat;

extern void pha_lease_state_init(void);

/* The current promscale_ha.ha_leases; errors when the extension is missing. */
extern Oid	pha_lease_state_check_relid(void);

/* This database's entry for cluster, unless loaded from a dropped ha_leases. */
extern bool pha_read_cluster(const char *cluster, PhaClusterState *out);

/* Change or forget an entry (caller holds the cluster's ExclusiveLock); undone at abort. */
extern void pha_write_cluster(PhaClusterState *st);
extern void pha_remove_cluster(const char *cluster);

/*
 * Queue a heartbeat for group g of req, applied at commit (dropped at abort);
 * returns its index, which the group keeps (g->v.beat).
 */
extern int	pha_lease_state_new_beat(PhaRequest *req, PhaGroup *g);

/* The queued heartbeat with that index, valid until the transaction ends. */
extern PhaBeat *pha_lease_state_beat(int i);

/*
 * Note, at once and whatever becomes of the transaction, that the leader of
 * each group's cluster tried to write now (a hint: a leader change
 * overwrites it).  pha_leader_silent counts it like a committed write.
 */
extern void pha_lease_state_attempt(PhaRequest *req);

/* After the samples are stored: fill this request's heartbeats. */
extern void pha_lease_state_record(PhaRequest *req);

#endif							/* PHA_LEASE_STATE_H */
