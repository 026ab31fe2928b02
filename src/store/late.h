/*-------------------------------------------------------------------------
 *
 * late.h
 *	  Samples for compressed time, checked against the chunks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_LATE_H
#define PHA_LATE_H

#include "store/rows.h"

extern void pha_late_init(void);

/*
 * Remove from rows (compacting them) every row whose (series_id, time) a
 * chunk holds already: the first value stored wins, across head and chunks.
 * Rows newer than the end of the newest compressed range cost nothing; the
 * older ones, one query for the request.  The caller holds RowExclusiveLock
 * on the rows' partitions (partition.c), so no compression of their range
 * can commit between this check and the insert.
 */
extern void pha_late_drop_stored(PhaRows *rows);

/*
 * End (ms) of the newest compressed range, PG_INT64_MIN when there is none.
 * Cached per backend; forgotten whenever samples_head's partitions change.
 */
extern int64 pha_late_horizon(void);

#endif							/* PHA_LATE_H */
