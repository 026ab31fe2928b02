/*-------------------------------------------------------------------------
 *
 * dense.h
 *	  PHA_CHUNK_DENSE: promscale_ha's compact chunk format (encode, count, decode).
 *
 * Values that are decimals in disguise (counters in bytes, CPU seconds with
 * two decimals, temperatures with one) are stored as integers with a common
 * decimal exponent, delta or delta-of-delta coded and compressed with zstd;
 * anything else falls back to exceptions or to XOR byte planes.  Every
 * float64 bit pattern and every strictly increasing int64 time sequence comes
 * back bit for bit.  The byte layout is documented at the top of dense.c.
 *
 * Scratch memory and the zstd contexts come from the caller's PhaCodecMem
 * (which must not be NULL) and are released before a call returns.
 * Decoding treats its input as untrusted: every inconsistency is
 * PHA_CODEC_CORRUPT, a chunk holding more than max samples is
 * PHA_CODEC_TOO_LARGE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_DENSE_H
#define PHA_DENSE_H

#include "codec/codec.h"

/* Most samples one dense chunk holds (as for XOR chunks). */
#define PHA_DENSE_MAX_SAMPLES 65535

extern size_t pha_dense_bound(size_t n);
extern PhaCodecStatus pha_dense_encode(const int64_t *t, const double *v,
									   size_t n, const PhaCodecMem *mem,
									   uint8_t *out, size_t cap, size_t *len);
extern PhaCodecStatus pha_dense_count(const uint8_t *buf, size_t len,
									  size_t *n);
extern PhaCodecStatus pha_dense_decode(const uint8_t *buf, size_t len,
									   const PhaCodecMem *mem, int64_t *t,
									   double *v, size_t max, size_t *n);

#endif							/* PHA_DENSE_H */
