/*-------------------------------------------------------------------------
 *
 * fuzz_decode.c
 *	  libFuzzer harness for the remote-write decoder (src/wire/decode.c).
 *
 * Each input is one mode byte followed by a body.  The mode byte picks how
 * the body reaches the decoder, so that one corpus covers both the snappy
 * framing and, through it, protobuf-c and the validation rules:
 *
 *	 bit 0	0: the body is a snappy block, passed as it is (what Prometheus
 *			   POSTs); 1: the body is a bare protobuf WriteRequest, which the
 *			   harness snappy-compresses first, so that mutations land in the
 *			   protobuf instead of breaking the snappy stream
 *	 bit 1	0: the server's default limits (except max_payload_bytes, 16 MiB
 *			   instead of 64 MiB, for speed); 1: tight limits, which make the
 *			   "too many" and "too long" paths cheap to reach (fuzz_common.c)
 *	 bit 2	1: the arena gets an allocation budget of (bits 3-7) * 64 KiB,
 *			   0 to 1984 KiB, so that allocation failures inside protobuf-c and
 *			   the decoder are exercised too (the arena's blocks are 256 KiB, so
 *			   budgets under that fail the first allocation)
 *
 * The harness then runs pha_decode_request and pha_validate_request, as
 * ingest.c does, and checks what the decoder promises:
 *
 *	 - on failure, err->status equal to the status returned, a NUL-terminated
 *	   non-empty message, *out == NULL when decoding failed;
 *	 - the status of validation, and the series it names, equal what an
 *	   independent reference (written here from the rules in decode.h, with
 *	   its own UTF-8 check after Unicode's table 3-7) predicts from the
 *	   request as unpacked;
 *	 - on success, every limit holds, every series has labels sorted strictly
 *	   by name with valid names, non-empty NUL-free UTF-8 values and a
 *	   __name__, and pha_find_label finds each of them;
 *	 - every byte of every label, sample, exemplar, histogram and metadata
 *	   entry is read, so that ASan sees any pointer protobuf-c left dangling;
 *	 - whatever the outcome, the arena holds at most MAX_AMPLIFICATION bytes
 *	   per uncompressed byte plus ARENA_SLACK: issue 7 asks that a request's
 *	   memory be bounded by a small multiple of its size.  Real requests need
 *	   about 6 (labels and samples of a few bytes each become 48-64 byte
 *	   structs); 32 leaves room.  The decoder enforces its own bound,
 *	   limits->max_amplification (16 here, as in the server, see
 *	   fuzz_common.c); this check is the independent witness that it holds.
 *	   PHA_FUZZ_MAX_AMPLIFICATION=N overrides the factor, 0 turns the check
 *	   off.
 *
 * A violated promise calls abort(), which libFuzzer reports as a crash.  The
 * arena's blocks come from malloc (fuzz_common.c) and are freed after each
 * input, so ASan's leak check also covers the harness.  Set PHA_FUZZ_VERBOSE=1
 * to print, per input, the status and the arena size against the uncompressed
 * size.
 *
 * Built and run by test/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "wire/decode.h"
#include "fuzz_common.h"

#define MAX_AMPLIFICATION	32	/* arena bytes per uncompressed byte, see above */
#define ARENA_SLACK			(1024 * 1024)	/* first blocks, small requests */

static volatile uint64_t sink;	/* keeps the memory walk from being optimised out */
static bool verbose;
static size_t max_amplification = MAX_AMPLIFICATION;

/* Read every byte of a buffer into the sink. */
static void
touch(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t	h = sink;

	for (size_t i = 0; i < len; i++)
		h = h * 31 + b[i];
	sink = h;
}

/*
 * Reference UTF-8 check, written from the well-formed byte sequences of
 * Unicode 15, table 3-7, rather than from decode.c's decode-then-range-check;
 * it also refuses U+0000 as decode.h documents.
 */
static bool
ref_utf8_valid(const uint8_t *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint8_t		b0 = s[i];
		uint8_t		lo = 0x80,
					hi = 0xBF;
		size_t		n;

		if (b0 == 0x00)
			return false;
		if (b0 <= 0x7F)
		{
			i++;
			continue;
		}
		if (b0 >= 0xC2 && b0 <= 0xDF)
			n = 1;
		else if (b0 >= 0xE0 && b0 <= 0xEF)
		{
			n = 2;
			if (b0 == 0xE0)
				lo = 0xA0;
			else if (b0 == 0xED)
				hi = 0x9F;
		}
		else if (b0 >= 0xF0 && b0 <= 0xF4)
		{
			n = 3;
			if (b0 == 0xF0)
				lo = 0x90;
			else if (b0 == 0xF4)
				hi = 0x8F;
		}
		else
			return false;
		if (len - i - 1 < n)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return false;
		i += n + 1;
	}
	return true;
}

