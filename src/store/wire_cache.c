/*-------------------------------------------------------------------------
 *
 * wire_cache.c
 *	  Per-backend cache: a series' label bytes as sent -> its series id.
 *
 * Keyed by the 64-bit hash of a series' Label fields exactly as they came on
 * the wire (wire/fastpath.c, the replica label set aside) and verified byte
 * for byte on a hit: equal bytes are an equal label set, validated when the
 * set was first seen, so a hit needs no validation and no SHA-256 (series.c
 * computes that identity for misses only).  Open addressing with linear
 * probing over an array of entries; the key bytes live in large blocks of the
 * cache's own memory context.  About 32 bytes per slot (half full at most)
 * plus the label bytes of each series.
 *
 * Correctness, as for series.c's cache: what a transaction learns is kept
 * aside (pending, with its subtransaction) and enters the cache only at
 * commit, so an aborted insert of a series never leaves an id behind; a
 * reset (the relcache invalidation of promscale_ha.series, a new table OID,
 * the size limit promscale_ha.series_cache_size) empties the cache and bumps
 * its generation, and ids probed before a reset are not used after it.
 * Publishing at commit allocates without raising errors (MCXT_ALLOC_NO_OOM):
 * an entry that finds no memory is simply not cached.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/pg_prng.h"
#include "utils/memutils.h"

#include "guc.h"
#include "store/wire_cache.h"

#define KEY_BLOCK		(1024 * 1024)
#define PROBE_AHEAD		8		/* series a probe's loads are issued ahead */

typedef struct WireEntry
{
	uint64		hash;
	const uint8 *bytes;			/* NULL: empty slot */
	uint32		len;
	int64		id;
} WireEntry;

typedef struct Pending
{
	uint64		hash;
	int64		id;
	uint8	   *bytes;
	uint32		len;
	SubTransactionId subid;
} Pending;

static MemoryContext cache_cxt = NULL;	/* the table and the key bytes */
static WireEntry *table = NULL;
static uint32 table_size = 0;	/* a power of two, or 0 */
static uint32 table_count = 0;
static char *block_cur = NULL;
static char *block_end = NULL;
static uint64 generation = 1;
static uint64 seed = 0;

static MemoryContext pending_cxt = NULL;	/* pending entries and their bytes */
static Pending *pending = NULL;
static int	npending = 0;
static int	maxpending = 0;

/* Drawn in the backend on first use (a preloaded library's statics are the postmaster's). */
uint64
pha_wire_cache_seed(void)
{
	if (seed == 0)
		seed = pg_prng_uint64(&pg_global_prng_state) | 1;
	return seed;
}

bool
pha_wire_cache_valid(uint64 gen)
{
	return gen == generation;
}

static void
drop_pending(void)
{
	if (pending_cxt != NULL)
		MemoryContextReset(pending_cxt);
	pending = NULL;
	npending = maxpending = 0;
}

/* Empty the table (ids probed before are void from now on); raises no error. */
static void
clear_table(void)
{
	if (cache_cxt != NULL)
		MemoryContextReset(cache_cxt);
	table = NULL;
	table_size = table_count = 0;
	block_cur = block_end = NULL;
	generation++;
}

void
pha_wire_cache_reset(void)
{
	clear_table();
	drop_pending();
}

int
pha_wire_cache_probe(PhaFastRequest *fr)
{
	int			hits = 0;

	fr->generation = generation;
	if (table == NULL)
		return 0;
	for (size_t i = 0; i < fr->wr.n_timeseries; i++)
	{
		const PhaWireKey *key = &fr->keys[i];
		uint32		slot;

		/*
		 * The table is far larger than the CPU's caches and every series
		 * lands in a random slot: load the slot of the series PROBE_AHEAD * 2
		 * on, and the key bytes of the one PROBE_AHEAD on (its slot loaded
		 * by now), so that their misses overlap this one's (a request of
		 * known series is otherwise a chain of ~100 ns waits).
		 */
		if (i + 2 * PROBE_AHEAD < fr->wr.n_timeseries)
			__builtin_prefetch(&table[(uint32) fr->keys[i + 2 * PROBE_AHEAD].hash & (table_size - 1)]);
		if (i + PROBE_AHEAD < fr->wr.n_timeseries)
		{
			const WireEntry *e = &table[(uint32) fr->keys[i + PROBE_AHEAD].hash & (table_size - 1)];

			__builtin_prefetch(e->bytes);
			__builtin_prefetch(e->bytes + 64);
		}
		if (!key->cacheable)
			continue;
		for (slot = (uint32) key->hash & (table_size - 1); table[slot].bytes != NULL;
			 slot = (slot + 1) & (table_size - 1))
		{
			if (table[slot].hash == key->hash &&
				pha_wire_key_equal(key, table[slot].bytes, table[slot].len))
			{
				fr->ids[i] = table[slot].id;
				hits++;
				break;
			}
		}
	}
	return hits;
}

