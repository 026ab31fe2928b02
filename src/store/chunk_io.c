/*-------------------------------------------------------------------------
 *
 * chunk_io.c
 *	  Stored chunks <-> sample arrays inside the server.
 *
 * The codec (codec/chunk.c) is plain C and reports a status; here its
 * memory comes from palloc, its statuses become PostgreSQL errors, and the
 * storage rules of a chunk (at most PHA_CHUNK_MAX_SAMPLES samples, never
 * across a UTC day boundary, times inside the row's [min_time, max_time])
 * are applied in one place for the compression job, the late-write check
 * and the readers.  Chunk format "xor" is written as PHA_CHUNK_XOR_CRC: the
 * XOR chunk after a CRC32C of it and of its row's span and count, computed
 * and checked here with the server's CRC, so that remote read can send a
 * stored chunk after checking its checksum rather than decoding it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_crc32c.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "codec/chunk.h"
#include "codec/xor.h"
#include "guc.h"
#include "store/chunk_io.h"
#include "timeconv.h"

static void *
codec_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) ctx, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
codec_release(void *ctx, void *p)
{
	pfree(p);
}

PhaCodecMem
pha_codec_palloc(void)
{
	PhaCodecMem m;

	m.alloc = codec_alloc;
	m.release = codec_release;
	m.ctx = CurrentMemoryContext;
	return m;
}

/* ERROR for a chunk that does not read back as stored. */
static void
corrupt(int64 series_id, int64 max_ms, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupt compressed chunk of series %lld ending at %s",
					(long long) series_id,
					timestamptz_to_str(pha_ms_to_tstz(max_ms))),
			 errdetail("%s", why),
			 errhint("Look at it with promscale_ha.chunk_decode(); restore the row from a backup or delete it from promscale_ha.chunks.")));
}

/*
 * The checksum of a PHA_CHUNK_XOR_CRC chunk: CRC32C (the server's, with the
 * CPU's instruction where there is one) of its row's first and last time
 * and sample count (big-endian int64, int64, int32) and then the XOR chunk
 * xor[0..len).  The row is covered too, so that a chunk sent without
 * decoding is known to hold exactly what its row says.
 */
static uint32
chunk_crc(int64 min_ms, int64 max_ms, int32 n, const uint8 *xor, size_t len)
{
	uint8		row[20];
	pg_crc32c	crc;

	for (int i = 0; i < 8; i++)
	{
		row[i] = (uint8) ((uint64) min_ms >> (56 - 8 * i));
		row[8 + i] = (uint8) ((uint64) max_ms >> (56 - 8 * i));
	}
	for (int i = 0; i < 4; i++)
		row[16 + i] = (uint8) ((uint32) n >> (24 - 8 * i));
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, row, sizeof(row));
	COMP_CRC32C(crc, xor, len);
	FIN_CRC32C(crc);
	return (uint32) crc;
}

/*
 * A PHA_CHUNK_XOR_CRC chunk whose checksum does not match its bytes and its
 * row is corrupt; other formats have none to check.
 */
static void
check_crc(const uint8 *buf, size_t len, int64 series_id, int64 min_ms, int64 max_ms,
		  int expected)
{
	size_t		off,
				xlen;
	uint32		want;

	if (len < 1 || buf[0] != PHA_CHUNK_XOR_CRC)
		return;
	if (!pha_chunk_xor_span(buf, len, &off, &xlen))
		corrupt(series_id, max_ms, "The chunk is shorter than its checksum.");
	want = ((uint32) buf[1] << 24) | ((uint32) buf[2] << 16) | ((uint32) buf[3] << 8) | buf[4];
	if (chunk_crc(min_ms, max_ms, expected, buf + off, xlen) != want)
		corrupt(series_id, max_ms, "Its checksum does not match its bytes and its row.");
}

void
pha_chunk_read(const bytea *data, int64 series_id, int64 min_ms, int64 max_ms,
			   int expected, PhaChunkSamples *out)
{
	const uint8 *buf = (const uint8 *) VARDATA_ANY(data);
	size_t		len = VARSIZE_ANY_EXHDR(data);
	size_t		n;
	size_t		got;
	PhaCodecMem mem = pha_codec_palloc();
	PhaCodecStatus st;

	check_crc(buf, len, series_id, min_ms, max_ms, expected);
	st = pha_chunk_count(buf, len, &n);
	if (st != PHA_CODEC_OK)
		corrupt(series_id, max_ms, pha_codec_status_text(st));
	if (n > PHA_CHUNK_MAX_SAMPLES * 8 || (expected >= 0 && n != (size_t) expected))
		corrupt(series_id, max_ms, psprintf("The chunk says %zu samples, its row %d.", n, expected));
	out->t = palloc(Max(n, 1) * sizeof(int64));
	out->v = palloc(Max(n, 1) * sizeof(double));
	st = pha_chunk_decode(buf, len, &mem, out->t, out->v, n, &got);
	if (st != PHA_CODEC_OK)
		corrupt(series_id, max_ms, pha_codec_status_text(st));
	if (got != n || n == 0)
		corrupt(series_id, max_ms, "The chunk decodes to fewer samples than it announces.");
	if (out->t[0] < min_ms || out->t[n - 1] > max_ms)
		corrupt(series_id, max_ms, "Its samples lie outside the chunk's time range.");
	out->n = (int) n;
}

