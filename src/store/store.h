/*-------------------------------------------------------------------------
 *
 * store.h
 *	  Batched insert of one request's samples into promscale_ha.samples.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_STORE_H
#define PHA_STORE_H

#include "postgres.h"

/* Rows of one batch, in three parallel arrays of n entries. */
typedef struct PhaRows
{
	int64	   *series_id;
	int64	   *time_ms;
	double	   *value;
	int			n;
	int			max;
} PhaRows;

extern void pha_rows_init(PhaRows *rows, int capacity);
extern void pha_rows_add(PhaRows *rows, int64 series_id, int64 time_ms, double value);

/* Insert every row; returns the number stored (the rest repeated a stored one). */
extern int64 pha_store_rows(PhaRows *rows);

/*
 * Newest stored sample time (ms) of each series ids[i] with want[i], looking
 * at times >= from_ms only; PG_INT64_MIN where there is none.
 */
extern int64 *pha_store_newest(const int64 *ids, const bool *want, int n, int64 from_ms);

/* OID of promscale_ha.samples; errors if the extension's tables are missing. */
extern Oid	pha_samples_relid(void);

#endif							/* PHA_STORE_H */
