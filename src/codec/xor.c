/*-------------------------------------------------------------------------
 *
 * xor.c
 *	  Prometheus 2.x XOR chunk codec (the layout of tsdb/chunkenc/xor.go).
 *
 * A chunk is a 2-byte big-endian sample count, then a bit stream: the first
 * sample as a zigzag varint timestamp and 64 raw value bits, the second as
 * an unsigned varint timestamp delta and an XOR-coded value, every later one
 * as a bucketed delta-of-delta and an XOR-coded value.  README.md in this
 * folder has the table; the points that must match Prometheus bit for bit
 * are commented where they happen (dod bucket ranges, leading-zero cap,
 * 64 significant bits written as 0).
 *
 * Timestamps are handled as uint64 throughout: the delta of two strictly
 * increasing int64 values is exact in [1, 2^64-1], and the delta-of-delta
 * wraps modulo 2^64 on both sides exactly as Go's does, so every int64
 * series round-trips.  The decoder rejects a delta of 0 or a step past
 * INT64_MAX instead of wrapping, which makes such a chunk CORRUPT.
 *
 * Plain C over libc: no PostgreSQL headers, no allocation, no globals.
 *
 *-------------------------------------------------------------------------
 */
#include "codec/xor.h"

#include <string.h>

#define XOR_HEADER_BYTES 2
#define VARINT_MAX_BYTES 10
#define NO_WINDOW 0xff			/* encoder: no leading/trailing window yet */

/* Worst case bits per sample: see pha_xor_bound. */
#define XOR_VALUE_MAX_BITS (2 + 5 + 6 + 64)
#define FIRST_SAMPLE_BITS (VARINT_MAX_BYTES * 8 + 64)
#define SECOND_SAMPLE_BITS (VARINT_MAX_BYTES * 8 + XOR_VALUE_MAX_BITS)
#define LATER_SAMPLE_BITS (4 + 64 + XOR_VALUE_MAX_BITS)

/* Encoder state carried from one sample to the next. */
typedef struct XorEncState
{
	int64_t		t;
	uint64_t	delta;
	uint64_t	vbits;
	uint8_t		leading;
	uint8_t		trailing;
} XorEncState;

/* Convert modulo 2^64 without relying on implementation-defined casts. */
static inline int64_t
u64_to_i64(uint64_t u)
{
	if (u <= (uint64_t) INT64_MAX)
		return (int64_t) u;
	return -(int64_t) (~u) - 1;
}


/* Leading zero bits of a non-zero 64-bit word. */
static inline unsigned
clz64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
	return (unsigned) __builtin_clzll(x);
#else
	unsigned	n = 0;

	while (!(x & (UINT64_C(1) << 63)))
	{
		x <<= 1;
		n++;
	}
	return n;
#endif
}

/* Trailing zero bits of a non-zero 64-bit word: isolate the lowest set bit. */
static inline unsigned
ctz64(uint64_t x)
{
	return 63 - clz64(x & (~x + 1));
}

/* Fewest bytes a chunk of n samples can take: the decoder's sanity floor. */
static size_t
xor_min_bytes(size_t n)
{
	size_t		bits = XOR_HEADER_BYTES * 8 + 8 + 64;	/* 1-byte varint */

	if (n >= 2)
		bits += 8 + 1;			/* 1-byte uvarint, value unchanged */
	if (n >= 3)
		bits += (n - 2) * 2;	/* dod '0', value unchanged */
	return (bits + 7) / 8;
}

/*
 * Largest encoding of n samples; n above the format's limit is clamped (the
 * encoder refuses such n anyway), so the result never overflows.
 */
size_t
pha_xor_bound(size_t n)
{
	size_t		bits = XOR_HEADER_BYTES * 8;

	if (n > PHA_XOR_MAX_SAMPLES)
		n = PHA_XOR_MAX_SAMPLES;
	if (n >= 1)
		bits += FIRST_SAMPLE_BITS;
	if (n >= 2)
		bits += SECOND_SAMPLE_BITS;
	if (n >= 3)
		bits += (n - 2) * LATER_SAMPLE_BITS;
	return (bits + 7) / 8;
}

