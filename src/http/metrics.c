/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  Counters of promscale-ha-http and their Prometheus text exposition
 *	  (GET /metrics).
 *
 * What GET /metrics shows (text format 0.0.4), all prefixed
 * promscale_ha_http_:
 *
 *	 requests_total{handler,code,outcome}	every finished request
 *	 request_duration_seconds{handler}		histogram, first byte to response
 *	 request_body_bytes_total				bodies received by /write
 *	 samples_{received,written,deduplicated,already_stored,future_dropped}_total
 *											what promscale_ha.write() returned
 *	 db_errors_total{sqlstate}				errors of promscale_ha.write(), .read()
 *	 read_requests_total{code}				POST /read by status (summed from
 *											requests_total at render)
 *	 read_request_body_bytes_total, read_response_bytes_total,
 *	 read_responses_total{type}, read_frames_total, read_stream_errors_total
 *											what read.c received and sent; the
 *											duration of a read is
 *											request_duration_seconds{handler="read"}
 *	 pool_{size,in_use,connected,waiting}	gauges of the connection pool
 *	 pool_{waits,timeouts}_total, db_connections_{opened,closed}_total,
 *	 db_connect_failures_total				pool counters
 *	 requests_in_flight, inflight_body_bytes	gauges of exchange.c
 *	 build_info{version}, start_time_seconds
 *
 * Plain counters are C11 atomics (relaxed: each is independent).  The
 * labelled series (requests_total, db_errors_total) live in small tables
 * under one mutex; their label values come from fixed sets in the code
 * (handlers, status codes, outcome words) or are SQLSTATEs, so the tables
 * stay small; past their size further combinations are counted under an
 * "other" row rather than growing without bound.
 *
 * The other handlers (write.c, read.c) and server.c count here; this file reads
 * the gauges of exchange.c and pool.c and includes no handler, so the
 * arrows between the handlers go one way only.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "exchange.h"
#include "metrics.h"
#include "pool.h"

#define MAX_REQUEST_ROWS	128
#define MAX_ERROR_ROWS		64

static const char *const handler_names[FE_NUM_HANDLERS] = {
	[FE_H_WRITE] = "write", [FE_H_HEALTHZ] = "healthz", [FE_H_METRICS] = "metrics",
	[FE_H_READ] = "read", [FE_H_STATUS] = "status", [FE_H_OTHER] = "other"
};

/* Upper bounds of the latency histogram, seconds. */
static const double buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

typedef struct Histogram
{
	atomic_ullong bucket[NBUCKETS];	/* not cumulative; summed at render */
	atomic_ullong count;
	atomic_ullong sum_us;
} Histogram;

typedef struct RequestRow
{
	FeHandler	handler;
	int			status;
	char		outcome[32];
	unsigned long long count;
} RequestRow;

typedef struct ErrorRow
{
	char		sqlstate[8];
	unsigned long long count;
} ErrorRow;

static Histogram latency[FE_NUM_HANDLERS];
static atomic_ullong samples_received;
static atomic_ullong samples_written;
static atomic_ullong samples_deduplicated;
static atomic_ullong samples_already_stored;
static atomic_ullong samples_future_dropped;
static atomic_ullong body_bytes;
static atomic_ullong read_body_bytes;
static atomic_ullong read_sent_bytes;
static atomic_ullong read_frames;
static atomic_ullong read_samples_responses;
static atomic_ullong read_chunks_responses;
static atomic_ullong read_stream_errors;

static pthread_mutex_t rows_lock = PTHREAD_MUTEX_INITIALIZER;
static RequestRow request_rows[MAX_REQUEST_ROWS];
static int	n_request_rows;
static ErrorRow error_rows[MAX_ERROR_ROWS];
static int	n_error_rows;

static time_t start_time;

/* The "handler" label of an endpoint. */
const char *
fe_handler_name(FeHandler h)
{
	return (h >= 0 && h < FE_NUM_HANDLERS) ? handler_names[h] : "other";
}

