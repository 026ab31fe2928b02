/*-------------------------------------------------------------------------
 *
 * codec_bench.c
 *	  Size and speed of the chunk formats on a promscale-ha-gen sample dump.
 *
 *	codec-bench FILE K...
 *
 * FILE is written by `promscale-ha-gen --dump-samples FILE`: 20-byte
 * little-endian records (uint32 series index, int64 time ms, uint64 value
 * bits) in any order.  The samples are grouped by series (a counting sort,
 * then a sort by time where a series is out of order), each series is cut
 * into chunks of K samples (the last one shorter), and every chunk is
 * encoded in every format compiled in: PHA_CHUNK_XOR (when
 * src/codec/xor.h exists) and PHA_CHUNK_DENSE.  All chunks of a format are
 * decoded again and compared bit for bit with the input; a mismatch exits
 * with status 1.  Printed per format and K: bytes per sample and encode and
 * decode throughput in samples per CPU second (CLOCK_PROCESS_CPUTIME_ID,
 * decoding timed separately from the comparison).
 *
 * Build from the checkout:
 *	cc -O2 -Isrc -o codec-bench test/bench/codec_bench.c \
 *	  src/codec/chunk.c src/codec/xor.c src/codec/dense.c -lzstd -lm
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/dense.h"
#if defined(__has_include)
#if __has_include("codec/xor.h")
#include "codec/xor.h"
#define BENCH_HAVE_XOR 1
#endif
#endif

#define REC_SIZE 20

/* All samples, grouped: series s holds t[off[s] .. off[s + 1] - 1]. */
typedef struct Samples
{
	int64_t    *t;
	double	   *v;
	size_t	   *off;
	size_t		nseries;
	size_t		total;
} Samples;

/* One format under test, as functions of the same shape. */
typedef struct Format
{
	const char *name;
	size_t		(*bound) (size_t n);
	PhaCodecStatus (*encode) (const int64_t *t, const double *v, size_t n, uint8_t *out,
							  size_t cap, size_t *len);
	PhaCodecStatus (*decode) (const uint8_t *buf, size_t len, int64_t *t, double *v,
							  size_t max, size_t *n);
} Format;

/* malloc-backed scratch memory for the dense format. */
static void *
bench_alloc(void *ctx, size_t size)
{
	return malloc(size);
}

static void
bench_release(void *ctx, void *p)
{
	free(p);
}

static const PhaCodecMem bench_mem = {bench_alloc, bench_release, NULL};

/* pha_dense_encode with the bench's allocator, in the Format shape. */
static PhaCodecStatus
dense_encode(const int64_t *t, const double *v, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	return pha_dense_encode(t, v, n, &bench_mem, out, cap, len);
}

/* pha_dense_decode with the bench's allocator, in the Format shape. */
static PhaCodecStatus
dense_decode(const uint8_t *buf, size_t len, int64_t *t, double *v, size_t max, size_t *n)
{
	return pha_dense_decode(buf, len, &bench_mem, t, v, max, n);
}

static const Format formats[] = {
#ifdef BENCH_HAVE_XOR
	{"xor", pha_xor_bound, pha_xor_encode, pha_xor_decode},
#endif
	{"dense", pha_dense_bound, dense_encode, dense_decode},
};

/* Print a message and exit with status 1. */
static void
die(const char *what)
{
	fprintf(stderr, "codec-bench: %s\n", what);
	exit(1);
}

/* malloc that exits on failure. */
static void *
xmalloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* CPU seconds this process has used. */
static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Little-endian unsigned integer of n bytes at p. */
static uint64_t
get_le(const uint8_t *p, int n)
{
	uint64_t	x = 0;

	for (int i = 0; i < n; i++)
		x |= (uint64_t) p[i] << (8 * i);
	return x;
}

/* Sort one series' samples by time (insertion sort: dumps are nearly sorted). */
static void
sort_series(int64_t *t, double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
	{
		int64_t		tk = t[i];
		double		vk = v[i];
		size_t		j = i;

		for (; j > 0 && t[j - 1] > tk; j--)
		{
			t[j] = t[j - 1];
			v[j] = v[j - 1];
		}
		t[j] = tk;
		v[j] = vk;
	}
}

