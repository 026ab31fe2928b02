/*-------------------------------------------------------------------------
 *
 * codec_test.c
 *	  Stand-alone unit tests of the chunk codecs in src/codec.
 *
 * Plain C, no framework, no server: build with test/codec/run.sh.  Each
 * check that fails prints one line; the last line is the tally
 * "codec: N passed, M failed" and the exit status is non-zero on a failure.
 *
 * What is covered: bit-exact round trips (special floats, extreme and
 * negative timestamps, regular, jittered and random series, 1, 2 and 65535
 * samples), every delta-of-delta bucket edge with the bits it must produce,
 * golden bytes worked out by hand from the Prometheus layout, rejection of
 * truncated, padded, overflowing and garbage input, encoder argument checks
 * and the chunk front's format byte.  Random inputs come from a fixed seed
 * so a failure reproduces.
 *
 * With -DCODEC_TEST_WRITE_SEEDS the program also writes a few chunks into
 * the directory named by $CODEC_SEED_DIR, as seeds for the fuzzer.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/bits.h"
#include "codec/chunk.h"
#include "codec/xor.h"

static int	passed;
static int	failed;

/* Record one check; print a line naming it when it fails. */
static bool
check(bool ok, const char *fmt,...)
{
	va_list		ap;

	if (ok)
	{
		passed++;
		return true;
	}
	failed++;
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return false;
}

