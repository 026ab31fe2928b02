-- upgrade: a database created at the previous release, with data in it, is updated in
-- place by ALTER EXTENSION promscale_ha UPDATE: every sample, series, lease and log row
-- reads back the same, the views and functions work, and writing goes on.  A fresh
-- install runs the same scripts (0.1.0, then each upgrade), so this also checks that a
-- fresh install and an updated one agree.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET client_min_messages = warning;
DROP EXTENSION promscale_ha;
CREATE EXTENSION promscale_ha VERSION '0.1.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha';
SET promscale_ha.failover_timeout = '30s';
SET promscale_ha.lease_refresh = '10s';
SET promscale_ha.max_future = '10min';

-- data at 0.1.0: an HA pair through a forced failover and a silent-leader failover,
-- plain series with special values, a backfill a week back
\set a1 `:gen --series 20 --samples 8 --cluster u1 --replica a --start-ms 1767225600000 --hex`
\set b1 `:gen --series 20 --samples 8 --cluster u1 --replica b --start-ms 1767225600300 --hex`
\set b2 `:gen --series 20 --samples 8 --cluster u1 --replica b --start-ms 1767225720300 --hex`
\set plain `:gen --series 5 --samples 7 --series-offset 100 --values special --start-ms 1767225600000 --hex`
\set old `:gen --series 5 --samples 4 --series-offset 200 --start-ms 1766620800000 --hex`
SET promscale_ha.test_now = '2026-01-01 00:02:00+00';
SELECT samples_written, outcome FROM promscale_ha.write(:'a1');
SELECT samples_written, outcome FROM promscale_ha.write(:'b1');
SELECT promscale_ha.set_leader('u1', 'b');
SET promscale_ha.test_now = '2026-01-01 00:04:00+00';
SELECT samples_written, outcome FROM promscale_ha.write(:'b2');
SELECT samples_written, outcome FROM promscale_ha.write(:'plain');
SELECT samples_written, outcome FROM promscale_ha.write(:'old');
-- the library is newer than the schema until the update: stats() answers with its columns
SELECT samples_written >= 0 AS stats_before_update FROM promscale_ha.stats;

CREATE TEMP TABLE before_samples AS
  SELECT series_id, time, float8send(value) AS bits FROM promscale_ha.samples;
CREATE TEMP TABLE before_series AS SELECT id, metric_name, labels FROM promscale_ha.series;
CREATE TEMP TABLE before_leases AS SELECT * FROM promscale_ha.ha_leases;
CREATE TEMP TABLE before_logs AS SELECT * FROM promscale_ha.ha_leases_logs;
SELECT (SELECT count(*) FROM before_samples) AS samples, (SELECT count(*) FROM before_series) AS series,
       (SELECT count(*) FROM before_logs) AS lease_periods;

ALTER EXTENSION promscale_ha UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha';

-- everything reads back exactly, both ways
SELECT count(*) AS samples_missing FROM (
  SELECT * FROM before_samples
  EXCEPT ALL SELECT series_id, time, float8send(value) FROM promscale_ha.samples) x;
SELECT count(*) AS samples_extra FROM (
  SELECT series_id, time, float8send(value) FROM promscale_ha.samples
  EXCEPT ALL SELECT * FROM before_samples) x;
SELECT count(*) AS series_differ FROM (
  (SELECT * FROM before_series EXCEPT SELECT id, metric_name, labels FROM promscale_ha.series)
  UNION ALL
  (SELECT id, metric_name, labels FROM promscale_ha.series EXCEPT SELECT * FROM before_series)) x;
SELECT count(*) AS leases_differ FROM (
  (SELECT * FROM before_leases EXCEPT SELECT * FROM promscale_ha.ha_leases)
  UNION ALL (SELECT * FROM promscale_ha.ha_leases EXCEPT SELECT * FROM before_leases)) x;
SELECT count(*) AS lease_logs_differ FROM (
  (SELECT * FROM before_logs EXCEPT SELECT * FROM promscale_ha.ha_leases_logs)
  UNION ALL (SELECT * FROM promscale_ha.ha_leases_logs EXCEPT SELECT * FROM before_logs)) x;

