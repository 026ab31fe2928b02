/*-------------------------------------------------------------------------
 *
 * read.c
 *	  promscale_ha.read(request bytea) RETURNS TABLE (kind text, body bytea):
 *	  the database side of Prometheus remote read, in named steps:
 *
 *	  decode    request -> ReadRequest and its response type (wire/read.c)
 *	  select    per query, the matchers -> a cursor over the matching series,
 *	            ordered as Prometheus orders label sets (store/read_series.c)
 *	  fetch     per batch of up to promscale_ha.read_batch_series series (one
 *	            cursor fetch), their head rows in [start, end] in one query
 *	            (store/read_head.c); per series, its chunk rows overlapping the
 *	            window straight from the chunks' primary key (store/chunk_index.c)
 *	  merge     per series: stored XOR chunks inside the window kept as they
 *	            are, the rest decoded, cut and merged with the head rows
 *	            (store/read_merge.c)
 *	  encode    SAMPLES: every series into one snappy ReadResponse, one row;
 *	            STREAMED_XOR_CHUNKS: the kept chunks unchanged, the other
 *	            samples as 120-sample XOR chunks, series packed into frames of
 *	            at most promscale_ha.read_frame_bytes, one row each
 *
 * The function returns a set in value-per-call mode: for 'chunks' a call
 * with no frame ready reads series until READY_BYTES of frames are complete
 * (at least one), and each call returns the oldest, so memory stays at about
 * one batch plus READY_BYTES and one frame whatever the size of the result (when the
 * function runs in a select list; in FROM the executor stores the rows in a
 * tuplestore, which spills to disk).  The series cursor (an SPI portal)
 * outlives each call's SPI connection; an ExprContext callback closes it
 * when the statement stops early.  The chunks' index scan lives for one
 * call.  Everything reads on the statement's snapshot, read-only: the
 * whole response reads one consistent state.
 *
 * Memory: a context for the request (decoded request, frame being filled,
 * frames ready, the head rows' arrival buffers, kept and grown to the
 * largest batch) under the SRF's multi-call context, one reset per batch
 * (its series, labels and head rows) and one reset per series (its chunk
 * rows, decoded samples and encoding).  Limits are checked per series as
 * they are crossed, so a stream fails mid-way (the front end turns that
 * into a broken stream).  A series counts the samples it sends inside the
 * window: a chunk sent as stored lies inside it and counts its row's
 * samples, which its header repeats.  A batch's head query returns at most
 * the samples left under promscale_ha.read_max_samples plus one; a batch
 * that reaches that reads its head series by series, so the limit fails at
 * the same series, with the same error, whatever the batch size.  No lock
 * is taken beyond the AccessShareLocks of the reads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "codec/chunk.h"
#include "codec/xor.h"
#include "guc.h"
#include "read.h"
#include "store/chunk_index.h"
#include "store/read_head.h"
#include "store/read_merge.h"
#include "store/read_series.h"
#include "store/chunk_io.h"
#include "timeconv.h"
#include "wire/read.h"

PG_FUNCTION_INFO_V1(pha_read);

/* Frames one call produces before it returns the first: at least one. */
#define READY_BYTES		(1024 * 1024)

/* Decoded bytes per request byte: a ReadRequest is a few matchers (as ingest.c). */
#define READ_MAX_AMPLIFICATION	16

/* The XOR chunks of the series being encoded (series_cxt), grown as needed. */
typedef struct ChunkList
{
	PhaReadChunk *items;
	size_t		n;
	size_t		cap;
} ChunkList;

