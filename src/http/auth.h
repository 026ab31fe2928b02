/*-------------------------------------------------------------------------
 *
 * auth.h
 *	  Bearer-token and basic authentication of promscale-ha-http.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_AUTH_H
#define FE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "exchange.h"

/*
 * Load the credential files named by cfg (none: authentication off).
 * 0, or -1 after printing why to stderr (unreadable, malformed or too
 * open file).  Called once, before the server starts.
 */
extern int	fe_auth_load(const FeConfig *cfg);

/* Forget (and wipe) every credential. */
extern void fe_auth_free(void);

/* Is any authentication configured? */
extern bool fe_auth_enabled(void);

/* What is configured, in words, for the start-up log line. */
extern void fe_auth_describe(char *out, size_t outlen);

/* Does this endpoint need credentials?  /healthz and / never do. */
extern bool fe_auth_required(FeHandler handler);

/*
 * Check the Authorization header of a request that needs it: true when it
 * may go on, else false with the reason in ex->auth_reject (static).
 */
extern bool fe_auth_check(struct MHD_Connection *conn, FeExchange *ex);

/* Answer 401 with the challenges of the configured schemes, and log it. */
extern enum MHD_Result fe_auth_reject(struct MHD_Connection *conn, FeExchange *ex);

#endif							/* FE_AUTH_H */
