/*-------------------------------------------------------------------------
 *
 * read_merge.h
 *	  Remote read's merge of one series' two tiers: which stored chunks are
 *	  sent as they are, and the other samples decoded, cut and merged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_READ_MERGE_H
#define PHA_READ_MERGE_H

#include "postgres.h"

#include "store/chunk_index.h"

/* One series' samples in a window, as remote read sends them. */
typedef struct PhaSeriesData
{
	/* loose samples: decoded chunk parts and head rows, ms strictly increasing */
	int64	   *t;
	double	   *v;
	int			n;
	/* chunks sent as stored, in time order; no loose sample lies in their spans */
	PhaStoredChunk *pass;
	int			n_pass;
	/* samples in the window: n + the passed chunks' counts */
	int64		total;
} PhaSeriesData;

/*
 * Merge series id's chunks (max_time order, as pha_chunk_reader_series gives
 * them) with its head samples ht/hv[0..hn) (ms, strictly increasing) over
 * [lo, hi] ms, into *out (allocated in the current memory context).
 *
 * With pass, a chunk goes to out->pass unchanged when it is in an XOR format,
 * lies inside [lo, hi], overlaps no other chunk, and no head sample lies in
 * its span, once pha_chunk_check_stored has checked it.  Every other chunk is decoded (a chunk that does not
 * decode as its row says is ERRCODE_DATA_CORRUPTED), cut to the window and
 * merged with the head samples; a time held twice keeps one value, the one
 * promscale_ha.samples returns first: the head's, else the earlier chunk's.
 */
extern void pha_merge_series(int64 id, const PhaStoredChunk *chunks, int n_chunks,
							 const int64 *ht, const double *hv, int hn, int64 lo, int64 hi,
							 bool pass, PhaSeriesData *out);

#endif							/* PHA_READ_MERGE_H */
