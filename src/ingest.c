/*-------------------------------------------------------------------------
 *
 * ingest.c
 *	  The SQL entry point promscale_ha.write(payload) and the driver of the
 *	  write path, in named steps:
 *
 *	  decode    payload -> series: read in place, known label bytes looked up
 *	            (wire/fastpath.c, store/wire_cache.c), else the full decoder
 *	            (wire/); a follower is decided here
 *	  group     series by (cluster, replica) (ha/group.c)
 *	  decide    the election's verdict per group (ha/lease.c)
 *	  act       keep a follower's payload in the replay buffer; at a takeover,
 *	            take the replica's buffered payloads and decode them here
 *	  reserve   extend each leader's reservation over what it will store
 *	  resolve   label sets -> series ids (store/series.c)
 *	  build     accepted samples -> rows (takeover: newest stored per series)
 *	  store     one batched insert (store/store.c)
 *	  record    heartbeats and counters, applied at commit
 *
 * The election only decides; what happens to samples and payloads happens
 * here.  set_leader() and the worker's failover come in through
 * pha_ingest_force_leader and run the same steps.
 *
 * One memory context per request holds everything (the decoder's arena
 * included) and is deleted on return; on error it goes with the transaction,
 * and so does every row written, so a failed call stores nothing.  The hot
 * path per sample is a compare against the group's spans and three array
 * stores; per series, one cache probe; per request, one insert of all rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "wire/decode.h"
#include "ha/cluster_stats.h"
#include "ha/group.h"
#include "guc.h"
#include "ingest.h"
#include "ha/lease.h"
#include "ha/lease_state.h"
#include "ha/replay.h"
#include "ha/slot.h"
#include "wire/fastpath.h"
#include "wire/scan.h"
#include "store/series.h"
#include "store/wire_cache.h"
#include "shmem.h"
#include "sql.h"
#include "stats.h"
#include "store/store.h"
#include "timeconv.h"

PG_FUNCTION_INFO_V1(pha_write);

/*
 * Decoded bytes per uncompressed byte a request may take.  Prometheus-like
 * requests take 3-5 (measured: 8 labels and one sample per series); only
 * crafted ones (empty messages) go far beyond, up to ~100.
 */
#define PHA_MAX_AMPLIFICATION 16

/*
 * How far before a new leader's period a takeover looks for each series'
 * newest stored sample: Prometheus' default lookback delta (5 min), beyond
 * which a series scraped that rarely already looks stale to PromQL.
 */
#define PHA_SLOT_LOOKBACK_MS ((int64) 5 * 60 * 1000)

/*
 * The decoder's blocks are kept across the requests of a backend: a request
 * takes them (best fit), the next request takes them all back -- the one
 * before is over by then, ended or failed -- so the pages of a large request
 * are faulted in once per backend, not once per request (a 10,000-series
 * request takes ~12 MB).  Up to promscale_ha.kept_decode_memory (32 MB) are
 * kept, and none in a background worker (the worker's takeovers are rare: it
 * must not hold a request's worth of memory between them); beyond that,
 * and while another request is active (a nested one), blocks come from the
 * request's decode context as before.
 */

typedef struct KeptBlock
{
	struct KeptBlock *next;
	size_t		size;
} KeptBlock;

#define KEPT_HEADER		MAXALIGN(sizeof(KeptBlock))

static MemoryContext kept_cxt = NULL;
static KeptBlock *kept_free = NULL;
static KeptBlock *kept_used = NULL;
static size_t kept_bytes = 0;
static int	requests_active = 0;

/* A request's context is gone (ended or aborted): it no longer uses the blocks. */
static void
request_gone(void *arg)
{
	requests_active--;
}

/* The first request of a nest takes back every kept block. */
static void
kept_blocks_recycle(void)
{
	while (kept_used != NULL)
	{
		KeptBlock  *b = kept_used;

		kept_used = b->next;
		b->next = kept_free;
		kept_free = b;
	}
}

