/*-------------------------------------------------------------------------
 *
 * dense.c
 *	  PHA_CHUNK_DENSE: decimal-integer values and delta-coded times, zstd-compressed.
 *
 * Design.  Most Prometheus values are decimals in disguise: byte counters
 * are integers, node_exporter's CPU seconds have two decimals, temperatures
 * one, durations in Go are nanoseconds / 1e9.  Each value v is written as
 * M * 10^E with an integer |M| <= 2^53 and one exponent E (-22..22) for the
 * whole chunk, where the decoder computes M / 10^-E (E < 0) or M * 10^E
 * (E >= 0): one correctly rounded IEEE operation on exact operands, so a
 * value is stored as a decimal only if that computation gives back its exact
 * bits; the encoder checks every value.  E is the exponent that the most
 * values accept.  Other values (NaN with any payload, the stale marker,
 * +-Inf, -0.0, denormals, full-precision doubles) are exceptions: position
 * and raw bits.  The integers M (or the times) are delta coded, either as
 * "delta minus a constant base" (base 0, or the mean delta) or as delta of
 * deltas, whichever an order-0 entropy estimate of the varint bytes says is
 * smaller, then zigzag varints.  When many values are exceptions, the values
 * are instead XORed with their predecessor and stored as 8 byte planes (most
 * significant first), which zstd compresses well.  Times and values are two
 * separate streams, each stored raw, zstd-compressed (a magicless frame with
 * its content size, no checksum), or as "all zero bytes", whichever is
 * smallest.  zstd level 1: on node_exporter-like data (promscale-ha-gen
 * --profile node, test/bench/codec_bench.c) level 3 saved 0.1-0.2% of the
 * bytes and encoded up to 10% slower; the streams are short and have little
 * long-range redundancy, so the stronger match finder finds nothing more.
 *
 * Layout (varint: 7 bits per byte, low group first, high bit = more, at most
 * 10 bytes; zz: zigzag, (x << 1) ^ (x >> 63); all arithmetic modulo 2^64):
 *
 *	field			size		content
 *	mode			1 byte		bit 0: time coding (0 delta - base, 1 delta of deltas)
 *								bits 1-2: value coding (0 decimal delta - base,
 *								  1 decimal delta of deltas, 2 XOR planes; 3 invalid)
 *								bits 3-4: time stream storage, bits 5-6: value
 *								  stream storage (0 raw, 1 zstd, 2 all zero; 3 invalid)
 *								bit 7: 0
 *	n				varint		samples, 1..65535
 *	t0				zz varint	first timestamp
 *	-- if n >= 2:
 *	tbase			varint		delta - base: the base; delta of deltas: t1 - t0
 *	time stream		stream		zz varints: (t[i] - t[i-1]) - tbase for i = 1..n-1,
 *								  or delta of deltas for i = 2..n-1
 *	-- decimal value coding:
 *	E				zz varint	decimal exponent, -22..22
 *	M0				zz varint	first mantissa
 *	vbase			varint		as tbase, for the mantissas
 *	nexc			varint		exceptions, 0..n
 *	value stream	stream		zz varints of the mantissas as for times (an
 *								  exception repeats the previous mantissa), then
 *								  per exception: varint gap (position - previous
 *								  position - 1; first: position), 8 bytes value
 *								  bits little endian
 *	-- XOR value coding:
 *	value stream	stream		8 * n bytes: plane p (0..7) holds byte 7-p of
 *								  bits(v[i]) ^ bits(v[i-1]) for i = 0..n-1
 *								  (bits(v[-1]) = 0)
 *
 *	stream: varint raw length; if zstd: varint compressed length, then that
 *	many bytes; if raw: raw length bytes; if all zero: nothing more.
 *
 * Decoding checks n against PHA_DENSE_MAX_SAMPLES and the caller's max before
 * anything else, every raw length against the most that n samples can need
 * (10 bytes per varint, 18 per exception), zstd's declared content size
 * against the raw length before allocating, and that each stream and the
 * chunk are consumed exactly.  Times must strictly increase without leaving
 * int64, mantissas must stay within 2^53.  A new layout gets a new
 * PhaChunkFormat byte rather than a version field here.
 *
 * Memory: one scratch block for the encoder and one buffer per zstd stream
 * for the decoder are allocated from the caller's PhaCodecMem and released
 * before returning.  The two zstd contexts are the only global state: made
 * on first use with zstd's own allocator and kept for the life of the
 * process (a few hundred kB), because making one runs CPUID, which a
 * virtual machine traps -- per chunk that was 44% of a remote read's CPU.
 * Each call starts a new frame with the same parameters, so output does not
 * depend on what a context did before; a process is one thread.
 *
 *-------------------------------------------------------------------------
 */
