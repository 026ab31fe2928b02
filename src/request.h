/*-------------------------------------------------------------------------
 *
 * request.h
 *	  The in-memory form of one write() call, shared by the steps of the
 *	  write path: decode -> group -> lease decision -> series -> store.
 *
 * Everything hangs off one memory context per request, deleted when the
 * call returns; an error anywhere releases it with the transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_REQUEST_H
#define PHA_REQUEST_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "stats.h"
#include "wire/decode.h"

/*
 * The names of the two HA labels a payload is read with: the session's
 * promscale_ha.cluster_label and replica_label for the request's own
 * payload, the ones it was received with for a buffered one.
 */
typedef struct PhaLabelNames
{
	const char *cluster;
	const char *replica;
} PhaLabelNames;

/* A span of sample time, [lo, hi) in ms since the Unix epoch. */
typedef struct PhaSpan
{
	int64		lo;
	int64		hi;
} PhaSpan;

/*
 * All series of one (cluster, replica) in a request.  Three parts, each
 * written by one step: what grouping found (ha/group.c), the election's
 * verdict (ha/lease.c), and what the driver did with it (ingest.c).
 */
typedef struct PhaGroupIn
{
	char	   *cluster;
	char	   *replica;
	int64		tmin;			/* sample times of the request's own series, */
	int64		tmax;			/* future ones excluded */
	int64		nsamples;
	int64		future;			/* samples past promscale_ha.max_future */
} PhaGroupIn;

typedef struct PhaVerdict
{
	bool		decided;
	bool		is_leader;		/* leads the cluster after this request */
	bool		took_over;		/* became leader now: replay and gap fill */
	int64		start;			/* took_over: first sample time of its period */
	PhaSpan    *spans;			/* sample times this replica owns */
	int			nspans;
	int			beat;			/* its heartbeat entry (ha/lease_state.c) */
} PhaVerdict;

typedef struct PhaGroupOut
{
	bool		acted;			/* payload buffered, or buffered ones taken */
	int64		gap_fill_from;	/* took_over: where the floors' lookup starts */
	int64		replay_max;		/* newest sample time of its replayed payloads */
	int64		accepted;
	int64		deduplicated;
	int64		max_stored_t;	/* newest sample time sent to the store */
} PhaGroupOut;

typedef struct PhaGroup
{
	PhaGroupIn	in;
	PhaVerdict	v;
	PhaGroupOut out;
} PhaGroup;

typedef struct PhaSeriesIn
{
	Prometheus__TimeSeries *ts; /* labels sorted, replica label removed */
	int			group;			/* index in PhaRequest.groups, -1 if not HA */
	bool		replayed;		/* from the replay buffer, not this payload */
} PhaSeriesIn;


typedef struct PhaRequest
{
	MemoryContext cxt;
	MemoryContext decode_cxt;	/* the arena's blocks; freed before the insert */
	PhaArena	arena;
	PhaDecodeLimits limits;

	const uint8_t *payload;		/* the raw body, kept for the replay buffer */
	size_t		payload_len;

	PhaSeriesIn *series;
	int			nseries;
	int			maxseries;
	PhaGroup   *groups;
	int			ngroups;
	int			maxgroups;

	struct PhaFastRequest *fast;	/* the payload read in place (wire/fastpath.h):
									 * series 0..n-1, their keys and known ids;
									 * NULL after the full decoder */
	bool		follower_only;	/* decided from the label scan: nothing to store */
	TimestampTz now;			/* wall clock (pha_now) at the start */
	int64		future_limit_ms;	/* HA samples after this are dropped */
	PhaCounts	counts;
} PhaRequest;

#endif							/* PHA_REQUEST_H */