static void *
arena_block(void *ctx, size_t size)
{
	KeptBlock **best = NULL;
	KeptBlock  *b;

	if (requests_active != 1 || MyBackendType != B_BACKEND)
		return MemoryContextAllocHuge((MemoryContext) ctx, size);
	for (KeptBlock **pp = &kept_free; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->size >= size && (best == NULL || (*pp)->size < (*best)->size))
			best = pp;
	if (best != NULL)
	{
		b = *best;
		*best = b->next;
	}
	else if (kept_bytes + size <= (size_t) pha_kept_decode_kb * 1024)
	{
		if (kept_cxt == NULL)
			kept_cxt = AllocSetContextCreate(TopMemoryContext, "promscale_ha kept decoder blocks",
											 ALLOCSET_DEFAULT_SIZES);
		b = MemoryContextAllocHuge(kept_cxt, KEPT_HEADER + size);
		b->size = size;
		kept_bytes += size;
	}
	else
		return MemoryContextAllocHuge((MemoryContext) ctx, size);
	b->next = kept_used;
	kept_used = b;
	return (char *) b + KEPT_HEADER;
}

PhaRequest *
pha_request_begin(const uint8 *payload, size_t len)
{
	MemoryContext cxt;
	PhaRequest *req;

	/*
	 * A change of leader (set_leader, a failover) refuses a read-only
	 * transaction before anything else; a write() does so once it knows its
	 * groups (decide_and_act), so that its leader's attempt is counted.
	 */
	if (payload == NULL)
		pha_require_read_write("a change of leader");
	cxt = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha request",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	req = palloc0(sizeof(PhaRequest));
	req->cxt = cxt;
	req->decode_cxt = AllocSetContextCreate(cxt, "promscale_ha decoded request",
											ALLOCSET_DEFAULT_SIZES);
	{
		MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));

		cb->func = request_gone;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(cxt, cb);
		if (++requests_active == 1)
			kept_blocks_recycle();
	}
	pha_arena_init(&req->arena, arena_block, req->decode_cxt);
	req->limits.max_payload_bytes = (size_t) pha_max_payload_bytes;
	req->limits.max_series = (size_t) pha_max_series_per_request;
	req->limits.max_labels = (size_t) pha_max_labels_per_series;
	req->limits.max_label_name_len = (size_t) pha_max_label_name_length;
	req->limits.max_label_value_len = (size_t) pha_max_label_value_length;
	req->limits.max_amplification = PHA_MAX_AMPLIFICATION;
	req->payload = payload;
	req->payload_len = len;
	req->now = pha_now();
	req->future_limit_ms = pha_tstz_to_ms(req->now) + pha_max_future_ms;
	return req;
}

void
pha_request_end(PhaRequest *req, MemoryContext caller)
{
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(req->cxt);
}

/* SQLSTATE for each decoder verdict: class 22 for bad data, 54000 for limits. */
static int
decode_errcode(PhaDecodeStatus st)
{
	switch (st)
	{
		case PHA_DECODE_TOO_LARGE:
		case PHA_DECODE_TOO_MANY_SERIES:
		case PHA_DECODE_TOO_MANY_LABELS:
		case PHA_DECODE_LABEL_TOO_LONG:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case PHA_DECODE_BAD_UTF8:
			return ERRCODE_CHARACTER_NOT_IN_REPERTOIRE;
		case PHA_DECODE_NO_LABELS:
		case PHA_DECODE_NO_METRIC_NAME:
			return ERRCODE_NULL_VALUE_NOT_ALLOWED;
		case PHA_DECODE_BAD_LABEL_NAME:
		case PHA_DECODE_DUP_LABEL:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		default:
			return ERRCODE_INVALID_BINARY_REPRESENTATION;
	}
}

static bool group_may_accept(const PhaGroup *g);

/* The HA label names of this session (promscale_ha.cluster_label, replica_label). */
static const PhaLabelNames *
session_names(void)
{
	static PhaLabelNames names;

	names.cluster = pha_cluster_label;
	names.replica = pha_replica_label;
	return &names;
}

