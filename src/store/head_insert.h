/*-------------------------------------------------------------------------
 *
 * head_insert.h
 *	  A request's sample rows straight into samples_head's partitions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HEAD_INSERT_H
#define PHA_HEAD_INSERT_H

#include "postgres.h"

#include "store/rows.h"

/*
 * Insert rows[order[0..n-1]] into the partitions of samples_head (parent)
 * that cover their times, as COPY FROM would: heap multi-inserts per
 * partition, then each row's index entries, in the order given.  The caller
 * has covered and locked the partitions (pha_partitions_ensure) and runs this
 * in a subtransaction: a repeated (series_id, time) raises 23505 and leaves
 * the heap tuples before it dead.  Returns the number of rows stored, or -1
 * having done nothing when this path does not apply -- turned off
 * (promscale_ha.direct_insert), a partition not in the backend's known ranges,
 * more than a few partitions, triggers, row-level security, constraints or
 * columns it does not know, no INSERT privilege -- and the caller then uses
 * COPY, which handles (or reports) all of those.
 */
extern int64 pha_head_insert(Oid parent, const PhaRows *rows, const int *order);

#endif							/* PHA_HEAD_INSERT_H */