/* Read the dump at path and group its samples by series. */
static void
load(const char *path, Samples *s)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf;
	long		size;
	size_t		n,
				maxs = 0;
	size_t	   *fill;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		die("cannot open or size the dump file");
	if (size % REC_SIZE != 0)
		die("dump size is not a multiple of 20 bytes");
	buf = xmalloc((size_t) size);
	if (fread(buf, 1, (size_t) size, f) != (size_t) size)
		die("cannot read the dump file");
	fclose(f);
	n = (size_t) size / REC_SIZE;
	for (size_t i = 0; i < n; i++)
	{
		size_t		sid = (size_t) get_le(buf + i * REC_SIZE, 4);

		maxs = sid + 1 > maxs ? sid + 1 : maxs;
	}
	s->nseries = maxs;
	s->total = n;
	s->off = calloc(maxs + 1, sizeof(size_t));
	fill = calloc(maxs + 1, sizeof(size_t));
	s->t = xmalloc(n * sizeof(int64_t));
	s->v = xmalloc(n * sizeof(double));
	if (s->off == NULL || fill == NULL)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		s->off[get_le(buf + i * REC_SIZE, 4) + 1]++;
	for (size_t k = 0; k < maxs; k++)
		s->off[k + 1] += s->off[k];
	for (size_t i = 0; i < n; i++)
	{
		const uint8_t *r = buf + i * REC_SIZE;
		size_t		sid = (size_t) get_le(r, 4);
		size_t		at = s->off[sid] + fill[sid]++;
		uint64_t	bits = get_le(r + 12, 8);

		s->t[at] = (int64_t) get_le(r + 4, 8);
		memcpy(&s->v[at], &bits, sizeof(double));
	}
	for (size_t k = 0; k < maxs; k++)
		sort_series(s->t + s->off[k], s->v + s->off[k], s->off[k + 1] - s->off[k]);
	free(fill);
	free(buf);
}

/* Encode all series in chunks of k with fmt, decode and verify; print one line. */
static void
run(const Samples *s, const Format *fmt, size_t k)
{
	size_t		nchunks = 0,
				cap = 0,
				used = 0,
				c = 0;
	size_t	   *clen;
	uint8_t    *store;
	int64_t    *dt = xmalloc(k * sizeof(int64_t));
	double	   *dv = xmalloc(k * sizeof(double));
	double		t0,
				enc,
				dec;

	for (size_t i = 0; i < s->nseries; i++)
	{
		size_t		len = s->off[i + 1] - s->off[i];

		nchunks += (len + k - 1) / k;
		cap += (len / k) * fmt->bound(k) + (len % k ? fmt->bound(len % k) : 0);
	}
	clen = xmalloc(nchunks * sizeof(size_t));
	store = xmalloc(cap);

	t0 = cpu_now();
	for (size_t i = 0; i < s->nseries; i++)
		for (size_t at = s->off[i]; at < s->off[i + 1]; at += k)
		{
			size_t		m = s->off[i + 1] - at < k ? s->off[i + 1] - at : k;

			if (fmt->encode(s->t + at, s->v + at, m, store + used, cap - used, &clen[c]) != PHA_CODEC_OK)
				die("encode failed");
			used += clen[c++];
		}
	enc = cpu_now() - t0;

	t0 = cpu_now();
	used = 0;
	for (c = 0; c < nchunks; c++)
	{
		size_t		got;

		if (fmt->decode(store + used, clen[c], dt, dv, k, &got) != PHA_CODEC_OK)
			die("decode failed");
		used += clen[c];
	}
	dec = cpu_now() - t0;

	used = 0;
	c = 0;
	for (size_t i = 0; i < s->nseries; i++)
		for (size_t at = s->off[i]; at < s->off[i + 1]; at += k)
		{
			size_t		m = s->off[i + 1] - at < k ? s->off[i + 1] - at : k;
			size_t		got;

			if (fmt->decode(store + used, clen[c], dt, dv, k, &got) != PHA_CODEC_OK || got != m ||
				memcmp(dt, s->t + at, m * sizeof(int64_t)) != 0 ||
				memcmp(dv, s->v + at, m * sizeof(double)) != 0)
				die("round trip is not bit-exact");
			used += clen[c++];
		}
	printf("%-6s K=%-5zu %8.3f bytes/sample  encode %7.2f M samples/s  decode %7.2f M samples/s  (%zu chunks)\n",
		   fmt->name, k, (double) used / (double) s->total, (double) s->total / enc / 1e6,
		   (double) s->total / dec / 1e6, nchunks);
	fflush(stdout);
	free(clen);
	free(store);
	free(dt);
	free(dv);
}

int
main(int argc, char **argv)
{
	Samples		s;

	if (argc < 3)
	{
		fprintf(stderr, "usage: codec-bench DUMPFILE K...\n");
		return 2;
	}
	load(argv[1], &s);
	printf("%zu samples in %zu series\n", s.total, s.nseries);
	for (int a = 2; a < argc; a++)
	{
		long		k = strtol(argv[a], NULL, 10);

		if (k < 1 || k > PHA_DENSE_MAX_SAMPLES)
			die("K must be between 1 and 65535");
		for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++)
			run(&s, &formats[f], (size_t) k);
	}
	free(s.t);
	free(s.v);
	free(s.off);
	return 0;
}