void
pha_wire_cache_remember(const PhaWireKey *key, int64 id)
{
	size_t		len = key->len[0] + key->len[1];
	Pending    *p;

	if (!key->cacheable || len > PG_UINT32_MAX ||
		(pha_series_cache_size > 0 && npending >= pha_series_cache_size))
		return;
	if (pending_cxt == NULL)
		pending_cxt = AllocSetContextCreate(TopMemoryContext, "promscale_ha wire cache (pending)",
											ALLOCSET_DEFAULT_SIZES);
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "promscale_ha wire cache",
										  ALLOCSET_DEFAULT_SIZES);
	if (npending == maxpending)
	{
		maxpending = Max(1024, maxpending * 2);
		pending = pending == NULL
			? MemoryContextAllocHuge(pending_cxt, maxpending * sizeof(Pending))
			: repalloc_huge(pending, maxpending * sizeof(Pending));
	}
	p = &pending[npending++];
	p->hash = key->hash;
	p->id = id;
	p->len = (uint32) len;
	p->bytes = MemoryContextAlloc(pending_cxt, Max(len, 1));
	memcpy(p->bytes, key->part[0], key->len[0]);
	if (key->len[1] > 0)
		memcpy(p->bytes + key->len[0], key->part[1], key->len[1]);
	p->subid = GetCurrentSubTransactionId();
}

/* Room for one more entry, the table at most half full; false when out of memory. */
static bool
ensure_room(void)
{
	uint32		size;
	WireEntry  *t;

	if (table != NULL && (table_count + 1) * 2 <= table_size)
		return true;
	size = table_size ? table_size * 2 : 16384;
	t = MemoryContextAllocExtended(cache_cxt, (Size) size * sizeof(WireEntry),
								   MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
	if (t == NULL)
		return false;
	for (uint32 i = 0; i < table_size; i++)
	{
		uint32		slot;

		if (table[i].bytes == NULL)
			continue;
		for (slot = (uint32) table[i].hash & (size - 1); t[slot].bytes != NULL;
			 slot = (slot + 1) & (size - 1))
			;
		t[slot] = table[i];
	}
	if (table != NULL)
		pfree(table);
	table = t;
	table_size = size;
	return true;
}

/* A copy of len bytes in the cache's key blocks; NULL when out of memory. */
static uint8 *
copy_key(const uint8 *bytes, uint32 len)
{
	uint8	   *p;

	if (block_cur == NULL || (size_t) (block_end - block_cur) < len)
	{
		size_t		size = Max((size_t) len, KEY_BLOCK);

		block_cur = MemoryContextAllocExtended(cache_cxt, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (block_cur == NULL)
		{
			block_end = NULL;
			return NULL;
		}
		block_end = block_cur + size;
	}
	p = (uint8 *) block_cur;
	memcpy(p, bytes, len);
	block_cur += len;
	return p;
}

/* The entry of a key's bytes, or NULL when the table does not hold them. */
static WireEntry *
find_entry(uint64 hash, const uint8 *bytes, uint32 len)
{
	if (table == NULL)
		return NULL;
	for (uint32 slot = (uint32) hash & (table_size - 1); table[slot].bytes != NULL;
		 slot = (slot + 1) & (table_size - 1))
	{
		if (table[slot].hash == hash && table[slot].len == len &&
			memcmp(table[slot].bytes, bytes, len) == 0)
			return &table[slot];
	}
	return NULL;
}

/*
 * At commit: the pending entries enter the cache.  Raises no error.  Only a
 * key the table does not hold counts against promscale_ha.series_cache_size:
 * a key learned twice in one transaction (validated, then given its id) must
 * not empty a table that is exactly full, or a backend whose active series
 * number exactly the limit would keep only its last request's series.
 */
static void
publish(void)
{
	for (int i = 0; i < npending; i++)
	{
		Pending    *pe = &pending[i];
		WireEntry  *e = find_entry(pe->hash, pe->bytes, pe->len);
		uint32		slot;

		if (e != NULL)
		{
			if (pe->id != PHA_WIRE_VALID)
				e->id = pe->id; /* an id for a validated key */
			continue;
		}
		if (pha_series_cache_size > 0 && table_count >= (uint32) pha_series_cache_size)
			clear_table();	/* full: refilled by the next requests */
		if (!ensure_room())
			break;
		for (slot = (uint32) pe->hash & (table_size - 1); table[slot].bytes != NULL;
			 slot = (slot + 1) & (table_size - 1))
			;
		table[slot].bytes = copy_key(pe->bytes, pe->len);
		if (table[slot].bytes == NULL)
			break;
		table[slot].hash = pe->hash;
		table[slot].len = pe->len;
		table[slot].id = pe->id;
		table_count++;
	}
}

static void
wire_xact_cb(XactEvent event, void *arg)
{
	if (npending == 0)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		publish();
		drop_pending();
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
			 event == XACT_EVENT_PREPARE)
		drop_pending();
}

static void
wire_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
				SubTransactionId parentSubid, void *arg)
{
	int			keep = 0;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	for (int i = 0; i < npending; i++)
		if (pending[i].subid < mySubid)
			pending[keep++] = pending[i];
	npending = keep;
}

void
pha_wire_cache_init(void)
{
	RegisterXactCallback(wire_xact_cb, NULL);
	RegisterSubXactCallback(wire_subxact_cb, NULL);
}