#define ZSTD_STATIC_LINKING_ONLY	/* magicless frames */

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec/dense.h"

#ifndef DENSE_ZSTD_LEVEL
#define DENSE_ZSTD_LEVEL	1	/* -D for measurements only */
#endif
#define DENSE_MAX_EXP		22	/* 10^22: the largest exact power of ten */
#define DENSE_NEXP			(2 * DENSE_MAX_EXP + 1)
#define DENSE_MANT_LIMIT	(UINT64_C(1) << 53)
#define DENSE_VARINT_MAX	10
#define DENSE_EXC_MAX		(DENSE_VARINT_MAX + 8)
#define DENSE_HEADER_MAX	64	/* all fixed fields and stream headers */
#define DENSE_MIN_ZSTD		16	/* shorter streams are not worth a frame */
#define DENSE_MAX_ALLOCS	4

/* Mode byte fields. */
#define SEQ_DELTA		0
#define SEQ_DOD			1
#define VAL_DEC_DELTA	0
#define VAL_DEC_DOD		1
#define VAL_XOR			2
#define ENC_RAW			0
#define ENC_ZSTD		1
#define ENC_ZERO		2
#define MODE_TSEQ(m)	((m) & 1)
#define MODE_VAL(m)		(((m) >> 1) & 3)
#define MODE_TENC(m)	(((m) >> 3) & 3)
#define MODE_VENC(m)	(((m) >> 5) & 3)

static const double pow10tab[DENSE_MAX_EXP + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* The process's zstd contexts, made on first use and never freed. */
static ZSTD_CCtx *kept_cctx = NULL;
static ZSTD_DCtx *kept_dctx = NULL;

/* Allocations of one call, released together by dense_done. */
typedef struct DenseCtx
{
	const PhaCodecMem *mem;
	void	   *ptrs[DENSE_MAX_ALLOCS];
	int			nptrs;
} DenseCtx;

/* An output buffer that notes, rather than commits, a write past its end. */
typedef struct DenseBuf
{
	uint8_t    *p;
	size_t		cap;
	size_t		len;
	bool		overflow;
} DenseBuf;

/* A bounds-checked reader; p == NULL reads len zero bytes (an all-zero stream). */
typedef struct DenseReader
{
	const uint8_t *p;
	size_t		len;
	size_t		pos;
	bool		bad;
} DenseReader;

/* How an integer sequence is delta coded: SEQ_DELTA or SEQ_DOD and its base. */
typedef struct SeqPlan
{
	int			mode;
	uint64_t	base;
} SeqPlan;

/* Allocate size bytes from the caller, remembered for dense_done; NULL on failure. */
static void *
dense_alloc(DenseCtx *c, size_t size)
{
	void	   *p;

	if (c->nptrs == DENSE_MAX_ALLOCS)
		return NULL;
	p = c->mem->alloc(c->mem->ctx, size ? size : 1);
	if (p != NULL)
		c->ptrs[c->nptrs++] = p;
	return p;
}

/* Release everything a call allocated (the zstd contexts stay with the process). */
static void
dense_done(DenseCtx *c)
{
	while (c->nptrs > 0)
		c->mem->release(c->mem->ctx, c->ptrs[--c->nptrs]);
}

/* Map a zstd error to a status: allocation failures are NOMEM, anything else is other. */
static PhaCodecStatus
dense_zstd_status(size_t rc, PhaCodecStatus other)
{
	return ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation ? PHA_CODEC_NOMEM : other;
}

/* Zigzag: small magnitudes of either sign become small unsigned numbers. */
static inline uint64_t
zz_enc(uint64_t x)
{
	return (x << 1) ^ (UINT64_C(0) - (x >> 63));
}

static inline uint64_t
zz_dec(uint64_t u)
{
	return (u >> 1) ^ (UINT64_C(0) - (u & 1));
}

/* Write x as a varint at p (room for 10 bytes); returns its length. */
static inline size_t
varint_put(uint8_t *p, uint64_t x)
{
	size_t		n = 0;

	while (x >= 0x80)
	{
		p[n++] = (uint8_t) (x | 0x80);
		x >>= 7;
	}
	p[n++] = (uint8_t) x;
	return n;
}

/* Bytes the varint of x takes. */
static size_t
varint_len(uint64_t x)
{
	size_t		n = 1;

	while (x >= 0x80)
	{
		x >>= 7;
		n++;
	}
	return n;
}

/* Append len bytes to b, or mark it overflowed. */
static void
buf_put(DenseBuf *b, const void *src, size_t len)
{
	if (b->overflow || len > b->cap - b->len)
	{
		b->overflow = true;
		return;
	}
	if (len > 0)
		memcpy(b->p + b->len, src, len);
	b->len += len;
}

/* Append a varint to b. */
static void
buf_varint(DenseBuf *b, uint64_t x)
{
	uint8_t		tmp[DENSE_VARINT_MAX];

	buf_put(b, tmp, varint_put(tmp, x));
}

/* Next byte of r, or 0 with r->bad set at the end. */
static inline uint8_t
rd_byte(DenseReader *r)
{
	if (r->pos >= r->len)
	{
		r->bad = true;
		return 0;
	}
	return r->p ? r->p[r->pos++] : (r->pos++, 0);
}

/*
 * Next varint of r; longer than 10 bytes or above 2^64 - 1 sets r->bad.
 * With ten bytes left (nearly every varint of a stream) the bytes are read
 * without a bound check each; the result is the same either way.
 */
static inline uint64_t
rd_varint(DenseReader *r)
{
	uint64_t	x = 0;

	if (r->p != NULL && !r->bad && r->len - r->pos >= DENSE_VARINT_MAX)
	{
		const uint8_t *p = r->p + r->pos;

		if (p[0] < 0x80)
		{
			r->pos++;
			return p[0];
		}
		for (int i = 0; i < DENSE_VARINT_MAX; i++)
		{
			if (i == DENSE_VARINT_MAX - 1 && p[i] > 1)
				break;
			x |= (uint64_t) (p[i] & 0x7f) << (7 * i);
			if (p[i] < 0x80)
			{
				r->pos += i + 1;
				return x;
			}
		}
		r->pos += DENSE_VARINT_MAX;
		r->bad = true;
		return 0;
	}

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8_t		b = rd_byte(r);

		if (shift == 63 && b > 1)
			r->bad = true;
		x |= (uint64_t) (b & 0x7f) << shift;
		if (!(b & 0x80) || r->bad)
			return r->bad ? 0 : x;
	}
	r->bad = true;
	return 0;
}


