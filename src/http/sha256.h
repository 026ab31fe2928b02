/*-------------------------------------------------------------------------
 *
 * sha256.h
 *	  SHA-256 and a constant-time comparison, for the credentials of
 *	  promscale-ha-http.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_SHA256_H
#define PHA_HTTP_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHA_SHA256_LEN 32

extern void pha_sha256(const void *data, size_t len, unsigned char out[PHA_SHA256_LEN]);
extern bool pha_ct_equal(const unsigned char *a, const unsigned char *b, size_t len);
extern void pha_wipe(void *p, size_t len);

#endif							/* PHA_HTTP_SHA256_H */
