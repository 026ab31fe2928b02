/*-------------------------------------------------------------------------
 *
 * read.c
 *	  Remote read on the wire: snappy + protobuf-c unpacking and validation
 *	  of a ReadRequest; hand-written encoders of the two response types.
 *
 * Plain C without PostgreSQL headers (linked into the extension and the
 * fuzzing harness test/fuzz/fuzz_read.c).  Decoding follows decode.c: the
 * snappy header's declared length is checked before anything is allocated,
 * everything lands in the caller's arena, unpacking is bounded by
 * limits->max_amplification.
 *
 * Encoding writes proto3 the way Prometheus' gogo-generated code does (zero
 * scalars left out), with one exception: a sample's value is written whenever
 * its bits are not all zero, so -0.0 survives (Go compares it equal to 0 and
 * drops it).  Each _len function returns exactly what its _put writes, so the
 * caller allocates once per series or frame and nothing here allocates.
 *
 *-------------------------------------------------------------------------
 */
#include "wire/read.h"

#include <string.h>

#include <snappy-c.h>

/* protobuf wire types */
#define WT_VARINT	0
#define WT_FIXED64	1
#define WT_LEN		2
#define TAG(field, wt)	((uint8_t) (((field) << 3) | (wt)))

/* Slack over the amplification bound: the first arena blocks of a small request. */
#define READ_ARENA_SLACK	(1024 * 1024)

int
pha_read_negotiate(const Prometheus__ReadRequest *req)
{
	if (req->n_accepted_response_types == 0)
		return PHA_READ_SAMPLES;
	for (size_t i = 0; i < req->n_accepted_response_types; i++)
	{
		int			t = (int) req->accepted_response_types[i];

		if (t == PHA_READ_SAMPLES || t == PHA_READ_STREAMED_XOR_CHUNKS)
			return t;
	}
	return -1;
}

/* Matchers: a known type, name and value UTF-8 without NUL (they become text). */
static PhaDecodeStatus
validate_request(const Prometheus__ReadRequest *req, PhaDecodeError *err)
{
	for (size_t q = 0; q < req->n_queries; q++)
	{
		const Prometheus__Query *query = req->queries[q];

		for (size_t m = 0; m < query->n_matchers; m++)
		{
			const Prometheus__LabelMatcher *lm = query->matchers[m];
			int			type = (int) lm->type;

			if (type < 0 || type > 3)
				return pha_decode_fail(err, PHA_DECODE_NOT_PROTOBUF, -1,
									   "remote-read request has a label matcher of unknown type",
									   "Matcher %zu of query %zu has type %d; the types are EQ (0), NEQ (1), RE (2) and NRE (3).",
									   m, q, type);
			if (!pha_utf8_valid(lm->name.data, lm->name.len) ||
				!pha_utf8_valid(lm->value.data, lm->value.len))
				return pha_decode_fail(err, PHA_DECODE_BAD_UTF8, -1,
									   "remote-read label matcher is not valid UTF-8",
									   "The name or value of matcher %zu of query %zu is not valid UTF-8 or contains a NUL byte.",
									   m, q);
		}
	}
	return PHA_DECODE_OK;
}

PhaDecodeStatus
pha_read_decode(const uint8_t *payload, size_t len, const PhaDecodeLimits *limits,
				PhaArena *arena, Prometheus__ReadRequest **out,
				PhaReadResponseType *type, PhaDecodeError *err)
{
	size_t		raw_len;
	char	   *raw;
	size_t		saved_limit;
	Prometheus__ReadRequest *req;
	int			t;
	PhaDecodeStatus st;

	*out = NULL;
	*type = PHA_READ_SAMPLES;
	if (len == 0)
		return pha_decode_fail(err, PHA_DECODE_EMPTY, -1, "remote-read request is empty",
							   "A remote-read body is a snappy-compressed prometheus.ReadRequest.");
	if (snappy_uncompressed_length((const char *) payload, len, &raw_len) != SNAPPY_OK)
		return pha_decode_fail(err, PHA_DECODE_NOT_SNAPPY, -1,
							   "remote-read request is not snappy-compressed",
							   "The request of %zu bytes does not start with a snappy block-format length header.",
							   len);
	if (raw_len > limits->max_payload_bytes)
		return pha_decode_fail(err, PHA_DECODE_TOO_LARGE, -1, "remote-read request is too large",
							   "The snappy header declares %zu uncompressed bytes; the limit (promscale_ha.max_payload_bytes) is %zu.",
							   raw_len, limits->max_payload_bytes);
	raw = pha_arena_alloc(arena, raw_len);
	if (raw == NULL)
		return pha_decode_fail(err, PHA_DECODE_TOO_LARGE, -1,
							   "out of memory decoding remote-read request",
							   "%zu bytes could not be allocated.", raw_len);
	if (snappy_uncompress((const char *) payload, len, raw, &raw_len) != SNAPPY_OK)
		return pha_decode_fail(err, PHA_DECODE_CORRUPT_SNAPPY, -1,
							   "remote-read request is truncated or corrupt snappy data",
							   "Decompressing %zu bytes of snappy data into %zu bytes failed.",
							   len, raw_len);

	saved_limit = arena->limit;
	if (limits->max_amplification > 0)
		arena->limit = arena->total + raw_len * limits->max_amplification + READ_ARENA_SLACK;
	req = prometheus__read_request__unpack(&arena->pb, raw_len, (const uint8_t *) raw);
	arena->limit = saved_limit;
	if (req == NULL && arena->over_limit)
		return pha_decode_fail(err, PHA_DECODE_TOO_LARGE, -1,
							   "remote-read request is too large once decoded",
							   "Its %zu uncompressed bytes decode into more than %zu times as much memory.",
							   raw_len, limits->max_amplification);
	if (req == NULL)
		return pha_decode_fail(err, PHA_DECODE_NOT_PROTOBUF, -1,
							   "remote-read request is not a valid prometheus.ReadRequest",
							   "%zu bytes of decompressed data could not be decoded as protobuf.", raw_len);

	st = validate_request(req, err);
	if (st != PHA_DECODE_OK)
		return st;
	t = pha_read_negotiate(req);
	if (t < 0)
		return pha_decode_fail(err, PHA_DECODE_NOT_PROTOBUF, -1,
							   "remote-read request accepts no response type this server implements",
							   "accepted_response_types lists %zu types, none of them SAMPLES (0) or STREAMED_XOR_CHUNKS (1).",
							   req->n_accepted_response_types);
	*type = (PhaReadResponseType) t;
	*out = req;
	return PHA_DECODE_OK;
}