/*
 * Before the election touches anything: count the attempt of each group whose
 * replica leads (a leader that keeps trying during an outage is alive: the
 * failover clock measures the sender's silence, not the database's), then
 * refuse a read-only transaction -- the COPY path and the lease state in
 * shared memory would not notice one by themselves.
 */
static void
attempt_then_require_read_write(PhaRequest *req)
{
	if (req->payload != NULL && req->ngroups > 0 && pha_shared != NULL)
		pha_lease_state_attempt(req);
	pha_require_read_write(req->payload != NULL ? "promscale_ha.write()" : "a change of leader");
}

/*
 * Follower fast path: when every series is HA data and no group's replica owns
 * any of its sample times, the request is decided from a label-only scan of
 * the wire format (scan.c) and never unpacked: a follower costs little more
 * than decompression and its buffer insert.  Returns true when nothing more is
 * needed; otherwise the groups keep their verdicts and the full decoder runs.
 */
static bool follower_decide(PhaRequest *req, const PhaSeriesScan *s, size_t n);

static bool
follower_fast_path(PhaRequest *req, const uint8 *raw, size_t raw_len)
{
	PhaSeriesScan *s;
	size_t		n;

	return pha_shared != NULL &&
		pha_scan_request(raw, raw_len, &req->limits, pha_cluster_label, pha_replica_label,
						 req->future_limit_ms, PHA_MIN_MS, PHA_MAX_MS, &req->arena, &s, &n) &&
		follower_decide(req, s, n);
}

/*
 * Decide a request from what the election needs of each series: true when
 * every series is HA data and no group may accept any sample (a follower:
 * nothing more to do); otherwise the groups keep their verdicts, with no
 * sample counts, and the series are grouped in full.
 */
static bool
follower_decide(PhaRequest *req, const PhaSeriesScan *s, size_t n)
{
	if (n == 0 || (req->limits.max_series > 0 && n > req->limits.max_series) ||
		!pha_group_add_scan(req, s, n))
		return false;
	attempt_then_require_read_write(req);
	pha_lease_decide(req);
	for (int g = 0; g < req->ngroups; g++)
	{
		if (group_may_accept(&req->groups[g]))
		{
			pha_group_reset_counts(req);
			return false;
		}
	}
	req->follower_only = true;
	return true;
}

/*
 * Follower fast path for the usual request, every series of one (cluster,
 * replica) group: a walk that reads only label names and the two HA values
 * (wire/fastpath.c), one cache probe that vouches for every series' other
 * labels (validated when first seen), then the decision for that one group.
 * Returns true for a follower, nothing more to do; false otherwise (a mixed
 * or unusual request, a series the cache does not know, a leader), leaving
 * the groups their verdicts without sample counts, for the in-place decode.
 */
static bool
follower_one_group(PhaRequest *req, const uint8 *raw, size_t raw_len, const PhaLabelNames *names)
{
	PhaOneGroup *og;
	PhaSeriesScan one;
	PhaClusterState st;
	PhaHaValues first;
	char		cluster[PHA_NAME_LEN];
	size_t		n;

	if (pha_shared == NULL || !pha_high_availability || names->cluster != pha_cluster_label ||
		names->replica != pha_replica_label)
		return false;

	/*
	 * The replica that leads now (as shared memory has it, one shared lock)
	 * would not be a follower: spare it the walk, the hashing and the probe.
	 * Only a shortcut, read from the first series: the decision is the
	 * election's, whichever path runs (a request of several groups is not
	 * one group's anyway).
	 */
	if (pha_fast_first_ha(raw, raw_len, names->cluster, names->replica, &first) &&
		first.cluster_len < PHA_NAME_LEN)
	{
		memcpy(cluster, first.cluster, first.cluster_len);
		cluster[first.cluster_len] = '\0';
		if (pha_read_cluster(cluster, &st) && strlen(st.leader) == first.replica_len &&
			memcmp(st.leader, first.replica, first.replica_len) == 0)
			return false;
	}
	og = palloc(sizeof(PhaOneGroup));
	if (!pha_fast_one_group(raw, raw_len, &req->limits, names->cluster, names->replica,
							req->future_limit_ms, PHA_MIN_MS, PHA_MAX_MS, pha_wire_cache_seed(),
							&req->arena, og) ||
		og->cluster_len >= PHA_NAME_LEN || og->replica_len >= PHA_NAME_LEN)
		return false;
	n = og->fr.wr.n_timeseries;
	if (pha_wire_cache_probe(&og->fr) != (int) n)
		return false;			/* a series not seen before: validated in full */
	memset(&one, 0, sizeof(one));
	one.cluster = og->cluster;
	one.cluster_len = og->cluster_len;
	one.replica = og->replica;
	one.replica_len = og->replica_len;
	one.tmin = og->tmin;
	one.tmax = og->tmax;
	one.nsamples = og->nsamples;
	one.nfuture = og->nfuture;
	one.bad_time = og->bad_time;
	return follower_decide(req, &one, 1);
}

