/*-------------------------------------------------------------------------
 *
 * series_insert.c
 *	  New rows of promscale_ha.series in one batch, without a statement.
 *
 * A deploy that restarts many pods brings thousands of label sets at once.
 * INSERT ... SELECT FROM unnest() ON CONFLICT DO NOTHING stores them one
 * speculative insertion at a time (an index probe, a heap insert, a
 * confirmation WAL record per row) behind a plan made for the arrays'
 * contents; this path does what COPY does instead: heap multi-inserts of up
 * to PHA_SERIES_BATCH rows, then each row's index entries, the columns it is
 * not given (id from the identity sequence, created_at) from their defaults.
 *
 * Uniqueness of labels_hash is left to the unique index: a row that exists
 * already, or that a concurrent transaction inserts and commits meanwhile
 * (the index insert waits for it), raises 23505; the whole batch then goes
 * with the subtransaction it ran in and the caller falls back to ON CONFLICT
 * DO NOTHING, which settles such races without errors.  The caller inserts
 * in hash order, as the fallback does, so that two writers creating
 * overlapping sets wait for each other in one direction only.
 *
 * Locks: RowExclusiveLock on the table (as INSERT); the index inserts take
 * their own buffer locks and, on a conflict, wait for the other transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "sql.h"
#include "store/batch_insert.h"
#include "store/series_insert.h"

/*
 * Rows per heap multi-insert, as COPY buffers them; the first batch is small:
 * when a row exists already, the heap tuples inserted before its index entry
 * finds it are left dead.
 */
#define PHA_SERIES_BATCH 1000
#define PHA_SERIES_FIRST_BATCH 64

/* Where the given columns are in the table. */
typedef struct SeriesCols
{
	AttrNumber	id;
	AttrNumber	name;
	AttrNumber	labels;
	AttrNumber	hash;
} SeriesCols;

/* Column attname of relid if it has type typid, else InvalidAttrNumber. */
static AttrNumber
column_of_type(Relation rel, const char *attname, Oid typid)
{
	AttrNumber	a = get_attnum(RelationGetRelid(rel), attname);

	if (a <= 0 || TupleDescAttr(RelationGetDescr(rel), a - 1)->atttypid != typid)
		return InvalidAttrNumber;
	return a;
}

/*
 * Is the table one this path can fill as INSERT would?  A plain table with
 * the four columns it knows, an id with a default, no INSERT trigger, no
 * row-level security and no stored generated column.
 */
static bool
table_is_plain(Relation rel, SeriesCols *c)
{
	if (!pha_batch_insert_plain(rel))
		return false;
	c->id = column_of_type(rel, "id", INT8OID);
	c->name = column_of_type(rel, "metric_name", TEXTOID);
	c->labels = column_of_type(rel, "labels", JSONBOID);
	c->hash = column_of_type(rel, "labels_hash", BYTEAOID);
	return c->id != InvalidAttrNumber && c->name != InvalidAttrNumber &&
		c->labels != InvalidAttrNumber && c->hash != InvalidAttrNumber &&
		build_column_default(rel, c->id) != NULL;
}

/* Fill one slot: the given columns, every other one from its default. */
static void
fill_slot(TupleTableSlot *slot, const SeriesCols *c, ExprState **defaults,
		  ExprContext *econtext, Datum name, Datum labels, Datum hash)
{
	int			natts = slot->tts_tupleDescriptor->natts;

	ExecClearTuple(slot);
	for (int a = 0; a < natts; a++)
	{
		slot->tts_isnull[a] = true;
		slot->tts_values[a] = (Datum) 0;
		if (defaults[a] != NULL)
			slot->tts_values[a] = ExecEvalExpr(defaults[a], econtext, &slot->tts_isnull[a]);
	}
	slot->tts_values[c->name - 1] = name;
	slot->tts_values[c->labels - 1] = labels;
	slot->tts_values[c->hash - 1] = hash;
	slot->tts_isnull[c->name - 1] = false;
	slot->tts_isnull[c->labels - 1] = false;
	slot->tts_isnull[c->hash - 1] = false;
	ExecStoreVirtualTuple(slot);
}