/* ---- encoding ------------------------------------------------------------------------ */

size_t
pha_pb_varint_len(uint64_t v)
{
	size_t		n = 1;

	while (v >= 0x80)
	{
		v >>= 7;
		n++;
	}
	return n;
}

uint8_t *
pha_pb_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80)
	{
		*p++ = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t) v;
	return p;
}

/* A length-delimited field's size: tag, length, body. */
static inline size_t
ld_len(size_t body)
{
	return 1 + pha_pb_varint_len(body) + body;
}

static inline uint8_t *
put_ld_header(uint8_t *p, int field, size_t body)
{
	*p++ = TAG(field, WT_LEN);
	return pha_pb_put_varint(p, body);
}

static inline uint8_t *
put_bytes(uint8_t *p, int field, const uint8_t *data, size_t len)
{
	p = put_ld_header(p, field, len);
	if (len > 0)
		memcpy(p, data, len);
	return p + len;
}

/* An int64 varint field (negative numbers take ten bytes, as in protobuf); 0 omitted. */
static inline size_t
int64_field_len(int64_t v)
{
	return v == 0 ? 0 : 1 + pha_pb_varint_len((uint64_t) v);
}

static inline uint8_t *
put_int64_field(uint8_t *p, int field, int64_t v)
{
	if (v == 0)
		return p;
	*p++ = TAG(field, WT_VARINT);
	return pha_pb_put_varint(p, (uint64_t) v);
}

/* Label{name = 1, value = 2} body size. */
static inline size_t
label_body_len(const PhaReadLabel *l)
{
	return ld_len(l->name_len) + ld_len(l->value_len);
}

static size_t
labels_len(const PhaReadLabel *labels, size_t n_labels)
{
	size_t		total = 0;

	for (size_t i = 0; i < n_labels; i++)
		total += ld_len(label_body_len(&labels[i]));
	return total;
}

/* The labels as repeated field 1 (TimeSeries and ChunkedSeries both use 1). */
static uint8_t *
put_labels(uint8_t *p, const PhaReadLabel *labels, size_t n_labels)
{
	for (size_t i = 0; i < n_labels; i++)
	{
		p = put_ld_header(p, 1, label_body_len(&labels[i]));
		p = put_bytes(p, 1, labels[i].name, labels[i].name_len);
		p = put_bytes(p, 2, labels[i].value, labels[i].value_len);
	}
	return p;
}

static inline uint64_t
double_bits(double v)
{
	uint64_t	b;

	memcpy(&b, &v, sizeof(b));
	return b;
}

/* Sample{value = 1 (fixed64), timestamp = 2} body size. */
static inline size_t
sample_body_len(int64_t t, double v)
{
	return (double_bits(v) != 0 ? 9 : 0) + int64_field_len(t);
}

static size_t
timeseries_body_len(const PhaReadLabel *labels, size_t n_labels, const int64_t *t,
					const double *v, size_t n)
{
	size_t		total = labels_len(labels, n_labels);

	for (size_t i = 0; i < n; i++)
		total += ld_len(sample_body_len(t[i], v[i]));
	return total;
}

size_t
pha_read_timeseries_len(const PhaReadLabel *labels, size_t n_labels, const int64_t *t,
						const double *v, size_t n)
{
	return ld_len(timeseries_body_len(labels, n_labels, t, v, n));
}

