/*-------------------------------------------------------------------------
 *
 * pool.c
 *	  A fixed-size pool of libpq connections shared by the HTTP threads.
 *
 * --pool-size slots, each holding at most one PGconn.  Connections are
 * opened on demand, by the thread that acquired the slot, outside the lock:
 * the program starts, and keeps answering (503), while the database is
 * down, and a slot whose connection broke is simply reconnected by its next
 * user.  A request waits at most --pool-wait for a free slot (then 503).
 *
 * Before a pooled connection is handed out it is checked without a round
 * trip: poll(2) on its socket with timeout 0.  An idle connection has
 * nothing to read, so a readable socket means the server sent something on
 * its own, which is a FATAL "terminating connection" at a shutdown or
 * restart, or EOF; the input is consumed and a connection libpq then calls
 * bad is closed and reopened.  Whatever this check misses (a restart
 * between the check and the query) surfaces as a connection error of the
 * query: the caller asks fe_conn_is_broken() and releases the slot as
 * broken, and the request is answered 503 (Prometheus retries it).
 *
 * Connection parameters: our defaults (connect_timeout from
 * --connect-timeout, TCP keepalives of 30 s + 3 x 10 s, application_name)
 * come first, then --db, expanded by libpq, so anything in --db wins; a
 * statement_timeout, for instance, can be given there as
 * options='-c statement_timeout=30s'.
 *
 * Prepared statements are per connection: fe_conn_prepare() prepares a
 * statement once per connection (a bit per statement, cleared at
 * reconnect), so callers prepare on first use and after every reconnect.
 *
 * Locking: one mutex guards the slots' in_use flags, the counters, and the
 * slots' PGcancel pointers (read by fe_pool_cancel_all from the main thread
 * at shutdown).  The PGconn of a slot is used only by the thread holding
 * the slot, without the mutex.  A condition variable on CLOCK_MONOTONIC
 * wakes waiters when a slot is released.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"

struct FeConn
{
	int			index;
	bool		in_use;
	PGconn	   *conn;
	PGcancel   *cancel;			/* for fe_pool_cancel_all; under the mutex */
	unsigned int prepared;		/* bit i: statement i is prepared */
	bool		fatal_seen;		/* the server sent FATAL: it closes the session */
};

static struct
{
	pthread_mutex_t lock;
	pthread_cond_t freed;
	FeConn     *slots;
	int			size;
	int			in_use;
	int			connected;
	int			waiting;
	unsigned long long waits;
	unsigned long long timeouts;
	unsigned long long connects;
	unsigned long long connect_failures;
	unsigned long long disconnects;
	const char *keywords[12];
	const char *values[12];
	char		connect_timeout[16];
} pool;

/* Replace the newlines of a libpq message by spaces and drop trailing blanks. */
void
fe_trim_message(char *msg)
{
	size_t		len;

	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == ' ')
		msg[--len] = '\0';
}

/*
 * Messages the server sends outside a query's result: warnings are logged
 * (a NOTICE or less is not worth a line); a FATAL one (an idle session
 * terminated at shutdown) marks the connection as about to close.
 */