/* Go's PutUvarint: 7 bits a byte, low group first, high bit = more follows. */
static void
put_uvarint(PhaBitWriter *w, uint64_t x)
{
	while (x >= 0x80)
	{
		pha_bw_write(w, (x & 0x7f) | 0x80, 8);
		x >>= 7;
	}
	pha_bw_write(w, x, 8);
}

/*
 * Go's ReadUvarint: at most 10 bytes, and the 10th may only carry the one
 * remaining bit.  Anything else (or running out of input) is corrupt.
 */
static bool
get_uvarint(PhaBitReader *r, uint64_t *out)
{
	uint64_t	x = 0;
	unsigned	shift = 0;

	for (int i = 0; i < VARINT_MAX_BYTES; i++)
	{
		uint64_t	b = pha_br_read(r, 8);

		if (r->error)
			return false;
		if (b < 0x80)
		{
			if (i == VARINT_MAX_BYTES - 1 && b > 1)
				return false;
			*out = x | (b << shift);
			return true;
		}
		x |= (b & 0x7f) << shift;
		shift += 7;
	}
	return false;
}

/*
 * Write the value as an XOR against the previous one (Prometheus' xorWrite):
 * '0' when equal; '10' + bits inside the previous window when the new
 * difference fits it; else '11', 5 bits leading, 6 bits length, the bits.
 */
static void
put_xor_value(PhaBitWriter *w, XorEncState *st, uint64_t vbits)
{
	uint64_t	x = vbits ^ st->vbits;
	unsigned	lead;
	unsigned	trail;
	unsigned	sig;

	st->vbits = vbits;
	if (x == 0)
	{
		pha_bw_write(w, 0, 1);
		return;
	}
	lead = clz64(x);
	trail = ctz64(x);

	/* Only 5 bits for the leading count: Prometheus caps it at 31. */
	if (lead > 31)
		lead = 31;

	/* Reuse the window when the new significant bits fall inside it. */
	if (st->leading != NO_WINDOW && lead >= st->leading && trail >= st->trailing)
	{
		pha_bw_write(w, 0x2, 2);
		pha_bw_write(w, x >> st->trailing, 64 - st->leading - st->trailing);
		return;
	}
	st->leading = (uint8_t) lead;
	st->trailing = (uint8_t) trail;
	sig = 64 - lead - trail;

	/* 64 significant bits do not fit in 6 bits; 0 is never needed: it means 64. */
	pha_bw_write(w, (UINT64_C(0x3) << 11) | ((uint64_t) lead << 6) | (sig & 63), 13);
	pha_bw_write(w, x >> trail, sig);
}

/*
 * Write a delta-of-delta in the smallest Prometheus bucket.  The buckets are
 * asymmetric ranges -(2^(k-1)-1) .. 2^(k-1) for k = 14, 17, 20, exactly as
 * Go's bitRange; the decoder maps values above 2^(k-1) back to negatives.
 */
static void
put_dod(PhaBitWriter *w, uint64_t dod_bits)
{
	int64_t		dod = u64_to_i64(dod_bits);

	if (dod == 0)
		pha_bw_write(w, 0, 1);
	else if (dod >= -8191 && dod <= 8192)
	{
		pha_bw_write(w, 0x2, 2);
		pha_bw_write(w, dod_bits, 14);
	}
	else if (dod >= -65535 && dod <= 65536)
	{
		pha_bw_write(w, 0x6, 3);
		pha_bw_write(w, dod_bits, 17);
	}
	else if (dod >= -524287 && dod <= 524288)
	{
		pha_bw_write(w, 0xe, 4);
		pha_bw_write(w, dod_bits, 20);
	}
	else
	{
		pha_bw_write(w, 0xf, 4);
		pha_bw_write(w, dod_bits, 64);
	}
}

/*
 * Encode n samples (1..65535, times strictly increasing) into out, which
 * holds cap bytes; pha_xor_bound(n) bytes are always enough.  *len gets the
 * chunk's size on success and 0 otherwise.
 */
