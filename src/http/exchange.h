/*-------------------------------------------------------------------------
 *
 * exchange.h
 *	  One HTTP exchange of promscale-ha-http: its state, its response, the
 *	  config it runs under.
 *
 * Everything a handler (write.c, read.c, health.c, metrics.c, auth.c)
 * needs from the server, so that no handler includes server.h.  See exchange.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_EXCHANGE_H
#define FE_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <microhttpd.h>

#include "config.h"

/* The endpoints, as the "handler" label of the request metrics. */
typedef enum FeHandler
{
	FE_H_WRITE = 0,
	FE_H_HEALTHZ,
	FE_H_METRICS,
	FE_H_READ,
	FE_H_STATUS,				/* GET /: the HA status page */
	FE_H_OTHER,
	FE_NUM_HANDLERS
} FeHandler;

struct FeReadStream;			/* read.c: a streamed remote-read response */

/* State of one HTTP exchange, from its headers to its completion. */
typedef struct FeExchange
{
	FeHandler	handler;
	struct timespec started;	/* CLOCK_MONOTONIC, first call */
	bool		responded;		/* a response was queued */
	int			status;			/* ... with this code */
	const char *outcome;		/* a static word for the metrics */
	char		method[16];
	char		path[96];
	char		peer[64];		/* client address:port */
	char		detail[160];	/* for --log-requests: what happened */

	/* a failed authentication (auth.c), answered 401 after the body */
	const char *auth_reject;	/* static reason; NULL = passed or not needed */
	int			auth_user;		/* a known user with a wrong password, or -1 */
	bool		auth_bad_token; /* a bearer token was sent and is wrong */

	/* the body of POST /write (write.c) or POST /read (read.c) */
	char	   *body;
	size_t		body_len;
	size_t		body_cap;
	size_t		reserved;		/* counted in the --max-inflight-bytes budget */
	size_t		discarded;		/* bytes dropped after a reject */
	int			reject_status;	/* decided while reading: answer at the end */
	const char *reject_outcome;
	char		reject_reason[200];

	/* the streamed response of POST /read while it is sent (read.c) */
	struct FeReadStream *read_stream;
} FeExchange;

/* The settings every exchange runs under (set by fe_exchange_setup). */
extern const FeConfig *fe_cfg;

/* Remember the settings; called once, before the first exchange. */
extern void fe_exchange_setup(const FeConfig *cfg);

/*
 * A new exchange for a request's first call: the clock started, outcome
 * "aborted" until answered, method, path and client address copied
 * (printable ASCII only), counted in flight.  NULL when out of memory.
 */
extern FeExchange *fe_exchange_new(struct MHD_Connection *conn, FeHandler handler,
								   const char *method, const char *url);

/* Seconds since the exchange started. */
extern double fe_exchange_seconds(const FeExchange *ex);

/* Free an exchange (its body and reservation already given back). */
extern void fe_exchange_free(FeExchange *ex);

/* Exchanges started and not yet freed. */
extern int	fe_exchange_inflight(void);

/*
 * Reserve n more bytes of the --max-inflight-bytes budget for ex
 * (ex->reserved grows); false, reserving nothing, when they do not fit.
 */
extern bool fe_exchange_reserve(FeExchange *ex, size_t n);

/* Give back everything ex reserved. */
extern void fe_exchange_release(FeExchange *ex);

/*
 * For an announced Content-Length of n bytes (already checked against the
 * handler's limit): reserve n bytes of the --max-inflight-bytes budget and
 * allocate ex->body of that size.  Answers 503 (busy) when the budget or
 * memory runs out; MHD_YES with nothing done when n is 0.
 */
extern enum MHD_Result fe_exchange_body_expect(struct MHD_Connection *conn, FeExchange *ex,
											   unsigned long long n);

/* Free the body of ex and give its reservation back; idempotent. */
extern void fe_exchange_drop_body(FeExchange *ex);

