/*-------------------------------------------------------------------------
 *
 * store.h
 *	  Batched insert of one request's samples into promscale_ha.samples_head.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_STORE_H
#define PHA_STORE_H

#include "postgres.h"

#include "store/rows.h"
#include "schema.h"


/*
 * Insert every row; returns the number stored (the rest repeated a stored
 * one, in the head or in a chunk).  rows may be compacted: count before.
 */
extern int64 pha_store_rows(PhaRows *rows);

/*
 * Newest stored sample time (ms) of each series ids[i] with want[i], looking
 * at times >= from_ms only; PG_INT64_MIN where there is none.  *before gets
 * the stored time just before each (PG_INT64_MIN where there is none), also
 * from from_ms on: with the newest, the old leader's scrape interval.
 */
extern int64 *pha_store_newest(const int64 *ids, const bool *want, int n, int64 from_ms,
							   int64 **before);

#endif							/* PHA_STORE_H */
