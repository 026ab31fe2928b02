/*-------------------------------------------------------------------------
 *
 * timeconv.h
 *	  Prometheus milliseconds <-> PostgreSQL timestamptz.
 *
 * Prometheus counts milliseconds since 1970-01-01 UTC; timestamptz counts
 * microseconds since 2000-01-01 UTC.  PG_INT64_MIN / MAX stand for -infinity
 * and infinity on both sides.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_TIMECONV_H
#define PHA_TIMECONV_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/timestamp.h"

#define PHA_EPOCH_DIFF_MS	INT64CONST(946684800000)	/* 1970 -> 2000 */

/* Largest/smallest ms values that map onto a finite timestamptz. */
#define PHA_MIN_MS	(MIN_TIMESTAMP / 1000 + PHA_EPOCH_DIFF_MS)
#define PHA_MAX_MS	(END_TIMESTAMP / 1000 + PHA_EPOCH_DIFF_MS - 1)

static inline TimestampTz
pha_ms_to_tstz(int64 ms)
{
	if (ms == PG_INT64_MIN)
		return DT_NOBEGIN;
	if (ms == PG_INT64_MAX)
		return DT_NOEND;
	return (ms - PHA_EPOCH_DIFF_MS) * 1000;
}

/* Rounds toward -infinity, so that ms_to_tstz(tstz_to_ms(x)) <= x. */
static inline int64
pha_tstz_to_ms(TimestampTz ts)
{
	int64		q;

	if (ts == DT_NOBEGIN)
		return PG_INT64_MIN;
	if (ts == DT_NOEND)
		return PG_INT64_MAX;
	q = ts / 1000;
	if (ts < 0 && q * 1000 != ts)
		q--;
	return q + PHA_EPOCH_DIFF_MS;
}

/* Rounds toward +infinity: the first whole ms at or after ts. */
static inline int64
pha_tstz_to_ms_ceil(TimestampTz ts)
{
	int64		ms = pha_tstz_to_ms(ts);

	if (ms != PG_INT64_MIN && ms != PG_INT64_MAX && pha_ms_to_tstz(ms) != ts)
		ms++;
	return ms;
}

/* A Prometheus time as a timestamptz Datum. */
static inline Datum
pha_ms_datum(int64 ms)
{
	return TimestampTzGetDatum(pha_ms_to_tstz(ms));
}

static inline bool
pha_ms_valid(int64 ms)
{
	return ms >= PHA_MIN_MS && ms <= PHA_MAX_MS;
}

#endif							/* PHA_TIMECONV_H */