/* The insert itself, in the caller's subtransaction; errors propagate. */
static void
insert_rows(Relation rel, const SeriesCols *c, int n, const Datum *names,
			const Datum *labels, const Datum *hashes, int64 *ids)
{
	ParseState *pstate = make_parsestate(NULL);
	ParseNamespaceItem *nsitem;
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	TupleDesc	desc = RelationGetDescr(rel);
	ExprState **defaults = palloc0(desc->natts * sizeof(ExprState *));
	TupleTableSlot **slots = palloc(PHA_SERIES_BATCH * sizeof(TupleTableSlot *));
	bool		check = desc->constr != NULL &&
		(desc->constr->has_not_null || desc->constr->num_check > 0);
	ExprContext *econtext;
	BulkInsertState bistate;
	CommandId	cid;

	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	ExecCheckRTPerms(pstate->p_rtable, true);
	ExecInitRangeTable(estate, pstate->p_rtable);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	CheckValidResultRel(rri, CMD_INSERT);
	ExecOpenIndices(rri, false);
	for (int a = 0; a < desc->natts; a++)
	{
		Expr	   *def;

		if (TupleDescAttr(desc, a)->attisdropped || a + 1 == c->name ||
			a + 1 == c->labels || a + 1 == c->hash)
			continue;
		def = (Expr *) build_column_default(rel, a + 1);
		if (def != NULL)
			defaults[a] = ExecPrepareExpr(def, estate);
	}
	econtext = GetPerTupleExprContext(estate);
	for (int k = 0; k < Min(n, PHA_SERIES_BATCH); k++)
		slots[k] = table_slot_create(rel, &estate->es_tupleTable);
	bistate = GetBulkInsertState();
	cid = GetCurrentCommandId(true);

	for (int start = 0, m = 0; start < n; start += m)
	{
		/* the defaults' values live in per-tuple memory until the flush resets it */
		MemoryContext outer = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));

		m = Min(start == 0 ? PHA_SERIES_FIRST_BATCH : PHA_SERIES_BATCH, n - start);
		for (int k = 0; k < m; k++)
		{
			int			i = start + k;

			fill_slot(slots[k], c, defaults, econtext, names[i], labels[i], hashes[i]);
			if (slots[k]->tts_isnull[c->id - 1])
				elog(ERROR, "default of promscale_ha.series.id gave NULL");
			ids[i] = DatumGetInt64(slots[k]->tts_values[c->id - 1]);
			if (check)
				ExecConstraints(rri, slots[k], estate);
		}
		MemoryContextSwitchTo(outer);
		pha_batch_insert_flush(rri, estate, slots, m, cid, bistate);
	}

	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(rel, 0);
	ExecResetTupleTable(estate->es_tupleTable, false);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
}

/* What pha_series_insert_direct hands to insert_rows. */
typedef struct InsertTry
{
	Relation	rel;
	SeriesCols *c;
	int			n;
	const Datum *names;
	const Datum *labels;
	const Datum *hashes;
	int64	   *ids;
} InsertTry;

static void
insert_try(void *arg)
{
	InsertTry  *t = arg;

	insert_rows(t->rel, t->c, t->n, t->names, t->labels, t->hashes, t->ids);
}

bool
pha_series_insert_direct(Oid relid, int n, const Datum *names, const Datum *labels,
						 const Datum *hashes, int64 *ids)
{
	Relation	rel = table_open(relid, RowExclusiveLock);
	SeriesCols	c;
	bool		stored;
	InsertTry	t = {rel, &c, n, names, labels, hashes, ids};

	if (n == 0 || !table_is_plain(rel, &c))
	{
		table_close(rel, NoLock);
		return n == 0;
	}
	stored = pha_try_unless_duplicate(insert_try, &t);
	table_close(rel, NoLock);
	return stored;
}
