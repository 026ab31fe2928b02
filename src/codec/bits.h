/*-------------------------------------------------------------------------
 *
 * bits.h
 *	  A tiny big-endian bit writer and a bounds-checked bit reader.
 *
 * Bits are packed most significant first, which is the order Prometheus'
 * bstream uses: the first bit written is bit 7 of byte 0.  Both sides move
 * bits through a 64-bit word: the writer collects up to 31 pending bits and
 * stores four bytes each time 32 are complete (pha_bw_length stores the rest,
 * the last byte's padding zero); the reader loads up to eight bytes at a time
 * (one big-endian load away from the end of its input) and serves reads from
 * the word with a shift.  Positions are byte indexes plus bit counts, so no
 * length is ever multiplied by 8 and nothing can overflow.
 *
 * The writer never writes past its capacity: once bytes do not fit it sets
 * "overflow" and stores nothing more (the output is then invalid, and the
 * caller checks the flag after pha_bw_length).  The reader never reads
 * past its length: a read that does not fit sets "error", returns 0 and
 * every later read returns 0 too.  Callers check the flag once, after a
 * group of reads, which keeps the hot paths free of status plumbing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_BITS_H
#define PHA_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The hot helpers below must inline: a call per read costs as much as the read. */
#if defined(__GNUC__) || defined(__clang__)
#define PHA_BITS_INLINE static inline __attribute__((always_inline))
#else
#define PHA_BITS_INLINE static inline
#endif

typedef struct PhaBitWriter
{
	uint8_t    *buf;
	size_t		cap;			/* bytes available in buf */
	size_t		byte;			/* whole bytes written */
	uint64_t	acc;			/* pending bits, in the low nacc bits */
	unsigned	nacc;			/* 0..31 between writes */
	bool		overflow;		/* bytes did not fit; output is invalid */
} PhaBitWriter;

typedef struct PhaBitReader
{
	const uint8_t *buf;
	size_t		len;			/* bytes in buf */
	size_t		pos;			/* next byte to load into acc */
	uint64_t	acc;			/* unread bits, most significant first; zero below */
	unsigned	nacc;			/* valid bits in acc, 0..64 */
	bool		error;			/* a read ran past the end */
} PhaBitReader;

/* Start writing at the beginning of buf, which holds cap bytes. */
static inline void
pha_bw_init(PhaBitWriter *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->byte = 0;
	w->acc = 0;
	w->nacc = 0;
	w->overflow = false;
}

/* Append the low nbits (0..32) of x: four bytes are stored when 32 bits are pending. */
PHA_BITS_INLINE void
pha_bw_write32(PhaBitWriter *w, uint64_t x, unsigned nbits)
{
	w->acc = (w->acc << nbits) | (x & ((UINT64_C(1) << nbits) - 1));
	w->nacc += nbits;
	if (w->nacc >= 32)
	{
		uint32_t	word;

		w->nacc -= 32;
		word = (uint32_t) (w->acc >> w->nacc);
		w->acc &= (UINT64_C(1) << w->nacc) - 1;
		if (w->cap - w->byte >= 4)
		{
			uint8_t    *p = w->buf + w->byte;

			p[0] = (uint8_t) (word >> 24);
			p[1] = (uint8_t) (word >> 16);
			p[2] = (uint8_t) (word >> 8);
			p[3] = (uint8_t) word;
			w->byte += 4;
		}
		else
			w->overflow = true;
	}
}

/*
 * Append the low nbits (0..64) of x, most significant first.  Bytes are
 * written as they are started, so the padding of the last one is zero.
 */
PHA_BITS_INLINE void
pha_bw_write(PhaBitWriter *w, uint64_t x, unsigned nbits)
{
	if (nbits > 32)
	{
		pha_bw_write32(w, x >> 32, nbits - 32);
		nbits = 32;
	}
	pha_bw_write32(w, x, nbits);
}

/*
 * Store the pending bits (the last byte padded with zeros) and return the
 * bytes used so far; writing may go on after it.  Sets "overflow" when they
 * do not fit.
 */
