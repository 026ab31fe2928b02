/*-------------------------------------------------------------------------
 *
 * read.h
 *	  promscale_ha.read(request): the database side of Prometheus remote read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_READ_H
#define PHA_READ_H

#include "postgres.h"

#include "fmgr.h"

extern Datum pha_read(PG_FUNCTION_ARGS);

#endif							/* PHA_READ_H */
