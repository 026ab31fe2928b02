/*-------------------------------------------------------------------------
 *
 * config.c
 *	  Settings of promscale-ha-http: flags, environment variables, defaults.
 *
 * Every setting has a long flag and an environment variable (PHA_HTTP_...).
 * A flag wins over the variable, the variable over the built-in default.
 * All values are collected as strings first (default, then environment,
 * then command line) and parsed in one place, so an error names where the
 * bad value came from.  Sizes take the suffixes k, M, G (powers of 1024,
 * optionally followed by "i", "B" or "iB"); durations take ms, s or m
 * (seconds without a suffix).
 *
 * Paths of files with secrets (--bearer-token-file, --basic-auth-file,
 * --tls-key) are only stored here; auth.c and tls.c read the files, and
 * refuse ones that group or others can read.  A secret itself is never
 * taken from a flag or a variable (ps and /proc show both).  An empty
 * value means "not set".
 *
 * The database connection defaults to libpq's own defaults: PGHOST,
 * PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGPASSFILE, PGSERVICE, ... are
 * read by libpq itself when --db leaves them out.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

typedef enum OptId
{
	OPT_LISTEN,
	OPT_DB,
	OPT_POOL_SIZE,
	OPT_POOL_WAIT,
	OPT_THREADS,
	OPT_MAX_BODY,
	OPT_MAX_INFLIGHT,
	OPT_MAX_READ_BODY,
	OPT_MAX_READS,
	OPT_MAX_CONNECTIONS,
	OPT_CLIENT_TIMEOUT,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_RETRY_AFTER,
	OPT_LOG_REQUESTS,
	OPT_LOG_LEVEL,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_BEARER_TOKEN_FILE,
	OPT_BASIC_AUTH_FILE,
	OPT_HA_METRICS_TTL,
	OPT_MALLOC_MMAP_THRESHOLD,
	NUM_OPTS
} OptId;

/* One setting: its flag, its variable, its default and its line of --help. */
typedef struct OptDef
{
	const char *flag;
	const char *env;
	const char *metavar;		/* NULL: a switch without argument */
	const char *dflt;
	const char *help;
} OptDef;