typedef struct ReadState
{
	MemoryContext cxt;			/* the request's life */
	MemoryContext batch_cxt;	/* the current batch: series, labels, head rows */
	MemoryContext series_cxt;	/* reset per series */
	Prometheus__ReadRequest *req;
	PhaReadResponseType type;

	/* the query being read */
	int			query;			/* index; n_queries when done */
	bool		query_open;
	PhaSeriesCursor cursor;
	int64		start_ms;		/* inclusive window */
	int64		end_ms;
	PhaReadSeries *batch;
	int			batch_n;
	int			batch_pos;
	bool		cursor_done;
	PhaHeadBuf	head_buf;
	PhaHeadRows head;			/* the batch's head rows */
	bool		head_by_series; /* too many samples: one head query per series */
	PhaChunkReader chunks;		/* open during one call */

	/* the series just read (cur in batch_cxt, data in series_cxt) */
	PhaReadSeries *cur;
	PhaSeriesData data;

	/* STREAMED_XOR_CHUNKS */
	StringInfoData frame;		/* chunked_series fields of the frame being filled,
								 * its buffer kept from frame to frame */
	int			frame_query;
	List	   *ready;			/* bytea * (cxt): whole frames, oldest first */
	size_t		ready_bytes;	/* their size */

	int64		series_total;
	int64		samples_total;
	bool		registered;		/* shutdown callback registered */
	ExprContext *econtext;
} ReadState;

/* SQLSTATE for a decoder verdict: 54000 for limits, 22021 for text, else 22P03. */
static int
read_errcode(PhaDecodeStatus st)
{
	switch (st)
	{
		case PHA_DECODE_TOO_LARGE:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case PHA_DECODE_BAD_UTF8:
			return ERRCODE_CHARACTER_NOT_IN_REPERTOIRE;
		default:
			return ERRCODE_INVALID_BINARY_REPRESENTATION;
	}
}

static void *
arena_block(void *ctx, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) ctx, size);
}

/* decode: the request into st->cxt, or an error. */
static void
decode_request(ReadState *st, bytea *request)
{
	PhaArena	arena;
	PhaDecodeLimits limits = {0};
	PhaDecodeError err;
	PhaDecodeStatus rc;

	pha_arena_init(&arena, arena_block, st->cxt);
	limits.max_payload_bytes = (size_t) pha_max_payload_bytes;
	limits.max_amplification = READ_MAX_AMPLIFICATION;
	rc = pha_read_decode((const uint8_t *) VARDATA_ANY(request), VARSIZE_ANY_EXHDR(request),
						 &limits, &arena, &st->req, &st->type, &err);
	if (rc != PHA_DECODE_OK)
		ereport(ERROR,
				(errcode(read_errcode(rc)),
				 errmsg("%s", err.message),
				 err.detail[0] ? errdetail("%s", err.detail) : 0));
}

/* The statement ends before the last row: close the cursor. */
static void
read_shutdown(Datum arg)
{
	ReadState  *st = (ReadState *) DatumGetPointer(arg);

	st->registered = false;
	pha_series_close(&st->cursor);
}

static int64
clamp_ms(int64 ms)
{
	return Min(Max(ms, PHA_MIN_MS), PHA_MAX_MS);
}

/* select: open the cursor over query q's series (connected to SPI). */
static void
open_query(ReadState *st, int q)
{
	Prometheus__Query *query = st->req->queries[q];
	MemoryContext old = MemoryContextSwitchTo(st->series_cxt);

	st->query = q;
	st->query_open = true;
	st->batch_n = st->batch_pos = 0;
	st->cursor_done = false;
	st->start_ms = clamp_ms(query->start_timestamp_ms);
	st->end_ms = clamp_ms(query->end_timestamp_ms);
	if (query->start_timestamp_ms > query->end_timestamp_ms)
		st->cursor_done = true; /* an empty range: no series */
	else
		pha_series_open(&st->cursor, query->matchers, query->n_matchers, st->cxt);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->series_cxt);
}

/*
 * fetch: the next batch of series from the cursor into batch_cxt, with
 * their head rows in one query bounded by what read_max_samples leaves
 * (plus one, to see it passed); past that, next_series reads the head
 * series by series.
 */
static void
fetch_batch(ReadState *st)
{
	int64		tcount = 0;
	int64	   *ids;

	MemoryContextReset(st->batch_cxt);
	st->batch_pos = 0;
	st->batch_n = pha_series_fetch(&st->cursor, pha_read_batch_series, st->batch_cxt,
								   &st->batch);
	if (st->batch_n == 0)
	{
		st->cursor_done = true;
		return;
	}
	ids = MemoryContextAlloc(st->batch_cxt, sizeof(int64) * st->batch_n);
	for (int i = 0; i < st->batch_n; i++)
		ids[i] = st->batch[i].id;
	if (pha_read_max_samples > 0)
		tcount = Max((int64) pha_read_max_samples - st->samples_total, 0) + 1;
	st->head_by_series = !pha_head_load(&st->head_buf, ids, st->batch_n,
										pha_ms_to_tstz(st->start_ms),
										pha_ms_to_tstz(st->end_ms), tcount, st->batch_cxt,
										&st->head);
}