/* xorshift64*: small, fast, and the same sequence on every platform. */
static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/* Bits of a double and back, without floating-point operations. */
static uint64_t
bits_of(double d)
{
	uint64_t	u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double
double_of(uint64_t u)
{
	double		d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/* Allocator for the codecs that need scratch memory (the dense format). */
static void *
test_alloc(void *ctx, size_t size)
{
	return malloc(size);
}

static void
test_release(void *ctx, void *p)
{
	free(p);
}

static const PhaCodecMem test_mem = {test_alloc, test_release, NULL};

/* Decode buffers big enough for any chunk. */
static int64_t dec_t[PHA_XOR_MAX_SAMPLES + 1];
static double dec_v[PHA_XOR_MAX_SAMPLES + 1];

/* True when the decoded arrays equal t[]/v[] bit for bit. */
static bool
same_samples(const int64_t *t, const double *v, size_t n,
			 const int64_t *t2, const double *v2, size_t n2)
{
	if (n != n2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] != t2[i] || bits_of(v[i]) != bits_of(v2[i]))
			return false;
	return true;
}

/*
 * Encode with XOR into an exactly sized heap buffer (so ASan sees any
 * overrun), decode by array and by iterator, compare bit for bit.
 * Returns the encoded length (0 on failure); the chunk is copied to keep.
 */
static size_t
xor_round_trip(const char *what, const int64_t *t, const double *v, size_t n,
			   uint8_t *keep, size_t keep_cap)
{
	size_t		cap = pha_xor_bound(n);
	uint8_t    *buf = malloc(cap);
	size_t		len = 0;
	size_t		got = 0;
	PhaCodecStatus st;
	PhaXorIter	it;
	size_t		i = 0;
	int			rc;
	bool		iter_ok = true;

	st = pha_xor_encode(t, v, n, buf, cap, &len);
	if (!check(st == PHA_CODEC_OK && len <= cap, "%s: encode status %d len %zu cap %zu",
			   what, st, len, cap))
	{
		free(buf);
		return 0;
	}
	st = pha_xor_count(buf, len, &got);
	check(st == PHA_CODEC_OK && got == n, "%s: count %zu, want %zu", what, got, n);
	st = pha_xor_decode(buf, len, dec_t, dec_v, n, &got);
	check(st == PHA_CODEC_OK && same_samples(t, v, n, dec_t, dec_v, got),
		  "%s: decode status %d, samples differ", what, st);

	pha_xor_iter_init(&it, buf, len);
	while ((rc = pha_xor_iter_next(&it, &dec_t[i], &dec_v[i])) == 1)
		if (++i > n)
			break;
	if (rc != 0 || !same_samples(t, v, n, dec_t, dec_v, i))
		iter_ok = false;
	check(iter_ok, "%s: iterator rc %d after %zu samples", what, rc, i);

	if (keep != NULL && len <= keep_cap)
		memcpy(keep, buf, len);
	free(buf);
	return len;
}

/* Every bit pattern a float64 must survive unchanged. */
static const uint64_t special_bits[] = {
	UINT64_C(0x0000000000000000),	/* +0 */
	UINT64_C(0x8000000000000000),	/* -0 */
	UINT64_C(0x7FF0000000000000),	/* +Inf */
	UINT64_C(0xFFF0000000000000),	/* -Inf */
	UINT64_C(0x7FF8000000000000),	/* quiet NaN */
	UINT64_C(0x7FF0000000000002),	/* Prometheus stale marker */
	UINT64_C(0x7FF4000000000000),	/* signalling NaN */
	UINT64_C(0xFFF8000000000001),	/* negative NaN with payload */
	UINT64_C(0x7FFFFFFFFFFFFFFF),	/* NaN, all payload bits */
	UINT64_C(0x0000000000000001),	/* smallest denormal */
	UINT64_C(0x000FFFFFFFFFFFFF),	/* largest denormal */
	UINT64_C(0x8000000000000001),	/* negative denormal */
	UINT64_C(0x0010000000000000),	/* DBL_MIN */
	UINT64_C(0x7FEFFFFFFFFFFFFF),	/* DBL_MAX */
	UINT64_C(0x3FF0000000000000),	/* 1.0 */
	UINT64_C(0xBFF0000000000000),	/* -1.0 */
	UINT64_C(0xFFFFFFFFFFFFFFFF),
	UINT64_C(0x5555555555555555),
	UINT64_C(0xAAAAAAAAAAAAAAAA),
};
#define NSPECIAL (sizeof(special_bits) / sizeof(special_bits[0]))

/* Special floats in every order of pairs, plus repeats. */
static void
test_special_floats(void)
{
	static int64_t t[NSPECIAL * NSPECIAL * 2 + NSPECIAL];
	static double v[NSPECIAL * NSPECIAL * 2 + NSPECIAL];
	size_t		n = 0;

	for (size_t a = 0; a < NSPECIAL; a++)
	{
		for (size_t b = 0; b < NSPECIAL; b++)
		{
			v[n++] = double_of(special_bits[a]);
			v[n++] = double_of(special_bits[b]);
		}
		v[n++] = double_of(special_bits[a]);	/* a repeat: '0' value */
	}
	for (size_t i = 0; i < n; i++)
		t[i] = -1000000 + (int64_t) i * 15000;
	xor_round_trip("special floats, all pairs", t, v, n, NULL, 0);

	/* Each special value as the first sample (the raw 64-bit slot). */
	for (size_t a = 0; a < NSPECIAL; a++)
	{
		int64_t		t1[3] = {1, 2, 3};
		double		v1[3] = {double_of(special_bits[a]), 0.0,
		double_of(special_bits[a])};
		char		what[64];

		snprintf(what, sizeof(what), "special float %zu first", a);
		xor_round_trip(what, t1, v1, 1, NULL, 0);
		xor_round_trip(what, t1, v1, 3, NULL, 0);
	}
}

/* A named list of timestamps, for the tables of cases below. */
typedef struct TimeCase
{
	const char *what;
	size_t		n;
	int64_t		t[5];
} TimeCase;

/* Timestamps at the ends of int64, negative times and giant deltas. */
static void
test_extreme_times(void)
{
	static const TimeCase cases[] = {
		{"INT64_MIN alone", 1, {INT64_MIN}},
		{"INT64_MAX alone", 1, {INT64_MAX}},
		{"-1 alone", 1, {-1}},
		{"MIN then MAX (delta 2^64-1)", 2, {INT64_MIN, INT64_MAX}},
		{"MIN, MIN+1, MAX (dod wraps)", 3, {INT64_MIN, INT64_MIN + 1, INT64_MAX}},
		{"MIN, 0, MAX (dod -1)", 3, {INT64_MIN, 0, INT64_MAX}},
		{"MIN, MAX-1, MAX (dod -(2^64-3))", 3, {INT64_MIN, INT64_MAX - 1, INT64_MAX}},
		{"top of range", 3, {INT64_MAX - 2, INT64_MAX - 1, INT64_MAX}},
		{"bottom of range", 3, {INT64_MIN, INT64_MIN + 1, INT64_MIN + 2}},
		{"across zero", 5, {-2, -1, 0, 1, 2}},
		{"negative, irregular", 5, {-1000000007, -999999000, -5, 7, 1000000000000}},
		{"huge steps", 4, {INT64_MIN / 2, 0, INT64_MAX / 2, INT64_MAX}},
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		double		v[5] = {1.5, -2.25, 1e300, 0.0, 3.0};

		xor_round_trip(cases[c].what, cases[c].t, v, cases[c].n, NULL, 0);
	}
}

/* Read nbits MSB-first at bit offset pos of buf: the test's own reader. */
static uint64_t
peek_bits(const uint8_t *buf, size_t pos, unsigned nbits)
{
	uint64_t	x = 0;

	for (unsigned i = 0; i < nbits; i++, pos++)
		x = (x << 1) | ((buf[pos / 8] >> (7 - pos % 8)) & 1);
	return x;
}

/*
 * Every dod bucket edge: the value must land in the expected bucket (prefix
 * and width checked in the bytes) and decode back.  The third sample's dod
 * starts at bit 8*14+1: header 2, varint(0) 1, value 8, uvarint(1e6) 3
 * bytes, then the second value's '0' bit.
 */
static void
test_dod_buckets(void)
{
	static const struct
	{
		int64_t		dod;
		unsigned	prefix;		/* the prefix bits, prefix_len long */
		unsigned	prefix_len;
		unsigned	width;
	}			cases[] = {
		{0, 0x0, 1, 0},
		{1, 0x2, 2, 14}, {-1, 0x2, 2, 14},
		{8192, 0x2, 2, 14}, {-8191, 0x2, 2, 14},
		{8193, 0x6, 3, 17}, {-8192, 0x6, 3, 17},
		{65536, 0x6, 3, 17}, {-65535, 0x6, 3, 17},
		{65537, 0xE, 4, 20}, {-65536, 0xE, 4, 20},
		{524288, 0xE, 4, 20}, {-524287, 0xE, 4, 20},
		{524289, 0xF, 4, 64}, {-524288, 0xF, 4, 64},
		{-999999, 0xF, 4, 64}, {INT64_C(1) << 40, 0xF, 4, 64},
	};
	const int64_t d = 1000000;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		int64_t		t[4] = {0, d, 2 * d + cases[c].dod, 3 * d + cases[c].dod};
		double		v[4] = {7.0, 7.0, 7.0, 7.0};
		uint8_t		buf[64];
		size_t		len;
		char		what[80];
		size_t		pos = 8 * 14 + 1;
		uint64_t	raw;
		int64_t		back;

		snprintf(what, sizeof(what), "dod %lld", (long long) cases[c].dod);
		len = xor_round_trip(what, t, v, 3, buf, sizeof(buf));
		if (len == 0)
			continue;
		check(peek_bits(buf, 8 * 14, 1) == 0 &&
			  peek_bits(buf, pos, cases[c].prefix_len) == cases[c].prefix,
			  "%s: bucket prefix", what);
		pos += cases[c].prefix_len;
		raw = peek_bits(buf, pos, cases[c].width);
		/* Prometheus' rule: above 2^(w-1) is negative. */
		if (cases[c].width > 0 && cases[c].width < 64 && raw > (UINT64_C(1) << (cases[c].width - 1)))
			back = (int64_t) raw - (INT64_C(1) << cases[c].width);
		else
			back = (int64_t) raw;
		check(back == cases[c].dod, "%s: stored dod %lld", what, (long long) back);
		check(len == 14 + (1 + cases[c].prefix_len + cases[c].width + 1 + 7) / 8,
			  "%s: length %zu", what, len);
		/* And with a fourth sample whose dod is the opposite one. */
		xor_round_trip(what, t, v, 4, NULL, 0);
	}
}