/*
 * What the election needs of each series (as scan.c finds it), from a request
 * read in place and validated; NULL unless every series has both HA labels.
 */
static PhaSeriesScan *
scan_in_place(PhaRequest *req, PhaFastRequest *fr, const PhaLabelNames *names)
{
	size_t		n = fr->wr.n_timeseries;
	size_t		clen = strlen(names->cluster);
	size_t		rlen = strlen(names->replica);
	PhaSeriesScan *s = palloc0(Max(n, 1) * sizeof(PhaSeriesScan));

	for (size_t i = 0; i < n; i++)
	{
		Prometheus__TimeSeries *ts = fr->wr.timeseries[i];
		Prometheus__Label *cl = fr->ha ? fr->ha[2 * i] : pha_find_label(ts, names->cluster, clen);
		Prometheus__Label *rl = fr->ha ? fr->ha[2 * i + 1] : pha_find_label(ts, names->replica, rlen);

		if (cl == NULL || rl == NULL)
			return NULL;
		s[i].cluster = cl->value.data;
		s[i].cluster_len = cl->value.len;
		s[i].replica = rl->value.data;
		s[i].replica_len = rl->value.len;
		for (size_t j = 0; j < ts->n_samples; j++)
		{
			int64		t = ts->samples[j]->timestamp;

			if (!pha_ms_valid(t))
				s[i].bad_time = true;
			if (t > req->future_limit_ms)
			{
				s[i].nfuture++;
				continue;
			}
			if (s[i].nsamples == 0 || t < s[i].tmin)
				s[i].tmin = t;
			if (s[i].nsamples == 0 || t > s[i].tmax)
				s[i].tmax = t;
			s[i].nsamples++;
		}
	}
	return s;
}

/*
 * Decode step, the usual case: read the request in place (wire/fastpath.c),
 * take the ids of the series whose label bytes the cache knows, validate the
 * others as the full decoder would.  Returns false, leaving req without
 * series, for anything unusual or invalid: the full decoder then accepts or
 * reports it as it always did.
 */