/* The value of mantissa m at exponent e, exactly as the decoder computes it. */
static inline double
dec_value(int64_t m, int e)
{
	return e >= 0 ? (double) m * pow10tab[e] : (double) m / pow10tab[-e];
}

/*
 * Split v into the shortest decimal m * 10^ehi that dec_value turns back
 * into v's exact bits; *elo is the lowest exponent at which the mantissa
 * still fits in 2^53.  False if v has no such form (NaN, Inf, -0.0, ...).
 */
static bool
dec_split(double v, int64_t *mant, int *ehi, int *elo)
{
	double		a = fabs(v);
	double		q = 0;
	int			e;
	uint64_t	am;

	if (!(a <= DBL_MAX) || (v == 0 && signbit(v)))
		return false;
	if (a <= 0x1p53 && v == floor(v))
	{
		e = 0;
		q = v;
	}
	else if (a > 0x1p53)
	{
		for (e = 1; e <= DENSE_MAX_EXP; e++)
		{
			q = nearbyint(v / pow10tab[e]);
			if (fabs(q) <= 0x1p53 && pha_double_bits(q * pow10tab[e]) == pha_double_bits(v))
				break;
		}
		if (e > DENSE_MAX_EXP)
			return false;
	}
	else
	{
		for (e = 1; e <= DENSE_MAX_EXP; e++)
		{
			double		x = v * pow10tab[e];

			if (fabs(x) > 0x1p53)
				return false;
			q = nearbyint(x);
			if (pha_double_bits(q / pow10tab[e]) == pha_double_bits(v))
				break;
		}
		if (e > DENSE_MAX_EXP)
			return false;
		e = -e;
	}
	*mant = (int64_t) q;
	while (*mant != 0 && *mant % 10 == 0 && e < DENSE_MAX_EXP)
	{
		*mant /= 10;
		e++;
	}
	if (*mant == 0)
		e = DENSE_MAX_EXP;
	*ehi = e;
	am = *mant < 0 ? (uint64_t) 0 - (uint64_t) *mant : (uint64_t) *mant;
	while (e > -DENSE_MAX_EXP && am <= DENSE_MANT_LIMIT / 10)
	{
		am *= 10;
		e--;
	}
	*elo = e;
	return true;
}

