/*-------------------------------------------------------------------------
 *
 * fuzz_codec.c
 *	  libFuzzer harness for the chunk codecs (src/codec, every format).
 *
 * Each input is used twice:
 *   1. as a stored chunk (format byte + payload, any format byte): decoding
 *      must not crash; when it succeeds the header count agrees, the XOR
 *      iterator agrees with the array decoder, and re-encoding the samples in
 *      the same format then decoding again gives them back bit for bit.
 *   2. as a list of 16-byte (time, value) records: the times are made
 *      strictly increasing (a first time from the bytes, then a prefix sum of
 *      positive deltas drawn from the bytes, sized to reach every delta-of-
 *      delta bucket) and the samples go through every format and back, bit
 *      for bit.
 * A broken promise prints "invariant violated: ..." and calls abort().
 * The second input byte's top bit makes the scratch allocator fail after
 * 0-3 calls (its low bits): then a codec may say NOMEM, but must not crash.
 *
 * Build (from the checkout):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *     test/fuzz/fuzz_codec.c src/codec/xor.c src/codec/dense.c \
 *     src/codec/chunk.c -o fuzz_codec
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/chunk.h"
#include "codec/xor.h"

#define MAX_SAMPLES 65536		/* more than any format holds */

static const PhaChunkFormat formats[] = {PHA_CHUNK_XOR, PHA_CHUNK_DENSE, PHA_CHUNK_XOR_CRC};

/* Decoded and source samples; static so the stack stays small. */
static int64_t t1[MAX_SAMPLES];
static double v1[MAX_SAMPLES];
static int64_t t2[MAX_SAMPLES];
static double v2[MAX_SAMPLES];

/* Allocation budget: < 0 means unlimited, else allocations still allowed. */
static int	alloc_budget;

/* Scratch allocator handed to the codecs; fails when the budget is spent. */
static void *
fuzz_alloc(void *ctx, size_t size)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(size ? size : 1);
}

static void
fuzz_release(void *ctx, void *p)
{
	free(p);
}

static const PhaCodecMem fuzz_mem = {fuzz_alloc, fuzz_release, NULL};

/* Report a broken promise and stop. */
static void
violated(const char *what, PhaChunkFormat fmt, PhaCodecStatus st)
{
	fprintf(stderr, "invariant violated: %s (format %d, status %d: %s)\n",
			what, (int) fmt, (int) st, pha_codec_status_text(st));
	abort();
}

/* Bit-exact comparison: times equal and value bits equal (NaNs included). */
static int
same_samples(const int64_t *ta, const double *va, const int64_t *tb,
			 const double *vb, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	a;
		uint64_t	b;

		memcpy(&a, &va[i], sizeof(a));
		memcpy(&b, &vb[i], sizeof(b));
		if (ta[i] != tb[i] || a != b)
			return 0;
	}
	return 1;
}

/*
 * Encode t/v in fmt into an exactly bounded heap buffer, decode it into
 * t2/v2 and require the same samples.  NOMEM is accepted when the
 * allocator was told to fail.
 */
static void
round_trip(PhaChunkFormat fmt, const int64_t *t, const double *v, size_t n)
{
	size_t		cap = pha_chunk_bound(fmt, n);
	uint8_t    *buf = malloc(cap ? cap : 1);
	size_t		len = 0;
	size_t		got = 0;
	PhaCodecStatus st;

	st = pha_chunk_encode(fmt, t, v, n, &fuzz_mem, buf, cap, &len);
	if (st == PHA_CODEC_NOMEM && alloc_budget >= 0)
	{
		free(buf);
		return;
	}
	if (st != PHA_CODEC_OK)
		violated("encoding increasing samples failed", fmt, st);
	if (len > cap || len < 1 || buf[0] != (uint8_t) fmt)
		violated("encoded length above the bound or bad format byte", fmt, st);
	st = pha_chunk_count(buf, len, &got);
	if (st != PHA_CODEC_OK || got != n)
		violated("count of an encoded chunk differs", fmt, st);
	st = pha_chunk_decode(buf, len, &fuzz_mem, t2, v2, n, &got);
	if (st == PHA_CODEC_NOMEM && alloc_budget >= 0)
	{
		free(buf);
		return;
	}
	if (st != PHA_CODEC_OK || got != n)
		violated("decoding an encoded chunk failed", fmt, st);
	if (!same_samples(t, v, t2, v2, n))
		violated("round trip changed a sample", fmt, st);
	free(buf);
}

