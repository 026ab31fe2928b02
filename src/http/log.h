/*-------------------------------------------------------------------------
 *
 * log.h
 *	  Log lines of promscale-ha-http on stderr.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_HTTP_LOG_H
#define PHA_HTTP_LOG_H

#include <stdarg.h>

typedef enum PhaLogLevel
{
	PHA_LOG_DEBUG = 0,
	PHA_LOG_INFO,
	PHA_LOG_WARNING,
	PHA_LOG_ERROR
} PhaLogLevel;

extern void pha_log_set_level(PhaLogLevel level);
extern int	pha_log_parse_level(const char *name, PhaLogLevel *level);
extern int	pha_log_enabled(PhaLogLevel level);
extern void pha_log(PhaLogLevel level, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void pha_vlog(PhaLogLevel level, const char *fmt, va_list ap)
			__attribute__((format(printf, 2, 0)));

#endif							/* PHA_HTTP_LOG_H */
