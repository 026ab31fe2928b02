/*-------------------------------------------------------------------------
 *
 * bits.h
 *	  A tiny big-endian bit writer and a bounds-checked bit reader.
 *
 * Bits are packed most significant first, which is the order Prometheus'
 * bstream uses: the first bit written is bit 7 of byte 0.  Both sides keep
 * a byte index plus a bit offset rather than one bit counter, so no length
 * is ever multiplied by 8 and nothing can overflow.
 *
 * The writer never writes past its capacity: once a write does not fit it
 * sets "overflow" and ignores every later write.  The reader never reads
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

typedef struct PhaBitWriter
{
	uint8_t    *buf;
	size_t		cap;			/* bytes available in buf */
	size_t		byte;			/* index of the byte being filled */
	unsigned	bit;			/* bits already used in buf[byte], 0..7 */
	bool		overflow;		/* a write did not fit; output is invalid */
} PhaBitWriter;

typedef struct PhaBitReader
{
	const uint8_t *buf;
	size_t		len;			/* bytes in buf */
	size_t		byte;			/* index of the byte being read */
	unsigned	bit;			/* bits already consumed of buf[byte], 0..7 */
	bool		error;			/* a read ran past the end */
} PhaBitReader;

/* Start writing at the beginning of buf, which holds cap bytes. */
static inline void
pha_bw_init(PhaBitWriter *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->byte = 0;
	w->bit = 0;
	w->overflow = false;
}

/*
 * Append the low nbits (0..64) of x, most significant first.  The bytes
 * are zeroed as they are started, so the padding of the last one is zero.
 */
static inline void
pha_bw_write(PhaBitWriter *w, uint64_t x, unsigned nbits)
{
	if (w->overflow)
		return;
	if (nbits < 64)
		x &= (UINT64_C(1) << nbits) - 1;
	while (nbits > 0)
	{
		unsigned	room = 8 - w->bit;
		unsigned	take = nbits < room ? nbits : room;
		uint8_t		part;

		if (w->byte >= w->cap)
		{
			w->overflow = true;
			return;
		}
		if (w->bit == 0)
			w->buf[w->byte] = 0;
		part = (uint8_t) ((x >> (nbits - take)) & ((1u << take) - 1));
		w->buf[w->byte] |= (uint8_t) (part << (room - take));
		w->bit += take;
		nbits -= take;
		if (w->bit == 8)
		{
			w->bit = 0;
			w->byte++;
		}
	}
}

/* Bytes used so far, counting a partly filled last byte. */
static inline size_t
pha_bw_length(const PhaBitWriter *w)
{
	return w->byte + (w->bit > 0 ? 1 : 0);
}

/* Start reading at the beginning of buf, which holds len bytes. */
static inline void
pha_br_init(PhaBitReader *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->byte = 0;
	r->bit = 0;
	r->error = false;
}

/* True when at least nbits unread bits remain; never overflows. */
static inline bool
pha_br_has(const PhaBitReader *r, unsigned nbits)
{
	size_t		bytes_left = r->len - r->byte;	/* byte <= len always */

	if (bytes_left > 9)
		return true;			/* 72 bits or more: enough for any read */
	return bytes_left * 8 - r->bit >= nbits;
}

/*
 * Read nbits (0..64) as an unsigned number, most significant first.  Past
 * the end it sets the error flag and returns 0 without touching memory.
 */
static inline uint64_t
pha_br_read(PhaBitReader *r, unsigned nbits)
{
	uint64_t	x = 0;

	if (r->error || !pha_br_has(r, nbits))
	{
		r->error = true;
		return 0;
	}
	while (nbits > 0)
	{
		unsigned	room = 8 - r->bit;
		unsigned	take = nbits < room ? nbits : room;
		unsigned	part;

		part = ((unsigned) r->buf[r->byte] >> (room - take)) & ((1u << take) - 1);
		x = (x << take) | part;
		r->bit += take;
		nbits -= take;
		if (r->bit == 8)
		{
			r->bit = 0;
			r->byte++;
		}
	}
	return x;
}

/* Read one bit; 0 past the end (with the error flag set). */
static inline unsigned
pha_br_bit(PhaBitReader *r)
{
	return (unsigned) pha_br_read(r, 1);
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
	if (r->bit == 0)
		return r->byte == r->len;
	if (r->byte + 1 != r->len)
		return false;
	return (r->buf[r->byte] & ((1u << (8 - r->bit)) - 1)) == 0;
}

#endif							/* PHA_BITS_H */
