/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Every configuration parameter of promscale_ha, defined in one place.
 *
 * Parameters a user may change at run time come first; the ones sized into
 * shared memory (PGC_POSTMASTER) are defined only when the library is being
 * preloaded, as the contrib modules do.  Limits are PGC_SUSET so that a
 * writer role cannot raise them for itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "guc.h"

int			pha_max_payload_bytes = 64 * 1024 * 1024;
int			pha_max_series_per_request = 1000000;
int			pha_max_labels_per_series = 128;
int			pha_max_label_name_length = 256;
int			pha_max_label_value_length = 16384;
int			pha_partition_interval_s = 7200;
int			pha_series_cache_size = 1000000;
bool		pha_direct_insert = true;

char	   *pha_cluster_label = NULL;
char	   *pha_replica_label = NULL;
bool		pha_require_ha_labels = false;
int			pha_failover_timeout_ms = 30000;
int			pha_lease_refresh_ms = 10000;
int			pha_max_future_ms = 600000;
int			pha_max_clusters = 0;
int			pha_replay_buffer_kb = 256 * 1024;
bool		pha_replay_buffer_logged = true;
int			pha_ha_cluster_slots = 1024;
bool		pha_high_availability = true;
int			pha_max_tracked_replicas = 4096;
char	   *pha_test_now = NULL;

char	   *pha_database = NULL;
int			pha_cluster_idle_timeout_s = 86400;
int			pha_lease_log_retention_s = 30 * 86400;
int			pha_retention_s = 0;
int			pha_housekeeping_interval_s = 60;

int			pha_compress_after_s = 3600;
int			pha_chunk_format = PHA_CHUNK_FORMAT_DENSE;
int			pha_xor_chunk_samples = 120;
int			pha_compress_lock_timeout_ms = 500;
int			pha_compress_batch = 4;

int			pha_read_max_samples = 50000000;
int			pha_read_max_series = 1000000;
int			pha_read_frame_bytes = 64 * 1024;
int			pha_read_batch_series = 64;
int			pha_kept_decode_kb = 32 * 1024;
int			pha_malloc_mmap_threshold_kb = 32 * 1024;

static const struct config_enum_entry chunk_format_options[] = {
	{"dense", PHA_CHUNK_FORMAT_DENSE, false},
	{"xor", PHA_CHUNK_FORMAT_XOR, false},
	{NULL, 0, false}
};

/* promscale_ha.cluster_label / replica_label must be valid label names. */
static bool
check_label_name(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;

	if (s == NULL || s[0] == '\0')
	{
		GUC_check_errdetail("The label name must not be empty.");
		return false;
	}
	for (const char *p = s; *p; p++)
	{
		char		c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (p > s && c >= '0' && c <= '9')))
		{
			GUC_check_errdetail("Label names must match [a-zA-Z_][a-zA-Z0-9_]*.");
			return false;
		}
	}
	return true;
}

/* promscale_ha.test_now must be empty or a timestamp. */
static bool
check_test_now(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	PG_TRY();
	{
		(void) DirectFunctionCall3(timestamptz_in, CStringGetDatum(*newval),
								   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	PG_CATCH();
	{
		FlushErrorState();
		GUC_check_errdetail("\"%s\" is not a timestamp.", *newval);
		return false;
	}
	PG_END_TRY();
	return true;
}

TimestampTz
pha_now(void)
{
	if (pha_test_now != NULL && pha_test_now[0] != '\0')
		return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													   CStringGetDatum(pha_test_now),
													   ObjectIdGetDatum(InvalidOid),
													   Int32GetDatum(-1)));
	return GetCurrentTimestamp();
}

/* Twice the failover timeout plus a minute: enough for a takeover to find them. */
int64
pha_replay_keep_us(void)
{
	return ((int64) pha_failover_timeout_ms * 2 + 60000) * 1000;
}

