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
 * Plain C99 plus getopt_long, no PostgreSQL headers.  Every allocation goes
 * through a Pool that is freed before exit.  Exit status: 0 ok, 1 I/O or
 * memory failure, 2 usage error.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "remote.pb-c.h"

#define lengthof(a)			(sizeof(a) / sizeof((a)[0]))
#define MAX_USER_LABELS		32
#define SERIES_TEXT			128		/* per series: name, instance, trace id */
#define MAX_SERIES			INT64_C(50000000)
#define MAX_TOTAL_SAMPLES	INT64_C(200000000)
#define COUNTER_EPOCH_MS	INT64_C(1577836800000)	/* counters start 2020-01-01 */

/* One label dimension: a label name and the values a series can take. */
typedef struct LabelDim
{
	const char *name;
	int			nvalues;
	const char *const *values;
} LabelDim;

static const char *const cpus[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"};
static const char *const modes[] = {"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"};
static const char *const netdevs[] = {"eth0", "eth1", "lo", "ens3", "ens4", "bond0", "docker0"};
static const char *const disks[] = {"sda", "sdb", "nvme0n1", "nvme1n1", "vda", "dm-0"};
static const char *const fsdevs[] = {"/dev/sda1", "/dev/sda2", "/dev/nvme0n1p1", "/dev/mapper/vg0-root", "tmpfs"};
static const char *const fstypes[] = {"ext4", "xfs", "btrfs", "tmpfs"};
static const char *const mounts[] = {"/", "/var", "/home", "/boot", "/data", "/tmp"};
static const char *const codes[] = {"200", "201", "204", "301", "304", "400", "401", "403", "404", "500", "502", "503"};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
static const char *const paths[] = {"/", "/api/v1/query", "/api/v1/write", "/metrics", "/healthz", "/login", "/api/v1/users", "/static/app.js"};
static const char *const les[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};
static const char *const quantiles[] = {"0", "0.25", "0.5", "0.75", "1"};
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
	DIM("cpu", cpus), DIM("mode", modes), DIM("device", netdevs), DIM("device", disks),
	DIM("device", fsdevs), DIM("fstype", fstypes), DIM("mountpoint", mounts),
	DIM("code", codes), DIM("method", methods), DIM("path", paths), DIM("le", les),
	DIM("quantile", quantiles), DIM("env", envs), DIM("region", regions),
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

/* What --values asks for. */
typedef enum
{
	V_COUNTER, V_GAUGE, V_SPECIAL
} ValueKind;

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
typedef struct CaseDef
{
	const char *name;
	CaseKind	kind;
	const CaseLabel *labels;
	size_t		nlabels;
} CaseDef;

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

/* The command line, after defaults. */
typedef struct Options
{
	int64_t		series;
	int64_t		samples;
	int64_t		start_ms;
	int64_t		step_ms;
	int64_t		metrics;
	int64_t		offset;
	uint64_t	seed;
	const char *cluster;
	const char *replica;
	const char *cluster_label;
	const char *replica_label;
	const char *user[MAX_USER_LABELS];	/* "NAME=VALUE" strings from argv */
	int			nuser;
	ValueKind	values;
	bool		unsorted;
	bool		exemplars;
	bool		histograms;
	bool		metadata;
	bool		no_compress;
	bool		hex;
	const CaseDef *casedef;
	const char *output;
} Options;

/* Every allocation of a run, freed at once by pool_free. */
typedef struct Pool
{
	void	  **ptrs;
	size_t		n;
	size_t		cap;
} Pool;

/* xorshift64* state; never zero. */
typedef struct Rng
{
	uint64_t	state;
} Rng;

static void usage_error(const char *fmt,...)
			__attribute__((format(printf, 1, 2), noreturn));

/* Print a usage error and exit with status 2. */
static void
usage_error(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "promscale-ha-gen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"promscale-ha-gen --help\" for more information.\n");
	exit(2);
}

/* Zeroed memory owned by the pool; running out of memory ends the program. */
static void *
pool_alloc(Pool *pool, size_t size)
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

/* Release everything pool_alloc handed out. */
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
static Rng
rng_at(uint64_t seed, uint64_t a, uint64_t b)
{
	Rng			r;

	r.state = mix64(mix64(mix64(seed) ^ a) ^ b);
	if (r.state == 0)
		r.state = UINT64_C(0x2545f4914f6cdd1d);
	return r;
}