/* Golden chunks worked out by hand from the layout in src/codec/README.md. */
static void
test_golden(void)
{
	/*
	 * 4 samples: (1000, 1.0) (16000, 1.0) (31000, 2.0) (46001, 3.0).
	 * 00 04                    count
	 * D0 0F                    zigzag(1000) = 2000 as uvarint
	 * 3F F0 00 .. 00           1.0
	 * 98 75                    delta 15000 as uvarint
	 * then bits: 0 (value same) | 0 (dod 0) 1 1 00001 001011 11111111111
	 * (2.0 ^ 1.0 = 0x7FF0.., lead 1, 11 sig bits) | 10 00000000000001
	 * (dod 1) 1 1 01100 000001 1 (3.0 ^ 2.0 = 0x0008.., lead 12, 1 bit:
	 * trailing 51 < 52, so a new window) = 56 bits, no padding.
	 */
	static const uint8_t g1[] = {
		0x00, 0x04, 0xD0, 0x0F, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x98, 0x75,
		0x30, 0x97, 0xFF, 0xE0, 0x00, 0x76, 0x03
	};
	int64_t		t1[] = {1000, 16000, 31000, 46001};
	double		v1[] = {1.0, 1.0, 2.0, 3.0};

	/*
	 * 1 sample: (-1, stale marker).  zigzag(-1) = 1; the value raw.
	 */
	static const uint8_t g2[] = {
		0x00, 0x01, 0x01, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0x02
	};
	int64_t		t2[] = {-1};
	double		v2[] = {double_of(UINT64_C(0x7FF0000000000002))};

	/*
	 * 2 samples: (0, +0.0) (1, bits 0x8000000000000001).  The XOR has no
	 * leading or trailing zeros: 64 significant bits are written as 0.
	 * bits: 1 1 00000 000000 1 (62 zeros) 1, then 3 zero padding bits.
	 */
	static const uint8_t g3[] = {
		0x00, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0xC0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0x08
	};
	int64_t		t3[] = {0, 1};
	double		v3[] = {0.0, double_of(UINT64_C(0x8000000000000001))};

	/*
	 * 2 samples: (0, +0.0) (1, bits 0x1).  63 leading zeros are capped at
	 * 31, so 33 significant bits: 1 1 11111 100001 (32 zeros) 1, pad 00.
	 */
	static const uint8_t g4[] = {
		0x00, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0xFF, 0x08, 0, 0, 0, 0x04
	};
	int64_t		t4[] = {0, 1};
	double		v4[] = {0.0, double_of(UINT64_C(0x1))};

	const struct
	{
		const char *what;
		const uint8_t *bytes;
		size_t		len;
		const int64_t *t;
		const double *v;
		size_t		n;
	}			g[] = {
		{"golden 4 samples", g1, sizeof(g1), t1, v1, 4},
		{"golden stale marker", g2, sizeof(g2), t2, v2, 1},
		{"golden 64 sigbits", g3, sizeof(g3), t3, v3, 2},
		{"golden leading cap", g4, sizeof(g4), t4, v4, 2},
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
	{
		uint8_t		buf[64];
		size_t		len = 0;
		size_t		n = 0;
		PhaCodecStatus st;

		st = pha_xor_encode(g[i].t, g[i].v, g[i].n, buf, sizeof(buf), &len);
		check(st == PHA_CODEC_OK && len == g[i].len &&
			  memcmp(buf, g[i].bytes, len) == 0, "%s: encoded bytes differ", g[i].what);
		st = pha_xor_decode(g[i].bytes, g[i].len, dec_t, dec_v, 16, &n);
		check(st == PHA_CODEC_OK &&
			  same_samples(g[i].t, g[i].v, g[i].n, dec_t, dec_v, n),
			  "%s: decoded samples differ", g[i].what);
	}
}

/*
 * Start a hand-made chunk: count, a one-byte zigzag first time, value
 * +0.0, then the second sample's delta as a one-byte uvarint (< 128).
 */
static void
craft_start(PhaBitWriter *w, uint8_t *buf, size_t cap, unsigned count,
			unsigned zigzag_t0, unsigned delta)
{
	pha_bw_init(w, buf, cap);
	pha_bw_write(w, count, 16);
	pha_bw_write(w, zigzag_t0, 8);
	pha_bw_write(w, 0, 64);
	pha_bw_write(w, delta, 8);
}

/* Prometheus writes '10' reuse on the 2nd sample never, but reads it as 64 bits. */
static void
test_zero_window_reuse(void)
{
	uint8_t		buf[32];
	PhaBitWriter w;
	size_t		n = 0;
	PhaCodecStatus st;

	craft_start(&w, buf, sizeof(buf), 2, 20, 5);	/* t 10, 15 */
	pha_bw_write(&w, 0x2, 2);	/* '10': reuse the (zero) window */
	pha_bw_write(&w, UINT64_C(0x4000000000000000), 64);
	st = pha_xor_decode(buf, pha_bw_length(&w), dec_t, dec_v, 2, &n);
	check(st == PHA_CODEC_OK && n == 2 && dec_t[1] == 15 &&
		  bits_of(dec_v[1]) == UINT64_C(0x4000000000000000),
		  "reuse of the initial zero window reads 64 bits");
}

/* A regular 15 s series and jittered ones with realistic values. */
static void
test_series(void)
{
	static int64_t t[5000];
	static double v[5000];
	size_t		n = sizeof(t) / sizeof(t[0]);
	size_t		len;

	/* Regular 15 s scrape, counter values. */
	for (size_t i = 0; i < n; i++)
	{
		t[i] = INT64_C(1700000000000) + (int64_t) i * 15000;
		v[i] = (double) (i * 3);
	}
	len = xor_round_trip("regular 15s counter", t, v, n, NULL, 0);
	check(len > 0 && len < n * 3, "regular 15s counter: %zu bytes is not compact", len);

	/* Jitter of up to +-10 ms around 15 s, gauge values. */
	for (size_t i = 0; i < n; i++)
	{
		t[i] = INT64_C(1700000000000) + (int64_t) i * 15000 + (int64_t) (rng() % 21) - 10;
		v[i] = 0.25 * (double) (rng() % 1000);
	}
	xor_round_trip("jittered 15s gauge", t, v, n, NULL, 0);

	/* Irregular gaps from 1 ms to days: every bucket, in random order. */
	t[0] = -INT64_C(86400000) * 365;
	for (size_t i = 1; i < n; i++)
	{
		static const uint64_t spans[] = {2, 16384, 131072, 1048576, UINT64_C(1) << 36};

		t[i] = t[i - 1] + 1 + (int64_t) (rng() % spans[rng() % 5]);
	}
	for (size_t i = 0; i < n; i++)
		v[i] = double_of(rng());
	xor_round_trip("irregular gaps, random bits", t, v, n, NULL, 0);

	/* Random doubles of random magnitude, some repeats. */
	for (size_t i = 0; i < n; i++)
	{
		t[i] = (int64_t) i;
		if (i > 0 && rng() % 4 == 0)
			v[i] = v[i - 1];
		else
			v[i] = double_of((rng() & UINT64_C(0xFFF0000000000000)) | (rng() >> (rng() % 64)));
	}
	xor_round_trip("random doubles", t, v, n, NULL, 0);
}

/* Sample counts at the edges: 1, 2, 65535 and one too many. */
static void
test_sizes(void)
{
	static int64_t t[PHA_XOR_MAX_SAMPLES + 1];
	static double v[PHA_XOR_MAX_SAMPLES + 1];
	uint8_t		buf[64];
	size_t		len = 0;
	size_t		n = 0;
	PhaCodecStatus st;
	uint8_t    *big;

	for (size_t i = 0; i <= PHA_XOR_MAX_SAMPLES; i++)
	{
		t[i] = INT64_C(-5000000) + (int64_t) i * 1000 + (int64_t) (rng() % 3);
		v[i] = double_of(rng());
	}
	xor_round_trip("1 sample", t, v, 1, NULL, 0);
	xor_round_trip("2 samples", t, v, 2, NULL, 0);
	len = xor_round_trip("65535 samples", t, v, PHA_XOR_MAX_SAMPLES, NULL, 0);
	check(len > 0 && len <= pha_xor_bound(PHA_XOR_MAX_SAMPLES), "65535 samples within bound");

	big = malloc(pha_xor_bound(PHA_XOR_MAX_SAMPLES + 1));
	st = pha_xor_encode(t, v, PHA_XOR_MAX_SAMPLES + 1, big,
						pha_xor_bound(PHA_XOR_MAX_SAMPLES + 1), &len);
	check(st == PHA_CODEC_TOO_LARGE && len == 0, "65536 samples: status %d", st);

	/* Decode into arrays one sample too small. */
	st = pha_xor_encode(t, v, 100, big, pha_xor_bound(100), &len);
	st = pha_xor_decode(big, len, dec_t, dec_v, 99, &n);
	check(st == PHA_CODEC_TOO_LARGE && n == 0, "decode with max 99 of 100: status %d", st);
	free(big);

	/* Every output capacity below the needed one fails cleanly. */
	for (size_t cap = 0; cap < 40; cap++)
	{
		uint8_t    *out = malloc(cap ? cap : 1);
		size_t		need = 0;

		pha_xor_encode(t, v, 3, buf, sizeof(buf), &need);
		st = pha_xor_encode(t, v, 3, out, cap, &len);
		if (cap < need)
			check(st == PHA_CODEC_TOO_LARGE && len == 0, "cap %zu < %zu: status %d", cap, need, st);
		else
			check(st == PHA_CODEC_OK && len == need, "cap %zu >= %zu: status %d", cap, need, st);
		free(out);
	}
}

/* The encoder refuses bad arguments and time that does not strictly rise. */
static void
test_encode_rejects(void)
{
	static const TimeCase cases[] = {
		{"equal times", 2, {5, 5}},
		{"decreasing", 2, {5, 4}},
		{"MAX then MIN", 2, {INT64_MAX, INT64_MIN}},
		{"late duplicate", 4, {1, 2, 3, 3}},
		{"late step back", 4, {-3, -2, -1, -2}},
	};
	double		v[5] = {0};
	uint8_t		buf[128];
	size_t		len = 99;
	PhaCodecStatus st;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		st = pha_xor_encode(cases[c].t, v, cases[c].n, buf, sizeof(buf), &len);
		check(st == PHA_CODEC_UNSORTED && len == 0, "%s: status %d", cases[c].what, st);
		st = pha_chunk_encode(PHA_CHUNK_XOR, cases[c].t, v, cases[c].n, &test_mem,
							  buf, sizeof(buf), &len);
		check(st == PHA_CODEC_UNSORTED, "chunk %s: status %d", cases[c].what, st);
	}
	st = pha_xor_encode(cases[0].t, v, 0, buf, sizeof(buf), &len);
	check(st == PHA_CODEC_BAD_FORMAT && len == 0, "0 samples: status %d", st);
}