void
pha_guc_init(void)
{
	DefineCustomIntVariable("promscale_ha.max_payload_bytes",
							"Largest uncompressed remote-write request accepted.",
							"Checked against the snappy header before anything is allocated; "
							"larger requests fail with SQLSTATE 54000.",
							&pha_max_payload_bytes, 64 * 1024 * 1024, 1024, MaxAllocSize / 2,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.max_series_per_request",
							"Most series one remote-write request may carry.",
							"0 means no limit.",
							&pha_max_series_per_request, 1000000, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.max_labels_per_series",
							"Most labels one series may carry.",
							"0 means no limit.",
							&pha_max_labels_per_series, 128, 0, 100000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.max_label_name_length",
							"Longest label name accepted, in bytes.",
							"0 means no limit.",
							&pha_max_label_name_length, 256, 0, 1024 * 1024,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.max_label_value_length",
							"Longest label value accepted, in bytes.",
							"0 means no limit.",
							&pha_max_label_value_length, 16384, 0, 64 * 1024 * 1024,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.partition_interval",
							"Width of each time partition of promscale_ha.samples_head.",
							"Partitions are aligned on the Unix epoch (UTC). A change applies "
							"to partitions created afterwards; existing ones keep their range. "
							"The head holds about this plus compress_after of rows.",
							&pha_partition_interval_s, 7200, 60, 366 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomEnumVariable("promscale_ha.chunk_format",
							 "Encoding of new compressed chunks: dense or xor.",
							 "dense: scaled decimal integers, delta coding and zstd (smallest); "
							 "xor: Prometheus' XOR chunk layout. Chunks already written keep "
							 "theirs; both are read.",
							 &pha_chunk_format, PHA_CHUNK_FORMAT_DENSE, chunk_format_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.xor_chunk_samples",
							"Most samples in one new xor chunk.",
							"120 is what Prometheus puts in its chunks: remote read then sends "
							"stored chunks of the size its clients expect, and a window cut at "
							"any time decodes at most this many samples at each edge. Larger "
							"chunks take fewer bytes per sample. Dense chunks hold up to 8192.",
							&pha_xor_chunk_samples, 120, 16, 8192,
							PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("promscale_ha.series_cache_size",
							"Most series ids each backend keeps in its cache.",
							"About 270 bytes each for 10-label series; a new series when full empties the cache, which refills. "
							"0 means no limit.",
							&pha_series_cache_size, 1000000, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("promscale_ha.direct_insert",
							 "Insert a request's samples straight into the head partitions.",
							 "Heap multi-inserts and index inserts as COPY does them, without "
							 "serialising rows for COPY to parse.  Off, or where a partition has "
							 "triggers, row-level security or CHECK constraints, write() uses COPY.",
							 &pha_direct_insert, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomStringVariable("promscale_ha.cluster_label",
							   "Label that names a Prometheus HA cluster.",
							   "Same on every replica of a cluster; kept on stored series. "
							   "The Prometheus Operator uses \"prometheus\".",
							   &pha_cluster_label, "cluster",
							   PGC_SUSET, 0, check_label_name, NULL, NULL);
	DefineCustomStringVariable("promscale_ha.replica_label",
							   "Label that names one replica of a Prometheus HA cluster.",
							   "Unique per replica; removed before series are stored. "
							   "The Prometheus Operator uses \"prometheus_replica\".",
							   &pha_replica_label, "__replica__",
							   PGC_SUSET, 0, check_label_name, NULL, NULL);
	DefineCustomBoolVariable("promscale_ha.high_availability",
							 "Elect one leader per HA cluster and store only its samples.",
							 "Off: no election, nothing is de-duplicated, and the cluster and "
							 "replica labels are ordinary labels, stored as sent (Promscale "
							 "without --high-availability).",
							 &pha_high_availability, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("promscale_ha.require_ha_labels",
							 "Reject series that carry only one of the two HA labels.",
							 "When off, such a series is stored as sent.",
							 &pha_require_ha_labels, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.failover_timeout",
							"How long a leader may stay silent before another replica takes over.",
							"Wall-clock time since the leader's last write.",
							&pha_failover_timeout_ms, 30000, 100, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.lease_refresh",
							"How often a leader's progress is written to promscale_ha.ha_leases.",
							"Between refreshes the lease state lives in shared memory only.",
							&pha_lease_refresh_ms, 10000, 10, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.max_future",
							"How far ahead of the database clock an HA sample may be.",
							"Later samples are dropped and counted; they never extend a lease.",
							&pha_max_future_ms, 600000, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.max_clusters",
							"Most HA clusters tracked at once.",
							"0 means no limit beyond promscale_ha.ha_cluster_slots; a write for "
							"a new cluster over the limit fails with SQLSTATE 54000.",
							&pha_max_clusters, 0, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.replay_buffer_size",
							"Most bytes of followers' requests kept for replay at failover.",
							"Per cluster; oldest requests are pruned first. 0 disables the "
							"buffer, so a failover may leave a gap.",
							&pha_replay_buffer_kb, 256 * 1024, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomBoolVariable("promscale_ha.replay_buffer_logged",
							 "Whether the replay buffer is a logged (crash-safe, replicated) table.",
							 "On (the default), followers' requests answered 202 survive a crash "
							 "and reach a promoted standby. Off makes the table unlogged: less WAL, "
							 "but a crash or a promotion empties it, and the samples that only the "
							 "buffer held are lost at the next takeover. The worker applies a change "
							 "at its next housekeeping run (ALTER TABLE ... SET LOGGED/UNLOGGED).",
							 &pha_replay_buffer_logged, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("promscale_ha.test_now",
							   "Wall clock used by the election, for tests only.",
							   "Empty means the real clock.",
							   &pha_test_now, "",
							   PGC_SUSET, GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							   check_test_now, NULL, NULL);

	DefineCustomIntVariable("promscale_ha.cluster_idle_timeout",
							"How long a cluster may send nothing before the worker forgets it.",
							"Its row leaves promscale_ha.ha_leases; its history stays in "
							"ha_leases_logs. 0 means never.",
							&pha_cluster_idle_timeout_s, 86400, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.lease_log_retention",
							"How long ended leadership periods stay in ha_leases_logs.",
							"0 means forever.",
							&pha_lease_log_retention_s, 30 * 86400, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.retention",
							"Age after which the worker drops sample partitions.",
							"A partition is dropped when all of its range is older. "
							"0 means keep forever.",
							&pha_retention_s, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.compress_after",
							"Age past its end after which the worker compresses a head partition.",
							"The partition's rows become per-series chunks and the partition is "
							"dropped, in one transaction. -1 turns compression by the worker off "
							"(promscale_ha.compress_now() still works).",
							&pha_compress_after_s, 3600, -1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.compress_lock_timeout",
							"Longest wait of compression for its locks.",
							"Compression locks the partition it compresses (which holds back only "
							"late writes into it) and, to drop it, briefly samples_head. On a "
							"timeout it gives up and tries again at its next run.",
							&pha_compress_lock_timeout_ms, 500, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.compress_batch",
							"Most head partitions the worker compresses per run.",
							"Each is its own transaction; the rest wait for the next run.",
							&pha_compress_batch, 4, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.housekeeping_interval",
							"How often the worker prunes, creates and drops.",
							"Replay-buffer pruning, idle clusters, log trimming, partitions "
							"ahead and retention. 0 turns housekeeping off.",
							&pha_housekeeping_interval_s, 60, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("promscale_ha.read_max_samples",
							"Most samples one remote-read request may return.",
							"Summed over its queries; over it, read() fails with SQLSTATE 54000. "
							"0 means no limit.",
							&pha_read_max_samples, 50000000, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.read_max_series",
							"Most series one remote-read request may return.",
							"Series with samples in the queried time, summed over the queries; "
							"over it, read() fails with SQLSTATE 54000. 0 means no limit.",
							&pha_read_max_series, 1000000, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.read_frame_bytes",
							"Size bound of one frame of a streamed remote-read response.",
							"A frame holds whole series up to this size; a larger series is "
							"split over consecutive frames (one XOR chunk at least per frame).",
							&pha_read_frame_bytes, 64 * 1024, 256, 256 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.read_batch_series",
							"Most series whose samples remote read fetches in one query.",
							"Larger batches save a query per series; the batch's samples are "
							"held in memory together (a batch that would pass "
							"promscale_ha.read_max_samples is read series by series).",
							&pha_read_batch_series, 64, 1, 100000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("promscale_ha.kept_decode_memory",
							"Decoder memory a backend keeps between write() requests.",
							"The blocks a request's decoder used are reused by the next request "
							"of the same backend up to this size, so a large request's pages are "
							"not faulted in again each time; 0 keeps none. Background workers "
							"keep none.",
							&pha_kept_decode_kb, 32 * 1024, 0, 1024 * 1024,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);

	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomStringVariable("promscale_ha.database",
								   "Database the promscale_ha background worker maintains.",
								   NULL,
								   &pha_database, "postgres",
								   PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("promscale_ha.ha_cluster_slots",
								"HA clusters that shared memory has room for.",
								"Each slot also has room for four replicas.",
								&pha_ha_cluster_slots, 1024, 16, 1000000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("promscale_ha.max_tracked_replicas",
								"Most (cluster, replica) pairs promscale_ha.cluster_stats counts.",
								"About 350 bytes of shared memory each; each cluster whose series "
								"arrive without the replica label takes one more. Past it, "
								"updates for new pairs are dropped and counted in "
								"promscale_ha.stats (tracked_replicas_overflow).",
								&pha_max_tracked_replicas, 4096, 16, 1000000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("promscale_ha.malloc_mmap_threshold",
								"glibc malloc threshold set for every backend at server start.",
								"Blocks smaller than this come from a backend's heap, not from "
								"mmap(), and the heap keeps up to twice this free for reuse, so "
								"large reads and writes do not fault in fresh pages each time "
								"(glibc's own rule reaches this only after a first large block; a smaller "
								"value also ends that rule below it); "
								"0 leaves glibc's defaults.",
								&pha_malloc_mmap_threshold_kb, 32 * 1024, 0, 32 * 1024,
								PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);
	}

	MarkGUCPrefixReserved("promscale_ha");
}
