/*-------------------------------------------------------------------------
 *
 * main.c
 *	  promscale-ha-http: start-up, signals and graceful shutdown.
 *
 * The Prometheus remote-write front end of the promscale_ha extension: it
 * receives remote-write requests over HTTP and stores each with one call of
 * promscale_ha.write() (write.c).  It keeps no state of its own beyond a
 * pool of database connections (pool.c), so any number of copies may run
 * behind a load balancer; the database elects the HA leaders.
 *
 * Signals: SIGTERM, SIGINT and SIGHUP are blocked in every thread before
 * libmicrohttpd starts its threads (which inherit the mask), and the main
 * thread takes them with sigwait(), so no handler runs asynchronously.
 * SIGPIPE is ignored (a client that closes its socket must not kill us).
 * On SIGTERM or SIGINT: stop accepting connections, let the requests in
 * flight finish for up to --shutdown-timeout (a second signal cuts the
 * wait short), cancel the database queries still running, close every
 * connection and exit 0.  SIGHUP is logged and ignored (no reloadable
 * settings).
 *
 * Credentials and the TLS key are read once, before the server starts
 * (auth.c, tls.c); a file that group or others can read is a usage error.
 *
 * Exit status: 0 after a signal, 1 when it cannot start (port in use, out
 * of memory, a certificate GnuTLS rejects), 2 for a usage error (also an
 * unreadable, malformed or too open credentials or key file).
 *
 * The files of src/http, their purposes and which may include which:
 * README.md in this directory.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "exchange.h"
#include "log.h"
#include "malloc_tune.h"
#include "metrics.h"
#include "pool.h"
#include "server.h"
#include "tls.h"

/* Log where the database is, or why it cannot be reached yet (not fatal). */
static void
probe_database(void)
{
	FeAcquireError why;
	char		err[512];
	FeConn     *c = fe_pool_acquire(0, &why, err, sizeof(err));

	if (c == NULL)
	{
		fe_log(FE_LOG_WARNING, "database not reachable yet (requests get 503 until it is): %s", err);
		return;
	}
	{
		PGconn	   *pg = fe_conn_pg(c);
		const char *host = PQhost(pg);

		fe_log(FE_LOG_INFO, "database: %s%s%s port %s, database %s, user %s, server %d",
			   host && host[0] == '/' ? "socket in " : "host ",
			   host ? host : "?", "", PQport(pg), PQdb(pg), PQuser(pg),
			   PQserverVersion(pg));
	}
	fe_pool_release(c, false);
}

/* Wait up to timeout_ms for requests in flight, or for another signal. */
static void
wait_for_inflight(const sigset_t *sigs, int timeout_ms)
{
	struct timespec step = {0, 50 * 1000000L};
	int			waited = 0;

	while (fe_exchange_inflight() > 0 && waited < timeout_ms)
	{
		int			sig = sigtimedwait(sigs, NULL, &step);

		if (sig == SIGTERM || sig == SIGINT)
		{
			fe_log(FE_LOG_WARNING, "second signal: not waiting for %d requests in flight",
				   fe_exchange_inflight());
			return;
		}
		waited += 50;
	}
	if (fe_exchange_inflight() > 0)
		fe_log(FE_LOG_WARNING, "%d requests still in flight after %d ms (--shutdown-timeout)",
			   fe_exchange_inflight(), timeout_ms);
}

/* Start, serve until SIGTERM or SIGINT, drain and stop (see above). */
int
main(int argc, char **argv)
{
	FeConfig	cfg;
	sigset_t	sigs;
	int			rc;
	int			sig = 0;

	rc = fe_config_load(argc, argv, &cfg);
	if (rc == 1)
		return 0;
	if (rc < 0)
		return 2;
	fe_log_set_level(cfg.log_level);
	fe_malloc_tune(cfg.malloc_mmap_threshold);
	if (fe_auth_load(&cfg) != 0 || fe_tls_load(&cfg) != 0)
	{
		fe_auth_free();
		fe_config_free(&cfg);
		return 2;
	}
	fe_metrics_init();

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (fe_pool_init(&cfg) != 0)
	{
		fe_log(FE_LOG_ERROR, "out of memory for a pool of %d connections", cfg.pool_size);
		return 1;
	}
	if (fe_server_start(&cfg) != 0)
	{
		fe_pool_close();
		fe_tls_free();
		fe_auth_free();
		fe_config_free(&cfg);
		return 1;
	}
	{
		char		auth[64];

		fe_auth_describe(auth, sizeof(auth));
		fe_log(FE_LOG_INFO, "promscale-ha-http %s listening on %s (%s, %d threads, pool of %d "
			   "connections, max body %zu bytes, authentication: %s)", FE_VERSION,
			   cfg.listen, fe_tls_enabled() ? "HTTPS" : "plain HTTP", cfg.threads,
			   cfg.pool_size, cfg.max_body, auth);
		if (fe_auth_enabled() && !fe_tls_enabled())
			fe_log(FE_LOG_WARNING, "credentials are checked but travel in clear text: "
				   "use --tls-cert/--tls-key or a TLS-terminating proxy unless on loopback");
	}
	probe_database();

	for (;;)
	{
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP)
		{
			fe_log(FE_LOG_INFO, "SIGHUP ignored: there is nothing to reload");
			continue;
		}
		break;
	}

	fe_log(FE_LOG_INFO, "%s: stopped accepting; waiting for %d requests in flight",
		   sig == SIGINT ? "SIGINT" : "SIGTERM", fe_exchange_inflight());
	fe_server_drain();
	wait_for_inflight(&sigs, cfg.shutdown_timeout_ms);
	if (fe_exchange_inflight() > 0)
		fe_pool_cancel_all();
	fe_server_stop();
	fe_pool_close();
	fe_tls_free();
	fe_auth_free();
	fe_log(FE_LOG_INFO, "stopped");
	fe_config_free(&cfg);
	return 0;
}