static void
notice_receiver(void *arg, const PGresult *res)
{
	FeConn     *c = arg;
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (sev != NULL && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
	{
		c->fatal_seen = true;
		fe_log(FE_LOG_INFO, "database connection %d: the server ended the session: %s",
			   c->index, msg ? msg : "(no message)");
	}
	else if (sev != NULL && strcmp(sev, "WARNING") == 0)
		fe_log(FE_LOG_WARNING, "database warning: %s", msg ? msg : "(no message)");
	else if (fe_log_enabled(FE_LOG_DEBUG))
		fe_log(FE_LOG_DEBUG, "database %s: %s", sev ? sev : "notice",
			   msg ? msg : "(no message)");
}

/*
 * Set up the connection parameters once: our defaults first, so that the
 * user's conninfo (expanded from "dbname") overrides them.
 */
int
fe_pool_init(const FeConfig *cfg)
{
	int			n = 0;
	pthread_condattr_t ca;

	memset(&pool, 0, sizeof(pool));
	pool.size = cfg->pool_size;
	pool.slots = calloc((size_t) cfg->pool_size, sizeof(FeConn));
	if (pool.slots == NULL)
		return -1;
	for (int i = 0; i < cfg->pool_size; i++)
		pool.slots[i].index = i;
	pthread_mutex_init(&pool.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pool.freed, &ca);
	pthread_condattr_destroy(&ca);

	snprintf(pool.connect_timeout, sizeof(pool.connect_timeout), "%d",
			 cfg->connect_timeout_s);
	pool.keywords[n] = "connect_timeout";
	pool.values[n++] = pool.connect_timeout;
	pool.keywords[n] = "fallback_application_name";
	pool.values[n++] = "promscale-ha-http";
	/* notice a vanished server (no FIN, no RST) in about a minute, not hours */
	pool.keywords[n] = "keepalives_idle";
	pool.values[n++] = "30";
	pool.keywords[n] = "keepalives_interval";
	pool.values[n++] = "10";
	pool.keywords[n] = "keepalives_count";
	pool.values[n++] = "3";
	if (cfg->db[0] != '\0')
	{
		pool.keywords[n] = "dbname";
		pool.values[n++] = cfg->db;
	}
	pool.keywords[n] = NULL;
	pool.values[n] = NULL;
	return 0;
}

/* Close the slot's connection (held by the caller). */
static void
conn_close(FeConn *c)
{
	PGcancel   *cancel;

	if (c->conn == NULL)
		return;
	pthread_mutex_lock(&pool.lock);
	cancel = c->cancel;
	c->cancel = NULL;
	pool.connected--;
	pool.disconnects++;
	pthread_mutex_unlock(&pool.lock);
	if (cancel)
		PQfreeCancel(cancel);
	PQfinish(c->conn);
	c->conn = NULL;
	c->prepared = 0;
	c->fatal_seen = false;
}

/* Open the slot's connection (held by the caller); false with err if not. */
static bool
conn_open(FeConn *c, char *err, size_t errlen)
{
	PGconn	   *conn;

	conn = PQconnectdbParams(pool.keywords, pool.values, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		snprintf(err, errlen, "cannot connect to the database: %s",
				 conn ? PQerrorMessage(conn) : "out of memory");
		fe_trim_message(err);
		if (conn)
			PQfinish(conn);
		pthread_mutex_lock(&pool.lock);
		pool.connect_failures++;
		pthread_mutex_unlock(&pool.lock);
		return false;
	}
	c->conn = conn;
	c->prepared = 0;
	c->fatal_seen = false;
	PQsetNoticeReceiver(conn, notice_receiver, c);
	pthread_mutex_lock(&pool.lock);
	c->cancel = PQgetCancel(conn);
	pool.connected++;
	pool.connects++;
	pthread_mutex_unlock(&pool.lock);
	fe_log(FE_LOG_DEBUG, "database connection %d opened (server pid %d)",
		   c->index, PQbackendPID(conn));
	return true;
}

/*
 * Without a round trip: is an idle connection still usable?  (See the
 * header comment.)  Whatever the server sent is consumed; a FATAL message is
 * followed by EOF, which may arrive a moment later, so a FATAL alone is
 * enough to give the connection up.
 */
static bool
conn_alive(FeConn *c)
{
	PGconn	   *conn = c->conn;

	for (int round = 0; round < 4; round++)
	{
		struct pollfd pfd;
		int			rc;
		PGnotify   *n;

		if (c->fatal_seen || PQstatus(conn) != CONNECTION_OK || PQsocket(conn) < 0)
			return false;
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		do
			rc = poll(&pfd, 1, 0);
		while (rc < 0 && errno == EINTR);
		if (rc == 0)
			return true;
		if (rc < 0 || (pfd.revents & (POLLERR | POLLNVAL)))
			return false;
		/* readable: a message (parsed by PQisBusy) or EOF (consume fails) */
		if (!PQconsumeInput(conn))
			return false;
		(void) PQisBusy(conn);
		while ((n = PQnotifies(conn)) != NULL)
			PQfreemem(n);
	}
	return !c->fatal_seen && PQstatus(conn) == CONNECTION_OK;
}

/* ms since an arbitrary start, monotonic. */
static struct timespec
deadline_after(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long) (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L)
	{
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * Take a slot, waiting at most wait_ms for one, and make sure it holds a
 * live connection.  NULL when none came free in time or the database
 * refused the connection; *why and err say which.
 */
FeConn *
fe_pool_acquire(int wait_ms, FeAcquireError *why, char *err, size_t errlen)
{
	FeConn     *c = NULL;
	struct timespec deadline = deadline_after(wait_ms);
	bool		waited = false;

	pthread_mutex_lock(&pool.lock);
	while (pool.in_use >= pool.size)
	{
		int			rc;

		if (!waited)
		{
			waited = true;
			pool.waits++;
		}
		pool.waiting++;
		rc = pthread_cond_timedwait(&pool.freed, &pool.lock, &deadline);
		pool.waiting--;
		if (rc == ETIMEDOUT && pool.in_use >= pool.size)
		{
			pool.timeouts++;
			pthread_mutex_unlock(&pool.lock);
			*why = FE_ACQ_TIMEOUT;
			snprintf(err, errlen, "no free database connection within %d ms "
					 "(all %d busy; see --pool-size, --pool-wait)", wait_ms, pool.size);
			return NULL;
		}
	}
	/* prefer a slot that is connected already */
	for (int i = 0; i < pool.size; i++)
	{
		FeConn     *s = &pool.slots[i];

		if (!s->in_use && (c == NULL || (c->conn == NULL && s->conn != NULL)))
			c = s;
	}
	c->in_use = true;
	pool.in_use++;
	pthread_mutex_unlock(&pool.lock);

	if (c->conn != NULL && !conn_alive(c))
	{
		fe_log(FE_LOG_INFO, "database connection %d was closed by the server, reconnecting",
			   c->index);
		conn_close(c);
	}
	if (c->conn == NULL && !conn_open(c, err, errlen))
	{
		fe_pool_release(c, true);
		*why = FE_ACQ_CONNECT;
		return NULL;
	}
	return c;
}

/* Give a slot back; broken closes its connection first. */
void
fe_pool_release(FeConn *c, bool broken)
{
	if (c == NULL)
		return;
	if (broken || (c->conn != NULL && PQtransactionStatus(c->conn) != PQTRANS_IDLE))
		conn_close(c);
	pthread_mutex_lock(&pool.lock);
	c->in_use = false;
	pool.in_use--;
	pthread_cond_signal(&pool.freed);
	pthread_mutex_unlock(&pool.lock);
}

/* The connection of a slot the caller holds. */
PGconn *
fe_conn_pg(FeConn *c)
{
	return c->conn;
}

/*
 * The SQLSTATE ("" when there is none: the connection failed) and a
 * one-line message of a failed result: the server's primary message and
 * detail, or libpq's message when the server sent none.
 */
void
fe_result_error(PGconn *conn, const PGresult *res, char *sqlstate,
				char *err, size_t errlen)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;

	snprintf(sqlstate, 6, "%s", st ? st : "");
	if (primary != NULL)
		snprintf(err, errlen, "%s%s%s%s", primary, detail ? " (" : "",
				 detail ? detail : "", detail ? ")" : "");
	else
		snprintf(err, errlen, "%s", PQerrorMessage(conn));
	fe_trim_message(err);
}

/*
 * Prepare statement number stmt (0..31) on this connection unless it is
 * already.  False with the SQLSTATE (or "") and message when it fails (the
 * extension is not created, the server went away).
 */
bool
fe_conn_prepare(FeConn *c, int stmt, const char *name, const char *sql,
				int nparams, const Oid *types, char *sqlstate, char *err,
				size_t errlen)
{
	PGresult   *res;
	bool		ok;

	sqlstate[0] = '\0';
	if (c->prepared & (1u << stmt))
		return true;
	res = PQprepare(c->conn, name, sql, nparams, types);
	ok = (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK);
	if (!ok)
		fe_result_error(c->conn, res, sqlstate, err, errlen);
	else
		c->prepared |= 1u << stmt;
	PQclear(res);
	return ok;
}

/*
 * Whether the error of the last query means the connection is unusable:
 * libpq says so, or the SQLSTATE is a connection exception (08) or an
 * operator intervention that ends the session (57P01-57P03).
 */
bool
fe_conn_is_broken(FeConn *c, const char *sqlstate)
{
	if (c->conn == NULL || c->fatal_seen || PQstatus(c->conn) != CONNECTION_OK)
		return true;
	if (sqlstate == NULL || sqlstate[0] == '\0')
		return false;
	return strncmp(sqlstate, "08", 2) == 0 ||
		strcmp(sqlstate, "57P01") == 0 ||
		strcmp(sqlstate, "57P02") == 0 ||
		strcmp(sqlstate, "57P03") == 0;
}

/* At shutdown: ask the server to cancel every query still running. */
void
fe_pool_cancel_all(void)
{
	char		buf[256];

	pthread_mutex_lock(&pool.lock);
	for (int i = 0; i < pool.size; i++)
	{
		FeConn     *c = &pool.slots[i];

		if (c->in_use && c->cancel != NULL)
		{
			if (!PQcancel(c->cancel, buf, sizeof(buf)))
				fe_log(FE_LOG_WARNING, "cannot cancel the query of database connection %d: %s",
					   i, buf);
		}
	}
	pthread_mutex_unlock(&pool.lock);
}

/* A consistent copy of the pool's numbers. */
void
fe_pool_stats(FePoolStats *s)
{
	pthread_mutex_lock(&pool.lock);
	s->size = pool.size;
	s->in_use = pool.in_use;
	s->connected = pool.connected;
	s->waiting = pool.waiting;
	s->waits = pool.waits;
	s->timeouts = pool.timeouts;
	s->connects = pool.connects;
	s->connect_failures = pool.connect_failures;
	s->disconnects = pool.disconnects;
	pthread_mutex_unlock(&pool.lock);
}

/* Close every connection; called after the HTTP threads have stopped. */
void
fe_pool_close(void)
{
	for (int i = 0; i < pool.size; i++)
		conn_close(&pool.slots[i]);
	free(pool.slots);
	pool.slots = NULL;
	pool.size = 0;
}
