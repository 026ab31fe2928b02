/*-------------------------------------------------------------------------
 *
 * write.c
 *	  POST /write: remote-write requests into promscale_ha.write().
 *
 * The request's headers are checked before any of its body is read:
 * Content-Encoding must be snappy and Content-Type application/x-protobuf
 * (a proto= parameter, if any, must name prometheus.WriteRequest: remote
 * write 2.0 is not supported) or the answer is 415; a Content-Length over
 * --max-body is answered 413 at once.  The body is collected in one buffer
 * of the request (exactly Content-Length bytes, or growing by doubling for
 * a chunked upload) that never exceeds --max-body; the sum of all buffers
 * is bounded by --max-inflight-bytes (503 beyond it: load, so retryable).
 * A chunked body that grows past --max-body is read to its end and thrown
 * away, then answered 413 (libmicrohttpd cannot answer in the middle of a
 * body; a client that keeps sending is cut off, see fe_exchange_body).
 *
 * The complete body goes unchanged, as a binary parameter, to the prepared
 *
 *	 SELECT samples_received, ..., outcome FROM promscale_ha.write($1::bytea)
 *
 * on a pooled connection: the database decompresses, decodes, validates,
 * elects and stores, all in that one statement's transaction.  The answer
 * follows the remote-write spec and the extension's error classes:
 *
 *	 outcome stored, partial, empty		204, X-Promscale-HA: <outcome>
 *	 outcome deduplicated				202, X-Promscale-HA: deduplicated
 *	 SQLSTATE class 22					400: the payload can never be stored
 *	 SQLSTATE class 54					413: over a database limit
 *	 anything else, no connection, no free connection
 *										503 with Retry-After: Prometheus
 *										retries 5xx and drops 4xx, so every
 *										failure a retry could fix is a 5xx
 *
 * A connection that failed at the connection level (08xxx, 57P01-57P03, or
 * libpq calling it bad) is closed, and the next user of its slot reconnects.
 * The request is not retried here: Prometheus retries it, with backoff, and
 * a payload that crashed a backend is not sent twice in a row.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exchange.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "write.h"

#define BYTEAOID 17

/* The grown buffer of a chunked body starts at this size. */
#define CHUNKED_INITIAL (64 * 1024)

static const char write_sql[] =
"SELECT samples_received, samples_written, samples_deduplicated, "
"samples_already_stored, samples_future_dropped, outcome "
"FROM promscale_ha.write($1::bytea)";

/* Called once per request from the completion callback. */
void
fe_write_cleanup(FeExchange *ex)
{
	fe_exchange_drop_body(ex);
}

/* Copy s without surrounding blanks into out (bounded). */
static void
trimmed(char *out, size_t outlen, const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char) *s))
	{
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char) s[n - 1]))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/*
 * Is this a remote-write 1.0 content type?  application/x-protobuf, with
 * no parameters or with proto=prometheus.WriteRequest (any case for the
 * media type, optional blanks and quotes).
 */
