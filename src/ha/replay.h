/*-------------------------------------------------------------------------
 *
 * replay.h
 *	  The replay buffer: followers' raw payloads kept for a takeover.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_REPLAY_H
#define PHA_REPLAY_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "request.h"

/* One buffered payload as it was received, and its sample time range (ms). */
typedef struct PhaBuffered
{
	uint8	   *payload;
	size_t		len;
	int64		min_t;
	int64		max_t;
	char	   *cluster_label;	/* HA label names it was received with; */
	char	   *replica_label;	/* NULL when buffered by 0.1.0 */
} PhaBuffered;

/*
 * Keep a follower's payload, whose samples span [tmin, tmax], with the HA
 * label names it was read with; prune the
 * cluster's buffer by age and size.  The caller holds the cluster's advisory
 * lock (the election took it).  No-op when promscale_ha.replay_buffer_size is 0.
 */
extern void pha_replay_keep(const char *cluster, const char *replica, TimestampTz now,
							int64 tmin, int64 tmax, const uint8 *payload, size_t len,
							const PhaLabelNames *names);

/*
 * At a takeover: delete every buffered payload of the replica and return, in
 * the caller's memory context, those whose samples reach oldest or later
 * (*n of them).  The caller holds the cluster's advisory lock in
 * ExclusiveLock mode.
 */
extern PhaBuffered *pha_replay_take(const char *cluster, const char *replica, int64 oldest,
									int *n);

#endif							/* PHA_REPLAY_H */
