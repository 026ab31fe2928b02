/*-------------------------------------------------------------------------
 *
 * decode.c
 *	  Snappy + protobuf-c unpacking of a remote-write request, and the
 *	  validation the remote-write 1.0 spec asks of every series.
 *
 * This file must not include PostgreSQL headers: it is linked into the
 * extension and into stand-alone programs (fuzzing).  All memory comes from a
 * PhaArena; nothing here keeps state between calls, so a failure at any point
 * leaves nothing behind but arena blocks, which the owner frees at once.
 *
 * Order of checks, cheapest first: the snappy header's declared length is
 * compared with the limit before any buffer is allocated; only then is the
 * payload decompressed and unpacked.
 *
 *-------------------------------------------------------------------------
 */
#include "wire/decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#define PHA_ARENA_BLOCK		(256 * 1024)
#define PHA_ALIGN(n)		(((n) + 7) & ~((size_t) 7))

static void *arena_pb_alloc(void *data, size_t size);
static void arena_pb_free(void *data, void *ptr);

/* Prepare an empty arena that takes its blocks from block_alloc(ctx, size). */
void
pha_arena_init(PhaArena *arena, PhaBlockAllocFn block_alloc, void *ctx)
{
	arena->block_alloc = block_alloc;
	arena->ctx = ctx;
	arena->cur = NULL;
	arena->end = NULL;
	arena->total = 0;
	arena->limit = 0;
	arena->over_limit = false;
	arena->pb.alloc = arena_pb_alloc;
	arena->pb.free = arena_pb_free;
	arena->pb.allocator_data = arena;
}

/* Bump-allocate size bytes, 8-aligned; large requests get a block of their own. */
void *
pha_arena_alloc(PhaArena *arena, size_t size)
{
	char	   *p;

	size = PHA_ALIGN(size == 0 ? 1 : size);
	if (arena->cur == NULL || (size_t) (arena->end - arena->cur) < size)
	{
		size_t		block = size > PHA_ARENA_BLOCK / 4 ? size : PHA_ARENA_BLOCK;

		if (arena->limit > 0 && arena->total + block > arena->limit)
		{
			arena->over_limit = true;
			return NULL;
		}
		p = arena->block_alloc(arena->ctx, block);
		if (p == NULL)
			return NULL;
		arena->total += block;
		if (block != PHA_ARENA_BLOCK)
			return p;			/* dedicated block; keep the current one */
		arena->cur = p;
		arena->end = p + block;
	}
	p = arena->cur;
	arena->cur += size;
	return p;
}

static void *
arena_pb_alloc(void *data, size_t size)
{
	return pha_arena_alloc((PhaArena *) data, size);
}

/* Individual frees are no-ops: the arena is released as a whole. */
static void
arena_pb_free(void *data, void *ptr)
{
}

/* Fill err and return its status (see decode.h). */
PhaDecodeStatus
pha_decode_fail(PhaDecodeError *err, PhaDecodeStatus status, long series,
				const char *message, const char *detail_fmt,...)
{
	va_list		ap;

	err->status = status;
	err->series_index = series;
	snprintf(err->message, sizeof(err->message), "%s", message);
	err->detail[0] = '\0';
	if (detail_fmt)
	{
		va_start(ap, detail_fmt);
		vsnprintf(err->detail, sizeof(err->detail), detail_fmt, ap);
		va_end(ap);
	}
	return status;
}

PhaDecodeStatus
pha_decompress(const uint8_t *payload, size_t len, const PhaDecodeLimits *limits,
			   PhaArena *arena, const uint8_t **raw_out, size_t *raw_len_out,
			   PhaDecodeError *err)
{
	size_t		raw_len;
	char	   *raw;

	*raw_out = NULL;
	*raw_len_out = 0;
	if (len == 0)
		return pha_decode_fail(err, PHA_DECODE_EMPTY, -1, "remote-write payload is empty",
							   "A remote-write body is a snappy-compressed prometheus.WriteRequest.");

	if (snappy_uncompressed_length((const char *) payload, len, &raw_len) != SNAPPY_OK)
		return pha_decode_fail(err, PHA_DECODE_NOT_SNAPPY, -1,
							   "remote-write payload is not snappy-compressed",
							   "The payload of %zu bytes does not start with a snappy block-format length header.",
							   len);

	if (raw_len > limits->max_payload_bytes)
		return pha_decode_fail(err, PHA_DECODE_TOO_LARGE, -1,
							   "remote-write payload is too large",
							   "The snappy header declares %zu uncompressed bytes; the limit (promscale_ha.max_payload_bytes) is %zu.",
							   raw_len, limits->max_payload_bytes);

	raw = pha_arena_alloc(arena, raw_len);
	if (raw == NULL)
		return pha_decode_fail(err, PHA_DECODE_TOO_LARGE, -1,
							   "out of memory decoding remote-write payload",
							   "%zu bytes could not be allocated.", raw_len);
	if (snappy_uncompress((const char *) payload, len, raw, &raw_len) != SNAPPY_OK)
		return pha_decode_fail(err, PHA_DECODE_CORRUPT_SNAPPY, -1,
							   "remote-write payload is truncated or corrupt snappy data",
							   "Decompressing %zu bytes of snappy data into %zu bytes failed.",
							   len, raw_len);
	*raw_out = (const uint8_t *) raw;
	*raw_len_out = raw_len;
	return PHA_DECODE_OK;
}

