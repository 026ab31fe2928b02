/*-------------------------------------------------------------------------
 *
 * read_merge.c
 *	  Remote read's merge of one series' two tiers over a window: the stored
 *	  chunks sent unchanged, and the other samples decoded, cut and merged.
 *
 * A stored chunk in an XOR format holds exactly a Prometheus XOR chunk
 * after its format byte (and checksum; codec/chunk.h), and its sample count
 * fits the chunk's 16-bit header (chunks hold at most PHA_CHUNK_MAX_SAMPLES).  So a
 * STREAMED_XOR_CHUNKS response sends such a chunk as stored whenever doing
 * so cannot change what the client reads:
 *	- it lies inside the window (an edge chunk would send samples outside);
 *	- no head sample of the series lies in its span (a late write not yet
 *	  merged into the chunks: its samples must be interleaved, and a time
 *	  held twice resolved);
 *	- it overlaps no other chunk of the series (never the case: compression
 *	  merges; checked so that a broken invariant costs speed, not answers).
 * Everything else -- dense chunks, edge chunks, chunks with head samples in
 * their span, and the head rows -- becomes one sorted array: each chunk
 * decoded (pha_chunk_read checks it against its row: a damaged chunk is
 * ERRCODE_DATA_CORRUPTED, never a crash), cut to the window, and merged
 * with the head.  A time held twice keeps the value promscale_ha.samples
 * returns first (the view is samples_head UNION ALL samples_compressed):
 * the head's, else the earlier chunk's.
 *
 * A chunk sent as stored is still checked (its header's count is what the
 * client's decoder relies on; its times must lie in the row's span, hence in
 * the window): by its CRC32C, its count and its first time when it has a
 * checksum (PHA_CHUNK_XOR_CRC, written since 0.4.0: nothing decoded), else
 * decoded once into scratch memory and checked against its row.  A damaged
 * chunk is an error on our side, never bytes the client cannot read.
 * SAMPLES responses decode every chunk (pass = false).
 *
 * Work is per series, no SPI and no tuple per sample; memory comes from the
 * caller's context (remote read resets it per series).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "codec/chunk.h"
#include "store/read_merge.h"
#include "store/chunk_io.h"

/* One decoded sample with its arrival, for a stable sort. */
typedef struct SeqSample
{
	int64		t;
	double		v;
	int64		seq;
} SeqSample;

