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
 * --profile node replaces those series with what --instances node_exporters
 * publish (node_rows: CPU seconds per cpu and mode, memory, network, disk,
 * filesystem, hwmon, Go runtime, three histograms; about 550 series each),
 * with the number formats the exporter really emits: integers in bytes, CPU
 * seconds with two decimals, temperatures with one, nanosecond durations,
 * full-precision histogram sums.  Sample k of a call is scrape number
 * (--start-ms - 2020-01-01) / --interval-ms + k, and every value is a pure
 * function of (seed, series, scrape number) computed in O(1): counters are
 * rate times the scrapes since the instance's last (simulated) reboot, bent
 * by a daily cycle and jittered per scrape, gauges are smooth noise around a
 * level.  So a later --start-ms continues the same series.  --jitter-ms moves
 * each scrape's timestamp by a few ms, the same for every series of one
 * instance and scrape.  --values random gives uniform doubles instead (the
 * worst case for a codec).  --dump-samples writes the samples as fixed-size
 * binary records for test/bench/codec_bench.c instead of (or beside) a
 * request, streaming, so large data sets need no memory.  The default
 * profile's output is unchanged by all of this (test/data is compared).
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
	V_COUNTER, V_GAUGE, V_SPECIAL, V_RANDOM, V_NODE
} ValueKind;

/* What --profile asks for: the synthetic series of the tests, or node_exporter-like ones. */
typedef enum
{
	P_DEFAULT, P_NODE
} Profile;

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
	bool		values_set;
	Profile		profile;
	int64_t		instances;
	int64_t		jitter_ms;		/* -1 until set: then 0, or 5 for --profile node */
	const char *dump;
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
		case V_RANDOM:
			/* uniform in [0, 1) with all 53 bits random: the worst case for a codec */
			r = rng_at(o->seed, s | UINT64_C(1) << 62, (uint64_t) ts);
			return (double) (rng_next(&r) >> 11) * 0x1p-53;
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

