/*-------------------------------------------------------------------------
 *
 * replay.c
 *	  The replay buffer: followers' requests kept, raw, in the unlogged table
 *	  promscale_ha.replay_buffer, and handed back when their replica takes
 *	  over.  It stores and returns bytes; decoding them is the driver's part.
 *
 * A follower's write inserts its payload (one row per request and group) and
 * prunes the cluster's rows by age (twice the failover timeout plus a minute)
 * at most once a second, and by size (promscale_ha.replay_buffer_size) as
 * soon as the cluster's buffer passes it.  A takeover deletes the new
 * leader's rows and gets back those that reach the last failover timeout
 * before its new period, each with the HA label names it was received with
 * (the sender's role or session may set them: whoever takes over later --
 * the worker, set_leader(), another session -- reads it as it was sent);
 * the driver (ingest.c) decodes them into the request,
 * where the gap fill keeps, per series, only the samples newer than the
 * newest stored one.  Both run under the cluster's advisory lock (ha/lease.c),
 * so a takeover sees every follower insert that started before it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "sql.h"
#include "ha/replay.h"
#include "schema.h"
#include "shmem.h"
#include "timeconv.h"

/* Column col of row r as a string in the caller's context, or NULL. */
static char *
label_name(SPITupleTable *tt, uint64 r, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tt->vals[r], tt->tupdesc, col, &isnull);
	char	   *s;
	text	   *t;

	if (isnull)
		return NULL;
	t = DatumGetTextPP(d);
	s = SPI_palloc(VARSIZE_ANY_EXHDR(t) + 1);
	memcpy(s, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	s[VARSIZE_ANY_EXHDR(t)] = '\0';
	return s;
}

/* Delete the replica's buffered payloads; return those reaching oldest or later. */
PhaBuffered *
pha_replay_take(const char *cluster, const char *replica, int64 oldest, int *n)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr plan_010 = NULL;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	PhaBuffered *out;
	SPITupleTable *tt;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	v[0] = CStringGetTextDatum(cluster);
	v[1] = CStringGetTextDatum(replica);
	/* a database still at 0.1.0 has no label name columns: NULL, the session's then */
	if (pha_schema_has_column("replay_buffer", "cluster_label"))
		pha_sql_run(&plan, "DELETE FROM promscale_ha.replay_buffer"
					" WHERE cluster_name = $1 AND replica_name = $2"
					" RETURNING min_time, max_time, payload, cluster_label, replica_label",
					2, types, v, NULL, SPI_OK_DELETE_RETURNING);
	else
		pha_sql_run(&plan_010, "DELETE FROM promscale_ha.replay_buffer"
					" WHERE cluster_name = $1 AND replica_name = $2"
					" RETURNING min_time, max_time, payload, NULL::text, NULL::text",
					2, types, v, NULL, SPI_OK_DELETE_RETURNING);
	tt = SPI_tuptable;
	out = SPI_palloc(Max(SPI_processed, 1) * sizeof(PhaBuffered));
	*n = 0;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		PhaBuffered *b = &out[*n];
		bytea	   *p;

		b->min_t = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tt->vals[r], tt->tupdesc, 1, &isnull)));
		b->max_t = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tt->vals[r], tt->tupdesc, 2, &isnull)));
		if (b->max_t < oldest)
			continue;
		p = DatumGetByteaPP(SPI_getbinval(tt->vals[r], tt->tupdesc, 3, &isnull));
		b->len = VARSIZE_ANY_EXHDR(p);
		b->payload = SPI_palloc(Max(b->len, 1));
		memcpy(b->payload, VARDATA_ANY(p), b->len);
		b->cluster_label = label_name(tt, r, 4);
		b->replica_label = label_name(tt, r, 5);
		(*n)++;
	}
	SPI_finish();
	return out;
}

