/*-------------------------------------------------------------------------
 *
 * auth.h
 *	  Bearer-token and basic authentication of promscale-ha-http.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_AUTH_H
#define PHA_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "server.h"

extern int	pha_auth_load(const PhaConfig *cfg);
extern void pha_auth_free(void);
extern bool pha_auth_enabled(void);
extern void pha_auth_describe(char *out, size_t outlen);
extern bool pha_auth_required(PhaHandler handler);
extern bool pha_auth_check(struct MHD_Connection *conn, PhaRequest *req);
extern enum MHD_Result pha_auth_reject(struct MHD_Connection *conn, PhaRequest *req);

#endif							/* PHA_HTTP_AUTH_H */