static bool
decode_in_place(PhaRequest *req, const uint8_t *raw, size_t raw_len,
				const PhaLabelNames *names)
{
	PhaFastRequest *fr = palloc(sizeof(PhaFastRequest));
	PhaDecodeError err;
	PhaSeriesScan *scan;
	int			hits;

	/* with promscale_ha.high_availability off the replica label is an ordinary label */
	if (!pha_fast_parse(raw, raw_len, &req->limits,
						pha_high_availability ? names->replica : NULL,
						pha_high_availability ? names->cluster : NULL, pha_wire_cache_seed(),
						&req->arena, fr))
		return false;
	hits = pha_wire_cache_probe(fr);
	elog(DEBUG2, "promscale_ha: the series cache knew the label bytes of %d of %zu series",
		 hits, fr->wr.n_timeseries);
	for (size_t i = 0; i < fr->wr.n_timeseries; i++)
	{
		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		if (fr->ids[i] != PHA_WIRE_UNKNOWN)
			continue;			/* label bytes validated before */
		if (pha_validate_series(fr->wr.timeseries[i], (long) i, &req->limits, &err) != PHA_DECODE_OK)
			return false;
		fr->ids[i] = PHA_WIRE_VALID;
		pha_wire_cache_remember(&fr->keys[i], PHA_WIRE_VALID);
	}
	/* the HA labels of series without a key, looked up now that they are validated */
	if (fr->ha != NULL)
	{
		size_t		clen = strlen(names->cluster);
		size_t		rlen = strlen(names->replica);

		for (size_t i = 0; i < fr->wr.n_timeseries; i++)
		{
			if (fr->keys[i].cacheable)
				continue;
			fr->ha[2 * i] = pha_find_label(fr->wr.timeseries[i], names->cluster, clen);
			fr->ha[2 * i + 1] = pha_find_label(fr->wr.timeseries[i], names->replica, rlen);
		}
	}
	/* a follower is decided here, as from the label-only scan */
	if (pha_shared != NULL && names->cluster == pha_cluster_label &&
		names->replica == pha_replica_label &&
		(scan = scan_in_place(req, fr, names)) != NULL &&
		follower_decide(req, scan, fr->wr.n_timeseries))
		return true;
	pha_group_add_request(req, &fr->wr, NULL, NULL, names, fr->ha);
	req->fast = fr;
	return true;
}

bool
pha_request_add_payload(PhaRequest *req, const uint8 *payload, size_t len,
						const char *only_cluster, const char *only_replica,
						const PhaLabelNames *names)
{
	Prometheus__WriteRequest *wr = NULL;
	PhaDecodeError err;
	PhaDecodeStatus st;
	const uint8_t *raw;
	size_t		raw_len;

	st = pha_decompress(payload, len, &req->limits, &req->arena, &raw, &raw_len, &err);
	/*
	 * In place first (it decides followers too): series the wire cache knows
	 * cost no validation there, while the label-only scan validates every
	 * label; the scan still decides a follower's unusual request
	 */
	if (st == PHA_DECODE_OK && only_cluster == NULL && follower_one_group(req, raw, raw_len, names))
		return true;
	if (st == PHA_DECODE_OK && only_cluster == NULL && decode_in_place(req, raw, raw_len, names))
		return true;
	if (st == PHA_DECODE_OK && only_cluster == NULL && follower_fast_path(req, raw, raw_len))
		return true;
	if (st == PHA_DECODE_OK)
		st = pha_unpack(raw, raw_len, &req->limits, &req->arena, &wr, &err);
	if (st == PHA_DECODE_OK)
		st = pha_validate_request(wr, &req->limits, &err);
	if (st != PHA_DECODE_OK)
	{
		ereport(only_cluster ? WARNING : ERROR,
				(errcode(decode_errcode(st)),
				 errmsg("%s", err.message),
				 errdetail("%s", err.detail),
				 only_cluster ? errcontext("replaying a buffered request of cluster \"%s\", replica \"%s\"",
										   only_cluster, only_replica) : 0));
		return false;
	}
	pha_group_add_request(req, wr, only_cluster, only_replica, names, NULL);
	return true;
}

/* Is t inside one of the group's spans? */
static inline bool
in_spans(const PhaGroup *g, int64 t)
{
	for (int i = 0; i < g->v.nspans; i++)
		if (t >= g->v.spans[i].lo && t < g->v.spans[i].hi)
			return true;
	return false;
}

/* Could any sample of the group be accepted?  False for a plain follower. */
static bool
group_may_accept(const PhaGroup *g)
{
	if (g->v.took_over)
		return true;
	for (int i = 0; i < g->v.nspans; i++)
		if (g->v.spans[i].lo <= g->in.tmax && g->v.spans[i].hi > g->in.tmin)
			return true;
	return false;
}

/*
 * Resolve step: series -> ids.  Those read in place whose label bytes the
 * wire cache knew keep the id it gave (unless it was reset since); the
 * others are resolved by SHA-256 (store/series.c) and their label bytes
 * learned by the wire cache.
 */
