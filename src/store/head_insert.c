/*-------------------------------------------------------------------------
 *
 * head_insert.c
 *	  A request's sample rows straight into samples_head's partitions.
 *
 * write() used to hand its rows to COPY FROM through an in-memory binary
 * stream: every row was serialised to COPY's wire format here, then parsed
 * back by COPY (three receive functions through fmgr), routed to its
 * partition by a tuple-routing search, and buffered in up to 1,000 slots made
 * for each request.  That was 4-6% of a leader's backend CPU on top of the
 * insert itself.  This path does what COPY does after parsing, from the row
 * arrays: each row goes to the partition the backend knows covers its time
 * (partition.c has just covered and locked them), into a slot of that
 * partition as Datums; a full batch is one heap multi-insert, then each row's
 * index entries -- the unique index on (series_id, time) raises 23505 on a
 * repeat, exactly as under COPY.
 *
 * It only takes tables COPY would treat the same way without doing more: a
 * plain heap partition with the three columns, no trigger (on it or on
 * samples_head), no row-level security, no CHECK constraint or generated
 * column.  Anything else -- or promscale_ha.direct_insert off -- returns -1
 * before touching anything, and the caller uses COPY.
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
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "guc.h"
#include "store/batch_insert.h"
#include "store/head_insert.h"
#include "store/partition.h"
#include "timeconv.h"

/* Partitions one request may fill here (more: COPY); rows per multi-insert. */
#define HEAD_MAX_PARTS	8
#define HEAD_BATCH		500

/* One partition being filled. */
typedef struct HeadPart
{
	PhaPartitionInfo info;
	Relation	rel;
	ResultRelInfo *rri;
	TupleTableSlot **slots;		/* HEAD_BATCH, made as needed */
	int			nslots;			/* made so far */
	int			nbuf;			/* filled, not yet inserted */
	BulkInsertState bistate;
} HeadPart;

/* Column a (1-based) of desc is attname of type typid. */
static bool
column_is(TupleDesc desc, int a, const char *attname, Oid typid)
{
	Form_pg_attribute att = TupleDescAttr(desc, a - 1);

	return !att->attisdropped && att->atttypid == typid &&
		strcmp(NameStr(att->attname), attname) == 0;
}

/*
 * A partition this path fills as COPY would: a heap table of exactly
 * (series_id int8, time timestamptz, value float8), no insert trigger, no
 * row-level security, no CHECK constraint, no generated column.  (NOT NULL
 * holds: every row has its three values.)
 */
static bool
partition_is_plain(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (!pha_batch_insert_plain(rel) || (desc->constr != NULL && desc->constr->num_check > 0))
		return false;
	return desc->natts == 3 &&
		column_is(desc, 1, "series_id", INT8OID) &&
		column_is(desc, 2, "time", TIMESTAMPTZOID) &&
		column_is(desc, 3, "value", FLOAT8OID);
}

/*
 * part[k] := the index in parts[] of the partition of row order[k], filling
 * parts[] (their info only); false when a row's time is invalid or in no known
 * partition, or when the rows need more than HEAD_MAX_PARTS partitions.
 */
static bool
route_rows(const PhaRows *rows, const int *order, uint8 *part, HeadPart *parts, int *nparts)
{
	int			cur = -1;

	*nparts = 0;
	for (int k = 0; k < rows->n; k++)
	{
		int64		t = rows->time_ms[order[k]];

		if (!pha_ms_valid(t))
			return false;		/* COPY reports it */
		if (cur < 0 || t < parts[cur].info.lo || t >= parts[cur].info.hi)
		{
			cur = -1;
			for (int p = 0; p < *nparts && cur < 0; p++)
				if (t >= parts[p].info.lo && t < parts[p].info.hi)
					cur = p;
			if (cur < 0)
			{
				if (*nparts == HEAD_MAX_PARTS || !pha_partition_known(t, &parts[*nparts].info))
					return false;
				cur = (*nparts)++;
			}
		}
		part[k] = (uint8) cur;
	}
	return true;
}

