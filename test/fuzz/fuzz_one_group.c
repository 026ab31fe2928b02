/*-------------------------------------------------------------------------
 *
 * fuzz_one_group.c
 *	  libFuzzer harness for the follower's one-group walk
 *	  (pha_fast_one_group, src/wire/fastpath.c), differential against the
 *	  in-place reading (pha_fast_parse) it stands in for.
 *
 * ingest.c trusts a request from pha_fast_one_group when every key hits the
 * wire cache.  That is sound when, whenever the walk returns true:
 *	 - pha_fast_parse returns true on the same bytes, with as many series;
 *	 - every series' key is cacheable there and the same bytes and hash;
 *	 - every series has the cluster and replica labels with the values the
 *	   walk reports (one group);
 *	 - its sample statistics (kept, future, span, bad times) are those of
 *	   pha_fast_parse's samples;
 *	 - pha_fast_first_ha, the hint ingest.c reads before the walk, finds the
 *	   same two values in the first series;
 *	 - nothing is read outside the request (exact-size copy, ASan).
 *
 * Input: one mode byte and a body, as in fuzz_decode.c, whose corpus it
 * shares.  Bit 0: bare protobuf (1) or a snappy block (0); bit 1: tight
 * limits; bit 2: the HA labels are "c" and "r" instead of "cluster" and
 * "__replica__", so that short mutations make them.
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

#define FUTURE_LIMIT	((int64_t) 4000000000000)
#define MIN_TIME		((int64_t) -1000000000000)
#define MAX_TIME		((int64_t) 9000000000000)

/* The value of the label named name in ts, or NULL. */
static const ProtobufCBinaryData *
label_value(const Prometheus__TimeSeries *ts, const char *name)
{
	size_t		len = strlen(name);

	for (size_t i = 0; i < ts->n_labels; i++)
		if (ts->labels[i]->name.len == len && memcmp(ts->labels[i]->name.data, name, len) == 0)
			return &ts->labels[i]->value;
	return NULL;
}

static bool
value_is(const ProtobufCBinaryData *v, const uint8_t *p, size_t len)
{
	return v != NULL && v->len == len && (len == 0 || memcmp(v->data, p, len) == 0);
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
	FuzzAlloc	fb = {0};
	FuzzAlloc	fc = {0};
	PhaArena	arena;
	PhaArena	oarena;
	PhaArena	farena;
	PhaDecodeError err;
	PhaOneGroup og;
	PhaHaValues first;
	bool		first_found;
	PhaFastRequest fr;
	size_t		kept = 0,
				future = 0;
	int64_t		tmin = 0,
				tmax = 0;
	bool		bad = false;

	if (size == 0)
		return 0;
	mode = data[0];
	lim = (mode & FUZZ_MODE_TIGHT_LIMITS) ? &fuzz_tight_limits : &fuzz_server_limits;
	cl = (mode & FUZZ_MODE_BIT2) ? "c" : "cluster";
	rl = (mode & FUZZ_MODE_BIT2) ? "r" : "__replica__";
	pha_arena_init(&arena, fuzz_block_alloc, &fa);
	pha_arena_init(&oarena, fuzz_block_alloc, &fb);
	pha_arena_init(&farena, fuzz_block_alloc, &fc);

	if (mode & FUZZ_MODE_RAW_PROTOBUF)
	{
		raw = data + 1;
		raw_len = size - 1;
		if (raw_len > lim->max_payload_bytes)
			return 0;
	}
	else if (pha_decompress(data + 1, size - 1, lim, &arena, &raw, &raw_len, &err) != PHA_DECODE_OK)
	{
		fuzz_free_blocks(&fa);
		return 0;
	}
	copy = malloc(raw_len > 0 ? raw_len : 1);
	CHECK(copy != NULL, "out of memory");
	if (raw_len > 0)
		memcpy(copy, raw, raw_len);

	/* the leader hint reads any bytes safely (ASan), whatever it finds */
	first_found = pha_fast_first_ha(copy, raw_len, cl, rl, &first);
	if (pha_fast_one_group(copy, raw_len, lim, cl, rl, FUTURE_LIMIT, MIN_TIME, MAX_TIME, 42,
						   &oarena, &og))
	{
		size_t		n = og.fr.wr.n_timeseries;

		CHECK(first_found && first.cluster == og.cluster && first.cluster_len == og.cluster_len &&
			  first.replica == og.replica && first.replica_len == og.replica_len,
			  "the leader hint does not name the walk's group");

		CHECK(pha_fast_parse(copy, raw_len, lim, rl, cl, 42, &farena, &fr),
			  "the walk took a request pha_fast_parse refuses");
		CHECK(fr.wr.n_timeseries == n, "%zu series, pha_fast_parse %zu", n, fr.wr.n_timeseries);
		for (size_t i = 0; i < n; i++)
		{
			const PhaWireKey *a = &og.fr.keys[i];
			const PhaWireKey *b = &fr.keys[i];
			const Prometheus__TimeSeries *ts = fr.wr.timeseries[i];

			CHECK(og.fr.ids[i] == PHA_WIRE_UNKNOWN, "series %zu: id set", i);
			CHECK(a->cacheable && b->cacheable, "series %zu: key not cacheable in pha_fast_parse", i);
			CHECK(a->hash == b->hash && a->len[0] == b->len[0] && a->len[1] == b->len[1] &&
				  a->part[0] == b->part[0] && a->part[1] == b->part[1],
				  "series %zu: key differs from pha_fast_parse's", i);
			CHECK(value_is(label_value(ts, cl), og.cluster, og.cluster_len) && og.cluster_len > 0,
				  "series %zu: cluster value differs", i);
			CHECK(value_is(label_value(ts, rl), og.replica, og.replica_len) && og.replica_len > 0,
				  "series %zu: replica value differs", i);
			for (size_t s = 0; s < ts->n_samples; s++)
			{
				int64_t		t = ts->samples[s]->timestamp;

				if (t < MIN_TIME || t > MAX_TIME)
					bad = true;
				if (t > FUTURE_LIMIT)
				{
					future++;
					continue;
				}
				if (kept == 0 || t < tmin)
					tmin = t;
				if (kept == 0 || t > tmax)
					tmax = t;
				kept++;
			}
		}
		CHECK(kept == og.nsamples && future == og.nfuture && bad == og.bad_time,
			  "sample counts differ: %zu/%zu kept, %zu/%zu future", og.nsamples, kept, og.nfuture, future);
		CHECK(kept == 0 || (tmin == og.tmin && tmax == og.tmax), "sample span differs");
	}
	free(copy);
	fuzz_free_blocks(&fa);
	fuzz_free_blocks(&fb);
	fuzz_free_blocks(&fc);
	return 0;
}