/* xorshift64* (Vigna): the next 64 random bits. */
static uint64_t
rng_next(Rng *r)
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
		case V_GAUGE:
			r = rng_at(o->seed, s, (uint64_t) ts);
			return (double) (rng_next(&r) % 1000000) / 100.0;
		case V_COUNTER:
		default:
			/* base + rate * seconds since 2020: increasing in ts, across calls too */
			r = rng_at(o->seed, s, 1);
			base = (double) (rng_next(&r) % 100000);
			rate = (double) (1 + rng_next(&r) % 100);
			return base + rate * ((double) (ts - COUNTER_EPOCH_MS) / 1000.0);
	}
}

/* Metric number m: a template (rotated by the seed) and its name, suffixed _N past the table. */
static const MetricTemplate *
metric_for(const Options *o, uint64_t m, char *name, size_t size)
{
	uint64_t	nt = lengthof(templates);
	Rng			r = rng_at(o->seed, 0, 0);
	const MetricTemplate *t = &templates[(m + rng_next(&r) % nt) % nt];

	if (m < nt)
		snprintf(name, size, "%s", t->name);
	else
		snprintf(name, size, "%s_%" PRIu64, t->name, m / nt);
	return t;
}

/* Set a label from NUL-terminated strings. */
static void
set_label(Prometheus__Label *l, const char *name, const char *value)
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
	Rng			r = rng_at(o->seed, m, 2);
	Rng			h = rng_at(o->seed, 0, 3);
	Prometheus__Label *labels;
	int			n = 0;
	uint64_t	host;

	ts->labels = pool_alloc(pool, (size_t) (t->ndims + 5 + o->nuser) * sizeof(Prometheus__Label *));
	labels = pool_alloc(pool, (size_t) (t->ndims + 5 + o->nuser) * sizeof(Prometheus__Label));

	set_label(&labels[n++], "__name__", text);
	for (int d = 0; d < t->ndims; d++)
	{
		const LabelDim *dim = &dims[t->dims[d]];
		uint64_t	nv = (uint64_t) dim->nvalues;

		set_label(&labels[n++], dim->name, dim->values[(j % nv + rng_next(&r) % nv) % nv]);
		j /= nv;
	}
	host = j + rng_next(&h) % 512;	/* what is left of j picks the host */
	snprintf(text + 64, 32, "10.%" PRIu64 ".%" PRIu64 ".%" PRIu64 ":9100",
			 host / 65024, host % 65024 / 254, host % 254 + 1);
	set_label(&labels[n++], "instance", text + 64);
	set_label(&labels[n++], "job", "node");
	if (o->cluster)
		set_label(&labels[n++], o->cluster_label, o->cluster);
	if (o->replica)
		set_label(&labels[n++], o->replica_label, o->replica);
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
	for (int i = 0; i < n; i++)
		ts->labels[i] = &labels[i];
	ts->n_labels = (size_t) n;
	qsort(ts->labels, ts->n_labels, sizeof(Prometheus__Label *), label_cmp);
	if (o->unsorted)
		for (int i = 0; i < n / 2; i++)
		{
			Prometheus__Label *tmp = ts->labels[i];

			ts->labels[i] = ts->labels[n - 1 - i];
			ts->labels[n - 1 - i] = tmp;
		}
}

