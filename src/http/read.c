/*-------------------------------------------------------------------------
 *
 * read.c
 *	  POST /read: Prometheus remote-read requests answered by
 *	  promscale_ha.read().
 *
 * The body of a remote-read request (a snappy-compressed ReadRequest) is
 * collected as write.c collects a /write body, bounded by --max-read-body
 * (413) and the shared --max-inflight-bytes budget (503), and goes
 * unchanged, as a binary parameter, to the prepared
 *
 *	 SELECT (r).kind, (r).body FROM (SELECT promscale_ha.read($1) AS r ...)
 *
 * in libpq's single-row mode, so rows are taken one at a time as the
 * database produces them (see read_sql for why the select list).  The database decodes the request, runs its
 * queries and encodes the answer; the front end only moves bytes:
 *
 *	 kind 'samples'	one row, the whole HTTP body (snappy ReadResponse):
 *					200, Content-Type application/x-protobuf,
 *					Content-Encoding snappy.  The result is read to its end
 *					first, so an error after the row is still a clean 5xx.
 *	 kind 'chunks'	one row per frame (varint length, CRC32C,
 *					ChunkedReadResponse): 200, Content-Type
 *					application/x-streamed-protobuf;
 *					proto=prometheus.ChunkedReadResponse, sent with chunked
 *					transfer encoding as the rows arrive
 *					(MHD_create_response_from_callback, size unknown).
 *					Only the frame being sent is held (and the next, when it
 *					came with the first).  A single frame whose result had
 *					ended when it arrived is sent whole instead, with a
 *					Content-Length, in one write (answer_chunks).
 *	 no row			200 with the streamed content type and no frame.
 *
 * Failures before the first row are answered by SQLSTATE: class 22
 * (malformed request, bad regex 2201B) 400; class 54 (the result is over a
 * database limit) 413, as /write answers the class, with the reason in the
 * body (Prometheus treats every non-2xx read answer as a failed query and
 * does not retry it, so the code only informs people); 42501 (the login
 * role lacks EXECUTE: GRANT promscale_ha_reader) 500, logged as a
 * configuration error; 57014 (statement_timeout), a lost database or any
 * other error 503 with Retry-After.  Once a stream has started its status
 * line is gone: an error then (or a row that is not a frame) is logged and
 * the stream ends without its last chunk, which the client sees as a
 * truncated, failed read.
 *
 * A streamed response owns its pooled connection until libmicrohttpd frees
 * it (stream_free), which may be after the exchange completed: the stream
 * keeps a pointer to its exchange only until fe_read_cleanup detaches it.
 * A client that goes away mid-stream leaves a query running: it is
 * cancelled and its connection closed (the next user of the slot
 * reconnects) rather than drained.  The content reader blocks in
 * PQgetResult only when it has nothing to send, like the other handlers
 * block their thread while the database works.
 *
 * Reads share the connection pool with writes.  So that slow or large reads
 * cannot take every connection from Prometheus' writes, at most --max-reads
 * reads hold a connection at once; others wait up to --pool-wait, then 503.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "exchange.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "read.h"

#define BYTEAOID 17

/* The grown buffer of a chunked body starts at this size. */
#define CHUNKED_INITIAL (16 * 1024)

/* The block libmicrohttpd asks the content reader to fill. */
#define STREAM_BLOCK (32 * 1024)

/*
 * The function is called in the select list, not in FROM: a set-returning
 * function in FROM is run to its end into a tuplestore before the first
 * row comes out, while in the select list (ProjectSet) a value-per-call
 * function hands over each row as it makes it, so the first frame leaves
 * while the rest are still being read.  OFFSET 0 keeps the subquery, so the
 * function runs once per row, not once per column.
 */
static const char read_sql[] =
"SELECT (r).kind, (r).body FROM (SELECT promscale_ha.read($1::bytea) AS r OFFSET 0) s";

static const char ct_samples[] = "application/x-protobuf";
static const char ct_streamed[] =
"application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

/* A streamed (STREAMED_XOR_CHUNKS) response while libmicrohttpd sends it. */
typedef struct FeReadStream
{
	FeExchange *ex;				/* NULL once the exchange completed */
	FeConn	   *c;				/* the pooled connection, running the query */
	PGresult   *row;			/* the frame being sent, or NULL */
	PGresult   *pending;		/* the next frame, already read, or NULL */
	size_t		off;			/* ... bytes of it sent */
	bool		done;			/* the result ended cleanly */
	bool		failed;			/* an error ended it: close the connection */
	bool		broken;			/* ... and the database connection is gone */
	unsigned long frames;
	size_t		bytes;
	char		what[200];		/* method, path, client: for the log */
} FeReadStream;

