/*-------------------------------------------------------------------------
 *
 * pha_bench.c
 *	  The client of the promscale_ha benchmark (test/bench/run.sh).
 *
 * One program, three modes, each driven by a plan file prepared by bench.py:
 *
 *	pha-bench pair  --db CONNINFO [--mem] [--no-sorted] --plan FILE
 *		Section 1: for each line "label path lo_ms hi_ms newseries", calls
 *		promscale_ha.write($1) with the payload as a binary parameter on
 *		connection W, then (untimed) reads back exactly the rows that call
 *		stored -- samples in [lo, hi), plus their series rows when newseries
 *		is 1 -- as COPY binary into memory on connection X, and then times
 *		COPY ... FROM STDIN (FORMAT binary) of those same bytes into the
 *		mirror tables bench.samples_copy (and bench.series_copy) on
 *		connection C.  W and C are separate backends, so each keeps its own
 *		caches, as two independent clients would.  For information, the same
 *		rows sorted by (series_id, time) are then timed into a third set,
 *		bench.samples_sorted / bench.series_sorted: what sorting a request's
 *		rows before the insert would give (left out with --no-sorted).  Section
 *		5 runs this mode too (--no-sorted --mem), so that write()'s cost per
 *		sample as active series grow stands next to COPY's of the same rows.
 *
 *	pha-bench write --db CONNINFO [-c N] [--mem] --plan FILE
 *		Lines "label samples path".  Consecutive lines with the same label are
 *		a round; the N connections (threads) start each round together
 *		(barrier) and take the round's lines round-robin; the round's wall
 *		time runs from the common start to the last thread's end.
 *
 *	pha-bench http  --url HOST:PORT/PATH [-c N] --plan FILE
 *		The same rounds, as remote-write POSTs (snappy, x-protobuf) over
 *		keep-alive HTTP/1.1 connections to 127.0.0.1.
 *
 *	--perf-ctl FIFO (write, http): after the first round (the warm-up),
 *	write "enable" to FIFO, the control FIFO of a `perf record -D -1
 *	--control fifo:FIFO` that runs this program, so the profile leaves the
 *	warm-up out.
 *
 *	--cpu-tree PID (write, http; up to 8): each round also reports the CPU
 *	time used meanwhile by PID and all its descendants (/proc/PID/stat
 *	utime + stime): the server side of the target.
 *
 * Every payload is read into memory before anything is timed.  Server-side
 * CPU of a backend is read from /proc/PID/schedstat (first field: ns on the
 * CPU; the client runs on the same box as root), memory from
 * /proc/PID/status (VmHWM, RssAnon, RssShmem).  Every wait is bounded:
 * libpq connect_timeout and statement_timeout, SO_RCVTIMEO/SO_SNDTIMEO.
 *
 * Output, one record per line, tab-separated, to stdout:
 *	pid   <thread> <backend pid>
 *	req   <label> <thread> <wall_ns> <cpu_ns> <received> <written> <dedup> <outcome> <hwm_kb> <anon_kb> <shmem_kb>
 *	http  <label> <thread> <wall_ns> <status>
 *	round <label> <wall_ns> <requests> <samples> <errors> <server_cpu_ns>
 *	pair  <label> <write_ns> <write_cpu_ns> <copy_ns> <copy_cpu_ns> <rows> <series_rows> <written> <copy_bytes> <payload_bytes> <sorted_copy_ns> <write_wal_bytes> <copy_wal_bytes> [<hwm_kb> <anon_kb> <shmem_kb>]
 *	(WAL bytes: pg_current_wal_insert_lsn() asked on connection X, untimed, right
 *	before and after the write() and the COPY, commit records included;
 *	sorted_copy_ns 0 with --no-sorted; the memory of W's backend with --mem)
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"

#define BYTEAOID 17
#define MAX_THREADS 64
#define IO_TIMEOUT_S 120

static const char write_sql[] =
"SELECT samples_received, samples_written, samples_deduplicated, outcome "
"FROM promscale_ha.write($1::bytea)";

typedef struct Item
{
	char	   *label;
	char	   *path;
	long long	samples;		/* expected samples (write/http modes) */
	long long	lo_ms, hi_ms;	/* pair mode */
	int			newseries;		/* pair mode */
	char	   *data;
	size_t		len;
} Item;

