/*-------------------------------------------------------------------------
 *
 * fuzz_scan.c
 *	  libFuzzer harness for the follower fast path's label-only scan
 *	  (src/wire/scan.c), differential against the full decoder (src/wire/decode.c).
 *
 * ingest.c drops a request on the strength of pha_scan_request alone when
 * the scan succeeds, finds at most max_series series, and every series is
 * plain (not odd, no bad time) and carries both HA labels; the request is
 * never unpacked.  So the scan must never let through what the full decoder
 * (pha_unpack + pha_validate_request) rejects, and what it reports must be
 * what the decoder would have found.  This harness runs both on the same
 * bytes and checks:
 *
 *	 - a request the fast path would take is one the decoder accepts, with as
 *	   many series;
 *	 - whenever both succeed, every plain series has the cluster and replica
 *	   values the decoder finds (pha_find_label after validation) and the
 *	   same sample statistics: samples up to the future limit, samples after
 *	   it, their earliest and latest times, and whether any time is out of
 *	   timestamptz's range;
 *	 - when the scan succeeds and validation fails on series k, the scan
 *	   marked series k odd;
 *	 - the scan reads nothing outside the request (the raw bytes are copied
 *	   into a buffer of their exact size, so ASan sees any over-read).
 *
 * Input: one mode byte and a body, as in fuzz_decode.c, whose corpus it
 * shares.  Bit 0: the body is bare protobuf (1) or a snappy block (0, which is
 * decompressed by pha_decompress first); bit 1: tight limits; bit 2: the HA
 * label names are "c" and "r" instead of the defaults "cluster" and
 * "__replica__", so that short mutations can make them.
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
#include "wire/scan.h"

/*
 * timestamptz's range in ms since 1970 (PHA_MIN_MS and PHA_MAX_MS of
 * timeconv.h, which needs PostgreSQL's headers): MIN_TIMESTAMP and
 * END_TIMESTAMP of datatype/timestamp.h over 1000, moved from 2000 to 1970.
 */
#define MIN_MS		(INT64_C(-211813488000000000) / 1000 + INT64_C(946684800000))
#define MAX_MS		(INT64_C(9223371331200000000) / 1000 + INT64_C(946684800000) - 1)

/*
 * The future limit: 30 s after the fixtures' first sample (2026-01-01), so
 * that the generator's series, 15 s apart, have samples on both sides.
 */
#define FUTURE_MS	(INT64_C(1767225600000) + 30000)

/* What the decoder's series says about what the scan reports. */
typedef struct SampleStats
{
	size_t		nsamples;
	size_t		nfuture;
	int64_t		tmin;
	int64_t		tmax;
	bool		bad_time;
} SampleStats;

static void
sample_stats(const Prometheus__TimeSeries *ts, SampleStats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < ts->n_samples; i++)
	{
		int64_t		t = ts->samples[i]->timestamp;

		if (t < MIN_MS || t > MAX_MS)
			st->bad_time = true;
		if (t > FUTURE_MS)
		{
			st->nfuture++;
			continue;
		}
		if (st->nsamples == 0 || t < st->tmin)
			st->tmin = t;
		if (st->nsamples == 0 || t > st->tmax)
			st->tmax = t;
		st->nsamples++;
	}
}

/* Does the scan's value (NULL: absent) equal the label the decoder found? */
static bool
same_value(const uint8_t *v, size_t len, const Prometheus__Label *l)
{
	if (v == NULL || l == NULL)
		return v == NULL && l == NULL;
	return l->value.len == len && (len == 0 || memcmp(l->value.data, v, len) == 0);
}

/* Compare a plain series of the scan with the decoder's validated series. */
static void
check_series(size_t i, const PhaSeriesScan *s, Prometheus__TimeSeries *ts,
			 const char *cl, const char *rl)
{
	SampleStats st;

	CHECK(same_value(s->cluster, s->cluster_len, pha_find_label(ts, cl, strlen(cl))),
		  "series %zu: the scan's %s label differs from the decoder's", i, cl);
	CHECK(same_value(s->replica, s->replica_len, pha_find_label(ts, rl, strlen(rl))),
		  "series %zu: the scan's %s label differs from the decoder's", i, rl);
	sample_stats(ts, &st);
	CHECK(s->nsamples == st.nsamples && s->nfuture == st.nfuture,
		  "series %zu: the scan counts %zu + %zu future samples, the decoder %zu + %zu",
		  i, s->nsamples, s->nfuture, st.nsamples, st.nfuture);
	CHECK(s->nsamples == 0 || (s->tmin == st.tmin && s->tmax == st.tmax),
		  "series %zu: the scan's time range [%lld, %lld], the decoder's [%lld, %lld]",
		  i, (long long) s->tmin, (long long) s->tmax,
		  (long long) st.tmin, (long long) st.tmax);
	CHECK(s->bad_time == st.bad_time, "series %zu: bad_time %d, the decoder's %d",
		  i, s->bad_time, st.bad_time);
}

/* Would ingest.c's follower fast path decide this request from the scan? */
static bool
fast_path_takes(const PhaSeriesScan *s, size_t n, const PhaDecodeLimits *lim)
{
	if (n == 0 || (lim->max_series > 0 && n > lim->max_series))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i].odd || s[i].bad_time || s[i].cluster == NULL || s[i].replica == NULL)
			return false;
	return true;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		mode;
	const PhaDecodeLimits *lim;
	const char *cl;
	const char *rl;
	const uint8_t *raw;
	size_t		raw_len;
	uint8_t    *copy;
	FuzzAlloc	fa = {0};
	PhaArena	arena;
	PhaDecodeError err;
	PhaSeriesScan *s = NULL;
	size_t		n = 0;
	bool		scan_ok;
	bool		fast;
	Prometheus__WriteRequest *wr = NULL;
	PhaDecodeStatus st;
	bool		unpacked;

	if (size == 0)
		return 0;
	mode = data[0];
	lim = (mode & FUZZ_MODE_TIGHT_LIMITS) ? &fuzz_tight_limits : &fuzz_server_limits;
	cl = (mode & FUZZ_MODE_BIT2) ? "c" : "cluster";
	rl = (mode & FUZZ_MODE_BIT2) ? "r" : "__replica__";
	pha_arena_init(&arena, fuzz_block_alloc, &fa);

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

	scan_ok = pha_scan_request(copy, raw_len, lim, cl, rl, FUTURE_MS, MIN_MS, MAX_MS,
							   &arena, &s, &n);
	fast = scan_ok && fast_path_takes(s, n, lim);

	st = pha_unpack(copy, raw_len, lim, &arena, &wr, &err);
	unpacked = st == PHA_DECODE_OK;
	if (unpacked)
		st = pha_validate_request(wr, lim, &err);

	CHECK(!fast || st == PHA_DECODE_OK,
		  "the fast path takes %zu series the decoder rejects with status %d: %s; %s",
		  n, (int) st, err.message, err.detail);
	if (scan_ok && unpacked)
	{
		CHECK(n == wr->n_timeseries, "the scan finds %zu series, the decoder %zu",
			  n, wr->n_timeseries);
		if (st == PHA_DECODE_OK)
		{
			for (size_t i = 0; i < n; i++)
				if (!s[i].odd)
					check_series(i, &s[i], wr->timeseries[i], cl, rl);
		}
		else if (err.series_index >= 0 && (size_t) err.series_index < n)
			CHECK(s[err.series_index].odd,
				  "series %ld is plain to the scan, the decoder rejects it with status %d: %s; %s",
				  err.series_index, (int) st, err.message, err.detail);
	}

	free(copy);
	fuzz_free_blocks(&fa);
	return 0;
}