/* Write the zigzag varints of x[0..n-1] coded per plan into out; returns the length. */
static size_t
seq_write(const int64_t *x, size_t n, SeqPlan plan, uint8_t *out)
{
	size_t		len = 0;
	uint64_t	prev = plan.base;

	for (size_t i = 1; i < n; i++)
	{
		uint64_t	d = (uint64_t) x[i] - (uint64_t) x[i - 1];

		if (plan.mode == SEQ_DELTA)
			len += varint_put(out + len, zz_enc(d - plan.base));
		else if (i >= 2)
		{
			len += varint_put(out + len, zz_enc(d - prev));
			prev = d;
		}
	}
	return len;
}

/*
 * Order-0 entropy of the bytes plus half a byte per distinct byte (the
 * Huffman table): what zstd is likely to make of them, in bytes.
 */
static double
est_size(const uint8_t *p, size_t len)
{
	uint32_t	h[256] = {0};
	double		bits = 0;

	for (size_t i = 0; i < len; i++)
		h[p[i]]++;
	for (int s = 0; s < 256; s++)
		if (h[s] > 0)
			bits += h[s] * log2((double) len / h[s]) + 4;
	return bits / 8;
}

/*
 * Choose how to delta code x[0..n-1] (n >= 2): delta minus 0, delta minus
 * the mean delta, or delta of deltas, by est_size; leaves the chosen bytes
 * in out and returns their length.  increasing: x is a time sequence.
 */
static size_t
seq_choose(const int64_t *x, size_t n, bool increasing, uint8_t *out, SeqPlan *plan)
{
	uint64_t	span = (uint64_t) x[n - 1] - (uint64_t) x[0];
	SeqPlan		cand[3];
	double		best = 0;
	int			pick = 0;
	size_t		len = 0;

	cand[0].mode = SEQ_DELTA;
	cand[0].base = 0;
	cand[1].mode = SEQ_DELTA;
	cand[1].base = increasing ? span / (n - 1) : (uint64_t) ((int64_t) span / (int64_t) (n - 1));
	cand[2].mode = SEQ_DOD;
	cand[2].base = (uint64_t) x[1] - (uint64_t) x[0];
	for (int i = 0; i < 3; i++)
	{
		double		est;

		len = seq_write(x, n, cand[i], out);
		est = est_size(out, len) + varint_len(cand[i].base);
		if (i == 0 || est < best)
		{
			best = est;
			pick = i;
		}
	}
	*plan = cand[pick];
	return pick == 2 ? len : seq_write(x, n, *plan, out);
}

/* The process's compression context, made on first use with the chunk's frame parameters. */
static PhaCodecStatus
dense_cctx(void)
{
	if (kept_cctx == NULL)
	{
		ZSTD_CCtx  *x = ZSTD_createCCtx();

		if (x == NULL)
			return PHA_CODEC_NOMEM;
		if (ZSTD_isError(ZSTD_CCtx_setParameter(x, ZSTD_c_compressionLevel, DENSE_ZSTD_LEVEL)) ||
			ZSTD_isError(ZSTD_CCtx_setParameter(x, ZSTD_c_format, ZSTD_f_zstd1_magicless)) ||
			ZSTD_isError(ZSTD_CCtx_setParameter(x, ZSTD_c_contentSizeFlag, 1)) ||
			ZSTD_isError(ZSTD_CCtx_setParameter(x, ZSTD_c_checksumFlag, 0)) ||
			ZSTD_isError(ZSTD_CCtx_setParameter(x, ZSTD_c_dictIDFlag, 0)))
		{
			ZSTD_freeCCtx(x);
			return PHA_CODEC_NOMEM;
		}
		kept_cctx = x;
	}
	return PHA_CODEC_OK;
}

/*
 * Append raw[0..rawlen-1] to b as a stream in its smallest storage (all
 * zero, zstd, raw); *enc says which.  zbuf holds ZSTD_compressBound(rawlen).
 */
static PhaCodecStatus
put_stream(DenseCtx *c, const uint8_t *raw, size_t rawlen, uint8_t *zbuf, DenseBuf *b, int *enc)
{
	size_t		zlen = 0;
	size_t		i = 0;
	PhaCodecStatus st;

	while (i < rawlen && raw[i] == 0)
		i++;
	buf_varint(b, rawlen);
	if (i == rawlen)
	{
		*enc = ENC_ZERO;
		return PHA_CODEC_OK;
	}
	if (rawlen >= DENSE_MIN_ZSTD)
	{
		if ((st = dense_cctx()) != PHA_CODEC_OK)
			return st;
		zlen = ZSTD_compress2(kept_cctx, zbuf, ZSTD_compressBound(rawlen), raw, rawlen);
		if (ZSTD_isError(zlen))
		{
			if (dense_zstd_status(zlen, PHA_CODEC_OK) != PHA_CODEC_OK)
				return PHA_CODEC_NOMEM;
			zlen = rawlen;		/* incompressible: store raw */
		}
	}
	if (zlen > 0 && varint_len(zlen) + zlen < rawlen)
	{
		*enc = ENC_ZSTD;
		buf_varint(b, zlen);
		buf_put(b, zbuf, zlen);
	}
	else
	{
		*enc = ENC_RAW;
		buf_put(b, raw, rawlen);
	}
	return PHA_CODEC_OK;
}

