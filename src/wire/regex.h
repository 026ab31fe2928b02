/*-------------------------------------------------------------------------
 *
 * regex.h
 *	  Prometheus regular expressions (RE2 syntax) -> PostgreSQL regular
 *	  expressions (ARE) of the same meaning, or a refusal with its reason.
 *
 * Plain C with no PostgreSQL headers (see decode.h): memory comes from a
 * PhaArena, errors are a status plus a message.  What is translated and what
 * is refused, and why, is listed at the top of regex.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_WIRE_REGEX_H
#define PHA_WIRE_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/decode.h"

typedef enum PhaRegexStatus
{
	PHA_REGEX_OK = 0,
	PHA_REGEX_REFUSED,			/* invalid RE2, or RE2 that ARE cannot express */
	PHA_REGEX_NO_MEMORY			/* the arena refused to grow */
} PhaRegexStatus;

/*
 * Translate the Prometheus regex re[0..len) (RE2 syntax as Go's regexp reads
 * it; any bytes are safe, the meaning is defined for valid UTF-8) into a
 * NUL-terminated PostgreSQL ARE anchored at both ends, ^(?:re)$, meaning the
 * same when run with the "C" collation.  On PHA_REGEX_OK *are is set (in the
 * arena) and *why is NULL; otherwise *are is NULL and *why a static message
 * (lowercase, no period) saying why.
 */
extern PhaRegexStatus pha_re2_to_are(const char *re, size_t len, PhaArena *arena,
									 char **are, const char **why);

#endif							/* PHA_WIRE_REGEX_H */
