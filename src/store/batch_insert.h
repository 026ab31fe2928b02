/*-------------------------------------------------------------------------
 *
 * batch_insert.h
 *	  Rows into a plain table the way COPY stores them, without a statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_BATCH_INSERT_H
#define PHA_BATCH_INSERT_H

#include "postgres.h"

#include "access/heapam.h"
#include "nodes/execnodes.h"
#include "utils/relcache.h"

/* Has rel a trigger of any kind an INSERT or COPY would fire or check? */
extern bool pha_batch_insert_has_triggers(Relation rel);

/*
 * Can rows go into rel by heap multi-inserts and index inserts alone, as
 * COPY stores them, without skipping anything INSERT would do?  A heap table
 * with no insert trigger, no row-level security and no stored generated
 * column.  Column layout and CHECK constraints are the caller's to judge.
 */
extern bool pha_batch_insert_plain(Relation rel);

/*
 * Store slots[0..n-1] (filled, their Datums alive until this returns) into
 * rri's table: one heap multi-insert, then each row's index entries (a unique
 * index raises 23505 on a repeat), in estate's per-tuple memory, which is
 * reset afterwards; the slots are left empty.  Checks for interrupts first.
 */
extern void pha_batch_insert_flush(ResultRelInfo *rri, EState *estate, TupleTableSlot **slots,
								   int n, CommandId cid, BulkInsertState bistate);

#endif							/* PHA_BATCH_INSERT_H */
