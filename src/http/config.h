/*-------------------------------------------------------------------------
 *
 * config.h
 *	  Settings of promscale-ha-http: flags, environment variables, defaults.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_CONFIG_H
#define FE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "log.h"

#define FE_VERSION "0.1.0"

typedef struct FeConfig
{
	char	   *listen;			/* HOST:PORT as given */
	struct sockaddr_storage listen_addr;	/* ... resolved */
	socklen_t	listen_addrlen;
	char	   *db;				/* libpq conninfo or URL; "" = PG* variables */
	int			pool_size;		/* database connections */
	int			pool_wait_ms;	/* longest wait for a free connection */
	int			threads;		/* libmicrohttpd worker threads */
	size_t		max_body;		/* largest request body, bytes */
	size_t		max_inflight_bytes; /* all bodies being received, bytes */
	size_t		max_read_body;	/* largest remote-read request body, bytes */
	int			max_reads;		/* remote reads holding a connection at once */
	int			max_connections;	/* open HTTP connections */
	int			client_timeout_s;	/* idle client connection, seconds */
	int			shutdown_timeout_ms;	/* wait for in-flight requests */
	int			connect_timeout_s;	/* libpq connect_timeout */
	int			retry_after_s;	/* Retry-After of a 503 */
	bool		log_requests;	/* one line per request, not just errors */
	FeLogLevel	log_level;
	char	   *tls_cert;		/* PEM certificate file; NULL = plain HTTP */
	char	   *tls_key;		/* PEM key file; set exactly when tls_cert is */
	char	   *bearer_token_file;	/* NULL = no bearer token */
	char	   *basic_auth_file;	/* NULL = no basic auth */
	int			ha_metrics_ttl_ms;	/* cache of the HA state (ha_metrics.c) */
	size_t		malloc_mmap_threshold;	/* glibc thresholds (malloc_tune.c); 0 = its own */
} FeConfig;

/* fe_config_load: 0 = run, 1 = --help/--version printed (exit 0), -1 = bad */
extern int	fe_config_load(int argc, char **argv, FeConfig *cfg);

/* Free what fe_config_load allocated. */
extern void fe_config_free(FeConfig *cfg);

#endif							/* FE_CONFIG_H */
