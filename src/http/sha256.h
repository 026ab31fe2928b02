/*-------------------------------------------------------------------------
 *
 * sha256.h
 *	  SHA-256 and a constant-time comparison, for the credentials of
 *	  promscale-ha-http.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_SHA256_H
#define FE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE_SHA256_LEN 32

/* SHA-256 of len bytes at data into out. */
extern void fe_sha256(const void *data, size_t len, unsigned char out[FE_SHA256_LEN]);

/*
 * Whether two buffers of the same length are equal, in a time that depends
 * only on len: every byte is looked at, the differences are ORed together.
 */
extern bool fe_ct_equal(const unsigned char *a, const unsigned char *b, size_t len);

/* Overwrite a secret in memory (a store the compiler may not drop). */
extern void fe_wipe(void *p, size_t len);

#endif							/* FE_SHA256_H */
