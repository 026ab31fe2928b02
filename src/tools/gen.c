/*-------------------------------------------------------------------------
 *
 * gen.c
 *	  promscale-ha-gen: writes Prometheus remote-write 1.0 requests for the
 *	  tests, the fixtures in test/data and quick benchmarks.
 *
 * A request is a prometheus.WriteRequest packed by protobuf-c and compressed
 * in the snappy block format, which is what Prometheus POSTs to a
 * remote-write endpoint.  All randomness comes from a private xorshift64*
 * generator seeded from --seed, so one command line always gives the same
 * bytes.
 *
 * Series s (counted from --series-offset) is a pure function of (seed,
 * --metrics, s): its metric is s % K, and the quotient s / K is split into
 * mixed-radix digits that pick the extra label values and, last, the
 * instance.  This keeps the label sets of one call pairwise distinct and lets
 * a later call (a later --start-ms) hit the same series.  Counter values are
 * a function of the timestamp, so they keep increasing across such calls.
 *
 * --case NAME writes one of a fixed set of malformed or edge-case requests
 * for the decoder's tests instead.
 *
 * --profile node (gen_node.c) replaces those series with what --instances
 * node_exporters publish, with realistic values; this file gives them their
 * timestamps: --jitter-ms moves each scrape's timestamp by a few ms, the same
 * for every series of one instance and scrape.  --dump-samples writes the
 * samples as fixed-size binary records for test/bench/codec_bench.c instead
 * of (or beside) a request, streaming, so large data sets need no memory.
 * The default profile's output is unchanged by all of this (test/data is
 * compared).  The command line is parsed in gen_options.c.
 *
 * Plain C99 plus getopt_long, no PostgreSQL headers.  Every allocation goes
 * through a Pool that is freed before exit.  Exit status: 0 ok, 1 I/O or
 * memory failure, 2 usage error.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "remote.pb-c.h"

#include "gen.h"
#include "gen_node.h"
#include "gen_options.h"

#define SERIES_TEXT			128		/* per series: name, instance, trace id */