/* Append the --cluster, --replica and --label labels at labels[n]; returns the new count. */
static int
add_flag_labels(const Options *o, Prometheus__Label *labels, int n)
{
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
	n = add_flag_labels(o, labels, n);
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

/*
 * The --profile node data set: what one node_exporter (plus a few Go client
 * metrics and three request histograms) publishes per instance.  A row of
 * node_rows is a metric family; its series are the cross product of its label
 * dimensions, or, for a "zip" row, their i-th values taken together.  Levels
 * and rates are in integer units; a sample is (integer * quantum) / div, so
 * CPU seconds have two decimals, temperatures one, bytes none, as the
 * exporter reports them.
 */
typedef enum
{
	NK_CONST,					/* fixed level, per series */
	NK_COUNTER,					/* rises by about rate per scrape, resets at reboot */
	NK_CPU,						/* NK_COUNTER with the rate of its mode (centiseconds) */
	NK_GAUGE,					/* wanders around a level, slowly and per scrape */
	NK_BOOT,					/* the time of the instance's last reboot, seconds */
	NK_TIME,					/* the scrape time in seconds with nanoseconds */
	NK_BUCKET,					/* cumulative histogram bucket of histogram hist */
	NK_HSUM,					/* _sum of histogram hist: a full-precision double */
	NK_HCOUNT					/* _count of histogram hist */
} NodeKind;

/* One metric family of the node profile; see node_value for what the numbers mean. */
typedef struct NodeRow
{
	const char *name;
	NodeKind	kind;
	const LabelDim *dims;
	int			ndims;
	bool		zip;
	double		lo;				/* level or rate per scrape: drawn from [lo, hi] */
	double		hi;
	double		var;			/* counter: jitter of an increment; gauge: slow wander */
	double		fine;			/* gauge: noise per scrape; histogram: mean latency (s) */
	double		quantum;		/* values are multiples of this many units */
	double		div;			/* units per reported unit */
	int			hist;			/* histogram number, for NK_BUCKET/NK_HSUM/NK_HCOUNT */
} NodeRow;

/* One series of an instance: its row and the value index of each dimension. */
typedef struct NodeSeries
{
	const NodeRow *row;
	int			i1;
	int			i2;
	int			i3;
} NodeSeries;

static const char *const n_guest[] = {"user", "nice"};
static const char *const n_netdevs[] = {"eth0", "eth1", "lo", "docker0"};
static const char *const n_disks[] = {"nvme0n1", "sda", "dm-0"};
static const char *const n_fsdevs[] = {"/dev/nvme0n1p2", "/dev/nvme0n1p1", "/dev/sda1", "/dev/mapper/vg0-data", "tmpfs", "tmpfs"};
static const char *const n_fstypes[] = {"ext4", "vfat", "xfs", "ext4", "tmpfs", "tmpfs"};
static const char *const n_mounts[] = {"/", "/boot/efi", "/var/lib/docker", "/data", "/run", "/run/user/1000"};
static const char *const n_chips[] = {"platform_coretemp_0", "platform_coretemp_0", "platform_coretemp_0", "platform_coretemp_0", "platform_coretemp_0", "pci0000:00_0000:00:1d_0", "thermal_thermal_zone0", "acpitz"};
static const char *const n_sensors[] = {"temp1", "temp2", "temp3", "temp4", "temp5", "temp1", "temp0", "temp1"};
static const char *const n_collectors[] = {
	"arp", "bcache", "bonding", "btrfs", "conntrack", "cpu", "cpufreq", "diskstats", "dmi", "edac",
	"entropy", "fibrechannel", "filefd", "filesystem", "hwmon", "infiniband", "ipvs", "loadavg",
	"mdadm", "meminfo", "netclass", "netdev", "netstat", "nfs", "nfsd", "nvme", "os", "powersupplyclass",
	"pressure", "rapl", "schedstat", "selinux", "sockstat", "softnet", "stat", "textfile",
	"thermal_zone", "time", "timex", "vmstat"
};
static const char *const n_codes[] = {"200", "500", "503"};
static const char *const n_causes[] = {"encoding", "gathering"};
static const char *const n_handlers[] = {"/metrics", "/api/v1/query", "/healthz"};
static const char *const n_sysname[] = {"Linux"};
static const char *const n_release[] = {"6.1.0-18-amd64"};
static const char *const n_machine[] = {"x86_64"};
static const char *const n_osid[] = {"debian"};
static const char *const n_osver[] = {"12"};
static const char *const n_goversion[] = {"go1.21.6"};
static const char *const n_version[] = {"1.7.0"};

static const LabelDim nd_cpu[] = {{"cpu", 8, cpus}};
static const LabelDim nd_cpu_mode[] = {{"cpu", 8, cpus}, {"mode", 8, modes}};
static const LabelDim nd_cpu_guest[] = {{"cpu", 8, cpus}, {"mode", 2, n_guest}};
static const LabelDim nd_net[] = {{"device", 4, n_netdevs}};
static const LabelDim nd_disk[] = {{"device", 3, n_disks}};
static const LabelDim nd_fs[] = {{"device", 6, n_fsdevs}, {"fstype", 6, n_fstypes}, {"mountpoint", 6, n_mounts}};
static const LabelDim nd_hwmon[] = {{"chip", 8, n_chips}, {"sensor", 8, n_sensors}};
static const LabelDim nd_collector[] = {{"collector", (int) lengthof(n_collectors), n_collectors}};
static const LabelDim nd_quantile[] = {{"quantile", 5, quantiles}};
static const LabelDim nd_code200[] = {{"code", 1, n_codes}};
static const LabelDim nd_code5xx[] = {{"code", 2, n_codes + 1}};
static const LabelDim nd_cause[] = {{"cause", 2, n_causes}};
static const LabelDim nd_handler[] = {{"handler", 3, n_handlers}};
static const LabelDim nd_handler_le[] = {{"handler", 3, n_handlers}, {"le", 12, les}};
static const LabelDim nd_uname[] = {{"sysname", 1, n_sysname}, {"release", 1, n_release}, {"machine", 1, n_machine}};
static const LabelDim nd_os[] = {{"id", 1, n_osid}, {"version_id", 1, n_osver}};
static const LabelDim nd_build[] = {{"goversion", 1, n_goversion}, {"version", 1, n_version}};

/* node_cpu_seconds_total by mode: rate range (centiseconds per scrape), jitter, daily cycle. */
static const double cpu_mode_rates[8][4] = {
	{1440, 1495, 0.01, 0.01},	/* idle: about 14.9 s per 15 s */
	{5, 60, 0.5, 0.3}, {3, 30, 0.5, 0.3}, {0, 5, 0.9, 0.09},	/* user, system, iowait */
	{0, 1, 0.9, 0.09}, {1, 5, 0.9, 0.09}, {0, 2, 0.9, 0.09}, {0, 0.5, 0.9, 0.09}	/* irq, softirq, steal, nice */
};

#define KI		1024.0
#define GI		1073741824.0
#define NR(n, k, lo, hi, var, fine, q, div) {n, k, NULL, 0, false, lo, hi, var, fine, q, div, 0}
#define ND(n, k, d, lo, hi, var, fine, q, div) {n, k, d, (int) lengthof(d), false, lo, hi, var, fine, q, div, 0}
#define NZ(n, k, d, lo, hi, var, fine, q, div) {n, k, d, (int) lengthof(d), true, lo, hi, var, fine, q, div, 0}
#define NH(n, k, d, lo, hi, var, mean, h) {n, k, d, (int) lengthof(d), false, lo, hi, var, mean, 1, 1, h}
#define NH0(n, k, lo, hi, var, mean, h) {n, k, NULL, 0, false, lo, hi, var, mean, 1, 1, h}
#define MEMG(n, lo, hi, var) NR("node_memory_" n "_bytes", NK_GAUGE, lo, hi, var, 0.002, KI, 1)
#define MEMC(n, lo, hi) NR("node_memory_" n "_bytes", NK_CONST, lo, hi, 0, 0, KI, 1)
#define NSTAT(n, lo, hi) NR("node_netstat_" n, NK_COUNTER, lo, hi, 0.6, 0, 1, 1)
#define SOCK(n, lo, hi) NR("node_sockstat_" n, NK_GAUGE, lo, hi, 0.3, 0.02, 1, 1)
#define GOG(n, lo, hi) NR("go_memstats_" n, NK_GAUGE, lo, hi, 0.3, 0.05, 8, 1)

static const NodeRow node_rows[] = {
	ND("node_cpu_seconds_total", NK_CPU, nd_cpu_mode, 0, 0, 0, 0, 1, 100),
	ND("node_cpu_guest_seconds_total", NK_CONST, nd_cpu_guest, 0, 0, 0, 0, 1, 100),
	NR("node_load1", NK_GAUGE, 5, 300, 0.6, 0.1, 1, 100),
	NR("node_load5", NK_GAUGE, 5, 300, 0.5, 0.03, 1, 100),
	NR("node_load15", NK_GAUGE, 5, 300, 0.4, 0.01, 1, 100),
	MEMC("MemTotal", 8 * GI, 64 * GI), MEMG("MemFree", 0.5 * GI, 8 * GI, 0.2),
	MEMG("MemAvailable", 2 * GI, 32 * GI, 0.1), MEMG("Buffers", 0.1 * GI, 1 * GI, 0.05),
	MEMG("Cached", 1 * GI, 24 * GI, 0.1), MEMG("SwapCached", 0, 64 * 1024 * KI, 0.3),
	MEMG("Active", 1 * GI, 16 * GI, 0.1), MEMG("Inactive", 1 * GI, 16 * GI, 0.1),
	MEMG("Active_anon", 0.5 * GI, 8 * GI, 0.1), MEMG("Inactive_anon", 0.1 * GI, 2 * GI, 0.1),
	MEMG("Active_file", 0.5 * GI, 8 * GI, 0.1), MEMG("Inactive_file", 0.5 * GI, 8 * GI, 0.1),
	MEMC("Unevictable", 0, 64 * 1024 * KI), MEMC("Mlocked", 0, 32 * 1024 * KI),
	MEMC("SwapTotal", 0, 8 * GI), MEMG("SwapFree", 0, 8 * GI, 0.01),
	MEMG("Dirty", 0, 64 * 1024 * KI, 0.8), MEMG("Writeback", 0, 256 * KI, 0.9),
	MEMG("AnonPages", 0.5 * GI, 8 * GI, 0.1), MEMG("Mapped", 0.1 * GI, 2 * GI, 0.05),
	MEMG("Shmem", 0.01 * GI, 1 * GI, 0.05), MEMG("KReclaimable", 0.1 * GI, 2 * GI, 0.05),
	MEMG("Slab", 0.2 * GI, 3 * GI, 0.05), MEMG("SReclaimable", 0.1 * GI, 2 * GI, 0.05),
	MEMG("SUnreclaim", 0.1 * GI, 1 * GI, 0.02), MEMG("KernelStack", 8 * 1024 * KI, 64 * 1024 * KI, 0.05),
	MEMG("PageTables", 16 * 1024 * KI, 256 * 1024 * KI, 0.05), MEMC("NFS_Unstable", 0, 0),
	MEMC("Bounce", 0, 0), MEMC("WritebackTmp", 0, 0), MEMC("CommitLimit", 8 * GI, 40 * GI),
	MEMG("Committed_AS", 2 * GI, 40 * GI, 0.1), MEMC("VmallocTotal", 34359738367.0 * KI, 34359738367.0 * KI),
	MEMG("VmallocUsed", 32 * 1024 * KI, 128 * 1024 * KI, 0.02), MEMC("VmallocChunk", 0, 0),
	MEMC("Percpu", 4 * 1024 * KI, 32 * 1024 * KI), MEMC("HardwareCorrupted", 0, 0),
	MEMG("AnonHugePages", 0, 2 * GI, 0.1), MEMC("ShmemHugePages", 0, 0), MEMC("ShmemPmdMapped", 0, 0),
	MEMC("HugePages_Total", 0, 0), MEMC("HugePages_Free", 0, 0), MEMC("HugePages_Rsvd", 0, 0),
	MEMC("HugePages_Surp", 0, 0), MEMC("Hugepagesize", 2048 * KI, 2048 * KI),
	MEMC("DirectMap4k", 256 * 1024 * KI, 1 * GI), MEMC("DirectMap2M", 4 * GI, 32 * GI),
	MEMC("DirectMap1G", 0, 32 * GI),
	ND("node_network_receive_bytes_total", NK_COUNTER, nd_net, 1e3, 5e7, 0.6, 0, 1, 1),
	ND("node_network_transmit_bytes_total", NK_COUNTER, nd_net, 1e3, 5e7, 0.6, 0, 1, 1),
	ND("node_network_receive_packets_total", NK_COUNTER, nd_net, 10, 4e4, 0.6, 0, 1, 1),
	ND("node_network_transmit_packets_total", NK_COUNTER, nd_net, 10, 4e4, 0.6, 0, 1, 1),
	ND("node_network_receive_errs_total", NK_COUNTER, nd_net, 0, 0.01, 0.6, 0, 1, 1),
	ND("node_network_transmit_errs_total", NK_COUNTER, nd_net, 0, 0.01, 0.6, 0, 1, 1),
	ND("node_network_receive_drop_total", NK_COUNTER, nd_net, 0, 0.2, 0.6, 0, 1, 1),
	ND("node_network_transmit_drop_total", NK_COUNTER, nd_net, 0, 0.05, 0.6, 0, 1, 1),
	ND("node_network_receive_multicast_total", NK_COUNTER, nd_net, 0, 2, 0.6, 0, 1, 1),
	ND("node_network_up", NK_CONST, nd_net, 1, 1, 0, 0, 1, 1),
	ND("node_network_mtu_bytes", NK_CONST, nd_net, 1500, 1500, 0, 0, 1, 1),
	ND("node_network_speed_bytes", NK_CONST, nd_net, 125000000, 1250000000, 0, 0, 125000000, 1),
	ND("node_disk_reads_completed_total", NK_COUNTER, nd_disk, 0, 500, 0.6, 0, 1, 1),
	ND("node_disk_writes_completed_total", NK_COUNTER, nd_disk, 10, 2000, 0.6, 0, 1, 1),
	ND("node_disk_reads_merged_total", NK_COUNTER, nd_disk, 0, 50, 0.6, 0, 1, 1),
	ND("node_disk_writes_merged_total", NK_COUNTER, nd_disk, 0, 500, 0.6, 0, 1, 1),
	ND("node_disk_discards_completed_total", NK_COUNTER, nd_disk, 0, 0.1, 0.6, 0, 1, 1),
	ND("node_disk_read_bytes_total", NK_COUNTER, nd_disk, 0, 2e7, 0.6, 0, 512, 1),
	ND("node_disk_written_bytes_total", NK_COUNTER, nd_disk, 1e5, 5e7, 0.6, 0, 512, 1),
	ND("node_disk_io_time_seconds_total", NK_COUNTER, nd_disk, 10, 3000, 0.6, 0, 1, 1000),
	ND("node_disk_io_time_weighted_seconds_total", NK_COUNTER, nd_disk, 10, 9000, 0.6, 0, 1, 1000),
	ND("node_disk_read_time_seconds_total", NK_COUNTER, nd_disk, 0, 1000, 0.6, 0, 1, 1000),
	ND("node_disk_write_time_seconds_total", NK_COUNTER, nd_disk, 10, 5000, 0.6, 0, 1, 1000),
	ND("node_disk_io_now", NK_GAUGE, nd_disk, 0, 3, 0.9, 0.5, 1, 1),
	NZ("node_filesystem_avail_bytes", NK_GAUGE, nd_fs, 1 * GI, 400 * GI, 0.02, 0.0001, 4096, 1),
	NZ("node_filesystem_free_bytes", NK_GAUGE, nd_fs, 1 * GI, 420 * GI, 0.02, 0.0001, 4096, 1),
	NZ("node_filesystem_size_bytes", NK_CONST, nd_fs, 1 * GI, 500 * GI, 0, 0, 4096, 1),
	NZ("node_filesystem_files", NK_CONST, nd_fs, 65536, 33554432, 0, 0, 1, 1),
	NZ("node_filesystem_files_free", NK_GAUGE, nd_fs, 60000, 30000000, 0.01, 0.00001, 1, 1),
	NZ("node_filesystem_readonly", NK_CONST, nd_fs, 0, 0, 0, 0, 1, 1),
	NZ("node_filesystem_device_error", NK_CONST, nd_fs, 0, 0, 0, 0, 1, 1),
	NZ("node_hwmon_temp_celsius", NK_GAUGE, nd_hwmon, 350, 650, 0.08, 0.01, 1, 10),
	NZ("node_hwmon_temp_crit_celsius", NK_CONST, nd_hwmon, 100, 105, 0, 0, 1, 1),
	NZ("node_hwmon_temp_max_celsius", NK_CONST, nd_hwmon, 80, 85, 0, 0, 1, 1),
	NR("node_boot_time_seconds", NK_BOOT, 0, 0, 0, 0, 1, 1),
	NR("node_time_seconds", NK_TIME, 0, 0, 0, 0, 1, 1),
	NZ("node_uname_info", NK_CONST, nd_uname, 1, 1, 0, 0, 1, 1),
	NZ("node_os_info", NK_CONST, nd_os, 1, 1, 0, 0, 1, 1),
	NZ("node_exporter_build_info", NK_CONST, nd_build, 1, 1, 0, 0, 1, 1),
	NR("node_entropy_available_bits", NK_CONST, 256, 256, 0, 0, 1, 1),
	NR("node_procs_running", NK_GAUGE, 1, 6, 0.5, 0.5, 1, 1),
	NR("node_procs_blocked", NK_GAUGE, 0, 1, 0.9, 0.5, 1, 1),
	NR("node_context_switches_total", NK_COUNTER, 1e4, 2e6, 0.5, 0, 1, 1),
	NR("node_intr_total", NK_COUNTER, 1e4, 1e6, 0.5, 0, 1, 1),
	NR("node_forks_total", NK_COUNTER, 10, 800, 0.6, 0, 1, 1),
	NR("node_filefd_allocated", NK_GAUGE, 1000, 20000, 0.1, 0.01, 1, 1),
	NR("node_filefd_maximum", NK_CONST, 9223372036854775807.0, 9223372036854775807.0, 0, 0, 1, 1),
	NR("node_nf_conntrack_entries", NK_GAUGE, 100, 50000, 0.3, 0.02, 1, 1),
	NR("node_nf_conntrack_entries_limit", NK_CONST, 262144, 262144, 0, 0, 1, 1),
	NR("node_vmstat_pgpgin", NK_COUNTER, 0, 4e4, 0.6, 0, 1, 1),
	NR("node_vmstat_pgpgout", NK_COUNTER, 100, 1e5, 0.6, 0, 1, 1),
	NR("node_vmstat_pswpin", NK_COUNTER, 0, 0.5, 0.6, 0, 1, 1),
	NR("node_vmstat_pswpout", NK_COUNTER, 0, 0.5, 0.6, 0, 1, 1),
	NR("node_vmstat_pgfault", NK_COUNTER, 1e4, 5e6, 0.6, 0, 1, 1),
	NR("node_vmstat_pgmajfault", NK_COUNTER, 0, 20, 0.6, 0, 1, 1),
	NR("node_vmstat_oom_kill", NK_COUNTER, 0, 0.0005, 0.6, 0, 1, 1),
	NSTAT("Tcp_ActiveOpens", 1, 500), NSTAT("Tcp_PassiveOpens", 1, 500),
	NR("node_netstat_Tcp_CurrEstab", NK_GAUGE, 5, 2000, 0.3, 0.02, 1, 1),
	NSTAT("Tcp_InErrs", 0, 0.1), NSTAT("Tcp_InSegs", 100, 1e5), NSTAT("Tcp_OutSegs", 100, 1e5),
	NSTAT("Tcp_RetransSegs", 0, 50), NSTAT("Tcp_OutRsts", 0, 100), NSTAT("Udp_InDatagrams", 0, 2000),
	NSTAT("Udp_OutDatagrams", 0, 2000), NSTAT("Udp_InErrors", 0, 0.05), NSTAT("Udp_NoPorts", 0, 5),
	NSTAT("TcpExt_ListenDrops", 0, 0.01), NSTAT("TcpExt_ListenOverflows", 0, 0.01),
	NSTAT("TcpExt_SyncookiesSent", 0, 0.01), NSTAT("TcpExt_TCPTimeouts", 0, 20),
	NSTAT("Icmp_InMsgs", 0, 10), NSTAT("Icmp_OutMsgs", 0, 10),
	NR("node_netstat_Ip_Forwarding", NK_CONST, 1, 1, 0, 0, 1, 1),
	NSTAT("IpExt_InOctets", 1e4, 5e7), NSTAT("IpExt_OutOctets", 1e4, 5e7),
	SOCK("TCP_alloc", 10, 3000), SOCK("TCP_inuse", 5, 2500), SOCK("TCP_orphan", 0, 5),
	SOCK("TCP_tw", 0, 2000), SOCK("TCP_mem", 1, 500), SOCK("UDP_inuse", 1, 50), SOCK("UDP_mem", 0, 20),
	SOCK("sockets_used", 100, 5000), SOCK("FRAG_inuse", 0, 0),
	NR("node_sockstat_TCP_mem_bytes", NK_GAUGE, 4096, 2048000, 0.3, 0.02, 4096, 1),
	ND("node_schedstat_running_seconds_total", NK_COUNTER, nd_cpu, 1e8, 1.4e10, 0.5, 0, 1, 1e9),
	ND("node_schedstat_waiting_seconds_total", NK_COUNTER, nd_cpu, 1e6, 1e9, 0.5, 0, 1, 1e9),
	ND("node_schedstat_timeslices_total", NK_COUNTER, nd_cpu, 100, 50000, 0.5, 0, 1, 1),
	ND("node_softnet_processed_total", NK_COUNTER, nd_cpu, 10, 20000, 0.6, 0, 1, 1),
	ND("node_softnet_dropped_total", NK_CONST, nd_cpu, 0, 0, 0, 0, 1, 1),
	ND("node_softnet_times_squeezed_total", NK_COUNTER, nd_cpu, 0, 0.2, 0.6, 0, 1, 1),
	ND("node_scrape_collector_duration_seconds", NK_GAUGE, nd_collector, 2e4, 5e7, 0.5, 0.4, 1, 1e9),
	ND("node_scrape_collector_success", NK_CONST, nd_collector, 1, 1, 0, 0, 1, 1),
	NR("go_goroutines", NK_GAUGE, 6, 12, 0.3, 0.1, 1, 1),
	NR("go_threads", NK_GAUGE, 6, 14, 0.1, 0.02, 1, 1),
	ND("go_gc_duration_seconds", NK_GAUGE, nd_quantile, 2e4, 2e6, 0.4, 0.2, 1, 1e9),
	NH0("go_gc_duration_seconds_sum", NK_HSUM, 0.05, 2, 0.6, 0.0002, 1),
	NH0("go_gc_duration_seconds_count", NK_HCOUNT, 0.05, 2, 0.6, 0.0002, 1),
	NR("go_info", NK_CONST, 1, 1, 0, 0, 1, 1),
	GOG("alloc_bytes", 1e6, 1e7), NR("go_memstats_alloc_bytes_total", NK_COUNTER, 1e5, 3e7, 0.5, 0, 8, 1),
	GOG("sys_bytes", 1e7, 4e7), GOG("heap_alloc_bytes", 1e6, 1e7), GOG("heap_idle_bytes", 1e6, 2e7),
	GOG("heap_inuse_bytes", 1e6, 1e7), GOG("heap_objects", 5e3, 8e4), GOG("heap_released_bytes", 1e6, 1e7),
	GOG("heap_sys_bytes", 1e7, 3e7), NR("go_memstats_mallocs_total", NK_COUNTER, 1e3, 3e5, 0.5, 0, 1, 1),
	NR("go_memstats_frees_total", NK_COUNTER, 1e3, 3e5, 0.5, 0, 1, 1),
	NR("go_memstats_lookups_total", NK_CONST, 0, 0, 0, 0, 1, 1),
	GOG("next_gc_bytes", 4e6, 2e7), GOG("stack_inuse_bytes", 5e5, 2e6), GOG("stack_sys_bytes", 5e5, 2e6),
	GOG("mspan_inuse_bytes", 5e4, 3e5), GOG("mcache_inuse_bytes", 4800, 19200),
	GOG("buck_hash_sys_bytes", 1.4e6, 1.6e6), GOG("gc_sys_bytes", 3e6, 8e6), GOG("other_sys_bytes", 5e5, 2e6),
	NR("process_cpu_seconds_total", NK_COUNTER, 1, 30, 0.6, 0, 1, 100),
	NR("process_resident_memory_bytes", NK_GAUGE, 1e7, 6e7, 0.1, 0.02, 4096, 1),
	NR("process_virtual_memory_bytes", NK_GAUGE, 7e8, 2e9, 0.02, 0.001, 4096, 1),
	NR("process_virtual_memory_max_bytes", NK_CONST, 18446744073709551615.0, 18446744073709551615.0, 0, 0, 1, 1),
	NR("process_open_fds", NK_GAUGE, 8, 20, 0.2, 0.1, 1, 1),
	NR("process_max_fds", NK_CONST, 1048576, 1048576, 0, 0, 1, 1),
	NR("process_start_time_seconds", NK_BOOT, 500, 3000, 0, 0, 1, 100),
	ND("promhttp_metric_handler_requests_total", NK_COUNTER, nd_code200, 1, 1, 0, 0, 1, 1),
	ND("promhttp_metric_handler_requests_total", NK_CONST, nd_code5xx, 0, 0, 0, 0, 1, 1),
	NR("promhttp_metric_handler_requests_in_flight", NK_CONST, 1, 1, 0, 0, 1, 1),
	ND("promhttp_metric_handler_errors_total", NK_CONST, nd_cause, 0, 0, 0, 0, 1, 1),
	NH("http_request_duration_seconds_bucket", NK_BUCKET, nd_handler_le, 1, 60, 0.6, 0.02, 2),
	NH("http_request_duration_seconds_sum", NK_HSUM, nd_handler, 1, 60, 0.6, 0.02, 2),
	NH("http_request_duration_seconds_count", NK_HCOUNT, nd_handler, 1, 60, 0.6, 0.02, 2),
};

#define NODE_MAX_SERIES	1024
#define NODE_KEY_HIST	(UINT64_C(1) << 20)	/* keys of histograms, above any series index */
#define NODE_KEY_BOOT	(UINT64_C(1) << 21)	/* key of the instance's reboot schedule */

/* Salts that keep the random streams of one key apart. */
enum
{
	NS_PARAMS = 1, NS_NOISE, NS_WANDER, NS_SUM, NS_RANDOM, NS_JITTER
};

static NodeSeries node_series[NODE_MAX_SERIES];
static int	node_nseries;

/* Expand node_rows into node_series once; the order is fixed, so series j is the same everywhere. */
static void
node_setup(void)
{
	if (node_nseries > 0)
		return;
	for (size_t r = 0; r < lengthof(node_rows); r++)
	{
		const NodeRow *row = &node_rows[r];
		int			n1 = row->ndims > 0 ? row->dims[0].nvalues : 1;
		int			n2 = row->ndims > 1 && !row->zip ? row->dims[1].nvalues : 1;

		for (int i1 = 0; i1 < n1; i1++)
			for (int i2 = 0; i2 < n2; i2++)
			{
				NodeSeries *ns = &node_series[node_nseries++];

				ns->row = row;
				ns->i1 = i1;
				ns->i2 = row->zip ? i1 : i2;
			}
	}
}

/* a / b rounded towards minus infinity (b > 0), for steps before the counter epoch. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && a < 0);
}

/* A uniform double in [0, 1) from the stream (seed, key, salt, n). */
static double
node_unit(const Options *o, uint64_t key, int salt, int64_t n)
{
	Rng			r = rng_at(o->seed, key ^ ((uint64_t) salt << 56), (uint64_t) n);

	return (double) (rng_next(&r) >> 11) * 0x1p-53;
}

/* The next uniform double in [0, 1) of r. */
static double
rng_unit(Rng *r)
{
	return (double) (rng_next(r) >> 11) * 0x1p-53;
}

/* Smooth noise in [-1, 1]: random knots every period steps, smoothstep in between. */
static double
node_wander(const Options *o, uint64_t key, int64_t n, int64_t period)
{
	int64_t		k = floor_div(n, period);
	double		f = (double) (n - k * period) / (double) period;
	double		a = 2 * node_unit(o, key, NS_WANDER, k) - 1;
	double		b = 2 * node_unit(o, key, NS_WANDER, k + 1) - 1;

	return a + (b - a) * f * f * (3 - 2 * f);
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
		Rng			r = rng_at(o->seed ^ ((uint64_t) NS_JITTER << 56), key, (uint64_t) abs_step(o, k));

		ts += (int64_t) (rng_next(&r) % (uint64_t) (2 * o->jitter_ms + 1)) - o->jitter_ms;
	}
	return ts;
}