/* Part 1: the input as a stored chunk. */
static void
fuzz_stored(const uint8_t *data, size_t size)
{
	size_t		n = 0;
	size_t		counted = 0;
	PhaCodecStatus st;
	PhaCodecStatus cst;

	cst = pha_chunk_count(data, size, &counted);
	st = pha_chunk_decode(data, size, &fuzz_mem, t1, v1, MAX_SAMPLES, &n);
	if (st == PHA_CODEC_TOO_LARGE)
		violated("decode into 65536 slots said too large", size ? data[0] : 0, st);
	if (st != PHA_CODEC_OK)
		return;
	if (cst != PHA_CODEC_OK || counted != n)
		violated("count disagrees with a successful decode", data[0], cst);
	for (size_t i = 1; i < n; i++)
		if (t1[i] <= t1[i - 1])
			violated("decoded times not strictly increasing", data[0], st);

	/* The streaming reader must see the same samples and a clean end. */
	if (data[0] == PHA_CHUNK_XOR || data[0] == PHA_CHUNK_XOR_CRC)
	{
		PhaXorIter	it;
		size_t		i = 0;
		int			rc = -1;
		size_t		off = 0,
					xlen = 0;

		if (!pha_chunk_xor_span(data, size, &off, &xlen))
			violated("no xor span in a decodable xor chunk", data[0], st);
		if (pha_xor_iter_init(&it, data + off, xlen) != PHA_CODEC_OK)
			violated("iterator refused a decodable chunk", data[0], st);
		while (i <= n && (rc = pha_xor_iter_next(&it, &t2[i], &v2[i])) == 1)
			i++;
		if (i != n || rc != 0 || !same_samples(t1, v1, t2, v2, n))
			violated("iterator disagrees with decode", data[0], st);
	}
	round_trip((PhaChunkFormat) data[0], t1, v1, n);
}

/* Read 8 bytes little-endian (any alignment). */
static uint64_t
load64(const uint8_t *p)
{
	uint64_t	x = 0;

	for (int i = 7; i >= 0; i--)
		x = (x << 8) | p[i];
	return x;
}

/*
 * A positive delta from 8 input bytes: the top 3 bits pick a magnitude so
 * that every dod bucket (0, 14, 17, 20 and 64 bits) is reached often.
 */
static uint64_t
delta_of(uint64_t x)
{
	static const unsigned widths[8] = {0, 4, 13, 14, 17, 20, 32, 62};
	unsigned	w = widths[x >> 61];

	if (w == 0)
		return 15000;			/* the common regular scrape */
	return 1 + (x & ((UINT64_C(1) << w) - 1));
}

/* Part 2: the input as (time, value) records, through every format. */
static void
fuzz_samples(const uint8_t *data, size_t size)
{
	size_t		n = size / 16;
	int64_t		t;

	if (n == 0)
		return;
	if (n > PHA_XOR_MAX_SAMPLES)
		n = PHA_XOR_MAX_SAMPLES;

	memcpy(&t, data, sizeof(t));
	t1[0] = t;
	memcpy(&v1[0], data + 8, sizeof(double));
	for (size_t i = 1; i < n; i++)
	{
		uint64_t	d = delta_of(load64(data + 16 * i));

		/* Stop before leaving int64: INT64_MAX - t is exact in uint64. */
		if (d > (uint64_t) INT64_MAX - (uint64_t) t1[i - 1])
		{
			n = i;
			break;
		}
		t1[i] = (int64_t) ((uint64_t) t1[i - 1] + d);
		memcpy(&v1[i], data + 16 * i + 8, sizeof(double));
	}
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++)
		round_trip(formats[f], t1, v1, n);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer entry point: both uses of the input, allocator per byte 1. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	alloc_budget = (size > 1 && (data[1] & 0x80)) ? (data[1] & 3) : -1;
	fuzz_stored(data, size);
	fuzz_samples(data, size);
	return 0;
}
