/*-------------------------------------------------------------------------
 *
 * chunk.c
 *	  Dispatch a stored chunk to its format by its first byte.
 *
 * Layout of a stored chunk: byte 0 is a PhaChunkFormat, the rest is the
 * format's own encoding.  This file adds and strips that byte and nothing
 * else; validation of the payload is the format's job.  An unknown format
 * byte is PHA_CODEC_BAD_FORMAT (not CORRUPT) so that a chunk written by a
 * newer release can be told apart from damaged bytes.
 *
 * Plain C over libc: no PostgreSQL headers; memory only through the
 * caller's PhaCodecMem, which the XOR format never uses (NULL is fine
 * there) and the dense format requires (NULL is PHA_CODEC_BAD_FORMAT).
 *
 *-------------------------------------------------------------------------
 */
#include "codec/chunk.h"
#include "codec/dense.h"
#include "codec/xor.h"

#define CHUNK_FORMAT_BYTES 1

/*
 * Largest stored chunk of n samples in format fmt, format byte included;
 * 0 for an unknown format.
 */
size_t
pha_chunk_bound(PhaChunkFormat fmt, size_t n)
{
	switch (fmt)
	{
		case PHA_CHUNK_XOR:
			return CHUNK_FORMAT_BYTES + pha_xor_bound(n);
		case PHA_CHUNK_DENSE:
			return CHUNK_FORMAT_BYTES + pha_dense_bound(n);
	}
	return 0;
}

/*
 * Encode n samples as a stored chunk of format fmt into out (cap bytes).
 * *len is the stored size including the format byte, 0 on failure.
 */
PhaCodecStatus
pha_chunk_encode(PhaChunkFormat fmt, const int64_t *t, const double *v,
				 size_t n, const PhaCodecMem *mem, uint8_t *out, size_t cap,
				 size_t *len)
{
	PhaCodecStatus st;
	size_t		body = 0;

	*len = 0;
	if (fmt != PHA_CHUNK_XOR && fmt != PHA_CHUNK_DENSE)
		return PHA_CODEC_BAD_FORMAT;
	if (out == NULL || (fmt == PHA_CHUNK_DENSE && mem == NULL))
		return PHA_CODEC_BAD_FORMAT;	/* dense needs scratch memory */
	if (cap < CHUNK_FORMAT_BYTES)
		return PHA_CODEC_TOO_LARGE;

	out[0] = (uint8_t) fmt;
	if (fmt == PHA_CHUNK_XOR)
		st = pha_xor_encode(t, v, n, out + CHUNK_FORMAT_BYTES,
							cap - CHUNK_FORMAT_BYTES, &body);
	else
		st = pha_dense_encode(t, v, n, mem, out + CHUNK_FORMAT_BYTES,
							  cap - CHUNK_FORMAT_BYTES, &body);
	if (st == PHA_CODEC_OK)
		*len = CHUNK_FORMAT_BYTES + body;
	return st;
}

/* Samples a stored chunk holds, from its headers (for sizing decode arrays). */
PhaCodecStatus
pha_chunk_count(const uint8_t *buf, size_t len, size_t *n)
{
	*n = 0;
	if (buf == NULL || len < CHUNK_FORMAT_BYTES)
		return PHA_CODEC_CORRUPT;
	switch (buf[0])
	{
		case PHA_CHUNK_XOR:
			return pha_xor_count(buf + CHUNK_FORMAT_BYTES,
								 len - CHUNK_FORMAT_BYTES, n);
		case PHA_CHUNK_DENSE:
			return pha_dense_count(buf + CHUNK_FORMAT_BYTES,
								   len - CHUNK_FORMAT_BYTES, n);
	}
	return PHA_CODEC_BAD_FORMAT;
}

/*
 * Decode a stored chunk of any known format into t[] and v[] (room for max
 * samples each).  The bytes are untrusted: damage yields CORRUPT.
 */
PhaCodecStatus
pha_chunk_decode(const uint8_t *buf, size_t len, const PhaCodecMem *mem,
				 int64_t *t, double *v, size_t max, size_t *n)
{
	*n = 0;
	if (buf == NULL || len < CHUNK_FORMAT_BYTES)
		return PHA_CODEC_CORRUPT;
	switch (buf[0])
	{
		case PHA_CHUNK_XOR:
			return pha_xor_decode(buf + CHUNK_FORMAT_BYTES,
								  len - CHUNK_FORMAT_BYTES, t, v, max, n);
		case PHA_CHUNK_DENSE:
			if (mem == NULL)
				return PHA_CODEC_BAD_FORMAT;
			return pha_dense_decode(buf + CHUNK_FORMAT_BYTES,
									len - CHUNK_FORMAT_BYTES, mem,
									t, v, max, n);
	}
	return PHA_CODEC_BAD_FORMAT;
}

/* A short lowercase description of a status, for error messages. */
const char *
pha_codec_status_text(PhaCodecStatus st)
{
	switch (st)
	{
		case PHA_CODEC_OK:
			return "ok";
		case PHA_CODEC_CORRUPT:
			return "corrupt chunk";
		case PHA_CODEC_TOO_LARGE:
			return "chunk or sample count exceeds the available space";
		case PHA_CODEC_UNSORTED:
			return "timestamps are not strictly increasing";
		case PHA_CODEC_NOMEM:
			return "out of memory";
		case PHA_CODEC_BAD_FORMAT:
			return "unknown chunk format or invalid argument";
	}
	return "unknown codec status";
}
