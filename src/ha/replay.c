/*-------------------------------------------------------------------------
 *
 * replay.c
 *	  The replay buffer: followers' requests kept, raw, in the unlogged table
 *	  promscale_ha.replay_buffer, and replayed when their replica takes over.
 *
 * A follower's write inserts its payload (one row per request and group) and
 * prunes the cluster's rows by age (twice the failover timeout plus a minute)
 * at most once a second, and by size (promscale_ha.replay_buffer_size) as
 * soon as the cluster's buffer passes it.  A takeover deletes the new
 * leader's rows and decodes those of the last failover timeout before the new
 * period into the request that took over (ingest.c), where the gap fill
 * keeps, per series, only the samples newer than the newest stored one.  A buffered
 * payload that no longer decodes (limits lowered since) is skipped with a
 * WARNING.  Both run under the cluster's advisory lock (lease.c), so a
 * takeover sees every follower insert that started before it.
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
#include "ingest.h"
#include "ha/lease.h"
#include "ha/replay.h"
#include "timeconv.h"

/* Append the replica's buffered requests to req; returns their oldest sample time. */
int64
pha_replay_buffered(PhaRequest *req, PhaGroup *g, int64 start, int64 *max_t)
{
	/* a period's gap is at most a failover timeout wide: older payloads are not decoded */
	int64		oldest = start == PG_INT64_MIN ? PG_INT64_MIN : start - pha_failover_timeout_ms;
	static SPIPlanPtr sel_plan = NULL;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];
	int64		min_t = PG_INT64_MAX;
	uint64		n;
	SPITupleTable *tt;

	v[0] = CStringGetTextDatum(g->cluster);
	v[1] = CStringGetTextDatum(g->replica);
	pha_run_sql(&sel_plan, "DELETE FROM promscale_ha.replay_buffer"
			" WHERE cluster_name = $1 AND replica_name = $2"
			" RETURNING received_at, min_time, max_time, payload",
			2, types, v, NULL, SPI_OK_DELETE_RETURNING);
	n = SPI_processed;
	tt = SPI_tuptable;
	for (uint64 r = 0; r < n; r++)
	{
		bool		isnull;
		bytea	   *p;
		int64		lo = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tt->vals[r], tt->tupdesc, 2, &isnull)));
		int64		hi = pha_tstz_to_ms(DatumGetTimestampTz(SPI_getbinval(tt->vals[r], tt->tupdesc, 3, &isnull)));
		MemoryContext spi;

		if (hi < oldest)
			continue;
		spi = MemoryContextSwitchTo(req->cxt);
		p = DatumGetByteaPCopy(SPI_getbinval(tt->vals[r], tt->tupdesc, 4, &isnull));
		if (pha_request_add_payload(req, (const uint8 *) VARDATA(p), VARSIZE(p) - VARHDRSZ,
									g->cluster, g->replica))
		{
			min_t = Min(min_t, Max(lo, oldest));
			*max_t = Max(*max_t, hi);
		}
		pfree(p);
		MemoryContextSwitchTo(spi);
	}
	return min_t;
}

/* Keep a follower's payload for a later takeover; prune the cluster's buffer. */
void
pha_replay_keep(PhaRequest *req, PhaGroup *g, PhaClusterState *st)
{
	static SPIPlanPtr ins_plan = NULL;
	static SPIPlanPtr prune_plan = NULL;
	Oid			types[6] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BYTEAOID};
	Datum		v[6];
	bytea	   *p;
	bool		prune = false;
	PhaClusterState *e;

	if (pha_replay_buffer_kb == 0 || g->nsamples == 0 || req->payload == NULL)
		return;
	p = palloc(VARHDRSZ + req->payload_len);
	SET_VARSIZE(p, VARHDRSZ + req->payload_len);
	memcpy(VARDATA(p), req->payload, req->payload_len);
	v[0] = CStringGetTextDatum(g->cluster);
	v[1] = CStringGetTextDatum(g->replica);
	v[2] = TimestampTzGetDatum(req->now);
	v[3] = pha_ms_datum(g->tmin);
	v[4] = pha_ms_datum(g->tmax);
	v[5] = PointerGetDatum(p);
	pha_run_sql(&ins_plan, "INSERT INTO promscale_ha.replay_buffer"
			" (cluster_name, replica_name, received_at, min_time, max_time, payload)"
			" VALUES ($1, $2, $3, $4, $5, $6)", 6, types, v, NULL, SPI_OK_INSERT);

	/*
	 * Prune by age at most once a second per cluster, and at once when the
	 * cluster's buffer passes its size bound (the byte count kept in shared
	 * memory is approximate; each prune sets it to the true remainder).
	 */
	LWLockAcquire(pha_shared->lock, LW_EXCLUSIVE);
	e = hash_search(pha_clusters, &st->key, HASH_FIND, NULL);
	if (e)
	{
		e->buffer_bytes += (int64) req->payload_len;
		if (req->now - e->last_prune >= USECS_PER_SEC ||
			e->buffer_bytes > (int64) pha_replay_buffer_kb * 1024)
		{
			e->last_prune = req->now;
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
		pv[1] = TimestampTzGetDatum(req->now - pha_replay_keep_us());
		pv[2] = Int64GetDatum((int64) pha_replay_buffer_kb * 1024);
		pha_run_sql(&prune_plan, "WITH x AS ("
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
		e = hash_search(pha_clusters, &st->key, HASH_FIND, NULL);
		if (e)
			e->buffer_bytes = remaining;
		LWLockRelease(pha_shared->lock);
	}
}