/* Keep a follower's payload for a later takeover; prune the cluster's buffer. */
void
pha_replay_keep(const char *cluster, const char *replica, TimestampTz now,
				int64 tmin, int64 tmax, const uint8 *payload, size_t len,
				const PhaLabelNames *names)
{
	static SPIPlanPtr ins_plan = NULL;
	static SPIPlanPtr ins_plan_010 = NULL;
	static SPIPlanPtr prune_plan = NULL;
	Oid			types[8] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BYTEAOID,
	TEXTOID, TEXTOID};
	Datum		v[8];
	bytea	   *p;
	bool		prune = false;
	PhaClusterState *e;
	PhaClusterKey key;

	if (pha_replay_buffer_kb == 0)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pha_cluster_key(cluster, &key);
	p = palloc(VARHDRSZ + len);
	SET_VARSIZE(p, VARHDRSZ + len);
	memcpy(VARDATA(p), payload, len);
	v[0] = CStringGetTextDatum(cluster);
	v[1] = CStringGetTextDatum(replica);
	v[2] = TimestampTzGetDatum(now);
	v[3] = pha_ms_datum(tmin);
	v[4] = pha_ms_datum(tmax);
	v[5] = PointerGetDatum(p);
	v[6] = CStringGetTextDatum(names->cluster);
	v[7] = CStringGetTextDatum(names->replica);
	if (pha_schema_has_column("replay_buffer", "cluster_label"))
		pha_sql_run(&ins_plan, "INSERT INTO promscale_ha.replay_buffer"
					" (cluster_name, replica_name, received_at, min_time, max_time, payload,"
					"  cluster_label, replica_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
					8, types, v, NULL, SPI_OK_INSERT);
	else						/* a database still at 0.1.0 */
		pha_sql_run(&ins_plan_010, "INSERT INTO promscale_ha.replay_buffer"
					" (cluster_name, replica_name, received_at, min_time, max_time, payload)"
					" VALUES ($1, $2, $3, $4, $5, $6)", 6, types, v, NULL, SPI_OK_INSERT);

	/*
	 * Prune by age at most once a second per cluster, and at once when the
	 * cluster's buffer passes its size bound (the byte count kept in shared
	 * memory is approximate; each prune sets it to the true remainder).
	 */
	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	e = hash_search(pha_clusters, &key, HASH_FIND, NULL);
	if (e)
	{
		e->buffer_bytes += (int64) len;
		if (now - e->last_prune >= USECS_PER_SEC ||
			e->buffer_bytes > (int64) pha_replay_buffer_kb * 1024)
		{
			e->last_prune = now;
			prune = true;
		}
	}
	LWLockRelease(pha_shared->lock);
	if (prune)
	{
		Oid			ptypes[3] = {TEXTOID, TIMESTAMPTZOID, INT8OID};
		Datum		pv[3];
		bool		isnull;
		int64		remaining;

		pv[0] = v[0];
		pv[1] = TimestampTzGetDatum(now - pha_replay_keep_us());
		pv[2] = Int64GetDatum((int64) pha_replay_buffer_kb * 1024);
		pha_sql_run(&prune_plan, "WITH x AS ("
					"   SELECT ctid AS id, received_at,"
					"          sum(octet_length(payload)) OVER (ORDER BY received_at DESC) AS total"
					"   FROM promscale_ha.replay_buffer WHERE cluster_name = $1),"
					" d AS (DELETE FROM promscale_ha.replay_buffer b USING x"
					"   WHERE b.ctid = x.id AND (x.received_at < $2 OR x.total > $3) RETURNING 1)"
					" SELECT coalesce(max(total) FILTER (WHERE received_at >= $2 AND total <= $3), 0)"
					" FROM x",
					3, ptypes, pv, NULL, SPI_OK_SELECT);
		remaining = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
												&isnull));
		LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
		e = hash_search(pha_clusters, &key, HASH_FIND, NULL);
		if (e)
			e->buffer_bytes = remaining;
		LWLockRelease(pha_shared->lock);
	}
	SPI_finish();
}
