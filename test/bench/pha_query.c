/*-------------------------------------------------------------------------
 *
 * pha_query.c
 *	  Times one SQL query the way an application receives its rows: the
 *	  SQL-read client of the storage benchmark (test/bench/storage.py).
 *
 *	pha-query --db CONNINFO --sql FILE [--reps N]
 *
 * Runs the SELECT in FILE (no trailing semicolon needed) once untimed (the
 * warm-up), then N times (default 5) on the same connection, each time in
 * two ways:
 *
 *	copy	COPY (query) TO STDOUT, text format: the server runs the same plan
 *			and the same output functions as for a text-format query, and the
 *			client only receives the bytes, as an HTTP client of Prometheus'
 *			query API reads a JSON body without parsing it.  This is the figure
 *			compared with the peers.
 *	rows	PQexec of the query, text format: every row also parsed by libpq
 *			into its result, as an application receives rows.  (psql, which
 *			the benchmark used before, also lays every row out for printing.)
 *	binary	COPY (query) TO STDOUT (FORMAT binary): the same plan with the
 *			types' binary send functions instead of their text output, as a
 *			driver that asks for binary results receives them (for
 *			information: most of a large text read is timestamptz_out and
 *			float8out).
 *
 * The time runs from sending the query to the last byte (copy) or row (rows)
 * received.  Backend CPU comes from /proc/PID/schedstat of the connection's
 * backend before and after (the client runs on the same machine as root).
 *
 * Output, tab-separated, one line per timed run and way:
 *	<copy|rows|binary> <i> <wall_ns> <backend_cpu_ns> <rows> <bytes> <client_cpu_ns>
 * where bytes is what the client received (copy, binary: the COPY data; rows:
 * the text of every field) and client_cpu_ns this program's own CPU time during
 * the run.  Exit status 0, or 1 with a message on stderr when anything fails.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "clock.h"

static void
die(const char *what, PGconn *c)
{
	fprintf(stderr, "pha-query: %s%s%s\n", what, c ? ": " : "",
			c ? PQerrorMessage(c) : "");
	exit(1);
}

/* This process's CPU time in nanoseconds. */
static long long
self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Backend CPU nanoseconds; the backend must be readable. */
static long long
backend_cpu_ns(int pid)
{
	long long	ns = proc_cpu_ns(pid);

	if (ns < 0)
		die("cannot read the backend's schedstat", NULL);
	return ns;
}

static char *
read_sql(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf;
	long		len;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		die("cannot read the SQL file", NULL);
	buf = malloc(len + 1);
	if (!buf || fread(buf, 1, len, f) != (size_t) len)
		die("cannot read the SQL file", NULL);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/*
 * COPY (sql) TO STDOUT: the rows and bytes received.  binary: the format's
 * header travels with the first row and its trailer in a message of its own,
 * which is not a row.
 */
static void
run_copy(PGconn *c, const char *copy_sql, bool binary, long long *rows, long long *bytes)
{
	PGresult   *r = PQexec(c, copy_sql);
	char	   *buf;
	int			n;

	if (PQresultStatus(r) != PGRES_COPY_OUT)
		die("COPY failed", c);
	PQclear(r);
	*rows = *bytes = 0;
	while ((n = PQgetCopyData(c, &buf, 0)) > 0)
	{
		(*rows)++;
		*bytes += n;
		PQfreemem(buf);
	}
	if (n != -1)
		die("COPY OUT failed", c);
	if (binary && *rows > 0)
		(*rows)--;
	while ((r = PQgetResult(c)) != NULL)
	{
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("COPY failed", c);
		PQclear(r);
	}
}

/* PQexec of sql: the rows received and the bytes of their fields. */
static void
run_rows(PGconn *c, const char *sql, long long *rows, long long *bytes)
{
	PGresult   *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("query failed", c);
	*rows = PQntuples(r);
	*bytes = 0;
	for (int i = 0; i < PQntuples(r); i++)
		for (int j = 0; j < PQnfields(r); j++)
			*bytes += PQgetlength(r, i, j);
	PQclear(r);
}

int
main(int argc, char **argv)
{
	const char *conninfo = NULL,
			   *sqlpath = NULL;
	int			reps = 5,
				pid;
	char	   *sql,
			   *copy_sql,
			   *bin_sql;
	size_t		len;
	PGconn	   *c;
	PGresult   *r;
	long long	rows,
				bytes;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			conninfo = argv[++i];
		else if (strcmp(argv[i], "--sql") == 0 && i + 1 < argc)
			sqlpath = argv[++i];
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else
		{
			fprintf(stderr, "usage: pha-query --db CONNINFO --sql FILE [--reps N]\n");
			return 2;
		}
	}
	if (!conninfo || !sqlpath || reps < 1)
	{
		fprintf(stderr, "usage: pha-query --db CONNINFO --sql FILE [--reps N]\n");
		return 2;
	}
	sql = read_sql(sqlpath);
	len = strlen(sql);
	while (len > 0 && (sql[len - 1] == ';' || sql[len - 1] == '\n' || sql[len - 1] == ' '))
		sql[--len] = '\0';
	if (asprintf(&copy_sql, "COPY (%s) TO STDOUT", sql) < 0 ||
		asprintf(&bin_sql, "COPY (%s) TO STDOUT (FORMAT binary)", sql) < 0)
		die("out of memory", NULL);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect", c);
	r = PQexec(c, "SELECT pg_catalog.pg_backend_pid()");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("pg_backend_pid() failed", c);
	pid = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);

	run_copy(c, copy_sql, false, &rows, &bytes);	/* warm-up */
	run_rows(c, sql, &rows, &bytes);
	run_copy(c, bin_sql, true, &rows, &bytes);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < reps; i++)
	{
		for (int way = 0; way < 3; way++)
		{
			long long	cpu0 = backend_cpu_ns(pid);
			long long	own0 = self_cpu_ns();
			long long	t0 = now_ns();
			long long	wall,
						own;

			if (way == 0)
				run_copy(c, copy_sql, false, &rows, &bytes);
			else if (way == 1)
				run_rows(c, sql, &rows, &bytes);
			else
				run_copy(c, bin_sql, true, &rows, &bytes);
			wall = now_ns() - t0;
			own = self_cpu_ns() - own0;
			printf("%s\t%d\t%lld\t%lld\t%lld\t%lld\t%lld\n",
				   way == 0 ? "copy" : way == 1 ? "rows" : "binary", i, wall,
				   backend_cpu_ns(pid) - cpu0, rows, bytes, own);
		}
	}
	PQfinish(c);
	free(sql);
	free(copy_sql);
	free(bin_sql);
	return 0;
}
