/*-------------------------------------------------------------------------
 *
 * chunk.h
 *	  The format-independent front of the chunk codecs.
 *
 * A stored chunk is one format byte (PhaChunkFormat) followed by that
 * format's bytes.  For PHA_CHUNK_XOR those are exactly a Prometheus XOR
 * chunk, so remote read can send buf + 1 unchanged.  Callers outside this
 * folder use only this header; xor.h and dense.h are the formats behind it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CHUNK_H
#define PHA_CHUNK_H

#include "codec/codec.h"

/* The format byte at the start of every stored chunk; never renumber. */
typedef enum PhaChunkFormat
{
	PHA_CHUNK_XOR = 1,			/* Prometheus 2.x XOR chunk */
	PHA_CHUNK_DENSE = 2			/* promscale_ha's denser format */
} PhaChunkFormat;

extern size_t pha_chunk_bound(PhaChunkFormat fmt, size_t n);
extern PhaCodecStatus pha_chunk_encode(PhaChunkFormat fmt, const int64_t *t,
									   const double *v, size_t n,
									   const PhaCodecMem *mem, uint8_t *out,
									   size_t cap, size_t *len);
extern PhaCodecStatus pha_chunk_count(const uint8_t *buf, size_t len,
									  size_t *n);
extern PhaCodecStatus pha_chunk_decode(const uint8_t *buf, size_t len,
									   const PhaCodecMem *mem, int64_t *t,
									   double *v, size_t max, size_t *n);
extern const char *pha_codec_status_text(PhaCodecStatus st);

#endif							/* PHA_CHUNK_H */