static const OptDef opts[NUM_OPTS] = {
	[OPT_LISTEN] = {"listen", "PHA_HTTP_LISTEN", "HOST:PORT", "127.0.0.1:9201",
	"address to listen on ([::1]:PORT for IPv6)"},
	[OPT_DB] = {"db", "PHA_HTTP_DB", "CONNINFO", "",
	"libpq connection string or URL (default: PG* variables)"},
	[OPT_POOL_SIZE] = {"pool-size", "PHA_HTTP_POOL_SIZE", "N", "4",
	"database connections, opened on demand"},
	[OPT_POOL_WAIT] = {"pool-wait", "PHA_HTTP_POOL_WAIT", "DURATION", "10s",
	"longest wait for a free connection, then 503"},
	[OPT_THREADS] = {"threads", "PHA_HTTP_THREADS", "N", "8",
	"HTTP worker threads (each serves one request at a time)"},
	[OPT_MAX_BODY] = {"max-body", "PHA_HTTP_MAX_BODY", "BYTES", "64MiB",
	"largest request body (compressed), else 413"},
	[OPT_MAX_INFLIGHT] = {"max-inflight-bytes", "PHA_HTTP_MAX_INFLIGHT_BYTES", "BYTES", "256MiB",
	"all bodies held at once, else 503"},
	[OPT_MAX_READ_BODY] = {"max-read-body", "PHA_HTTP_MAX_READ_BODY", "BYTES", "16MiB",
	"largest remote-read request body, else 413"},
	[OPT_MAX_READS] = {"max-reads", "PHA_HTTP_MAX_READS", "N", "2",
	"remote reads using a pool connection at once"},
	[OPT_MAX_CONNECTIONS] = {"max-connections", "PHA_HTTP_MAX_CONNECTIONS", "N", "512",
	"open client connections"},
	[OPT_CLIENT_TIMEOUT] = {"client-timeout", "PHA_HTTP_CLIENT_TIMEOUT", "DURATION", "30s",
	"close a client connection idle this long"},
	[OPT_SHUTDOWN_TIMEOUT] = {"shutdown-timeout", "PHA_HTTP_SHUTDOWN_TIMEOUT", "DURATION", "30s",
	"on SIGTERM, wait this long for requests in flight"},
	[OPT_CONNECT_TIMEOUT] = {"connect-timeout", "PHA_HTTP_CONNECT_TIMEOUT", "DURATION", "5s",
	"database connect timeout (libpq connect_timeout)"},
	[OPT_RETRY_AFTER] = {"retry-after", "PHA_HTTP_RETRY_AFTER", "DURATION", "1s",
	"Retry-After header of a 503 (whole seconds)"},
	[OPT_LOG_REQUESTS] = {"log-requests", "PHA_HTTP_LOG_REQUESTS", NULL, "0",
	"log every request, not only failures (variable: 1/0)"},
	[OPT_LOG_LEVEL] = {"log-level", "PHA_HTTP_LOG_LEVEL", "LEVEL", "info",
	"debug, info, warning or error"},
	[OPT_TLS_CERT] = {"tls-cert", "PHA_HTTP_TLS_CERT", "FILE", "",
	"serve HTTPS with this PEM certificate (chain)"},
	[OPT_TLS_KEY] = {"tls-key", "PHA_HTTP_TLS_KEY", "FILE", "",
	"its unencrypted PEM private key (mode 600)"},
	[OPT_BEARER_TOKEN_FILE] = {"bearer-token-file", "PHA_HTTP_BEARER_TOKEN_FILE", "FILE", "",
	"require the bearer token in FILE (mode 600)"},
	[OPT_BASIC_AUTH_FILE] = {"basic-auth-file", "PHA_HTTP_BASIC_AUTH_FILE", "FILE", "",
	"require basic auth, users in FILE (mode 600)"},
	[OPT_HA_METRICS_TTL] = {"ha-metrics-ttl", "PHA_HTTP_HA_METRICS_TTL", "DURATION", "1s",
	"reuse the HA state read for /metrics this long (0: every scrape)"},
	[OPT_MALLOC_MMAP_THRESHOLD] = {"malloc-mmap-threshold", "PHA_HTTP_MALLOC_MMAP_THRESHOLD", "BYTES",
	"32MiB", "glibc: smaller blocks from the heap, up to 2x kept free (0: glibc's rule)"},
};

