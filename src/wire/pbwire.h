/*-------------------------------------------------------------------------
 *
 * pbwire.h
 *	  Reading the protobuf wire format in place: varints and field keys, with
 *	  the bounds protobuf-c applies.  Shared by the label-only scan (scan.c)
 *	  and the write path's in-place reading (fastpath.c).  Plain C.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_PBWIRE_H
#define PHA_PBWIRE_H

#include <stdbool.h>
#include <stdint.h>

#define PHA_PB_WT_VARINT	0
#define PHA_PB_WT_FIXED64	1
#define PHA_PB_WT_LEN		2
#define PHA_PB_WT_FIXED32	5

/* A varint of at most 10 bytes at *p (< end), as protobuf-c reads one; advances *p. */
static inline bool
pha_pb_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t	r = 0;

	for (int i = 0; i < 10 && *p < end; i++)
	{
		uint8_t		b = *(*p)++;

		r |= (uint64_t) (b & 0x7F) << (7 * i);
		if ((b & 0x80) == 0)
		{
			*v = r;
			return true;
		}
	}
	return false;
}

/*
 * The field at *p: its key (a varint of at most 5 bytes naming a field other
 * than 0) into *field and *wt, and *p advanced past the field.  *sub is where
 * its value starts; for a length-delimited field (a length of at most 5 bytes
 * that fits before end) *sub_end is where it ends.  False for a malformed
 * field or a wire type other than varint, fixed64, length-delimited and
 * fixed32: callers check *wt against what their message allows.
 */
static inline bool
pha_pb_get_field(const uint8_t **p, const uint8_t *end, uint32_t *field, int *wt,
				 const uint8_t **sub, const uint8_t **sub_end)
{
	const uint8_t *start = *p;
	uint64_t	key,
				len;

	if (*p < end && **p < 0x80)
		key = *(*p)++;			/* the usual one-byte key */
	else if (!pha_pb_get_varint(p, end, &key) || *p - start > 5 || key > UINT32_MAX)
		return false;
	if ((key >> 3) == 0)
		return false;
	*field = (uint32_t) (key >> 3);
	*wt = (int) (key & 7);
	*sub = *p;
	switch (*wt)
	{
		case PHA_PB_WT_LEN:
			start = *p;
			if (*p < end && **p < 0x80)
				len = *(*p)++;
			else if (!pha_pb_get_varint(p, end, &len) || *p - start > 5)
				return false;
			if (len > (uint64_t) (end - *p))
				return false;
			*sub = *p;
			*sub_end = *p + len;
			*p += len;
			return true;
		case PHA_PB_WT_FIXED64:
			if (end - *p < 8)
				return false;
			*p += 8;
			return true;
		case PHA_PB_WT_FIXED32:
			if (end - *p < 4)
				return false;
			*p += 4;
			return true;
		case PHA_PB_WT_VARINT:
			return pha_pb_get_varint(p, end, &len);
		default:
			return false;
	}
}

#endif							/* PHA_PBWIRE_H */