-- the old data compressed after the update reads back the same
SELECT count(*) AS compressed_ranges FROM promscale_ha.compress_now('1 day');
SELECT count(*) AS head_rows_left FROM promscale_ha.samples_head;
SELECT count(*) AS samples_missing FROM (
  SELECT * FROM before_samples
  EXCEPT ALL SELECT series_id, time, float8send(value) FROM promscale_ha.samples) x;
SELECT count(*) AS samples_extra FROM (
  SELECT series_id, time, float8send(value) FROM promscale_ha.samples
  EXCEPT ALL SELECT * FROM before_samples) x;

-- the views and functions of the new version
SELECT cluster, leader FROM promscale_ha.leaders;
SELECT cluster, replica, is_leader FROM promscale_ha.replicas WHERE cluster = 'u1' ORDER BY 2;
SELECT worker_last_error_sqlstate IS NULL AS new_stats_columns FROM promscale_ha.stats;
SELECT has_table_privilege('promscale_ha_reader', 'promscale_ha.stats', 'SELECT') AS reader_sees_stats,
       has_function_privilege('promscale_ha_writer', 'promscale_ha.stats()', 'EXECUTE') AS writer_runs_stats;

-- writing goes on where it was: the same series ids, the same leader
\set b3 `:gen --series 20 --samples 8 --cluster u1 --replica b --start-ms 1767225840300 --hex`
SET promscale_ha.test_now = '2026-01-01 00:06:00+00';
SELECT samples_written, series_created, outcome FROM promscale_ha.write(:'b3');
SELECT count(*) AS series_after FROM promscale_ha.series;
RESET promscale_ha.test_now;

----------------------------------------------------------------------------------------
-- 0.2.0 -> 0.3.0 (issue 12: HA you can watch): a database made at 0.2.0 with HA data,
-- a follower and series without the replica label is updated; the data reads back, and
-- the new objects (cluster_stats, stats.tracked_replicas_overflow, the switch
-- promscale_ha.high_availability) work on it.  The counters are the library's, kept
-- in shared memory: the writes made before the update are counted.
----------------------------------------------------------------------------------------
SET client_min_messages = warning;
DROP EXTENSION promscale_ha;
CREATE EXTENSION promscale_ha VERSION '0.2.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha';
\set u3a `:gen --series 6 --samples 4 --cluster u3 --replica a --start-ms 1767225600000 --hex`
\set u3b `:gen --series 6 --samples 4 --cluster u3 --replica b --start-ms 1767225600300 --hex`
\set u3solo `:gen --series 2 --samples 3 --series-offset 30 --cluster u3_solo --start-ms 1767225600000 --hex`
SET promscale_ha.test_now = '2026-01-01 00:10:00+00';
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'u3a');
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'u3b');
SELECT samples_written, outcome FROM promscale_ha.write(:'u3solo');
-- at 0.2.0 stats() has its 24 columns
SELECT count(*) AS stats_columns_before FROM pg_attribute
  WHERE attrelid = 'promscale_ha.stats'::regclass AND attnum > 0;
CREATE TEMP TABLE before3 AS
  SELECT series_id, time, float8send(value) AS bits FROM promscale_ha.samples;

ALTER EXTENSION promscale_ha UPDATE TO '0.3.0';
SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha';
SELECT count(*) AS samples_differ FROM (
  (SELECT * FROM before3 EXCEPT ALL SELECT series_id, time, float8send(value) FROM promscale_ha.samples)
  UNION ALL
  (SELECT series_id, time, float8send(value) FROM promscale_ha.samples EXCEPT ALL SELECT * FROM before3)) x;
SELECT cluster, coalesce(replica, '(none)') AS replica, samples_accepted, samples_deduplicated,
       samples_without_replica, requests
  FROM promscale_ha.cluster_stats WHERE cluster LIKE 'u3%' ORDER BY 1, 2;