/* Decode must say CORRUPT; used for crafted and damaged chunks. */
static void
expect_corrupt(const char *what, const uint8_t *buf, size_t len)
{
	size_t		n = 99;
	PhaCodecStatus st = pha_xor_decode(buf, len, dec_t, dec_v,
									   PHA_XOR_MAX_SAMPLES, &n);

	check(st == PHA_CODEC_CORRUPT && n == 0, "%s: status %d, want corrupt", what, st);
}

/* Truncations, trailing bytes, dirty padding and crafted impossible chunks. */
static void
test_corrupt(void)
{
	static int64_t t[200];
	static double v[200];
	uint8_t		good[4096];
	uint8_t		buf[4200];
	size_t		len;
	int			bad = 0;
	PhaBitWriter w;

	for (size_t i = 0; i < 200; i++)
	{
		t[i] = (int64_t) (i * i) * 977 - 100000;
		v[i] = i % 7 ? double_of(rng()) : 42.0;
	}
	len = xor_round_trip("corruption base", t, v, 200, good, sizeof(good));

	/* Every proper prefix, through both entry points. */
	for (size_t cut = 0; cut < len; cut++)
	{
		uint8_t    *p = malloc(cut ? cut : 1);
		size_t		n;

		memcpy(p, good, cut);
		if (pha_xor_decode(p, cut, dec_t, dec_v, 200, &n) != PHA_CODEC_CORRUPT)
			bad++;
		buf[0] = PHA_CHUNK_XOR;
		memcpy(buf + 1, good, cut);
		if (pha_chunk_decode(buf, cut + 1, &test_mem, dec_t, dec_v, 200, &n) != PHA_CODEC_CORRUPT)
			bad++;
		free(p);
	}
	check(bad == 0, "%d truncations of a 200-sample chunk were not corrupt", bad);

	/* Same for the small golden-like chunks (1 and 2 samples). */
	for (size_t k = 1; k <= 3; k++)
	{
		uint8_t		small[64];
		size_t		slen = xor_round_trip("small base", t, v, k, small, sizeof(small));

		bad = 0;
		for (size_t cut = 0; cut < slen; cut++)
		{
			size_t		n;

			if (pha_xor_decode(small, cut, dec_t, dec_v, 8, &n) != PHA_CODEC_CORRUPT)
				bad++;
		}
		check(bad == 0, "%d truncations of a %zu-sample chunk were not corrupt", bad, k);
	}

	/* A trailing byte of any value, and each padding bit set. */
	memcpy(buf, good, len);
	bad = 0;
	for (unsigned b = 0; b < 256; b++)
	{
		size_t		n;

		buf[len] = (uint8_t) b;
		if (pha_xor_decode(buf, len + 1, dec_t, dec_v, 200, &n) != PHA_CODEC_CORRUPT)
			bad++;
	}
	check(bad == 0, "%d trailing bytes were accepted", bad);
	{
		int64_t		t3[] = {0, 1};
		double		v3[] = {0.0, double_of(UINT64_C(0x8000000000000001))};
		uint8_t		g[64];
		size_t		glen = xor_round_trip("padding base", t3, v3, 2, g, sizeof(g));

		/* This chunk ends with 3 padding bits (see the golden test). */
		for (unsigned pb = 0; pb < 3; pb++)
		{
			char		what[48];

			g[glen - 1] ^= (uint8_t) (1u << pb);
			snprintf(what, sizeof(what), "padding bit %u set", pb);
			expect_corrupt(what, g, glen);
			g[glen - 1] ^= (uint8_t) (1u << pb);
		}
	}

	/* Headers: empty, short, count 0, count far above the bytes present. */
	expect_corrupt("empty", good, 0);
	expect_corrupt("1 byte", good, 1);
	{
		uint8_t		h[] = {0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};

		expect_corrupt("count 0", h, sizeof(h));
		h[0] = 0xFF;
		h[1] = 0xFF;
		expect_corrupt("count 65535 in 11 bytes", h, sizeof(h));
	}

	/* Timestamp past INT64_MAX: count 2 -> 3 makes the zero padding a dod 0. */
	{
		int64_t		tm[] = {INT64_MAX - 1, INT64_MAX};
		double		vm[] = {1.0, 1.0};
		uint8_t		g[64];
		size_t		glen = xor_round_trip("overflow base", tm, vm, 2, g, sizeof(g));

		g[1] = 3;
		expect_corrupt("timestamp overflows INT64_MAX", g, glen);
	}

	/* Second delta 0 (time does not rise). */
	craft_start(&w, buf, sizeof(buf), 2, 0, 0);
	pha_bw_write(&w, 0, 1);
	expect_corrupt("second delta 0", buf, pha_bw_length(&w));

	/* A dod that brings the delta to 0, and one that makes it negative. */
	for (int k = 0; k < 2; k++)
	{
		craft_start(&w, buf, sizeof(buf), 3, 0, 10);
		pha_bw_write(&w, 0, 1);
		pha_bw_write(&w, 0x2, 2);
		pha_bw_write(&w, (uint64_t) (k == 0 ? -10 : -11), 14);
		pha_bw_write(&w, 0, 1);
		expect_corrupt(k == 0 ? "dod to delta 0" : "dod to negative delta",
					   buf, pha_bw_length(&w));
	}

	/* Window with leading + significant bits > 64. */
	craft_start(&w, buf, sizeof(buf), 2, 0, 1);
	pha_bw_write(&w, 0x3, 2);
	pha_bw_write(&w, 31, 5);
	pha_bw_write(&w, 40, 6);
	pha_bw_write(&w, 0, 40);
	expect_corrupt("leading 31 + 40 significant bits", buf, pha_bw_length(&w));

	/* Varints: 11 bytes, and a 10th byte above 1. */
	memset(buf, 0, sizeof(buf));
	buf[1] = 1;
	memset(buf + 2, 0x80, 10);
	buf[12] = 0x00;
	expect_corrupt("varint without an end in 10 bytes", buf, 20);
	memset(buf + 2, 0xFF, 9);
	buf[11] = 0x02;
	expect_corrupt("10th varint byte 2", buf, 20);
	buf[11] = 0x01;
	{
		size_t		n = 0;
		PhaCodecStatus st = pha_xor_decode(buf, 20, dec_t, dec_v, 1, &n);

		/* zigzag(2^64-1) = INT64_MIN: the largest legal varint. */
		check(st == PHA_CODEC_OK && n == 1 && dec_t[0] == INT64_MIN,
			  "10-byte varint of INT64_MIN: status %d", st);
	}
}