static void
resolve_series(PhaRequest *req, const int *series_of, Prometheus__TimeSeries **need_ts,
			   int nneed, int64 *ids)
{
	PhaFastRequest *fr = req->fast;
	int64	   *known = NULL;

	if (fr != NULL && pha_wire_cache_valid(fr->generation))
	{
		known = palloc(Max(nneed, 1) * sizeof(int64));
		for (int k = 0; k < nneed; k++)
		{
			known[k] = (size_t) series_of[k] < fr->wr.n_timeseries
				? fr->ids[series_of[k]] : PHA_WIRE_UNKNOWN;
			if (known[k] == PHA_WIRE_VALID)
				known[k] = PHA_WIRE_UNKNOWN;
		}
	}
	req->counts.series_created = pha_series_resolve(need_ts, known, nneed, ids);
	if (fr == NULL)
		return;
	for (int k = 0; k < nneed; k++)
	{
		size_t		i = (size_t) series_of[k];

		if (i < fr->wr.n_timeseries && fr->keys[i].cacheable &&
			(known == NULL || known[k] == PHA_WIRE_UNKNOWN))
			pha_wire_cache_remember(&fr->keys[i], ids[k]);
	}
}

/*
 * Turn accepted samples into rows (replayed ones into replay_rows).  At a
 * takeover, floors[k] is the newest stored time of series k's id and drops[k]
 * the time of its sample the scrape-slot rule drops (ha/slot.c).
 */