/* --max-reads: reads holding a connection now, and their waiters. */
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slots_freed;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
static int	reads_running;

/* The condition variable waits on CLOCK_MONOTONIC. */
static void
slots_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&slots_freed, &attr);
	pthread_condattr_destroy(&attr);
}

/* Take one of --max-reads slots, waiting at most wait_ms; false if none. */
static bool
read_slot_acquire(int wait_ms)
{
	struct timespec deadline;
	bool		got = true;

	pthread_once(&slots_once, slots_init);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
	{
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&slots_lock);
	while (reads_running >= fe_cfg->max_reads)
		if (pthread_cond_timedwait(&slots_freed, &slots_lock, &deadline) == ETIMEDOUT)
		{
			got = reads_running < fe_cfg->max_reads;
			break;
		}
	if (got)
		reads_running++;
	pthread_mutex_unlock(&slots_lock);
	return got;
}

/* Give a --max-reads slot back. */
static void
read_slot_release(void)
{
	pthread_mutex_lock(&slots_lock);
	reads_running--;
	pthread_cond_signal(&slots_freed);
	pthread_mutex_unlock(&slots_lock);
}

/* Detach a stream from its exchange and free the body. */
void
fe_read_cleanup(FeExchange *ex)
{
	if (ex->read_stream != NULL)
	{
		ex->read_stream->ex = NULL;
		ex->read_stream = NULL;
	}
	fe_exchange_drop_body(ex);
}

/* Is the Content-Encoding header absent or snappy (blanks and case aside)? */
static bool
encoding_ok(const char *ce)
{
	size_t		n;

	if (ce == NULL)
		return true;
	while (isspace((unsigned char) *ce))
		ce++;
	n = strlen(ce);
	while (n > 0 && isspace((unsigned char) ce[n - 1]))
		n--;
	return n == 0 || (n == 6 && strncasecmp(ce, "snappy", 6) == 0);
}

/* First call: method and headers; may answer at once. */
enum MHD_Result
fe_read_begin(struct MHD_Connection *conn, FeExchange *ex)
{
	const char *ce;
	const char *cl;
	char	   *end;
	unsigned long long n;

	if (strcmp(ex->method, "POST") != 0)
	{
		fe_log(FE_LOG_WARNING, "%s %s from %s: 405: use POST", ex->method, ex->path, ex->peer);
		return fe_respond(conn, ex, 405, "method_not_allowed", NULL,
						  "use POST\n", 9, MHD_HTTP_HEADER_ALLOW, "POST");
	}
	ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (!encoding_ok(ce))
		return fe_fail(conn, ex, 415, "unsupported_media_type",
					   "Content-Encoding must be snappy (Prometheus remote read), got \"%.64s\"",
					   ce);
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL)
		return MHD_YES;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno != 0 || end == cl || n > fe_cfg->max_read_body)
		return fe_fail(conn, ex, 413, "too_large",
					   "body of %.24s bytes is over the limit of %zu bytes (--max-read-body)",
					   cl, fe_cfg->max_read_body);
	return fe_exchange_body_expect(conn, ex, n);
}

/* A piece of the body: kept within --max-read-body, or discarded after a reject. */
enum MHD_Result
fe_read_body(struct MHD_Connection *conn, FeExchange *ex, const char *data,
			 size_t *size)
{
	return fe_exchange_body(ex, data, size, fe_cfg->max_read_body, CHUNKED_INITIAL,
							"--max-read-body");
}

/*
 * Answer a failed promscale_ha.read() by SQLSTATE; at_prepare: its PREPARE
 * failed (an undefined function there means the extension is missing or
 * too old; while it runs, a fault of the database side).
 */