PhaDecodeStatus
pha_unpack(const uint8_t *raw, size_t raw_len, const PhaDecodeLimits *limits,
		   PhaArena *arena, Prometheus__WriteRequest **out, PhaDecodeError *err)
{
	Prometheus__WriteRequest *req;
	size_t		saved_limit = arena->limit;

	*out = NULL;

	/*
	 * Tiny messages unpack into much larger structures (an empty series takes
	 * 2 bytes on the wire and ~100 in memory): bound what a request may take.
	 */
	if (limits->max_amplification > 0)
		arena->limit = arena->total + raw_len * limits->max_amplification + PHA_ARENA_BLOCK * 4;
	req = prometheus__write_request__unpack(&arena->pb, raw_len, raw);
	arena->limit = saved_limit;
	if (req == NULL && arena->over_limit)
		return pha_decode_fail(err, PHA_DECODE_TOO_LARGE, -1,
							   "remote-write request is too large once decoded",
							   "Its %zu uncompressed bytes decode into more than %zu times as much memory.",
							   raw_len, limits->max_amplification);
	if (req == NULL)
		return pha_decode_fail(err, PHA_DECODE_NOT_PROTOBUF, -1,
							   "remote-write payload is not a valid prometheus.WriteRequest",
							   "%zu bytes of decompressed data could not be decoded as protobuf.", raw_len);

	if (limits->max_series > 0 && req->n_timeseries > limits->max_series)
		return pha_decode_fail(err, PHA_DECODE_TOO_MANY_SERIES, -1,
							   "remote-write request has too many series",
							   "The request has %zu series; the limit (promscale_ha.max_series_per_request) is %zu.",
							   req->n_timeseries, limits->max_series);

	*out = req;
	return PHA_DECODE_OK;
}

PhaDecodeStatus
pha_decode_request(const uint8_t *payload, size_t len, const PhaDecodeLimits *limits,
				   PhaArena *arena, Prometheus__WriteRequest **out, PhaDecodeError *err)
{
	const uint8_t *raw;
	size_t		raw_len;
	PhaDecodeStatus st;

	*out = NULL;
	st = pha_decompress(payload, len, limits, arena, &raw, &raw_len, err);
	if (st != PHA_DECODE_OK)
		return st;
	return pha_unpack(raw, raw_len, limits, arena, out, err);
}

/* True when s[0..len) is well-formed UTF-8 without NUL bytes (text can't hold NUL). */
bool
pha_utf8_valid(const uint8_t *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint8_t		c = s[i];
		size_t		n;
		uint32_t	cp;

		if (c >= 0x01 && c < 0x80)
		{
			i++;
			continue;
		}
		if (c == 0x00)
			return false;
		else if ((c & 0xE0) == 0xC0)
		{
			n = 1;
			cp = c & 0x1F;
		}
		else if ((c & 0xF0) == 0xE0)
		{
			n = 2;
			cp = c & 0x0F;
		}
		else if ((c & 0xF8) == 0xF0)
		{
			n = 3;
			cp = c & 0x07;
		}
		else
			return false;
		if (i + n >= len)
			return false;	/* truncated sequence */
		for (size_t k = 1; k <= n; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
			(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return false;
		i += n + 1;
	}
	return true;
}

/* [a-zA-Z_][a-zA-Z0-9_]* */
bool
pha_label_name_valid(const uint8_t *name, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		uint8_t		c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			continue;
		if (i > 0 && c >= '0' && c <= '9')
			continue;
		return false;
	}
	return true;
}

int
pha_label_name_cmp(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	size_t		n = a->len < b->len ? a->len : b->len;
	int			r = n ? memcmp(a->data, b->data, n) : 0;

	if (r != 0)
		return r;
	return (a->len > b->len) - (a->len < b->len);
}

static int
label_ptr_cmp(const void *a, const void *b)
{
	const Prometheus__Label *la = *(Prometheus__Label *const *) a;
	const Prometheus__Label *lb = *(Prometheus__Label *const *) b;

	return pha_label_name_cmp(&la->name, &lb->name);
}

