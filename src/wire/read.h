/*-------------------------------------------------------------------------
 *
 * read.h
 *	  Remote read on the wire: decoding a ReadRequest, encoding a
 *	  ReadResponse (SAMPLES) and the frames of a STREAMED_XOR_CHUNKS response.
 *
 * Plain C with no PostgreSQL headers (see decode.h): memory comes from a
 * PhaArena or from buffers the caller sized with the *_len functions, errors
 * are a status plus a message.  The responses are encoded by hand with
 * upstream's field numbers (proto/remote.proto, proto/types.proto), so that
 * a series is written straight from the caller's arrays, without building
 * protobuf-c structures first.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_WIRE_READ_H
#define PHA_WIRE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/decode.h"

/* ReadRequest.ResponseType: what the caller sends back. */
typedef enum PhaReadResponseType
{
	PHA_READ_SAMPLES = 0,		/* one snappy-compressed ReadResponse */
	PHA_READ_STREAMED_XOR_CHUNKS = 1	/* framed ChunkedReadResponse messages */
} PhaReadResponseType;

/* Most samples in one XOR chunk of a response, as Prometheus cuts them. */
#define PHA_READ_CHUNK_SAMPLES 120

/* One label of a series being encoded (not NUL-terminated). */
typedef struct PhaReadLabel
{
	const uint8_t *name;
	size_t		name_len;
	const uint8_t *value;
	size_t		value_len;
} PhaReadLabel;

/* One XOR chunk of a series being encoded: inclusive time range, bytes. */
typedef struct PhaReadChunk
{
	int64_t		min_time_ms;
	int64_t		max_time_ms;
	const uint8_t *data;
	size_t		len;
} PhaReadChunk;

/*
 * Decompress (the snappy header's length checked against
 * limits->max_payload_bytes first) and unpack a ReadRequest into the arena,
 * then validate it: every matcher of a known type, its name and value UTF-8
 * without NUL; a response type the server implements.  On PHA_DECODE_OK,
 * *out and *type are set.  Statuses: EMPTY, NOT_SNAPPY, CORRUPT_SNAPPY,
 * NOT_PROTOBUF (also an unknown matcher type or no acceptable response
 * type), BAD_UTF8, TOO_LARGE.
 */
extern PhaDecodeStatus pha_read_decode(const uint8_t *payload, size_t len,
									   const PhaDecodeLimits *limits, PhaArena *arena,
									   Prometheus__ReadRequest **out,
									   PhaReadResponseType *type, PhaDecodeError *err);

/* The response type Prometheus' server picks: the first one implemented; -1: none. */
extern int	pha_read_negotiate(const Prometheus__ReadRequest *req);

/* Protobuf varints. */
extern size_t pha_pb_varint_len(uint64_t v);
extern uint8_t *pha_pb_put_varint(uint8_t *p, uint64_t v);

/*
 * SAMPLES: QueryResult.timeseries (field 1, with its tag and length) of one
 * series: its labels, then its samples (t ms, v bit for bit).  _len gives
 * the exact size _put writes; _put returns the end of what it wrote.
 */
extern size_t pha_read_timeseries_len(const PhaReadLabel *labels, size_t n_labels,
									  const int64_t *t, const double *v, size_t n);
extern uint8_t *pha_read_put_timeseries(uint8_t *p, const PhaReadLabel *labels,
										size_t n_labels, const int64_t *t,
										const double *v, size_t n);

/* ReadResponse.results (field 1): the tag and length in front of a QueryResult. */
extern size_t pha_read_result_header_len(size_t result_len);
extern uint8_t *pha_read_put_result_header(uint8_t *p, size_t result_len);

/*
 * STREAMED_XOR_CHUNKS: ChunkedReadResponse.chunked_series (field 1, with its
 * tag and length) of a series or a part of it: labels, then XOR chunks.
 */
extern size_t pha_read_chunked_series_len(const PhaReadLabel *labels, size_t n_labels,
										  const PhaReadChunk *chunks, size_t n_chunks);
extern uint8_t *pha_read_put_chunked_series(uint8_t *p, const PhaReadLabel *labels,
											size_t n_labels, const PhaReadChunk *chunks,
											size_t n_chunks);

/*
 * Pieces of the above, to size parts of a series split over frames: the
 * chunked_series field of labels + chunks is
 * pha_read_field_len(pha_read_labels_len(...) + sum of pha_read_chunk_len(...)).
 */
extern size_t pha_read_field_len(size_t body_len);
extern size_t pha_read_labels_len(const PhaReadLabel *labels, size_t n_labels);
extern size_t pha_read_chunk_len(const PhaReadChunk *chunk);

/*
 * One frame: uvarint(len(msg)), big-endian CRC32-Castagnoli of msg, msg, where
 * msg = ChunkedReadResponse{chunked_series fields (series, already encoded),
 * query_index}.  _msg_len is the size of msg alone (what a frame bound limits).
 */
extern size_t pha_read_frame_msg_len(size_t series_len, int64_t query_index);
extern size_t pha_read_frame_len(size_t series_len, int64_t query_index);
extern uint8_t *pha_read_put_frame(uint8_t *p, const uint8_t *series, size_t series_len,
								   int64_t query_index);

/*
 * What follows the chunked_series fields in msg (its query_index field, the
 * pha_read_frame_msg_len(0, query_index) bytes), written at p; returns the
 * end.  For a caller that builds msg in place and computes the CRC itself.
 */
extern uint8_t *pha_read_put_frame_tail(uint8_t *p, int64_t query_index);

/* CRC32-Castagnoli (iSCSI polynomial, reflected), crc = 0 to start. */
extern uint32_t pha_crc32c(uint32_t crc, const uint8_t *data, size_t len);

/* Snappy block compression of a SAMPLES response (bound, then compress). */
extern size_t pha_read_snappy_bound(size_t len);
extern bool pha_read_snappy(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

#endif							/* PHA_WIRE_READ_H */
