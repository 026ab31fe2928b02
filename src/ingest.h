/*-------------------------------------------------------------------------
 *
 * ingest.h
 *	  The write path: one request from payload to stored samples.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_INGEST_H
#define PHA_INGEST_H

#include "request.h"

/* A request with its own memory context, made current; payload may be NULL. */
extern PhaRequest *pha_request_begin(const uint8 *payload, size_t len);

/* Delete the request's memory context and switch back. */
extern void pha_request_end(PhaRequest *req, MemoryContext caller);

/*
 * Decode, validate and group a payload into req, reading the HA labels by
 * names.  For the request's own payload (only_cluster NULL) errors are
 * raised; for a buffered payload being replayed they are reported as a
 * WARNING and false is returned.
 */
extern bool pha_request_add_payload(PhaRequest *req, const uint8 *payload, size_t len,
									const char *only_cluster, const char *only_replica,
									const PhaLabelNames *names);

/*
 * Run the steps after decoding: decide, act, reserve, resolve, build, store,
 * record (see ingest.c).  Stores what the verdicts accept.
 */
extern void pha_request_run(PhaRequest *req);

/*
 * Make replica the leader of cluster, with replay and gap fill, as a write's
 * takeover would: reason "forced" (set_leader) always, "failover" (the
 * worker) only if the leader is silent.  True if the leader changed.
 */
extern bool pha_ingest_force_leader(const char *cluster, const char *replica,
									const char *reason);

#endif							/* PHA_INGEST_H */