/*
 * Decimal form of v[0..n-1]: picks E, fills mant[] (an exception repeats
 * the previous mantissa) and exc[] (1 = exception); returns the number of
 * exceptions, n when no value is a decimal.  range[] is scratch, 2n bytes.
 */
static size_t
dec_prepare(const double *v, size_t n, int64_t *mant, uint8_t *exc, int8_t *range, int *exp_out)
{
	int32_t		cover[DENSE_NEXP + 1] = {0};
	int32_t		run = 0,
				best = 0;
	int			e = 0;
	size_t		nexc = 0;
	int64_t		prev = 0;

	/* mant[] first holds each value's shortest mantissa, exc[] its exponent range */
	for (size_t i = 0; i < n; i++)
	{
		int			hi,
					lo;

		exc[i] = 1;
		if (!dec_split(v[i], &mant[i], &hi, &lo))
			continue;
		exc[i] = 0;
		range[2 * i] = (int8_t) lo;
		range[2 * i + 1] = (int8_t) hi;
		cover[lo + DENSE_MAX_EXP]++;
		cover[hi + DENSE_MAX_EXP + 1]--;
	}
	for (int k = 0; k < DENSE_NEXP; k++)
	{
		run += cover[k];
		if (run > 0 && run >= best)
		{
			best = run;
			e = k - DENSE_MAX_EXP;
		}
	}
	if (best == 0)
		return n;
	*exp_out = e;
	for (size_t i = 0; i < n; i++)
	{
		int64_t		m = mant[i];

		if (!exc[i] && e >= range[2 * i] && e <= range[2 * i + 1])
		{
			for (int k = e; k < range[2 * i + 1]; k++)
				m *= 10;
			if (pha_double_bits(dec_value(m, e)) == pha_double_bits(v[i]))
			{
				mant[i] = prev = m;
				continue;
			}
		}
		exc[i] = 1;
		mant[i] = prev;
		nexc++;
	}
	return nexc;
}

/* The value section in decimal coding, with its exceptions, appended to b. */
static PhaCodecStatus
put_dec_section(DenseCtx *c, const double *v, size_t n, const int64_t *mant, const uint8_t *exc,
				size_t nexc, int e, uint8_t *raw, uint8_t *zbuf, DenseBuf *b, int *vmode, int *venc)
{
	SeqPlan		plan = {SEQ_DELTA, 0};
	size_t		len = n >= 2 ? seq_choose(mant, n, false, raw, &plan) : 0;
	size_t		last = 0;
	bool		first = true;

	for (size_t i = 0; i < n; i++)
		if (exc[i])
		{
			uint64_t	bits = pha_double_bits(v[i]);

			len += varint_put(raw + len, first ? i : i - last - 1);
			for (int k = 0; k < 8; k++)
				raw[len++] = (uint8_t) (bits >> (8 * k));
			last = i;
			first = false;
		}
	*vmode = plan.mode == SEQ_DOD ? VAL_DEC_DOD : VAL_DEC_DELTA;
	buf_varint(b, zz_enc((uint64_t) (int64_t) e));
	buf_varint(b, zz_enc((uint64_t) mant[0]));
	buf_varint(b, plan.base);
	buf_varint(b, nexc);
	return put_stream(c, raw, len, zbuf, b, venc);
}

/* The value section in XOR byte-plane coding appended to b. */
static PhaCodecStatus
put_xor_section(DenseCtx *c, const double *v, size_t n, uint8_t *raw, uint8_t *zbuf,
				DenseBuf *b, int *venc)
{
	uint64_t	prev = 0;

	for (size_t i = 0; i < n; i++)
	{
		uint64_t	bits = pha_double_bits(v[i]);
		uint64_t	x = bits ^ prev;

		for (int p = 0; p < 8; p++)
			raw[(size_t) p * n + i] = (uint8_t) (x >> (8 * (7 - p)));
		prev = bits;
	}
	return put_stream(c, raw, 8 * n, zbuf, b, venc);
}

/*
 * Largest dense chunk of n samples: time varints plus at most 8 bytes per
 * value (the encoder keeps decimal values only when they are no larger).
 */
