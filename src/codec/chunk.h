/*-------------------------------------------------------------------------
 *
 * chunk.h
 *	  The format-independent front of the chunk codecs.
 *
 * A stored chunk is one format byte (PhaChunkFormat) followed by that
 * format's bytes.  For PHA_CHUNK_XOR those are exactly a Prometheus XOR
 * chunk; PHA_CHUNK_XOR_CRC puts a 4-byte checksum before it.  Either way
 * remote read can send the XOR chunk unchanged (pha_chunk_xor_span).
 * Callers outside this folder use only this header; xor.h and dense.h are
 * the formats behind it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CHUNK_H
#define PHA_CHUNK_H

#include <stdbool.h>

#include "codec/codec.h"

/* The format byte at the start of every stored chunk; never renumber. */
typedef enum PhaChunkFormat
{
	PHA_CHUNK_XOR = 1,			/* Prometheus 2.x XOR chunk (written until 0.3.0) */
	PHA_CHUNK_DENSE = 2,		/* promscale_ha's denser format */
	PHA_CHUNK_XOR_CRC = 3		/* CRC32C of the XOR chunk (big-endian), then it */
} PhaChunkFormat;

/*
 * The checksum of a PHA_CHUNK_XOR_CRC chunk is the caller's to compute and
 * check (the server has a CRC32C instruction; a checksum here would cost a
 * table-driven loop on every decode): encoding writes zeros in its place,
 * decoding and counting skip it.
 */
#define PHA_CHUNK_CRC_BYTES 4

/*
 * Where the Prometheus XOR chunk of a stored chunk lies: true with *off and
 * *xlen set for PHA_CHUNK_XOR and PHA_CHUNK_XOR_CRC (long enough to hold
 * their prefix), false for any other chunk.  Nothing is validated.
 */
extern bool pha_chunk_xor_span(const uint8_t *buf, size_t len, size_t *off,
							   size_t *xlen);

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