/*
 * Random bytes, and valid chunks with random bit flips: no crash, and any
 * input that decodes must re-encode to the same samples (the fuzz invariant).
 */
static void
test_garbage(void)
{
	static int64_t t[300];
	static double v[300];
	static uint8_t re[20 + PHA_XOR_MAX_SAMPLES * 19];
	uint8_t		good[8192];
	uint8_t		buf[8192];
	size_t		len;
	int			bad = 0;
	int			accepted = 0;

	for (int round = 0; round < 200000; round++)
	{
		size_t		blen = rng() % 300;
		size_t		n;

		for (size_t i = 0; i < blen; i++)
			buf[i] = (uint8_t) rng();
		if (blen >= 2 && round % 2)
		{
			buf[0] = 0;			/* plausible small count */
			buf[1] = (uint8_t) (rng() % 40 + 1);
		}
		if (pha_xor_decode(buf, blen, dec_t, dec_v, PHA_XOR_MAX_SAMPLES, &n) == PHA_CODEC_OK)
		{
			size_t		rlen;

			accepted++;
			if (pha_xor_encode(dec_t, dec_v, n, re, sizeof(re), &rlen) != PHA_CODEC_OK)
				bad++;
		}
	}
	check(bad == 0, "random bytes: %d decoded chunks did not re-encode", bad);

	for (size_t i = 0; i < 300; i++)
	{
		t[i] = INT64_C(1600000000000) + (int64_t) i * 10000 + (int64_t) (rng() % 2000);
		v[i] = (double) (rng() % 100) / 8.0;
	}
	len = xor_round_trip("bit flip base", t, v, 300, good, sizeof(good));
	bad = 0;
	for (int round = 0; round < 20000 && len > 0; round++)
	{
		size_t		n;
		size_t		n2;
		size_t		rlen;
		static int64_t t2[PHA_XOR_MAX_SAMPLES];
		static double v2[PHA_XOR_MAX_SAMPLES];

		memcpy(buf, good, len);
		for (int f = 0; f < 1 + round % 3; f++)
			buf[rng() % len] ^= (uint8_t) (1u << (rng() % 8));
		if (pha_xor_decode(buf, len, dec_t, dec_v, PHA_XOR_MAX_SAMPLES, &n) != PHA_CODEC_OK)
			continue;
		accepted++;
		if (pha_xor_encode(dec_t, dec_v, n, re, sizeof(re), &rlen) != PHA_CODEC_OK ||
			pha_xor_decode(re, rlen, t2, v2, PHA_XOR_MAX_SAMPLES, &n2) != PHA_CODEC_OK ||
			!same_samples(dec_t, dec_v, n, t2, v2, n2))
			bad++;
	}
	check(bad == 0, "bit flips: %d decoded chunks did not round-trip", bad);
	check(accepted > 0, "garbage: some mutated chunks should still decode");
}

