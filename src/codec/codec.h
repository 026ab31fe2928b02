/*-------------------------------------------------------------------------
 *
 * codec.h
 *	  Types shared by every chunk codec: the status code and the memory hooks.
 *
 * The chunk codecs (xor.c, dense.c) and their front end (chunk.c) are plain
 * C with no PostgreSQL headers, so they can be unit-tested and fuzzed as
 * ordinary programs.  This header is the bottom of their include graph:
 * xor.h, dense.h and chunk.h include it, and it includes only libc.
 *
 * Memory: no codec calls malloc.  A codec that needs scratch space gets it
 * from a caller-supplied PhaCodecMem; inside PostgreSQL that is palloc in
 * the request's memory context, in tests and fuzzers plain malloc.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CODEC_H
#define PHA_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Outcome of every codec call; PHA_CODEC_OK is zero so "if (st)" tests failure. */
typedef enum PhaCodecStatus
{
	PHA_CODEC_OK = 0,
	PHA_CODEC_CORRUPT,			/* input bytes are not a valid chunk */
	PHA_CODEC_TOO_LARGE,		/* output buffer or sample array too small,
								 * or too many samples for the format */
	PHA_CODEC_UNSORTED,			/* timestamps not strictly increasing */
	PHA_CODEC_NOMEM,			/* the caller's allocator returned NULL */
	PHA_CODEC_BAD_FORMAT		/* unknown format byte or bad argument */
} PhaCodecStatus;

/*
 * Caller-supplied allocator.  alloc returns NULL on failure (the codec then
 * returns PHA_CODEC_NOMEM); release may be a no-op for arena allocators such
 * as a PostgreSQL memory context.
 */
typedef struct PhaCodecMem
{
	void	   *(*alloc) (void *ctx, size_t size);
	void		(*release) (void *ctx, void *p);
	void	   *ctx;
} PhaCodecMem;

/*
 * The IEEE 754 bits of a double and back, without any floating-point
 * operation, so NaN payloads (the stale marker) survive.
 */
static inline uint64_t
pha_double_bits(double d)
{
	uint64_t	u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static inline double
pha_bits_double(uint64_t u)
{
	double		d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

#endif							/* PHA_CODEC_H */
