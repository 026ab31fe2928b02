/*-------------------------------------------------------------------------
 *
 * ha_metrics.c
 *	  GET /metrics: the front end's own metrics (metrics.c) followed by the
 *	  HA state of the database as promscale_ha_* families.
 *
 * The HA state comes from one query, SELECT ... FROM promscale_ha.ha_metrics(),
 * whose rows (metric kind, cluster, replica, label, value) are rendered
 * here into the text format, label values escaped.  The rendered text is
 * cached for --ha-metrics-ttl (default 1s): a scrape within that time of
 * the last read reuses it, and concurrent scrapes wait on one mutex for one
 * read, so the database sees at most one query per TTL whatever the number
 * of scrapers.  A failed read is cached too (ha_state_up 0), so a database
 * that is down is not asked more often either; a role that may not call
 * ha_metrics() is found out without an error (ha_probe) and asked again once
 * a minute.  The pool connection is
 * waited for at most 2 s, as /healthz does: a scrape never hangs on writes.
 *
 * Families (labels; cardinality is bounded by clusters and replicas, which
 * the database bounds with promscale_ha.max_tracked_replicas):
 *	 promscale_ha_leader{cluster,replica}					 gauge, 1 per cluster
 *	 promscale_ha_leader_changes_total{cluster,reason}		 since the server started
 *	 promscale_ha_samples_total{cluster,replica,result}		 accepted, deduplicated,
 *															 future_dropped
 *	 promscale_ha_replica_last_write_age_seconds{cluster,replica}
 *	 promscale_ha_replay_buffer_bytes{cluster}
 *	 promscale_ha_samples_without_replica_label_total{cluster}
 *	 promscale_ha_worker_up, promscale_ha_tracked_replicas_overflow_total
 * and the front end's own: promscale_ha_http_ha_state_up (the last read
 * worked) and promscale_ha_http_ha_state_queries_total (reads made).
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ha_metrics.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "textbuf.h"

#define HA_POOL_WAIT_MS 2000

static const char ha_query[] =
"SELECT metric, cluster, replica, label, value FROM promscale_ha.ha_metrics()";

/*
 * Whether the --db role may call ha_metrics() (and the function exists): asked
 * without raising an error, so that a role without promscale_ha_reader, or a
 * database not yet updated to 0.3.0, does not put an ERROR in the server log
 * at every refresh.  Asked before the first read, then at most once a minute
 * while the answer is no, and again after a read failed for lack of the
 * privilege or the function.
 */
static const char ha_probe[] =
"SELECT p IS NOT NULL AND pg_catalog.has_function_privilege(p, 'EXECUTE')"
" FROM pg_catalog.to_regprocedure('promscale_ha.ha_metrics()') p";
#define HA_PROBE_MS 60000

static int	ha_allowed = -1;	/* 1 yes, 0 no, -1 not known; under cache_lock */
static struct timespec ha_probed_at;

/* How a metric kind of promscale_ha.ha_metrics() is exposed. */
typedef struct HaFamily
{
	const char *kind;			/* the "metric" column */
	const char *name;
	const char *type;
	const char *help;
	const char *label;			/* name of the "label" column's label, or NULL */
} HaFamily;

static const HaFamily families[] = {
	{"leader", "promscale_ha_leader", "gauge",
	"The elected leader of each HA cluster (1 for its replica).", NULL},
	{"leader_changes", "promscale_ha_leader_changes_total", "counter",
	"Leadership periods begun since the database server started, by reason.", "reason"},
	{"samples", "promscale_ha_samples_total", "counter",
	"HA samples by cluster and replica: accepted (the leader's), deduplicated, dropped as future.",
	"result"},
	{"last_write_age", "promscale_ha_replica_last_write_age_seconds", "gauge",
	"Seconds since each replica's last write.", NULL},
	{"replay_buffer_bytes", "promscale_ha_replay_buffer_bytes", "gauge",
	"Bytes of followers' requests kept for replay at a takeover, per cluster.", NULL},
	{"without_replica", "promscale_ha_samples_without_replica_label_total", "counter",
	"Samples with the cluster label but no replica label (stored without HA), per cluster.", NULL},
	{"worker_up", "promscale_ha_worker_up", "gauge",
	"1 when the promscale_ha background worker is running.", NULL},
	{"tracked_replicas_overflow", "promscale_ha_tracked_replicas_overflow_total", "counter",
	"Counter updates dropped because promscale_ha.max_tracked_replicas was full.", NULL},
};
#define NFAMILIES (sizeof(families) / sizeof(families[0]))

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static char *cache_text = NULL; /* the HA families, or NULL after a failed read */
static size_t cache_len = 0;
static bool cache_valid = false;
static struct timespec cache_at;
static atomic_ullong queries;

