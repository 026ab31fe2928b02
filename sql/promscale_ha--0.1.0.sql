-- promscale_ha--0.1.0.sql
-- Install script: the schema, the tables of series, samples and HA leases, and the
-- SQL entry points of the C library.

\echo Use "CREATE EXTENSION promscale_ha" to load this file. \quit

CREATE SCHEMA promscale_ha;
COMMENT ON SCHEMA promscale_ha IS 'Prometheus remote-write storage with HA de-duplication';

----------------------------------------------------------------------------------------
-- Series and samples
----------------------------------------------------------------------------------------

-- One row per label set, forever.  labels holds every stored label (__name__ and the
-- cluster label included, the replica label never); labels_hash is the SHA-256 of the
-- sorted label set and is what makes a label set unique.
CREATE TABLE promscale_ha.series (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    metric_name text NOT NULL,
    labels      jsonb NOT NULL,
    labels_hash bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT series_labels_hash_key UNIQUE (labels_hash)
);
CREATE INDEX series_metric_name_idx ON promscale_ha.series (metric_name);
CREATE INDEX series_labels_idx ON promscale_ha.series USING gin (labels jsonb_path_ops);
COMMENT ON TABLE promscale_ha.series IS 'One row per Prometheus label set';

-- Samples, partitioned by time (promscale_ha.partition_interval, default one day).
-- Partitions are named samples_YYYYMMDD[_HHMMSS] after their start (UTC) and are made
-- on demand by write(); drop one to drop that span of data.
CREATE TABLE promscale_ha.samples (
    series_id bigint NOT NULL,
    time      timestamptz NOT NULL,
    value     double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE UNIQUE INDEX samples_series_id_time_key ON promscale_ha.samples (series_id, time);
COMMENT ON TABLE promscale_ha.samples IS 'Float samples; one per (series_id, time), the first value wins';

-- The series cache of every backend must forget deleted series: a statement trigger
-- turns a DELETE/UPDATE/TRUNCATE of series into a relcache invalidation that all
-- backends receive at commit.
CREATE FUNCTION promscale_ha.series_invalidate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pha_series_invalidate' LANGUAGE C;
CREATE TRIGGER series_invalidate
    AFTER UPDATE OR DELETE OR TRUNCATE ON promscale_ha.series
    FOR EACH STATEMENT EXECUTE FUNCTION promscale_ha.series_invalidate();

----------------------------------------------------------------------------------------
-- High availability
----------------------------------------------------------------------------------------

-- The current leader of each cluster.  Between refreshes the live state is in shared
-- memory; this table is written at every leader change and at most once per
-- promscale_ha.lease_refresh otherwise.  lease_until is a reservation: the leader's
-- stored samples are always before it, so a new leader starting there never overlaps.
CREATE TABLE promscale_ha.ha_leases (
    cluster_name     text PRIMARY KEY,
    leader_name      text NOT NULL,
    lease_start      timestamptz NOT NULL,
    lease_until      timestamptz NOT NULL,
    leader_since     timestamptz NOT NULL,
    last_write       timestamptz NOT NULL,
    last_sample_time timestamptz
);
COMMENT ON TABLE promscale_ha.ha_leases IS 'Current leader of each HA cluster and the sample-time span it owns';

-- Every leadership period, past and present.  The periods of one cluster cover all of
-- sample time without overlap or hole: the first starts at -infinity, each later one
-- where the previous one ends, and the current one ends at infinity.
CREATE TABLE promscale_ha.ha_leases_logs (
    cluster_name text NOT NULL,
    leader_name  text NOT NULL,
    lease_start  timestamptz NOT NULL,
    lease_until  timestamptz NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('first writer', 'failover', 'forced')),
    changed_at   timestamptz NOT NULL,
    PRIMARY KEY (cluster_name, lease_start),
    CHECK (lease_start < lease_until)
);
CREATE INDEX ha_leases_logs_leader_idx
    ON promscale_ha.ha_leases_logs (cluster_name, leader_name, lease_start);
