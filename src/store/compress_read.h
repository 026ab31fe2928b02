/*
 * compress_read.h
 *	  A head partition's rows grouped by series, for compression.
 */
#ifndef PHA_COMPRESS_READ_H
#define PHA_COMPRESS_READ_H

#include "utils/relcache.h"
#include "utils/snapshot.h"

/*
 * Called once per series: its rows' times in ms, ascending and distinct, and
 * their values; the arrays are the callee's to change until it returns (and
 * freed after the pass). May run SPI statements: no scan is open meanwhile.
 */
typedef void (*PhaSeriesRowsFn) (void *arg, int64 series_id, int64 *t_ms, double *v, int n);

/*
 * Hand every series of head partition rel (locked by the caller) to fn once,
 * with its rows visible to snap, ascending series_id within a batch.  The
 * heap is read once; when its rows may not fit maintenance_work_mem they are
 * first spilled to temporary files, a batch of series each.  A repeated ms
 * (sub-ms times written by hand) keeps the row of the earliest microsecond.
 * Returns the number of batches (1: all in memory).
 */
extern int	pha_read_partition_by_series(Relation rel, Snapshot snap, PhaSeriesRowsFn fn, void *arg);

#endif
