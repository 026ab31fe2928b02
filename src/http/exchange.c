/*-------------------------------------------------------------------------
 *
 * exchange.c
 *	  One HTTP exchange of promscale-ha-http: its state, its response, the
 *	  config it runs under.
 *
 * An FeExchange lives from the first call of libmicrohttpd's access
 * handler for a request (server.c makes it with fe_exchange_new) to the
 * completion callback (fe_exchange_free).  The handlers fill it and answer
 * through the functions here, which queue the response and record its
 * status and outcome for the metrics and the log.  This file sits below
 * the server and the handlers and calls neither: the handlers reach what
 * they need of the server (the settings, the state of the request, the
 * responses, the in-flight counters) here, so that only main.c includes
 * server.h.
 *
 * Shared state, all set or counted from the libmicrohttpd threads:
 *
 *	 fe_cfg			the settings, set once before the daemon starts and
 *					only read afterwards
 *	 in flight		exchanges not yet freed, and the bytes of the
 *					--max-inflight-bytes budget they reserved (C11 atomics)
 *	 draining		set by shutdown: every later response closes its
 *					connection
 *
 * The body of a POST (/write, /read) is collected here too, the same way
 * for both: room for an announced Content-Length is reserved up front
 * (fe_exchange_body_expect), and fe_exchange_body appends each piece within
 * the handler's limit and the budget, or remembers why not (reject) and
 * discards the rest, so that the handler answers once the body is complete.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "log.h"

const FeConfig *fe_cfg;

static atomic_bool draining;
static atomic_int inflight_exchanges;
static atomic_size_t inflight_bytes;

/* Remember the settings every exchange runs under. */
void
fe_exchange_setup(const FeConfig *cfg)
{
	fe_cfg = cfg;
}

/* Client address as "ip:port" ("[ip6]:port"), or "?" when unknown. */
static void
peer_name(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char		ip[INET6_ADDRSTRLEN] = "?";

	snprintf(out, outlen, "?");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (ci->client_addr->sa_family == AF_INET)
	{
		const struct sockaddr_in *a = (const struct sockaddr_in *) ci->client_addr;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(a->sin_port));
	}
	else if (ci->client_addr->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) ci->client_addr;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(a->sin6_port));
	}
}

/* Copy at most outlen-1 bytes of a client string, printable ASCII only. */
static void
copy_printable(char *out, size_t outlen, const char *in)
{
	size_t		i = 0;

	if (in != NULL)
		for (; in[i] && i + 1 < outlen; i++)
			out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
}

/* A new exchange for a request's first call; NULL when out of memory. */
FeExchange *
fe_exchange_new(struct MHD_Connection *conn, FeHandler handler,
				const char *method, const char *url)
{
	FeExchange *ex = calloc(1, sizeof(FeExchange));

	if (ex == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &ex->started);
	ex->handler = handler;
	ex->outcome = "aborted";
	copy_printable(ex->method, sizeof(ex->method), method);
	copy_printable(ex->path, sizeof(ex->path), url);
	peer_name(conn, ex->peer, sizeof(ex->peer));
	atomic_fetch_add(&inflight_exchanges, 1);
	return ex;
}

/* Seconds since the exchange started (CLOCK_MONOTONIC). */
double
fe_exchange_seconds(const FeExchange *ex)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - ex->started.tv_sec) +
		(double) (now.tv_nsec - ex->started.tv_nsec) / 1e9;
}

/* Free an exchange and count it out of flight. */
void
fe_exchange_free(FeExchange *ex)
{
	free(ex);
	atomic_fetch_sub(&inflight_exchanges, 1);
}

/* Exchanges started and not yet freed. */
int
fe_exchange_inflight(void)
{
	return atomic_load(&inflight_exchanges);
}

/* Reserve n more bytes of the --max-inflight-bytes budget for ex. */
bool
fe_exchange_reserve(FeExchange *ex, size_t n)
{
	size_t		cur = atomic_load(&inflight_bytes);

	do
	{
		if (n > fe_cfg->max_inflight_bytes || cur > fe_cfg->max_inflight_bytes - n)
			return false;
	} while (!atomic_compare_exchange_weak(&inflight_bytes, &cur, cur + n));
	ex->reserved += n;
	return true;
}

/* Give back everything ex reserved. */
void
fe_exchange_release(FeExchange *ex)
{
	if (ex->reserved > 0)
	{
		atomic_fetch_sub(&inflight_bytes, ex->reserved);
		ex->reserved = 0;
	}
}