PhaCodecStatus
pha_xor_encode(const int64_t *t, const double *v, size_t n,
			   uint8_t *out, size_t cap, size_t *len)
{
	PhaBitWriter w;
	XorEncState st;

	*len = 0;
	if (n == 0 || t == NULL || v == NULL || out == NULL)
		return PHA_CODEC_BAD_FORMAT;
	if (n > PHA_XOR_MAX_SAMPLES)
		return PHA_CODEC_TOO_LARGE;
	for (size_t i = 1; i < n; i++)
		if (t[i] <= t[i - 1])
			return PHA_CODEC_UNSORTED;

	pha_bw_init(&w, out, cap);
	pha_bw_write(&w, n, 16);

	/* First sample: zigzag varint time (Go's PutVarint), raw value bits. */
	st.t = t[0];
	st.vbits = pha_double_bits(v[0]);
	st.delta = 0;
	st.leading = NO_WINDOW;
	st.trailing = 0;
	put_uvarint(&w, t[0] < 0 ? ~((uint64_t) t[0] << 1) : (uint64_t) t[0] << 1);
	pha_bw_write(&w, st.vbits, 64);

	for (size_t i = 1; i < n; i++)
	{
		/* Strictly increasing, so the unsigned difference is exact. */
		uint64_t	delta = (uint64_t) t[i] - (uint64_t) st.t;

		if (i == 1)
			put_uvarint(&w, delta);
		else
			put_dod(&w, delta - st.delta);
		put_xor_value(&w, &st, pha_double_bits(v[i]));
		st.t = t[i];
		st.delta = delta;
	}

	*len = pha_bw_length(&w);
	if (w.overflow)
	{
		*len = 0;
		return PHA_CODEC_TOO_LARGE;
	}
	return PHA_CODEC_OK;
}

/*
 * Check the header of a chunk: a count of 1..65535 and a length that such
 * a count can have.  Shared by pha_xor_count and the iterator.
 */
static PhaCodecStatus
xor_header(const uint8_t *buf, size_t len, size_t *n)
{
	size_t		count;

	if (buf == NULL || len < XOR_HEADER_BYTES)
		return PHA_CODEC_CORRUPT;
	count = ((size_t) buf[0] << 8) | buf[1];
	if (count == 0 || len < xor_min_bytes(count) || len > pha_xor_bound(count))
		return PHA_CODEC_CORRUPT;
	*n = count;
	return PHA_CODEC_OK;
}

/*
 * Number of samples a chunk announces, from its header alone (O(1)): for
 * sizing the arrays of pha_xor_decode, which is what validates the rest.
 */
PhaCodecStatus
pha_xor_count(const uint8_t *buf, size_t len, size_t *n)
{
	*n = 0;
	return xor_header(buf, len, n);
}

/* Prepare to stream a chunk; CORRUPT when even the header is wrong. */
PhaCodecStatus
pha_xor_iter_init(PhaXorIter *it, const uint8_t *buf, size_t len)
{
	size_t		count = 0;
	PhaCodecStatus st = xor_header(buf, len, &count);

	memset(it, 0, sizeof(*it));
	if (st != PHA_CODEC_OK)
	{
		it->corrupt = true;
		pha_br_init(&it->br, NULL, 0);
		return st;
	}
	pha_br_init(&it->br, buf + XOR_HEADER_BYTES, len - XOR_HEADER_BYTES);
	it->total = (uint32_t) count;

	/*
	 * Go's iterator starts with a zero window (not "none"), so a '10' on the
	 * second sample means 64 bits.  Our encoder never writes that, but a
	 * chunk that Prometheus reads, we read the same way.
	 */
	it->leading = 0;
	it->trailing = 0;
	return PHA_CODEC_OK;
}

