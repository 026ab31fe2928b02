/*-------------------------------------------------------------------------
 *
 * series.c
 *	  Label set -> series id, with a per-backend cache.
 *
 * A label set is identified by the SHA-256 of its sorted labels; that digest
 * is the unique key of promscale_ha.series.  Series whose label bytes the
 * wire cache (wire_cache.c) knows come in with their ids and are not hashed.
 * Resolution is batched per request: every series is hashed and looked up in
 * a backend-local hash table (no SQL for known series); the misses are looked
 * up with one SELECT (a generic plan: an index probe per hash, not a plan
 * made for the array's contents), unless a sample of a large batch of misses
 * finds none of them stored (all_new_likely); the still-missing ones are
 * created in hash order (so that two writers creating overlapping sets cannot
 * deadlock) by heap multi-inserts (series_insert.c), or, when one of them
 * exists by then, with one INSERT ... ON CONFLICT DO NOTHING; whatever a
 * concurrent writer created in the meantime is read with a second SELECT.
 * Every row found or created ends in the cache.
 *
 * Cache correctness:
 *	- entries learned inside a (sub)transaction are remembered with its
 *	  SubTransactionId and forgotten if it aborts (the rows may vanish);
 *	- a statement trigger on series turns DELETE/UPDATE/TRUNCATE into a
 *	  relcache invalidation of the table; every backend's callback then drops
 *	  its whole cache (deletes are rare; correctness beats cleverness);
 *	- the table's OID is checked per request, so DROP/CREATE EXTENSION resets
 *	  the cache too.
 * The cache holds at most promscale_ha.series_cache_size entries; when full
 * it is emptied and refilled by the next requests.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "guc.h"
#include "sql.h"
#include "store/series.h"
#include "store/series_insert.h"
#include "store/wire_cache.h"

typedef struct SeriesKey
{
	uint8		hash[PHA_SERIES_HASH_LEN];
} SeriesKey;

typedef struct SeriesEntry
{
	SeriesKey	key;
	int64		id;
} SeriesEntry;

/* An entry learned in a transaction that has not committed yet. */
typedef struct PendingEntry
{
	SeriesKey	key;
	SubTransactionId subid;
} PendingEntry;

static HTAB *series_cache = NULL;
static Oid	series_cache_relid = InvalidOid;
static PendingEntry *pending = NULL;
static int	npending = 0;
static int	maxpending = 0;

static SPIPlanPtr select_plan = NULL;
static SPIPlanPtr insert_plan = NULL;

PG_FUNCTION_INFO_V1(pha_series_invalidate);

/* The digest is uniformly random: its first four bytes are a fine hash. */
static uint32
series_key_hash(const void *key, Size keysize)
{
	uint32		h;

	memcpy(&h, ((const SeriesKey *) key)->hash, sizeof(h));
	return h;
}

static void
series_cache_reset(void)
{
	if (series_cache != NULL)
		hash_destroy(series_cache);
	series_cache = NULL;
	npending = 0;
	pha_wire_cache_reset();
}

static void
series_cache_create(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(SeriesKey);
	ctl.entrysize = sizeof(SeriesEntry);
	ctl.hash = series_key_hash;
	ctl.hcxt = CacheMemoryContext;
	series_cache = hash_create("promscale_ha series cache", 16384, &ctl,
							   HASH_ELEM | HASH_FUNCTION | HASH_CONTEXT);
}

/* Relcache callback: an invalidation of promscale_ha.series empties the cache. */
static void
series_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == series_cache_relid)
		series_cache_reset();
}

/* Drop the entries learned in an aborted (sub)transaction. */
static void
forget_since(SubTransactionId subid)
{
	int			keep = 0;

	for (int i = 0; i < npending; i++)
	{
		if (pending[i].subid >= subid)
		{
			if (series_cache != NULL)
				hash_search(series_cache, &pending[i].key, HASH_REMOVE, NULL);
		}
		else
			pending[keep++] = pending[i];
	}
	npending = keep;
}

static void
series_xact_cb(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		forget_since(InvalidSubTransactionId);
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
			 event == XACT_EVENT_PREPARE)
		npending = 0;
}

static void
series_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
				  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_since(mySubid);
}

void
pha_series_init(void)
{
	CacheRegisterRelcacheCallback(series_relcache_cb, (Datum) 0);
	RegisterXactCallback(series_xact_cb, NULL);
	RegisterSubXactCallback(series_subxact_cb, NULL);
	pha_wire_cache_init();
}

/* Trigger on promscale_ha.series: broadcast a relcache invalidation at commit. */
Datum
pha_series_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("series_invalidate() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	PG_RETURN_POINTER(NULL);
}

/*
 * Remember key in the cache, as pending until the transaction commits.  Only
 * a key the cache does not hold counts against promscale_ha.series_cache_size
 * (as in wire_cache.c): a full cache is emptied for a new key, never for one
 * it has.
 */
