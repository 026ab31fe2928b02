/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  Every configuration parameter of promscale_ha.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_GUC_H
#define PHA_GUC_H

#include "postgres.h"
#include "utils/timestamp.h"

/* ingest limits */
extern int	pha_max_payload_bytes;
extern int	pha_max_series_per_request;
extern int	pha_max_labels_per_series;
extern int	pha_max_label_name_length;
extern int	pha_max_label_value_length;
extern int	pha_partition_interval_s;
extern int	pha_series_cache_size;
extern bool pha_direct_insert;

/* high availability */
extern char *pha_cluster_label;
extern char *pha_replica_label;
extern bool pha_require_ha_labels;
extern int	pha_failover_timeout_ms;
extern int	pha_lease_refresh_ms;
extern int	pha_max_future_ms;
extern int	pha_max_clusters;
extern int	pha_replay_buffer_kb;
extern bool pha_replay_buffer_logged;
extern int	pha_ha_cluster_slots;
extern bool pha_high_availability;
extern int	pha_max_tracked_replicas;
extern char *pha_test_now;

/* background worker */
extern char *pha_database;
extern int	pha_cluster_idle_timeout_s;
extern int	pha_lease_log_retention_s;
extern int	pha_retention_s;
extern int	pha_housekeeping_interval_s;

/* promscale_ha.chunk_format; the values are the stored format bytes (codec/chunk.h) */
#define PHA_CHUNK_FORMAT_XOR	1
#define PHA_CHUNK_FORMAT_DENSE	2
extern int	pha_compress_after_s;
extern int	pha_chunk_format;
extern int	pha_xor_chunk_samples;
extern int	pha_compress_lock_timeout_ms;
extern int	pha_compress_batch;

/* remote read (read.c) */
extern int	pha_read_max_samples;
extern int	pha_read_max_series;
extern int	pha_read_frame_bytes;
extern int	pha_read_batch_series;

/* write(): decoder blocks kept between requests (ingest.c), kB */
extern int	pha_kept_decode_kb;
extern int	pha_malloc_mmap_threshold_kb;

extern void pha_guc_init(void);

/* Wall clock for leases: now(), or promscale_ha.test_now when a test sets it. */
extern TimestampTz pha_now(void);

/* How long followers' requests stay in the replay buffer, in microseconds. */
extern int64 pha_replay_keep_us(void);

#endif							/* PHA_GUC_H */
