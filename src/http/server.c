/*-------------------------------------------------------------------------
 *
 * server.c
 *	  The libmicrohttpd daemon of promscale-ha-http: routing, per-request
 *	  state, responses.
 *
 * libmicrohttpd runs --threads internal threads, each polling (epoll where
 * available) its share of the connections and calling the access handler
 * below.  The handlers block while they talk to the database, so a thread
 * serves one request at a time; --threads bounds the requests in progress
 * and --pool-size the ones in the database.
 *
 * The access handler is called for each request first with its headers
 * (*con_cls still NULL: we allocate the PhaRequest there), then once per
 * piece of the body, then once more with no data.  GET endpoints answer on
 * that last call.  POST /write checks its headers on the first call and may
 * answer at once (415, 413 by Content-Length, ...): libmicrohttpd then sends
 * the response without reading the body and closes the connection.  The
 * completion callback counts the request in the metrics, frees its state,
 * and is the one place that does so, also for requests whose client went
 * away.
 *
 * Credentials (auth.c) are checked on the first call, before the body of
 * a /write is read; a request that fails is answered 401 after its body
 * has been read and dropped (auth_failed_begin says why and when not).  With
 * --tls-cert/--tls-key the daemon speaks only HTTPS (tls.c supplies the
 * options); nothing else here depends on it.
 *
 * Shutdown (pha_server_drain, pha_server_stop): the listening socket is
 * closed (MHD_quiesce_daemon), responses from then on carry
 * "Connection: close", the caller waits for requests in flight to finish,
 * and MHD_stop_daemon closes the idle connections and joins the threads.
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
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "health.h"
#include "log.h"
#include "server.h"
#include "tls.h"
#include "write.h"

const PhaConfig *pha_cfg;

static struct MHD_Daemon *daemon_handle;
static atomic_bool draining;
static atomic_int inflight_requests;

/* Seconds between two CLOCK_MONOTONIC readings. */
static double
elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - since->tv_sec) +
		(double) (now.tv_nsec - since->tv_nsec) / 1e9;
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

/*
 * Queue a response: status, an optional body (text unless content_type
 * says otherwise) and nhdrs extra headers (hdrs holds name, value pairs;
 * a name may repeat, e.g. two WWW-Authenticate challenges).  A 503
 * carries Retry-After; while draining every response carries
 * Connection: close.
 */
