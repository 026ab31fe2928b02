/*-------------------------------------------------------------------------
 *
 * tls.h
 *	  HTTPS of promscale-ha-http: the certificate and key for
 *	  libmicrohttpd (GnuTLS).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_TLS_H
#define FE_TLS_H

#include <stdbool.h>

#include <microhttpd.h>

#include "config.h"

/*
 * Read the certificate and the key named by the configuration (nothing
 * when TLS is off).  Returns 0, or -1 after printing the reason to stderr.
 */
extern int	fe_tls_load(const FeConfig *cfg);

/* Is HTTPS on? */
extern bool fe_tls_enabled(void);

/*
 * Fill items with the libmicrohttpd options of TLS (for MHD_OPTION_ARRAY,
 * not terminated) and return how many; 0 when TLS is off.
 */
extern int	fe_tls_options(struct MHD_OptionItem *items, int max_items);

/* Wipe the key and free both texts (after the daemon has stopped). */
extern void fe_tls_free(void);

#endif							/* FE_TLS_H */