/* Reference label-name rule: [a-zA-Z_][a-zA-Z0-9_]* */
static bool
ref_name_valid(const ProtobufCBinaryData *n)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";

	if (n->len == 0 || n->data[0] == 0 || strchr(first, n->data[0]) == NULL)
		return false;
	for (size_t i = 1; i < n->len; i++)
		if (n->data[i] == 0 || (strchr(first, n->data[i]) == NULL &&
								!(n->data[i] >= '0' && n->data[i] <= '9')))
			return false;
	return true;
}

/* Reference byte-wise order of two names, shorter prefix first. */
static int
ref_name_cmp(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	size_t		n = a->len < b->len ? a->len : b->len;

	for (size_t i = 0; i < n; i++)
		if (a->data[i] != b->data[i])
			return a->data[i] < b->data[i] ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

static bool
is_metric_name(const ProtobufCBinaryData *n)
{
	return n->len == 8 && memcmp(n->data, "__name__", 8) == 0;
}

/*
 * What pha_validate_series should return for one series as unpacked, with the
 * rules and their order from decode.c's contract: count checks, then per label
 * in order name, name length, value length, NUL, UTF-8; then, among labels
 * with non-empty values, duplicates, then __name__.
 */
static PhaDecodeStatus
ref_validate_series(const Prometheus__TimeSeries *ts, const PhaDecodeLimits *lim)
{
	bool		has_name = false;

	if (ts->n_labels == 0)
		return PHA_DECODE_NO_LABELS;
	if (lim->max_labels > 0 && ts->n_labels > lim->max_labels)
		return PHA_DECODE_TOO_MANY_LABELS;
	for (size_t i = 0; i < ts->n_labels; i++)
	{
		const Prometheus__Label *l = ts->labels[i];

		if (!ref_name_valid(&l->name))
			return PHA_DECODE_BAD_LABEL_NAME;
		if (lim->max_label_name_len > 0 && l->name.len > lim->max_label_name_len)
			return PHA_DECODE_LABEL_TOO_LONG;
		if (lim->max_label_value_len > 0 && l->value.len > lim->max_label_value_len)
			return PHA_DECODE_LABEL_TOO_LONG;
		for (size_t k = 0; k < l->value.len; k++)
			if (l->value.data[k] == 0)
				return PHA_DECODE_BAD_UTF8;
		if (!ref_utf8_valid(l->value.data, l->value.len))
			return PHA_DECODE_BAD_UTF8;
	}
	/* quadratic, but series are short (the limit is 128 labels) */
	for (size_t i = 0; i < ts->n_labels; i++)
	{
		const Prometheus__Label *l = ts->labels[i];

		if (l->value.len == 0)
			continue;
		for (size_t j = i + 1; j < ts->n_labels; j++)
			if (ts->labels[j]->value.len > 0 &&
				ref_name_cmp(&l->name, &ts->labels[j]->name) == 0)
				return PHA_DECODE_DUP_LABEL;
		if (is_metric_name(&l->name))
			has_name = true;
	}
	if (!has_name)
		return PHA_DECODE_NO_METRIC_NAME;
	return PHA_DECODE_OK;
}

/* Check err after a failure with status st. */
static void
check_error(PhaDecodeStatus st, const PhaDecodeError *err)
{
	CHECK(st > PHA_DECODE_OK, "status %d", (int) st);
	CHECK(err->status == st, "err->status %d, returned %d", (int) err->status, (int) st);
	CHECK(memchr(err->message, 0, sizeof(err->message)) != NULL, "message not terminated");
	CHECK(memchr(err->detail, 0, sizeof(err->detail)) != NULL, "detail not terminated");
	CHECK(err->message[0] != '\0', "empty message for status %d", (int) st);
}

/* Read everything a series holds besides its labels. */
static void
touch_series_data(const Prometheus__TimeSeries *ts)
{
	for (size_t i = 0; i < ts->n_samples; i++)
		touch(ts->samples[i], sizeof(Prometheus__Sample));
	for (size_t i = 0; i < ts->n_exemplars; i++)
	{
		const Prometheus__Exemplar *e = ts->exemplars[i];

		touch(e, sizeof(*e));
		for (size_t k = 0; k < e->n_labels; k++)
		{
			touch(e->labels[k]->name.data, e->labels[k]->name.len);
			touch(e->labels[k]->value.data, e->labels[k]->value.len);
		}
	}
	for (size_t i = 0; i < ts->n_histograms; i++)
	{
		const Prometheus__Histogram *h = ts->histograms[i];

		touch(h, sizeof(*h));
		for (size_t k = 0; k < h->n_negative_spans; k++)
			touch(h->negative_spans[k], sizeof(Prometheus__BucketSpan));
		for (size_t k = 0; k < h->n_positive_spans; k++)
			touch(h->positive_spans[k], sizeof(Prometheus__BucketSpan));
		touch(h->negative_deltas, h->n_negative_deltas * sizeof(int64_t));
		touch(h->positive_deltas, h->n_positive_deltas * sizeof(int64_t));
		touch(h->negative_counts, h->n_negative_counts * sizeof(double));
		touch(h->positive_counts, h->n_positive_counts * sizeof(double));
		touch(h->custom_values, h->n_custom_values * sizeof(double));
	}
}

/* The promises of a request that passed validation. */
static void
check_valid_request(Prometheus__WriteRequest *req, const PhaDecodeLimits *lim)
{
	CHECK(lim->max_series == 0 || req->n_timeseries <= lim->max_series,
		  "%zu series", req->n_timeseries);
	for (size_t s = 0; s < req->n_timeseries; s++)
	{
		Prometheus__TimeSeries *ts = req->timeseries[s];
		bool		has_name = false;

		CHECK(ts->n_labels > 0, "series %zu has no labels", s);
		CHECK(lim->max_labels == 0 || ts->n_labels <= lim->max_labels,
			  "series %zu has %zu labels", s, ts->n_labels);
		for (size_t i = 0; i < ts->n_labels; i++)
		{
			Prometheus__Label *l = ts->labels[i];

			touch(l->name.data, l->name.len);
			touch(l->value.data, l->value.len);
			CHECK(ref_name_valid(&l->name), "series %zu label %zu: bad name", s, i);
			CHECK(lim->max_label_name_len == 0 || l->name.len <= lim->max_label_name_len,
				  "series %zu label %zu: name of %zu bytes", s, i, l->name.len);
			CHECK(l->value.len > 0, "series %zu label %zu: empty value kept", s, i);
			CHECK(lim->max_label_value_len == 0 || l->value.len <= lim->max_label_value_len,
				  "series %zu label %zu: value of %zu bytes", s, i, l->value.len);
			CHECK(ref_utf8_valid(l->value.data, l->value.len),
				  "series %zu label %zu: value is not UTF-8 or holds NUL", s, i);
			CHECK(i == 0 || ref_name_cmp(&ts->labels[i - 1]->name, &l->name) < 0,
				  "series %zu: labels %zu and %zu not strictly sorted", s, i - 1, i);
			CHECK(pha_find_label(ts, (const char *) l->name.data, l->name.len) == l,
				  "series %zu: pha_find_label misses label %zu", s, i);
			if (is_metric_name(&l->name))
				has_name = true;
		}
		CHECK(has_name, "series %zu has no __name__", s);
		CHECK(pha_find_label(ts, "__name__", 8) != NULL, "series %zu: __name__ not found", s);
		touch_series_data(ts);
	}
	for (size_t m = 0; m < req->n_metadata; m++)
	{
		const Prometheus__MetricMetadata *md = req->metadata[m];

		touch(md, sizeof(*md));
		touch(md->metric_family_name, strlen(md->metric_family_name));
		touch(md->help, strlen(md->help));
		touch(md->unit, strlen(md->unit));
	}
}

/*
 * Let the fuzzer see memory amplification: protobuf-c is not instrumented, so
 * an input that makes it allocate more per byte adds no coverage.  One branch
 * per (bytes used, bytes used per uncompressed byte) cell does: each cell
 * reached is a new edge, and libFuzzer keeps the input that reached it, so it
 * climbs towards large and highly amplified requests.  "Used" is what the
 * arena handed out, without the unused tail of its current block.
 */
#define AMP_CELL(row, k, r) \
	if (ratio >= (r)) \
		amp_seen[(row) * 8 + (k)] = 1;
#define AMP_ROW(row, min_used) \
	if (used >= (size_t) (min_used)) \
	{ \
		AMP_CELL(row, 0, 4) AMP_CELL(row, 1, 8) AMP_CELL(row, 2, 16) \
		AMP_CELL(row, 3, 24) AMP_CELL(row, 4, 32) AMP_CELL(row, 5, 48) \
		AMP_CELL(row, 6, 64) AMP_CELL(row, 7, 96) \
	}

static volatile uint8_t amp_seen[8 * 8];

static void
amplification_signal(const PhaArena *arena, size_t raw_len)
{
	size_t		used = arena->total;
	size_t		ratio;

	if (arena->cur != NULL)
		used -= (size_t) (arena->end - arena->cur);
	ratio = used / (raw_len ? raw_len : 1);

	AMP_ROW(0, 1024)
	AMP_ROW(1, 8 * 1024)
	AMP_ROW(2, 64 * 1024)
	AMP_ROW(3, 256 * 1024)
	AMP_ROW(4, 512 * 1024)
	AMP_ROW(5, 1024 * 1024)
	AMP_ROW(6, 2 * 1024 * 1024)
	AMP_ROW(7, 4 * 1024 * 1024)
}

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *v;

	verbose = fuzz_env_flag("PHA_FUZZ_VERBOSE");
	v = getenv("PHA_FUZZ_MAX_AMPLIFICATION");
	if (v != NULL && v[0] != '\0')
		max_amplification = strtoul(v, NULL, 10);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const PhaDecodeLimits *lim;
	uint8_t		mode;
	const uint8_t *payload;
	size_t		payload_len;
	char	   *compressed = NULL;
	size_t		raw_len = 0;
	bool		have_len;
	FuzzAlloc	fa = {0};
	PhaArena	arena;
	PhaDecodeError err;
	Prometheus__WriteRequest *req = (Prometheus__WriteRequest *) &fa;	/* not NULL */
	PhaDecodeStatus st;

	if (size == 0)
		return 0;
	mode = data[0];
	payload = data + 1;
	payload_len = size - 1;
	lim = (mode & FUZZ_MODE_TIGHT_LIMITS) ? &fuzz_tight_limits : &fuzz_server_limits;
	if (mode & FUZZ_MODE_BIT2)	/* here: an allocation budget */
	{
		fa.limited = true;
		fa.budget = (size_t) (mode >> 3) * 64 * 1024;
	}

	if (mode & FUZZ_MODE_RAW_PROTOBUF)
	{
		size_t		clen = snappy_max_compressed_length(payload_len);

		compressed = malloc(clen);
		if (compressed == NULL)
			return 0;
		CHECK(snappy_compress((const char *) payload, payload_len, compressed, &clen) == SNAPPY_OK,
			  "snappy_compress of %zu bytes", payload_len);
		payload = (const uint8_t *) compressed;
		payload_len = clen;
	}

	have_len = snappy_uncompressed_length((const char *) payload, payload_len,
										  &raw_len) == SNAPPY_OK;
	memset(&err, 0x7f, sizeof(err));	/* no NUL: the checks see a missing terminator */
	pha_arena_init(&arena, fuzz_block_alloc, &fa);
	st = pha_decode_request(payload, payload_len, lim, &arena, &req, &err);
	if (st != PHA_DECODE_OK)
	{
		check_error(st, &err);
		CHECK(req == NULL, "decode failed with status %d but set *out", (int) st);
	}
	else
	{
		PhaDecodeStatus expect = PHA_DECODE_OK;
		long		expect_index = -1;

		CHECK(req != NULL, "decode returned OK without a request");
		CHECK(have_len, "decode accepted a payload snappy has no length for");
		CHECK(raw_len <= lim->max_payload_bytes, "accepted %zu uncompressed bytes", raw_len);
		CHECK(lim->max_series == 0 || req->n_timeseries <= lim->max_series,
			  "accepted %zu series", req->n_timeseries);
		for (size_t s = 0; s < req->n_timeseries && expect == PHA_DECODE_OK; s++)
		{
			expect = ref_validate_series(req->timeseries[s], lim);
			if (expect != PHA_DECODE_OK)
				expect_index = (long) s;
		}

		st = pha_validate_request(req, lim, &err);
		CHECK(st == expect, "validation returned %d, the reference %d (series %ld)",
			  (int) st, (int) expect, expect_index);
		if (st == PHA_DECODE_OK)
			check_valid_request(req, lim);
		else
		{
			check_error(st, &err);
			CHECK(err.series_index == expect_index, "error names series %ld, the reference %ld",
				  err.series_index, expect_index);
		}
	}

	if (verbose)
		fprintf(stderr, "fuzz_decode: mode 0x%02x status %d, %zu payload bytes, %zu uncompressed, arena %zu bytes%s%s\n",
				mode, (int) st, payload_len, raw_len, arena.total,
				st != PHA_DECODE_OK ? ": " : "", st != PHA_DECODE_OK ? err.message : "");
	if (have_len)
		amplification_signal(&arena, raw_len);
	CHECK(arena.total == fa.used, "arena counted %zu bytes, blocks hold %zu", arena.total, fa.used);
	CHECK(max_amplification == 0 || !have_len || raw_len > lim->max_payload_bytes ||
		  arena.total <= max_amplification * raw_len + ARENA_SLACK,
		  "memory amplification: %zu uncompressed bytes (%zu compressed) took %zu arena bytes, %.1f per byte (status %d)",
		  raw_len, payload_len, arena.total, (double) arena.total / (raw_len ? raw_len : 1), (int) st);
	fuzz_free_blocks(&fa);
	free(compressed);
	return 0;
}