COMMENT ON TABLE promscale_ha.ha_leases_logs IS 'One row per leadership period of each HA cluster';

-- Followers' recent requests, kept for the takeover's gap-filling replay.  Unlogged:
-- after a crash the buffer starts empty, as it is only an aid for a coming failover.
CREATE UNLOGGED TABLE promscale_ha.replay_buffer (
    cluster_name text NOT NULL,
    replica_name text NOT NULL,
    received_at  timestamptz NOT NULL,
    min_time     timestamptz NOT NULL,
    max_time     timestamptz NOT NULL,
    payload      bytea NOT NULL
);
ALTER TABLE promscale_ha.replay_buffer ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE INDEX replay_buffer_replica_idx
    ON promscale_ha.replay_buffer (cluster_name, replica_name, received_at);

----------------------------------------------------------------------------------------
-- Entry points
----------------------------------------------------------------------------------------

CREATE TYPE promscale_ha.write_result AS (
    samples_received       bigint,   -- float samples in the payload
    samples_written        bigint,   -- stored by this call
    samples_deduplicated   bigint,   -- dropped: their replica did not lead at their time
    series_created         integer,  -- new rows in promscale_ha.series
    samples_already_stored bigint,   -- skipped: (series, time) was stored before
    samples_future_dropped bigint,   -- HA samples past promscale_ha.max_future
    samples_replayed       bigint,   -- written from the replay buffer at a takeover
    exemplars_ignored      bigint,   -- received, not stored
    histograms_ignored     bigint,   -- native histogram samples, received, not stored
    metadata_ignored       bigint,   -- metric metadata entries, received, not stored
    outcome                text      -- stored | deduplicated | partial | empty
);