static enum MHD_Result
answer_db_error(struct MHD_Connection *conn, FeExchange *ex, FeConn *c,
				const char *sqlstate, const char *msg, bool broken, bool at_prepare)
{
	fe_metrics_db_error(sqlstate);
	if (strncmp(sqlstate, "22", 2) == 0)
		return fe_fail(conn, ex, 400, "invalid",
					   "the database rejected the read request [SQLSTATE %s]: %s", sqlstate, msg);
	if (strncmp(sqlstate, "54", 2) == 0)
		return fe_fail(conn, ex, 413, "too_large",
					   "the read is over a database limit [SQLSTATE %s]: %s", sqlstate, msg);
	if (strcmp(sqlstate, "42501") == 0)
		return fe_fail(conn, ex, 500, "config_error",
					   "configuration error: database role \"%s\" may not run promscale_ha.read() "
					   "[SQLSTATE %s]: %s (GRANT promscale_ha_reader TO \"%s\")",
					   c && !broken ? PQuser(fe_conn_pg(c)) : "?", sqlstate, msg,
					   c && !broken ? PQuser(fe_conn_pg(c)) : "the --db role");
	if (at_prepare && (strcmp(sqlstate, "3F000") == 0 || strcmp(sqlstate, "42883") == 0 ||
					   strcmp(sqlstate, "42P01") == 0 || strcmp(sqlstate, "42704") == 0))
		return fe_fail(conn, ex, 503, "db_error",
					   "promscale_ha.read() is not available [SQLSTATE %s]: %s "
					   "(extension created, and at version 0.2.0 or later?)", sqlstate, msg);
	if (strcmp(sqlstate, "57014") == 0)
		return fe_fail(conn, ex, 503, "timeout",
					   "the read was cancelled (statement_timeout?) [SQLSTATE %s]: %s",
					   sqlstate, msg);
	return fe_fail(conn, ex, 503, broken ? "db_unavailable" : "db_error",
				   "%s, retry [SQLSTATE %s]: %s",
				   broken ? "the database connection was lost" : "the database failed the read",
				   sqlstate[0] ? sqlstate : "none", msg);
}

/* Read the results of the query up to the end (NULL), dropping them. */
static void
drain(PGconn *pg)
{
	PGresult   *res;

	while ((res = PQgetResult(pg)) != NULL)
		PQclear(res);
}

/* Is res a row of the given kind with a body? */
static bool
row_is(const PGresult *res, const char *kind)
{
	return PQnfields(res) >= 2 && !PQgetisnull(res, 0, 0) && !PQgetisnull(res, 0, 1) &&
		strcmp(PQgetvalue(res, 0, 0), kind) == 0;
}

/* Log a stream that ended badly and mark its exchange. */
static void
stream_fail(FeReadStream *st, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static void
stream_fail(FeReadStream *st, const char *fmt,...)
{
	char		reason[600];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	st->failed = true;
	fe_metrics_read_stream_error();
	fe_log(FE_LOG_ERROR, "%s: streamed response cut off after %lu frames, %zu bytes: %s",
		   st->what, st->frames, st->bytes, reason);
	if (st->ex != NULL)
	{
		st->ex->outcome = "stream_error";
		snprintf(st->ex->detail, sizeof(st->ex->detail), "%.150s", reason);
	}
}

/* Take the next result of the stream's query: a frame, the end, or an error. */
static void
stream_next(FeReadStream *st)
{
	PGconn	   *pg = fe_conn_pg(st->c);
	PGresult   *res;

	if (st->pending != NULL)
	{
		st->row = st->pending;
		st->pending = NULL;
		st->off = 0;
		st->frames++;
		fe_metrics_read_sent(0, 1);
		return;
	}
	for (;;)
	{
		res = PQgetResult(pg);
		if (res == NULL)
		{
			st->done = true;
			return;
		}
		switch (PQresultStatus(res))
		{
			case PGRES_SINGLE_TUPLE:
				if (!row_is(res, "chunks"))
				{
					PQclear(res);
					drain(pg);
					stream_fail(st, "promscale_ha.read() returned a row that is no 'chunks' frame "
								"(extension version mismatch?)");
					return;
				}
				st->row = res;
				st->off = 0;
				st->frames++;
				fe_metrics_read_sent(0, 1);
				return;
			case PGRES_TUPLES_OK:
				PQclear(res);	/* the end; PQgetResult returns NULL next */
				continue;
			default:
				{
					char		sqlstate[8];
					char		err[512];

					fe_result_error(pg, res, sqlstate, err, sizeof(err));
					PQclear(res);
					st->broken = fe_conn_is_broken(st->c, sqlstate);
					if (!st->broken)
						drain(pg);
					fe_metrics_db_error(sqlstate);
					stream_fail(st, "promscale_ha.read() failed [SQLSTATE %s]: %s",
								sqlstate[0] ? sqlstate : "none", err);
					return;
				}
		}
	}
}

/*
 * Would PQgetResult return without waiting for the database?  The socket is
 * read only when no whole row is buffered yet: reading whatever the database
 * has sent while a row waits would pile frames up in libpq's buffer (memory,
 * and libpq moves the unread part to the front at each read) whenever the
 * database makes frames faster than the client takes them.
 */
static bool
result_ready(PGconn *pg)
{
	if (!PQisBusy(pg))
		return true;
	if (!PQconsumeInput(pg))
		return true;			/* PQgetResult reports the failure */
	return !PQisBusy(pg);
}

/*
 * libmicrohttpd's content reader: fill buf with frames, waiting for the
 * database only while there is nothing to send yet.
 */
static ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	FeReadStream *st = cls;
	size_t		n = 0;

	while (n < max)
	{
		if (st->row != NULL)
		{
			size_t		len = (size_t) PQgetlength(st->row, 0, 1);
			size_t		take = len - st->off;

			if (take > max - n)
				take = max - n;
			memcpy(buf + n, PQgetvalue(st->row, 0, 1) + st->off, take);
			st->off += take;
			n += take;
			if (st->off < len)
				break;
			PQclear(st->row);
			st->row = NULL;
			continue;
		}
		if (st->done || st->failed)
			break;
		if (n > 0 && st->pending == NULL && !result_ready(fe_conn_pg(st->c)))
			break;
		stream_next(st);
	}
	if (n > 0)
	{
		st->bytes += n;
		fe_metrics_read_sent(n, 0);
		return (ssize_t) n;
	}
	return st->failed ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
}

