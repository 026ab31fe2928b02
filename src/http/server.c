/*-------------------------------------------------------------------------
 *
 * server.c
 *	  The libmicrohttpd daemon of promscale-ha-http: routing and the life
 *	  of a request.
 *
 * libmicrohttpd runs --threads internal threads, each polling (epoll where
 * available) its share of the connections and calling the access handler
 * below.  The handlers block while they talk to the database, so a thread
 * serves one request at a time; --threads bounds the requests in progress
 * and --pool-size the ones in the database.
 *
 * The access handler is called for each request first with its headers
 * (*con_cls still NULL: we make its FeExchange there), then once per
 * piece of the body, then once more with no data.  GET endpoints answer on
 * that last call.  POST /write and POST /read (write.c, read.c) check their
 * headers on the first call and may answer at once (415, 413 by
 * Content-Length, ...): libmicrohttpd then sends the response without
 * reading the body and closes the connection.  The completion callback
 * counts the request in the metrics, frees its state, and is the one place
 * that does so, also for requests whose client went away (a streamed /read
 * response may outlive it: read.c detaches it there).
 *
 * Layering: this file calls down into the handlers (write.c, read.c,
 * health.c, metrics.c, auth.c), and they answer through exchange.c (the
 * state of a request, its response, the settings, the in-flight counters),
 * which calls neither; no handler includes server.h.
 *
 * Credentials (auth.c) are checked on the first call, before the body of
 * a /write is read; a request that fails is answered 401 after its body
 * has been read and dropped (auth_failed_begin says why and when not).  With
 * --tls-cert/--tls-key the daemon speaks only HTTPS (tls.c supplies the
 * options); nothing else here depends on it.
 *
 * Shutdown (fe_server_drain, fe_server_stop): the listening socket is
 * closed (MHD_quiesce_daemon), responses from then on carry
 * "Connection: close", the caller waits for requests in flight to finish,
 * and MHD_stop_daemon closes the idle connections and joins the threads.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "exchange.h"
#include "ha_metrics.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "read.h"
#include "server.h"
#include "status_page.h"
#include "tls.h"
#include "write.h"

static struct MHD_Daemon *daemon_handle;

/* Which endpoint serves a path. */
static FeHandler
route(const char *url)
{
	if (strcmp(url, "/write") == 0 || strcmp(url, "/api/v1/write") == 0)
		return FE_H_WRITE;
	if (strcmp(url, "/read") == 0 || strcmp(url, "/api/v1/read") == 0)
		return FE_H_READ;
	if (strcmp(url, "/healthz") == 0)
		return FE_H_HEALTHZ;
	if (strcmp(url, "/metrics") == 0)
		return FE_H_METRICS;
	if (strcmp(url, "/") == 0)
		return FE_H_STATUS;
	return FE_H_OTHER;
}

/*
 * Last call of a request other than /write (the request is complete):
 * answer it.  Answering on the first call would work too, but libmicrohttpd
 * then closes the connection, as it cannot know the request has no body.
 */
