/*-------------------------------------------------------------------------
 *
 * fuzz_read.c
 *	  libFuzzer harness for the remote-read request decoder and the response
 *	  encoders (src/wire/read.c).
 *
 * The mode byte (fuzz_common.h): bit 0 set, the body is a bare protobuf
 * ReadRequest that the harness snappy-compresses first; bit 1, tight limits.
 * Then pha_read_decode runs as read.c runs it, and the harness checks:
 *
 *	 - on failure, err->status equals the status returned, a non-empty
 *	   NUL-terminated message, *out == NULL;
 *	 - on success, the response type is SAMPLES or STREAMED_XOR_CHUNKS and is
 *	   the one pha_read_negotiate picks; every matcher has a known type and a
 *	   name and value that are UTF-8 without NUL; every byte of them is read
 *	   (ASan sees dangling pointers);
 *	 - the encoders write exactly what their _len functions announce: each
 *	   matcher's name and value become a series' label, the query's start and
 *	   end its two samples, into a TimeSeries and a ChunkedSeries in a frame
 *	   whose varint length and CRC32C are checked here.
 *
 * Built and run by test/fuzz/run.sh.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "codec/xor.h"
#include "wire/read.h"
#include "fuzz_common.h"

static volatile uint64_t sink;

static void
touch(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sink += p[i];
}

/* Bitwise CRC32C, independent of the table in read.c. */
static uint32_t
crc32c_bitwise(const uint8_t *p, size_t len)
{
	uint32_t	c = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++)
	{
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

/* Encode one query's matchers as a series both ways and check the sizes. */
static void
encode_query(const Prometheus__Query *q, size_t qi)
{
	size_t		n = q->n_matchers;
	PhaReadLabel *labels = calloc(n ? n : 1, sizeof(PhaReadLabel));
	int64_t		t[2] = {q->start_timestamp_ms,
						q->start_timestamp_ms < INT64_MAX ? q->start_timestamp_ms + 1 : INT64_MAX};
	double		v[2] = {1.5, -0.0};
	uint8_t		xor[64];
	size_t		xor_len = 0;
	PhaReadChunk chunk;
	size_t		len;
	uint8_t    *buf;
	uint8_t    *end;

	/* at INT64_MAX both are equal: one sample (the counts below) */
	for (size_t i = 0; i < n; i++)
	{
		labels[i].name = q->matchers[i]->name.data;
		labels[i].name_len = q->matchers[i]->name.len;
		labels[i].value = q->matchers[i]->value.data;
		labels[i].value_len = q->matchers[i]->value.len;
	}
	len = pha_read_timeseries_len(labels, n, t, v, t[1] > t[0] ? 2 : 1);
	buf = malloc(len);
	end = pha_read_put_timeseries(buf, labels, n, t, v, t[1] > t[0] ? 2 : 1);
	CHECK(end == buf + len, "timeseries: wrote %zu, announced %zu", (size_t) (end - buf), len);
	free(buf);

	CHECK(pha_xor_encode(t, v, t[1] > t[0] ? 2 : 1, xor, sizeof(xor), &xor_len) == PHA_CODEC_OK,
		  "xor encode failed");
	chunk.min_time_ms = t[0];
	chunk.max_time_ms = t[1];
	chunk.data = xor;
	chunk.len = xor_len;
	len = pha_read_chunked_series_len(labels, n, &chunk, 1);
	CHECK(len == pha_read_field_len(pha_read_labels_len(labels, n) + pha_read_chunk_len(&chunk)),
		  "chunked series length is not the sum of its parts");
	buf = malloc(len);
	end = pha_read_put_chunked_series(buf, labels, n, &chunk, 1);
	CHECK(end == buf + len, "chunked series: wrote %zu, announced %zu", (size_t) (end - buf), len);
	{
		size_t		flen = pha_read_frame_len(len, (int64_t) qi);
		size_t		mlen = pha_read_frame_msg_len(len, (int64_t) qi);
		uint8_t    *frame = malloc(flen);
		uint8_t    *fend = pha_read_put_frame(frame, buf, len, (int64_t) qi);
		size_t		vlen = pha_pb_varint_len(mlen);
		uint64_t	declared = 0;
		uint32_t	crc;

		CHECK(fend == frame + flen, "frame: wrote %zu, announced %zu", (size_t) (fend - frame), flen);
		for (size_t i = 0; i < vlen; i++)
			declared |= (uint64_t) (frame[i] & 0x7F) << (7 * i);
		CHECK(declared == mlen && vlen + 4 + mlen == flen, "frame length prefix is wrong");
		crc = (uint32_t) frame[vlen] << 24 | (uint32_t) frame[vlen + 1] << 16 |
			(uint32_t) frame[vlen + 2] << 8 | frame[vlen + 3];
		CHECK(crc == crc32c_bitwise(frame + vlen + 4, mlen), "frame CRC32C is wrong");
		free(frame);
	}
	free(buf);
	free(labels);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzAlloc	fa = {0};
	PhaArena	arena;
	PhaDecodeError err;
	Prometheus__ReadRequest *req = NULL;
	PhaReadResponseType type;
	PhaDecodeStatus st;
	const uint8_t *body;
	size_t		body_len;
	uint8_t    *packed = NULL;
	PhaDecodeLimits limits;
	uint8_t		mode;

	if (size < 1)
		return 0;
	mode = data[0];
	body = data + 1;
	body_len = size - 1;
	limits = (mode & FUZZ_MODE_TIGHT_LIMITS) ? fuzz_tight_limits : fuzz_server_limits;
	if (mode & FUZZ_MODE_RAW_PROTOBUF)
	{
		size_t		cap = snappy_max_compressed_length(body_len);

		packed = malloc(cap ? cap : 1);
		if (snappy_compress((const char *) body, body_len, (char *) packed, &cap) != SNAPPY_OK)
			abort();
		body = packed;
		body_len = cap;
	}
	pha_arena_init(&arena, fuzz_block_alloc, &fa);
	memset(&err, 0, sizeof(err));
	st = pha_read_decode(body, body_len, &limits, &arena, &req, &type, &err);
	if (st != PHA_DECODE_OK)
	{
		CHECK(err.status == st, "status %d, err.status %d", (int) st, (int) err.status);
		CHECK(err.message[0] != '\0' && memchr(err.message, 0, sizeof(err.message)) != NULL,
			  "no message");
		CHECK(req == NULL, "request set on failure");
	}
	else
	{
		CHECK(req != NULL, "no request on success");
		CHECK(type == PHA_READ_SAMPLES || type == PHA_READ_STREAMED_XOR_CHUNKS, "type %d", type);
		CHECK((int) type == pha_read_negotiate(req), "negotiation differs");
		for (size_t q = 0; q < req->n_queries; q++)
		{
			const Prometheus__Query *query = req->queries[q];

			for (size_t m = 0; m < query->n_matchers; m++)
			{
				const Prometheus__LabelMatcher *lm = query->matchers[m];

				CHECK((int) lm->type >= 0 && (int) lm->type <= 3, "matcher type %d", lm->type);
				CHECK(pha_utf8_valid(lm->name.data, lm->name.len) &&
					  pha_utf8_valid(lm->value.data, lm->value.len), "matcher not UTF-8");
				touch(lm->name.data, lm->name.len);
				touch(lm->value.data, lm->value.len);
			}
			encode_query(query, q);
		}
	}
	fuzz_free_blocks(&fa);
	free(packed);
	return 0;
}