/* Print --help. */
static void
usage(FILE *out)
{
	fprintf(out,
			"promscale-ha-http %s: Prometheus remote-write front end of the promscale_ha\n"
			"PostgreSQL extension. It receives remote-write 1.0 requests and stores\n"
			"each with one call of promscale_ha.write() in the database, which\n"
			"de-duplicates Prometheus HA pairs. Stateless: run any number of copies\n"
			"behind a load balancer.\n\n"
			"Usage: promscale-ha-http [OPTION]...\n\n"
			"Options (each also read from the environment variable shown):\n",
			FE_VERSION);
	for (int i = 0; i < NUM_OPTS; i++)
	{
		char		left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opts[i].flag,
				 opts[i].metavar ? " " : "", opts[i].metavar ? opts[i].metavar : "");
		fprintf(out, "  %-30s %s\n", left, opts[i].help);
		fprintf(out, "  %-30s   $%s, default %s\n", "", opts[i].env,
				opts[i].dflt[0] ? opts[i].dflt : "\"\"");
	}
	fprintf(out,
			"  %-30s show this help and exit\n"
			"  %-30s show the version and exit\n\n"
			"Endpoints:\n"
			"  POST /write, /api/v1/write   remote write (Content-Encoding: snappy,\n"
			"                               Content-Type: application/x-protobuf)\n"
			"      204  stored (header X-Promscale-HA: stored, partial or empty)\n"
			"      202  de-duplicated: this replica does not lead its cluster\n"
			"           (X-Promscale-HA: deduplicated)\n"
			"      400  the payload can never be stored (SQLSTATE class 22)\n"
			"      401  credentials missing or wrong (WWW-Authenticate says\n"
			"           which scheme: Bearer, Basic)\n"
			"      413  over --max-body or a database limit (class 54)\n"
			"      415  wrong Content-Type or Content-Encoding\n"
			"      503  database unavailable, busy or a retryable error\n"
			"           (Retry-After); Prometheus retries\n"
			"  POST /read, /api/v1/read     remote read (snappy ReadRequest; SAMPLES and\n"
			"                               STREAMED_XOR_CHUNKS), answered by\n"
			"                               promscale_ha.read() in the database\n"
			"      200  application/x-protobuf + Content-Encoding: snappy (SAMPLES),\n"
			"           or application/x-streamed-protobuf (STREAMED_XOR_CHUNKS)\n"
			"           sent frame by frame in chunked transfer encoding\n"
			"      400  malformed request or matcher (SQLSTATE class 22)\n"
			"      413  over --max-read-body or a database limit (class 54)\n"
			"      500  the login role may not run promscale_ha.read() (42501):\n"
			"           GRANT promscale_ha_reader TO it\n"
			"      503  database unavailable, busy, statement timeout (Retry-After)\n"
			"  GET  /healthz                200 when the database answers SELECT 1\n"
			"                               (never needs credentials)\n"
			"  GET  /metrics                Prometheus text format (credentials as /write)\n\n"
			"Authentication (off by default): with --bearer-token-file, --basic-auth-file\n"
			"or both, /write, /read and /metrics need credentials (either kind is\n"
			"accepted); /healthz never does. The token file holds one line. The basic\n"
			"auth file has one user per line, user:password or user:$sha256$HEX with\n"
			"HEX the SHA-256 of the password (printf %%s PASSWORD | sha256sum); # comments.\n"
			"Files with secrets (also --tls-key) must not be accessible by group or\n"
			"others and must be owned by this user or root, else the program refuses\n"
			"to start (exit 2). Credentials are compared in constant time. Without\n"
			"--tls-cert they cross the network in clear text: use TLS, or a\n"
			"TLS-terminating proxy, unless on loopback.\n\n"
			"Database role: the --db login role needs promscale_ha_writer for /write\n"
			"and promscale_ha_reader for /read (GRANT both to one role, or run a\n"
			"separate copy with a reader-only role for reads).\n\n"
			"TLS (off by default): --tls-cert and --tls-key (PEM, both or neither)\n"
			"make --listen serve HTTPS only (TLS 1.2 and 1.3, GnuTLS).\n\n"
			"Sizes take k, M, G (powers of 1024); durations ms, s, m.\n"
			"Signals: SIGTERM/SIGINT stop accepting, finish requests in flight, exit.\n",
			"-h, --help", "--version");
}

/* Parse a non-negative size with an optional binary suffix; -1 when bad. */
static int
parse_size(const char *s, size_t *out)
{
	char	   *end;
	unsigned long long v;
	unsigned long long mult = 1;

	while (isspace((unsigned char) *s))
		s++;
	if (!isdigit((unsigned char) *s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end)
	{
		case 'k':
		case 'K':
			mult = 1024ULL;
			end++;
			break;
		case 'm':
		case 'M':
			mult = 1024ULL * 1024;
			end++;
			break;
		case 'g':
		case 'G':
			mult = 1024ULL * 1024 * 1024;
			end++;
			break;
		default:
			break;
	}
	if (mult > 1 && *end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > SIZE_MAX / mult)
		return -1;
	*out = (size_t) (v * mult);
	return 0;
}

/* Parse a duration (ms, s, m; seconds without suffix) into ms; -1 when bad. */
static int
parse_duration_ms(const char *s, long long *out)
{
	char	   *end;
	double		v;
	double		mult = 1000.0;

	while (isspace((unsigned char) *s))
		s++;
	if (!isdigit((unsigned char) *s) && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || v < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 1.0;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1000.0;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60000.0;
	else
		return -1;
	v *= mult;
	if (v > 86400000.0 * 365)
		return -1;
	*out = (long long) (v + 0.5);
	return 0;
}

/* Parse an integer in [min, max]; -1 when bad. */
static int
parse_int(const char *s, long min, long max, int *out)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int) v;
	return 0;
}