size_t
pha_dense_bound(size_t n)
{
	if (n > (SIZE_MAX - DENSE_HEADER_MAX) / (DENSE_VARINT_MAX + 8))
		return SIZE_MAX;
	return DENSE_HEADER_MAX + n * (DENSE_VARINT_MAX + 8);
}

/*
 * Encode n samples (times strictly increasing) as a dense chunk into out
 * (cap bytes); *len is its size, 0 on failure.
 */
PhaCodecStatus
pha_dense_encode(const int64_t *t, const double *v, size_t n, const PhaCodecMem *mem,
				 uint8_t *out, size_t cap, size_t *len)
{
	DenseCtx	c = {mem, {NULL}, 0};
	DenseBuf	b = {out, cap, 0, false};
	DenseBuf	dec,
				xsec;
	size_t		vraw = n * (DENSE_VARINT_MAX + DENSE_EXC_MAX);
	size_t		zcap = ZSTD_compressBound(vraw);
	size_t		secsize = DENSE_HEADER_MAX + zcap;
	uint8_t    *scratch,
			   *raw,
			   *zbuf,
			   *exc;
	int8_t	   *range;
	int64_t    *mant;
	SeqPlan		tplan = {SEQ_DELTA, 0};
	size_t		nexc,
				tlen;
	int			e = 0,
				tenc = ENC_ZERO,
				vmode = VAL_XOR,
				venc = ENC_ZERO,
				xenc = ENC_ZERO;
	PhaCodecStatus st;

	*len = 0;
	if (t == NULL || v == NULL || out == NULL || mem == NULL || n == 0)
		return PHA_CODEC_BAD_FORMAT;
	if (n > PHA_DENSE_MAX_SAMPLES)
		return PHA_CODEC_TOO_LARGE;
	for (size_t i = 1; i < n; i++)
		if (t[i] <= t[i - 1])
			return PHA_CODEC_UNSORTED;

	/* scratch: mantissas, exponent ranges, exception flags, raw stream, zstd output, 2 sections */
	scratch = dense_alloc(&c, n * sizeof(int64_t) + 3 * n + vraw + zcap + 2 * secsize);
	if (scratch == NULL)
		return PHA_CODEC_NOMEM;
	mant = (int64_t *) scratch;
	range = (int8_t *) (scratch + n * sizeof(int64_t));
	exc = scratch + n * sizeof(int64_t) + 2 * n;
	raw = exc + n;
	zbuf = raw + vraw;
	dec = (DenseBuf) {zbuf + zcap, secsize, 0, false};
	xsec = (DenseBuf) {zbuf + zcap + secsize, secsize, 0, false};

	/* header and time section, straight into out; the mode byte is patched last */
	buf_put(&b, "", 1);
	buf_varint(&b, n);
	buf_varint(&b, zz_enc((uint64_t) t[0]));
	if (n >= 2)
	{
		tlen = seq_choose(t, n, true, raw, &tplan);
		buf_varint(&b, tplan.base);
		if ((st = put_stream(&c, raw, tlen, zbuf, &b, &tenc)) != PHA_CODEC_OK)
			goto done;
	}

	/* values: decimal if most are, XOR planes too when that might be smaller */
	nexc = dec_prepare(v, n, mant, exc, range, &e);
	if (nexc < n)
	{
		st = put_dec_section(&c, v, n, mant, exc, nexc, e, raw, zbuf, &dec, &vmode, &venc);
		if (st != PHA_CODEC_OK)
			goto done;
	}
	if (nexc > 0 || dec.len > 4 * n)
	{
		if ((st = put_xor_section(&c, v, n, raw, zbuf, &xsec, &xenc)) != PHA_CODEC_OK)
			goto done;
		if (nexc == n || xsec.len < dec.len)
		{
			dec = xsec;
			vmode = VAL_XOR;
			venc = xenc;
		}
	}
	buf_put(&b, dec.p, dec.len);
	st = b.overflow ? PHA_CODEC_TOO_LARGE : PHA_CODEC_OK;
	if (st == PHA_CODEC_OK)
	{
		out[0] = (uint8_t) (tplan.mode | vmode << 1 | tenc << 3 | venc << 5);
		*len = b.len;
	}
done:
	dense_done(&c);
	return st;
}

