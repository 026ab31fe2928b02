-- ha_watch: what promscale_ha.cluster_stats counts per (cluster, replica) and per
-- cluster, the rate-limited WARNING about series that carry the cluster label but no
-- replica label (issue 12, point 0b), and the promscale_ha.high_availability switch.
-- The counters live in shared memory for the whole server: this suite uses cluster
-- names no other suite uses.  Wall clock injected (promscale_ha.test_now).
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET promscale_ha.failover_timeout = '30s';
SET promscale_ha.lease_refresh = '10s';
SET promscale_ha.max_future = '10min';
CREATE VIEW watch AS
  SELECT cluster, coalesce(replica, '(none)') AS replica, samples_accepted AS accepted,
         samples_deduplicated AS dedup, samples_future_dropped AS future,
         samples_without_replica AS no_replica, requests,
         to_char(last_write AT TIME ZONE 'UTC', 'HH24:MI:SS') AS last_write,
         to_char(last_warning AT TIME ZONE 'UTC', 'HH24:MI:SS') AS last_warning
  FROM promscale_ha.cluster_stats WHERE cluster LIKE 'w\_%' ORDER BY 1, 2;

-- A leader a and a follower b of cluster w_pair: a's samples accepted, b's deduplicated,
-- one request each; a's samples an hour ahead of the clock are dropped as future.
\set a1 `:gen --series 10 --samples 3 --cluster w_pair --replica a --start-ms 1767225600000 --hex`
\set b1 `:gen --series 10 --samples 3 --cluster w_pair --replica b --start-ms 1767225600300 --hex`
\set a_future `:gen --series 4 --samples 2 --series-offset 20 --cluster w_pair --replica a --start-ms 1767229200000 --hex`
SET promscale_ha.test_now = '2026-01-01 00:01:00+00';
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'a1');
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b1');
SET promscale_ha.test_now = '2026-01-01 00:01:30+00';
SELECT samples_written, samples_future_dropped, outcome FROM promscale_ha.write(:'a_future');
SELECT * FROM watch;
-- the same numbers as the replicas view, which counts the same events
SELECT r.replica, r.samples_accepted = w.samples_accepted AS accepted_agree,
       r.samples_deduplicated = w.samples_deduplicated AS dedup_agree,
       r.samples_future_dropped = w.samples_future_dropped AS future_agree
FROM promscale_ha.replicas r
JOIN promscale_ha.cluster_stats w ON w.cluster = r.cluster AND w.replica = r.replica
WHERE r.cluster = 'w_pair' ORDER BY 1;

-- Counted at commit: a rolled-back write, or one in a rolled-back savepoint, counts nothing.
BEGIN;
SELECT samples_written FROM promscale_ha.write(:'b1');
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT samples_written FROM promscale_ha.write(:'b1');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT replica, dedup, requests FROM watch WHERE cluster = 'w_pair' AND replica = 'b';

-- Point 0b: series with the cluster label and no replica label (what vmagent sends when
-- it drops "__replica__") are stored as sent, counted per cluster value, and warned
-- about: once, then not again within a minute, then again.
\set solo1 `:gen --series 4 --samples 2 --series-offset 40 --cluster w_solo --hex`
\set solo2 `:gen --series 4 --samples 2 --series-offset 40 --cluster w_solo --start-ms 1767225630000 --hex`
\set solo3 `:gen --series 4 --samples 2 --series-offset 40 --cluster w_solo --start-ms 1767225700000 --hex`
\set solo_other `:gen --series 3 --samples 1 --series-offset 50 --cluster w_solo2 --hex`
SET promscale_ha.test_now = '2026-01-01 00:02:00+00';
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'solo1');
SET promscale_ha.test_now = '2026-01-01 00:02:59+00';
SELECT samples_written, outcome FROM promscale_ha.write(:'solo2');
-- another cluster has its own minute
SELECT samples_written, outcome FROM promscale_ha.write(:'solo_other');
SET promscale_ha.test_now = '2026-01-01 00:03:00+00';
SELECT samples_written, outcome FROM promscale_ha.write(:'solo3');
SELECT * FROM watch WHERE replica = '(none)';
SELECT count(*) AS leases FROM promscale_ha.ha_leases WHERE cluster_name LIKE 'w\_solo%';
-- a rolled-back write keeps its counts out, but a warning already logged stays logged
SET promscale_ha.test_now = '2026-01-01 00:05:00+00';
BEGIN;
SELECT samples_written FROM promscale_ha.write(:'solo1');
ROLLBACK;
SELECT no_replica, last_warning FROM watch WHERE cluster = 'w_solo';