/* Count one finished request: its status (0 = no response) and outcome. */
void
fe_metrics_request(FeHandler h, int status, const char *outcome, double seconds)
{
	Histogram  *hist;
	RequestRow *row = NULL;
	size_t		b;

	if (h < 0 || h >= FE_NUM_HANDLERS)
		h = FE_H_OTHER;
	if (outcome == NULL)
		outcome = "none";
	if (seconds < 0)
		seconds = 0;

	hist = &latency[h];
	for (b = 0; b < NBUCKETS && seconds > buckets[b]; b++)
		;
	if (b < NBUCKETS)
		atomic_fetch_add_explicit(&hist->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hist->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hist->sum_us, (unsigned long long) (seconds * 1e6),
							  memory_order_relaxed);

	pthread_mutex_lock(&rows_lock);
	for (int i = 0; i < n_request_rows; i++)
	{
		RequestRow *r = &request_rows[i];

		if (r->handler == h && r->status == status && strcmp(r->outcome, outcome) == 0)
		{
			row = r;
			break;
		}
	}
	if (row == NULL)
	{
		if (n_request_rows < MAX_REQUEST_ROWS - 1)
		{
			row = &request_rows[n_request_rows++];
			row->handler = h;
			row->status = status;
			snprintf(row->outcome, sizeof(row->outcome), "%s", outcome);
		}
		else
		{
			/* the last row collects what does not fit */
			row = &request_rows[MAX_REQUEST_ROWS - 1];
			if (n_request_rows < MAX_REQUEST_ROWS)
			{
				n_request_rows = MAX_REQUEST_ROWS;
				row->handler = FE_H_OTHER;
				row->status = 0;
				snprintf(row->outcome, sizeof(row->outcome), "other");
			}
		}
	}
	row->count++;
	pthread_mutex_unlock(&rows_lock);
}

/* Add what one promscale_ha.write() call reported. */
void
fe_metrics_samples(const FeWriteCounts *c)
{
	atomic_fetch_add_explicit(&samples_received, (unsigned long long) c->received, memory_order_relaxed);
	atomic_fetch_add_explicit(&samples_written, (unsigned long long) c->written, memory_order_relaxed);
	atomic_fetch_add_explicit(&samples_deduplicated, (unsigned long long) c->deduplicated, memory_order_relaxed);
	atomic_fetch_add_explicit(&samples_already_stored, (unsigned long long) c->already_stored, memory_order_relaxed);
	atomic_fetch_add_explicit(&samples_future_dropped, (unsigned long long) c->future_dropped, memory_order_relaxed);
}

/* Count the bytes of one received body. */
void
fe_metrics_body_bytes(size_t n)
{
	atomic_fetch_add_explicit(&body_bytes, n, memory_order_relaxed);
}

/* Count the bytes of one remote-read request body. */
void
fe_metrics_read_body_bytes(size_t n)
{
	atomic_fetch_add_explicit(&read_body_bytes, n, memory_order_relaxed);
}

/* Count one remote-read response begun: streamed (chunks) or not. */
void
fe_metrics_read_response(bool streamed)
{
	atomic_fetch_add_explicit(streamed ? &read_chunks_responses : &read_samples_responses,
							  1, memory_order_relaxed);
}