/* Samples a dense chunk holds, from its header only. */
PhaCodecStatus
pha_dense_count(const uint8_t *buf, size_t len, size_t *n)
{
	DenseReader r = {buf, len, 0, false};
	uint8_t		mode;
	uint64_t	cnt;

	*n = 0;
	if (buf == NULL)
		return PHA_CODEC_CORRUPT;
	mode = rd_byte(&r);
	cnt = rd_varint(&r);
	if (r.bad || (mode & 0x80) || MODE_VAL(mode) == 3 || MODE_TENC(mode) == 3 ||
		MODE_VENC(mode) == 3 || cnt == 0 || cnt > PHA_DENSE_MAX_SAMPLES)
		return PHA_CODEC_CORRUPT;
	*n = (size_t) cnt;
	return PHA_CODEC_OK;
}

/* The process's decompression context (magicless frames), made on first use. */
static PhaCodecStatus
dense_dctx(void)
{
	if (kept_dctx == NULL)
	{
		ZSTD_DCtx  *x = ZSTD_createDCtx();

		if (x == NULL)
			return PHA_CODEC_NOMEM;
		if (ZSTD_isError(ZSTD_DCtx_setParameter(x, ZSTD_d_format, ZSTD_f_zstd1_magicless)))
		{
			ZSTD_freeDCtx(x);
			return PHA_CODEC_NOMEM;
		}
		kept_dctx = x;
	}
	return PHA_CODEC_OK;
}

/*
 * Read a stream stored as enc from r into s; its raw length may be at most
 * maxraw.  A zstd frame must declare exactly that raw length and produce it.
 */
static PhaCodecStatus
get_stream(DenseCtx *c, DenseReader *r, int enc, size_t maxraw, DenseReader *s)
{
	uint64_t	rawlen = rd_varint(r);
	uint64_t	zlen;
	ZSTD_frameHeader zfh;
	uint8_t    *dst;
	size_t		got;
	PhaCodecStatus st;

	if (r->bad || rawlen > maxraw)
		return PHA_CODEC_CORRUPT;
	*s = (DenseReader) {NULL, (size_t) rawlen, 0, false};
	if (enc == ENC_ZERO)
		return PHA_CODEC_OK;
	if (enc == ENC_RAW)
	{
		if (rawlen > r->len - r->pos)
			return PHA_CODEC_CORRUPT;
		s->p = r->p + r->pos;
		r->pos += (size_t) rawlen;
		return PHA_CODEC_OK;
	}
	zlen = rd_varint(r);
	if (r->bad || zlen == 0 || zlen > r->len - r->pos || rawlen == 0)
		return PHA_CODEC_CORRUPT;
	if (ZSTD_getFrameHeader_advanced(&zfh, r->p + r->pos, (size_t) zlen, ZSTD_f_zstd1_magicless) != 0 ||
		zfh.frameType != ZSTD_frame || zfh.frameContentSize != rawlen)
		return PHA_CODEC_CORRUPT;
	if ((st = dense_dctx()) != PHA_CODEC_OK)
		return st;
	if ((dst = dense_alloc(c, (size_t) rawlen)) == NULL)
		return PHA_CODEC_NOMEM;
	got = ZSTD_decompressDCtx(kept_dctx, dst, (size_t) rawlen, r->p + r->pos, (size_t) zlen);
	if (ZSTD_isError(got))
		return dense_zstd_status(got, PHA_CODEC_CORRUPT);
	if (got != rawlen)
		return PHA_CODEC_CORRUPT;
	r->pos += (size_t) zlen;
	s->p = dst;
	return PHA_CODEC_OK;
}

/*
 * Decode the delta-coded times t[1..n-1] from s (t[0] is set): each step
 * must be at least 1 and must not pass INT64_MAX.
 */
static PhaCodecStatus
get_times(DenseReader *s, int mode, uint64_t base, int64_t *t, size_t n)
{
	uint64_t	d = base;

	for (size_t i = 1; i < n; i++)
	{
		if (mode == SEQ_DELTA)
			d = zz_dec(rd_varint(s)) + base;
		else if (i >= 2)
			d += zz_dec(rd_varint(s));
		if (d == 0 || d > (uint64_t) INT64_MAX - (uint64_t) t[i - 1])
			return PHA_CODEC_CORRUPT;
		t[i] = (int64_t) ((uint64_t) t[i - 1] + d);
	}
	return s->bad || s->pos != s->len ? PHA_CODEC_CORRUPT : PHA_CODEC_OK;
}