/* fetch + merge: series pos of the batch into st->data (series_cxt; connected to SPI). */
static void
read_series(ReadState *st, int pos)
{
	PhaReadSeries *row = &st->batch[pos];
	MemoryContext old = MemoryContextSwitchTo(st->series_cxt);
	PhaHeadRows one;
	PhaHeadRows *h = &st->head;
	PhaStoredChunk *chunks;
	int			n_chunks;

	if (st->head_by_series)
	{
		(void) pha_head_load(&st->head_buf, &row->id, 1, pha_ms_to_tstz(st->start_ms),
							 pha_ms_to_tstz(st->end_ms), 0, st->series_cxt, &one);
		h = &one;
		pos = 0;
	}
	n_chunks = pha_chunk_reader_series(&st->chunks, row->id, st->start_ms, st->end_ms, &chunks);
	pha_merge_series(row->id, chunks, n_chunks, h->t + h->off[pos], h->v + h->off[pos],
					 (int) h->n[pos], st->start_ms, st->end_ms,
					 st->type == PHA_READ_STREAMED_XOR_CHUNKS, &st->data);
	MemoryContextSwitchTo(old);
}

/*
 * The next series of the current query with samples in its range, into
 * st->cur and st->data; false at the end of the query.  Checks the limits
 * and interrupts once per series.
 */
static bool
next_series(ReadState *st)
{
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (st->batch_pos >= st->batch_n)
		{
			if (st->cursor_done)
				return false;
			fetch_batch(st);
			if (st->batch_n == 0)
				return false;
		}
		MemoryContextReset(st->series_cxt);
		read_series(st, st->batch_pos);
		st->cur = &st->batch[st->batch_pos++];
		if (st->data.total == 0)
			continue;
		st->series_total++;
		st->samples_total += st->data.total;
		if (pha_read_max_series > 0 && st->series_total > pha_read_max_series)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("remote-read request returns more than %d series", pha_read_max_series),
					 errdetail("The limit is promscale_ha.read_max_series, summed over the request's queries."),
					 errhint("Narrow the query's matchers or time range.")));
		if (pha_read_max_samples > 0 && st->samples_total > pha_read_max_samples)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("remote-read request returns more than %d samples", pha_read_max_samples),
					 errdetail("The limit is promscale_ha.read_max_samples, summed over the request's queries."),
					 errhint("Narrow the query's matchers or time range.")));
		return true;
	}
}

/* An error when a response would not fit in a bytea. */
static void
check_size(size_t have, size_t add)
{
	if (add > MaxAllocSize - VARHDRSZ - 64 || have > MaxAllocSize - VARHDRSZ - 64 - add)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("remote-read response is too large"),
				 errdetail("A response of the SAMPLES type is one value, of at most 1 GB."),
				 errhint("Use the STREAMED_XOR_CHUNKS response type, or narrow the query.")));
}