/* The format byte: dispatch, unknown formats, bounds, status texts. */
static void
test_chunk_front(void)
{
	int64_t		t[64];
	double		v[64];
	uint8_t		a[2048];
	uint8_t		b[2048];
	size_t		alen = 0;
	size_t		blen = 0;
	size_t		n = 0;
	PhaCodecStatus st;

	for (size_t i = 0; i < 64; i++)
	{
		t[i] = INT64_C(1700000000000) + (int64_t) i * 30000;
		v[i] = i % 5 ? (double) i : double_of(special_bits[i % NSPECIAL]);
	}
	st = pha_chunk_encode(PHA_CHUNK_XOR, t, v, 64, &test_mem, a, sizeof(a), &alen);
	pha_xor_encode(t, v, 64, b, sizeof(b), &blen);
	check(st == PHA_CODEC_OK && alen == blen + 1 && a[0] == PHA_CHUNK_XOR &&
		  memcmp(a + 1, b, blen) == 0, "xor chunk = format byte + Prometheus bytes");
	check(pha_chunk_bound(PHA_CHUNK_XOR, 64) == 1 + pha_xor_bound(64), "xor chunk bound");
	st = pha_chunk_count(a, alen, &n);
	check(st == PHA_CODEC_OK && n == 64, "chunk count: status %d n %zu", st, n);
	st = pha_chunk_decode(a, alen, &test_mem, dec_t, dec_v, 64, &n);
	check(st == PHA_CODEC_OK && same_samples(t, v, 64, dec_t, dec_v, n), "chunk decode xor");

	/* XOR_CRC: the format byte, 4 zero bytes for the caller's checksum, the same Prometheus bytes */
	{
		uint8_t		c[2048];
		size_t		clen = 0;
		size_t		off = 0;
		size_t		xlen = 0;

		st = pha_chunk_encode(PHA_CHUNK_XOR_CRC, t, v, 64, NULL, c, sizeof(c), &clen);
		check(st == PHA_CODEC_OK && clen == blen + 1 + PHA_CHUNK_CRC_BYTES &&
			  c[0] == PHA_CHUNK_XOR_CRC && c[1] == 0 && c[2] == 0 && c[3] == 0 && c[4] == 0 &&
			  memcmp(c + 5, b, blen) == 0, "xor_crc chunk = format byte + 4 zero bytes + Prometheus bytes");
		check(pha_chunk_bound(PHA_CHUNK_XOR_CRC, 64) == 5 + pha_xor_bound(64), "xor_crc chunk bound");
		c[1] = 0xde;			/* the codec leaves the checksum to its caller */
		st = pha_chunk_count(c, clen, &n);
		check(st == PHA_CODEC_OK && n == 64, "xor_crc count: status %d n %zu", st, n);
		st = pha_chunk_decode(c, clen, NULL, dec_t, dec_v, 64, &n);
		check(st == PHA_CODEC_OK && same_samples(t, v, 64, dec_t, dec_v, n), "chunk decode xor_crc");
		check(pha_chunk_xor_span(c, clen, &off, &xlen) && off == 5 && xlen == blen, "xor_crc span");
		check(pha_chunk_xor_span(a, alen, &off, &xlen) && off == 1 && xlen == blen, "xor span");
		check(!pha_chunk_xor_span(c, 4, &off, &xlen), "xor_crc shorter than its prefix has no span");
		st = pha_chunk_decode(c, 4, NULL, dec_t, dec_v, 64, &n);
		check(st == PHA_CODEC_CORRUPT, "xor_crc shorter than its prefix: status %d", st);
		st = pha_chunk_count(c, 5, &n);
		check(st == PHA_CODEC_CORRUPT, "xor_crc with an empty XOR chunk: status %d", st);
		c[0] = PHA_CHUNK_DENSE;
		check(!pha_chunk_xor_span(c, clen, &off, &xlen), "a dense chunk has no xor span");
	}

	/* The dense format through the same front: a plain round trip. */
	{
		size_t		cap = pha_chunk_bound(PHA_CHUNK_DENSE, 64);
		uint8_t    *d = malloc(cap);
		size_t		dlen = 0;

		st = pha_chunk_encode(PHA_CHUNK_DENSE, t, v, 64, &test_mem, d, cap, &dlen);
		check(st == PHA_CODEC_OK && dlen <= cap && d[0] == PHA_CHUNK_DENSE,
			  "dense chunk encode: status %d", st);
		if (st == PHA_CODEC_OK)
		{
			st = pha_chunk_decode(d, dlen, &test_mem, dec_t, dec_v, 64, &n);
			check(st == PHA_CODEC_OK && same_samples(t, v, 64, dec_t, dec_v, n),
				  "dense chunk decode: status %d", st);
		}
		free(d);
	}

	/* Unknown format bytes, in both directions. */
	for (unsigned f = 0; f < 256; f += 85)
	{
		a[0] = (uint8_t) f;
		if (f == PHA_CHUNK_XOR || f == PHA_CHUNK_DENSE)
			continue;
		st = pha_chunk_decode(a, alen, &test_mem, dec_t, dec_v, 64, &n);
		check(st == PHA_CODEC_BAD_FORMAT, "decode format byte %u: status %d", f, st);
		st = pha_chunk_count(a, alen, &n);
		check(st == PHA_CODEC_BAD_FORMAT, "count format byte %u: status %d", f, st);
		st = pha_chunk_encode((PhaChunkFormat) f, t, v, 64, &test_mem, b, sizeof(b), &blen);
		check(st == PHA_CODEC_BAD_FORMAT && blen == 0, "encode format %u: status %d", f, st);
		check(pha_chunk_bound((PhaChunkFormat) f, 64) == 0, "bound of format %u", f);
	}
	st = pha_chunk_encode(PHA_CHUNK_XOR, t, v, 64, NULL, b, sizeof(b), &blen);
	check(st == PHA_CODEC_OK, "xor needs no memory hooks: status %d", st);
	st = pha_chunk_encode(PHA_CHUNK_DENSE, t, v, 64, NULL, b, sizeof(b), &blen);
	check(st == PHA_CODEC_BAD_FORMAT, "dense without memory hooks: status %d", st);
	memcpy(b, a, alen);
	b[0] = PHA_CHUNK_DENSE;
	st = pha_chunk_decode(b, alen, NULL, dec_t, dec_v, 64, &n);
	check(st == PHA_CODEC_BAD_FORMAT, "dense decode without memory hooks: status %d", st);
	st = pha_chunk_decode(a, 0, &test_mem, dec_t, dec_v, 64, &n);
	check(st == PHA_CODEC_CORRUPT, "empty stored chunk: status %d", st);
	st = pha_chunk_encode(PHA_CHUNK_XOR, t, v, 64, &test_mem, b, 0, &blen);
	check(st == PHA_CODEC_TOO_LARGE, "encode into 0 bytes: status %d", st);

	for (int s = PHA_CODEC_OK; s <= PHA_CODEC_BAD_FORMAT; s++)
		check(pha_codec_status_text((PhaCodecStatus) s)[0] != '\0', "status text %d", s);
}

