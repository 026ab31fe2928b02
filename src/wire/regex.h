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

/*
 * Is re[0..len) a set of literal strings, lit|lit|...?  Each literal made of
 * printable ASCII other than the metacharacters .+*?()[]{}^$ and backslash,
 * or a backslash before ASCII punctuation (that character itself, as in
 * RE2).  Anchored as Prometheus anchors, such a regex matches exactly those
 * strings (the empty one matches ""), so it can be an equality test instead
 * of a regex.  On true *items (n of them, NUL-terminated, unescaped, in the
 * arena) is set; false for anything else (then nothing is allocated) and
 * when the arena refuses.
 */
extern bool pha_re2_literal_set(const char *re, size_t len, PhaArena *arena,
								char ***items, size_t *n);

#endif							/* PHA_WIRE_REGEX_H */