/* Bytes reserved by all exchanges now. */
size_t
fe_exchange_inflight_bytes(void)
{
	return atomic_load(&inflight_bytes);
}

/* From now on every response carries "Connection: close". */
void
fe_exchange_set_draining(void)
{
	atomic_store(&draining, true);
}

/* Does the request announce a body over --max-body (see exchange.h)? */
bool
fe_content_length_over(struct MHD_Connection *conn, const char **cl_out,
					   unsigned long long *len)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												 MHD_HTTP_HEADER_CONTENT_LENGTH);
	char	   *end;
	unsigned long long n;

	if (cl_out)
		*cl_out = cl;
	if (len)
		*len = 0;
	if (cl == NULL)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno != 0 || end == cl || n > fe_cfg->max_body)
		return true;
	if (len)
		*len = n;
	return false;
}

/*
 * libmicrohttpd cannot queue a response while a body is being read, so a
 * body over its limit is read and dropped up to this many bytes, then the
 * connection is closed without an answer.
 */
#define DISCARD_LIMIT(max) \
	((max) * 4 > (size_t) 64 * 1024 * 1024 ? (max) * 4 : (size_t) 64 * 1024 * 1024)

/* Reserve and allocate an announced body of n bytes (see exchange.h). */
enum MHD_Result
fe_exchange_body_expect(struct MHD_Connection *conn, FeExchange *ex,
						unsigned long long n)
{
	if (n == 0)
		return MHD_YES;
	if (!fe_exchange_reserve(ex, (size_t) n))
		return fe_fail(conn, ex, 503, "busy",
					   "%zu bytes of request bodies in flight, no room for %llu more "
					   "(--max-inflight-bytes %zu)",
					   fe_exchange_inflight_bytes(), n, fe_cfg->max_inflight_bytes);
	ex->body = malloc((size_t) n);
	if (ex->body == NULL)
		return fe_fail(conn, ex, 503, "busy", "out of memory for a body of %llu bytes", n);
	ex->body_cap = (size_t) n;
	return MHD_YES;
}

/* Free the body of ex and give its reservation back. */
void
fe_exchange_drop_body(FeExchange *ex)
{
	free(ex->body);
	ex->body = NULL;
	ex->body_len = 0;
	ex->body_cap = 0;
	fe_exchange_release(ex);
}

/*
 * Remember a failure found while reading the body: the handler answers with
 * it once the body is complete.  The body is dropped, the rest discarded.
 */
