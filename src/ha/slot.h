/*-------------------------------------------------------------------------
 *
 * slot.h
 *	  One sample per scrape slot across a takeover.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_SLOT_H
#define PHA_SLOT_H

#include "request.h"

/* Prometheus' staleness marker: a NaN with exactly these bits. */
#define PHA_STALE_MARKER_BITS	UINT64CONST(0x7ff0000000000002)

/* Is v Prometheus' stale marker, bit for bit? */
static inline bool
pha_is_stale_marker(double v)
{
	uint64		bits;

	memcpy(&bits, &v, sizeof(bits));
	return bits == PHA_STALE_MARKER_BITS;
}

/*
 * The scrape-slot rule at a takeover, for the new leader's samples.
 *
 * The n occurrences are series of the new leader in this request: a series
 * occurs once per replayed payload and once in the request itself.  For
 * occurrence k, key[k] is its series id (equal keys are one series),
 * floors[k] the newest stored sample time of that series (PG_INT64_MIN when
 * none: the rule does not apply) and ts[k] its samples.  Only occurrences
 * with want[k] take part, and of them only samples at or before limit_ms.
 *
 * Per series, the first sample after the floor that is not a stale marker
 * is to be dropped when it lies less than half a scrape interval after the
 * floor; the interval is the spacing of the series' own samples next to
 * that one (the smaller of the spacing to the one before it and to the one
 * after it); with no such neighbour, the old leader's: floors[k] minus
 * befores[k], the stored sample before the floor (PG_INT64_MIN: none, and
 * then nothing is dropped).  Stale markers are never dropped and never
 * measured.
 *
 * Returns, in the current memory context, one entry per occurrence: the time
 * (ms) of the sample of its series to drop, or PG_INT64_MIN.  One sort of the
 * occurrences by series, then two passes over each series' samples; memory
 * per occurrence, none per sample.
 */
extern int64 *pha_slot_drops(int n, const int64 *key, const int64 *floors,
							 const int64 *befores, Prometheus__TimeSeries *const *ts,
							 const bool *want, int64 limit_ms);

#endif							/* PHA_SLOT_H */
