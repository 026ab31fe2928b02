/*-------------------------------------------------------------------------
 *
 * chunk_sql.h
 *	  The chunk codec at the SQL level: promscale_ha.chunk_encode() and
 *	  promscale_ha.chunk_decode(), to write test chunks and look inside one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CHUNK_SQL_H
#define PHA_CHUNK_SQL_H

#include "postgres.h"

#include "fmgr.h"

extern Datum pha_chunk_encode_sql(PG_FUNCTION_ARGS);
extern Datum pha_chunk_decode_sql(PG_FUNCTION_ARGS);

#endif							/* PHA_CHUNK_SQL_H */