static const HaFamily *
family_of(const char *kind)
{
	for (size_t i = 0; i < NFAMILIES; i++)
		if (strcmp(families[i].kind, kind) == 0)
			return &families[i];
	return NULL;
}

/* One label of a sample, comma-separated from the previous one. */
static void
label(FeTextBuf *b, bool *first, const char *name, const char *value)
{
	fe_tb_printf(b, "%s%s=\"", *first ? "{" : ",", name);
	fe_tb_label_value(b, value);
	fe_tb_append(b, "\"", 1);
	*first = false;
}

/* Render the rows of promscale_ha.ha_metrics() (ordered by kind). */
static void
render_rows(FeTextBuf *b, PGresult *res)
{
	const HaFamily *cur = NULL;

	for (int r = 0; r < PQntuples(res); r++)
	{
		const HaFamily *f = family_of(PQgetvalue(res, r, 0));
		bool		first = true;

		if (f == NULL)
			continue;			/* a kind of a newer extension: not known here */
		if (f != cur)
		{
			fe_tb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
			cur = f;
		}
		fe_tb_append(b, f->name, strlen(f->name));
		if (!PQgetisnull(res, r, 1))
			label(b, &first, "cluster", PQgetvalue(res, r, 1));
		if (!PQgetisnull(res, r, 2))
			label(b, &first, "replica", PQgetvalue(res, r, 2));
		if (f->label != NULL && !PQgetisnull(res, r, 3))
			label(b, &first, f->label, PQgetvalue(res, r, 3));
		if (!first)
			fe_tb_append(b, "}", 1);
		fe_tb_append(b, " ", 1);
		fe_tb_value(b, PQgetisnull(res, r, 4) ? 0 : strtod(PQgetvalue(res, r, 4), NULL));
		fe_tb_append(b, "\n", 1);
	}
}

/* Milliseconds from a to b (CLOCK_MONOTONIC). */
static long long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long long) (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/*
 * Whether c's role may read the HA state (see ha_probe); on no, c is
 * released and the answer logged once per change.  Called under cache_lock.
 */
static bool
probe_allowed(FeConn *c)
{
	struct timespec now;
	PGresult   *res;
	int			was = ha_allowed;

	if (ha_allowed == 1)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	res = PQexec(fe_conn_pg(c), ha_probe);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		char		sqlstate[8];
		char		err[512];

		fe_result_error(fe_conn_pg(c), res, sqlstate, err, sizeof(err));
		PQclear(res);
		fe_pool_release(c, fe_conn_is_broken(c, sqlstate));
		fe_log(FE_LOG_WARNING, "/metrics: HA state not read [SQLSTATE %s]: %s",
			   sqlstate[0] ? sqlstate : "none", err);
		return false;
	}
	ha_allowed = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 1 : 0;
	ha_probed_at = now;
	PQclear(res);
	if (ha_allowed == 1)
		return true;
	fe_pool_release(c, false);
	if (was != 0)
		fe_log(FE_LOG_WARNING, "/metrics: HA state not read: the --db role may not execute "
			   "promscale_ha.ha_metrics() (grant promscale_ha_reader to the --db role, and "
			   "ALTER EXTENSION promscale_ha UPDATE to 0.3.0 or later); asked again every %d s",
			   HA_PROBE_MS / 1000);
	return false;
}

/*
 * Read the HA state and render it into a malloc'd text; NULL (logged) when
 * the database cannot be read or memory is short.
 */