/* encode (SAMPLES): the whole response, snappy-compressed, as one bytea in callcxt. */
static bytea *
samples_response(ReadState *st, MemoryContext callcxt)
{
	StringInfoData resp;
	StringInfoData qbuf;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);
	size_t		bound,
				out_len;
	bytea	   *out;

	initStringInfo(&resp);
	initStringInfo(&qbuf);
	MemoryContextSwitchTo(old);
	for (int q = 0; q < (int) st->req->n_queries; q++)
	{
		resetStringInfo(&qbuf);
		open_query(st, q);
		while (next_series(st))
		{
			PhaSeriesData *d = &st->data;	/* no chunk passed: all in t/v */
			size_t		need = pha_read_timeseries_len(st->cur->labels, st->cur->n_labels,
													   d->t, d->v, d->n);
			uint8_t    *end;

			Assert(d->n_pass == 0);
			check_size(resp.len + qbuf.len, need + 16);
			enlargeStringInfo(&qbuf, (int) need);
			end = pha_read_put_timeseries((uint8_t *) qbuf.data + qbuf.len, st->cur->labels,
										  st->cur->n_labels, d->t, d->v, d->n);
			qbuf.len = (char *) end - qbuf.data;
			Assert((size_t) qbuf.len <= (size_t) qbuf.maxlen);
		}
		check_size(resp.len, qbuf.len + 16);
		enlargeStringInfo(&resp, (int) pha_read_result_header_len(qbuf.len) + qbuf.len);
		resp.len = (char *) pha_read_put_result_header((uint8_t *) resp.data + resp.len,
													   qbuf.len) - resp.data;
		appendBinaryStringInfo(&resp, qbuf.data, qbuf.len);
	}
	pfree(qbuf.data);

	bound = pha_read_snappy_bound(resp.len);
	check_size(0, bound);
	out = (bytea *) MemoryContextAlloc(callcxt, bound + VARHDRSZ);
	out_len = bound;
	if (!pha_read_snappy((const uint8_t *) resp.data, resp.len, (uint8_t *) VARDATA(out),
						 &out_len))
		elog(ERROR, "snappy compression of %d bytes failed", resp.len);
	SET_VARSIZE(out, out_len + VARHDRSZ);
	pfree(resp.data);
	return out;
}

/*
 * The frame being filled as a whole frame (uvarint length, big-endian
 * CRC32-Castagnoli, ChunkedReadResponse) on the ready list, its buffer
 * emptied for the next.  The message is built in place (the frame's
 * chunked_series fields, then wire/read.c's tail); the CRC is PostgreSQL's,
 * which uses the CPU's CRC32C instruction where there is one: wire/'s
 * table-driven loop (plain C) was a quarter of a large streamed read.
 */
static void
flush_frame(ReadState *st)
{
	size_t		msg_len = pha_read_frame_msg_len(st->frame.len, st->frame_query);
	size_t		len = pha_pb_varint_len(msg_len) + 4 + msg_len;
	bytea	   *out;
	uint8_t    *p;
	uint8_t    *end PG_USED_FOR_ASSERTS_ONLY;
	pg_crc32c	crc;
	MemoryContext old;

	if (st->frame.len == 0)
		return;
	out = MemoryContextAlloc(st->cxt, len + VARHDRSZ);
	SET_VARSIZE(out, len + VARHDRSZ);
	p = pha_pb_put_varint((uint8_t *) VARDATA(out), msg_len);
	memcpy(p + 4, st->frame.data, st->frame.len);
	end = pha_read_put_frame_tail(p + 4 + st->frame.len, st->frame_query);
	Assert(end == p + 4 + msg_len && end == (uint8_t *) VARDATA(out) + len);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, p + 4, msg_len);
	FIN_CRC32C(crc);
	p[0] = (uint8_t) (crc >> 24);
	p[1] = (uint8_t) (crc >> 16);
	p[2] = (uint8_t) (crc >> 8);
	p[3] = (uint8_t) crc;
	old = MemoryContextSwitchTo(st->cxt);	/* the list's cells too */
	st->ready = lappend(st->ready, out);
	st->ready_bytes += len;
	MemoryContextSwitchTo(old);
	resetStringInfo(&st->frame);
}

/* Append a chunked_series field (labels + chunks[0..n)) to the frame being filled. */
static void
frame_add(ReadState *st, const PhaReadChunk *chunks, size_t n)
{
	size_t		need = pha_read_chunked_series_len(st->cur->labels, st->cur->n_labels, chunks, n);
	uint8_t    *end;

	enlargeStringInfo(&st->frame, (int) need);
	end = pha_read_put_chunked_series((uint8_t *) st->frame.data + st->frame.len,
									  st->cur->labels, st->cur->n_labels, chunks, n);
	st->frame.len = (char *) end - st->frame.data;
	st->frame_query = st->query;
}

/* Room for one more chunk in list (series_cxt). */
static PhaReadChunk *
chunk_slot(ReadState *st, ChunkList *list)
{
	if (list->n == list->cap)
	{
		list->cap = Max(list->cap * 2, 8);
		list->items = list->items == NULL ?
			MemoryContextAlloc(st->series_cxt, sizeof(PhaReadChunk) * list->cap) :
			repalloc(list->items, sizeof(PhaReadChunk) * list->cap);
	}
	return &list->items[list->n++];
}

