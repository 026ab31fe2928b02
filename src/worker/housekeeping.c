/*-------------------------------------------------------------------------
 *
 * housekeeping.c
 *	  The background worker's care of the store: prune the replay buffer
 *	  by age and size, keep it logged or unlogged as configured, trim old
 *	  leadership periods, create the next sample partitions ahead of time,
 *	  drop partitions past promscale_ha.retention.
 *
 * Each task is one transaction.  Partitions are created by the same code as
 * write() uses (partition.c), so the worker and writers never race to make
 * one.  Partitions are dropped only when their whole range is older than the
 * retention, found from the parent's partition bounds in the relcache.
 *
 * The replay buffer's persistence follows promscale_ha.replay_buffer_logged:
 * SET LOGGED/UNLOGGED rewrites the (small) table under AccessExclusiveLock,
 * which is only tried without waiting, so followers' writes never queue
 * behind it; a busy buffer is changed at a later run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "worker/housekeeping.h"
#include "store/partition.h"
#include "store/store.h"
#include "timeconv.h"
#include "sql.h"

int64
pha_hk_prune_replay_buffer(TimestampTz now)
{
	MemoryContext caller;
	Oid			types[2] = {TIMESTAMPTZOID, INT8OID};
	Datum		v[2];
	int			rc;
	int64		n;

	v[0] = TimestampTzGetDatum(now - pha_replay_keep_us());
	v[1] = Int64GetDatum((int64) pha_replay_buffer_kb * 1024);
	caller = pha_xact_begin("promscale_ha: prune the replay buffer");
	rc = SPI_execute_with_args("DELETE FROM promscale_ha.replay_buffer b USING ("
							   "   SELECT ctid AS id, received_at,"
							   "          sum(octet_length(payload)) OVER (PARTITION BY cluster_name"
							   "                                           ORDER BY received_at DESC) AS total"
							   "   FROM promscale_ha.replay_buffer) x"
							   " WHERE b.ctid = x.id AND (x.received_at < $1 OR x.total > $2)",
							   2, types, v, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "replay buffer prune failed: %s", SPI_result_code_string(rc));
	n = (int64) SPI_processed;
	pha_xact_end(caller);
	return n;
}

bool
pha_hk_replay_buffer_persistence(TimestampTz now)
{
	MemoryContext caller;
	Oid			nsp;
	Oid			relid = InvalidOid;
	char		want = pha_replay_buffer_logged ? RELPERSISTENCE_PERMANENT : RELPERSISTENCE_UNLOGGED;
	bool		changed = false;

	caller = pha_xact_begin("promscale_ha: replay buffer persistence");
	if (OidIsValid(nsp = get_namespace_oid("promscale_ha", true)))
		relid = get_relname_relid("replay_buffer", nsp);
	if (OidIsValid(relid) && get_rel_persistence(relid) != want &&
		ConditionalLockRelationOid(relid, AccessExclusiveLock))
	{
		const char *sql = pha_replay_buffer_logged
			? "ALTER TABLE promscale_ha.replay_buffer SET LOGGED"
			: "ALTER TABLE promscale_ha.replay_buffer SET UNLOGGED";

		if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "\"%s\" failed", sql);
		ereport(LOG,
				(errmsg("promscale_ha: the replay buffer is now %s (promscale_ha.replay_buffer_logged)",
						pha_replay_buffer_logged ? "logged" : "unlogged")));
		changed = true;
	}
	pha_xact_end(caller);
	return changed;
}

int64
pha_hk_trim_lease_logs(TimestampTz now)
{
	MemoryContext caller;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		v[1];
	int			rc;
	int64		n;

	if (pha_lease_log_retention_s == 0)
		return 0;
	v[0] = TimestampTzGetDatum(now - (int64) pha_lease_log_retention_s * USECS_PER_SEC);
	caller = pha_xact_begin("promscale_ha: trim the lease log");
	rc = SPI_execute_with_args("DELETE FROM promscale_ha.ha_leases_logs"
							   " WHERE lease_until <> 'infinity' AND lease_until < $1",
							   1, types, v, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "lease log trim failed: %s", SPI_result_code_string(rc));
	n = (int64) SPI_processed;
	pha_xact_end(caller);
	return n;
}

int
pha_hk_partitions_ahead(TimestampTz now)
{
	MemoryContext caller;
	int64		times[2];

	times[0] = pha_tstz_to_ms(now);
	times[1] = times[0] + (int64) pha_partition_interval_s * 1000;
	caller = pha_xact_begin("promscale_ha: create partitions ahead");
	pha_partitions_ensure(pha_samples_relid(), times, 2);
	pha_xact_end(caller);
	return 2;
}

int
pha_hk_drop_old_partitions(TimestampTz now)
{
	MemoryContext caller;
	Relation	rel;
	PartitionDesc pd;
	PartitionBoundInfo bi;
	TimestampTz cutoff;
	List	   *old = NIL;
	ListCell   *lc;

	if (pha_retention_s == 0)
		return 0;
	cutoff = now - (int64) pha_retention_s * USECS_PER_SEC;
	caller = pha_xact_begin("promscale_ha: drop old partitions");
	rel = table_open(pha_samples_relid(), AccessShareLock);
	pd = RelationGetPartitionDesc(rel, true);
	bi = pd->boundinfo;
	/* partition indexes[j] has upper bound datums[j] (range partitioning) */
	for (int j = 0; bi != NULL && j < bi->ndatums; j++)
	{
		int			part = bi->indexes[j];

		if (part < 0 || (bi->kind && bi->kind[j][0] != PARTITION_RANGE_DATUM_VALUE))
			continue;
		if (DatumGetTimestampTz(bi->datums[j][0]) <= cutoff)
			old = lappend_oid(old, pd->oids[part]);
	}
	table_close(rel, NoLock);
	foreach(lc, old)
	{
		Oid			part = lfirst_oid(lc);
		char	   *name = get_rel_name(part);
		char	   *sql;

		if (name == NULL)
			continue;			/* dropped meanwhile */
		sql = psprintf("DROP TABLE %s.%s",
					   quote_identifier(get_namespace_name(get_rel_namespace(part))),
					   quote_identifier(name));
		if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "\"%s\" failed", sql);
		ereport(LOG, (errmsg("promscale_ha: dropped partition %s (promscale_ha.retention)", name)));
	}

	/* compressed data: whole chunks whose every sample is older */
	if (pha_store_has_chunks())
	{
		Oid			types[1] = {TIMESTAMPTZOID};
		Datum		v[1];
		uint64		nchunks;

		v[0] = TimestampTzGetDatum(cutoff);
		if (SPI_execute_with_args("DELETE FROM promscale_ha.chunks WHERE max_time < $1",
								  1, types, v, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "chunk retention failed");
		nchunks = SPI_processed;
		if (SPI_execute_with_args("DELETE FROM promscale_ha.compressed_ranges WHERE range_end <= $1",
								  1, types, v, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "compressed range retention failed");
		if (nchunks > 0)
			ereport(LOG, (errmsg("promscale_ha: dropped %llu chunks (promscale_ha.retention)",
								 (unsigned long long) nchunks)));
	}
	pha_xact_end(caller);
	return list_length(old);
}