-- SECURITY DEFINER: a writer role needs no right on the tables (write() creates
-- partitions as the extension's owner); search_path is pinned, and every statement
-- inside names its objects with their schema.
CREATE FUNCTION promscale_ha.write(payload bytea)
    RETURNS promscale_ha.write_result
    AS 'MODULE_PATHNAME', 'pha_write'
    LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION promscale_ha.write(bytea) IS
    'Store one Prometheus remote-write 1.0 request body (snappy-compressed WriteRequest)';

----------------------------------------------------------------------------------------
-- HA state for people: live values from shared memory over the ha_leases rows
----------------------------------------------------------------------------------------

CREATE FUNCTION promscale_ha.cluster_state(
    OUT cluster_name text, OUT leader_name text, OUT lease_start timestamptz,
    OUT lease_until timestamptz, OUT leader_since timestamptz, OUT last_write timestamptz,
    OUT last_sample_time timestamptz, OUT leader_changes bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pha_cluster_state' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION promscale_ha.replica_state(
    OUT cluster_name text, OUT replica_name text, OUT last_sample_time timestamptz,
    OUT last_write timestamptz, OUT samples_accepted bigint, OUT samples_deduplicated bigint,
    OUT samples_future_dropped bigint, OUT requests bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pha_replica_state' LANGUAGE C STRICT VOLATILE;

-- One row per cluster: who leads, since when (wall clock), the sample-time span it
-- owns, its newest stored sample and its last write (wall clock).
CREATE VIEW promscale_ha.leaders AS
SELECT l.cluster_name                                   AS cluster,
       coalesce(s.leader_name, l.leader_name)           AS leader,
       coalesce(s.leader_since, l.leader_since)         AS leader_since,
       coalesce(s.lease_start, l.lease_start)           AS lease_start,
       coalesce(s.lease_until, l.lease_until)           AS lease_until,
       coalesce(s.last_sample_time, l.last_sample_time) AS last_sample_time,
       coalesce(s.last_write, l.last_write)             AS last_write,
       s.leader_changes                                 AS leader_changes_since_start
FROM promscale_ha.ha_leases l
LEFT JOIN promscale_ha.cluster_state() s ON s.cluster_name = l.cluster_name;

-- One row per (cluster, replica) seen since the server started.
CREATE VIEW promscale_ha.replicas AS
SELECT r.cluster_name                                 AS cluster,
       r.replica_name                                 AS replica,
       coalesce(r.replica_name = l.leader, false)     AS is_leader,
       r.last_sample_time,
       r.last_write,
       r.samples_accepted,
       r.samples_deduplicated,
       r.samples_future_dropped,
       r.requests,
       l.last_sample_time - r.last_sample_time        AS behind_leader
FROM promscale_ha.replica_state() r
LEFT JOIN promscale_ha.leaders l ON l.cluster = r.cluster_name;

-- An operator's forced failover (a maintenance drain); logged with reason 'forced'.
-- Returns false when the replica already leads.
CREATE FUNCTION promscale_ha.set_leader(cluster text, replica text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pha_set_leader' LANGUAGE C STRICT VOLATILE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

----------------------------------------------------------------------------------------
-- Counters (shared memory, since the server started)
----------------------------------------------------------------------------------------

CREATE FUNCTION promscale_ha.stats(
    OUT samples_written bigint, OUT samples_deduplicated bigint,
    OUT samples_future_dropped bigint, OUT samples_already_stored bigint,
    OUT samples_replayed bigint, OUT requests_stored bigint,
    OUT requests_deduplicated bigint, OUT requests_partial bigint, OUT requests_empty bigint,
    OUT leader_changes bigint, OUT worker_runs bigint, OUT worker_pid integer,
    OUT worker_last_run timestamptz, OUT worker_last_error text,
    OUT worker_last_error_at timestamptz)
    AS 'MODULE_PATHNAME', 'pha_stats' LANGUAGE C STRICT VOLATILE;
CREATE VIEW promscale_ha.stats AS SELECT * FROM promscale_ha.stats();

----------------------------------------------------------------------------------------
-- Privileges.  Nothing is granted to PUBLIC.  Three NOLOGIN roles carry the rights;
-- grant them to login roles.  Roles belong to the whole server: DROP EXTENSION leaves
-- them (drop them by hand when no database uses promscale_ha any more).
--   promscale_ha_writer  may only call write()            (the HTTP front end)
--   promscale_ha_reader  may read series, samples and the HA tables and views
--   promscale_ha_admin   both, plus set_leader() and SET of promscale_ha's parameters
----------------------------------------------------------------------------------------

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['promscale_ha_writer', 'promscale_ha_reader', 'promscale_ha_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA promscale_ha FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA promscale_ha FROM PUBLIC;
REVOKE ALL ON SCHEMA promscale_ha FROM PUBLIC;

GRANT USAGE ON SCHEMA promscale_ha TO promscale_ha_writer, promscale_ha_reader, promscale_ha_admin;
GRANT EXECUTE ON FUNCTION promscale_ha.write(bytea) TO promscale_ha_writer, promscale_ha_admin;
GRANT SELECT ON promscale_ha.series, promscale_ha.samples, promscale_ha.ha_leases,
                promscale_ha.ha_leases_logs, promscale_ha.leaders, promscale_ha.replicas,
                promscale_ha.stats
    TO promscale_ha_reader, promscale_ha_admin;
GRANT EXECUTE ON FUNCTION promscale_ha.cluster_state(), promscale_ha.replica_state(),
                          promscale_ha.stats()
    TO promscale_ha_reader, promscale_ha_admin;
GRANT EXECUTE ON FUNCTION promscale_ha.set_leader(text, text) TO promscale_ha_admin;
GRANT SET ON PARAMETER
    promscale_ha.max_payload_bytes, promscale_ha.max_series_per_request,
    promscale_ha.max_labels_per_series, promscale_ha.max_label_name_length,
    promscale_ha.max_label_value_length, promscale_ha.partition_interval,
    promscale_ha.series_cache_size, promscale_ha.cluster_label, promscale_ha.replica_label,
    promscale_ha.require_ha_labels, promscale_ha.failover_timeout, promscale_ha.lease_refresh,
    promscale_ha.max_future, promscale_ha.max_clusters, promscale_ha.replay_buffer_size
    TO promscale_ha_admin;
