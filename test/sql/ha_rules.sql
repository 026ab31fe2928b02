-- ha_rules: every rule of the HA election (README "High availability"), with payloads
-- made by promscale-ha-gen and an injected wall clock (promscale_ha.test_now), so no
-- result depends on how fast the machine is.
\getenv abs_builddir PG_ABS_BUILDDIR
\set gen :abs_builddir '/promscale-ha-gen'
SET promscale_ha.failover_timeout = '30s';
SET promscale_ha.lease_refresh = '10s';
SET promscale_ha.max_future = '10min';
-- the stored samples of the first series of a cluster
CREATE FUNCTION first_series(c text) RETURNS TABLE (t text, v float8)
LANGUAGE sql AS $$
  SELECT to_char(x.time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), x.value
  FROM promscale_ha.samples x
  WHERE x.series_id = (SELECT min(id) FROM promscale_ha.series WHERE labels->>'cluster' = c)
  ORDER BY 1 $$;
CREATE FUNCTION periods(c text) RETURNS TABLE (leader text, lease_start text, lease_until text, reason text)
LANGUAGE sql AS $$
  SELECT leader_name,
         CASE WHEN lease_start = '-infinity' THEN '-infinity'
              ELSE to_char(lease_start AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') END,
         CASE WHEN lease_until = 'infinity' THEN 'infinity'
              ELSE to_char(lease_until AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') END,
         reason
  FROM promscale_ha.ha_leases_logs WHERE cluster_name = c ORDER BY lease_start $$;

-- Rule 1: every series is classified; HA, plain and half-labelled series mix freely.
\set mixed_ha `:gen --series 2 --cluster r1 --replica a --hex`
\set plain `:gen --series 2 --series-offset 10 --hex`
\set half `:gen --series 2 --series-offset 20 --label cluster=r1 --hex`
SET promscale_ha.test_now = '2026-01-01 00:00:01+00';
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'mixed_ha');
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'plain');
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'half');
-- the half-labelled series keep their cluster label and no replica label anywhere
SELECT count(*) AS with_replica_label FROM promscale_ha.series WHERE labels ? '__replica__';
SELECT count(*) AS with_cluster_label FROM promscale_ha.series WHERE labels->>'cluster' = 'r1';
SET promscale_ha.require_ha_labels = on;
\set VERBOSITY sqlstate
SELECT * FROM promscale_ha.write(:'half');
\set VERBOSITY default
SELECT * FROM promscale_ha.write(:'half');
RESET promscale_ha.require_ha_labels;

-- Rule 2: the first writer leads; Rule 6: both replicas map to the same series.
\set a0 `:gen --series 3 --cluster c1 --replica a --start-ms 1767225600000 --hex`
\set b0 `:gen --series 3 --cluster c1 --replica b --start-ms 1767225600500 --hex`
SET promscale_ha.test_now = '2026-01-01 00:00:01+00';
SELECT samples_received, samples_written, samples_deduplicated, series_created, outcome
  FROM promscale_ha.write(:'a0');
SELECT samples_received, samples_written, samples_deduplicated, series_created, outcome
  FROM promscale_ha.write(:'b0');
SELECT cluster_name, leader_name, lease_start FROM promscale_ha.ha_leases WHERE cluster_name = 'c1';
SELECT * FROM periods('c1');

-- Rule 3: a leader's late samples for its own period are stored; so are samples older
-- than the first lease (a Prometheus replaying its WAL).
\set a_old `:gen --series 3 --cluster c1 --replica a --start-ms 1767225540000 --samples 2 --step-ms 30000 --hex`
SELECT samples_written, samples_already_stored, outcome FROM promscale_ha.write(:'a_old');