/* Count bytes and frames of a remote-read response handed to the client. */
void
fe_metrics_read_sent(size_t bytes, unsigned long frames)
{
	atomic_fetch_add_explicit(&read_sent_bytes, bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(&read_frames, frames, memory_order_relaxed);
}

/* Count a streamed remote-read response cut off by an error. */
void
fe_metrics_read_stream_error(void)
{
	atomic_fetch_add_explicit(&read_stream_errors, 1, memory_order_relaxed);
}

/* Count one error of the database by SQLSTATE ("" = no SQLSTATE: connection). */
void
fe_metrics_db_error(const char *sqlstate)
{
	ErrorRow   *row = NULL;
	char		st[8];

	snprintf(st, sizeof(st), "%s", (sqlstate && sqlstate[0]) ? sqlstate : "none");
	for (char *p = st; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			*p = '_';
	pthread_mutex_lock(&rows_lock);
	for (int i = 0; i < n_error_rows; i++)
		if (strcmp(error_rows[i].sqlstate, st) == 0)
		{
			row = &error_rows[i];
			break;
		}
	if (row == NULL)
	{
		if (n_error_rows < MAX_ERROR_ROWS - 1)
		{
			row = &error_rows[n_error_rows++];
			snprintf(row->sqlstate, sizeof(row->sqlstate), "%s", st);
		}
		else
		{
			/* the last row collects what does not fit */
			row = &error_rows[MAX_ERROR_ROWS - 1];
			if (n_error_rows < MAX_ERROR_ROWS)
			{
				n_error_rows = MAX_ERROR_ROWS;
				snprintf(row->sqlstate, sizeof(row->sqlstate), "other");
			}
		}
	}
	row->count++;
	pthread_mutex_unlock(&rows_lock);
}

/* A growing text buffer for the exposition. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} Buf;

/* Append printf-style to a Buf; remembers an allocation failure. */
static void
bprintf(Buf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static void
bprintf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (b->oom)
		return;
	for (;;)
	{
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
		{
			b->oom = true;
			return;
		}
		if ((size_t) n < b->cap - b->len)
		{
			b->len += (size_t) n;
			return;
		}
		{
			size_t		ncap = b->cap * 2 + (size_t) n;
			char	   *nd = realloc(b->data, ncap);

			if (nd == NULL)
			{
				b->oom = true;
				return;
			}
			b->data = nd;
			b->cap = ncap;
		}
	}
}

/* One unlabelled counter or gauge with its HELP and TYPE lines. */
static void
simple(Buf *b, const char *name, const char *type, const char *help,
	   unsigned long long v)
{
	bprintf(b, "# HELP promscale_ha_http_%s %s\n# TYPE promscale_ha_http_%s %s\n"
			"promscale_ha_http_%s %llu\n", name, help, name, type, name, v);
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* read_requests_total{code}: the read rows of requests_total summed by code. */
static void
read_codes(Buf *b, const RequestRow *rows, int nrows)
{
	int			codes[MAX_REQUEST_ROWS];
	unsigned long long counts[MAX_REQUEST_ROWS];
	int			n = 0;

	for (int i = 0; i < nrows; i++)
	{
		int			j;

		if (rows[i].handler != FE_H_READ)
			continue;
		for (j = 0; j < n && codes[j] != rows[i].status; j++)
			;
		if (j == n)
		{
			codes[n] = rows[i].status;
			counts[n++] = 0;
		}
		counts[j] += rows[i].count;
	}
	for (int j = 0; j < n; j++)
	{
		if (codes[j] > 0)
			bprintf(b, "promscale_ha_http_read_requests_total{code=\"%d\"} %llu\n",
					codes[j], counts[j]);
		else
			bprintf(b, "promscale_ha_http_read_requests_total{code=\"none\"} %llu\n",
					counts[j]);
	}
}

/*
 * Render every metric into a malloc'd buffer (*len bytes); NULL when out of
 * memory.  The caller frees it.
 */
char *
fe_metrics_render(size_t *len)
{
	Buf			b = {0};
	FePoolStats ps;
	RequestRow	rows[MAX_REQUEST_ROWS];
	ErrorRow	errs[MAX_ERROR_ROWS];
	int			nrows;
	int			nerrs;

	b.cap = 8192;
	b.data = malloc(b.cap);
	if (b.data == NULL)
		return NULL;
	b.data[0] = '\0';

	pthread_mutex_lock(&rows_lock);
	nrows = n_request_rows;
	memcpy(rows, request_rows, sizeof(RequestRow) * (size_t) nrows);
	nerrs = n_error_rows;
	memcpy(errs, error_rows, sizeof(ErrorRow) * (size_t) nerrs);
	pthread_mutex_unlock(&rows_lock);

	bprintf(&b, "# HELP promscale_ha_http_requests_total HTTP requests finished, by handler, status code and outcome.\n"
			"# TYPE promscale_ha_http_requests_total counter\n");
	for (int i = 0; i < nrows; i++)
	{
		char		code[16];

		if (rows[i].status > 0)
			snprintf(code, sizeof(code), "%d", rows[i].status);
		else
			snprintf(code, sizeof(code), "none");
		bprintf(&b, "promscale_ha_http_requests_total{handler=\"%s\",code=\"%s\",outcome=\"%s\"} %llu\n",
				fe_handler_name(rows[i].handler), code, rows[i].outcome, rows[i].count);
	}

	bprintf(&b, "# HELP promscale_ha_http_request_duration_seconds Time from a request's headers to its response.\n"
			"# TYPE promscale_ha_http_request_duration_seconds histogram\n");
	for (int h = 0; h < FE_NUM_HANDLERS; h++)
	{
		unsigned long long cum = 0;
		unsigned long long count = LOAD(latency[h].count);

		for (size_t i = 0; i < NBUCKETS; i++)
		{
			cum += LOAD(latency[h].bucket[i]);
			bprintf(&b, "promscale_ha_http_request_duration_seconds_bucket{handler=\"%s\",le=\"%g\"} %llu\n",
					handler_names[h], buckets[i], cum);
		}
		if (cum > count)
			count = cum;
		bprintf(&b, "promscale_ha_http_request_duration_seconds_bucket{handler=\"%s\",le=\"+Inf\"} %llu\n"
				"promscale_ha_http_request_duration_seconds_sum{handler=\"%s\"} %.6f\n"
				"promscale_ha_http_request_duration_seconds_count{handler=\"%s\"} %llu\n",
				handler_names[h], count, handler_names[h],
				(double) LOAD(latency[h].sum_us) / 1e6, handler_names[h], count);
	}

	simple(&b, "request_body_bytes_total", "counter",
		   "Bytes of remote-write bodies received (compressed).", LOAD(body_bytes));
	simple(&b, "samples_received_total", "counter",
		   "Float samples in the requests the database decoded.", LOAD(samples_received));
	simple(&b, "samples_written_total", "counter",
		   "Samples the database stored.", LOAD(samples_written));
	simple(&b, "samples_deduplicated_total", "counter",
		   "Samples dropped because their replica did not lead its cluster.",
		   LOAD(samples_deduplicated));
	simple(&b, "samples_already_stored_total", "counter",
		   "Samples whose (series, time) was stored before (a retry).",
		   LOAD(samples_already_stored));
	simple(&b, "samples_future_dropped_total", "counter",
		   "HA samples dropped for being too far in the future.",
		   LOAD(samples_future_dropped));

	bprintf(&b, "# HELP promscale_ha_http_read_requests_total Remote-read requests finished, by status code.\n"
			"# TYPE promscale_ha_http_read_requests_total counter\n");
	read_codes(&b, rows, nrows);
	simple(&b, "read_request_body_bytes_total", "counter",
		   "Bytes of remote-read request bodies received (compressed).", LOAD(read_body_bytes));
	simple(&b, "read_response_bytes_total", "counter",
		   "Bytes of remote-read response bodies handed to the clients.", LOAD(read_sent_bytes));
	bprintf(&b, "# HELP promscale_ha_http_read_responses_total Remote-read 200 responses begun, by response type.\n"
			"# TYPE promscale_ha_http_read_responses_total counter\n"
			"promscale_ha_http_read_responses_total{type=\"samples\"} %llu\n"
			"promscale_ha_http_read_responses_total{type=\"streamed_xor_chunks\"} %llu\n",
			LOAD(read_samples_responses), LOAD(read_chunks_responses));
	simple(&b, "read_frames_total", "counter",
		   "ChunkedReadResponse frames streamed (one series or part of one each).",
		   LOAD(read_frames));
	simple(&b, "read_stream_errors_total", "counter",
		   "Streamed remote-read responses cut off by a database error or a lost client.",
		   LOAD(read_stream_errors));

	bprintf(&b, "# HELP promscale_ha_http_db_errors_total Errors of promscale_ha.write() and .read() and of connecting, by SQLSTATE (none = connection lost or refused).\n"
			"# TYPE promscale_ha_http_db_errors_total counter\n");
	for (int i = 0; i < nerrs; i++)
		bprintf(&b, "promscale_ha_http_db_errors_total{sqlstate=\"%s\"} %llu\n",
				errs[i].sqlstate, errs[i].count);

	fe_pool_stats(&ps);
	simple(&b, "pool_size", "gauge", "Database connections the pool may hold (--pool-size).",
		   (unsigned long long) ps.size);
	simple(&b, "pool_in_use", "gauge", "Pool slots held by a request now.",
		   (unsigned long long) ps.in_use);
	simple(&b, "pool_connected", "gauge", "Pool slots with an open database connection.",
		   (unsigned long long) ps.connected);
	simple(&b, "pool_waiting", "gauge", "Requests waiting for a free pool slot now.",
		   (unsigned long long) ps.waiting);
	simple(&b, "pool_waits_total", "counter", "Requests that had to wait for a pool slot.",
		   ps.waits);
	simple(&b, "pool_timeouts_total", "counter", "Requests that found no free pool slot within --pool-wait.",
		   ps.timeouts);
	simple(&b, "db_connections_opened_total", "counter", "Database connections opened.",
		   ps.connects);
	simple(&b, "db_connections_closed_total", "counter", "Database connections closed (found broken, or at exit).",
		   ps.disconnects);
	simple(&b, "db_connect_failures_total", "counter", "Failed attempts to connect to the database.",
		   ps.connect_failures);

	simple(&b, "requests_in_flight", "gauge", "Requests started and not yet finished.",
		   (unsigned long long) fe_exchange_inflight());
	simple(&b, "inflight_body_bytes", "gauge", "Bytes reserved for bodies being received (--max-inflight-bytes).",
		   (unsigned long long) fe_exchange_inflight_bytes());

	bprintf(&b, "# HELP promscale_ha_http_build_info The version of promscale-ha-http.\n"
			"# TYPE promscale_ha_http_build_info gauge\n"
			"promscale_ha_http_build_info{version=\"%s\"} 1\n", FE_VERSION);
	simple(&b, "start_time_seconds", "gauge", "Start time of the process, seconds since the epoch.",
		   (unsigned long long) fe_metrics_start_time());

	if (b.oom)
	{
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

/* GET /metrics: the text exposition. */
enum MHD_Result
fe_metrics_serve(struct MHD_Connection *conn, FeExchange *ex)
{
	size_t		len = 0;
	char	   *text = fe_metrics_render(&len);

	if (text == NULL)
		return fe_fail(conn, ex, 503, "out_of_memory", "cannot render the metrics: out of memory");
	return fe_respond_owned(conn, ex, 200, "ok", "text/plain; version=0.0.4; charset=utf-8",
							text, len);
}

/* Remember when the process started (called once from main). */
void
fe_metrics_init(void)
{
	start_time = time(NULL);
}

/* When the process started. */
long
fe_metrics_start_time(void)
{
	return (long) start_time;
}
