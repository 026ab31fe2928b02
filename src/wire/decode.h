/*-------------------------------------------------------------------------
 *
 * decode.h
 *	  Remote-write payload decoding and validation.
 *
 * Plain C with no PostgreSQL headers, so that the same code runs inside the
 * server and in stand-alone programs (fuzzing harness, tools).  Memory comes
 * from a PhaArena whose blocks are supplied by the caller: palloc inside the
 * server, malloc outside.  Errors are returned as a status plus a message;
 * the caller turns them into ereport() or an exit code.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_DECODE_H
#define PHA_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remote.pb-c.h"

typedef enum PhaDecodeStatus
{
	PHA_DECODE_OK = 0,
	PHA_DECODE_EMPTY,			/* zero-length payload */
	PHA_DECODE_NOT_SNAPPY,		/* no valid snappy block header */
	PHA_DECODE_TOO_LARGE,		/* declared length over the limit */
	PHA_DECODE_CORRUPT_SNAPPY,	/* truncated or corrupt snappy data */
	PHA_DECODE_NOT_PROTOBUF,	/* not a prometheus.WriteRequest */
	PHA_DECODE_TOO_MANY_SERIES,
	PHA_DECODE_NO_LABELS,
	PHA_DECODE_TOO_MANY_LABELS,
	PHA_DECODE_BAD_LABEL_NAME,
	PHA_DECODE_DUP_LABEL,
	PHA_DECODE_BAD_UTF8,
	PHA_DECODE_LABEL_TOO_LONG,
	PHA_DECODE_NO_METRIC_NAME
} PhaDecodeStatus;

/* Limits applied while decoding; 0 means "no limit" except max_payload_bytes. */
typedef struct PhaDecodeLimits
{
	size_t		max_payload_bytes;	/* uncompressed size */
	size_t		max_series;
	size_t		max_labels;
	size_t		max_label_name_len;
	size_t		max_label_value_len;
	size_t		max_amplification;	/* decoded bytes per uncompressed byte; 0 = none */
} PhaDecodeLimits;

typedef struct PhaDecodeError
{
	PhaDecodeStatus status;
	long		series_index;	/* offending series, -1 if none */
	char		message[160];	/* what is wrong, lowercase, no period */
	char		detail[320];	/* which value, where */
} PhaDecodeError;

/*
 * Bump allocator: protobuf-c makes several small allocations per label; a
 * bump pointer over large blocks halves unpacking time against a general
 * allocator.  Nothing is freed individually; the blocks go with their owner.
 */
typedef void *(*PhaBlockAllocFn) (void *ctx, size_t size);

typedef struct PhaArena
{
	PhaBlockAllocFn block_alloc;
	void	   *ctx;
	char	   *cur;
	char	   *end;
	size_t		total;			/* bytes obtained from block_alloc */
	size_t		limit;			/* refuse to grow past this; 0 = no limit */
	bool		over_limit;		/* an allocation was refused */
	ProtobufCAllocator pb;		/* protobuf-c view of this arena */
} PhaArena;

/*
 * Fill err (status, series_index = series or -1, message, and the detail
 * formatted from detail_fmt, empty when NULL; both truncated to fit) and
 * return status: the one way decode.c and read.c report a failure.
 */
extern PhaDecodeStatus pha_decode_fail(PhaDecodeError *err, PhaDecodeStatus status,
									   long series, const char *message,
									   const char *detail_fmt,...)
			__attribute__((format(printf, 5, 6)));

extern void pha_arena_init(PhaArena *arena, PhaBlockAllocFn block_alloc, void *ctx);
extern void *pha_arena_alloc(PhaArena *arena, size_t size);

/* Check the snappy header against the limit, then decompress into the arena. */
extern PhaDecodeStatus pha_decompress(const uint8_t *payload, size_t len,
									  const PhaDecodeLimits *limits, PhaArena *arena,
									  const uint8_t **raw, size_t *raw_len,
									  PhaDecodeError *err);

/* Unpack a decompressed prometheus.WriteRequest with protobuf-c. */
extern PhaDecodeStatus pha_unpack(const uint8_t *raw, size_t raw_len,
								  const PhaDecodeLimits *limits, PhaArena *arena,
								  Prometheus__WriteRequest **out, PhaDecodeError *err);

/* Decompress and unpack; *out is valid only when PHA_DECODE_OK is returned. */
extern PhaDecodeStatus pha_decode_request(const uint8_t *payload, size_t len,
										  const PhaDecodeLimits *limits,
										  PhaArena *arena,
										  Prometheus__WriteRequest **out,
										  PhaDecodeError *err);

/*
 * Validate one series and normalise it in place: labels with empty values are
 * dropped (Prometheus treats them as absent), the rest sorted by name.
 */
extern PhaDecodeStatus pha_validate_series(Prometheus__TimeSeries *ts, long index,
										   const PhaDecodeLimits *limits,
										   PhaDecodeError *err);

/* Validate and normalise every series of a request. */
extern PhaDecodeStatus pha_validate_request(Prometheus__WriteRequest *req,
											const PhaDecodeLimits *limits,
											PhaDecodeError *err);

/* Byte-wise order of two label names, as Prometheus sorts them. */
extern int	pha_label_name_cmp(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b);

/* Find a label by name in a sorted series; NULL when absent. */
extern Prometheus__Label *pha_find_label(Prometheus__TimeSeries *ts, const char *name,
										 size_t name_len);

extern bool pha_utf8_valid(const uint8_t *s, size_t len);
extern bool pha_label_name_valid(const uint8_t *name, size_t len);

#endif							/* PHA_DECODE_H */