-- Rule 7: the leader's writes within promscale_ha.lease_refresh leave ha_leases alone.
SELECT last_write AS lw0 FROM promscale_ha.ha_leases WHERE cluster_name = 'c1' \gset
\set a1 `:gen --series 3 --cluster c1 --replica a --start-ms 1767225605000 --hex`
SET promscale_ha.test_now = '2026-01-01 00:00:05+00';
SELECT samples_written FROM promscale_ha.write(:'a1');
SELECT last_write = :'lw0' AS table_untouched FROM promscale_ha.ha_leases WHERE cluster_name = 'c1';
\set a2 `:gen --series 3 --cluster c1 --replica a --start-ms 1767225630000 --hex`
SET promscale_ha.test_now = '2026-01-01 00:00:31+00';
SELECT samples_written FROM promscale_ha.write(:'a2');
SELECT last_write, last_sample_time, lease_until > last_sample_time AS reserved_ahead
  FROM promscale_ha.ha_leases WHERE cluster_name = 'c1';

-- b keeps sending as a follower: deduplicated, and buffered for a takeover.
\set b1 `:gen --series 3 --cluster c1 --replica b --start-ms 1767225615500 --samples 2 --hex`
SET promscale_ha.test_now = '2026-01-01 00:00:46+00';
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b1');
SELECT replica_name, to_char(min_time AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS min_time,
       to_char(max_time AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS max_time
  FROM promscale_ha.replay_buffer WHERE cluster_name = 'c1' ORDER BY 1, 2;

-- Rule 4 + 5: a is silent for 30 s (its last write was at 00:00:31); b's write at
-- 00:01:02 takes over.  b's period starts 1 ms after a's newest stored sample
-- (00:00:30.000); b's buffered samples newer than each series' newest stored one
-- are replayed, but not one in the scrape slot of that one: b's 00:00:30.5 (sent
-- while b followed) is 0.5 s after a's, under half of b's 15 s interval, so b's
-- series go on at 00:00:45.5: one sample per scrape, no gap (ha_scrape_slot.sql).
\set b2 `:gen --series 3 --cluster c1 --replica b --start-ms 1767225645500 --samples 2 --hex`
SET promscale_ha.test_now = '2026-01-01 00:01:02+00';
SELECT samples_received, samples_written, samples_deduplicated, samples_replayed, outcome
  FROM promscale_ha.write(:'b2');
SELECT * FROM periods('c1');
SELECT * FROM first_series('c1');
SELECT count(*) AS buffered_left FROM promscale_ha.replay_buffer
  WHERE cluster_name = 'c1' AND replica_name = 'b';

-- Rule 3 again: a comes back.  Its samples in its own period are accepted (already
-- stored here); the ones at or after b's lease start are deduplicated.
\set a3 `:gen --series 3 --cluster c1 --replica a --start-ms 1767225630000 --samples 3 --hex`
SELECT samples_written, samples_already_stored, samples_deduplicated, outcome
  FROM promscale_ha.write(:'a3');

-- Rule 8: samples far in the future are dropped and counted, and extend no lease.
\set b_future `:gen --series 3 --cluster c1 --replica b --start-ms 1767229200000 --hex`
SELECT samples_written, samples_future_dropped, outcome FROM promscale_ha.write(:'b_future');
SELECT lease_until < '2026-01-01 01:00:00+00' AS lease_not_extended
  FROM promscale_ha.ha_leases WHERE cluster_name = 'c1';

-- Rule 9: set_leader forces a change now, logged as 'forced'.
SELECT promscale_ha.set_leader('c1', 'a');
SELECT promscale_ha.set_leader('c1', 'a') AS again;
SELECT * FROM periods('c1');
\set VERBOSITY sqlstate
SELECT promscale_ha.set_leader('no_such_cluster', 'a');
SELECT promscale_ha.set_leader('c1', '');
\set VERBOSITY default

-- a series with only the replica label is stored without it (and without election)
\set only_replica `:gen --series 1 --series-offset 60 --replica r9 --hex`
SELECT samples_written, outcome FROM promscale_ha.write(:'only_replica');
SELECT count(*) AS with_replica_label FROM promscale_ha.series WHERE labels ? '__replica__';

-- periods of one cluster never overlap and leave no hole
SELECT count(*) AS overlaps FROM promscale_ha.ha_leases_logs x JOIN promscale_ha.ha_leases_logs y
  ON x.cluster_name = y.cluster_name AND x.lease_start < y.lease_start AND x.lease_until > y.lease_start;
SELECT count(*) AS holes FROM promscale_ha.ha_leases_logs x
  WHERE x.lease_until <> 'infinity' AND NOT EXISTS (SELECT 1 FROM promscale_ha.ha_leases_logs y
    WHERE y.cluster_name = x.cluster_name AND y.lease_start = x.lease_until);
-- no (series, time) stored twice, by construction of the unique index
SELECT count(*) - count(DISTINCT (series_id, time)) AS duplicates FROM promscale_ha.samples;

-- Rule 9: label presets of the Prometheus Operator are one SET away.
SET promscale_ha.cluster_label = 'prometheus';
SET promscale_ha.replica_label = 'prometheus_replica';
\set op_a `:gen --series 2 --series-offset 40 --cluster-label prometheus --replica-label prometheus_replica --cluster mon/k8s --replica prometheus-k8s-0 --hex`
\set op_b `:gen --series 2 --series-offset 40 --cluster-label prometheus --replica-label prometheus_replica --cluster mon/k8s --replica prometheus-k8s-1 --hex`
SELECT samples_written, outcome FROM promscale_ha.write(:'op_a');
SELECT samples_written, outcome FROM promscale_ha.write(:'op_b');
SELECT count(*) AS operator_replica_label FROM promscale_ha.series WHERE labels ? 'prometheus_replica';
RESET promscale_ha.cluster_label;
RESET promscale_ha.replica_label;
SET promscale_ha.replica_label = 'bad-name';

-- Rule 9: promscale_ha.max_clusters
SET promscale_ha.max_clusters = 1;
\set new_cluster `:gen --series 1 --cluster c_over --replica a --hex`
\set VERBOSITY sqlstate
SELECT * FROM promscale_ha.write(:'new_cluster');
\set VERBOSITY default
RESET promscale_ha.max_clusters;

-- Rule 10: who leads, since when, who else is sending
SELECT cluster, leader, CASE WHEN isfinite(lease_start)
       THEN to_char(lease_start AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') ELSE lease_start::text END AS lease_start
  FROM promscale_ha.leaders WHERE cluster IN ('c1', 'r1', 'mon/k8s') ORDER BY 1;
SELECT cluster, replica, is_leader, samples_accepted, samples_deduplicated, samples_future_dropped
  FROM promscale_ha.replicas WHERE cluster IN ('c1', 'r1', 'mon/k8s') ORDER BY 1, 2;

-- a follower's request is decided from a label-only scan, but bad input is rejected
-- exactly as for a leader; unsorted labels take the full decoder, same verdict
SET promscale_ha.test_now = '2026-01-01 00:01:10+00';
\set b_bad_name `:gen --series 1 --cluster c1 --replica b --start-ms 1767225665500 --label 0bad=x --hex`
\set b_bad_utf8 `:gen --series 1 --cluster c1 --replica b --start-ms 1767225665500 --label "ok=$(printf '\377')" --hex`
\set b_unsorted `:gen --series 3 --cluster c1 --replica b --start-ms 1767225665500 --unsorted --hex`
\set VERBOSITY sqlstate
SELECT * FROM promscale_ha.write(:'b_bad_name');
SELECT * FROM promscale_ha.write(:'b_bad_utf8');
\set VERBOSITY default
SELECT samples_received, samples_deduplicated, outcome FROM promscale_ha.write(:'b_unsorted');

-- DROP/CREATE EXTENSION forgets the leases with the tables: the shared state of the
-- old tables is not used, and the first writer of the new ones leads
DROP EXTENSION promscale_ha;
CREATE EXTENSION promscale_ha;
SELECT samples_written, samples_deduplicated, outcome FROM promscale_ha.write(:'b2');
SELECT cluster, leader FROM promscale_ha.leaders ORDER BY 1;