/* One exemplar (a trace_id label) and one native histogram sample for series s. */
static void
build_extras(const Options *o, Pool *pool, uint64_t s, Prometheus__TimeSeries *ts, char *text)
{
	static Prometheus__BucketSpan span = PROMETHEUS__BUCKET_SPAN__INIT;
	Rng			r = rng_at(o->seed, s, 4);

	if (o->exemplars)
	{
		Prometheus__Exemplar *ex = pool_alloc(pool, sizeof(*ex));
		Prometheus__Label *l = pool_alloc(pool, sizeof(*l));

		prometheus__exemplar__init(ex);
		snprintf(text + 96, 32, "%016" PRIx64, rng_next(&r));
		set_label(l, "trace_id", text + 96);
		ex->labels = pool_alloc(pool, sizeof(Prometheus__Label *));
		ex->labels[0] = l;
		ex->n_labels = 1;
		ex->value = (double) (rng_next(&r) % 10000) / 1000.0;
		ex->timestamp = o->start_ms;
		ts->exemplars = pool_alloc(pool, sizeof(Prometheus__Exemplar *));
		ts->exemplars[0] = ex;
		ts->n_exemplars = 1;
	}
	if (o->histograms)
	{
		Prometheus__Histogram *hg = pool_alloc(pool, sizeof(*hg));
		int64_t		prev = 0;
		uint64_t	total = 0;

		prometheus__histogram__init(hg);
		span.length = 4;
		hg->schema = 3;
		hg->zero_threshold = 1e-128;
		hg->zero_count_case = PROMETHEUS__HISTOGRAM__ZERO_COUNT_ZERO_COUNT_INT;
		hg->zero_count_int = rng_next(&r) % 3;
		hg->n_positive_spans = 1;
		hg->positive_spans = pool_alloc(pool, sizeof(Prometheus__BucketSpan *));
		hg->positive_spans[0] = &span;
		hg->n_positive_deltas = 4;
		hg->positive_deltas = pool_alloc(pool, 4 * sizeof(int64_t));
		for (int b = 0; b < 4; b++)
		{
			int64_t		count = (int64_t) (rng_next(&r) % 20);

			hg->positive_deltas[b] = count - prev;	/* buckets are delta-encoded */
			prev = count;
			total += (uint64_t) count;
		}
		hg->count_case = PROMETHEUS__HISTOGRAM__COUNT_COUNT_INT;
		hg->count_int = total + hg->zero_count_int;
		hg->sum = (double) (rng_next(&r) % 100000) / 100.0;
		hg->reset_hint = PROMETHEUS__HISTOGRAM__RESET_HINT__NO;
		hg->timestamp = o->start_ms;
		ts->histograms = pool_alloc(pool, sizeof(Prometheus__Histogram *));
		ts->histograms[0] = hg;
		ts->n_histograms = 1;
	}
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
	Prometheus__TimeSeries *ts = pool_alloc(pool, n * sizeof(*ts));
	Prometheus__Sample *samples = pool_alloc(pool, n * m * sizeof(*samples));
	Prometheus__Sample **sptrs = pool_alloc(pool, n * m * sizeof(*sptrs));
	char	   *text = pool_alloc(pool, n * SERIES_TEXT);

	req->timeseries = pool_alloc(pool, n * sizeof(Prometheus__TimeSeries *));
	req->n_timeseries = n;
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	s = (uint64_t) o->offset + i;

		prometheus__time_series__init(&ts[i]);
		build_labels(o, pool, s, &ts[i], text + i * SERIES_TEXT);
		ts[i].samples = &sptrs[i * m];
		ts[i].n_samples = m;
		for (size_t k = 0; k < m; k++)
		{
			Prometheus__Sample *sm = &samples[i * m + k];

			prometheus__sample__init(sm);
			sm->timestamp = o->start_ms + (int64_t) k * o->step_ms;
			sm->value = sample_value(o, s, (int64_t) k, sm->timestamp);
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
	req->metadata = pool_alloc(pool, nmeta * sizeof(Prometheus__MetricMetadata *));
	req->n_metadata = nmeta;
	for (size_t i = 0; i < nmeta; i++)
	{
		Prometheus__MetricMetadata *md = pool_alloc(pool, sizeof(*md));
		char	   *name = pool_alloc(pool, 64);
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
	uint8_t    *out = pool_alloc(pool, cap);

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
	uint8_t    *buf = pool_alloc(pool, len);

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
			out = pool_alloc(pool, *outlen);
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
				Prometheus__TimeSeries *ts = pool_alloc(pool, sizeof(*ts));
				Prometheus__Sample *sm = pool_alloc(pool, sizeof(*sm));
				Prometheus__Label *l = pool_alloc(pool, c->nlabels * sizeof(*l));

				prometheus__time_series__init(ts);
				ts->labels = pool_alloc(pool, c->nlabels * sizeof(Prometheus__Label *));
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

/* Print --help to stdout. */
static void
usage(void)
{
	printf("promscale-ha-gen writes a Prometheus remote-write 1.0 request (snappy-compressed\n"
		   "prometheus.WriteRequest) with deterministic content.\n\n"
		   "Usage: promscale-ha-gen [OPTION]...\n\n"
		   "Options:\n"
		   "  -o, --output FILE        write to FILE instead of stdout\n"
		   "  --series N               number of series (default 10)\n"
		   "  --samples M              samples per series (default 1)\n"
		   "  --start-ms T             timestamp of the first sample, ms since the epoch\n"
		   "                           (default 1767225600000 = 2026-01-01T00:00:00Z)\n"
		   "  --step-ms S              ms between samples of a series (default 15000)\n"
		   "  --metrics K              distinct metric names (default max(1, N/100))\n"
		   "  --series-offset O        number series from O (default 0); series i has the\n"
		   "                           same labels in every call with the same seed and K\n"
		   "  --seed X                 seed of the generator (default 1)\n"
		   "  --cluster NAME           add label cluster=NAME to every series\n"
		   "  --replica NAME           add label __replica__=NAME to every series\n"
		   "  --cluster-label L        name of the cluster label (default \"cluster\")\n"
		   "  --replica-label L        name of the replica label (default \"__replica__\")\n"
		   "  --label NAME=VALUE       extra label on every series (repeatable, up to %d)\n"
		   "  --unsorted               emit each series' labels in reverse order\n"
		   "  --values KIND            counter (default; increasing with time), gauge\n"
		   "                           (random), or special (cycles NaN, +Inf, -Inf, stale\n"
		   "                           marker, -0.0, 1e308, 5e-324)\n"
		   "  --exemplars              one exemplar per series\n"
		   "  --histograms             one native histogram sample per series\n"
		   "  --metadata               one MetricMetadata per metric name\n"
		   "  --no-compress            write the bare protobuf, not snappy\n"
		   "  --hex                    write a bytea hex literal \\x... and a newline\n"
		   "  --case NAME              write a crafted request instead: no-labels,\n"
		   "                           bad-label-name, dup-label, bad-utf8, nul-in-value,\n"
		   "                           no-metric-name, empty-name, not-protobuf,\n"
		   "                           truncated-snappy, huge-header, not-snappy,\n"
		   "                           empty-request (--no-compress applies only to cases\n"
		   "                           that are protobuf; most other options are ignored)\n"
		   "  -h, --help               show this help and exit\n\n"
		   "Exit status: 0 ok, 1 I/O or memory failure, 2 usage error.\n",
		   MAX_USER_LABELS);
}

/* Parse a decimal integer option in [min, max] or exit with a usage error. */
static int64_t
parse_int(const char *flag, const char *arg, int64_t min, int64_t max)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max)
		usage_error("invalid value \"%s\" for --%s: an integer between %" PRId64 " and %" PRId64 " is required",
					arg, flag, min, max);
	return (int64_t) v;
}

/* True if the generator itself emits a label called name (len bytes). */
static bool
is_generated(const char *name, size_t len)
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

/* Labels added by flags must be named, and clash neither with generated ones nor each other. */
static void
check_added_labels(const Options *o)
{
	const char *names[2 + MAX_USER_LABELS];
	size_t		lens[2 + MAX_USER_LABELS];
	int			n = 0;

	if (o->cluster)
	{
		names[n] = o->cluster_label;
		lens[n++] = strlen(o->cluster_label);
	}
	if (o->replica)
	{
		names[n] = o->replica_label;
		lens[n++] = strlen(o->replica_label);
	}
	for (int u = 0; u < o->nuser; u++)
	{
		names[n] = o->user[u];
		lens[n++] = (size_t) (strchr(o->user[u], '=') - o->user[u]);
	}
	for (int i = 0; i < n; i++)
	{
		if (lens[i] == 0)
			usage_error("label names must not be empty");
		if (is_generated(names[i], lens[i]))
			usage_error("label \"%.*s\" is generated by promscale-ha-gen and cannot be added",
						(int) lens[i], names[i]);
		for (int k = 0; k < i; k++)
			if (lens[k] == lens[i] && memcmp(names[k], names[i], lens[i]) == 0)
				usage_error("label \"%.*s\" is added twice", (int) lens[i], names[i]);
	}
}

/* Turn argv into Options, exiting with status 2 on any mistake. */
static void
parse_args(int argc, char **argv, Options *o)
{
	enum
	{
		O_SERIES = 256, O_SAMPLES, O_START, O_STEP, O_METRICS, O_OFFSET, O_SEED,
		O_CLUSTER, O_REPLICA, O_CLUSTER_LABEL, O_REPLICA_LABEL, O_LABEL, O_UNSORTED,
		O_VALUES, O_EXEMPLARS, O_HISTOGRAMS, O_METADATA, O_NO_COMPRESS, O_HEX, O_CASE
	};
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
		{"series", required_argument, NULL, O_SERIES},
		{"samples", required_argument, NULL, O_SAMPLES},
		{"start-ms", required_argument, NULL, O_START},
		{"step-ms", required_argument, NULL, O_STEP},
		{"metrics", required_argument, NULL, O_METRICS},
		{"series-offset", required_argument, NULL, O_OFFSET},
		{"seed", required_argument, NULL, O_SEED},
		{"cluster", required_argument, NULL, O_CLUSTER},
		{"replica", required_argument, NULL, O_REPLICA},
		{"cluster-label", required_argument, NULL, O_CLUSTER_LABEL},
		{"replica-label", required_argument, NULL, O_REPLICA_LABEL},
		{"label", required_argument, NULL, O_LABEL},
		{"unsorted", no_argument, NULL, O_UNSORTED},
		{"values", required_argument, NULL, O_VALUES},
		{"exemplars", no_argument, NULL, O_EXEMPLARS},
		{"histograms", no_argument, NULL, O_HISTOGRAMS},
		{"metadata", no_argument, NULL, O_METADATA},
		{"no-compress", no_argument, NULL, O_NO_COMPRESS},
		{"hex", no_argument, NULL, O_HEX},
		{"case", required_argument, NULL, O_CASE},
		{NULL, 0, NULL, 0}
	};
	int			c;

	memset(o, 0, sizeof(*o));
	o->series = 10;
	o->samples = 1;
	o->start_ms = INT64_C(1767225600000);
	o->step_ms = 15000;
	o->seed = 1;
	o->cluster_label = "cluster";
	o->replica_label = "__replica__";
	o->values = V_COUNTER;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'o':
				o->output = optarg;
				break;
			case 'h':
				usage();
				exit(0);
			case O_SERIES:
				o->series = parse_int("series", optarg, 0, MAX_SERIES);
				break;
			case O_SAMPLES:
				o->samples = parse_int("samples", optarg, 0, 1000000);
				break;
			case O_START:
				o->start_ms = parse_int("start-ms", optarg, -INT64_C(1000000000000000), INT64_C(1000000000000000));
				break;
			case O_STEP:
				o->step_ms = parse_int("step-ms", optarg, -INT64_C(1000000000000), INT64_C(1000000000000));
				break;
			case O_METRICS:
				o->metrics = parse_int("metrics", optarg, 1, INT64_C(1000000000));
				break;
			case O_OFFSET:
				o->offset = parse_int("series-offset", optarg, 0, INT64_C(1) << 50);
				break;
			case O_SEED:
				o->seed = (uint64_t) parse_int("seed", optarg, 0, INT64_MAX);
				break;
			case O_CLUSTER:
				o->cluster = optarg;
				break;
			case O_REPLICA:
				o->replica = optarg;
				break;
			case O_CLUSTER_LABEL:
				o->cluster_label = optarg;
				break;
			case O_REPLICA_LABEL:
				o->replica_label = optarg;
				break;
			case O_LABEL:
				if (strchr(optarg, '=') == NULL)
					usage_error("--label needs NAME=VALUE, got \"%s\"", optarg);
				if (o->nuser == MAX_USER_LABELS)
					usage_error("at most %d --label options are allowed", MAX_USER_LABELS);
				o->user[o->nuser++] = optarg;
				break;
			case O_UNSORTED:
				o->unsorted = true;
				break;
			case O_VALUES:
				if (strcmp(optarg, "counter") == 0)
					o->values = V_COUNTER;
				else if (strcmp(optarg, "gauge") == 0)
					o->values = V_GAUGE;
				else if (strcmp(optarg, "special") == 0)
					o->values = V_SPECIAL;
				else
					usage_error("invalid --values \"%s\": counter, gauge or special expected", optarg);
				break;
			case O_EXEMPLARS:
				o->exemplars = true;
				break;
			case O_HISTOGRAMS:
				o->histograms = true;
				break;
			case O_METADATA:
				o->metadata = true;
				break;
			case O_NO_COMPRESS:
				o->no_compress = true;
				break;
			case O_HEX:
				o->hex = true;
				break;
			case O_CASE:
				for (size_t i = 0; i < lengthof(cases) && o->casedef == NULL; i++)
					if (strcmp(optarg, cases[i].name) == 0)
						o->casedef = &cases[i];
				if (o->casedef == NULL)
					usage_error("unknown --case \"%s\" (see --help)", optarg);
				break;
			case ':':
				usage_error("option \"%s\" needs a value", argv[optind - 1]);
				break;
			default:
				usage_error("unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (o->metrics == 0)
		o->metrics = o->series / 100 > 1 ? o->series / 100 : 1;
	if (o->series * o->samples > MAX_TOTAL_SAMPLES)
		usage_error("--series times --samples must not exceed %" PRId64, MAX_TOTAL_SAMPLES);
	check_added_labels(o);
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

	parse_args(argc, argv, &o);
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
