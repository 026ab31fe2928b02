/*-------------------------------------------------------------------------
 *
 * status_page.c
 *	  GET /: the HA status page, one self-contained HTML document (inline
 *	  CSS, no script, no external asset: it works offline).
 *
 * One query reads everything, as rows of four kinds, ordered by cluster:
 *	 now		the database's clock (the page's "as of" and the timeline's end)
 *	 leader		cluster, leader, leader_since (promscale_ha.leaders)
 *	 replica	cluster, replica, last write, samples accepted / deduplicated,
 *				whether it leads (promscale_ha.replicas)
 *	 period		cluster, leader, start and end (wall clock: changed_at of the
 *				period and of the next one; NULL for the current one), reason --
 *				the periods of promscale_ha.ha_leases_logs that overlap the last
 *				24 hours
 *	 no_replica	cluster, samples without the replica label, last seen
 *				(promscale_ha.cluster_stats)
 * Times travel as epoch seconds and are printed in UTC here.  The timeline
 * is a row of absolutely positioned divs, one per period, coloured by
 * leader, over the last 24 hours -- or less when every period shown began
 * later (from a little before the oldest one, at least a minute), so that
 * a young history is not a sliver at the right edge; the same periods are
 * listed below it as text.
 * Every name from the database is HTML-escaped.  The --db role needs
 * promscale_ha_reader; the page has the same authentication as /metrics.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"
#include "status_page.h"
#include "textbuf.h"

#define STATUS_POOL_WAIT_MS 2000
#define WINDOW_MAX_S (24 * 3600.0)
#define WINDOW_MIN_S 60.0

static const char status_query[] =
"WITH now AS (SELECT extract(epoch FROM now())::float8 AS t), "
"periods AS ("
" SELECT cluster_name, leader_name, reason, changed_at,"
"  lead(changed_at) OVER (PARTITION BY cluster_name ORDER BY lease_start) AS ended_at"
" FROM promscale_ha.ha_leases_logs) "
"SELECT kind, cluster, name, reason, t0, t1, n1, n2 FROM ("
" SELECT 0 AS o, 'now' AS kind, NULL::text AS cluster, NULL::text AS name, NULL::text AS reason,"
"  (SELECT t FROM now) AS t0, NULL::float8 AS t1, NULL::bigint AS n1, NULL::bigint AS n2"
" UNION ALL"
" SELECT 1, 'leader', cluster, leader, NULL, extract(epoch FROM leader_since)::float8, NULL,"
"  NULL, NULL FROM promscale_ha.leaders"
" UNION ALL"
" SELECT 2, 'replica', cluster, replica, CASE WHEN is_leader THEN 'leader' END,"
"  extract(epoch FROM last_write)::float8, NULL, samples_accepted, samples_deduplicated"
" FROM promscale_ha.replicas"
" UNION ALL"
" SELECT 3, 'period', cluster_name, leader_name, reason, extract(epoch FROM changed_at)::float8,"
"  extract(epoch FROM ended_at)::float8, NULL, NULL"
" FROM periods WHERE coalesce(ended_at, now()) > now() - interval '24 hours'"
" UNION ALL"
" SELECT 4, 'no_replica', cluster, NULL, NULL, extract(epoch FROM last_write)::float8, NULL,"
"  samples_without_replica, NULL FROM promscale_ha.cluster_stats WHERE replica IS NULL"
") x ORDER BY cluster NULLS FIRST, o, t0, name";

static const char page_head[] =
"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
"<title>promscale_ha: HA status</title>\n<style>\n"
"body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}\n"
"h1{font-size:1.4em}h2{font-size:1.15em;margin:0 0 .4em}\n"
"section.cluster{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}\n"
"table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .7em;text-align:left;border-bottom:1px solid #eee}\n"
"td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
".timeline{position:relative;height:1.8em;background:#eee;border-radius:3px;margin:.4em 0;overflow:hidden}\n"
".period{position:absolute;top:0;bottom:0;color:#fff;font-size:.8em;line-height:2.2em;"
"overflow:hidden;white-space:nowrap;text-indent:.3em;border-right:1px solid #fff;box-sizing:border-box}\n"
".axis{display:flex;justify-content:space-between;font-size:.75em;color:#666}\n"
".warn{background:#fff4e0;border:1px solid #f0b860;border-radius:6px;padding:.6em 1em}\n"
".muted{color:#777}footer{margin-top:2em;font-size:.85em;color:#666}\n"
"</style></head><body>\n<h1>promscale_ha: HA status</h1>\n";

/* "YYYY-MM-DD HH:MM:SS UTC" of epoch seconds t. */
static void
fmt_time(char *out, size_t n, double t)
{
	time_t		s = (time_t) t;
	struct tm	tm;

	if (gmtime_r(&s, &tm) == NULL || strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, n, "?");
}

