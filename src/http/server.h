/*-------------------------------------------------------------------------
 *
 * server.h
 *	  The libmicrohttpd daemon of promscale-ha-http: routing, per-request
 *	  state, responses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_SERVER_H
#define PHA_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <microhttpd.h>

#include "config.h"
#include "metrics.h"

/* State of one HTTP request, from its headers to its completion. */
typedef struct PhaRequest
{
	PhaHandler	handler;
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

	/* the body of POST /write (write.c) */
	char	   *body;
	size_t		body_len;
	size_t		body_cap;
	size_t		reserved;		/* counted in the --max-inflight-bytes budget */
	size_t		discarded;		/* bytes dropped after a reject */
	int			reject_status;	/* decided while reading: answer at the end */
	const char *reject_outcome;
	char		reject_reason[200];
} PhaRequest;

extern const PhaConfig *pha_cfg;

/* Does the request announce a body over --max-body?  *cl, *len: the header. */
extern bool pha_content_length_over(struct MHD_Connection *conn, const char **cl,
									unsigned long long *len);

extern int	pha_server_start(const PhaConfig *cfg);
extern void pha_server_drain(void);
extern int	pha_server_inflight_requests(void);
extern void pha_server_stop(void);

extern enum MHD_Result pha_respond_headers(struct MHD_Connection *conn, PhaRequest *req,
										   int status, const char *outcome,
										   const char *content_type,
										   const char *body, size_t len,
										   const char *const *hdrs, int nhdrs);
extern enum MHD_Result pha_respond(struct MHD_Connection *conn, PhaRequest *req,
								   int status, const char *outcome,
								   const char *content_type,
								   const char *body, size_t len,
								   const char *hdr_name, const char *hdr_value);
extern enum MHD_Result pha_fail(struct MHD_Connection *conn, PhaRequest *req,
								int status, const char *outcome,
								const char *fmt,...)
			__attribute__((format(printf, 5, 6)));

#endif							/* PHA_HTTP_SERVER_H */