/*
 * Scrapes since the last reboot of instance inst at scrape n: every instance
 * reboots every 20-60 days, so counters reset now and then as real ones do.
 */
static int64_t
node_uptime(const Options *o, uint64_t inst, int64_t n, int64_t per_day)
{
	Rng			r = rng_at(o->seed, inst << 24 | NODE_KEY_BOOT, NS_PARAMS);
	int64_t		period = per_day * (20 + (int64_t) (rng_next(&r) % 41));
	int64_t		phase = (int64_t) (rng_next(&r) % (uint64_t) period);
	int64_t		m = (n + phase) % period;

	return m < 0 ? m + period : m;
}

/* Amplitude of the daily cycle of a counter whose increments jitter by var: var + day < 1. */
static double
node_day(double var)
{
	return var < 0.7 ? 0.3 : 0.95 * (1 - var);
}

/*
 * Counter in quanta at scrape n: rate per scrape times the scrapes since the
 * reboot, bent by a daily cycle of amplitude day and with per-scrape jitter
 * var; increments stay >= 0 because var + day <= 1.
 */
static double
node_counter(const Options *o, uint64_t key, uint64_t inst, int64_t n, double rate,
			 double var, double day, double phi, int64_t per_day)
{
	int64_t		up = node_uptime(o, inst, n, per_day);
	double		w = 2 * M_PI / (double) per_day;
	double		x = (double) up + day / w * (sin(w * (double) n + phi) - sin(w * (double) (n - up) + phi));

	return floor(rate * (x + var * node_unit(o, key, NS_NOISE, n)));
}

