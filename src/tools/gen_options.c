/*-------------------------------------------------------------------------
 *
 * gen_options.c
 *	  promscale-ha-gen: the command line, parsed and checked into Options.
 *
 * getopt_long over the options that --help lists, then the checks that
 * relate options to each other: --profile node against --values, --case
 * and the extras, --jitter-ms against the step, the size limits, and labels
 * added by --cluster, --replica and --label against the generated ones.  A
 * mistake is a usage error: one line on stderr and exit status 2.  Nothing
 * here allocates; Options points into argv and static tables.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gen_node.h"
#include "gen_options.h"

#define MAX_SERIES			INT64_C(50000000)
#define MAX_TOTAL_SAMPLES	INT64_C(200000000)

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
		   MAX_USER_LABELS, gen_node_nseries());
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
	return gen_default_emits_label(name, len) ||
		(o->profile == P_NODE && gen_node_emits_label(name, len));
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
		o->series = o->instances * gen_node_nseries();
		o->offset = 0;
	}
	if (o->dump && o->offset + o->series > (int64_t) UINT32_MAX + 1)
		usage_error("--dump-samples numbers series with 32 bits: --series-offset plus --series is too large");
}

/* Turn argv into Options, exiting with status 2 on any mistake. */
void
gen_parse_args(int argc, char **argv, Options *o)
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
				o->casedef = gen_case_find(optarg);
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