static bool
content_type_ok(const char *ct)
{
	const char *semi = strchr(ct, ';');
	char		media[64];

	trimmed(media, sizeof(media), ct, semi ? (size_t) (semi - ct) : strlen(ct));
	if (strcasecmp(media, "application/x-protobuf") != 0)
		return false;
	while (semi != NULL)
	{
		const char *p = semi + 1;
		const char *eq;
		char		name[32];
		char		value[128];
		size_t		vlen;

		semi = strchr(p, ';');
		eq = strchr(p, '=');
		if (eq == NULL || (semi != NULL && eq > semi))
			continue;
		trimmed(name, sizeof(name), p, (size_t) (eq - p));
		vlen = semi ? (size_t) (semi - eq - 1) : strlen(eq + 1);
		trimmed(value, sizeof(value), eq + 1, vlen);
		if (value[0] == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"')
		{
			memmove(value, value + 1, strlen(value) - 2);
			value[strlen(value) - 2] = '\0';
		}
		if (strcasecmp(name, "proto") == 0 && strcmp(value, "prometheus.WriteRequest") != 0)
			return false;
	}
	return true;
}

/* First call: method and headers; may answer at once (see header comment). */
enum MHD_Result
fe_write_begin(struct MHD_Connection *conn, FeExchange *ex)
{
	const char *ce;
	const char *ct;
	const char *cl;
	unsigned long long n;
	char		enc[32];

	if (strcmp(ex->method, "POST") != 0)
	{
		fe_log(FE_LOG_WARNING, "%s %s from %s: 405: use POST", ex->method, ex->path, ex->peer);
		return fe_respond(conn, ex, 405, "method_not_allowed", NULL,
						  "use POST\n", 9, MHD_HTTP_HEADER_ALLOW, "POST");
	}

	ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	trimmed(enc, sizeof(enc), ce ? ce : "", ce ? strlen(ce) : 0);
	if (strcasecmp(enc, "snappy") != 0)
		return fe_fail(conn, ex, 415, "unsupported_media_type",
					   "Content-Encoding must be snappy (Prometheus remote write 1.0), got \"%.64s\"",
					   ce ? ce : "");
	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct == NULL || !content_type_ok(ct))
		return fe_fail(conn, ex, 415, "unsupported_media_type",
					   "Content-Type must be application/x-protobuf (remote write 1.0, "
					   "prometheus.WriteRequest), got \"%.96s\"", ct ? ct : "");

	if (fe_content_length_over(conn, &cl, &n))
		return fe_fail(conn, ex, 413, "too_large",
					   "body of %.24s bytes is over the limit of %zu bytes (--max-body)",
					   cl, fe_cfg->max_body);
	return fe_exchange_body_expect(conn, ex, n);
}

/* A piece of the body: kept within --max-body, or discarded after a reject. */
enum MHD_Result
fe_write_body(struct MHD_Connection *conn, FeExchange *ex, const char *data,
			  size_t *size)
{
	return fe_exchange_body(ex, data, size, fe_cfg->max_body, CHUNKED_INITIAL, "--max-body");
}