/* The value of series j of instance inst at scrape n (timestamp ts) in the node profile. */
static double
node_value(const Options *o, uint64_t inst, int j, int64_t n, int64_t ts)
{
	const NodeSeries *ns = &node_series[j];
	const NodeRow *row = ns->row;
	uint64_t	key = inst << 24 | (row->hist ? NODE_KEY_HIST | (uint64_t) row->hist << 8 | (uint64_t) ns->i1
									: (uint64_t) j);
	Rng			p = rng_at(o->seed, key, NS_PARAMS);
	double		level = row->lo + (row->hi - row->lo) * rng_unit(&p);
	double		phi = 2 * M_PI * rng_unit(&p);
	int64_t		per_day = INT64_C(86400000) / o->step_ms > 0 ? INT64_C(86400000) / o->step_ms : 1;
	double		day = node_day(row->var);
	double		c,
				mean;

	if (o->values == V_RANDOM)
		return node_unit(o, key, NS_RANDOM, n);
	switch (row->kind)
	{
		case NK_CONST:
			return floor(level / row->quantum + 0.5) * row->quantum / row->div;
		case NK_COUNTER:
			return node_counter(o, key, inst, n, level / row->quantum, row->var, day, phi, per_day)
				* row->quantum / row->div;
		case NK_CPU:
			{
				const double *m = cpu_mode_rates[ns->i2];

				level = m[0] + (m[1] - m[0]) * rng_unit(&p);
				return node_counter(o, key, inst, n, level, m[2], m[3], phi, per_day)
					/ row->div;
			}
		case NK_GAUGE:
			c = level * (1 + row->var * node_wander(o, key, n, 20 + (int64_t) (rng_next(&p) % 380))
						 + row->fine * (2 * node_unit(o, key, NS_NOISE, n) - 1));
			return floor((c > 0 ? c : 0) / row->quantum + 0.5) * row->quantum / row->div;
		case NK_BOOT:
			c = (double) floor_div((COUNTER_EPOCH_MS + (n - node_uptime(o, inst, n, per_day)) * o->step_ms)
								   * (int64_t) row->div, 1000);
			return (c + floor(level)) / row->div;
		case NK_TIME:
			return (double) (ts * 1000000 + (int64_t) (node_unit(o, key, NS_NOISE, n) * 1e6)) / 1e9;
		case NK_BUCKET:
		case NK_HSUM:
		case NK_HCOUNT:
		default:
			/* one count per histogram: _count, cumulative buckets and _sum derive from it */
			mean = row->fine * (0.5 + rng_unit(&p));
			c = node_counter(o, key, inst, n, level, row->var, day, phi, per_day);
			if (row->kind == NK_HCOUNT)
				return c;
			if (row->kind == NK_HSUM)
				return mean * (c + 0.5 * node_unit(o, key, NS_SUM, (int64_t) c));
			return floor(c * (1 - exp(-strtod(les[ns->i2], NULL) / mean)));
	}
}