static enum MHD_Result
answer_request(struct MHD_Connection *conn, FeExchange *ex)
{
	bool		get = strcmp(ex->method, "GET") == 0 || strcmp(ex->method, "HEAD") == 0;

	if (!get && ex->handler != FE_H_OTHER)
		fe_log(FE_LOG_WARNING, "%s %s from %s: 405: use GET", ex->method, ex->path, ex->peer);
	switch (ex->handler)
	{
		case FE_H_HEALTHZ:
			if (!get)
				return fe_respond(conn, ex, 405, "method_not_allowed", NULL,
								  "use GET\n", 8, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
			return fe_healthz(conn, ex);
		case FE_H_METRICS:
			if (!get)
				return fe_respond(conn, ex, 405, "method_not_allowed", NULL,
								  "use GET\n", 8, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
			return fe_ha_metrics_serve(conn, ex);
		case FE_H_STATUS:
			if (!get)
				return fe_respond(conn, ex, 405, "method_not_allowed", NULL,
								  "use GET\n", 8, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
			return fe_status_page_serve(conn, ex);
		default:
			return fe_fail(conn, ex, 404, "not_found", "no such endpoint: %s", ex->path);
	}
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
auth_failed_begin(struct MHD_Connection *conn, FeExchange *ex)
{
	const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
													 MHD_HTTP_HEADER_EXPECT);

	if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
		return fe_auth_reject(conn, ex);
	if (fe_content_length_over(conn, NULL, NULL))
		return fe_auth_reject(conn, ex);
	return MHD_YES;
}

/*
 * A piece of the body of a request that failed authentication: dropped.
 * Past --max-body (a chunked body) the connection is closed unanswered.
 */
static enum MHD_Result
auth_failed_discard(FeExchange *ex, size_t *upload_data_size)
{
	ex->discarded += *upload_data_size;
	*upload_data_size = 0;
	if (ex->discarded > fe_cfg->max_body)
	{
		fe_log(FE_LOG_WARNING, "%s %s from %s: 401 unauthorized: %s; closing the connection "
			   "after dropping %zu bytes of its body (--max-body)",
			   ex->method, ex->path, ex->peer, ex->auth_reject, ex->discarded);
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
	FeExchange *ex = *con_cls;

	if (ex == NULL)
	{
		ex = fe_exchange_new(conn, route(url ? url : ""), method, url);
		if (ex == NULL)
		{
			fe_log(FE_LOG_ERROR, "out of memory for a request; closing the connection");
			return MHD_NO;
		}
		*con_cls = ex;
		if (fe_auth_required(ex->handler) && !fe_auth_check(conn, ex))
			return auth_failed_begin(conn, ex);
		if (ex->handler == FE_H_WRITE)
			return fe_write_begin(conn, ex);
		if (ex->handler == FE_H_READ)
			return fe_read_begin(conn, ex);
		return MHD_YES;
	}

	if (ex->responded)
	{
		/* answered early; libmicrohttpd should not pass more, but discard it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (ex->auth_reject != NULL)
	{
		if (*upload_data_size > 0)
			return auth_failed_discard(ex, upload_data_size);
		return fe_auth_reject(conn, ex);
	}
	if (ex->handler == FE_H_WRITE)
	{
		if (*upload_data_size > 0)
			return fe_write_body(conn, ex, upload_data, upload_data_size);
		return fe_write_finish(conn, ex);
	}
	if (ex->handler == FE_H_READ)
	{
		if (*upload_data_size > 0)
			return fe_read_body(conn, ex, upload_data, upload_data_size);
		return fe_read_finish(conn, ex);
	}
	if (*upload_data_size > 0)
	{
		/* a body sent to a GET endpoint is ignored */
		*upload_data_size = 0;
		return MHD_YES;
	}
	return answer_request(conn, ex);
}

/* libmicrohttpd's request-completed callback: count, log, free. */
static void
request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
				  enum MHD_RequestTerminationCode toe)
{
	FeExchange *ex = con_cls ? *con_cls : NULL;
	double		secs;

	if (ex == NULL)
		return;
	secs = fe_exchange_seconds(ex);
	if (!ex->responded)
	{
		ex->status = 0;
		ex->outcome = "aborted";
		fe_log(ex->handler == FE_H_WRITE ? FE_LOG_WARNING : FE_LOG_INFO,
			   "%s %s from %s: no response sent: %s after %.3f s",
			   ex->method, ex->path, ex->peer,
			   toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "client timed out" :
			   toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client closed the connection" :
			   toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutting down" :
			   "connection closed", secs);
	}
	else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK &&
			 (ex->handler == FE_H_WRITE || ex->handler == FE_H_READ))
		fe_log(FE_LOG_WARNING, "%s %s from %s: the %d response may not have reached the client (%s)",
			   ex->method, ex->path, ex->peer, ex->status,
			   toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client closed the connection" :
			   "connection closed");
	if (fe_cfg->log_requests)
		fe_log(FE_LOG_INFO, "%s %s from %s: %d %s in %.3f s%s%s",
			   ex->method, ex->path, ex->peer, ex->status, ex->outcome, secs,
			   ex->detail[0] ? ": " : "", ex->detail);
	fe_metrics_request(ex->handler, ex->status, ex->outcome, secs);
	fe_read_cleanup(ex);
	fe_write_cleanup(ex);
	fe_exchange_free(ex);
	*con_cls = NULL;
}

/* Route libmicrohttpd's own messages into our log. */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char		msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fe_log(FE_LOG_WARNING, "libmicrohttpd: %s", msg);
}

/* Start listening; -1 after logging why not. */
int
fe_server_start(const FeConfig *cfg)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
		MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls_opts[8];
	int			ntls;

	fe_exchange_setup(cfg);
	if (cfg->listen_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	ntls = fe_tls_options(tls_opts, 7);
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
			fe_log(FE_LOG_ERROR, "cannot listen on %s with TLS (address in use, not a local "
				   "address, or a certificate/key GnuTLS rejects: see the libmicrohttpd "
				   "message above)", cfg->listen);
		else
			fe_log(FE_LOG_ERROR, "cannot listen on %s (address in use, or not a local address?)",
				   cfg->listen);
		return -1;
	}
	return 0;
}

/* Stop accepting connections; later responses close their connection. */
void
fe_server_drain(void)
{
	MHD_socket fd;

	fe_exchange_set_draining();
	if (daemon_handle == NULL)
		return;
	fd = MHD_quiesce_daemon(daemon_handle);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

/* Close every connection and join the threads. */
void
fe_server_stop(void)
{
	if (daemon_handle != NULL)
		MHD_stop_daemon(daemon_handle);
	daemon_handle = NULL;
}