SELECT tracked_replicas_overflow FROM promscale_ha.stats;
SELECT has_table_privilege('promscale_ha_reader', 'promscale_ha.cluster_stats', 'SELECT') AS reader_sees_cluster_stats,
       has_table_privilege('promscale_ha_reader', 'promscale_ha.stats', 'SELECT') AS reader_sees_stats;
-- writing goes on: the leader stays, and with high_availability off both replicas store
\set u3a2 `:gen --series 6 --samples 4 --cluster u3 --replica a --start-ms 1767225660000 --hex`
SELECT samples_written, outcome FROM promscale_ha.write(:'u3a2');
SET promscale_ha.high_availability = off;
SELECT samples_written, samples_deduplicated, series_created, outcome FROM promscale_ha.write(:'u3b');
RESET promscale_ha.high_availability;
SELECT cluster, samples_accepted, requests FROM promscale_ha.cluster_stats
  WHERE cluster = 'u3' AND replica = 'a';
RESET promscale_ha.test_now;

----------------------------------------------------------------------------------------
-- 0.3.0 -> 0.4.0: chunk rows stay in the heap up to 8 kB (toast_tuple_target).  A
-- database made at 0.3.0 with xor chunks of ~5 kB (random values), which 0.3.0 put in
-- the TOAST table, is updated; every sample reads back, and chunks compressed after
-- the update leave the TOAST table as it was.
----------------------------------------------------------------------------------------
SET client_min_messages = warning;
DROP EXTENSION promscale_ha;
CREATE EXTENSION promscale_ha VERSION '0.3.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha';
SET promscale_ha.chunk_format = 'xor';
SET promscale_ha.xor_chunk_samples = 480;
\set r1 `:gen --series 3 --samples 480 --values random --start-ms 1764547200000 --hex`
\set r2 `:gen --series 3 --samples 480 --values random --start-ms 1764633600000 --hex`
SELECT samples_written FROM promscale_ha.write(:'r1');
SELECT count(*) AS ranges, sum(samples) AS samples FROM promscale_ha.compress_now('1 day');
SELECT count(*) AS chunks, min(length(data)) > 2100 AS all_over_2kb FROM promscale_ha.chunks;
SELECT pg_relation_size(reltoastrelid) > 0 AS toasted_at_030 FROM pg_class
  WHERE oid = 'promscale_ha.chunks'::regclass \gset
SELECT :'toasted_at_030' AS toasted_at_030;
CREATE TEMP TABLE before4 AS
  SELECT series_id, time, float8send(value) AS bits FROM promscale_ha.samples;
SELECT pg_relation_size(reltoastrelid) AS toast_bytes FROM pg_class
  WHERE oid = 'promscale_ha.chunks'::regclass \gset

ALTER EXTENSION promscale_ha UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha';
SELECT reloptions FROM pg_class WHERE oid = 'promscale_ha.chunks'::regclass;
SELECT count(*) AS samples_differ FROM (
  (SELECT * FROM before4 EXCEPT ALL SELECT series_id, time, float8send(value) FROM promscale_ha.samples)
  UNION ALL
  (SELECT series_id, time, float8send(value) FROM promscale_ha.samples EXCEPT ALL SELECT * FROM before4)) x;
-- a day later, the same size of chunks: in the heap now
SELECT samples_written FROM promscale_ha.write(:'r2');
SELECT count(*) AS ranges, sum(samples) AS samples FROM promscale_ha.compress_now('1 day');
SELECT count(*) AS chunks, sum(samples) AS chunk_samples FROM promscale_ha.chunks;
SELECT pg_relation_size(reltoastrelid) = :toast_bytes AS toast_unchanged FROM pg_class
  WHERE oid = 'promscale_ha.chunks'::regclass;
SELECT count(*) AS samples_now FROM promscale_ha.samples;
RESET promscale_ha.chunk_format;
RESET promscale_ha.xor_chunk_samples;

-- back to a fresh install at the default version for the suites after this one
SET client_min_messages = warning;
DROP EXTENSION promscale_ha;
CREATE EXTENSION promscale_ha;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'promscale_ha';