/*
 * libmicrohttpd frees the response: give the connection back (cancelled
 * and closed when the query did not finish) and the --max-reads slot.
 */
static void
stream_free(void *cls)
{
	FeReadStream *st = cls;
	bool		close_it = st->broken;

	if (st->ex != NULL)
		st->ex->read_stream = NULL;
	if (st->row != NULL)
		PQclear(st->row);
	if (st->pending != NULL)
		PQclear(st->pending);
	if (!st->done && !st->failed)
	{
		PGcancel   *cancel = PQgetCancel(fe_conn_pg(st->c));
		char		err[256];

		fe_metrics_read_stream_error();
		fe_log(FE_LOG_WARNING, "%s: the client left after %lu frames, %zu bytes; cancelling the query",
			   st->what, st->frames, st->bytes);
		if (cancel != NULL)
		{
			PQcancel(cancel, err, sizeof(err));
			PQfreeCancel(cancel);
		}
		close_it = true;
	}
	fe_pool_release(st->c, close_it);
	read_slot_release();
	free(st);
}

/*
 * The first row is a frame (second: the next one, when already read): answer
 * 200 with a response that streams them and the frames after them.  Takes
 * over the connection, the slot and the rows.
 */
static enum MHD_Result
start_stream(struct MHD_Connection *conn, FeExchange *ex, FeConn *c, PGresult *first,
			 PGresult *second, size_t reqlen)
{
	FeReadStream *st = calloc(1, sizeof(FeReadStream));
	struct MHD_Response *resp;

	if (st == NULL)
	{
		PQclear(first);
		PQclear(second);
		fe_pool_release(c, first != NULL);	/* a running query: close */
		read_slot_release();
		return fe_fail(conn, ex, 503, "busy", "out of memory for a streamed response");
	}
	st->ex = ex;
	st->c = c;
	st->row = first;
	st->pending = second;
	st->frames = first != NULL ? 1 : 0;
	st->done = first == NULL;
	snprintf(st->what, sizeof(st->what), "%s %s from %s", ex->method, ex->path, ex->peer);
	if (first != NULL)
		fe_metrics_read_sent(0, 1);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
											 stream_reader, st, stream_free);
	if (resp == NULL)
	{
		stream_free(st);
		return fe_fail(conn, ex, 503, "busy", "out of memory for a streamed response");
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ct_streamed);
	ex->read_stream = st;
	fe_metrics_read_response(true);
	snprintf(ex->detail, sizeof(ex->detail), "%zu bytes request, streamed", reqlen);
	return fe_respond_response(conn, ex, resp, 200, "streamed");
}

/*
 * The query failed before anything was sent: answer by its SQLSTATE, give
 * back the connection (closed when it is broken) and the slot.
 */
