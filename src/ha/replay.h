/*-------------------------------------------------------------------------
 *
 * replay.h
 *	  The replay buffer: followers' requests kept for a takeover's gap fill.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_REPLAY_H
#define PHA_REPLAY_H

#include "request.h"
#include "shmem.h"

/* Keep a follower's payload (the caller holds the cluster's advisory lock). */
extern void pha_replay_keep(PhaRequest *req, PhaGroup *g, PhaClusterState *st);

/*
 * At a takeover: take the new leader's buffered payloads out of the buffer and
 * add their series to req; returns their oldest sample time, *max_t the newest.
 */
extern int64 pha_replay_buffered(PhaRequest *req, PhaGroup *g, int64 start, int64 *max_t);

#endif							/* PHA_REPLAY_H */
