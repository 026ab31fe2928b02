/*-------------------------------------------------------------------------
 *
 * chunk.c
 *	  Dispatch a stored chunk to its format by its first byte.
 *
 * Layout of a stored chunk: byte 0 is a PhaChunkFormat, the rest is the
 * format's own encoding (for PHA_CHUNK_XOR_CRC after a checksum, which the
 * caller computes and checks).  This file adds and strips those bytes and
 * nothing else; validation of the payload is the format's job.  An unknown format
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

/* Bytes before the format's own encoding: the format byte, and a checksum for XOR_CRC. */
static size_t
prefix_bytes(int fmt)
{
	return CHUNK_FORMAT_BYTES + (fmt == PHA_CHUNK_XOR_CRC ? PHA_CHUNK_CRC_BYTES : 0);
}

bool
pha_chunk_xor_span(const uint8_t *buf, size_t len, size_t *off, size_t *xlen)
{
	size_t		pre;

	if (buf == NULL || len < CHUNK_FORMAT_BYTES ||
		(buf[0] != PHA_CHUNK_XOR && buf[0] != PHA_CHUNK_XOR_CRC))
		return false;
	pre = prefix_bytes(buf[0]);
	if (len < pre)
		return false;
	*off = pre;
	*xlen = len - pre;
	return true;
}

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
		case PHA_CHUNK_XOR_CRC:
			return prefix_bytes(fmt) + pha_xor_bound(n);
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
	size_t		pre;

	*len = 0;
	if (fmt != PHA_CHUNK_XOR && fmt != PHA_CHUNK_DENSE && fmt != PHA_CHUNK_XOR_CRC)
		return PHA_CODEC_BAD_FORMAT;
	if (out == NULL || (fmt == PHA_CHUNK_DENSE && mem == NULL))
		return PHA_CODEC_BAD_FORMAT;	/* dense needs scratch memory */
	pre = prefix_bytes(fmt);
	if (cap < pre)
		return PHA_CODEC_TOO_LARGE;

	out[0] = (uint8_t) fmt;
	for (size_t i = CHUNK_FORMAT_BYTES; i < pre; i++)
		out[i] = 0;				/* the caller's checksum */
	if (fmt == PHA_CHUNK_DENSE)
		st = pha_dense_encode(t, v, n, mem, out + pre, cap - pre, &body);
	else
		st = pha_xor_encode(t, v, n, out + pre, cap - pre, &body);
	if (st == PHA_CODEC_OK)
		*len = pre + body;
	return st;
}

/* Samples a stored chunk holds, from its headers (for sizing decode arrays). */
PhaCodecStatus
pha_chunk_count(const uint8_t *buf, size_t len, size_t *n)
{
	size_t		off,
				xlen;

	*n = 0;
	if (buf == NULL || len < CHUNK_FORMAT_BYTES)
		return PHA_CODEC_CORRUPT;
	switch (buf[0])
	{
		case PHA_CHUNK_XOR:
		case PHA_CHUNK_XOR_CRC:
			if (!pha_chunk_xor_span(buf, len, &off, &xlen))
				return PHA_CODEC_CORRUPT;
			return pha_xor_count(buf + off, xlen, n);
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
	size_t		off,
				xlen;

	*n = 0;
	if (buf == NULL || len < CHUNK_FORMAT_BYTES)
		return PHA_CODEC_CORRUPT;
	switch (buf[0])
	{
		case PHA_CHUNK_XOR:
		case PHA_CHUNK_XOR_CRC:
			if (!pha_chunk_xor_span(buf, len, &off, &xlen))
				return PHA_CODEC_CORRUPT;
			return pha_xor_decode(buf + off, xlen, t, v, max, n);
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
