/*-------------------------------------------------------------------------
 *
 * chunk_plan.h
 *	  Planning a scan of promscale_ha.samples_compressed: the planner
 *	  callbacks of the promscale_ha_chunks wrapper, and the plan they hand
 *	  to the executor (chunk_scan.c) and to EXPLAIN (chunk_explain.c).
 *
 * The contract between planner and executor is the ForeignScan that
 * pha_chunks_plan makes: fdw_exprs holds one expression per chunk condition
 * (no Var of the scanned relation, nothing volatile, no SubPlan; outer
 * columns are nested-loop Params), and fdw_private three lists parallel to
 * it, read through the PHA_CHUNK_PRIVATE_* macros:
 *		kinds		integer list of PhaChunkCondKind
 *		strategies	integer list of BT*StrategyNumber, seen from the column
 *					(time < x is BTLessStrategyNumber whichever side x was on)
 *		types		OID list: the expression's type (int2, int4 or int8 for
 *					series_id, timestamptz for time), or for ANY the array's
 *					element type
 * The scan enforces every condition exactly: they are not in the local quals.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_CHUNK_PLAN_H
#define PHA_CHUNK_PLAN_H

#include "postgres.h"

#include "foreign/fdwapi.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "nodes/plannodes.h"

/* Columns of promscale_ha.samples_compressed. */
#define PHA_ATT_SERIES_ID	1
#define PHA_ATT_TIME		2
#define PHA_ATT_VALUE		3

/* What a chunk condition constrains. */
typedef enum PhaChunkCondKind
{
	PHA_COND_SERIES_EQ,			/* series_id = expr */
	PHA_COND_SERIES_ANY,		/* series_id = ANY (array expr) */
	PHA_COND_TIME				/* time <strategy> expr */
} PhaChunkCondKind;

/* The three lists of a chunk scan's fdw_private (see above). */
#define PHA_CHUNK_PRIVATE_KINDS(fs)			((List *) linitial((fs)->fdw_private))
#define PHA_CHUNK_PRIVATE_STRATEGIES(fs)	((List *) lsecond((fs)->fdw_private))
#define PHA_CHUNK_PRIVATE_TYPES(fs)			((List *) lthird((fs)->fdw_private))

/*
 * GetForeignRelSize: estimates of the relation and its restriction (chunk
 * rows, series, the share of compressed time the conditions cover), kept in
 * rel->fdw_private.  Reads promscale_ha.compressed_ranges through SPI in
 * the planner's snapshot (when one is active) and takes AccessShareLock on
 * promscale_ha.chunks.
 */
extern void pha_chunks_rel_size(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid);

/*
 * GetForeignPaths: the plain path, then one parameterized path per set of
 * outer relations that can supply series_id.
 */
extern void pha_chunks_paths(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid);

/* GetForeignPlan: the ForeignScan described above; other clauses stay local quals. */
extern ForeignScan *pha_chunks_plan(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid,
									ForeignPath *best_path, List *tlist, List *scan_clauses,
									Plan *outer_plan);

#endif							/* PHA_CHUNK_PLAN_H */