/* Decode decimal values (mantissas, then exceptions) from s into v[0..n-1]. */
static PhaCodecStatus
get_dec_values(DenseReader *s, int mode, int e, uint64_t m0, uint64_t base, uint64_t nexc,
			   double *v, size_t n)
{
	uint64_t	m = m0;
	uint64_t	d = base;
	size_t		pos = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (i > 0 && mode == VAL_DEC_DELTA)
			m += zz_dec(rd_varint(s)) + base;
		else if (i > 0)
		{
			if (i >= 2)
				d += zz_dec(rd_varint(s));
			m += d;
		}
		if (m + DENSE_MANT_LIMIT > 2 * DENSE_MANT_LIMIT)
			return PHA_CODEC_CORRUPT;
		v[i] = dec_value((int64_t) m, e);
	}
	for (uint64_t k = 0; k < nexc; k++)
	{
		uint64_t	gap = rd_varint(s);
		uint64_t	bits = 0;

		if (k == 0 ? gap >= n : gap >= n - pos - 1)
			return PHA_CODEC_CORRUPT;
		pos = k == 0 ? (size_t) gap : pos + 1 + (size_t) gap;
		for (int b = 0; b < 8; b++)
			bits |= (uint64_t) rd_byte(s) << (8 * b);
		v[pos] = pha_bits_double(bits);
	}
	return s->bad || s->pos != s->len ? PHA_CODEC_CORRUPT : PHA_CODEC_OK;
}

/* Decode XOR byte planes (exactly 8 * n bytes) from s into v[0..n-1]. */
static PhaCodecStatus
get_xor_values(DenseReader *s, double *v, size_t n)
{
	uint64_t	prev = 0;

	if (s->len != 8 * n)
		return PHA_CODEC_CORRUPT;
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	x = 0;

		for (int p = 0; p < 8 && s->p != NULL; p++)
			x |= (uint64_t) s->p[(size_t) p * n + i] << (8 * (7 - p));
		prev ^= x;
		v[i] = pha_bits_double(prev);
	}
	return PHA_CODEC_OK;
}

/*
 * Decode a dense chunk into t[] and v[] (room for max samples each); *n is
 * the sample count, 0 on failure.  The bytes are untrusted.
 */
PhaCodecStatus
pha_dense_decode(const uint8_t *buf, size_t len, const PhaCodecMem *mem,
				 int64_t *t, double *v, size_t max, size_t *n)
{
	DenseCtx	c = {mem, {NULL}, 0};
	DenseReader r = {buf, len, 0, false};
	DenseReader s;
	size_t		cnt;
	uint8_t		mode;
	uint64_t	base,
				m0,
				nexc;
	int64_t		e;
	PhaCodecStatus st;

	*n = 0;
	if ((st = pha_dense_count(buf, len, &cnt)) != PHA_CODEC_OK)
		return st;
	if (mem == NULL || t == NULL || v == NULL)
		return PHA_CODEC_BAD_FORMAT;
	if (cnt > max)
		return PHA_CODEC_TOO_LARGE;
	mode = rd_byte(&r);
	(void) rd_varint(&r);
	t[0] = (int64_t) zz_dec(rd_varint(&r));
	if (r.bad)
		return PHA_CODEC_CORRUPT;
	if (cnt >= 2)
	{
		base = rd_varint(&r);
		if (r.bad)
			return PHA_CODEC_CORRUPT;
		st = get_stream(&c, &r, MODE_TENC(mode), DENSE_VARINT_MAX * (cnt - 1), &s);
		if (st == PHA_CODEC_OK)
			st = get_times(&s, MODE_TSEQ(mode), base, t, cnt);
		if (st != PHA_CODEC_OK)
			goto done;
	}
	if (MODE_VAL(mode) == VAL_XOR)
	{
		st = get_stream(&c, &r, MODE_VENC(mode), 8 * cnt, &s);
		if (st == PHA_CODEC_OK)
			st = get_xor_values(&s, v, cnt);
	}
	else
	{
		e = (int64_t) zz_dec(rd_varint(&r));
		m0 = zz_dec(rd_varint(&r));
		base = rd_varint(&r);
		nexc = rd_varint(&r);
		st = PHA_CODEC_CORRUPT;
		if (!r.bad && e >= -DENSE_MAX_EXP && e <= DENSE_MAX_EXP && nexc <= cnt)
			st = get_stream(&c, &r, MODE_VENC(mode),
							DENSE_VARINT_MAX * (cnt - 1) + DENSE_EXC_MAX * (size_t) nexc, &s);
		if (st == PHA_CODEC_OK)
			st = get_dec_values(&s, MODE_VAL(mode), (int) e, m0, base, nexc, v, cnt);
	}
	if (st == PHA_CODEC_OK && r.pos != len)
		st = PHA_CODEC_CORRUPT;
	if (st == PHA_CODEC_OK)
		*n = cnt;
done:
	dense_done(&c);
	return st;
}