enum MHD_Result
pha_respond_headers(struct MHD_Connection *conn, PhaRequest *req, int status,
					const char *outcome, const char *content_type, const char *body,
					size_t len, const char *const *hdrs, int nhdrs)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *) (body ? body : ""),
										   MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (len > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
								content_type ? content_type : "text/plain; charset=utf-8");
	for (int i = 0; i < nhdrs; i++)
		if (hdrs[2 * i] != NULL && hdrs[2 * i + 1] != NULL)
			MHD_add_response_header(resp, hdrs[2 * i], hdrs[2 * i + 1]);
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
	{
		char		ra[16];

		snprintf(ra, sizeof(ra), "%d", pha_cfg->retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (atomic_load(&draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
	{
		req->responded = true;
		req->status = status;
		req->outcome = outcome;
	}
	return ret;
}

/* Queue a response with at most one extra header (see above). */
enum MHD_Result
pha_respond(struct MHD_Connection *conn, PhaRequest *req, int status,
			const char *outcome, const char *content_type, const char *body,
			size_t len, const char *hdr_name, const char *hdr_value)
{
	const char *hdrs[2] = {hdr_name, hdr_value};

	return pha_respond_headers(conn, req, status, outcome, content_type, body, len,
							   hdrs, hdr_name != NULL ? 1 : 0);
}

/*
 * Answer with an error: one log line with the request, the status and the
 * reason, and the reason as the (text) body.  Client mistakes of no
 * consequence (404, 405) are warnings, the rest errors.
 */
enum MHD_Result
pha_fail(struct MHD_Connection *conn, PhaRequest *req, int status,
		 const char *outcome, const char *fmt,...)
{
	char		reason[1024];
	va_list		ap;
	size_t		len;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason) - 1, fmt, ap);
	va_end(ap);
	pha_log((status == 404 || status == 405) ? PHA_LOG_WARNING : PHA_LOG_ERROR,
			"%s %s from %s: %d %s: %s", req->method, req->path, req->peer,
			status, outcome, reason);
	len = strlen(reason);
	reason[len++] = '\n';
	reason[len] = '\0';
	return pha_respond(conn, req, status, outcome, NULL, reason, len, NULL, NULL);
}

/* GET /metrics: the text exposition. */
static enum MHD_Result
handle_metrics(struct MHD_Connection *conn, PhaRequest *req)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t		len = 0;
	char	   *text = pha_metrics_render(&len);

	if (text == NULL)
		return pha_fail(conn, req, 503, "out_of_memory", "cannot render the metrics: out of memory");
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
	{
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
							"text/plain; version=0.0.4; charset=utf-8");
	if (atomic_load(&draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
	{
		req->responded = true;
		req->status = 200;
		req->outcome = "ok";
	}
	return ret;
}

/* Which endpoint serves a path. */
static PhaHandler
route(const char *url)
{
	if (strcmp(url, "/write") == 0 || strcmp(url, "/api/v1/write") == 0)
		return PHA_H_WRITE;
	if (strcmp(url, "/healthz") == 0)
		return PHA_H_HEALTHZ;
	if (strcmp(url, "/metrics") == 0)
		return PHA_H_METRICS;
	return PHA_H_OTHER;
}

/*
 * Last call of a request other than /write (the request is complete):
 * answer it.  Answering on the first call would work too, but libmicrohttpd
 * then closes the connection, as it cannot know the request has no body.
 */
static enum MHD_Result
answer_request(struct MHD_Connection *conn, PhaRequest *req)
{
	bool		get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

	if (!get && req->handler != PHA_H_OTHER)
		pha_log(PHA_LOG_WARNING, "%s %s from %s: 405: use GET", req->method, req->path, req->peer);
	switch (req->handler)
	{
		case PHA_H_HEALTHZ:
			if (!get)
				return pha_respond(conn, req, 405, "method_not_allowed", NULL,
								   "use GET\n", 8, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
			return pha_healthz(conn, req);
		case PHA_H_METRICS:
			if (!get)
				return pha_respond(conn, req, 405, "method_not_allowed", NULL,
								   "use GET\n", 8, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
			return handle_metrics(conn, req);
		default:
			if (get && strcmp(req->path, "/") == 0)
			{
				static const char index_text[] =
					"promscale-ha-http " PHA_HTTP_VERSION "\n"
					"POST /write (or /api/v1/write): Prometheus remote write 1.0\n"
					"GET  /healthz: 200 when the database answers\n"
					"GET  /metrics: Prometheus metrics of this front end\n";

				return pha_respond(conn, req, 200, "ok", NULL, index_text,
								   sizeof(index_text) - 1, NULL, NULL);
			}
			return pha_fail(conn, req, 404, "not_found", "no such endpoint: %s", req->path);
	}
}

/*
 * Does the request announce a body over --max-body (or a Content-Length that
 * is no number)?  *cl_out gets the header's text (NULL when absent), *len its
 * value (0 when absent); either may be NULL.
 */
bool
pha_content_length_over(struct MHD_Connection *conn, const char **cl_out,
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
	if (errno != 0 || end == cl || n > pha_cfg->max_body)
		return true;
	if (len)
		*len = n;
	return false;
}

/*
 * First call of a request that failed authentication.  The 401 waits for
 * the end of the body (dropped unread, see auth_failed_discard): a server
 * that answers and closes while a body is still coming makes the kernel
 * reset the connection, and over TLS the client then often sees the reset
 * instead of the 401 (Prometheus would log a network error and retry).  It
 * is sent at once when the client waits for "100 Continue" before sending
 * its body, or announces one over --max-body.
 */
static enum MHD_Result
auth_failed_begin(struct MHD_Connection *conn, PhaRequest *req)
{
	const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
													 MHD_HTTP_HEADER_EXPECT);

	if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
		return pha_auth_reject(conn, req);
	if (pha_content_length_over(conn, NULL, NULL))
		return pha_auth_reject(conn, req);
	return MHD_YES;
}

/*
 * A piece of the body of a request that failed authentication: dropped.
 * Past --max-body (a chunked body) the connection is closed unanswered.
 */
static enum MHD_Result
auth_failed_discard(PhaRequest *req, size_t *upload_data_size)
{
	req->discarded += *upload_data_size;
	*upload_data_size = 0;
	if (req->discarded > pha_cfg->max_body)
	{
		pha_log(PHA_LOG_WARNING, "%s %s from %s: 401 unauthorized: %s; closing the connection "
				"after dropping %zu bytes of its body (--max-body)",
				req->method, req->path, req->peer, req->auth_reject, req->discarded);
		return MHD_NO;
	}
	return MHD_YES;
}

/* The access handler of libmicrohttpd (see the header comment). */
static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url,
			   const char *method, const char *version, const char *upload_data,
			   size_t *upload_data_size, void **con_cls)
{
	PhaRequest *req = *con_cls;

	if (req == NULL)
	{
		req = calloc(1, sizeof(PhaRequest));
		if (req == NULL)
		{
			pha_log(PHA_LOG_ERROR, "out of memory for a request; closing the connection");
			return MHD_NO;
		}
		clock_gettime(CLOCK_MONOTONIC, &req->started);
		req->handler = route(url ? url : "");
		req->outcome = "aborted";
		copy_printable(req->method, sizeof(req->method), method);
		copy_printable(req->path, sizeof(req->path), url);
		peer_name(conn, req->peer, sizeof(req->peer));
		*con_cls = req;
		atomic_fetch_add(&inflight_requests, 1);
		if (pha_auth_required(req->handler) && !pha_auth_check(conn, req))
			return auth_failed_begin(conn, req);
		if (req->handler == PHA_H_WRITE)
			return pha_write_begin(conn, req);
		return MHD_YES;
	}

	if (req->responded)
	{
		/* answered early; libmicrohttpd should not pass more, but discard it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->auth_reject != NULL)
	{
		if (*upload_data_size > 0)
			return auth_failed_discard(req, upload_data_size);
		return pha_auth_reject(conn, req);
	}
	if (req->handler == PHA_H_WRITE)
	{
		if (*upload_data_size > 0)
			return pha_write_body(conn, req, upload_data, upload_data_size);
		return pha_write_finish(conn, req);
	}
	if (*upload_data_size > 0)
	{
		/* a body sent to a GET endpoint is ignored */
		*upload_data_size = 0;
		return MHD_YES;
	}
	return answer_request(conn, req);
}

/* libmicrohttpd's request-completed callback: count, log, free. */
static void
request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
				  enum MHD_RequestTerminationCode toe)
{
	PhaRequest *req = con_cls ? *con_cls : NULL;
	double		secs;

	if (req == NULL)
		return;
	secs = elapsed(&req->started);
	if (!req->responded)
	{
		req->status = 0;
		req->outcome = "aborted";
		pha_log(req->handler == PHA_H_WRITE ? PHA_LOG_WARNING : PHA_LOG_INFO,
				"%s %s from %s: no response sent: %s after %.3f s",
				req->method, req->path, req->peer,
				toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "client timed out" :
				toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client closed the connection" :
				toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutting down" :
				"connection closed", secs);
	}
	else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && req->handler == PHA_H_WRITE)
		pha_log(PHA_LOG_WARNING, "%s %s from %s: the %d response may not have reached the client (%s)",
				req->method, req->path, req->peer, req->status,
				toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client closed the connection" :
				"connection closed");
	if (pha_cfg->log_requests)
		pha_log(PHA_LOG_INFO, "%s %s from %s: %d %s in %.3f s%s%s",
				req->method, req->path, req->peer, req->status, req->outcome, secs,
				req->detail[0] ? ": " : "", req->detail);
	pha_metrics_request(req->handler, req->status, req->outcome, secs);
	pha_write_cleanup(req);
	free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&inflight_requests, 1);
}