typedef struct Round
{
	int			first, n;		/* items[first .. first+n) */
} Round;

static Item *items;
static int	nitems;
static Round *rounds;
static int	nrounds;

static const char *conninfo = "";
static const char *url = NULL;
static int	nconn = 1;
static int	want_mem = 0;
static int	want_sorted = 1;	/* pair mode: also time the sorted copy */

static const char *perf_ctl = NULL;
static int	cpu_roots[8];
static int	ncpu_roots = 0;

static pthread_barrier_t barrier;
static struct timespec round_start;
static long long round_cpu_start;
static long long round_errors[MAX_THREADS];
static long long round_samples[MAX_THREADS];

static void
die(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "pha-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* VmHWM, RssAnon and RssShmem of a process, in kB (-1 when unknown). */
static void
proc_mem(int pid, long *hwm, long *anon, long *shmem)
{
	char		path[64], line[256];
	FILE	   *f;

	*hwm = *anon = *shmem = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
	{
		if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = atol(line + 6);
		else if (strncmp(line, "RssAnon:", 8) == 0)
			*anon = atol(line + 8);
		else if (strncmp(line, "RssShmem:", 9) == 0)
			*shmem = atol(line + 9);
	}
	fclose(f);
}

/*
 * CPU time (utime + stime, all threads) of the processes in cpu_roots and all
 * their descendants, in ns; the whole server side of an HTTP target (the
 * front end plus the postmaster and every backend, or one Go process).
 */
static long long
tree_cpu_ns(void)
{
	enum {MAXP = 16384};
	static int	pid_of[MAXP], ppid_of[MAXP];
	static long long ticks_of[MAXP];
	static char in_tree[MAXP];
	DIR		   *d;
	struct dirent *e;
	long long	total = 0;
	int			n = 0, changed;

	if (ncpu_roots == 0)
		return -1;
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL && n < MAXP)
	{
		char		path[64], buf[1024], *p;
		int			pid = atoi(e->d_name), ppid;
		unsigned long ut, st;
		FILE	   *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (!(f = fopen(path, "r")))
			continue;
		if (!fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) ||
			sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ppid, &ut, &st) != 3)
		{
			fclose(f);
			continue;
		}
		fclose(f);
		pid_of[n] = pid;
		ppid_of[n] = ppid;
		ticks_of[n] = (long long) ut + st;
		in_tree[n] = 0;
		for (int i = 0; i < ncpu_roots; i++)
			if (cpu_roots[i] == pid)
				in_tree[n] = 1;
		n++;
	}
	closedir(d);
	/* add children of members until nothing changes (the tree is shallow) */
	do
	{
		changed = 0;
		for (int i = 0; i < n; i++)
			if (!in_tree[i])
				for (int j = 0; j < n; j++)
					if (in_tree[j] && pid_of[j] == ppid_of[i])
					{
						in_tree[i] = changed = 1;
						break;
					}
	} while (changed);
	for (int i = 0; i < n; i++)
		if (in_tree[i])
			total += ticks_of[i];
	return total * (1000000000LL / sysconf(_SC_CLK_TCK));
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		size;

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		die("cannot size %s", path);
	buf = malloc(size > 0 ? size : 1);
	if (!buf)
		die("out of memory reading %s", path);
	if (size > 0 && fread(buf, 1, size, f) != (size_t) size)
		die("short read on %s", path);
	fclose(f);
	*len = size;
	return buf;
}