void
pha_chunk_check_stored(const bytea *data, int64 series_id, int64 min_ms, int64 max_ms,
					   int expected)
{
	const uint8 *buf = (const uint8 *) VARDATA_ANY(data);
	size_t		len = VARSIZE_ANY_EXHDR(data);
	size_t		off,
				xlen;
	size_t		n;
	PhaXorIter	it;
	int64_t		t0;
	double		v0;

	if (!pha_chunk_xor_span(buf, len, &off, &xlen))
		elog(ERROR, "chunk of series %lld is not in an XOR format", (long long) series_id);
	if (buf[0] == PHA_CHUNK_XOR)
	{
		PhaChunkSamples s;

		/* no checksum: the bit stream is decoded and checked against the row */
		pha_chunk_read(data, series_id, min_ms, max_ms, expected, &s);
		pfree(s.t);
		pfree(s.v);
	}
	else
	{
		/* the checksum covers the bytes and the row: the header must agree with it */
		check_crc(buf, len, series_id, min_ms, max_ms, expected);
		if (pha_xor_count(buf + off, xlen, &n) != PHA_CODEC_OK || n != (size_t) expected)
			corrupt(series_id, max_ms, psprintf("The chunk says %zu samples, its row %d.", n, expected));
		if (pha_xor_iter_init(&it, buf + off, xlen) != PHA_CODEC_OK ||
			pha_xor_iter_next(&it, &t0, &v0) != 1 || t0 != min_ms)
			corrupt(series_id, max_ms, "Its first sample is not at the chunk's start time.");
	}
}

bytea *
pha_chunk_write(int format, const int64 *t, const double *v, int n)
{
	PhaChunkFormat fmt = format == PHA_CHUNK_FORMAT_XOR ? PHA_CHUNK_XOR_CRC : (PhaChunkFormat) format;
	size_t		cap = pha_chunk_bound(fmt, (size_t) n);
	bytea	   *b = palloc(VARHDRSZ + cap);
	uint8	   *buf = (uint8 *) VARDATA(b);
	size_t		len;
	PhaCodecMem mem = pha_codec_palloc();
	PhaCodecStatus st;

	st = pha_chunk_encode(fmt, t, v, (size_t) n, &mem, buf, cap, &len);
	if (st != PHA_CODEC_OK)
		elog(ERROR, "could not encode a chunk of %d samples: %s", n, pha_codec_status_text(st));
	if (fmt == PHA_CHUNK_XOR_CRC)
	{
		size_t		off,
					xlen;
		uint32		crc;

		if (!pha_chunk_xor_span(buf, len, &off, &xlen))
			elog(ERROR, "an encoded xor chunk has no XOR span");
		crc = chunk_crc(t[0], t[n - 1], n, buf + off, xlen);
		buf[1] = (uint8) (crc >> 24);
		buf[2] = (uint8) (crc >> 16);
		buf[3] = (uint8) (crc >> 8);
		buf[4] = (uint8) crc;
	}
	SET_VARSIZE(b, VARHDRSZ + len);
	return b;
}

int
pha_chunk_cut(const int64 *t, int n, int format)
{
	int64		day = t[0] / PHA_CHUNK_SPAN_MS - (t[0] < 0 && t[0] % PHA_CHUNK_SPAN_MS != 0);
	int64		day_end = (day + 1) * PHA_CHUNK_SPAN_MS;
	int			most = PHA_CHUNK_MAX_SAMPLES;
	int			k = 1;

	if (format == PHA_CHUNK_FORMAT_XOR || format == PHA_CHUNK_XOR_CRC)
		most = Min(Max(pha_xor_chunk_samples, 1), PHA_CHUNK_MAX_SAMPLES);
	while (k < n && k < most && t[k] < day_end)
		k++;
	return k;
}

typedef struct SamplePair
{
	int64		t;
	double		v;
} SamplePair;

static int
cmp_pair(const void *a, const void *b)
{
	int64		x = ((const SamplePair *) a)->t;
	int64		y = ((const SamplePair *) b)->t;

	return x < y ? -1 : (x > y ? 1 : 0);
}

void
pha_sort_samples(int64 *t, double *v, int n)
{
	SamplePair *p;
	bool		sorted = true;

	for (int i = 1; i < n && sorted; i++)
		sorted = t[i - 1] < t[i];
	if (sorted)
		return;
	p = palloc(n * sizeof(SamplePair));
	for (int i = 0; i < n; i++)
	{
		p[i].t = t[i];
		p[i].v = v[i];
	}
	qsort(p, n, sizeof(SamplePair), cmp_pair);
	for (int i = 0; i < n; i++)
	{
		t[i] = p[i].t;
		v[i] = p[i].v;
	}
	pfree(p);
}
