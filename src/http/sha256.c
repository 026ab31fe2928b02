/*-------------------------------------------------------------------------
 *
 * sha256.c
 *	  SHA-256 and a constant-time comparison, for the credentials of
 *	  promscale-ha-http.
 *
 * The credentials of a request are never compared with the configured
 * ones byte by byte: both sides are hashed with SHA-256 (FIPS 180-4) and
 * the digests compared with fe_ct_equal(), which looks at every byte
 * whatever the first difference.  The time a check takes thus depends
 * neither on how long the secret is nor on how much of it a guess got
 * right.  The hash is also how basic-auth passwords may be stored
 * ("user:$sha256$HEX", see auth.c).
 *
 * A self-contained implementation: libmicrohttpd hashes internally but
 * exports no hash function, and linking GnuTLS or OpenSSL for 32 bytes of
 * digest is not worth a dependency.  Checked against sha256sum for
 * inputs of 0 to 100000 bytes (every padding case: 55, 56, 63, 64, 119,
 * 120 bytes ...) when written, and in test/system/http_auth_tls.sh by a
 * user whose 60-byte password (two blocks) is given as its sha256sum
 * digest.  No state: thread-safe.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "sha256.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* One 64-byte block into the state h. */
static void
compress(uint32_t h[8], const unsigned char *blk)
{
	uint32_t	w[64];
	uint32_t	a, b, c, d, e, f, g, hh;

	for (int i = 0; i < 16; i++)
		w[i] = ((uint32_t) blk[4 * i] << 24) | ((uint32_t) blk[4 * i + 1] << 16) |
			((uint32_t) blk[4 * i + 2] << 8) | (uint32_t) blk[4 * i + 3];
	for (int i = 16; i < 64; i++)
	{
		uint32_t	s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t	s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	f = h[5];
	g = h[6];
	hh = h[7];
	for (int i = 0; i < 64; i++)
	{
		uint32_t	S1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
		uint32_t	ch = (e & f) ^ (~e & g);
		uint32_t	t1 = hh + S1 + ch + K[i] + w[i];
		uint32_t	S0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
		uint32_t	maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t	t2 = S0 + maj;

		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
	fe_wipe(w, sizeof(w));
}

/* SHA-256 of len bytes at data into out. */
void
fe_sha256(const void *data, size_t len, unsigned char out[FE_SHA256_LEN])
{
	uint32_t	h[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};
	const unsigned char *p = data;
	unsigned char tail[128];
	size_t		rest = len;
	size_t		tlen;
	uint64_t	bits = (uint64_t) len * 8;

	while (rest >= 64)
	{
		compress(h, p);
		p += 64;
		rest -= 64;
	}
	/* the last partial block, 0x80, zeros, and the length in bits */
	memset(tail, 0, sizeof(tail));
	if (rest > 0)
		memcpy(tail, p, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (unsigned char) (bits >> (8 * i));
	compress(h, tail);
	if (tlen == 128)
		compress(h, tail + 64);
	for (int i = 0; i < 8; i++)
	{
		out[4 * i] = (unsigned char) (h[i] >> 24);
		out[4 * i + 1] = (unsigned char) (h[i] >> 16);
		out[4 * i + 2] = (unsigned char) (h[i] >> 8);
		out[4 * i + 3] = (unsigned char) h[i];
	}
	fe_wipe(tail, sizeof(tail));
	fe_wipe(h, sizeof(h));
}

/*
 * Whether two buffers of the same length are equal, in a time that depends
 * only on len: every byte is looked at, the differences are ORed together.
 */
bool
fe_ct_equal(const unsigned char *a, const unsigned char *b, size_t len)
{
	volatile unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* Overwrite a secret in memory (a store the compiler may not drop). */
void
fe_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}
