/*-------------------------------------------------------------------------
 *
 * rows.c
 *	  A batch of sample rows: three parallel arrays, grown by doubling, so
 *	  that adding a row costs three stores and no allocation per sample.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "store/rows.h"

void
pha_rows_init(PhaRows *rows, int capacity)
{
	capacity = Max(capacity, 16);
	rows->series_id = palloc(capacity * sizeof(int64));
	rows->time_ms = palloc(capacity * sizeof(int64));
	rows->value = palloc(capacity * sizeof(double));
	rows->n = 0;
	rows->max = capacity;
}

void
pha_rows_add(PhaRows *rows, int64 series_id, int64 time_ms, double value)
{
	if (rows->n == rows->max)
	{
		rows->max *= 2;
		rows->series_id = repalloc_huge(rows->series_id, rows->max * sizeof(int64));
		rows->time_ms = repalloc_huge(rows->time_ms, rows->max * sizeof(int64));
		rows->value = repalloc_huge(rows->value, rows->max * sizeof(double));
	}
	rows->series_id[rows->n] = series_id;
	rows->time_ms[rows->n] = time_ms;
	rows->value[rows->n] = value;
	rows->n++;
}
