/*-------------------------------------------------------------------------
 *
 * housekeeping.h
 *	  The background worker's care of the store.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HOUSEKEEPING_H
#define PHA_HOUSEKEEPING_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* Each runs in its own transaction; the caller must not be in one. */
extern int64 pha_hk_prune_replay_buffer(TimestampTz now);
extern int64 pha_hk_trim_lease_logs(TimestampTz now);
extern int	pha_hk_partitions_ahead(TimestampTz now);
extern int	pha_hk_drop_old_partitions(TimestampTz now);

#endif							/* PHA_HOUSEKEEPING_H */
