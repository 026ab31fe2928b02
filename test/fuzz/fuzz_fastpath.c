/*-------------------------------------------------------------------------
 *
 * fuzz_fastpath.c
 *	  libFuzzer harness for the write path's in-place reading of a request
 *	  (src/wire/fastpath.c), differential against the full decoder
 *	  (src/wire/decode.c).
 *
 * ingest.c takes a request from pha_fast_parse when it returns true and every
 * series either hits the wire cache (no validation: its label bytes, the
 * replica label set aside, equal those of a series validated before) or
 * passes pha_validate_series; otherwise it runs the full decoder.  This
 * harness plays that on the same bytes, with a cache that lives for one
 * input (a series hits when an earlier series of the input, validated, had
 * the same key bytes), and checks against pha_unpack + pha_validate_request:
 *
 *	 - a request the fast path takes is one the decoder accepts (so it rejects
 *	   exactly what the decoder rejects: everything else falls back to it),
 *	   with as many series;
 *	 - every series has the same labels, in the same order, and the same
 *	   samples (timestamps and value bits) as the decoder's -- also a hit,
 *	   which was never validated or sorted;
 *	 - two series with equal keys have equal label sets once the replica
 *	   label is removed (what the cache maps to one series id);
 *	 - a key is cacheable only for labels already in the decoder's order;
 *	 - for every cacheable series: if its key labels alone are valid (what a
 *	   hit learned from an earlier series), the whole series is valid (the
 *	   replica label and the limits checked on the hit suffice);
 *	 - for every cacheable series, the cluster and replica labels recorded
 *	   (out->ha, which ingest.c uses instead of looking them up) are the
 *	   decoder's, or both absent;
 *	 - nothing is read outside the request (exact-size copy, ASan).
 *
 * Input: one mode byte and a body, as in fuzz_decode.c, whose corpus it
 * shares.  Bit 0: bare protobuf (1) or a snappy block (0); bit 1: tight
 * limits; bit 2: the replica label is "r" instead of "__replica__", so that
 * short mutations make it.
 *
 * Built and run by test/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire/decode.h"
#include "fuzz_common.h"
#include "wire/fastpath.h"

static bool
same_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* The label named name in ts (linear: the decoder's series is sorted, but a miss must be sure), or NULL. */
static const Prometheus__Label *
label_named(const Prometheus__TimeSeries *ts, const char *name)
{
	size_t		len = strlen(name);

	for (size_t i = 0; i < ts->n_labels; i++)
		if (ts->labels[i]->name.len == len && memcmp(ts->labels[i]->name.data, name, len) == 0)
			return ts->labels[i];
	return NULL;
}

/* Both absent, or both present with the same name and value bytes. */
static bool
same_label(const Prometheus__Label *a, const Prometheus__Label *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return same_bytes(&a->name, &b->name) && same_bytes(&a->value, &b->value);
}

/* Are the labels of a and b, those named rl left out, the same list? */
static bool
same_labels_but(const Prometheus__TimeSeries *a, const Prometheus__TimeSeries *b, const char *rl)
{
	size_t		i = 0,
				j = 0,
				rlen = rl ? strlen(rl) : 0;

	for (;;)
	{
		while (i < a->n_labels && rl && a->labels[i]->name.len == rlen &&
			   memcmp(a->labels[i]->name.data, rl, rlen) == 0)
			i++;
		while (j < b->n_labels && rl && b->labels[j]->name.len == rlen &&
			   memcmp(b->labels[j]->name.data, rl, rlen) == 0)
			j++;
		if (i == a->n_labels || j == b->n_labels)
			return i == a->n_labels && j == b->n_labels;
		if (!same_bytes(&a->labels[i]->name, &b->labels[j]->name) ||
			!same_bytes(&a->labels[i]->value, &b->labels[j]->value))
			return false;
		i++;
		j++;
	}
}

