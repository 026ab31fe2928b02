/*-------------------------------------------------------------------------
 *
 * log.c
 *	  Log lines of promscale-ha-http on stderr.
 *
 * One line per event: an RFC 3339 UTC timestamp with milliseconds, the
 * level, and the message, e.g.
 *
 *	 2026-01-01T00:00:00.123Z error: POST /write from 127.0.0.1:4711: 400 ...
 *
 * Each line is formatted into a local buffer and handed to the kernel in one
 * write(2), so lines of concurrent threads never interleave (stderr is
 * unbuffered, and a write of at most PIPE_BUF bytes to a pipe is atomic).
 * Control characters of the message (a database error with a newline, a
 * client's header) are replaced by spaces so that one event stays one line.
 * No locks are taken.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 4096

static volatile FeLogLevel log_level = FE_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

/* Set the lowest level that is printed. */
void
fe_log_set_level(FeLogLevel level)
{
	log_level = level;
}

/* Parse "debug", "info", "warning" or "error"; 0 on success, -1 otherwise. */
int
fe_log_parse_level(const char *name, FeLogLevel *level)
{
	for (int i = 0; i < 4; i++)
	{
		if (strcasecmp(name, level_names[i]) == 0)
		{
			*level = (FeLogLevel) i;
			return 0;
		}
	}
	return -1;
}

/* Whether a line of this level would be printed (to skip costly formatting). */
int
fe_log_enabled(FeLogLevel level)
{
	return level >= log_level;
}

/* Format one line and write it to stderr in one system call. */
void
fe_vlog(FeLogLevel level, const char *fmt, va_list ap)
{
	char		line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm	tm;
	size_t		len;
	int			n;

	if (level < log_level)
		return;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line + len, sizeof(line) - len, ".%03ldZ %s: ",
				 ts.tv_nsec / 1000000, level_names[level]);
	if (n > 0)
		len += (size_t) n;

	n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	if (n > 0)
	{
		size_t		end = len + (size_t) n;

		if (end > sizeof(line) - 2)
			end = sizeof(line) - 2;
		for (size_t i = len; i < end; i++)
		{
			unsigned char c = (unsigned char) line[i];

			if (c < 0x20 || c == 0x7f)
				line[i] = ' ';
		}
		len = end;
	}
	/* drop trailing blanks (a message ending in a newline) */
	while (len > 0 && line[len - 1] == ' ')
		len--;
	line[len++] = '\n';

	{
		const char *p = line;

		while (len > 0)
		{
			ssize_t		w = write(STDERR_FILENO, p, len);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			len -= (size_t) w;
		}
	}
}

/* printf-style front of fe_vlog. */
void
fe_log(FeLogLevel level, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fe_vlog(level, fmt, ap);
	va_end(ap);
}