uint8_t *
pha_read_put_timeseries(uint8_t *p, const PhaReadLabel *labels, size_t n_labels,
						const int64_t *t, const double *v, size_t n)
{
	p = put_ld_header(p, 1, timeseries_body_len(labels, n_labels, t, v, n));
	p = put_labels(p, labels, n_labels);
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	bits = double_bits(v[i]);

		p = put_ld_header(p, 2, sample_body_len(t[i], v[i]));
		if (bits != 0)
		{
			*p++ = TAG(1, WT_FIXED64);
			for (int k = 0; k < 8; k++)
				*p++ = (uint8_t) (bits >> (8 * k));
		}
		p = put_int64_field(p, 2, t[i]);
	}
	return p;
}

size_t
pha_read_result_header_len(size_t result_len)
{
	return 1 + pha_pb_varint_len(result_len);
}

uint8_t *
pha_read_put_result_header(uint8_t *p, size_t result_len)
{
	return put_ld_header(p, 1, result_len);
}

/* Chunk{min_time_ms = 1, max_time_ms = 2, type = 3 (XOR = 1), data = 4} body size. */
static inline size_t
chunk_body_len(const PhaReadChunk *c)
{
	return int64_field_len(c->min_time_ms) + int64_field_len(c->max_time_ms) + 2 +
		ld_len(c->len);
}

static size_t
chunked_series_body_len(const PhaReadLabel *labels, size_t n_labels,
						const PhaReadChunk *chunks, size_t n_chunks)
{
	size_t		total = labels_len(labels, n_labels);

	for (size_t i = 0; i < n_chunks; i++)
		total += ld_len(chunk_body_len(&chunks[i]));
	return total;
}

size_t
pha_read_chunked_series_len(const PhaReadLabel *labels, size_t n_labels,
							const PhaReadChunk *chunks, size_t n_chunks)
{
	return ld_len(chunked_series_body_len(labels, n_labels, chunks, n_chunks));
}

uint8_t *
pha_read_put_chunked_series(uint8_t *p, const PhaReadLabel *labels, size_t n_labels,
							const PhaReadChunk *chunks, size_t n_chunks)
{
	p = put_ld_header(p, 1, chunked_series_body_len(labels, n_labels, chunks, n_chunks));
	p = put_labels(p, labels, n_labels);
	for (size_t i = 0; i < n_chunks; i++)
	{
		const PhaReadChunk *c = &chunks[i];

		p = put_ld_header(p, 2, chunk_body_len(c));
		p = put_int64_field(p, 1, c->min_time_ms);
		p = put_int64_field(p, 2, c->max_time_ms);
		*p++ = TAG(3, WT_VARINT);
		*p++ = 1;				/* Chunk.Encoding XOR */
		p = put_bytes(p, 4, c->data, c->len);
	}
	return p;
}

size_t
pha_read_field_len(size_t body_len)
{
	return ld_len(body_len);
}

size_t
pha_read_labels_len(const PhaReadLabel *labels, size_t n_labels)
{
	return labels_len(labels, n_labels);
}

size_t
pha_read_chunk_len(const PhaReadChunk *chunk)
{
	return ld_len(chunk_body_len(chunk));
}

size_t
pha_read_frame_msg_len(size_t series_len, int64_t query_index)
{
	return series_len + int64_field_len(query_index);
}

size_t
pha_read_frame_len(size_t series_len, int64_t query_index)
{
	size_t		msg = pha_read_frame_msg_len(series_len, query_index);

	return pha_pb_varint_len(msg) + 4 + msg;
}

uint8_t *
pha_read_put_frame_tail(uint8_t *p, int64_t query_index)
{
	return put_int64_field(p, 2, query_index);
}

uint8_t *
pha_read_put_frame(uint8_t *p, const uint8_t *series, size_t series_len, int64_t query_index)
{
	size_t		msg_len = pha_read_frame_msg_len(series_len, query_index);
	uint8_t    *crc_at;
	uint8_t    *msg;
	uint32_t	crc;

	p = pha_pb_put_varint(p, msg_len);
	crc_at = p;
	msg = p + 4;
	if (series_len > 0)
		memcpy(msg, series, series_len);
	p = pha_read_put_frame_tail(msg + series_len, query_index);
	crc = pha_crc32c(0, msg, msg_len);
	crc_at[0] = (uint8_t) (crc >> 24);
	crc_at[1] = (uint8_t) (crc >> 16);
	crc_at[2] = (uint8_t) (crc >> 8);
	crc_at[3] = (uint8_t) crc;
	return p;
}

/* ---- CRC32C: reflected polynomial 0x82F63B78, a byte table built on first use ---------- */

static uint32_t crc32c_table[256];
static bool crc32c_ready;

static void
crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++)
	{
		uint32_t	c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_table[i] = c;
	}
	crc32c_ready = true;
}

uint32_t
pha_crc32c(uint32_t crc, const uint8_t *data, size_t len)
{
	if (!crc32c_ready)
		crc32c_init();
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc32c_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

size_t
pha_read_snappy_bound(size_t len)
{
	return snappy_max_compressed_length(len);
}

bool
pha_read_snappy(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	return snappy_compress((const char *) in, len, (char *) out, out_len) == SNAPPY_OK;
}