/* A printable excerpt of a name or value, for error details. */
static const char *
excerpt(const ProtobufCBinaryData *v, char *buf, size_t bufsize)
{
	size_t		o = 0;

	size_t		i;

	for (i = 0; i < v->len && o + 8 < bufsize; i++)
	{
		uint8_t		c = v->data[i];

		if (c >= 0x20 && c < 0x7F && c != '\\' && c != '"')
			buf[o++] = (char) c;
		else
			o += snprintf(buf + o, bufsize - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	if (i < v->len)
		strcpy(buf + o, "...");
	return buf;
}

PhaDecodeStatus
pha_validate_series(Prometheus__TimeSeries *ts, long index, const PhaDecodeLimits *limits,
					PhaDecodeError *err)
{
	size_t		kept = 0;
	bool		sorted = true;
	bool		has_name = false;
	char		buf[80];

	if (ts->n_labels == 0)
		return pha_decode_fail(err, PHA_DECODE_NO_LABELS, index, "series has no labels",
							   "Series %ld of the request carries no labels; every series needs at least __name__.",
							   index);
	if (limits->max_labels > 0 && ts->n_labels > limits->max_labels)
		return pha_decode_fail(err, PHA_DECODE_TOO_MANY_LABELS, index, "series has too many labels",
							   "Series %ld has %zu labels; the limit (promscale_ha.max_labels_per_series) is %zu.",
							   index, ts->n_labels, limits->max_labels);

	for (size_t i = 0; i < ts->n_labels; i++)
	{
		Prometheus__Label *l = ts->labels[i];

		if (!pha_label_name_valid(l->name.data, l->name.len))
			return pha_decode_fail(err, PHA_DECODE_BAD_LABEL_NAME, index, "invalid label name",
								   "Series %ld has label name \"%s\"; names must match [a-zA-Z_][a-zA-Z0-9_]*.",
								   index, excerpt(&l->name, buf, sizeof(buf)));
		if (limits->max_label_name_len > 0 && l->name.len > limits->max_label_name_len)
			return pha_decode_fail(err, PHA_DECODE_LABEL_TOO_LONG, index, "label name is too long",
								   "Series %ld has a label name of %zu bytes; the limit (promscale_ha.max_label_name_length) is %zu.",
								   index, l->name.len, limits->max_label_name_len);
		if (limits->max_label_value_len > 0 && l->value.len > limits->max_label_value_len)
			return pha_decode_fail(err, PHA_DECODE_LABEL_TOO_LONG, index, "label value is too long",
								   "Label \"%s\" of series %ld has a value of %zu bytes; the limit (promscale_ha.max_label_value_length) is %zu.",
								   excerpt(&l->name, buf, sizeof(buf)), index, l->value.len,
								   limits->max_label_value_len);
		if (l->value.len > 0 && memchr(l->value.data, 0, l->value.len) != NULL)
			return pha_decode_fail(err, PHA_DECODE_BAD_UTF8, index,
								   "label value contains a NUL byte",
								   "Label \"%s\" of series %ld has a value with a 0x00 byte, which text cannot hold.",
								   excerpt(&l->name, buf, sizeof(buf)), index);
		if (!pha_utf8_valid(l->value.data, l->value.len))
			return pha_decode_fail(err, PHA_DECODE_BAD_UTF8, index,
								   "label value is not valid UTF-8",
								   "Label \"%s\" of series %ld has a value that is not valid UTF-8.",
								   excerpt(&l->name, buf, sizeof(buf)), index);
		if (l->value.len == 0)
			continue;			/* an empty value means the label is absent */
		if (kept > 0 && sorted && pha_label_name_cmp(&ts->labels[kept - 1]->name, &l->name) >= 0)
			sorted = false;
		ts->labels[kept++] = l;
	}
	ts->n_labels = kept;
	if (!sorted)
		qsort(ts->labels, kept, sizeof(Prometheus__Label *), label_ptr_cmp);

	for (size_t i = 0; i < kept; i++)
	{
		Prometheus__Label *l = ts->labels[i];

		if (i > 0 && pha_label_name_cmp(&ts->labels[i - 1]->name, &l->name) == 0)
			return pha_decode_fail(err, PHA_DECODE_DUP_LABEL, index, "duplicate label name",
								   "Series %ld has label \"%s\" more than once.",
								   index, excerpt(&l->name, buf, sizeof(buf)));
		if (l->name.len == 8 && memcmp(l->name.data, "__name__", 8) == 0)
			has_name = true;
	}
	if (!has_name)
		return pha_decode_fail(err, PHA_DECODE_NO_METRIC_NAME, index, "series has no metric name",
							   "Series %ld has no non-empty __name__ label.", index);
	return PHA_DECODE_OK;
}

PhaDecodeStatus
pha_validate_request(Prometheus__WriteRequest *req, const PhaDecodeLimits *limits,
					 PhaDecodeError *err)
{
	for (size_t i = 0; i < req->n_timeseries; i++)
	{
		PhaDecodeStatus st = pha_validate_series(req->timeseries[i], (long) i, limits, err);

		if (st != PHA_DECODE_OK)
			return st;
	}
	return PHA_DECODE_OK;
}

/* Binary search of a sorted, validated series' labels. */
Prometheus__Label *
pha_find_label(Prometheus__TimeSeries *ts, const char *name, size_t name_len)
{
	ProtobufCBinaryData key;
	size_t		lo = 0,
				hi = ts->n_labels;

	key.data = (uint8_t *) name;
	key.len = name_len;
	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;
		int			c = pha_label_name_cmp(&ts->labels[mid]->name, &key);

		if (c == 0)
			return ts->labels[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