static void
cache_put(const SeriesKey *key, int64 id)
{
	SeriesEntry *e;

	if (series_cache == NULL)
		series_cache_create();
	/* a full cache is emptied only for a key it does not hold */
	if (pha_series_cache_size > 0 &&
		hash_get_num_entries(series_cache) >= pha_series_cache_size &&
		hash_search(series_cache, key, HASH_FIND, NULL) == NULL)
	{
		elog(DEBUG1, "promscale_ha: the series cache holds %ld series (promscale_ha.series_cache_size): emptied",
			 (long) hash_get_num_entries(series_cache));
		series_cache_reset();
		series_cache_create();
	}
	e = hash_search(series_cache, key, HASH_ENTER, NULL);
	e->id = id;
	if (npending == maxpending)
	{
		maxpending = Max(1024, maxpending * 2);
		pending = pending == NULL
			? MemoryContextAlloc(TopMemoryContext, maxpending * sizeof(PendingEntry))
			: repalloc(pending, maxpending * sizeof(PendingEntry));
	}
	pending[npending].key = *key;
	pending[npending].subid = GetCurrentSubTransactionId();
	npending++;
}

static void
series_hash(pg_cryptohash_ctx *ctx, Prometheus__TimeSeries *ts, SeriesKey *out)
{
	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 context");
	for (size_t i = 0; i < ts->n_labels; i++)
	{
		Prometheus__Label *l = ts->labels[i];
		uint32		lens[2];

		lens[0] = (uint32) l->name.len;
		lens[1] = (uint32) l->value.len;
		if (pg_cryptohash_update(ctx, (const uint8 *) lens, sizeof(lens)) < 0 ||
			pg_cryptohash_update(ctx, l->name.data, l->name.len) < 0 ||
			pg_cryptohash_update(ctx, l->value.data, l->value.len) < 0)
			elog(ERROR, "could not compute SHA-256 of a label set");
	}
	if (pg_cryptohash_final(ctx, out->hash, PHA_SERIES_HASH_LEN) < 0)
		elog(ERROR, "could not finish SHA-256 of a label set");
}

/* jsonb's order of object keys: shorter first, then bytewise. */
static inline int
jsonb_key_cmp(const JsonbValue *a, const JsonbValue *b)
{
	if (a->val.string.len != b->val.string.len)
		return a->val.string.len < b->val.string.len ? -1 : 1;
	return memcmp(a->val.string.val, b->val.string.val, a->val.string.len);
}

/*
 * The row values of a new series in one pass over its labels: the labels as
 * a jsonb object and __name__'s value as text, both allocated in the current
 * context at their exact size.  The object is built directly, its pairs
 * put in jsonb's key order by insertion (the labels arrive sorted by name,
 * so this is nearly linear), in scratch, reset for each series: the generic
 * builder takes several times the result's size per series (a pair array
 * grown by doubling, a 1 kB output buffer), which for thousands of new series
 * is tens of MB of fresh memory, page faults included, per request.
 */
static void
series_row_values(Prometheus__TimeSeries *ts, MemoryContext scratch, Datum *name,
				  Datum *labels)
{
	MemoryContext cxt = MemoryContextSwitchTo(scratch);
	JsonbPair  *pairs = palloc(Max(ts->n_labels, 1) * sizeof(JsonbPair));
	JsonbValue	obj;
	Jsonb	   *built;
	Jsonb	   *out;
	Prometheus__Label *metric = NULL;

	for (size_t i = 0; i < ts->n_labels; i++)
	{
		Prometheus__Label *l = ts->labels[i];
		JsonbPair	p;
		size_t		j = i;

		if (l->name.len == 8 && memcmp(l->name.data, "__name__", 8) == 0)
			metric = l;
		p.key.type = jbvString;
		p.key.val.string.val = (char *) l->name.data;
		p.key.val.string.len = (int) l->name.len;
		p.value.type = jbvString;
		p.value.val.string.val = (char *) l->value.data;
		p.value.val.string.len = (int) l->value.len;
		p.order = (uint32) i;
		while (j > 0 && jsonb_key_cmp(&pairs[j - 1].key, &p.key) > 0)
		{
			pairs[j] = pairs[j - 1];
			j--;
		}
		if (j > 0 && jsonb_key_cmp(&pairs[j - 1].key, &p.key) == 0)
			elog(ERROR, "validated series has a repeated label name");
		pairs[j] = p;
	}
	if (metric == NULL)
		elog(ERROR, "validated series has no __name__");
	obj.type = jbvObject;
	obj.val.object.nPairs = (int) ts->n_labels;
	obj.val.object.pairs = pairs;
	built = JsonbValueToJsonb(&obj);
	MemoryContextSwitchTo(cxt);
	out = palloc(VARSIZE(built));
	memcpy(out, built, VARSIZE(built));
	MemoryContextReset(scratch);
	*labels = PointerGetDatum(out);
	*name = PointerGetDatum(cstring_to_text_with_len((char *) metric->value.data,
													 (int) metric->value.len));
}

