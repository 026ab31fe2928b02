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
/* ALTER TABLE replay_buffer SET [UN]LOGGED as configured; true if it did. */
extern bool pha_hk_replay_buffer_persistence(TimestampTz now);
extern int64 pha_hk_trim_lease_logs(TimestampTz now);
extern int	pha_hk_partitions_ahead(TimestampTz now);
extern int	pha_hk_drop_old_partitions(TimestampTz now);

#endif							/* PHA_HOUSEKEEPING_H */