/* A colour per leader name, stable across loads (a hue from its bytes). */
static int
hue_of(const char *name)
{
	unsigned int h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *) name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (int) (h % 360);
}

static const char *
col(PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

static double
num(PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? 0 : strtod(PQgetvalue(res, r, c), NULL);
}

/* Close the open parts of a cluster's section. */
static void
end_timeline(FeTextBuf *b, double w0)
{
	char		from[64];

	fmt_time(from, sizeof(from), w0);
	fe_tb_printf(b, "</div>\n<div class=\"axis\"><span>%s</span><span>now</span></div>\n", from);
}

static void
end_cluster(FeTextBuf *b, bool *in_table, bool *in_timeline, bool *in_section, double w0)
{
	if (*in_table)
		fe_tb_printf(b, "</table>\n");
	if (*in_timeline)
		end_timeline(b, w0);
	if (*in_section)
		fe_tb_printf(b, "</section>\n");
	*in_table = *in_timeline = *in_section = false;
}

/* Open the section of cluster c (no leader row: it has none now). */
static void
begin_cluster(FeTextBuf *b, const char *c)
{
	fe_tb_printf(b, "<section class=\"cluster\" data-cluster=\"");
	fe_tb_html(b, c);
	fe_tb_printf(b, "\">\n<h2>Cluster <span class=\"cluster-name\">");
	fe_tb_html(b, c);
	fe_tb_printf(b, "</span></h2>\n");
}

/* The page from the rows of status_query. */
static void
render(FeTextBuf *b, PGresult *res)
{
	double		now = 0;
	double		oldest = 1e300;
	double		window;
	double		w0;
	char		when[64];
	char	   *cur = NULL;
	bool		in_section = false,
				in_table = false,
				in_timeline = false;
	int			nclusters = 0;
	FeTextBuf	warn = {0};
	FeTextBuf	plist = {0};

	fe_tb_append(b, page_head, sizeof(page_head) - 1);
	/* the timeline's window: now and the oldest period start shown */
	for (int r = 0; r < PQntuples(res); r++)
	{
		if (strcmp(PQgetvalue(res, r, 0), "now") == 0)
			now = num(res, r, 4);
		else if (strcmp(PQgetvalue(res, r, 0), "period") == 0)
			oldest = oldest < num(res, r, 4) ? oldest : num(res, r, 4);
	}
	window = (now - oldest) * 1.05;
	window = window < WINDOW_MIN_S ? WINDOW_MIN_S : window > WINDOW_MAX_S ? WINDOW_MAX_S : window;
	w0 = now - window;
	for (int r = 0; r < PQntuples(res); r++)
	{
		const char *kind = PQgetvalue(res, r, 0);
		const char *cluster = col(res, r, 1);
		const char *name = col(res, r, 2);
		const char *reason = col(res, r, 3);

		if (strcmp(kind, "now") == 0)
		{
			fmt_time(when, sizeof(when), now);
			fe_tb_printf(b, "<p class=\"muted\">As of <time class=\"now\">%s</time> (database clock).</p>\n",
						 when);
			continue;
		}
		if (cluster == NULL)
			continue;
		if (strcmp(kind, "no_replica") == 0)
		{
			fmt_time(when, sizeof(when), num(res, r, 4));
			fe_tb_printf(&warn, "<li data-cluster=\"");
			fe_tb_html(&warn, cluster);
			fe_tb_printf(&warn, "\"><b>");
			fe_tb_html(&warn, cluster);
			fe_tb_printf(&warn, "</b>: %lld samples without the replica label, last at %s</li>\n",
						 (long long) num(res, r, 6), when);
			continue;
		}
		if (cur == NULL || strcmp(cur, cluster) != 0)
		{
			end_cluster(b, &in_table, &in_timeline, &in_section, w0);
			free(cur);
			cur = strdup(cluster);
			if (cur == NULL)
			{
				b->failed = true;
				break;
			}
			begin_cluster(b, cluster);
			in_section = true;
			nclusters++;
		}
		if (strcmp(kind, "leader") == 0)
		{
			fmt_time(when, sizeof(when), num(res, r, 4));
			fe_tb_printf(b, "<p>Leader: <b class=\"leader\">");
			fe_tb_html(b, name ? name : "");
			fe_tb_printf(b, "</b> since <time class=\"since\">%s</time></p>\n", when);
		}
		else if (strcmp(kind, "replica") == 0)
		{
			if (!in_table)
			{
				fe_tb_printf(b, "<table class=\"replicas\"><tr><th>replica</th><th>role</th>"
							 "<th>last write</th><th>samples accepted</th>"
							 "<th>samples deduplicated</th></tr>\n");
				in_table = true;
			}
			fmt_time(when, sizeof(when), num(res, r, 4));
			fe_tb_printf(b, "<tr class=\"replica\" data-replica=\"");
			fe_tb_html(b, name ? name : "");
			fe_tb_printf(b, "\"><td>");
			fe_tb_html(b, name ? name : "");
			fe_tb_printf(b, "</td><td>%s</td><td>%s</td><td class=\"n\">%lld</td>"
						 "<td class=\"n\">%lld</td></tr>\n",
						 reason ? "leader" : "follower", when,
						 (long long) num(res, r, 6), (long long) num(res, r, 7));
		}
		else if (strcmp(kind, "period") == 0)
		{
			bool		current = PQgetisnull(res, r, 5);
			double		lo = num(res, r, 4);
			double		hi = current ? now : num(res, r, 5);
			double		left,
						width;
			char		from[64],
						to[64];

			if (in_table)
			{
				fe_tb_printf(b, "</table>\n");
				in_table = false;
			}
			if (!in_timeline)
			{
				fe_tb_printf(b, "<div class=\"timeline\" title=\"leadership periods\">\n");
				in_timeline = true;
			}
			if (lo < w0)
				lo = w0;
			if (hi > now)
				hi = now;
			width = hi > lo ? (hi - lo) * 100.0 / window : 0;
			if (width < 0.5)
				width = 0.5;
			left = (lo - w0) * 100.0 / window;
			if (left > 100.0 - width)
				left = 100.0 - width;
			fmt_time(from, sizeof(from), num(res, r, 4));
			if (current)
				snprintf(to, sizeof(to), "now");
			else
				fmt_time(to, sizeof(to), num(res, r, 5));
			fe_tb_printf(b, "<div class=\"period\" style=\"left:%.3f%%;width:%.3f%%;"
						 "background:hsl(%d,55%%,45%%)\" data-leader=\"",
						 left, width, hue_of(name ? name : ""));
			fe_tb_html(b, name ? name : "");
			fe_tb_printf(b, "\" data-reason=\"");
			fe_tb_html(b, reason ? reason : "");
			fe_tb_printf(b, "\" title=\"");
			fe_tb_html(b, name ? name : "");
			fe_tb_printf(b, ": %s to %s (", from, to);
			fe_tb_html(b, reason ? reason : "");
			fe_tb_printf(b, ")\">");
			fe_tb_html(b, name ? name : "");
			fe_tb_printf(b, "</div>\n");
			/* the same period as text, printed after the timeline */
			fe_tb_printf(&plist, "<li class=\"period-text\">");
			fe_tb_html(&plist, name ? name : "");
			fe_tb_printf(&plist, ": %s to %s (", from, to);
			fe_tb_html(&plist, reason ? reason : "");
			fe_tb_printf(&plist, ")</li>\n");
		}
		/* flush the text list of periods when the cluster's rows end */
		if (r + 1 == PQntuples(res) || PQgetisnull(res, r + 1, 1) ||
			strcmp(PQgetvalue(res, r + 1, 1), cluster) != 0 ||
			strcmp(PQgetvalue(res, r + 1, 0), "no_replica") == 0)
		{
			if (in_timeline)
			{
				end_timeline(b, w0);
				in_timeline = false;
			}
			if (plist.len > 0)
			{
				fe_tb_printf(b, "<ol class=\"periods\">\n");
				fe_tb_append(b, plist.data, plist.len);
				fe_tb_printf(b, "</ol>\n");
				plist.len = 0;
			}
		}
	}
	end_cluster(b, &in_table, &in_timeline, &in_section, w0);
	free(cur);
	if (nclusters == 0)
		fe_tb_printf(b, "<p class=\"muted\">No HA cluster has written yet.</p>\n");
	if (warn.failed || plist.failed)
		b->failed = true;
	if (warn.len > 0)
	{
		fe_tb_printf(b, "<div class=\"warn\"><p>Series with the cluster label but no replica "
					 "label are stored without HA de-duplication (see promscale_ha.replica_label):</p>"
					 "<ul class=\"no-replica\">\n");
		fe_tb_append(b, warn.data, warn.len);
		fe_tb_printf(b, "</ul></div>\n");
	}
	fe_tb_free(&warn);
	fe_tb_free(&plist);
	fe_tb_printf(b, "<footer>promscale-ha-http %s &middot; POST /write &middot; POST /read "
				 "&middot; GET /metrics &middot; GET /healthz</footer>\n</body></html>\n", FE_VERSION);
}

enum MHD_Result
fe_status_page_serve(struct MHD_Connection *conn, FeExchange *ex)
{
	FeConn	   *c;
	FeAcquireError why;
	PGresult   *res;
	char		err[512];
	int			wait_ms = fe_cfg->pool_wait_ms < STATUS_POOL_WAIT_MS ?
		fe_cfg->pool_wait_ms : STATUS_POOL_WAIT_MS;
	FeTextBuf	b = {0};
	char	   *text;
	size_t		len = 0;

	c = fe_pool_acquire(wait_ms, &why, err, sizeof(err));
	if (c == NULL)
		return fe_fail(conn, ex, 503, why == FE_ACQ_TIMEOUT ? "pool_timeout" : "db_unavailable",
					   "%s", err);
	res = PQexec(fe_conn_pg(c), status_query);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 8)
	{
		char		sqlstate[8];

		fe_result_error(fe_conn_pg(c), res, sqlstate, err, sizeof(err));
		PQclear(res);
		fe_pool_release(c, fe_conn_is_broken(c, sqlstate));
		return fe_fail(conn, ex, 503, "db_error", "cannot read the HA state [SQLSTATE %s]: %s",
					   sqlstate[0] ? sqlstate : "none", err);
	}
	fe_pool_release(c, false);
	render(&b, res);
	PQclear(res);
	text = fe_tb_take(&b, &len);
	fe_tb_free(&b);
	if (text == NULL)
		return fe_fail(conn, ex, 503, "out_of_memory", "cannot render the status page: out of memory");
	return fe_respond_owned(conn, ex, 200, "ok", "text/html; charset=utf-8", text, len);
}