/* Values of the default profile's label dimensions; the gen_ ones gen_node.c uses too. */
const char *const gen_cpus[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"};
const char *const gen_modes[] = {"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"};
static const char *const netdevs[] = {"eth0", "eth1", "lo", "ens3", "ens4", "bond0", "docker0"};
static const char *const disks[] = {"sda", "sdb", "nvme0n1", "nvme1n1", "vda", "dm-0"};
static const char *const fsdevs[] = {"/dev/sda1", "/dev/sda2", "/dev/nvme0n1p1", "/dev/mapper/vg0-root", "tmpfs"};
static const char *const fstypes[] = {"ext4", "xfs", "btrfs", "tmpfs"};
static const char *const mounts[] = {"/", "/var", "/home", "/boot", "/data", "/tmp"};
static const char *const codes[] = {"200", "201", "204", "301", "304", "400", "401", "403", "404", "500", "502", "503"};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
static const char *const paths[] = {"/", "/api/v1/query", "/api/v1/write", "/metrics", "/healthz", "/login", "/api/v1/users", "/static/app.js"};
const char *const gen_les[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};
const char *const gen_quantiles[] = {"0", "0.25", "0.5", "0.75", "1"};
static const char *const envs[] = {"prod", "staging", "dev", "qa"};
static const char *const regions[] = {"eu-west-1", "us-east-1", "us-west-2", "ap-south-1", "eu-central-1"};
static const char *const chips[] = {"platform_coretemp_0", "platform_coretemp_1", "pci0000:00_0000:00:18_3"};
static const char *const sensors[] = {"temp1", "temp2", "temp3", "temp4", "temp5", "temp6"};

enum
{
	D_CPU, D_MODE, D_NETDEV, D_DISK, D_FSDEV, D_FSTYPE, D_MOUNT, D_CODE,
	D_METHOD, D_PATH, D_LE, D_QUANTILE, D_ENV, D_REGION, D_CHIP, D_SENSOR
};

#define DIM(n, a)	{n, (int) lengthof(a), a}
static const LabelDim dims[] = {
	DIM("cpu", gen_cpus), DIM("mode", gen_modes), DIM("device", netdevs), DIM("device", disks),
	DIM("device", fsdevs), DIM("fstype", fstypes), DIM("mountpoint", mounts),
	DIM("code", codes), DIM("method", methods), DIM("path", paths), DIM("le", gen_les),
	DIM("quantile", gen_quantiles), DIM("env", envs), DIM("region", regions),
	DIM("chip", chips), DIM("sensor", sensors)
};

/* A metric family as an exporter would publish it: name, type and 2-4 label dimensions. */
typedef struct MetricTemplate
{
	const char *name;
	bool		counter;
	const char *unit;
	const char *help;
	int			ndims;
	int			dims[4];
} MetricTemplate;

static const MetricTemplate templates[] = {
	{"node_cpu_seconds_total", true, "seconds", "Seconds the CPUs spent in each mode.", 2, {D_CPU, D_MODE}},
	{"http_requests_total", true, "", "Total number of HTTP requests.", 3, {D_CODE, D_METHOD, D_PATH}},
	{"node_network_receive_bytes_total", true, "bytes", "Network device statistic receive_bytes.", 2, {D_NETDEV, D_ENV}},
	{"node_network_transmit_bytes_total", true, "bytes", "Network device statistic transmit_bytes.", 2, {D_NETDEV, D_ENV}},
	{"node_disk_read_bytes_total", true, "bytes", "The total number of bytes read successfully.", 2, {D_DISK, D_ENV}},
	{"node_disk_written_bytes_total", true, "bytes", "The total number of bytes written successfully.", 2, {D_DISK, D_ENV}},
	{"node_filesystem_avail_bytes", false, "bytes", "Filesystem space available to non-root users in bytes.", 3, {D_FSDEV, D_FSTYPE, D_MOUNT}},
	{"node_filesystem_size_bytes", false, "bytes", "Filesystem size in bytes.", 3, {D_FSDEV, D_FSTYPE, D_MOUNT}},
	{"node_memory_MemAvailable_bytes", false, "bytes", "Memory information field MemAvailable_bytes.", 2, {D_ENV, D_REGION}},
	{"node_load1", false, "", "1m load average.", 2, {D_ENV, D_REGION}},
	{"http_request_duration_seconds_bucket", true, "seconds", "HTTP request latency histogram buckets.", 4, {D_LE, D_METHOD, D_PATH, D_ENV}},
	{"http_request_duration_seconds_sum", true, "seconds", "Sum of HTTP request latencies.", 3, {D_METHOD, D_PATH, D_ENV}},
	{"http_request_duration_seconds_count", true, "", "Count of HTTP request latencies.", 3, {D_METHOD, D_PATH, D_ENV}},
	{"process_cpu_seconds_total", true, "seconds", "Total user and system CPU time spent in seconds.", 2, {D_ENV, D_REGION}},
	{"process_resident_memory_bytes", false, "bytes", "Resident memory size in bytes.", 2, {D_ENV, D_REGION}},
	{"go_goroutines", false, "", "Number of goroutines that currently exist.", 2, {D_ENV, D_REGION}},
	{"go_gc_duration_seconds", false, "seconds", "A summary of the pause duration of GC cycles.", 2, {D_QUANTILE, D_ENV}},
	{"node_context_switches_total", true, "", "Total number of context switches.", 2, {D_ENV, D_REGION}},
	{"node_hwmon_temp_celsius", false, "celsius", "Hardware monitor for temperature (input).", 3, {D_CHIP, D_SENSOR, D_ENV}},
	{"up", false, "", "Whether the target was reachable.", 2, {D_ENV, D_REGION}},
};

/* How a --case builds its bytes: one crafted series, or framing-level damage. */
typedef enum
{
	C_NONE, C_SERIES, C_EMPTY, C_NOT_PROTOBUF, C_TRUNCATED, C_HUGE_HEADER, C_NOT_SNAPPY
} CaseKind;

/* A label of a crafted --case series; lengths are explicit so values may hold NUL bytes. */
typedef struct CaseLabel
{
	const char *name;
	size_t		nlen;
	const char *value;
	size_t		vlen;
} CaseLabel;

#define CL(n, v)	{n, sizeof(n) - 1, v, sizeof(v) - 1}
static const CaseLabel cl_bad_name[] = {CL("0bad-name", "x"), CL("__name__", "up"), CL("job", "node")};
static const CaseLabel cl_dup[] = {CL("__name__", "up"), CL("job", "node"), CL("job", "node-exporter")};
static const CaseLabel cl_bad_utf8[] = {CL("__name__", "up"), CL("job", "node\xff\xfe")};
static const CaseLabel cl_nul[] = {CL("__name__", "up"), CL("job", "no" "\0" "de")};
static const CaseLabel cl_no_name[] = {CL("instance", "10.0.0.1:9100"), CL("job", "node")};
static const CaseLabel cl_empty_name[] = {CL("", "x"), CL("__name__", "up"), CL("job", "node")};

/* One --case: its name, what it emits, and the labels of its single series. */
struct CaseDef
{
	const char *name;
	CaseKind	kind;
	const CaseLabel *labels;
	size_t		nlabels;
};

static const CaseDef cases[] = {
	{"no-labels", C_SERIES, NULL, 0},
	{"bad-label-name", C_SERIES, cl_bad_name, lengthof(cl_bad_name)},
	{"dup-label", C_SERIES, cl_dup, lengthof(cl_dup)},
	{"bad-utf8", C_SERIES, cl_bad_utf8, lengthof(cl_bad_utf8)},
	{"nul-in-value", C_SERIES, cl_nul, lengthof(cl_nul)},
	{"no-metric-name", C_SERIES, cl_no_name, lengthof(cl_no_name)},
	{"empty-name", C_SERIES, cl_empty_name, lengthof(cl_empty_name)},
	{"not-protobuf", C_NOT_PROTOBUF, NULL, 0},
	{"truncated-snappy", C_TRUNCATED, NULL, 0},
	{"huge-header", C_HUGE_HEADER, NULL, 0},
	{"not-snappy", C_NOT_SNAPPY, NULL, 0},
	{"empty-request", C_EMPTY, NULL, 0},
};

/* The --case called name, or NULL. */
const CaseDef *
gen_case_find(const char *name)
{
	for (size_t i = 0; i < lengthof(cases); i++)
		if (strcmp(name, cases[i].name) == 0)
			return &cases[i];
	return NULL;
}

/* True if name (len bytes) is __name__, instance, job or a label of the default profile. */
bool
gen_default_emits_label(const char *name, size_t len)
{
	static const char *const fixed[] = {"__name__", "instance", "job"};

	for (size_t i = 0; i < lengthof(fixed); i++)
		if (strlen(fixed[i]) == len && memcmp(fixed[i], name, len) == 0)
			return true;
	for (size_t i = 0; i < lengthof(dims); i++)
		if (strlen(dims[i].name) == len && memcmp(dims[i].name, name, len) == 0)
			return true;
	return false;
}

/* Zeroed memory owned by the pool; running out of memory ends the program. */
void *
gen_pool_alloc(Pool *pool, size_t size)
{
	void	   *p;

	if (pool->n == pool->cap)
	{
		size_t		cap = pool->cap ? pool->cap * 2 : 64;
		void	  **ptrs = realloc(pool->ptrs, cap * sizeof(void *));

		if (ptrs == NULL)
		{
			fprintf(stderr, "promscale-ha-gen: out of memory\n");
			exit(1);
		}
		pool->ptrs = ptrs;
		pool->cap = cap;
	}
	p = calloc(1, size ? size : 1);
	if (p == NULL)
	{
		fprintf(stderr, "promscale-ha-gen: out of memory allocating %zu bytes\n", size);
		exit(1);
	}
	pool->ptrs[pool->n++] = p;
	return p;
}

/* Release everything gen_pool_alloc handed out. */
static void
pool_free(Pool *pool)
{
	for (size_t i = 0; i < pool->n; i++)
		free(pool->ptrs[i]);
	free(pool->ptrs);
	pool->ptrs = NULL;
	pool->n = pool->cap = 0;
}

/* splitmix64 step: spreads a seed over all 64 bits before xorshift uses it. */
static uint64_t
mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* A generator for the stream named (seed, a, b): random access to per-series randomness. */
Rng
gen_rng_at(uint64_t seed, uint64_t a, uint64_t b)
{
	Rng			r;

	r.state = mix64(mix64(mix64(seed) ^ a) ^ b);
	if (r.state == 0)
		r.state = UINT64_C(0x2545f4914f6cdd1d);
	return r;
}

/* xorshift64* (Vigna): the next 64 random bits. */
uint64_t
gen_rng_next(Rng *r)
{
	r->state ^= r->state >> 12;
	r->state ^= r->state << 25;
	r->state ^= r->state >> 27;
	return r->state * UINT64_C(0x2545f4914f6cdd1d);
}

/* A double with the given IEEE-754 bit pattern (NaN payloads matter to Prometheus). */
static double
from_bits(uint64_t bits)
{
	double		d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* The value of sample k (timestamp ts) of series s, per --values. */
static double
sample_value(const Options *o, uint64_t s, int64_t k, int64_t ts)
{
	static const uint64_t special[] = {
		UINT64_C(0x7ff8000000000001),	/* NaN as Go's math.NaN() */
		UINT64_C(0x7ff0000000000000),	/* +Inf */
		UINT64_C(0xfff0000000000000),	/* -Inf */
		UINT64_C(0x7ff0000000000002),	/* Prometheus stale marker */
		UINT64_C(0x8000000000000000),	/* -0.0 */
		UINT64_C(0x7fe1ccf385ebc8a0),	/* 1e308 */
		UINT64_C(0x0000000000000001)	/* 5e-324, smallest subnormal */
	};
	Rng			r;
	double		base,
				rate;

	switch (o->values)
	{
		case V_SPECIAL:
			return from_bits(special[k % (int64_t) lengthof(special)]);
		case V_RANDOM:
			/* uniform in [0, 1) with all 53 bits random: the worst case for a codec */
			r = gen_rng_at(o->seed, s | UINT64_C(1) << 62, (uint64_t) ts);
			return (double) (gen_rng_next(&r) >> 11) * 0x1p-53;
		case V_GAUGE:
			r = gen_rng_at(o->seed, s, (uint64_t) ts);
			return (double) (gen_rng_next(&r) % 1000000) / 100.0;
		case V_COUNTER:
		default:
			/* base + rate * seconds since 2020: increasing in ts, across calls too */
			r = gen_rng_at(o->seed, s, 1);
			base = (double) (gen_rng_next(&r) % 100000);
			rate = (double) (1 + gen_rng_next(&r) % 100);
			return base + rate * ((double) (ts - COUNTER_EPOCH_MS) / 1000.0);
	}
}

/* Metric number m: a template (rotated by the seed) and its name, suffixed _N past the table. */
static const MetricTemplate *
metric_for(const Options *o, uint64_t m, char *name, size_t size)
{
	uint64_t	nt = lengthof(templates);
	Rng			r = gen_rng_at(o->seed, 0, 0);
	const MetricTemplate *t = &templates[(m + gen_rng_next(&r) % nt) % nt];

	if (m < nt)
		snprintf(name, size, "%s", t->name);
	else
		snprintf(name, size, "%s_%" PRIu64, t->name, m / nt);
	return t;
}

/* Set a label from NUL-terminated strings. */
void
gen_set_label(Prometheus__Label *l, const char *name, const char *value)
{
	prometheus__label__init(l);
	l->name.data = (uint8_t *) name;
	l->name.len = strlen(name);
	l->value.data = (uint8_t *) value;
	l->value.len = strlen(value);
}

/* qsort comparator: labels by name, bytewise, as Prometheus sorts them. */
static int
label_cmp(const void *a, const void *b)
{
	const Prometheus__Label *x = *(Prometheus__Label *const *) a;
	const Prometheus__Label *y = *(Prometheus__Label *const *) b;
	size_t		n = x->name.len < y->name.len ? x->name.len : y->name.len;
	int			c = n ? memcmp(x->name.data, y->name.data, n) : 0;

	if (c != 0)
		return c;
	return (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

/* Append the --cluster, --replica and --label labels at labels[n]; returns the new count. */
static int
add_flag_labels(const Options *o, Prometheus__Label *labels, int n)
{
	if (o->cluster)
		gen_set_label(&labels[n++], o->cluster_label, o->cluster);
	if (o->replica)
		gen_set_label(&labels[n++], o->replica_label, o->replica);
	for (int u = 0; u < o->nuser; u++)
	{
		const char *eq = strchr(o->user[u], '=');

		prometheus__label__init(&labels[n]);
		labels[n].name.data = (uint8_t *) o->user[u];
		labels[n].name.len = (size_t) (eq - o->user[u]);
		labels[n].value.data = (uint8_t *) eq + 1;
		labels[n].value.len = strlen(eq + 1);
		n++;
	}
	return n;
}

/*
 * Append job="node" and the flag labels to labels[0..n-1], point ts at them
 * and sort them by name; returns the count.  Both profiles end a series'
 * labels so.
 */
int
gen_finish_labels(const Options *o, Prometheus__TimeSeries *ts, Prometheus__Label *labels, int n)
{
	gen_set_label(&labels[n++], "job", "node");
	n = add_flag_labels(o, labels, n);
	for (int i = 0; i < n; i++)
		ts->labels[i] = &labels[i];
	ts->n_labels = (size_t) n;
	qsort(ts->labels, ts->n_labels, sizeof(Prometheus__Label *), label_cmp);
	return n;
}

/*
 * Fill ts with the labels of series s (text goes to the SERIES_TEXT bytes at
 * text): metric s % K, then mixed-radix digits of s / K pick the label values
 * and the instance, so distinct s give distinct label sets.
 */
static void
build_labels(const Options *o, Pool *pool, uint64_t s, Prometheus__TimeSeries *ts, char *text)
{
	uint64_t	m = s % (uint64_t) o->metrics;
	uint64_t	j = s / (uint64_t) o->metrics;
	const MetricTemplate *t = metric_for(o, m, text, 64);
	Rng			r = gen_rng_at(o->seed, m, 2);
	Rng			h = gen_rng_at(o->seed, 0, 3);
	Prometheus__Label *labels;
	int			n = 0;
	uint64_t	host;

	ts->labels = gen_pool_alloc(pool, (size_t) (t->ndims + 5 + o->nuser) * sizeof(Prometheus__Label *));
	labels = gen_pool_alloc(pool, (size_t) (t->ndims + 5 + o->nuser) * sizeof(Prometheus__Label));

	gen_set_label(&labels[n++], "__name__", text);
	for (int d = 0; d < t->ndims; d++)
	{
		const LabelDim *dim = &dims[t->dims[d]];
		uint64_t	nv = (uint64_t) dim->nvalues;

		gen_set_label(&labels[n++], dim->name, dim->values[(j % nv + gen_rng_next(&r) % nv) % nv]);
		j /= nv;
	}
	host = j + gen_rng_next(&h) % 512;	/* what is left of j picks the host */
	snprintf(text + 64, 32, "10.%" PRIu64 ".%" PRIu64 ".%" PRIu64 ":9100",
			 host / 65024, host % 65024 / 254, host % 254 + 1);
	gen_set_label(&labels[n++], "instance", text + 64);
	n = gen_finish_labels(o, ts, labels, n);
	if (o->unsorted)
		for (int i = 0; i < n / 2; i++)
		{
			Prometheus__Label *tmp = ts->labels[i];

			ts->labels[i] = ts->labels[n - 1 - i];
			ts->labels[n - 1 - i] = tmp;
		}
}

/* Scrape number (absolute, counted from the counter epoch) of sample k of this call. */
static int64_t
abs_step(const Options *o, int64_t k)
{
	return floor_div(o->start_ms - COUNTER_EPOCH_MS, o->step_ms) + k;
}

/* Timestamp of sample k of the series or instance key: the scrape slot plus --jitter-ms noise. */
static int64_t
sample_time(const Options *o, uint64_t key, int64_t k)
{
	int64_t		ts = o->start_ms + k * o->step_ms;

	if (o->jitter_ms > 0)
	{
		Rng			r = gen_rng_at(o->seed ^ ((uint64_t) NS_JITTER << 56), key, (uint64_t) abs_step(o, k));

		ts += (int64_t) (gen_rng_next(&r) % (uint64_t) (2 * o->jitter_ms + 1)) - o->jitter_ms;
	}
	return ts;
}

/* One exemplar (a trace_id label) and one native histogram sample for series s. */
static void
build_extras(const Options *o, Pool *pool, uint64_t s, Prometheus__TimeSeries *ts, char *text)
{
	static Prometheus__BucketSpan span = PROMETHEUS__BUCKET_SPAN__INIT;
	Rng			r = gen_rng_at(o->seed, s, 4);

	if (o->exemplars)
	{
		Prometheus__Exemplar *ex = gen_pool_alloc(pool, sizeof(*ex));
		Prometheus__Label *l = gen_pool_alloc(pool, sizeof(*l));

		prometheus__exemplar__init(ex);
		snprintf(text + 96, 32, "%016" PRIx64, gen_rng_next(&r));
		gen_set_label(l, "trace_id", text + 96);
		ex->labels = gen_pool_alloc(pool, sizeof(Prometheus__Label *));
		ex->labels[0] = l;
		ex->n_labels = 1;
		ex->value = (double) (gen_rng_next(&r) % 10000) / 1000.0;
		ex->timestamp = o->start_ms;
		ts->exemplars = gen_pool_alloc(pool, sizeof(Prometheus__Exemplar *));
		ts->exemplars[0] = ex;
		ts->n_exemplars = 1;
	}
	if (o->histograms)
	{
		Prometheus__Histogram *hg = gen_pool_alloc(pool, sizeof(*hg));
		int64_t		prev = 0;
		uint64_t	total = 0;

		prometheus__histogram__init(hg);
		span.length = 4;
		hg->schema = 3;
		hg->zero_threshold = 1e-128;
		hg->zero_count_case = PROMETHEUS__HISTOGRAM__ZERO_COUNT_ZERO_COUNT_INT;
		hg->zero_count_int = gen_rng_next(&r) % 3;
		hg->n_positive_spans = 1;
		hg->positive_spans = gen_pool_alloc(pool, sizeof(Prometheus__BucketSpan *));
		hg->positive_spans[0] = &span;
		hg->n_positive_deltas = 4;
		hg->positive_deltas = gen_pool_alloc(pool, 4 * sizeof(int64_t));
		for (int b = 0; b < 4; b++)
		{
			int64_t		count = (int64_t) (gen_rng_next(&r) % 20);

			hg->positive_deltas[b] = count - prev;	/* buckets are delta-encoded */
			prev = count;
			total += (uint64_t) count;
		}
		hg->count_case = PROMETHEUS__HISTOGRAM__COUNT_COUNT_INT;
		hg->count_int = total + hg->zero_count_int;
		hg->sum = (double) (gen_rng_next(&r) % 100000) / 100.0;
		hg->reset_hint = PROMETHEUS__HISTOGRAM__RESET_HINT__NO;
		hg->timestamp = o->start_ms;
		ts->histograms = gen_pool_alloc(pool, sizeof(Prometheus__Histogram *));
		ts->histograms[0] = hg;
		ts->n_histograms = 1;
	}
}

/* Timestamp and value of sample k of the i-th series of this call, in any profile. */
static void
gen_sample(const Options *o, size_t i, int64_t k, int64_t *ts, double *v)
{
	int			nper = gen_node_nseries();
	uint64_t	inst = i / (size_t) (nper > 0 ? nper : 1);

	if (o->profile != P_NODE)
	{
		*ts = sample_time(o, (uint64_t) o->offset + i, k);
		*v = sample_value(o, (uint64_t) o->offset + i, k, *ts);
		return;
	}
	*ts = sample_time(o, inst, k);
	if (o->values == V_SPECIAL)
		*v = sample_value(o, i, k, *ts);
	else
		*v = gen_node_value(o, inst, (int) (i % (size_t) nper), abs_step(o, k), *ts);
}

/* Fill req with the series, samples and extras that the options describe. */
static void
build_request(const Options *o, Pool *pool, Prometheus__WriteRequest *req)
{
	static uint8_t neg_zero_bits[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
	static ProtobufCMessageUnknownField neg_zero = {1, PROTOBUF_C_WIRE_TYPE_64BIT, 8, neg_zero_bits};
	size_t		n = (size_t) o->series;
	size_t		m = (size_t) o->samples;
	size_t		nmeta = n < (size_t) o->metrics ? n : (size_t) o->metrics;
	Prometheus__TimeSeries *ts = gen_pool_alloc(pool, n * sizeof(*ts));
	Prometheus__Sample *samples = gen_pool_alloc(pool, n * m * sizeof(*samples));
	Prometheus__Sample **sptrs = gen_pool_alloc(pool, n * m * sizeof(*sptrs));
	char	   *text = gen_pool_alloc(pool, n * SERIES_TEXT);
	size_t		nper = (size_t) gen_node_nseries();

	req->timeseries = gen_pool_alloc(pool, n * sizeof(Prometheus__TimeSeries *));
	req->n_timeseries = n;
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	s = (uint64_t) o->offset + i;

		prometheus__time_series__init(&ts[i]);
		if (o->profile == P_NODE)
			gen_node_labels(o, pool, i / nper, (int) (i % nper),
							  &ts[i], text + i * SERIES_TEXT);
		else
			build_labels(o, pool, s, &ts[i], text + i * SERIES_TEXT);
		ts[i].samples = &sptrs[i * m];
		ts[i].n_samples = m;
		for (size_t k = 0; k < m; k++)
		{
			Prometheus__Sample *sm = &samples[i * m + k];

			prometheus__sample__init(sm);
			gen_sample(o, i, (int64_t) k, &sm->timestamp, &sm->value);
			if (sm->value == 0 && signbit(sm->value))
			{
				/* protobuf-c omits a proto3 double == 0, -0.0 too: add it by hand */
				sm->base.n_unknown_fields = 1;
				sm->base.unknown_fields = &neg_zero;
			}
			sptrs[i * m + k] = sm;
		}
		build_extras(o, pool, s, &ts[i], text + i * SERIES_TEXT);
		req->timeseries[i] = &ts[i];
	}

	if (!o->metadata)
		return;
	req->metadata = gen_pool_alloc(pool, nmeta * sizeof(Prometheus__MetricMetadata *));
	req->n_metadata = nmeta;
	for (size_t i = 0; i < nmeta; i++)
	{
		Prometheus__MetricMetadata *md = gen_pool_alloc(pool, sizeof(*md));
		char	   *name = gen_pool_alloc(pool, 64);
		const MetricTemplate *t = metric_for(o, ((uint64_t) o->offset + i) % (uint64_t) o->metrics,
											 name, 64);

		prometheus__metric_metadata__init(md);
		md->type = t->counter ? PROMETHEUS__METRIC_METADATA__METRIC_TYPE__COUNTER
			: PROMETHEUS__METRIC_METADATA__METRIC_TYPE__GAUGE;
		md->metric_family_name = name;
		md->help = (char *) t->help;
		md->unit = (char *) t->unit;
		req->metadata[i] = md;
	}
}

/* Snappy block-format compression of len bytes; the result is pool memory. */
static uint8_t *
compress(Pool *pool, const uint8_t *data, size_t len, size_t *outlen)
{
	size_t		cap = snappy_max_compressed_length(len);
	uint8_t    *out = gen_pool_alloc(pool, cap);

	*outlen = cap;
	if (snappy_compress((const char *) data, len, (char *) out, outlen) != SNAPPY_OK)
	{
		fprintf(stderr, "promscale-ha-gen: snappy compression failed\n");
		exit(1);
	}
	return out;
}

/* Pack req, then compress it unless --no-compress. */
static uint8_t *
encode(const Options *o, Pool *pool, const Prometheus__WriteRequest *req, size_t *outlen)
{
	size_t		len = prometheus__write_request__get_packed_size(req);
	uint8_t    *buf = gen_pool_alloc(pool, len);

	prometheus__write_request__pack(req, buf);
	if (o->no_compress)
	{
		*outlen = len;
		return buf;
	}
	return compress(pool, buf, len, outlen);
}

/* The bytes of the --case request; framing cases ignore --no-compress. */
static uint8_t *
build_case(Options *o, Pool *pool, size_t *outlen)
{
	static const char not_pb[] = "this is not a protobuf message at all";
	static const char huge[] = "\x80\x80\x80\x80\x08\xde\xad\xbe\xef";	/* 2^31, garbage */
	const CaseDef *c = o->casedef;
	Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
	uint8_t    *out;

	switch (c->kind)
	{
		case C_NOT_PROTOBUF:
			return compress(pool, (const uint8_t *) not_pb, sizeof(not_pb) - 1, outlen);
		case C_HUGE_HEADER:
		case C_NOT_SNAPPY:
			*outlen = c->kind == C_HUGE_HEADER ? sizeof(huge) - 1 : strlen("hello world");
			out = gen_pool_alloc(pool, *outlen);
			memcpy(out, c->kind == C_HUGE_HEADER ? huge : "hello world", *outlen);
			return out;
		case C_TRUNCATED:
			o->series = 50;
			o->no_compress = false;
			build_request(o, pool, &req);
			out = encode(o, pool, &req, outlen);
			*outlen -= 20;
			return out;
		case C_SERIES:
			{
				Prometheus__TimeSeries *ts = gen_pool_alloc(pool, sizeof(*ts));
				Prometheus__Sample *sm = gen_pool_alloc(pool, sizeof(*sm));
				Prometheus__Label *l = gen_pool_alloc(pool, c->nlabels * sizeof(*l));

				prometheus__time_series__init(ts);
				ts->labels = gen_pool_alloc(pool, c->nlabels * sizeof(Prometheus__Label *));
				for (size_t i = 0; i < c->nlabels; i++)
				{
					prometheus__label__init(&l[i]);
					l[i].name.data = (uint8_t *) c->labels[i].name;
					l[i].name.len = c->labels[i].nlen;
					l[i].value.data = (uint8_t *) c->labels[i].value;
					l[i].value.len = c->labels[i].vlen;
					ts->labels[i] = &l[i];
				}
				ts->n_labels = c->nlabels;
				prometheus__sample__init(sm);
				sm->value = 1;
				sm->timestamp = o->start_ms;
				ts->samples = &sm;
				ts->n_samples = 1;
				req.timeseries = &ts;
				req.n_timeseries = 1;
				return encode(o, pool, &req, outlen);
			}
		case C_EMPTY:
		default:
			return encode(o, pool, &req, outlen);
	}
}

/* Write the bytes to -o FILE or stdout, raw or as a bytea hex literal. */
static int
write_output(const Options *o, const uint8_t *buf, size_t len)
{
	static const char hexdig[] = "0123456789abcdef";
	FILE	   *f = o->output ? fopen(o->output, "wb") : stdout;
	int			ok;

	if (f == NULL)
	{
		fprintf(stderr, "promscale-ha-gen: could not open \"%s\": %s\n", o->output,
				strerror(errno));
		return 1;
	}
	if (o->hex)
	{
		fputs("\\x", f);
		for (size_t i = 0; i < len; i++)
		{
			putc(hexdig[buf[i] >> 4], f);
			putc(hexdig[buf[i] & 15], f);
		}
		putc('\n', f);
	}
	else
		fwrite(buf, 1, len, f);
	ok = !ferror(f);
	if ((o->output ? fclose(f) : fflush(f)) != 0)
		ok = 0;
	if (!ok)
	{
		fprintf(stderr, "promscale-ha-gen: could not write \"%s\": %s\n",
				o->output ? o->output : "stdout", strerror(errno));
		return 1;
	}
	return 0;
}

/* Store v as n little-endian bytes at p. */
static void
put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

/*
 * --dump-samples: every sample as a 20-byte little-endian record (uint32
 * series index, int64 time ms, uint64 value bits), scrape by scrape, all
 * series of a scrape in series order.  Streams, so it needs no request.
 */
static int
write_dump(const Options *o)
{
	enum
	{
		REC = 20, PER_BUF = 4096
	};
	static uint8_t buf[REC * PER_BUF];
	FILE	   *f = fopen(o->dump, "wb");
	size_t		used = 0;
	int			ok = 1;

	if (f == NULL)
	{
		fprintf(stderr, "promscale-ha-gen: could not open \"%s\": %s\n", o->dump, strerror(errno));
		return 1;
	}
	for (int64_t k = 0; k < o->samples && ok; k++)
		for (int64_t i = 0; i < o->series && ok; i++)
		{
			int64_t		ts;
			double		v;
			uint64_t	bits;

			gen_sample(o, (size_t) i, k, &ts, &v);
			memcpy(&bits, &v, sizeof(bits));
			put_le(buf + used, (uint64_t) (o->profile == P_NODE ? i : o->offset + i), 4);
			put_le(buf + used + 4, (uint64_t) ts, 8);
			put_le(buf + used + 12, bits, 8);
			used += REC;
			if (used == sizeof(buf))
			{
				ok = fwrite(buf, 1, used, f) == used;
				used = 0;
			}
		}
	if (ok && used > 0)
		ok = fwrite(buf, 1, used, f) == used;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
	{
		fprintf(stderr, "promscale-ha-gen: could not write \"%s\": %s\n", o->dump, strerror(errno));
		return 1;
	}
	return 0;
}


int
main(int argc, char **argv)
{
	Options		o;
	Pool		pool = {NULL, 0, 0};
	Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
	uint8_t    *out;
	size_t		len;
	int			rc;

	gen_node_setup();
	gen_parse_args(argc, argv, &o);
	if (o.dump && write_dump(&o) != 0)
		return 1;
	if (o.dump && o.output == NULL)
		return 0;
	if (o.casedef)
		out = build_case(&o, &pool, &len);
	else
	{
		build_request(&o, &pool, &req);
		out = encode(&o, &pool, &req, &len);
	}
	rc = write_output(&o, out, len);
	pool_free(&pool);
	return rc;
}
