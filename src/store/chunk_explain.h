/*-------------------------------------------------------------------------
 *
 * chunk_explain.h
 *	  EXPLAIN of a scan of promscale_ha.samples_compressed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CHUNK_EXPLAIN_H
#define PHA_CHUNK_EXPLAIN_H

#include "postgres.h"

#include "commands/explain.h"
#include "nodes/plannodes.h"

/*
 * Add the "Chunk Filter" property of fs (a ForeignScan made by
 * pha_chunks_plan) to es: its chunk conditions in SQL, joined by AND, with
 * Params printed as the outer expressions they stand for.  Nothing when the
 * scan has no conditions.  Works on EXPLAIN without ANALYZE too (the scan
 * state is not needed).
 */
extern void pha_chunks_explain_filter(ForeignScan *fs, ExplainState *es);

#endif							/* PHA_CHUNK_EXPLAIN_H */