/* Read the delta-of-delta: prefix '0', '10', '110', '1110' or '1111'. */
static uint64_t
get_dod(PhaBitReader *r)
{
	/* width after each 4-bit look-ahead: the prefix is read as its leading ones */
	static const uint8_t prefix_len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4};
	static const uint8_t widths[16] = {0, 0, 0, 0, 0, 0, 0, 0, 14, 14, 14, 14, 17, 17, 20, 64};
	unsigned	p = (unsigned) pha_br_peek(r, 4);
	unsigned	sz = widths[p];
	uint64_t	bits;

	pha_br_skip(r, prefix_len[p]);
	if (sz == 0 || sz == 64)
		return pha_br_read(r, sz);

	/* Values above 2^(sz-1) are negatives (see put_dod); wrap mod 2^64. */
	bits = pha_br_read56(r, sz);
	if (bits > (UINT64_C(1) << (sz - 1)))
		bits -= UINT64_C(1) << sz;
	return bits;
}

/* Undo put_xor_value; false when the window description is impossible. */
static bool
get_xor_value(PhaXorIter *it)
{
	PhaBitReader *r = &it->br;
	unsigned	p = (unsigned) pha_br_peek(r, 2);
	unsigned	sig;

	if (p < 2)
	{
		pha_br_skip(r, 1);
		return true;			/* '0': unchanged (or past the end: caller checks) */
	}
	pha_br_skip(r, 2);
	if (p == 3)
	{
		unsigned	w = (unsigned) pha_br_read56(r, 11);	/* 5 bits leading, 6 bits length */
		unsigned	lead = w >> 6;

		sig = w & 63;
		if (sig == 0)
			sig = 64;
		if (lead + sig > 64)
			return false;
		it->leading = (uint8_t) lead;
		it->trailing = (uint8_t) (64 - lead - sig);
	}
	else
		sig = 64 - it->leading - it->trailing;
	it->vbits ^= pha_br_read(r, sig) << it->trailing;
	return true;
}

/*
 * Step to the next sample.  Returns 1 with *t and *v set, 0 at a clean end
 * of the chunk, -1 when the chunk is corrupt (and -1 on every later call).
 */
int
pha_xor_iter_next(PhaXorIter *it, int64_t *t, double *v)
{
	PhaBitReader *r = &it->br;

	if (it->corrupt)
		return -1;
	if (it->done == it->total)
	{
		if (pha_br_at_clean_end(r))
			return 0;
		it->corrupt = true;
		return -1;
	}

	if (it->done == 0)
	{
		uint64_t	zz = 0;

		if (!get_uvarint(r, &zz))
			goto corrupt;
		/* Zigzag (Go's ReadVarint): low bit is the sign. */
		it->t = u64_to_i64((zz & 1) ? ~(zz >> 1) : zz >> 1);
		it->vbits = pha_br_read(r, 64);
	}
	else
	{
		uint64_t	delta = 0;

		if (it->done == 1)
		{
			if (!get_uvarint(r, &delta))
				goto corrupt;
		}
		else
			delta = it->delta + get_dod(r);

		/* Times must rise and stay within int64: INT64_MAX - t is exact. */
		if (delta == 0 || delta > (uint64_t) INT64_MAX - (uint64_t) it->t)
			goto corrupt;
		it->delta = delta;
		it->t = u64_to_i64((uint64_t) it->t + delta);
		if (!get_xor_value(it))
			goto corrupt;
	}
	if (r->error)
		goto corrupt;

	it->done++;
	*t = it->t;
	memcpy(v, &it->vbits, sizeof(*v));
	return 1;

corrupt:
	it->corrupt = true;
	return -1;
}

/*
 * Decode a whole chunk into t[] and v[] (room for max samples each).  The
 * chunk must end cleanly after its last sample; *n is 0 unless OK.
 */
PhaCodecStatus
pha_xor_decode(const uint8_t *buf, size_t len, int64_t *t, double *v,
			   size_t max, size_t *n)
{
	PhaXorIter	it;
	PhaCodecStatus st;
	size_t		i = 0;
	int			rc;

	*n = 0;
	st = pha_xor_iter_init(&it, buf, len);
	if (st != PHA_CODEC_OK)
		return st;
	if (it.total > max)
		return PHA_CODEC_TOO_LARGE;
	while ((rc = pha_xor_iter_next(&it, &t[i], &v[i])) == 1)
		i++;
	if (rc < 0)
		return PHA_CODEC_CORRUPT;
	*n = i;
	return PHA_CODEC_OK;
}
