/*-------------------------------------------------------------------------
 *
 * tls.c
 *	  HTTPS of promscale-ha-http: the certificate and key for
 *	  libmicrohttpd (GnuTLS).
 *
 * Plain HTTP is the default.  With --tls-cert and --tls-key (both or
 * neither, checked in config.c) the daemon is started with MHD_USE_TLS and
 * serves only HTTPS on --listen: a plain HTTP request to that port fails
 * its TLS handshake and is closed.  libmicrohttpd does the TLS with GnuTLS
 * (Debian builds libmicrohttpd12 with it), so nothing here links GnuTLS:
 * the PEM texts are handed over with MHD_OPTION_HTTPS_MEM_CERT and
 * MHD_OPTION_HTTPS_MEM_KEY.
 *
 *	 --tls-cert	PEM: the server certificate first, then any intermediate
 *				certificates.  Not a secret.
 *	 --tls-key	PEM: its private key, unencrypted (PKCS#1, PKCS#8 or SEC1).
 *				A secret: refused when group or others can access it
 *				(secretfile.c).
 *
 * Only TLS 1.2 and 1.3 are offered (GnuTLS priority string below; the
 * ciphers are GnuTLS's NORMAL set).  Whether the key matches the
 * certificate is found out by GnuTLS when the daemon starts: a mismatch
 * makes MHD_start_daemon fail with libmicrohttpd's message in the log.
 * The files are read once; a renewed certificate needs a restart (several
 * copies behind a load balancer can be restarted one by one).  The key
 * stays in memory until fe_tls_free, which wipes it.   No locks: set up
 * before the server starts.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secretfile.h"
#include "sha256.h"
#include "tls.h"

#define MAX_CERT_FILE	(1024 * 1024)
#define MAX_KEY_FILE	(64 * 1024)

/* GnuTLS priorities: its NORMAL ciphers, TLS 1.2 and 1.3 only */
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static char *cert_pem;
static char *key_pem;
static size_t cert_len;
static size_t key_len;

/*
 * Read the certificate and the key named by the configuration (nothing
 * when TLS is off).  Returns 0, or -1 after printing the reason to stderr.
 */
int
fe_tls_load(const FeConfig *cfg)
{
	char		err[256];

	if (cfg->tls_cert == NULL)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
	{
		fprintf(stderr, "promscale-ha-http: --tls-cert: this libmicrohttpd was built without "
				"TLS support (Debian's libmicrohttpd12 has it, through GnuTLS)\n");
		return -1;
	}
	if (fe_read_file(cfg->tls_cert, false, MAX_CERT_FILE, &cert_pem, &cert_len,
					 err, sizeof(err)) != 0)
	{
		fprintf(stderr, "promscale-ha-http: --tls-cert %s: %s\n", cfg->tls_cert, err);
		return -1;
	}
	if (strstr(cert_pem, "-----BEGIN CERTIFICATE-----") == NULL)
	{
		fprintf(stderr, "promscale-ha-http: --tls-cert %s: no PEM certificate "
				"(-----BEGIN CERTIFICATE-----) in the file\n", cfg->tls_cert);
		fe_tls_free();
		return -1;
	}
	if (fe_read_file(cfg->tls_key, true, MAX_KEY_FILE, &key_pem, &key_len,
					 err, sizeof(err)) != 0)
	{
		fprintf(stderr, "promscale-ha-http: --tls-key %s: %s\n", cfg->tls_key, err);
		fe_tls_free();
		return -1;
	}
	if (strstr(key_pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL ||
		strstr(key_pem, "Proc-Type: 4,ENCRYPTED") != NULL)
	{
		fprintf(stderr, "promscale-ha-http: --tls-key %s: the key is encrypted; give an "
				"unencrypted key (openssl pkey -in KEY -out KEY.plain) in a file of mode 600\n",
				cfg->tls_key);
		fe_tls_free();
		return -1;
	}
	if (strstr(key_pem, "-----BEGIN ") == NULL || strstr(key_pem, "PRIVATE KEY-----") == NULL)
	{
		fprintf(stderr, "promscale-ha-http: --tls-key %s: no PEM private key "
				"(-----BEGIN ... PRIVATE KEY-----) in the file\n", cfg->tls_key);
		fe_tls_free();
		return -1;
	}
	return 0;
}

/* Is HTTPS on? */
bool
fe_tls_enabled(void)
{
	return key_pem != NULL;
}

/*
 * Fill items with the libmicrohttpd options of TLS (for MHD_OPTION_ARRAY,
 * not terminated) and return how many; 0 when TLS is off.
 */
int
fe_tls_options(struct MHD_OptionItem *items, int max_items)
{
	int			n = 0;

	if (!fe_tls_enabled() || max_items < 3)
		return 0;
	items[n++] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_MEM_CERT, 0, cert_pem};
	items[n++] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_MEM_KEY, 0, key_pem};
	items[n++] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *) TLS_PRIORITIES};
	return n;
}

/* Wipe the key and free both texts (after the daemon has stopped). */
void
fe_tls_free(void)
{
	if (key_pem != NULL)
		fe_wipe(key_pem, key_len);
	free(key_pem);
	free(cert_pem);
	key_pem = NULL;
	cert_pem = NULL;
	key_len = 0;
	cert_len = 0;
}