static inline size_t
pha_bw_length(PhaBitWriter *w)
{
	unsigned	nbytes = (w->nacc + 7) / 8;
	uint64_t	left = w->nacc > 0 ? w->acc << (64 - w->nacc) : 0;

	if (w->cap - w->byte < nbytes)
		w->overflow = true;
	else
		for (unsigned i = 0; i < nbytes; i++)
			w->buf[w->byte + i] = (uint8_t) (left >> (56 - 8 * i));
	return w->byte + nbytes;
}

/* Start reading at the beginning of buf, which holds len bytes. */
static inline void
pha_br_init(PhaBitReader *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->acc = 0;
	r->nacc = 0;
	r->error = false;
}

/* Load whole bytes into acc while they fit (57 bits or more, unless the input ends). */
PHA_BITS_INLINE void
pha_br_refill(PhaBitReader *r)
{
	if (r->len - r->pos >= 8)
	{
		const uint8_t *p = r->buf + r->pos;
		uint64_t	w = ((uint64_t) p[0] << 56) | ((uint64_t) p[1] << 48) |
			((uint64_t) p[2] << 40) | ((uint64_t) p[3] << 32) |
			((uint64_t) p[4] << 24) | ((uint64_t) p[5] << 16) |
			((uint64_t) p[6] << 8) | (uint64_t) p[7];
		unsigned	take = (64 - r->nacc) >> 3;

		if (take == 0)
			return;
		/* the take bytes after the nacc bits we have; the rest of w stays unread */
		w >>= r->nacc;
		w &= ~((UINT64_C(1) << (64 - r->nacc - take * 8)) - 1);
		r->acc |= w;
		r->nacc += take * 8;
		r->pos += take;
		return;
	}
	while (r->nacc <= 56 && r->pos < r->len)
	{
		r->acc |= (uint64_t) r->buf[r->pos++] << (56 - r->nacc);
		r->nacc += 8;
	}
}

/*
 * Read nbits (0..56) as an unsigned number, most significant first.  Past
 * the end it sets the error flag and returns 0, consuming nothing.
 */
PHA_BITS_INLINE uint64_t
pha_br_read56(PhaBitReader *r, unsigned nbits)
{
	uint64_t	x;

	if (r->error)
		return 0;
	if (nbits == 0)
		return 0;
	if (r->nacc < nbits)
	{
		pha_br_refill(r);
		if (r->nacc < nbits)
		{
			r->error = true;
			return 0;
		}
	}
	x = r->acc >> (64 - nbits);
	r->acc <<= nbits;
	r->nacc -= nbits;
	return x;
}

/* Read nbits (0..64); past the end 0 with the error flag set (sticky). */
PHA_BITS_INLINE uint64_t
pha_br_read(PhaBitReader *r, unsigned nbits)
{
	uint64_t	hi;

	if (nbits <= 56)
		return pha_br_read56(r, nbits);
	hi = pha_br_read56(r, nbits - 32);
	hi = (hi << 32) | pha_br_read56(r, 32);
	return r->error ? 0 : hi;
}

/*
 * The next nbits (1..56) without consuming them; bits past the end read as
 * zeros (a read or skip of them then fails).
 */
PHA_BITS_INLINE uint64_t
pha_br_peek(PhaBitReader *r, unsigned nbits)
{
	if (r->nacc < nbits)
		pha_br_refill(r);
	return r->acc >> (64 - nbits);
}

/* Consume nbits (0..56) seen by pha_br_peek; past the end: the error flag. */
PHA_BITS_INLINE void
pha_br_skip(PhaBitReader *r, unsigned nbits)
{
	(void) pha_br_read56(r, nbits);
}

/* Read one bit; 0 past the end (with the error flag set). */
PHA_BITS_INLINE unsigned
pha_br_bit(PhaBitReader *r)
{
	return (unsigned) pha_br_read56(r, 1);
}

/*
 * True when the reader stands at the end of its input, allowing only zero
 * padding bits in a partly consumed last byte.  Anything else is garbage.
 */
static inline bool
pha_br_at_clean_end(const PhaBitReader *r)
{
	if (r->error)
		return false;
	/* unread: the nacc bits in acc and every byte not loaded yet */
	return r->pos == r->len && r->nacc < 8 && r->acc == 0;
}

#endif							/* PHA_BITS_H */
