/*-------------------------------------------------------------------------
 *
 * tls.h
 *	  HTTPS of promscale-ha-http: the certificate and key for
 *	  libmicrohttpd (GnuTLS).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_TLS_H
#define PHA_HTTP_TLS_H

#include <stdbool.h>

#include <microhttpd.h>

#include "config.h"

extern int	pha_tls_load(const PhaConfig *cfg);
extern bool pha_tls_enabled(void);
extern int	pha_tls_options(struct MHD_OptionItem *items, int max_items);
extern void pha_tls_free(void);

#endif							/* PHA_HTTP_TLS_H */
