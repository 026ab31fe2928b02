-- worker: the background worker, on a database of its own.  The suite's server points
-- promscale_ha.database at "postgres" (test/regress.conf) so that the worker never
-- touches the other tests' data in contrib_regression, whose clocks are injected.
-- Every wait is a bounded polling loop (wait_for), never a bare sleep.
\getenv abs_builddir PG_ABS_BUILDDIR
\getenv abs_srcdir PG_ABS_SRCDIR
\set gen :abs_builddir '/promscale-ha-gen'
\c postgres
SET client_min_messages = warning;
CREATE EXTENSION promscale_ha;
RESET client_min_messages;
\set wait_for :abs_srcdir '/lib/wait_for.sql'
\i :wait_for
ALTER SYSTEM SET promscale_ha.failover_timeout = '2s';
ALTER SYSTEM SET promscale_ha.lease_refresh = '1s';
ALTER SYSTEM SET promscale_ha.housekeeping_interval = '1s';
ALTER SYSTEM SET promscale_ha.retention = '30d';
SELECT pg_reload_conf();

-- the worker runs, visible in pg_stat_activity
SELECT wait_for($$SELECT count(*) = 1 FROM pg_stat_activity
                  WHERE backend_type = 'promscale_ha worker' AND datname = 'postgres'$$) AS worker_running;

-- partitions for today and tomorrow are made ahead of any write
SELECT wait_for($$SELECT count(*) = 2 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                  WHERE i.inhparent = 'promscale_ha.samples_head'::regclass
                    AND c.relname IN ('samples_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD'),
                                      'samples_' || to_char((now() + interval '1 day') AT TIME ZONE 'UTC', 'YYYYMMDD'))$$)
  AS partitions_ahead;

-- failover with no write arriving: a leads, b follows once, then both go silent
SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms \gset
SELECT :now_ms + 500 AS later_ms \gset
\set a `:gen --series 3 --cluster w1 --replica a --start-ms :now_ms --hex`
\set b `:gen --series 3 --cluster w1 --replica b --start-ms :later_ms --hex`
SELECT outcome FROM promscale_ha.write(:'a');
SELECT outcome FROM promscale_ha.write(:'b');
-- (ha_leases, not the leaders view: that shows shared memory, ahead of the commit)
SELECT wait_for($$SELECT leader_name = 'b' FROM promscale_ha.ha_leases WHERE cluster_name = 'w1'$$) AS worker_failed_over;
SELECT leader_name, reason FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'w1' ORDER BY lease_start;
-- b's buffered samples were replayed at the takeover
SELECT count(*) AS samples_of_w1 FROM promscale_ha.samples x
  JOIN promscale_ha.series s ON s.id = x.series_id WHERE s.labels->>'cluster' = 'w1';
SELECT count(*) AS buffered_for_w1 FROM promscale_ha.replay_buffer WHERE cluster_name = 'w1';

-- heartbeats reach ha_leases within lease_refresh
SELECT wait_for($$SELECT last_sample_time IS NOT NULL FROM promscale_ha.ha_leases
                  WHERE cluster_name = 'w1'$$) AS heartbeat_written;

-- the replay buffer is pruned by age
INSERT INTO promscale_ha.replay_buffer VALUES
  ('w_old', 'x', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day', '\x00');
SELECT wait_for($$SELECT count(*) = 0 FROM promscale_ha.replay_buffer WHERE cluster_name = 'w_old'$$)
  AS buffer_pruned;

-- partitions older than promscale_ha.retention are dropped
SELECT ((extract(epoch FROM now() - interval '60 days') * 1000)::bigint / 86400000) * 86400000 AS old_ms \gset
\set old `:gen --series 2 --series-offset 100 --start-ms :old_ms --hex`
SELECT samples_written FROM promscale_ha.write(:'old');
SELECT count(*) AS old_partition FROM pg_class
  WHERE relname = 'samples_' || to_char(to_timestamp(:old_ms / 1000) AT TIME ZONE 'UTC', 'YYYYMMDD');
SELECT wait_for(format($$SELECT count(*) = 0 FROM pg_class WHERE relname = %L$$,
                'samples_' || to_char(to_timestamp(:old_ms / 1000) AT TIME ZONE 'UTC', 'YYYYMMDD')))
  AS old_partition_dropped;
-- compressed data too: whole chunks older than the retention are deleted
\set old2 `:gen --series 2 --series-offset 110 --start-ms :old_ms --hex`
BEGIN;
SELECT samples_written FROM promscale_ha.write(:'old2');
SELECT count(*) AS compressed FROM promscale_ha.compress_now('30 days');
SELECT count(*) > 0 AS old_chunks FROM promscale_ha.chunks;
COMMIT;
SELECT wait_for($$SELECT count(*) = 0 FROM promscale_ha.chunks$$) AS old_chunks_dropped;

-- an idle cluster is forgotten; its history stays, and it comes back where it ended
ALTER SYSTEM SET promscale_ha.cluster_idle_timeout = '3s';
SELECT pg_reload_conf();
SELECT wait_for($$SELECT count(*) = 0 FROM promscale_ha.ha_leases WHERE cluster_name = 'w1'$$)
  AS idle_cluster_removed;
SELECT leader_name, reason, lease_until = 'infinity' AS open
  FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'w1' ORDER BY lease_start;
ALTER SYSTEM RESET promscale_ha.cluster_idle_timeout;
SELECT pg_reload_conf();
SELECT (extract(epoch FROM now()) * 1000)::bigint + 1000 AS again_ms \gset
\set a2 `:gen --series 3 --cluster w1 --replica a --start-ms :again_ms --hex`
SELECT samples_written, outcome FROM promscale_ha.write(:'a2');
SELECT leader_name, reason, lease_until = 'infinity' AS open
  FROM promscale_ha.ha_leases_logs WHERE cluster_name = 'w1' ORDER BY lease_start;
SELECT count(*) AS overlaps FROM promscale_ha.ha_leases_logs x JOIN promscale_ha.ha_leases_logs y
  ON x.cluster_name = y.cluster_name AND x.lease_start < y.lease_start AND x.lease_until > y.lease_start;

-- counters
SELECT worker_runs > 0 AS worker_ran, leader_changes >= 3 AS leader_changes_counted,
       samples_written >= 9 AS samples_counted, worker_last_error IS NULL AS no_worker_error
  FROM promscale_ha.stats;

-- the postmaster restarts a terminated worker
SELECT pid AS worker_pid FROM pg_stat_activity WHERE backend_type = 'promscale_ha worker' \gset
SELECT pg_terminate_backend(:worker_pid);
SELECT wait_for(format($$SELECT count(*) = 1 FROM pg_stat_activity
                         WHERE backend_type = 'promscale_ha worker' AND pid <> %s$$, :worker_pid))
  AS worker_restarted;

-- it survives DROP EXTENSION / CREATE EXTENSION
DROP EXTENSION promscale_ha;
CREATE EXTENSION promscale_ha;
SELECT wait_for($$SELECT count(*) = 2 FROM pg_inherits i
                  WHERE i.inhparent = 'promscale_ha.samples_head'::regclass$$) AS works_after_recreate;

ALTER SYSTEM RESET ALL;
SELECT pg_reload_conf();
DROP EXTENSION promscale_ha;
DROP FUNCTION wait_for(text, int);
\c contrib_regression