/* Reads the plan: one item per line, fields separated by blanks. */
static void
read_plan(const char *path, int pair_mode)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			cap = 64;

	if (!f)
		die("cannot open plan %s: %s", path, strerror(errno));
	items = calloc(cap, sizeof(Item));
	while (fgets(line, sizeof(line), f))
	{
		char		label[1024], p[3072];
		Item	   *it;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (nitems == cap)
		{
			cap *= 2;
			items = realloc(items, cap * sizeof(Item));
		}
		it = &items[nitems];
		memset(it, 0, sizeof(*it));
		if (pair_mode)
		{
			if (sscanf(line, "%1023s %3071s %lld %lld %d", label, p, &it->lo_ms,
					   &it->hi_ms, &it->newseries) != 5)
				die("bad pair plan line: %s", line);
		}
		else if (sscanf(line, "%1023s %lld %3071s", label, &it->samples, p) != 3)
			die("bad plan line: %s", line);
		it->label = strdup(label);
		it->path = strdup(p);
		it->data = read_file(p, &it->len);
		nitems++;
	}
	fclose(f);
	if (nitems == 0)
		die("empty plan %s", path);

	/* rounds: runs of consecutive lines with the same label */
	rounds = calloc(nitems, sizeof(Round));
	for (int i = 0; i < nitems; i++)
	{
		if (i == 0 || strcmp(items[i].label, items[i - 1].label) != 0)
			rounds[nrounds++].first = i;
		rounds[nrounds - 1].n++;
	}
}

static PGconn *
db_connect(void)
{
	PGconn	   *c = PQconnectdb(conninfo);
	PGresult   *r;

	if (PQstatus(c) != CONNECTION_OK)
		die("connection failed: %s", PQerrorMessage(c));
	r = PQexec(c, "SET statement_timeout = '600s'");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("SET failed: %s", PQerrorMessage(c));
	PQclear(r);
	return c;
}

static void
db_exec(PGconn *c, const char *sql)
{
	PGresult   *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* Runs write($1) with a binary bytea parameter; fills the result fields. */
static int
call_write(PGconn *c, const Item *it, long long *received, long long *written,
		   long long *dedup, char *outcome, size_t outcome_size)
{
	const char *values[1] = {it->data};
	int			lengths[1] = {(int) it->len};
	int			formats[1] = {1};
	PGresult   *r = PQexecPrepared(c, "w", 1, values, lengths, formats, 0);
	int			ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	if (ok)
	{
		*received = atoll(PQgetvalue(r, 0, 0));
		*written = atoll(PQgetvalue(r, 0, 1));
		*dedup = atoll(PQgetvalue(r, 0, 2));
		snprintf(outcome, outcome_size, "%s", PQgetvalue(r, 0, 3));
	}
	else
	{
		fprintf(stderr, "pha-bench: write(%s) failed: %s", it->path, PQerrorMessage(c));
		*received = *written = *dedup = 0;
		snprintf(outcome, outcome_size, "error");
	}
	PQclear(r);
	return ok;
}

static void
prepare_write(PGconn *c)
{
	Oid			types[1] = {BYTEAOID};
	PGresult   *r = PQprepare(c, "w", write_sql, 1, types);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("prepare failed: %s", PQerrorMessage(c));
	PQclear(r);
}

/* ---------------------------------------------------------------- rounds */

typedef struct Thread
{
	int			id;
	PGconn	   *conn;			/* write mode */
	int			pid;
	int			sock;			/* http mode */
	char		host[256], path[512];
	int			port;
} Thread;

static Thread threads[MAX_THREADS];

/* ------------------------------------------------------------------ http */

static int
http_connect(Thread *t)
{
	struct sockaddr_in sa;
	struct timeval tv = {IO_TIMEOUT_S, 0};
	int			one = 1;
	int			s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(t->port);
	if (inet_pton(AF_INET, t->host, &sa.sin_addr) != 1)
		die("host must be an IPv4 loopback address: %s", t->host);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *) &sa, sizeof(sa)) != 0)
	{
		close(s);
		return -1;
	}
	t->sock = s;
	return 0;
}