static enum MHD_Result
answer_failed(struct MHD_Connection *conn, FeExchange *ex, FeConn *c, const char *sqlstate,
			  const char *err, bool at_prepare)
{
	bool		broken = fe_conn_is_broken(c, sqlstate);
	enum MHD_Result ret;

	if (!broken)
		drain(fe_conn_pg(c));
	ret = answer_db_error(conn, ex, c, sqlstate, err, broken, at_prepare);
	fe_pool_release(c, broken);
	read_slot_release();
	return ret;
}

/*
 * An error result came after the first row, before anything was sent:
 * answer_failed.  Takes over both results.
 */
static enum MHD_Result
answer_error_after_row(struct MHD_Connection *conn, FeExchange *ex, FeConn *c,
					   PGresult *res, PGresult *row)
{
	char		sqlstate[8];
	char		err[512];

	fe_result_error(fe_conn_pg(c), res, sqlstate, err, sizeof(err));
	PQclear(res);
	PQclear(row);
	return answer_failed(conn, ex, c, sqlstate, err, false);
}

/*
 * promscale_ha.read() answered rows this front end does not expect (an
 * extension of another version): 503, the rest of the result drained.
 */
static enum MHD_Result
answer_mismatch(struct MHD_Connection *conn, FeExchange *ex, FeConn *c, const char *what)
{
	drain(fe_conn_pg(c));
	fe_pool_release(c, false);
	read_slot_release();
	fe_metrics_db_error("XX000");
	return fe_fail(conn, ex, 503, "db_error", "promscale_ha.read() returned %s "
				   "(extension version mismatch?)", what);
}

/* libmicrohttpd is done with a body lent from a result (answer_whole). */
static void
clear_result(void *cls)
{
	PQclear((PGresult *) cls);
}

/*
 * The result has ended and row's body is the whole answer: send it, give all
 * back.  The body is lent to libmicrohttpd, not copied (a SAMPLES answer can
 * be hundreds of MB): row is cleared when the response is freed.
 */
static enum MHD_Result
answer_whole(struct MHD_Connection *conn, FeExchange *ex, FeConn *c, PGresult *row,
			 const char *outcome, const char *ctype, const char *const *hdrs, int nhdrs)
{
	fe_pool_release(c, false);
	read_slot_release();
	return fe_respond_lent(conn, ex, 200, outcome, ctype, PQgetvalue(row, 0, 1),
						   (size_t) PQgetlength(row, 0, 1), hdrs, nhdrs, clear_result, row);
}

/*
 * The first row is a frame.  When the end of the result has already come
 * with it (one frame: the usual short query), that frame is the whole body,
 * answered at once with a Content-Length in one write, as Go's net/http
 * answers a handler that wrote a little and returned (Prometheus' own
 * reads); an error after the row then still gets its status.  Otherwise
 * the frames stream with chunked transfer encoding as they come.  Takes
 * over the connection, the slot and the row.
 */
static enum MHD_Result
answer_chunks(struct MHD_Connection *conn, FeExchange *ex, FeConn *c, PGresult *first,
			  size_t reqlen)
{
	PGconn	   *pg = fe_conn_pg(c);
	PGresult   *next;
	ExecStatusType s;
	size_t		len = (size_t) PQgetlength(first, 0, 1);

	if (!result_ready(pg))
		return start_stream(conn, ex, c, first, NULL, reqlen);
	next = PQgetResult(pg);
	s = next != NULL ? PQresultStatus(next) : PGRES_TUPLES_OK;
	if (s == PGRES_SINGLE_TUPLE)
	{
		if (row_is(next, "chunks"))
			return start_stream(conn, ex, c, first, next, reqlen);
		PQclear(next);
		PQclear(first);
		return answer_mismatch(conn, ex, c, "a row that is no 'chunks' frame");
	}
	if (s != PGRES_TUPLES_OK)
		return answer_error_after_row(conn, ex, c, next, first);
	PQclear(next);
	drain(pg);
	fe_metrics_read_response(true);
	fe_metrics_read_sent(len, 1);
	snprintf(ex->detail, sizeof(ex->detail), "%zu bytes request, one frame of %zu bytes",
			 reqlen, len);
	return answer_whole(conn, ex, c, first, "streamed", ct_streamed, NULL, 0);
}

/*
 * The first row is the whole SAMPLES response: read the result to its end
 * (an error after the row still gets its status), then answer 200 with it.
 * Takes over the connection, the slot and the row.
 */
