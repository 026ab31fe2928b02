-- promscale_ha 0.2.0 -> 0.3.0.  Run by ALTER EXTENSION promscale_ha UPDATE; a new
-- install runs promscale_ha--0.1.0.sql and each upgrade script in turn, so both paths
-- give the same database.  Released scripts never change: later changes go into the
-- next upgrade script.  Each change below is a section with a header comment.
\echo Use "ALTER EXTENSION promscale_ha UPDATE" to load this file. \quit

----------------------------------------------------------------------------------------
-- HA you can watch (issue 12, points 0b and 3)
--
-- cluster_stats: per (cluster, replica), counters kept in shared memory since the
--   server started (promscale_ha.max_tracked_replicas pairs at most): samples accepted
--   (sent to the store as the leader's), deduplicated, dropped as future, requests, the
--   last write (wall clock).  A row with replica NULL counts the cluster's samples that
--   carried the cluster label but no replica label (stored as sent, without HA: a
--   misconfigured sender), and when the rate-limited WARNING about them was last
--   logged.
-- stats: tracked_replicas_overflow, the updates lost because that table was full.
-- promscale_ha.high_availability: off = no election, both labels ordinary labels.
----------------------------------------------------------------------------------------

CREATE FUNCTION promscale_ha.cluster_stats(
    OUT cluster_name text, OUT replica_name text,
    OUT samples_accepted bigint, OUT samples_deduplicated bigint,
    OUT samples_future_dropped bigint, OUT samples_without_replica bigint,
    OUT requests bigint, OUT last_write timestamptz, OUT last_warning timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pha_cluster_stats' LANGUAGE C STRICT VOLATILE;
CREATE VIEW promscale_ha.cluster_stats AS
SELECT cluster_name AS cluster, replica_name AS replica, samples_accepted,
       samples_deduplicated, samples_future_dropped, samples_without_replica, requests,
       last_write, last_warning
FROM promscale_ha.cluster_stats();
COMMENT ON VIEW promscale_ha.cluster_stats IS
    'Per (cluster, replica) since the server started: samples accepted, deduplicated, dropped as future; replica NULL: samples that came without the replica label';
REVOKE ALL ON FUNCTION promscale_ha.cluster_stats() FROM PUBLIC;
REVOKE ALL ON promscale_ha.cluster_stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.cluster_stats() TO promscale_ha_reader, promscale_ha_admin;
GRANT SELECT ON promscale_ha.cluster_stats TO promscale_ha_reader, promscale_ha_admin;

DROP VIEW promscale_ha.stats;
DROP FUNCTION promscale_ha.stats();
CREATE FUNCTION promscale_ha.stats(
    OUT samples_written bigint, OUT samples_deduplicated bigint,
    OUT samples_future_dropped bigint, OUT samples_already_stored bigint,
    OUT samples_replayed bigint, OUT requests_stored bigint,
    OUT requests_deduplicated bigint, OUT requests_partial bigint, OUT requests_empty bigint,
    OUT leader_changes bigint, OUT worker_runs bigint, OUT worker_pid integer,
    OUT worker_last_run timestamptz, OUT worker_last_error text,
    OUT worker_last_error_at timestamptz,
    OUT worker_last_error_sqlstate text, OUT worker_last_error_detail text,
    OUT worker_memory_bytes bigint, OUT worker_memory_total_bytes bigint,
    OUT samples_compressed bigint, OUT compress_bytes_before bigint,
    OUT compress_bytes_after bigint, OUT compress_last_run timestamptz,
    OUT compress_lag_seconds bigint, OUT tracked_replicas_overflow bigint)
    AS 'MODULE_PATHNAME', 'pha_stats' LANGUAGE C STRICT VOLATILE;
CREATE VIEW promscale_ha.stats AS SELECT * FROM promscale_ha.stats();
REVOKE ALL ON FUNCTION promscale_ha.stats() FROM PUBLIC;
REVOKE ALL ON promscale_ha.stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.stats() TO promscale_ha_reader, promscale_ha_admin;
GRANT SELECT ON promscale_ha.stats TO promscale_ha_reader, promscale_ha_admin;

GRANT SET ON PARAMETER promscale_ha.high_availability TO promscale_ha_admin;

-- The HA state as metrics, for the front end's GET /metrics (src/http/ha_metrics.c),
-- which calls it once per refresh: one row per sample of a metric family (metric),
-- with its cluster, replica and other label (label: the reason of a leader change or
-- what became of samples), ordered so that each family's rows are together.
-- SECURITY DEFINER: the replay buffer's size is read for a role that may not read it.
CREATE FUNCTION promscale_ha.ha_metrics(OUT metric text, OUT cluster text, OUT replica text,
                                        OUT label text, OUT value double precision)
    RETURNS SETOF record
    LANGUAGE sql VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
WITH stats AS MATERIALIZED (SELECT * FROM promscale_ha.cluster_stats()),
     clusters AS (SELECT cluster_name FROM promscale_ha.ha_leases
                  UNION SELECT cluster_name FROM stats WHERE replica_name IS NOT NULL)
SELECT * FROM (
  SELECT 'leader', l.cluster, l.leader, NULL::text, 1::float8 FROM promscale_ha.leaders l
  UNION ALL
  SELECT 'leader_changes', c.cluster_name, NULL, r.reason,
         (SELECT count(*) FROM promscale_ha.ha_leases_logs g
          WHERE g.cluster_name = c.cluster_name AND g.reason = r.reason
            AND g.changed_at >= pg_postmaster_start_time())::float8
  FROM clusters c CROSS JOIN (VALUES ('first writer'), ('failover'), ('forced')) r(reason)
  UNION ALL
  SELECT 'samples', s.cluster_name, s.replica_name, k.result, k.n::float8
  FROM stats s CROSS JOIN LATERAL (VALUES ('accepted', s.samples_accepted),
                                          ('deduplicated', s.samples_deduplicated),
                                          ('future_dropped', s.samples_future_dropped)) k(result, n)
  WHERE s.replica_name IS NOT NULL
  UNION ALL
  SELECT 'last_write_age', s.cluster_name, s.replica_name, NULL,
         greatest(extract(epoch FROM clock_timestamp() - s.last_write), 0)::float8
  FROM stats s WHERE s.replica_name IS NOT NULL AND s.last_write IS NOT NULL
  UNION ALL
  SELECT 'replay_buffer_bytes', c.cluster_name, NULL, NULL,
         (SELECT coalesce(sum(octet_length(b.payload)), 0) FROM promscale_ha.replay_buffer b
          WHERE b.cluster_name = c.cluster_name)::float8
  FROM clusters c
  UNION ALL
  SELECT 'without_replica', s.cluster_name, NULL, NULL, s.samples_without_replica::float8
  FROM stats s WHERE s.replica_name IS NULL
  UNION ALL
  SELECT 'worker_up', NULL, NULL, NULL,
         (SELECT count(*) > 0 FROM pg_catalog.pg_stat_activity
          WHERE backend_type = 'promscale_ha worker')::int::float8
  UNION ALL
  SELECT 'tracked_replicas_overflow', NULL, NULL, NULL,
         (SELECT tracked_replicas_overflow FROM promscale_ha.stats())::float8
) m(metric, cluster, replica, label, value)
ORDER BY 1, 2, 3, 4
$$;
COMMENT ON FUNCTION promscale_ha.ha_metrics() IS
    'The HA state as rows of metrics (promscale-ha-http renders them at GET /metrics)';
REVOKE ALL ON FUNCTION promscale_ha.ha_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.ha_metrics() TO promscale_ha_reader, promscale_ha_admin;

----------------------------------------------------------------------------------------
-- Remote read's series order (issue 11)
--
-- label_sort_key: name \0 value \0 ... over a series' labels sorted by name bytewise;
--   its byte order is Prometheus' labels.Compare order, so read() sorts the matching
--   series by it (built in C: one walk of the jsonb instead of jsonb_each_text and
--   three aggregates per series).
----------------------------------------------------------------------------------------

CREATE FUNCTION promscale_ha.label_sort_key(labels jsonb) RETURNS bytea
    AS 'MODULE_PATHNAME', 'pha_label_sort_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION promscale_ha.label_sort_key(jsonb) IS
    'A series'' labels as name \0 value \0 ... sorted by name: the sort key of remote read';
REVOKE ALL ON FUNCTION promscale_ha.label_sort_key(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION promscale_ha.label_sort_key(jsonb) TO promscale_ha_reader, promscale_ha_admin;