static void
build_rows(PhaRequest *req, const int *series_of, const int64 *ids, int nneed,
		   const int64 *floors, const int64 *drops, PhaRows *rows, PhaRows *replay_rows)
{
	for (int k = 0; k < nneed; k++)
	{
		PhaSeriesIn *s = &req->series[series_of[k]];
		Prometheus__TimeSeries *ts = s->ts;
		PhaGroup   *g = s->group >= 0 ? &req->groups[s->group] : NULL;
		PhaRows    *out = s->replayed ? replay_rows : rows;

		if ((k & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		for (size_t j = 0; j < ts->n_samples; j++)
		{
			int64		t = ts->samples[j]->timestamp;

			if (g != NULL)
			{
				if (t > req->future_limit_ms)
					continue;	/* counted by group.c */
				if (!in_spans(g, t) && !(g->v.took_over && t > floors[k]))
				{
					if (!s->replayed)
						g->out.deduplicated++;
					continue;
				}
				if (drops != NULL && t == drops[k] &&
					!pha_is_stale_marker(ts->samples[j]->value))
				{
					/* its scrape slot holds the old leader's sample */
					if (!s->replayed)
						g->out.deduplicated++;
					continue;
				}
				if (!s->replayed)
					g->out.accepted++;
				g->out.max_stored_t = Max(g->out.max_stored_t, t);
			}
			pha_rows_add(out, ids[k], t, ts->samples[j]->value);
		}
	}
}

/*
 * At a takeover: take the replica's buffered payloads (those of the last
 * failover timeout before its new period) and decode them into req, marked as
 * replayed; set where the gap fill starts looking.
 */
static void
replay_buffered(PhaRequest *req, int gi)
{
	PhaGroup   *g = &req->groups[gi];
	char	   *cluster = g->in.cluster;
	char	   *replica = g->in.replica;
	int64		start = g->v.start;
	int64		oldest;
	int64		min_t = PG_INT64_MAX;
	int64		max_t = PG_INT64_MIN;
	PhaBuffered *b;
	int			n;

	/*
	 * After a crash the new period starts at the old leader's reservation,
	 * up to one lease_refresh past its last stored sample (lease.c): reach
	 * back that much further, or the buffered requests of that gap -- answered
	 * 202 -- would be dropped.  The gap fill keeps only samples newer than
	 * each series' newest stored one, so reaching further stores nothing twice.
	 */
	oldest = start == PG_INT64_MIN ? PG_INT64_MIN
		: start - pha_failover_timeout_ms - pha_lease_refresh_ms;
	b = pha_replay_take(cluster, replica, oldest, &n);
	for (int i = 0; i < n; i++)
	{
		PhaLabelNames names;

		/* read it with the label names it was received with */
		names.cluster = b[i].cluster_label ? b[i].cluster_label : pha_cluster_label;
		names.replica = b[i].replica_label ? b[i].replica_label : pha_replica_label;
		if (pha_request_add_payload(req, b[i].payload, b[i].len, cluster, replica, &names))
		{
			min_t = Min(min_t, Max(b[i].min_t, oldest));
			max_t = Max(max_t, b[i].max_t);
		}
		pfree(b[i].payload);
	}
	g = &req->groups[gi];		/* decoding may have moved the array */
	g->out.replay_max = max_t;
	g->out.gap_fill_from = Min(min_t, g->in.nsamples > 0 ? g->in.tmin : PG_INT64_MAX);
	if (g->out.gap_fill_from == PG_INT64_MAX)
		g->out.gap_fill_from = start;

	/*
	 * The newest stored sample of a series (the floor) may be older than
	 * everything the new leader sends: a replica restarted just after the old
	 * leader's last scrape has nothing older to replay.  The scrape-slot rule
	 * needs that floor all the same, so the lookup reaches back one lookback
	 * window before the period's start.
	 */
	if (start != PG_INT64_MIN)
		g->out.gap_fill_from = Min(g->out.gap_fill_from, start - PHA_SLOT_LOOKBACK_MS);
}

/* Act on each new verdict: buffer a follower's payload, replay at a takeover. */
static void
act_on_verdicts(PhaRequest *req)
{
	int			ngroups = req->ngroups; /* replay adds series, never groups */

	for (int i = 0; i < ngroups; i++)
	{
		PhaGroup   *g = &req->groups[i];

		if (!g->v.decided || g->out.acted)
			continue;
		g->out.acted = true;
		if (!g->v.is_leader && g->in.nsamples > 0 && req->payload != NULL)
			pha_replay_keep(g->in.cluster, g->in.replica, req->now, g->in.tmin, g->in.tmax,
							req->payload, req->payload_len, session_names());
		else if (g->v.took_over)
			replay_buffered(req, i);
	}
}

void
pha_request_run(PhaRequest *req)
{
	int		   *series_of;
	Prometheus__TimeSeries **need_ts;
	int64	   *ids;
	int64	   *floors = NULL;
	int64	   *drops = NULL;
	int			nneed = 0;
	int64		nrows = 0;
	PhaRows		rows;
	PhaRows		replay_rows;
	int64		own_sent;
	int64		own_written;
	int64		replay_written;

	attempt_then_require_read_write(req);
	if (req->ngroups > 0)
	{
		pha_lease_decide(req);
		act_on_verdicts(req);
		pha_lease_reserve(req);
	}
	if (req->follower_only)
	{
		for (int g = 0; g < req->ngroups; g++)
		{
			req->groups[g].out.deduplicated = req->groups[g].in.nsamples;
			req->counts.samples_deduplicated += req->groups[g].in.nsamples;
			req->counts.samples_future_dropped += req->groups[g].in.future;
		}
		pha_lease_state_record(req);
		pha_cluster_stats_record(req);
		pha_stats_samples(&req->counts);
		return;
	}
	series_of = palloc(Max(req->nseries, 1) * sizeof(int));
	need_ts = palloc(Max(req->nseries, 1) * sizeof(void *));

	/* which series can contribute a row; a follower's are dropped whole */
	for (int g = 0; g < req->ngroups; g++)
	{
		PhaGroup   *grp = &req->groups[g];

		req->counts.samples_future_dropped += grp->in.future;
		if (!group_may_accept(grp))
			grp->out.deduplicated = grp->in.nsamples;
	}
	for (int i = 0; i < req->nseries; i++)
	{
		PhaSeriesIn *s = &req->series[i];

		if (s->ts->n_samples == 0)
			continue;
		if (s->group >= 0 && !group_may_accept(&req->groups[s->group]))
			continue;
		series_of[nneed] = i;
		need_ts[nneed] = s->ts;
		nrows += s->ts->n_samples;
		nneed++;
	}

	ids = palloc(Max(nneed, 1) * sizeof(int64));
	resolve_series(req, series_of, need_ts, nneed, ids);

	/*
	 * takeover: the newest stored sample of each gap-filled series, and the
	 * new leader's sample in the scrape slot of that one, if any
	 */
	{
		bool	   *want = palloc0(Max(nneed, 1) * sizeof(bool));
		bool		any = false;
		int64		from = PG_INT64_MAX;

		for (int k = 0; k < nneed; k++)
		{
			PhaSeriesIn *s = &req->series[series_of[k]];

			if (s->group >= 0 && req->groups[s->group].v.took_over)
			{
				want[k] = any = true;
				from = Min(from, req->groups[s->group].out.gap_fill_from);
			}
		}
		if (any)
		{
			int64	   *befores;

			floors = pha_store_newest(ids, want, nneed, from, &befores);
			drops = pha_slot_drops(nneed, ids, floors, befores, need_ts, want,
								   req->future_limit_ms);
		}
	}

	pha_rows_init(&rows, (int) Min(nrows, 1 << 20));
	pha_rows_init(&replay_rows, 16);
	build_rows(req, series_of, ids, nneed, floors, drops, &rows, &replay_rows);

	/* the decoded messages are not needed past this point: free them first */
	MemoryContextDelete(req->decode_cxt);
	req->decode_cxt = NULL;
	req->fast = NULL;
	req->nseries = 0;

	own_sent = rows.n;
	replay_written = pha_store_rows(&replay_rows);
	own_written = pha_store_rows(&rows);

	req->counts.samples_written = own_written + replay_written;
	req->counts.samples_replayed = replay_written;
	req->counts.samples_already_stored = own_sent - own_written;
	for (int g = 0; g < req->ngroups; g++)
		req->counts.samples_deduplicated += req->groups[g].out.deduplicated;

	if (req->ngroups > 0)
		pha_lease_state_record(req);
	pha_cluster_stats_record(req);
	pha_stats_samples(&req->counts);
}

bool
pha_ingest_force_leader(const char *cluster, const char *replica, const char *reason)
{
	MemoryContext caller = CurrentMemoryContext;
	PhaRequest *req = pha_request_begin(NULL, 0);
	int			g = pha_group_find(req, cluster, replica);
	bool		changed;

	pha_lease_force(req, g, reason);
	pha_request_run(req);
	changed = req->groups[g].v.took_over;
	pha_request_end(req, caller);
	return changed;
}

static const char *
outcome(const PhaCounts *c)
{
	if (c->samples_received == 0)
		return "empty";
	if (c->samples_deduplicated == 0 && c->samples_future_dropped == 0)
		return "stored";
	if (c->samples_deduplicated + c->samples_future_dropped >= c->samples_received)
		return "deduplicated";
	return "partial";
}

Datum
pha_write(PG_FUNCTION_ARGS)
{
	bytea	   *payload = PG_GETARG_BYTEA_PP(0);
	MemoryContext caller = CurrentMemoryContext;
	TupleDesc	tupdesc;
	PhaRequest *req;
	PhaCounts	c;
	Datum		values[11];
	bool		nulls[11] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	req = pha_request_begin((const uint8 *) VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload));
	pha_request_add_payload(req, req->payload, req->payload_len, NULL, NULL,
							session_names());
	pha_request_run(req);
	c = req->counts;
	pha_request_end(req, caller);
	pha_stats_request(outcome(&c));

	values[0] = Int64GetDatum(c.samples_received);
	values[1] = Int64GetDatum(c.samples_written);
	values[2] = Int64GetDatum(c.samples_deduplicated);
	values[3] = Int32GetDatum(c.series_created);
	values[4] = Int64GetDatum(c.samples_already_stored);
	values[5] = Int64GetDatum(c.samples_future_dropped);
	values[6] = Int64GetDatum(c.samples_replayed);
	values[7] = Int64GetDatum(c.exemplars_ignored);
	values[8] = Int64GetDatum(c.histograms_ignored);
	values[9] = Int64GetDatum(c.metadata_ignored);
	values[10] = CStringGetTextDatum(outcome(&c));
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
