/*-------------------------------------------------------------------------
 *
 * matchers.h
 *	  Prometheus label matchers -> a parameterised condition over
 *	  promscale_ha.series (regexes translated by wire/regex.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_STORE_MATCHERS_H
#define PHA_STORE_MATCHERS_H

#include "postgres.h"

#include "lib/stringinfo.h"

#include "types.pb-c.h"

/* Conditions over series s, ANDed, and the parameters they use ($1 = first). */
typedef struct PhaMatcherSql
{
	StringInfoData where;		/* "true AND ..." */
	int			nargs;
	int			cap;			/* room in types and values */
	Oid		   *types;			/* TEXTOID, TEXTARRAYOID or JSONBOID */
	Datum	   *values;
} PhaMatcherSql;

/*
 * Build the condition of one query's matchers, numbering parameters from
 * first_param.  Matchers on replica_label are skipped (that label is never
 * stored).  Regex matchers are translated (wire/regex.h, memory from the
 * current context) and compiled here, so a bad or untranslatable one fails
 * with SQLSTATE 2201B naming the matcher.
 */
extern void pha_matchers_sql(Prometheus__LabelMatcher **matchers, size_t n,
							 const char *replica_label, int first_param,
							 PhaMatcherSql *out);

#endif							/* PHA_STORE_MATCHERS_H */