#ifdef CODEC_TEST_WRITE_SEEDS
/* Write one stored chunk (format byte + payload) as a fuzzer seed. */
static void
write_seed(const char *dir, const char *name, PhaChunkFormat fmt,
		   const int64_t *t, const double *v, size_t n)
{
	size_t		cap = pha_chunk_bound(fmt, n);
	uint8_t    *buf = malloc(cap);
	size_t		len = 0;
	char		path[512];
	FILE	   *f;

	if (pha_chunk_encode(fmt, t, v, n, &test_mem, buf, cap, &len) == PHA_CODEC_OK)
	{
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		f = fopen(path, "wb");
		if (f != NULL)
		{
			fwrite(buf, 1, len, f);
			fclose(f);
		}
	}
	free(buf);
}

/* A handful of small, varied XOR chunks (the dense format seeds its own). */
static void
write_seeds(const char *dir)
{
	int64_t		t[100];
	double		v[100];

	for (size_t i = 0; i < 100; i++)
	{
		t[i] = INT64_C(1700000000000) + (int64_t) i * 15000 + (int64_t) (i % 3);
		v[i] = (double) (i * 7 % 23);
	}
	write_seed(dir, "xor_regular", PHA_CHUNK_XOR, t, v, 100);
	for (size_t i = 1; i < 100; i++)
		t[i] = t[i - 1] + 1 + (int64_t) (rng() % (i % 4 == 0 ? 2000000 : 20000));
	write_seed(dir, "xor_irregular", PHA_CHUNK_XOR, t, v, 100);
	for (size_t i = 0; i < NSPECIAL; i++)
	{
		t[i] = -INT64_C(5000) + (int64_t) (i * i * 1000);
		v[i] = double_of(special_bits[i]);
	}
	write_seed(dir, "xor_special", PHA_CHUNK_XOR, t, v, NSPECIAL);
	t[0] = INT64_MIN;
	t[1] = 0;
	t[2] = INT64_MAX - 1;
	t[3] = INT64_MAX;
	write_seed(dir, "xor_extremes", PHA_CHUNK_XOR, t, v, 4);
	write_seed(dir, "xor_single", PHA_CHUNK_XOR, t + 1, v, 1);
}
#endif

int
main(void)
{
	test_golden();
	test_zero_window_reuse();
	test_special_floats();
	test_extreme_times();
	test_dod_buckets();
	test_series();
	test_sizes();
	test_encode_rejects();
	test_corrupt();
	test_garbage();
	test_chunk_front();
#ifdef CODEC_TEST_WRITE_SEEDS
	if (getenv("CODEC_SEED_DIR") != NULL)
		write_seeds(getenv("CODEC_SEED_DIR"));
#endif
	printf("codec: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