static Datum
hash_datum(const SeriesKey *key)
{
	bytea	   *b = palloc(VARHDRSZ + PHA_SERIES_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + PHA_SERIES_HASH_LEN);
	memcpy(VARDATA(b), key->hash, PHA_SERIES_HASH_LEN);
	return PointerGetDatum(b);
}

/* Put every (id, labels_hash) row of the last SPI result in the cache. */
static void
cache_spi_result(void)
{
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
		bytea	   *h = DatumGetByteaPP(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
		SeriesKey	key;

		if (VARSIZE_ANY_EXHDR(h) != PHA_SERIES_HASH_LEN)
			elog(ERROR, "promscale_ha.series.labels_hash has a wrong length");
		memcpy(key.hash, VARDATA_ANY(h), PHA_SERIES_HASH_LEN);
		cache_put(&key, id);
	}
}

/* Look the misses up in the cache again; return how many are still missing. */
static int
fill_from_cache(SeriesKey *keys, int *miss, int nmiss, int64 *ids)
{
	int			left = 0;

	for (int m = 0; m < nmiss; m++)
	{
		int			i = miss[m];
		SeriesEntry *e = series_cache
			? hash_search(series_cache, &keys[i], HASH_FIND, NULL) : NULL;

		if (e != NULL)
			ids[i] = e->id;
		else
			miss[left++] = i;
	}
	return left;
}

static void
select_existing(SeriesKey *keys, int *miss, int nmiss)
{
	Datum	   *d = palloc(nmiss * sizeof(Datum));
	Datum		arg;
	int			rc;

	for (int m = 0; m < nmiss; m++)
		d[m] = hash_datum(&keys[miss[m]]);
	arg = PointerGetDatum(construct_array(d, nmiss, BYTEAOID, -1, false, TYPALIGN_INT));
	if (select_plan == NULL)
	{
		Oid			types[1] = {BYTEAARRAYOID};

		/*
		 * Generic: a custom plan would be made for each request, copying its
		 * array into the plan, and for thousands of hashes might scan the table
		 */
		select_plan = SPI_prepare_cursor("SELECT id, labels_hash FROM promscale_ha.series"
										 " WHERE labels_hash = ANY($1)", 1, types,
										 CURSOR_OPT_GENERIC_PLAN);
		if (select_plan == NULL)
			elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(select_plan);
	}
	rc = SPI_execute_plan(select_plan, &arg, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "series lookup failed: %s", SPI_result_code_string(rc));
	cache_spi_result();
}

/*
 * Misses of a request come in two kinds: new label sets (a deploy, a new
 * target), and series this backend has not seen yet but another one stored.
 * For a large batch of misses, look a sample of them up first: when none of
 * those exists, the batch is most likely all new and goes straight to the
 * insert, whose unique index still catches any that exists (the insert then
 * falls back to ON CONFLICT DO NOTHING and the final lookup finds them); the
 * lookup of every miss, one index descent each, is saved.
 */
#define PHA_SERIES_SAMPLE 8

static bool
all_new_likely(SeriesKey *keys, const int *miss, int nmiss)
{
	int			sample[PHA_SERIES_SAMPLE];

	if (nmiss < 8 * PHA_SERIES_SAMPLE)
		return false;
	for (int k = 0; k < PHA_SERIES_SAMPLE; k++)
		sample[k] = miss[(int) ((int64) k * nmiss / PHA_SERIES_SAMPLE)];
	select_existing(keys, sample, PHA_SERIES_SAMPLE);
	return SPI_processed == 0;
}

static int	cmp_keys_by_index(const void *a, const void *b, void *arg);

/*
 * Insert the missing series in hash order, all at once when none of them
 * exists by then, else with ON CONFLICT DO NOTHING; returns rows created.
 * *resolved: every missing series' id is in ids (the batch created them
 * all); otherwise the caller finds them in the cache.
 */
