/*-------------------------------------------------------------------------
 *
 * views.c
 *	  SQL functions over the shared lease state: cluster_state() and
 *	  replica_state() (behind the leaders and replicas views), and the
 *	  operator's set_leader().
 *
 * The state functions copy each entry under pha_shared->lock in LW_SHARED
 * mode and build the result outside it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "ingest.h"
#include "ha/lease.h"
#include "shmem.h"
#include "timeconv.h"

PG_FUNCTION_INFO_V1(pha_cluster_state);
PG_FUNCTION_INFO_V1(pha_replica_state);
PG_FUNCTION_INFO_V1(pha_set_leader);

static Datum
ms_datum(int64 ms, bool *isnull)
{
	*isnull = (ms == PG_INT64_MIN);
	return pha_ms_datum(ms);
}

/*
 * Copy this database's entries of a shared hash table (both key types start
 * with the database's OID) under the lock, so the rows are built without it.
 */
static void *
copy_entries(HTAB *table, Size entrysize, long *n)
{
	HASH_SEQ_STATUS seq;
	char	   *e;
	char	   *copy;
	long		max;

	*n = 0;
	LWLockAcquire(pha_shared->lock, LW_SHARED);
	max = hash_get_num_entries(table);
	copy = palloc(Max(max, 1) * entrysize);
	hash_seq_init(&seq, table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (*n < max && *(Oid *) e == MyDatabaseId)
			memcpy(copy + (*n)++ * entrysize, e, entrysize);
	}
	LWLockRelease(pha_shared->lock);
	return copy;
}

Datum
pha_cluster_state(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhaClusterState *copy;
	long		n;

	pha_shmem_require("promscale_ha.cluster_state()");
	InitMaterializedSRF(fcinfo, 0);
	copy = copy_entries(pha_clusters, sizeof(PhaClusterState), &n);
	for (long i = 0; i < n; i++)
	{
		Datum		v[8];
		bool		nulls[8] = {0};

		v[0] = CStringGetTextDatum(copy[i].key.name);
		v[1] = CStringGetTextDatum(copy[i].leader);
		v[2] = pha_ms_datum(copy[i].lease_start);
		v[3] = pha_ms_datum(copy[i].lease_until);
		v[4] = TimestampTzGetDatum(copy[i].leader_since);
		v[5] = TimestampTzGetDatum(copy[i].last_write);
		v[6] = ms_datum(copy[i].last_sample, &nulls[6]);
		/* a new leader has stored nothing of its own until it passes its start */
		if (copy[i].last_sample < copy[i].lease_start)
			nulls[6] = true;
		v[7] = Int64GetDatum(copy[i].leader_changes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

Datum
pha_replica_state(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PhaReplicaState *copy;
	long		n;

	pha_shmem_require("promscale_ha.replica_state()");
	InitMaterializedSRF(fcinfo, 0);
	copy = copy_entries(pha_replicas, sizeof(PhaReplicaState), &n);
	for (long i = 0; i < n; i++)
	{
		Datum		v[8];
		bool		nulls[8] = {0};

		v[0] = CStringGetTextDatum(copy[i].key.cluster);
		v[1] = CStringGetTextDatum(copy[i].key.replica);
		v[2] = ms_datum(copy[i].last_sample, &nulls[2]);
		v[3] = TimestampTzGetDatum(copy[i].last_write);
		v[4] = Int64GetDatum(copy[i].samples_accepted);
		v[5] = Int64GetDatum(copy[i].samples_deduplicated);
		v[6] = Int64GetDatum(copy[i].samples_future_dropped);
		v[7] = Int64GetDatum(copy[i].requests);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	return (Datum) 0;
}

static char *
name_arg(text *t, const char *what)
{
	char	   *s = text_to_cstring(t);

	if (s[0] == '\0' || strlen(s) >= PHA_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s name \"%s\"", what, s),
				 errdetail("Names are 1 to %d bytes long.", PHA_NAME_LEN - 1)));
	return s;
}

/* Force a leader change now; returns false if the replica already leads. */
Datum
pha_set_leader(PG_FUNCTION_ARGS)
{
	char	   *cluster = name_arg(PG_GETARG_TEXT_PP(0), "cluster");
	char	   *replica = name_arg(PG_GETARG_TEXT_PP(1), "replica");

	PG_RETURN_BOOL(pha_ingest_force_leader(cluster, replica, "forced"));
}