/* The fast path's series i against the decoder's. */
static void
check_series(size_t i, const Prometheus__TimeSeries *f, const Prometheus__TimeSeries *d)
{
	CHECK(same_labels_but(f, d, NULL), "series %zu: labels differ from the decoder's", i);
	CHECK(f->n_samples == d->n_samples, "series %zu: %zu samples, the decoder %zu",
		  i, f->n_samples, d->n_samples);
	for (size_t s = 0; s < f->n_samples; s++)
	{
		CHECK(f->samples[s]->timestamp == d->samples[s]->timestamp,
			  "series %zu sample %zu: time %lld, the decoder's %lld", i, s,
			  (long long) f->samples[s]->timestamp, (long long) d->samples[s]->timestamp);
		CHECK(memcmp(&f->samples[s]->value, &d->samples[s]->value, sizeof(double)) == 0,
			  "series %zu sample %zu: value bits differ", i, s);
	}
	CHECK(f->n_exemplars == 0 && f->n_histograms == 0 &&
		  d->n_exemplars == 0 && d->n_histograms == 0,
		  "series %zu: exemplars or histograms on the fast path", i);
}

/* Validate a copy of ts (validation reorders its label array), leaving out labels named skip. */
static bool
valid_copy(const Prometheus__TimeSeries *ts, const char *skip, const PhaDecodeLimits *lim)
{
	Prometheus__TimeSeries c = *ts;
	Prometheus__Label **labels = malloc((ts->n_labels + 1) * sizeof(Prometheus__Label *));
	size_t		n = 0,
				slen = skip ? strlen(skip) : 0;
	PhaDecodeError err;
	bool		ok;

	CHECK(labels != NULL, "out of memory");
	for (size_t i = 0; i < ts->n_labels; i++)
		if (!skip || ts->labels[i]->name.len != slen ||
			memcmp(ts->labels[i]->name.data, skip, slen) != 0)
			labels[n++] = ts->labels[i];
	c.labels = labels;
	c.n_labels = n;
	ok = pha_validate_series(&c, 0, lim, &err) == PHA_DECODE_OK;
	free(labels);
	return ok;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		mode;
	const PhaDecodeLimits *lim;
	const char *rl;
	const char *cl;
	const uint8_t *raw;
	size_t		raw_len;
	uint8_t    *copy;
	FuzzAlloc	fa = {0};
	FuzzAlloc	fb = {0};
	PhaArena	arena;
	PhaArena	farena;
	PhaDecodeError err;
	PhaFastRequest fr;
	bool		fast;
	size_t		n = 0;
	size_t	   *validated = NULL;	/* series that passed validation, cacheable */
	size_t	   *hit_of = NULL;	/* the series a hit matched, or SIZE_MAX */
	size_t		nvalidated = 0;
	Prometheus__WriteRequest *wr = NULL;
	PhaDecodeStatus st;

	if (size == 0)
		return 0;
	mode = data[0];
	lim = (mode & FUZZ_MODE_TIGHT_LIMITS) ? &fuzz_tight_limits : &fuzz_server_limits;
	rl = (mode & FUZZ_MODE_BIT2) ? "r" : "__replica__";
	cl = (mode & FUZZ_MODE_BIT2) ? "c" : "cluster";
	pha_arena_init(&arena, fuzz_block_alloc, &fa);
	pha_arena_init(&farena, fuzz_block_alloc, &fb);

	if (mode & FUZZ_MODE_RAW_PROTOBUF)
	{
		raw = data + 1;
		raw_len = size - 1;
		if (raw_len > lim->max_payload_bytes)
			return 0;			/* pha_decompress would refuse it */
	}
	else if (pha_decompress(data + 1, size - 1, lim, &arena, &raw, &raw_len, &err) != PHA_DECODE_OK)
	{
		fuzz_free_blocks(&fa);
		return 0;
	}
	copy = malloc(raw_len > 0 ? raw_len : 1);
	if (copy == NULL)
	{
		fuzz_free_blocks(&fa);
		return 0;
	}
	if (raw_len > 0)
		memcpy(copy, raw, raw_len);

	/* the fast path, as ingest.c's decode step runs it */
	fast = pha_fast_parse(copy, raw_len, lim, rl, cl, 42, &farena, &fr);

	/*
	 * What a hit relies on, for every series, paired or not: when its key
	 * labels are valid (as an earlier series with the same key bytes and
	 * a good replica label would have shown), so is the whole series.
	 */
	for (size_t i = 0; fast && i < fr.wr.n_timeseries; i++)
		if (fr.keys[i].cacheable && valid_copy(fr.wr.timeseries[i], rl, lim))
			CHECK(valid_copy(fr.wr.timeseries[i], NULL, lim),
				  "series %zu: cacheable and its key labels valid, yet the series is not", i);
	if (fast)
	{
		n = fr.wr.n_timeseries;
		validated = malloc((n + 1) * sizeof(size_t));
		hit_of = malloc((n + 1) * sizeof(size_t));
		CHECK(validated != NULL && hit_of != NULL, "out of memory");
		for (size_t i = 0; i < n && fast; i++)
		{
			const PhaWireKey *k = &fr.keys[i];

			hit_of[i] = SIZE_MAX;
			for (size_t v = 0; k->cacheable && v < nvalidated; v++)
			{
				const PhaWireKey *kv = &fr.keys[validated[v]];
				uint8_t    *joined = malloc(kv->len[0] + kv->len[1] + 1);

				CHECK(joined != NULL, "out of memory");
				memcpy(joined, kv->part[0], kv->len[0]);
				if (kv->len[1] > 0)
					memcpy(joined + kv->len[0], kv->part[1], kv->len[1]);
				if (kv->hash == k->hash && pha_wire_key_equal(k, joined, kv->len[0] + kv->len[1]))
					hit_of[i] = validated[v];
				free(joined);
				if (hit_of[i] != SIZE_MAX)
					break;
			}
			if (hit_of[i] != SIZE_MAX)
				continue;		/* a cache hit: not validated */
			if (pha_validate_series(fr.wr.timeseries[i], (long) i, lim, &err) != PHA_DECODE_OK)
				fast = false;	/* ingest.c falls back to the full decoder */
			else if (k->cacheable)
				validated[nvalidated++] = i;
		}
	}

	st = pha_unpack(copy, raw_len, lim, &arena, &wr, &err);
	if (st == PHA_DECODE_OK)
		st = pha_validate_request(wr, lim, &err);

	CHECK(!fast || st == PHA_DECODE_OK,
		  "the fast path takes %zu series the decoder rejects with status %d: %s; %s",
		  n, (int) st, err.message, err.detail);
	if (fast)
	{
		CHECK(n == wr->n_timeseries, "the fast path reads %zu series, the decoder %zu",
			  n, wr->n_timeseries);
		for (size_t i = 0; i < n; i++)
		{
			check_series(i, fr.wr.timeseries[i], wr->timeseries[i]);
			if (fr.keys[i].cacheable)
			{
				CHECK(fr.ha != NULL, "no HA labels recorded");
				CHECK(same_label(fr.ha[2 * i], label_named(wr->timeseries[i], cl)),
					  "series %zu: the cluster label recorded differs from the decoder's", i);
				CHECK(same_label(fr.ha[2 * i + 1], label_named(wr->timeseries[i], rl)),
					  "series %zu: the replica label recorded differs from the decoder's", i);
			}
			if (hit_of[i] != SIZE_MAX)
				CHECK(same_labels_but(wr->timeseries[i], wr->timeseries[hit_of[i]], rl),
					  "series %zu and %zu have equal keys but different label sets", i, hit_of[i]);
		}
	}
	if (fast)
	{
		/* a cacheable key's labels were in the decoder's order already */
		for (size_t v = 0; v < nvalidated; v++)
			CHECK(fr.wr.timeseries[validated[v]]->n_labels == wr->timeseries[validated[v]]->n_labels,
				  "series %zu: cacheable, yet validation dropped labels", validated[v]);
	}

	free(validated);
	free(hit_of);
	free(copy);
	fuzz_free_blocks(&fa);
	fuzz_free_blocks(&fb);
	return 0;
}