-- The switch: with promscale_ha.high_availability off there is no election, nothing is
-- deduplicated, both labels are stored as sent, and nothing is counted or warned.
\set off_a `:gen --series 3 --samples 2 --series-offset 60 --cluster w_off --replica a --hex`
\set off_b `:gen --series 3 --samples 2 --series-offset 60 --cluster w_off --replica b --hex`
\set off_solo `:gen --series 2 --samples 2 --series-offset 70 --cluster w_off --hex`
SET promscale_ha.high_availability = off;
SELECT samples_written, samples_deduplicated, series_created, outcome FROM promscale_ha.write(:'off_a');
SELECT samples_written, samples_deduplicated, series_created, outcome FROM promscale_ha.write(:'off_b');
SELECT samples_written, outcome FROM promscale_ha.write(:'off_solo');
SELECT labels->>'__replica__' AS replica, count(*) AS series
  FROM promscale_ha.series WHERE labels->>'cluster' = 'w_off' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS leases FROM promscale_ha.ha_leases WHERE cluster_name = 'w_off';
SELECT count(*) AS counted FROM watch WHERE cluster = 'w_off';
-- and on again: the same payloads are HA data (a leads, b follows), labels removed
RESET promscale_ha.high_availability;
SELECT samples_written, samples_deduplicated, samples_already_stored, outcome FROM promscale_ha.write(:'off_a');
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'off_b');
SELECT cluster, leader FROM promscale_ha.leaders WHERE cluster = 'w_off';
SELECT replica, accepted, dedup, requests FROM watch WHERE cluster = 'w_off';

-- The same state as the rows the front end renders at GET /metrics (the age of the
-- last write depends on the real clock: only that it is there).  Leader changes count
-- the periods that began since the server started, by their changed_at: 0 here, where
-- the injected clock is in the past (test/system/ha_watch.sh counts real ones).
SELECT metric, cluster, replica, label, value FROM promscale_ha.ha_metrics()
  WHERE cluster LIKE 'w\_%' AND metric <> 'last_write_age';
SELECT count(*) AS last_write_ages FROM promscale_ha.ha_metrics()
  WHERE cluster LIKE 'w\_%' AND metric = 'last_write_age' AND value >= 0;

-- Who may see the counters; who may turn HA off.
SELECT has_table_privilege('promscale_ha_reader', 'promscale_ha.cluster_stats', 'SELECT') AS reader_sees,
       has_table_privilege('promscale_ha_writer', 'promscale_ha.cluster_stats', 'SELECT') AS writer_sees,
       has_function_privilege('promscale_ha_writer', 'promscale_ha.cluster_stats()', 'EXECUTE') AS writer_runs,
       has_function_privilege('promscale_ha_reader', 'promscale_ha.ha_metrics()', 'EXECUTE') AS reader_metrics,
       has_function_privilege('promscale_ha_writer', 'promscale_ha.ha_metrics()', 'EXECUTE') AS writer_metrics,
       has_parameter_privilege('promscale_ha_admin', 'promscale_ha.high_availability', 'SET') AS admin_sets,
       has_parameter_privilege('promscale_ha_writer', 'promscale_ha.high_availability', 'SET') AS writer_sets;
SELECT tracked_replicas_overflow FROM promscale_ha.stats;

RESET promscale_ha.test_now;
DROP VIEW watch;