/*
 * A piece of the body of ex (*size bytes of data, all consumed: *size
 * becomes 0), for a handler's body callback.  Appended to ex->body, which
 * grows by doubling from initial bytes (or is the buffer of an announced
 * Content-Length) and never past limit, reserving what it grows by in the
 * --max-inflight-bytes budget.  Over limit it rejects with 413 (the reason
 * names limit_flag, e.g. "--max-body"); when the budget or memory runs out,
 * with 503.  A reject drops the body and sets ex->reject_status,
 * reject_outcome and reject_reason, for the handler to answer with once the
 * body is complete (libmicrohttpd cannot answer in the middle of one).
 * After a reject the rest is discarded; MHD_NO (close the connection
 * unanswered) once a client keeps sending past max(4 x limit, 64 MiB).
 */
extern enum MHD_Result fe_exchange_body(FeExchange *ex, const char *data, size_t *size,
										size_t limit, size_t initial,
										const char *limit_flag);

/* Bytes reserved by all exchanges now. */
extern size_t fe_exchange_inflight_bytes(void);

/* From now on every response carries "Connection: close". */
extern void fe_exchange_set_draining(void);

/*
 * Does the request announce a body over --max-body (or a Content-Length
 * that is no number)?  *cl gets the header's text (NULL when absent), *len
 * its value (0 when absent); either may be NULL.
 */
extern bool fe_content_length_over(struct MHD_Connection *conn, const char **cl,
								   unsigned long long *len);

/*
 * Queue the response of ex: status, an optional body (copied; text unless
 * content_type says otherwise) and nhdrs extra headers (hdrs holds name,
 * value pairs; a name may repeat).  A 503 carries Retry-After; while
 * draining every response carries "Connection: close".  On MHD_YES ex
 * records status and outcome (a static word) as answered.
 */
extern enum MHD_Result fe_respond_headers(struct MHD_Connection *conn, FeExchange *ex,
										  int status, const char *outcome,
										  const char *content_type,
										  const char *body, size_t len,
										  const char *const *hdrs, int nhdrs);

/*
 * fe_respond_headers for a body that is lent, not copied: libmicrohttpd
 * calls release(cls) once it is done with it (here on failure).
 */
extern enum MHD_Result fe_respond_lent(struct MHD_Connection *conn, FeExchange *ex,
									   int status, const char *outcome,
									   const char *content_type,
									   const char *body, size_t len,
									   const char *const *hdrs, int nhdrs,
									   void (*release) (void *), void *cls);

/* fe_respond_headers with at most one extra header (hdr_name NULL: none). */
extern enum MHD_Result fe_respond(struct MHD_Connection *conn, FeExchange *ex,
								  int status, const char *outcome,
								  const char *content_type,
								  const char *body, size_t len,
								  const char *hdr_name, const char *hdr_value);

/*
 * fe_respond_headers without extra headers for a malloc'd body, which it
 * takes over: freed by libmicrohttpd after sending, or here on failure.
 */
extern enum MHD_Result fe_respond_owned(struct MHD_Connection *conn, FeExchange *ex,
										int status, const char *outcome,
										const char *content_type,
										char *body, size_t len);

/*
 * Queue resp, a response the caller made (a streamed one, say), with the
 * headers every response may carry; resp is released here, also on
 * failure.  On MHD_YES ex records status and outcome as answered.
 */
extern enum MHD_Result fe_respond_response(struct MHD_Connection *conn, FeExchange *ex,
										   struct MHD_Response *resp, int status,
										   const char *outcome);

/*
 * Answer with an error: one log line with the request, the status and the
 * reason (warning for 404 and 405, error otherwise), and the reason as the
 * text body.
 */
extern enum MHD_Result fe_fail(struct MHD_Connection *conn, FeExchange *ex,
							   int status, const char *outcome,
							   const char *fmt,...)
			__attribute__((format(printf, 5, 6)));

#endif							/* FE_EXCHANGE_H */