/* Fill ts with the labels of series j of instance inst (instance text goes to text). */
static void
build_node_labels(const Options *o, Pool *pool, uint64_t inst, int j, Prometheus__TimeSeries *ts,
				  char *text)
{
	const NodeSeries *ns = &node_series[j];
	const NodeRow *row = ns->row;
	int			cap = row->ndims + 5 + o->nuser;
	Prometheus__Label *labels = pool_alloc(pool, (size_t) cap * sizeof(Prometheus__Label));
	int			n = 0;

	ts->labels = pool_alloc(pool, (size_t) cap * sizeof(Prometheus__Label *));
	set_label(&labels[n++], "__name__", row->name);
	for (int d = 0; d < row->ndims; d++)
		set_label(&labels[n++], row->dims[d].name,
				  row->dims[d].values[d == 0 ? ns->i1 : ns->i2]);
	snprintf(text, 32, "10.%" PRIu64 ".%" PRIu64 ".%" PRIu64 ":9100",
			 1 + inst / 65024, inst % 65024 / 254, inst % 254 + 1);
	set_label(&labels[n++], "instance", text);
	set_label(&labels[n++], "job", "node");
	n = add_flag_labels(o, labels, n);
	for (int i = 0; i < n; i++)
		ts->labels[i] = &labels[i];
	ts->n_labels = (size_t) n;
	qsort(ts->labels, ts->n_labels, sizeof(Prometheus__Label *), label_cmp);
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

/* Timestamp and value of sample k of the i-th series of this call, in any profile. */
static void
gen_sample(const Options *o, size_t i, int64_t k, int64_t *ts, double *v)
{
	uint64_t	inst = i / (size_t) (node_nseries > 0 ? node_nseries : 1);

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
		*v = node_value(o, inst, (int) (i % (size_t) node_nseries), abs_step(o, k), *ts);
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
		if (o->profile == P_NODE)
			build_node_labels(o, pool, i / (size_t) node_nseries, (int) (i % (size_t) node_nseries),
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
		   "                           (random), special (cycles NaN, +Inf, -Inf, stale\n"
		   "                           marker, -0.0, 1e308, 5e-324), or random (uniform\n"
		   "                           doubles in [0, 1) with 53 random bits: the worst\n"
		   "                           case for compression)\n"
		   "  --profile NAME           default (the series above) or node: --instances\n"
		   "                           node_exporter-like instances of %d series each\n"
		   "                           (CPU, memory, network, disk, filesystem, hwmon, Go\n"
		   "                           runtime, 3 histograms) with realistic values;\n"
		   "                           --series, --metrics and --series-offset are ignored,\n"
		   "                           --values may only be random or special\n"
		   "  --instances N            instances of --profile node (default 1)\n"
		   "  --interval-ms S          the scrape interval: same as --step-ms\n"
		   "  --jitter-ms J            move each timestamp by -J..J ms, drawn per scrape of\n"
		   "                           an instance (--profile node) or per sample; default\n"
		   "                           0, 5 with --profile node; 2J must be below the step\n"
		   "  --dump-samples FILE      write every sample to FILE as a 20-byte little-endian\n"
		   "                           record (uint32 series index, int64 time ms, uint64\n"
		   "                           value bits), scrape by scrape; no request is written\n"
		   "                           unless -o is given too\n"
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
		   MAX_USER_LABELS, node_nseries);
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

/* True if the generator itself emits a label called name (len bytes) in o's profile. */
static bool
is_generated(const Options *o, const char *name, size_t len)
{
	static const char *const fixed[] = {"__name__", "instance", "job"};

	for (size_t i = 0; i < lengthof(fixed); i++)
		if (strlen(fixed[i]) == len && memcmp(fixed[i], name, len) == 0)
			return true;
	for (size_t i = 0; i < lengthof(dims); i++)
		if (strlen(dims[i].name) == len && memcmp(dims[i].name, name, len) == 0)
			return true;
	for (size_t r = 0; o->profile == P_NODE && r < lengthof(node_rows); r++)
		for (int d = 0; d < node_rows[r].ndims; d++)
			if (strlen(node_rows[r].dims[d].name) == len && memcmp(node_rows[r].dims[d].name, name, len) == 0)
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
		if (is_generated(o, names[i], lens[i]))
			usage_error("label \"%.*s\" is generated by promscale-ha-gen and cannot be added",
						(int) lens[i], names[i]);
		for (int k = 0; k < i; k++)
			if (lens[k] == lens[i] && memcmp(names[k], names[i], lens[i]) == 0)
				usage_error("label \"%.*s\" is added twice", (int) lens[i], names[i]);
	}
}

/* Settle --profile, --jitter-ms and --dump-samples against the other options. */
static void
check_profile(Options *o)
{
	if (o->jitter_ms < 0)
		o->jitter_ms = o->profile == P_NODE ? 5 : 0;
	if ((o->jitter_ms > 0 || o->profile == P_NODE) && o->step_ms <= 0)
		usage_error("--step-ms must be positive with --profile node or --jitter-ms");
	if (o->jitter_ms > 0 && 2 * o->jitter_ms >= o->step_ms)
		usage_error("--jitter-ms %" PRId64 " is too large for a step of %" PRId64 " ms",
					o->jitter_ms, o->step_ms);
	if (o->profile == P_NODE)
	{
		if (o->values_set && o->values != V_RANDOM && o->values != V_SPECIAL)
			usage_error("--profile node takes --values random or special only");
		if (!o->values_set)
			o->values = V_NODE;
		if (o->metadata || o->exemplars || o->histograms || o->casedef)
			usage_error("--profile node does not combine with --metadata, --exemplars, --histograms or --case");
		o->series = o->instances * node_nseries;
		o->offset = 0;
	}
	if (o->dump && o->offset + o->series > (int64_t) UINT32_MAX + 1)
		usage_error("--dump-samples numbers series with 32 bits: --series-offset plus --series is too large");
}

/* Turn argv into Options, exiting with status 2 on any mistake. */
static void
parse_args(int argc, char **argv, Options *o)
{
	enum
	{
		O_SERIES = 256, O_SAMPLES, O_START, O_STEP, O_METRICS, O_OFFSET, O_SEED,
		O_CLUSTER, O_REPLICA, O_CLUSTER_LABEL, O_REPLICA_LABEL, O_LABEL, O_UNSORTED,
		O_VALUES, O_EXEMPLARS, O_HISTOGRAMS, O_METADATA, O_NO_COMPRESS, O_HEX, O_CASE,
		O_PROFILE, O_INSTANCES, O_JITTER, O_DUMP
	};
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
		{"series", required_argument, NULL, O_SERIES},
		{"samples", required_argument, NULL, O_SAMPLES},
		{"start-ms", required_argument, NULL, O_START},
		{"step-ms", required_argument, NULL, O_STEP},
		{"interval-ms", required_argument, NULL, O_STEP},
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
		{"profile", required_argument, NULL, O_PROFILE},
		{"instances", required_argument, NULL, O_INSTANCES},
		{"jitter-ms", required_argument, NULL, O_JITTER},
		{"dump-samples", required_argument, NULL, O_DUMP},
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
	o->instances = 1;
	o->jitter_ms = -1;

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
				else if (strcmp(optarg, "random") == 0)
					o->values = V_RANDOM;
				else
					usage_error("invalid --values \"%s\": counter, gauge, special or random expected", optarg);
				o->values_set = true;
				break;
			case O_PROFILE:
				if (strcmp(optarg, "default") == 0)
					o->profile = P_DEFAULT;
				else if (strcmp(optarg, "node") == 0)
					o->profile = P_NODE;
				else
					usage_error("invalid --profile \"%s\": default or node expected", optarg);
				break;
			case O_INSTANCES:
				o->instances = parse_int("instances", optarg, 1, 100000);
				break;
			case O_JITTER:
				o->jitter_ms = parse_int("jitter-ms", optarg, 0, 1000000);
				break;
			case O_DUMP:
				o->dump = optarg;
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
	check_profile(o);
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

	node_setup();
	parse_args(argc, argv, &o);
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
