/*-------------------------------------------------------------------------
 *
 * chunk_io.h
 *	  Stored chunks <-> sample arrays, inside the server: the codec (codec/)
 *	  with palloc memory, PostgreSQL errors, and the chunk rules of storage.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CHUNK_IO_H
#define PHA_CHUNK_IO_H

#include "postgres.h"

#include "codec/codec.h"

/*
 * Most samples in one chunk.  Chunks are also cut at UTC day boundaries
 * (PHA_CHUNK_SPAN_MS), so a chunk's span is always under one day: readers
 * bound their index scans with it.
 */
#define PHA_CHUNK_MAX_SAMPLES	8192
#define PHA_CHUNK_SPAN_MS		INT64CONST(86400000)

/* The samples of one decoded chunk, in the current memory context. */
typedef struct PhaChunkSamples
{
	int64	   *t;				/* ms, strictly increasing */
	double	   *v;
	int			n;
} PhaChunkSamples;

/* Codec memory hooks backed by palloc in the current memory context. */
extern PhaCodecMem pha_codec_palloc(void);

/*
 * Decode a stored chunk (format byte + encoding).  Bytes read back from disk
 * are untrusted: any damage -- a checksum that does not match the bytes and
 * the row (format PHA_CHUNK_XOR_CRC), a count other than expected (when
 * expected >= 0), or a time outside [min_ms, max_ms] -- raises ERROR with
 * ERRCODE_DATA_CORRUPTED naming the series and the chunk's end time.
 */
extern void pha_chunk_read(const bytea *data, int64 series_id, int64 min_ms, int64 max_ms,
						   int expected, PhaChunkSamples *out);

/*
 * Check a stored chunk in an XOR format before its Prometheus XOR chunk
 * (pha_chunk_xor_span) is sent as it is: a PHA_CHUNK_XOR_CRC
 * chunk by its checksum (of the bytes and of the row's min_ms, max_ms and
 * expected count), its header's count and its first time; a PHA_CHUNK_XOR
 * chunk (0.3.0 and before, no checksum)
 * by decoding it as pha_chunk_read does.  ERROR ERRCODE_DATA_CORRUPTED when
 * it fails; an internal error for a chunk in another format.
 */
extern void pha_chunk_check_stored(const bytea *data, int64 series_id, int64 min_ms,
								   int64 max_ms, int expected);

/*
 * Encode n (1..PHA_CHUNK_MAX_SAMPLES) samples with strictly increasing
 * times in format (PHA_CHUNK_FORMAT_*, guc.h) into a palloc'd bytea;
 * PHA_CHUNK_FORMAT_XOR is stored as PHA_CHUNK_XOR_CRC, its checksum set.
 */
extern bytea *pha_chunk_write(int format, const int64 *t, const double *v, int n);

/*
 * How many of the n samples (sorted by time) from index 0 go in the first
 * chunk of format (PHA_CHUNK_FORMAT_*, or a stored chunk's format byte): up
 * to PHA_CHUNK_MAX_SAMPLES, promscale_ha.xor_chunk_samples for xor, none
 * past the UTC day of t[0].
 */
extern int	pha_chunk_cut(const int64 *t, int n, int format);

/* Sort n samples by time (stable for none: times are distinct). */
extern void pha_sort_samples(int64 *t, double *v, int n);

#endif							/* PHA_CHUNK_IO_H */
