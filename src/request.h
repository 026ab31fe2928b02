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

#include "wire/decode.h"

/* A span of sample time, [lo, hi) in ms since the Unix epoch. */
typedef struct PhaSpan
{
	int64		lo;
	int64		hi;
} PhaSpan;

/* All series of one (cluster, replica) in a request, and the election's verdict. */
typedef struct PhaGroup
{
	char	   *cluster;
	char	   *replica;
	int64		tmin;			/* sample times of the request's own series, */
	int64		tmax;			/* future ones excluded */
	int64		nsamples;

	/* set by the lease decision */
	bool		decided;
	bool		is_leader;		/* leads the cluster after this request */
	bool		took_over;		/* became leader in this request */
	PhaSpan    *spans;			/* sample times this replica owns */
	int			nspans;
	bool		gap_fill;		/* takeover: also t > newest stored, per series */
	int64		gap_fill_from;	/* oldest sample time the gap fill looks at */

	/* outcome, for stats and heartbeats */
	int64		accepted;
	int64		deduplicated;
	int64		future;
	int64		max_stored_t;	/* newest sample time sent to the store */
} PhaGroup;

typedef struct PhaSeriesIn
{
	Prometheus__TimeSeries *ts; /* labels sorted, replica label removed */
	int			group;			/* index in PhaRequest.groups, -1 if not HA */
	bool		replayed;		/* from the replay buffer, not this payload */
} PhaSeriesIn;

typedef struct PhaCounts
{
	int64		samples_received;
	int64		samples_written;
	int64		samples_deduplicated;
	int32		series_created;
	int64		samples_already_stored;
	int64		samples_future_dropped;
	int64		samples_replayed;
	int64		exemplars_ignored;
	int64		histograms_ignored;
	int64		metadata_ignored;
} PhaCounts;

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

	bool		follower_only;	/* decided from the label scan: nothing to store */
	TimestampTz now;			/* wall clock (pha_now) at the start */
	int64		future_limit_ms;	/* HA samples after this are dropped */
	PhaCounts	counts;
} PhaRequest;

#endif							/* PHA_REQUEST_H */
