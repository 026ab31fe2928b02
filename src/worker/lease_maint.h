/*-------------------------------------------------------------------------
 *
 * lease_maint.h
 *	  The background worker's duties on leases.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_LEASE_MAINT_H
#define PHA_LEASE_MAINT_H

#include "postgres.h"

#include "datatype/timestamp.h"

/*
 * Each function runs its own transactions; the caller must not be in one.
 * They return the number of clusters they changed.
 */
extern int	pha_maint_load_leases(void);
extern int	pha_maint_flush_heartbeats(TimestampTz now);
extern int	pha_maint_failover_silent(TimestampTz now);
extern int	pha_maint_remove_idle(TimestampTz now);

/* Microseconds until the next leader of this database reaches its failover timeout. */
extern int64 pha_maint_next_failover_us(TimestampTz now);

#endif							/* PHA_LEASE_MAINT_H */