/* t/v[0..n) (ms increasing) as XOR chunks of at most PHA_READ_CHUNK_SAMPLES. */
static void
encode_run(ReadState *st, ChunkList *list, const int64 *t, const double *v, size_t n)
{
	for (size_t off = 0; off < n; off += PHA_READ_CHUNK_SAMPLES)
	{
		size_t		k = Min(n - off, (size_t) PHA_READ_CHUNK_SAMPLES);
		size_t		cap = pha_xor_bound(k);
		uint8_t    *buf = MemoryContextAlloc(st->series_cxt, cap);
		PhaReadChunk *c = chunk_slot(st, list);
		PhaCodecStatus rc = pha_xor_encode(t + off, v + off, k, buf, cap, &c->len);

		if (rc != PHA_CODEC_OK)
			elog(ERROR, "XOR encoding of series %lld failed (%d)", (long long) st->cur->id,
				 (int) rc);
		c->min_time_ms = t[off];
		c->max_time_ms = t[off + k - 1];
		c->data = buf;
	}
}

/*
 * A stored chunk: as it is (its XOR chunk, checked by read_merge.c), unless the
 * series' labels and it alone would pass the frame bound (a small
 * read_frame_bytes); then decoded and cut like the loose samples.
 */
static void
add_stored(ReadState *st, ChunkList *list, const PhaStoredChunk *sc, size_t labels_len)
{
	PhaReadChunk c;
	PhaChunkSamples s;
	size_t		off;

	c.min_time_ms = sc->min_ms;
	c.max_time_ms = sc->max_ms;
	if (!pha_chunk_xor_span((const uint8 *) VARDATA(sc->data), VARSIZE(sc->data) - VARHDRSZ,
							&off, &c.len))
		elog(ERROR, "a chunk to send as stored is not in an XOR format");
	c.data = (const uint8 *) VARDATA(sc->data) + off;
	if (pha_read_frame_msg_len(pha_read_field_len(labels_len + pha_read_chunk_len(&c)),
							   st->query) <= (size_t) pha_read_frame_bytes)
	{
		*chunk_slot(st, list) = c;
		return;
	}
	pha_chunk_read(sc->data, st->cur->id, sc->min_ms, sc->max_ms, sc->samples, &s);
	encode_run(st, list, s.t, s.v, s.n);
}

/*
 * encode (STREAMED_XOR_CHUNKS): the current series into frames: its loose
 * samples as XOR chunks of 120, its stored chunks where they fall in time.
 */
static void
chunk_series(ReadState *st)
{
	PhaSeriesData *d = &st->data;
	ChunkList	list = {0};
	size_t		bound = (size_t) pha_read_frame_bytes;
	size_t		labels_len = pha_read_labels_len(st->cur->labels, st->cur->n_labels);
	PhaReadChunk *chunks;
	size_t		n_chunks;
	size_t		whole;
	size_t		i;
	int			k = 0;

	/* loose samples before each stored chunk, then it (none lies in its span) */
	for (int p = 0; p <= d->n_pass; p++)
	{
		int			e = k;

		while (e < d->n && (p == d->n_pass || d->t[e] < d->pass[p].min_ms))
			e++;
		encode_run(st, &list, d->t + k, d->v + k, e - k);
		k = e;
		if (p < d->n_pass)
			add_stored(st, &list, &d->pass[p], labels_len);
	}
	chunks = list.items;
	n_chunks = list.n;

	whole = pha_read_chunked_series_len(st->cur->labels, st->cur->n_labels, chunks, n_chunks);
	if (st->frame.len > 0 &&
		pha_read_frame_msg_len(st->frame.len + whole, st->query) > bound)
		flush_frame(st);
	if (pha_read_frame_msg_len(whole, st->query) <= bound || n_chunks == 1)
	{
		frame_add(st, chunks, n_chunks);
		return;
	}

	/* too big for one frame: consecutive parts, each as many chunks as fit (one at least) */
	i = 0;
	while (i < n_chunks)
	{
		size_t		body = labels_len + pha_read_chunk_len(&chunks[i]);
		size_t		j = i + 1;

		while (j < n_chunks &&
			   pha_read_frame_msg_len(pha_read_field_len(body + pha_read_chunk_len(&chunks[j])),
									  st->query) <= bound)
			body += pha_read_chunk_len(&chunks[j++]);
		frame_add(st, chunks + i, j - i);
		if (j < n_chunks)
			flush_frame(st);	/* the last part may share its frame with later series */
		i = j;
	}
}

