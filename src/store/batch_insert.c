/*-------------------------------------------------------------------------
 *
 * batch_insert.c
 *	  Rows into a plain table the way COPY stores them, without a statement.
 *
 * Two writers skip the executor's INSERT for speed: new series rows
 * (series_insert.c) and a request's samples (head_insert.c).  Both do what
 * COPY does once it has its rows as Datums -- a heap multi-insert of a batch,
 * then each row's index entries -- and both may do so only on a table where
 * that skips nothing: this file holds that test and that step, once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "store/batch_insert.h"

bool
pha_batch_insert_has_triggers(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;

	return td != NULL && (td->trig_insert_before_row || td->trig_insert_after_row ||
						  td->trig_insert_instead_row || td->trig_insert_before_statement ||
						  td->trig_insert_after_statement || td->trig_insert_new_table);
}

bool
pha_batch_insert_plain(Relation rel)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;

	return rel->rd_rel->relkind == RELKIND_RELATION &&
		!pha_batch_insert_has_triggers(rel) &&
		check_enable_rls(RelationGetRelid(rel), InvalidOid, true) != RLS_ENABLED &&
		(constr == NULL || !constr->has_generated_stored);
}

void
pha_batch_insert_flush(ResultRelInfo *rri, EState *estate, TupleTableSlot **slots,
					   int n, CommandId cid, BulkInsertState bistate)
{
	MemoryContext outer;

	if (n == 0)
		return;
	CHECK_FOR_INTERRUPTS();
	outer = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	table_multi_insert(rri->ri_RelationDesc, slots, n, cid, 0, bistate);
	if (rri->ri_NumIndices > 0)
		for (int k = 0; k < n; k++)
			list_free(ExecInsertIndexTuples(rri, slots[k], estate, false, false, NULL, NIL));
	for (int k = 0; k < n; k++)
		ExecClearTuple(slots[k]);
	MemoryContextSwitchTo(outer);
	ResetPerTupleExprContext(estate);
}