static int
send_all(int s, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = send(s, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Does header line [l, eol) contain word w (case-insensitive)? */
static int
line_has(const char *l, const char *eol, const char *w)
{
	size_t		n = strlen(w);

	for (const char *p = l; p + n <= eol; p++)
		if (strncasecmp(p, w, n) == 0)
			return 1;
	return 0;
}

/* Makes at least need bytes available in buf[0..*have); 0 or -1. */
static int
fill(int s, char *buf, size_t cap, size_t *have, size_t need)
{
	if (need > cap)
		return -1;
	while (*have < need)
	{
		ssize_t		n = recv(s, buf + *have, cap - *have, 0);

		if (n <= 0)
			return -1;
		*have += n;
	}
	return 0;
}

/*
 * Reads one response; returns the status code, or -1 on a broken
 * connection.  Handles Content-Length and chunked bodies; *close_after is
 * set when the server will close the connection.
 */
static int
http_read_response(int s, int *close_after)
{
	static __thread char buf[65536];
	size_t		have = 0;
	char	   *end = NULL;
	int			status;
	long long	clen = -1;
	int			chunked = 0;
	size_t		hdr_len;

	*close_after = 0;
	while (!end)
	{
		if (fill(s, buf, sizeof(buf) - 1, &have, have + 1) != 0)
			return -1;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	hdr_len = end + 4 - buf;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (char *l = strstr(buf, "\r\n") + 2; l < end; l = strstr(l, "\r\n") + 2)
	{
		char	   *eol = strstr(l, "\r\n");

		if (strncasecmp(l, "content-length:", 15) == 0)
			clen = atoll(l + 15);
		else if (strncasecmp(l, "transfer-encoding:", 18) == 0)
			chunked = line_has(l, eol, "chunked");
		else if (strncasecmp(l, "connection:", 11) == 0)
			*close_after = line_has(l, eol, "close");
	}
	have -= hdr_len;
	memmove(buf, buf + hdr_len, have);
	if (chunked)
	{
		for (;;)
		{
			char	   *eol = NULL;
			long		size;

			while (!(eol = memmem(buf, have, "\r\n", 2)))
				if (fill(s, buf, sizeof(buf), &have, have + 1) != 0)
					return -1;
			size = strtol(buf, NULL, 16);
			if (size < 0)
				return -1;
			/* skip the size line, the data and its CRLF (the last: the final CRLF) */
			{
				size_t		skip = (eol + 2 - buf) + size + 2;

				while (skip > 0)
				{
					size_t		k = skip < have ? skip : have;

					memmove(buf, buf + k, have - k);
					have -= k;
					skip -= k;
					if (skip > 0 && fill(s, buf, sizeof(buf), &have, 1) != 0)
						return -1;
				}
			}
			if (size == 0)
				break;
		}
	}
	else if (clen >= 0)
	{
		long long	left = clen - (long long) have;

		while (left > 0)
		{
			ssize_t		n = recv(s, buf, sizeof(buf) < (size_t) left ? sizeof(buf) : (size_t) left, 0);

			if (n <= 0)
				return -1;
			left -= n;
		}
	}
	else if (status != 204 && status != 304)
		*close_after = 1;		/* body delimited by close: do not reuse */
	return status;
}

/* POSTs one payload; reconnects once if a kept-alive connection broke. */
static int
http_post(Thread *t, const Item *it)
{
	char		hdr[1024];
	int			hlen;

	hlen = snprintf(hdr, sizeof(hdr),
					"POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
					"Content-Encoding: snappy\r\nContent-Type: application/x-protobuf\r\n"
					"X-Prometheus-Remote-Write-Version: 0.1.0\r\n"
					"User-Agent: pha-bench\r\nContent-Length: %zu\r\n\r\n",
					t->path, t->host, t->port, it->len);
	for (int attempt = 0; attempt < 2; attempt++)
	{
		int			status, close_after;

		if (t->sock < 0 && http_connect(t) != 0)
			return -1;
		if (send_all(t->sock, hdr, hlen) == 0 && send_all(t->sock, it->data, it->len) == 0 &&
			(status = http_read_response(t->sock, &close_after)) > 0)
		{
			if (close_after)
			{
				close(t->sock);
				t->sock = -1;
			}
			return status;
		}
		close(t->sock);
		t->sock = -1;
	}
	return -1;
}

/* ------------------------------------------------------- write/http runs */

static void *
run_thread(void *arg)
{
	Thread	   *t = arg;
	char		outcome[64];

	for (int r = 0; r < nrounds; r++)
	{
		const Round *rd = &rounds[r];

		round_errors[t->id] = 0;
		round_samples[t->id] = 0;
		pthread_barrier_wait(&barrier);
		if (t->id == 0)
		{
			round_cpu_start = tree_cpu_ns();
			clock_gettime(CLOCK_MONOTONIC, &round_start);
		}
		pthread_barrier_wait(&barrier);
		for (int i = t->id; i < rd->n; i += nconn)
		{
			const Item *it = &items[rd->first + i];
			long long	t0, t1, c0 = 0, c1 = 0;

			if (url)
			{
				int			status;

				t0 = now_ns();
				status = http_post(t, it);
				t1 = now_ns();
				if (status < 200 || status > 299)
				{
					round_errors[t->id]++;
					fprintf(stderr, "pha-bench: POST %s -> %d\n", it->path, status);
				}
				else
					round_samples[t->id] += it->samples;
				printf("http\t%s\t%d\t%lld\t%d\n", it->label, t->id, t1 - t0, status);
			}
			else
			{
				long long	rec, wr, dd;
				long		hwm = -1, anon = -1, shm = -1;
				int			ok;

				c0 = proc_cpu_ns(t->pid);
				t0 = now_ns();
				ok = call_write(t->conn, it, &rec, &wr, &dd, outcome, sizeof(outcome));
				t1 = now_ns();
				c1 = proc_cpu_ns(t->pid);
				if (!ok)
					round_errors[t->id]++;
				round_samples[t->id] += wr + dd;
				if (want_mem)
					proc_mem(t->pid, &hwm, &anon, &shm);
				printf("req\t%s\t%d\t%lld\t%lld\t%lld\t%lld\t%lld\t%s\t%ld\t%ld\t%ld\n",
					   it->label, t->id, t1 - t0, (c0 >= 0 && c1 >= 0) ? c1 - c0 : -1,
					   rec, wr, dd, outcome, hwm, anon, shm);
			}
		}
		pthread_barrier_wait(&barrier);
		if (t->id == 0)
		{
			struct timespec end;
			long long	errs = 0, samples = 0, cpu;

			clock_gettime(CLOCK_MONOTONIC, &end);
			cpu = tree_cpu_ns();
			for (int k = 0; k < nconn; k++)
			{
				errs += round_errors[k];
				samples += round_samples[k];
			}
			printf("round\t%s\t%lld\t%d\t%lld\t%lld\t%lld\n", items[rd->first].label,
				   (long long) (end.tv_sec - round_start.tv_sec) * 1000000000LL +
				   (end.tv_nsec - round_start.tv_nsec),
				   rd->n, samples, errs,
				   (cpu >= 0 && round_cpu_start >= 0) ? cpu - round_cpu_start : -1);
			fflush(stdout);
			if (r == 0 && perf_ctl)
			{
				/* the warm-up is over: tell perf record (-D -1 --control) to start */
				FILE	   *f = fopen(perf_ctl, "w");

				if (!f || fputs("enable\n", f) < 0 || fclose(f) != 0)
					die("cannot write to %s", perf_ctl);
			}
		}
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

static int
run_rounds(void)
{
	pthread_t	tids[MAX_THREADS];

	for (int i = 0; i < nconn; i++)
	{
		Thread	   *t = &threads[i];

		t->id = i;
		t->sock = -1;
		if (url)
		{
			const char *u = url, *colon, *slash;

			if (strncmp(u, "http://", 7) == 0)
				u += 7;
			colon = strchr(u, ':');
			slash = strchr(u, '/');
			if (!colon || !slash || slash < colon || colon - u >= (long) sizeof(t->host))
				die("--url must be HOST:PORT/PATH: %s", url);
			memcpy(t->host, u, colon - u);
			t->host[colon - u] = '\0';
			t->port = atoi(colon + 1);
			snprintf(t->path, sizeof(t->path), "%s", slash);
			if (http_connect(t) != 0)
				die("cannot connect to %s:%d", t->host, t->port);
		}
		else
		{
			t->conn = db_connect();
			prepare_write(t->conn);
			t->pid = PQbackendPID(t->conn);
			printf("pid\t%d\t%d\n", i, t->pid);
		}
	}
	fflush(stdout);
	pthread_barrier_init(&barrier, NULL, nconn);
	for (int i = 0; i < nconn; i++)
		if (pthread_create(&tids[i], NULL, run_thread, &threads[i]) != 0)
			die("pthread_create failed");
	for (int i = 0; i < nconn; i++)
		pthread_join(tids[i], NULL);
	for (int i = 0; i < nconn; i++)
	{
		if (threads[i].conn)
			PQfinish(threads[i].conn);
		if (threads[i].sock >= 0)
			close(threads[i].sock);
	}
	return 0;
}

/* ------------------------------------------------------------------ pair */

typedef struct Buf
{
	char	   *data;
	size_t		len, cap;
} Buf;

static void
buf_add(Buf *b, const char *p, size_t n)
{
	if (b->len + n > b->cap)
	{
		b->cap = (b->len + n) * 2;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			die("out of memory");
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* COPY (query) TO STDOUT (FORMAT binary) into memory; returns the row count. */
static long long
copy_out(PGconn *c, const char *query, Buf *b)
{
	char	   *sql = NULL;
	PGresult   *r;
	char	   *row;
	int			n;
	long long	rows;

	b->len = 0;
	if (asprintf(&sql, "COPY (%s) TO STDOUT (FORMAT binary)", query) < 0)
		die("out of memory");
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT)
		die("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	while ((n = PQgetCopyData(c, &row, 0)) > 0)
	{
		buf_add(b, row, n);
		PQfreemem(row);
	}
	if (n != -1)
		die("COPY OUT failed: %s", PQerrorMessage(c));
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("COPY OUT failed: %s", PQerrorMessage(c));
	rows = atoll(PQcmdTuples(r));
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	free(sql);
	return rows;
}

/* COPY table FROM STDIN (FORMAT binary) of a buffer, in 64 kB messages. */
static void
copy_in(PGconn *c, const char *table, const Buf *b)
{
	char		sql[256];
	PGresult   *r;

	snprintf(sql, sizeof(sql), "COPY %s FROM STDIN (FORMAT binary)", table);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		die("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	for (size_t off = 0; off < b->len; off += 65536)
	{
		size_t		n = b->len - off < 65536 ? b->len - off : 65536;

		if (PQputCopyData(c, b->data + off, (int) n) != 1)
			die("PQputCopyData: %s", PQerrorMessage(c));
	}
	if (PQputCopyEnd(c, NULL) != 1)
		die("PQputCopyEnd: %s", PQerrorMessage(c));
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("COPY %s failed: %s", table, PQerrorMessage(c));
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
}

/* The WAL insert position in bytes, asked on connection c (untimed). */
static long long
wal_pos(PGconn *c)
{
	PGresult   *r = PQexec(c, "SELECT (pg_catalog.pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint");
	long long	pos;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("pg_current_wal_insert_lsn(): %s", PQerrorMessage(c));
	pos = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return pos;
}

static int
run_pair(void)
{
	PGconn	   *w = db_connect(), *x = db_connect(), *c = db_connect();
	int			wpid = PQbackendPID(w), cpid = PQbackendPID(c);
	Buf			samples = {0}, series = {0}, sorted = {0};
	char		outcome[64];

	prepare_write(w);
	printf("pid\tw\t%d\npid\tc\t%d\n", wpid, cpid);
	for (int i = 0; i < nitems; i++)
	{
		const Item *it = &items[i];
		long long	rec, wr, dd, rows, srows = 0;
		long long	t0, t1, t2, t3, t4, t5, c0, c1, c2, c3, l0, l1, l2, l3;
		char		q[1024], range[256];

		l0 = wal_pos(x);
		c0 = proc_cpu_ns(wpid);
		t0 = now_ns();
		if (!call_write(w, it, &rec, &wr, &dd, outcome, sizeof(outcome)))
			die("write() failed on %s", it->path);
		t1 = now_ns();
		c1 = proc_cpu_ns(wpid);
		l1 = wal_pos(x);

		/* untimed: read back the rows that call stored, in insertion order */
		snprintf(range, sizeof(range),
				 "time >= 'epoch'::timestamptz + %lld * interval '1 ms' AND "
				 "time < 'epoch'::timestamptz + %lld * interval '1 ms'",
				 it->lo_ms, it->hi_ms);
		snprintf(q, sizeof(q),
				 "SELECT series_id, time, value FROM promscale_ha.samples_head WHERE %s "
				 "ORDER BY tableoid, ctid", range);
		rows = copy_out(x, q, &samples);
		if (it->newseries)
		{
			snprintf(q, sizeof(q),
					 "SELECT * FROM promscale_ha.series s WHERE id IN "
					 "(SELECT series_id FROM promscale_ha.samples WHERE %s) "
					 "AND NOT EXISTS (SELECT 1 FROM bench.series_copy c WHERE c.id = s.id) "
					 "ORDER BY id", range);
			srows = copy_out(x, q, &series);
		}
		db_exec(x, "SELECT bench.sync_partitions()");

		/* timed: the same rows into the mirror tables */
		l2 = wal_pos(x);
		c2 = proc_cpu_ns(cpid);
		t2 = now_ns();
		if (it->newseries)
		{
			db_exec(c, "BEGIN");
			copy_in(c, "bench.series_copy", &series);
			copy_in(c, "bench.samples_copy", &samples);
			db_exec(c, "COMMIT");
		}
		else
			copy_in(c, "bench.samples_copy", &samples);
		t3 = now_ns();
		c3 = proc_cpu_ns(cpid);
		l3 = wal_pos(x);

		/* timed: the same rows sorted by (series_id, time), into a third set */
		t4 = t5 = 0;
		if (want_sorted)
		{
			snprintf(q, sizeof(q),
					 "SELECT series_id, time, value FROM promscale_ha.samples WHERE %s "
					 "ORDER BY series_id, time", range);
			copy_out(x, q, &sorted);
			t4 = now_ns();
			if (it->newseries)
			{
				db_exec(c, "BEGIN");
				copy_in(c, "bench.series_sorted", &series);
				copy_in(c, "bench.samples_sorted", &sorted);
				db_exec(c, "COMMIT");
			}
			else
				copy_in(c, "bench.samples_sorted", &sorted);
			t5 = now_ns();
		}
		printf("pair\t%s\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%zu\t%zu\t%lld\t%lld\t%lld",
			   it->label, t1 - t0, c1 - c0, t3 - t2, c3 - c2, rows, srows, wr,
			   samples.len + (it->newseries ? series.len : 0), it->len, t5 - t4,
			   l1 - l0, l3 - l2);
		if (want_mem)
		{
			long		hwm, anon, shm;

			proc_mem(wpid, &hwm, &anon, &shm);
			printf("\t%ld\t%ld\t%ld", hwm, anon, shm);
		}
		printf("\n");
		fflush(stdout);
		if (rows != wr)
			die("%s: write() stored %lld samples but %lld rows were read back", it->path, wr, rows);
	}
	PQfinish(w);
	PQfinish(x);
	PQfinish(c);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: pha-bench pair  --db CONNINFO [--mem] [--no-sorted] --plan FILE\n"
			"       pha-bench write --db CONNINFO [-c N] [--mem] [--cpu-tree PID]... --plan FILE\n"
			"       pha-bench http  --url HOST:PORT/PATH [-c N] [--cpu-tree PID]... --plan FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode, *plan = NULL;

	if (argc < 2)
		usage();
	mode = argv[1];
	for (int i = 2; i < argc; i++)
	{
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			conninfo = argv[++i];
		else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
			url = argv[++i];
		else if (strcmp(argv[i], "--plan") == 0 && i + 1 < argc)
			plan = argv[++i];
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			nconn = atoi(argv[++i]);
		else if (strcmp(argv[i], "--cpu-tree") == 0 && i + 1 < argc && ncpu_roots < 8)
			cpu_roots[ncpu_roots++] = atoi(argv[++i]);
		else if (strcmp(argv[i], "--perf-ctl") == 0 && i + 1 < argc)
			perf_ctl = argv[++i];
		else if (strcmp(argv[i], "--mem") == 0)
			want_mem = 1;
		else if (strcmp(argv[i], "--no-sorted") == 0)
			want_sorted = 0;
		else
			usage();
	}
	if (!plan || nconn < 1 || nconn > MAX_THREADS)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "pair") == 0)
	{
		read_plan(plan, 1);
		return run_pair();
	}
	read_plan(plan, 0);
	if (strcmp(mode, "write") == 0)
	{
		url = NULL;
		return run_rounds();
	}
	if (strcmp(mode, "http") == 0)
	{
		if (!url)
			usage();
		return run_rounds();
	}
	usage();
	return 2;
}