static enum MHD_Result
answer_samples(struct MHD_Connection *conn, FeExchange *ex, FeConn *c, PGresult *row,
			   size_t reqlen)
{
	PGconn	   *pg = fe_conn_pg(c);
	PGresult   *res;
	static const char *const hdrs[2] = {MHD_HTTP_HEADER_CONTENT_ENCODING, "snappy"};
	size_t		len = (size_t) PQgetlength(row, 0, 1);

	while ((res = PQgetResult(pg)) != NULL)
	{
		ExecStatusType s = PQresultStatus(res);

		if (s == PGRES_SINGLE_TUPLE || s == PGRES_TUPLES_OK)
		{
			bool		extra = s == PGRES_SINGLE_TUPLE;

			PQclear(res);
			if (!extra)
				continue;
			PQclear(row);
			return answer_mismatch(conn, ex, c, "more than one row for a 'samples' response");
		}
		else
			return answer_error_after_row(conn, ex, c, res, row);
	}
	fe_metrics_read_response(false);
	fe_metrics_read_sent(len, 0);
	snprintf(ex->detail, sizeof(ex->detail), "%zu bytes request, %zu bytes samples response",
			 reqlen, len);
	return answer_whole(conn, ex, c, row, "ok", ct_samples, hdrs, 1);
}

/* The whole body is here: run promscale_ha.read() and answer. */
enum MHD_Result
fe_read_finish(struct MHD_Connection *conn, FeExchange *ex)
{
	FeConn	   *c;
	PGconn	   *pg;
	PGresult   *res;
	FeAcquireError why;
	char		err[512];
	char		sqlstate[8];
	const Oid	types[1] = {BYTEAOID};
	const char *values[1];
	int			lengths[1];
	const int	formats[1] = {1};
	bool		at_prepare = false;
	size_t		reqlen = ex->body_len;

	if (ex->reject_status != 0)
		return fe_fail(conn, ex, ex->reject_status, ex->reject_outcome, "%s",
					   ex->reject_reason);
	fe_metrics_read_body_bytes(ex->body_len);
	if (ex->body_len == 0)
		return fe_fail(conn, ex, 400, "invalid", "empty body: expected a snappy-compressed ReadRequest");

	if (!read_slot_acquire(fe_cfg->pool_wait_ms))
		return fe_fail(conn, ex, 503, "busy", "%d remote reads in progress (--max-reads), "
					   "none finished within --pool-wait", fe_cfg->max_reads);
	c = fe_pool_acquire(fe_cfg->pool_wait_ms, &why, err, sizeof(err));
	if (c == NULL)
	{
		read_slot_release();
		if (why == FE_ACQ_CONNECT)
			fe_metrics_db_error("");
		return fe_fail(conn, ex, 503, why == FE_ACQ_TIMEOUT ? "pool_timeout" : "db_unavailable",
					   "%s", err);
	}
	pg = fe_conn_pg(c);

	if (!fe_conn_prepare(c, FE_STMT_READ, "pha_read", read_sql, 1, types,
						 sqlstate, err, sizeof(err)))
	{
		at_prepare = true;
		goto failed;
	}
	values[0] = ex->body;
	lengths[0] = (int) ex->body_len;
	if (!PQsendQueryPrepared(pg, "pha_read", 1, values, lengths, formats, 1))
	{
		fe_result_error(pg, NULL, sqlstate, err, sizeof(err));
		goto failed;
	}
	if (!PQsetSingleRowMode(pg))
		fe_log(FE_LOG_WARNING, "libpq refused single-row mode: the read result is buffered whole");
	fe_exchange_drop_body(ex);

	res = PQgetResult(pg);
	switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR)
	{
		case PGRES_SINGLE_TUPLE:
			if (row_is(res, "samples"))
				return answer_samples(conn, ex, c, res, reqlen);
			if (row_is(res, "chunks"))
				return answer_chunks(conn, ex, c, res, reqlen);
			PQclear(res);
			return answer_mismatch(conn, ex, c, "a row of an unknown kind");
		case PGRES_TUPLES_OK:
			/* no row at all: an empty stream (no frame) */
			PQclear(res);
			drain(pg);
			return start_stream(conn, ex, c, NULL, NULL, reqlen);
		default:
			fe_result_error(pg, res, sqlstate, err, sizeof(err));
			PQclear(res);
			break;
	}

failed:
	return answer_failed(conn, ex, c, sqlstate, err, at_prepare);
}
