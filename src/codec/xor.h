/*-------------------------------------------------------------------------
 *
 * xor.h
 *	  Prometheus 2.x XOR chunks: encode, count, decode and a streaming iterator.
 *
 * The bytes are exactly those of Prometheus' chunkenc.XORChunk (the payload
 * without the chunk-format byte), so a chunk we write can be sent as-is in a
 * remote-read response and a chunk Prometheus wrote decodes here.  The bit
 * layout is described in src/codec/README.md.
 *
 * Decoding treats its input as untrusted: a chunk that is truncated, has
 * trailing bytes or non-zero padding, decodes to timestamps that are not
 * strictly increasing, or whose timestamps leave the int64 range is
 * PHA_CODEC_CORRUPT.  No call allocates memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_XOR_H
#define PHA_XOR_H

#include "codec/bits.h"
#include "codec/codec.h"

/* Most samples one XOR chunk holds: its count is a 16-bit header. */
#define PHA_XOR_MAX_SAMPLES 65535

/* State of a chunk being read one sample at a time; fields are private. */
typedef struct PhaXorIter
{
	PhaBitReader br;
	uint32_t	total;			/* samples the header announces */
	uint32_t	done;			/* samples returned so far */
	int64_t		t;				/* last timestamp returned */
	uint64_t	delta;			/* last timestamp delta, always >= 1 */
	uint64_t	vbits;			/* last value as IEEE 754 bits */
	uint8_t		leading;		/* leading zeros of the current XOR window */
	uint8_t		trailing;		/* trailing zeros of the current XOR window */
	bool		corrupt;		/* sticky: once corrupt, always corrupt */
} PhaXorIter;

extern size_t pha_xor_bound(size_t n);
extern PhaCodecStatus pha_xor_encode(const int64_t *t, const double *v,
									 size_t n, uint8_t *out, size_t cap,
									 size_t *len);
extern PhaCodecStatus pha_xor_count(const uint8_t *buf, size_t len, size_t *n);
extern PhaCodecStatus pha_xor_decode(const uint8_t *buf, size_t len,
									 int64_t *t, double *v, size_t max,
									 size_t *n);
extern PhaCodecStatus pha_xor_iter_init(PhaXorIter *it, const uint8_t *buf,
										size_t len);
extern int	pha_xor_iter_next(PhaXorIter *it, int64_t *t, double *v);

#endif							/* PHA_XOR_H */
