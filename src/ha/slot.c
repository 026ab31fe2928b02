/*-------------------------------------------------------------------------
 *
 * slot.c
 *	  One sample per scrape slot across a takeover.
 *
 * Two replicas of an HA pair scrape a target at different phases.  At a
 * takeover the gap fill keeps, per series, the new leader's samples newer
 * than the newest stored one (the floor); the first of them may lie a
 * fraction of an interval after the floor, in the scrape slot the old
 * leader's sample already holds.  This file decides which sample that is, so
 * that the driver drops it: the spacing across the cut stays between half an
 * interval and one and a half.
 *
 * The interval is read from the new leader's own samples of the series
 * (replayed payloads and the request together), next to the first sample
 * after the floor, so series with different intervals in one request, or a
 * series whose interval changed long ago, are each judged by their own.
 * When the new leader has only that one sample of the series (a replica
 * restarted not long ago, a batch of one scrape), the old leader's stored
 * interval judges: the pair is scraped with one configuration.
 * A series' samples are read in any order: buffered payloads come back in
 * any order and a late one may hold older samples than the next.  Stale
 * markers (Prometheus' end-of-series NaN) are left out: dropping one could
 * leave a series that ended looking alive, and their times need not fall on
 * the scrape grid.  The old leader's stored samples are never touched.
 *
 * It decides only; the driver (ingest.c) drops.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "ha/slot.h"

/* One occurrence of a series of the new leader, sorted by series. */
typedef struct SlotOcc
{
	int64		key;
	int			occ;
} SlotOcc;

static int
occ_cmp(const void *a, const void *b)
{
	const SlotOcc *x = a;
	const SlotOcc *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->occ > y->occ) - (x->occ < y->occ);
}

/* Does sample s count: not past the future limit, not a stale marker? */
static inline bool
counts(const Prometheus__Sample *s, int64 limit_ms)
{
	return s->timestamp <= limit_ms && !pha_is_stale_marker(s->value);
}

/*
 * The sample of one series to drop, or PG_INT64_MIN.  o[0..n) are the
 * series' occurrences, floor_t its newest stored time.  Two passes over their
 * samples, in any order: the newest one at or before the floor and the first
 * one after it; then the one after that.  The same sample in two payloads
 * (a retried request) counts once.
 */
static int64
series_drop(const SlotOcc *o, int n, Prometheus__TimeSeries *const *ts, int64 floor_t,
			int64 before_floor, int64 limit_ms)
{
	int64		before = PG_INT64_MIN;	/* newest own sample at or before the floor */
	int64		first = PG_INT64_MAX;	/* first own sample after the floor */
	int64		next = PG_INT64_MAX;	/* the one after first */
	int64		interval = PG_INT64_MAX;

	for (int i = 0; i < n; i++)
	{
		Prometheus__TimeSeries *s = ts[o[i].occ];

		for (size_t j = 0; j < s->n_samples; j++)
		{
			int64		t = s->samples[j]->timestamp;

			if (!counts(s->samples[j], limit_ms))
				continue;
			if (t <= floor_t)
				before = Max(before, t);
			else
				first = Min(first, t);
		}
	}
	if (first == PG_INT64_MAX)
		return PG_INT64_MIN;	/* nothing after the floor */
	for (int i = 0; i < n; i++)
	{
		Prometheus__TimeSeries *s = ts[o[i].occ];

		for (size_t j = 0; j < s->n_samples; j++)
		{
			int64		t = s->samples[j]->timestamp;

			if (t > first && t < next && counts(s->samples[j], limit_ms))
				next = t;
		}
	}
	if (before != PG_INT64_MIN)
		interval = first - before;
	if (next != PG_INT64_MAX)
		interval = Min(interval, next - first);
	if (interval == PG_INT64_MAX && before_floor != PG_INT64_MIN)
		interval = floor_t - before_floor;	/* one own sample: the old leader's interval */
	if (interval == PG_INT64_MAX)
		return PG_INT64_MIN;	/* no interval to judge by */
	/* (first - floor_t) < interval / 2, without rounding */
	return (first - floor_t) * 2 < interval ? first : PG_INT64_MIN;
}

int64 *
pha_slot_drops(int n, const int64 *key, const int64 *floors, const int64 *befores,
			   Prometheus__TimeSeries *const *ts, const bool *want, int64 limit_ms)
{
	int64	   *drop = palloc(Max(n, 1) * sizeof(int64));
	SlotOcc    *o = palloc(Max(n, 1) * sizeof(SlotOcc));
	int			m = 0;

	for (int k = 0; k < n; k++)
	{
		drop[k] = PG_INT64_MIN;
		if (want[k] && floors[k] != PG_INT64_MIN)
		{
			o[m].key = key[k];
			o[m].occ = k;
			m++;
		}
	}
	qsort(o, m, sizeof(SlotOcc), occ_cmp);
	for (int i = 0; i < m;)
	{
		int			end = i;
		int64		t;

		while (end < m && o[end].key == o[i].key)
			end++;
		/* one series: every occurrence has the same id, so the same floor */
		t = series_drop(&o[i], end - i, ts, floors[o[i].occ], befores[o[i].occ], limit_ms);
		for (int j = i; j < end; j++)
			drop[o[j].occ] = t;
		i = end;
		CHECK_FOR_INTERRUPTS();
	}
	pfree(o);
	return drop;
}
