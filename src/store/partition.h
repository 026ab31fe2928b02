/*-------------------------------------------------------------------------
 *
 * partition.h
 *	  Time partitions of promscale_ha.samples.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_PARTITION_H
#define PHA_PARTITION_H

#include "postgres.h"

extern void pha_partition_init(void);

/* Make sure a partition covers every timestamp (ms since the Unix epoch). */
extern void pha_partitions_ensure(Oid samples_relid, const int64 *times_ms, int n);

/* Partition name for a range starting at lo_ms, e.g. samples_20260101. */
extern char *pha_partition_name(int64 lo_ms, int64 hi_ms);

#endif							/* PHA_PARTITION_H */
