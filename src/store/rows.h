/*-------------------------------------------------------------------------
 *
 * rows.h
 *	  A batch of sample rows: three parallel arrays, grown as needed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_ROWS_H
#define PHA_ROWS_H

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

/* Empty rows with room for capacity (at least 16), in the current context. */
extern void pha_rows_init(PhaRows *rows, int capacity);

/* Append one row, doubling the arrays when full. */
extern void pha_rows_add(PhaRows *rows, int64 series_id, int64 time_ms, double value);

#endif							/* PHA_ROWS_H */