static char *
read_state(size_t *len)
{
	FeConn	   *c;
	FeAcquireError why;
	PGresult   *res;
	char		err[512];
	int			wait_ms = fe_cfg->pool_wait_ms < HA_POOL_WAIT_MS ?
		fe_cfg->pool_wait_ms : HA_POOL_WAIT_MS;
	FeTextBuf	b = {0};
	char	   *text;

	if (ha_allowed == 0)
	{
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ms_between(&ha_probed_at, &now) < HA_PROBE_MS)
			return NULL;		/* not allowed, asked less than a minute ago */
	}
	atomic_fetch_add_explicit(&queries, 1, memory_order_relaxed);
	c = fe_pool_acquire(wait_ms, &why, err, sizeof(err));
	if (c == NULL)
	{
		fe_log(FE_LOG_WARNING, "/metrics: HA state not read: %s", err);
		return NULL;
	}
	if (!probe_allowed(c))
		return NULL;
	res = PQexec(fe_conn_pg(c), ha_query);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 5)
	{
		char		sqlstate[8];

		fe_result_error(fe_conn_pg(c), res, sqlstate, err, sizeof(err));
		PQclear(res);
		fe_pool_release(c, fe_conn_is_broken(c, sqlstate));
		fe_log(FE_LOG_WARNING, "/metrics: HA state not read [SQLSTATE %s]: %s%s",
			   sqlstate[0] ? sqlstate : "none", err,
			   strcmp(sqlstate, "42501") == 0 ? " (grant promscale_ha_reader to the --db role)" : "");
		if (strcmp(sqlstate, "42501") == 0 || strcmp(sqlstate, "42883") == 0)
			ha_allowed = -1;	/* ask again before the next read */
		return NULL;
	}
	render_rows(&b, res);
	PQclear(res);
	fe_pool_release(c, false);
	text = fe_tb_take(&b, len);
	fe_tb_free(&b);
	return text;
}

/*
 * Append the HA families to b, from the cache when it is fresh enough,
 * otherwise read (one reader at a time; the others wait and reuse it).
 */
static void
append_ha_state(FeTextBuf *b)
{
	struct timespec now;
	bool		up;

	pthread_mutex_lock(&cache_lock);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!cache_valid || ms_between(&cache_at, &now) >= fe_cfg->ha_metrics_ttl_ms)
	{
		free(cache_text);
		cache_text = read_state(&cache_len);
		clock_gettime(CLOCK_MONOTONIC, &cache_at);
		cache_valid = true;
	}
	up = cache_text != NULL;
	if (up)
		fe_tb_append(b, cache_text, cache_len);
	pthread_mutex_unlock(&cache_lock);

	fe_tb_printf(b, "# HELP promscale_ha_http_ha_state_up 1 when the last read of the HA state from the database worked.\n"
				 "# TYPE promscale_ha_http_ha_state_up gauge\n"
				 "promscale_ha_http_ha_state_up %d\n"
				 "# HELP promscale_ha_http_ha_state_queries_total Reads of the HA state from the database (promscale_ha.ha_metrics()).\n"
				 "# TYPE promscale_ha_http_ha_state_queries_total counter\n"
				 "promscale_ha_http_ha_state_queries_total %llu\n",
				 up ? 1 : 0, atomic_load_explicit(&queries, memory_order_relaxed));
}

enum MHD_Result
fe_ha_metrics_serve(struct MHD_Connection *conn, FeExchange *ex)
{
	FeTextBuf	b = {0};
	size_t		own_len = 0;
	size_t		len = 0;
	char	   *own = fe_metrics_render(&own_len);
	char	   *text;

	if (own == NULL)
		return fe_fail(conn, ex, 503, "out_of_memory", "cannot render the metrics: out of memory");
	fe_tb_append(&b, own, own_len);
	free(own);
	append_ha_state(&b);
	text = fe_tb_take(&b, &len);
	fe_tb_free(&b);
	if (text == NULL)
		return fe_fail(conn, ex, 503, "out_of_memory", "cannot render the metrics: out of memory");
	return fe_respond_owned(conn, ex, 200, "ok", "text/plain; version=0.0.4; charset=utf-8",
							text, len);
}