static void
reject(FeExchange *ex, int status, const char *outcome, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
static void
reject(FeExchange *ex, int status, const char *outcome, const char *fmt,...)
{
	va_list		ap;

	ex->reject_status = status;
	ex->reject_outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(ex->reject_reason, sizeof(ex->reject_reason), fmt, ap);
	va_end(ap);
	fe_exchange_drop_body(ex);
}

/* A piece of the body: append it, or discard it after a reject. */
enum MHD_Result
fe_exchange_body(FeExchange *ex, const char *data, size_t *size, size_t limit,
				 size_t initial, const char *limit_flag)
{
	size_t		n = *size;

	*size = 0;
	if (ex->reject_status != 0)
	{
		ex->discarded += n;
		/* a client that keeps sending after a reject is cut off */
		if (ex->discarded > DISCARD_LIMIT(limit))
		{
			fe_log(FE_LOG_ERROR, "%s %s from %s: closing the connection after discarding %zu bytes (%s)",
				   ex->method, ex->path, ex->peer, ex->discarded, ex->reject_reason);
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (n > limit - ex->body_len)
	{
		reject(ex, 413, "too_large",
			   "body of more than %zu bytes is over the limit of %zu bytes (%s)",
			   ex->body_len + n, limit, limit_flag);
		ex->discarded = n;
		return MHD_YES;
	}
	if (ex->body_len + n > ex->body_cap)
	{
		size_t		ncap = ex->body_cap ? ex->body_cap * 2 : initial;
		char	   *nbody;

		if (ncap < ex->body_len + n)
			ncap = ex->body_len + n;
		if (ncap > limit)
			ncap = limit;
		if (ncap > ex->reserved && !fe_exchange_reserve(ex, ncap - ex->reserved))
		{
			reject(ex, 503, "busy", "%zu bytes of request bodies in flight (--max-inflight-bytes %zu)",
				   fe_exchange_inflight_bytes(), fe_cfg->max_inflight_bytes);
			return MHD_YES;
		}
		nbody = realloc(ex->body, ncap);
		if (nbody == NULL)
		{
			reject(ex, 503, "busy", "out of memory for a body of %zu bytes", ncap);
			return MHD_YES;
		}
		ex->body = nbody;
		ex->body_cap = ncap;
	}
	memcpy(ex->body + ex->body_len, data, n);
	ex->body_len += n;
	return MHD_YES;
}

/* A body has a Content-Type: content_type, or plain text by default. */
static void
add_content_type(struct MHD_Response *resp, const char *content_type, size_t len)
{
	if (len > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
								content_type ? content_type : "text/plain; charset=utf-8");
}

/*
 * Add the headers every response may carry (Retry-After on a 503,
 * Connection: close while draining), queue resp and record the answer in
 * ex.  resp is released here.
 */
static enum MHD_Result
queue(struct MHD_Connection *conn, FeExchange *ex, struct MHD_Response *resp,
	  int status, const char *outcome)
{
	enum MHD_Result ret;

	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
	{
		char		ra[16];

		snprintf(ra, sizeof(ra), "%d", fe_cfg->retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (atomic_load(&draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
	{
		ex->responded = true;
		ex->status = status;
		ex->outcome = outcome;
	}
	return ret;
}

/* Content-Type and the nhdrs extra headers of hdrs (name, value pairs). */
static void
add_headers(struct MHD_Response *resp, const char *content_type, size_t len,
			const char *const *hdrs, int nhdrs)
{
	add_content_type(resp, content_type, len);
	for (int i = 0; i < nhdrs; i++)
		if (hdrs[2 * i] != NULL && hdrs[2 * i + 1] != NULL)
			MHD_add_response_header(resp, hdrs[2 * i], hdrs[2 * i + 1]);
}

/* Queue a response with a copied body and extra headers (see exchange.h). */
enum MHD_Result
fe_respond_headers(struct MHD_Connection *conn, FeExchange *ex, int status,
				   const char *outcome, const char *content_type, const char *body,
				   size_t len, const char *const *hdrs, int nhdrs)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *) (body ? body : ""),
										   MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	add_headers(resp, content_type, len, hdrs, nhdrs);
	return queue(conn, ex, resp, status, outcome);
}

/* Queue a response whose body is lent until release(cls) (see exchange.h). */
enum MHD_Result
fe_respond_lent(struct MHD_Connection *conn, FeExchange *ex, int status,
				const char *outcome, const char *content_type, const char *body,
				size_t len, const char *const *hdrs, int nhdrs,
				void (*release) (void *), void *cls)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *) body,
																  release, cls);
	if (resp == NULL)
	{
		release(cls);
		return MHD_NO;
	}
	add_headers(resp, content_type, len, hdrs, nhdrs);
	return queue(conn, ex, resp, status, outcome);
}

/* Queue a response with at most one extra header. */
enum MHD_Result
fe_respond(struct MHD_Connection *conn, FeExchange *ex, int status,
		   const char *outcome, const char *content_type, const char *body,
		   size_t len, const char *hdr_name, const char *hdr_value)
{
	const char *hdrs[2] = {hdr_name, hdr_value};

	return fe_respond_headers(conn, ex, status, outcome, content_type, body, len,
							  hdrs, hdr_name != NULL ? 1 : 0);
}

/* Queue a response whose malloc'd body it takes over. */
enum MHD_Result
fe_respond_owned(struct MHD_Connection *conn, FeExchange *ex, int status,
				 const char *outcome, const char *content_type, char *body,
				 size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
	{
		free(body);
		return MHD_NO;
	}
	add_content_type(resp, content_type, len);
	return queue(conn, ex, resp, status, outcome);
}

/* Queue a response the caller made (see exchange.h). */
enum MHD_Result
fe_respond_response(struct MHD_Connection *conn, FeExchange *ex,
					struct MHD_Response *resp, int status, const char *outcome)
{
	return queue(conn, ex, resp, status, outcome);
}

/* Answer with an error, logged, the reason as the body. */
enum MHD_Result
fe_fail(struct MHD_Connection *conn, FeExchange *ex, int status,
		const char *outcome, const char *fmt,...)
{
	char		reason[1024];
	va_list		ap;
	size_t		len;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason) - 1, fmt, ap);
	va_end(ap);
	fe_log((status == 404 || status == 405) ? FE_LOG_WARNING : FE_LOG_ERROR,
		   "%s %s from %s: %d %s: %s", ex->method, ex->path, ex->peer,
		   status, outcome, reason);
	len = strlen(reason);
	reason[len++] = '\n';
	reason[len] = '\0';
	return fe_respond(conn, ex, status, outcome, NULL, reason, len, NULL, NULL);
}
