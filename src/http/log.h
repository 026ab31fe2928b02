/*-------------------------------------------------------------------------
 *
 * log.h
 *	  Log lines of promscale-ha-http on stderr.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FE_LOG_H
#define FE_LOG_H

#include <stdarg.h>

typedef enum FeLogLevel
{
	FE_LOG_DEBUG = 0,
	FE_LOG_INFO,
	FE_LOG_WARNING,
	FE_LOG_ERROR
} FeLogLevel;

/* Set the lowest level that is printed. */
extern void fe_log_set_level(FeLogLevel level);

/* Parse "debug", "info", "warning" or "error"; 0 on success, -1 otherwise. */
extern int	fe_log_parse_level(const char *name, FeLogLevel *level);

/* Whether a line of this level would be printed (to skip costly formatting). */
extern int	fe_log_enabled(FeLogLevel level);

/* printf-style front of fe_vlog. */
extern void fe_log(FeLogLevel level, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Format one line and write it to stderr in one system call. */
extern void fe_vlog(FeLogLevel level, const char *fmt, va_list ap)
			__attribute__((format(printf, 2, 0)));

#endif							/* FE_LOG_H */