/* A bigint column of the result row. */
static long long
col_ll(PGresult *res, int col)
{
	if (PQgetisnull(res, 0, col))
		return 0;
	return strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

/*
 * Answer a failed promscale_ha.write() (or its PREPARE): class 22 is 400,
 * class 54 is 413, everything else 503.  broken tells whether the
 * connection is gone.
 */
static enum MHD_Result
answer_db_error(struct MHD_Connection *conn, FeExchange *ex, const char *sqlstate,
				const char *msg, bool broken)
{
	fe_metrics_db_error(sqlstate);
	if (strncmp(sqlstate, "22", 2) == 0)
		return fe_fail(conn, ex, 400, "invalid",
					   "the database rejected the payload [SQLSTATE %s]: %s", sqlstate, msg);
	if (strncmp(sqlstate, "54", 2) == 0)
		return fe_fail(conn, ex, 413, "too_large",
					   "the payload is over a database limit [SQLSTATE %s]: %s", sqlstate, msg);
	if (strcmp(sqlstate, "3F000") == 0 || strcmp(sqlstate, "42883") == 0 ||
		strcmp(sqlstate, "42P01") == 0 || strcmp(sqlstate, "42704") == 0)
		return fe_fail(conn, ex, 503, "db_error",
					   "promscale_ha.write() is not available [SQLSTATE %s]: %s "
					   "(is the extension created? CREATE EXTENSION promscale_ha)", sqlstate, msg);
	return fe_fail(conn, ex, 503, broken ? "db_unavailable" : "db_error",
				   "%s, retry [SQLSTATE %s]: %s",
				   broken ? "the database connection was lost" : "the database failed the write",
				   sqlstate[0] ? sqlstate : "none", msg);
}

/* The whole body is here: store it and answer. */
enum MHD_Result
fe_write_finish(struct MHD_Connection *conn, FeExchange *ex)
{
	FeConn     *c;
	FeAcquireError why;
	char		err[512];
	char		sqlstate[8];
	PGresult   *res;
	const Oid	types[1] = {BYTEAOID};
	const char *values[1];
	int			lengths[1];
	const int	formats[1] = {1};
	FeWriteCounts counts;
	const char *outcome;
	enum MHD_Result ret;

	if (ex->reject_status != 0)
		return fe_fail(conn, ex, ex->reject_status, ex->reject_outcome, "%s",
					   ex->reject_reason);
	fe_metrics_body_bytes(ex->body_len);
	if (ex->body_len == 0)
		return fe_fail(conn, ex, 400, "invalid", "empty body: expected a snappy-compressed WriteRequest");
	if (ex->body_len > (size_t) 0x7fffffff)
		return fe_fail(conn, ex, 413, "too_large", "body over 2 GiB");

	c = fe_pool_acquire(fe_cfg->pool_wait_ms, &why, err, sizeof(err));
	if (c == NULL)
	{
		if (why == FE_ACQ_CONNECT)
			fe_metrics_db_error("");
		return fe_fail(conn, ex, 503, why == FE_ACQ_TIMEOUT ? "pool_timeout" : "db_unavailable",
					   "%s", err);
	}

	if (!fe_conn_prepare(c, FE_STMT_WRITE, "pha_write", write_sql, 1, types,
						 sqlstate, err, sizeof(err)))
	{
		bool		broken = fe_conn_is_broken(c, sqlstate);

		fe_pool_release(c, broken);
		return answer_db_error(conn, ex, sqlstate, err, broken);
	}

	values[0] = ex->body;
	lengths[0] = (int) ex->body_len;
	res = PQexecPrepared(fe_conn_pg(c), "pha_write", 1, values, lengths, formats, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		bool		broken;

		fe_result_error(fe_conn_pg(c), res, sqlstate, err, sizeof(err));
		PQclear(res);
		broken = fe_conn_is_broken(c, sqlstate);
		fe_pool_release(c, broken);
		return answer_db_error(conn, ex, sqlstate, err, broken);
	}
	if (PQntuples(res) != 1 || PQnfields(res) < 6)
	{
		int			rows = PQntuples(res);
		int			cols = PQnfields(res);

		PQclear(res);
		fe_pool_release(c, false);
		fe_metrics_db_error("XX000");
		return fe_fail(conn, ex, 503, "db_error",
					   "promscale_ha.write() returned %d rows of %d columns, expected 1 of 6 "
					   "(extension version mismatch?)", rows, cols);
	}

	counts.received = col_ll(res, 0);
	counts.written = col_ll(res, 1);
	counts.deduplicated = col_ll(res, 2);
	counts.already_stored = col_ll(res, 3);
	counts.future_dropped = col_ll(res, 4);
	fe_metrics_samples(&counts);
	outcome = PQgetisnull(res, 0, 5) ? "stored" : PQgetvalue(res, 0, 5);
	snprintf(ex->detail, sizeof(ex->detail),
			 "%zu bytes, %lld samples received, %lld written, %lld deduplicated, %lld already stored",
			 ex->body_len, counts.received, counts.written, counts.deduplicated,
			 counts.already_stored);

	if (strcmp(outcome, "deduplicated") == 0)
		ret = fe_respond(conn, ex, 202, "deduplicated", NULL, NULL, 0,
						 "X-Promscale-HA", "deduplicated");
	else if (strcmp(outcome, "partial") == 0)
		ret = fe_respond(conn, ex, 204, "partial", NULL, NULL, 0, "X-Promscale-HA", "partial");
	else if (strcmp(outcome, "empty") == 0)
		ret = fe_respond(conn, ex, 204, "empty", NULL, NULL, 0, "X-Promscale-HA", "empty");
	else
		ret = fe_respond(conn, ex, 204, "stored", NULL, NULL, 0, "X-Promscale-HA", "stored");
	PQclear(res);
	fe_pool_release(c, false);
	fe_exchange_drop_body(ex);
	return ret;
}