/* Open every partition (locked already); false, all closed again, if one is not plain. */
static bool
open_parts(HeadPart *parts, int nparts)
{
	for (int p = 0; p < nparts; p++)
	{
		parts[p].rel = table_open(parts[p].info.oid, RowExclusiveLock);
		if (!partition_is_plain(parts[p].rel))
		{
			for (int q = 0; q <= p; q++)
				table_close(parts[q].rel, NoLock);
			return false;
		}
	}
	return true;
}

/* Insert a partition's filled slots. */
static void
flush_part(HeadPart *hp, EState *estate, CommandId cid)
{
	pha_batch_insert_flush(hp->rri, estate, hp->slots, hp->nbuf, cid, hp->bistate);
	hp->nbuf = 0;
}

int64
pha_head_insert(Oid parent, const PhaRows *rows, const int *order)
{
	Relation	prel;
	HeadPart	parts[HEAD_MAX_PARTS];
	int			nparts;
	uint8	   *part;
	EState	   *estate;
	CommandId	cid;
	bool		usable;

	if (!pha_direct_insert || rows->n == 0)
		return -1;

	/* samples_head itself: COPY would fire its statement triggers and check its privilege */
	prel = table_open(parent, RowExclusiveLock);
	usable = !pha_batch_insert_has_triggers(prel) &&
		check_enable_rls(parent, InvalidOid, true) != RLS_ENABLED &&
		pg_class_aclcheck(parent, GetUserId(), ACL_INSERT) == ACLCHECK_OK;
	table_close(prel, NoLock);
	if (!usable)
		return -1;

	part = palloc_extended(rows->n, MCXT_ALLOC_HUGE);
	memset(parts, 0, sizeof(parts));
	if (!route_rows(rows, order, part, parts, &nparts) || !open_parts(parts, nparts))
	{
		pfree(part);
		return -1;
	}

	estate = CreateExecutorState();
	for (int p = 0; p < nparts; p++)
	{
		HeadPart   *hp = &parts[p];

		hp->rri = makeNode(ResultRelInfo);
		InitResultRelInfo(hp->rri, hp->rel, 0, NULL, 0);
		CheckValidResultRel(hp->rri, CMD_INSERT);
		ExecOpenIndices(hp->rri, false);
		hp->slots = palloc(HEAD_BATCH * sizeof(TupleTableSlot *));
		hp->bistate = GetBulkInsertState();
	}
	cid = GetCurrentCommandId(true);

	for (int k = 0; k < rows->n; k++)
	{
		HeadPart   *hp = &parts[part[k]];
		int			i = order[k];
		TupleTableSlot *slot;

		if (hp->nbuf == hp->nslots)
			hp->slots[hp->nslots++] = table_slot_create(hp->rel, &estate->es_tupleTable);
		slot = hp->slots[hp->nbuf++];
		ExecClearTuple(slot);
		slot->tts_values[0] = Int64GetDatum(rows->series_id[i]);
		slot->tts_values[1] = pha_ms_datum(rows->time_ms[i]);
		slot->tts_values[2] = Float8GetDatum(rows->value[i]);
		slot->tts_isnull[0] = slot->tts_isnull[1] = slot->tts_isnull[2] = false;
		ExecStoreVirtualTuple(slot);
		if (hp->nbuf == HEAD_BATCH)
			flush_part(hp, estate, cid);
	}

	for (int p = 0; p < nparts; p++)
	{
		flush_part(&parts[p], estate, cid);
		FreeBulkInsertState(parts[p].bistate);
		table_finish_bulk_insert(parts[p].rel, 0);
		ExecCloseIndices(parts[p].rri);
		table_close(parts[p].rel, NoLock);
	}
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	pfree(part);
	ereport(DEBUG1, (errmsg_internal("promscale_ha: %d rows stored without COPY (partitions: %d)",
									 rows->n, nparts)));
	return rows->n;
}
