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
 * and the readers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "codec/chunk.h"
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

bytea *
pha_chunk_write(int format, const int64 *t, const double *v, int n)
{
	size_t		cap = pha_chunk_bound((PhaChunkFormat) format, (size_t) n);
	bytea	   *b = palloc(VARHDRSZ + cap);
	size_t		len;
	PhaCodecMem mem = pha_codec_palloc();
	PhaCodecStatus st;

	st = pha_chunk_encode((PhaChunkFormat) format, t, v, (size_t) n, &mem,
						  (uint8 *) VARDATA(b), cap, &len);
	if (st != PHA_CODEC_OK)
		elog(ERROR, "could not encode a chunk of %d samples: %s", n, pha_codec_status_text(st));
	SET_VARSIZE(b, VARHDRSZ + len);
	return b;
}

int
pha_chunk_cut(const int64 *t, int n)
{
	int64		day = t[0] / PHA_CHUNK_SPAN_MS - (t[0] < 0 && t[0] % PHA_CHUNK_SPAN_MS != 0);
	int64		day_end = (day + 1) * PHA_CHUNK_SPAN_MS;
	int			k = 1;

	while (k < n && k < PHA_CHUNK_MAX_SAMPLES && t[k] < day_end)
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