/*
 * Produce frames until READY_BYTES of them are ready or the response is
 * complete (connected to SPI).  Several frames a call: each call costs an
 * SPI connection and an index scan's start.
 */
static void
fill_ready(ReadState *st)
{
	while (st->ready_bytes < READY_BYTES && st->query < (int) st->req->n_queries)
	{
		if (!st->query_open)
			open_query(st, st->query);
		if (next_series(st))
		{
			chunk_series(st);
			continue;
		}
		flush_frame(st);		/* frames never mix queries */
		st->query_open = false;
		st->query++;
	}
}

static Datum
make_row(FuncCallContext *funcctx, const char *kind, bytea *body)
{
	Datum		values[2];
	bool		nulls[2] = {false, false};

	values[0] = CStringGetTextDatum(kind);
	values[1] = PointerGetDatum(body);
	return HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls));
}

/*
 * One call's reading, connected to SPI with the chunks' scan open: the
 * SAMPLES body, or frames until one is ready (NULL).
 */
static bytea *
read_call(ReadState *st, MemoryContext callcxt)
{
	bytea	   *body = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pha_chunk_reader_open(&st->chunks); /* in SPI's procedure context: this call's */
	if (st->type == PHA_READ_SAMPLES)
		body = samples_response(st, callcxt);
	else
		fill_ready(st);
	pha_chunk_reader_close(&st->chunks);
	SPI_finish();
	MemoryContextSwitchTo(callcxt);
	return body;
}

Datum
pha_read(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	ReadState  *st;
	MemoryContext callcxt = CurrentMemoryContext;
	bytea	   *body = NULL;

	if (SRF_IS_FIRSTCALL())
	{
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		bytea	   *request = PG_GETARG_BYTEA_PP(0);
		MemoryContext old;
		TupleDesc	desc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "read() must return a composite type");
		funcctx->tuple_desc = BlessTupleDesc(desc);
		st = palloc0(sizeof(ReadState));
		st->cxt = AllocSetContextCreate(funcctx->multi_call_memory_ctx,
										"promscale_ha read", ALLOCSET_DEFAULT_SIZES);
		st->batch_cxt = AllocSetContextCreate(st->cxt, "promscale_ha read batch",
											  ALLOCSET_DEFAULT_SIZES);
		st->series_cxt = AllocSetContextCreate(st->cxt, "promscale_ha read series",
											   ALLOCSET_DEFAULT_SIZES);
		st->head_buf.cxt = st->cxt;
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(st->cxt);
		initStringInfo(&st->frame);
		decode_request(st, request);
		MemoryContextSwitchTo(old);
		if (rsinfo && IsA(rsinfo, ReturnSetInfo) && rsinfo->econtext)
		{
			st->econtext = rsinfo->econtext;
			RegisterExprContextCallback(st->econtext, read_shutdown, PointerGetDatum(st));
			st->registered = true;
		}
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;

	if (st->type == PHA_READ_SAMPLES)
	{
		if (funcctx->call_cntr == 0)
		{
			body = read_call(st, callcxt);
			SRF_RETURN_NEXT(funcctx, make_row(funcctx, "samples", body));
		}
	}
	else
	{
		if (st->ready == NIL)
			(void) read_call(st, callcxt);
		if (st->ready != NIL)
		{
			Datum		row;

			body = linitial(st->ready);
			st->ready = list_delete_first(st->ready);
			st->ready_bytes -= VARSIZE(body) - VARHDRSZ;
			row = make_row(funcctx, "chunks", body);	/* a copy */
			pfree(body);
			SRF_RETURN_NEXT(funcctx, row);
		}
	}

	pha_series_close(&st->cursor);
	if (st->registered)
	{
		UnregisterExprContextCallback(st->econtext, read_shutdown, PointerGetDatum(st));
		st->registered = false;
	}
	SRF_RETURN_DONE(funcctx);
}
