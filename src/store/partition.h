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
/*
 * Make sure a partition of samples_head covers every time, creating the
 * missing ones, and lock those partitions RowExclusiveLock (see partition.c
 * for why before anything else).
 */
extern void pha_partitions_ensure(Oid samples_relid, const int64 *times_ms, int n);

/* One partition of samples_head: its OID and its range [lo, hi) in ms. */
typedef struct PhaPartitionInfo
{
	Oid			oid;
	int64		lo;
	int64		hi;
} PhaPartitionInfo;

/*
 * The partition covering t among the ranges this backend knows (learnt by
 * pha_partitions_ensure since the parent last changed); false if unknown.
 */
extern bool pha_partition_known(int64 t, PhaPartitionInfo *out);

/* Every partition of samples_head in time order (palloc'd); returns how many. */
extern int	pha_partitions_list(Oid samples_relid, PhaPartitionInfo **out);

/* Partition name for a range starting at lo_ms, e.g. samples_20260101. */
extern char *pha_partition_name(int64 lo_ms, int64 hi_ms);

#endif							/* PHA_PARTITION_H */
