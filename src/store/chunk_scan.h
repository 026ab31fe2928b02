/*-------------------------------------------------------------------------
 *
 * chunk_scan.h
 *	  The foreign-data wrapper promscale_ha_chunks: promscale_ha.samples_compressed
 *	  read from promscale_ha.chunks, decoded on the fly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CHUNK_SCAN_H
#define PHA_CHUNK_SCAN_H

#include "postgres.h"

#include "fmgr.h"

/* The FDW handler (SQL: promscale_ha.chunks_fdw_handler()). */
extern Datum pha_chunks_fdw_handler(PG_FUNCTION_ARGS);

#endif							/* PHA_CHUNK_SCAN_H */