static int
seq_cmp(const void *a, const void *b)
{
	const SeqSample *x = a;
	const SeqSample *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * Sort t/v[0..n) by time keeping the first of equal times; the new count.
 * Only for chunks that overlap, which compression never writes.
 */
static int64
sort_first_wins(int64 *t, double *v, int64 n)
{
	SeqSample  *s = palloc_extended(sizeof(SeqSample) * Max(n, 1), MCXT_ALLOC_HUGE);
	int64		out = 0;

	for (int64 i = 0; i < n; i++)
	{
		s[i].t = t[i];
		s[i].v = v[i];
		s[i].seq = i;
	}
	qsort(s, n, sizeof(SeqSample), seq_cmp);
	for (int64 i = 0; i < n; i++)
	{
		if (out > 0 && t[out - 1] == s[i].t)
			continue;
		t[out] = s[i].t;
		v[out] = s[i].v;
		out++;
	}
	pfree(s);
	return out;
}

/* First index of t[0..n) (increasing) whose time is >= ms. */
static int
first_at_or_after(const int64 *t, int n, int64 ms)
{
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (t[mid] < ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* May chunk i go out as stored?  (See the file's header for the rules.) */
static bool
passes(int64 id, const PhaStoredChunk *chunks, const int64 *later_min, int i, const int64 *ht,
	   int hn, int64 lo, int64 hi)
{
	const PhaStoredChunk *c = &chunks[i];
	const uint8 *buf = (const uint8 *) VARDATA(c->data);
	size_t		len = VARSIZE(c->data) - VARHDRSZ;
	size_t		off,
				xlen;
	int			h;

	if (!pha_chunk_xor_span(buf, len, &off, &xlen) || c->min_ms < lo || c->max_ms > hi ||
		c->samples < 1 || c->samples > PHA_CHUNK_MAX_SAMPLES)
		return false;			/* decoded: pha_chunk_read judges an odd row */
	/* in max_time order: the one before ends last of those before */
	if ((i > 0 && chunks[i - 1].max_ms >= c->min_ms) || later_min[i] <= c->max_ms)
		return false;
	h = first_at_or_after(ht, hn, c->min_ms);
	if (h < hn && ht[h] <= c->max_ms)
		return false;
	/*
	 * The bytes too, so that a damaged chunk is ERRCODE_DATA_CORRUPTED here
	 * rather than bytes the client cannot read, or samples outside the
	 * window it asked for: by their checksum, or decoded and checked
	 * against the row where they have none (chunk_io.h).
	 */
	pha_chunk_check_stored(c->data, id, c->min_ms, c->max_ms, c->samples);
	return true;
}

void
pha_merge_series(int64 id, const PhaStoredChunk *chunks, int n_chunks, const int64 *ht,
				 const double *hv, int hn, int64 lo, int64 hi, bool pass, PhaSeriesData *out)
{
	PhaChunkSamples *dec = palloc(sizeof(PhaChunkSamples) * Max(n_chunks, 1));
	int		   *from = palloc(sizeof(int) * Max(n_chunks, 1));
	int64	   *later_min = palloc(sizeof(int64) * Max(n_chunks, 1));
	int64		cn = 0;
	int64		k;
	int64		i,
				j;
	bool		sorted = true;
	int64	   *ct;
	double	   *cv;

	out->pass = palloc(sizeof(PhaStoredChunk) * Max(n_chunks, 1));
	out->n_pass = 0;
	out->total = 0;
	/* later_min[c]: the earliest start of the chunks after c */
	later_min[Max(n_chunks, 1) - 1] = PG_INT64_MAX;
	for (int c = n_chunks - 2; c >= 0; c--)
		later_min[c] = Min(later_min[c + 1], chunks[c + 1].min_ms);

	/* decide, and decode what is not passed, cut to [lo, hi] */
	for (int c = 0; c < n_chunks; c++)
	{
		if (pass && passes(id, chunks, later_min, c, ht, hn, lo, hi))
		{
			out->pass[out->n_pass++] = chunks[c];
			out->total += chunks[c].samples;
			dec[c].t = NULL;
			dec[c].n = from[c] = 0;
			continue;
		}
		pha_chunk_read(chunks[c].data, id, chunks[c].min_ms, chunks[c].max_ms,
					   chunks[c].samples, &dec[c]);
		from[c] = first_at_or_after(dec[c].t, dec[c].n, lo);
		dec[c].n = Max(first_at_or_after(dec[c].t, dec[c].n, hi + 1), from[c]);
		cn += dec[c].n - from[c];
	}

	/* the decoded parts in chunk order; sorted unless chunks overlap */
	ct = palloc_extended(sizeof(int64) * Max(cn, 1), MCXT_ALLOC_HUGE);
	cv = palloc_extended(sizeof(double) * Max(cn, 1), MCXT_ALLOC_HUGE);
	k = 0;
	for (int c = 0; c < n_chunks; c++)
	{
		int			m = dec[c].n - from[c];

		if (m > 0)
		{
			if (k > 0 && ct[k - 1] >= dec[c].t[from[c]])
				sorted = false;
			memcpy(ct + k, dec[c].t + from[c], sizeof(int64) * m);
			memcpy(cv + k, dec[c].v + from[c], sizeof(double) * m);
			k += m;
		}
		if (dec[c].t != NULL)
		{
			pfree(dec[c].t);
			pfree(dec[c].v);
		}
	}
	if (!sorted)
		cn = sort_first_wins(ct, cv, cn);

	/* merged with the head, whose value wins a time held by both */
	if (hn == 0)
	{
		out->t = ct;
		out->v = cv;
		k = cn;
	}
	else
	{
		out->t = palloc_extended(sizeof(int64) * (cn + hn), MCXT_ALLOC_HUGE);
		out->v = palloc_extended(sizeof(double) * (cn + hn), MCXT_ALLOC_HUGE);
		i = j = k = 0;
		while (i < cn || j < hn)
		{
			if (j < hn && (i >= cn || ht[j] <= ct[i]))
			{
				if (i < cn && ht[j] == ct[i])
					i++;
				out->t[k] = ht[j];
				out->v[k++] = hv[j++];
			}
			else
			{
				out->t[k] = ct[i];
				out->v[k++] = cv[i++];
			}
		}
		pfree(ct);
		pfree(cv);
	}
	if (k > (int64) INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("series %lld has too many samples", (long long) id)));
	out->n = (int) k;
	out->total += k;
	pfree(dec);
	pfree(from);
	pfree(later_min);
}