/* Route libmicrohttpd's own messages into our log. */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char		msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pha_log(PHA_LOG_WARNING, "libmicrohttpd: %s", msg);
}

/* Start listening; -1 after logging why not. */
int
pha_server_start(const PhaConfig *cfg)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
		MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls_opts[8];
	int			ntls;

	pha_cfg = cfg;
	if (cfg->listen_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	ntls = pha_tls_options(tls_opts, 7);
	if (ntls > 0)
		flags |= MHD_USE_TLS;
	tls_opts[ntls] = (struct MHD_OptionItem) {MHD_OPTION_END, 0, NULL};
	daemon_handle = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, NULL,
									 MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
									 MHD_OPTION_SOCK_ADDR, (const struct sockaddr *) &cfg->listen_addr,
									 MHD_OPTION_THREAD_POOL_SIZE,
									 (unsigned int) (cfg->threads > 1 ? cfg->threads : 0),
									 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) cfg->max_connections,
									 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) cfg->client_timeout_s,
									 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (128 * 1024),
									 MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
									 MHD_OPTION_ARRAY, tls_opts,
									 MHD_OPTION_END);
	if (daemon_handle == NULL)
	{
		if (ntls > 0)
			pha_log(PHA_LOG_ERROR, "cannot listen on %s with TLS (address in use, not a local "
					"address, or a certificate/key GnuTLS rejects: see the libmicrohttpd "
					"message above)", cfg->listen);
		else
			pha_log(PHA_LOG_ERROR, "cannot listen on %s (address in use, or not a local address?)",
					cfg->listen);
		return -1;
	}
	return 0;
}

/* Stop accepting connections; later responses close their connection. */
void
pha_server_drain(void)
{
	MHD_socket fd;

	atomic_store(&draining, true);
	if (daemon_handle == NULL)
		return;
	fd = MHD_quiesce_daemon(daemon_handle);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

/* Requests started and not yet completed. */
int
pha_server_inflight_requests(void)
{
	return atomic_load(&inflight_requests);
}

/* Close every connection and join the threads. */
void
pha_server_stop(void)
{
	if (daemon_handle != NULL)
		MHD_stop_daemon(daemon_handle);
	daemon_handle = NULL;
}
