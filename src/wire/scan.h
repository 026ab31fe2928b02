/*-------------------------------------------------------------------------
 *
 * scan.h
 *	  A label-only pass over a decompressed WriteRequest, for the election.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_SCAN_H
#define PHA_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/decode.h"

/* What the election needs of one series, read straight off the wire. */
typedef struct PhaSeriesScan
{
	const uint8_t *cluster;		/* value of the cluster label, or NULL */
	size_t		cluster_len;
	const uint8_t *replica;		/* value of the replica label, or NULL */
	size_t		replica_len;
	int64_t		tmin;			/* over samples at or before future_limit */
	int64_t		tmax;
	size_t		nsamples;		/* samples at or before future_limit */
	size_t		nfuture;		/* samples after it */
	bool		bad_time;		/* a timestamp timestamptz cannot hold */
	bool		odd;			/* anything the full decoder must judge */
} PhaSeriesScan;

/*
 * Fill *out (arena-allocated, *n entries) from the wire format without
 * unpacking.  Returns false for anything malformed: the caller then runs the
 * full decoder, which reports the error properly.  A series whose labels the
 * full decoder would have to sort, or would reject, is marked odd.
 */
extern bool pha_scan_request(const uint8_t *raw, size_t raw_len,
							 const PhaDecodeLimits *limits,
							 const char *cluster_label, const char *replica_label,
							 int64_t future_limit, int64_t min_time, int64_t max_time,
							 PhaArena *arena, PhaSeriesScan **out, size_t *n);

#endif							/* PHA_SCAN_H */