/* Parse 1/0, true/false, yes/no, on/off; -1 when bad. */
static int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off", ""};

	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, yes[i]) == 0)
		{
			*out = true;
			return 0;
		}
	for (int i = 0; i < 5; i++)
		if (strcasecmp(s, no[i]) == 0)
		{
			*out = false;
			return 0;
		}
	return -1;
}

/*
 * Resolve HOST:PORT (or [V6]:PORT) into a socket address.  An empty host
 * means every interface.  Returns -1 with a message in err when bad.
 */
static int
parse_listen(const char *s, FeConfig *cfg, char *err, size_t errlen)
{
	char		host[256];
	const char *port;
	const char *colon;
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	size_t		hlen;
	int			rc;
	int			portnum;

	if (s[0] == '[')
	{
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
		{
			snprintf(err, errlen, "expected [ADDRESS]:PORT");
			return -1;
		}
		hlen = (size_t) (close - s - 1);
		if (hlen >= sizeof(host))
			hlen = sizeof(host) - 1;
		memcpy(host, s + 1, hlen);
		port = close + 2;
	}
	else
	{
		colon = strrchr(s, ':');
		if (colon == NULL)
		{
			snprintf(err, errlen, "expected HOST:PORT");
			return -1;
		}
		hlen = (size_t) (colon - s);
		if (hlen >= sizeof(host))
		{
			snprintf(err, errlen, "host name too long");
			return -1;
		}
		memcpy(host, s, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	if (parse_int(port, 1, 65535, &portnum) != 0)
	{
		snprintf(err, errlen, "\"%s\" is not a port number (1-65535)", port);
		return -1;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(hlen > 0 ? host : NULL, port, &hints, &res);
	if (rc != 0 || res == NULL)
	{
		snprintf(err, errlen, "cannot resolve \"%.100s\": %s", host,
				 rc != 0 ? gai_strerror(rc) : "no address");
		return -1;
	}
	/* the first address; for a wildcard, prefer IPv4's 0.0.0.0 */
	{
		struct addrinfo *pick = res;

		if (hlen == 0)
			for (struct addrinfo *a = res; a; a = a->ai_next)
				if (a->ai_family == AF_INET)
				{
					pick = a;
					break;
				}
		memcpy(&cfg->listen_addr, pick->ai_addr, pick->ai_addrlen);
		cfg->listen_addrlen = pick->ai_addrlen;
	}
	freeaddrinfo(res);
	return 0;
}

/* Duration option in ms within [min_ms, max_ms]. */
static int
get_duration(const char *val, long long min_ms, long long max_ms, long long *out)
{
	if (parse_duration_ms(val, out) != 0 || *out < min_ms || *out > max_ms)
		return -1;
	return 0;
}

/* A file path option: "" leaves *out NULL (not set), else a copy. */
static int
opt_path(const char *val, char **out, char *err, size_t errlen)
{
	if (val[0] == '\0')
		return 0;
	*out = strdup(val);
	if (*out == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Fill cfg from defaults, environment and argv.  Returns 0 to run, 1 when
 * --help or --version was printed, -1 after printing an error to stderr.
 */
int
fe_config_load(int argc, char **argv, FeConfig *cfg)
{
	const char *val[NUM_OPTS];
	const char *src[NUM_OPTS];
	char		flagname[NUM_OPTS][48];
	struct option longopts[NUM_OPTS + 3];
	int			c;
	int			bad = -1;
	char		err[256] = "";
	long long	ms;

	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < NUM_OPTS; i++)
	{
		const char *e = getenv(opts[i].env);

		snprintf(flagname[i], sizeof(flagname[i]), "--%s", opts[i].flag);
		val[i] = opts[i].dflt;
		src[i] = "default";
		if (e != NULL)
		{
			val[i] = e;
			src[i] = opts[i].env;
		}
		longopts[i].name = opts[i].flag;
		longopts[i].has_arg = opts[i].metavar ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 1000 + i;
	}
	longopts[NUM_OPTS] = (struct option) {"help", no_argument, NULL, 'h'};
	longopts[NUM_OPTS + 1] = (struct option) {"version", no_argument, NULL, 'V'};
	longopts[NUM_OPTS + 2] = (struct option) {NULL, 0, NULL, 0};

	opterr = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
	{
		if (c == 'h')
		{
			usage(stdout);
			return 1;
		}
		if (c == 'V')
		{
			printf("promscale-ha-http %s\n", FE_VERSION);
			return 1;
		}
		if (c >= 1000 && c < 1000 + NUM_OPTS)
		{
			int			i = c - 1000;

			val[i] = opts[i].metavar ? optarg : "1";
			src[i] = flagname[i];
			continue;
		}
		fprintf(stderr, "Try \"promscale-ha-http --help\" for more information.\n");
		return -1;
	}
	if (optind < argc)
	{
		fprintf(stderr, "promscale-ha-http: unexpected argument \"%s\"\n"
				"Try \"promscale-ha-http --help\" for more information.\n", argv[optind]);
		return -1;
	}

	for (int i = 0; i < NUM_OPTS && bad < 0; i++)
	{
		int			ok = 0;

		err[0] = '\0';
		switch ((OptId) i)
		{
			case OPT_LISTEN:
				ok = parse_listen(val[i], cfg, err, sizeof(err));
				cfg->listen = strdup(val[i]);
				break;
			case OPT_DB:
				cfg->db = strdup(val[i]);
				break;
			case OPT_POOL_SIZE:
				ok = parse_int(val[i], 1, 1000, &cfg->pool_size);
				snprintf(err, sizeof(err), "expected 1 to 1000");
				break;
			case OPT_POOL_WAIT:
				ok = get_duration(val[i], 0, 3600000, &ms);
				cfg->pool_wait_ms = (int) ms;
				snprintf(err, sizeof(err), "expected a duration up to 1h");
				break;
			case OPT_THREADS:
				ok = parse_int(val[i], 1, 1024, &cfg->threads);
				snprintf(err, sizeof(err), "expected 1 to 1024");
				break;
			case OPT_MAX_BODY:
				ok = parse_size(val[i], &cfg->max_body);
				if (ok == 0 && (cfg->max_body < 1024 || cfg->max_body > (size_t) 1 << 30))
					ok = -1;
				snprintf(err, sizeof(err), "expected a size from 1KiB to 1GiB");
				break;
			case OPT_MALLOC_MMAP_THRESHOLD:
				ok = parse_size(val[i], &cfg->malloc_mmap_threshold);
				if (ok == 0 && cfg->malloc_mmap_threshold > (size_t) 32 << 20)
					ok = -1;
				snprintf(err, sizeof(err), "expected a size from 0 to 32MiB");
				break;
			case OPT_MAX_INFLIGHT:
				ok = parse_size(val[i], &cfg->max_inflight_bytes);
				if (ok == 0 && cfg->max_inflight_bytes < 1024)
					ok = -1;
				snprintf(err, sizeof(err), "expected a size of at least 1KiB");
				break;
			case OPT_MAX_READ_BODY:
				ok = parse_size(val[i], &cfg->max_read_body);
				if (ok == 0 && (cfg->max_read_body < 1024 || cfg->max_read_body > (size_t) 1 << 30))
					ok = -1;
				snprintf(err, sizeof(err), "expected a size from 1KiB to 1GiB");
				break;
			case OPT_MAX_READS:
				ok = parse_int(val[i], 1, 1000, &cfg->max_reads);
				snprintf(err, sizeof(err), "expected 1 to 1000");
				break;
			case OPT_MAX_CONNECTIONS:
				ok = parse_int(val[i], 1, 100000, &cfg->max_connections);
				snprintf(err, sizeof(err), "expected 1 to 100000");
				break;
			case OPT_CLIENT_TIMEOUT:
				ok = get_duration(val[i], 1000, 86400000, &ms);
				cfg->client_timeout_s = (int) (ms / 1000);
				snprintf(err, sizeof(err), "expected a duration from 1s to 24h");
				break;
			case OPT_SHUTDOWN_TIMEOUT:
				ok = get_duration(val[i], 0, 3600000, &ms);
				cfg->shutdown_timeout_ms = (int) ms;
				snprintf(err, sizeof(err), "expected a duration up to 1h");
				break;
			case OPT_CONNECT_TIMEOUT:
				ok = get_duration(val[i], 1000, 3600000, &ms);
				cfg->connect_timeout_s = (int) (ms / 1000);
				snprintf(err, sizeof(err), "expected a duration from 1s to 1h");
				break;
			case OPT_RETRY_AFTER:
				ok = get_duration(val[i], 0, 3600000, &ms);
				cfg->retry_after_s = (int) ((ms + 999) / 1000);
				snprintf(err, sizeof(err), "expected a duration up to 1h");
				break;
			case OPT_HA_METRICS_TTL:
				ok = get_duration(val[i], 0, 60000, &ms);
				cfg->ha_metrics_ttl_ms = (int) ms;
				snprintf(err, sizeof(err), "expected a duration up to 1m");
				break;
			case OPT_LOG_REQUESTS:
				ok = parse_bool(val[i], &cfg->log_requests);
				snprintf(err, sizeof(err), "expected 1 or 0");
				break;
			case OPT_LOG_LEVEL:
				ok = fe_log_parse_level(val[i], &cfg->log_level);
				snprintf(err, sizeof(err), "expected debug, info, warning or error");
				break;
			case OPT_TLS_CERT:
				ok = opt_path(val[i], &cfg->tls_cert, err, sizeof(err));
				break;
			case OPT_TLS_KEY:
				ok = opt_path(val[i], &cfg->tls_key, err, sizeof(err));
				break;
			case OPT_BEARER_TOKEN_FILE:
				ok = opt_path(val[i], &cfg->bearer_token_file, err, sizeof(err));
				break;
			case OPT_BASIC_AUTH_FILE:
				ok = opt_path(val[i], &cfg->basic_auth_file, err, sizeof(err));
				break;
			case NUM_OPTS:
				break;
		}
		if (ok != 0)
			bad = i;
	}
	if (bad >= 0)
	{
		fprintf(stderr, "promscale-ha-http: invalid value \"%s\" for %s (from %s): %s\n",
				val[bad], flagname[bad], src[bad], err);
		fe_config_free(cfg);
		return -1;
	}
	if (cfg->listen == NULL || cfg->db == NULL)
	{
		fprintf(stderr, "promscale-ha-http: out of memory\n");
		fe_config_free(cfg);
		return -1;
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
	{
		fprintf(stderr, "promscale-ha-http: --tls-cert and --tls-key go together: "
				"give both (HTTPS) or neither (plain HTTP)\n");
		fe_config_free(cfg);
		return -1;
	}
	if (cfg->max_inflight_bytes < cfg->max_body)
		cfg->max_inflight_bytes = cfg->max_body;
	if (cfg->max_inflight_bytes < cfg->max_read_body)
		cfg->max_inflight_bytes = cfg->max_read_body;
	return 0;
}

/* Free what fe_config_load allocated. */
void
fe_config_free(FeConfig *cfg)
{
	free(cfg->listen);
	free(cfg->db);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->bearer_token_file);
	free(cfg->basic_auth_file);
	cfg->listen = NULL;
	cfg->db = NULL;
	cfg->tls_cert = NULL;
	cfg->tls_key = NULL;
	cfg->bearer_token_file = NULL;
	cfg->basic_auth_file = NULL;
}