static int
insert_missing(Prometheus__TimeSeries **ts, SeriesKey *keys, int *miss, int nmiss, int64 *ids,
			   bool *resolved)
{
	Datum	   *names = palloc(nmiss * sizeof(Datum));
	Datum	   *labels = palloc(nmiss * sizeof(Datum));
	Datum	   *hashes = palloc(nmiss * sizeof(Datum));
	int64	   *newids = palloc(nmiss * sizeof(int64));
	int		   *uniq = palloc(nmiss * sizeof(int));
	int		   *row_of = palloc(nmiss * sizeof(int));	/* miss[m]'s row among uniq */
	int			n = 0;
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "promscale_ha series labels",
												  ALLOCSET_DEFAULT_SIZES);
	Datum		args[3];
	int			rc;

	/* hash order; a label set sent twice in the request is inserted once */
	qsort_arg(miss, nmiss, sizeof(int), cmp_keys_by_index, keys);
	for (int m = 0; m < nmiss; m++)
	{
		int			i = miss[m];

		if ((m & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		if (n > 0 && memcmp(keys[i].hash, keys[uniq[n - 1]].hash, PHA_SERIES_HASH_LEN) == 0)
		{
			row_of[m] = n - 1;
			continue;
		}
		row_of[m] = n;
		uniq[n] = i;
		series_row_values(ts[i], scratch, &names[n], &labels[n]);
		hashes[n] = hash_datum(&keys[i]);
		n++;
	}
	MemoryContextDelete(scratch);
	*resolved = false;
	if (pha_series_insert_direct(series_cache_relid, n, names, labels, hashes, newids))
	{
		for (int m = 0; m < n; m++)
			cache_put(&keys[uniq[m]], newids[m]);
		for (int m = 0; m < nmiss; m++)
			ids[miss[m]] = newids[row_of[m]];
		*resolved = true;
		return n;
	}
	nmiss = n;
	args[0] = PointerGetDatum(construct_array(names, nmiss, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_array(labels, nmiss, JSONBOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(hashes, nmiss, BYTEAOID, -1, false, TYPALIGN_INT));
	if (insert_plan == NULL)
	{
		Oid			types[3] = {TEXTARRAYOID, JSONBARRAYOID, BYTEAARRAYOID};

		insert_plan = pha_sql_prepare("INSERT INTO promscale_ha.series (metric_name, labels, labels_hash)"
								" SELECT * FROM unnest($1, $2, $3)"
								" ON CONFLICT (labels_hash) DO NOTHING"
								" RETURNING id, labels_hash", 3, types);
	}
	rc = SPI_execute_plan(insert_plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "series insert failed: %s", SPI_result_code_string(rc));
	cache_spi_result();
	return (int) SPI_processed;
}

static int
cmp_keys_by_index(const void *a, const void *b, void *arg)
{
	SeriesKey  *keys = (SeriesKey *) arg;

	return memcmp(keys[*(const int *) a].hash, keys[*(const int *) b].hash,
				  PHA_SERIES_HASH_LEN);
}

/* Reset the cache when promscale_ha.series is not the table it was built for. */
static void
check_series_relid(void)
{
	Oid			nsp = get_namespace_oid("promscale_ha", false);
	Oid			relid = get_relname_relid("series", nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table promscale_ha.series does not exist")));
	if (relid != series_cache_relid)
	{
		series_cache_reset();
		series_cache_relid = relid;
	}
}

int
pha_series_resolve(Prometheus__TimeSeries **ts, const int64 *known, int n, int64 *ids)
{
	SeriesKey  *keys;
	int		   *miss;
	int			nmiss = 0;
	int			created = 0;
	pg_cryptohash_ctx *hctx = NULL;

	if (n == 0)
		return 0;
	check_series_relid();
	keys = palloc(n * sizeof(SeriesKey));
	miss = palloc(n * sizeof(int));
	for (int i = 0; i < n; i++)
	{
		SeriesEntry *e;

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		if (known != NULL && known[i] != PHA_WIRE_UNKNOWN)
		{
			ids[i] = known[i];	/* the wire cache knew its label bytes */
			continue;
		}
		if (hctx == NULL && (hctx = pg_cryptohash_create(PG_SHA256)) == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		series_hash(hctx, ts[i], &keys[i]);
		e = series_cache ? hash_search(series_cache, &keys[i], HASH_FIND, NULL) : NULL;
		if (e != NULL)
			ids[i] = e->id;
		else
			miss[nmiss++] = i;
	}
	if (hctx != NULL)
		pg_cryptohash_free(hctx);
	if (nmiss == 0)
		return 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!all_new_likely(keys, miss, nmiss))
	{
		select_existing(keys, miss, nmiss);
		nmiss = fill_from_cache(keys, miss, nmiss, ids);
	}
	if (nmiss > 0)
	{
		bool		resolved;

		created = insert_missing(ts, keys, miss, nmiss, ids, &resolved);
		nmiss = resolved ? 0 : fill_from_cache(keys, miss, nmiss, ids);
	}
	if (nmiss > 0)
	{
		/* created by a concurrent writer between our SELECT and INSERT */
		select_existing(keys, miss, nmiss);
		nmiss = fill_from_cache(keys, miss, nmiss, ids);
	}
	SPI_finish();
	if (nmiss > 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not resolve %d series of the request", nmiss),
				 errdetail("A concurrent transaction deleted series while they were being created."),
				 errhint("Retry the request.")));
	return created;
}
