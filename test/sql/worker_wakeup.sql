-- worker_wakeup: the worker acts at once on a new cluster, and replays buffered payloads
-- with the HA label names they were received with.
--  1. a brand-new cluster's silent leader is failed over within failover_timeout plus a
--     little, although lease_refresh and housekeeping_interval are long: the backend
--     that created the cluster woke the worker (before, it slept up to lease_refresh).
--  2. label names set per role (as for vmagent: replica_label = 'replica'), two clusters
--     with different names; the worker takes over and replays each follower's buffered
--     samples, read with its own label names (before, it read them with the server-wide
--     names, found no series and replayed nothing: a gap at every cut).
\getenv abs_builddir PG_ABS_BUILDDIR
\getenv abs_srcdir PG_ABS_SRCDIR
\set gen :abs_builddir '/promscale-ha-gen'
\c postgres
SELECT current_user AS superuser \gset
SET client_min_messages = warning;
CREATE EXTENSION promscale_ha;
RESET client_min_messages;
\set wait_for :abs_srcdir '/lib/wait_for.sql'
\i :wait_for
ALTER SYSTEM SET promscale_ha.failover_timeout = '2s';
ALTER SYSTEM SET promscale_ha.lease_refresh = '60s';
ALTER SYSTEM SET promscale_ha.housekeeping_interval = '60s';
SELECT pg_reload_conf();
-- let the worker settle into its long sleep
SELECT wait_for($$SELECT worker_last_run IS NOT NULL FROM promscale_ha.stats$$) AS worker_ran;
SELECT pg_sleep(1.5);

-- 1. a new cluster: a writes, b writes once 300 ms later, then both are silent
SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms \gset
SELECT :now_ms + 300 AS later_ms \gset
\set a `:gen --series 3 --cluster wk1 --replica a --start-ms :now_ms --hex`
\set b `:gen --series 3 --cluster wk1 --replica b --start-ms :later_ms --hex`
SELECT outcome FROM promscale_ha.write(:'a');
SELECT outcome FROM promscale_ha.write(:'b');
SELECT wait_for($$SELECT leader_name = 'b' FROM promscale_ha.ha_leases WHERE cluster_name = 'wk1'$$, 4)
  AS failed_over_within_timeout_plus_2s;

-- 2. label names per role
CREATE ROLE pha_vmagent LOGIN;
CREATE ROLE pha_operator LOGIN;
GRANT promscale_ha_writer TO pha_vmagent, pha_operator;
ALTER ROLE pha_vmagent SET promscale_ha.replica_label = 'replica';
ALTER ROLE pha_operator SET promscale_ha.cluster_label = 'prometheus';
ALTER ROLE pha_operator SET promscale_ha.replica_label = 'prometheus_replica';
SELECT (extract(epoch FROM now()) * 1000)::bigint AS t0 \gset
SELECT :t0 + 300 AS t1 \gset
\set va `:gen --series 3 --cluster vm1 --replica a --replica-label replica --start-ms :t0 --hex`
\set vb `:gen --series 3 --samples 3 --step-ms 500 --cluster vm1 --replica b --replica-label replica --start-ms :t1 --hex`
\set oa `:gen --series 3 --series-offset 10 --cluster op1 --replica p0 --cluster-label prometheus --replica-label prometheus_replica --start-ms :t0 --hex`
\set ob `:gen --series 3 --series-offset 10 --samples 3 --step-ms 500 --cluster op1 --replica p1 --cluster-label prometheus --replica-label prometheus_replica --start-ms :t1 --hex`
\c postgres pha_vmagent
SELECT outcome FROM promscale_ha.write(:'va');
SELECT outcome FROM promscale_ha.write(:'vb');
\c postgres pha_operator
SELECT outcome FROM promscale_ha.write(:'oa');
SELECT outcome FROM promscale_ha.write(:'ob');
\c postgres :superuser
-- the worker (server-wide names: cluster, __replica__) takes over both clusters
SELECT wait_for($$SELECT count(*) = 2 FROM promscale_ha.ha_leases
                  WHERE (cluster_name, leader_name) IN (('vm1', 'b'), ('op1', 'p1'))$$) AS worker_took_over;
SELECT leader_name, reason FROM promscale_ha.ha_leases_logs
 WHERE cluster_name IN ('vm1', 'op1') ORDER BY cluster_name, lease_start;
-- every follower sample after the old leader's was replayed: 1 + 3 per series
SELECT coalesce(s.labels->>'cluster', s.labels->>'prometheus') AS cluster, count(*) AS samples,
       count(DISTINCT s.id) AS series
  FROM promscale_ha.samples x JOIN promscale_ha.series s ON s.id = x.series_id
 WHERE s.labels->>'cluster' = 'vm1' OR s.labels->>'prometheus' = 'op1'
 GROUP BY 1 ORDER BY 1;
SELECT count(*) AS replica_labels_stored FROM promscale_ha.series
 WHERE labels ? 'replica' OR labels ? 'prometheus_replica';

DROP EXTENSION promscale_ha;
DROP ROLE pha_vmagent, pha_operator;
ALTER SYSTEM RESET ALL;
SELECT pg_reload_conf();
DROP FUNCTION wait_for(text, int);
\c contrib_regression
