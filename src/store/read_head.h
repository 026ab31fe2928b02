/*-------------------------------------------------------------------------
 *
 * read_head.h
 *	  Remote read's head rows: the samples of a batch of series in a time
 *	  window from promscale_ha.samples_head, in one query, as arrays.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_READ_HEAD_H
#define PHA_READ_HEAD_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* Rows as they arrive, kept and grown across batches (in the context given first). */
typedef struct PhaHeadBuf
{
	MemoryContext cxt;
	int32	   *pos;
	int64	   *t;
	double	   *v;
	int64		cap;
} PhaHeadBuf;

/*
 * The head samples of a batch: those of series i (its position in the ids
 * given) are t/v[off[i], off[i] + n[i]), times in ms, strictly increasing.
 */
typedef struct PhaHeadRows
{
	int64	   *t;
	double	   *v;
	int64	   *off;
	int64	   *n;
} PhaHeadRows;

/*
 * Read the head samples of series ids[0..nids) with start <= time <= end
 * into *out, allocated in cxt.  tcount > 0 bounds the rows the query may
 * return: when it returns that many, nothing is kept and the result is
 * false.  Connected to SPI; runs read-only on the statement's snapshot; the
 * rows come from the executor into buf (no SPI tuple table).
 */
extern bool pha_head_load(PhaHeadBuf *buf, const int64 *ids, int nids, TimestampTz start,
						  TimestampTz end, int64 tcount, MemoryContext cxt, PhaHeadRows *out);

#endif							/* PHA_READ_HEAD_H */
